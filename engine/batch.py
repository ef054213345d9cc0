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
a3_2 for the whole batch; a node of shared inputs only stays a number (read
once by an add, as an L2 term's p·p is, it is written inside that add:
add_4 = add_3 + (w_4 * w_4), and the add passes its gradient on without a
line of its own). In the
backward pass dC/d(node) of a per-sample node is an array too, one local
gradient per sample, and where a shared input's gradient is formed the
per-sample terms are added up, visibly:

    dC_dw2_22 = float(dC_dz3_2 @ a2_2)  # Σ over the batch

(``u @ v`` of two arrays of the batch is Σ_i u_i·v_i; float() keeps a shared
number a Python float, as fast to compute with as in the scalar code.) That is
the article's matrix form, δ^l = ((W^l)ᵀ δ^{l+1}) ⊙ f'(z^l) and
∂C/∂W^l = δ^{l+1} (a^l)ᵀ, reached from the chain rule instead of derived by
hand: the sum over k in the matrix product is the sum over a node's
children, and the sum over the batch is the one written above.

``matrices=True`` writes it as the matrix form itself: the weighted sums of a
layer (the same operands, each neuron its own weights and bias) become one
line ``z3 = w2 @ a2 + b2``, whose rows are z3_1 ... z3_4, an op applied to
every row one line ``a3 = np.tanh(z3)``, and backward ``dC_da2 = w2.T @ dC_dz3``
and ``dC_dw2 = dC_dz3 @ a2.T``. The same numbers with a few numpy calls per
layer instead of a few per node: fit(compile="batch") uses it. The code then
takes each layer's W^l (row j, column k holds w_jk) and b^l (a column) as
arguments and returns dC/dW^l and dC/db^l the same way; ``f(*numbers)`` still
takes and returns one number per parameter (packing them on the way), and
``f.pack``, ``f.unpack`` and ``f.run(..., packed=True)`` let a training loop
keep the matrices (see BatchCompiled). A penalty summed over every parameter,
micrograd's α Σ p·p, is written over the matrices too: ``mul_w2 = w2 * w2``
and ``float(mul_w2.sum())`` in the sum, not a line per parameter.

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

import gc
import linecache
import math
import operator
import re
import weakref

import numpy as np

from engine import codegen
from engine.codegen import (
    _atom,
    _describe,
    _leaves,
    _number,
    _reaches,
    _returns,
    _sum_statements,
    _term,
)
from engine.graph import grad
from engine.ops import ARRAY_NAMES, OPS, WEIGHTED_SUM

__all__ = ["compile_batch", "BatchCompiled"]

REDUCTIONS = ("sum", "mean")


def compile_batch(output, inputs, wrt=None, batch=(), reduction="sum", outputs=(),
                  matrices=False):
    """output over a batch as a Python function of inputs: see the module docstring.

    output    -- a Value: one sample's result (e.g. its cost C)
    inputs    -- leaf Values; they become the function's arguments, in order
    wrt       -- the inputs to differentiate with respect to (default: all)
    batch     -- the inputs that vary per sample: arrays in the call
    reduction -- 'sum': Σ_i ∂C_i/∂w for a shared input w; 'mean': (1/n) Σ_i
    outputs   -- other nodes whose per-sample values to return as well (e.g. s)
    matrices  -- True: the weighted sums of a layer (same operands x, each its
                 own weights and bias) as one matrix product, Z = W @ X + b, and
                 the elementwise ops on them as one line; the same numbers, a few
                 numpy calls per layer instead of a few per node (_MatrixProgram)

    ``f(*arguments)`` returns ``(values, gradients)``: output's value for every
    sample (an array) and one gradient per ``wrt`` input, reduced over the
    batch for a shared input, an array (one per sample) for a per-sample one.
    With ``outputs``, ``(values, gradients, output_values)``.
    """
    inputs = _leaves(inputs, "inputs")
    wrt = list(inputs) if wrt is None else _leaves(wrt, "wrt")
    batch = _leaves(batch, "batch")
    arguments = set(inputs)
    for what, values in (("wrt", wrt), ("batch", batch)):
        for v in values:
            if v not in arguments:
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
    kind = _MatrixProgram if matrices else _BatchProgram
    # Writing the code makes many small strings that all live to the end: the
    # garbage collector's passes over them (and over the graph) find nothing
    # to free and, for a graph of a few thousand nodes, took most of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        program = kind(output, inputs, wrt, batch, list(outputs))
        function = _define(program.source, program.function_name)
    finally:
        if collecting:
            gc.enable()
    return BatchCompiled(program, function, reduction)


def _define(source, function_name):
    """The generated function, with numpy and the array forms' functions as its globals.

    The source goes into linecache, so tracebacks and debuggers show its lines."""
    filename = f"<engine.compile batch #{next(codegen._compiled_count)}>"
    namespace = dict(ARRAY_NAMES)
    exec(compile(source, filename, "exec"), namespace)
    function = namespace[function_name]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function


