"""draw_network: the 4-4-4-1 network with its weights and gradients."""

import pytest
from conftest import svg_node_groups

from viz import draw_network


def _weight_labels(dot):
    return {node: dot.node_text(node) for node in dot.nodes("weight-label")}


def test_a_circle_per_neuron_and_an_edge_per_weight(parse, network):
    net, _ = network
    dot = parse(draw_network(net).source)
    neurons = dot.nodes("neuron")
    assert len(neurons) == 4 + 4 + 4 + 1
    assert {dot.node_attr(n, "shape") for n in neurons} == {"circle"}
    assert len(dot.edges("weight")) == 16 + 16 + 4


def test_each_weight_edge_joins_neuron_k_to_neuron_j(parse, network):
    net, _ = network
    dot = parse(draw_network(net).source)
    edges = {(tail, head) for tail, head, _ in dot.edges("weight")}
    # (w_jk)^l runs from neuron k of layer l to neuron j of layer l+1
    assert ("n2_2", "n3_2") in edges and ("n2_4", "n3_1") in edges
    assert ("n3_3", "n4_1") in edges
    assert not any(tail.startswith("n1") and head.startswith("n3") for tail, head in edges)


def test_weight_labels_carry_the_value_and_after_backward_the_gradient(parse, network):
    net, _ = network
    w = net.weight(2, 2, 2)
    labels = _weight_labels(parse(draw_network(net, precision=4).source))
    assert labels["w2_2_2"] == f"{w.data:.4g}\n∂ {w.grad:.4g}"
    assert len(labels) == 36


def test_before_backward_no_gradients_are_shown(parse):
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0)
    dot = parse(draw_network(net).source)
    assert not any("∂C" in text for text in _weight_labels(dot).values())
    assert not any("∂C" in dot.node_text(n) for n in dot.nodes())


def test_neurons_show_their_activation_and_bias(parse, network):
    net, _ = network
    dot = parse(draw_network(net, precision=4).source)
    assert dot.node_text("n3_2") == f"a3_2\n{net.a(3, 2).data:.4g}"
    bias = net.bias(2, 2)
    assert dot.node_text("b3_2") == f"b2_2 = {bias.data:.4g}\n∂ {bias.grad:.4g}"
    assert dot.node_text("n4_1").startswith("s\n")
    assert dot.node_text("n1_1") == "x_1\n5.1"


def test_neurons_sit_in_columns_by_layer_top_down(parse, network):
    net, _ = network
    dot = parse(draw_network(net).source)

    def position(node):
        x, y = dot.node_attr(node, "pos").rstrip("!").split(",")
        return float(x), float(y)

    columns = {position(f"n3_{j}")[0] for j in range(1, 5)}
    assert len(columns) == 1
    assert position("n2_1")[0] < position("n3_1")[0] < position("n4_1")[0]
    assert position("n3_1")[1] > position("n3_2")[1] > position("n3_4")[1]


def test_weight_colours_tell_the_sign(parse, network):
    net, _ = network
    dot = parse(draw_network(net).source)
    colours = {dot.edge_attr(t, h, k, "color") for t, h, k in dot.edges("weight")}
    assert len(colours) == 2


def test_show_weights_false_leaves_the_edges_bare(parse, network):
    net, _ = network
    dot = parse(draw_network(net, show_weights=False).source)
    assert dot.nodes("weight-label") == set()


def test_network_renders_to_svg(network, no_dot_on_path):
    net, _ = network
    groups = svg_node_groups(draw_network(net).svg())
    classes = [group.get("class") for group in groups]
    assert sum("neuron" in c.split() for c in classes) == 13


def test_something_that_is_not_a_network_is_refused():
    with pytest.raises(TypeError, match="layers"):
        draw_network([1, 2, 3])
