"""Walking the graph: the backward pass, step by step, and grad.

Reverse mode, as a learner writes it first (``backward_by_the_book`` below):
order the nodes so that every node comes after its parents; seed
d root/d root = 1; visit the nodes from the root back to the leaves and, at
each node, send gradient × local derivative to every parent (the chain rule),
adding up what arrives at a node along all of its paths.

``backward`` is that same loop made fast; a test holds the two equal, digit
for digit. The order is computed with an explicit stack, not recursion, so a
chain of a million operations needs no recursion limit. Each pass sums its
gradients in a dict of its own and adds them to ``.grad`` at the end, so what
a node sends on is exactly this pass's gradient: backward twice gives exactly
twice the gradient (micrograd re-sends what earlier passes left in ``.grad``).

Every local derivative comes from one guarded function, ``local_derivatives``,
which asks the op table and turns an undefined rule into a FloatingPointError
that names the node.

This module walks any nodes that have ``data``, ``grad``, ``op`` and
``parents``; it does not import value.py (which imports it).
"""

import math
from operator import add, attrgetter
from typing import NamedTuple

from engine import notation
from engine.mode import enable_grad
from engine.ops import OPS

__all__ = ["topological_order", "local_derivatives", "backward_by_the_book", "backward",
           "backward_steps", "grad", "zero_grad", "BackwardStep", "Send"]

_isfinite = math.isfinite
_grad = attrgetter("grad")


def backward_by_the_book(root, gradient=1.0):
    """The backward pass, plainly: {node: d root/d node · gradient}.

    It changes no ``.grad``; ``backward`` computes the same numbers faster and
    adds them to ``.grad``.
    """
    grads = {root: float(gradient)}
    for node in reversed(topological_order(root)):
        g = grads.get(node, 0.0)
        if g == 0.0:
            continue  # sending 0 would change nothing
        for parent, local in zip(node.parents, local_derivatives(node)):
            # the chain rule: d root/d parent += d root/d node · d node/d parent
            grads[parent] = grads.get(parent, 0.0) + g * local
    return grads


def topological_order(root, include_leaves=True):
    """Every node reachable from root, each after all of its parents.

    Depth-first search with an explicit stack of nodes. The first time a
    node comes to the top of the stack, its parents are pushed above it; the
    second time, they have all been emitted, so it is emitted too. The root
    comes last. (The stack holds only nodes, no per-node records: a chain of
    a million operations allocates nothing for the garbage collector to scan.)

    include_leaves=False leaves out the nodes without parents (backward
    needs only the nodes that send gradient on).
    """
    order = []
    expanded = set()  # nodes whose parents have been pushed
    emitted = set()   # nodes already in order
    stack = [root]
    while stack:
        node = stack[-1]
        if node in expanded:
            stack.pop()
            if node not in emitted:  # a node can be pushed by several children
                emitted.add(node)
                order.append(node)
            continue
        expanded.add(node)
        for parent in node.parents:
            if parent.parents:
                if parent not in expanded:
                    stack.append(parent)
            elif include_leaves and parent not in expanded:
                # a leaf has nothing to wait for: emit it now
                expanded.add(parent)
                emitted.add(parent)
                order.append(parent)
    return order


def _nonfinite_error(node, gradient, cause=None):
    name = f"'{node.label}'" if node.label else "an unlabelled node"
    made_by = f"the output of {node.op}" if node.op else "a leaf"
    reason = f" ({cause})" if cause else ""
    return FloatingPointError(
        f"backward: the gradient of {name} ({made_by}, data = {node.data!r}) "
        f"would be {gradient}{reason}; nothing was changed")


def local_derivatives(node, operands=None):
    """d node/d parent for each of node's parents, from the op table.

    The numbers backward uses. A rule that is undefined at these values
    (1/x at x = 0, say) raises FloatingPointError naming the node. operands
    defaults to the parents' numbers; pass the parents themselves to get
    Values (what ``grad(..., create_graph=True)`` differentiates again).
    """
    if not node.parents:
        return ()
    if operands is None:
        operands, out = [p.data for p in node.parents], node.data
    else:
        out = node
    try:
        return tuple(OPS[node.op].derivatives(*operands, out))
    except (ArithmeticError, ValueError) as error:
        raise _nonfinite_error(node, "undefined",
                               f"{node.op}'s local derivative: {error}") from None


