"""engine.gradcheck: autograd against central differences, as a readable report."""

import math

import pytest

import engine
from engine import OPS, Op, Value, gradcheck


def neuron(w1, w2, x1, x2, b):
    return engine.weighted_sum([w1, w2], [x1, x2], b).tanh()


def labelled(**data):
    return [Value(v, label=name) for name, v in data.items()]


@pytest.mark.parametrize("f, inputs", [
    (lambda x: x ** 3, [1.3]),
    (lambda x, y: (x * y).sigmoid() + x / y, [0.4, -1.7]),
    (lambda x, y: x ** y, [1.5, 2.5]),
    (lambda x: (x * x + 1).log() + (x * x + 0.1).sqrt(), [-0.8]),
    (neuron, [0.3, -0.8, 1.5, 0.25, 0.1]),
], ids=["cube", "sigmoid-and-div", "pow", "log-sqrt", "neuron"])
def test_report_is_truthy_when_gradients_are_correct(f, inputs):
    report = gradcheck(f, inputs)
    assert report
    assert len(report) == len(inputs)
    assert all(row.ok for row in report)


def test_report_rows_hold_analytic_numeric_and_errors():
    x, y = labelled(x=0.4, y=-1.7)
    report = gradcheck(lambda x, y: x * y + x.exp(), [x, y])
    rows = list(report)
    assert [row.label for row in rows] == ["x", "y"]
    assert rows[0].analytic == pytest.approx(-1.7 + math.exp(0.4), rel=1e-15)
    assert rows[1].analytic == pytest.approx(0.4, rel=1e-15)
    for row, exact in zip(rows, (-1.7 + math.exp(0.4), 0.4)):
        assert row.numeric == pytest.approx(exact, rel=1e-7)
        assert row.abs_error == abs(row.analytic - row.numeric)
        assert row.rel_error == pytest.approx(row.abs_error / abs(row.numeric), rel=1e-6)


def test_report_prints_a_table_with_the_labels(capsys):
    inputs = labelled(w2_22=0.3, w2_21=-0.8, a2_2=1.5, a2_1=0.25, b3_2=0.1)
    report = gradcheck(neuron, inputs)
    print(report)
    printed = capsys.readouterr().out
    lines = printed.strip().splitlines()
    for name in ("w2_22", "w2_21", "a2_2", "a2_1", "b3_2"):
        assert sum(name in line for line in lines) == 1
    assert len(lines) >= 1 + len(inputs)


def test_plain_number_inputs_are_labelled_by_position():
    report = gradcheck(lambda a, b: a * b, [2.0, 3.0])
    assert [row.label for row in report] == ["x1", "x2"]
    assert [row.analytic for row in report] == [3.0, 2.0]


@pytest.fixture
def wrong_tanh_rule(monkeypatch):
    """Register tanh' = 1 − tanh (instead of 1 − tanh²) in the op table."""
    right = OPS["tanh"]
    monkeypatch.setitem(OPS, "tanh", Op(
        right.name, right.symbol, right.operands,
        forward=right.forward,
        derivatives=lambda x, out: (1.0 - out,),
        result=right.result, local=right.local))


def test_report_is_falsy_when_the_graph_loses_a_dependency():
    # x·x.data treats the second factor as a constant: autograd says x.data,
    # the central difference sees d(x²)/dx = 2x.
    x = Value(1.5, label="x")
    report = gradcheck(lambda x: x * x.data, [x])
    assert not report
    row = next(iter(report))
    assert not row.ok
    assert row.analytic == 1.5
    assert row.numeric == pytest.approx(3.0, rel=1e-8)


def test_report_is_falsy_when_a_derivative_rule_is_wrong(wrong_tanh_rule):
    x, y = labelled(x=0.7, y=-1.3)
    report = gradcheck(lambda x, y: x.tanh() * y, [x, y])
    assert not report
    by_label = {row.label: row for row in report}
    assert not by_label["x"].ok      # the gradient through tanh is wrong
    assert by_label["y"].ok          # d/dy = tanh x does not use tanh'
    assert by_label["x"].analytic == pytest.approx(-1.3 * (1 - math.tanh(0.7)), rel=1e-14)


def test_report_is_falsy_when_mul_sends_the_wrong_operand(monkeypatch):
    right = OPS["mul"]
    monkeypatch.setitem(OPS, "mul", Op(
        right.name, right.symbol, right.operands,
        forward=right.forward, derivatives=lambda x, y, out: (x, y),
        result=right.result, local=right.local))
    assert not gradcheck(lambda x, y: x * y, [2.0, 3.0])


def test_report_is_falsy_beyond_its_tolerances():
    # With eps = 0.01 the central difference of e^x is off by about e·eps²/6 ≈ 5e-5
    f = lambda x: x.exp()  # noqa: E731
    assert not gradcheck(f, [1.0], eps=1e-2, atol=1e-6, rtol=0.0)
    assert gradcheck(f, [1.0], eps=1e-2, atol=1e-3, rtol=0.0)


def test_gradcheck_restores_the_data_of_its_inputs():
    x, y = labelled(x=0.1234567, y=-9.87654321)
    gradcheck(lambda x, y: x * y.tanh(), [x, y])
    assert x.data == 0.1234567
    assert y.data == -9.87654321


def test_gradcheck_restores_the_data_when_f_fails_at_a_perturbed_point():
    x = Value(1e-7, label="x")      # x − eps < 0: log fails there
    with pytest.raises(ValueError):
        gradcheck(lambda x: x.log(), [x])
    assert x.data == 1e-7


def test_gradcheck_changes_no_grad():
    x, y = labelled(x=0.5, y=2.0)
    x.grad, y.grad = 3.0, -1.0
    gradcheck(lambda x, y: x * y, [x, y])
    assert (x.grad, y.grad) == (3.0, -1.0)


def test_gradcheck_of_a_function_not_returning_a_value_raises_type_error():
    with pytest.raises(TypeError):
        gradcheck(lambda x: 3.0, [1.0])
