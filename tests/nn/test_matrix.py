"""The matrix form: W^l and b^l, and matrix_backprop against autograd and finite differences."""

import numpy as np
import pytest

from engine import grad
from nn import MLP, from_matrices, matrix_backprop, to_matrices

ACTIVATIONS = ["tanh", "sigmoid", "relu", "linear"]
COSTS = ["mse", "binary_cross_entropy"]
SIZES = [(4, [4, 4, 1]), (3, [5, 1]), (2, [3, 4, 2]), (5, [1, 1]), (4, [6, 6, 6, 3])]


def per_sample_cost(cost, outputs, y):
    """The per-sample cost written in Values, independently of nn.losses."""
    terms = []
    for s, y_j in zip(outputs, y):
        if cost == "mse":
            terms.append((s - y_j) ** 2)
        elif s.data >= 0:  # softplus(s) − y·s, in its stable form
            terms.append(s + (1 + (-s).exp()).log() - y_j * s)
        else:
            terms.append((1 + s.exp()).log() - y_j * s)
    return sum(terms[1:], terms[0]) / len(terms)


def autograd_partials(net, x, y, cost):
    out = net(x)
    outputs = out if isinstance(out, list) else [out]
    C = per_sample_cost(cost, outputs, y)
    return C, dict(zip(net.named_parameters(), grad(C, net.parameters())))


def test_to_matrices_shapes_follow_the_article():
    Ws, bs = to_matrices(MLP(4, [4, 4, 1], seed=0))
    assert [W.shape for W in Ws] == [(4, 4), (4, 4), (1, 4)]
    assert [b.shape for b in bs] == [(4,), (4,), (1,)]


def test_matrix_entry_is_the_named_weight():
    net = MLP(4, [3, 2], seed=0)
    Ws, bs = to_matrices(net)
    for l in (1, 2):
        n, m = Ws[l - 1].shape
        for j in range(1, n + 1):
            assert bs[l - 1][j - 1] == net.bias(l, j).data
            for k in range(1, m + 1):
                assert Ws[l - 1][j - 1, k - 1] == net.weight(l, j, k).data


def test_matrices_are_copies():
    net = MLP(2, [2, 1], seed=0)
    Ws, _ = to_matrices(net)
    Ws[0][0, 0] = 99.0
    assert net.weight(1, 1, 1).data != 99.0


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_round_trip_through_matrices_keeps_every_number(activation):
    net = MLP(4, [4, 4, 1], activation, output_activation="sigmoid", seed=2)
    Ws, bs = to_matrices(net)
    rebuilt = from_matrices(Ws, bs, activation, output_activation="sigmoid")
    assert rebuilt.architecture() == net.architecture()
    assert rebuilt.state_dict() == net.state_dict()
    assert rebuilt([1.0, 2.0, 3.0, 4.0]).data == net([1.0, 2.0, 3.0, 4.0]).data


def test_from_matrices_refuses_mismatched_shapes():
    W1, W2 = np.ones((3, 4)), np.ones((1, 2))
    with pytest.raises(ValueError, match="W\\^2"):
        from_matrices([W1, W2], [np.ones(3), np.ones(1)])
    with pytest.raises(ValueError, match="b\\^1"):
        from_matrices([W1], [np.ones(4)])
    with pytest.raises(ValueError, match="2 bias vectors"):
        from_matrices([W1], [np.ones(3), np.ones(1)])


def test_forward_values_match_the_network():
    net = MLP(4, [4, 4, 1], seed=0)
    x = [0.5, -1.0, 2.0, 0.3]
    s = net(x)
    result = matrix_backprop(*to_matrices(net), x, 1.0)
    for l in (2, 3, 4):
        for j in range(1, net.sizes[l - 1] + 1):
            assert result.z[l - 1][j - 1] == pytest.approx(net.z(l, j).data, rel=1e-14)
            assert result.a[l - 1][j - 1] == pytest.approx(net.a(l, j).data, rel=1e-14)
    assert result.output[0] == pytest.approx(s.data, rel=1e-14)
    assert result.z[0] is None and result.delta[0] is None


@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("nin, nouts", SIZES)
def test_matrix_backprop_equals_autograd_for_every_parameter(nin, nouts, activation, cost):
    rng = np.random.default_rng(nin * 100 + len(nouts))
    for _trial in range(3):
        net = MLP(nin, nouts, activation, seed=int(rng.integers(1_000_000)))
        x = rng.normal(size=nin) * 1.5
        y = rng.integers(0, 2, size=nouts[-1]).astype(float) if cost != "mse" \
            else rng.normal(size=nouts[-1])
        C, partials = autograd_partials(net, list(x), list(y), cost)
        result = matrix_backprop(*to_matrices(net), x, y, activation, cost)
        assert abs(result.cost - C.data) <= 1e-12 * max(1.0, abs(C.data))
        for l in range(1, net.num_layers):
            n, m = result.dW[l - 1].shape
            assert result.db[l - 1].shape == (n,)
            for j in range(1, n + 1):
                g = partials[f"b{l}_{j}"]
                assert abs(result.bias_gradient(l, j) - g) <= 1e-12 * max(1.0, abs(g))
                for k in range(1, m + 1):
                    g = partials[net.weight(l, j, k).label]
                    assert abs(result.weight_gradient(l, j, k) - g) <= 1e-12 * max(1.0, abs(g))