def _gradients(root, gradient, needed=None):
    """One reverse pass in floats: (order, {node: d root / d node · gradient}).

    backward_by_the_book's loop, made fast: the order leaves out the leaves,
    the op's rule is called directly (local_derivatives only names the node
    when a rule fails), and one- and two-operand ops are spelled out.

    Raises FloatingPointError, naming the node, if a gradient is not finite:
    any node's, or only those of the nodes in ``needed`` when it is given
    (then only the gradients that flow to them are computed at all).
    """
    if needed is not None:
        return _gradients_asked(root, gradient, needed)
    # Only nodes with parents send gradient on, so the order skips the
    # leaves; they enter pass_grads when their first contribution arrives.
    order = topological_order(root, include_leaves=False)
    pass_grads = dict.fromkeys(order, 0.0)
    pass_grads[root] = float(gradient)
    received = pass_grads.get
    node = root
    try:
        for node in reversed(order):
            g = pass_grads[node]
            parents = node.parents
            if g == 0.0 or not parents:
                continue  # 0 would send exactly 0; a leaf root has no one to send to
            rule = OPS[node.op].derivatives
            # The chain rule: each parent receives g · d(node)/d(parent).
            # One- and two-input ops are spelled out: they are most nodes,
            # and this loop is the engine's hottest.
            if len(parents) == 2:
                x, y = parents
                dx, dy = rule(x.data, y.data, node.data)
                pass_grads[x] = received(x, 0.0) + g * dx
                pass_grads[y] = received(y, 0.0) + g * dy
            elif len(parents) == 1:
                (x,) = parents
                (dx,) = rule(x.data, node.data)
                pass_grads[x] = received(x, 0.0) + g * dx
            else:
                local = rule(*[p.data for p in parents], node.data)
                for parent, local_derivative in zip(parents, local):
                    pass_grads[parent] = received(parent, 0.0) + g * local_derivative
    except (ArithmeticError, ValueError):
        local_derivatives(node)  # raises the error that names the node
        raise
    # Checked once here rather than per node: a non-finite gradient spreads
    # to every node below it, so the first one in order is where it started.
    if needed is None:  # backward(): every gradient, as it will be stored
        # Quick test first: a sum of floats is finite when every term is
        # (it can also overflow on its own; then the scan below finds nothing).
        stored = sum(map(add, map(_grad, pass_grads), pass_grads.values()))
        bad = [] if _isfinite(stored) else [
            node for node, g in pass_grads.items() if not _isfinite(node.grad + g)]
    else:               # grad(): only the gradients asked for
        bad = [x for x in needed if not _isfinite(pass_grads.get(x, 0.0))]
    if bad:
        source = next((n for n in reversed(order) if not _isfinite(pass_grads[n])), bad[0])
        stored = source.grad if needed is None else 0.0
        raise _nonfinite_error(source, stored + pass_grads[source])
    return order, pass_grads


def _gradients_asked(root, gradient, needed):
    """grad()'s pass: only what flows to the nodes in needed; only they must be finite.

    A node none of them is reached from is skipped, so a local derivative
    nobody asked for cannot fail the pass (x·3 + √0 has d/dx = 3). A rule
    undefined at a node that does lead to them gives nan there, and the
    error names that node only if a needed gradient is not finite.
    """
    order = topological_order(root, include_leaves=False)
    wanted = set(needed)
    leads = set()  # nodes from which a needed node is reached (or one itself)
    for node in order:  # parents first
        if node in wanted or any(p in wanted or p in leads for p in node.parents):
            leads.add(node)
    pass_grads = {root: float(gradient)}
    received = pass_grads.get
    undefined_at = {}  # parent -> the node whose rule was undefined there
    for node in reversed(order):
        g = received(node, 0.0)
        parents = node.parents
        if g == 0.0 or not parents or node not in leads:
            continue
        try:
            local = OPS[node.op].derivatives(*[p.data for p in parents], node.data)
        except (ArithmeticError, ValueError):
            local = (math.nan,) * len(parents)
            for parent in parents:
                undefined_at.setdefault(parent, node)
        for parent, local_derivative in zip(parents, local):
            if parent in leads or parent in wanted:
                pass_grads[parent] = received(parent, 0.0) + g * local_derivative
    bad = [x for x in needed if not _isfinite(received(x, 0.0))]
    if bad:
        # where it started: the first node, from the root down, that is not finite
        source = next((n for n in reversed(order)
                       if n in pass_grads and not _isfinite(pass_grads[n])), bad[0])
        if source in undefined_at:
            local_derivatives(undefined_at[source])  # raises the error that names it
        raise _nonfinite_error(source, pass_grads[source])
    for node in order:  # every node of the pass has an entry, as in _gradients
        pass_grads.setdefault(node, 0.0)
    return order, pass_grads


