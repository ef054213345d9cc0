"""engine.compile: a graph as straight-line Python that reads like the article.

    f = engine.compile(C, inputs=net.parameters())
    value, gradients = f(*numbers)      # exactly what backward() gives
    print(f)                            # the code: forward, then backward

The forward pass is one line per node, in graph order, named by its label:

    z3_2 = w2_21*a2_1 + w2_22*a2_2 + w2_23*a2_3 + w2_24*a2_4 + b2_2
    a3_2 = math.tanh(z3_2)

and the backward pass one chain-rule step per line, named after the
gradient it holds, in the order ``backward()`` visits the nodes:

    dC_dz3_2 = dC_da3_2 * (1.0 - a3_2 * a3_2)  # d(a3_2)/d(z3_2) = 1 − tanh²(z3_2)
    dC_dw2_22 = dC_dz3_2 * a2_2

Every piece of text comes from the op table (each op's Python formulas), so
an op added to the table compiles with no change here. A node's gradient is
the sum of what its children send it, added in the order backward() adds
them, so the results are equal to backward()'s, not merely close. (A child
whose gradient is exactly 0 sends nothing in backward(); here it sends 0·x,
which adds nothing either — unless x is inf or nan, and then the check below
catches it.)

Replay, not tracing: ``compile`` writes out the graph it is given. If the
code that built the graph branched on a number (``if x > 0: y = x * w``),
that branch is frozen into the compiled function, which then computes the
same graph for every input, whichever way the ``if`` would now go. Ops that
branch inside themselves (relu, hinge, softplus) are fine: their formulas
keep the branch. nn's networks and costs branch only inside ops.

Safety: the engine refuses inf, nan, log(x ≤ 0), division by zero and the
like, naming the node. The compiled function checks its arguments once per
call (a real, finite number each, or an error naming the argument's position
and label: tanh(inf) = 1 must not hide an inf the engine refuses in a leaf).
The generated code checks that every number it made is finite (one sum of
them is); if not, or if Python raised, the compiled function replays the
engine on the same numbers, which raises the engine's own labelled error
(or, in the rare case where only the compiled code went astray, such as
0·inf, returns the engine's numbers). The replay builds the nodes first
operands first, as Python evaluates ``f(a) + g(b)``; a graph does not record
the order its nodes were made in, so if two nodes fail and the code made a
later operand first, the error names the other one.
"""

import builtins
import gc
import itertools
import keyword
import linecache
import math
import re
import weakref

from engine.graph import _gradients, grad, topological_order
from engine.kinds import is_real
from engine.ops import OPS, PYTHON_NAMES
from engine.value import Value, apply

__all__ = ["compile", "compile_sgd_step", "compile_sample_step", "Compiled"]

# Long sums are split into statements of this many terms: CPython's compiler
# recurses once per `+`, and a few thousand terms in one expression overflow it.
TERMS_PER_STATEMENT = 32
# A body of more lines than this is compiled and run in parts of about this
# many characters (_define_in_parts), so compiling takes little memory per node.
# Parts keep their variables in a dict, which runs a few times slower than a
# function's locals: only programs this long (~20,000 nodes and more) use them.
LARGE_PROGRAM = 60_000
CHARACTERS_PER_PART = 64_000
# Longer lists of names (unpacking the parameters, returning the gradients)
# are written as statements of this many names.
NAMES_PER_STATEMENT = 256
_RESULT = "__result__"
LINE_WIDTH = 99

# Names the generated code uses for itself, never given to a node.
_RESERVED = (set(keyword.kwlist) | set(dir(builtins)) | set(PYTHON_NAMES)
             | {"isfinite", "parameters", "gradients", "gradient", "learning_rate",
                "forward_check", "backward_check", "updated", "returned", _RESULT})
_NOT_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]")
_ATOM = re.compile(r"^(?:[A-Za-z_][0-9A-Za-z_.]*|\d[0-9.e+-]*)$")
_CALL = re.compile(r"^[A-Za-z_][0-9A-Za-z_.]*\(")

_compiled_count = itertools.count(1)
_isfinite = math.isfinite


def compile(output, inputs, wrt=None, batch=None, reduction="sum", matrices=False):
    """output as a Python function of inputs: f(*numbers) -> (value, gradients).

    output -- a Value; the function computes it and its gradients
    inputs -- leaf Values; they become the function's arguments, in order.
              Every other leaf is a constant written into the code.
    wrt    -- the inputs to differentiate with respect to (default: all)

    ``f(*numbers)`` returns ``(value, gradients)``: output's value and one
    gradient per ``wrt`` input, floats equal to what ``backward()`` (or
    ``engine.grad(output, wrt)``) gives on the graph built from the same
    numbers. Whatever the engine refuses at those numbers, f refuses with
    the engine's error. ``f.source`` (or ``print(f)``) is the code.

    The graph is replayed, not traced: branches that the code building it
    took on the numbers are frozen into f (see the module docstring).

    batch      -- the inputs that vary per sample (x, y): f then takes an
                  array for each and returns every sample's value and, for a
                  shared input, Σ_i (reduction='sum') or (1/n) Σ_i ('mean')
                  of its gradient (engine/batch.py); matrices=True writes the
                  weighted sums of a layer as one matrix product, W @ X + b
    """
    if batch is not None:
        from engine.batch import compile_batch  # engine.batch builds on this module
        return compile_batch(output, inputs, wrt, batch, reduction, matrices=matrices)
    inputs = _leaves(inputs, "inputs")
    wrt = list(inputs) if wrt is None else _leaves(wrt, "wrt")
    for w in wrt:
        if not any(w is x for x in inputs):
            raise ValueError(f"compile: wrt must be among the inputs; "
                             f"{_describe(w)} is not")
    return _compile(output, "forward_backward", parameters=(), inputs=inputs,
                    returned=wrt)


