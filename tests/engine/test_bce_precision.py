"""Binary cross-entropy on the logit keeps its digits at the edges.

C = ln(1 + e^s) − y·s. Written so, y = 1 and a large s cancel: the cost is
about e^−s, but ln(1 + e^s) − s loses it (0.0 from s = 36 on). The op
computes (max(s, 0) − y·s) + ln(1 + e^−|s|) instead, whose bracket is exact
for y = 0 or 1 (the same as (1 − y)·softplus(s) + y·softplus(−s)). It is checked
against an independent reference in decimal arithmetic (60 digits, no
floats), and against PyTorch's binary_cross_entropy_with_logits in float64
when torch is installed.
"""

import decimal
import math
import random

import pytest

from engine import Value
from engine.ops import OPS
from nn.losses import binary_cross_entropy

# s over [−750, 750]: a grid, the points where the old formula broke, random points
S_VALUES = sorted({*(k / 4 for k in range(-3000, 3001, 7)), -750.0, 750.0, 20.0, 36.0,
                   37.0, 40.0, 100.0, 709.0, 745.0, -36.0, -745.0, 0.0,
                   *(random.Random(16).uniform(-750.0, 750.0) for _ in range(300))})
SMALLEST = 5e-324  # the smallest positive float: the cost's resolution near 0


def _ln_one_plus_exp(u):
    """ln(1 + e^u) in decimal arithmetic, to about 50 significant digits."""
    with decimal.localcontext() as context:
        context.prec = 60
        u = decimal.Decimal(u)
        if u > 0:
            return u + _ln_one_plus_exp(-u)
        t = u.exp()  # 0 < t <= 1; decimal's exponent range goes far past float's
        if t < decimal.Decimal("1e-25"):  # ln(1 + t) = t − t²/2 + ..., the rest is below 60 digits
            return t - t * t / 2
        return (1 + t).ln()


def reference_bce(s, y):
    """C = ln(1 + e^s) − y·s for y in {0, 1}: ln(1 + e^s), or ln(1 + e^−s) when y = 1."""
    return float(_ln_one_plus_exp(s if y == 0 else -s))


def reference_gradient(s, y):
    """dC/ds = σ(s) − y = 1/(1 + e^−s) − y, in decimal arithmetic."""
    with decimal.localcontext() as context:
        context.prec = 60
        return float(1 / (1 + (-decimal.Decimal(s)).exp()) - decimal.Decimal(y))


def as_good(ours, theirs, exact):
    """ours equals theirs, or is nearer the exact number."""
    return close(ours, theirs) or abs(ours - exact) < abs(theirs - exact)


def close(got, expected, rel=1e-15):
    return abs(got - expected) <= rel * abs(expected) + 2 * SMALLEST


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_matches_a_decimal_reference_over_the_whole_range(y):
    wrong = [(s, OPS["binary_cross_entropy"].forward(s, y), reference_bce(s, y))
             for s in S_VALUES
             if not close(OPS["binary_cross_entropy"].forward(s, y), reference_bce(s, y))]
    assert not wrong, wrong[:5]


def test_bce_with_y_1_and_a_large_logit_is_e_to_the_minus_s_not_0():
    # the cases of the issue: 2.9e-7 relative error at s = 20, exactly 0.0 from 36 on
    for s in (20.0, 36.0, 40.0, 100.0, 700.0):
        cost = binary_cross_entropy(Value(s), 1.0)
        assert cost.data > 0.0
        assert cost.data == pytest.approx(math.exp(-s), rel=1e-15)
    assert binary_cross_entropy(Value(-40.0), 0.0).data == pytest.approx(math.exp(-40.0),
                                                                         rel=1e-15)


def test_the_reference_itself_sees_the_cancellation_of_the_old_formula():
    # ln(1 + e^s) − y·s in floats gives 0 at s = 40, y = 1: the reference does not
    old = max(40.0, 0.0) + math.log1p(math.exp(-40.0)) - 40.0
    assert old == 0.0 and reference_bce(40.0, 1.0) == pytest.approx(4.248354255291589e-18)


def test_bce_compiled_equals_the_graph_at_the_edges():
    from engine import compile

    s, y = Value(0.0, label="s"), Value(1.0, label="y")
    f = compile(binary_cross_entropy(s, y), [s])
    for x in (-750.0, -40.0, 0.0, 40.0, 750.0):
        cost, _ = f(x)
        assert cost == binary_cross_entropy(Value(x), 1.0).data


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_bce_and_its_gradient_match_pytorch_in_float64(y):
    torch = pytest.importorskip("torch")
    s = torch.tensor(S_VALUES, dtype=torch.float64, requires_grad=True)
    target = torch.full_like(s, y)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(s, target, reduction="none")
    (torch_grads,) = torch.autograd.grad(loss.sum(), s)
    for index, x in enumerate(S_VALUES):
        logit = Value(x)
        cost = binary_cross_entropy(logit, y)
        cost.backward()
        # PyTorch's number, or one nearer the exact number (PyTorch rounds
        # the smallest costs and gradients to 0 on one side)
        assert as_good(cost.data, loss[index].item(), reference_bce(x, y)), (x, cost.data)
        assert as_good(logit.grad, torch_grads[index].item(), reference_gradient(x, y)), \
            (x, logit.grad)
