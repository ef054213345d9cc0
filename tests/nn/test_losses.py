"""The costs: values and gradients against the formulas, finite differences, stability."""

import math

import pytest

from engine import Value, gradcheck
from nn.losses import binary_cross_entropy, hinge, mse, softplus


def sigmoid(s):
    return 1.0 / (1.0 + math.exp(-s))


@pytest.mark.parametrize("s, y", [(0.3, 1.0), (-2.0, 0.5), (4.0, -1.0)])
def test_mse_of_one_sample_is_squared_error_with_gradient_two_times_error(s, y):
    output = Value(s, label="s")
    cost = mse(output, y)
    cost.backward()
    assert cost.data == pytest.approx((s - y) ** 2, rel=1e-15)
    assert output.grad == pytest.approx(2 * (s - y), rel=1e-15)


def test_mse_over_a_list_is_the_mean_and_each_gradient_is_divided_by_n():
    outputs = [Value(0.5), Value(-1.0), Value(2.0)]
    targets = [1.0, 0.0, 2.5]
    cost = mse(outputs, targets)
    cost.backward()
    assert cost.data == pytest.approx((0.25 + 1.0 + 0.25) / 3, rel=1e-15)
    for s, y in zip(outputs, targets):
        assert s.grad == pytest.approx(2 * (s.data - y) / 3, rel=1e-15)


@pytest.mark.parametrize("s", [-6.0, -0.7, 0.0, 0.4, 5.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_equals_cross_entropy_of_sigmoid_and_gradient_is_sigma_minus_y(s, y):
    output = Value(s)
    cost = binary_cross_entropy(output, y)
    cost.backward()
    p = sigmoid(s)
    expected = -y * math.log(p) - (1 - y) * math.log(1 - p)
    assert cost.data == pytest.approx(expected, rel=1e-12)
    assert output.grad == pytest.approx(p - y, rel=1e-12, abs=1e-15)


def test_bce_gradient_at_zero_is_one_half_minus_y():
    # relu'(0) = 0, so spelling |s| with relu would give 0 − y here.
    output = Value(0.0)
    binary_cross_entropy(output, 1.0).backward()
    assert output.grad == -0.5


@pytest.mark.parametrize("s", [-1000.0, 1000.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_is_finite_for_huge_logits(s, y):
    output = Value(s)
    cost = binary_cross_entropy(output, y)
    cost.backward()
    # softplus(s) − y·s = max(s, 0) − y·s exactly, once e^−|s| underflows
    assert cost.data == max(s, 0.0) - y * s
    assert output.grad == (1.0 if s > 0 else 0.0) - y


def test_bce_over_a_list_is_the_mean_with_gradient_sigma_minus_y_over_n():
    outputs = [Value(2.0), Value(-1.0), Value(0.5), Value(-3.0)]
    targets = [1, 0, 0, 1]
    cost = binary_cross_entropy(outputs, targets)
    cost.backward()
    singles = [binary_cross_entropy(Value(s.data), y).data for s, y in zip(outputs, targets)]
    assert cost.data == pytest.approx(sum(singles) / 4, rel=1e-15)
    for s, y in zip(outputs, targets):
        assert s.grad == pytest.approx((sigmoid(s.data) - y) / 4, rel=1e-12)


def test_softplus_matches_log_one_plus_exp():
    for s in (-30.0, -1.0, 0.0, 2.5, 30.0):
        assert softplus(Value(s)).data == pytest.approx(math.log1p(math.exp(s)), rel=1e-14)


def test_hinge_is_zero_beyond_the_margin_and_linear_inside_it():
    inside, beyond = Value(0.3), Value(2.0)
    cost = hinge([inside, beyond], [1, 1])
    cost.backward()
    assert cost.data == pytest.approx((1 - 0.3) / 2, rel=1e-15)
    assert inside.grad == -0.5
    assert beyond.grad == 0.0


def test_hinge_of_a_negative_sample_pushes_its_score_down():
    score = Value(0.5)
    cost = hinge(score, -1)
    cost.backward()
    assert cost.data == 1.5
    assert score.grad == 1.0


def test_hinge_rejects_zero_one_labels_with_a_hint():
    with pytest.raises(ValueError, match="-1 or \\+1"):
        hinge(Value(0.2), 0)


@pytest.mark.parametrize("loss, targets", [
    (mse, [0.3, -1.2, 2.0]),
    (binary_cross_entropy, [1, 0, 1]),
    (hinge, [1, -1, -1]),
])
def test_every_loss_agrees_with_finite_differences(loss, targets):
    # The points avoid hinge's kink at y·s = 1.
    report = gradcheck(lambda *s: loss(list(s), targets), [0.4, -0.8, 1.7])
    assert report, str(report)


@pytest.mark.parametrize("loss", [mse, binary_cross_entropy, hinge])
def test_cost_is_labelled_C(loss):
    assert loss([Value(0.1), Value(0.2)], [1, 1]).label == "C"
    assert loss(Value(0.1), 1).label == "C"


def test_a_loss_accepts_plain_numbers_as_predictions():
    assert mse([1.0, 3.0], [0.0, 0.0]).data == 5.0


def test_mismatched_lengths_are_refused_with_the_counts():
    with pytest.raises(ValueError, match="2 prediction.*3 target"):
        mse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


def test_an_empty_list_is_refused():
    with pytest.raises(ValueError, match="no predictions"):
        mse([], [])