def compile_sgd_step(cost, parameters, inputs=()):
    """One step of gradient descent on cost, as code: step(p, *numbers, learning_rate).

    p is a list of the parameters' numbers (in the order of ``parameters``);
    the step computes C and ∂C/∂w, then sets every w ← w − ε ∂C/∂w in p, in
    place, and returns C. inputs (x, y, ...) become the other arguments;
    leaves that are neither are constants. Like backward(), it refuses a
    non-finite gradient of any parameter or input, with the engine's error.
    """
    parameters = _leaves(parameters, "parameters")
    inputs = _leaves(inputs, "inputs")
    return _compile(cost, "sgd_step", parameters=parameters, inputs=inputs,
                    returned=parameters, checked=parameters + inputs, mode="sgd")


def compile_sample_step(cost, parameters, inputs=(), outputs=()):
    """One sample's share of a batch, as code: step(p, g, *numbers, gradient).

    For a batch cost C = Σ_i c_i · (the same factor for every sample), each
    sample's cost c_i receives the gradient ``gradient`` = dC/dc_i (1/n for
    a mean over n samples). The step computes c_i and adds gradient·∂c_i/∂w
    to the accumulated gradients g (a tuple, one per parameter), in the order
    backward() of the whole batch adds them, and returns
    ``(c_i, *outputs, new g)``, the outputs' values (e.g. the prediction s)
    included. p is not changed. It refuses what backward() refuses for the
    parameters and inputs. (Its ``.function``, the bare generated code, leaves
    the accumulated gradients unchecked: inf and nan persist as they
    accumulate, so a caller checks them once, at the end of the batch.)
    """
    parameters = _leaves(parameters, "parameters")
    inputs = _leaves(inputs, "inputs")
    outputs = list(outputs)
    return _compile(cost, "sample_step", parameters=parameters, inputs=inputs,
                    returned=parameters, checked=parameters + inputs, mode="sample",
                    outputs=outputs)


