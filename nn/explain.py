"""explain(C, w): the chain rule written out, path by path.

The derivative of an output with respect to a parameter is a sum over every
path from the output down to the parameter, of the product of the local
derivatives along the path:

    dC/d(w_22)^2 = dC/ds · ds/d(a_2)^3 · d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2

in the 4-4-4-1 network with C = (s − y)² (one path through the network). Each
local derivative comes from the engine's op table — the same numbers
backward() uses — and the sum is checked against ``engine.grad``.

Nodes are named from their labels in the article's notation ('w2_22' is
(w_22)^2, 'z3_2' is (z_2)^3, 'x_1', 's', 'C' stay as they are). An unlabelled
node is named by its op and its parents, e.g. (s − 0.5)^2; when that name
would be long it becomes u1, u2, ..., listed under the explanation. A constant
leaf is named by its number.

The number of paths can grow exponentially with depth, so explain counts them
first (dynamic programming over the graph). Above ``limit`` it does not list
them: it groups them by layer instead, showing for each weighted input
(z_j)^l the paths through it, dC/d(z_j)^l and d(z_j)^l/dw.
"""

import math
import re

from engine import OPS, Value, grad, local_derivatives, notation, topological_order

__all__ = ["explain", "Explanation", "Path", "Factor", "LayerGroup", "node_name",
           "derivative_name", "local_formula", "parenthesized", "count_text"]

_LONG_NAME = 28  # names longer than this become u1, u2, ...
MAX_NAME = 60    # a label longer than this is shortened in names: 'w999…999_11'
# What print(explanation) lists: the first SHOWN_PATHS paths, each with at
# most SHOWN_FACTORS factors (the first and the last ones), then a count of
# the rest. The Explanation keeps every path; only the text is capped.
SHOWN_PATHS = 20
SHOWN_FACTORS = 12
# explain lists the paths only while they hold at most this many factors in all
MAX_LISTED_FACTORS = 200_000
SHOWN_NAMES = 40  # ... and at most this many of the names u1, u2, ... explained


def count_text(n):
    """A count for messages: '1,600', or 'about 3.2 × 10^4512' when it is huge.

    Python refuses to turn an int of more than 4,300 digits into text, and a
    number of 20 digits says no more than its size, so large counts are
    written by their first digits and their power of ten, found without
    turning the whole int into text.
    """
    if n < 10**15:
        return f"{n:,}"
    shift = max(n.bit_length() - 60, 0)
    exponent = math.log10(n >> shift) + shift * math.log10(2)  # log10(n), to ~15 digits
    power = math.floor(exponent)
    leading = 10 ** (exponent - power)
    if round(leading, 1) >= 10:
        leading, power = leading / 10, power + 1
    return f"about {leading:.1f} × 10^{power:,}"


def _shortened(name):
    """name, or its first and last characters around '…' if longer than MAX_NAME."""
    if len(name) <= MAX_NAME:
        return name
    half = (MAX_NAME - 1) // 2
    return f"{name[:half]}…{name[-half:]}"


def node_name(node, latex=False):
    """The article's name of a labelled node: 'w2_22' -> '(w_22)^2' (or LaTeX).

    Returns '' for an unlabelled node (explain names those from their op).
    """
    if not node.label:
        return ""
    label = _shortened(node.label)
    return notation.latex(label) if latex else notation.article_name(label)


def _number(x):
    return f"{x:.6g}"