class BatchCompiled:
    """A graph compiled over a batch. Call it like the function it wraps.

    ``f(*arguments)`` takes one argument per input, in the order given to
    compile, and returns one gradient per ``wrt`` input. The generated code
    itself takes the shared inputs first, packed as it reads them (with
    ``matrices=True`` a layer's weights are one array, W^l, and its biases one
    column, b^l), then the batch's arrays: ``f.pack`` and ``f.unpack`` turn a
    list of shared numbers into those arguments and back, and
    ``f.run(..., packed=True)`` takes and gives them, so a training loop can
    keep its parameters as matrices (w ← w − ε ∂C/∂w on a whole W^l at once):

        shared = f.pack([p.data for p in parameters])     # [w1, b1, w2, ...]
        for step in range(100):
            costs, gradients, _ = f.run(shared + data, packed=True)
            shared = [w - 0.05 * g for w, g in zip(shared, gradients)]

    source       -- the generated code (``print(f)`` shows it)
    function     -- the generated function itself: no argument checks, no
                    errstate, no replay (fast, but it trusts its arguments)
    packed_names -- the names of the shared arguments as the code takes them
    packed_wrt   -- the names of those whose gradients ``packed=True`` returns
                    (the ones holding a ``wrt`` input), in that order
    replays      -- how many calls fell back to the engine, one sample at a time
    """

    def __init__(self, program, function, reduction):
        self.source = program.source
        self.function = function
        self.reduction = reduction
        self.replays = 0
        self._program = program
        self._seeds = {}  # n -> the seed array, dC/dC_i for each of n samples
        position = {leaf: k for k, leaf in enumerate(program.inputs)}
        shared = [a for a in program.arguments if not a.batch]
        self.packed_names = [a.name for a in shared]
        self.packed_wrt = [a.name for a in program.returned_arguments]
        self._shared_positions = [k for k, leaf in enumerate(program.inputs)
                                  if leaf not in program.batch_set]
        shared_position = {k: i for i, k in enumerate(self._shared_positions)}
        # packing: each argument of the code from the shared numbers (in inputs' order)
        self._packing = [([shared_position[position[leaf]] for leaf in a.leaves], a.shape)
                         for a in shared]
        self._taking = [(operator.itemgetter(*places), shape)  # (one place: the number)
                        for places, shape in self._packing]
        self._batch_positions = [position[a.leaves[0]] for a in program.arguments if a.batch]
        # unpacking: the returned arguments' numbers one after another, then each wrt
        # input's gradient picked out of them
        where = {leaf: k for k, leaf in enumerate(program.gradient_leaves)}
        self._gradient_places = [where[w] for w in program.returned]
        self._matrix_returned = [a.shape is not None for a in program.returned_arguments]
        # no per-sample input among wrt: every gradient (unpacked) is one number
        self._numbers_only = not any(a.batch for a in program.returned_arguments)

    def __call__(self, *arguments):
        values, gradients, outputs = self.run(arguments)
        if self._program.outputs:
            return values, gradients, outputs
        return values, gradients

    # -- packing: the inputs as the code takes them ----------------------------------------
    def pack(self, shared):
        """The shared inputs' numbers (in inputs' order) as the code's arguments:
        with matrices=True, each layer's weights one array W^l (row j, column k
        holds w_jk) and its biases one column b^l; other numbers as they are."""
        if len(shared) != len(self._shared_positions):
            raise TypeError(f"pack: {len(self._shared_positions)} shared inputs "
                            f"({', '.join(self.packed_names)} packed), got {len(shared)}")
        return [np.array(take(shared), dtype=float).reshape(shape) if shape is not None
                else take(shared) for take, shape in self._taking]

    def unpack(self, packed):
        """pack's opposite: the shared inputs' numbers, in inputs' order, as floats."""
        shared = [0.0] * len(self._shared_positions)
        for (places, shape), value in zip(self._packing, packed):
            numbers = np.asarray(value, dtype=float).ravel().tolist() if shape is not None \
                else [value]
            for i, number in zip(places, numbers):
                shared[i] = number
        return shared

    def _packed(self, arguments):
        """The arguments in inputs' order -> the code's (packed shared ones, then the batch)."""
        shared = [arguments[k] for k in self._shared_positions]
        return self.pack(shared) + [arguments[k] for k in self._batch_positions]

    def _flat(self, packed):
        """The code's arguments -> one per input, in inputs' order."""
        count = len(self._packing)
        if len(packed) != count + len(self._batch_positions):
            raise TypeError(f"{self._program.signature} takes "
                            f"{count + len(self._batch_positions)} arguments before "
                            f"gradient, got {len(packed)}")
        arguments = [None] * len(self._program.inputs)
        for k, number in zip(self._shared_positions, self.unpack(packed[:count])):
            arguments[k] = number
        for k, array in zip(self._batch_positions, packed[count:]):
            arguments[k] = array
        return arguments

    def _unpack_gradients(self, gradients):
        """The code's gradients (one per returned argument) -> one per wrt input."""
        numbers = []
        for g, matrix in zip(gradients, self._matrix_returned):
            if matrix:
                numbers += g.ravel().tolist()
            else:
                numbers.append(g)
        return tuple([numbers[k] for k in self._gradient_places])

    def _from_replay(self, gradients, packed):
        """The replay's gradients (one per leaf of the returned arguments) as run returns them."""
        program = self._program
        if not packed:
            by_leaf = dict(zip(program.gradient_leaves, gradients))
            return tuple(by_leaf[w] for w in program.returned)
        result, k = [], 0
        for a in program.returned_arguments:
            size = len(a.leaves)
            result.append(gradients[k] if a.shape is None
                          else np.array(gradients[k:k + size]).reshape(a.shape))
            k += size
        return tuple(result)

    # -- running ----------------------------------------------------------------------------
    def run(self, arguments, sample_names=None, checked=False, packed=False):
        """(values, gradients, output values) for these arguments.

        sample_names -- what to call sample i in an error (default: i itself),
                        e.g. its row in the whole data set for a minibatch
        checked      -- True: the arguments are already floats and finite float
                        arrays of one length (as fit's are), so skip the checks
        packed       -- True: the arguments are the code's own (f.pack(shared)
                        followed by the batch's arrays) and so are the
                        gradients (one per name in f.packed_wrt)
        """
        if not checked:
            flat, n = self.arguments(self._flat(arguments) if packed else arguments)
            arguments = self._packed(flat) if packed else flat
        if not packed:
            arguments = self._packed(arguments)
        n = len(arguments[len(self._packing)])
        seed = self._seeds.get(n)
        if seed is None:
            seed = self._seeds[n] = np.full(n, 1.0 / n if self.reduction == "mean" else 1.0)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                values, gradients, outputs = self.function(*arguments, seed)
                if not packed:
                    gradients = self._unpack_gradients(gradients)
                # a nan or inf can come without a floating-point error (from a shared
                # number's Python arithmetic, or one an op's np.where made): a sum is
                # finite only if every term is (and an overflow raises)
                if self._numbers_only and not packed:
                    total = sum(gradients)
                else:
                    total = 0.0
                    for g in gradients:
                        total += g if type(g) is float else float(g.sum())
            if math.isfinite(total):
                if type(values) is not np.ndarray:  # no sample's input reaches it
                    values = np.full(n, values)
                return values, gradients, outputs
        except (ArithmeticError, ValueError, TypeError):
            pass
        self.replays += 1
        values, gradients, outputs = self._one_sample_at_a_time(self._flat(arguments), n,
                                                                sample_names)
        return values, self._from_replay(gradients, packed), outputs

    def arguments(self, arguments):
        """(the arguments as floats and float arrays, the batch size n), checked."""
        program = self._program
        names = program.input_names
        if len(arguments) != len(names):
            raise TypeError(f"the compiled function takes {len(names)} arguments "
                            f"({codegen._list(names)}), got {len(arguments)}")
        checked, n = [], None
        for position, (x, leaf, name) in enumerate(zip(arguments, program.inputs, names),
                                                   start=1):
            what = f"argument {position} ({name})"
            if leaf not in program.batch_set:
                checked.append(x if type(x) is float and math.isfinite(x) else _number(x, what))
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
                gradients = grad(root, [new[w] for w in program.gradient_leaves])
            except (ArithmeticError, ValueError) as error:
                name = i if sample_names is None else sample_names[i]
                raise _in_sample(error, name) from error
            values.append(root.data)
            per_sample.append([g * scale for g in gradients])
            outputs.append([new[v].data for v in program.outputs])
        gradients = []
        for k, w in enumerate(program.gradient_leaves):
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

    def _name_leaves(self):
        self._names |= set(ARRAY_NAMES)  # np, ...: the code's own names, never a node's
        super()._name_leaves()

    # -- which nodes differ between samples ----------------------------------------------
    def _varies(self):
        return _reaches(self.order, self.batch_set)

    # -- forward: one line per node, arrays where the node varies -------------------------
    def _forward(self):
        self.varies = self._varies()
        lines = ["# forward pass: each node from its operands, every sample at once"]
        for node in self.constants:
            lines.append(f"{self.expression[node]} = {float(node.data)!r}  # a constant")
        self._forward_names = []
        self._reading_order = codegen._reading_order(self.output)
        self._array_names = {self.expression[x] for x in self.inputs if x in self.batch_set}
        self._find_inlined()
        for node in self._reading_order:
            if not node.parents or node in self._inlined:
                continue
            name = self.expression[node]
            operands = [self._operand(p) for p in node.parents]
            how = "array" if self.varies[node] else "python"
            # (a sum of thousands of terms is split as the scalar code splits it)
            lines.extend(codegen._assign(name, OPS[node.op].show(operands, out=name, how=how)))
            self._forward_names.append(name)
            if self.varies[node]:
                self._array_names.add(name)
        return lines

    # -- shared one-use nodes written inside their child: add_4 = add_3 + (x4 * x4) -------
    def _find_inlined(self, keep=()):
        """node -> its expression, for shared nodes whose value no line needs by name.

        An L2 term's p·p: read once, by an add, whose derivative (1) does not name it;
        written inside the add, it is one line less to generate, compile and run.
        """
        self._inlined = {}
        uses = self._readers()
        special = {self.output, *self.outputs, *keep}
        for node in self._reading_order:
            readers = uses.get(node, ())
            if not node.parents or self.varies[node] or node in special or len(readers) != 1 \
                    or len(node.parents) > 2 or any(p in self._inlined for p in node.parents):
                continue
            name = self.expression[node]
            operands = [self.expression[p] for p in node.parents]
            text = OPS[node.op].show(operands, out=name, how="python")
            reader = readers[0]
            names = [self.expression[p] for p in reader.parents]
            locals_ = OPS[node.op].show_locals(operands, out=name, how="python") + \
                OPS[reader.op].show_locals(names, out=self.expression[reader], how="array")
            named = re.compile(rf"\b{re.escape(name)}\b")
            if len(text) <= 40 and not any(named.search(f) for f in locals_):
                self._inlined[node] = _atom(text)

    def _readers(self):
        """node -> the nodes that read it (once per edge)."""
        uses = {}
        for node in self.order:
            for parent in node.parents:
                uses.setdefault(parent, []).append(node)
        return uses

    def _operand(self, node):
        return self._inlined.get(node) or self.expression[node]

    # -- backward: one chain-rule step per line; Σ over the batch into shared nodes --------
    def _backward(self):
        wanted = set(self.checked)
        needed = _reaches(self.order, wanted)  # does a gradient we want flow through it?
        edges_left = {}
        for node in self.order:
            for parent in node.parents:
                if parent in wanted:
                    edges_left[parent] = edges_left.get(parent, 0) + 1
        # dC/d(node) is an array where the node varies, and for the output: the
        # seed is one gradient per sample (1, or 1/n for a mean)
        self._array_gradient = dict(self.varies)
        self._array_gradient[self.output] = True
        terms = {}  # node -> [(g, local, is g an array?)]
        lines = []
        seed = "gradient"
        if self.output in wanted:
            terms[self.output] = [(f"{seed}.copy()", "1.0", True)]  # not the cached seed
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
        received = terms.pop(node, [])
        if len(received) == 1 and node.parents and not self._array_gradient[node]:
            g, local, per_sample = received[0]
            if local == "1.0" and not per_sample and g.isidentifier():
                # a shared node that an add passes dC/d(out) on to unchanged (a chain of
                # them sums an L2 term): its gradient is g itself, with no line of its own
                self.gradient_names[node] = g
                return []
        name = self._gradient_name(node)
        if node not in self._array_gradient:  # a leaf the output does not depend on
            zero = "0.0 * gradient" if node in self.batch_set else "0.0"
            return [f"{name} = {zero}  # the output does not depend on this"]
        if self._array_gradient[node]:  # one gradient per sample: as in the scalar code
            return _sum_statements(name, [_term(g, local) for g, local, _ in received], False)
        summed = []  # a shared node: what each sample sends it, added up
        for g, local, per_sample in received:
            summed.append(self._sum_over_batch(g, local) if per_sample else _term(g, local))
        comment = "  # Σ over the batch" if any(p for _, _, p in received) else ""
        return _sum_statements(name, summed, False, comment)

    def _sum_over_batch(self, g, local):
        """Σ_i g_i · local_i as (sign, text): g @ x for two arrays, g.sum() for 1.

        float(...): a shared node's numbers stay Python's own, as fast as in the
        scalar code (numpy's scalars are several times slower to compute with).
        """
        if local == "1.0":
            return ("+", f"float({g}.sum())")
        if local == "-1.0":
            return ("-", f"float({g}.sum())")
        if local in self._array_names:
            return ("+", f"float({g} @ {local})")
        return ("+", f"float(({g} * {_atom(local)}).sum())")

    # -- the function --------------------------------------------------------------------
    def _arguments(self):
        """The code's arguments: the shared inputs first (one number each), then the batch's."""
        shared = [_Argument(self.expression[x], [x]) for x in self.inputs
                  if x not in self.batch_set]
        batch = [_Argument(self.expression[x], [x], batch=True) for x in self.inputs
                 if x in self.batch_set]
        return shared + batch

    def _argument_gradient(self, argument):
        return self.gradient_names[argument.leaves[0]]

    def _function(self, function_name, arguments, forward, backward):
        root = self.expression[self.output]
        self.arguments = self._arguments()
        wanted = set(self.returned)
        self.returned_arguments = [a for a in self.arguments
                                   if any(leaf in wanted for leaf in a.leaves)]
        self.gradient_leaves = [leaf for a in self.returned_arguments for leaf in a.leaves]
        returned = [self._argument_gradient(a) for a in self.returned_arguments]
        batch_names = [a.name for a in self.arguments if a.batch]
        signature = ", ".join([a.name for a in self.arguments] + ["gradient"])
        self.signature = f"{function_name}({signature})"
        lines = codegen._break(f"def {function_name}(",
                               [f"{a}, " for a in signature.split(", ")[:-1]] + ["gradient"],
                               "):", " " * (len(function_name) + 5), 0)
        lines.append(f'    """{root} for every sample (arrays: {codegen._list(batch_names)}) '
                     f'and its gradient."""')
        body = [*forward,
                f"# backward pass: d{root}/d(node) for every sample; gradient is "
                f"d{root}/d{root}_i (1, or 1/n for a mean)",
                *backward]
        self.body_without_return = list(body)
        outputs = ", ".join(self.expression[v] for v in self.outputs)
        outputs += "," if outputs else ""
        body.extend(_returns(f"return {root}, (", returned, f"), ({outputs})"))
        self.header = lines
        return "\n".join(lines + ["    " + line for line in body]) + "\n"


