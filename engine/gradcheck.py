"""Checking gradients against central finite differences.

For each input x_i, the numeric derivative is

    (f(x_i + ε) − f(x_i − ε)) / 2ε

whose error shrinks like ε², and it must agree with autograd's d f / d x_i
within |analytic − numeric| <= atol + rtol·|numeric| (numpy.isclose's rule).
"""

import math
from typing import NamedTuple

from engine.graph import grad
from engine.kinds import is_real
from engine.mode import enable_grad
from engine.value import Value

__all__ = ["gradcheck", "GradcheckReport", "GradcheckRow"]


class GradcheckRow(NamedTuple):
    label: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool


class GradcheckReport:
    """The result of ``gradcheck``: truthy only when every input agrees."""

    def __init__(self, rows, eps, atol, rtol):
        self.rows = rows
        self.eps, self.atol, self.rtol = eps, atol, rtol

    def __bool__(self):
        return all(row.ok for row in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        verdict = "all agree" if self else "MISMATCH"
        lines = [f"gradcheck (central differences, eps={self.eps:g}, "
                 f"atol={self.atol:g}, rtol={self.rtol:g}): {verdict}",
                 f"{'input':<12} {'analytic':>16} {'numeric':>16} "
                 f"{'abs err':>10} {'rel err':>10}  ok"]
        for row in self.rows:
            lines.append(f"{row.label:<12} {row.analytic:>16.9g} {row.numeric:>16.9g} "
                         f"{row.abs_error:>10.2e} {row.rel_error:>10.2e}  "
                         f"{'yes' if row.ok else 'NO'}")
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        head = "".join(f"<th>{h}</th>" for h in
                       ("input", "analytic", "numeric", "abs err", "rel err", "ok"))
        body = "".join(
            f"<tr><td>{_html(row.label)}</td><td>{row.analytic:.9g}</td>"
            f"<td>{row.numeric:.9g}</td><td>{row.abs_error:.2e}</td>"
            f"<td>{row.rel_error:.2e}</td><td>{'✓' if row.ok else '✗'}</td></tr>"
            for row in self.rows)
        verdict = "all agree" if self else "<b>MISMATCH</b>"
        return (f"<p>gradcheck, eps={self.eps:g}: {verdict}</p>"
                f"<table><tr>{head}</tr>{body}</table>")


def _html(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-5):
    """Compare autograd's gradient of f(*inputs) with central differences.

    f      -- a function of Values returning a scalar Value
    inputs -- the Values (or numbers) to differentiate with respect to
    Returns a GradcheckReport (one row per input; truthy when all agree).
    Every input's data is restored afterwards, and no ``.grad`` is touched.
    f runs with gradients enabled, even inside ``no_grad``: its graph is what
    is checked, and f may itself take a derivative (``grad(..., create_graph=True)``).
    """
    eps = _tolerance("eps", eps, positive=True)
    atol, rtol = _tolerance("atol", atol), _tolerance("rtol", rtol)
    inputs = [x if isinstance(x, Value) else Value(x, label=f"x{i + 1}")
              for i, x in enumerate(inputs)]
    with enable_grad():
        output = f(*inputs)
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck: f must return a Value, not {type(output).__name__}")
    analytic = grad(output, inputs)

    rows = []
    for i, (x, a) in enumerate(zip(inputs, analytic)):
        original = x.data
        try:
            with enable_grad():
                x.data = original + eps
                f_plus = f(*inputs).data
                x.data = original - eps
                f_minus = f(*inputs).data
        finally:
            x.data = original
        numeric = (f_plus - f_minus) / (2 * eps)
        abs_error = abs(a - numeric)
        rel_error = abs_error / max(abs(numeric), abs(a), 1e-300)
        ok = abs_error <= atol + rtol * abs(numeric)
        rows.append(GradcheckRow(x.label or f"x{i + 1}", a, numeric,
                                 abs_error, rel_error, ok))
    return GradcheckReport(rows, eps, atol, rtol)


def _tolerance(name, x, positive=False):
    """x as a finite float >= 0 (> 0 if positive), or a ValueError naming it."""
    bound = "> 0" if positive else ">= 0"
    if not is_real(x):
        raise TypeError(f"gradcheck: {name} must be a number {bound}, not "
                        f"{type(x).__name__}: {x!r}")
    try:
        x = float(x)
    except OverflowError:  # an int too large for a float
        x = math.inf
    if not math.isfinite(x) or x < 0.0 or (positive and x == 0.0):
        raise ValueError(f"gradcheck: {name} must be a finite number {bound}, got {x!r}")
    return x
