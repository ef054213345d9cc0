"""Every path that writes .data or .grad checks first: on error nothing has changed.

Also: an op refuses a Value whose .data was set by hand to something that is
not a finite number, instead of passing it on (or hiding it: relu(nan) = 0).
"""

import math

import pytest

from engine import Value, grad, weighted_sum
from nn import SGD


def overflowing_chain():
    """z = 1e10 · ln x at x = 1e-300: dz/dx = 1e10 / x = 1e310 overflows."""
    x = Value(1e-300, label="x")
    y = x.log()
    y.label = "y"
    scale = Value(1e10, label="scale")
    z = y * scale
    return z, [x, y, scale, z]


def test_backward_steps_that_would_overflow_raise_before_changing_any_grad():
    z, nodes = overflowing_chain()
    for node in nodes:
        node.grad = 0.25  # left over from an earlier pass
    steps = z.backward_steps()
    with pytest.raises(FloatingPointError, match="nothing was changed"):
        next(steps)
    assert [node.grad for node in nodes] == [0.25] * 4


def test_backward_steps_and_backward_refuse_the_same_graph_alike():
    z, nodes = overflowing_chain()
    with pytest.raises(FloatingPointError) as by_backward:
        z.backward()
    with pytest.raises(FloatingPointError) as by_steps:
        list(z.backward_steps())
    assert str(by_steps.value) == str(by_backward.value)
    assert all(node.grad == 0.0 for node in nodes)


def test_backward_steps_still_write_each_step_before_yielding_it():
    x = Value(2.0, label="x")
    y = x * x
    steps = y.backward_steps()
    next(steps)  # the root: it sends 2x = 4 to x, along each of its two edges
    assert x.grad == 4.0
    assert list(steps)[-1].node is x
    assert x.grad == 4.0


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_step_that_would_overflow_changes_no_parameter(momentum):
    fine = Value(0.5, label="w1_11")
    huge = Value(1e308, label="w1_12")
    optimizer = SGD([fine, huge], lr=10.0, momentum=momentum)
    fine.grad, huge.grad = 0.1, -1e308  # 1e308 + 10 · 1e308 overflows
    with pytest.raises(FloatingPointError, match="w1_12.*nothing was changed"):
        optimizer.step()
    assert (fine.data, huge.data) == (0.5, 1e308)
    assert optimizer.velocities == [None, None]


def test_sgd_with_momentum_keeps_its_velocities_when_a_later_step_overflows():
    w = Value(1.0, label="w")
    optimizer = SGD([w], lr=0.1, momentum=0.5)
    w.grad = 2.0
    optimizer.step()  # v = 2, w = 1 − 0.1 · 2
    assert optimizer.velocities == [2.0]
    w.grad = math.inf
    with pytest.raises(FloatingPointError, match="'w'"):
        optimizer.step()
    assert optimizer.velocities == [2.0]
    assert w.data == 1.0 - 0.1 * 2.0


def test_sgd_step_refuses_a_nan_gradient_set_by_hand():
    w = Value(1.0, label="w")
    w.grad = math.nan
    with pytest.raises(FloatingPointError, match="'w'"):
        SGD([w], lr=0.1).step()
    assert w.data == 1.0


UNARY = {
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "neg": lambda x: -x, "tanh": lambda x: x.tanh(), "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(), "pow_scalar": lambda x: x ** 2,
}
BINARY = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "pow": lambda x, y: x ** y,
}
NOT_FINITE = [math.nan, math.inf, -math.inf, 10 ** 400]


@pytest.mark.parametrize("bad", NOT_FINITE, ids=["nan", "inf", "-inf", "huge int"])
@pytest.mark.parametrize("name", UNARY)
def test_a_unary_op_refuses_data_set_by_hand_to_a_non_finite_number(name, bad):
    x = Value(1.0, label="w2_22")
    x.data = bad
    with pytest.raises(ValueError, match=rf"^{name} .*input x = .*\(w2_22\) is not a finite"):
        UNARY[name](x)


@pytest.mark.parametrize("bad", NOT_FINITE, ids=["nan", "inf", "-inf", "huge int"])
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("side", ["x", "y"])
def test_a_binary_op_refuses_data_set_by_hand_to_a_non_finite_number(name, bad, side):
    # 1 / inf = 0 and 1 ** nan = 1 would hide the bad value in a finite result.
    x, y = Value(1.0, label="a"), Value(1.0, label="b")
    (x if side == "x" else y).data = bad
    with pytest.raises(ValueError, match=rf"^{name} .*input {side} = .* is not a finite"):
        BINARY[name](x, y)


def test_relu_no_longer_turns_a_nan_into_zero():
    x = Value(1.0, label="x")
    x.data = math.nan
    with pytest.raises(ValueError, match="relu"):
        x.relu()


def test_weighted_sum_names_the_operand_set_by_hand_to_inf():
    w, x = Value(0.0, label="w"), Value(1.0, label="x")
    x.data = math.inf  # 0 · inf is nan
    with pytest.raises(ValueError, match=r"input x1 = inf \(x\) is not a finite"):
        weighted_sum([w], [x])


def test_an_op_refuses_data_set_by_hand_to_a_string_with_a_type_error():
    x = Value(1.0, label="x")
    x.data = "1.0"
    with pytest.raises(TypeError, match=r"tanh .*input x = '1.0' \(x\) is a str"):
        x.tanh()


# -- grad's inputs ---------------------------------------------------------------------

def test_grad_takes_a_generator_of_inputs():
    xs = [Value(1.0), Value(2.0)]
    y = xs[0] * xs[1]
    assert grad(y, (x for x in xs)) == (2.0, 1.0)


def test_grad_takes_dict_values():
    named = {"a": Value(3.0), "b": Value(4.0)}
    y = named["a"] * named["b"]
    assert grad(y, named.values()) == (4.0, 3.0)
    assert grad(y, named.values(), create_graph=True)[0].data == 4.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_refuses_a_number_among_the_inputs(create_graph):
    x = Value(1.0)
    with pytest.raises(TypeError, match="input 1 is a float, not a Value"):
        grad(x * 2.0, [x, 2.0], create_graph=create_graph)


def test_grad_refuses_inputs_that_are_not_values_or_an_iterable():
    x = Value(1.0)
    with pytest.raises(TypeError, match="inputs must be a Value or an iterable"):
        grad(x * 2.0, 3.0)
    with pytest.raises(TypeError, match="output must be a Value"):
        grad(3.0, [x])