class _Argument:
    """One argument of the generated code: a number (or a batch's array) for one
    input, or (shape given) a matrix of several, row by row: W^l or b^l."""

    def __init__(self, name, leaves, shape=None, batch=False):
        self.name = name
        self.leaves = list(leaves)
        self.shape = shape
        self.batch = batch


# -- matrices=True: a layer of weighted sums as one matrix product ----------------------

# a name and its indices: z3_2, w2_22, w1_16_2 (a layer of 10 or more: _j_k), x1
_NUMBERED = re.compile(r"^(.*?)(?:(?:_\d+)+|\d+)$")


class _Stack:
    """Nodes computed together, one row each of a 2-D array (samples along a row).

    kind    -- 'layer': weighted sums with the same operands x, each with its own
               weights and bias: Z = W @ X + b (one member: z = w @ X + b, w a vector)
               'map':   one op on every row of another stack: A = f(Z)
               'rows':  per-sample nodes put together as the X of a layer
    members -- the nodes, in row order
    source  -- the stack its members are computed from (layer: its X; map: its Z)
    """

    def __init__(self, kind, members, source=None):
        self.kind = kind
        self.members = list(members)
        self.source = source
        self.name = None

    def is_vector(self):
        return self.kind == "layer" and len(self.members) == 1


class _MatrixProgram(_BatchProgram):
    """As _BatchProgram, with the weighted sums of a layer as one matrix product.

    The code then reads as the article's matrix form, z^{l+1} = W^l a^l + b^l
    and δ^l = ((W^l)ᵀ δ^{l+1}) ⊙ f'(z^l). A layer's weights come in as one
    argument, the matrix W^l (row j, column k holds w_jk), and its biases as
    one column b^l; their gradients go out the same way, dC/dW^l = δ^{l+1} (a^l)ᵀ.
    A penalty over the parameters, α Σ p² as micrograd's demo writes it (a sum
    of p·p, one p at a time), is written over the matrices: mul_w2 = w2 * w2,
    then the sum of float(mul_w2.sum()) over the matrices, and dC/dW^l gets
    g · w2 + g · w2 from it, a whole matrix per line.

    Where a parameter is read some other way too (one weight in two places,
    a penalty over some of a layer's weights only), its matrix is built from the
    scalar arguments in the code instead: w2 = np.array(((w2_11, ...), ...)),
    and dC_dw2_22 = dC_dw2[1][1] reads its gradient back out.
    """

    def _forward(self):
        self.varies = self._varies()
        self._reading_order = codegen._reading_order(self.output)
        self._array_names = {self.expression[x] for x in self.inputs if x in self.batch_set}
        self._forward_names = []
        self._find_stacks()
        lines = []
        for node in self.constants:
            lines.append(f"{self.expression[node]} = {float(node.data)!r}  # a constant")
        for matrix in self.matrices:
            rows = "entry k holds" if len(matrix.shape) == 1 else \
                "row j holds" if matrix.shape[1] == 1 else "row j, column k holds"
            lines.append(f"# {matrix.name}: {rows} {_first_to_last(matrix, self.expression)}")
        built = [stack for stack in self.stacks if stack.kind == "layer"
                 and (stack.weight_matrix is None or stack.bias and not stack.is_vector()
                      and stack.bias_matrix is None)]
        if built:
            lines.append("# parameters read one by one too: their matrices built here, "
                         "row j, column k holds w_jk")
        for stack in built:
            lines.extend(self._parameter_lines(stack))
        lines.append("# forward pass: a layer of nodes per line, one row per node, "
                     "every sample at once")
        self.units = self._units_in_order()
        keep = [m for stack in self.stacks for m in stack.members]
        for tree in self.trees:
            keep += tree.members + [e for group in tree.groups for e in group.elements]
        self._find_inlined(keep=keep)
        for unit in self.units:
            lines.extend(self._forward_lines(unit))
        return lines

    # -- finding the layers --------------------------------------------------------------
    def _readers(self):
        return self._children  # made by _build_stacks

    def _find_stacks(self):
        self._shared_inputs = set(self.inputs) - self.batch_set
        banned = set()
        while True:
            self._build_stacks(banned)
            bad = self._mixed_stacks()
            if not bad:
                break
            for stack in bad:
                banned.update(stack.members)
        for stack in self.stacks:
            if not stack.is_vector():
                stack.name = self._stack_name(stack.members)
            if stack.kind == "layer":
                k = len(stack.members[0].parents) // 2
                weights = [m.parents[:k] for m in stack.members]
                stack.weights = weights
                stack.weight_name = self._stack_name([w for row in weights for w in row])
                stack.bias = [m.parents[-1] for m in stack.members] \
                    if len(stack.members[0].parents) % 2 else None
                if stack.bias and not stack.is_vector():
                    stack.bias_name = self._stack_name(stack.bias)
            if stack.is_vector():
                stack.name = self.expression[stack.members[0]]
            else:
                self._array_names.add(stack.name)
        self._find_matrices()

    # -- parameters in and out as matrices; penalties over them ---------------------------
    def _find_matrices(self):
        """Which layers' W^l and b^l are arguments themselves, and the sums over them.

        A matrix is an argument when each of its parameters is read only by its
        layer's weighted sum and by the terms of sums over the whole matrix (a
        penalty's p·p, each p once): then no line needs a parameter by name.
        """
        candidates = []
        for stack in self.stacks:
            stack.weight_matrix = stack.bias_matrix = None
            if stack.kind != "layer":
                continue
            leaves = [w for row in stack.weights for w in row]
            shape = (len(leaves),) if stack.is_vector() else \
                (len(stack.weights), len(stack.weights[0]))
            candidates.append((stack, "weight_matrix",
                               _Matrix(stack.weight_name, leaves, shape)))
            if stack.bias and not stack.is_vector():
                candidates.append((stack, "bias_matrix",
                                   _Matrix(stack.bias_name, stack.bias, (len(stack.bias), 1))))
        places = {}
        for _, _, matrix in candidates:
            for leaf in matrix.leaves:
                places[leaf] = places.get(leaf, 0) + 1
        special = {self.output, *self.outputs}
        self._input_set = set(self.inputs)
        self._links = self._sum_links(special) if candidates else set()
        self._tree_of = {}   # a sum node -> its tree
        self.trees = []
        packed = []
        for stack, role, matrix in candidates:
            layer = set(stack.members)
            groups = {}  # (tree, op, operands) -> the terms, one per parameter
            ok = all(places[leaf] == 1 and leaf not in special for leaf in matrix.leaves)
            for leaf in matrix.leaves if ok else ():
                readers = self._children.get(leaf, ())
                for k, child in enumerate(readers):
                    # (leaf · leaf reads leaf twice: the same child, listed twice in a row)
                    if child not in layer and (k == 0 or child is not readers[k - 1]):
                        key = self._penalty_term(child, leaf, special)
                        terms = groups.setdefault(key, {})
                        if key is None or leaf in terms:  # (p·p twice in one sum: as it is)
                            ok = False
                            break
                        terms[leaf] = child
                if not ok:
                    break
            if not ok or any(len(terms) != len(matrix.leaves) for terms in groups.values()):
                continue
            setattr(stack, role, matrix)
            packed.append(matrix)
            for (tree, op, operands), terms in groups.items():
                tree.groups.append(_Group(matrix, op, operands,
                                          [terms[leaf] for leaf in matrix.leaves]))
                matrix.expected += 1
        self.trees = [tree for tree in self.trees if tree.groups]
        in_order = {leaf: k for k, leaf in enumerate(self.inputs)}
        self.matrices = sorted(packed, key=lambda m: in_order[m.leaves[0]])
        self._packed_leaves = {leaf: m for m in self.matrices for leaf in m.leaves}
        for tree in self.trees:
            grouped = {e for group in tree.groups for e in group.elements}
            tree.terms = [t for t in tree.terms if t not in grouped]
            tree.first = {id(group): min(tree.order[e] for e in group.elements)
                          for group in tree.groups}

    def _penalty_term(self, node, leaf, special):
        """(tree, op, operands) if node is op(leaf, constants...), read once, by a
        sum of shared terms (leaf · leaf in α Σ p²); else None."""
        readers = self._children.get(node, ())
        if len(readers) != 1 or self.varies[node] or node in special \
                or readers[0] not in self._links:
            return None
        operands = []
        for p in node.parents:
            if p is leaf:
                operands.append(None)
            elif p.parents or p in self._input_set:
                return None  # something other than the parameter and constants
            else:
                operands.append(self.expression[p])
        tree = self._tree_of.get(readers[0]) or self._tree(readers[0])
        return tree, node.op, tuple(operands)

    def _sum_links(self, special):
        """The shared sum nodes (every local derivative 1, as add's): the links of
        sums' trees (the output and the nodes returned are not links)."""
        sums = {}  # op name -> is it a sum?
        links = set()
        varies = self.varies
        for node in self.order:
            if not node.parents or varies[node]:
                continue
            is_sum = sums.get(node.op)
            if is_sum is None:
                names = [f"v{k}" for k in range(len(node.parents))]
                locals_ = OPS[node.op].show_locals(names, how="python")
                is_sum = sums[node.op] = all(f == "1.0" for f in locals_)
            if is_sum and node not in special:
                links.add(node)
        return links

    def _tree(self, link):
        """The tree of sums link belongs to: climbs while the one reader is a link too."""
        links, children = self._links, self._children
        root = link
        while True:
            readers = children.get(root, ())
            if len(readers) != 1 or readers[0] not in links:
                break
            root = readers[0]
        tree = _Tree(root)
        stack = list(reversed(root.parents))
        while stack:  # its terms left to right, as Python's sum adds them
            node = stack.pop()
            if node in links and len(children.get(node, ())) == 1:
                tree.members.append(node)
                stack.extend(reversed(node.parents))
            else:
                tree.order[node] = len(tree.terms)
                tree.terms.append(node)
        for member in tree.members:
            self._tree_of[member] = tree
        self.trees.append(tree)
        return tree

    def _stack_name(self, nodes):
        """'z3' for z3_1 ... z3_4, 'w2' for w2_11 ... w2_44; else the first and last names."""
        names = [self.expression[n] for n in nodes]
        prefixes = {(_NUMBERED.match(name) or [None, None])[1] for name in names}
        if len(prefixes) == 1 and None not in prefixes and prefixes != {""}:
            wanted = prefixes.pop()
        else:
            wanted = f"{names[0]}_to_{names[-1]}"
        return self._new_name(wanted)

    def _is_layer_node(self, node, banned):
        # the matrix form is the weighted sum's own: a layer of them is W @ X + b
        if not node.parents or node.op != WEIGHTED_SUM.name or not self.varies[node] \
                or node in banned \
                or node is self.output:
            return False
        k = len(node.parents) // 2
        shared = node.parents[:k] + (node.parents[2 * k:])
        return k > 0 and all(p in self._shared_inputs for p in shared) \
            and all(self.varies[x] for x in node.parents[k:2 * k])

    def _build_stacks(self, banned):
        children = {}
        for node in self.order:
            for parent in node.parents:
                children.setdefault(parent, []).append(node)
        layers = {}  # (x operands, bias?) -> the weighted sums taking them
        layer_nodes = set()
        for node in self._reading_order:
            if self._is_layer_node(node, banned):
                k = len(node.parents) // 2
                key = (tuple(node.parents[k:2 * k]), len(node.parents) % 2)
                layers.setdefault(key, []).append(node)
                layer_nodes.add(node)
        self.stacks = []
        assigned = {}  # node -> its stack (layers and maps)
        rows = {}      # x operands -> their 'rows' stack
        for node in self._reading_order:
            if node in assigned or node in banned or not node.parents:
                continue
            if node in layer_nodes:
                k = len(node.parents) // 2
                xs = tuple(node.parents[k:2 * k])
                members = layers[(xs, len(node.parents) % 2)]
                source = self._stack_holding(xs, assigned)
                if len(members) < 2 and source is None:
                    continue  # one weighted sum of loose nodes: written as it is
                if source is None:
                    if xs not in rows:
                        rows[xs] = _Stack("rows", xs)
                        self.stacks.append(rows[xs])
                    source = rows[xs]
                stack = _Stack("layer", members, source)
            elif len(node.parents) == 1 and node.parents[0] in assigned:
                base = assigned[node.parents[0]]
                if base.is_vector() or not self.varies[node]:
                    continue
                members = []
                for m in base.members:
                    same = [c for c in children.get(m, ()) if c.op == node.op
                            and len(c.parents) == 1 and c not in assigned
                            and c not in banned and c is not self.output]
                    if not same:
                        break
                    members.append(same[0])
                if len(members) != len(base.members) or len(set(members)) != len(members):
                    continue
                stack = _Stack("map", members, base)
            else:
                continue
            self.stacks.append(stack)
            for m in stack.members:
                assigned[m] = stack
        self._children = children

    @staticmethod
    def _stack_holding(xs, assigned):
        """The stack whose rows are exactly xs, in order (None if none is)."""
        stack = assigned.get(xs[0])
        if stack is not None and not stack.is_vector() and tuple(stack.members) == xs:
            return stack
        return None

    def _mixed_stacks(self):
        """Stacks of two or more rows that some node reads row by row and another whole.

        (A stack read only row by row is fine: its rows get names; its gradient is
        put together from theirs.)
        """
        source_of = {}  # a node of a layer or map -> the stack it reads whole
        for stack in self.stacks:
            if stack.kind in ("layer", "map") and stack.source is not None:
                for m in stack.members:
                    source_of[m] = stack.source
        bad = []
        for stack in self.stacks:
            if stack.kind == "rows" or stack.is_vector():
                continue
            read_whole = read_by_row = False
            for m in stack.members:
                for c in self._children.get(m, ()):
                    if source_of.get(c) is stack:
                        read_whole = True
                    else:
                        read_by_row = True
            if read_whole and read_by_row or stack.members[-1] is self.output \
                    or self.output in stack.members:
                bad.append(stack)
        return bad

    # -- the order of the lines ----------------------------------------------------------
    def _units_in_order(self):
        """Stacks and single nodes, each after everything it reads."""
        unit_of = {}
        for stack in self.stacks:
            if stack.kind != "rows":
                for m in stack.members:
                    unit_of[m] = stack
        for tree in self.trees:  # a penalty's sum: its links and whole-matrix terms
            for m in tree.members:
                unit_of[m] = tree
            for group in tree.groups:
                for e in group.elements:
                    unit_of[e] = tree
        for node in self._reading_order:
            if node.parents and node not in unit_of:
                unit_of[node] = node
        order, done = [], set()

        def needs(unit):
            if isinstance(unit, _Tree):
                return [unit_of[t] for t in unit.terms if t in unit_of]
            if isinstance(unit, _Stack):
                found = [unit.source] if unit.source is not None else []
                for m in unit.members:
                    found += [unit_of[p] for p in m.parents if p in unit_of]
                if unit.kind == "rows":
                    found = [unit_of[m] for m in unit.members if m in unit_of]
                return found
            return [unit_of[p] for p in unit.parents if p in unit_of]

        for node in self._reading_order:
            if node not in unit_of:
                continue
            stack = [(unit_of[node], False)]
            while stack:
                unit, ready = stack.pop()
                if id(unit) in done:
                    continue
                if ready:
                    done.add(id(unit))
                    order.append(unit)
                    continue
                stack.append((unit, True))
                for need in reversed(needs(unit)):
                    if id(need) not in done and need is not unit:
                        stack.append((need, False))
        self._unit_of = unit_of
        return order

    # -- forward lines ---------------------------------------------------------------------
    def _parameter_lines(self, stack):
        lines = []
        if stack.weight_matrix is None:
            rows = [[self.expression[w] for w in row] for row in stack.weights]
            if stack.is_vector():
                lines += _numbers_array(f"{stack.weight_name} = np.array(", rows[0], ")")
            else:
                opening = f"{stack.weight_name} = np.array(("
                for j, row in enumerate(rows):
                    last = j == len(rows) - 1
                    lines += _numbers_array(opening if j == 0 else " " * len(opening), row,
                                            "))" if last else ",")
        if stack.bias and not stack.is_vector() and stack.bias_matrix is None:
            biases = [self.expression[b] for b in stack.bias]
            lines += _numbers_array(f"{stack.bias_name} = np.array(", biases,
                                    ")[:, None]  # a column")
        return lines

    def _forward_lines(self, unit):
        if isinstance(unit, _Tree):
            return self._tree_lines(unit)
        if not isinstance(unit, _Stack):
            if unit in self._inlined:
                return []
            name = self.expression[unit]
            operands = [self._operand(p) for p in unit.parents]
            how = "array" if self.varies[unit] else "python"
            self._forward_names.append(name)
            if self.varies[unit]:
                self._array_names.add(name)
            return codegen._assign(name, OPS[unit.op].show(operands, out=name, how=how))
        names = [self.expression[m] for m in unit.members]
        listed = f"{names[0]} ... {names[-1]}" if len(names) > 2 else ", ".join(names)
        if unit.kind == "rows":
            return _numbers_array(f"{unit.name} = np.array(", names, ")")
        if unit.kind == "layer":
            line = f"{unit.name} = {unit.weight_name} @ {unit.source.name}"
            if unit.bias:
                line += (f" + {self.expression[unit.bias[0]]}" if unit.is_vector()
                         else f" + {unit.bias_name}")
            if unit.is_vector():
                self._array_names.add(unit.name)
                return [line]
            line += f"  # rows {listed}"
        else:
            base = unit.source.name
            first = unit.members[0]
            line = (f"{unit.name} = {OPS[first.op].show([base], out=unit.name, how='array')}"
                    f"  # rows {listed}")
        lines = [line]
        if self._read_by_row(unit):
            lines += codegen._wrap(f"{', '.join(names)}, = {unit.name}"
                                   if len(names) == 1 else f"{', '.join(names)} = {unit.name}")
            self._array_names.update(names)
        return lines

    def _tree_lines(self, tree):
        """mul_w2 = w2 * w2 for each whole-matrix group, then the sum, left to right
        as the graph adds it except that a group's terms come as one float(...sum())."""
        lines, pieces = [], []
        places = sorted([(tree.order[t], t) for t in tree.terms]
                        + [(tree.first[id(g)], g) for g in tree.groups], key=lambda p: p[0])
        for _, item in places:
            if isinstance(item, _Group):
                item.name = self._new_name(f"{item.op}_{item.matrix.name}")
                operands = [item.matrix.name if o is None else o for o in item.operands]
                lines.append(f"{item.name} = "
                             f"{OPS[item.op].show(operands, out=item.name, how='array')}")
                pieces.append(("+", f"float({item.name}.sum())"))
            else:
                pieces.append(("+", _atom(self._operand(item))))
        name = self.expression[tree.root]
        self._forward_names.append(name)
        return lines + _sum_statements(name, pieces, False)

    def _read_by_row(self, stack):
        return any(self._unit_of.get(c) is not None and not (
            isinstance(self._unit_of[c], _Stack) and self._unit_of[c].source is stack)
            for m in stack.members for c in self._children.get(m, ()))

    # -- backward ------------------------------------------------------------------------
    def _backward(self):
        wanted = set(self.checked)
        needed = _reaches(self.order, wanted)  # does a gradient we want flow through it?
        self._array_gradient = dict(self.varies)
        self._array_gradient[self.output] = True
        terms = {}    # node -> [(g, local, is g an array?)], as in _BatchProgram
        stacked = {}  # stack -> [(sign, text)]: whole-array terms
        lines = ["# a layer of gradients per line: Σ over the batch by @ or .sum"]
        seed = "gradient"
        if self.output in wanted:
            terms[self.output] = [(f"{seed}.copy()", "1.0", True)]  # not the cached seed
        # a parameter's gradient line comes right after the last unit that sends it a term
        waiting, receivers = self._senders()
        for unit in reversed(self.units):
            lines.extend(self._unit_backward(unit, terms, stacked, needed, seed))
            for leaf in receivers.get(id(unit), ()):
                waiting[leaf] -= 1
                if waiting[leaf] == 0:
                    lines.extend(self._gradient_lines(leaf, terms))
        for leaf in self.checked:  # (one the output does not depend on: 0)
            if leaf not in self._packed_leaves and leaf not in self.gradient_names:
                lines.extend(self._gradient_lines(leaf, terms))
        return lines

    def _senders(self):
        """({leaf: how many units send it terms}, {id(unit): the leaves it sends to}) for
        the wanted leaves that are not in a matrix argument, in the order asked."""
        rows_of = {m: stack for stack in self.stacks if stack.kind == "rows"
                   for m in stack.members}
        waiting, receivers = {}, {}
        for leaf in self.checked:
            if leaf in self._packed_leaves or leaf in waiting:
                continue
            senders = set()
            for child in self._children.get(leaf, ()):
                unit = self._unit_of.get(child)
                if isinstance(unit, _Stack) and unit.kind == "layer" \
                        and unit.source.kind == "rows" and leaf in rows_of:
                    unit = rows_of[leaf]  # an x of a layer: its rows send it Wᵀ δ
                if unit is not None:
                    senders.add(unit)
            waiting[leaf] = len(senders)
            for unit in senders:
                receivers.setdefault(id(unit), []).append(leaf)
        return waiting, receivers

    def _unit_backward(self, unit, terms, stacked, needed, seed):
        """The gradient lines of one unit (a node, a stack or a sum's tree)."""
        members = unit.members if isinstance(unit, (_Stack, _Tree)) else [unit]
        if unit is not self.output and not any(needed[m] for m in members):
            return []
        if isinstance(unit, _Tree):
            return self._tree_backward(unit, terms, needed, seed)
        if not isinstance(unit, _Stack):
            return self._node_backward(unit, terms, needed, seed)
        lines = []
        if unit.is_vector():
            g = self._node_gradient(unit.members[0], terms, lines, seed)
        else:
            g = self._stack_gradient(unit, terms, stacked, lines)
        if unit.kind == "rows":
            for row, m in enumerate(unit.members):
                if needed[m]:
                    terms.setdefault(m, []).append((f"{g}[{row}]", "1.0", True))
        elif unit.kind == "map":
            base = unit.source
            local = OPS[unit.members[0].op].show_local(0, [base.name], out=unit.name,
                                                       how="array")
            stacked.setdefault(base, []).append(_term(g, local))
        else:
            lines.extend(self._layer_backward(unit, g, terms, stacked, needed))
        return lines

    def _matrix_received(self, matrix, needed):
        """Lines for dC/dW^l once the last of its terms is in (its layer's and the
        penalties'): right after δ^{l+1}, as the article writes it."""
        matrix.received += 1
        if matrix.received < matrix.expected or not any(needed[w] for w in matrix.leaves):
            return []
        matrix.gradient = self._new_name(self._prefix + matrix.name)
        self._array_names.add(matrix.gradient)
        return _sum_statements(matrix.gradient, matrix.terms, False,
                               "  # Σ over the batch" if matrix.summed else "")

    def _tree_backward(self, tree, terms, needed, seed):
        """Every link and term of a sum receives dC/d(sum) itself (add's local
        derivative is 1); a group's matrix receives g times its local derivative."""
        lines = []
        g = self._node_gradient(tree.root, terms, lines, seed)
        for member in tree.members:
            self.gradient_names[member] = g
        for term in tree.terms:
            if needed[term]:
                terms.setdefault(term, []).append((g, "1.0", False))
        for group in tree.groups:
            operands = [group.matrix.name if o is None else o for o in group.operands]
            locals_ = OPS[group.op].show_locals(operands, out=group.name, how="array")
            mine = [local for local, o in zip(locals_, group.operands) if o is None]
            if len(mine) == 2 and mine[0] == mine[1]:
                # w * w: two equal terms, g·w + g·w, are 2.0 * g * w, the same number
                # (doubling is exact), in one array operation instead of three
                group.matrix.terms.append(("+", f"2.0 * {g} * {_atom(mine[0])}"))
            else:
                group.matrix.terms.extend(_term(g, local) for local in mine)
            lines.extend(self._matrix_received(group.matrix, needed))
        return lines

    def _node_gradient(self, node, terms, lines, seed):
        if node is self.output:
            self.gradient_names[node] = seed
            return seed
        lines.extend(self._gradient_lines(node, terms))
        return self.gradient_names[node]

    def _node_backward(self, node, terms, needed, seed):
        lines = []
        g = self._node_gradient(node, terms, lines, seed)
        operands = [self.expression[p] for p in node.parents]
        how = "array" if self.varies[node] else "python"
        locals_ = OPS[node.op].show_locals(operands, out=self.expression[node], how=how)
        for index, parent in enumerate(node.parents):
            if needed[parent]:
                terms.setdefault(parent, []).append(
                    (g, locals_[index], self._array_gradient[node]))
        return lines

    def _stack_gradient(self, stack, terms, stacked, lines):
        name = self._new_name(self._prefix + stack.name)
        self._array_names.add(name)
        received = stacked.pop(stack, [])
        if received:
            lines.extend(_sum_statements(name, received, False))
            return name
        # read row by row: each row's gradient, then the rows together
        rows = []
        for m in stack.members:
            lines.extend(self._gradient_lines(m, terms))
            rows.append(self.gradient_names[m])
        lines.extend(_numbers_array(f"{name} = np.array(", rows, ")"))
        return name

    def _layer_backward(self, stack, g, terms, stacked, needed):
        """dC/dW = δ Xᵀ and dC/db = Σ δ (over the batch); X receives Wᵀ δ."""
        lines = []
        source, vector = stack.source.name, stack.is_vector()
        product = f"{source} @ {g}" if vector else f"{g} @ {source}.T"
        if stack.weight_matrix is not None:  # first: the layer's own term
            stack.weight_matrix.terms.insert(0, ("+", product))
            stack.weight_matrix.summed = True
            lines.extend(self._matrix_received(stack.weight_matrix, needed))
        elif any(needed[w] for row in stack.weights for w in row):
            gw = self._new_name(self._prefix + stack.weight_name)
            lines.append(f"{gw} = ({product}).tolist()  # Σ over the batch")
            for j, row in enumerate(stack.weights):
                for k, w in enumerate(row):
                    if needed[w]:
                        index = f"{k}" if vector else f"{j}][{k}"
                        terms.setdefault(w, []).append((f"{gw}[{index}]", "1.0", False))
        if stack.bias:
            if vector:
                if needed[stack.bias[0]]:
                    terms.setdefault(stack.bias[0], []).append((g, "1.0", True))
            elif stack.bias_matrix is not None:
                stack.bias_matrix.terms.insert(0, ("+", f"{g}.sum(axis=1, keepdims=True)"))
                stack.bias_matrix.summed = True
                lines.extend(self._matrix_received(stack.bias_matrix, needed))
            elif any(needed[b] for b in stack.bias):
                gb = self._new_name(self._prefix + stack.bias_name)
                lines.append(f"{gb} = {g}.sum(axis=1).tolist()  # Σ over the batch")
                for j, b in enumerate(stack.bias):
                    if needed[b]:
                        terms.setdefault(b, []).append((f"{gb}[{j}]", "1.0", False))
        if any(needed[x] for x in stack.source.members):
            sent = (f"{stack.weight_name}[:, None] * {g}" if vector  # a column times a row
                    else f"{stack.weight_name}.T @ {g}")
            stacked.setdefault(stack.source, []).append(("+", sent))
        return lines

    # -- the function's arguments: the matrices, then the other inputs ----------------------
    def _arguments(self):
        arguments, done = [], set()
        for x in self.inputs:
            matrix = self._packed_leaves.get(x)
            if matrix is None:
                if x not in self.batch_set:
                    arguments.append(_Argument(self.expression[x], [x]))
            elif id(matrix) not in done:
                done.add(id(matrix))
                arguments.append(_Argument(matrix.name, matrix.leaves, matrix.shape))
        return arguments + [_Argument(self.expression[x], [x], batch=True)
                            for x in self.inputs if x in self.batch_set]

    def _argument_gradient(self, argument):
        if argument.shape is None:
            return self.gradient_names[argument.leaves[0]]
        return self._packed_leaves[argument.leaves[0]].gradient


