"""Step through backprop yourself: a Jupyter widget, and the same player as one offline page.

    player = viz.step_through(C, around="w2_22", quiz=True)
    player                        # in Jupyter: the player in the output cell
    player.answers, player.score  # what the learner typed, read back in the kernel
    player.save("backprop.html")  # one self-contained file: opens from file://
    player.save("students.html", answers=False)  # a students' copy: no answer inside

The player shows the graph as draw_dot draws it and steps through
``backward_steps()``: Next / Prev / Play / Reset, a slider and the keyboard
(→ ← Home End, space). At each step the current node is outlined, the edges
along which it sends are labelled grad × local derivative = contribution, and
a panel writes the step's chain rule in the article's notation.

With quiz=True the learner works each asked node out: first the local
derivative of each edge into it, d(consumer)/d(node), then its gradient,
upstream × local summed over the paths. Nothing asked is on screen before it
is answered or revealed. nn.check decides what is right and which named
mistake a wrong number is; the player gets those answers precomputed, so its
script only compares numbers.

With direction="forward" the same player steps the forward pass instead:
the inputs and parameters are given, each step computes a node (or with
group="layer" a layer, z^{l+1} = W^l a^l + b^l, as a table of the numbers),
writes its op-table formula with the operands' names and values, and shows its
value on the drawing ('data ?' before). Its quiz asks the values
(data-ask="forward"), with the op table's forward mistakes named.

One front end: player.js is an ES module (anywidget's ``render({model, el})``)
that JupyterLab, Notebook 7, VS Code and Colab load from this package, and that
the saved page runs inline with a small stand-in for the widget's model.
Before the cell has run (an untrusted notebook, GitHub, nbconvert) the output
is a picture of the graph with its final gradients.
"""

import html
import io
import json
import math
import re
import secrets
from importlib import resources
from typing import NamedTuple

import traitlets

from engine import OPS, backward_steps, notation, topological_order
from nn.check import (
    NUMBER_PATTERN,
    TYPING_HINTS,
    forward_answer,
    forward_line,
    forward_parts,
    gradient_answer,
    gradient_line,
    gradient_name,
    local_answer,
    term,
)
from nn.explain import explain
from viz.dot import draw_dot
from viz.frontend import TRUST, Interactive, module_path
from viz.labels import number
from viz.select import GraphTooLarge, check_size, consumers, paths_to

__all__ = ["step_through", "StepThrough", "Score"]

MAX_NODES = 400
ASK = ("local", "gradient", "both")
DIRECTIONS = ("backward", "forward")
GROUPS = (None, "layer")

RUN_THIS_CELL = f"Run this cell to step through it ({TRUST})."
NO_SCRIPT_NOTE = (
    "This picture shows the final gradients of backward(). Stepping through them needs "
    "JavaScript: open this page in a browser with JavaScript on, or in Jupyter run the cell "
    f"that made it ({TRUST}).")
NO_SCRIPT_NOTE_FORWARD = (
    "This picture shows every value of the forward pass. Stepping through it needs "
    "JavaScript: open this page in a browser with JavaScript on, or in Jupyter run the cell "
    f"that made it ({TRUST}).")
REVEAL_WITH_TEACHER = "The answers are with your teacher."


