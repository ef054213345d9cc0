"""Every op's Python formulas compute exactly (==) what its forward and derivatives compute.

engine.compile writes these formulas into code, so a formula that is off in
the last bit would make compiled gradients differ from backward()'s.
"""

import math
import random

import pytest

from engine.ops import OPS, PYTHON_NAMES

POINTS = 2000
SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0, 1e-300, -1e-300, 700.0, -700.0, 40.0]


def operand_counts(op):
    """The operand counts to try: the op's own, or several for a variadic op."""
    if op.expand is not None:
        return [0, 1, 2, 3, 4, 5, 8, 9, 17]
    return [len(op.operands)]


def random_points(n_operands, rng):
    for _ in range(POINTS):
        yield [rng.choice(SPECIAL) if rng.random() < 0.2 else
               rng.uniform(-4.0, 4.0) if rng.random() < 0.8 else
               float(rng.randint(-3, 3)) for _ in range(n_operands)]


# ops defined on a small part of the plane: points moved into it
IN_DOMAIN = {
    # p in [0, 1] (a probability), any y; the SPECIAL points give p = 0, 1 and 1e-300
    "binary_cross_entropy_of_probability": lambda p, y: [min(abs(p) / 4.0, 1.0), y],
}


def same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float)
                      and math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", sorted(OPS))
def test_python_formulas_equal_forward_and_derivatives(name):
    op = OPS[name]
    rng = random.Random(name)
    checked = 0
    for n in operand_counts(op):
        operands, _, _ = op.formulas(n)
        names = [f"v{k}" for k in range(n)]
        result = op.show(names, out="out", how="python")
        locals_ = [op.show_local(k, names, out="out", how="python") for k in range(n)]
        for point in random_points(n, rng):
            if name in IN_DOMAIN:
                point = IN_DOMAIN[name](*point)
            try:
                out = op.forward(*point)
                derivatives = op.derivatives(*point, out)
            except (ArithmeticError, ValueError):
                continue  # the engine refuses this point; the compiled code replays it
            if not math.isfinite(out):
                continue
            scope = {**PYTHON_NAMES, **dict(zip(names, point)), "out": out}
            assert same(eval(result, scope), out), (
                f"{name} result {result!r} at {point}: {eval(result, scope)!r} != {out!r}")
            for k, (text, expected) in enumerate(zip(locals_, derivatives)):
                got = eval(text, scope)
                assert same(got, expected), (
                    f"{name} d/d{operands[k]} {text!r} at {point}: {got!r} != {expected!r}")
            checked += 1
    assert checked >= POINTS // 3, f"{name}: only {checked} points were in its domain"


@pytest.mark.parametrize("name", sorted(OPS))
def test_show_locals_is_show_local_for_every_operand(name):
    op = OPS[name]
    for n in operand_counts(op):
        names = [f"v{k}" for k in range(n)]
        for how in ("text", "latex", "python"):
            assert op.show_locals(names, out="o", how=how) == tuple(
                op.show_local(k, names, out="o", how=how) for k in range(n))
