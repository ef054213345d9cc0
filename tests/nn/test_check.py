"""nn.check: what counts as right, the usual mistakes, and check_derivation."""

import math

import pytest

import nn
from engine import Value
from nn.check import Term, check_derivation, close, gradient_answer, tolerance


@pytest.fixture
def worked_example():
    """The 4-4-4-1 cost of the worked example and the article's four factors."""
    net = nn.MLP(4, [4, 4, 1], seed=0)
    cost = nn.binary_cross_entropy(net([0.6, 0.5, -0.5, -0.6]), 1.0)
    w = net.weight(2, 2, 2)
    factors = [f.value for f in nn.explain(cost, w).paths[0].factors]
    return cost, w, factors


@pytest.mark.parametrize("typed, expected", [(-0.0658, -0.065838), (-0.06584, -0.065838),
                                             (0.100, 0.1005), (1.0, 1.0005), (0.0, 0.0)])
def test_three_significant_digits_or_a_relative_thousandth_is_right(typed, expected):
    assert close(typed, expected)


@pytest.mark.parametrize("typed, expected", [(-0.066, -0.065838), (0.102, 0.1005),
                                             (0.0658, -0.065838), (1e-6, 0.0)])
def test_two_digits_the_wrong_sign_or_far_off_is_wrong(typed, expected):
    assert not close(typed, expected)


def test_tolerance_is_at_least_a_relative_thousandth():
    assert tolerance(12345.0) >= 12.345 and tolerance(0.99) >= 0.00099


def terms():
    """A gradient of two terms: 0.25·4 + 0.75·(−2) = −0.5."""
    return [Term(0.25, 4.0, 1.0, "dC/du", "du/dx", "4"),
            Term(0.75, -2.0, -1.5, "dC/dv", "dv/dx", "−2")]


@pytest.mark.parametrize("typed, mistake, words", [
    (-0.5, "correct", "Correct"),
    (4.0, "forgot_upstream", "forgot the upstream gradient dC/du"),
    (-2.0, "forgot_upstream", "forgot the upstream gradient dC/dv"),
    (0.75, "forgot_local", "forgot the local derivative dv/dx"),
    (0.5, "sign", "wrong sign"),
    (-1.5, "one_path", "counted only one path"),
    (7.0, "other", "Multiply the upstream gradient by the local derivative"),
])
def test_each_wrong_number_gets_the_diagnosis_of_its_mistake(typed, mistake, words):
    diagnosis = gradient_answer("dC/dx", -0.5, terms()).diagnose(typed)
    assert diagnosis.mistake == mistake
    assert words in diagnosis.message
    assert bool(diagnosis) == (mistake == "correct")


def test_a_mistake_that_gives_the_right_number_is_no_mistake():
    # upstream 1: the local derivative alone is the answer itself
    answer = gradient_answer("dC/ds", 0.25, [Term(1.0, 0.25, 0.25, "dC/dC", "dC/ds", "s")])
    assert answer.diagnose(0.25).mistake == "correct"
    assert [m for m, _, _ in answer.wrong] == ["forgot_local", "sign"]


def test_the_page_gets_numbers_and_messages_only():
    data = gradient_answer("dC/dx", -0.5, terms()).to_json()
    assert data["expected"] == -0.5 and data["tolerance"] == tolerance(-0.5)
    assert {w["mistake"] for w in data["wrong"]} == {"forgot_upstream", "forgot_local",
                                                   "sign", "one_path"}
    assert all(isinstance(w["value"], float) and len(w["messages"]) == 3 for w in data["wrong"])
    assert len(data["hints"]) == 3 and "-0.5" in data["reveal"]


def test_the_articles_factors_and_value_are_right(worked_example):
    cost, w, factors = worked_example
    report = check_derivation(cost, w, value=math.prod(factors), factors=factors)
    assert report
    assert "All right." in str(report)


def test_a_wrong_factor_is_named_by_position_and_in_the_articles_notation(worked_example):
    cost, w, factors = worked_example
    given = factors[:2] + [-factors[2]] + factors[3:]
    report = check_derivation(cost, "w2_22", factors=given)
    assert not report
    assert report.wrong_factors == [3]
    factor, diagnosis = report.factors[2].factor, report.factors[2].diagnosis
    assert factor.text == "d(a_2)^3/d(z_2)^3"
    assert diagnosis.mistake == "sign"
    text = str(report)
    assert "factor 3" in text and "d(a_2)^3/d(z_2)^3" in text and "wrong sign" in text
    assert "1 − tanh²((z_2)^3)" in text
    assert report.product.mistake == "sign"  # the product is checked too


def test_a_factor_with_the_upstream_gradient_multiplied_in_is_diagnosed(worked_example):
    cost, w, factors = worked_example
    so_far = factors[0] * factors[1] * factors[2]  # dC/d(z_2)^3, not d(a_2)^3/d(z_2)^3
    report = check_derivation(cost, w, factors=factors[:2] + [so_far] + factors[3:])
    assert report.factors[2][2].mistake == "included_upstream"
    assert "dC/d(z_2)^3" in report.factors[2][2].message


def test_a_wrong_value_says_what_it_should_be(worked_example):
    cost, w, factors = worked_example
    report = check_derivation(cost, "(w_22)^2", value=factors[3])
    assert report.value.mistake == "forgot_upstream"
    report = check_derivation(cost, w, value=factors[0] * factors[1] * factors[2])
    assert report.value.mistake == "forgot_local"
    report = check_derivation(cost, w, value=1.0)
    assert report.value.mistake == "other"
    assert f"{math.prod(factors):.4g}" not in report.value.message  # a hint, not the answer
    assert f"{math.prod(factors):.4g}" in str(report)  # the report, a checker, says it


def test_too_many_factors_lists_the_ones_expected(worked_example):
    cost, w, factors = worked_example
    report = check_derivation(cost, w, factors=factors + [1.0])
    assert not report
    assert "You gave 5 factors" in report.problem and "d(z_2)^3/d(w_22)^2" in report.problem


def test_one_paths_share_of_several_is_counted_only_one_path():
    x = Value(1.5, label="x")
    p = x * x
    p.label = "p"
    q = x.tanh()
    q.label = "q"
    r = p * q
    r.label = "r"
    (dx,) = __import__("engine").grad(r, x)
    report = check_derivation(r, "x", value=q.data * x.data)  # what one x of x·x sends
    assert report.value.mistake == "one_path"
    assert check_derivation(r, x, value=dx)


def test_the_report_shows_as_latex_in_jupyter(worked_example):
    cost, w, factors = worked_example
    latex = check_derivation(cost, w, factors=[1.0] + factors[1:])._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert r"\frac{\partial C}{\partial s}" in latex and r"\checkmark" in latex
    assert "it should be" in latex


def test_an_unknown_name_suggests_the_nearest(worked_example):
    cost, _, _ = worked_example
    with pytest.raises(KeyError, match="did you mean"):
        check_derivation(cost, "w2_2", value=0.0)


def test_nothing_to_check_is_an_error(worked_example):
    cost, w, _ = worked_example
    with pytest.raises(ValueError, match="value=, factors="):
        check_derivation(cost, w)