def step_through(output, around=None, quiz=False, ask="both", nodes=None, attempts=3,
                 max_nodes=MAX_NODES, precision=4, rankdir=None, direction="backward",
                 group=None):
    """The backward pass of ``output`` as a player to step through; returns a StepThrough.

    direction -- 'backward' (the default) or 'forward': the forward pass in
                 topological order, each node's value written out from its
                 operands' values (the op table's formula) and shown on the
                 drawing once reached; with quiz=True (or nodes=) the learner
                 computes each asked value (ask= is then not used)
    group     -- with direction='forward': 'layer' steps a whole layer of a
                 network at a time, z^{l+1} = W^l a^l + b^l as a matrix

    around    -- a Value (or its label, or the article's name '(w_22)^2'): draw
                 the paths from output down to it, with their neighbours, and
                 step through the nodes drawn
    quiz      -- ask the learner before revealing (with around: the nodes on
                 the paths to it, about the edges on those paths)
    ask       -- 'local' (d(consumer)/d(node) of each edge into an asked node),
                 'gradient' (dC/d(node)) or 'both' (the default: locals first)
    nodes     -- the nodes to ask about (Values or labels); a local derivative
                 that is the constant ±1 of an add or subtract is asked only
                 about a node named here
    attempts  -- wrong tries before the answer is shown (default 3)
    max_nodes -- refuse bigger drawings, with advice (as draw_dot does)
    precision -- significant digits of the numbers shown (checks use 3 digits)

    Nothing of output's graph changes: every ``.grad`` is left as it was.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"step_through: direction={direction!r}; use 'backward' or 'forward'")
    if group not in GROUPS or (group is not None and direction != "forward"):
        raise ValueError(f"step_through: group={group!r}; use group='layer' with "
                         "direction='forward', or no group")
    if ask not in ASK:
        raise ValueError(f"step_through: ask={ask!r}; use one of {', '.join(map(repr, ASK))}")
    if not (isinstance(attempts, int) and attempts >= 1):
        raise ValueError(f"step_through: attempts={attempts!r}; give a whole number, 1 or more")
    everything = topological_order(output)
    target = notation.find(around, everything) if isinstance(around, str) else around
    if target is not None and target not in set(everything):
        raise ValueError(f"around: {target!r} is not in the graph of {output!r}")
    chosen = None
    if nodes is not None:
        quiz = True
        chosen = [notation.find(n, everything) if isinstance(n, str) else n for n in nodes]
        stray = [n for n in chosen if n not in set(everything)]
        if stray:
            raise ValueError(f"nodes: {stray[0]!r} is not in the graph of {output!r}")
    questions = dict(quiz=quiz, ask=ask, nodes=chosen, attempts=attempts)
    if direction == "forward":
        drawing = _draw(output, target, everything, max_nodes, precision, rankdir,
                        show_grad=False)
        data = _forward_page_data(output, target, everything, drawing, questions, precision,
                                  group)
        svg = _without_edge_labels(_marked(drawing.svg(), drawing, everything))
        return StepThrough(data, svg, drawing)
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
    return StepThrough(_page_data(output, target, records, drawing, questions, precision),
                       _marked(svg, drawing, everything), drawing)


def _draw(output, target, everything, max_nodes, precision, rankdir, show_grad=True):
    """draw_dot's picture: the whole graph, or the paths to target with their neighbours."""
    options = dict(max_nodes=max_nodes, precision=precision, rankdir=rankdir,
                   show_grad=show_grad)
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


# -- what the player shows, step by step ------------------------------------------------

def _instructions(quiz):
    if quiz:
        return ("Work out each value asked in the panel and press Enter; "
                "step with → and ← (click the player first).")
    return "Step with → and ← or Play (space), Home and End (click the player first)."


