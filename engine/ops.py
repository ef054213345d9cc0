"""The op table: every operation the engine knows, defined once.

Each entry holds everything about one op, side by side: its name and symbol,
its forward function, its local derivatives d(out)/d(operand), and how each
of those reads — as text, as LaTeX and as Python — written in terms of the
op's operands. A reader of a graph (a drawing, explain, the code generator)
substitutes the operands' own names, so the edge from w into w·x reads
"∂/∂w = x", with the learner's x, and a tanh edge reads "1 − tanh²(z3_2)".

The derivative rules are plain arithmetic, so the same rule works on floats
(an ordinary backward pass) and on Values (``engine.grad(...,
create_graph=True)``, which needs the derivatives to be differentiable again).

Calling conventions, for every op:

    forward(*operands)            -> the output, a float
    derivatives(*operands, out)   -> one local derivative per operand

where ``out`` is the op's own output, so rules such as tanh' = 1 − out² reuse
it instead of recomputing the forward pass.

Formulas are templates: ``$x`` stands for operand x and ``$out`` for the
output, filled in with ``Op.show`` and ``Op.show_local``. The Python
templates compute exactly what ``forward`` and ``derivatives`` compute, digit
for digit (a test holds them to it), and may call the functions in
``PYTHON_NAMES``.

Each entry may also list its ``mistakes``: the classic wrong local
derivatives learners type (tanh(z) for tanh'(z), σ for σ·(1 − σ), the same
operand of a product instead of the other), each with a name, its text in
the operands' names and a rule called like ``derivatives``. nn.check uses
them to name the mistake a wrong number looks like. An op without mistakes
works everywhere; its wrong answers are then diagnosed by the general ones
(sign, the derivative with respect to another operand). Its
``forward_mistakes`` are the wrong outputs of the forward pass (the bias
forgotten, tanh applied twice or not at all), for the forward step-through.

Adding an op is one ``Op(...)`` entry here, one Value method that applies it
(value.py; or ``engine.apply(op, ...)``), and its tests.
"""

import math
import operator
import sys
from collections.abc import Callable
from functools import cache, lru_cache, partial, reduce
from string import Template
from typing import NamedTuple

import numpy as np

__all__ = ["Op", "OPS", "Formula", "Mistake", "PYTHON_NAMES", "ARRAY_NAMES"]


class Formula(NamedTuple):
    """One formula, three ways; ``$x`` is an operand, ``$out`` the output."""
    text: str     # '1 − tanh²($x)', for drawings and the terminal
    latex: str    # r'1 - \tanh^2($x)', for notebooks
    python: str   # '1.0 - $out*$out', for the code generator
    # The same over numpy arrays, every sample of a batch at once (engine/batch.py):
    # None where the Python form already works on arrays (+, −, ·, /, the names in
    # ARRAY_NAMES); numpy functions and np.where for math.* and branches.
    array: str | None = None


class Mistake(NamedTuple):
    """A classic wrong local derivative of an op, with its name and its rule.

    name -- a short id, 'tanh_itself'
    text -- what the learner computed, in the operands' names like
            Formula.text: 'tanh($x) itself' (fill it with Op.show_mistake)
    rule -- rule(*operands, out) -> one number per operand: what a learner
            making this mistake types for d(out)/d(that operand), or None
            where the mistake does not apply to that operand. Called on
            floats only (it diagnoses numbers; nothing differentiates it).
            In Op.forward_mistakes: rule(*operands, out) -> the wrong value
            of out itself (one number, or None).
    """
    name: str
    text: str
    rule: Callable


