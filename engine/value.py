"""The Value node: one number, its gradient, and the op that produced it.

A Value records every operation applied to it into a computation graph: the
result's ``.op`` names the entry of the op table (ops.py) that computed it and
``.parents`` holds the Values it was computed from, in operand order. Nothing
else is stored per node — no closure, no back-reference — so a graph is a
plain tree of tuples that Python frees by reference counting alone.
"""

import math

from engine import graph
from engine.kinds import is_real
from engine.mode import _anywhere, _mode, is_grad_enabled, no_grad
from engine.ops import (
    ADD,
    DIV,
    EXP,
    LOG,
    MUL,
    NEG,
    OPS,
    POW,
    POW_SCALAR,
    RELU,
    SIGMOID,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    WEIGHTED_SUM,
)

__all__ = ["Value", "Constant", "no_grad", "is_grad_enabled", "weighted_sum", "apply",
           "describe"]

_isfinite = math.isfinite


def _real(data, what="Value data"):
    """data as a finite float, or a TypeError / ValueError that says why not."""
    if type(data) is float and _isfinite(data):  # the common case, quickly
        return data
    if type(data) is not float and not is_real(data):
        raise TypeError(f"{what} must be a real number (int, float or numpy "
                        f"scalar), not {type(data).__name__}: {_shown(data)}")
    if not _is_finite(data):
        raise ValueError(f"{what} must be finite, got {_shown(data)}")
    return float(data)


def _is_finite(x):
    """True for a finite real number; False for nan, ±inf, an int beyond a
    float's range (math.isfinite raises OverflowError on it) or a non-number."""
    try:
        return _isfinite(x)
    except (OverflowError, TypeError):
        return False


def _shown(x):
    """repr(x), but an int too large for a float is shown by its size (its
    repr could run to thousands of digits, and Python refuses to make it)."""
    if isinstance(x, int) and x.bit_length() > 1024:
        return f"an int of about {int(x.bit_length() * 0.30103) + 1} digits"
    return repr(x)