class Compiled:
    """A graph compiled to Python. Call it like the function it wraps.

    source   -- the generated code (``print(f)`` shows it)
    function -- the generated function itself, without the argument checks
                and the replay (fast, but it raises bare errors)
    replays  -- how many calls fell back to replaying the engine
    """

    def __init__(self, program, function):
        self.source = program.source
        self.function = function
        self.replays = 0
        self._program = program
        self._variables = None
        self._call = getattr(self, "_call_" + program.mode)

    def __call__(self, *arguments):
        return self._call(arguments)

    # -- the three calling conventions -------------------------------------------
    def _call_forward_backward(self, numbers):
        numbers = self._numbers(numbers)
        try:
            return self.function(*numbers)
        except (ArithmeticError, ValueError, TypeError):
            pass
        self.replays += 1
        new = self._program.replay(numbers)
        program = self._program
        gradients = grad(new[program.output], [new[w] for w in program.returned])
        return new[program.output].data, gradients

    def _call_sgd(self, arguments):
        parameters, numbers, learning_rate = self._split(arguments, "learning_rate")
        try:
            return self.function(parameters, *numbers, learning_rate)
        except (ArithmeticError, ValueError, TypeError):
            pass
        self.replays += 1
        value, gradients = self._replay_gradients(parameters, numbers)
        updated = []
        for k, g in enumerate(gradients[:len(parameters)]):
            new = parameters[k] - learning_rate * g
            if not math.isfinite(new):  # as nn.SGD refuses it: nothing is changed
                raise FloatingPointError(
                    f"{self._signature()}: the update of {self._argument_name(k)} would make "
                    f"it {new} (w = {parameters[k]!r}, dC/dw = {g!r}, learning_rate = "
                    f"{learning_rate:g}); nothing was changed")
            updated.append(new)
        parameters[:] = updated
        return value

    def _call_sample(self, arguments):
        if len(arguments) < 2:
            raise TypeError(f"{self._signature()}: missing the parameters and the gradients")
        parameters, accumulated = arguments[0], arguments[1]
        parameters, numbers, gradient = self._split(
            (parameters,) + arguments[2:], "gradient", shift=1)
        accumulated = tuple(accumulated)
        if len(accumulated) != len(parameters):
            raise TypeError(f"{self._signature()}: {len(accumulated)} gradients for "
                            f"{len(parameters)} parameters")
        try:
            result = self.function(parameters, accumulated, *numbers, gradient)
            if math.isfinite(sum(result[-1])):
                return result
        except (ArithmeticError, ValueError, TypeError):
            pass
        self.replays += 1
        program = self._program
        new = program.replay(numbers, parameters)
        root = new[program.output]
        _, received = _gradients(root, gradient, needed=[new[v] for v in program.checked])
        gradients = [received.get(new[v], 0.0) for v in program.checked]
        accumulated = tuple(a + g for a, g in zip(accumulated, gradients))
        return (root.data, *[new[v].data for v in program.outputs], accumulated)

    # -- helpers ------------------------------------------------------------------
    def _replay_gradients(self, parameters, numbers):
        program = self._program
        new = program.replay(numbers, parameters)
        root = new[program.output]
        return root.data, grad(root, [new[v] for v in program.checked])

    def _split(self, arguments, last, shift=0):
        program = self._program
        if len(arguments) != len(program.inputs) + 2:
            raise TypeError(f"{self._signature()} takes {len(program.inputs) + 2} "
                            f"arguments, got {len(arguments)}")
        parameters, numbers, scalar = arguments[0], arguments[1:-1], arguments[-1]
        if not isinstance(parameters, list) or len(parameters) != len(program.parameters):
            raise TypeError(f"{self._signature()}: parameters must be a list of "
                            f"{len(program.parameters)} numbers")
        # the common case, quickly (else the slow way, which names the argument)
        if type(scalar) is float and len(numbers) == len(program.inputs) \
                and _finite_floats(numbers, parameters, scalar):
            return parameters, numbers, scalar
        for k, p in enumerate(parameters):
            _number(p, f"{self._signature()}: parameters[{k}] ({self._argument_name(k)})")
        numbers = self._numbers(numbers, first=2 + shift)
        return parameters, numbers, _number(
            scalar, f"{self._signature()}: argument {len(arguments) + shift} ({last})")

    def _numbers(self, numbers, first=1):
        """The numbers as floats, each checked once per call: a real, finite number.

        first is the position of the first of them among the arguments (1-based).
        The engine refuses inf and nan in a leaf; so does the code, where
        tanh(inf) = 1 or relu(nan) = 0 would hide them.
        """
        names = self._program.input_names
        if len(numbers) != len(names):
            raise TypeError(f"{self._signature()} takes {len(names)} numbers "
                            f"({', '.join(names)}), got {len(numbers)}")
        if _finite_floats(numbers):  # the common case, quickly
            return numbers
        # (A finite sum that overflows passes here: then no number is at fault.)
        return [x if type(x) is float and _isfinite(x) else
                _number(x, f"{self._signature()}: argument {k} ({name})")
                for k, (x, name) in enumerate(zip(numbers, names), start=first)]

    def _argument_name(self, k):
        """The label (or name in the code) of parameter k."""
        program = self._program
        return f"'{program.expression[program.parameters[k]]}'"

    def _signature(self):
        return self._program.signature

    def variables(self, *numbers):
        """{name: number} for every variable of the code, at these numbers.

        ``f.variables(*numbers)['dC_dz3_2']`` is the local gradient of z3_2;
        handy to check a line by hand. Only for ``compile``'s functions.
        """
        if self._program.mode != "forward_backward":
            raise TypeError("variables() is for engine.compile's functions")
        if self._variables is None:
            self._variables = _define(self._program.source_returning_locals(),
                                      self._program.function_name)
        return self._variables(*self._numbers(numbers))

    def name_of(self, value):
        """The name a Value has in the code: 'w2_22', or a literal for a constant."""
        return self._program.expression[value]

    def gradient_name(self, value):
        """The variable that holds d output/d value: 'dC_dw2_22' (None if none does)."""
        return self._program.gradient_names.get(value)

    def line_of(self, value):
        """The line of the source that computes d output/d value (the first, if split)."""
        name = self.gradient_name(value)
        for line in self.source.splitlines():
            stripped = line.strip()
            if name and (stripped.startswith(name + " =") or stripped.startswith(name + " +=")):
                return line
        return None

    def __str__(self):
        return self.source

    def __repr__(self):
        return (f"<compiled {self._program.signature}: "
                f"{self._program.node_count} nodes, {self.source.count(chr(10))} lines>")


# -- the generator ------------------------------------------------------------------

def _compile(output, function_name, parameters, inputs, returned, checked=None,
             mode="forward_backward", outputs=()):
    if not isinstance(output, Value):
        raise TypeError(f"compile: output must be a Value, not {type(output).__name__}")
    arguments = list(parameters) + list(inputs)
    seen = set()
    for leaf in arguments:
        if leaf in seen:
            raise ValueError(f"compile: {_describe(leaf)} is listed twice")
        seen.add(leaf)
    # Writing and compiling a large graph's code makes millions of small
    # lists and tuples, none of them in a cycle; meanwhile the garbage
    # collector would scan them and the graph again and again for nothing
    # (a fifth of the generator's time on a 50,000-node chain). So it waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        program = _Program(output, function_name, parameters, inputs, returned,
                           returned if checked is None else checked, mode, outputs)
        if len(program.body) > LARGE_PROGRAM:
            function = _define_in_parts(program)
        else:
            function = _define(program.source, function_name)
    finally:
        if collecting:
            gc.enable()
    compiled = Compiled(program, function)
    return compiled


