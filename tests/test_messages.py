"""Every error names the op or input and its value, with the type the README promises.

Very large integers are a ValueError (not a bare OverflowError from float()),
NaN inputs name the input, and the command line reports bad options cleanly.
"""

import math

import numpy as np
import pytest

import nn
from chainrule.cli import main
from engine import Value, gradcheck, weighted_sum

HUGE = 10 ** 400  # no float can hold it


# -- the engine ---------------------------------------------------------------------------

def test_a_value_of_a_huge_int_is_a_value_error_that_gives_its_size():
    with pytest.raises(ValueError, match="must be finite, got an int of about 401 digits"):
        Value(HUGE)


@pytest.mark.parametrize("combine", [
    lambda v: v * HUGE, lambda v: HUGE + v, lambda v: v ** HUGE, lambda v: v / HUGE,
    lambda v: weighted_sum([HUGE], [v]),
], ids=["mul", "radd", "pow", "div", "weighted_sum"])
def test_a_huge_int_operand_is_a_value_error_naming_the_op(combine):
    with pytest.raises(ValueError, match=r"^(mul|add|pow_scalar|div|weighted_sum) "):
        combine(Value(2.0))


def test_a_nan_operand_names_the_op():
    with pytest.raises(ValueError, match=r"^add \(x \+ y\): a number operand must be finite, "
                                         r"got nan"):
        Value(1.0) + math.nan


@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, math.nan, math.inf, HUGE])
def test_gradcheck_refuses_an_eps_that_is_not_a_small_positive_number(eps):
    with pytest.raises(ValueError, match="gradcheck: eps must be a finite number > 0"):
        gradcheck(lambda x: x * x, [1.0], eps=eps)


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("tolerance", [-1.0, math.nan])
def test_gradcheck_refuses_a_negative_or_nan_tolerance(name, tolerance):
    with pytest.raises(ValueError, match=f"gradcheck: {name} must be a finite number >= 0"):
        gradcheck(lambda x: x * x, [1.0], **{name: tolerance})


def test_gradcheck_refuses_an_eps_that_is_not_a_number_with_a_type_error():
    with pytest.raises(TypeError, match="gradcheck: eps must be a number"):
        gradcheck(lambda x: x * x, [1.0], eps="1e-6")


# -- nn -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [math.nan, math.inf, HUGE], ids=["nan", "inf", "huge int"])
def test_a_non_finite_network_input_is_named(bad):
    net = nn.MLP(4, [4, 1], seed=0)
    with pytest.raises(ValueError, match="input x_3 must be a finite number"):
        net([0.1, 0.2, bad, 0.4])


def test_fit_names_the_sample_and_feature_that_is_nan():
    X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0]])
    with pytest.raises(ValueError, match=r"X\[1, 1\] = nan"):
        nn.fit(nn.MLP(2, [1], seed=0), X, [0, 1, 0], progress=False)


def test_fit_names_the_target_that_is_inf():
    with pytest.raises(ValueError, match=r"y\[2\] = inf"):
        nn.fit(nn.MLP(1, [1], seed=0), [0.0, 1.0, 2.0], [0.0, 1.0, math.inf],
               loss="mse", progress=False)


@pytest.mark.parametrize("call", [
    lambda: nn.fit(nn.MLP(1, [1], seed=0), [0.0, 1.0], [0, HUGE], progress=False),
    lambda: nn.fit(nn.MLP(1, [1], seed=0), [0.0, 1.0], [0, 1], lr=HUGE, progress=False),
    lambda: nn.fit(nn.MLP(1, [1], seed=0), [0.0, 1.0], [0, 1], tol=HUGE, progress=False),
    lambda: nn.SGD([Value(1.0)], lr=HUGE),
    lambda: nn.mse(Value(1.0), HUGE),
    lambda: nn.datasets.make_moons(10, noise=HUGE),
    lambda: nn.datasets.standardize([[1.0], [HUGE]]),
    lambda: nn.matrix_backprop([[[1.0]]], [[0.0]], [HUGE], 0.0),
    lambda: nn.matrix_backprop([[[1.0]]], [[0.0]], [1.0], HUGE),
    lambda: nn.from_matrices([[[HUGE]]], [[0.0]]),
], ids=["fit y", "fit lr", "fit tol", "SGD lr", "mse target", "make_moons noise",
        "standardize", "matrix_backprop x", "matrix_backprop y", "from_matrices"])
def test_a_huge_int_is_a_value_error_not_a_bare_overflow_error(call):
    with pytest.raises(ValueError):
        call()


def test_matrix_backprop_refuses_a_nan_input_instead_of_returning_nan():
    with pytest.raises(ValueError, match=r"x\[0\] = nan"):
        nn.matrix_backprop([[[1.0]]], [[0.0]], [math.nan], 0.0)


# -- the command line ------------------------------------------------------------------

def test_train_with_a_learning_rate_that_diverges_is_one_clean_error(tmp_path, capsys):
    out = tmp_path / "model.json"
    status = main(["train", "--lr", "1e308", "--epochs", "3", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("chainrule train: error: ") and "a smaller --lr may help" in err
    assert "Traceback" not in err
    assert not out.exists()
