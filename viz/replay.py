"""Watch gradient descent learn: a recorded training run, epoch by epoch.

    history = nn.fit(net, X_train, y_train, record=True)
    replay = viz.training_replay(history, X_train, y_train, features=(2, 3),
                                 X_test=X_test, y_test=y_test)
    replay                       # in Jupyter: a widget with a scrubber over the epochs
    replay.save("training.html")  # one offline file, the same front end

At each recorded epoch e the replay shows the numbers of that run: the
network as draw_network draws it (edge colour the weight's sign, width its
size), the cost C of the training data (and of the test data) with the epoch
marked, the accuracy, the decision boundary — the network's output over a grid
of two features, the others held at their training mean — and, for a selected
weight, its update in the article's notation:

    (w_22)^2 ← (w_22)^2 − ε · dC/d(w_22)^2 = w_e − ε × g_e = w_{e+1}

g_e is history.grads[e], the gradient of the cost fit minimised (over the
batch); w_{e+1} is computed as SGD.step computes it, so it is exactly
history.params[e + 1] when every epoch was recorded. With quiz=True the
learner types w_{e+1} before stepping on.

Everything shown is computed here; replay.js (package data) only shows it.
"""

import base64
import html
import math
import re

import numpy as np
import traitlets

from engine import notation
from nn import recording
from nn.check import NUMBER_PATTERN, TYPING_HINTS, tolerance
from viz.frontend import TRUST, Interactive, module_path, png
from viz.labels import number
from viz.network import draw_network

__all__ = ["training_replay", "TrainingReplay"]

GRID = 40          # the decision boundary: GRID × GRID outputs per epoch, one byte each
MAX_EPOCHS = 201   # more recorded epochs than this are thinned (first and last kept)
CURVE_WIDTH, CURVE_HEIGHT = 400, 220  # the cost curve's coordinates (SVG viewBox)
CURVE_MARGIN = (44, 10, 10, 28)       # left, right, top, bottom


def training_replay(history, X, y, features=(0, 1), X_test=None, y_test=None, quiz=False,
                    weight=None, feature_names=None, grid=GRID, max_epochs=MAX_EPOCHS,
                    precision=4, attempts=3):
    """A recorded fit, to scrub through epoch by epoch; returns a TrainingReplay widget.

    history       -- from nn.fit(..., record=True) (or record=k)
    X, y          -- the training data fit was given (for the boundary and its points)
    features      -- the two columns of X the boundary is drawn over
    X_test, y_test -- held-out data: its cost and accuracy, and its points
    quiz          -- ask the selected weight's next value before each step
    weight        -- the weight selected first (label or article name; default
                     (w_22)^2 where the network has it, else its first weight)
    feature_names -- names of X's columns, for the boundary's axes
    attempts      -- wrong tries before the quiz shows the answer (typed numbers
                     are read as nn.check.read_number reads them)
    """
    if not getattr(history, "params", None):
        raise ValueError("training_replay: this History recorded no parameters; "
                         "train with nn.fit(..., record=True)")
    X, y = _matrix(X, "X"), np.asarray(y, dtype=float)
    tests = None
    if X_test is not None:
        if y_test is None:
            raise ValueError("training_replay: X_test needs y_test")
        tests = (_matrix(X_test, "X_test"), np.asarray(y_test, dtype=float))
    features = _features(features, X.shape[1])
    names = list(feature_names) if feature_names is not None else [
        f"x_{k + 1}" for k in range(X.shape[1])]
    shown, note = _thinned(history.recorded, max_epochs)
    labels = list(history.params[0])
    selected = _first_selected(weight, labels)
    net = history.model(shown[-1])
    drawing = draw_network(net, show_grad=False, show_weights=False)

    data = {
        "title": f"Gradient descent, epoch by epoch: {history.loss}, ε = {history.lr:g}",
        "quiz": bool(quiz),
        "lr": history.lr, "lrText": f"{history.lr:g}",
        "epochs": [history.recorded[i] for i in shown],
        "note": note,
        "selected": selected,
        "svg": _marked(drawing.svg(), net),
        "params": [_parameter(history, label, shown, precision, quiz) for label in labels],
    }
    _widths(data["params"])
    # the epoch each shown epoch's step leads to (None after the last)
    data["nextEpoch"] = [history.recorded[i] + 1 if i < len(history.grads) else None
                         for i in shown]
    if quiz:
        data["quizText"] = QUIZ_TEXT
        data["mistakes"] = list(MISTAKES)
        data["reading"] = {"pattern": NUMBER_PATTERN, "hints": TYPING_HINTS}
        data["attempts"] = attempts
    data.update(_costs(history, shown, tests, precision))
    data["boundary"] = _boundary(history, shown, X, y, tests, features, names, grid)
    return TrainingReplay(data)


