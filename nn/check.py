"""Checking a learner's numbers against the chain rule.

One place decides whether a number a learner typed is right and, if it is
not, which of the usual mistakes it looks like. Two kinds of question:

the local derivative d(consumer)/d(node) (``local_answer``), e.g.
d(a_2)^3/d(z_2)^3 where (a_2)^3 = tanh((z_2)^3); a wrong number is matched
against the op table's named mistakes (tanh((z_2)^3) itself, 1 − ((z_2)^3)²,
tanh², ...: ``Op.mistakes``), the derivative with respect to another
operand, and the sign;

the gradient dC/dn = Σ upstream · local, one term per path into n
(``gradient_answer``):

    the local derivative alone     -> forgot the upstream gradient
    the upstream gradient alone    -> forgot the local derivative
    the right number negated       -> right magnitude, wrong sign
    one term of several            -> counted only one path

Nothing is given away before its time: no diagnosis or hint contains the
expected number. A named mistake's message grows with each wrong try (the
mistake → + the formula in the operands' names → + the formula with their
values); any other wrong number gets the hints in turn (what to do → the
formula with the names → with the values); ``Answer.reveal`` says the number,
for a Reveal button or after ``attempts`` wrong tries (3).

"Right" means within 3 significant digits or a relative 1e-3. ``read_number``
reads what a learner typed ('−0.5', '1e-3', '1/2').

``check_derivation`` checks a hand derivation (the factors along a path, at
the learner's granularity, the final number, or both); ``chainrule quiz``
asks in the terminal; the step-through player gets each question's numbers
and messages precomputed here (``Answer.to_json``), so its script only
compares numbers.
"""

import math
import re
from typing import NamedTuple

from engine import OPS, grad, local_derivatives, notation, topological_order
from engine.kinds import is_real
from nn.explain import Factor, count_text, derivative_name, explain, local_formula, parenthesized

__all__ = ["check_derivation", "DerivationReport", "GivenFactor", "Answer", "Diagnosis",
           "WrongAnswer", "Term", "gradient_answer", "gradient_line", "local_answer",
           "run_answer", "param_answer", "term", "tolerance", "close", "gradient_name",
           "read_number", "NUMBER_PATTERN", "TYPING_HINTS", "ATTEMPTS",
           "forward_answer", "forward_line", "forward_parts"]

SIGNIFICANT_DIGITS = 3
RELATIVE = 1e-3
DIGITS = 4     # significant digits of the numbers in messages
ATTEMPTS = 3   # wrong tries before the answer is revealed


def tolerance(expected):
    """How far a typed number may be from ``expected``: 3 significant digits or relative 1e-3."""
    if expected == 0.0 or not math.isfinite(expected):
        return 1e-12
    exponent = math.floor(math.log10(abs(expected)))
    half_a_unit = 0.5 * 10.0 ** (exponent - SIGNIFICANT_DIGITS + 1)
    # The factor lets a number typed exactly on the boundary pass despite rounding.
    return max(half_a_unit, RELATIVE * abs(expected)) * (1 + 1e-9)


def close(typed, expected):
    """Is typed right for expected (3 significant digits or relative 1e-3)?"""
    return abs(typed - expected) <= tolerance(expected)


def _number(x):
    """A number in a message, to 4 significant digits."""
    return format(x, f".{DIGITS}g") if x != 0 else "0"


def _n(x):
    """A number inside a product: '(-0.5)' in parentheses when negative."""
    text = _number(x)
    return f"({text})" if text.startswith("-") else text


# -- reading a typed number -----------------------------------------------------

_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# The whole of what is typed, once spaces are gone and − is '-': a decimal, or
# a decimal '/' a decimal. The same text is a JavaScript regular expression
# (new RegExp("^(?:" + NUMBER_PATTERN + ")$")), for the page to mirror.
NUMBER_PATTERN = rf"({_DECIMAL})(?:/({_DECIMAL}))?"
_TYPED = re.compile(NUMBER_PATTERN)
_WHITESPACE = re.compile(r"\s+")

# Why a typed text is not a number, in words without a digit (so no hint is
# ever an answer); the page shows the same words.
TYPING_HINTS = {
    "empty": "type a number",
    "comma": "use a point as the decimal separator, not a comma",
    "commas": "write it without commas",
    "fraction_bars": "use at most one fraction bar /",
    "zero_denominator": "a fraction cannot divide by zero",
    "not_finite": "type a finite number",
    "other": "use digits, an optional minus sign, a decimal point, an exponent written "
             "with e, or one fraction bar /",
}


