"""engine.compile(..., batch=...): the same straight-line code, every sample at once.

The graph is one sample's: C_i = cost(s_i, y_i) from that sample's x_i and y_i
and the shared parameters w. ``batch`` names the inputs that vary per sample
(x, y); the compiled function takes a numpy array for each of those and a
number for each other input:

    f = engine.compile(C, net.parameters() + x + [y], wrt=net.parameters(),
                       batch=x + [y])
    costs, gradients = f(*weights, *columns_of_X, y_array)
    # costs[i] = C_i;  gradients[k] = Σ_i ∂C_i/∂w_k

The code is the scalar code's, line for line and with the same names; only
what a name holds changes. A node that depends on a per-sample input holds
an array (its value in every sample), so ``a3_2 = np.tanh(z3_2)`` computes
a3_2 for the whole batch; a node of shared inputs only stays a number. In the
backward pass dC/d(node) of a per-sample node is an array too, one local
gradient per sample, and where a shared input's gradient is formed the
per-sample terms are added up, visibly:

    dC_dw2_22 = dC_dz3_2 @ a2_2  # Σ over the batch

(``u @ v`` of two arrays of the batch is Σ_i u_i·v_i.) That is the article's
matrix form, δ^l = ((W^l)ᵀ δ^{l+1}) ⊙ f'(z^l) and ∂C/∂W^l = δ^{l+1} (a^l)ᵀ,
reached from the chain rule instead of derived by hand: the sum over k in
the matrix product is the sum over a node's children, and the sum over the
batch is the one written above.

Sum or mean. The graph says what one sample costs; how the samples combine
is the caller's: ``reduction="sum"`` (the default) gives Σ_i ∂C_i/∂w, and
``reduction="mean"`` gives (1/n) Σ_i ∂C_i/∂w, the gradient of the mean cost
that nn's losses use. The mean is written as the backward pass's seed,
dC/dC_i = 1/n for every sample, as backward() of a mean over a batch sends
each sample's cost. The values returned are the per-sample C_i either way.

Every op's array form comes from the op table (``Formula.array``: numpy
functions, np.where for branches, or the Python form where that already
works on arrays), so an op added to the table works here with no other edit.

Numbers, not digits: numpy's tanh and exp and its summation order may differ
from Python's math in the last bit, so results agree with the scalar
compiled code and backward() to about 1e-15 relative per sample (the sums to
about 1e-13), not to ==.

Refusals: inf or nan in an argument is refused naming the argument and the
sample. The code runs under np.errstate(raise), so any overflow, division by
zero or invalid operation (log of x <= 0, sqrt of x < 0, ...) stops it; the
batch is then done again one sample at a time by the engine itself, which
raises the engine's error for the first sample that has one, prefixed with
that sample's index (or, where only the array code went astray, e.g. both
branches of np.where computed, returns the engine's numbers).
"""

import numpy as np

from engine import codegen
from engine.codegen import _atom, _describe, _leaves, _number, _returns, _sum_statements, _term
from engine.graph import grad
from engine.ops import ARRAY_NAMES, OPS

__all__ = ["compile_batch", "BatchCompiled"]

REDUCTIONS = ("sum", "mean")


def compile_batch(output, inputs, wrt=None, batch=(), reduction="sum", outputs=()):
    """output over a batch as a Python function of inputs: see the module docstring.

    output    -- a Value: one sample's result (e.g. its cost C)
    inputs    -- leaf Values; they become the function's arguments, in order
    wrt       -- the inputs to differentiate with respect to (default: all)
    batch     -- the inputs that vary per sample: arrays in the call
    reduction -- 'sum': Σ_i ∂C_i/∂w for a shared input w; 'mean': (1/n) Σ_i
    outputs   -- other nodes whose per-sample values to return as well (e.g. s)

    ``f(*arguments)`` returns ``(values, gradients)``: output's value for every
    sample (an array) and one gradient per ``wrt`` input, reduced over the
    batch for a shared input, an array (one per sample) for a per-sample one.
    With ``outputs``, ``(values, gradients, output_values)``.
    """
    inputs = _leaves(inputs, "inputs")
    wrt = list(inputs) if wrt is None else _leaves(wrt, "wrt")
    batch = _leaves(batch, "batch")
    for what, values in (("wrt", wrt), ("batch", batch)):
        for v in values:
            if not any(v is x for x in inputs):
                raise ValueError(f"compile: {what} must be among the inputs; "
                                 f"{_describe(v)} is not")
    if not batch:
        raise ValueError("compile: batch names no input; without per-sample inputs "
                         "use engine.compile(output, inputs) as it is")
    if reduction not in REDUCTIONS:
        raise ValueError(f"compile: reduction must be 'sum' or 'mean', got {reduction!r}")
    seen = set()
    for leaf in inputs:
        if leaf in seen:
            raise ValueError(f"compile: {_describe(leaf)} is listed twice")
        seen.add(leaf)
    if not isinstance(output, codegen.Value):
        raise TypeError(f"compile: output must be a Value, not {type(output).__name__}")
    program = _BatchProgram(output, inputs, wrt, batch, list(outputs))
    function = _define(program.source, program.function_name)
    return BatchCompiled(program, function, reduction)