class _Namer:
    """Names for every node: labels in the article's notation, else from the op.

    An unlabelled node is named by its op and its parents' names, looking at
    most _DEPTH levels up and only while the name stays short; otherwise it
    gets a placeholder u1, u2, ... in the order it is first named.
    """

    _DEPTH = 3

    def __init__(self):
        self.text = {}
        self.latex = {}
        self.placeholders = []  # the nodes named u1, u2, ...

    def name(self, node, latex=False):
        if node not in self.text:
            named = self._inline(node, self._DEPTH)
            if named is None:
                self.placeholders.append(node)
                n = len(self.placeholders)
                named = (f"u{n}", f"u_{{{n}}}")
            self.text[node], self.latex[node] = named
        return self.latex[node] if latex else self.text[node]

    def _inline(self, node, depth):
        """(text, latex) without placeholders, or None if too deep or too long."""
        if node in self.text:
            return self.text[node], self.latex[node]
        if node.label:
            return node_name(node), node_name(node, latex=True)
        if not node.parents:
            return _number(node.data), _number(node.data)
        # an op of many operands (an unlabelled Σ w·x + b) is too long to name inline
        if depth == 0 or len(node.parents) > 2:
            return None
        parents = [self._inline(p, depth - 1) for p in node.parents]
        if None in parents:
            return None
        text = self._from_op(node, [t for t, _ in parents], latex=False)
        if len(text) > _LONG_NAME:
            return None
        return text, self._from_op(node, [x for _, x in parents], latex=True)

    @staticmethod
    def _from_op(node, names, latex):
        """The node's name from its op and its parents' names: 's − y', 'e^{s}'."""
        operands = [parenthesized(name) for name in names]
        return OPS[node.op].show(operands, how="latex" if latex else "text")


def parenthesized(name):
    """A compound name in parentheses, so that 'x − y' reads right inside another.

    Only a space outside all parentheses makes a name compound: 's − 0.5' is
    wrapped, 'log(1 + exp(s))' and '(w_22)^2' are not.
    """
    depth = 0
    for character in name:
        if character in "({[":
            depth += 1
        elif character in ")}]":
            depth -= 1
        elif character == " " and depth == 0:
            return f"({name})"
    return name


# 'C', 's', 'x_1', 'u1' and the article's '(a_2)^3' need no parentheses after d
_PLAIN_NAME = re.compile(r"^([A-Za-z]\w*|\([a-z]_[0-9,]+\)\^\d+)$")


def _d(name):
    """The name as written after d in dC/ds: 'd(a_2)^3', 'd(s − 0.5)', 'd(exp(s))'."""
    if _PLAIN_NAME.match(name) or _enclosed(name):
        return name
    return f"({name})"


def _enclosed(name):
    """True if the whole name is inside one pair of parentheses: '(s − 0.5)'."""
    if not name.startswith("("):
        return False
    depth = 0
    for position, character in enumerate(name):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0:
            return position == len(name) - 1
    return False


class Factor:
    """One local derivative on a path: d(child)/d(parent), from the op table.

    child, parent -- the Values; index -- the parent's position among child's parents
    op            -- the op that made child; formula -- its derivative as text
    value         -- the number; text, latex -- 'd(a_2)^3/d(z_2)^3' and its LaTeX
    """

    __slots__ = ("child", "parent", "index", "op", "formula", "value", "text", "latex")

    def __init__(self, child, parent, index, op, formula, value, text, latex):
        self.child, self.parent, self.index = child, parent, index
        self.op, self.formula, self.value = op, formula, value
        self.text, self.latex = text, latex

    def __repr__(self):
        return f"Factor({self.text} = {self.value!r})"


class Path(list):
    """A path from the output down to the parameter: a list of Values, output first.

    factors -- the local derivative of each step (one fewer than the nodes)
    product -- their product, this path's share of the derivative
    """

    def __init__(self, nodes, factors):
        super().__init__(nodes)
        self.factors = factors
        self.product = math.prod(f.value for f in factors) if factors else 1.0


class LayerGroup:
    """The paths through layer l's weighted inputs, when they are too many to list.

    rows -- (node, paths through it, d output/d node, d node/d param, their product)
    """

    def __init__(self, layer, rows):
        self.layer = layer
        self.rows = rows
        self.paths = sum(row[1] for row in rows)
        self.total = math.fsum(row[4] for row in rows)


