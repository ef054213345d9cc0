"""Checking a learner's numbers against the chain rule.

One place decides whether a number a learner typed is right and, if it is
not, which of the usual mistakes it looks like. For a gradient
dC/dn = Σ upstream · local (one term per path into n):

    the local derivative alone     -> forgot the upstream gradient
    the upstream gradient alone    -> forgot the local derivative
    the right number negated       -> right magnitude, wrong sign
    one term of several            -> counted only one path
    anything else                  -> the product that was expected

"Right" means within 3 significant digits or a relative 1e-3.

``check_derivation`` checks a hand derivation (the factors along the
article's path, the final number, or both); ``chainrule quiz`` asks for the
factors in the terminal; the step-through page (viz.step_through) gets each
question's wrong answers precomputed here (``Answer.to_json``), so its
script only compares numbers.
"""

import math
from typing import NamedTuple

from engine import grad, local_derivatives, notation, topological_order
from engine.kinds import is_real
from nn.explain import count_text, derivative_name, explain, local_formula, parenthesized

__all__ = ["check_derivation", "DerivationReport", "Answer", "Diagnosis", "Term",
           "gradient_answer", "gradient_line", "factor_answer", "param_answer", "term",
           "tolerance", "close", "gradient_name"]

SIGNIFICANT_DIGITS = 3
RELATIVE = 1e-3
DIGITS = 4  # significant digits of the numbers in messages


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
    mistake: str   # 'correct', 'forgot_upstream', 'forgot_local', 'sign', 'one_path', ...
    message: str

    def __bool__(self):
        return self.mistake == "correct"


class Answer:
    """The right value of one number a learner is asked for, and the usual wrong ones.

    goal     -- what is asked, 'dC/d(z_2)^3'
    expected -- the right value
    wrong    -- (mistake, value, message) for each usual mistake, tried in order
    other    -- the message for any other wrong number
    """

    def __init__(self, goal, expected, wrong, other):
        self.goal = goal
        self.expected = float(expected)
        self.tolerance = tolerance(self.expected)
        # A "mistake" that gives the right number is no mistake.
        self.wrong = [(m, v, text) for m, v, text in wrong
                      if math.isfinite(v) and not close(v, self.expected)]
        self.other = other

    def diagnose(self, typed):
        """The Diagnosis of a typed number."""
        if close(typed, self.expected):
            return Diagnosis("correct", f"Correct: {self.goal} = {_number(self.expected)}.")
        for mistake, value, message in self.wrong:
            if close(typed, value):
                return Diagnosis(mistake, message)
        return Diagnosis("other", self.other)

    def to_json(self):
        """The answer as the step-through page needs it: numbers and messages."""
        return {"goal": self.goal, "expected": self.expected, "tolerance": self.tolerance,
                "correct": self.diagnose(self.expected).message,
                "wrong": [{"mistake": m, "value": v, "tolerance": tolerance(v), "message": t}
                          for m, v, t in self.wrong],
                "other": self.other}


def gradient_line(goal, expected, terms):
    """'dC/d(z_2)^3 = dC/d(a_2)^3 · (1 − tanh²((z_2)^3)) = (-0.08097) × 0.8131 = -0.06584'.

    expected=None asks instead: 'dC/d(z_2)^3 = dC/d(a_2)^3 · (1 − tanh²((z_2)^3)) = ?'.
    """
    if not terms:
        return f"{goal} = 1 (the seed: the output's gradient with respect to itself)"
    symbols = " + ".join(f"{t.upstream_name} · {parenthesized(t.formula)}" for t in terms)
    if expected is None:
        return f"{goal} = {symbols} = ?"
    numbers = " + ".join(f"{_n(t.upstream)} × {_n(t.local)}" for t in terms)
    return f"{goal} = {symbols} = {numbers} = {_number(expected)}"


def gradient_answer(goal, expected, terms, paths=()):
    """The Answer for a gradient ``goal`` = Σ upstream · local over ``terms``.

    paths -- (description, product) for each path from the output, when the
    gradient sums several (check_derivation passes explain's paths).
    """
    wrong = []
    for t in terms:
        wrong.append(("forgot_upstream", t.local,
                      f"That is {t.local_name} = {t.formula}, the local derivative alone: "
                      f"you forgot the upstream gradient {t.upstream_name}. Multiply by it."))
    for t in terms:
        wrong.append(("forgot_local", t.upstream,
                      f"That is {t.upstream_name}, the upstream gradient alone: you forgot "
                      f"the local derivative {t.local_name} = {t.formula}."))
    wrong.append(("sign", -expected,
                  f"Right magnitude, wrong sign: check the sign of each factor of {goal}."))
    several = [(f"{t.upstream_name} · {t.local_name}", t.contribution) for t in terms]
    several = (several if len(several) > 1 else []) + list(paths if len(paths) > 1 else [])
    for description, product in several:
        wrong.append(("one_path", product,
                      f"That is one path's share ({description}): you counted only one "
                      f"path. {goal} adds up every path into it."))
    other = f"Not quite. The chain rule gives {gradient_line(goal, expected, terms)}."
    return Answer(goal, expected, wrong, other)


