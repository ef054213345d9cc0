"""Compiled functions refuse what the engine refuses (reliability issue, §2).

One test per defect class: long expressions that overflowed CPython's
compiler, non-finite arguments that ops such as tanh or relu hide, an SGD
step that wrote -inf into the parameters, numpy scalars written into the
code, argument errors that did not say which argument.
"""

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import engine
from engine import Value, weighted_sum


def weighted_sum_of(n):
    ws = [Value(0.001 * (k % 7 - 3), label=f"w_{k}") for k in range(1, n + 1)]
    xs = [Value(0.5 + 1e-4 * k, label=f"x_{k}") for k in range(1, n + 1)]
    b = Value(0.1, label="b")
    return weighted_sum(ws, xs, b).tanh(), ws + xs + [b]


# -- long expressions ----------------------------------------------------------------

def test_a_weighted_sum_of_5000_terms_compiles_and_equals_backward():
    out, leaves = weighted_sum_of(5000)
    f = engine.compile(out, leaves)
    value, gradients = f(*[leaf.data for leaf in leaves])
    out.backward()
    assert value == out.data
    assert gradients == tuple(leaf.grad for leaf in leaves)
    # split into statements that add left to right, as the one expression did
    assert max(line.count(" + ") for line in f.source.splitlines()) <= 32


def test_a_long_sum_keeps_its_order_of_additions_exactly():
    # Terms of very different sizes: any other order of addition rounds differently.
    n = 200
    ws = [Value(1.0, label=f"w_{k}") for k in range(n)]
    xs = [Value(1e16 if k == 0 else (-1e16 if k == n - 1 else 1.0), label=f"x_{k}")
          for k in range(n)]
    z = weighted_sum(ws, xs)
    f = engine.compile(z, ws + xs)
    assert f(*[v.data for v in ws + xs])[0] == z.data


def test_100000_terms_with_a_raised_recursion_limit_do_not_crash_the_interpreter():
    # With a raised limit CPython's compiler used to recurse into a stack
    # overflow (SIGSEGV) on one 100,000-term expression: run it in a child.
    code = textwrap.dedent("""
        import sys
        sys.setrecursionlimit(1_000_000)
        import engine
        from engine import Value, weighted_sum
        n = 100_000
        ws = [Value(1e-3 * (k % 5), label=f"w_{k}") for k in range(n)]
        xs = [Value(0.5, label=f"x_{k}") for k in range(n)]
        z = weighted_sum(ws, xs)
        f = engine.compile(z, xs, wrt=[])
        value, _ = f(*[0.5] * n)
        assert value == z.data, (value, z.data)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


# -- non-finite arguments --------------------------------------------------------------

@pytest.mark.parametrize("build, bad", [
    (lambda x: x.tanh(), math.inf),
    (lambda x: x.relu(), math.nan),
    (lambda x: x ** 0, math.nan),
    (lambda x: 1.0 / x, math.inf),
    (lambda x: x.sigmoid(), -math.inf),
], ids=["tanh(inf)", "relu(nan)", "x**0 at nan", "1/inf", "sigmoid(-inf)"])
def test_a_non_finite_argument_is_refused_as_the_engine_refuses_it(build, bad):
    x = Value(0.5, label="x")
    f = engine.compile(build(x), [x])
    with pytest.raises(ValueError, match="must be finite"):
        Value(bad, label="x")  # the engine's own refusal
    with pytest.raises(ValueError, match=r"argument 1 \(x\) must be finite"):
        f(bad)


def test_a_non_finite_parameter_or_learning_rate_is_refused_and_named():
    w, x = Value(0.5, label="w"), Value(1.0, label="x")
    step = engine.compile_sgd_step((w * x).relu(), [w], [x])
    with pytest.raises(ValueError, match=r"parameters\[0\] \('w'\) must be finite"):
        step([math.nan], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"argument 2 \(x\) must be finite"):
        step([0.5], math.inf, 0.1)
    with pytest.raises(ValueError, match=r"argument 3 \(learning_rate\) must be finite"):
        step([0.5], 1.0, math.nan)
    sample = engine.compile_sample_step((w * x).relu(), [w], [x])
    with pytest.raises(ValueError, match=r"argument 3 \(x\) must be finite"):
        sample([0.5], (0.0,), math.inf, 1.0)


def test_argument_errors_name_the_position_and_the_label():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = engine.compile(x * y, [x, y])
    with pytest.raises(TypeError, match=r"argument 2 \(y\) must be a real number, not str"):
        f(1.0, "2")
    with pytest.raises(TypeError, match=r"argument 1 \(x\) must be a real number, not NoneType"):
        f(None, 2.0)
    step = engine.compile_sgd_step(x * y, [x], [y])
    with pytest.raises(TypeError, match=r"parameters\[0\] \('x'\) must be a real number"):
        step(["a"], 1.0, 0.1)


# -- the SGD step refuses like nn.SGD --------------------------------------------------

def test_compile_sgd_step_refuses_a_non_finite_update_and_changes_nothing():
    from nn.optim import SGD
    # C = w·x is finite, dC/dw = x = 1e300, and w − ε·1e300 overflows to −inf
    w, x = Value(1.0, label="w"), Value(1e300, label="x")
    cost = w * x
    cost.backward()
    with pytest.raises(FloatingPointError, match="'w' would make it -inf"):
        SGD([w], lr=1e300).step()
    assert w.data == 1.0
    step = engine.compile_sgd_step(cost, [w], [x])
    parameters = [1.0]
    with pytest.raises(FloatingPointError, match="'w' would make it -inf.*nothing was changed"):
        step(parameters, 1e300, 1e300)
    assert parameters == [1.0]


def test_a_good_sgd_step_still_updates_in_place():
    w, x = Value(0.5, label="w"), Value(2.0, label="x")
    step = engine.compile_sgd_step((w * x - 1.0) ** 2, [w], [x])
    parameters = [0.5]
    assert step(parameters, 2.0, 0.1) == 0.0
    assert parameters == [0.5]
    step(parameters, 3.0, 0.1)  # C = (1.5 - 1)², dC/dw = 2·0.5·3 = 3
    assert parameters == [0.5 - 0.1 * 3.0]


# -- numbers in the code ----------------------------------------------------------------

def test_numpy_scalar_constants_are_written_as_plain_python_numbers():
    x = Value(2.0, label="x")
    labelled, unlabelled = Value(1.5, label="c"), Value(0.25)
    labelled.data, unlabelled.data = np.float64(1.5), np.float32(0.25)
    out = x * labelled + unlabelled * x
    f = engine.compile(out, [x])
    assert "np." not in f.source and "float64" not in f.source
    assert "c = 1.5" in f.source
    assert f(4.0) == (4.0 * 1.5 + 0.25 * 4.0, (1.75,))