class Explanation:
    """What ``explain`` found. Print it for the terminal; notebooks show it in LaTeX.

    output, param -- the Values; count -- the number of paths between them
    paths         -- every Path (a list of Values, output first, with .factors),
                     or [] when there were more than ``limit`` (see ``groups``)
    groups        -- LayerGroups when the paths were too many to list, else []
    nodes         -- every Value that lies on some path (for highlighting)
    total         -- the sum over paths of the products of local derivatives
    autograd      -- engine.grad(output, param), computed independently
    inputs        -- the graph's inputs x_1, x_2, ... (the sample), in order
    agrees        -- |total − autograd| <= rtol · max(1, |autograd|)
    """

    def __init__(self, output, param, count, paths, groups, nodes, total, autograd,
                 limit, rtol, namer, inputs=()):
        self.output, self.param = output, param
        self.inputs = inputs  # the leaves labelled x_1, x_2, ...: the sample
        self.count, self.paths, self.groups, self.nodes = count, paths, groups, nodes
        self.total, self.autograd = total, autograd
        self.limit, self.rtol = limit, rtol
        self.difference = abs(total - autograd)
        self.agrees = self.difference <= rtol * max(1.0, abs(autograd))
        self._namer = namer

    # set by explain when the paths are few but long: listing them would take
    # more than MAX_LISTED_FACTORS factors in all
    too_long = False

    @property
    def grouped(self):
        """True when the paths were too many to list and are grouped by layer."""
        return self.count > self.limit or self.too_long

    def name(self, node, latex=False):
        """The name this explanation gives a node: '(w_22)^2', 's', 'u1', ..."""
        return self._namer.name(node, latex)

    def setting(self, latex=False):
        """What is explained: the output's formula and values, and the sample.

        ['C = ln(1 + exp(s)) − y·s = 0.5432, with s = 0.1234, y = 1',
         'for the sample x = (x_1, ..., x_4) = (0.51, -1.2, 0.33, 0.07)']
        """
        name = lambda node: self.name(node, latex)  # noqa: E731
        lines = []
        output = self.output
        if output.parents:
            names = [name(p) for p in output.parents]
            formula = OPS[output.op].show([parenthesized(n) for n in names],
                                          how="latex" if latex else "text")
            values = [f"{n} = {p.data:.6g}" for n, p in zip(names, output.parents) if p.label]
            if latex:
                lines.append(f"{name(output)} = {formula} = {output.data:.6g}"
                             + (r", \quad " + r",\ ".join(values) if values else ""))
            else:
                lines.append(f"{name(output)} = {formula} = {output.data:.6g}"
                             + (f", with {', '.join(values)}" if values else ""))
        if self.inputs:
            first, last = name(self.inputs[0]), name(self.inputs[-1])
            dots = r", \ldots, " if latex else ", ..., "
            names = ", ".join(map(name, self.inputs)) if len(self.inputs) <= 2 \
                else f"{first}{dots}{last}"
            numbers = ", ".join(f"{x.data:.6g}" for x in self.inputs)
            lines.append(rf"\text{{for the sample }} x = ({names}) = ({numbers})" if latex
                         else f"for the sample x = ({names}) = ({numbers})")
        return lines

    # -- the terminal -------------------------------------------------------------
    def __str__(self):
        out, param = self.name(self.output), self.name(self.param)
        goal = f"d{_d(out)}/d{_d(param)}"
        plural = "path" if self.count == 1 else "paths"
        lines = [f"{goal} by the chain rule: {count_text(self.count)} {plural} from {out} "
                 f"to {param}"]
        lines += [f"  {line}" for line in self.setting()]
        if self.count == 0:
            lines.append(f"{out} does not depend on {param}, so {goal} = 0")
        elif self.grouped:
            lines += self._grouped_lines()
        else:
            lines += self._path_lines()
        verdict = "agree" if self.agrees else "DISAGREE"
        lines += ["",
                  f"{goal} = {self.total!r}   (sum over {plural})",
                  f"autograd  = {self.autograd!r}   (engine.grad)",
                  f"{verdict}: |difference| = {self.difference:.3g} "
                  f"(tolerance {self.rtol:g} · max(1, |autograd|))"]
        lines += self._legend_lines()
        return "\n".join(lines)

    def _path_lines(self):
        """The first SHOWN_PATHS paths, each with at most SHOWN_FACTORS factors."""
        lines = []
        shown = self.paths[:SHOWN_PATHS]
        width = max((len(f.text) for path in shown for f in _ends(path.factors) if f),
                    default=0)
        for number, path in enumerate(shown, start=1):
            hidden = f"… {len(path) - SHOWN_FACTORS:,} more nodes …"
            route = " ← ".join(hidden if node is None else parenthesized(self.name(node))
                               for node in _ends(path))
            lines += ["", f"path {number}: {route}"]
            for f in _ends(path.factors):
                if f is None:
                    lines.append(f"  … {len(path.factors) - SHOWN_FACTORS:,} more factors …")
                    continue
                lines.append(f"  {f.text:<{width}} = {f.value:>+.12f}   "
                             f"{f.op}: {f.formula}")
            lines.append(f"  {'product':<{width}} = {path.product!r}")
        if len(self.paths) > SHOWN_PATHS:
            lines += ["", f"… and {len(self.paths) - SHOWN_PATHS:,} more paths, not printed "
                          f"(explanation.paths holds them all)"]
        return lines

    def _grouped_lines(self):
        out, param = self.name(self.output), self.name(self.param)
        if self.too_long:
            lines = [f"together more than {count_text(MAX_LISTED_FACTORS)} factors long, so "
                     f"the paths are grouped by layer instead of listed."]
        else:
            lines = [f"more than the limit of {count_text(self.limit)}, so the paths are "
                     f"grouped by layer instead of listed (pass limit= to list them)."]
        if not self.groups:
            lines.append("(no labelled weighted inputs z on the paths to group by: "
                         "the sum below is computed without listing them)")
        for group in self.groups:
            covers = "every path passes through exactly one of these" \
                if group.paths == self.count else \
                f"{count_text(group.paths)} of the paths pass here"
            lines += ["", f"layer {group.layer}: {covers}",
                      f"  {'node':<10} {'paths':>12} {'d' + out + '/dnode':>18} "
                      f"{'dnode/d' + param:>18} {'product':>18}"]
            for node, paths, down, up, product in group.rows:
                lines.append(f"  {self.name(node):<10} {count_text(paths):>12} {down:>18.10g} "
                             f"{up:>18.10g} {product:>18.10g}")
            lines.append(f"  sum over layer {group.layer}: {group.total!r}")
        return lines

    def _legend_lines(self):
        on_path = set(self.nodes)
        lines = []
        placeholders = self._namer.placeholders
        index = 0
        while index < len(placeholders):  # naming operands may add placeholders
            node = placeholders[index]
            index += 1
            if node in on_path or node in (self.output, self.param):
                if len(lines) == SHOWN_NAMES:  # the names printed are among the first
                    lines.append("  … and more such names, not printed")
                    break
                expression = OPS[node.op].show([self.name(p) for p in node.parents])
                lines.append(f"  {self.name(node)} = {expression} = {node.data!r}")
        return ["", "where"] + lines if lines else []

    def __repr__(self):
        return (f"<Explanation d{_d(self.name(self.output))}/"
                f"d{_d(self.name(self.param))}: {count_text(self.count)} path"
                f"{'' if self.count == 1 else 's'}, total={self.total!r}, "
                f"autograd={self.autograd!r}>")

    # -- notebooks --------------------------------------------------------------
    def _repr_latex_(self):
        out = parenthesized(self.name(self.output, latex=True))
        param = parenthesized(self.name(self.param, latex=True))
        goal = rf"\frac{{\partial {out}}}{{\partial {param}}}"
        if self.count == 0:
            return f"$${goal} = 0 \\quad \\text{{(no path)}}$$"
        if self.grouped:
            rows = [rf"{goal} &= \sum_{{\text{{{count_text(self.count)} paths}}}} "
                    rf"\prod \text{{local derivatives}} \quad"
                    rf"\text{{(over the limit of {count_text(self.limit)}; grouped by layer)}}"]
            for group in self.groups:
                terms = " + ".join(
                    rf"\frac{{\partial {out}}}{{\partial {parenthesized(self.name(n, True))}}}"
                    rf"\frac{{\partial {parenthesized(self.name(n, True))}}}{{\partial {param}}}"
                    for n, *_ in group.rows[:6])
                more = r" + \cdots" if len(group.rows) > 6 else ""
                rows.append(rf"&= {terms}{more} \quad \text{{(layer {group.layer})}}")
        else:
            shown = self.paths[:SHOWN_PATHS]
            symbolic = " \\\\\n&\\quad + ".join(
                r"\,".join(_latex_factor(f, "latex") for f in _ends(path.factors)) or "1"
                for path in shown)
            numeric = " + ".join(
                r"\cdot ".join(_latex_factor(f, "value") for f in _ends(path.factors)) or "1"
                for path in shown)
            more = r" + \cdots" if len(self.paths) > SHOWN_PATHS else ""
            rows = [f"{goal} &= {symbolic}{more}", f"&= {numeric}{more}"]
        rows.append(f"&= {_number(self.total)} "
                    rf"\quad \text{{(autograd: {_number(self.autograd)}; "
                    rf"{'agree' if self.agrees else 'DISAGREE'})}}")
        rows += [rf"&\quad {line}" for line in self.setting(latex=True)]
        return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"


