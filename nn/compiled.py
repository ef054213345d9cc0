"""fit's compiled path: one sample's forward and backward as straight-line code.

The built-in losses are a mean over the samples, C = (1/n) Σ_i cost(s_i, y_i),
so backward() of a batch sends every sample's cost the same gradient,
dC/dcost_i = 1/n, and then walks each sample's graph in turn, sample 1 first.
So one compiled function of a single sample — the network's parameters, x and
y as arguments — does the whole batch: called for each sample in order, it
adds its share to the gradients exactly as backward() of the batch adds them.
It is reused for every sample, batch, epoch and fit call whose sample graph
is the same (the cache key is the graph itself: every op, edge, label and
constant the code was written from), and it gives the same numbers as the
graph, to the last bit (tests/nn/test_train_compiled.py).

Whenever the compiled code meets something the engine would refuse (inf,
nan, log of a negative...), the batch is done again by the engine itself,
which raises its own error naming the node, or, if only the compiled code
went astray, computes the batch.

Only a network whose graph does not depend on the numbers can be compiled:
its forward pass may branch only inside ops (relu, softplus). nn's own MLP
and Neuron are such networks, so fit compiles only them; any other Module
(a subclass with its own __call__ included) may branch on z.data, and a
compiled step would freeze the branch of the first sample, so fit trains it
through the graph and says why in ``history.compile_note``. See
engine.codegen on replay versus tracing.

Compiling costs time (tens of µs per node of the sample graph), so fit
compiles only where it pays: it trains the first epoch through the graph,
timing it, and compiles when half of the time the remaining epochs would
take through the graph exceeds the estimated compile time (CompileChoice).
It times the first compiled epoch too, and goes back to the graph if that
was not faster. A sample graph of more than MAX_NODES nodes is not compiled:
its code runs in parts (engine.codegen), and for the wide layers such graphs
come from (784 inputs), the graph's fused weighted_sum is as fast.
"""

import hashlib
import math

from engine import Value, compile_sample_step, topological_order
from nn.layers import MLP, Layer, Neuron
from nn.losses import LOSSES

__all__ = ["compiled_batch_cost", "CompiledCost", "CompileChoice", "why_not_compiled",
           "clear_cache"]

_MEAN_COSTS = tuple(LOSSES.values())  # each is (1/n) Σ_i one op per sample
_cache = {}  # the sample graph's signature -> its compiled sample step
_CACHE_SIZE = 8  # a step holds its code: a large network's is tens of MB

# fit's estimate of what compiling costs, per node of one sample's graph,
# rounded up from make bench (benchmarks/compile_cost.py) on a shared machine,
# and the part of the graph's time that compiled code saves at least
# (a weighted_sum of many inputs is already fast in the graph).
COMPILE_SECONDS_PER_NODE = 100e-6
SAVED_FRACTION = 0.5
MAX_NODES = 10_000

# The methods an MLP's forward pass calls: overriding one on an instance
# could make the graph depend on the numbers.
_FORWARD_METHODS = ("__call__", "weighted_input", "activate")


class CompiledCost:
    """C over a batch, computed by compiled code; a stand-in for the graph's C.

    ``backward()`` adds ∂C/∂w to every parameter's ``.grad`` — the same
    numbers, added the same way, as backward() on the graph — so the
    optimizer's step is exactly the engine's.
    """

    __slots__ = ("data", "parameters", "gradients")

    def __init__(self, data, parameters, gradients):
        self.data = data
        self.parameters = parameters
        self.gradients = gradients

    def backward(self):
        for p, g in zip(self.parameters, self.gradients):
            p.grad += g


def why_not_compiled(net, loss_fn):
    """None if fit may compile net and loss_fn, else the reason it may not."""
    if loss_fn not in _MEAN_COSTS:
        return "a custom loss is not known to be a mean of one op per sample"
    parts = [net]
    if type(net) is MLP:
        parts += net.layers
        parts += [neuron for layer in net.layers for neuron in layer.neurons]
    elif type(net) is not Neuron:
        return (f"{type(net).__name__} is not one of nn's networks (MLP, Neuron), whose "
                f"graph is the same for every sample; its code could branch on the "
                f"numbers, and compiled code would freeze the first sample's branch")
    for part in parts:
        if type(part) not in (MLP, Layer, Neuron):
            return (f"a part of the network is a {type(part).__name__}, not nn's own "
                    f"Layer or Neuron: its code could branch on the numbers")
        overridden = [name for name in _FORWARD_METHODS if name in vars(part)]
        if overridden:
            return (f"{overridden[0]} is replaced on an instance ({part!r}): the "
                    f"forward pass could branch on the numbers")
    return None