def _define(source, function_name):
    """Run the source; return its function. The source goes into linecache,
    so tracebacks and debuggers show the generated lines."""
    filename = f"<engine.compile #{next(_compiled_count)}>"
    code = builtins.compile(source, filename, "exec")
    namespace = {**PYTHON_NAMES, "isfinite": math.isfinite}
    exec(code, namespace)
    function = namespace[function_name]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function


def _define_in_parts(program):
    """The function of a very long program, compiled a part at a time.

    CPython holds the whole syntax tree of what it compiles, a few KB per
    statement: a 50,000-node graph in one function would take hundreds of
    MB to compile. So the body runs as parts of about CHARACTERS_PER_PART
    characters, whole statements, each compiled on its own and run in one namespace that holds
    the variables (a dict: a few times slower than a function's locals). The
    source is the same, and each part keeps its line numbers in it, so
    tracebacks and debuggers show the generated lines.
    """
    filename = f"<engine.compile #{next(_compiled_count)}>"
    body, skipped = program.body, len(program.header)
    # a statement starts at the body's indentation; continuation lines, the
    # raise under an `if` and closing brackets do not
    # A part ends at the first statement past CHARACTERS_PER_PART.
    bounds, size = [0], 0
    for k, line in enumerate(body):
        if size > CHARACTERS_PER_PART and not line.startswith((" ", ")", "]")):
            bounds.append(k)
            size = 0
        size += len(line) + 1
    bounds.append(len(body))
    parts = []
    for first, last in zip(bounds, bounds[1:]):
        lines = [_RESULT + " = " + line[len("return "):] if line.startswith("return ")
                 else line for line in body[first:last]]
        text = "\n" * (skipped + first) + "\n".join(lines) + "\n"
        parts.append(builtins.compile(text, filename, "exec"))
    names = program.argument_names
    namespace = {**PYTHON_NAMES, "isfinite": math.isfinite}

    def function(*arguments):
        if len(arguments) != len(names):
            raise TypeError(f"{program.signature} takes {len(names)} arguments, "
                            f"got {len(arguments)}")
        variables = dict(namespace)
        variables.update(zip(names, arguments))
        for part in parts:
            exec(part, variables)
        return variables[_RESULT]

    source = program.source
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function


