"""engine: a scalar autograd engine.

    from engine import Value
    x = Value(2.0, label="x")
    y = x * x + x.tanh()
    y.backward()          # x.grad == dy/dx == 2x + 1 − tanh²(x)

Public API: Value, weighted_sum, apply, grad, gradcheck, no_grad, enable_grad,
zero_grad, topological_order, local_derivatives, and the op table OPS (ops.py),
where every op is defined. engine.notation reads and writes the article's names.
engine.compile turns a graph into straight-line Python (codegen.py);
compile_sgd_step and compile_sample_step are its training-step forms;
engine.compile(..., batch=[...]) runs one sample's code over numpy arrays of
a whole batch (batch.py).
"""

from engine import notation
from engine.codegen import Compiled, compile_sample_step, compile_sgd_step
from engine.codegen import compile as compile  # noqa: A004 (engine.compile, not in __all__)
from engine.gradcheck import GradcheckReport, gradcheck
from engine.graph import (
    BackwardStep,
    Send,
    backward_by_the_book,
    backward_steps,
    grad,
    local_derivatives,
    topological_order,
    zero_grad,
)
from engine.mode import enable_grad, is_grad_enabled, no_grad
from engine.ops import OPS, Formula, Mistake, Op
from engine.value import Constant, Value, apply, describe, weighted_sum

__all__ = ["Value", "Constant", "weighted_sum", "apply", "grad", "gradcheck",
           "GradcheckReport", "no_grad", "enable_grad", "is_grad_enabled", "zero_grad",
           "topological_order", "local_derivatives", "backward_by_the_book",
           "backward_steps", "BackwardStep", "Send", "OPS", "Op", "Formula", "Mistake",
           "describe", "notation", "Compiled", "compile_sgd_step", "compile_sample_step"]
# engine.compile is left out of __all__ so that `from engine import *` keeps
# Python's own compile().