def _page_data(output, target, records, drawing, questions, precision):
    """Everything the player shows, step by step, as JSON-ready data.

    Each question has an id; ``gradientOf`` (node id -> question) and
    ``localOf`` (edge -> question) tell the script which numbers on screen it
    must keep as '?' until the question is answered or revealed.
    """
    namer = explain(output, target if target is not None else output)
    name = namer.name

    def drawn(node):
        try:
            return drawing.node_id(node)
        except KeyError:
            return None

    on_path, path_edges = (paths_to(output, target) if target is not None
                           else (set(records[0].order), None))
    asked = set()
    if questions["quiz"]:
        pool = questions["nodes"] if questions["nodes"] is not None else on_path
        asked = {n for n in pool if n is not output and drawn(n) and not n.constant}
    named = set(questions["nodes"] or ())
    ask, attempts = questions["ask"], questions["attempts"]
    out_name = name(output)
    terms = {}      # node -> the Terms it has received so far
    edges_in = {}   # node -> (consumer, edge key, local derivative) of each edge into it
    running = {}    # node -> the sum of what it has received so far
    # The gradients shown change by what each step sends; what the steps of
    # nodes not drawn send arrives with the next step drawn. The seed first.
    arrived = {drawn(output): number(records[0].grad, precision)}
    steps, quiz, gradient_of, local_of = [], [], {}, {}
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
            edge = f"{drawn(parent)} {drawn(node)}op {earlier}"
            edges_in.setdefault(parent, []).append((node, index, edge))
            if not drawn(parent) or parent.constant:
                continue  # the panel lists sends to drawn nodes; a constant receives nothing
            sends.append({
                "to": drawn(parent), "toName": name(parent), "edge": edge,
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
                "sends": sends, "arrived": arrived, "updates": updates, "questions": []}
        if node in asked:
            k = len(steps)
            if ask in ("local", "both"):
                for consumer, index, edge in edges_in.get(node, []):
                    on_a_path = path_edges is None or (node, consumer) in path_edges
                    if not (drawn(consumer) and on_a_path):
                        continue
                    answer = local_answer(consumer, index, name, attempts)
                    if answer.constant and node not in named:
                        continue  # the ±1 of an add or subtract is shown, not asked
                    local_of[edge] = len(quiz)
                    step["questions"].append(len(quiz))
                    quiz.append(_question(answer, len(quiz), k, "local", node, consumer,
                                          drawn(node)))
            if ask in ("gradient", "both"):
                answer = gradient_answer(goal, record.grad, received, attempts=attempts)
                gradient_of[drawn(node)] = len(quiz)
                step["questions"].append(len(quiz))
                quiz.append(_question(answer, len(quiz), k, "gradient", node, None,
                                      drawn(node)))
        steps.append(step)
        arrived = {}
    return {"steps": steps, "quiz": bool(quiz), "questions": quiz,
            "gradientOf": gradient_of, "localOf": local_of,
            "attempts": questions["attempts"], "root": drawn(output),
            "instructions": _instructions(bool(quiz)),
            "reading": {"pattern": NUMBER_PATTERN, "hints": TYPING_HINTS},
            "reveal": "", "salt": "",
            "title": f"Backpropagation through {out_name}, step by step" + (
                f": the paths to {name(target)}" if target is not None else "")}


# -- the forward pass, step by step ---------------------------------------------------

def forward_order(everything):
    """The computed nodes layer by layer: by depth (the longest path up from a leaf),
    then by neuron j (in the article's order, (z_1)^3 before (z_2)^3), then in the
    graph's topological order. A topological order too: every operand is less
    deep than the node it feeds."""
    depth = {}
    for node in everything:  # topological: operands first
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
    position = {node: i for i, node in enumerate(everything)}

    def neuron(node):
        parsed = notation.parse(node.label)
        return 0 if parsed is None else parsed.j

    return sorted((n for n in everything if n.parents),
                  key=lambda n: (depth[n], neuron(n), position[n]))


def _layer_of(node):
    """(kind, layer) of a node labelled in the article's notation ('z', 3), else None."""
    parsed = notation.parse(node.label)
    return None if parsed is None else (parsed.kind, parsed.layer)


def _runs(order, group):
    """The steps: one node each, or with group='layer' each layer's nodes of one kind."""
    runs = []
    for node in order:
        key = _layer_of(node) if group == "layer" else None
        if runs and key is not None and _layer_of(runs[-1][0]) == key:
            runs[-1].append(node)
        else:
            runs.append([node])
    return runs


def _matrix_form(run, name, precision, drawn):
    """z^{l+1} = W^l a^l + b^l with the numbers, or None when run is not such a layer.

    Each z node's operands are read by their labels: weights (w_jk)^l by k, the
    bias (b_j)^l, and the inputs a^l (every other operand, in order).
    """
    weights, biases, inputs = [], [], None
    for node in run:
        row, bias, others = {}, None, []
        for parent in node.parents:
            parsed = notation.parse(parent.label)
            kind = parsed.kind if parsed is not None else None
            if kind == "w":
                row[parsed.k] = parent
            elif kind == "b":
                bias = parent
            else:
                others.append(parent)
        if not row or bias is None or len(others) != len(row):
            return None
        if inputs is None:
            inputs = others
        elif others != inputs:
            return None
        weights.append([row[k] for k in sorted(row)])
        biases.append(bias)
    layer = notation.parse(weights[0][0].label).layer
    names = [notation.layer_name(kind, layer) for kind in ("W", "a", "b")]
    names[1] = _vector_name(inputs, name)
    out = notation.layer_name(*_layer_of(run[0]))
    line = (f"{out} = {names[0]} {names[1]} + {names[2]}: neuron j of {out} is row j of "
            f"{names[0]} times {names[1]}, plus bias j, Σ_k W_jk a_k + b_j")
    columns = len(inputs)
    header = [names[0]] + [""] * (columns - 1) + [names[1], names[2], out]
    rows = [header]
    for j, node in enumerate(run):
        a = number(inputs[j].data, precision) if j < columns else ""
        rows.append([number(w.data, precision) for w in weights[j]]
                    + [a, number(biases[j].data, precision),
                       {"node": drawn(node), "value": number(node.data, precision)}])
    for j in range(len(run), columns):  # more inputs than neurons: the rest of a^l
        rows.append([""] * columns + [number(inputs[j].data, precision), "", ""])
    return line, rows


def _vector_name(nodes, name):
    """a^2 for the nodes (a_1)^2 … (a_4)^2; else their names in brackets."""
    layers = {_layer_of(n) for n in nodes}
    if all(notation.input_index(n.label) is not None for n in nodes):
        return "x"  # a^1 = x
    if len(layers) == 1 and None not in layers:
        return notation.layer_name(*layers.pop())
    return "[" + ", ".join(name(n) for n in nodes) + "]"


def _forward_step(run, name, precision, drawn):
    """(line, rows) of one step: the formula of each node with its operands' values."""
    rows = []
    for node in run:
        formula, with_values = forward_parts(node, name)
        rows.append([f"{name(node)} = {formula} = {with_values} =",
                     {"node": drawn(node), "value": number(node.data, precision)}])
    if len(run) == 1:  # one line says it all (the question's prompt, while asked)
        return forward_line(run[0], name), []
    matrix = _matrix_form(run, name, precision, drawn)
    if matrix is not None:
        return matrix
    parents = [n.parents[0] for n in run if len(n.parents) == 1]
    if len(parents) == len(run) and len({n.op for n in run}) == 1:  # f applied to a vector
        out = notation.layer_name(*_layer_of(run[0]))
        show = OPS[run[0].op].show([_vector_name(parents, name)])
        return f"{out} = {show}, neuron by neuron", rows
    return f"{_vector_name(run, name)}, each from its operands", rows


def _forward_page_data(output, target, everything, drawing, questions, precision, group):
    """Everything the forward player shows, step by step, as JSON-ready data.

    The inputs and parameters are given: on the drawing from the first step.
    Each step computes one node (or, with group='layer', one layer of one
    kind) and shows its value; ``valueOf`` (node id -> question) tells the
    script which values stay '?' until answered.
    """
    namer = explain(output, target if target is not None else output)
    name = namer.name

    folded = {node: f"folded {i}" for i, node in enumerate(everything)}

    def drawn(node):  # a node folded out of the drawing is stepped in the panel only
        try:
            return drawing.node_id(node)
        except KeyError:
            return folded[node]

    on_path = paths_to(output, target)[0] if target is not None else set(everything)
    asked = set()
    if questions["quiz"]:
        pool = questions["nodes"] if questions["nodes"] is not None else on_path
        asked = {n for n in pool if n.parents}
    order = [n for n in forward_order(everything) if n in on_path or target is None]
    # what no step computes is given: the leaves, and with around= the values
    # computed before the paths begin ((a_2)^2 for (z_2)^3)
    stepped = set(order)
    given = {drawn(n): number(n.data, precision) for n in everything if n not in stepped}
    steps, quiz, value_of = [], [], {}
    for k, run in enumerate(_runs(order, group)):
        line, rows = _forward_step(run, name, precision, drawn)
        step = {"node": drawn(run[0]), "nodes": [drawn(n) for n in run],
                "label": run[0].label if len(run) == 1 else "",
                "name": name(run[0]) if len(run) == 1 else _vector_name(run, name),
                "line": line, "rows": rows, "sends": [],
                "arrived": given if k == 0 else {},
                "updates": {drawn(n): number(n.data, precision) for n in run},
                "questions": []}
        for node in run:
            if node in asked:
                answer = forward_answer(node, name, questions["attempts"])
                value_of[drawn(node)] = len(quiz)
                step["questions"].append(len(quiz))
                quiz.append(_question(answer, len(quiz), k, "forward", node, None,
                                      drawn(node)))
        steps.append(step)
    if not steps:  # a leaf: nothing to compute
        steps.append({"node": drawn(output), "nodes": [drawn(output)], "label": output.label,
                      "name": name(output), "rows": [], "sends": [], "arrived": given,
                      "updates": {}, "questions": [],
                      "line": f"{name(output)} = {number(output.data, precision)}, given"})
    out_name = name(output)
    return {"direction": "forward", "steps": steps, "quiz": bool(quiz), "questions": quiz,
            "gradientOf": {}, "localOf": {}, "valueOf": value_of,
            "attempts": questions["attempts"], "root": drawn(output),
            "instructions": _instructions(bool(quiz)),
            "reading": {"pattern": NUMBER_PATTERN, "hints": TYPING_HINTS},
            "reveal": "", "salt": "", "legend": FORWARD_LEGEND,
            "title": f"The forward pass to {out_name}, step by step" + (
                " (by layer)" if group == "layer" else "") + (
                f": the paths to {name(target)}" if target is not None else "")}


FORWARD_LEGEND = ["current: the node computed at this step",
                  "your turn: the value asked",
                  "not reached: no value yet (data ?)",
                  ""]


def _question(answer, qid, step, ask, node, consumer, node_id):
    """One question as the script needs it: nn.check's Answer.to_json and where it is."""
    data = answer.to_json()
    data.update(id=qid, step=step, ask=ask, label=node.label, node=node_id,
                consumer=consumer.label if consumer is not None else None)
    return data


# -- the students' copy: hashes instead of answers ------------------------------------------

def _fnv(text, basis):
    """FNV-1a, 32 bits: player.js computes the same (no crypto API outside https)."""
    h = basis
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def answer_hash(salt, key):
    """The salted hash of a rounded number's key, 16 hex digits."""
    text = f"{salt}|{key}"
    return f"{_fnv(text, 0x811C9DC5):08x}{_fnv(text, 0x050C5D1F):08x}"


def rounded_key(x):
    """x to 4 significant digits as a key both Python and JavaScript spell alike: '-4546e-1'."""
    if x == 0:
        return "0"
    mantissa, exponent = format(x, ".3e").split("e")
    return f"{mantissa.replace('.', '')}e{int(exponent)}"


def accepted_keys(value, spread):
    """The keys of every 4-digit number within ``spread`` of value.

    Hashing all of them (not just value's own rounding) accepts a number typed
    on either side of a rounding boundary, as nn.check does.
    """
    if value == 0 or not math.isfinite(value):
        return {rounded_key(value)} if math.isfinite(value) else set()
    keys = set()
    for i in range(401):
        x = value - spread + 2 * spread * i / 400
        if abs(float(format(x, ".3e")) - value) <= spread * (1 + 1e-9):
            keys.add(rounded_key(x))
    keys.add(rounded_key(value))
    return keys


def _secret_forms(value):
    """How an asked value may be spelled on the page (4 and 3 digits, each minus sign)."""
    forms = set()
    for digits in (3, 4, 5, 6):
        text = number(value, digits)
        forms.update({text, text.replace("-", "−"), text.replace("-", "&#45;")})
    # whole numbers (2, -1) are everywhere in names and formulas: only fractions are scrubbed
    return {f for f in forms if re.search(r"[.e]", f)}


def _scrub(text, forms):
    """text with every whole number spelled as one of forms replaced by '?'."""
    for form in sorted(forms, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.]){re.escape(form)}(?![\d])", "?", text)
    return text