def backward(root, gradient=1.0):
    """Add d root / d node · gradient to ``node.grad`` for every node of root's graph.

    Either every gradient is added or, if one would not be finite, none is.
    """
    _, pass_grads = _gradients(root, gradient)
    for node, g in pass_grads.items():
        node.grad += g


class Send(NamedTuple):
    """What one node sends to one parent during backward."""
    parent: object            # the parent Value
    local_derivative: float   # d(node)/d(parent), from the op table
    contribution: float       # gradient of node × local derivative


class BackwardStep(NamedTuple):
    """One step of ``backward_steps``: a node and what it sent on."""
    index: int        # 0 for the root, then one more per step
    node: object      # the Value processed at this step
    grad: float       # d root / d node, complete at this step (this pass)
    sends: tuple      # one Send per parent, in operand order
    order: list       # all nodes in processing order (root first); order[index] is node
    seed: float = 1.0  # the gradient the pass started from at the root (backward_steps(seed))

    def pending(self):
        """The nodes not processed yet."""
        return self.order[self.index + 1:]

    def __str__(self):
        """One line for the node, then one line per send:

        step 2: ((w_22)^2 · x = -1), gradient 1
          → (w_22)^2: 1 × 2 = 2
          → x: 1 × -0.5 = -0.5
        """
        lines = [f"step {self.index}: {_step_name(self.node)}, gradient {self.grad:.6g}"]
        for send in self.sends:
            if send.parent.constant:
                continue  # a number in the formula (the 2 in x²): nothing to learn there
            lines.append(f"  → {_step_name(send.parent)}: {self.grad:.6g} × "
                         f"{send.local_derivative:.6g} = {send.contribution:.6g}")
        return "\n".join(lines)


def _step_name(node):
    """A node as a step names it: its article name, else its formula or number."""
    if node.label:
        return notation.article_name(node.label)
    if node.parents:
        operands = [notation.article_name(p.label) if p.label else f"{p.data:.4g}"
                    for p in node.parents]
        return f"({OPS[node.op].show(operands)} = {node.data:.6g})"
    return f"{node.data:.6g}"


def backward_steps(root, gradient=1.0):
    """backward(), one node at a time: yields a BackwardStep per node.

    Nodes come in reverse topological order, root first. Each step adds its
    contributions to the parents' ``.grad`` before it is yielded, so the
    graph can be drawn between steps; running it to the end leaves exactly
    the gradients that ``backward()`` leaves.

    The whole pass is computed once before the first step, so a gradient that
    would not be finite raises FloatingPointError before any ``.grad`` changes.
    """
    _gradients(root, gradient)  # raises, naming the node, before anything is written
    order = topological_order(root)[::-1]
    start = {node: node.grad for node in order}
    pass_grads = dict.fromkeys(order, 0.0)
    pass_grads[root] = float(gradient)
    root.grad = start[root] + pass_grads[root]
    for index, node in enumerate(order):
        g = pass_grads[node]
        sends = []
        if node.parents:
            if g == 0.0:
                # backward() skips a zero gradient: it sends exactly 0.
                try:
                    local = local_derivatives(node)
                except FloatingPointError:
                    local = (math.nan,) * len(node.parents)
            else:
                local = local_derivatives(node)
            for parent, local_derivative in zip(node.parents, local):
                contribution = g * local_derivative if g != 0.0 else 0.0
                pass_grads[parent] += contribution
                # start + this pass's sum so far: the same sum backward() makes
                parent.grad = start[parent] + pass_grads[parent]
                sends.append(Send(parent, local_derivative, contribution))
        yield BackwardStep(index, node, g, tuple(sends), order, float(gradient))