def read_number(text):
    r"""The number a learner typed, as a float: '−0.5', '-0.5', '1e-3', '1/2', ' -3 / 4'.

    The rules (the page's script follows the same ones, step by step):

    1. Every whitespace character is removed (spaces, tabs, no-break spaces).
    2. The Unicode minus sign − (U+2212) becomes '-'.
    3. What is left is a decimal, or a fraction: two decimals with one '/'
       between them. A decimal is an optional sign (+ or -), then digits with
       an optional point and more digits, or a point and digits, then an
       optional exponent (e or E, an optional sign, digits). As a regular
       expression for each side: ``[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?``;
       for the whole, ``NUMBER_PATTERN`` (valid in JavaScript too).
    4. A fraction's denominator is not zero, and the result is finite.

    Anything else raises ValueError: "'0,5' is not a number: use a point as
    the decimal separator, not a comma". The hint after the colon is one of
    ``TYPING_HINTS``, chosen in this order: nothing left -> "empty"; a comma,
    and the text reads as a number with points for commas -> "comma", else
    "commas"; more than one '/' -> "fraction_bars"; inf, infinity or nan (any
    case, any sign) -> "not_finite"; anything else -> "other". A zero
    denominator is "zero_denominator", a result too large "not_finite". No
    hint contains a digit, so none can be taken for an answer. Nothing is
    evaluated.
    """
    shown = str(text).strip()
    compact = _WHITESPACE.sub("", str(text)).replace("\u2212", "-")
    match = _TYPED.fullmatch(compact)
    if match is None:
        raise ValueError(f"{shown!r} is not a number: {_typing_hint(compact)}")
    numerator, denominator = match.groups()
    value = float(numerator)
    if denominator is not None:
        if float(denominator) == 0.0:
            raise ValueError(f"{shown!r} is not a number: {TYPING_HINTS['zero_denominator']}")
        value = value / float(denominator)
    if not math.isfinite(value):
        raise ValueError(f"{shown!r} is not a number: {TYPING_HINTS['not_finite']}")
    return value


def _typing_hint(compact):
    """Why a typed text is not a number: one of TYPING_HINTS."""
    if not compact:
        return TYPING_HINTS["empty"]
    if "," in compact:
        if _TYPED.fullmatch(compact.replace(",", ".")):
            return TYPING_HINTS["comma"]
        return TYPING_HINTS["commas"]
    if compact.count("/") > 1:
        return TYPING_HINTS["fraction_bars"]
    if compact.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return TYPING_HINTS["not_finite"]
    return TYPING_HINTS["other"]


def _mentions(text, number):
    """Does text show number or its negative (to 3, 4 or 6 significant digits, or exactly)?

    A whole token only: 0.5 is not in 10.5 or 0.55.
    """
    if not math.isfinite(number):
        return False
    magnitude = abs(number)
    forms = {format(magnitude, f".{d}g") for d in (3, 4, 6)} | {repr(magnitude)}
    return any(re.search(rf"(?<![0-9.]){re.escape(form)}(?![0-9])", text) for form in forms)


def _at(items, attempt):
    """items[attempt − 1], the last one after that (attempts count from 1)."""
    return items[max(0, min(int(attempt), len(items)) - 1)]


def _growing(levels, expected):
    """Messages that grow by level, each level dropped if it would show ``expected``.

    levels -- the texts to add at each level ('' adds nothing); the message at
    level k is the first k texts joined. The first, the mistake in words, is
    always said; a later text that shows the expected number (a formula that
    is just the answer, such as 1 for x + y, or values that are) is left out,
    and the previous message is repeated instead.
    """
    messages, shown = [], []
    for level, text in enumerate(levels):
        if text and (level == 0 or not _mentions(text, expected)):
            shown.append(text)
        messages.append(" ".join(shown))
    return tuple(messages)


def gradient_name(out_name, node_name):
    """'dC/d(z_2)^3' from the names 'C' and '(z_2)^3'."""
    return derivative_name(out_name, node_name)


class Term(NamedTuple):
    """One term of a node's gradient: what one consumer sends to it.

    The gradient of node n is the sum, over its consumers c, of
    upstream · local = dC/dc · dc/dn.
    """
    upstream: float       # dC/dc, the consumer's gradient
    local: float          # dc/dn, from the op table
    contribution: float   # upstream · local, as backward computes it
    upstream_name: str    # 'dC/d(a_2)^3'
    local_name: str       # 'd(a_2)^3/d(z_2)^3'
    formula: str          # '1 − tanh²((z_2)^3)': the local derivative in the operands' names


def term(child, index, upstream, local, name, output):
    """The Term child sends to its operand number ``index``.

    name(node) gives a node's name (``Explanation.name``); output is the root.
    """
    parent = child.parents[index]
    formula = local_formula(child, index, name)
    return Term(float(upstream), float(local), float(upstream) * float(local),
                gradient_name(name(output), name(child)),
                gradient_name(name(child), name(parent)), formula)


class Diagnosis(NamedTuple):
    """What a typed number is: 'correct', or the mistake it looks like, in words."""
    mistake: str   # 'correct', 'tanh_itself', 'forgot_upstream', 'sign', 'other', ...
    message: str

    def __bool__(self):
        return self.mistake == "correct"


class WrongAnswer(NamedTuple):
    """A usual wrong number: its mistake, its value, and what to say at each try."""
    mistake: str      # a Mistake's name from the op table, or 'sign', 'forgot_upstream', ...
    value: float
    messages: tuple   # the message at the 1st, 2nd, 3rd wrong try (the last repeats)

    @property
    def message(self):
        """The message at the first try."""
        return self.messages[0]