def _ends(items):
    """items, or its first and last SHOWN_FACTORS / 2 with None between."""
    if len(items) <= SHOWN_FACTORS:
        return list(items)
    half = SHOWN_FACTORS // 2
    return list(items[:half]) + [None] + list(items[-half:])


def _latex_factor(factor, what):
    if factor is None:
        return r"\cdots"
    return factor.latex if what == "latex" else f"({_number(factor.value)})"


def explain(output, param, limit=1000, rtol=1e-9):
    """Write d output/d param out as the chain rule: every path, every factor.

    output -- a Value (usually the cost C)
    param  -- a Value in its graph, or its name: 'w2_22' or the article's '(w_22)^2'
    limit  -- list the paths only if there are at most this many; above it,
              group them by layer (counting takes no time: it never lists them)
    rtol   -- the tolerance of the check against autograd
    Returns an Explanation (print it, or display it in a notebook).
    """
    order = topological_order(output)  # parents before children; output last
    if not isinstance(param, Value):
        param = notation.find(str(param), order)  # KeyError with the nearest names
    # Paths from each node down to param, counted parents first. An edge is
    # counted once per operand, so x + x has two paths to x, as it has two terms.
    paths_down = {}
    for node in order:
        paths_down[node] = 1 if node is param else sum(paths_down[p] for p in node.parents)
    count = paths_down[output]
    # Every node of the order is reachable from output, so a node that
    # reaches param lies on a path.
    on_path = [node for node in order if paths_down[node]]

    local = {}  # node -> its local derivatives, as backward uses them
    for node in on_path:
        if node.parents:
            local[node] = local_derivatives(node)

    namer = _Namer()
    inputs = sorted((node for node in order
                     if not node.parents and notation.input_index(node.label)),
                    key=lambda node: notation.input_index(node.label))
    autograd = grad(output, param)[0] if count else 0.0
    if count == 0:
        return Explanation(output, param, 0, [], [], [], 0.0, autograd, limit, rtol, namer,
                           inputs)

    too_long = count <= limit and _factors_on_paths(order, param, paths_down) > \
        MAX_LISTED_FACTORS
    if count <= limit and not too_long:
        paths = _enumerate_paths(output, param, paths_down, local, namer)
        total = math.fsum(path.product for path in paths)
        groups = []
    else:
        paths = []
        down, up, paths_up = _sums(order, output, param, paths_down, local)
        total = down[output]
        groups = _layer_groups(on_path, paths_down, paths_up, down, up)
    explanation = Explanation(output, param, count, paths, groups, on_path, total,
                              autograd, limit, rtol, namer, inputs)
    explanation.too_long = too_long
    return explanation


