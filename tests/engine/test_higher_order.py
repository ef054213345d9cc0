"""engine.grad: first derivatives without touching .grad, and with create_graph=True
second derivatives, mixed partials and Hessians against hand-derived formulas."""

import math

import pytest

import engine
from engine import Value, weighted_sum


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def derivatives_by_engine(f, x0):
    """(f'(x0), f''(x0)) by differentiating the gradient graph again."""
    x = Value(x0, label="x")
    (first,) = engine.grad(f(x), [x], create_graph=True)
    (second,) = engine.grad(first, [x])
    return first, second


SECOND_DERIVATIVES = [
    # name, f on Values, f' and f'' as formulas, points
    ("x**3", lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x, [2.0, -1.5, 0.0]),
    ("x**2.5", lambda x: x ** 2.5, lambda x: 2.5 * x ** 1.5, lambda x: 3.75 * x ** 0.5,
     [0.5, 4.0]),
    ("tanh", lambda x: x.tanh(), lambda x: 1 - math.tanh(x) ** 2,
     lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), [0.3, -1.2, 2.0, 0.0]),
    ("sigmoid", lambda x: x.sigmoid(), lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
     lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x)), [0.3, -1.2, 2.5]),
    ("exp", lambda x: x.exp(), math.exp, math.exp, [0.0, 1.3, -2.0]),
    ("log", lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x ** 2, [0.25, 1.0, 7.0]),
    ("sqrt", lambda x: x.sqrt(), lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5,
     [0.25, 2.0]),
    ("1/x", lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3, [0.5, -2.0]),
    ("2**x", lambda x: 2 ** x, lambda x: 2 ** x * math.log(2),
     lambda x: 2 ** x * math.log(2) ** 2, [0.0, 1.5, -1.0]),
    ("relu", lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, lambda x: 0.0,
     [1.5, -1.5]),
    ("x*exp(x)", lambda x: x * x.exp(), lambda x: (1 + x) * math.exp(x),
     lambda x: (2 + x) * math.exp(x), [0.7, -1.1]),
    ("tanh(x*x)", lambda x: (x * x).tanh(),
     lambda x: 2 * x * (1 - math.tanh(x * x) ** 2),
     lambda x: (2 * (1 - math.tanh(x * x) ** 2)
                - 8 * x * x * math.tanh(x * x) * (1 - math.tanh(x * x) ** 2)),
     [0.6, -0.9]),
    ("x/(1+x)", lambda x: x / (1 + x), lambda x: 1 / (1 + x) ** 2,
     lambda x: -2 / (1 + x) ** 3, [0.5, 2.0]),
]


@pytest.mark.parametrize("name, f, first, second, x0", [
    pytest.param(name, f, d1, d2, x0, id=f"{name}-at-{x0}")
    for name, f, d1, d2, points in SECOND_DERIVATIVES for x0 in points])
def test_second_derivative_matches_the_analytic_formula(name, f, first, second, x0):
    got_first, got_second = derivatives_by_engine(f, x0)
    assert isinstance(got_first, Value)
    assert got_first.data == pytest.approx(first(x0), rel=1e-13, abs=1e-300)
    assert got_second == pytest.approx(second(x0), rel=1e-12, abs=1e-15)


def test_second_derivative_of_x_cubed_at_2_is_12_not_45():
    _, second = derivatives_by_engine(lambda x: x ** 3, 2.0)
    assert second == 12.0


def test_backward_on_a_gradient_graph_gives_the_second_derivative():
    x = Value(2.0)
    (slope,) = engine.grad(x ** 3, [x], create_graph=True)
    slope.backward()
    assert slope.data == 12.0     # 3x²
    assert x.grad == 12.0         # 6x


def test_third_derivative_of_x_to_the_fourth_is_24x():
    x = Value(1.5)
    (first,) = engine.grad(x ** 4, [x], create_graph=True)
    (second,) = engine.grad(first, [x], create_graph=True)
    (third,) = engine.grad(second, [x])
    assert first.data == pytest.approx(4 * 1.5 ** 3, rel=1e-15)
    assert second.data == pytest.approx(12 * 1.5 ** 2, rel=1e-15)
    assert third == pytest.approx(24 * 1.5, rel=1e-15)


@pytest.mark.parametrize("x0, y0", [(1.7, 2.3), (0.5, -1.2), (3.0, 0.5), (2.0, 3.0)])
def test_mixed_partial_of_x_to_the_y_is_x_to_the_y_minus_1_times_1_plus_y_ln_x(x0, y0):
    x, y = Value(x0), Value(y0)
    d_dx, d_dy = engine.grad(x ** y, [x, y], create_graph=True)
    d2_dxdx, d2_dxdy = engine.grad(d_dx, [x, y])
    d2_dydx, d2_dydy = engine.grad(d_dy, [x, y])
    mixed = x0 ** (y0 - 1) * (1 + y0 * math.log(x0))
    assert d2_dxdy == pytest.approx(mixed, rel=1e-13)
    assert d2_dydx == pytest.approx(mixed, rel=1e-13)
    assert d2_dxdx == pytest.approx(y0 * (y0 - 1) * x0 ** (y0 - 2), rel=1e-13)
    assert d2_dydy == pytest.approx(x0 ** y0 * math.log(x0) ** 2, rel=1e-13)