class _Program:
    """The code for one graph: names, forward lines, backward lines, the source."""

    def __init__(self, output, function_name, parameters, inputs, returned, checked,
                 mode, outputs):
        self.output = output
        self.mode = mode
        self.parameters = list(parameters)
        self.inputs = list(inputs)
        self.returned = list(returned)
        self.checked = list(checked)
        self.outputs = list(outputs)
        self.order = topological_order(output)
        in_graph = set(self.order)
        for value in self.outputs:
            if value not in in_graph:
                raise ValueError(f"compile: the output {_describe(value)} is not in the graph")
        self.node_count = len(self.order)
        self.function_name = function_name
        self._names = set(_RESERVED)
        self.expression = {}      # node -> its name, or a literal for a constant
        self.gradient_names = {}  # node -> the name of d output / d node
        self._patterns = {}       # (op, number of operands) -> its formulas, prepared
        self._name_leaves()
        self.input_names = [self.expression[x] for x in self.inputs]
        arguments = [self.expression[p] for p in self.parameters] + self.input_names
        forward = self._forward()
        backward = self._backward()
        self.source = self._function(function_name, arguments, forward, backward)

    # -- names ------------------------------------------------------------------------
    def _new_name(self, wanted):
        base = wanted if wanted.isidentifier() and wanted.isascii() else \
            _NOT_IDENTIFIER.sub("_", wanted) or "_"
        if base[0].isdigit():
            base = "_" + base
        if base in _RESERVED:
            base += "_"
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def _name_leaves(self):
        for k, leaf in enumerate(self.parameters, start=1):
            self.expression[leaf] = self._new_name(leaf.label or f"p{k}")
        for k, leaf in enumerate(self.inputs, start=1):
            self.expression[leaf] = self._new_name(leaf.label or f"x{k}")
        self.constants = []  # labelled leaves that are not arguments: a line each
        counts = {}
        shorts = {}  # op -> its short name
        for node in self.order:
            if node in self.expression:
                continue
            if not node.parents:
                if node.label:
                    self.expression[node] = self._new_name(node.label)
                    self.constants.append(node)
                else:
                    self.expression[node] = _literal(node.data)
            else:
                if node.label:
                    wanted = node.label
                elif node is self.output:
                    wanted = "out"
                else:
                    # mul_1, relu_2, ...; a name of several words by its initials:
                    # weighted_sum -> ws_3, binary_cross_entropy -> bce_1
                    counts[node.op] = counts.get(node.op, 0) + 1
                    short = shorts.get(node.op)
                    if short is None:
                        words = node.op.split("_")
                        short = shorts[node.op] = "".join(w[:1] for w in words) \
                            if len(words) > 1 else node.op
                    wanted = f"{short}_{counts[node.op]}"
                    if wanted not in self._names:  # (the common case, quickly: an
                        self._names.add(wanted)    # identifier, and never reserved)
                        self.expression[node] = wanted
                        continue
                self.expression[node] = self._new_name(wanted)
        root = self.expression.get(self.output)
        self._prefix = f"d{root if _ATOM.match(root) else 'out'}_d"

    def _gradient_name(self, node):
        name = self.gradient_names.get(node)
        if name is None:
            name = self._new_name(self._prefix + self.expression[node])
            self.gradient_names[node] = name
        return name

    # -- forward: one line per node --------------------------------------------------------
    def _forward(self):
        lines = []
        for node in self.constants:
            lines.append(f"{self.expression[node]} = {float(node.data)!r}  "
                         f"# a constant (not an argument)")
        self._forward_names = []
        self._reading_order = _reading_order(self.output)
        for node in self._reading_order:
            if not node.parents:
                continue
            name = self.expression[node]
            operands = [self.expression[p] for p in node.parents]
            result = self._formulas(node.op, len(operands))[0]
            lines.extend(_assign(name, result.format(*operands, name)))
            self._forward_names.append(name)
        return lines

    # -- backward: one chain-rule step per line ---------------------------------------------
    def _backward(self):
        """Lines for d output / d node, in the order backward() visits the nodes."""
        wanted = set(self.checked)
        needed = _reaches(self.order, wanted)  # does a gradient we want flow through it?
        edges_left = {}  # for each wanted leaf: children not yet visited
        for node in self.order:
            for parent in node.parents:
                if parent in wanted:
                    edges_left[parent] = edges_left.get(parent, 0) + 1
        accumulate = set(self.returned) if self.mode == "sample" else set()
        seed = "gradient" if self.mode == "sample" else "1.0"
        # node -> what its children sent it, in the order they sent it:
        # [(sign, text, (child, operand index, operand names, local formula))]
        terms = {}
        lines = []
        if self.output in wanted:  # the output is itself a leaf we differentiate
            terms[self.output] = [("+", seed, None)]
            lines.extend(self._gradient_lines(self.output, terms, accumulate))
        for node in reversed(self.order):
            if not node.parents or not needed[node]:
                continue
            if node is self.output:
                g = seed
                self.gradient_names[node] = seed
            else:
                lines.extend(self._gradient_lines(node, terms, accumulate))
                g = self.gradient_names[node]
            operands = [self.expression[p] for p in node.parents]
            # one tuple of names per node: format(*names) passes it as it is,
            # where format(*operands, out) would copy all of a weighted sum's
            # operands for each of its local derivatives
            names = (*operands, self.expression[node])
            local_formulas = self._formulas(node.op, len(operands))[1]
            for index, parent in enumerate(node.parents):
                if not needed[parent]:
                    continue
                local = local_formulas[index].format(*names)
                sign, text = _term(g, local)
                terms.setdefault(parent, []).append((sign, text, (node, index, operands, local)))
                if parent in edges_left:
                    edges_left[parent] -= 1
                    if edges_left[parent] == 0:  # the leaf has all it will get
                        lines.extend(self._gradient_lines(parent, terms, accumulate))
        for leaf in self.checked:
            if leaf not in self.gradient_names:  # output does not depend on it
                lines.extend(self._gradient_lines(leaf, terms, accumulate))
        return lines

    def _gradient_lines(self, node, terms, accumulate):
        """`dC_dn = t1 + t2 + ...` (split when long), or `dC_dn += ...` to accumulate."""
        name = self._gradient_name(node)
        received = terms.pop(node, [])
        comment = self._comment(received[0][2]) if len(received) == 1 else ""
        return _sum_statements(name, [(sign, text) for sign, text, _ in received],
                               node in accumulate, comment)

    def _comment(self, origin):
        """'  # d(a3_2)/d(z3_2) = 1 − tanh²(z3_2)', when the factor is a formula."""
        if origin is None:
            return ""
        child, index, operands, local = origin
        if _ATOM.match(local) or local in ("1.0", "-1.0"):
            return ""
        out = self.expression[child]
        text = self._formulas(child.op, len(operands))[2][index].format(*operands, out)
        return (f"  # d({out})/d({operands[index]}) = {text}")

    def _formulas(self, op_name, n_operands):
        """An op's formulas as str.format patterns, the operands by position
        and out last: (python result, python locals, text locals);
        mul -> ('{0} * {1}', ('{1}', '{0}'), ('y', 'x') with the names filled).

        Why: filling the op table's formulas node by node (Template-style
        substitution) was most of the generator's time on a large graph, and
        a graph uses only a few ops. So each op's formulas are prepared once
        per program, and filling one for a node is a single str.format call.
        The text is exactly what OPS[op].show(...) / show_local(...) give.
        """
        key = (op_name, n_operands)
        formulas = self._patterns.get(key)
        if formulas is None:
            op = OPS[op_name]
            # the op table fills its formulas with markers for the names, and
            # each marker then becomes its {position}
            marks = [f"\0{k}\0" for k in range(n_operands + 1)]
            names, out = marks[:-1], marks[-1]
            formulas = (_pattern(op.show(names, out=out, how="python")),
                        [_pattern(text) for text in op.show_locals(names, out=out, how="python")],
                        [_pattern(text) for text in op.show_locals(names, out=out)])
            self._patterns[key] = formulas
        return formulas

    # -- the function -------------------------------------------------------------------------
    def _function(self, function_name, arguments, forward, backward):
        root = self.expression[self.output]
        accumulate = set(self.returned) if self.mode == "sample" else set()
        returned = [self.gradient_names[v] for v in self.returned]
        checked = [self.gradient_names[v] for v in self.checked]
        if self.mode == "forward_backward":
            signature = ", ".join(arguments)
            doc = (f"{root} and its gradient with respect to "
                   f"{_list(self.input_names_wrt())}.")
        elif self.mode == "sgd":
            signature = ", ".join(["parameters", *self.input_names, "learning_rate"])
            doc = ("One step of gradient descent: computes "
                   f"{root}, then w ← w − ε ∂{root}/∂w in parameters.")
        else:
            signature = ", ".join(["parameters", "gradients", *self.input_names, "gradient"])
            doc = (f"{root} for one sample; adds gradient · ∂{root}/∂w to the gradients.")
        self.signature = f"{function_name}({signature})"
        self.argument_names = signature.split(", ") if signature else []
        lines = _break(f"def {function_name}(", [f"{a}, " for a in signature.split(", ")[:-1]]
                       + signature.split(", ")[-1:], "):", " " * (len(function_name) + 5), 0)
        lines.append(f'    """{doc}"""')
        body = []
        if self.parameters:
            body.extend(_unpack([self.expression[p] for p in self.parameters], "parameters"))
        if self.mode == "sample":
            body.extend(_unpack(returned, "gradients"))
        body.append("# forward pass: each node from its operands")
        body.extend(forward)
        body.extend(_check("forward_check", self._forward_names,
                           "# inf or nan anywhere: the engine would refuse these numbers"))
        body.append(f"# backward pass: d{root}/d(node), one chain-rule step per line")
        body.extend(backward)
        if self.mode == "sample":
            # inf and nan stay inf or nan as they accumulate, so the accumulated
            # gradients are checked once per batch, by the caller; this sample's
            # other gradients (of x, y) are checked here
            checked = [self.gradient_names[v] for v in self.checked if v not in accumulate]
        body.extend(_check("backward_check", checked, None))
        self.body_without_return = list(body)
        if len(returned) > NAMES_PER_STATEMENT and self.mode != "sgd":
            # many gradients: gathered a list at a time, not in one huge statement
            body.extend(_gather("returned", returned))
            returned = ["*returned"]
        if self.mode == "forward_backward":
            body.extend(_returns(f"return {root}, (", returned, ")"))
        elif self.mode == "sgd":
            body.append("# gradient descent: w ← w − ε ∂C/∂w, in place")
            updates = [f"{self.expression[p]} - learning_rate * {g}"
                       for p, g in zip(self.parameters, returned)]
            if len(updates) > NAMES_PER_STATEMENT:
                body.extend(_gather("updated", updates))
            else:
                body.append("updated = (")
                body.extend(f"    {u}," for u in updates)
                body.append(")")
            body.append("# as nn.SGD: no parameter changes if an update is not finite")
            body.append("if not isfinite(sum(updated)):")
            body.append('    raise FloatingPointError("an update is not finite")')
            body.append("parameters[:] = updated")
            body.append(f"return {root}")
        else:
            outputs = "".join(f"{self.expression[v]}, " for v in self.outputs)
            body.extend(_returns(f"return {root}, {outputs}(", returned, ")"))
        self.header = lines
        self.body = body
        lines = lines + ["    " + line for line in body]
        return "\n".join(lines) + "\n"

    def source_returning_locals(self):
        """The same function, returning every named number (for ``variables``)."""
        lines = self.header + ["    " + line for line in self.body_without_return]
        return "\n".join(lines + ["    return locals()"]) + "\n"

    def input_names_wrt(self):
        return [self.expression[v] for v in self.returned]

    # -- replaying the engine ----------------------------------------------------------------
    def replay(self, numbers, parameters=()):
        """The graph rebuilt from these numbers with the engine itself:
        {original node: new node}. Raises what the engine raises."""
        values = dict(zip(self.parameters, parameters))
        values.update(zip(self.inputs, numbers))
        new = {}
        # First operands first, as Python evaluates f(a) + g(b). (A graph does
        # not record the order its nodes were made in: if two nodes fail and
        # the code made the later operand first, the error names the other.)
        for node in self._reading_order:
            if not node.parents:
                new[node] = Value(values[node], node.label) if node in values else node
            else:
                copy = apply(OPS[node.op], *[new[p] for p in node.parents])
                copy.label = node.label
                new[node] = copy
        for leaf in list(self.parameters) + list(self.inputs):
            if leaf not in new:  # not in the graph: its gradient is 0
                new[leaf] = Value(values[leaf], leaf.label)
        return new