def grad(output, inputs, create_graph=False):
    """d output / d input for each input, leaving every ``.grad`` untouched.

    Returns a tuple with one gradient per input (inputs may be a single Value
    or any iterable of Values; anything else among them is a TypeError).
    With create_graph=False the gradients are floats. With create_graph=True
    they are Values whose own graphs reach back to the inputs, so they can be
    differentiated again: second derivatives, mixed partials, Hessians.
    An input that output does not depend on gets 0.
    """
    inputs = _checked_inputs(output, inputs)
    if not create_graph:
        # Only the gradients asked for must be finite: d(x^y)/dx at x < 0 is
        # fine even though d(x^y)/dy is not (as in torch.autograd.grad).
        _, pass_grads = _gradients(output, 1.0, needed=inputs)
        return tuple(pass_grads.get(x, 0.0) for x in inputs)

    # The same pass, but the chain rule is applied to Values: the derivative
    # rules are plain arithmetic, so on Values they record a graph (whatever
    # the grad mode: a graph is what create_graph asks for).
    with enable_grad():
        return _graph_of_gradients(output, inputs)


def _graph_of_gradients(output, inputs):
    """grad(output, inputs, create_graph=True): the gradients as Values."""
    grads = {output: 1.0}
    undefined = set()  # nodes whose gradient does not exist (nan in a rule)
    undefined_at = {}  # such a node -> the node whose rule was undefined there
    for node in reversed(topological_order(output)):
        g = grads.get(node)
        if node in undefined:
            undefined.update(node.parents)
            continue
        if g is None or not node.parents:
            continue
        # As in the pass on floats, a gradient of exactly 0 sends nothing
        # through a local derivative that does not exist (0 · undefined = 0),
        # so grad(f, x) and grad(f, x, create_graph=True) agree.
        sends_nothing = float(getattr(g, "data", g)) == 0.0
        try:
            local = local_derivatives(node, node.parents)
        except FloatingPointError:
            if not sends_nothing:
                for parent in node.parents:
                    undefined.add(parent)
                    undefined_at.setdefault(parent, node)
            continue
        for parent, local_derivative in zip(node.parents, local):
            if type(local_derivative) is float and not _isfinite(local_derivative):
                if not sends_nothing:
                    undefined.add(parent)
                continue
            contribution = g * local_derivative
            if parent in grads:
                grads[parent] = grads[parent] + contribution
            else:
                grads[parent] = contribution
    results = []
    for x in inputs:
        if x in undefined:
            if x in undefined_at:
                local_derivatives(undefined_at[x], undefined_at[x].parents)  # names it
            raise _nonfinite_error(x, math.nan)
        g = grads.get(x, 0.0)
        if not isinstance(g, type(x)):
            # A gradient that stayed a plain number (a constant) becomes a
            # leaf. type(x) is Value: this module cannot import value.py,
            # which imports it.
            g = type(x)(g)
        results.append(g)
    return tuple(results)


def _checked_inputs(output, inputs):
    """grad's inputs as a tuple of Values: one Value, or any iterable of them."""
    if not hasattr(output, "parents"):
        raise TypeError(f"grad: output must be a Value, not {type(output).__name__}")
    if isinstance(inputs, type(output)):
        return (inputs,)
    try:
        inputs = tuple(inputs)  # a list, a generator, dict.values(), ...
    except TypeError:
        raise TypeError(f"grad: inputs must be a Value or an iterable of Values, "
                        f"not {type(inputs).__name__}") from None
    for i, x in enumerate(inputs):
        if not isinstance(x, type(output)):
            # 0 would be a silent wrong answer: a number has no gradient
            raise TypeError(f"grad: input {i} is a {type(x).__name__}, not a "
                            f"{type(output).__name__}: {x!r}")
    return inputs


def zero_grad(root):
    """Set ``.grad`` to 0 on every node of root's graph."""
    for node in topological_order(root):
        node.grad = 0.0