def factor_answer(factors, index, output_name):
    """The Answer for factor number ``index`` (from 0) of a path's factors (explain's)."""
    factor = factors[index]
    position = f"factor {index + 1}"
    wrong = [("sign", -factor.value,
              f"{position}, {factor.text}: right magnitude, wrong sign "
              f"({factor.text} = {factor.formula}).")]
    if index > 0:
        so_far = math.prod(f.value for f in factors[:index + 1])
        gradient = gradient_name(output_name, _name_below(factor))
        wrong.append(("included_upstream", so_far,
                      f"{position}: that is {gradient}, the gradient so far. A factor is "
                      f"the local derivative {factor.text} alone, without the upstream "
                      f"gradient."))
    for j, other in enumerate(factors):
        if j != index:
            wrong.append(("order", other.value,
                          f"{position}: that is factor {j + 1}, {other.text}. The factors go "
                          f"in the article's order, from the output down."))
    message = (f"{position}, {factor.text} = {factor.formula}, should be "
               f"{_number(factor.value)}.")
    return Answer(f"{position}, {factor.text}", factor.value, wrong, message)


def _name_below(factor):
    # factor.text is 'd(a_2)^3/d(z_2)^3': the part after '/d' names the parent
    return factor.text.split("/d", 1)[1]


def _find(output, param):
    if isinstance(param, str):
        return notation.find(param, topological_order(output))
    return param


class DerivationReport:
    """What check_derivation found. Truthy when everything given is right.

    factors -- [(number given, explain's Factor, Diagnosis)] for the factors given
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
            if path is None or len(factors) != len(path.factors):
                self.problem = self._count_problem(path, factors)
            else:
                out_name = explanation.name(explanation.output)
                for index, (given, factor) in enumerate(zip(factors, path.factors)):
                    diagnosis = factor_answer(path.factors, index, out_name).diagnose(given)
                    self.factors.append((given, factor, diagnosis))
            self.product_given = math.prod(factors)
            self.product = self.answer.diagnose(self.product_given)
        if value is not None:
            self.value_given = float(value)
            self.value = self.answer.diagnose(self.value_given)

    def _count_problem(self, path, factors):
        if path is None:
            if self.explanation.count == 0:
                return (f"{self.goal} = 0: the output does not depend on it, so there "
                        "are no factors.")
            return (f"{count_text(self.explanation.count)} paths are too many (or too long) "
                    "to list; give the value instead of factors.")
        names = ", ".join(f.text for f in path.factors)
        return (f"You gave {len(factors)} factors; the path "
                f"{' ← '.join(self.explanation.name(n) for n in path)} has "
                f"{len(path.factors)}: {names}.")

    @property
    def diagnoses(self):
        """Every Diagnosis in the report, factors first."""
        found = [d for _, _, d in self.factors]
        return found + [d for d in (self.product, self.value) if d is not None]

    def __bool__(self):
        return not self.problem and all(self.diagnoses)

    @property
    def wrong_factors(self):
        """The positions (from 1) of the wrong factors."""
        return [i for i, (_, _, d) in enumerate(self.factors, start=1) if not d]

    def __str__(self):
        e = self.explanation
        lines = [f"Checking {self.goal} = {_number(self.expected)} "
                 f"({count_text(e.count)} path{'' if e.count == 1 else 's'}"
                 + (", too many to list: checked against the gradient itself)"
                    if e.grouped else ")")]
        if self.problem:
            lines.append(f"  factors: {self.problem}")
        for index, (given, factor, diagnosis) in enumerate(self.factors, start=1):
            mark = "right" if diagnosis else "WRONG"
            lines.append(f"  factor {index}  {factor.text:<20} you: {given:<12.6g} {mark}")
            if not diagnosis:
                lines.append(f"            {diagnosis.message}")
        if self.product is not None:
            lines.append(f"  product of your factors = {self.product_given:.6g}: "
                         f"{self.product.message}")
        if self.value is not None:
            lines.append(f"  your value {self.value_given:.6g}: {self.value.message}")
        lines.append("All right." if self else "Not right yet.")
        return "\n".join(lines)

    def __repr__(self):
        return f"<DerivationReport {self.goal}: {'right' if self else 'wrong'}>"

    def _repr_latex_(self):
        e = self.explanation
        goal = (rf"\frac{{\partial {parenthesized(e.name(e.output, True))}}}"
                rf"{{\partial {parenthesized(e.name(e.param, True))}}}")
        rows = [rf"\text{{factor {index}: }} {factor.latex} &= {given:.6g} \quad "
                + _latex_verdict(diagnosis, factor.value)
                for index, (given, factor, diagnosis) in enumerate(self.factors, start=1)]
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
            "other": "wrong"}


def _latex_verdict(diagnosis, expected):
    if diagnosis:
        return r"\checkmark"
    return (rf"\text{{✗ {MISTAKES[diagnosis.mistake]}; it should be }} "
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
    answer.other += (f" (There are {count_text(e.count)} paths, too many to list, so this "
                     f"is the gradient itself: what each node computed from "
                     f"{e.name(e.param)} sends it, as backward() computes it.)")
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
               dC/d(w_22)^2: dC/ds, ds/d(a_2)^3, d(a_2)^3/d(z_2)^3, d(z_2)^3/d(w_22)^2

    The report is truthy when everything given is right, prints as text,
    shows as LaTeX in Jupyter, and names each wrong factor by its position
    and in the article's notation, with the mistake it looks like.
    """
    if value is None and factors is None:
        raise ValueError("check_derivation: give value=, factors= or both")
    value, factors = _checked_value(value), _checked_factors(factors)
    param = _find(output, param)
    return DerivationReport(explain(output, param), value, factors)
