"""A graph of Values as DOT: the picture of the chain rule.

Each Value is a box with its label, data and grad; each op is a small node
with its symbol from the op table, between its inputs and its result:

    [a | data 2 | grad 3] ──▶ (×) ──▶ [ab | data 6 | grad 1]
    [b | data 3 | grad 2] ──▶

An operand used twice (``a + a``) gets two edges, one per operand slot, so
every edge is one term of the chain rule.
"""

import graphviz

import engine
from engine import OPS
from viz import labels
from viz.drawing import Drawing
from viz.groups import assign_groups, group_title, highest_layer
from viz.labels import html_label, html_text, number
from viz.select import check_size, paths_to, select_values
from viz.steps import local_derivatives, step_state

__all__ = ["draw_dot", "KINDS"]

RANKDIRS = ("LR", "RL", "TB", "BT")
FONT = "Helvetica"

# What each kind of Value looks like. 'class' reaches the SVG (class="node
# parameter"), so drawings can be styled or inspected.
KINDS = {
    "parameter":    {"fillcolor": "#cfe2ff", "style": "rounded,filled",
                     "meaning": "parameter (a labelled leaf: w, b, or your variable)"},
    "input":        {"fillcolor": "#e8e8e8", "style": "filled",
                     "meaning": "input or constant (a leaf: x_k, y, a number)"},
    "intermediate": {"fillcolor": "#ffffff", "style": "filled",
                     "meaning": "intermediate (computed by an op)"},
    "output":       {"fillcolor": "#ffe8a3", "style": "filled", "peripheries": "2",
                     "meaning": "output (the root: what is differentiated)"},
}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#f2f2f2",
            "margin": "0.04,0.02", "fontsize": "12"}
HIGHLIGHT = "#d62728"   # the chain-rule paths
CURRENT = "#ff7f0e"     # the node a backward step is processing
PENDING = "#8c8c8c"     # gradients still growing


def draw_dot(root, rankdir="LR", show_grad=True, show_local=False, highlight=None,
             group=None, max_nodes=2000, precision=4, step=None, depth=None,
             around=None, legend=False):
    """Draw the computation graph of ``root``; returns a Drawing (SVG in Jupyter).

    rankdir     'LR' (left to right, the default), 'TB', 'RL' or 'BT'
    show_grad   write grad on every Value
    show_local  write on every edge input -> op the local derivative
                d(out)/d(input): the op table's formula and its value
    highlight   a Value (a parameter) or an ``nn.explain`` result: the paths
                from root down to it are drawn bold, with their local derivatives
    group       'neuron' or 'layer': a cluster per neuron or layer (see viz.groups)
    max_nodes   refuse to draw more nodes than this (None: no limit)
    precision   significant digits of every number
    step        a record from ``root.backward_steps()``: the pass at that step
                (gradients are shown whatever show_grad says)
    depth       draw only the Values within ``depth`` edges of root
    around      draw only the Values within ``depth`` (default 2) edges of this one
    legend      add a legend of the node kinds
    """
    _check_arguments(root, rankdir, precision, max_nodes)
    values = select_values(root, depth=depth, around=around)
    check_size(values, max_nodes)
    picture = _Picture(root, values, rankdir, show_grad, show_local, precision)
    if highlight is not None:
        picture.highlight(highlight)
    if step is not None:
        picture.step(step)
    if group is not None:
        picture.group(group)
    return picture.draw(legend)