def _factors_on_paths(order, param, paths_down):
    """How many factors listing every path from the output to param would take.

    factors[n] = Σ over n's paths of their length = Σ over parents p on a
    path of (factors[p] + paths_down[p]): counted, not listed.
    """
    factors = {}
    for node in order:
        if node is param or not paths_down[node]:
            factors[node] = 0
        else:
            factors[node] = sum(factors[p] + paths_down[p] for p in node.parents
                                if paths_down[p])
    return factors[order[-1]]


def _enumerate_paths(output, param, paths_down, local, namer):
    """Every path from output to param, depth first, parents in operand order.

    A partial path is kept as a linked list (node, factor, the path before it),
    so extending it costs the same however long it is: one long chain takes
    time in proportion to its length.
    """
    paths = []
    factors = {}  # (child, operand index) -> Factor: each edge is named once
    stack = [(output, None)]
    while stack:
        node, before = stack.pop()
        if node is param:
            paths.append(_unlink(output, (node, None, before)))
            continue
        steps = []
        for index, parent in enumerate(node.parents):
            if paths_down[parent]:
                key = (node, index)
                if key not in factors:
                    factors[key] = _factor(node, parent, index, local[node][index], namer)
                steps.append((parent, (node, factors[key], before)))
        stack.extend(reversed(steps))  # first operand is explored first
    return paths