class Answer:
    """The right value of one number a learner is asked for, and the usual wrong ones.

    goal     -- what is asked, 'dC/d(z_2)^3' or 'd(a_2)^3/d(z_2)^3'
    formula  -- for a local derivative, the op table's formula in the operands'
                names, '1 − tanh²((z_2)^3)'; constant -- True where it is a
                number (1 and −1 of x + y, x − y): nothing to work out
    prompt   -- the question as shown: 'd(a_2)^3/d(z_2)^3 = ?   where (a_2)^3 = ...'
    values   -- [(name, value)] of the numbers the prompt offers (the operands')
    expected -- the right value (shown only by ``reveal``)
    wrong    -- WrongAnswers (mistake, value, messages), tried in order
    hints    -- what to say to any other wrong number, one per try, growing
    reveal   -- the answer with its working, for Reveal or after ``attempts`` tries
    correct  -- what to say to a right number
    No message but ``reveal`` contains the expected number.
    """

    def __init__(self, goal, expected, wrong, hints, reveal, prompt=None, correct=None,
                 attempts=ATTEMPTS, values=()):
        self.goal = goal
        self.expected = float(expected)
        self.tolerance = tolerance(self.expected)
        self.wrong = []
        for mistake, value, messages in wrong:
            value = float(value)
            # A "mistake" that gives the right number is no mistake, and the
            # first mistake that gives a number is the one that number gets.
            if (math.isfinite(value) and not close(value, self.expected)
                    and not any(close(value, w.value) for w in self.wrong)):
                messages = (messages,) if isinstance(messages, str) else tuple(messages)
                self.wrong.append(WrongAnswer(mistake, value, messages))
        self.hints = list(hints)
        self.reveal = reveal
        self.prompt = prompt or f"{goal} = ?"
        self.correct = correct or f"Correct: that is {goal}."
        self.attempts = attempts
        self.values = list(values)
        self.formula = ""       # a local derivative's formula in the operands' names
        self.constant = False   # True where that formula is a number (the 1 of x + y)

    def diagnose(self, typed, attempt=1):
        """The Diagnosis of a typed number at wrong try number ``attempt`` (from 1)."""
        if close(typed, self.expected):
            return Diagnosis("correct", self.correct)
        for wrong in self.wrong:
            if close(typed, wrong.value):
                return Diagnosis(wrong.mistake, _at(wrong.messages, attempt))
        return Diagnosis("other", _at(self.hints, attempt))

    @property
    def other(self):
        """The first hint: what any unrecognised wrong number gets at the first try."""
        return self.hints[0]

    def to_json(self):
        """The answer as the step-through page needs it: numbers and messages.

        {"goal", "prompt", "values": [{"name", "value"}], "expected", "tolerance",
         "correct", "wrong": [{"mistake", "value", "tolerance", "messages"}],
         "hints", "reveal", "attempts", "constant"}. The page compares the typed number
        with "expected" and then each "wrong" value (within its tolerance),
        and shows messages[try − 1] (or hints[try − 1]), the last repeating.
        """
        return {"goal": self.goal, "prompt": self.prompt,
                "values": [{"name": n, "value": v} for n, v in self.values],
                "expected": self.expected, "tolerance": self.tolerance,
                "correct": self.correct,
                "wrong": [{"mistake": w.mistake, "value": w.value,
                           "tolerance": tolerance(w.value), "messages": list(w.messages)}
                          for w in self.wrong],
                "hints": list(self.hints), "reveal": self.reveal, "attempts": self.attempts,
                "constant": self.constant}

    def __repr__(self):
        return f"<Answer {self.goal}: {len(self.wrong)} usual mistakes>"


# -- the local derivative of one edge ---------------------------------------------

def _is_constant(node):
    """A number written into the graph (the 2 of x ** 2): named by its value, not asked."""
    return not node.parents and not node.label


def local_answer(consumer, index, name, attempts=ATTEMPTS):
    """The Answer for d(consumer)/d(consumer.parents[index]), a local derivative.

    name(node) gives a node's name (``Explanation.name``). The prompt shows the
    op in the operands' names and their values, never the derivative's value:
    'd(a_2)^3/d(z_2)^3 = ?   where (a_2)^3 = tanh((z_2)^3), with (z_2)^3 = 0.4628'.
    Wrong numbers are matched against the op table's named mistakes, the
    derivative with respect to another operand, and the sign.
    """
    op = OPS[consumer.op]
    parents = consumer.parents
    parent = parents[index]
    names = [parenthesized(name(p)) for p in parents]
    out = consumer.data
    operands = [p.data for p in parents]
    goal = derivative_name(name(consumer), name(parent))
    locals_ = local_derivatives(consumer)
    expected = float(locals_[index])
    formula = op.show_local(index, names, out=parenthesized(name(consumer)))
    with_values = _with_values(op, index, operands, out)
    rule = f"The rule: {goal} = {formula}."
    numbers = f"With the values: {goal} = {with_values}." if with_values != formula else ""
    if _reads_as_number(with_values):  # the formula is an operand: its value is the answer
        numbers = ""

    values = []
    for p in dict.fromkeys(parents):  # each operand once (x · x)
        if not _is_constant(p):
            values.append((name(p), p.data))
    if not (close(out, expected) or close(-out, expected)):  # exp(x) is its own derivative
        values.append((name(consumer), out))
    defined = f"{name(consumer)} = {op.show(names)}"
    shown = ", ".join(f"{n} = {_number(v)}" for n, v in values)
    prompt = f"{goal} = ?   where {defined}" + (f", with {shown}" if shown else "")

    wrong = []
    for mistake in op.mistakes:
        value = _apply_rule(mistake.rule, operands, out, index)
        if value is None:
            continue
        said = op.show_mistake(mistake, names, out=parenthesized(name(consumer)))
        first = f"That is {said}, not {goal}." if said.endswith("itself") else f"That is {said}."
        wrong.append((mistake.name, value, _growing([first, rule, numbers], expected)))
    for j, other in enumerate(parents):
        if other is not parent and not _is_constant(other):
            other_goal = derivative_name(name(consumer), name(other))
            wrong.append(("other_operand", locals_[j], _growing(
                [f"That is {other_goal}, the derivative with respect to {name(other)}; "
                 f"{goal} is with respect to {name(parent)}.", rule, numbers], expected)))
    wrong.append(("sign", -expected, _growing(
        ["Right magnitude, wrong sign.", f"Check the sign of {formula}." if formula != "−1"
         else "", numbers], expected)))

    held = ", the other operands held fixed" if len(parents) > 1 else ""
    first = f"Not {goal} yet. Differentiate {defined} with respect to {name(parent)}{held}."
    hints = _growing([first, rule, numbers], expected)
    reveal = f"{goal} = {formula}" + (f" = {with_values}" if numbers else "") \
        + ("" if _reads_as_number(formula) else f" = {_number(expected)}")
    answer = Answer(goal, expected, wrong, hints, reveal, prompt=prompt,
                    correct=f"Correct: {goal} = {formula}.", attempts=attempts, values=values)
    answer.formula = formula
    answer.constant = _reads_as_number(formula)
    return answer