def _finite_floats(numbers, also=(), start=0.0):
    """True if numbers are floats and their sum with also's and start is finite.

    One sum checks them all: it is a finite float only if every term is a finite
    number (inf, nan, a str, None ... make it fail; the caller then goes the slow
    way, which names the argument at fault).
    """
    try:
        total = sum(also, sum(numbers, start))
    except (TypeError, OverflowError):
        return False
    if type(total) is not float or not _isfinite(total):
        return False
    for x in numbers:
        if type(x) is not float:
            return False
    return True


def _reaches(order, sources):
    """node -> is it one of sources or computed from one? (order: parents first)"""
    reached = {}
    for node in order:
        flag = node in sources
        if not flag:  # (a loop, not any(...): this runs once per node)
            for parent in node.parents:
                if reached[parent]:
                    flag = True
                    break
        reached[node] = flag
    return reached


def _reading_order(root):
    """The nodes, each after its parents, first operands first: z2_1 before z2_2.

    Any such order computes the same numbers; backward() walks its own order
    (topological_order), which the backward lines follow exactly.
    """
    order, done, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if node in done:
            continue
        if parents_done or not node.parents:
            done.add(node)
            order.append(node)
            continue
        stack.append((node, True))
        for parent in reversed(node.parents):
            if parent not in done:
                stack.append((parent, False))
    return order


