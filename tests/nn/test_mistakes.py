"""The op table's named mistakes: each rule gives what a learner making it types,
and nn.check's diagnosis names it, in the learner's names, without the answer.

The typed numbers are computed here from the mistake's own description (math,
not the rule), so a rule that computes something else fails.
"""

import math
import re

import pytest

from engine import OPS, Mistake, Value, apply
from nn.check import local_answer


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def name(node):
    return node.label or format(node.data, "g")


def node(op, *operands):
    """The op applied to labelled leaves: operands are (label, value) pairs or numbers."""
    leaves = [Value(v, label=label) if isinstance(v, float) else v for label, v in operands]
    out = apply(OPS[op], *leaves)
    out.label = "a"
    return out


def power(x, y):
    base = Value(x, label="z")
    return base ** (Value(y, label="p") if isinstance(y, float) else y)


# (op, the node, operand index, mistake, what the learner types, words of the diagnosis)
S = sigmoid(0.8)
CASES = [
    ("tanh", lambda: node("tanh", ("z", 0.37)), 0, "tanh_itself", math.tanh(0.37),
     "tanh(z) itself"),
    ("tanh", lambda: node("tanh", ("z", 0.37)), 0, "one_minus_input_squared", 1 - 0.37 ** 2,
     "1 − (z)², with z where tanh(z) belongs"),
    ("tanh", lambda: node("tanh", ("z", 0.37)), 0, "tanh_squared", math.tanh(0.37) ** 2,
     "tanh²(z), without the 1 −"),
    ("sigmoid", lambda: node("sigmoid", ("z", 0.8)), 0, "sigmoid_itself", S, "σ(z) itself"),
    ("sigmoid", lambda: node("sigmoid", ("z", 0.8)), 0, "one_minus_sigmoid", 1 - S,
     "1 − σ(z), without the factor σ(z)"),
    ("sigmoid", lambda: node("sigmoid", ("z", 0.8)), 0, "sigmoid_squared", S * S, "σ²(z)"),
    ("sigmoid", lambda: node("sigmoid", ("z", 0.8)), 0, "input_instead_of_output",
     0.8 * (1 - 0.8), "z·(1 − z), with z where σ(z) belongs"),
    ("mul", lambda: node("mul", ("w", 1.7), ("x", -0.6)), 0, "same_operand", 1.7,
     "w, the operand itself instead of the other one, x"),
    ("mul", lambda: node("mul", ("w", 1.7), ("x", -0.6)), 1, "same_operand", -0.6,
     "x, the operand itself instead of the other one, w"),
    ("mul", lambda: node("mul", ("w", 1.7), ("x", -0.6)), 0, "product_itself", 1.7 * -0.6,
     "the product w · x itself"),
    ("div", lambda: node("div", ("u", 1.5), ("v", 0.4)), 0, "divisor_not_inverted", 0.4,
     "v, the divisor itself instead of 1/v"),
    ("div", lambda: node("div", ("u", 1.5), ("v", 0.4)), 1, "divisor_not_squared", -1.5 / 0.4,
     "−u/v, with v where v² belongs"),
    ("div", lambda: node("div", ("u", 1.5), ("v", 0.4)), 1, "quotient_itself", 1.5 / 0.4,
     "the quotient u/v itself"),
    ("pow", lambda: power(1.3, 2.5), 0, "exponent_not_lowered", 2.5 * 1.3 ** 2.5,
     "p·z^p: you forgot to lower the exponent"),
    ("pow", lambda: power(1.3, 2.5), 0, "forgot_exponent_factor", 1.3 ** 1.5,
     "z^(p − 1): you forgot the exponent's factor p"),
    ("pow", lambda: power(1.3, 2.5), 1, "power_rule_for_exponent", 2.5 * 1.3 ** 1.5,
     "p·z^(p − 1), the power rule, which is for the base"),
    ("pow", lambda: power(1.3, 2.5), 1, "forgot_log", 1.3 ** 2.5,
     "z^p: you forgot the factor ln z"),
    ("pow_scalar", lambda: power(1.3, 3), 0, "exponent_not_lowered", 3 * 1.3 ** 3,
     "3·z^3: you forgot to lower the exponent"),
    ("pow_scalar", lambda: power(1.3, 3), 0, "forgot_exponent_factor", 1.3 ** 2,
     "z^(3 − 1): you forgot the exponent's factor 3"),
    ("exp", lambda: node("exp", ("z", 0.9)), 0, "power_rule", 0.9 * math.exp(-0.1),
     "z·exp(z − 1), the power rule"),
    ("exp", lambda: node("exp", ("z", 0.9)), 0, "times_input", 0.9 * math.exp(0.9),
     "z·exp(z): exp(z) is its own derivative"),
    ("log", lambda: node("log", ("z", 2.5)), 0, "log_itself", math.log(2.5), "ln z itself"),
    ("log", lambda: node("log", ("z", 2.5)), 0, "input_itself", 2.5, "z itself instead of 1/z"),
    ("log", lambda: node("log", ("z", 2.5)), 0, "one_over_log", 1 / math.log(2.5),
     "1/ln z, with ln z where z belongs"),
    ("sqrt", lambda: node("sqrt", ("z", 2.0)), 0, "sqrt_itself", math.sqrt(2.0), "√z itself"),
    ("sqrt", lambda: node("sqrt", ("z", 2.0)), 0, "forgot_the_half", 1 / math.sqrt(2.0),
     "1/√z: you forgot the 2 of 1/(2√z)"),
    ("relu", lambda: node("relu", ("z", 1.4)), 0, "relu_itself", 1.4, "max(0, z) itself"),
    ("relu", lambda: node("relu", ("z", -0.7)), 0, "slope_where_flat", 1.0,
     "1, but z ≤ 0, where max(0, z) is flat"),
    ("softplus", lambda: node("softplus", ("z", 0.6)), 0, "softplus_itself",
     math.log(1 + math.exp(0.6)), "ln(1 + exp(z)) itself"),
    ("softplus", lambda: node("softplus", ("z", 0.6)), 0, "one_minus_sigmoid", 1 - sigmoid(0.6),
     "1 − σ(z), which is σ(−z)"),
    ("softplus", lambda: node("softplus", ("z", 0.6)), 0, "exp_alone", math.exp(0.6),
     "exp(z), without dividing by 1 + exp(z)"),
    ("squared_error", lambda: node("squared_error", ("s", 0.9), ("y", 0.3)), 0, "forgot_the_2",
     0.9 - 0.3, "s − y: you forgot the 2 of 2·(s − y)"),
    ("squared_error", lambda: node("squared_error", ("s", 0.9), ("y", 0.3)), 1, "forgot_the_2",
     -(0.9 - 0.3), "−(s − y): you forgot the 2 of −2·(s − y)"),
    ("squared_error", lambda: node("squared_error", ("s", 0.9), ("y", 0.3)), 0, "cost_itself",
     (0.9 - 0.3) ** 2, "the cost (s − y)² itself"),
    ("binary_cross_entropy", lambda: node("binary_cross_entropy", ("s", 0.4), ("y", 1.0)), 0,
     "sigmoid_alone", sigmoid(0.4), "σ(s) instead of σ(s) − y: you forgot the − y"),
    # with y = 1 this is also the right number negated: the named mistake comes first
    ("binary_cross_entropy", lambda: node("binary_cross_entropy", ("s", 0.4), ("y", 1.0)), 0,
     "one_minus_sigmoid", 1 - sigmoid(0.4), "1 − σ(s) instead of σ(s) − y"),
    ("binary_cross_entropy", lambda: node("binary_cross_entropy", ("s", 0.4), ("y", 1.0)), 0,
     "mean_squared_error", 2 * (sigmoid(0.4) - 1), "the squared error's rule"),
    ("binary_cross_entropy", lambda: node("binary_cross_entropy", ("s", 0.4), ("y", 1.0)), 0,
     "cost_itself", math.log(1 + math.exp(0.4)) - 0.4, "the cost ln(1 + exp(s)) − y·s itself"),
    ("hinge", lambda: node("hinge", ("s", 1.5), ("y", 1.0)), 0, "slope_where_flat", -1.0,
     "−y, but y·s ≥ 1, where max(0, 1 − y·s) is flat"),
    ("hinge", lambda: node("hinge", ("s", 1.5), ("y", 1.0)), 1, "slope_where_flat", -1.5,
     "−s, but y·s ≥ 1"),
    ("hinge", lambda: node("hinge", ("s", 0.3), ("y", 1.0)), 0, "cost_itself", 1 - 0.3,
     "the cost max(0, 1 − y·s) itself"),
]


