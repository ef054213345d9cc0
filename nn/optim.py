"""Gradient descent: w ← w − ε ∂C/∂w for every weight and bias.

    opt = SGD(net.parameters(), lr=0.1)
    for epoch in range(100):
        cost = mse([net(x) for x in X], y)
        opt.zero_grad()      # gradients accumulate, so clear last step's
        cost.backward()      # ∂C/∂w into every w.grad
        opt.step()           # w ← w − ε ∂C/∂w
"""

import math

from engine import Value
from engine.kinds import is_real

__all__ = ["SGD"]


class SGD:
    """Stochastic gradient descent, with optional momentum (PyTorch's convention).

    params   -- the Values to train (e.g. ``net.parameters()``)
    lr       -- the learning rate ε > 0
    momentum -- μ in [0, 1). With μ > 0 each parameter keeps a velocity v:
                v ← μ·v + ∂C/∂w, then w ← w − ε·v  (v starts at ∂C/∂w).
                With μ = 0 this is the article's w ← w − ε ∂C/∂w.

    ``step()`` changes ``.data`` in place, so every parameter stays the same
    Value object: a network, a drawing or a list that holds it sees the update.
    A parameter whose ``.grad`` is None (no gradient yet) is skipped, as in PyTorch.
    """

    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"SGD: parameter {i} is a {type(p).__name__}, "
                                f"not a Value; pass net.parameters()")
        if len({id(p) for p in self.params}) != len(self.params):
            # A parameter listed twice would be updated twice per step.
            raise ValueError("SGD: a parameter appears more than once in params")
        self.lr = _positive_number("lr", lr)
        if (not is_real(momentum)
                or not 0.0 <= momentum < 1.0):
            raise ValueError(f"SGD: momentum must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocities = [None] * len(self.params)  # v per parameter, once stepped

    def zero_grad(self):
        """Set ∂C/∂w = 0 for every parameter (gradients accumulate otherwise)."""
        for p in self.params:
            p.grad = 0.0

    def step(self):
        """One update of every parameter: w ← w − ε ∂C/∂w (or −ε·v with momentum)."""
        lr, momentum = self.lr, self.momentum
        # Every update is computed first and written only if all are finite:
        # a step that overflows raises and leaves parameters and velocities as
        # they were. (Plain floats: the update records no graph, it is not part of C.)
        velocities, updated = [], []
        for i, p in enumerate(self.params):
            gradient = p.grad
            if gradient is None:  # no gradient yet (PyTorch's grad = None): left as it is
                velocities.append(self.velocities[i])
                updated.append(p.data)
                continue
            if momentum:
                previous = self.velocities[i]
                gradient = gradient if previous is None else momentum * previous + gradient
                velocities.append(gradient)
            new = p.data - lr * gradient
            if not math.isfinite(new):
                name = f"'{p.label}'" if p.label else f"parameter {i}"
                raise FloatingPointError(
                    f"SGD.step: the update of {name} would make it {new} (w = {p.data!r}, "
                    f"dC/dw = {p.grad!r}, lr = {lr:g}); nothing was changed")
            updated.append(new)
        for p, new in zip(self.params, updated):
            p.data = new
        if momentum:
            self.velocities = velocities

    def step_from(self, gradients):
        """zero_grad(), ∂C/∂w = gradients (floats, one per parameter), step(): in one pass.

        The same numbers as the three calls (fit's batch path, whose compiled
        code hands the gradients over as numbers, steps this way: fewer loops).
        """
        if self.momentum:
            self.zero_grad()
            for p, g in zip(self.params, gradients):
                p.grad += g
            self.step()
            return
        lr, params = self.lr, self.params
        grads = [0.0 + g for g in gradients]  # 0.0 + g: what zero_grad then backward leave
        updated = [p.data - lr * g for p, g in zip(params, grads)]
        if not math.isfinite(sum(updated)):  # let step() find the culprit and refuse
            for p, g in zip(params, grads):
                p.grad = g
            self.step()
            return
        for p, g, new in zip(params, grads, updated):
            p.grad = g
            p.data = new

    def __repr__(self):
        return f"SGD({len(self.params)} parameters, lr={self.lr:g}, momentum={self.momentum:g})"


def _positive_number(name, x):
    if (not is_real(x)
            or not _finite(x) or x <= 0):
        raise ValueError(f"SGD: {name} must be a positive number (finite), got {x!r}")
    return float(x)


def _finite(x):
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False
