"""group='neuron' / 'layer': clusters from the article's labels."""

import pytest

from engine import Value
from viz import draw_dot
from viz.groups import assign_groups, label_position


@pytest.mark.parametrize("label, position", [
    ("w2_22", (3, 2)),        # (w_22)^2 feeds neuron 2 of layer 3
    ("w1_34", (2, 3)),
    ("w2_12,3", (3, 12)),     # indices of 10 or more are separated by a comma
    ("b3_1", (4, 1)),         # (b_1)^3 is added to (z_1)^4
    ("z3_2", (3, 2)),
    ("a3_2", (3, 2)),
    ("x_4", (1, 4)),
    ("C", "cost"),
    ("gradient", None),
    ("w_22", None),           # a Layer's own label, with no layer in it
])
def test_label_position_reads_the_article_notation(label, position):
    assert label_position(label) == position


def test_output_label_belongs_to_the_last_layer():
    assert label_position("s", last_layer=4) == (4, 1)
    assert label_position("s_2", last_layer=4) == (4, 2)


def _cluster_of(dot, node):
    (name,) = [name for name, members in dot.clusters().items() if node in members]
    return name


def test_neuron_cluster_holds_weights_bias_z_and_a(parse, network):
    net, cost = network
    drawing = draw_dot(cost, group="neuron", fold=False)
    dot = parse(drawing.source)
    members = [net.weight(2, 2, k) for k in range(1, 5)] + [
        net.bias(2, 2), net.z(3, 2), net.a(3, 2)]
    cluster = _cluster_of(dot, drawing.node_id(net.z(3, 2)))
    assert {_cluster_of(dot, drawing.node_id(v)) for v in members} == {cluster}
    # its ops too: the weighted sum and the tanh
    assert {drawing.node_id(net.z(3, 2)) + "op",
            drawing.node_id(net.a(3, 2)) + "op"} <= dot.clusters()[cluster]
    # and nothing of another neuron
    assert drawing.node_id(net.weight(2, 1, 2)) not in dot.clusters()[cluster]


def test_4_4_4_1_network_has_a_cluster_per_neuron_and_the_cost(parse, network):
    net, cost = network
    dot = parse(draw_dot(cost, group="neuron", fold=False).source)
    # 4 inputs + 4 + 4 + 1 neurons, and the cost
    assert len(dot.clusters()) == 14
    grouped = set().union(*dot.clusters().values())
    assert grouped == dot.nodes()       # every node is in some cluster


def test_layer_clusters_follow_the_layers(parse, network):
    net, cost = network
    drawing = draw_dot(cost, group="layer", fold=False)
    dot = parse(drawing.source)
    assert len(dot.clusters()) == 5      # layers 1..4 and the cost
    layer3 = {_cluster_of(dot, drawing.node_id(v)) for v in
              [net.z(3, j) for j in range(1, 5)] + [net.weight(2, j, 1) for j in range(1, 5)]}
    assert len(layer3) == 1
    assert _cluster_of(dot, drawing.node_id(net.a(4, 1))) != layer3.pop()


def test_cluster_captions_name_the_layer_or_neuron(parse, network):
    net, cost = network
    drawing = draw_dot(cost, group="layer", fold=False)
    dot = parse(drawing.source)
    captions = {sub.graph_attr["label"] for sub in dot.graph.subgraphs()}
    assert any("layer 3 (hidden)" in caption for caption in captions)
    assert any("layer 4 (output)" in caption for caption in captions)
    assert any("cost C" in caption for caption in captions)


def test_cost_target_joins_the_cost_cluster(parse, network):
    net, cost = network
    drawing = draw_dot(cost, group="neuron", fold=False)
    dot = parse(drawing.source)
    s, target = cost.parents          # C = (s − y)², one op
    cost_cluster = _cluster_of(dot, drawing.node_id(cost))
    assert _cluster_of(dot, drawing.node_id(target)) == cost_cluster
    assert _cluster_of(dot, drawing.node_id(s)) != cost_cluster


def test_unlabelled_products_of_an_expanded_neuron_join_its_cluster(parse):
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0, expand=True)
    s = net([5.1, 3.5, 1.4, 0.2])
    drawing = draw_dot(s, group="neuron", fold=False)
    dot = parse(drawing.source)
    z = net.z(3, 2)
    cluster = _cluster_of(dot, drawing.node_id(z))
    # everything z was built from inside the neuron: w·a products and partial sums
    inside = [v for v in _ancestors_until_labelled(z)]
    assert inside, "an expanded neuron has unlabelled intermediates"
    for value in inside:
        assert _cluster_of(dot, drawing.node_id(value)) == cluster


def _ancestors_until_labelled(value):
    """The unlabelled Values value was computed from, stopping at labelled ones."""
    found, stack = [], list(value.parents)
    while stack:
        v = stack.pop()
        if not v.label and v not in found:
            found.append(v)
            stack.extend(v.parents)
    return found


def test_value_used_by_two_groups_stays_outside_clusters():
    shared = Value(1.0)                          # unlabelled, no parents
    z1 = shared * Value(2.0, label="w1_11")
    z1.label = "z2_1"
    z2 = shared * Value(3.0, label="w1_21")
    z2.label = "z2_2"
    out = z1 + z2
    out.label = "C"
    groups = assign_groups([shared, *z1.parents[1:], *z2.parents[1:], z1, z2, out], "neuron")
    assert shared not in groups
    assert groups[z1] == ("neuron", 2, 1) and groups[z2] == ("neuron", 2, 2)


def test_value_with_no_grouped_consumer_joins_its_parents_group():
    z = Value(1.0) * Value(2.0, label="w1_11")
    z.label = "z2_1"
    twice = z * 2.0                               # unlabelled root
    groups = assign_groups([*z.parents, z, twice.parents[1], twice], "layer")
    assert groups[twice] == ("layer", 2)


def test_expression_without_article_labels_draws_no_clusters(parse):
    x = Value(1.0, label="x")
    dot = parse(draw_dot((x * x).tanh(), group="layer").source)
    assert dot.clusters() == {}
