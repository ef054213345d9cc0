"""A graph of Values as DOT: the picture of the chain rule.

Each Value is a box with its label, data and grad; each op is a small node
with its symbol from the op table, between its inputs and its result:

    [a / data 2 / grad 3] ──▶ (×) ──▶ [ab / data 6 / grad 1]
    [b / data 3 / grad 2] ──▶

An operand used twice (``a + a``) gets two edges, one per operand slot, so
every edge is one term of the chain rule.

The picture reads in the article's order: inputs x_1 … x_n from the top (from
the left when it is drawn top to bottom), neurons j = 1 … n in turn, each
neuron's weights w_j1 … w_jm and then b_j. It fits an 840-px notebook column
with text of at least 10 px: left to right when that fits, else top to bottom.
A large graph (a network's cost) is folded to what fits the column:
the highlighted path, the node a backward step processes, or (with nothing
highlighted) what lies near the root; the rest becomes grey "folded" boxes.
``fold=False`` draws everything.
"""

import re
import textwrap

import graphviz

import engine
from engine import OPS
from engine.kinds import is_whole
from viz import labels
from viz.drawing import Drawing
from viz.groups import article_key, assign_groups, group_title, highest_layer, is_input_label
from viz.labels import html_label, html_text, number
from viz.render import RenderError
from viz.select import (
    FOLD_ABOVE,
    FOLD_DEPTH,
    check_size,
    count_nodes,
    fold,
    paths_to,
    select_values,
    within_depth,
)
from viz.steps import local_derivatives, step_state

__all__ = ["draw_dot", "KINDS", "COLUMN_INCHES"]

RANKDIRS = ("LR", "RL", "TB", "BT")
FONT = "Helvetica"
# A notebook column is 840 px = 630 pt wide (JupyterLab's, at a 1280-px window
# with the file browser open). A drawing wider than that is scaled down to it;
# its text stays >= 10 px (see tests/viz/test_fit.py) as long as the scale is
# at least SMALLEST_SCALE, so a drawing is laid out top to bottom when left to
# right would need a smaller one.
COLUMN_INCHES = 630 / 72
FONT_SIZE = "10"   # points: 13.3 px, and still 10 px when scaled to 0.75
SMALLEST_SCALE = 0.75
FOLD_LINE = 14     # characters: a fold box's lines are wrapped to about a Value's width

# What each kind of Value looks like. 'class' reaches the SVG (class="node
# parameter"), so drawings can be styled or inspected.
KINDS = {
    "parameter":    {"fillcolor": "#cfe2ff", "style": "rounded,filled",
                     "meaning": "parameter (w, b, or your variable)"},
    "input":        {"fillcolor": "#e8e8e8", "style": "filled",
                     "meaning": "input (x_k, y)"},
    "constant":     {"fillcolor": "#ffffff", "style": "filled", "color": "#9a9a9a",
                     "fontcolor": "#555555",
                     "meaning": "constant (a number in a formula: no gradient)"},
    "intermediate": {"fillcolor": "#ffffff", "style": "filled",
                     "meaning": "computed by an op"},
    "output":       {"fillcolor": "#ffe8a3", "style": "filled", "peripheries": "2",
                     "meaning": "output (what is differentiated)"},
}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#f2f2f2",
            "margin": "0.02,0.01", "fontsize": FONT_SIZE, "height": "0.3", "width": "0.3"}
FOLD_STYLE = {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#f2f2f2",
              "color": "#8c8c8c", "fontcolor": "#444444", "margin": "0.08,0.03"}
HIGHLIGHT = "#d62728"   # the chain-rule paths
CURRENT = "#ff7f0e"     # the node a backward step is processing
PENDING = "#8c8c8c"     # gradients still growing


