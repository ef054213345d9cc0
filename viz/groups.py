"""Clusters: which neuron or layer of the network each Value belongs to.

Membership comes from the labels the nn package gives (DEVELOPERS.md):

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
"""

import re

__all__ = ["GROUPINGS", "assign_groups", "group_title", "highest_layer", "label_position"]

GROUPINGS = ("neuron", "layer")

_WEIGHT = re.compile(r"w(\d+)_(?:(\d)(\d)|(\d+),(\d+))")
_BIAS = re.compile(r"b(\d+)_(\d+)")
_NODE = re.compile(r"([za])(\d+)_(\d+)")
_INPUT = re.compile(r"x_(\d+)")
_OUTPUT = re.compile(r"s(?:_(\d+))?")
_COST = "C"


def label_position(label, last_layer=None):
    """(layer, neuron) a label belongs to, 'cost' for C, or None.

    label_position('w2_22') -> (3, 2); label_position('s', last_layer=4) -> (4, 1).
    """
    if label == _COST:
        return "cost"
    match = _WEIGHT.fullmatch(label)
    if match:
        l, j = int(match[1]), int(match[2] or match[4])
        return (l + 1, j)
    match = _BIAS.fullmatch(label)
    if match:
        return (int(match[1]) + 1, int(match[2]))
    match = _NODE.fullmatch(label)
    if match:
        return (int(match[2]), int(match[3]))
    match = _INPUT.fullmatch(label)
    if match:
        return (1, int(match[1]))
    match = _OUTPUT.fullmatch(label)
    if match and last_layer is not None:
        return (last_layer, int(match[1] or 1))
    return None


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
    """The cluster's caption: 'neuron (z_2)³, (a_2)³' style text in plain words."""
    if key == ("cost",):
        return "cost C"
    if key[0] == "layer":
        l = key[1]
        if l == 1:
            return "layer 1 (input x)"
        role = "output" if l == last_layer else "hidden"
        return f"layer {l} ({role}): z{l} = W{l - 1}·a{l - 1} + b{l - 1}, a{l} = f(z{l})"
    _, l, j = key
    if l == 1:
        return f"input x_{j} (layer 1)"
    role = "output neuron" if l == last_layer else "neuron"
    return f"{role} {j} of layer {l}"

