"""The op table: every operation the engine knows, defined once.

Each entry holds an op's name and symbol, its forward function and its local
derivatives d(out)/d(input) for every input, side by side. The derivative rules
are plain arithmetic, so the same rule works on floats (an ordinary backward
pass) and on Values (``engine.grad(..., create_graph=True)``, which needs the
derivatives to be differentiable again).

Calling conventions, for every op:

    forward(*inputs)            -> the output, a float
    derivatives(*inputs, out)   -> one local derivative per input

where ``out`` is the op's own output, so rules such as tanh' = 1 - out² reuse
it instead of recomputing the forward pass.

Adding an op is one ``Op(...)`` entry here, one Value method that applies it
(value.py), and its tests.
"""

import math
import operator
from functools import reduce

__all__ = ["Op", "OPS"]


class Op:
    """One operation: what it computes and how it differentiates.

    name        -- the key in OPS and the node's ``.op`` ('mul', 'tanh', ...)
    symbol      -- what a graph drawing shows on the op node ('×', 'tanh')
    expression  -- the forward formula in words of its inputs ('x · y')
    inputs      -- names of the inputs, used in formulas and error messages
    forward     -- forward(*inputs) -> float
    derivatives -- derivatives(*inputs, out) -> tuple, d(out)/d(input) each
    formulas    -- the text of each local derivative ('y', '1 − out²');
                   for n-ary ops, the three kinds: weight, input, bias
    """

    __slots__ = ("name", "symbol", "expression", "inputs", "forward",
                 "derivatives", "formulas")

    def __init__(self, name, symbol, expression, inputs, forward, derivatives,
                 formulas):
        self.name = name
        self.symbol = symbol
        self.expression = expression
        self.inputs = inputs
        self.forward = forward
        self.derivatives = derivatives
        self.formulas = formulas

    def formula(self, index, n_inputs=None):
        """The text of d(out)/d(input number ``index``)."""
        if self.name == "weighted_sum":
            n = (n_inputs or 0) // 2
            return self.formulas[0 if index < n else 1 if index < 2 * n else 2]
        return self.formulas[index]

    def __repr__(self):
        return f"Op({self.name!r}, {self.symbol!r}: {self.expression})"


# -- helpers: the same function on floats and on Values ----------------------
# Values carry their own exp/log/tanh; floats use math. This is what lets one
# derivative rule serve first-order and higher-order gradients alike.

def _log(x):
    return math.log(x) if type(x) is float else x.log()


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


def _relu_forward(x):
    return x if x > 0.0 else 0.0


# -- derivative rules that need more than one line ----------------------------

def _pow_derivatives(x, y, out):
    # d/dx x^y = y·x^(y−1); it is 0 where y = 0 (x^0 = 1 is constant), also
    # at x = 0, as in PyTorch.
    # d/dy x^y = x^y·ln x exists only for x > 0; at x = 0 its limit is 0, as
    # in PyTorch. For x < 0 it does not exist: nan, which backward reports
    # if that gradient is needed (engine.grad with respect to x alone is fine).
    d_base = 0.0 if float(y) == 0.0 else y * x ** (y - 1.0)
    if float(x) > 0.0:
        return (d_base, out * _log(x))
    return (d_base, 0.0 if float(x) == 0.0 else math.nan)


def _pow_scalar_derivatives(x, n, out):
    # The exponent n is a constant (a plain number in the user's code), so it
    # gets no gradient, and float(n) keeps higher-order graphs free of it.
    n = float(n)
    return (0.0 if n == 0.0 else n * x ** (n - 1.0), 0.0)


def _weighted_sum_forward(*inputs):
    # inputs = (w_1..w_n, x_1..x_n[, b]):  z = Σ_k w_k·x_k + b
    n = len(inputs) // 2
    # Added left to right, as the expanded graph w_1·x_1 + w_2·x_2 + ... adds.
    # (Not sum(): from Python 3.12 it compensates float rounding, which would
    # make the fused and expanded networks differ in the last bit.)
    z = reduce(operator.add, map(operator.mul, inputs[:n], inputs[n:2 * n]), 0.0)
    if len(inputs) % 2:
        z = z + inputs[-1]
    return z