# -- text helpers ------------------------------------------------------------------------

def _pattern(text):
    """text with its names marked '\\0k\\0' as a str.format pattern: {k} for
    each mark, the braces of the text itself doubled."""
    pieces = text.split("\0")  # text, k, text, k, ..., text: one pass, any length
    for i in range(0, len(pieces), 2):
        pieces[i] = pieces[i].replace("{", "{{").replace("}", "}}")
    for i in range(1, len(pieces), 2):
        pieces[i] = "{" + pieces[i] + "}"
    return "".join(pieces)


def _term(g, local):
    """g · local as (sign, text), as short as exact arithmetic allows:
    g·1 = g, g·(−1) = −g, 1·x = x are exact in floating point. The text
    can stand in a sum as it is (a line of one term drops parentheses)."""
    if local == "1.0":
        return ("+", g)
    if local == "-1.0":
        return ("-", g)
    if g == "1.0":
        return ("+", _atom(local))
    return ("+", f"{g} * {_atom(local)}")


def _atom(expression):
    """expression, in parentheses unless it is one name, number or call."""
    if expression.isidentifier() or _ATOM.match(expression):
        return expression
    if expression.startswith("(") and _closing(expression, 0) == len(expression) - 1:
        return expression
    call = _CALL.match(expression)
    if call and _closing(expression, call.end() - 1) == len(expression) - 1:
        return expression
    return f"({expression})"


def _bare(expression):
    """expression without the parentheses around all of it, if it has them."""
    if expression.startswith("(") and _closing(expression, 0) == len(expression) - 1:
        return expression[1:-1]
    return expression