def _unlink(output, link):
    """A Path from the linked list that ends at link: nodes output first."""
    nodes, path_factors = [], []
    while link is not None:
        node, factor, link = link
        nodes.append(node)
        if factor is not None:
            path_factors.append(factor)
    nodes.reverse()
    path_factors.reverse()
    return Path(nodes, path_factors)


def derivative_name(top, bottom):
    """'d(a_2)^3/d(z_2)^3' from the names '(a_2)^3' and '(z_2)^3'."""
    return f"d{_d(top)}/d{_d(bottom)}"


def local_formula(child, index, name):
    """d child/d (its operand number index) as the op table writes it, in the
    operands' own names: '1 − tanh²((z_2)^3)'. name(node) gives a node's name."""
    names = [parenthesized(name(p)) for p in child.parents]
    return OPS[child.op].show_local(index, names, out=parenthesized(name(child)))


def _factor(child, parent, index, value, namer):
    """d child/d parent: its name, and its formula in the operands' own names."""
    formula = local_formula(child, index, namer.name)
    text = derivative_name(namer.name(child), namer.name(parent))
    latex = (rf"\frac{{\partial {parenthesized(namer.name(child, True))}}}"
             rf"{{\partial {parenthesized(namer.name(parent, True))}}}")
    return Factor(child, parent, index, child.op, formula, float(value), text, latex)


def _sums(order, output, param, paths_down, local):
    """Path sums without listing the paths.

    down[n]  -- Σ over paths from n to param of the product (d n/d param)
    up[n]    -- Σ over paths from output to n of the product (d output/d n)
    paths_up -- how many paths lead from output to n
    """
    down = {}
    for node in order:
        if node is param:
            down[node] = 1.0
        elif paths_down[node]:
            down[node] = math.fsum(d * down[p] for p, d in zip(node.parents, local[node])
                                   if paths_down[p])
    up = {output: 1.0}
    paths_up = {output: 1}
    for node in reversed(order):
        if node not in up or node is param or not paths_down[node]:
            continue
        for parent, d in zip(node.parents, local[node]):
            if paths_down[parent]:
                up[parent] = up.get(parent, 0.0) + up[node] * d
                paths_up[parent] = paths_up.get(parent, 0) + paths_up[node]
    return down, up, paths_up


def _layer_groups(nodes, paths_down, paths_up, down, up):
    """A LayerGroup per layer l with labelled weighted inputs (z_j)^l on the paths."""
    by_layer = {}
    for node in nodes:
        parsed = notation.parse(node.label)
        if parsed and parsed.kind == "z":
            by_layer.setdefault(parsed.layer, []).append(node)
    groups = []
    for layer in sorted(by_layer, reverse=True):
        rows = [(node, paths_up[node] * paths_down[node], up[node], down[node],
                 up[node] * down[node]) for node in by_layer[layer]]
        groups.append(LayerGroup(layer, rows))
    return groups
