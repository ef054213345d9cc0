"""fit's compiled path: one sample's forward and backward as straight-line code.

The built-in losses are a mean over the samples, C = (1/n) Σ_i cost(s_i, y_i),
so backward() of a batch sends every sample's cost the same gradient,
dC/dcost_i = 1/n, and then walks each sample's graph in turn, sample 1 first.
So one compiled function of a single sample — the network's parameters, x and
y as arguments — does the whole batch: called for each sample in order, it
adds its share to the gradients exactly as backward() of the batch adds them.
It is compiled once per architecture and cost and reused for every sample,
batch, epoch and fit call, and it gives the same numbers as the graph, to the
last bit (tests/nn/test_train_compiled.py).

Whenever the compiled code meets something the engine would refuse (inf,
nan, log of a negative...), the batch is done again by the engine itself,
which raises its own error naming the node, or, if only the compiled code
went astray, computes the batch.

Only a network whose graph does not depend on the numbers can be compiled:
its forward pass may branch only inside ops (relu, softplus), as nn's
networks do. See engine.codegen on replay versus tracing.
"""

import json
import math

from engine import Value, compile_sample_step
from nn.losses import LOSSES

__all__ = ["compiled_batch_cost", "CompiledCost"]

_MEAN_COSTS = tuple(LOSSES.values())  # each is (1/n) Σ_i one op per sample
_cache = {}  # (network type, architecture, loss) -> the compiled sample step
_CACHE_SIZE = 32


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


def compiled_batch_cost(net, loss_fn, samples, targets, fallback):
    """batch_cost(batch) -> (C, outputs s) from compiled code, or None if net can't compile.

    fallback(batch) is the engine's own batch_cost, used whenever the
    compiled code meets a number the engine would refuse.
    """
    if loss_fn not in _MEAN_COSTS:
        return None  # a custom loss: not known to be a mean of per-sample ops
    step = _sample_step(net, loss_fn, samples[0], targets[0])
    if step is None:
        return None
    function = step.function
    parameters = net.parameters()
    zeros = (0.0,) * len(parameters)

    def batch_cost(batch):
        weights = [p.data for p in parameters]
        gradients = zeros
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


def _sample_step(net, loss_fn, x, y):
    """The compiled step of one sample for net's architecture and loss_fn (cached)."""
    try:
        key = (type(net), json.dumps(net.architecture(), sort_keys=True),
               getattr(net, "expand", None), loss_fn)
    except (NotImplementedError, TypeError):
        key = None
    if key in _cache:
        return _cache[key]
    inputs = [Value(x_k, label=f"x_{k}") for k, x_k in enumerate(x, start=1)]
    target = Value(y, label="y")
    s = net(inputs)
    if not isinstance(s, Value):
        return None
    cost = loss_fn(s, target)
    parameters = net.parameters()
    arguments = set(parameters) | set(inputs) | {target}
    for node in _leaves(cost):
        if node not in arguments and not node.constant:
            return None  # a leaf that is neither: it might differ between networks
    step = compile_sample_step(cost, parameters, inputs + [target], outputs=[s])
    if key is not None:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = step
    return step


def _leaves(root):
    seen, stack, leaves = {root}, [root], []
    while stack:
        node = stack.pop()
        if not node.parents:
            leaves.append(node)
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return leaves


def clear_cache():
    """Forget every compiled step (so that the next fit compiles afresh)."""
    _cache.clear()