class Value:
    """A scalar in the computation graph.

    data    -- the number (float)
    grad    -- d root / d self after ``root.backward()`` (float, 0.0 at first)
    label   -- a name for drawings and messages, e.g. 'w2_22' for (w_22)^2
    op      -- the name of the op that produced it ('' for a leaf)
    parents -- the Values it was computed from, in operand order
    constant -- True for a number that an op wrote into the graph (the 2 in 2·x)
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "constant")

    def __init__(self, data, label=""):
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self.data = _real(data)
        self.grad = 0.0
        self.label = label
        self.constant = False
        self.op = ""
        self.parents = ()

    # -- arithmetic: each operator applies one entry of the op table ----------
    def __add__(self, other):
        return _binary(ADD, self, other)

    def __radd__(self, other):
        return _binary(ADD, other, self)

    def __sub__(self, other):
        return _binary(SUB, self, other)

    def __rsub__(self, other):
        return _binary(SUB, other, self)

    def __mul__(self, other):
        return _binary(MUL, self, other)

    def __rmul__(self, other):
        return _binary(MUL, other, self)

    def __truediv__(self, other):
        return _binary(DIV, self, other)

    def __rtruediv__(self, other):
        return _binary(DIV, other, self)

    def __pow__(self, exponent):
        # x ** 2 (a plain number) differentiates only in x; x ** y (a Value)
        # in both. The two are separate ops in the table.
        if isinstance(exponent, Value):
            return _binary(POW, self, exponent)
        return _binary(POW_SCALAR, self, exponent)

    def __rpow__(self, base):
        return _binary(POW, base, self)

    def __neg__(self):
        return _unary(NEG, self)

    def exp(self):
        """e^x"""
        return _unary(EXP, self)

    def log(self):
        """ln x, for x > 0"""
        return _unary(LOG, self)

    def sqrt(self):
        """√x, for x >= 0"""
        return _unary(SQRT, self)

    def tanh(self):
        """tanh x; its derivative is 1 − tanh² x"""
        return _unary(TANH, self)

    def sigmoid(self):
        """σ(x) = 1 / (1 + e^−x); its derivative is σ(x)(1 − σ(x))"""
        return _unary(SIGMOID, self)

    def relu(self):
        """max(0, x); its derivative at 0 is taken as 0, as in PyTorch"""
        return _unary(RELU, self)

    def softplus(self):
        """ln(1 + e^x), computed so that it never overflows; its derivative is σ(x)"""
        return _unary(SOFTPLUS, self)

    # -- in place: p -= ε·p.grad under no_grad, as in PyTorch ----------------------
    # Under no_grad, x -= y changes x.data itself, so every list, network and
    # drawing that holds x sees the new number (the update loop of PyTorch). With
    # grad mode on, x -= y is x = x - y, a new node, as in micrograd: `total += loss`
    # keeps building the graph and the Value that total was is left unchanged.
    def __iadd__(self, other):
        if not _anywhere.open or _mode.enabled:
            return _binary(ADD, self, other)
        return _in_place(ADD, self, other)

    def __isub__(self, other):
        if not _anywhere.open or _mode.enabled:
            return _binary(SUB, self, other)
        return _in_place(SUB, self, other)

    def __imul__(self, other):
        if not _anywhere.open or _mode.enabled:
            return _binary(MUL, self, other)
        return _in_place(MUL, self, other)

    def __itruediv__(self, other):
        if not _anywhere.open or _mode.enabled:
            return _binary(DIV, self, other)
        return _in_place(DIV, self, other)

    # -- gradients -------------------------------------------------------------
    def backward(self, gradient=1.0):
        """Add d self / d node to ``.grad`` of every node of self's graph.

        Gradients accumulate, as in PyTorch: a second call without zeroing
        adds the same gradients again (exactly twice in total). Reset them
        with ``engine.zero_grad(self)`` or, for a model, ``model.zero_grad()``;
        a ``.grad`` set to None (PyTorch's reset) counts as no gradient yet.
        A result computed under ``no_grad`` has no graph: backward raises.
        """
        graph.backward(self, gradient)

    def detach(self):
        """A constant with this number: no graph, no gradient (as torch's detach).

        Like a result computed under ``no_grad``, backward() from it raises.
        """
        return _detached(Constant(self.data))

    # -- micrograd's names, so the lecture's code runs unchanged ------------------
    @property
    def _prev(self):
        """The set of the Values this one was computed from (micrograd's name;
        ``parents`` is the same, as a tuple in operand order)."""
        return set(self.parents)

    @property
    def _op(self):
        """The op as micrograd writes it: '+', '*', '**2', 'tanh' ('' for a leaf)."""
        if not self.parents:
            return ""
        return OPS[self.op].micrograd_op([p.data for p in self.parents])

    def _backward(self):
        """Add grad × d self/d parent to each parent's grad (micrograd's step).

        The lecture's backward pass by hand: call it on each node, root first,
        after setting root.grad = 1. The local derivatives come from the op
        table (engine.local_derivatives); nothing is stored on the node.
        """
        grad = self.grad or 0.0  # (None: no gradient yet)
        for parent, local in zip(self.parents, graph.local_derivatives(self)):
            parent.grad = (parent.grad or 0.0) + grad * local

    def backward_steps(self, gradient=1.0):
        """The backward pass one node at a time (a generator of BackwardStep)."""
        return graph.backward_steps(self, gradient)

    # -- comparisons -------------------------------------------------------------
    # <, <=, >, >= compare the numbers (so max(values) and `if loss < 0.1` work);
    # == and hash stay by identity, so Values can live in sets and dicts.
    def __lt__(self, other):
        return self.data < _number(other)

    def __le__(self, other):
        return self.data <= _number(other)

    def __gt__(self, other):
        return self.data > _number(other)

    def __ge__(self, other):
        return self.data >= _number(other)

    # -- conveniences ------------------------------------------------------------
    def __bool__(self):
        """False for 0.0, else True, as PyTorch and minitorch (``if loss:``)."""
        return self.data != 0.0

    def item(self):
        """The number, as in PyTorch's ``tensor.item()``."""
        return self.data

    def __float__(self):
        return self.data

    def __repr__(self):
        """Value(data=0.8958441028683222, grad=0.0, label='o'): every digit, as
        Python prints a float, so numbers compare with micrograd's and PyTorch's."""
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"


def Constant(data, label=""):
    """A plain number that an operation wrote into the graph: the 2 in 2·x.

    It is a leaf like any other, with ``.constant`` True: it is not something
    to learn, so drawings show it as a number, without a gradient. (A flag,
    not a subclass: one type of node keeps Python's attribute caches fast.)
    """
    value = Value(data, label)
    value.constant = True
    return value


def _number(x):
    return x.data if isinstance(x, Value) else x


# -- building nodes --------------------------------------------------------------

def _node(data, op, parents):
    """A new Value computed by op from parents (a leaf under no_grad)."""
    out = object.__new__(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.constant = False
    if not _anywhere.open or _mode.enabled:  # this thread's grad mode (engine/mode.py)
        out.op = op.name
        out.parents = parents
    else:
        out.op = ""
        out.parents = graph.NO_GRAPH  # a leaf that backward() refuses to start from
    return out


def _detached(value):
    value.parents = graph.NO_GRAPH
    return value


def _in_place(op, x, y):
    """x.data ← op(x.data, y) under no_grad: x stays the same object (PyTorch's p -= ...)."""
    if x.parents:
        symbol = op.micrograd_op((0.0, 0.0))
        raise RuntimeError(
            f"x {symbol}= y under no_grad changes x.data in place, but x = {describe(x)} "
            f"is the output of {x.op}: its graph would no longer match its number. "
            f"Change leaves (parameters) in place, or write x = x {symbol} y for a new Value")
    y_value = _as_value(y, op)
    if y_value is None:
        return NotImplemented
    x.data = _binary(op, x, y_value).data  # the op's own checks (÷ 0, overflow, nan)
    return x


def _as_value(x, op):
    """x as a Value: a number becomes a Constant leaf; other types -> None."""
    if isinstance(x, Value):
        return x
    if type(x) is float or type(x) is int or is_real(x):
        if not _is_finite(x):  # (the message is written only when it is needed)
            raise ValueError(f"{op}: a number operand must be finite, got {_shown(x)}")
        return Constant(x)
    return None


# Each op checks its result, and its operands too unless the op table says a
# non-finite operand always shows in the result (op.spreads): a Value whose
# .data was set by hand to nan or inf must not pass on silently, and some ops
# would turn it into a finite number (relu(nan) = 0, tanh(inf) = 1, 1/inf = 0).

def _binary(op, x, y):
    # One of x, y is a Value; the other may be a plain number.
    if not isinstance(x, Value) or not isinstance(y, Value):
        x, y = _as_value(x, op), _as_value(y, op)
        if x is None or y is None:
            return NotImplemented  # Python then raises its TypeError
    try:
        data = op.forward(x.data, y.data)
        finite = _isfinite(data) and (op.spreads or (_isfinite(x.data)
                                                     and _isfinite(y.data)))
    except (ArithmeticError, ValueError, TypeError) as error:
        raise _op_error(op, (x, y), error) from None
    if not finite:
        raise _op_error(op, (x, y), OverflowError())
    return _node(data, op, (x, y))


def _unary(op, x):
    try:
        data = op.forward(x.data)
        finite = _isfinite(data) and (op.spreads or _isfinite(x.data))
    except (ArithmeticError, ValueError, TypeError) as error:
        raise _op_error(op, (x,), error) from None
    if not finite:
        raise _op_error(op, (x,), OverflowError())
    return _node(data, op, (x,))


def weighted_sum(weights, inputs, bias=None):
    """z = Σ_k w_k·x_k + b as one node: the article's weighted input.

    Its local derivatives are dz/dw_k = x_k, dz/dx_k = w_k and dz/db = 1.
    weights and inputs are equal-length sequences of Values or numbers.
    """
    weights, inputs = tuple(weights), tuple(inputs)
    if len(weights) != len(inputs):
        raise ValueError(f"weighted_sum: {len(weights)} weights but "
                         f"{len(inputs)} inputs")
    parents = weights + inputs if bias is None else weights + inputs + (bias,)
    for operand in parents:
        if type(operand) is not Value:  # numbers become constant leaves
            parents = tuple(_as_value_or_raise(WEIGHTED_SUM, p) for p in parents)
            break
    # _record's steps, written out: this is the hot path of every network
    try:
        data = WEIGHTED_SUM.forward(*[p.data for p in parents])
    except (ArithmeticError, ValueError, TypeError) as error:
        raise _op_error(WEIGHTED_SUM, parents, error) from None
    if not _isfinite(data):  # Σ w·x + b spreads a nan or ±inf operand
        raise _op_error(WEIGHTED_SUM, parents, OverflowError())
    return _node(data, WEIGHTED_SUM, parents)


def apply(op, *operands):
    """op of the table applied to operands (Values or numbers), as one node.

    ``Value``'s operators and methods are this, made quick for one and two
    operands: ``apply(OPS['tanh'], z)`` is ``z.tanh()``.
    """
    return _record(op, tuple(_as_value_or_raise(op, x) for x in operands))


def _record(op, parents):
    """The node op computes from parents (Values), or op's error naming them."""
    try:
        datas = [p.data for p in parents]
        data = op.forward(*datas)
        finite = _isfinite(data) and (op.spreads or all(map(_isfinite, datas)))
    except (ArithmeticError, ValueError, TypeError) as error:
        raise _op_error(op, parents, error) from None
    if not finite:
        raise _op_error(op, parents, OverflowError())
    return _node(data, op, parents)


def _as_value_or_raise(op, x):
    value = _as_value(x, op)
    if value is None:
        raise TypeError(f"{op.name}: operands must be Values or real numbers, "
                        f"not {type(x).__name__}: {x!r}")
    return value


def describe(value):
    """'-1.5' or '-1.5 (w2_22)': a Value's number and label, for messages."""
    if value.label:
        return f"{_shown(value.data)} ({value.label})"
    return _shown(value.data)


def _op_error(op, operands, error):
    """The same kind of error, its message naming the op, values and labels."""
    names = op.operand_names(len(operands))
    listed = ", ".join(f"{name} = {describe(v)}" for name, v in zip(names, operands))
    where = f"{op.name} ({op.show(names)})"
    others = f"; got {listed}" if len(operands) > 1 else ""
    for name, v in zip(names, operands):  # an input that is not a finite number
        if not is_real(v.data):
            return TypeError(f"{where}: input {name} = {describe(v)} is a "
                             f"{type(v.data).__name__}, not a number (was its .data "
                             f"set by hand?){others}")
        if not _is_finite(v.data):
            return ValueError(f"{where}: input {name} = {describe(v)} is not a finite "
                              f"number (was its .data set by hand?){others}")
    if isinstance(error, OverflowError):
        reason = "the result overflows a float"  # Python's own text is cryptic
    else:
        reason = str(error) or type(error).__name__
    return type(error)(f"{where}: {reason}; got {listed}")