class _Matrix:
    """Parameters that come in and go out of the code as one array: a layer's
    W^l (row j, column k holds w_jk; a layer of one neuron: a 1-D array) or b^l
    (a column). terms: what dC/d(matrix) adds up, as (sign, text)."""

    def __init__(self, name, leaves, shape):
        self.name = name
        self.leaves = list(leaves)
        self.shape = shape
        self.terms = []
        self.summed = False  # does a term add up the batch?
        self.expected = 1    # how many send it terms: its layer, and each penalty over it
        self.received = 0
        self.gradient = None


class _Tree:
    """A sum of shared terms, add by add (micrograd's α Σ p² is one): its links
    (members, root last to be read), its terms left to right, and the groups of
    terms that are one op over a whole matrix, written as one array each."""

    def __init__(self, root):
        self.root = root
        self.members = [root]
        self.terms = []
        self.order = {}  # term -> its place, left to right
        self.groups = []


class _Group:
    """op(p, constants...) for every p of a matrix: one array, mul_w2 = w2 * w2."""

    def __init__(self, matrix, op, operands, elements):
        self.matrix = matrix
        self.op = op
        self.operands = operands  # None where the parameter goes, else a constant's text
        self.elements = elements  # the nodes, one per parameter, in the matrix's order
        self.name = None


def _first_to_last(matrix, expression):
    names = [expression[leaf] for leaf in matrix.leaves]
    return f"{names[0]} ... {names[-1]}" if len(names) > 2 else ", ".join(names)


def _numbers_array(opening, names, closing):
    """`opening(a, b, c)closing`, wrapped: a tuple of names, one row of an array."""
    pieces = [f"{n}, " for n in names[:-1]] + [names[-1] + ("," if len(names) == 1 else "")]
    return codegen._break(opening + "(", pieces, ")" + closing,
                          " " * (len(opening) + 1), 4)