def _students_copy(data, svg):
    """(data, svg) with no asked value in plain text: hashes to check against instead."""
    data = json.loads(json.dumps(data))
    salt = secrets.token_hex(8)
    forms = set()
    for question in data["questions"]:
        # an operand's value that is the answer (d(w·x)/dw = x) is on the drawing anyway
        operands = [v["value"] for v in question.pop("values", [])]
        if not any(math.isclose(v, question["expected"]) for v in operands):
            forms |= _secret_forms(question["expected"])
        question["hashes"] = sorted(answer_hash(salt, key) for key in
                                    accepted_keys(question.pop("expected"),
                                                  question.pop("tolerance")))
        for wrong in question["wrong"]:
            wrong["hashes"] = sorted(answer_hash(salt, key) for key in
                                     accepted_keys(wrong.pop("value"), wrong.pop("tolerance")))
        question["reveal"] = REVEAL_WITH_TEACHER

    def scrub(item):
        if isinstance(item, str):
            return _scrub(item, forms)
        if isinstance(item, list):
            return [scrub(x) for x in item]
        if isinstance(item, dict):
            return {k: scrub(v) for k, v in item.items()}
        return item

    hidden = set(data["gradientOf"]) | set(data.get("valueOf", {}))  # asked numbers
    for step in data["steps"]:
        for key in ("arrived", "updates"):
            step[key] = {node: (None if node in hidden else value)
                         for node, value in step[key].items()}
        for cells in step.get("rows", []):  # the forward pass's values in the panel
            for cell in cells:
                if isinstance(cell, dict) and cell["node"] in hidden:
                    cell["value"] = None
        for send in step["sends"]:
            if send["edge"] in data["localOf"]:
                send["local"] = None
                send["contribution"] = None
            if send["to"] in data["gradientOf"]:
                send["contribution"] = None
        if step["questions"]:
            step["line"] = data["questions"][step["questions"][-1]]["prompt"]
            if step["node"] in data["gradientOf"]:
                step["grad"] = None
    for step in data["steps"]:
        for send in step["sends"]:
            if step["node"] in data["gradientOf"]:
                send["grad"] = None
    data = scrub(data)
    data["salt"], data["reveal"] = salt, REVEAL_WITH_TEACHER
    data["students"] = True
    return data, _scrub_svg(svg, data, forms)


