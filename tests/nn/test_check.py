"""nn.check: what counts as right, the usual mistakes, and check_derivation."""

import json
import math
import re

import pytest

import engine
import nn
from engine import Value
from nn.check import (
    NUMBER_PATTERN,
    TYPING_HINTS,
    Term,
    check_derivation,
    close,
    gradient_answer,
    local_answer,
    read_number,
    term,
    tolerance,
)


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


# -- reading a typed number ----------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("-0.5", -0.5), ("\u22120.5", -0.5), ("  0.25 ", 0.25), ("+2", 2.0), (".5", 0.5),
    ("5.", 5.0), ("1e-3", 1e-3), ("−1.5E+2", -150.0), ("1/2", 0.5), ("-3/4", -0.75),
    ("3/-4", -0.75), (" − 3 / 4 ", -0.75), ("1e-3/2", 5e-4), ("0", 0.0), ("1\u00a0000", 1000.0),
])
def test_the_usual_forms_of_a_number_are_read(text, value):
    assert read_number(text) == value


@pytest.mark.parametrize("text, words", [
    ("0,5", "use a point as the decimal separator, not a comma"),
    ("1,000.5", "write it without commas"),
    ("", "type a number"), ("   ", "type a number"),
    ("1/0", "a fraction cannot divide by zero"),
    ("1/2/3", "use at most one fraction bar"),
    ("nan", "type a finite number"), ("inf", "type a finite number"),
    ("1e999", "type a finite number"),
    ("half", "use digits"), ("2*3", "use digits"), ("1_000", "use digits"),
    ("0x10", "use digits"), ("(1/2)", "use digits"), ("__import__('os')", "use digits"),
])
def test_anything_else_gets_a_hint_that_is_no_number(text, words):
    with pytest.raises(ValueError) as error:
        read_number(text)
    message = str(error.value)
    assert message.startswith(f"{text.strip()!r} is not a number: ")
    hint = message.split(" is not a number: ", 1)[1]
    assert words in hint
    assert not any(character.isdigit() for character in hint)


# -- nothing given away -----------------------------------------------------------------

def mentions(text, number):
    forms = {format(abs(number), f".{digits}g") for digits in (3, 4)}
    return any(re.search(rf"(?<![0-9.]){re.escape(form)}(?![0-9])", text) for form in forms)


def every_message(data):
    return [data["correct"], *data["hints"]] + [m for w in data["wrong"] for m in w["messages"]]


def test_no_message_of_any_question_on_the_network_contains_its_answer(worked_example):
    cost, _, _ = worked_example
    e = nn.explain(cost, cost)
    order = engine.topological_order(cost)
    gradients = dict(zip(order, engine.grad(cost, order)))
    checked = 0
    for node in order:
        locals_ = engine.local_derivatives(node) if node.parents else ()
        terms = []
        for consumer in order:
            for index, parent in enumerate(consumer.parents):
                if parent is node:
                    terms.append(term(consumer, index, gradients[consumer],
                                      engine.local_derivatives(consumer)[index], e.name, cost))
        answers = [local_answer(node, i, e.name) for i in range(len(locals_))]
        if node is not cost and terms:
            answers.append(gradient_answer(f"dC/d{e.name(node)}", gradients[node], terms))
        for answer in answers:
            data = answer.to_json()
            if float(format(abs(data["expected"]), ".3g")).is_integer():
                continue  # 0 or 1 to 3 digits: a formula's own constants are no answer
            for message in every_message(data):
                assert message and not mentions(message, data["expected"]), message
            assert mentions(data["reveal"], data["expected"])
            checked += 1
    assert checked > 100


def test_a_gradients_messages_grow_and_name_no_value_yet_to_be_asked():
    answer = gradient_answer("dC/dx", -0.5, terms())
    first, second, third = (answer.diagnose(4.0, attempt).message for attempt in (1, 2, 3))
    assert "forgot the upstream gradient dC/du" in first and "=" not in first.split(": ")[1]
    assert second.startswith(first) and "dC/dx = dC/du · 4 + dC/dv · −2 = ?" in second
    assert third.startswith(second) and "0.25 × 4 + 0.75 × (-2) = ?" in third
    assert answer.reveal.endswith("= -0.5")
    assert answer.attempts == 3


def test_the_json_has_the_shape_the_page_reads():
    data = gradient_answer("dC/dx", -0.5, terms()).to_json()
    assert set(data) >= {"goal", "prompt", "expected", "tolerance", "correct", "wrong",
                         "hints", "reveal", "attempts"}
    assert set(data["wrong"][0]) == {"mistake", "value", "tolerance", "messages"}
    json.dumps(data)  # plain data


# -- check_derivation at the learner's granularity -----------------------------------------

@pytest.fixture
def sigmoid_neuron():
    """The issue's neuron: z = w·x + b, a = σ(z), C = (a − y)²."""
    w, x, b, y = (Value(v, label=n) for v, n in ((0.8, "w"), (1.5, "x"), (-0.3, "b"),
                                                  (1.0, "y")))
    z = w * x + b
    a = z.sigmoid()
    cost = (a - y) ** 2
    return cost, w, x, y, a