def _weighted_sum_derivatives(*inputs_and_out):
    # inputs_and_out = (w_1..w_n, x_1..x_n[, b], z)
    # dz/dw_k = x_k, dz/dx_k = w_k, dz/db = 1
    n = (len(inputs_and_out) - 1) // 2
    weights, xs = inputs_and_out[:n], inputs_and_out[n:2 * n]
    has_bias = len(inputs_and_out) % 2 == 0
    return xs + weights + ((1.0,) if has_bias else ())


# -- the table ----------------------------------------------------------------

OPS = {}


def _define(op):
    OPS[op.name] = op
    return op


ADD = _define(Op("add", "+", "x + y", ("x", "y"),
                 forward=operator.add,
                 derivatives=lambda x, y, out: (1.0, 1.0),
                 formulas=("1", "1")))

SUB = _define(Op("sub", "−", "x − y", ("x", "y"),
                 forward=operator.sub,
                 derivatives=lambda x, y, out: (1.0, -1.0),
                 formulas=("1", "−1")))

MUL = _define(Op("mul", "×", "x · y", ("x", "y"),
                 forward=operator.mul,
                 derivatives=lambda x, y, out: (y, x),
                 formulas=("y", "x")))

DIV = _define(Op("div", "÷", "x / y", ("x", "y"),
                 forward=_div,
                 derivatives=lambda x, y, out: (1.0 / y, -out / y),
                 formulas=("1/y", "−x/y²")))

NEG = _define(Op("neg", "−", "−x", ("x",),
                 forward=operator.neg,
                 derivatives=lambda x, out: (-1.0,),
                 formulas=("−1",)))

POW = _define(Op("pow", "**", "x^y", ("x", "y"),
                 forward=_pow_forward,
                 derivatives=_pow_derivatives,
                 formulas=("y·x^(y−1)", "x^y·ln x")))

POW_SCALAR = _define(Op("pow_scalar", "**", "x^n (n a constant)", ("x", "n"),
                        forward=_pow_forward,
                        derivatives=_pow_scalar_derivatives,
                        formulas=("n·x^(n−1)", "0 (constant)")))

EXP = _define(Op("exp", "exp", "e^x", ("x",),
                 forward=math.exp,
                 derivatives=lambda x, out: (out,),
                 formulas=("e^x",)))

LOG = _define(Op("log", "log", "ln x", ("x",),
                 forward=_log_forward,
                 derivatives=lambda x, out: (1.0 / x,),
                 formulas=("1/x",)))

SQRT = _define(Op("sqrt", "√", "√x", ("x",),
                  forward=_sqrt_forward,
                  derivatives=lambda x, out: (0.5 / out,),
                  formulas=("1/(2√x)",)))

TANH = _define(Op("tanh", "tanh", "tanh x", ("x",),
                  forward=math.tanh,
                  derivatives=lambda x, out: (1.0 - out * out,),
                  formulas=("1 − tanh²(x)",)))

SIGMOID = _define(Op("sigmoid", "σ", "σ(x) = 1/(1 + e^−x)", ("x",),
                     forward=_sigmoid_forward,
                     derivatives=lambda x, out: (out * (1.0 - out),),
                     formulas=("σ(x)·(1 − σ(x))",)))

RELU = _define(Op("relu", "ReLU", "max(0, x)", ("x",),
                  forward=_relu_forward,
                  # relu'(0) = 0, as in PyTorch. (A step: constant on each
                  # side, so its own derivative is 0; x > 0 works on Values too.)
                  derivatives=lambda x, out: (1.0 if x > 0.0 else 0.0,),
                  formulas=("1 if x > 0 else 0",)))

WEIGHTED_SUM = _define(Op("weighted_sum", "Σ w·x + b", "Σₖ wₖ·xₖ + b",
                          ("w", "x", "b"),
                          forward=_weighted_sum_forward,
                          derivatives=_weighted_sum_derivatives,
                          formulas=("xₖ", "wₖ", "1")))