def _with_values(op, index, operands, out):
    """The local derivative's formula with the operands' values: '1 − tanh²(0.4628)'."""
    numbers = [_n(v) for v in operands]
    text = op.show_local(index, numbers, out=_n(out))
    for number in set(numbers):  # σ((-0.5)) reads σ(-0.5)
        text = text.replace(f"({number})", number) if number.startswith("(") else text
    return text


def _reads_as_number(text):
    try:
        read_number(text.strip("()"))
    except ValueError:
        return False
    return True


def _apply_rule(rule, operands, out, index):
    """A Mistake's number for operand ``index``, or None (no such mistake here, or undefined)."""
    try:
        value = rule(*operands, out)[index]
        return None if value is None else float(value)
    except (ArithmeticError, ValueError, TypeError):  # 0 ** −1, a complex power, ...
        return None


# -- the value of one node, in the forward pass ------------------------------------

def forward_parts(node, name):
    """('tanh((z_2)^3)', 'tanh(0.4628)'): the op table's formula of node with the
    operands' names, and with their values."""
    op = OPS[node.op]
    formula = op.show([parenthesized(name(p)) for p in node.parents])
    return formula, _forward_with_values(op, [p.data for p in node.parents])


def forward_line(node, name):
    """'(a_2)^3 = tanh((z_2)^3) = tanh(0.4628) = 0.4324': the op table's formula,
    with the operands' names, then their values, then the node's value."""
    formula, with_values = forward_parts(node, name)
    return f"{name(node)} = {formula} = {with_values} = {_number(node.data)}"


def _forward_with_values(op, operands):
    """The op's formula with the operands' values: 'tanh(0.46)', 'exp(-0.2)' (not 'exp((-0.2))')."""
    numbers = [_n(v) for v in operands]
    text = op.show(numbers)
    for number in set(numbers):
        text = text.replace(f"({number})", number) if number.startswith("(") else text
    return text


def forward_answer(node, name, attempts=ATTEMPTS):
    """The Answer for the value of ``node`` from its operands' values (the forward pass).

    name(node) gives a node's name (``Explanation.name``). The prompt shows the
    op in the operands' names and their values, never the node's value:
    '(a_2)^3 = ?   where (a_2)^3 = tanh((z_2)^3), with (z_2)^3 = 0.4628'.
    Wrong numbers are matched against the op table's forward mistakes (the
    bias forgotten, f applied twice or not at all) and the sign.
    """
    op = OPS[node.op]
    parents = node.parents
    names = [parenthesized(name(p)) for p in parents]
    operands = [p.data for p in parents]
    goal, expected = name(node), float(node.data)
    formula = op.show(names)
    with_values = _forward_with_values(op, operands)
    rule = f"The rule: {goal} = {formula}."
    numbers = f"With the values: {goal} = {with_values}."
    values = [(name(p), p.data) for p in dict.fromkeys(parents) if not _is_constant(p)]
    shown = ", ".join(f"{n} = {_number(v)}" for n, v in values)
    prompt = f"{goal} = ?   where {goal} = {formula}" + (f", with {shown}" if shown else "")
    wrong = []
    for mistake in op.forward_mistakes:
        try:
            value = mistake.rule(*operands, node.data)
        except (ArithmeticError, ValueError, TypeError):
            value = None
        if value is None:
            continue
        said = op.show_mistake(mistake, names, out=goal)
        wrong.append((mistake.name, value, _growing([f"That is {said}.", rule, numbers],
                                                    expected)))
    wrong.append(("sign", -expected, _growing(
        ["Right magnitude, wrong sign.", rule, numbers], expected)))
    hints = _growing([f"Not {goal} yet. Compute {formula} from the operands' values.",
                      rule, numbers], expected)
    reveal = f"{goal} = {formula} = {with_values} = {_number(expected)}"
    return Answer(goal, expected, wrong, hints, reveal, prompt=prompt,
                  correct=f"Correct: {goal} = {formula}.", attempts=attempts, values=values)


