"""Costs: how far the network's output s is from the target y.

Each loss takes one output and one target, or equal-length sequences of them,
and returns the cost C as a Value labelled 'C'. Over a data set the cost is
the mean of the per-sample costs,

    C = (1/n) Σ_i cost(s_i, y_i),

so ∂C/∂w does not grow with the number of samples and one learning rate ε
serves any data-set size. The per-sample formulas are the ones matrix_backprop
uses, so the engine and the matrix form can be compared digit for digit.

    mse                   (s − y)²                 dC/ds = 2(s − y)
    binary_cross_entropy  softplus(s) − y·s        dC/ds = σ(s) − y   (s a logit)
    hinge                 max(0, 1 − y·s)          dC/ds = −y if y·s < 1, else 0
"""

import numbers
import sys
from typing import NamedTuple

from engine import Constant, Value, apply
from engine.kinds import is_real
from engine.ops import BINARY_CROSS_ENTROPY, HINGE, SQUARED_ERROR

__all__ = ["mse", "binary_cross_entropy", "hinge", "softplus", "LOSSES", "CLASSES", "Classes"]


def softplus(s):
    """softplus(s) = ln(1 + e^s), which never overflows; its derivative is σ(s)."""
    return _as_value(s, "softplus", "s").softplus()


def mse(pred, target):
    """Mean squared error: C = (1/n) Σ (s_i − y_i)², so dC/ds_i = 2(s_i − y_i)/n."""
    return _mean_cost("mse", SQUARED_ERROR, pred, target)


def binary_cross_entropy(logit, target):
    """Binary cross-entropy on logits: C = (1/n) Σ softplus(s_i) − y_i·s_i.

    s is the output before any sigmoid (a logit), y is 0 or 1. This equals
    −y·ln σ(s) − (1 − y)·ln(1 − σ(s)), but stays finite for any s, and its
    gradient is the familiar dC/ds_i = (σ(s_i) − y_i)/n. Build the network
    with output_activation="linear" (the default) for this loss.
    """
    for y in _as_targets("binary_cross_entropy", logit, target):
        if _number(y) not in (0.0, 1.0):  # as fit and matrix_backprop refuse them
            raise ValueError(f"binary_cross_entropy: targets must be 0 or 1, "
                             f"got {_number(y)!r}")
    return _mean_cost("binary_cross_entropy", BINARY_CROSS_ENTROPY, logit, target)


def hinge(score, target):
    """Hinge loss (micrograd's demo): C = (1/n) Σ max(0, 1 − y_i·s_i), y = ±1.

    A sample costs nothing once it is on the right side with margin 1
    (y·s >= 1); otherwise dC/ds_i = −y_i/n.
    """
    targets = _as_targets("hinge", score, target)
    for y in targets:
        if _number(y) not in (-1.0, 1.0):
            raise ValueError(f"hinge: targets must be -1 or +1, got {_number(y)!r} "
                             f"(map 0/1 labels with y = 2·label − 1)")
    return _mean_cost("hinge", HINGE, score, target)


# fit() and the command line look losses up by name.
LOSSES = {
    "mse": mse,
    "binary_cross_entropy": binary_cross_entropy,
    "bce": binary_cross_entropy,
    "hinge": hinge,
}


class Classes(NamedTuple):
    """How a loss tells two classes apart: what fit, predict and accuracy ask.

    labels   -- the two labels it is trained on (low, high), or None for any
                numbers (MSE); 0/1 labels are mapped onto them
    boundary -- the output s that splits the classes, or None for halfway
                between the labels (MSE on 0/1: s = 1/2)
    """
    labels: tuple | None
    boundary: float | None


CLASSES = {
    "binary_cross_entropy": Classes(labels=(0.0, 1.0), boundary=0.0),  # s is a logit
    "hinge": Classes(labels=(-1.0, 1.0), boundary=0.0),
    "mse": Classes(labels=None, boundary=None),
}


# -- helpers -----------------------------------------------------------------------

def _is_sequence(x):
    return not isinstance(x, (Value, numbers.Real)) and hasattr(x, "__len__")


def _as_value(x, loss_name, what):
    if isinstance(x, Value):
        return x
    if not is_real(x):
        raise TypeError(f"{loss_name}: {what} must be a Value or a real number, "
                        f"not {type(x).__name__}: {x!r}")
    return Value(x)


def _as_targets(loss_name, pred, target):
    """The targets as a list of floats, one per prediction (checked)."""
    targets = list(target) if _is_sequence(target) else [target]
    n_preds = len(pred) if _is_sequence(pred) else 1
    if _is_sequence(pred) != _is_sequence(target) or len(targets) != n_preds:
        raise ValueError(f"{loss_name}: {n_preds} prediction(s) but "
                         f"{len(targets)} target(s); give one target per prediction")
    checked = []
    for y in targets:
        if not isinstance(y, Value):
            if not is_real(y):
                raise TypeError(f"{loss_name}: targets must be real numbers or Values, "
                                f"not {type(y).__name__}: {y!r}")
            if not abs(y) <= sys.float_info.max:  # nan, ±inf or an int beyond a float
                raise ValueError(f"{loss_name}: targets must be finite numbers, got {y!r}")
            y = float(y)
        checked.append(y)  # a Value target gets its gradient, as in PyTorch
    return checked


def _number(y):
    return y.data if isinstance(y, Value) else y


def _mean_cost(loss_name, cost_op, pred, target):
    """C = (1/n) Σ cost(s_i, y_i), labelled 'C'; each cost(s_i, y_i) is one op."""
    targets = _as_targets(loss_name, pred, target)
    preds = list(pred) if _is_sequence(pred) else [pred]
    if not preds:
        raise ValueError(f"{loss_name}: no predictions (the mean of nothing is undefined)")
    # A number target becomes a constant named y (y_1, y_2, ... for several),
    # so explanations and drawings read C = (s − y)², as the article does.
    names = ["y"] if len(targets) == 1 else [f"y_{i}" for i in range(1, len(targets) + 1)]
    targets = [y if isinstance(y, Value) else Constant(y, label=name)
               for y, name in zip(targets, names)]
    costs = [apply(cost_op, _as_value(s, loss_name, "a prediction"), y)
             for s, y in zip(preds, targets)]
    total = costs[0]
    for cost in costs[1:]:
        total = total + cost
    cost = total / len(costs) if len(costs) > 1 else total
    cost.label = "C"
    return cost