def draw_dot(root, rankdir=None, show_grad=True, show_local=False, highlight=None,
             group=None, max_nodes=2000, precision=4, step=None, depth=None,
             around=None, legend=None, fold=None):
    """Draw the computation graph of ``root``; returns a Drawing (SVG in Jupyter).

    rankdir     'LR' (left to right), 'TB' (top to bottom), 'RL' or 'BT'; None (the
                default): 'LR' when that fits a notebook column with text of at
                least 10 px, else 'TB' when that is narrower
    show_grad   write grad on every Value
    show_local  write on every edge input -> op the local derivative
                d(out)/d(input): the op table's formula and its value
    highlight   a Value (a parameter) or an ``nn.explain`` result: the paths
                from root down to it are drawn bold, with their local derivatives.
                A name works too: 'w1_11' or the article's '(w_11)^1' (a
                KeyError suggests the nearest names), as for ``around``
    group       'neuron' or 'layer': a cluster per neuron or layer (see viz.groups)
    max_nodes   refuse to draw more nodes than this (None: no limit)
    precision   significant digits of every number
    step        a record from ``root.backward_steps()``: the pass at that step
                (gradients are shown whatever show_grad says)
    depth       draw only the Values within ``depth`` edges of root
    around      draw only the Values within ``depth`` (default 2) edges of this one
    legend      the key to colours and shapes; None (the default) shows it when
                they say more than a Value's kind: with highlight, step, group
                or folding
    fold        None (the default): fold a graph of more than 60 nodes so that it
                fits a notebook column — keep the highlighted path (or the step's
                node, or what is within 3 edges of root) with the operands its
                local derivatives name, fold the rest into grey boxes; with a
                highlight or a step, fold a smaller graph too when it would not
                fit the column otherwise. True always folds; False draws the
                whole graph, however wide.
    """
    _check_arguments(root, rankdir, precision, max_nodes, fold)
    highlight, around = _by_name(root, highlight), _by_name(root, around)
    values = select_values(root, depth=depth, around=around)
    options = dict(rankdir=rankdir, show_grad=show_grad, show_local=show_local,
                   highlight=highlight, group=group, max_nodes=max_nodes,
                   precision=precision, step=step, legend=legend)
    if fold is None and sum(count_nodes(values)) <= FOLD_ABOVE:
        picture, legend, fits = _arrange(root, values, fold=False, fit=True, **options)
        if fits or (highlight is None and step is None):
            return picture.draw(legend)
        # the path (or the step) is what the drawing is for: fold the rest
    picture, legend, _ = _arrange(root, values, fold=fold is not False,
                                  fit=fold is not False, **options)
    return picture.draw(legend)


def _arrange(root, values, rankdir, show_grad, show_local, highlight, group, max_nodes,
             precision, step, legend, fold, fit):
    """(picture, legend, fits): what draw_dot draws, laid out to fit a column if ``fit``."""
    if not fold:
        check_size(values, max_nodes)
    picture = _Picture(root, values, rankdir or "LR", show_grad, show_local, precision)
    picture.fit = fit   # scale to the column, unless the whole graph was asked for
    if highlight is not None:
        picture.highlight(highlight)
    if step is not None:
        picture.step(step)
    if fold:
        picture.fold()
        check_size(picture.values, max_nodes)
    if group is not None:
        picture.group(group)
    if legend is None:
        legend = bool(highlight is not None or step is not None or group or picture.folds)
    fits = True
    if rankdir is None:
        picture.rankdir, fits = _direction(picture, legend)
    return picture, legend, fits