class Op:
    """One operation: what it computes, how it differentiates, how it reads.

    name        -- the key in OPS and the node's ``.op`` ('mul', 'tanh', ...)
    symbol      -- what a graph drawing shows on the op node ('×', 'tanh')
    operands    -- the operands' names in the formulas ('x', 'y')
    forward     -- forward(*operands) -> float
    derivatives -- derivatives(*operands, out) -> d(out)/d(operand), each
    result      -- Formula of the output in terms of the operands
    local       -- one Formula per operand: d(out)/d(that operand)
    expand      -- for ops with any number of operands (the weighted sum):
                   expand(n) -> (operands, result, local) for n operands
    spreads     -- True if a nan or ±inf operand always makes the result nan or
                   ±inf (x + inf = inf, 0·inf = nan), so checking the result is
                   enough; False where it can vanish (relu(nan) = 0, 1/inf = 0)
    mistakes    -- the classic wrong local derivatives, a tuple of Mistakes
                   (empty for ops with none worth naming)
    micrograd   -- the node's ``_op`` as micrograd's lecture writes it ('+', '*',
                   '**$n' with the exponent's number for $n); None: the name
    forward_mistakes -- the classic wrong outputs of the forward pass, Mistakes
                   whose rule(*operands, out) is the wrong value of out a
                   learner computes (the bias forgotten, tanh applied twice),
                   or None where it does not apply (empty: none worth naming)
    """

    __slots__ = ("name", "symbol", "operands", "forward", "derivatives",
                 "result", "local", "expand", "spreads", "mistakes", "micrograd",
                 "forward_mistakes")

    def __init__(self, name, symbol, operands, forward, derivatives, result,
                 local, expand=None, spreads=False, mistakes=(), micrograd=None,
                 forward_mistakes=()):
        self.name = name
        self.symbol = symbol
        self.operands = operands
        self.forward = forward
        self.derivatives = derivatives
        self.result = result
        self.local = local
        self.expand = expand
        self.spreads = spreads
        self.mistakes = tuple(mistakes)
        self.micrograd = micrograd
        self.forward_mistakes = tuple(forward_mistakes)

    def formulas(self, n_operands):
        """(operand names, result Formula, local Formulas) for a node with n operands."""
        if self.expand is not None:
            return self.expand(n_operands)
        return self.operands, self.result, self.local

    def operand_names(self, n_operands):
        """The operands' names for a node with n operands: ('x', 'y'), ('w1', 'x1', 'b')."""
        return self.formulas(n_operands)[0]

    def show(self, names, out="out", how="text"):
        """The result with the operands' own names: show(['w', 'x']) -> 'w · x'.

        how is 'text', 'latex', 'python' or 'array' (over numpy arrays).
        """
        operands, result, _ = self.formulas(len(names))
        return _fill(_form(result, how), operands, names, out)

    def show_local(self, index, names, out="out", how="text"):
        """d(out)/d(operand number index) with the operands' own names.

        MUL.show_local(0, ['w', 'x']) -> 'x';  TANH.show_local(0, ['z3_2']) ->
        '1 − tanh²(z3_2)'.
        """
        operands, _, local = self.formulas(len(names))
        return _fill(_form(local[index], how), operands, names, out)

    def show_locals(self, names, out="out", how="text"):
        """show_local for every operand at once (one substitution table per node)."""
        operands, _, local = self.formulas(len(names))
        mapping = dict(zip(operands, names), out=out)
        return tuple(_substitute(_form(f, how), mapping) for f in local)

    def show_mistake(self, mistake, names, out="out"):
        """A Mistake's text with the operands' own names.

        TANH.show_mistake(TANH.mistakes[0], ['(z_2)^3']) -> 'tanh((z_2)^3) itself'.
        """
        operands = self.operand_names(len(names))
        return _fill(mistake.text, operands, names, out)

    def micrograd_op(self, operands):
        """The node's ``_op`` in micrograd's spelling: '+', '*', '**2' (operands: numbers)."""
        if self.micrograd is None:
            return self.name
        numbers = {name: _plain_number(x) for name, x in zip(self.operands, operands)}
        return Template(self.micrograd).substitute(numbers)

    def __str__(self):
        """'add (x + y)': the name and the formula, for messages."""
        if self.expand is not None:
            return f"{self.name} ({self.symbol})"
        return f"{self.name} ({self.show(self.operands)})"

    def __repr__(self):
        return f"Op({self.name!r}, {self.symbol!r}: {self.result.text})"


def _plain_number(x):
    """2.0 -> '2', 0.5 -> '0.5': a number as a learner typed it (x ** 2 -> '**2')."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def _form(formula, how):
    """The formula's text, LaTeX, Python or array form (array: the Python form if none)."""
    if how == "array":
        return formula.array or formula.python
    return getattr(formula, how)


def _fill(template, operands, names, out):
    """Put each operand's name where the template says $operand."""
    return _substitute(template, dict(zip(operands, names), out=out))


@lru_cache(maxsize=4096)
def _pieces(template):
    """'1.0 - $out * $out' -> ('1.0 - ', 'out', ' * ', 'out', ''): text and names in turn."""
    pieces, last = [], 0
    for match in Template.pattern.finditer(template):
        name = match.group("named") or match.group("braced")
        if name is None:  # '$$' or an invalid '$': let Template say what is wrong
            return None
        pieces += [template[last:match.start()], name]
        last = match.end()
    return tuple(pieces + [template[last:]])


def _substitute(template, mapping):
    # Template.substitute, with the template split once: the code generator
    # fills the same few formulas for every node of a large graph.
    pieces = _pieces(template)
    if pieces is None:
        return Template(template).substitute(mapping)
    return "".join([piece if k % 2 == 0 else mapping[piece] for k, piece in enumerate(pieces)])