def ids(case):
    return f"{case[0]}-{case[3]}-{case[2]}"


def test_every_named_mistake_of_every_op_is_tested_here():
    named = {(op.name, mistake.name) for op in OPS.values() for mistake in op.mistakes}
    assert named == {(case[0], case[3]) for case in CASES}


def test_the_classic_mistakes_of_the_issue_are_in_the_table():
    names = {op.name: {m.name for m in op.mistakes} for op in OPS.values()}
    assert {"tanh_itself", "one_minus_input_squared", "tanh_squared"} <= names["tanh"]
    assert {"sigmoid_itself", "one_minus_sigmoid", "sigmoid_squared"} <= names["sigmoid"]
    assert "same_operand" in names["mul"]
    for op in ("pow", "pow_scalar"):
        assert {"exponent_not_lowered", "forgot_exponent_factor"} <= names[op]
    assert "sigmoid_alone" in names["binary_cross_entropy"]
    assert "forgot_the_2" in names["squared_error"]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_rule_gives_what_the_learner_types(case):
    op, make, index, mistake, typed, _ = case
    out = make()
    rules = [m.rule for m in OPS[op].mistakes if m.name == mistake]
    values = [rule(*[p.data for p in out.parents], out.data)[index] for rule in rules]
    assert any(v is not None and math.isclose(v, typed, rel_tol=1e-12) for v in values)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_diagnosis_names_the_mistake_in_the_learners_names(case):
    op, make, index, mistake, typed, words = case
    out = make()
    answer = local_answer(out, index, name)
    assert out.op == op
    for attempt in (1, 2, 3):
        diagnosis = answer.diagnose(typed, attempt)
        assert diagnosis.mistake == mistake and not diagnosis
        assert words in diagnosis.message
    # typed as 4 significant digits, the way a learner types it
    assert answer.diagnose(float(f"{typed:.4g}")).mistake == mistake


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_no_message_contains_the_answer(case):
    _, make, index, _, _, _ = case
    answer = local_answer(make(), index, name)
    assert_nothing_given_away(answer)


