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
    binary_cross_entropy_of_probability
                          −y ln p − (1 − y) ln(1 − p)   dC/dp = (p − y)/(p(1 − p))
                                                   (p = σ(z), a probability)
    hinge                 max(0, 1 − y·s)          dC/ds = −y if y·s < 1, else 0

Each loss expects a certain kind of output (OUTPUTS): a logit for
binary_cross_entropy and a score for hinge (a linear output layer), a
probability for binary_cross_entropy_of_probability (a sigmoid output layer).
fit checks the network's output_activation against it.
"""

import math
import numbers
import sys
from typing import NamedTuple

from engine import Constant, Value, apply
from engine.kinds import is_real
from engine.ops import (
    BINARY_CROSS_ENTROPY,
    BINARY_CROSS_ENTROPY_OF_PROBABILITY,
    HINGE,
    SQUARED_ERROR,
)

__all__ = ["mse", "binary_cross_entropy", "binary_cross_entropy_of_probability", "hinge",
           "softplus", "LOSSES", "CLASSES", "Classes", "OUTPUT_RANGES", "OUTPUTS"]


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


def binary_cross_entropy_of_probability(probability, target):
    """Binary cross-entropy of a probability (PyTorch's BCELoss):
    C = (1/n) Σ −y_i·ln p_i − (1 − y_i)·ln(1 − p_i), y = 0 or 1, 0 <= p <= 1.

    For a network whose output already applies the sigmoid
    (output_activation="sigmoid"), p = σ(z): through the sigmoid, dC/dz_i =
    (p_i − y_i)/n, as on logits. Each ln is kept above −100, as in PyTorch,
    so a saturated p = 0 or 1 costs 100 at most instead of inf (a logit and
    ``binary_cross_entropy`` keep every digit there).
    """
    for y in _as_targets("binary_cross_entropy_of_probability", probability, target):
        if _number(y) not in (0.0, 1.0):
            raise ValueError(f"binary_cross_entropy_of_probability: targets must be 0 or "
                             f"1, got {_number(y)!r}")
    return _mean_cost("binary_cross_entropy_of_probability",
                      BINARY_CROSS_ENTROPY_OF_PROBABILITY, probability, target)


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
    "binary_cross_entropy_of_probability": binary_cross_entropy_of_probability,
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
    "binary_cross_entropy_of_probability": Classes(labels=(0.0, 1.0), boundary=0.5),
    "hinge": Classes(labels=(-1.0, 1.0), boundary=0.0),
    "mse": Classes(labels=None, boundary=None),
}

# The interval an output activation puts s in (open ends: never reached).
OUTPUT_RANGES = {"linear": (-math.inf, math.inf), "tanh": (-1.0, 1.0),
                 "sigmoid": (0.0, 1.0), "relu": (0.0, math.inf)}

# What each loss takes as s, and the output activations that give it (a loss
# not listed takes any number, as MSE does).
OUTPUTS = {
    "binary_cross_entropy": (
        ("linear",), "a logit s, any real number (it applies σ itself, σ(s) = P(y = 1))"),
    "binary_cross_entropy_of_probability": (
        ("sigmoid",), "a probability p = σ(z) in [0, 1]"),
    "hinge": (
        ("linear",), "a score s that can pass ±1 (the margin is y·s >= 1)"),
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
    for what, x in (("target", target), ("prediction", pred)):
        if isinstance(x, (str, bytes)):
            raise TypeError(f"{loss_name}: the {what} is the text {x!r}, not a number; "
                            f"convert it first, e.g. float({x!r})")
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