# -- helpers: the same function on floats and on Values ----------------------
# Values carry their own exp/log/tanh; floats use math. This is what lets one
# derivative rule serve first-order and higher-order gradients alike.

def _log(x):
    return math.log(x) if type(x) is float else x.log()


def _sigmoid(x):
    return _sigmoid_forward(x) if type(x) is float else x.sigmoid()


# -- forward functions that need a guard --------------------------------------
# Python's float arithmetic would silently give inf, nan or a complex number
# for these inputs; the engine refuses them with the reason instead.

def _div(x, y):
    if y == 0.0:
        raise ZeroDivisionError("division by zero (the divisor y is 0)")
    return x / y


def _log_forward(x):
    if x <= 0.0:
        raise ValueError("log(x) needs x > 0")
    return math.log(x)


def _sqrt_forward(x):
    if x < 0.0:
        raise ValueError("sqrt(x) needs x >= 0")
    return math.sqrt(x)


def _pow_forward(x, y):
    if x < 0.0 and not float(y).is_integer():
        raise ValueError("a negative base to a non-integer power has no real value")
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0 to a negative power divides by zero")
    return x ** y  # float ** float raises OverflowError itself


def _sigmoid_forward(x):
    # Two forms so that exp never overflows: exp(-x) for x >= 0, exp(x) below.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_forward(x):
    # ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|): e^−|x| <= 1 never overflows.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu_forward(x):
    return x if x > 0.0 else 0.0


# ln p and ln(1 − p) for the cross-entropy of a probability, never below −100:
# a saturated sigmoid gives p = 1.0 exactly (σ(40) in floats), and ln 0 = −inf.
# PyTorch's BCELoss clamps at the same place, so the costs agree.
_LOG_FLOOR = -100.0
_SMALLEST_P = math.exp(_LOG_FLOOR)


def _log_clamped(p):
    return _LOG_FLOOR if p <= _SMALLEST_P else _log(p)


def _log1m_clamped(p):
    # ln(1 − p), computed as log1p(−p) so that a small p keeps its digits
    if 1.0 - p <= _SMALLEST_P:
        return _LOG_FLOOR
    return math.log1p(-p) if type(p) is float else _log(1.0 - p)


def _bce_probability_forward(p, y):
    if not 0.0 <= p <= 1.0:
        raise ValueError("the cross-entropy of a probability needs 0 <= p <= 1 "
                         "(a logit? then use binary_cross_entropy)")
    return -(y * _log_clamped(p) + (1.0 - y) * _log1m_clamped(p))


def _bce_probability_derivatives(p, y, out):
    # dC/dp = −y/p + (1 − y)/(1 − p) = (p − y)/(p·(1 − p)), written with one
    # division; the divisor is kept above 1e-12 (PyTorch's BCELoss does the
    # same), so a saturated p = 1 gives a large finite gradient, not inf.
    # Through a sigmoid, dp/ds = p·(1 − p): the product is p − y, as on logits.
    # dC/dy = ln(1 − p) − ln p.
    return ((p - y) / max(p * (1.0 - p), 1e-12),
            _log1m_clamped(p) - _log_clamped(p))


def _hinge_forward(s, y):
    margin = 1.0 - y * s
    return margin if margin > 0.0 else 0.0


# -- derivative rules that need more than one line ----------------------------

def _pow_derivatives(x, y, out):
    # d/dx x^y = y·x^(y−1); it is 0 where y = 0 (x^0 = 1 is constant), also
    # at x = 0, as in PyTorch. At x = 0 with 0 < y < 1 it does not exist (nan,
    # reported only if that gradient is needed), and d/dy still does.
    # d/dy x^y = x^y·ln x exists only for x > 0; at x = 0 its limit is 0, as
    # in PyTorch. For x < 0 it does not exist: nan, which backward reports
    # if that gradient is needed (engine.grad with respect to x alone is fine).
    d_base = (0.0 if float(y) == 0.0 else math.nan if float(x) == 0.0 and float(y) < 1.0
              else y * x ** (y - 1.0))
    if float(x) > 0.0:
        return (d_base, out * _log(x))
    return (d_base, 0.0 if float(x) == 0.0 else math.nan)


def _pow_scalar_derivatives(x, n, out):
    # The exponent n is a constant (a plain number in the user's code), so it
    # gets no gradient, and float(n) keeps higher-order graphs free of it.
    n = float(n)
    return (0.0 if n == 0.0 else n * x ** (n - 1.0), 0.0)