def _closing(text, start):
    """Index of the parenthesis that closes the one at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _literal(x):
    """A float as code that reads back exactly; negative ones in parentheses."""
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _assign(target, expression):
    """`target = expression`, wrapped; a long sum split into statements of
    TERMS_PER_STATEMENT terms (`z = t1 + ... + t32`, `z = z + t33 + ...`),
    which adds left to right exactly as the one expression would."""
    terms = _sum_terms(expression)
    if terms is None:
        return _wrap(f"{target} = {expression}")
    return _sum_statements(target, terms, accumulate=False)


# What may stand between the terms of a sum that can be split: anything else
# at the top level (a comparison, `if ... else`) makes the expression not a sum.
_NOT_A_SUM = re.compile(r" (?:if|else|and|or|not|in|is|lambda) |[<>=!]=?")


def _sum_terms(expression):
    """[(sign, term)] if expression is a sum of more than TERMS_PER_STATEMENT
    terms at its top level (outside any parentheses), else None."""
    if expression.count(" + ") + expression.count(" - ") < TERMS_PER_STATEMENT:
        return None  # too short to need splitting (the common case, quickly)
    parts = _PLUS_OR_MINUS.split(expression)  # term, sign, term, sign, ...
    terms, sign, text = [], "+", parts[0]
    depth = text.count("(") - text.count(")")
    for k in range(1, len(parts), 2):
        if depth == 0:  # the sign is at the top level: a new term starts
            terms.append((sign, text))
            sign, text = parts[k], parts[k + 1]
        else:           # inside parentheses: the same term goes on
            text = f"{text} {parts[k]} {parts[k + 1]}"
        depth += parts[k + 1].count("(") - parts[k + 1].count(")")
    terms.append((sign, text))
    if len(terms) <= TERMS_PER_STATEMENT:
        return None
    if any(_NOT_A_SUM.search(t) and _NOT_A_SUM.search(_outside_parentheses(t))
           for _, t in terms):
        return None
    return terms


_PLUS_OR_MINUS = re.compile(r" ([+-]) ")


def _outside_parentheses(text):
    """text with everything inside parentheses (or brackets) left out."""
    kept, depth = [], 0
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            kept.append(c)
    return "".join(kept)


def _sum_statements(target, terms, accumulate, comment=""):
    """target = t1 + t2 + ..., added left to right, as backward() adds them."""
    if not terms:
        if accumulate:
            return []  # nothing arrives: the accumulated gradient stays
        return [f"{target} = 0.0  # the output does not depend on this"]
    statements = []
    for start in range(0, len(terms), TERMS_PER_STATEMENT):
        chunk = terms[start:start + TERMS_PER_STATEMENT]
        continuing = accumulate or start > 0
        if continuing and len(chunk) == 1:
            sign, text = chunk[0]
            statements.append((f"{target} {sign}=", [text]))  # a += b is a + b
            continue
        if not continuing and len(chunk) == 1 and chunk[0][0] == "+":
            statements.append((target, [_bare(chunk[0][1])]))  # alone
            continue
        parts = []
        if continuing:
            parts.append(target)
        for sign, text in chunk:
            if not parts:
                parts.append(text if sign == "+" else f"-{text}")
            else:
                parts.append(f" {sign} {text}")
        statements.append((target, parts))
    lines = []
    for target_and_parts in statements:
        lines.extend(_wrap(target_and_parts))
    if comment and len(lines) == 1 and len(lines[0]) + len(comment) <= LINE_WIDTH + 20:
        lines[0] += comment
    return lines


def _wrap(statement, indent=4):
    """A long `name = a + b + ...` broken before ' + ' / ' - ' inside parentheses.

    statement is a line, or (target, pieces) to be joined (`+=` in target: as is).
    """
    if isinstance(statement, tuple):
        target, pieces = statement
        if target.endswith("="):  # `dC_dw += term`
            return [f"{target} {pieces[0]}"]
        line = f"{target} = {''.join(pieces)}"
    else:
        line = statement
        if len(line) + indent <= LINE_WIDTH or " = " not in line:
            return [line]
        target, expression = line.split(" = ", 1)
        pieces = re.split(r"(?= [+-] )|(?<=,) ", expression)
    if len(line) + indent <= LINE_WIDTH:
        return [line]
    return _break(f"{target} = (", pieces, ")", " " * (len(target) + 4), indent)


def _break(opening, pieces, closing, hanging, indent):
    """pieces joined into lines of at most LINE_WIDTH, the first after opening."""
    lines, current = [], opening
    for piece in pieces:
        if len(current) + len(piece) + indent > LINE_WIDTH and current.strip():
            lines.append(current.rstrip())
            current = hanging + piece.lstrip()
        else:
            current += piece
    lines.append(current + closing)
    return lines


def _unpack(names, source, indent=4):
    """`a, b, c = source`, wrapped in parentheses when long; a slice of
    NAMES_PER_STATEMENT names at a time when very long."""
    if len(names) > NAMES_PER_STATEMENT:
        lines = []
        for start in range(0, len(names), NAMES_PER_STATEMENT):
            chunk = names[start:start + NAMES_PER_STATEMENT]
            lines.extend(_unpack(chunk, f"{source}[{start}:{start + len(chunk)}]", indent))
        return lines
    line = f"{', '.join(names)}{',' if len(names) == 1 else ''} = {source}"
    if len(line) + indent <= LINE_WIDTH:
        return [line]
    pieces = [f"{n}, " for n in names[:-1]] + [names[-1]]
    return _break("(", pieces, f") = {source}", " ", indent)


def _gather(target, items):
    """`target = [a, b, ...]` then `target += [...]`, NAMES_PER_STATEMENT at a time."""
    lines = []
    for start in range(0, len(items), NAMES_PER_STATEMENT):
        chunk = [f"{item}, " for item in items[start:start + NAMES_PER_STATEMENT]]
        chunk[-1] = chunk[-1].rstrip(", ")
        opening = f"{target} = [" if start == 0 else f"{target} += ["
        lines.extend(_break(opening, chunk, "]", " " * len(opening), 4))
    return lines


def _returns(opening, names, closing):
    pieces = [f"{n}, " for n in names[:-1]] + [names[-1] + ("," if len(names) == 1 else "")] \
        if names else []
    return _break(opening, pieces, closing, " " * len(opening), 4)


def _tuple(names):
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _list(names):
    if len(names) > 6:
        return f"{len(names)} inputs ({names[0]} ... {names[-1]})"
    return ", ".join(names) if names else "nothing"


def _check(name, names, comment):
    """`if not isfinite(a + b + ...): raise` — one sum is finite only if every term is."""
    if not names:
        return []
    lines = [comment] if comment else []
    terms = [("+", n) for n in names]
    lines.extend(_sum_statements(name, terms, accumulate=False))
    lines.append(f"if not isfinite({name}):")
    lines.append('    raise FloatingPointError("not finite")')
    return lines


def _leaves(values, what):
    if isinstance(values, Value):
        values = [values]
    values = list(values)
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"compile: {what} must be Values, not {type(v).__name__}: {v!r}")
        if v.parents:
            raise ValueError(f"compile: {what} must be leaves (Values no op made); "
                             f"{_describe(v)} is the output of {v.op}")
    return values


def _describe(value):
    return f"'{value.label}'" if value.label else f"the Value {value.data!r}"


def _number(x, name):
    """x as a float, or an error that says which argument (name) is not a finite number."""
    if type(x) is not float and not is_real(x):
        raise TypeError(f"{name} must be a real number, not {type(x).__name__}: {x!r}")
    try:
        x = float(x)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got an int too large for a float") from None
    if not _isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}; the engine refuses it too")
    return x