# -- the gradient of one node -------------------------------------------------------

def gradient_line(goal, expected, terms):
    """'dC/d(z_2)^3 = dC/d(a_2)^3 · (1 − tanh²((z_2)^3)) = (-0.08097) × 0.8131 = -0.06584'.

    expected=None asks instead: 'dC/d(z_2)^3 = dC/d(a_2)^3 · (1 − tanh²((z_2)^3)) = ?'.
    """
    if not terms:
        return f"{goal} = 1 (the seed: the output's gradient with respect to itself)"
    symbols = " + ".join(f"{t.upstream_name} · {parenthesized(t.formula)}" for t in terms)
    if expected is None:
        return f"{goal} = {symbols} = ?"
    return f"{goal} = {symbols} = {_products(terms)} = {_number(expected)}"


def _products(terms):
    return " + ".join(f"{_n(t.upstream)} × {_n(t.local)}" for t in terms)


def gradient_answer(goal, expected, terms, paths=(), attempts=ATTEMPTS):
    """The Answer for a gradient ``goal`` = Σ upstream · local over ``terms``.

    paths -- (description, product) for each path from the output, when the
    gradient sums several (check_derivation passes explain's paths).
    No message names a number the learner has not been asked yet: the
    upstream gradients and local derivatives come before this question.
    """
    if not terms:  # the seed
        return Answer(goal, expected, [("sign", -expected, "Right magnitude, wrong sign.")],
                      [f"Not {goal} yet. What is the gradient of the output with respect "
                       "to itself?"], gradient_line(goal, expected, terms),
                      attempts=attempts)
    names = gradient_line(goal, None, terms)
    numbers = f"With the numbers: {goal} = {_products(terms)} = ?"
    several = len(terms) > 1
    wrong = []
    for t in terms:
        wrong.append(("forgot_upstream", t.local, _growing(
            [f"That is {t.local_name} = {t.formula}, the local derivative alone: "
             f"you forgot the upstream gradient {t.upstream_name}. Multiply by it.",
             names, numbers], expected)))
    for t in terms:
        wrong.append(("forgot_local", t.upstream, _growing(
            [f"That is {t.upstream_name}, the upstream gradient alone: you forgot "
             f"the local derivative {t.local_name} = {t.formula}.", names, numbers],
            expected)))
    wrong.append(("sign", -expected, _growing(
        [f"Right magnitude, wrong sign: check the sign of each factor of {goal}.",
         names, numbers], expected)))
    shares = [(f"{t.upstream_name} · {t.local_name}", t.contribution) for t in terms]
    shares = (shares if len(shares) > 1 else []) + list(paths if len(paths) > 1 else [])
    for description, product in shares:
        wrong.append(("one_path", product, _growing(
            [f"That is one path's share ({description}): you counted only one "
             f"path. {goal} adds up every path into it.", names, numbers], expected)))
    first = (f"Not {goal} yet. Multiply the upstream gradient by the local derivative"
             + (", for each edge into it, and add the terms up." if several else "."))
    hints = _growing([first, f"The chain rule: {names}", numbers], expected)
    return Answer(goal, expected, wrong, hints, gradient_line(goal, expected, terms),
                  prompt=names, correct=f"Correct: that is {goal}.", attempts=attempts)


def _find(output, param):
    if isinstance(param, str):
        return notation.find(param, topological_order(output))
    return param


# -- a hand derivation's factors, at the learner's granularity ----------------------

class GivenFactor(NamedTuple):
    """One factor of a hand derivation, and the run of the path's factors it stands for.

    given     -- the number the learner gave
    factor    -- explain's Factor for it; when it spans several of the engine's
                 factors (the learner skipped a − y or w·x), one Factor for the
                 run: dC/da with the formulas multiplied, the product as value
    diagnosis -- its Diagnosis
    covers    -- the nodes it spans: 'C ← a − y ← a'
    run       -- explain's Factors it spans, in order (one, or several)
    """
    given: float
    factor: Factor
    diagnosis: Diagnosis
    covers: str
    run: tuple


_MATCHING_WORK = 500_000  # ways to try, at most, to match factors to runs (well under a second)


def _runs(values, given, labelled):
    """Split values (a path's factors) into one run of consecutive ones per given number.

    Returns (mismatches, [(start, stop), ...]) with the fewest given numbers
    that differ from the product of their run; among those, the most runs
    that end at a labelled node (labelled[j]: the node below factor j − 1),
    then longer runs first. None if there are more numbers than factors, or
    too many ways to try (_MATCHING_WORK).
    """
    m, k = len(values), len(given)
    if k == 0 or k > m:
        return None
    if k == m:  # one number per factor: nothing to choose
        return (sum(not close(g, v) for g, v in zip(given, values)),
                [(j, j + 1) for j in range(m)])
    if k * (m - k + 1) ** 2 > _MATCHING_WORK:
        return None
    # Dynamic programming from the end: best[(i, j)] = (score, stop) for
    # given[i:] on values[j:], where the run of given[i] is values[j:stop].
    best = {(k, m): ((0, 0), None)}
    for i in range(k - 1, -1, -1):
        for j in range(i, m - (k - i) + 1):
            found, product = None, 1.0
            for stop in range(j + 1, m - (k - i - 1) + 1):
                product *= values[stop - 1]
                rest = best.get((i + 1, stop))
                if rest is None:
                    continue
                miss = 0 if close(given[i], product) else 1
                score = (rest[0][0] + miss, rest[0][1] - (stop < m and labelled[stop]))
                if found is None or score <= found[0]:  # a tie goes to the longer run
                    found = (score, stop)
            if found is not None:
                best[(i, j)] = found
    if (0, 0) not in best:
        return None
    runs, j = [], 0
    for i in range(k):
        stop = best[(i, j)][1]
        runs.append((j, stop))
        j = stop
    return best[(0, 0)][0][0], runs