def _hinge_derivatives(s, y, out):
    # C = max(0, 1 − y·s): dC/ds = −y and dC/dy = −s while the margin is
    # positive, else 0 (at the kink, 0, as relu'(0) = 0).
    if 1.0 - y * s > 0.0:
        return (-y, -s)
    return (0.0, 0.0)


# Terms are added left to right, as the expanded graph and the generated code
# add them. Before Python 3.12 sum() does exactly that, in C; from 3.12 it
# compensates the rounding, so there reduce() adds one term at a time. Both
# give the same numbers on every version (a test holds fused == expanded).
_add_up = sum if sys.version_info < (3, 12) else partial(reduce, operator.add)


def _weighted_sum_forward(*operands):
    # operands = (w_1..w_n, x_1..x_n[, b]):  z = w_1·x_1 + ... + w_n·x_n + b
    n = len(operands) // 2
    z = _add_up(map(operator.mul, operands[:n], operands[n:2 * n])) if n else 0.0
    if len(operands) % 2:
        z = z + operands[-1]
    return z


def _weighted_sum_derivatives(*operands_and_out):
    # operands_and_out = (w_1..w_n, x_1..x_n[, b], z)
    # dz/dw_k = x_k, dz/dx_k = w_k, dz/db = 1
    n = (len(operands_and_out) - 1) // 2
    weights, xs = operands_and_out[:n], operands_and_out[n:2 * n]
    has_bias = len(operands_and_out) % 2 == 0
    return xs + weights + ((1.0,) if has_bias else ())


def _weighted_sum_without_bias(*operands_and_out):
    # what a learner gets who forgets + b: Σ w_k·x_k alone (None: there is no b)
    operands = operands_and_out[:-1]
    return _weighted_sum_forward(*operands[:-1]) if len(operands) % 2 else None


@cache  # a network asks again for every neuron of a layer
def _weighted_sum_formulas(n_operands):
    # operands w1..wn, x1..xn[, b]; the result reads w1·x1 + w2·x2 + ... + b
    n = n_operands // 2
    ws = [f"w{k}" for k in range(1, n + 1)]
    xs = [f"x{k}" for k in range(1, n + 1)]
    bias = ["b"] if n_operands % 2 else []
    text = [f"${w}·${x}" for w, x in zip(ws, xs)] + ["$b"] * len(bias)
    latex = [rf"${w}\,${x}" for w, x in zip(ws, xs)] + ["$b"] * len(bias)
    python = [f"${w}*${x}" for w, x in zip(ws, xs)] + ["$b"] * len(bias)
    result = Formula(" + ".join(text) or "0", " + ".join(latex) or "0",
                     " + ".join(python) or "0.0")
    local = ([Formula(f"${x}", f"${x}", f"${x}") for x in xs]
             + [Formula(f"${w}", f"${w}", f"${w}") for w in ws]
             + [Formula("1", "1", "1.0")] * len(bias))
    return tuple(ws + xs + bias), result, tuple(local)


# -- the table ----------------------------------------------------------------

OPS = {}

# The functions the Python templates may call (besides the operators).
PYTHON_NAMES = {"math": math, "sigmoid": _sigmoid_forward,
                "softplus": _softplus_forward}
PYTHON_NAMES.update(log_clamped=_log_clamped, log1m_clamped=_log1m_clamped)



# -- the same functions over numpy arrays (engine/batch.py) -------------------

def _softplus_array(x):
    # ln(1 + e^x) = ln(e^0 + e^x), which logaddexp computes without overflow
    return np.logaddexp(0.0, x)


def _sigmoid_array(x):
    # σ(x) = 1/(1 + e^−x) = exp(−softplus(−x)): never overflows, and four numpy
    # calls where the two forms of _sigmoid_forward would take nine
    return np.exp(-np.logaddexp(0.0, -x))


def _log_clamped_array(p):
    # _log_clamped over an array: ln p, kept above −100 (the inner where keeps
    # np.log from warning about the p it does not use)
    small = p <= _SMALLEST_P
    return np.where(small, _LOG_FLOOR, np.log(np.where(small, 1.0, p)))


def _log1m_clamped_array(p):
    small = 1.0 - p <= _SMALLEST_P
    return np.where(small, _LOG_FLOOR, np.log1p(-np.where(small, 0.0, p)))


# The functions the array forms may call; a Python form that calls only these
# (and operators) works on arrays as it is, so its entry needs no array form.
ARRAY_NAMES = {"np": np, "math": math, "sigmoid": _sigmoid_array,
               "softplus": _softplus_array, "log_clamped": _log_clamped_array,
               "log1m_clamped": _log1m_clamped_array}