def _check_arguments(root, rankdir, precision, max_nodes, fold):
    if not hasattr(root, "parents") or not hasattr(root, "data"):
        raise TypeError(f"draw_dot draws a Value, not {type(root).__name__}: {root!r}")
    if rankdir is not None and rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)} or None, "
                         f"got {rankdir!r}")
    if not is_whole(precision) or precision < 1:
        raise ValueError(f"precision must be a whole number >= 1, got {precision!r}")
    if max_nodes is not None and (not is_whole(max_nodes) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a whole number >= 1 or None, got {max_nodes!r}")
    if fold not in (None, True, False):
        raise ValueError(f"fold must be None, True or False, got {fold!r}")


def _by_name(root, target):
    """The Value of root's graph that a name stands for ('w1_11', '(w_11)^1'); a
    non-name as it is. An unknown name is a KeyError naming the nearest labels."""
    if isinstance(target, str):
        return engine.notation.find(target, engine.topological_order(root))
    return target


def _name(value):
    return value.label or "an unlabelled Value"


class _Picture:
    """What to draw, gathered option by option, then written as DOT by draw()."""

    def __init__(self, root, values, rankdir, show_grad, show_local, precision):
        self.root = root
        self.values = values
        self.everything = len(values)
        self.expanded = {value for value in values if value.op}   # ops drawn
        self.folds = []
        self.rankdir = rankdir
        self.show_grad = show_grad
        self.show_local = show_local
        self.precision = precision
        self.ids = {value: f"v{i}" for i, value in enumerate(values)}
        self.highlighted_nodes = set()
        self.highlighted_edges = set()   # (parent, child)
        self.state = None                # StepState when drawing a backward step
        self.groups = {}
        self.last_layer = highest_layer(values)
        self.captions = []
        self.fit = True                  # scale down to a notebook column

    # -- options ------------------------------------------------------------------
    def highlight(self, target):
        """Mark every path from root down to a parameter (or an explain result's paths)."""
        if hasattr(target, "paths") and hasattr(target, "param"):
            param, output = target.param, target.output
            if target.paths:
                for path in target.paths:  # each a list of Values, output first
                    self.highlighted_nodes.update(path)
                    self.highlighted_edges.update(zip(path[1:], path[:-1]))
            else:  # too many paths to list (explain groups them): find them here
                self.highlighted_nodes, self.highlighted_edges = paths_to(output, param)
        elif hasattr(target, "parents"):
            param, output = target, self.root
            self.highlighted_nodes, self.highlighted_edges = paths_to(output, param)
            if not self.highlighted_nodes:
                raise ValueError(f"highlight: {param!r} is not in the graph of the root "
                                 f"{self.root!r}, so there is no path to draw")
        else:
            raise TypeError("highlight takes a Value (a parameter), its name or the result "
                            f"of nn.explain(...), not {type(target).__name__}")
        n_paths = _count_paths(output, param)
        derivative = engine.grad(output, param)[0]
        plural = "path" if n_paths == 1 else "paths"
        self.captions.append(
            f"∂{_name(output)}/∂{_name(param)} = {number(derivative, self.precision)}: "
            f"the sum over the {n_paths} highlighted {plural}\n"
            "of the product of the local derivatives on its edges")

    def step(self, record):
        """Draw the backward pass as it stands at one record of backward_steps()."""
        if not hasattr(record, "order") or not hasattr(record, "sends"):
            raise TypeError("step takes a record from root.backward_steps(), not "
                            f"{type(record).__name__}")
        if record.order[0] is not self.root:
            raise ValueError(f"step: this record is from the backward pass of "
                             f"{record.order[0]!r}, not of the root {self.root!r}")
        self.state = step_state(record)
        node = self.state.current
        self.captions.append(
            f"backward step {record.index + 1} of {self.state.total}: "
            f"{_name(node)} (grad {number(record.grad, self.precision)})\n"
            "sends grad × local derivative to each of its inputs")

    def fold(self):
        """Keep the highlighted path, the step's node, or else what is near the root."""
        core, whole = set(self.highlighted_nodes), set()
        if self.state is not None:
            current = self.state.current
            core |= paths_to(self.root, current)[0] | {current}
            whole.add(current)
        if not core:
            core = set(within_depth(self.root, FOLD_DEPTH))
        self.values, self.expanded, self.folds = fold(self.values, core, whole)
        self.ids = {value: f"v{i}" for i, value in enumerate(self.values)}
        if self.folds:
            self.captions.append(
                f"{self.everything - len(self.values)} of {self.everything} values are "
                "folded into the grey boxes; fold=False draws them all")

    def group(self, grouping):
        self.groups = assign_groups(self.values, grouping)

    # -- how each thing looks ------------------------------------------------------
    def kind(self, value):
        if value is self.root:
            return "output"
        if value.parents:
            return "intermediate"
        if value.constant:
            return "constant"
        return "input" if is_input_label(value.label) else "parameter"

    def is_cut(self, value):
        """Was value computed from Values that are neither drawn nor folded?"""
        if not value.parents:
            return False
        if value not in self.expanded:
            return True
        folded = {p for f in self.folds if f.consumer is value for p in f.operands}
        return any(p not in self.ids and p not in folded for p in value.parents)

    def value_node(self, value):
        """(label, attributes) of a Value's box: label, data and grad, one per line."""
        kind = self.kind(value)
        attributes = {"shape": "box", "margin": "0.05,0.03", "class": f"value {kind}"}
        attributes.update({k: v for k, v in KINDS[kind].items() if k != "meaning"})
        cells = []
        if value.label:
            cells.append(f"<b>{html_text(value.label)}</b>")
        if kind == "constant":
            cells.append(html_text(number(value.data, self.precision)))
        else:
            cells.append(f"data {html_text(number(value.data, self.precision))}")
            grad = self.grad_cell(value)
            if grad:
                cells.append(grad)
        if self.is_cut(value):
            attributes["style"] += ",dashed"
            attributes["class"] += " cut"
            attributes["tooltip"] = "some inputs of this Value are not drawn"
        if value in self.highlighted_nodes:
            attributes.update(color=HIGHLIGHT, penwidth="3")
            attributes["class"] += " highlight"
        if self.state is not None:
            attributes["class"] += " " + self.step_class(value)
            if value is self.state.current:
                attributes.update(color=CURRENT, penwidth="4")
        rows = [[(cell, {})] for cell in cells]
        label = labels.table(rows, border="0", cellborder="0", cellspacing="0",
                             cellpadding="1")
        return html_label(label), attributes

    def op_on_path(self, value):
        """Is the op that made value on a highlighted path (an operand edge is)?"""
        return any((parent, value) in self.highlighted_edges for parent in value.parents)

    def grad_cell(self, value):
        state = self.state
        if state is None:
            if not self.show_grad:
                return ""
            if value.grad is None:  # PyTorch's reset: no gradient yet
                return "grad None"
            return f"grad {html_text(number(value.grad, self.precision))}"
        grad = html_text(number(state.gradients.get(value, 0.0), self.precision))
        if value in state.pending:
            return f'<font color="{PENDING}"><i>grad {grad} so far</i></font>'
        return f"<b>grad {grad}</b>" if value is state.current else f"grad {grad}"

    def step_class(self, value):
        if value is self.state.current:
            return "current"
        if value in self.state.done:
            return "done"
        return "pending" if value in self.state.pending else "final"

    def operand_edge(self, value, index, local):
        """Attributes of the edge from operand number ``index`` into value's op."""
        parent = value.parents[index]
        attributes = {"class": "operand"}
        texts = []
        on_path = (parent, value) in self.highlighted_edges
        if parent.constant:   # no gradient flows into a constant
            return dict(attributes, color="#9a9a9a", **{"class": "operand constant"})
        if self.show_local or on_path:
            formula = _formula(value, index)
            shown = "undefined" if local is None else number(local, self.precision)
            # '1 − tanh²(x)' over '= 0.42', but a plain '1' where the formula is a constant
            texts.append(shown if formula == shown else f"{formula}\n= {shown}")
        if self.state is not None and value is self.state.current:
            send = self.state.sends[index]
            grad = self.state.gradients[value]
            texts.append(f"{number(grad, self.precision)} × "
                         f"{number(send.local_derivative, self.precision)}\n= "
                         f"{number(send.contribution, self.precision)}")
            attributes.update(color=CURRENT, penwidth="2.5", fontcolor=CURRENT)
            attributes["class"] += " send"
        if on_path:
            attributes.update(color=HIGHLIGHT, penwidth="3", fontcolor=HIGHLIGHT)
            attributes["class"] += " highlight"
        if texts:
            # padded, so a label beside a thick edge (top to bottom) stays clear of it
            text = html_text("\n".join(texts))
            attributes["label"] = html_label(labels.table([[(text, {})]], border="0",
                                                          cellpadding="2"))
        return attributes

    # -- where things go -----------------------------------------------------------
    def node_order(self):
        """[(DOT node id, value)] in the article's order, folds after their neuron.

        Values the article does not place come in the order their ops take
        them, read from the root down: w before x in w·x, a before y in a − y.
        """
        operand_order, stack = {}, [self.root]
        while stack:
            value = stack.pop()
            if value not in operand_order and value in self.ids:
                operand_order[value] = len(operand_order)
                stack.extend(reversed(value.parents))   # the first operand next

        def key(value, slot):
            place = article_key(value.label, self.last_layer) if value.label else None
            if place:
                return (0, place, slot, 0)
            return (1, (), slot, operand_order.get(value, len(self.values)))
        nodes = []
        for value in self.values:
            nodes.append((key(value, 0), self.ids[value], value))
            if value in self.expanded:
                nodes.append((key(value, 0), self.ids[value] + "op", value))
        for n, folded in enumerate(self.folds):
            nodes.append((key(folded.consumer, 1), f"fold{n}", folded.consumer))
        return [(node_id, value) for _, node_id, value in sorted(nodes, key=lambda t: t[0])]

    def levels(self):
        """{DOT node id: rank}: where Graphviz will put each node, left to right."""
        level = {}
        for value in self.values:          # parents first
            if value not in self.expanded:
                continue
            placed = [level[self.ids[p]] + self.gap(p, value) for p in value.parents
                      if self.ids.get(p) in level]
            level[self.ids[value] + "op"] = max(placed, default=1)
            level[self.ids[value]] = level[self.ids[value] + "op"] + 1
        # Consumers first: each source just before its first consumer's op, and so
        # is a Value none of whose operands is drawn (with its op), not at the start.
        for value in reversed(self.values):
            loose = value in self.expanded and not any(p in self.ids for p in value.parents)
            if self.ids[value] in level and not loose:
                continue
            ranks = [level[self.ids[c] + "op"] - (self.gap(value, c) if loose else 1)
                     for c in self.values if c in self.expanded and value in c.parents]
            if ranks:
                level[self.ids[value]] = min(ranks)
                if loose:
                    level[self.ids[value] + "op"] = level[self.ids[value]] - 1
            elif self.ids[value] not in level:
                level[self.ids[value]] = 0
        for n, folded in enumerate(self.folds):
            level[f"fold{n}"] = level[self.ids[folded.consumer] + "op"] - 1
        return level

    def gap(self, parent, value):
        """Ranks between an operand and its op: 2 across clusters, so they don't overlap."""
        mine, theirs = self.groups.get(value), self.groups.get(parent)
        return 2 if mine and theirs and mine != theirs else 1

    # -- writing the DOT -----------------------------------------------------------
    def draw(self, legend):
        # remincross=false: Graphviz's second crossing pass over clusters would
        # rotate the article's order inside a rank (z3_3, z3_4, z3_1, z3_2)
        graph_attr = {"rankdir": self.rankdir, "fontname": FONT, "nodesep": "0.08",
                      "ranksep": "0.18", "newrank": "true", "remincross": "false"}
        if self.fit:
            graph_attr["size"] = f"{COLUMN_INCHES:.3f},1000"
        graph = graphviz.Digraph("chainrule", graph_attr=graph_attr,
                                 node_attr={"fontname": FONT, "fontsize": FONT_SIZE},
                                 edge_attr={"fontname": FONT, "fontsize": FONT_SIZE,
                                            "arrowsize": "0.6"})
        if any(labels.is_shortened(value.label) for value in self.values):
            self.captions.append(labels.SHORTENED_NOTE)  # html_text cut them
        heading = self.heading(legend)
        if heading:
            graph.attr(label=html_label(heading), labelloc="t", fontsize=FONT_SIZE)
        clusters = {}
        folds = {f"fold{n}": folded for n, folded in enumerate(self.folds)}
        for node_id, value in self.node_order():
            key = self.groups.get(value)
            target = graph if key is None else clusters.setdefault(key, [])
            self.add_node(target, node_id, value, folds.get(node_id))
        for n, key in enumerate(sorted(clusters, key=_cluster_order)):
            with graph.subgraph(name=f"cluster_{n}") as cluster:
                cluster.attr(label=html_label(html_text(group_title(key, self.last_layer))),
                             style="rounded,filled", color="#b0b0b0",
                             fillcolor="#fafafa", fontsize=FONT_SIZE, **{"class": "group"})
                for statement in clusters[key]:
                    statement(cluster)
        self.add_edges(graph)
        self.add_order(graph)
        return Drawing(graph, caption=self.caption(), node_ids=self.ids)

    def add_node(self, target, node_id, value, folded):
        """Add one node (a value's box, its op, or a fold) to a graph or, later, a cluster."""
        if folded is not None:
            lines = [part for line in folded.describe()
                     for part in textwrap.wrap(line, FOLD_LINE, break_long_words=False)]
            label = html_label(html_text("\n".join(lines)))
            attributes = dict(FOLD_STYLE, fontsize=FONT_SIZE, **{"class": "fold"})
            attributes["tooltip"] = "folded: draw_dot(..., fold=False) draws these"
        elif node_id.endswith("op"):
            label = html_label(html_text(OPS[value.op].symbol))
            attributes = dict(OP_STYLE, **{"class": f"op {value.op}"})
            if self.op_on_path(value):
                attributes.update(color=HIGHLIGHT, penwidth="3")
                attributes["class"] += " highlight"
        else:
            label, attributes = self.value_node(value)
        statement = lambda g: g.node(node_id, label, **attributes)  # noqa: E731
        if isinstance(target, list):
            target.append(statement)
        else:
            statement(target)

    def add_edges(self, graph):
        folds = {folded.consumer: n for n, folded in enumerate(self.folds)}
        for value in self.values:
            if value not in self.expanded:
                continue
            node_id = self.ids[value]
            if value in folds:
                graph.edge(f"fold{folds[value]}", node_id + "op", style="dashed",
                           color="#8c8c8c", **{"class": "fold"})
            locals_ = local_derivatives(value)
            for index, parent in enumerate(value.parents):
                if parent in self.ids:
                    attributes = self.operand_edge(value, index, locals_[index])
                    if self.gap(parent, value) > 1:
                        attributes["minlen"] = "2"
                    # key: the operand slot, so the two edges of a + a stay apart
                    graph.edge(self.ids[parent], node_id + "op", key=f"{node_id}_in{index}",
                               **attributes)
            result = {"class": "result"}
            if self.op_on_path(value):
                result.update(color=HIGHLIGHT, penwidth="3", **{"class": "result highlight"})
            graph.edge(node_id + "op", node_id, key=f"{node_id}_out", **result)

    def add_order(self, graph):
        """Each rank in the article's order: x_1 above x_2, neuron 1 above neuron 2.

        The nodes of one rank are held in that rank (rank=same) and chained by
        invisible edges, which Graphviz keeps pointing down the rank in LR —
        or up it, when the nodes sit in clusters: then the chain runs upwards.
        """
        level = self.levels()
        ranks = {}
        for node_id, _ in self.node_order():
            ranks.setdefault(level[node_id], []).append(node_id)
        for n, (_, members) in enumerate(sorted(ranks.items())):
            if self.groups and self.rankdir in ("LR", "RL"):
                members = members[::-1]
            with graph.subgraph(name=f"rank{n}") as rank:
                rank.attr(rank="same")
                for above, below in zip(members, members[1:]):
                    rank.edge(above, below, style="invis", **{"class": "order"})

    def heading(self, legend):
        """The captions over the drawing, and under them the legend (HTML)."""
        rows = [[(html_text(caption), {})] for caption in self.captions]
        parts = [labels.table(rows, border="0", cellspacing="0")] if rows else []
        if legend:
            parts.append(self.legend())
        if not parts:
            return ""
        return labels.table([[(part, {})] for part in parts], border="0",
                            cellspacing="2", cellpadding="0")

    def legend(self):
        """A one-table key to what colours and shapes mean in this drawing."""
        present = {self.kind(value) for value in self.values}
        entries = [(meaning["meaning"], {"bgcolor": meaning["fillcolor"], "border": "1",
                                         "color": meaning.get("color", "black")})
                   for kind, meaning in KINDS.items() if kind in present]
        entries.append(("op: its symbol from the op table",
                        {"bgcolor": OP_STYLE["fillcolor"], "border": "1"}))
        if self.highlighted_nodes:
            entries.append(("red: on the highlighted path", {"border": "2",
                                                             "color": HIGHLIGHT}))
        if self.state is not None:
            entries.append(("orange: the node this step processes", {"border": "2",
                                                                     "color": CURRENT}))
            entries.append((f'<font color="{PENDING}"><i>grad … so far</i></font>: '
                            "still growing", {"border": "1"}, True))
        if self.folds:
            entries.append(("grey, dashed: folded values (not drawn)",
                            {"bgcolor": FOLD_STYLE["fillcolor"], "border": "1",
                             "color": FOLD_STYLE["color"], "style": "dashed"}))
        if any(self.is_cut(value) for value in self.values):
            entries.append(("dashed: computed from values not drawn", {"border": "1",
                                                                       "style": "dashed"}))
        cells = []
        for entry in entries:
            text, attributes = entry[0], entry[1]
            cells.append((text if len(entry) > 2 else html_text(text),
                          dict(attributes, cellpadding="6")))  # room for other fonts
        rows = [cells[i:i + 2] for i in range(0, len(cells), 2)]   # narrow: fits a column
        return labels.table(rows, border="0", cellspacing="3")

    def caption(self):
        n_ops = len(self.expanded)
        text = f"{len(self.values)} values, {n_ops} ops, root {_name(self.root)}"
        return "; ".join([text, *(c.replace("\n", " ") for c in self.captions)])


def _direction(picture, legend):
    """(rankdir, fits): 'LR' if that fits a column with text of at least 10 px, else
    the narrower of 'LR' and 'TB'; fits says whether the one chosen does.

    Graphviz lays the drawing out (at its natural size) to measure it; without a
    renderer, or when the whole graph was asked for (fold=False), it stays 'LR'.
    """
    if not picture.fit:
        return "LR", True
    widest = COLUMN_INCHES * 72 / SMALLEST_SCALE
    picture.fit = False
    try:
        picture.rankdir = "LR"
        across = _width(picture.draw(legend))
        if across is None or across <= widest:
            return "LR", True
        picture.rankdir = "TB"
        down = _width(picture.draw(legend))
    finally:
        picture.fit = True
    if down is None or down >= across:
        return "LR", False
    return "TB", down <= widest


def _width(drawing):
    """The drawing's width in points as Graphviz lays it out, or None without a renderer."""
    try:
        svg = drawing.pipe("svg")
    except RenderError:
        return None
    found = re.search(rb'<svg[^>]*?\bwidth="([\d.]+)pt"', svg)
    return float(found.group(1)) if found else None


def _formula(value, index):
    """d value / d (operand number index), from the op table, in the operands' names.

    The edge from w into w·x reads 'x' (the learner's x); a tanh edge reads
    '1 − tanh²(z3_2)'. An operand without a label is named by its number.
    """
    names = [_operand_name(parent) for parent in value.parents]
    return OPS[value.op].show_local(index, names, out=_operand_name(value))


def _operand_name(value):
    """A label as a formula can use it: 'a − y' in brackets, so 2·(a − y) reads right."""
    name = value.label or number(value.data, 4)
    return name if re.fullmatch(r"-?[\w.,]+", name) else f"({name})"


def _count_paths(output, param):
    """The number of paths from param up to output, one per operand slot (x + x: 2)."""
    ways = {}
    for value in engine.topological_order(output):
        ways[value] = 1 if value is param else sum(ways[p] for p in value.parents)
    return ways[output]


def _cluster_order(key):
    # inputs, then layers and neurons in order, the cost last
    return (1, key[1:]) if key[0] in ("neuron", "layer") else (2, ())
