"""Which Values to draw: the whole graph, a sub-graph, and the chain-rule paths.

Distances count Value-to-Value edges: the parents of the root are at
depth 1, their parents at depth 2, and so on.
"""

from collections import deque

from engine import OPS, notation, topological_order
from engine.kinds import is_whole

__all__ = ["GraphTooLarge", "select_values", "consumers", "paths_to",
           "check_size", "count_nodes", "Fold", "fold", "within_depth",
           "FOLD_ABOVE", "FOLD_DEPTH"]

FOLD_ABOVE = 60   # draw_dot folds a graph of more nodes than this (unless fold=False)
FOLD_DEPTH = 3    # with nothing highlighted, it keeps what is this near the root


class GraphTooLarge(ValueError):
    """The graph has more nodes than max_nodes allows."""


def consumers(values):
    """{value: [Values computed from it]} within ``values``, one entry per operand."""
    used_by = {value: [] for value in values}
    for value in values:
        for parent in value.parents:
            if parent in used_by:
                used_by[parent].append(value)
    return used_by


def within_depth(root, depth):
    """The Values at most ``depth`` edges above root (breadth first, no full walk)."""
    distance = {root: 0}
    queue = deque([root])
    while queue:
        value = queue.popleft()
        if distance[value] == depth:
            continue
        for parent in value.parents:
            if parent not in distance:
                distance[parent] = distance[value] + 1
                queue.append(parent)
    return distance


def _around(root, centre, radius):
    """The Values at most ``radius`` edges from ``centre``, going up or down."""
    everything = topological_order(root)
    used_by = consumers(everything)
    if centre not in used_by:
        raise ValueError(f"around: {centre!r} is not in the graph of the root {root!r}")
    distance = {centre: 0}
    queue = deque([centre])
    while queue:
        value = queue.popleft()
        if distance[value] == radius:
            continue
        for neighbour in (*value.parents, *used_by[value]):
            if neighbour not in distance:
                distance[neighbour] = distance[value] + 1
                queue.append(neighbour)
    return distance


AROUND_RADIUS = 2


def select_values(root, depth=None, around=None):
    """The Values to draw, each after its parents (topological order).

    depth=None, around=None  every Value that root was computed from
    depth=d                  only those within d edges of root
    around=v                 only those within ``depth`` (default 2) edges of v,
                             inputs and consumers alike
    """
    if depth is not None and (not is_whole(depth)
                              or depth < 0):
        raise ValueError(f"depth must be a whole number >= 0, got {depth!r}")
    if around is not None:
        radius = AROUND_RADIUS if depth is None else depth
        return _ordered(_around(root, around, radius))
    if depth is not None:
        return _ordered(within_depth(root, depth))
    return topological_order(root)


def _ordered(chosen):
    """The chosen Values in topological order, walking only among them."""
    order, visited = [], set()
    for start in chosen:
        if start in visited:
            continue
        visited.add(start)
        stack = [(start, iter(start.parents))]
        while stack:
            value, parents = stack[-1]
            for parent in parents:
                if parent in chosen and parent not in visited:
                    visited.add(parent)
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(value)
    return order


def count_nodes(values):
    """(value nodes, op nodes) the drawing of ``values`` has."""
    ops = sum(1 for value in values if value.op)
    return len(values), ops


def check_size(values, max_nodes):
    """Refuse, with what to do instead, a drawing of more than max_nodes nodes."""
    n_values, n_ops = count_nodes(values)
    total = n_values + n_ops
    if max_nodes is not None and total > max_nodes:
        raise GraphTooLarge(
            f"draw_dot: this graph has {total} nodes ({n_values} values and {n_ops} "
            f"ops), more than max_nodes={max_nodes}; drawing it would take long and "
            "not be readable. Instead: draw a sub-graph, draw_dot(root, depth=3) "
            "(the nodes within 3 edges of the root) or draw_dot(root, around=value) "
            "(the neighbourhood of one Value); for a network, group='neuron' or "
            "group='layer' keeps the picture readable; or raise the limit, "
            f"draw_dot(root, max_nodes={total}).")