def _define(op):
    OPS[op.name] = op
    return op


ADD = _define(Op(
    "add", "+", ("x", "y"),
    forward=operator.add,
    derivatives=lambda x, y, out: (1.0, 1.0),
    result=Formula("$x + $y", "$x + $y", "$x + $y"),
    local=(Formula("1", "1", "1.0"), Formula("1", "1", "1.0")),
    spreads=True,
    micrograd="+"))

SUB = _define(Op(
    "sub", "−", ("x", "y"),
    forward=operator.sub,
    derivatives=lambda x, y, out: (1.0, -1.0),
    result=Formula("$x − $y", "$x - $y", "$x - $y"),
    local=(Formula("1", "1", "1.0"), Formula("−1", "-1", "-1.0")),
    spreads=True,
    micrograd="-"))

MUL = _define(Op(
    "mul", "×", ("x", "y"),
    forward=operator.mul,
    derivatives=lambda x, y, out: (y, x),
    result=Formula("$x · $y", r"$x \cdot $y", "$x * $y"),
    local=(Formula("$y", "$y", "$y"), Formula("$x", "$x", "$x")),
    spreads=True,
    mistakes=(
        Mistake("same_operand", "$x, the operand itself instead of the other one, $y",
                lambda x, y, out: (x, None)),
        Mistake("same_operand", "$y, the operand itself instead of the other one, $x",
                lambda x, y, out: (None, y)),
        Mistake("product_itself", "the product $x · $y itself",
                lambda x, y, out: (out, out))),
    micrograd="*"))

DIV = _define(Op(
    "div", "÷", ("x", "y"),
    forward=_div,
    derivatives=lambda x, y, out: (1.0 / y, -out / y),
    result=Formula("$x / $y", r"\frac{$x}{$y}", "$x / $y"),
    local=(Formula("1/$y", r"\frac{1}{$y}", "1.0 / $y"),
           Formula("−$x/$y²", r"-\frac{$x}{$y^2}", "-$out / $y")),
    mistakes=(
        Mistake("divisor_not_inverted", "$y, the divisor itself instead of 1/$y",
                lambda x, y, out: (y, None)),
        Mistake("divisor_not_squared", "−$x/$y, with $y where $y² belongs",
                lambda x, y, out: (None, -x / y)),
        Mistake("quotient_itself", "the quotient $x/$y itself",
                lambda x, y, out: (out, out))),
    micrograd="/"))

NEG = _define(Op(
    "neg", "−", ("x",),
    forward=operator.neg,
    derivatives=lambda x, out: (-1.0,),
    result=Formula("−$x", "-$x", "-$x"),
    local=(Formula("−1", "-1", "-1.0"),),
    spreads=True,
    micrograd="-"))

POW = _define(Op(
    "pow", "**", ("x", "y"),
    forward=_pow_forward,
    derivatives=_pow_derivatives,
    result=Formula("$x^$y", "{$x}^{$y}", "$x ** $y"),
    local=(Formula("$y·$x^($y − 1)", "$y\\,{$x}^{$y - 1}",
                   "(0.0 if $y == 0.0 else math.nan if $x == 0.0 and $y < 1.0 "
                   "else $y * $x ** ($y - 1.0))",
                   "np.where($y == 0.0, 0.0, np.where(($x == 0.0) & ($y < 1.0), np.nan, "
                   "$y * $x ** ($y - 1.0)))"),
           Formula("$x^$y·ln $x", "{$x}^{$y} \\ln $x",
                   "($out * math.log($x) if $x > 0.0 else "
                   "0.0 if $x == 0.0 else math.nan)",
                   "np.where($x > 0.0, $out * np.log(np.where($x > 0.0, $x, 1.0)), "
                   "np.where($x == 0.0, 0.0, np.nan))")),
    mistakes=(
        Mistake("exponent_not_lowered", "$y·$x^$y: you forgot to lower the exponent",
                lambda x, y, out: (y * out, None)),
        Mistake("forgot_exponent_factor", "$x^($y − 1): you forgot the exponent's factor $y",
                lambda x, y, out: (x ** (y - 1.0), None)),
        Mistake("power_rule_for_exponent",
                "$y·$x^($y − 1), the power rule, which is for the base, not the exponent",
                lambda x, y, out: (None, y * x ** (y - 1.0))),
        Mistake("forgot_log", "$x^$y: you forgot the factor ln $x",
                lambda x, y, out: (None, out))),
    micrograd="**"))