def _match(explanation, given):
    """(path, runs) of the listed path that takes the given factors best, or None."""
    found = None
    for path in explanation.paths:
        labelled = [bool(node.label) for node in path]
        runs = _runs([f.value for f in path.factors], given, labelled)
        if runs is not None and (found is None or runs[0] < found[0]):
            found = (runs[0], path, runs[1])
            if runs[0] == 0:
                break
    return None if found is None else found[1:]


def _run_factor(path, start, stop, name):
    """explain's Factor for path.factors[start:stop], merged into one when several."""
    run = path.factors[start:stop]
    if len(run) == 1:
        return run[0]
    top, bottom = path[start], path[stop]
    latex = (rf"\frac{{\partial {parenthesized(name(top, True))}}}"
             rf"{{\partial {parenthesized(name(bottom, True))}}}")
    return Factor(top, bottom, None, None, " · ".join(parenthesized(f.formula) for f in run),
                  math.prod(f.value for f in run), derivative_name(name(top), name(bottom)),
                  latex)


_LONG_RUN = 8


def run_answer(path, start, stop, name, output_name, position, others=()):
    """The Answer for the learner's factor number ``position`` (from 1), which stands
    for path.factors[start:stop]: the local derivative of one edge, or the product
    of a run of them.

    Its wrong numbers: each of the run's local mistakes (the op table's, times
    the rest of the run), the sign, the gradient so far (the upstream gradient
    multiplied in), the run without one of its factors, and ``others``
    ((words, value) of the other factors: given in the wrong order).
    """
    factor = _run_factor(path, start, stop, name)
    run = path.factors[start:stop]
    expected = factor.value
    label = f"factor {position}, {factor.text}"
    wrong = []
    # (a factor spanning more than _LONG_RUN edges gets only the mistakes of
    # the whole: checking each part's would take long and say little)
    for r, f in enumerate(run if len(run) <= _LONG_RUN else ()):
        rest = math.prod(g.value for q, g in enumerate(run) if q != r)
        local = local_answer(f.child, f.index, name)
        where = label if len(run) == 1 else f"{label}, in its part {f.text}"
        for mistake, value, messages in local.wrong:
            said = tuple(f"{where}: {m}" for m in messages)
            said = tuple(m if not _mentions(m, expected) else said[0] for m in said)
            wrong.append((mistake, value * rest, said))
    if 1 < len(run) <= _LONG_RUN:
        for r, f in enumerate(run):
            wrong.append(("missing_factor", math.prod(g.value for q, g in enumerate(run)
                                                      if q != r),
                          f"{label}: that leaves out {f.text} = {f.formula}. It spans "
                          f"{_covers(path, start, stop, name)}."))
    wrong.append(("sign", -expected, f"{label}: right magnitude, wrong sign."))
    if start > 0:
        gradient = gradient_name(output_name, name(path[stop]))
        wrong.append(("included_upstream", math.prod(f.value for f in path.factors[:stop]),
                      f"{label}: that is {gradient}, the gradient so far. A factor is the "
                      f"local derivative {factor.text} alone, without the upstream "
                      "gradient."))
    for words, value in others:
        wrong.append(("order", value, f"{label}: that is {words}. The factors go in the "
                      "article's order, from the output down."))
    if len(run) == 1:
        local = local_answer(run[0].child, run[0].index, name)
        hints = [f"{label}: {hint}" for hint in local.hints]
        reveal = f"{label}: {local.reveal}"
    else:
        product = " · ".join(f.text for f in run)
        hints = list(_growing(
            [f"{label}: not right yet. It spans {_covers(path, start, stop, name)}, so it "
             f"is the product {product}.", f"{factor.text} = {factor.formula}."], expected))
        reveal = f"{label} = {factor.formula} = {_number(expected)}"
    return Answer(factor.text, expected, wrong, hints, reveal,
                  correct=f"Correct: {label}.")


def _covers(path, start, stop, name):
    return " ← ".join(name(node) for node in path[start:stop + 1])


def _given_factors(explanation, given):
    """The GivenFactors of a hand derivation, or None when no listed path can take them."""
    match = _match(explanation, given)
    if match is None:
        return None
    path, runs = match
    name, out_name = explanation.name, explanation.name(explanation.output)
    products = [math.prod(f.value for f in path.factors[a:b]) for a, b in runs]
    found = []
    for position, ((start, stop), number) in enumerate(zip(runs, given), start=1):
        factor = _run_factor(path, start, stop, name)
        if close(number, factor.value):
            diagnosis = Diagnosis("correct", f"Correct: factor {position}, {factor.text}.")
        else:
            # given in the wrong order: the value of a factor near it
            others = [(f"factor {j}, {_run_factor(path, a, b, name).text}", products[j - 1])
                      for j, (a, b) in enumerate(runs, start=1)
                      if j != position and abs(j - position) <= _LONG_RUN]
            answer = run_answer(path, start, stop, name, out_name, position, others)
            diagnosis = answer.diagnose(number, attempt=2)
        found.append(GivenFactor(number, factor, diagnosis, _covers(path, start, stop, name),
                                 tuple(path.factors[start:stop])))
    return found


