"""Bad input gets a clear error and loses nothing.

Construction: TypeError naming the type, ValueError for NaN and ±inf.
Ops: ValueError / ZeroDivisionError / OverflowError naming the op, the operand
values and their labels; every existing Value is left as it was.
Backward: FloatingPointError naming the node; no .grad changes.
"""

import math
import re

import pytest

import engine
from engine import Value, weighted_sum

# -- construction ------------------------------------------------------------------------

@pytest.mark.parametrize("data, type_name", [
    ("a", "str"), (None, "NoneType"), (1j, "complex"), (True, "bool"), (False, "bool"),
    ([1], "list"), ((1.0,), "tuple"), ({"x": 1}, "dict"),
])
def test_value_of_a_non_real_raises_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        Value(data)


@pytest.mark.parametrize("data, shown", [(math.nan, "nan"), (math.inf, "inf"),
                                         (-math.inf, "-inf")])
def test_value_of_nan_or_infinity_raises_value_error(data, shown):
    with pytest.raises(ValueError, match=shown):
        Value(data)


def test_label_that_is_not_a_str_raises_type_error():
    with pytest.raises(TypeError, match="int"):
        Value(1.0, label=3)


@pytest.mark.parametrize("other", ["2", None, [1.0], 1j])
def test_operator_with_an_unsupported_operand_raises_type_error(other):
    x = Value(1.0)
    with pytest.raises(TypeError):
        x + other
    with pytest.raises(TypeError):
        other * x


def test_weighted_sum_with_unequal_lengths_raises_value_error_naming_both_lengths():
    with pytest.raises(ValueError, match=r"weighted_sum.*\b2\b.*\b3\b"):
        weighted_sum([Value(1.0), Value(2.0)], [Value(1.0)] * 3)


def test_weighted_sum_with_a_non_number_operand_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="weighted_sum.*str"):
        weighted_sum([Value(1.0)], ["x"])


# -- failing ops ------------------------------------------------------------------------------

def operand(data, label):
    """A labelled Value that is itself the output of a graph, with non-zero grads."""
    leaf = Value(data, label=f"leaf_of_{label}")
    value = leaf * 1.0
    value.label = label
    value.backward()
    return value


