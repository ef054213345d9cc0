"""A target y that is a Value gets its gradient, as in PyTorch: dC/dy from the cost op."""

import math

import pytest

from engine import Value
from nn import binary_cross_entropy, hinge, mse


def _sigmoid(s):
    return 1.0 / (1.0 + math.exp(-s))


@pytest.mark.parametrize("cost, y_data, dC_dy", [
    (mse, 0.25, lambda s, y: -2.0 * (s - y)),
    (binary_cross_entropy, 1.0, lambda s, y: -s),
    (hinge, -1.0, lambda s, y: -s if y * s < 1.0 else 0.0),
])
def test_the_target_of_one_sample_gets_dC_dy(cost, y_data, dC_dy):
    s, y = Value(0.7, label="s"), Value(y_data, label="y")
    C = cost(s, y)
    C.backward()
    assert y.grad == pytest.approx(dC_dy(0.7, y_data), rel=1e-15)
    assert C.parents == (s, y)   # one op: C = cost(s, y)


def test_targets_of_a_batch_get_their_share_of_the_mean():
    s = [Value(0.2), Value(-0.4)]
    y = [Value(1.0), Value(0.0)]
    C = mse(s, y)
    C.backward()
    for s_i, y_i in zip(s, y):
        assert y_i.grad == pytest.approx(-2.0 * (s_i.data - y_i.data) / 2, rel=1e-15)


def test_a_number_target_is_a_constant_named_y():
    C = binary_cross_entropy(Value(0.3, label="s"), 1)
    y = C.parents[1]
    assert y.constant and y.label == "y" and y.data == 1.0
    assert _sigmoid(0.3) - 1.0 == pytest.approx(
        __import__("engine").local_derivatives(C)[0], rel=1e-15)
