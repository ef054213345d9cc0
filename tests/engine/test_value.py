"""Value: construction, attributes, identity semantics, repr and operand order."""

import re

import numpy as np
import pytest

from engine import OPS, Value, weighted_sum

# -- construction and attributes ------------------------------------------------

@pytest.mark.parametrize("data", [3, -7, 0, 2.5, -1e-300, 1e308,
                                  np.float64(0.25), np.int64(-4), np.float32(0.1),
                                  np.int32(9), np.float16(1.5)],
                         ids=lambda d: f"{type(d).__name__}({d})")
def test_data_is_stored_as_a_python_float(data):
    v = Value(data)
    assert type(v.data) is float
    assert v.data == float(data)


def test_new_value_is_a_leaf_with_zero_grad_and_empty_label():
    v = Value(1.5)
    assert v.grad == 0.0 and type(v.grad) is float
    assert v.label == ""
    assert v.op == ""
    assert v.parents == ()


def test_label_is_kept():
    assert Value(0.5, label="w2_22").label == "w2_22"


def test_item_and_float_return_the_data():
    v = Value(-2.25)
    assert v.item() == -2.25
    assert float(v) == -2.25


def test_operation_result_records_its_op_from_the_table():
    x, y = Value(2.0), Value(3.0)
    cases = {"add": x + y, "sub": x - y, "mul": x * y, "div": x / y, "neg": -x,
             "exp": x.exp(), "log": x.log(), "sqrt": x.sqrt(), "tanh": x.tanh(),
             "sigmoid": x.sigmoid(), "relu": x.relu(),
             "weighted_sum": weighted_sum([x], [y])}
    for name, result in cases.items():
        assert result.op == name
        assert OPS[result.op].name == name


@pytest.mark.parametrize("make", [lambda x: x ** 2, lambda x: x ** 2.5,
                                  lambda x: x ** Value(2.0), lambda x: 2 ** x],
                         ids=["int-exponent", "float-exponent", "value-exponent",
                              "reflected"])
def test_pow_result_records_a_pow_op_of_the_table(make):
    result = make(Value(1.5))
    assert result.op in OPS
    assert "pow" in result.op


@pytest.mark.parametrize("make", [
    lambda x: x + 1, lambda x: x * x, lambda x: x - x, lambda x: x / 4,
    lambda x: -x, lambda x: x ** 3, lambda x: x.relu(), lambda x: (-x).relu(),
    lambda x: x.exp(), lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.sqrt(),
    lambda x: weighted_sum([x], [2]), lambda x: weighted_sum([x], [x], 1),
])
def test_every_result_data_and_grad_is_a_float(make):
    result = make(Value(2))
    assert type(result.data) is float
    assert type(result.grad) is float


# -- parents, in operand order ----------------------------------------------------

def test_parents_are_in_operand_order():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    for result in (x + y, x - y, x * y, x / y, x ** y):
        assert result.parents == (x, y)
        assert result.parents[0] is x and result.parents[1] is y
    for result in (y - x, y / x, y ** x):
        assert result.parents[0] is y and result.parents[1] is x


def test_a_plus_a_has_two_parents_both_a():
    a = Value(2.0)
    b = a + a
    assert len(b.parents) == 2
    assert b.parents[0] is a and b.parents[1] is a


def test_unary_op_has_its_operand_as_only_parent():
    x = Value(0.5)
    for result in (-x, x.exp(), x.log(), x.sqrt(), x.tanh(), x.sigmoid(), x.relu()):
        assert len(result.parents) == 1
        assert result.parents[0] is x


@pytest.mark.parametrize("make, position", [
    (lambda x: 2 - x, 0), (lambda x: 2 / x, 0), (lambda x: 2 ** x, 0),
    (lambda x: 2 + x, 0), (lambda x: 2 * x, 0),
    (lambda x: x - 2, 1), (lambda x: x / 2, 1), (lambda x: x + 2, 1), (lambda x: x * 2, 1),
], ids=["2-x", "2/x", "2**x", "2+x", "2*x", "x-2", "x/2", "x+2", "x*2"])
def test_plain_number_operand_becomes_a_constant_leaf_in_its_place(make, position):
    x = Value(4.0)
    result = make(x)
    constant = result.parents[position]
    other = result.parents[1 - position]
    assert other is x
    assert isinstance(constant, Value)
    assert constant.data == 2.0
    assert constant.op == "" and constant.parents == ()


def test_weighted_sum_parents_are_weights_then_inputs_then_bias():
    w = [Value(1.0), Value(2.0)]
    x = [Value(3.0), Value(4.0)]
    b = Value(5.0)
    assert weighted_sum(w, x, b).parents == (w[0], w[1], x[0], x[1], b)
    assert weighted_sum(w, x).parents == (w[0], w[1], x[0], x[1])


