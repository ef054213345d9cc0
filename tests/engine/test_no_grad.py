"""engine.no_grad: operations inside record no graph; the state is always restored."""

import pytest

import engine
from engine import Value, no_grad, weighted_sum

OPERATIONS = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y, "neg": lambda x, y: -x, "pow-int": lambda x, y: x ** 2,
    "pow-value": lambda x, y: x ** y, "2-x": lambda x, y: 2 - x, "2/x": lambda x, y: 2 / x,
    "2**x": lambda x, y: 2 ** x, "3*x": lambda x, y: 3 * x, "x+2": lambda x, y: x + 2,
    "exp": lambda x, y: x.exp(), "log": lambda x, y: x.log(), "sqrt": lambda x, y: x.sqrt(),
    "tanh": lambda x, y: x.tanh(), "sigmoid": lambda x, y: x.sigmoid(),
    "relu": lambda x, y: x.relu(), "weighted_sum": lambda x, y: weighted_sum([x], [y], x),
}


@pytest.mark.parametrize("name", OPERATIONS)
def test_result_under_no_grad_is_a_leaf_with_the_same_data(name):
    x, y = Value(1.5), Value(0.5)
    expected = OPERATIONS[name](x, y).data
    with no_grad():
        result = OPERATIONS[name](x, y)
    assert result.op == ""
    assert result.parents == ()
    assert result.data == expected


def test_grad_is_disabled_inside_and_enabled_after():
    assert engine.is_grad_enabled()
    with no_grad():
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()


def test_nested_no_grad_restores_the_state_of_each_level():
    with no_grad():
        with no_grad():
            assert not engine.is_grad_enabled()
        assert not engine.is_grad_enabled()
        assert (Value(1.0) + 1).parents == ()
    assert engine.is_grad_enabled()
    assert len((Value(1.0) + 1).parents) == 2


def test_an_exception_inside_no_grad_restores_the_state_and_propagates():
    with pytest.raises(ZeroDivisionError), no_grad():
        Value(1.0) / 0
    assert engine.is_grad_enabled()
    assert (Value(1.0) * 2).op == "mul"


def test_parameter_update_under_no_grad_keeps_the_parameter_a_leaf():
    # w ← w − ε ∂C/∂w
    w = Value(0.5, label="w2_22")
    cost = (w * 3.0 - 1.0) ** 2
    cost.backward()
    learning_rate = 0.1
    with no_grad():
        updated = w - learning_rate * w.grad
    assert updated.parents == () and updated.op == ""
    assert updated.data == pytest.approx(0.5 - 0.1 * 2 * (1.5 - 1.0) * 3.0, rel=1e-15)


def test_graph_built_before_no_grad_still_backpropagates_inside():
    x = Value(2.0)
    y = x * x
    with no_grad():
        y.backward()
    assert x.grad == 4.0


def test_value_made_under_no_grad_records_a_graph_when_used_after():
    with no_grad():
        x = Value(2.0) * 3
    y = x * x
    y.backward()
    assert y.parents == (x, x)
    assert x.grad == 12.0