# id, exception, operands {label: data}, the failing operation, op name in the message,
# plain numbers that also appear as operands
FAILING_OPS = [
    ("log-of-zero", ValueError, {"x_in": 0.0}, lambda v: v["x_in"].log(), "log", []),
    ("log-of-negative", ValueError, {"x_in": -2.0}, lambda v: v["x_in"].log(), "log", []),
    ("sqrt-of-negative", ValueError, {"x_in": -1.0}, lambda v: v["x_in"].sqrt(), "sqrt",
     []),
    ("x-over-zero-value", ZeroDivisionError, {"x_in": 3.0, "d_in": 0.0},
     lambda v: v["x_in"] / v["d_in"], "div", []),
    ("x-over-plain-zero", ZeroDivisionError, {"x_in": 3.0}, lambda v: v["x_in"] / 0,
     "div", [0.0]),
    ("one-over-zero-value", ZeroDivisionError, {"d_in": 0.0}, lambda v: 1 / v["d_in"],
     "div", [1.0]),
    ("negative-base-to-float-power", ValueError, {"x_in": -2.0},
     lambda v: v["x_in"] ** 0.5, "pow", [0.5]),
    ("negative-base-to-value-power", ValueError, {"x_in": -2.0, "e_in": 0.5},
     lambda v: v["x_in"] ** v["e_in"], "pow", []),
    ("negative-constant-base-to-value-power", ValueError, {"e_in": 1.5},
     lambda v: (-8) ** v["e_in"], "pow", [-8.0]),
    ("zero-to-negative-int-power", ZeroDivisionError, {"x_in": 0.0},
     lambda v: v["x_in"] ** -1, "pow", [-1.0]),
    ("zero-to-negative-value-power", ZeroDivisionError, {"x_in": 0.0, "e_in": -2.0},
     lambda v: v["x_in"] ** v["e_in"], "pow", []),
    ("exp-overflow", OverflowError, {"x_in": 1000.0}, lambda v: v["x_in"].exp(), "exp",
     []),
    ("exp-just-past-the-edge", OverflowError, {"x_in": 709.79},
     lambda v: v["x_in"].exp(), "exp", []),
    ("pow-overflow", OverflowError, {"x_in": 10.0}, lambda v: v["x_in"] ** 400, "pow",
     [400.0]),
    ("pow-value-overflow", OverflowError, {"x_in": 10.0, "e_in": 400.0},
     lambda v: v["x_in"] ** v["e_in"], "pow", []),
    ("reflected-pow-overflow", OverflowError, {"e_in": 1024.0}, lambda v: 2 ** v["e_in"],
     "pow", [2.0]),
    ("mul-overflow", OverflowError, {"x_in": 1e308}, lambda v: v["x_in"] * 10, "mul",
     [10.0]),
    ("add-overflow", OverflowError, {"x_in": 1e308, "y_in": 1e308},
     lambda v: v["x_in"] + v["y_in"], "add", []),
    ("sub-overflow", OverflowError, {"x_in": -1e308, "y_in": 1e308},
     lambda v: v["x_in"] - v["y_in"], "sub", []),
    ("div-overflow", OverflowError, {"x_in": 1e308, "y_in": 1e-10},
     lambda v: v["x_in"] / v["y_in"], "div", []),
    ("weighted_sum-overflow", OverflowError,
     {"w_1": 1e308, "w_2": 1e308, "x_1": 1.0, "x_2": 1.0},
     lambda v: weighted_sum([v["w_1"], v["w_2"]], [v["x_1"], v["x_2"]]),
     "weighted_sum", []),
    ("weighted_sum-term-overflow", OverflowError, {"w_1": 1e308, "x_1": 10.0},
     lambda v: weighted_sum([v["w_1"]], [v["x_1"]]), "weighted_sum", []),
    ("weighted_sum-bias-overflow", OverflowError, {"w_1": 1e308, "x_1": 1.0, "b_1": 1e308},
     lambda v: weighted_sum([v["w_1"]], [v["x_1"]], v["b_1"]), "weighted_sum", []),
]


@pytest.fixture(params=FAILING_OPS, ids=[case[0] for case in FAILING_OPS])
def failing_op(request):
    _, error, operands, operation, op_name, numbers = request.param
    values = {label: operand(data, label) for label, data in operands.items()}
    return error, values, operation, op_name, numbers


def test_failing_op_raises_the_right_error_type(failing_op):
    error, values, operation, _, _ = failing_op
    with pytest.raises(error):
        operation(values)


def test_failing_op_message_names_the_op(failing_op):
    error, values, operation, op_name, _ = failing_op
    with pytest.raises(error) as info:
        operation(values)
    assert op_name in str(info.value)


def test_failing_op_message_names_the_operand_values_and_labels(failing_op):
    error, values, operation, _, numbers = failing_op
    with pytest.raises(error) as info:
        operation(values)
    message = str(info.value)
    for label, value in values.items():
        assert label in message
        assert repr(value.data) in message
    for number in numbers:
        assert repr(number) in message


def test_failing_op_leaves_every_existing_value_unchanged(failing_op):
    error, values, operation, _, _ = failing_op
    nodes = {node for value in values.values() for node in engine.topological_order(value)}
    before = {node: (node.data, node.grad, node.label, node.op, node.parents)
              for node in nodes}
    with pytest.raises(error):
        operation(values)
    assert {node: (node.data, node.grad, node.label, node.op, node.parents)
            for node in nodes} == before


def test_failing_op_under_no_grad_raises_too():
    with engine.no_grad(), pytest.raises(ValueError, match="log"):
        Value(-1.0).log()


# -- backward that would produce a non-finite gradient -------------------------------------

def sqrt_at_zero():
    x = Value(0.0, label="input_x")
    root = x.sqrt()
    root.label = "root_of_x"
    return root * 3.0, {"input_x", "root_of_x"}


def half_power_at_zero():
    x = Value(0.0, label="input_x")
    half = x ** 0.5
    half.label = "half_power"
    return half + x, {"input_x", "half_power"}