POW_SCALAR = _define(Op(
    "pow_scalar", "**", ("x", "n"),
    forward=_pow_forward,
    derivatives=_pow_scalar_derivatives,
    result=Formula("$x^$n", "{$x}^{$n}", "$x ** $n"),
    local=(Formula("$n·$x^($n − 1)", "$n\\,{$x}^{$n - 1}",
                   "(0.0 if $n == 0.0 else $n * $x ** ($n - 1.0))",
                   "np.where($n == 0.0, 0.0, $n * $x ** ($n - 1.0))"),
           Formula("0 (a constant)", "0", "0.0")),
    mistakes=(
        Mistake("exponent_not_lowered", "$n·$x^$n: you forgot to lower the exponent",
                lambda x, n, out: (n * out, None)),
        Mistake("forgot_exponent_factor", "$x^($n − 1): you forgot the exponent's factor $n",
                lambda x, n, out: (x ** (n - 1.0), None))),
    micrograd="**$n"))

EXP = _define(Op(
    "exp", "exp", ("x",),
    forward=math.exp,
    derivatives=lambda x, out: (out,),
    result=Formula("exp($x)", "e^{$x}", "math.exp($x)", "np.exp($x)"),
    local=(Formula("exp($x)", "e^{$x}", "$out"),),
    mistakes=(
        Mistake("power_rule", "$x·exp($x − 1), the power rule, which is for a constant "
                "exponent: exp($x) is its own derivative",
                lambda x, out: (x * math.exp(x - 1.0),)),
        Mistake("times_input", "$x·exp($x): exp($x) is its own derivative, with no factor $x",
                lambda x, out: (x * out,)))))

LOG = _define(Op(
    "log", "log", ("x",),
    forward=_log_forward,
    derivatives=lambda x, out: (1.0 / x,),
    result=Formula("ln $x", r"\ln $x", "math.log($x)", "np.log($x)"),
    local=(Formula("1/$x", r"\frac{1}{$x}", "1.0 / $x"),),
    mistakes=(
        Mistake("log_itself", "ln $x itself", lambda x, out: (out,)),
        Mistake("input_itself", "$x itself instead of 1/$x", lambda x, out: (x,)),
        Mistake("one_over_log", "1/ln $x, with ln $x where $x belongs",
                lambda x, out: (1.0 / out,)))))

SQRT = _define(Op(
    "sqrt", "√", ("x",),
    forward=_sqrt_forward,
    derivatives=lambda x, out: (0.5 / out,),
    result=Formula("√$x", r"\sqrt{$x}", "math.sqrt($x)", "np.sqrt($x)"),
    local=(Formula("1/(2√$x)", r"\frac{1}{2\sqrt{$x}}", "0.5 / $out"),),
    mistakes=(
        Mistake("sqrt_itself", "√$x itself", lambda x, out: (out,)),
        Mistake("forgot_the_half", "1/√$x: you forgot the 2 of 1/(2√$x)",
                lambda x, out: (1.0 / out,)))))

TANH = _define(Op(
    "tanh", "tanh", ("x",),
    forward=math.tanh,
    derivatives=lambda x, out: (1.0 - out * out,),
    result=Formula("tanh($x)", r"\tanh($x)", "math.tanh($x)", "np.tanh($x)"),
    local=(Formula("1 − tanh²($x)", r"1 - \tanh^2($x)", "1.0 - $out * $out"),),
    mistakes=(
        Mistake("tanh_itself", "tanh($x) itself", lambda x, out: (out,)),
        Mistake("one_minus_input_squared", "1 − ($x)², with $x where tanh($x) belongs",
                lambda x, out: (1.0 - x * x,)),
        Mistake("tanh_squared", "tanh²($x), without the 1 −", lambda x, out: (out * out,))),
    forward_mistakes=(
        Mistake("applied_twice", "tanh(tanh($x)): you applied tanh twice",
                lambda x, out: math.tanh(out)),
        Mistake("forgot_activation", "$x itself, the weighted input: you forgot to apply tanh",
                lambda x, out: x))))

SIGMOID = _define(Op(
    "sigmoid", "σ", ("x",),
    forward=_sigmoid_forward,
    derivatives=lambda x, out: (out * (1.0 - out),),
    result=Formula("σ($x)", r"\sigma($x)", "sigmoid($x)"),
    local=(Formula("σ($x)·(1 − σ($x))", r"\sigma($x)\,(1 - \sigma($x))",
                   "$out * (1.0 - $out)"),),
    mistakes=(
        Mistake("sigmoid_itself", "σ($x) itself", lambda x, out: (out,)),
        Mistake("one_minus_sigmoid", "1 − σ($x), without the factor σ($x)",
                lambda x, out: (1.0 - out,)),
        Mistake("sigmoid_squared", "σ²($x), σ times itself instead of times 1 − σ($x)",
                lambda x, out: (out * out,)),
        Mistake("input_instead_of_output", "$x·(1 − $x), with $x where σ($x) belongs",
                lambda x, out: (x * (1.0 - x),))),
    forward_mistakes=(
        Mistake("applied_twice", "σ(σ($x)): you applied σ twice",
                lambda x, out: _sigmoid_forward(out)),
        Mistake("forgot_activation", "$x itself, the weighted input: you forgot to apply σ",
                lambda x, out: x))))

