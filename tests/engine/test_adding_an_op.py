"""Adding an op is one table entry: everything that reads a graph then works for it.

The op here, sinh, is defined only in this test. Nothing else in the project
knows it; backward, backward_steps, grad (to any order), gradcheck, the
drawings and explain all take what they need from its entry.
"""

import math

import numpy as np
import pytest

import engine
from engine import OPS, Formula, Op, Value, apply

SINH = Op(
    "sinh", "sinh", ("x",),
    forward=math.sinh,
    # d/dx sinh x = cosh x, written with ops the engine has, so that it is
    # differentiable again: cosh x = (e^x + e^−x) / 2
    derivatives=lambda x, out: (((x.exp() + (-x).exp()) / 2.0) if isinstance(x, Value)
                                else math.cosh(x),),
    result=Formula("sinh($x)", r"\sinh($x)", "math.sinh($x)", "np.sinh($x)"),
    local=(Formula("cosh($x)", r"\cosh($x)", "math.cosh($x)", "np.cosh($x)"),))


@pytest.fixture
def sinh(monkeypatch):
    monkeypatch.setitem(OPS, "sinh", SINH)
    return lambda x: apply(SINH, x)


def _graph(sinh):
    x = Value(0.7, label="x")
    w = Value(-1.3, label="w")
    out = sinh(w * x) + x
    out.label = "out"
    return x, w, out


def test_backward_uses_the_new_entry(sinh):
    x, w, out = _graph(sinh)
    out.backward()
    assert w.grad == math.cosh(w.data * x.data) * x.data
    assert x.grad == math.cosh(w.data * x.data) * w.data + 1.0


def test_backward_steps_ends_where_backward_ends(sinh):
    x, w, out = _graph(sinh)
    steps = list(out.backward_steps())
    stepped = (x.grad, w.grad)
    engine.zero_grad(out)
    out.backward()
    assert stepped == (x.grad, w.grad)
    assert any(step.node.op == "sinh" for step in steps)


def test_the_readable_and_the_fast_backward_agree(sinh):
    x, w, out = _graph(sinh)
    by_the_book = engine.backward_by_the_book(out)
    out.backward()
    assert (by_the_book[x], by_the_book[w]) == (x.grad, w.grad)


def test_second_derivatives_through_the_new_op(sinh):
    x = Value(0.4, label="x")
    (dx,) = engine.grad(sinh(x), x, create_graph=True)
    (d2x,) = engine.grad(dx, x)
    assert dx.data == pytest.approx(math.cosh(0.4), rel=1e-15)
    assert d2x == pytest.approx(math.sinh(0.4), rel=1e-14)


def test_gradcheck_passes_for_the_new_op(sinh):
    assert engine.gradcheck(lambda x, w: sinh(w * x) + x, [0.7, -1.3])


def test_errors_name_the_new_op(sinh):
    with pytest.raises(OverflowError, match=r"sinh \(sinh\(x\)\).*x = 1000.0 \(x\)"):
        sinh(Value(1000.0, label="x"))


def test_drawing_shows_its_symbol_and_local_derivative_in_the_operands_name(sinh):
    viz = pytest.importorskip("viz")
    x, w, out = _graph(sinh)
    product = out.parents[0].parents[0]
    product.label = "wx"
    source = viz.draw_dot(out, show_local=True).source
    assert "label=<sinh>" in source
    # the edge reads 'cosh(wx)' over '= 1.443'
    assert f'cosh(wx)<br align="center"/>= {math.cosh(product.data):.4g}' in source


def test_explain_writes_its_factor_in_text_and_latex(sinh):
    nn = pytest.importorskip("nn")
    x, w, out = _graph(sinh)
    product = out.parents[0].parents[0]
    product.label = "u"
    e = nn.explain(out, w)
    (path,) = e.paths
    assert [f.formula for f in path.factors] == ["1", "cosh(u)", "x"]
    assert "sinh: cosh(u)" in str(e)
    # the unlabelled node is named by the entry's LaTeX, in its operand's name
    assert r"\frac{\partial \sinh(u)}{\partial u}" in e._repr_latex_()
    assert e.agrees