@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh", "relu"])
def test_matrix_backprop_with_a_nonlinear_output_layer(output_activation):
    net = MLP(3, [4, 1], "tanh", output_activation, seed=4)
    x, y = [0.3, -0.8, 1.1], [0.25]
    C, partials = autograd_partials(net, x, y, "mse")
    result = matrix_backprop(*to_matrices(net), x, y, "tanh", "mse", output_activation)
    got = np.concatenate([np.column_stack([dW, db]).ravel()
                          for dW, db in zip(result.dW, result.db)])
    assert np.allclose(got, list(partials.values()), rtol=1e-12, atol=1e-12)


def test_matrix_backprop_agrees_with_central_differences():
    net = MLP(4, [4, 4, 1], seed=9)
    Ws, bs = to_matrices(net)
    x, y, eps = np.array([0.5, -1.0, 2.0, 0.3]), 0.7, 1e-6
    result = matrix_backprop(Ws, bs, x, y)
    for l in range(3):
        for index in np.ndindex(Ws[l].shape):
            plus = [W.copy() for W in Ws]
            minus = [W.copy() for W in Ws]
            plus[l][index] += eps
            minus[l][index] -= eps
            numeric = (matrix_backprop(plus, bs, x, y).cost
                       - matrix_backprop(minus, bs, x, y).cost) / (2 * eps)
            assert result.dW[l][index] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_delta_is_dC_dz():
    # δ^l = ∂C/∂z^l: compare with autograd's derivative with respect to each z node
    net = MLP(4, [4, 4, 1], seed=1)
    x = [0.5, -1.0, 2.0, 0.3]
    s = net(x)
    C = (s - 0.2) ** 2
    result = matrix_backprop(*to_matrices(net), x, 0.2)
    for l in (2, 3):
        zs = [net.z(l, j) for j in range(1, 5)]
        assert np.allclose(result.delta[l - 1], grad(C, zs), rtol=1e-12, atol=1e-15)


def test_binary_cross_entropy_is_finite_for_large_logits():
    W, b = [np.array([[50.0]])], [np.array([800.0])]
    result = matrix_backprop(W, b, [1.0], 0.0, "tanh", "binary_cross_entropy")
    assert result.cost == pytest.approx(850.0)
    assert result.dW[0][0, 0] == pytest.approx(1.0)


def test_worked_example_partial_matches_the_article_formula():
    # dC/d(w_22)^2 = dC/d(a_2)^3 · f'((z_2)^3) · (a_2)^2, with dC/d(a_2)^3 = dC/ds · (w_12)^3
    net = MLP(4, [4, 4, 1], seed=0)
    Ws, bs = to_matrices(net)
    x, y = [0.5, -1.0, 2.0, 0.3], 1.0
    r = matrix_backprop(Ws, bs, x, y)
    s = r.output[0]
    dC_ds = 2 * (s - y)
    by_hand = dC_ds * Ws[2][0, 1] * (1 - np.tanh(r.z[2][1]) ** 2) * r.a[1][1]
    assert r.weight_gradient(2, 2, 2) == pytest.approx(by_hand, rel=1e-14)


def test_unknown_cost_or_activation_is_refused():
    Ws, bs = to_matrices(MLP(2, [1], seed=0))
    with pytest.raises(ValueError, match="cost"):
        matrix_backprop(Ws, bs, [1.0, 2.0], 1.0, cost="hinge")
    with pytest.raises(ValueError, match="activation"):
        matrix_backprop(Ws, bs, [1.0, 2.0], 1.0, output_activation="softmax")
    with pytest.raises(ValueError, match="x must have 2"):
        matrix_backprop(Ws, bs, [1.0], 1.0)


@pytest.mark.parametrize("cost", COSTS)
def test_nn_losses_use_the_same_per_sample_cost_as_the_matrix_form(cost):
    from nn import losses
    net = MLP(4, [4, 4, 1], seed=5)
    x, y = [0.5, -1.0, 2.0, 0.3], 1.0
    C = getattr(losses, cost)(net(x), y)
    result = matrix_backprop(*to_matrices(net), x, y, "tanh", cost)
    assert C.data == pytest.approx(result.cost, rel=1e-12)
    got = np.concatenate([np.column_stack([dW, db]).ravel()
                          for dW, db in zip(result.dW, result.db)])
    assert np.allclose(got, grad(C, net.parameters()), rtol=1e-12, atol=1e-15)