class DerivationReport:
    """What check_derivation found. Truthy when everything given is right.

    factors -- a GivenFactor (given, factor, diagnosis, covers, run) for each
               factor given, matched to a run of the path's factors
    product -- the Diagnosis of the factors' product (None without factors)
    value   -- the Diagnosis of the value given (None without one)
    problem -- why the factors could not be checked one by one, or ''
    """

    def __init__(self, explanation, value, factors):
        self.explanation = explanation
        self.goal = gradient_name(explanation.name(explanation.output),
                                  explanation.name(explanation.param))
        self.expected = explanation.autograd
        self.answer = param_answer(explanation, self.goal)
        self.factors, self.product, self.value, self.problem = [], None, None, ""
        path = explanation.paths[0] if explanation.paths else None
        if factors is not None:
            factors = [float(f) for f in factors]
            matched = _given_factors(explanation, factors) if path is not None else None
            if matched is None:
                self.problem = self._count_problem(path, factors)
            else:
                self.factors = matched
            self.product_given = math.prod(factors)
            self.product = self.answer.diagnose(self.product_given, attempt=2)
        if value is not None:
            self.value_given = float(value)
            self.value = self.answer.diagnose(self.value_given, attempt=2)

    def _count_problem(self, path, factors):
        if path is None:
            if self.explanation.count == 0:
                return (f"{self.goal} = 0: the output does not depend on it, so there "
                        "are no factors.")
            return (f"{count_text(self.explanation.count)} paths are too many (or too long) "
                    "to list; give the value instead of factors.")
        if not factors:
            return "You gave no factors."
        names = ", ".join(f.text for f in path.factors)
        route = " ← ".join(self.explanation.name(n) for n in path)
        if len(factors) < len(path.factors):
            return (f"Your {len(factors)} factors could be matched to the "
                    f"{len(path.factors)} of the path {route} in too many ways to try; "
                    f"give one factor per edge: {names}.")
        return (f"You gave {len(factors)} factors; the path {route} has "
                f"{len(path.factors)}: {names}. Each factor you give stands for one "
                "of them or for a product of consecutive ones.")

    @property
    def diagnoses(self):
        """Every Diagnosis in the report, factors first."""
        found = [f.diagnosis for f in self.factors]
        return found + [d for d in (self.product, self.value) if d is not None]

    def __bool__(self):
        return not self.problem and all(self.diagnoses)

    @property
    def wrong_factors(self):
        """The positions (from 1) of the wrong factors."""
        return [i for i, f in enumerate(self.factors, start=1) if not f.diagnosis]

    def __str__(self):
        e = self.explanation
        lines = [f"Checking {self.goal} = {_number(self.expected)} "
                 f"({count_text(e.count)} path{'' if e.count == 1 else 's'}"
                 + (", too many to list: checked against the gradient itself)"
                    if e.grouped else ")")]
        if self.problem:
            lines.append(f"  factors: {self.problem}")
        for index, f in enumerate(self.factors, start=1):
            mark = "right" if f.diagnosis else "WRONG"
            lines.append(f"  factor {index}, {f.factor.text}, covers {f.covers}: "
                         f"you {f.given:.6g}, {mark}")
            if not f.diagnosis:
                lines.append(f"      {f.diagnosis.message}")
                lines.append(f"      It is {f.factor.text} = {f.factor.formula} = "
                             f"{_number(f.factor.value)}.")
        if self.product is not None:
            lines.append(f"  product of your factors = {self.product_given:.6g}: "
                         f"{self.product.message}")
        if self.value is not None:
            lines.append(f"  your value {self.value_given:.6g}: {self.value.message}")
        if (self.product is not None and not self.product) or \
                (self.value is not None and not self.value):
            lines.append(f"  {self.answer.reveal}")
        lines.append("All right." if self else "Not right yet.")
        return "\n".join(lines)

    def __repr__(self):
        return f"<DerivationReport {self.goal}: {'right' if self else 'wrong'}>"

    def _repr_latex_(self):
        e = self.explanation
        goal = (rf"\frac{{\partial {parenthesized(e.name(e.output, True))}}}"
                rf"{{\partial {parenthesized(e.name(e.param, True))}}}")
        rows = [rf"\text{{factor {index}: }} {f.factor.latex} &= {f.given:.6g} \quad "
                + _latex_verdict(f.diagnosis, f.factor.value)
                for index, f in enumerate(self.factors, start=1)]
        if self.product is not None:
            rows.append(rf"\text{{your product: }} {goal} &= {self.product_given:.6g} \quad "
                        + _latex_verdict(self.product, self.expected))
        if self.value is not None:
            rows.append(rf"\text{{your value: }} {goal} &= {self.value_given:.6g} \quad "
                        + _latex_verdict(self.value, self.expected))
        if self.problem:
            rows.append(r"&\text{" + notation.latex_escape(self.problem) + "}")
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


