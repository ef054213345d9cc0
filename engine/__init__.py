"""engine: a scalar autograd engine.

    from engine import Value
    x = Value(2.0, label="x")
    y = x * x + x.tanh()
    y.backward()          # x.grad == dy/dx == 2x + 1 − tanh²(x)

Public API: Value, weighted_sum, grad, gradcheck, no_grad, enable_grad, zero_grad,
topological_order, and the op table OPS (ops.py), where every op is defined.
"""

from engine.gradcheck import GradcheckReport, gradcheck
from engine.graph import BackwardStep, Send, backward_steps, grad, topological_order, zero_grad
from engine.mode import enable_grad, is_grad_enabled, no_grad
from engine.ops import OPS, Op
from engine.value import Value, describe, weighted_sum

__all__ = ["Value", "weighted_sum", "grad", "gradcheck", "GradcheckReport",
           "no_grad", "enable_grad", "is_grad_enabled", "zero_grad", "topological_order",
           "backward_steps", "BackwardStep", "Send", "OPS", "Op", "describe"]