def value_half_power_at_zero():
    x, e = Value(0.0, label="input_x"), Value(0.5, label="exponent")
    half = x ** e
    half.label = "half_power"
    return half * 2.0, {"input_x", "half_power"}


def gradient_overflow_in_a_long_chain():
    # y = x·10·10·…·10 (310 times): y = 1e10 is finite, but dy/dx = 1e310 and
    # dy/d(chain_1) = 1e309 (chain_1 = x·10, the first product) are not
    x = Value(1e-300, label="tiny_x")
    y = x
    for k in range(1, 311):
        y = y * 10.0
        y.label = f"chain_{k}"
    return y, {"tiny_x", "chain_1"}


def gradient_overflow_in_two_steps():
    x = Value(1e-300, label="tiny_x")
    return (x * 1e200) * 1e200, {"tiny_x"}


def negative_base_to_a_value_power():
    # (−2)^e is real for e = 3, but d/de = (−2)^e·ln(−2) is not
    x, e = Value(-2.0, label="base_x"), Value(3.0, label="exponent_e")
    cube = x ** e
    cube.label = "cube"
    return cube + 1.0, {"cube", "exponent_e"}


def names_one_of(message, labels):
    return any(re.search(rf"\b{label}\b", message) for label in labels)


NONFINITE_BACKWARD = [sqrt_at_zero, half_power_at_zero, value_half_power_at_zero,
                      gradient_overflow_in_a_long_chain, gradient_overflow_in_two_steps,
                      negative_base_to_a_value_power]


@pytest.mark.parametrize("build", NONFINITE_BACKWARD, ids=lambda f: f.__name__)
def test_backward_to_a_non_finite_gradient_raises_floating_point_error_naming_the_node(
        build):
    root, node_labels = build()
    with pytest.raises(FloatingPointError) as info:
        root.backward()
    assert names_one_of(str(info.value), node_labels)


@pytest.mark.parametrize("build", NONFINITE_BACKWARD, ids=lambda f: f.__name__)
def test_backward_to_a_non_finite_gradient_changes_no_grad(build):
    root, _ = build()
    nodes = engine.topological_order(root)
    for k, node in enumerate(nodes):
        node.grad = 0.5 * k - 1.0
    before = [node.grad for node in nodes]
    with pytest.raises(FloatingPointError):
        root.backward()
    assert [node.grad for node in nodes] == before


@pytest.mark.parametrize("build", NONFINITE_BACKWARD, ids=lambda f: f.__name__)
def test_grad_to_a_non_finite_gradient_raises_floating_point_error(build):
    root, _ = build()
    leaves = [node for node in engine.topological_order(root) if not node.parents]
    with pytest.raises(FloatingPointError):
        engine.grad(root, leaves)
    assert all(node.grad == 0.0 for node in engine.topological_order(root))


@pytest.mark.parametrize("build", NONFINITE_BACKWARD, ids=lambda f: f.__name__)
def test_backward_steps_to_a_non_finite_gradient_raises_floating_point_error(build):
    root, node_labels = build()
    with pytest.raises(FloatingPointError) as info:
        for _ in root.backward_steps():
            pass
    assert names_one_of(str(info.value), node_labels)


def test_backward_whose_accumulated_gradient_would_overflow_raises_and_changes_nothing():
    x = Value(1e-10, label="big_grad_x")
    x.grad = 1.7e308
    y = x * 1e308           # dy/dx = 1e308 is finite, but 1.7e308 + 1e308 is not
    with pytest.raises(FloatingPointError, match="big_grad_x"):
        y.backward()
    assert x.grad == 1.7e308
    assert y.grad == 0.0


def test_second_derivative_that_is_infinite_raises_floating_point_error():
    x = Value(0.0, label="input_x")
    with pytest.raises(FloatingPointError):
        engine.grad(x.sqrt(), [x], create_graph=True)


def test_grad_with_respect_to_a_negative_base_alone_is_defined():
    x, e = Value(-2.0), Value(3.0)
    assert engine.grad(x ** e, [x]) == (12.0,)
