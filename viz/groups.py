"""Clusters and order: where each Value sits in the network, read from its label.

Positions come from the labels the nn package gives, read by engine.notation:

    w2_22, w2_12,3   (w_jk)^l   -> neuron j of layer l+1 (the neuron it feeds)
    b2_2             (b_j)^l    -> neuron j of layer l+1
    z3_2, a3_2       (z_j)^l, (a_j)^l -> neuron j of layer l
    x_1              input x_k = (a_k)^1 -> neuron k of layer 1
    s, s_2           the output -> neuron 1 (or j) of the last layer L
    C                the cost   -> the cluster 'cost'

So a neuron's cluster holds its weights, its bias, its z and its a, and a
layer's cluster holds everything that computes that layer: for layer 3, W², b²,
z³ and a³. The last layer L is the highest layer any label names.

A Value whose label names no group (unlabelled intermediates such as the
products and partial sums of an expanded neuron, the constants of the cost,
or labels of your own) joins the group that all of its consumers agree on,
so w·a and the partial sums of (z_2)³ sit in the cluster of (z_2)³, and
s − y sits with C. If its consumers disagree or have no group, it joins the
group all of its parents agree on; otherwise it is drawn outside the clusters.

``article_key`` orders Values as the article lists them: inputs x_1 … x_n,
neurons j = 1 … n, and each neuron's weights w_j1 … w_jm, then b_j.
"""

from engine import notation

__all__ = ["GROUPINGS", "assign_groups", "group_title", "highest_layer", "label_position",
           "article_key", "is_input_label"]

GROUPINGS = ("neuron", "layer")
_COST = "C"


def _subscript(label, letter):
    """k for 'x_k' (letter 'x'), else None; 0 for the bare letter."""
    if label == letter:
        return 0
    head, _, index = label.partition("_")
    # at most 9 digits: Python refuses to read a 5,000-digit number as an int
    return int(index) if head == letter and index.isdigit() and len(index) <= 9 else None


def is_input_label(label):
    """Leaves that are data, not parameters: unlabelled, the inputs x_k, x, and y."""
    return not label or label == "y" or _subscript(label, "x") is not None


def label_position(label, last_layer=None):
    """(layer, neuron) a label belongs to, 'cost' for C, or None.

    label_position('w2_22') -> (3, 2); label_position('s', last_layer=4) -> (4, 1).
    """
    if label == _COST:
        return "cost"
    parsed = notation.parse(label)
    if parsed is not None:
        feeds_next_layer = parsed.kind in ("w", "b")   # (w_jk)^l and (b_j)^l make z^{l+1}
        return (parsed.layer + feeds_next_layer, parsed.j)
    k = _subscript(label, "x")
    if k:
        return (1, k)
    j = _subscript(label, "s")
    if j is not None and last_layer is not None:
        return (last_layer, j or 1)
    return None


def article_key(label, last_layer=None):
    """Sort key in the article's order, or None for a label with no place in it.

    (layer, neuron, slot): a neuron's a and z come first (slot 0), then its
    weights w_j1 … w_jm (slots 1 … m), then its bias (after every weight);
    the cost comes last.
    """
    position = label_position(label, last_layer)
    if position is None:
        return None
    if position == "cost":
        return (float("inf"), 0, 0)
    parsed = notation.parse(label)
    if parsed is not None and parsed.kind == "w":
        return (*position, parsed.k)
    if parsed is not None and parsed.kind == "b":
        return (*position, float("inf"))
    return (*position, 0)


def highest_layer(values):
    """L: the highest layer any label names (None if no label names one)."""
    layers = [position[0] for value in values
              if isinstance(position := label_position(value.label), tuple)]
    return max(layers, default=None)


def assign_groups(values, grouping):
    """{value: group key} for the Values (in topological order) that have a group.

    Keys: ('neuron', l, j), ('layer', l) or ('cost',).
    """
    if grouping not in GROUPINGS:
        raise ValueError(f"group must be one of {', '.join(map(repr, GROUPINGS))} "
                         f"or None, got {grouping!r}")
    last_layer = highest_layer(values)
    own = {}
    for value in values:
        position = label_position(value.label, last_layer) if value.label else None
        if position == "cost":
            own[value] = ("cost",)
        elif position is not None:
            l, j = position
            own[value] = ("neuron", l, j) if grouping == "neuron" else ("layer", l)

    drawn = set(values)
    consumers = {value: [] for value in values}
    for value in values:
        for parent in value.parents:
            if parent in drawn:
                consumers[parent].append(value)

    groups = dict(own)
    for value in reversed(values):  # consumers first
        if value not in groups:
            agreed = _agreed(groups.get(c) for c in consumers[value])
            if agreed is not None:
                groups[value] = agreed
    for value in values:  # parents first
        if value not in groups:
            agreed = _agreed(groups.get(p) for p in value.parents if p in drawn)
            if agreed is not None:
                groups[value] = agreed
    return groups


def _agreed(keys):
    """The one group all the given keys name (ignoring None), else None."""
    found = {key for key in keys if key is not None}
    return found.pop() if len(found) == 1 else None


def group_title(key, last_layer=None):
    """The cluster's caption: 'neuron 2 of layer 3' style text in plain words."""
    if key == ("cost",):
        return "cost C"
    if key[0] == "layer":
        l = key[1]
        if l == 1:
            return "layer 1 (input x)"
        role = "output" if l == last_layer else "hidden"
        return f"layer {l} ({role})\nz{l} = W{l - 1}·a{l - 1} + b{l - 1}, a{l} = f(z{l})"
    _, l, j = key
    if l == 1:
        return f"input x_{j} (layer 1)"
    role = "output neuron" if l == last_layer else "neuron"
    return f"{role} {j} of layer {l}"