RELU = _define(Op(
    "relu", "ReLU", ("x",),
    forward=_relu_forward,
    # relu'(0) = 0, as in PyTorch. (A step: constant on each side, so its own
    # derivative is 0; x > 0 works on Values too.)
    derivatives=lambda x, out: (1.0 if x > 0.0 else 0.0,),
    result=Formula("max(0, $x)", r"\max(0, $x)", "($x if $x > 0.0 else 0.0)",
                   "np.maximum($x, 0.0)"),
    local=(Formula("1 if $x > 0 else 0", r"[$x > 0]", "(1.0 if $x > 0.0 else 0.0)",
                   "($x > 0.0)"),),  # True and False multiply as 1 and 0
    mistakes=(
        Mistake("relu_itself", "max(0, $x) itself", lambda x, out: (out,)),
        Mistake("slope_where_flat", "1, but $x ≤ 0, where max(0, $x) is flat",
                lambda x, out: (1.0 if x <= 0.0 else None,))),
    micrograd="ReLU"))

SOFTPLUS = _define(Op(
    "softplus", "softplus", ("x",),
    forward=_softplus_forward,
    derivatives=lambda x, out: (_sigmoid(x),),
    result=Formula("ln(1 + exp($x))", r"\ln(1 + e^{$x})", "softplus($x)"),
    local=(Formula("σ($x)", r"\sigma($x)", "sigmoid($x)"),),
    mistakes=(
        Mistake("softplus_itself", "ln(1 + exp($x)) itself", lambda x, out: (out,)),
        Mistake("one_minus_sigmoid", "1 − σ($x), which is σ(−$x)",
                lambda x, out: (1.0 - _sigmoid_forward(x),)),
        Mistake("exp_alone", "exp($x), without dividing by 1 + exp($x)",
                lambda x, out: (math.exp(x),)))))

WEIGHTED_SUM = _define(Op(
    "weighted_sum", "Σ w·x + b", ("w", "x", "b"),
    forward=_weighted_sum_forward,
    derivatives=_weighted_sum_derivatives,
    result=Formula("Σₖ wₖ·xₖ + b", r"\sum_k w_k x_k + b", ""),
    local=(Formula("xₖ", "x_k", ""), Formula("wₖ", "w_k", ""), Formula("1", "1", "")),
    expand=_weighted_sum_formulas,
    spreads=True,
    forward_mistakes=(
        Mistake("forgot_bias", "Σₖ wₖ·xₖ without the bias $b: you forgot to add the bias",
                _weighted_sum_without_bias),)))

# -- the costs of one sample: C = cost(s, y) -----------------------------------
# Each is one op, so the chain rule from C starts with dC/ds itself (as
# PyTorch fuses BCEWithLogitsLoss), and the target y gets its gradient too.

SQUARED_ERROR = _define(Op(
    "squared_error", "(s − y)²", ("s", "y"),
    forward=lambda s, y: (s - y) * (s - y),
    derivatives=lambda s, y, out: (2.0 * (s - y), -2.0 * (s - y)),
    result=Formula("($s − $y)²", "($s - $y)^2", "($s - $y) * ($s - $y)"),
    local=(Formula("2·($s − $y)", "2($s - $y)", "2.0 * ($s - $y)"),
           Formula("−2·($s − $y)", "-2($s - $y)", "-2.0 * ($s - $y)")),
    spreads=True,
    mistakes=(
        Mistake("forgot_the_2", "$s − $y: you forgot the 2 of 2·($s − $y)",
                lambda s, y, out: (s - y, None)),
        Mistake("forgot_the_2", "−($s − $y): you forgot the 2 of −2·($s − $y)",
                lambda s, y, out: (None, -(s - y))),
        Mistake("cost_itself", "the cost ($s − $y)² itself",
                lambda s, y, out: (out, out)))))