# The mistakes in a few words, for the LaTeX report (the text says more).
MISTAKES = {"forgot_upstream": "forgot the upstream gradient",
            "forgot_local": "forgot the local derivative",
            "sign": "wrong sign",
            "one_path": "counted only one path",
            "included_upstream": "included the upstream gradient",
            "order": "the value of another factor",
            "missing_factor": "left out a factor",
            "other_operand": "the derivative with respect to another operand",
            "other": "wrong"}


def _latex_verdict(diagnosis, expected):
    if diagnosis:
        return r"\checkmark"
    words = MISTAKES.get(diagnosis.mistake, diagnosis.mistake.replace("_", " "))
    return (rf"\text{{✗ {notation.latex_escape(words)}; it should be }} "
            rf"{_number(expected)}")


def param_answer(explanation, goal=None):
    """The Answer for d output/d param of an explanation (nn.explain).

    Its terms are what the param's consumers send it; its paths, explain's.
    """
    e = explanation
    goal = goal or gradient_name(e.name(e.output), e.name(e.param))
    if e.grouped:  # too many paths to list: the gradient itself, term by term
        return _answer_past_the_path_limit(e, goal)
    last = {}  # (consumer, operand index) -> explain's last Factor on a path through it
    for path in e.paths:
        if path.factors:
            factor = path.factors[-1]
            last.setdefault((factor.child, factor.index), factor)
    consumers = list({child for child, _ in last})
    upstream = dict(zip(consumers, grad(e.output, consumers))) if consumers else {}
    terms = [term(child, index, upstream[child], factor.value, e.name, e.output)
             for (child, index), factor in last.items()]
    paths = [(f"path {number}, {' ← '.join(e.name(n) for n in path)}", path.product)
             for number, path in enumerate(e.paths, start=1)]
    return gradient_answer(goal, e.autograd, terms, paths)


def _answer_past_the_path_limit(e, goal):
    """The Answer for d output/d param when explain could not list the paths.

    Its terms are what each consumer c of param sends it, d output/dc ·
    dc/d param, as backward() computes them: the gradient itself, with no
    path-by-path mistakes (there are too many paths to name).
    """
    slots = [(child, index) for child in e.nodes
             for index, parent in enumerate(child.parents) if parent is e.param]
    consumers = list(dict.fromkeys(child for child, _ in slots))
    upstream = dict(zip(consumers, grad(e.output, consumers))) if consumers else {}
    terms = [term(child, index, upstream[child], local_derivatives(child)[index], e.name,
                  e.output) for child, index in slots]
    answer = gradient_answer(goal, e.autograd, terms)
    note = (f" (There are {count_text(e.count)} paths, too many to list, so this is the "
            f"gradient itself: what each node computed from {e.name(e.param)} sends it, as "
            "backward() computes it.)")
    answer.hints = [hint + note for hint in answer.hints]
    return answer


def _checked_value(value):
    """value as a finite float, or a ValueError/TypeError that says what is wrong."""
    if value is None:
        return None
    if not is_real(value):
        raise TypeError(f"check_derivation: value must be a number, got "
                        f"{type(value).__name__}: {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"check_derivation: value={_shown(value)} is too large for a "
                         f"float (at most about 1.8e308)") from None
    if not math.isfinite(number):
        raise ValueError(f"check_derivation: value must be finite, got {number!r}")
    return number


def _checked_factors(factors):
    """factors as a list of finite floats, or an error naming the first bad one."""
    if factors is None:
        return None
    if isinstance(factors, (str, bytes)) or is_real(factors) or isinstance(factors, bool) \
            or not hasattr(factors, "__iter__"):
        raise TypeError(f"check_derivation: factors must be a list of numbers, one per "
                        f"local derivative on the path, got {type(factors).__name__}: "
                        f"{_shown(factors)}")
    checked = []
    for position, factor in enumerate(factors, start=1):
        try:
            checked.append(_checked_value(factor))
        except (TypeError, ValueError) as error:
            raise type(error)(str(error).replace("value", f"factor {position}", 1)) from None
        if factor is None:
            raise TypeError(f"check_derivation: factor {position} must be a number, "
                            f"got None")
    return checked


def _shown(x):
    """repr(x), at most 60 characters; a huge int by its number of digits."""
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 200:
        return f"an int of about {count_text(x.bit_length() * 30103 // 100000 + 1)} digits"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def check_derivation(output, param, value=None, factors=None):
    """Check a hand derivation of d output/d param; returns a DerivationReport.

    param   -- a Value in output's graph, or its name ('w2_22' or '(w_22)^2')
    value   -- your final number
    factors -- your factors along the path, in the article's order, e.g. for
               dC/d(w_22)^2: dC/ds, ds/d(a_2)^3, d(a_2)^3/d(z_2)^3, d(z_2)^3/d(w_22)^2.
               At your granularity: a factor may stand for the product of
               consecutive factors of the engine's path (dC/da for
               dC/d(a − y) · d(a − y)/da); the report says which nodes it spans.

    The report is truthy when everything given is right, prints as text,
    shows as LaTeX in Jupyter, and names each wrong factor by its position
    and in the article's notation, with the mistake it looks like.
    """
    if value is None and factors is None:
        raise ValueError("check_derivation: give value=, factors= or both")
    value, factors = _checked_value(value), _checked_factors(factors)
    param = _find(output, param)
    return DerivationReport(explain(output, param), value, factors)
