"""Which Values to draw: the whole graph, a sub-graph, and the chain-rule paths.

Distances count Value-to-Value edges: the parents of the root are at
depth 1, their parents at depth 2, and so on.
"""

from collections import deque

from engine import topological_order

__all__ = ["GraphTooLarge", "select_values", "consumers", "paths_to",
           "check_size", "count_nodes"]


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


def _within_depth(root, depth):
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
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 0):
        raise ValueError(f"depth must be a whole number >= 0, got {depth!r}")
    if around is not None:
        radius = AROUND_RADIUS if depth is None else depth
        return _ordered(_around(root, around, radius))
    if depth is not None:
        return _ordered(_within_depth(root, depth))
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