@pytest.mark.parametrize("x0, y0", [(0.7, -0.4), (1.2, 0.9), (-0.5, 1.5)])
def test_hessian_of_x2y_plus_exp_xy(x0, y0):
    # f = x²y + e^(xy)
    x, y = Value(x0), Value(y0)
    f = x * x * y + (x * y).exp()
    gradient = engine.grad(f, [x, y], create_graph=True)
    hessian = [list(engine.grad(g, [x, y])) for g in gradient]
    e = math.exp(x0 * y0)
    assert [g.data for g in gradient] == pytest.approx(
        [2 * x0 * y0 + y0 * e, x0 ** 2 + x0 * e], rel=1e-14)
    expected = [[2 * y0 + y0 ** 2 * e, 2 * x0 + e + x0 * y0 * e],
                [2 * x0 + e + x0 * y0 * e, x0 ** 2 * e]]
    for row, expected_row in zip(hessian, expected):
        assert row == pytest.approx(expected_row, rel=1e-13)
    assert hessian[0][1] == pytest.approx(hessian[1][0], rel=1e-14)


def test_mixed_partial_through_weighted_sum_and_tanh():
    # a = tanh(z), z = w·x + b:  ∂²a/∂w∂x = f'(z) + w·x·f''(z)
    w0, x0, b0 = 0.6, -1.3, 0.2
    w, x, b = Value(w0), Value(x0), Value(b0)
    a = weighted_sum([w], [x], b).tanh()
    (d_dw,) = engine.grad(a, [w], create_graph=True)
    d2_dwdx, d2_dwdb = engine.grad(d_dw, [x, b])
    t = math.tanh(w0 * x0 + b0)
    f1, f2 = 1 - t * t, -2 * t * (1 - t * t)
    assert d2_dwdx == pytest.approx(f1 + w0 * x0 * f2, rel=1e-13)
    assert d2_dwdb == pytest.approx(x0 * f2, rel=1e-13)


# -- engine.grad contract -------------------------------------------------------------

def test_grad_without_create_graph_returns_floats():
    x, y = Value(1.5), Value(-2.0)
    grads = engine.grad(x * y + x.tanh(), [x, y])
    assert isinstance(grads, tuple) and len(grads) == 2
    assert all(type(g) is float for g in grads)
    assert grads[0] == pytest.approx(-2.0 + 1 - math.tanh(1.5) ** 2, rel=1e-15)
    assert grads[1] == 1.5


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_leaves_every_dot_grad_untouched(create_graph):
    x, y = Value(1.5), Value(-2.0)
    middle = x * y
    out = middle * middle + x
    x.grad, y.grad, middle.grad, out.grad = 0.25, -3.0, 7.0, 0.0
    engine.grad(out, [x, y], create_graph=create_graph)
    assert (x.grad, y.grad, middle.grad, out.grad) == (0.25, -3.0, 7.0, 0.0)


def test_grad_accepts_a_single_value_as_inputs():
    x = Value(3.0)
    assert engine.grad(x * x, x) == (6.0,)


def test_grad_of_an_input_the_output_does_not_depend_on_is_zero():
    x, unused = Value(3.0), Value(1.0)
    assert engine.grad(x * x, [x, unused]) == (6.0, 0.0)
    first, second = engine.grad(x * x, [x, unused], create_graph=True)
    assert isinstance(second, Value) and second.data == 0.0
    assert first.data == 6.0


def test_grad_with_respect_to_an_intermediate_node():
    x, y = Value(1.5), Value(-2.0)
    b = x * y
    out = b * b + x
    assert engine.grad(out, [b]) == (2 * -3.0,)


def test_grad_with_create_graph_returns_values_whose_graph_reaches_the_inputs():
    x = Value(0.8)
    (slope,) = engine.grad(x.tanh() * x, [x], create_graph=True)
    assert isinstance(slope, Value)
    assert x in engine.topological_order(slope)


def test_grad_with_create_graph_agrees_with_grad_without():
    x, y = Value(0.8), Value(-1.7)
    out = (x * y).sigmoid() + x ** 3 / y + (x - y).exp()
    plain = engine.grad(out, [x, y])
    graphed = engine.grad(out, [x, y], create_graph=True)
    assert [g.data for g in graphed] == pytest.approx(list(plain), rel=1e-15)


def test_grad_of_a_constant_derivative_with_create_graph_is_a_value():
    x = Value(2.0)
    (slope,) = engine.grad(x + 1, [x], create_graph=True)
    assert isinstance(slope, Value) and slope.data == 1.0
    assert engine.grad(slope, [x]) == (0.0,)