def _define(source, function_name):
    """The generated function, with numpy and the array forms' functions as its globals."""
    namespace = dict(ARRAY_NAMES)
    code = compile(source, f"<engine.compile batch #{next(codegen._compiled_count)}>", "exec")
    exec(code, namespace)
    return namespace[function_name]


class BatchCompiled:
    """A graph compiled over a batch. Call it like the function it wraps.

    source   -- the generated code (``print(f)`` shows it)
    function -- the generated function itself: no argument checks, no
                errstate, no replay (fast, but it trusts its arguments)
    replays  -- how many calls fell back to the engine, one sample at a time
    """

    def __init__(self, program, function, reduction):
        self.source = program.source
        self.function = function
        self.reduction = reduction
        self.replays = 0
        self._program = program

    def __call__(self, *arguments):
        values, gradients, outputs = self.run(arguments)
        if self._program.outputs:
            return values, gradients, outputs
        return values, gradients

    def run(self, arguments, sample_names=None):
        """(values, gradients, output values) for these arguments, checked.

        sample_names -- what to call sample i in an error (default: i itself),
                        e.g. its row in the whole data set for a minibatch
        """
        arguments, n = self.arguments(arguments)
        seed = np.full(n, 1.0 / n if self.reduction == "mean" else 1.0)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                values, gradients, outputs = self.function(*arguments, seed)
            # an op's np.where may hold a nan it made without an invalid operation
            if np.isfinite(sum(gradients)).all():
                return values, gradients, outputs
        except (ArithmeticError, ValueError, TypeError):
            pass
        self.replays += 1
        return self._one_sample_at_a_time(arguments, n, sample_names)

    def arguments(self, arguments):
        """(the arguments as floats and float arrays, the batch size n), checked."""
        program = self._program
        names = program.input_names
        if len(arguments) != len(names):
            raise TypeError(f"{program.signature} takes {len(names)} arguments "
                            f"({', '.join(names)}), got {len(arguments)}")
        checked, n = [], None
        for position, (x, leaf, name) in enumerate(zip(arguments, program.inputs, names),
                                                   start=1):
            what = f"argument {position} ({name})"
            if leaf not in program.batch_set:
                checked.append(x if type(x) is float else _number(x, what))
                continue
            array = np.asarray(x, dtype=float) if not isinstance(x, np.ndarray) \
                or x.dtype != np.float64 else x
            if array.ndim != 1:
                raise ValueError(f"{what} must be a 1-D array, one number per sample; "
                                 f"got shape {array.shape}")
            if n is None:
                n = len(array)
            elif len(array) != n:
                raise ValueError(f"{what} has {len(array)} samples, the arguments "
                                 f"before it {n}")
            if not np.isfinite(array).all():
                i = np.flatnonzero(~np.isfinite(array))[0]
                raise ValueError(f"{what} must be finite; sample {i} is {array[i]}")
            checked.append(array)
        if not n:
            raise ValueError(f"{program.signature}: the batch has no samples")
        return checked, n

    def _one_sample_at_a_time(self, arguments, n, sample_names):
        """The batch by the engine itself: its error, naming the sample, or its numbers."""
        program = self._program
        batch = [leaf in program.batch_set for leaf in program.inputs]
        scale = 1.0 / n if self.reduction == "mean" else 1.0
        values, per_sample, outputs = [], [], []
        for i in range(n):
            numbers = [float(a[i]) if varies else a for a, varies in zip(arguments, batch)]
            try:
                new = program.replay(numbers)
                root = new[program.output]
                gradients = grad(root, [new[w] for w in program.returned])
            except (ArithmeticError, ValueError) as error:
                name = i if sample_names is None else sample_names[i]
                raise _in_sample(error, name) from error
            values.append(root.data)
            per_sample.append([g * scale for g in gradients])
            outputs.append([new[v].data for v in program.outputs])
        gradients = []
        for k, w in enumerate(program.returned):
            column = [g[k] for g in per_sample]
            if w in program.batch_set:
                gradients.append(np.array(column))
            else:
                total = column[0]
                for g in column[1:]:
                    total = total + g
                gradients.append(total)
        outputs = tuple(np.array(column) for column in zip(*outputs)) if outputs else ()
        return np.array(values), tuple(gradients), outputs

    def __str__(self):
        return self.source

    def __repr__(self):
        return (f"<compiled over a batch {self._program.signature}: "
                f"{self._program.node_count} nodes, {self.source.count(chr(10))} lines>")


def _in_sample(error, name):
    """The engine's error again, with 'sample i: ' in front."""
    try:
        return type(error)(f"sample {name}: {error}")
    except TypeError:
        return error