def paths_to(root, param):
    """The Values and edges on the paths from param up to root.

    Returns (nodes, edges): nodes is a set of Values, edges a set of
    (parent, child) pairs; both empty if root does not depend on param.
    A Value is on a path when param is among its ancestors (or it is param)
    and root is among its descendants (or it is root).
    """
    order = topological_order(root)
    depends_on_param = set()
    for value in order:  # parents come first
        if value is param or any(parent in depends_on_param for parent in value.parents):
            depends_on_param.add(value)
    on_path = {root} if root in depends_on_param else set()
    for value in reversed(order):  # children come first
        if value in on_path:
            on_path.update(p for p in value.parents if p in depends_on_param)
    edges = {(parent, value) for value in on_path for parent in value.parents
             if parent in on_path}
    return on_path, edges


class Fold:
    """Operands of one drawn op that are not drawn, shown as one box.

    consumer -- the Value whose op they feed
    operands -- those operands, in operand order
    before   -- how many more undrawn Values they were computed from
    """

    def __init__(self, consumer, operands, before):
        self.consumer = consumer
        self.operands = operands
        self.before = before

    def describe(self):
        """Lines naming the operands: 'w2_21, w2_23, w2_24', 'a2_1 … a2_4', 'b2_2'.

        'first … last' only for a run of neighbouring operands, so a drawn
        operand is never hidden inside a run.
        """
        slots = {value: i for i, value in enumerate(self.consumer.parents)}
        lines, run = [], []
        for value in self.operands:
            if run and (_run_key(run[-1]) != _run_key(value)
                        or slots[value] != slots[run[-1]] + 1):
                lines.append(run)
                run = []
            run.append(value)
        lines.append(run)
        merged = []   # runs with a gap between them join on one line, by commas
        for run in lines:
            if merged and len(run) <= 2 and len(merged[-1][-1]) <= 2 and \
                    _run_key(merged[-1][-1][0]) == _run_key(run[0]):
                merged[-1].append(run)
            else:
                merged.append([run])
        text = [", ".join(_name_run(run) for run in runs) for runs in merged]
        if self.before:
            text.append(f"+ {self.before} earlier values")
        return text


def _run_key(value):
    """Operands named together: weights of one neuron, activations of one layer."""
    parsed = notation.parse(value.label)
    if parsed is None:
        return ("other",) if value.label else ("unlabelled",)
    return (parsed.kind, parsed.layer, parsed.j if parsed.kind == "w" else None)


def _name_run(run):
    if not run[0].label:
        return f"{len(run)} unlabelled value{'s' if len(run) > 1 else ''}"
    if len(run) > 2:
        return f"{run[0].label} … {run[-1].label}"
    return ", ".join(value.label for value in run)


def named_operands(value, index):
    """The operands that d value / d operand[index] is written in (the op table says)."""
    marks = [f"\x00{i}\x01" for i in range(len(value.parents))]
    text = OPS[value.op].show_local(index, marks, out="\x00out\x01")
    return [i for i, mark in enumerate(marks) if mark in text]


def fold(values, core, whole=()):
    """Draw the core Values with their ops, and fold the rest into Fold boxes.

    values  the Values that could be drawn (topological order)
    core    the Values that matter here (a highlighted path, a step's node)
    whole   core Values whose operands are all drawn (the node a step processes)

    Each op of a core Value is drawn. Its operands are drawn when they are in
    the core, or named by the local derivative of a core edge (the a2_2 in
    ∂z3_2/∂w2_22 = a2_2); the others become one Fold per op.

    Returns (drawn Values in topological order, the Values whose ops are drawn,
    [Fold]).
    """
    available = set(values)
    core = {value for value in values if value in core}
    drawn = set(core)
    for value in values:
        if value not in core or not value.parents:
            continue
        if value in whole:
            drawn.update(p for p in value.parents if p in available)
            continue
        for index, parent in enumerate(value.parents):
            if parent in core:
                drawn.update(value.parents[i] for i in named_operands(value, index))
    hidden = available - drawn
    folds = []
    for value in values:
        if value in core and value.parents:
            rest = list(dict.fromkeys(p for p in value.parents if p in hidden))
            if rest:
                folds.append(Fold(value, rest, _count_before(rest, hidden)))
    expanded = {value for value in core if value.parents}
    return [value for value in values if value in drawn], expanded, folds


def _count_before(operands, hidden):
    """How many hidden Values the operands were computed from (not counting them)."""
    seen, stack = set(operands), list(operands)
    while stack:
        for parent in stack.pop().parents:
            if parent in hidden and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return len(seen) - len(operands)