def mentions(text, number):
    """number or its negative, at 3 or 4 significant digits, as a whole token of text."""
    forms = {format(abs(number), f".{digits}g") for digits in (3, 4)}
    return any(re.search(rf"(?<![0-9.]){re.escape(form)}(?![0-9])", text) for form in forms)


def assert_nothing_given_away(answer):
    data = answer.to_json()
    expected = data["expected"]
    messages = [data["correct"], *data["hints"]] + \
        [m for wrong in data["wrong"] for m in wrong["messages"]]
    assert all(messages)
    if float(expected).is_integer():  # 0 or 1: a formula's own constants are no answer
        return
    for message in messages:
        assert not mentions(message, expected), (message, expected)
    assert mentions(data["reveal"], expected)


def test_the_messages_grow_with_each_try():
    out = node("tanh", ("z", 0.37))
    answer = local_answer(out, 0, name)
    first, second, third = (answer.diagnose(math.tanh(0.37), attempt) for attempt in (1, 2, 3))
    assert first.message == "That is tanh(z) itself, not da/dz."
    assert second.message == first.message + " The rule: da/dz = 1 − tanh²(z)."
    assert third.message == second.message + " With the values: da/dz = 1 − tanh²(0.37)."
    assert answer.diagnose(math.tanh(0.37), 7).message == third.message
    hints = [answer.diagnose(5.0, attempt).message for attempt in (1, 2, 3)]
    assert hints[0] == "Not da/dz yet. Differentiate a = tanh(z) with respect to z."
    assert "1 − tanh²(z)" in hints[1] and "0.37" not in hints[1]
    assert "1 − tanh²(0.37)" in hints[2]
    assert answer.reveal == f"da/dz = 1 − tanh²(z) = 1 − tanh²(0.37) = " \
        f"{1 - math.tanh(0.37) ** 2:.4g}"


