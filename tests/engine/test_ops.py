"""Every op: value and gradient against its analytic formula and central differences.

Each case names a function of Values, the same function and its partial
derivatives written with ``math`` (the formulas a learner derives by hand), and
the points where it is checked. Points on a kink (relu at 0) are checked
against the formula only: a central difference there measures the average of
the two one-sided slopes, not the derivative PyTorch and we define.
"""

import math
from typing import NamedTuple

import pytest

import engine
from engine import OPS, Op, Value, weighted_sum


class Case(NamedTuple):
    name: str
    function: object          # Values -> Value
    value: object             # floats -> float, the formula
    gradient: object          # floats -> tuple of floats, the partials
    points: list              # points where formula and differences are checked
    kinks: list = []          # points checked against the formula only


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


CASES = [
    Case("add", lambda x, y: x + y, lambda x, y: x + y, lambda x, y: (1.0, 1.0),
         [(1.5, -2.0), (0.0, 0.0), (-3.25, 1e-3)]),
    Case("sub", lambda x, y: x - y, lambda x, y: x - y, lambda x, y: (1.0, -1.0),
         [(1.5, -2.0), (0.0, 0.0), (-3.25, 1e-3)]),
    Case("mul", lambda x, y: x * y, lambda x, y: x * y, lambda x, y: (y, x),
         [(1.5, -2.0), (0.0, 4.0), (-3.25, 1e-3)]),
    Case("div", lambda x, y: x / y, lambda x, y: x / y,
         lambda x, y: (1.0 / y, -x / y ** 2),
         [(1.5, -2.0), (0.0, 4.0), (-3.25, 1e-2), (7.0, -0.3)]),
    Case("neg", lambda x: -x, lambda x: -x, lambda x: (-1.0,), [(1.5,), (0.0,), (-3.25,)]),
    Case("pow-int-exponent", lambda x: x ** 3, lambda x: x ** 3, lambda x: (3 * x ** 2,),
         [(1.5,), (0.0,), (-2.0,), (-0.7,)]),
    Case("pow-int-exponent-2", lambda x: x ** 2, lambda x: x ** 2, lambda x: (2 * x,),
         [(1.5,), (0.0,), (-2.0,)]),
    Case("pow-negative-int-exponent", lambda x: x ** -2, lambda x: x ** -2,
         lambda x: (-2 * x ** -3,), [(1.5,), (-2.0,), (0.25,)]),
    Case("pow-float-exponent", lambda x: x ** 2.5, lambda x: x ** 2.5,
         lambda x: (2.5 * x ** 1.5,), [(1.5,), (0.01,), (4.0,)]),
    Case("pow-float-exponent-half", lambda x: x ** 0.5, lambda x: math.sqrt(x),
         lambda x: (0.5 / math.sqrt(x),), [(1.5,), (0.01,), (9.0,)]),
    Case("pow-integral-float-exponent-negative-base", lambda x: x ** 3.0,
         lambda x: x ** 3, lambda x: (3 * x ** 2,), [(-2.0,), (-0.5,)]),
    Case("pow-value-exponent", lambda x, y: x ** y, lambda x, y: x ** y,
         lambda x, y: (y * x ** (y - 1), x ** y * math.log(x)),
         [(1.5, 2.0), (0.3, -1.7), (2.0, 0.5), (4.0, 3.0)]),
    Case("pow-value-exponent-negative-y", lambda x, y: x ** y, lambda x, y: x ** y,
         lambda x, y: (y * x ** (y - 1), x ** y * math.log(x)),
         [(2.5, -2.0)]),
    Case("reflected-sub-2-minus-x", lambda x: 2 - x, lambda x: 2 - x, lambda x: (-1.0,),
         [(1.5,), (0.0,), (-3.25,)]),
    Case("reflected-div-2-over-x", lambda x: 2 / x, lambda x: 2 / x,
         lambda x: (-2 / x ** 2,), [(1.5,), (-0.25,), (10.0,)]),
    Case("reflected-pow-2-to-the-x", lambda x: 2 ** x, lambda x: 2 ** x,
         lambda x: (2 ** x * math.log(2),), [(1.5,), (0.0,), (-3.0,)]),
    Case("x-plus-2", lambda x: x + 2, lambda x: x + 2, lambda x: (1.0,),
         [(1.5,), (0.0,)]),
    Case("reflected-add-2-plus-x", lambda x: 2 + x, lambda x: 2 + x, lambda x: (1.0,),
         [(1.5,), (0.0,)]),
    Case("reflected-mul-3-times-x", lambda x: 3 * x, lambda x: 3 * x, lambda x: (3.0,),
         [(1.5,), (0.0,), (-2.0,)]),
    Case("x-minus-2", lambda x: x - 2, lambda x: x - 2, lambda x: (1.0,), [(1.5,)]),
    Case("x-over-4", lambda x: x / 4, lambda x: x / 4, lambda x: (0.25,), [(1.5,)]),
    Case("exp", lambda x: x.exp(), math.exp, lambda x: (math.exp(x),),
         [(0.0,), (1.5,), (-5.0,), (-700.0,), (709.78,)]),
    Case("log", lambda x: x.log(), math.log, lambda x: (1.0 / x,),
         [(1.0,), (1e-3,), (50.0,), (math.e,)]),
    Case("sqrt", lambda x: x.sqrt(), math.sqrt, lambda x: (0.5 / math.sqrt(x),),
         [(1e-4,), (2.0,), (100.0,)]),
    Case("tanh", lambda x: x.tanh(), math.tanh, lambda x: (1 - math.tanh(x) ** 2,),
         [(0.0,), (0.5,), (-3.0,), (20.0,), (1000.0,), (-1000.0,)]),
    Case("sigmoid", lambda x: x.sigmoid(), _sigmoid,
         lambda x: (_sigmoid(x) * (1 - _sigmoid(x)),),
         [(0.0,), (3.0,), (-3.0,), (40.0,), (-40.0,), (1000.0,), (-1000.0,)]),
    Case("relu", lambda x: x.relu(), lambda x: max(0.0, x),
         lambda x: (1.0 if x > 0 else 0.0,),
         [(2.0,), (-2.0,), (0.5,)], kinks=[(0.0,), (1e-300,), (-1e-300,)]),
    Case("weighted_sum-with-bias",
         lambda w1, w2, w3, x1, x2, x3, b: weighted_sum([w1, w2, w3], [x1, x2, x3], b),
         lambda w1, w2, w3, x1, x2, x3, b: w1 * x1 + w2 * x2 + w3 * x3 + b,
         lambda w1, w2, w3, x1, x2, x3, b: (x1, x2, x3, w1, w2, w3, 1.0),
         [(0.5, -1.0, 2.0, 1.5, 0.25, -3.0, 0.1), (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]),
    Case("weighted_sum-without-bias",
         lambda w1, w2, x1, x2: weighted_sum([w1, w2], [x1, x2]),
         lambda w1, w2, x1, x2: w1 * x1 + w2 * x2,
         lambda w1, w2, x1, x2: (x1, x2, w1, w2),
         [(0.5, -1.0, 1.5, 0.25), (-2.0, 3.0, 0.0, 1.0)]),
    Case("weighted_sum-single-term", lambda w, x: weighted_sum([w], [x]),
         lambda w, x: w * x, lambda w, x: (x, w), [(0.5, -4.0)]),
]


def _cases(include_kinks):
    params = []
    for case in CASES:
        points = case.points + (case.kinks if include_kinks else [])
        for point in points:
            params.append(pytest.param(case, point, id=f"{case.name}-at-{point}"))
    return params


def _gradient_by_backward(case, point):
    inputs = [Value(a) for a in point]
    out = case.function(*inputs)
    out.backward()
    return out, [x.grad for x in inputs]


def _central_difference(case, point, i):
    """(f(x_i + h) − f(x_i − h)) / 2h, with f evaluated by the engine's forward."""
    h = 1e-6 * max(abs(point[i]), 1e-2)
    plus, minus = list(point), list(point)
    plus[i] += h
    minus[i] -= h
    f_plus = case.function(*[Value(a) for a in plus]).data
    f_minus = case.function(*[Value(a) for a in minus]).data
    return (f_plus - f_minus) / (2 * h)


@pytest.mark.parametrize("case, point", _cases(include_kinks=True))
def test_value_matches_the_formula(case, point):
    out = case.function(*[Value(a) for a in point])
    assert out.data == pytest.approx(case.value(*point), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("case, point", _cases(include_kinks=True))
def test_gradient_matches_the_analytic_formula(case, point):
    _, grads = _gradient_by_backward(case, point)
    expected = case.gradient(*point)
    assert len(grads) == len(expected)
    for got, want in zip(grads, expected):
        assert got == pytest.approx(want, rel=1e-13, abs=1e-300)


@pytest.mark.parametrize("case, point", _cases(include_kinks=False))
def test_gradient_matches_central_differences(case, point):
    _, grads = _gradient_by_backward(case, point)
    for i, got in enumerate(grads):
        numeric = _central_difference(case, point, i)
        assert got == pytest.approx(numeric, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("case, point", _cases(include_kinks=True))
def test_root_gradient_is_one_and_gradients_are_floats(case, point):
    out, grads = _gradient_by_backward(case, point)
    assert out.grad == 1.0
    assert all(type(g) is float for g in grads)


# -- edge cases, stated exactly ----------------------------------------------------

def test_relu_gradient_at_zero_is_zero_as_in_pytorch():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert y.data == 0.0
    assert x.grad == 0.0


def test_relu_gradient_just_above_zero_is_one():
    x = Value(5e-324)
    x.relu().backward()
    assert x.grad == 1.0


def test_relu_gradient_just_below_zero_is_zero():
    x = Value(-5e-324)
    y = x.relu()
    y.backward()
    assert y.data == 0.0
    assert x.grad == 0.0


@pytest.mark.parametrize("x, expected", [(1000.0, 1.0), (-1000.0, -1.0), (1e308, 1.0)])
def test_tanh_of_a_huge_input_is_exactly_plus_or_minus_one_with_zero_gradient(x, expected):
    v = Value(x)
    y = v.tanh()
    y.backward()
    assert y.data == expected
    assert v.grad == 0.0


@pytest.mark.parametrize("x, expected", [(1000.0, 1.0), (-1000.0, 0.0),
                                         (1e308, 1.0), (-1e308, 0.0)])
def test_sigmoid_of_a_huge_input_is_exactly_zero_or_one_with_zero_gradient(x, expected):
    v = Value(x)
    y = v.sigmoid()
    y.backward()
    assert y.data == expected
    assert v.grad == 0.0


def test_sigmoid_of_zero_is_one_half_with_gradient_one_quarter():
    v = Value(0.0)
    y = v.sigmoid()
    y.backward()
    assert y.data == 0.5
    assert v.grad == 0.25


def test_exp_just_below_the_overflow_edge_is_finite_and_is_its_own_gradient():
    edge = math.log(1.7976931348623157e308)  # the largest x with a finite e^x
    x = Value(edge - 1e-9)
    y = x.exp()
    y.backward()
    assert math.isfinite(y.data)
    assert y.data == pytest.approx(math.exp(edge - 1e-9), rel=1e-15)
    assert x.grad == y.data


@pytest.mark.parametrize("base, exponent", [(-2.0, 3), (-2.0, 2), (-0.5, -3), (-3.0, 4.0)])
def test_negative_base_to_an_integer_power(base, exponent):
    x = Value(base)
    y = x ** exponent
    y.backward()
    assert y.data == base ** exponent
    assert x.grad == pytest.approx(exponent * base ** (exponent - 1), rel=1e-15)


def test_negative_base_to_an_integer_valued_value_exponent_has_the_right_value():
    # The forward value is real; only d/dy (x^y ln x) is undefined (see test_errors).
    y = Value(-2.0) ** Value(3.0)
    assert y.data == -8.0


def test_int_and_float_exponents_give_the_same_value_and_gradient():
    a, b, c = Value(1.7), Value(1.7), Value(1.7)
    ya, yb, yc = a ** 3, b ** 3.0, c ** Value(3.0)
    for y in (ya, yb, yc):
        y.backward()
    assert ya.data == yb.data == pytest.approx(yc.data, rel=1e-15)
    assert a.grad == b.grad == pytest.approx(c.grad, rel=1e-15)


def test_value_exponent_receives_its_gradient_x_to_the_y_ln_x():
    x, y = Value(3.0), Value(2.0)
    (x ** y).backward()
    assert x.grad == pytest.approx(2.0 * 3.0, rel=1e-15)
    assert y.grad == pytest.approx(9.0 * math.log(3.0), rel=1e-15)


def test_pow_value_exponent_at_zero_base_gives_exponent_gradient_zero_as_in_pytorch():
    x, y = Value(0.0), Value(2.0)
    z = x ** y
    z.backward()
    assert z.data == 0.0
    assert x.grad == 0.0
    assert y.grad == 0.0


def test_pow_zero_exponent_at_zero_base_has_gradient_zero_as_in_pytorch():
    x = Value(0.0)
    y = x ** 0
    y.backward()
    assert y.data == 1.0
    assert x.grad == 0.0


def test_pow_value_zero_exponent_at_zero_base_has_gradients_zero_as_in_pytorch():
    x, y = Value(0.0), Value(0.0)
    z = x ** y
    z.backward()
    assert z.data == 1.0
    assert x.grad == 0.0
    assert y.grad == 0.0


def test_weighted_sum_is_one_node_whatever_its_length():
    w = [Value(float(k)) for k in range(5)]
    x = [Value(1.0 + k) for k in range(5)]
    z = weighted_sum(w, x, Value(0.5))
    assert z.op == "weighted_sum"
    assert len(z.parents) == 11
    assert all(p.op == "" for p in z.parents)


def test_weighted_sum_accepts_plain_numbers_and_generators():
    w = [Value(0.5), Value(-2.0)]
    z = weighted_sum(iter(w), (x for x in [4, 1.5]), 3)
    z.backward()
    assert z.data == 0.5 * 4 - 2.0 * 1.5 + 3
    assert [v.grad for v in w] == [4.0, 1.5]


def test_weighted_sum_with_a_reused_value_sums_both_paths():
    # z = w·w + w·x: dz/dw = 2w + x
    w, x = Value(1.5), Value(-4.0)
    weighted_sum([w, w], [w, x]).backward()
    assert w.grad == 2 * 1.5 - 4.0
    assert x.grad == 1.5


def test_weighted_sum_of_no_terms_is_float_zero():
    z = weighted_sum([], [])
    assert type(z.data) is float
    assert z.data == 0.0


# -- the op table is the one definition ----------------------------------------------

@pytest.fixture
def tanh_rule_replaced(monkeypatch):
    """Replace tanh's entry in the op table by one whose derivative is 1 − tanh x."""
    right = OPS["tanh"]
    monkeypatch.setitem(OPS, "tanh", Op(
        right.name, right.symbol, right.operands,
        forward=right.forward, derivatives=lambda x, out: (1.0 - out,),
        result=right.result, local=right.local))


def test_backward_steps_takes_the_derivative_from_the_op_table(tanh_rule_replaced):
    x = Value(0.7)
    for _ in x.tanh().backward_steps():
        pass
    assert x.grad == pytest.approx(1 - math.tanh(0.7), rel=1e-15)


def test_backward_takes_the_derivative_from_the_op_table(tanh_rule_replaced):
    x = Value(0.7)
    x.tanh().backward()
    assert x.grad == pytest.approx(1 - math.tanh(0.7), rel=1e-15)


def test_grad_with_create_graph_takes_the_derivative_from_the_op_table(tanh_rule_replaced):
    x = Value(0.7)
    (slope,) = engine.grad(x.tanh(), [x], create_graph=True)
    assert slope.data == pytest.approx(1 - math.tanh(0.7), rel=1e-15)
