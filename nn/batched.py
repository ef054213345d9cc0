"""fit(compile="batch"): one sample's graph, compiled over the whole batch at once.

The built-in losses are a mean over the samples, C = (1/n) Σ_i cost(s_i, y_i).
The graph of one sample's cost, compiled with ``engine.compile(...,
batch=x + [y], reduction="mean")``, computes every sample's cost_i and the
mean's gradient (1/n) Σ_i ∂cost_i/∂w in one call over numpy arrays of the
batch (engine/batch.py): the article's matrix form, written by the chain rule.

Same numbers to about 1e-13, not to the last bit: numpy's tanh and exp may
differ from Python's math in the last bit, and its sums add in another order
than backward() of the batch does (tests/nn/test_train_batch.py holds the
History to 1e-12 of compile=True's). Whatever the engine refuses (a
non-finite number, log of x <= 0, ...) is refused with the engine's own error,
prefixed with the sample's row in X.
"""

import numpy as np

from engine import Value
from engine.batch import compile_batch
from nn.compiled import CompiledCost, why_not_compiled

__all__ = ["batch_compiled_cost", "BatchCost"]


class BatchCost(CompiledCost):
    """C over a batch, computed by compiled code over numpy arrays (engine/batch.py).

    As CompiledCost; its gradients are Python floats in the optimizer's order of
    the parameters, so fit steps with ``SGD.step_from`` in one pass.
    """

    __slots__ = ()


def batch_compiled_cost(net, loss_fn, samples, targets):
    """(batch_cost, note): batch_cost(batch) -> (C, outputs s as an array) from code compiled
    over arrays, or None with the reason in note (fit then trains through the graph).

    Only what fit(compile=True) may compile (nn.compiled.why_not_compiled: nn's
    MLP or Neuron, a built-in loss), since one graph stands for every sample.
    """
    reason = why_not_compiled(net, loss_fn)
    if reason is not None:
        return None, f"the graph: {reason}"
    x = [Value(x_k, label=f"x_{k}") for k, x_k in enumerate(samples[0], start=1)]
    y = Value(targets[0], label="y")
    s = net(x)
    if not isinstance(s, Value):
        return None, "the graph: the network has more than one output"
    cost = loss_fn(s, y)
    parameters = net.parameters()
    arguments = set(parameters) | set(x) | {y}
    for node in _leaves(cost):
        if node not in arguments and not node.constant:
            return None, ("the graph: a leaf is neither a parameter nor a constant, "
                          "so it might change between calls")
    f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                      reduction="mean", outputs=[s], matrices=True)
    columns = np.array(samples, dtype=float).T  # one array per input x_k
    target_array = np.array(targets, dtype=float)
    everything = range(len(targets))
    all_samples = list(columns) + [target_array]  # the arguments after the parameters

    def batch_cost(batch):
        if batch == everything:
            data, rows = all_samples, None
        else:
            rows = np.asarray(batch)
            data = list(columns[:, rows]) + [target_array[rows]]
        values, gradients, (outputs,) = f.run(
            [p.data for p in parameters] + data,
            sample_names=None if rows is None else rows.tolist(), checked=True)
        # C = (1/n) Σ_i cost_i, as nn.losses writes it (one cost: C is that cost)
        n = len(values)
        mean = float(values.sum()) / n if n > 1 else float(values[0])
        return BatchCost(mean, parameters, gradients), outputs  # s: an array

    return batch_cost, ("compiled over the batch (numpy arrays, nn/batched.py): the "
                        "per-sample path's numbers to about 1e-13")


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