def test_the_prompt_shows_the_operands_values_not_the_derivatives():
    out = node("tanh", ("z", 0.37))
    answer = local_answer(out, 0, name)
    assert answer.prompt == f"da/dz = ?   where a = tanh(z), with z = 0.37, " \
        f"a = {math.tanh(0.37):.4g}"
    assert not mentions(answer.prompt, 1 - math.tanh(0.37) ** 2)
    # exp is its own derivative: its value is left out of the prompt
    out = node("exp", ("z", 0.9))
    assert local_answer(out, 0, name).prompt == "da/dz = ?   where a = exp(z), with z = 0.9"


def test_a_value_with_a_different_sign_is_the_sign_mistake():
    out = node("sigmoid", ("z", 0.8))
    answer = local_answer(out, 0, name)
    assert answer.diagnose(-S * (1 - S)).mistake == "sign"
    assert answer.diagnose(S * (1 - S)).mistake == "correct"


def test_the_derivative_with_respect_to_the_other_operand_is_named():
    out = node("div", ("u", 1.5), ("v", 0.4))
    diagnosis = local_answer(out, 1, name).diagnose(1 / 0.4)  # d(u/v)/du, asked d(u/v)/dv
    assert diagnosis.mistake == "other_operand"
    assert "That is da/du, the derivative with respect to u" in diagnosis.message


def test_a_mistake_that_does_not_apply_there_is_not_offered():
    out = node("relu", ("z", 1.4))  # the slope 1 is right where z > 0
    answer = local_answer(out, 0, name)
    assert "slope_where_flat" not in {w.mistake for w in answer.wrong}
    assert answer.diagnose(1.0).mistake == "correct"


def test_a_rule_undefined_at_the_point_is_left_out(monkeypatch):
    broken = Mistake("broken", "1/0", lambda x, out: (1.0 / 0.0,))
    complex_power = Mistake("complex", "(−1)^½", lambda x, out: ((-1.0) ** 0.5,))
    monkeypatch.setattr(OPS["tanh"], "mistakes",
                        (broken, complex_power) + OPS["tanh"].mistakes)
    answer = local_answer(node("tanh", ("z", 0.37)), 0, name)
    assert [w.mistake for w in answer.wrong][:3] == ["tanh_itself", "one_minus_input_squared",
                                                     "tanh_squared"]


def test_an_op_without_mistakes_still_gets_sign_and_hints():
    out = node("add", ("u", 0.25), ("v", 2.0))
    answer = local_answer(out, 0, name)
    assert answer.diagnose(-1.0).mistake == "sign"
    assert answer.diagnose(3.0).mistake == "other"
    assert all("= 1" not in hint for hint in answer.hints)  # the formula is the answer
    assert answer.reveal == "da/du = 1"
    assert answer.constant and answer.to_json()["constant"] is True  # shown, not asked


def test_a_local_derivative_with_a_formula_is_not_constant():
    answer = local_answer(node("mul", ("w", 1.7), ("x", -0.6)), 0, name)
    assert not answer.constant and answer.formula == "x"