class CompileChoice:
    """fit's choice between the graph and compiled code, made after epoch 1.

    note     -- how C was computed and why (for ``history.compile_note``)
    compiled -- True once compiled code computes C
    """

    def __init__(self, net, loss_fn, samples, targets, fallback):
        self.net, self.loss_fn = net, loss_fn
        self.samples, self.targets, self.fallback = samples, targets, fallback
        reason = why_not_compiled(net, loss_fn)
        self.possible = reason is None
        self.compiled = False
        self.note = ("the graph: compiling is decided after the first epoch" if reason is None
                     else f"the graph: {reason}")

    def after_first_epoch(self, epoch_seconds, epochs_left):
        """A compiled batch_cost if compiling pays for the epochs left, else None."""
        if not self.possible:
            return None
        if epochs_left < 1:
            self.note = "the graph: one epoch, too few to pay for compiling"
            return None
        self.graph_epoch_seconds = epoch_seconds
        saved = SAVED_FRACTION * epoch_seconds * epochs_left
        # every parameter is a node of the graph: a lower bound before building it
        parameters = len(self.net.parameters())
        if parameters > MAX_NODES:
            self.note = (f"the graph: {parameters:,} parameters, more than {MAX_NODES:,} "
                         f"nodes, whose compiled code is not faster than the graph")
            return None
        lower = parameters * COMPILE_SECONDS_PER_NODE
        if saved < lower:
            self.note = self._not_worth(saved, lower)
            return None
        batch_cost = compiled_batch_cost(self.net, self.loss_fn, self.samples,
                                         self.targets, self.fallback, budget=saved)
        if isinstance(batch_cost, str):
            self.note = batch_cost
            return None
        self.compiled = True
        self.note = "compiled code from epoch 2 on (the same numbers as the graph)"
        return batch_cost

    def after_compiled_epoch(self, epoch_seconds):
        """False if the first wholly compiled epoch was slower than the graph's: go back."""
        if epoch_seconds <= self.graph_epoch_seconds:
            return True
        self.note = (f"the graph again from epoch 4: the compiled epoch took "
                     f"{epoch_seconds:.2g} s, the graph's {self.graph_epoch_seconds:.2g} s")
        return False

    @staticmethod
    def _not_worth(saved, estimate):
        return (f"the graph: compiling would take about {estimate:.2g} s, more than the "
                f"{saved:.2g} s it could save in the epochs left")


def compiled_batch_cost(net, loss_fn, samples, targets, fallback, budget=None):
    """batch_cost(batch) -> (C, outputs s) from compiled code, or None if net can't compile.

    fallback(batch) is the engine's own batch_cost, used whenever the
    compiled code meets a number the engine would refuse. With a budget
    (seconds), a step not in the cache is compiled only if its estimated
    compile time fits; if not, the reason is returned (a str).
    """
    if loss_fn not in _MEAN_COSTS:
        return None  # a custom loss: not known to be a mean of per-sample ops
    step = _sample_step(net, loss_fn, samples[0], targets[0], budget)
    if step is None or isinstance(step, str):
        return step
    function = step.function
    parameters = net.parameters()
    zeros = (0.0,) * len(parameters)

    def batch_cost(batch):
        weights = [p.data for p in parameters]
        gradients = zeros
        if not math.isfinite(sum(weights)):
            return fallback(batch)  # the engine refuses a non-finite parameter
        # dC/dcost_i: C = total / n divides once, for n > 1 (nn.losses)
        gradient = 1.0 / len(batch) if len(batch) > 1 else 1.0
        costs, outputs = [], []
        try:
            for i in batch:
                cost, s, gradients = function(weights, gradients, *samples[i], targets[i],
                                              gradient)
                costs.append(cost)
                outputs.append(s)
            total = costs[0]
            for cost in costs[1:]:  # added left to right, as nn.losses adds them
                total = total + cost
            mean = total / len(costs) if len(costs) > 1 else total
            # the step leaves its accumulated gradients to be checked once, here
            if not math.isfinite(mean + sum(gradients)):
                raise FloatingPointError("not finite")
        except (ArithmeticError, ValueError, TypeError):
            return fallback(batch)  # the engine raises its error, or does the batch
        return CompiledCost(mean, parameters, gradients), outputs

    return batch_cost


def _sample_step(net, loss_fn, x, y, budget=None):
    """The compiled step of one sample's graph (cached by the graph itself).

    None if the graph has a leaf that is neither an argument nor a constant;
    a str saying why not if compiling would exceed budget (seconds).
    """
    inputs = [Value(x_k, label=f"x_{k}") for k, x_k in enumerate(x, start=1)]
    target = Value(y, label="y")
    s = net(inputs)
    if not isinstance(s, Value):
        return None
    cost = loss_fn(s, target)
    parameters = net.parameters()
    arguments = parameters + inputs + [target]
    order = topological_order(cost)
    key = _signature(order, arguments, s)
    if key is None:
        return None  # a leaf that is neither: it might differ between networks
    if key in _cache:
        return _cache[key]
    estimate = len(order) * COMPILE_SECONDS_PER_NODE
    if budget is not None and (estimate > budget or len(order) > MAX_NODES):
        if len(order) > MAX_NODES:
            return (f"the graph: {len(order):,} nodes per sample, more than {MAX_NODES:,}, "
                    f"whose compiled code is not faster than the graph")
        return CompileChoice._not_worth(budget, estimate)
    step = compile_sample_step(cost, parameters, inputs + [target], outputs=[s])
    if len(_cache) >= _CACHE_SIZE:
        _cache.pop(next(iter(_cache)))
    _cache[key] = step
    return step


def _signature(order, arguments, output):
    """A digest of everything the compiled code is written from, or None.

    Each node in graph order: an argument by its position; a constant by its
    number and label; an op node by its op, its operands' positions in the
    order and its label. Two graphs with the same signature give the same
    code, so the cache can never hand one network another's constants
    (self.scale = 3.0) or activations (changed after construction).
    """
    position = {node: k for k, node in enumerate(order)}
    argument = {leaf: k for k, leaf in enumerate(arguments)}
    digest = hashlib.sha256()
    lines = []
    for node in order:
        if node.parents:
            operands = ",".join([str(position[p]) for p in node.parents])
            lines.append(f"{node.op}({operands}) {node.label}")
        elif node in argument:
            lines.append(f"argument {argument[node]} {node.label}")
        elif node.constant:
            lines.append(f"constant {float(node.data)!r} {node.label}")
        else:
            return None
        if len(lines) >= 4096:
            digest.update("\n".join(lines).encode("utf-8", "surrogatepass"))
            lines.clear()
    lines.append(f"output {position[output]} of {len(arguments)} arguments")
    digest.update("\n".join(lines).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def clear_cache():
    """Forget every compiled step (so that the next fit compiles afresh)."""
    _cache.clear()