class _BatchProgram(codegen._Program):
    """The scalar program's names and lines, with arrays where samples differ."""

    def __init__(self, output, inputs, wrt, batch, outputs):
        self.batch_set = set(batch)
        super().__init__(output, "forward_backward", (), inputs, wrt, wrt, "batch", outputs)

    # -- which nodes differ between samples ----------------------------------------------
    def _varies(self):
        varies = {}
        for node in self.order:
            varies[node] = node in self.batch_set or any(varies[p] for p in node.parents)
        return varies

    # -- forward: one line per node, arrays where the node varies -------------------------
    def _forward(self):
        self.varies = self._varies()
        lines = []
        for node in self.constants:
            lines.append(f"{self.expression[node]} = {node.data!r}  # a constant (not an argument)")
        self._forward_names = []
        self._reading_order = codegen._reading_order(self.output)
        self._array_names = {self.expression[x] for x in self.inputs if x in self.batch_set}
        for node in self._reading_order:
            if not node.parents:
                continue
            name = self.expression[node]
            operands = [self.expression[p] for p in node.parents]
            how = "array" if self.varies[node] else "python"
            formula = OPS[node.op].show(operands, out=name, how=how)
            lines.extend(codegen._wrap(f"{name} = {formula}"))
            self._forward_names.append(name)
            if self.varies[node]:
                self._array_names.add(name)
        return lines

    # -- backward: one chain-rule step per line; Σ over the batch into shared nodes --------
    def _backward(self):
        wanted = set(self.checked)
        needed = {}
        for node in self.order:
            needed[node] = node in wanted or any(needed[p] for p in node.parents)
        edges_left = {}
        for node in self.order:
            for parent in node.parents:
                if parent in wanted:
                    edges_left[parent] = edges_left.get(parent, 0) + 1
        # dC/d(node) is an array where the node varies, and for the output: the
        # seed is one gradient per sample (1, or 1/n for a mean)
        self._array_gradient = {node: self.varies[node] for node in self.order}
        self._array_gradient[self.output] = True
        terms = {}  # node -> [(g, local, is g an array?)]
        lines = []
        seed = "gradient"
        if self.output in wanted:
            terms[self.output] = [(seed, "1.0", True)]
            lines.extend(self._gradient_lines(self.output, terms))
        for node in reversed(self.order):
            if not node.parents or not needed[node]:
                continue
            if node is self.output:
                g = seed
                self.gradient_names[node] = seed
            else:
                lines.extend(self._gradient_lines(node, terms))
                g = self.gradient_names[node]
            operands = [self.expression[p] for p in node.parents]
            how = "array" if self.varies[node] else "python"
            locals_ = OPS[node.op].show_locals(operands, out=self.expression[node], how=how)
            for index, parent in enumerate(node.parents):
                if not needed[parent]:
                    continue
                terms.setdefault(parent, []).append(
                    (g, locals_[index], self._array_gradient[node]))
                if parent in edges_left:
                    edges_left[parent] -= 1
                    if edges_left[parent] == 0:
                        lines.extend(self._gradient_lines(parent, terms))
        for leaf in self.checked:
            if leaf not in self.gradient_names:
                lines.extend(self._gradient_lines(leaf, terms))
        return lines

    def _gradient_lines(self, node, terms):
        name = self._gradient_name(node)
        received = terms.pop(node, [])
        if self._array_gradient[node]:  # one gradient per sample: as in the scalar code
            return _sum_statements(name, [_term(g, local) for g, local, _ in received], False)
        summed = []  # a shared node: what each sample sends it, added up
        for g, local, per_sample in received:
            summed.append(self._sum_over_batch(g, local) if per_sample else _term(g, local))
        comment = "  # Σ over the batch" if any(p for _, _, p in received) else ""
        return _sum_statements(name, summed, False, comment)

    def _sum_over_batch(self, g, local):
        """Σ_i g_i · local_i as (sign, text): g @ x for two arrays, g.sum() for 1."""
        if local == "1.0":
            return ("+", f"{g}.sum()")
        if local == "-1.0":
            return ("-", f"{g}.sum()")
        if local in self._array_names:
            return ("+", f"{g} @ {local}")
        return ("+", f"({g} * {_atom(local)}).sum()")

    # -- the function --------------------------------------------------------------------
    def _function(self, function_name, arguments, forward, backward):
        root = self.expression[self.output]
        returned = [self.gradient_names[v] for v in self.returned]
        batch_names = [self.expression[x] for x in self.inputs if x in self.batch_set]
        signature = ", ".join(list(arguments) + ["gradient"])
        self.signature = f"{function_name}({signature})"
        lines = codegen._break(f"def {function_name}(",
                               [f"{a}, " for a in signature.split(", ")[:-1]] + ["gradient"],
                               "):", " " * (len(function_name) + 5), 0)
        lines.append(f'    """{root} for every sample (arrays: {codegen._list(batch_names)}) '
                     f'and its gradient."""')
        body = ["# forward pass: each node from its operands, every sample at once",
                *forward,
                f"# backward pass: d{root}/d(node) for every sample, one chain-rule step "
                f"per line;",
                "# gradient is dC/dC_i (1, or 1/n for a mean); a shared input's gradient "
                "adds up the samples'",
                *backward]
        self.body_without_return = list(body)
        outputs = ", ".join(self.expression[v] for v in self.outputs)
        outputs += "," if outputs else ""
        body.extend(_returns(f"return {root}, (", returned, f"), ({outputs})"))
        self.header = lines
        return "\n".join(lines + ["    " + line for line in body]) + "\n"