class TrainingReplay(Interactive):
    """The replay of a training run: a Jupyter widget, and ``.save(path)`` for a page.

    data    -- everything shown at each epoch, computed by training_replay
    answers -- the quiz's answers as the learner gives them (one record each)
    standalone -- true in the saved page (the page's stand-in model says so),
                  where the keys work anywhere on the page
    """

    _esm = module_path("replay.js")
    _css = module_path("replay.css")
    standalone = traitlets.Bool(False).tag(sync=True)
    alt = "the decision boundary after the last epoch, with the data"
    run_this_cell = f"Run this cell to replay the training ({TRUST})."

    def __init__(self, data):
        super().__init__(data=data)

    def fallback_html(self):
        last = len(self.data["epochs"]) - 1
        cost = self.data["costText"][last]
        return (f"<p>{html.escape(self.data['title'])}: C = {html.escape(cost)} after "
                f"{self.data['epochs'][last]} epochs. Replaying the run needs JavaScript.</p>")

    def picture(self):
        """The decision boundary after the last epoch, with the data, as a PNG."""
        return png(boundary_image(self.data["boundary"], -1))

    def __repr__(self):
        quiz = ", quiz" if self.data["quiz"] else ""
        return (f"<TrainingReplay: {len(self.data['epochs'])} epochs "
                f"({self.data['epochs'][0]}..{self.data['epochs'][-1]}), "
                f"{len(self.data['params'])} parameters{quiz}>")


# What the quiz says; {name} is the selected weight's article name. No message
# holds the asked value: it is shown only once answered or revealed.
QUIZ_TEXT = {
    "first": "Type {name}'s next value first (or Reveal, or Skip): w ← w − ε · dC/dw.",
    "right": "Right: gradient descent takes {name} to",
    "revealed": "The update takes {name} to",
    "sign": ("That moves {name} the wrong way: you added ε × dC/d{name}. Descent steps "
             "against the gradient's sign, w ← w − ε · dC/dw, so the direction of the "
             "change is the opposite of the gradient's sign."),
    "down": ("Wrong direction: dC/d{name} is positive here, so the step −ε · dC/d{name} "
             "lowers {name}; your value is higher. Mind the sign."),
    "up": ("Wrong direction: dC/d{name} is negative here, so the step −ε · dC/d{name} "
           "raises {name}; your value is lower. Mind the sign."),
    "no-rate": ("That steps by the whole gradient: the step is the learning rate ε times "
                "dC/d{name}, not dC/d{name} alone."),
    "step-only": ("That is the step −ε × dC/d{name} alone; the new value is {name} "
                  "plus that step."),
    "unchanged": ("That is {name} now, before the update; the update subtracts "
                  "ε × dC/d{name} from it."),
    "other": ("Not quite. Start from {name} at this epoch and step against its gradient: "
              "w − ε × dC/dw, with the numbers above."),
}


# -- the parts -------------------------------------------------------------------------

def _matrix(X, what):
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"training_replay: {what} must be samples × features, "
                         f"got shape {X.shape}")
    return X