def test_the_quiz_asks_its_local_derivative_though_it_lists_no_mistakes(sinh):
    check = pytest.importorskip("nn.check")
    x, w, out = _graph(sinh)
    product = out.parents[0].parents[0]
    product.label = "u"
    node = out.parents[0]
    node.label = "v"
    answer = check.local_answer(node, 0, lambda n: n.label)
    assert SINH.mistakes == ()
    assert answer.prompt.startswith("dv/du = ?   where v = sinh(u), with u = ")
    cosh = math.cosh(product.data)
    assert answer.diagnose(cosh).mistake == "correct"
    assert answer.diagnose(-cosh).mistake == "sign"
    assert answer.diagnose(cosh + 1).mistake == "other"
    assert all(f"{cosh:.4g}" not in hint for hint in answer.hints)
    assert answer.reveal.endswith(f"= {cosh:.4g}")


def test_the_python_templates_compute_what_the_entry_computes(sinh):
    for x in (-2.0, -0.3, 0.0, 0.9, 5.0):
        names = {"math": math, "x": x, "out": math.sinh(x)}
        assert eval(SINH.show(["x"], how="python"), names) == SINH.forward(x)
        assert eval(SINH.show_local(0, ["x"], how="python"), names) == \
            SINH.derivatives(x, math.sinh(x))[0]


def test_compile_writes_the_new_op_from_its_entry(sinh):
    x, w, out = _graph(sinh)
    f = engine.compile(out, [x, w])
    assert "math.sinh(" in f.source and "math.cosh(" in f.source
    out.backward()
    assert f(x.data, w.data) == (out.data, (x.grad, w.grad))
    # and at other numbers, through the same compiled function
    for number in (-2.0, 0.0, 0.3, 4.0):
        x2, w2 = Value(number, label="x"), Value(-1.3, label="w")
        out2 = sinh(w2 * x2) + x2
        out2.backward()
        assert f(number, -1.3) == (out2.data, (x2.grad, w2.grad))
    with pytest.raises(OverflowError, match=r"sinh \(sinh\(x\)\)"):
        f(1000.0, -1.3)  # the engine's own error, from replaying it


def test_the_array_templates_compute_what_the_entry_computes(sinh):
    x = np.array([-2.0, -0.3, 0.0, 0.9, 5.0])
    names = {"np": np, "x": x, "out": np.sinh(x)}
    for k, number in enumerate(x.tolist()):
        assert eval(SINH.show(["x"], how="array"), names)[k] == \
            pytest.approx(SINH.forward(number), rel=1e-15)
        assert eval(SINH.show_local(0, ["x"], how="array"), names)[k] == \
            pytest.approx(SINH.derivatives(number, math.sinh(number))[0], rel=1e-15)


@pytest.mark.parametrize("matrices", [False, True])
def test_compile_over_a_batch_writes_the_new_op_from_its_entry(sinh, matrices):
    from engine.batch import compile_batch
    x, w, out = _graph(sinh)
    f = compile_batch(out, [x, w], batch=[x], matrices=matrices)
    assert "np.sinh(" in f.source and "np.cosh(" in f.source
    numbers = [-2.0, 0.0, 0.3, 4.0]
    values, (dx, dw) = f(numbers, -1.3)
    total = 0.0
    for k, number in enumerate(numbers):
        x2, w2 = Value(number, label="x"), Value(-1.3, label="w")
        out2 = sinh(w2 * x2) + x2
        out2.backward()
        assert values[k] == pytest.approx(out2.data, rel=1e-15)
        assert dx[k] == pytest.approx(x2.grad, rel=1e-15)
        total += w2.grad
    assert dw == pytest.approx(total, rel=1e-14)
    with pytest.raises(OverflowError, match=r"^sample 1: sinh \(sinh\(x\)\)"):
        f([1.0, 1000.0], -1.3)  # the engine's own error, naming the sample
