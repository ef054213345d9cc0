"""SGD: the article's update w ← w − ε ∂C/∂w, and PyTorch's momentum."""

import pytest

from engine import Value
from nn.optim import SGD


def test_step_subtracts_learning_rate_times_gradient():
    w, b = Value(1.0, label="w"), Value(-2.0, label="b")
    w.grad, b.grad = 0.5, -4.0
    SGD([w, b], lr=0.1).step()
    assert w.data == pytest.approx(1.0 - 0.1 * 0.5, rel=1e-15)
    assert b.data == pytest.approx(-2.0 + 0.1 * 4.0, rel=1e-15)


def test_step_keeps_each_parameter_the_same_value_object():
    w = Value(1.0)
    params = [w]
    w.grad = 1.0
    SGD(params, lr=0.5).step()
    assert params[0] is w
    assert w.data == 0.5


def test_step_records_no_graph():
    w = Value(1.0)
    w.grad = 2.0
    SGD([w], lr=0.1).step()
    assert w.op == "" and w.parents == ()


def test_zero_grad_clears_every_gradient():
    params = [Value(1.0), Value(2.0)]
    for p in params:
        p.grad = 3.0
    SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_momentum_follows_pytorch_convention_over_three_steps():
    # v1 = g1; v2 = μ v1 + g2; v3 = μ v2 + g3; w -= lr·v each step.
    w = Value(0.0)
    opt = SGD([w], lr=0.1, momentum=0.9)
    expected = 0.0
    velocity = None
    for g in (1.0, 2.0, -1.0):
        w.grad = g
        opt.step()
        velocity = g if velocity is None else 0.9 * velocity + g
        expected -= 0.1 * velocity
    # by hand: v = 1, 2.9, 1.61; w = -0.1, -0.39, -0.551
    assert expected == pytest.approx(-0.551, rel=1e-12)
    assert w.data == pytest.approx(expected, rel=1e-15)


def test_momentum_matches_torch_sgd():
    torch = pytest.importorskip("torch")
    gradients = [0.3, -1.2, 0.7, 2.0]
    w = Value(0.5)
    tw = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    ours = SGD([w], lr=0.05, momentum=0.8)
    theirs = torch.optim.SGD([tw], lr=0.05, momentum=0.8)
    for g in gradients:
        w.grad = g
        ours.step()
        tw.grad = torch.tensor([g], dtype=torch.float64)
        theirs.step()
    assert w.data == pytest.approx(tw.item(), rel=1e-14)


def test_one_step_lowers_a_quadratic_cost():
    w = Value(3.0)
    cost = (w - 1.0) ** 2
    cost.backward()
    SGD([w], lr=0.25).step()
    assert w.data == pytest.approx(3.0 - 0.25 * 2 * (3.0 - 1.0))
    assert (w.data - 1.0) ** 2 < cost.data


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), "0.1"])
def test_a_learning_rate_that_is_not_positive_is_refused(lr):
    with pytest.raises(ValueError, match="lr must be a positive number"):
        SGD([Value(1.0)], lr=lr)


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 2])
def test_momentum_outside_zero_one_is_refused(momentum):
    with pytest.raises(ValueError, match="momentum"):
        SGD([Value(1.0)], lr=0.1, momentum=momentum)


def test_a_parameter_listed_twice_is_refused():
    w = Value(1.0)
    with pytest.raises(ValueError, match="more than once"):
        SGD([w, w], lr=0.1)


def test_params_that_are_not_values_are_refused():
    with pytest.raises(TypeError, match="not a Value"):
        SGD([1.0], lr=0.1)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_step_from_gradients_is_zero_grad_backward_step(momentum):
    """step_from (fit's batch path) leaves the very numbers the three calls leave."""
    gradients = [0.5, -4.0, -0.0, 1e-300, 3.0]
    starts = [1.0, -2.0, -0.0, 0.25, 7.0]
    by_calls = [Value(x) for x in starts]
    in_one = [Value(x) for x in starts]
    calls, one = SGD(by_calls, lr=0.1, momentum=momentum), SGD(in_one, lr=0.1, momentum=momentum)
    for _ in range(3):
        calls.zero_grad()
        for p, g in zip(by_calls, gradients):
            p.grad += g
        calls.step()
        one.step_from(gradients)
        for a, b in zip(by_calls, in_one):
            assert (a.data, a.grad) == (b.data, b.grad)
            assert str(a.data) == str(b.data)  # the sign of a zero too


def test_step_from_refuses_an_update_that_is_not_finite_and_changes_nothing():
    w, b = Value(1.0, label="w"), Value(2.0, label="b")
    with pytest.raises(FloatingPointError, match="'b'"):
        SGD([w, b], lr=10.0).step_from([0.5, -1.7e308])  # b would be inf
    assert (w.data, b.data) == (1.0, 2.0)
