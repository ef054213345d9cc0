"""check_derivation and explain stay right, and short, at any size.

Past the path limit the check falls back to the gradient itself and says
so; its arguments are validated; counts too large for Python's
int-to-string limit are written by their size; names are capped.
"""

import math

import pytest

from engine import Value, grad
from nn import MLP
from nn.check import check_derivation
from nn.explain import MAX_NAME, count_text, explain
from nn.losses import mse


@pytest.fixture(scope="module")
def wide():
    """C of MLP(4, [40, 40, 40, 1]): 1,600 paths to (w_11)^1, over explain's limit."""
    net = MLP(4, [40, 40, 40, 1], seed=0)
    return mse(net([0.1, 0.2, 0.3, 0.4]), 1.0), net.parameters()[0]


def test_past_the_path_limit_the_check_uses_the_gradient_and_says_so(wide):
    cost, w = wide
    truth = grad(cost, [w])[0]
    report = check_derivation(cost, w, value=0.5)
    text = str(report)
    assert not report
    assert "the seed" not in text  # the wrong "= 1 (the seed ...)" of the issue
    assert f"{truth:.4g}" in text
    assert "1,600 paths, too many to list: checked against the gradient itself" in text
    assert "too many to list, so this is the gradient itself" in text
    assert check_derivation(cost, w, value=truth)
    assert not check_derivation(cost, w, value=-truth)


def test_long_paths_below_the_count_limit_are_grouped_not_listed():
    x = Value(0.1, label="x")
    y = x
    for _ in range(9):
        y = y + y  # 512 paths
    for _ in range(1000):
        y = y * 1.0001  # each 1,000 factors longer: 512,000 factors to list
    e = explain(y, x)
    # grouped, not listed: listing them took 20 s and 400 MB
    assert e.count == 512 and e.grouped and e.paths == []
    assert "factors long, so the paths are grouped" in str(e)
    assert e.total == pytest.approx(grad(y, [x])[0], rel=1e-9)
    report = check_derivation(y, x, value=grad(y, [x])[0])
    assert report and "512 paths" in str(report)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(factors="1234"), TypeError, "factors must be a list of numbers.*got str"),
    (dict(factors=True), TypeError, "factors must be a list of numbers.*got bool"),
    (dict(factors=[1.0, "a"]), TypeError, "factor 2 must be a number, got str"),
    (dict(factors=[1.0, True]), TypeError, "factor 2 must be a number, got bool"),
    (dict(value=10**400), ValueError, "value=an int of about 401 digits is too large"),
    (dict(value=10**5000), ValueError, "about 5,001 digits is too large for a float"),
    (dict(value="0.5"), TypeError, "value must be a number, got str"),
    (dict(value=math.nan), ValueError, "value must be finite"),
    (dict(factors=[1.0, 10**400]), ValueError, "factor 2=an int of about 401 digits"),
])
def test_bad_arguments_get_a_clear_message(arguments, error, message):
    w = Value(0.5, label="w")
    cost = (w * 2.0).tanh()
    with pytest.raises(error, match=message):
        check_derivation(cost, w, **arguments)


def test_counts_past_pythons_int_to_string_limit_are_written_by_their_size():
    assert count_text(1600) == "1,600"
    assert count_text(2**14300) == "about 5.4 × 10^4,304"
    assert count_text(10**20) == "about 1.0 × 10^20"
    assert count_text(10**20 - 1) == "about 1.0 × 10^20"
    x = Value(0.001, label="x")
    y = x
    for _ in range(14300):
        y = (y + y) * 0.5  # 2^14300 paths, more than 10^4300
    e = explain(y, x)
    assert "about 5.4 × 10^4,304 paths" in str(e) and "10^4,304" in repr(e)
    e._repr_latex_()
    report = check_derivation(y, x, value=1.0)
    assert report and "about 5.4 × 10^4,304 paths" in str(report)


def test_a_name_with_a_5000_digit_layer_is_a_plain_label_shortened():
    label = "w" + "9" * 5000 + "_11"
    w = Value(0.5, label=label)
    cost = (w * Value(2.0, label="x")).tanh()
    text = str(explain(cost, w))
    assert "…" in text and max(len(word) for word in text.split()) < MAX_NAME + 20
    report = check_derivation(cost, label, value=1.0)
    assert not report and len(str(report)) < 1000


def test_print_of_explain_is_capped_by_paths_and_by_factors():
    x = Value(0.1, label="x")
    y = x
    for _ in range(6):
        y = y + y  # 64 paths
    for _ in range(2000):
        y = y * 1.0001
    e = explain(y, x)
    text = str(e)
    assert len(e.paths) == 64 and len(e.paths[0].factors) == 2006  # all kept
    assert "… and 44 more paths, not printed" in text
    assert "… 1,994 more factors …" in text and "… 1,995 more nodes …" in text
    assert len(text) < 30_000  # listing all of them: about 8 MB
    assert len(e._repr_latex_()) < 30_000