def _features(features, n):
    features = tuple(features)
    if (len(features) != 2 or not all(isinstance(f, (int, np.integer)) for f in features)
            or not all(0 <= f < n for f in features) or features[0] == features[1]):
        raise ValueError(f"training_replay: features must be two different column "
                         f"numbers of X, 0 .. {n - 1}, got {features!r}")
    return features


def _thinned(recorded, max_epochs):
    """The indices of the recorded epochs shown (first and last always), and a note."""
    n = len(recorded)
    if n <= max_epochs:
        return list(range(n)), ""
    shown = sorted({round(i * (n - 1) / (max_epochs - 1)) for i in range(max_epochs)})
    return shown, (f"{n} epochs were recorded; every {(n - 1) / (len(shown) - 1):.3g}th "
                   f"is shown ({len(shown)} in all)")


def _first_selected(weight, labels):
    if weight is not None:
        name = getattr(weight, "label", weight)
        if name in labels:
            return name
        found = notation.from_article(name) if isinstance(name, str) else None
        if found in labels:
            return found
        raise ValueError(f"training_replay: no parameter {weight!r} in this run; "
                         f"it has {', '.join(labels[:6])}, ...")
    if "w2_22" in labels:
        return "w2_22"
    weights = [label for label in labels if _kind(label) == "w"]
    return (weights or labels)[0]


def _kind(label):
    parsed = notation.parse(label)
    return parsed.kind if parsed else None


def _layer(label):
    parsed = notation.parse(label)
    return parsed.layer if parsed else None


def _parameter(history, label, shown, precision, quiz):
    """One parameter's numbers at every shown epoch: value, gradient, next value."""
    lr = history.lr
    values, grads, nexts = [], [], []
    for i in shown:
        w = history.params[i][label]
        values.append(w)
        if i < len(history.grads):
            g = history.grads[i][label]
            grads.append(g)
            nexts.append(w - lr * g)  # as SGD.step computes it
        else:
            grads.append(None)
            nexts.append(None)
    entry = {
        "label": label, "name": notation.article_name(label), "kind": _kind(label),
        "layer": _layer(label),
        "values": values, "grads": grads,
        "valueText": [number(w, precision) for w in values],
        "gradText": [None if g is None else number(g, precision) for g in grads],
        "nextText": [None if w is None else number(w, precision) for w in nexts],
    }
    if quiz:
        entry["quiz"] = [None if g is None else _question(w, g, lr, nxt)
                         for w, g, nxt in zip(values, grads, nexts)]
    return entry


def _widths(entries):
    """Each weight's edge width at each epoch, as draw_network sizes them then."""
    weights = [p for p in entries if p["kind"] == "w"]
    for p in entries:
        p["width"] = [1.0] * len(p["values"])
    for i in range(len(entries[0]["values"])):
        largest = max((abs(p["values"][i]) for p in weights), default=0.0) or 1.0
        for p in weights:
            p["width"][i] = round(0.6 + 2.4 * abs(p["values"][i]) / largest, 2)


# The usual wrong next values, in the order they are tried (QUIZ_TEXT says each).
MISTAKES = ("sign", "no-rate", "step-only", "unchanged")


def _question(w, g, lr, expected):
    """The right next value and the usual wrong ones, as the page checks them.

    [expected, tolerance, direction, [[value, tolerance, mistake], ...]], where
    mistake indexes MISTAKES and direction is the sign of w_{e+1} − w_e, the
    opposite of g's (a number on the other side of w is in the wrong direction).
    Numbers are rounded (7 digits; the tolerances up, to 2), far finer than the
    3 significant digits checked.
    """
    wrong = {"sign": w + lr * g, "no-rate": w - g, "step-only": -lr * g, "unchanged": w}
    close = tolerance(expected)
    wrong = [[_short(wrong[name]), _loose(tolerance(wrong[name])), index]
             for index, name in enumerate(MISTAKES)
             if math.isfinite(wrong[name]) and abs(wrong[name] - expected) > close]
    direction = -1 if g > 0 else 1 if g < 0 else 0  # the step −ε g goes against g
    return [_short(expected), _loose(close), direction, wrong]


