"""Step through backprop yourself: one offline HTML page, in the browser or in Jupyter.

    page = viz.step_through(C, around="w2_22", quiz=True)
    page                      # in Jupyter: the player in the output cell
    page.save("backprop.html")  # one self-contained file: opens from file://

The page shows the graph as draw_dot draws it and steps through
``backward_steps()``: Next / Prev / Play / Reset, a slider and the keyboard
(→ ← Home End, space). At each step the current node is outlined, the edges
along which it sends are labelled grad × local derivative = contribution, and
a panel writes the step's chain rule in the article's notation. Nodes not
reached yet show no gradient; a node reached along several paths shows its
running sum; the last step shows exactly backward()'s gradients.

With quiz=True the learner types each gradient before it is revealed
(only the nodes on the paths to ``around``, when it is given); nn.check
decides what is right and which mistake a wrong number looks like, and the
page gets those answers precomputed, so its script only compares numbers.

Everything the page needs is computed here, in Python; player.html,
player.js and player.css (package data) only show it. Without JavaScript
the page still shows the graph with its final gradients, and says why it
does not step.
"""

import html
import json
import re
import uuid
from importlib import resources
from string import Template

from engine import backward_steps, notation, topological_order
from engine.files import write_atomic
from nn.check import gradient_answer, gradient_line, gradient_name, term
from nn.explain import explain
from viz.dot import draw_dot
from viz.labels import number
from viz.select import GraphTooLarge, check_size, consumers, paths_to

__all__ = ["step_through", "StepThrough"]

MAX_NODES = 400

NO_SCRIPT_NOTE = (
    "This picture shows the final gradients of backward(). Stepping through the "
    "backward pass needs JavaScript: in Jupyter, trust the notebook (File → Trust "
    "Notebook, or jupyter trust NOTEBOOK.ipynb) and run the cell again, or save the "
    "page with .save(\"backprop.html\") and open it in a browser.")


def step_through(output, around=None, quiz=False, max_nodes=MAX_NODES, precision=4,
                 rankdir=None):
    """The backward pass of ``output`` as a page to step through; returns a StepThrough.

    around    -- a Value (or its label, or the article's name '(w_22)^2'): draw
                 the paths from output down to it, with their neighbours, and
                 step through the nodes drawn
    quiz      -- ask the learner for each gradient before revealing it (with
                 around: only the nodes on the paths to it)
    max_nodes -- refuse bigger drawings, with advice (as draw_dot does)
    precision -- significant digits of the numbers shown (checks use 3 digits)

    Nothing of output's graph changes: every ``.grad`` is left as it was.
    """
    everything = topological_order(output)
    target = notation.find(around, everything) if isinstance(around, str) else around
    if target is not None and target not in set(everything):
        raise ValueError(f"around: {target!r} is not in the graph of {output!r}")
    saved = {node: node.grad for node in everything}
    try:
        records = list(backward_steps(output))
        gradients = {}  # this pass's gradient of every node, as backward() computes it
        for record in records:
            gradients[record.node] = record.grad
        for node in everything:  # drawn with this pass's gradients, whatever .grad held
            node.grad = gradients[node]
        drawing = _draw(output, target, everything, max_nodes, precision, rankdir)
        svg = drawing.svg()
    finally:
        for node, g in saved.items():
            node.grad = g
    return StepThrough(_page_data(output, target, records, drawing, quiz, precision),
                       _marked(svg, drawing, everything))


def _draw(output, target, everything, max_nodes, precision, rankdir):
    """draw_dot's picture: the whole graph, or the paths to target with their neighbours."""
    options = dict(max_nodes=max_nodes, precision=precision, rankdir=rankdir)
    try:
        if target is None:
            return draw_dot(output, **options)
        on_paths = paths_to(output, target)[0] or {target}
        check_size(on_paths, max_nodes)  # too many already: no need to search
        # draw_dot draws the Values within a distance of one Value: choose the
        # node of the paths from which every node of the paths is near.
        centre, radius = _centre(everything, on_paths)
        return draw_dot(output, around=centre, depth=radius, highlight=target, **options)
    except GraphTooLarge as error:
        raise GraphTooLarge(_advice(str(error), target is not None)) from None