def _check_arguments(root, rankdir, precision, max_nodes):
    if not hasattr(root, "parents") or not hasattr(root, "data"):
        raise TypeError(f"draw_dot draws a Value, not {type(root).__name__}: {root!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 1:
        raise ValueError(f"precision must be a whole number >= 1, got {precision!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool)
                                  or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes must be a whole number >= 1 or None, got {max_nodes!r}")


def _name(value):
    return value.label or "an unlabelled Value"


class _Picture:
    """What to draw, gathered option by option, then written as DOT by draw()."""

    def __init__(self, root, values, rankdir, show_grad, show_local, precision):
        self.root = root
        self.values = values
        self.rankdir = rankdir
        self.show_grad = show_grad
        self.show_local = show_local
        self.precision = precision
        self.ids = {value: f"v{i}" for i, value in enumerate(values)}
        self.highlighted_nodes = set()
        self.highlighted_edges = set()   # (parent, child)
        self.state = None                # StepState when drawing a backward step
        self.groups = {}
        self.last_layer = None
        self.captions = []

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
            raise TypeError("highlight takes a Value (a parameter) or the result of "
                            f"nn.explain(...), not {type(target).__name__}")
        n_paths = _count_paths(output, param)
        derivative = engine.grad(output, param)[0]
        plural = "path" if n_paths == 1 else "paths"
        self.captions.append(
            f"∂{_name(output)}/∂{_name(param)} = {number(derivative, self.precision)}: "
            f"the sum over the {n_paths} highlighted {plural} of the product of the "
            "local derivatives on its edges")

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
            f"{_name(node)} (grad {number(record.grad, self.precision)}) sends "
            "grad × local derivative to each of its inputs")

    def group(self, grouping):
        self.groups = assign_groups(self.values, grouping)
        self.last_layer = highest_layer(self.values)

    # -- how each thing looks ------------------------------------------------------
    def kind(self, value):
        if value is self.root:
            return "output"
        if value.parents:
            return "intermediate"
        return "input" if _is_input_label(value.label) else "parameter"

    def value_node(self, value):
        """(label, attributes) of a Value's box."""
        kind = self.kind(value)
        attributes = {"shape": "box", "margin": "0.06,0.04", "class": f"value {kind}"}
        attributes.update({k: v for k, v in KINDS[kind].items() if k != "meaning"})
        cells = []
        if value.label:
            cells.append(f"<b>{html_text(value.label)}</b>")
        cells.append(f"data {html_text(number(value.data, self.precision))}")
        grad = self.grad_cell(value)
        if grad:
            cells.append(grad)
        if any(parent not in self.ids for parent in value.parents):
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
        row = [(cell, {}) for cell in cells]
        label = labels.table([row], border="0", cellborder="0", cellspacing="0",
                             cellpadding="3", columns="*")
        return html_label(label), attributes

    def op_on_path(self, value):
        """Is the op that made value on a highlighted path (an operand edge is)?"""
        return any((parent, value) in self.highlighted_edges for parent in value.parents)

    def grad_cell(self, value):
        state = self.state
        if state is None:
            if not self.show_grad:
                return ""
            return f"grad {html_text(number(value.grad, self.precision))}"
        grad = html_text(number(state.gradients.get(value, 0.0), self.precision))
        if value in state.pending:
            return f'<font color="{PENDING}"><i>grad {grad} (pending)</i></font>'
        return f"<b>grad {grad}</b>" if value is state.current else f"grad {grad}"

    def step_class(self, value):
        if value is self.state.current:
            return "current"
        return "pending" if value in self.state.pending else "done"

    def operand_edge(self, value, index, local):
        """Attributes of the edge from operand number ``index`` into value's op."""
        parent = value.parents[index]
        attributes = {"class": "operand"}
        texts = []
        on_path = (parent, value) in self.highlighted_edges
        if self.show_local or on_path:
            formula = _formula(value, index)
            shown = "undefined" if local is None else number(local, self.precision)
            # '1 − tanh²(x) = 0.42', but plain '1' where the formula is a constant
            texts.append(shown if formula == shown else f"{formula} = {shown}")
        if self.state is not None and value is self.state.current:
            send = self.state.sends[index]
            grad = self.state.gradients[value]
            texts.append(f"{number(grad, self.precision)} × "
                         f"{number(send.local_derivative, self.precision)} = "
                         f"{number(send.contribution, self.precision)}")
            attributes.update(color=CURRENT, penwidth="2.5", fontcolor=CURRENT)
            attributes["class"] += " send"
        if on_path:
            attributes.update(color=HIGHLIGHT, penwidth="3", fontcolor=HIGHLIGHT)
            attributes["class"] += " highlight"
        if texts:
            attributes["label"] = html_label("<br/>".join(html_text(t) for t in texts))
        return attributes

    # -- writing the DOT -----------------------------------------------------------
    def draw(self, legend):
        graph = graphviz.Digraph("chainrule", graph_attr={
            "rankdir": self.rankdir, "fontname": FONT, "nodesep": "0.25",
            "ranksep": "0.35"},
            node_attr={"fontname": FONT, "fontsize": "11"},
            edge_attr={"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"})
        if self.captions:
            caption = "<br/>".join(html_text(c) for c in self.captions)
            graph.attr(label=html_label(caption), labelloc="t", fontsize="13")
        clusters = {}
        for value in self.values:
            key = self.groups.get(value)
            target = graph if key is None else clusters.setdefault(key, [])
            self.add_nodes(target, value)
        for n, key in enumerate(sorted(clusters, key=_cluster_order)):
            with graph.subgraph(name=f"cluster_{n}") as cluster:
                cluster.attr(label=html_label(html_text(group_title(key, self.last_layer))),
                             style="rounded,filled", color="#b0b0b0",
                             fillcolor="#fafafa", fontsize="11", **{"class": "group"})
                for statement in clusters[key]:
                    statement(cluster)
        self.add_edges(graph)
        if legend:
            _add_legend(graph)
        return Drawing(graph, caption=self.caption(), node_ids=self.ids)

    def add_nodes(self, target, value):
        """Add value's box and its op node, to a graph or (later) to a cluster."""
        node_id = self.ids[value]
        label, attributes = self.value_node(value)
        statements = [lambda g: g.node(node_id, label, **attributes)]
        if value.op:
            op_label = html_label(html_text(OPS[value.op].symbol))
            op_attributes = dict(OP_STYLE, **{"class": f"op {value.op}"})
            if self.op_on_path(value):
                op_attributes.update(color=HIGHLIGHT, penwidth="3")
                op_attributes["class"] += " highlight"
            statements.append(lambda g: g.node(node_id + "op", op_label, **op_attributes))
        if isinstance(target, list):
            target.extend(statements)
        else:
            for statement in statements:
                statement(target)

    def add_edges(self, graph):
        for value in self.values:
            if not value.op:
                continue
            node_id = self.ids[value]
            locals_ = local_derivatives(value) if value.parents else ()
            for index, parent in enumerate(value.parents):
                if parent in self.ids:
                    # key: the operand slot, so the two edges of a + a stay apart
                    graph.edge(self.ids[parent], node_id + "op", key=f"{node_id}_in{index}",
                               **self.operand_edge(value, index, locals_[index]))
            result = {"class": "result"}
            if self.op_on_path(value):
                result.update(color=HIGHLIGHT, penwidth="3", **{"class": "result highlight"})
            graph.edge(node_id + "op", node_id, key=f"{node_id}_out", **result)

    def caption(self):
        n_ops = sum(1 for value in self.values if value.op)
        text = f"{len(self.values)} values, {n_ops} ops, root {_name(self.root)}"
        return "; ".join([text, *self.captions])


def _formula(value, index):
    """d value / d (operand number index), from the op table, in the operands' names.

    The edge from w into w·x reads 'x' (the learner's x); a tanh edge reads
    '1 − tanh²(z3_2)'. An operand without a label is named by its number.
    """
    names = [_operand_name(parent) for parent in value.parents]
    return OPS[value.op].show_local(index, names, out=_operand_name(value))


def _operand_name(value):
    return value.label or number(value.data, 4)


def _is_input_label(label):
    """Leaves that are data, not parameters: unlabelled, or the inputs x_k, x, y."""
    return not label or label in ("x", "y") or (label.startswith("x_")
                                                and label[2:].isdigit())


def _count_paths(output, param):
    """The number of paths from param up to output, one per operand slot (x + x: 2)."""
    ways = {}
    for value in engine.topological_order(output):
        ways[value] = 1 if value is param else sum(ways[p] for p in value.parents)
    return ways[output]


def _cluster_order(key):
    # inputs, then layers and neurons in order, the cost last
    return (1, key[1:]) if key[0] in ("neuron", "layer") else (2, ())


def _add_legend(graph):
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#b0b0b0", fontsize="11",
                    **{"class": "legend"})
        previous = None
        for kind, style in KINDS.items():
            attributes = {k: v for k, v in style.items() if k != "meaning"}
            legend.node(f"legend_{kind}", html_label(html_text(style["meaning"])),
                        shape="box", **attributes, **{"class": f"legend {kind}"})
            if previous:
                legend.edge(previous, f"legend_{kind}", style="invis")
            previous = f"legend_{kind}"
        legend.node("legend_op", html_label(html_text("op (symbol from the op table)")),
                    **OP_STYLE, **{"class": "legend op"})
        legend.edge(previous, "legend_op", style="invis")