def test_a_textbook_derivation_with_coarser_factors_is_right(sigmoid_neuron):
    cost, w, x, y, a = sigmoid_neuron
    factors = [2 * (a.data - y.data), a.data * (1 - a.data), x.data]
    report = check_derivation(cost, "w", factors=factors)
    assert report, str(report)
    assert "All right." in str(report)
    spans = [f.covers for f in report.factors]
    e = nn.explain(cost, w)
    n = e.name
    assert len(e.paths[0].factors) == 5  # the engine's path is finer than the learner's
    assert spans[0] == f"C ← {n(cost.parents[0])} ← {n(a)}".replace("C", n(cost), 1)
    assert [len(f.run) for f in report.factors] == [2, 2, 1]
    assert f"factor 1, {report.factors[0].factor.text}, covers {spans[0]}" in str(report)


def test_a_coarse_factor_with_a_named_mistake_is_named_by_position(sigmoid_neuron):
    cost, w, x, y, a = sigmoid_neuron
    factors = [2 * (a.data - y.data), a.data, x.data]  # σ itself for σ·(1 − σ)
    report = check_derivation(cost, w, factors=factors)
    assert not report and report.wrong_factors == [2]
    diagnosis = report.factors[1].diagnosis
    assert diagnosis.mistake == "sigmoid_itself"
    assert diagnosis.message.startswith("factor 2, ")
    assert "σ(" in diagnosis.message and "itself" in diagnosis.message


def test_forgetting_the_2_of_the_square_is_named(sigmoid_neuron):
    cost, w, x, y, a = sigmoid_neuron
    factors = [a.data - y.data, a.data * (1 - a.data), x.data]
    report = check_derivation(cost, w, factors=factors)
    assert report.wrong_factors == [1]
    assert report.factors[0].diagnosis.mistake == "exponent_not_lowered" or \
        report.factors[0].diagnosis.mistake == "forgot_exponent_factor"
    assert "you forgot the exponent's factor 2" in report.factors[0].diagnosis.message


def test_one_factor_for_the_whole_path_is_the_gradient(sigmoid_neuron):
    cost, w, _, _, _ = sigmoid_neuron
    (dw,) = engine.grad(cost, w)
    report = check_derivation(cost, w, factors=[dw])
    assert report and len(report.factors[0].run) == 5


def test_the_engines_own_factors_still_match_one_to_one(sigmoid_neuron):
    cost, w, _, _, _ = sigmoid_neuron
    factors = [f.value for f in nn.explain(cost, w).paths[0].factors]
    report = check_derivation(cost, w, factors=factors)
    assert report and all(len(f.run) == 1 for f in report.factors)


def test_a_factor_that_leaves_out_part_of_its_run_is_diagnosed(worked_example):
    cost, w, factors = worked_example
    # three factors for four: the last stands for d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2
    # (or the second stands for ds/d(a_2)^3 · d(a_2)^3/d(z_2)^3: either way one is short)
    report = check_derivation(cost, w, factors=factors[:2] + [factors[3]])
    assert not report and len(report.wrong_factors) == 1
    wrong = report.factors[report.wrong_factors[0] - 1]
    assert wrong.diagnosis.mistake == "missing_factor"
    assert "leaves out d(a_2)^3/d(z_2)^3" in wrong.diagnosis.message
    assert "(a_2)^3 ← (z_2)^3" in wrong.covers


def test_a_derivation_along_the_second_of_two_paths_is_matched():
    x = Value(0.7, label="x")
    p = x.tanh()
    p.label = "p"
    q = x.exp()
    q.label = "q"
    r = p * q
    r.label = "r"
    report = check_derivation(r, x, factors=[p.data, q.data])  # dr/dq · dq/dx
    assert report.factors and all(f.diagnosis for f in report.factors)
    assert report.factors[0].covers == "r ← q"
    assert report.product.mistake == "one_path"


def chain(length):
    x = Value(0.3, label="x")
    node = x
    for _ in range(length):
        node = (node * 0.9).tanh()
    return node, x


def test_a_long_chain_with_coarse_factors_is_matched_by_runs():
    out, x = chain(20)
    factors = [f.value for f in nn.explain(out, x).paths[0].factors]  # 40 edges
    coarse = [math.prod(factors[0:13]), math.prod(factors[13:30]), math.prod(factors[30:])]
    report = check_derivation(out, x, factors=coarse)
    assert report, str(report)
    assert [len(f.run) for f in report.factors] == [13, 17, 10]


def test_too_many_ways_to_match_is_said_not_tried():
    out, x = chain(400)  # 800 edges: one factor per edge is checked, three are not tried
    factors = [f.value for f in nn.explain(out, x, limit=10).paths[0].factors]
    assert check_derivation(out, x, factors=factors)
    report = check_derivation(out, x, factors=[1.0, 2.0, 3.0])
    assert not report and "too many ways to try" in report.problem


def test_no_typing_hint_contains_a_digit():
    assert not any(character.isdigit() for hint in TYPING_HINTS.values() for character in hint)


def test_the_number_pattern_is_one_javascript_reads_too():
    # Only the syntax both languages share: groups, (?:...), classes, ? + | and escapes.
    assert re.fullmatch(r"[\[\]()?:+\-|.\\0-9eE/*]+", NUMBER_PATTERN)
    assert "(?P" not in NUMBER_PATTERN and "(?<" not in NUMBER_PATTERN
    assert re.fullmatch(NUMBER_PATTERN, "-3/4") and not re.fullmatch(NUMBER_PATTERN, "0,5")
