"""Neuron, Layer and MLP: structure, initialisation, forward pass, expand=True."""

import math

import numpy as np
import pytest

from engine import Value, grad
from nn import MLP, Layer, Neuron

X = [0.5, -1.0, 2.0, 0.3]


def test_neuron_has_nin_weights_and_a_bias():
    neuron = Neuron(3, seed=0)
    assert len(neuron.w) == 3
    assert all(isinstance(w, Value) for w in neuron.w)
    assert isinstance(neuron.b, Value)
    assert neuron.parameters() == neuron.w + [neuron.b]


def test_neuron_computes_activation_of_weighted_input():
    x = [0.2, -0.7, 1.5]
    for activation, f in [("tanh", math.tanh),
                          ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
                          ("relu", lambda z: max(0.0, z)),
                          ("linear", lambda z: z)]:
        neuron = Neuron(3, activation, seed=1)
        z = sum(w.data * x_k for w, x_k in zip(neuron.w, x)) + neuron.b.data
        assert neuron(x).data == pytest.approx(f(z), rel=1e-15, abs=1e-15)


def test_weighted_input_is_one_weighted_sum_node():
    neuron = Neuron(4, seed=0)
    z = neuron.weighted_input(X)
    assert z.op == "weighted_sum"
    assert z.parents[:4] == tuple(neuron.w)
    assert z.parents[-1] is neuron.b


def test_linear_activation_adds_no_node():
    neuron = Neuron(2, "linear", seed=0)
    z = neuron.weighted_input([1.0, 2.0])
    assert neuron.activate(z) is z


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="softmax"):
        Neuron(2, "softmax")
    with pytest.raises(ValueError, match="output_activation"):
        MLP(2, [1], output_activation="softmax")


def test_layer_always_returns_a_list_even_with_one_neuron():
    layer = Layer(4, 1, seed=0)
    out = layer(X)
    assert isinstance(out, list) and len(out) == 1
    assert isinstance(out[0], Value)


def test_one_neuron_hidden_layer_works():
    net = MLP(3, [1, 2], seed=0)
    out = net([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2


def test_mlp_returns_value_for_one_output_and_list_otherwise():
    assert isinstance(MLP(4, [4, 4, 1], seed=0)(X), Value)
    out = MLP(4, [3, 2], seed=0)(X)
    assert isinstance(out, list) and [v.label for v in out] == ["s_1", "s_2"]


def test_output_is_labelled_s():
    assert MLP(4, [4, 4, 1], seed=0)(X).label == "s"


def test_mlp_accepts_numpy_array_and_values():
    net = MLP(4, [4, 4, 1], seed=0)
    from_list = net(X).data
    assert net(np.array(X)).data == from_list
    values = [Value(x) for x in X]
    s = net(values)
    assert s.data == from_list
    assert grad(s, values[0])[0] != 0.0  # the inputs are in the graph


def test_mlp_refuses_wrong_number_of_inputs():
    net = MLP(4, [4, 4, 1], seed=0)
    with pytest.raises(ValueError, match="4 inputs"):
        net([1.0, 2.0, 3.0])


def test_mlp_refuses_a_batch_with_a_clear_message():
    net = MLP(4, [4, 4, 1], seed=0)
    with pytest.raises(ValueError, match="once per row"):
        net(np.zeros((2, 4)))


def test_mlp_refuses_non_number_inputs():
    with pytest.raises(TypeError, match="x_2"):
        MLP(2, [1], seed=0)([1.0, "a"])


def test_mlp_refuses_bad_sizes():
    with pytest.raises(ValueError):
        MLP(0, [1])
    with pytest.raises(ValueError):
        MLP(4, [4, 0, 1])
    with pytest.raises(ValueError):
        MLP(4, [])
    with pytest.raises(TypeError):
        MLP(4, 1)


def test_same_seed_gives_same_network():
    assert MLP(4, [4, 4, 1], seed=7).state_dict() == MLP(4, [4, 4, 1], seed=7).state_dict()


def test_different_seeds_give_different_networks():
    assert MLP(4, [4, 4, 1], seed=7).state_dict() != MLP(4, [4, 4, 1], seed=8).state_dict()


def test_init_scheme_is_uniform_over_one_over_sqrt_fan_in_drawn_in_order():
    # The documented scheme: default_rng(seed), per neuron nin weights then the
    # bias, uniform in (−1/√nin, 1/√nin), layer by layer, neuron by neuron.
    net = MLP(4, [3, 2], seed=11)
    rng = np.random.default_rng(11)
    expected = []
    for nin, nout in [(4, 3), (3, 2)]:
        bound = 1 / math.sqrt(nin)
        for _ in range(nout):
            expected += list(rng.uniform(-bound, bound, size=nin))
            expected.append(rng.uniform(-bound, bound))
    assert [p.data for p in net.parameters()] == expected


def test_weights_lie_within_the_init_bound():
    net = MLP(16, [9, 1], seed=0)
    for layer in net.layers:
        bound = 1 / math.sqrt(layer.nin)
        assert all(abs(p.data) < bound for p in layer.parameters())


def test_zero_grad_resets_every_parameter_gradient():
    net = MLP(4, [4, 4, 1], seed=0)
    net(X).backward()
    assert any(p.grad != 0.0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())


def test_repr_and_str_describe_the_network():
    net = MLP(4, [4, 4, 1], seed=0)
    assert repr(net) == "MLP(4, [4, 4, 1], activation='tanh', output_activation='linear')"
    assert "4-4-4-1" in str(net) and "45 parameters" in str(net)
    assert repr(net.layers[0]) == "Layer(4, 4, activation='tanh')"
    assert repr(net.layers[2].neurons[0]) == "Neuron(4, activation='linear')"


def test_output_activation_applies_to_last_layer_only():
    net = MLP(4, [4, 1], activation="relu", output_activation="sigmoid", seed=0)
    assert [layer.activation for layer in net.layers] == ["relu", "sigmoid"]
    assert net(X).op == "sigmoid"


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("sizes", [(4, [4, 4, 1]), (3, [5, 2]), (2, [1, 3, 1])])
def test_expanded_graph_gives_the_same_values_and_gradients(activation, sizes):
    nin, nouts = sizes
    compact = MLP(nin, nouts, activation, seed=3)
    expanded = MLP(nin, nouts, activation, seed=3, expand=True)
    x = list(np.random.default_rng(5).normal(size=nin))
    out_c, out_e = compact(x), expanded(x)
    out_c = out_c if isinstance(out_c, list) else [out_c]
    out_e = out_e if isinstance(out_e, list) else [out_e]
    cost_c = sum((s - 0.3) ** 2 for s in out_c)
    cost_e = sum((s - 0.3) ** 2 for s in out_e)
    assert [s.data for s in out_e] == [s.data for s in out_c]
    g_c = grad(cost_c, compact.parameters())
    g_e = grad(cost_e, expanded.parameters())
    for a, b in zip(g_c, g_e):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(a))


def test_expanded_graph_is_built_from_elementary_ops():
    net = MLP(4, [4, 4, 1], seed=0, expand=True)
    net(X)
    z = net.z(3, 2)
    assert z.op == "add" and z.parents[1] is net.bias(2, 2)
    ops = set()
    stack = [net.z(2, 1)]
    while stack:
        node = stack.pop()
        ops.add(node.op)
        stack.extend(node.parents)
    assert ops == {"add", "mul", ""}