def _binary_cross_entropy_forward(s, y):
    # ln(1 + e^s) − y·s = (max(s, 0) − y·s) + ln(1 + e^−|s|). For y = 0 or 1 the
    # bracket is exact (s − s = 0), so with y = 1 and a large s the cost is
    # ln(1 + e^−s) ≈ e^−s, where softplus(s) − s would cancel to 0 (s ≥ 36).
    return max(s, 0.0) - y * s + math.log1p(math.exp(-abs(s)))


BINARY_CROSS_ENTROPY = _define(Op(
    "binary_cross_entropy", "BCE", ("s", "y"),
    forward=_binary_cross_entropy_forward,
    derivatives=lambda s, y, out: (_sigmoid(s) - y, -s),
    result=Formula("ln(1 + exp($s)) − $y·$s", r"\ln(1 + e^{$s}) - $y\,$s",
                   "max($s, 0.0) - $y * $s + math.log1p(math.exp(-abs($s)))",
                   "np.maximum($s, 0.0) - $y * $s + np.log1p(np.exp(-np.abs($s)))"),
    local=(Formula("σ($s) − $y", r"\sigma($s) - $y", "sigmoid($s) - $y"),
           Formula("−$s", "-$s", "-$s")),
    mistakes=(
        Mistake("sigmoid_alone", "σ($s) instead of σ($s) − $y: you forgot the − $y",
                lambda s, y, out: (_sigmoid_forward(s), None)),
        Mistake("one_minus_sigmoid", "1 − σ($s) instead of σ($s) − $y",
                lambda s, y, out: (1.0 - _sigmoid_forward(s), None)),
        Mistake("mean_squared_error", "2·(σ($s) − $y), the squared error's rule, "
                "not the cross-entropy's",
                lambda s, y, out: (2.0 * (_sigmoid_forward(s) - y), None)),
        Mistake("cost_itself", "the cost ln(1 + exp($s)) − $y·$s itself",
                lambda s, y, out: (out, out)))))

HINGE = _define(Op(
    "hinge", "hinge", ("s", "y"),
    forward=_hinge_forward,
    derivatives=_hinge_derivatives,
    result=Formula("max(0, 1 − $y·$s)", r"\max(0, 1 - $y\,$s)",
                   "max(0.0, 1.0 - $y * $s)",
                   "np.where(1.0 - $y * $s > 0.0, 1.0 - $y * $s, 0.0)"),
    local=(Formula("−$y if $y·$s < 1 else 0", r"-$y\,[$y\,$s < 1]",
                   "(-$y if 1.0 - $y * $s > 0.0 else 0.0)",
                   "np.where(1.0 - $y * $s > 0.0, -$y, 0.0)"),
           Formula("−$s if $y·$s < 1 else 0", r"-$s\,[$y\,$s < 1]",
                   "(-$s if 1.0 - $y * $s > 0.0 else 0.0)",
                   "np.where(1.0 - $y * $s > 0.0, -$s, 0.0)")),
    mistakes=(
        Mistake("slope_where_flat", "−$y, but $y·$s ≥ 1, where max(0, 1 − $y·$s) is flat",
                lambda s, y, out: (-y if 1.0 - y * s <= 0.0 else None, None)),
        Mistake("slope_where_flat", "−$s, but $y·$s ≥ 1, where max(0, 1 − $y·$s) is flat",
                lambda s, y, out: (None, -s if 1.0 - y * s <= 0.0 else None)),
        Mistake("cost_itself", "the cost max(0, 1 − $y·$s) itself",
                lambda s, y, out: (out, out)))))

# The cross-entropy of a probability p = σ(z), for a network whose output
# already applies the sigmoid (PyTorch's BCELoss; binary_cross_entropy above
# is its BCEWithLogitsLoss). Each ln is kept above −100, see _log_clamped.
BINARY_CROSS_ENTROPY_OF_PROBABILITY = _define(Op(
    "binary_cross_entropy_of_probability", "BCE(p)", ("p", "y"),
    forward=_bce_probability_forward,
    derivatives=_bce_probability_derivatives,
    result=Formula("−$y·ln $p − (1 − $y)·ln(1 − $p)",
                   r"-$y \ln $p - (1 - $y) \ln(1 - $p)",
                   "-($y * log_clamped($p) + (1.0 - $y) * log1m_clamped($p))"),
    local=(Formula("($p − $y)/($p·(1 − $p))", r"\frac{$p - $y}{$p\,(1 - $p)}",
                   "($p - $y) / max($p * (1.0 - $p), 1e-12)",
                   "($p - $y) / np.maximum($p * (1.0 - $p), 1e-12)"),
           Formula("ln(1 − $p) − ln $p", r"\ln(1 - $p) - \ln $p",
                   "log1m_clamped($p) - log_clamped($p)"))))