def _short(x):
    return float(f"{x:.7g}")


def _loose(t):
    """A tolerance to 2 significant digits, rounded up (never stricter than nn.check's)."""
    exponent = math.floor(math.log10(t)) - 1
    return float(f"{math.ceil(t / 10.0 ** exponent) * 10.0 ** exponent:.2g}")


def _costs(history, shown, tests, precision):
    """C and the accuracy, training and test, at each shown epoch, and the cost curve."""
    epochs = [history.recorded[i] for i in shown]
    cost = [history.cost[e] for e in epochs]
    accuracy = [history.accuracy[e] for e in epochs]
    test_cost = test_accuracy = None
    if tests is not None:
        measured = [recording.cost_and_accuracy(history, i, *tests) for i in shown]
        test_cost = [c for c, _ in measured]
        test_accuracy = [a for _, a in measured]
    every = list(range(len(history.cost)))  # the curve has every epoch fit measured
    curves = [history.cost] + ([test_cost] if test_cost else [])
    top = max(max(c) for c in curves)
    top = top if top > 0 else 1.0
    width = CURVE_WIDTH - CURVE_MARGIN[0] - CURVE_MARGIN[1]
    height = CURVE_HEIGHT - CURVE_MARGIN[2] - CURVE_MARGIN[3]
    last = max(every[-1], 1)

    def x(e):
        return round(CURVE_MARGIN[0] + width * e / last, 1)

    def y(c):
        return round(CURVE_MARGIN[2] + height * (1 - c / top), 1)

    def points(es, cs):
        return " ".join(f"{x(e)},{y(c)}" for e, c in zip(es, cs))

    ticks = _ticks(top)
    return {
        "cost": cost, "costText": [number(c, precision) for c in cost],
        "accuracy": [None if math.isnan(a) else a for a in accuracy],
        "accuracyText": ["—" if math.isnan(a) else f"{a:.2f}" for a in accuracy],
        "testCost": test_cost,
        "testCostText": test_cost and [number(c, precision) for c in test_cost],
        "testAccuracyText": test_accuracy and [
            "—" if math.isnan(a) else f"{a:.2f}" for a in test_accuracy],
        "curve": {
            "width": CURVE_WIDTH, "height": CURVE_HEIGHT,
            "left": CURVE_MARGIN[0], "right": CURVE_WIDTH - CURVE_MARGIN[1],
            "top": CURVE_MARGIN[2], "bottom": CURVE_HEIGHT - CURVE_MARGIN[3],
            "train": points(every, history.cost),
            "test": test_cost and points(epochs, test_cost),
            "x": [x(e) for e in epochs],
            "yTicks": [[y(t), f"{t:g}"] for t in ticks],
            "xTicks": [[x(e), str(e)] for e in _ticks(last, whole=True)],
            "loss": history.loss,
        },
    }


def _ticks(top, whole=False):
    """About four round numbers from 0 to top."""
    step = 10 ** math.floor(math.log10(top / 4)) if top > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if top / (step * factor) <= 5:
            step *= factor
            break
    if whole:
        step = max(1, round(step))
        return list(range(0, int(top) + 1, step))
    ticks, t = [], 0.0
    while t <= top * (1 + 1e-9):
        ticks.append(round(t, 10))
        t += step
    return ticks


