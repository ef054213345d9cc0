"""The article's notation on the network: (w_jk)^l, (b_j)^l, (z_j)^l, (a_j)^l and labels."""

import math

import pytest

from engine.notation import from_article
from nn import MLP, parameter_name

X = [0.5, -1.0, 2.0, 0.3]


@pytest.fixture
def net():
    return MLP(4, [4, 4, 1], seed=0)


def test_the_4_4_4_1_network_has_45_parameters(net):
    # W^1 4×4 + b^1 4, W^2 4×4 + b^2 4, W^3 1×4 + b^3 1
    assert len(net.parameters()) == 45
    assert net.num_parameters() == 45
    assert net.num_layers == 4
    assert net.sizes == [4, 4, 4, 1]


def test_weight_is_one_based_with_next_layer_first(net):
    assert net.weight(2, 2, 2) is net.layers[1].neurons[1].w[1]
    # (w_jk)^l: j is the neuron of layer l+1, k the neuron of layer l
    assert net.weight(1, 3, 1) is net.layers[0].neurons[2].w[0]
    assert net.weight(3, 1, 4) is net.layers[2].neurons[0].w[3]


def test_bias_is_one_based(net):
    assert net.bias(3, 1) is net.layers[2].neurons[0].b
    assert net.bias(1, 4) is net.layers[0].neurons[3].b


def test_parameters_are_labelled_with_their_names(net):
    assert net.weight(2, 2, 2).label == "w2_22"
    assert net.bias(3, 1).label == "b3_1"
    for name, p in net.named_parameters().items():
        assert p.label == name


def test_indices_of_ten_or_more_are_separated_by_commas():
    big = MLP(3, [12, 1], seed=0)
    assert big.weight(1, 12, 3).label == "w1_12,3"
    assert big.weight(2, 1, 11).label == "w2_1,11"
    assert big.bias(1, 12).label == "b1_12"
    assert parameter_name("w", 2, 9, 9) == "w2_99"


def test_named_parameters_are_in_layer_neuron_weight_then_bias_order(net):
    names = list(net.named_parameters())
    assert names[:6] == ["w1_11", "w1_12", "w1_13", "w1_14", "b1_1", "w1_21"]
    assert names[-2:] == ["w3_14", "b3_1"]
    assert list(net.named_parameters().values()) == net.parameters()
    # micrograd's order: layer by layer, neuron by neuron, weights then bias
    expected = [p for layer in net.layers for neuron in layer.neurons
                for p in neuron.w + [neuron.b]]
    assert net.parameters() == expected


def test_z_and_a_follow_the_forward_equations(net):
    s = net(X)
    for j in range(1, 5):
        z = sum(net.weight(1, j, k).data * X[k - 1] for k in range(1, 5)) + net.bias(1, j).data
        assert net.z(2, j).data == pytest.approx(z, rel=1e-15)
        assert net.a(2, j).data == pytest.approx(math.tanh(z), rel=1e-15)
    z_out = sum(net.weight(3, 1, k).data * net.a(3, k).data for k in range(1, 5))
    assert s.data == pytest.approx(z_out + net.bias(3, 1).data, rel=1e-14)


def test_z_and_a_are_labelled(net):
    net(X)
    assert net.z(3, 2).label == "z3_2"
    assert net.a(3, 2).label == "a3_2"
    assert net.a(1, 2).label == "x_2"  # a^1 = x
    assert net.a(1, 2).data == X[1]


def test_output_node_is_the_last_activation_and_labelled_s(net):
    s = net(X)
    assert net.a(4, 1) is s
    # the output layer is linear, so s is its weighted input itself
    assert net.z(4, 1) is s


def test_z_of_a_nonlinear_output_layer_keeps_its_label():
    net = MLP(4, [2, 1], output_activation="sigmoid", seed=0)
    s = net(X)
    assert net.z(3, 1).label == "z3_1"
    assert s.label == "s" and s.parents == (net.z(3, 1),)


def test_z_and_a_are_those_of_the_latest_pass(net):
    net(X)
    first = net.z(2, 1)
    net([0.0, 0.0, 0.0, 0.0])
    assert net.z(2, 1) is not first
    assert net.z(2, 1).data == net.bias(1, 1).data


def test_z_before_any_forward_pass_is_a_clear_error(net):
    with pytest.raises(RuntimeError, match="forward pass"):
        net.z(2, 1)


@pytest.mark.parametrize("call, message", [
    (lambda n: n.weight(4, 1, 1), r"layer l must be 1\.\.3 for weights"),
    (lambda n: n.weight(0, 1, 1), r"layer l must be 1\.\.3"),
    (lambda n: n.weight(3, 2, 1), r"j must be 1\.\.1 \(neurons in layer 4\)"),
    (lambda n: n.weight(2, 1, 5), r"k must be 1\.\.4 \(neurons in layer 2\)"),
    (lambda n: n.bias(4, 1), r"layer l must be 1\.\.3 for biases"),
    (lambda n: n.bias(1, 0), r"j must be 1\.\.4"),
    (lambda n: n.z(1, 1), r"layer l must be 2\.\.4"),
    (lambda n: n.a(5, 1), r"layer l must be 1\.\.4"),
    (lambda n: n.a(4, 2), r"j must be 1\.\.1"),
])
def test_bad_indices_raise_index_error_naming_the_valid_range(net, call, message):
    net(X)
    with pytest.raises(IndexError, match=message):
        call(net)


def test_non_integer_index_is_a_type_error(net):
    with pytest.raises(TypeError):
        net.weight(2.0, 1, 1)


def test_standalone_layer_and_neuron_have_their_own_names():
    from nn import Layer, Neuron
    assert list(Neuron(2, seed=0).named_parameters()) == ["w_1", "w_2", "b"]
    assert list(Layer(2, 2, seed=0).named_parameters()) == ["w_11", "w_12", "b_1",
                                                           "w_21", "w_22", "b_2"]


def test_linear_hidden_layer_has_one_node_for_z_and_a_labelled_a():
    net = MLP(4, [3, 1], activation="linear", seed=0)
    net(X)
    assert net.z(2, 1) is net.a(2, 1)
    assert net.a(2, 1).label == "a2_1"


def test_from_article_reads_every_parameter_of_the_network(net):
    for l in range(1, net.num_layers):
        for j in range(1, net.sizes[l] + 1):
            for k in range(1, net.sizes[l - 1] + 1):
                assert from_article(f"(w_{j}{k})^{l}") == parameter_name("w", l, j, k)
            assert from_article(f"(b_{j})^{l}") == parameter_name("b", l, j)


@pytest.mark.parametrize("article, label", [("(w_22)^2", "w2_22"), ("(b_1)^3", "b3_1"),
                                            ("(w_12,3)^2", "w2_12,3"), ("(z_2)^3", "z3_2"),
                                            ("(w_{22})^{2}", "w2_22"), (" (w_22) ^ 2 ", "w2_22")])
def test_from_article_turns_the_articles_spelling_into_the_label(article, label):
    assert from_article(article) == label


@pytest.mark.parametrize("name", ["w2_22", "b3_1", "C", "(w_22)^", "(w_2)^2", ""])
def test_from_article_leaves_other_names_as_they_are(name):
    assert from_article(name) == name