def test_operations_do_not_change_their_operands():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    x.grad, y.grad = 0.5, -1.5
    _ = [x + y, x * y, x / y, x ** y, 2 - x, x.exp(), weighted_sum([x], [y], x)]
    assert (x.data, x.grad, x.label, x.op, x.parents) == (2.0, 0.5, "x", "", ())
    assert (y.data, y.grad, y.label, y.op, y.parents) == (3.0, -1.5, "y", "", ())


# -- identity semantics -------------------------------------------------------------

def test_values_with_the_same_data_are_not_equal():
    assert Value(1.0) != Value(1.0)
    assert not (Value(1.0) == Value(1.0))


def test_a_value_equals_itself():
    v = Value(1.0)
    assert v == v


def test_values_with_the_same_data_are_distinct_in_a_set():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b, a}) == 2


def test_value_is_a_dict_key_by_identity():
    a, b = Value(1.0), Value(1.0)
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"


def test_hash_does_not_change_when_data_or_grad_change():
    v = Value(1.0)
    seen = {v}
    before = hash(v)
    v.data, v.grad = 7.0, 3.0
    assert hash(v) == before
    assert v in seen


# -- repr ---------------------------------------------------------------------------

def test_repr_with_label_ends_with_the_label_as_micrograd_users_expect():
    v = Value(0.5, label="w2_22")
    v.grad = -0.12
    assert repr(v) == "Value(data=0.5, grad=-0.12, label='w2_22')"


def test_repr_shows_every_digit_of_data_and_grad():
    v = Value(0.8958441028683222, label="o")
    v.grad = 0.1 + 0.2
    assert repr(v) == "Value(data=0.8958441028683222, grad=0.30000000000000004, label='o')"


def test_repr_without_label():
    v = Value(0.5)
    v.grad = -0.12
    assert repr(v) == "Value(data=0.5, grad=-0.12)"


@pytest.mark.parametrize("data, grad", [(3.0, 0.0), (-1234.5, 2e-7), (1e300, -3.0)])
def test_repr_shows_data_and_grad_as_numbers(data, grad):
    v = Value(data)
    v.grad = grad
    match = re.fullmatch(r"Value\(data=(\S+), grad=(\S+)\)", repr(v))
    assert match is not None
    assert float(match.group(1)) == pytest.approx(data, rel=1e-5)
    assert float(match.group(2)) == pytest.approx(grad, rel=1e-5)


# -- numpy interoperability ------------------------------------------------------

NUMPY_SCALARS = [np.float64(2.0), np.int64(2), np.float32(2.0)]


@pytest.mark.parametrize("scalar", NUMPY_SCALARS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("symbol, apply, expected", [
    ("v+s", lambda v, s: v + s, 5.0), ("s+v", lambda v, s: s + v, 5.0),
    ("v-s", lambda v, s: v - s, 1.0), ("s-v", lambda v, s: s - v, -1.0),
    ("v*s", lambda v, s: v * s, 6.0), ("s*v", lambda v, s: s * v, 6.0),
    ("v/s", lambda v, s: v / s, 1.5), ("s/v", lambda v, s: s / v, 2.0 / 3.0),
    ("v**s", lambda v, s: v ** s, 9.0), ("s**v", lambda v, s: s ** v, 8.0),
], ids=lambda x: x if isinstance(x, str) else "")
def test_numpy_scalar_on_either_side_of_an_operator_gives_a_value(scalar, symbol, apply,
                                                                  expected):
    v = Value(3.0)
    result = apply(v, scalar)
    assert isinstance(result, Value)
    assert result.data == pytest.approx(expected, rel=1e-15)
    assert v in result.parents


def test_numpy_scalar_operand_still_gives_the_gradient():
    v = Value(3.0)
    (np.float64(2.0) * v * np.int64(5)).backward()
    assert v.grad == 10.0


def test_numpy_array_times_value_is_an_object_array_of_values():
    v = Value(3.0)
    products = np.array([1.0, 2.0, -0.5]) * v
    assert isinstance(products, np.ndarray)
    assert products.dtype == object
    assert all(isinstance(p, Value) for p in products)
    assert [p.data for p in products] == [3.0, 6.0, -1.5]
    total = products.sum()
    total.backward()
    assert v.grad == 1.0 + 2.0 - 0.5


def test_ordering_compares_the_numbers_with_values_and_plain_numbers():
    small, large = Value(1.0), Value(2.5)
    assert small < large and small <= large and large > small and large >= small
    assert small < 2 and large > 2.0 and small <= 1.0 and large >= 2.5
    assert not (large < small) and not (small > 1.0)
    assert max([small, large]) is large and sorted([large, small]) == [small, large]


def test_ordering_leaves_equality_by_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b
    assert a != b and a == a