def _advice(message, around):
    """draw_dot's too-large message, with advice only in step_through's own arguments."""
    found = re.search(r"this graph has (\d+) nodes \(.*?\), more than max_nodes=\d+",
                      message)
    if found is None:
        return message.replace("draw_dot", "step_through")
    total = int(found.group(1))
    instead = ("step through fewer nodes: the paths to one Value with "
               "step_through(root, around=value), " if not around else
               "choose a Value nearer the output for around=, ")
    return (f"step_through: {found.group(0)}; a page of so many steps would not be "
            f"readable. Instead: {instead}or raise the limit, "
            f"step_through(root{', around=...' if around else ''}, max_nodes={total}).")


def _centre(everything, chosen):
    """(node of chosen, distance) such that every chosen node is within that distance.

    Distances count Value-to-Value edges, up or down, as draw_dot's around does.
    A few breadth-first searches, whatever the size of chosen (one per chosen
    node took quadratic time): from any chosen node to the farthest chosen b,
    from b to the farthest chosen c, from c, and from the middle m of the
    b–c route; every chosen node is within m's largest distance to them.
    """
    neighbours = consumers(everything)
    for node in everything:
        neighbours[node] = neighbours[node] + list(node.parents)
    chosen = [node for node in everything if node in chosen]  # a fixed order

    def search(start):
        distance, came_from, queue = {start: 0}, {start: None}, [start]
        for node in queue:  # breadth first; queue grows as we go
            for neighbour in neighbours[node]:
                if neighbour not in distance:
                    distance[neighbour] = distance[node] + 1
                    came_from[neighbour] = node
                    queue.append(neighbour)
        return distance, came_from

    distance, _ = search(chosen[0])
    far = max(chosen, key=distance.__getitem__)
    from_far, came_from = search(far)
    other_end = max(chosen, key=from_far.__getitem__)
    from_other_end, _ = search(other_end)
    middle = other_end
    for _ in range(from_far[other_end] // 2):  # back along the route, half way
        middle = came_from[middle]
    distance, _ = search(middle)
    best = (middle, max(distance[node] for node in chosen))
    # The first chosen node (in the graph's order) that does as well, if one of
    # the first few that could is found: the same centre for the same graph.
    could = [node for node in chosen
             if max(from_far[node], from_other_end[node]) <= best[1]]
    for node in could[:3]:
        distance, _ = search(node)
        if max(distance[n] for n in chosen) <= best[1]:
            return node, best[1]
    return best


def _page_data(output, target, records, drawing, quiz, precision):
    """Everything the page shows, step by step, as JSON-ready data."""
    namer = explain(output, target if target is not None else output)
    name = namer.name

    def drawn(node):
        try:
            return drawing.node_id(node)
        except KeyError:
            return None

    asked = set()
    if quiz:
        on_path = paths_to(output, target)[0] if target is not None else set(records[0].order)
        asked = {n for n in on_path if n is not output and drawn(n)
                 and not n.constant}
    out_name = name(output)
    terms = {}      # node -> the Terms it has received so far
    running = {}    # node -> the sum of what it has received so far
    # The gradients shown change by what each step sends; what the steps of
    # nodes not drawn send arrives with the next step drawn. The seed first.
    arrived = {drawn(output): number(records[0].grad, precision)}
    steps = []
    for record in records:
        node = record.node
        received = terms.get(node, [])
        goal = gradient_name(out_name, name(node))
        sends, updates = [], {}
        for index, send in enumerate(record.sends):
            parent = send.parent
            terms.setdefault(parent, []).append(
                term(node, index, record.grad, send.local_derivative, name, output))
            running[parent] = running.get(parent, 0.0) + send.contribution
            if drawn(parent):
                updates[drawn(parent)] = number(running[parent], precision)
            earlier = sum(1 for p in node.parents[:index] if p is parent)  # a + a: 2 edges
            sends.append({
                "to": drawn(parent), "toName": name(parent),
                "edge": f"{drawn(parent)} {drawn(node)}op {earlier}",
                "formula": terms[parent][-1].formula,
                "local": number(send.local_derivative, precision),
                "contribution": number(send.contribution, precision),
                "grad": number(record.grad, precision)})
        if not drawn(node):
            arrived.update(updates)
            continue
        step = {"node": drawn(node), "label": node.label, "name": name(node),
                "goal": goal, "grad": number(record.grad, precision),
                "line": gradient_line(goal, record.grad, received),
                "sends": sends, "arrived": arrived, "updates": updates}
        if node in asked:
            answer = gradient_answer(goal, record.grad, received)
            step["quiz"] = dict(answer.to_json(), prompt=gradient_line(goal, None, received))
        steps.append(step)
        arrived = {}
    return {"steps": steps, "quiz": bool(asked), "root": drawn(output),
            "title": f"Backpropagation through {out_name}, step by step" + (
                f": the paths to {name(target)}" if target is not None else "")}


# -- the SVG, marked for the page ---------------------------------------------------

_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)([^"]*)">\s*<title>([^<]*)</title>')


def _marked(svg, drawing, everything):
    """draw_dot's SVG with data-node / data-label on each node and data-edge on each edge.

    Graphviz names each group by its DOT id in <title>; Drawing.node_id maps
    Values to those ids. Graphviz's own ids (node1, edge6, ...) are dropped, so
    that two players on one notebook page do not clash.
    """
    labels = {}
    for value in everything:
        try:
            labels[drawing.node_id(value)] = value.label
        except KeyError:
            pass
    seen = {}

    def mark(match):
        kind, classes, title = match.group(1), match.group(2), html.unescape(match.group(3))
        if kind == "node":
            label = labels.get(title, "")
            shown = notation.article_name(label) if label else ""
            return (f'<g class="node{classes}" data-node="{_attribute(title)}" '
                    f'data-label="{_attribute(label)}">\n<title>{html.escape(shown)}</title>')
        tail, _, head = title.partition("->")
        n = seen[(tail, head)] = seen.get((tail, head), -1) + 1
        return (f'<g class="edge{classes}" data-edge="{_attribute(f"{tail} {head} {n}")}">'
                "\n<title></title>")

    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = _GROUP.sub(mark, svg)
    return re.sub(r'<g id="[^"]*"', "<g", svg)


def _attribute(text):
    return html.escape(text, quote=True)


def _json(data):
    """JSON safe inside <script>: no '<' (so no '</script>'), '>' or '&' can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name):
    return resources.files("viz").joinpath(name).read_text(encoding="utf-8")


class StepThrough:
    """The step-through page. In Jupyter it shows itself; ``.save(path)`` writes it.

    data -- what the page shows at each step (steps, quiz answers), as plain data
    svg  -- the drawing, with data-node / data-label / data-edge marks
    """

    def __init__(self, data, svg):
        self.data = data
        self.svg = svg

    def fragment(self, standalone=False):
        """The player as an HTML fragment: its style, the picture, its data and script."""
        uid = f"cr-{uuid.uuid4().hex[:12]}"
        return Template(_asset("player.html")).substitute(
            uid=uid, css=_asset("player.css"), svg=self.svg, data=_json(self.data),
            script=_asset("player.js"), note=html.escape(NO_SCRIPT_NOTE),
            last=len(self.data["steps"]) - 1, standalone="1" if standalone else "0",
            title=html.escape(self.data["title"]))

    def html(self):
        """The whole page: one file, nothing fetched from anywhere."""
        return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>{html.escape(self.data['title'])}</title>\n</head>\n<body>\n"
                f"{self.fragment(standalone=True)}\n</body>\n</html>\n")

    def save(self, path):
        """Write the page to path (UTF-8), atomically, and return the path.

        A text UTF-8 cannot carry (a lone surrogate in a label) is refused
        before any file is touched; a failed write leaves an old file as it was.
        """
        return write_atomic(path, self.html(), what="the page")

    render = save  # as Drawing.render: the demo writes drawings and pages alike

    def _repr_html_(self):
        return self.fragment()

    def __len__(self):
        return len(self.data["steps"])

    def __repr__(self):
        asked = sum(1 for step in self.data["steps"] if "quiz" in step)
        quiz = f", {asked} to answer" if asked else ""
        return f"<StepThrough: {self.data['title']}, {len(self)} steps{quiz}>"
