"""No quiet wrong result: the loss and the accuracy match what the output is.

A sigmoid output is a probability, a linear one a logit or a score; fit,
accuracy and predict pick the loss that fits it, or refuse with the reason.
"""

import math

import numpy as np
import pytest

from engine import OPS, Value, apply, grad
from nn.layers import MLP
from nn.losses import binary_cross_entropy, binary_cross_entropy_of_probability, mse
from nn.train import accuracy, fit, predict

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("seed", range(3))
def test_xor_with_a_sigmoid_output_learns_with_the_cross_entropy_of_the_probability(seed):
    net = MLP(2, [4, 1], output_activation="sigmoid", seed=seed)
    history = fit(net, XOR_X, XOR_Y, lr=1.0, epochs=500, progress=False)
    assert history.loss == "binary_cross_entropy_of_probability"
    assert history.accuracy[-1] == 1.0
    assert accuracy(net, XOR_X, XOR_Y) == 1.0
    assert predict(net, XOR_X).tolist() == [0, 1, 1, 0]


def test_accuracy_of_a_sigmoid_output_thresholds_the_probability_at_one_half():
    net = MLP(1, [1], output_activation="sigmoid", seed=0)
    net.weight(1, 1, 1).data, net.bias(1, 1).data = 1.0, 0.0
    X = np.array([[-2.0], [-0.5], [0.5], [2.0]])  # p = σ(x): 0.12, 0.38, 0.62, 0.88
    assert predict(net, X).tolist() == [0, 0, 1, 1]
    assert accuracy(net, X, [0, 0, 1, 1]) == 1.0
    assert accuracy(net, X, [1, 1, 1, 1]) == 0.5  # a logit's s > 0 would say 1.0


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "bce", binary_cross_entropy,
                                  "hinge"])
def test_a_logit_or_score_loss_on_a_sigmoid_output_is_refused_with_the_reason(loss):
    net = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    before = [p.data for p in net.parameters()]
    with pytest.raises(ValueError, match=r"sigmoid\(z\), which lies in \(0, 1\).*"
                                         "binary_cross_entropy_of_probability"):
        fit(net, XOR_X, XOR_Y, loss=loss, progress=False)
    with pytest.raises(ValueError, match="sigmoid"):
        accuracy(net, XOR_X, XOR_Y, loss=loss)
    assert [p.data for p in net.parameters()] == before


def test_hinge_on_a_tanh_output_is_refused_because_the_margin_is_out_of_reach():
    net = MLP(2, [4, 1], output_activation="tanh", seed=0)
    with pytest.raises(ValueError, match=r"hinge takes a score s that can pass ±1.*"
                                         r"tanh\(z\), which lies in \(-1, 1\)"):
        fit(net, XOR_X, 2 * XOR_Y - 1, loss="hinge", progress=False)


def test_a_tanh_output_with_plus_minus_one_labels_trains_with_mse_split_at_zero():
    net = MLP(2, [4, 1], output_activation="tanh", seed=0)
    history = fit(net, XOR_X, 2 * XOR_Y - 1, epochs=300, progress=False)
    assert history.loss == "mse" and history.accuracy[-1] == 1.0
    assert accuracy(net, XOR_X, 2 * XOR_Y - 1) == 1.0


def test_labels_a_bounded_output_never_separates_are_refused():
    net = MLP(2, [4, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(ValueError, match="never crosses it"):
        fit(net, XOR_X, 2 * XOR_Y - 1, loss="mse", progress=False)


def test_the_probability_loss_on_a_linear_output_is_refused():
    net = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="takes a probability"):
        fit(net, XOR_X, XOR_Y, loss="binary_cross_entropy_of_probability", progress=False)


def test_a_linear_output_keeps_the_logit_loss_by_default():
    net = MLP(2, [4, 1], seed=0)
    assert fit(net, XOR_X, XOR_Y, epochs=1, progress=False).loss == "binary_cross_entropy"


def test_fit_compiled_and_through_the_graph_agree_on_the_probability_loss():
    a = MLP(2, [4, 1], output_activation="sigmoid", seed=1)
    b = MLP(2, [4, 1], output_activation="sigmoid", seed=1)
    ha = fit(a, XOR_X, XOR_Y, epochs=20, progress=False, compile=True)
    hb = fit(b, XOR_X, XOR_Y, epochs=20, progress=False, compile=False)
    assert ha.cost == hb.cost
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


# -- the op: the cross-entropy of a probability ----------------------------------------

@pytest.mark.parametrize("z, y", [(-3.0, 0.0), (-0.2, 1.0), (0.0, 1.0), (2.5, 0.0),
                                  (8.0, 1.0)])
def test_through_a_sigmoid_the_gradient_is_p_minus_y_as_on_logits(z, y):
    zv = Value(z)
    on_probability = binary_cross_entropy_of_probability(zv.sigmoid(), y)
    assert on_probability.data == pytest.approx(binary_cross_entropy(Value(z), y).data,
                                                rel=1e-12)
    (dz,) = grad(on_probability, [zv])
    assert dz == pytest.approx(1 / (1 + math.exp(-z)) - y, rel=1e-9, abs=1e-15)


def test_the_probability_op_agrees_with_central_differences():
    p, y = Value(0.3), Value(1.0)
    cost = apply(OPS["binary_cross_entropy_of_probability"], p, y)
    dp, dy = grad(cost, [p, y])
    h = 1e-6
    forward = OPS["binary_cross_entropy_of_probability"].forward
    assert dp == pytest.approx((forward(0.3 + h, 1.0) - forward(0.3 - h, 1.0)) / (2 * h),
                               rel=1e-7)
    assert dy == pytest.approx((forward(0.3, 1.0 + h) - forward(0.3, 1.0 - h)) / (2 * h),
                               rel=1e-7)


def test_a_saturated_probability_costs_100_at_most_as_in_pytorch():
    cost = binary_cross_entropy_of_probability(Value(1.0), 0.0)
    assert cost.data == 100.0


def test_a_probability_outside_zero_one_is_refused_naming_the_op():
    with pytest.raises(ValueError, match="binary_cross_entropy_of_probability.*0 <= p <= 1"):
        binary_cross_entropy_of_probability(Value(1.5), 1.0)


def test_the_probability_loss_equals_pytorchs_bce_loss():
    torch = pytest.importorskip("torch")
    ps = [1e-8, 0.2, 0.5, 0.7, 1.0 - 1e-9, 0.0, 1.0]
    ys = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    values = [Value(p) for p in ps]
    cost = binary_cross_entropy_of_probability(values, ys)
    cost.backward()
    tp = torch.tensor(ps, dtype=torch.float64, requires_grad=True)
    tc = torch.nn.functional.binary_cross_entropy(tp, torch.tensor(ys, dtype=torch.float64))
    tc.backward()
    assert cost.data == pytest.approx(tc.item(), rel=1e-12)
    # (at p = 0 and 1 both divide by a floor of 1e-12, which PyTorch rounds a little)
    assert [v.grad for v in values] == pytest.approx(tp.grad.tolist(), rel=1e-8)


# -- messages ---------------------------------------------------------------------------

def test_mse_with_a_string_target_says_so():
    with pytest.raises(TypeError, match="the target is the text '1', not a number"):
        mse(Value(1.0), "1")