def _boundary(history, shown, X, y, tests, features, names, grid):
    """The output over a grid of two features, one byte per cell, per shown epoch."""
    first, second = features
    points_x = [X] + ([tests[0]] if tests else [])
    both = np.vstack(points_x)
    low, high = both[:, [first, second]].min(axis=0), both[:, [first, second]].max(axis=0)
    pad = np.where(high > low, (high - low) * 0.08, 1.0)
    low, high = low - pad, high + pad
    u = np.linspace(low[0], high[0], grid)          # columns: the first feature, left to right
    v = np.linspace(high[1], low[1], grid)          # rows: the second, top to bottom
    cells = np.tile(X.mean(axis=0), (grid * grid, 1))  # the other features at the mean
    cells[:, first] = np.tile(u, grid)
    cells[:, second] = np.repeat(v, grid)
    pictures, what = [], ""
    for i in shown:
        s = recording.outputs(history.model(i), cells)
        shade, what = recording.shade(history.loss, s)
        pictures.append(base64.b64encode(np.round(shade * 255).astype(np.uint8)
                                         .tobytes()).decode("ascii"))

    def place(Z, labels, test):
        fx = (Z[:, first] - low[0]) / (high[0] - low[0])
        fy = (high[1] - Z[:, second]) / (high[1] - low[1])
        return [[round(a, 4), round(b, 4), recording.second_class(history.loss, t), test]
                for a, b, t in zip(fx.tolist(), fy.tolist(), labels.tolist())]

    points = place(X, y, 0) + (place(*tests, 1) if tests else [])
    others = [names[k] for k in range(X.shape[1]) if k not in features]
    return {
        "size": grid, "pictures": pictures, "points": points, "shade": what,
        "xName": names[first], "yName": names[second],
        "xRange": [f"{low[0]:.3g}", f"{high[0]:.3g}"],
        "yRange": [f"{low[1]:.3g}", f"{high[1]:.3g}"],
        "others": (f"{', '.join(others)} held at their training mean" if others else ""),
    }


# The page's colours: red towards 0 (first class), white at 1/2, blue towards 1
_CLASS_COLOURS = (np.array([214, 39, 40]), np.array([31, 119, 180]))
_POINT_COLOURS = (np.array([179, 22, 30]), np.array([11, 79, 138]))


def boundary_image(boundary, i, scale=5):
    """The boundary picture of shown epoch i as an RGB array, points as small squares."""
    size = boundary["size"]
    shade = np.frombuffer(base64.b64decode(boundary["pictures"][i]), dtype=np.uint8)
    shade = shade.reshape(size, size).astype(float) / 255
    strength = (np.abs(shade - 0.5) * 2 * 0.6)[..., None]
    colour = np.where((shade < 0.5)[..., None], _CLASS_COLOURS[0], _CLASS_COLOURS[1])
    rgb = 255 + (colour - 255) * strength
    rgb = np.kron(rgb, np.ones((scale, scale, 1)))
    side = size * scale
    for x, y, second, test in boundary["points"]:
        col, row = int(x * (side - 1)), int(y * (side - 1))
        box = rgb[max(row - 2, 0):row + 3, max(col - 2, 0):col + 3]  # a view into rgb
        box[...] = _POINT_COLOURS[second]
        if test:  # a ring: white inside
            box[1:-1, 1:-1] = 255
    return np.round(rgb)


# -- the drawing -----------------------------------------------------------------------

_GROUP = re.compile(r'<g id="[^"]*" class="(node|edge)([^"]*)">\s*<title>([^<]*)</title>')


def _marked(svg, net):
    """draw_network's SVG with data-label on every weight's edge and every bias's label.

    Graphviz titles each edge 'n{l}_{k}->n{l+1}_{j}' and each bias label
    'b{l+1}_{j}' (draw_network's ids); the label is the parameter's own.
    """
    edges, biases = {}, {}
    for l, layer in enumerate(net.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            biases[f"b{l + 1}_{j}"] = neuron.b.label
            for k, w in enumerate(neuron.w, start=1):
                edges[f"n{l}_{k}->n{l + 1}_{j}"] = w.label
    svg = svg[svg.index("<svg"):]

    def mark(match):
        kind, classes, title = match.group(1), match.group(2), html.unescape(match.group(3))
        label = edges.get(title) if kind == "edge" else biases.get(title)
        marked = f' data-label="{html.escape(label, quote=True)}"' if label else ""
        return f'<g class="{kind}{classes}"{marked}>\n<title>{html.escape(title)}</title>'

    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    svg = _GROUP.sub(mark, svg)
    return re.sub(r'<g id="[^"]*"', "<g", svg)
