"""The op table is the one place that knows an op.

Its Python templates compute exactly what its functions compute, its text
formulas fill in the operands' own names, and no code outside engine/ops.py
branches on an op's name.
"""

import ast
import math
import pathlib
import random

import pytest

import engine
from engine import OPS, Value
from engine.ops import PYTHON_NAMES

ROOT = pathlib.Path(engine.__file__).resolve().parent.parent

# points where each op is defined, as (operands...)
def _points(op, n_operands, rng):
    for _ in range(200):
        values = [rng.uniform(-3.0, 3.0) for _ in range(n_operands)]
        if op.name in ("log", "sqrt"):
            values = [abs(v) + 1e-3 for v in values]
        if op.name == "div":
            values[1] = values[1] if abs(values[1]) > 1e-3 else 0.5
        if op.name in ("pow", "pow_scalar"):
            values[0] = abs(values[0]) + 1e-3
        if op.name == "hinge":
            values[1] = rng.choice((-1.0, 1.0))
        if op.name == "binary_cross_entropy_of_probability":
            values = [abs(values[0]) / 3.0, rng.choice((0.0, 1.0, abs(values[1]) / 3.0))]
        yield values
    if op.name == "relu":
        yield [0.0]
    if op.name == "binary_cross_entropy_of_probability":  # saturated: p = 0 or 1 exactly
        yield from ([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1e-50, 1.0])
    if op.name in ("pow", "pow_scalar"):
        yield [0.0, 2.0]
        yield [2.0, 0.0]


@pytest.mark.parametrize("name", sorted(OPS))
def test_python_templates_compute_exactly_what_the_entry_computes(name):
    op = OPS[name]
    rng = random.Random(name)
    n_operands = 5 if op.expand else len(op.operands)
    names = op.operand_names(n_operands)
    for values in _points(op, n_operands, rng):
        out = op.forward(*values)
        scope = dict(PYTHON_NAMES, out=out, **dict(zip(names, values)))
        assert eval(op.show(names, how="python"), scope) == out, (name, values)
        expected = op.derivatives(*values, out)
        for index in range(n_operands):
            got = eval(op.show_local(index, names, out="out", how="python"), scope)
            assert got == expected[index] or (math.isnan(got) and math.isnan(expected[index])), \
                (name, index, values)


def test_every_op_has_one_local_formula_per_operand_in_every_form():
    for op in OPS.values():
        for n_operands in ((0, 1, 4, 5, 9) if op.expand else (len(op.operands),)):
            names, result, local = op.formulas(n_operands)
            assert len(names) == len(local) == n_operands, op.name
            for formula in (result, *local):
                assert formula.text and formula.latex and formula.python, op.name


def test_local_formulas_read_in_the_learners_names():
    assert OPS["mul"].show_local(0, ["w", "x"]) == "x"
    assert OPS["mul"].show_local(1, ["w", "x"]) == "w"
    assert OPS["tanh"].show_local(0, ["z3_2"]) == "1 − tanh²(z3_2)"
    assert OPS["relu"].show_local(0, ["z"]) == "1 if z > 0 else 0"
    assert OPS["binary_cross_entropy"].show_local(0, ["s", "y"]) == "σ(s) − y"
    assert OPS["weighted_sum"].show(["w1", "w2", "a1", "a2", "b"]) == "w1·a1 + w2·a2 + b"
    assert OPS["weighted_sum"].show_local(1, ["w1", "w2", "a1", "a2", "b"]) == "a2"
    assert OPS["weighted_sum"].show(["v", "u", "c"], how="python") == "v*u + c"


def test_softplus_never_overflows_and_its_derivative_is_sigmoid():
    for x in (-1000.0, -30.0, 0.0, 30.0, 1000.0):
        s = Value(x).softplus()
        assert math.isfinite(s.data)
        s.backward()
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0
    x = Value(0.3)
    x.softplus().backward()
    assert x.grad == pytest.approx(1 / (1 + math.exp(-0.3)), rel=1e-15)
    assert Value(0.3).softplus().data == pytest.approx(math.log1p(math.exp(0.3)), rel=1e-15)


def _op_names():
    return set(OPS) | {"weighted_sum"}


def _branches_on_an_op_name(tree):
    """Comparisons such as node.op == 'mul' or name in ('add', 'sub'): (line, text)."""
    names = _op_names()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for operand in [node.left, *node.comparators]:
            constants = [operand] if isinstance(operand, ast.Constant) else (
                list(operand.elts) if isinstance(operand, (ast.Tuple, ast.List, ast.Set))
                else [])
            if any(isinstance(c, ast.Constant) and c.value in names for c in constants):
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_code_outside_the_op_table_branches_on_an_op_name():
    offenders = []
    for package in ("engine", "nn", "viz", "chainrule"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "ops.py" and path.parent.name == "engine":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(ROOT)}:{line}: {text}"
                          for line, text in _branches_on_an_op_name(tree)]
    assert not offenders, "branches on op names outside engine/ops.py:\n" + "\n".join(offenders)


def test_the_branch_finder_finds_a_branch():
    # the scan above would catch the kinds of branch it is meant to catch
    tree = ast.parse("if node.op == 'mul': pass\nif op in ('add', 'sub'): pass\n"
                     "x = 'mul' if y else 'add'\n")
    assert [line for line, _ in _branches_on_an_op_name(tree)] == [1, 2]


def test_one_guarded_function_names_the_node_when_a_rule_is_undefined():
    x = Value(0.0, label="x")
    root = x.sqrt()
    with pytest.raises(FloatingPointError, match=r"'x'|sqrt's local derivative"):
        engine.local_derivatives(root)
    with pytest.raises(FloatingPointError, match="sqrt's local derivative"):
        root.backward()
    with pytest.raises(FloatingPointError, match="sqrt's local derivative"):
        list(root.backward_steps())