_TEXT = re.compile(r"(<text[^>]*>)([^<]*)(</text>)")


def _scrub_svg(svg, data, forms):
    """The drawing without asked numbers: '?' on asked nodes' grads and asked edges, no caption."""
    def node_group(match):
        group = match.group(0)
        if match.group(1) in data["gradientOf"]:
            group = re.sub(r"(grad )[^<]*", r"\1?", group)
        if match.group(1) in data.get("valueOf", {}):  # the forward pass asks values
            group = re.sub(r"(data )[^<]*", r"\1?", group)
        if data.get("direction") == "forward":
            group = re.sub(r"(data )([^<]*)",
                           lambda m: m.group(1) + _scrub(m.group(2), forms), group)
        # a gradient not asked may equal one asked (a bias and its z): scrubbed too
        return re.sub(r"(grad )([^<]*)", lambda m: m.group(1) + _scrub(m.group(2), forms), group)

    svg = re.sub(r'<g class="node[^"]*" data-node="([^"]*)".*?</g>', node_group, svg, flags=re.S)
    svg = re.sub(r'<text class="cr-caption"[^>]*>[^<]*</text>\n?', "", svg)

    def text(match):
        return match.group(1) + _scrub(match.group(2), forms) + match.group(3)

    def edge_group(match):
        group = match.group(0)
        if match.group(1) in data["localOf"]:
            group = re.sub(r"(<text[^>]*>)=[^<]*(</text>)", r"\1= ?\2", group)
        return _TEXT.sub(text, group)

    return re.sub(r'<g class="edge[^"]*" data-edge="([^"]*)".*?</g>', edge_group, svg,
                  flags=re.S)


# -- the SVG, marked for the player -----------------------------------------------------

_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)([^"]*)">\s*<title>([^<]*)</title>')


def _marked(svg, drawing, everything):
    """draw_dot's SVG with data-node / data-label on each node and data-edge on each edge.

    Graphviz names each group by its DOT id in <title>; Drawing.node_id maps
    Values to those ids. Graphviz's own ids (node1, edge6, ...) are dropped, so
    that two players on one notebook page do not clash. The caption's lines
    (which give the final gradient away) get class="cr-caption"; the legend's do not.
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
    svg = re.sub(r'<g id="[^"]*"', "<g", svg)
    return _mark_caption(svg, drawing)


def _without_edge_labels(svg):
    """The drawing for the forward pass: no text on the edges.

    A highlighted path carries its local derivatives, which belong to the
    backward pass and would give values still to be asked away (1 − tanh²(z) =
    0.8131 tells tanh(z)).
    """
    def strip(match):
        return re.sub(r"<text\b[^>]*>.*?</text>\n?", "", match.group(0), flags=re.S)

    return re.sub(r'<g class="edge[^>]*>.*?</g>', strip, svg, flags=re.S)


def _mark_caption(svg, drawing):
    """class="cr-caption" on the drawing's own text lines that belong to its caption."""
    caption = " ".join(drawing.caption.split())
    head, _, rest = svg.partition('<g class="node')
    if not caption:
        return svg

    def mark(match):
        words = " ".join(html.unescape(match.group(2)).split())
        if words and words in caption and not words.startswith(("data ", "grad ")):
            return f'<text class="cr-caption"{match.group(1)[5:]}{match.group(2)}</text>'
        return match.group(0)

    head = re.sub(r"(<text[^>]*>)([^<]*)</text>", mark, head)
    return head + (('<g class="node' + rest) if rest else "")


def _attribute(text):
    return html.escape(text, quote=True)


def _json(data):
    """JSON safe inside <script>: no '<' (so no '</script>'), '>' or '&' can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name):
    return resources.files("viz").joinpath(name).read_text(encoding="utf-8")


class Score(NamedTuple):
    """How many questions were answered right (not revealed), of how many asked."""
    right: int
    asked: int

    def __str__(self):
        return f"score {self.right} of {self.asked}"


class StepThrough(Interactive):
    """The step-through player: a Jupyter widget, and ``.save(path)`` writes it as a page.

    data    -- what the player shows at each step, and the questions, as plain data
    svg     -- the drawing, with data-node / data-label / data-edge marks
    answers -- one record per question tried: node, ask ('local', 'gradient' or
               'forward'), consumer, goal, typed, tries, right, revealed, mistake,
               diagnosis; written by the player as the learner answers

    Its page is its own (player.html): the drawing and a note show before the
    script runs, and answers=False makes a students' copy.
    """

    _esm = module_path("player.js")
    _css = module_path("player.css")
    svg = traitlets.Unicode().tag(sync=True)
    run_this_cell = RUN_THIS_CELL  # says how to trust the notebook

    def __init__(self, data, svg, drawing=None):
        super().__init__(data=data, svg=svg)
        self._drawing = drawing

    @property
    def alt(self):
        """The picture's alt text: the title, and what the drawing holds."""
        forward = self.data.get("direction") == "forward"
        return f"{self.data['title']}, with {'every value' if forward else 'the final gradients'}"

    @property
    def score(self):
        """Score(right, asked): questions answered right (not revealed) of those asked."""
        right = sum(1 for a in self.answers if a.get("right") and not a.get("revealed"))
        return Score(right, len(self.data.get("questions", [])))

    def html(self, answers=True):
        """The whole page: one file, nothing fetched from anywhere.

        answers=False: the students' copy, with salted hashes of the answers.
        """
        data, svg = (self.data, self.svg) if answers else _students_copy(self.data, self.svg)
        return _page(data, svg)

    def save(self, path, answers=True):
        """Write the page to path (UTF-8), atomically, and return the path.

        answers=False writes a students' copy: right and wrong answers and the
        named mistakes still work, but no answer is in the file. A text UTF-8
        cannot carry (a lone surrogate in a label) is refused before any file is
        touched; a failed write leaves an old file as it was.
        """
        return super().save(path, answers=answers)

    render = save  # as Drawing.render: the demo writes drawings and pages alike

    def picture(self):
        """The drawing with its final gradients as PNG bytes (None without a renderer)."""
        if self._drawing is None:
            return None
        try:
            return _smaller_png(self._drawing.pipe("png"))
        except Exception:  # a picture for viewers without the widget: never fail the cell
            return None

    def __len__(self):
        return len(self.data["steps"])

    def __repr__(self):
        asked = len(self.data.get("questions", []))
        quiz = f", {asked} to answer" if asked else ""
        return f"<StepThrough: {self.data['title']}, {len(self)} steps{quiz}>"


def _smaller_png(png):
    """The PNG in 32 colours when Pillow is there (a quarter of the bytes in the notebook)."""
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=32, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue() if len(out.getvalue()) < len(png) else png


def _page(data, svg):
    """The page: the picture and a note for a browser without scripts, then the player."""
    parts = {"title": html.escape(data["title"]), "css": _asset("player.css"),
             "note": html.escape(NO_SCRIPT_NOTE_FORWARD if data.get("direction") == "forward"
                                 else NO_SCRIPT_NOTE), "svg": svg, "data": _json(data),
             "script": _asset("player.js")}
    # one pass, so that nothing substituted is read again
    return re.sub(r"\$(title|css|note|svg|data|script)\b", lambda m: parts[m.group(1)],
                  _asset("player.html"))
