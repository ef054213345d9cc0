/* The training replay (viz/replay.py computes every number it shows).

   One ES module for a Jupyter widget (anywidget) and for the saved page,
   where viz/frontend.py serves the same `model` calls from the page's JSON.
   It shows the recorded epochs one at a time, and in a quiz compares a typed
   number with the answers Python computed. */

var SVG_NS = "http://www.w3.org/2000/svg";
var POSITIVE = "#1f77b4", NEGATIVE = "#d62728";

function make(tag, attributes, text) {
  var element = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (name) {
    element.setAttribute(name, attributes[name]);
  });
  if (text !== undefined) element.textContent = text;
  return element;
}

function svgElement(tag, attributes) {
  var element = document.createElementNS(SVG_NS, tag);
  Object.keys(attributes || {}).forEach(function (name) {
    element.setAttribute(name, attributes[name]);
  });
  return element;
}

function fill(template, name) { return template.split("{name}").join(name); }

/* A typed number, read by the rules of nn.check.read_number: reading is
   { pattern: NUMBER_PATTERN, hints: TYPING_HINTS } from Python. Returns
   { value } or { error } (a hint with no digit in it, so never an answer). */
function readNumber(text, reading) {
  var shown = text.trim();
  var compact = text.replace(/\s+/g, "").replace(/\u2212/g, "-");
  var whole = new RegExp("^(?:" + reading.pattern + ")$");
  var fail = function (key) {
    return { error: "'" + shown + "' is not a number: " + reading.hints[key] };
  };
  var parts = compact.match(whole);
  if (!parts) {
    if (!compact) return fail("empty");
    if (compact.indexOf(",") >= 0) {
      return fail(whole.test(compact.replace(/,/g, ".")) ? "comma" : "commas");
    }
    if ((compact.match(/\//g) || []).length > 1) return fail("fraction_bars");
    if (["inf", "infinity", "nan"].indexOf(compact.toLowerCase().replace(/^[+-]+/, "")) >= 0) {
      return fail("not_finite");
    }
    return fail("other");
  }
  var value = Number(parts[1]);
  if (parts[2] !== undefined) {
    if (Number(parts[2]) === 0) return fail("zero_denominator");
    value = value / Number(parts[2]);
  }
  return isFinite(value) ? { value: value } : fail("not_finite");
}

function render({ model, el }) {
  var data = model.get("data");
  var standalone = Boolean(model.get("standalone"));
  var last = data.epochs.length - 1;
  var params = {};
  data.params.forEach(function (p) { params[p.label] = p; });
  var state = { i: 0, selected: data.selected, timer: null, tries: {}, answered: {},
                answers: (model.get("answers") || []).slice() };

  el.innerHTML = "";
  // data-lm-suppress-shortcuts: JupyterLab's own shortcuts leave keys inside the replay alone
  var root = make("div", { "class": "cr-replay", tabindex: "0",
                           "data-lm-suppress-shortcuts": "true" });
  el.appendChild(root);
  var find = function (selector) { return root.querySelector(selector); };

  // -- the page ----------------------------------------------------------------
  root.innerHTML = [
    '<div class="cr-title"></div>',
    '<div class="cr-help"></div>',
    '<div class="cr-controls">',
    '  <button type="button" data-action="first" title="First epoch (Home)">First</button>',
    '  <button type="button" data-action="prev" title="Previous epoch (&#x2190;)">&#x25C0;</button>',
    '  <button type="button" data-action="play" title="Play or pause (space)">Play</button>',
    '  <button type="button" data-action="next" title="Next epoch (&#x2192;)">&#x25B6;</button>',
    '  <button type="button" data-action="last" title="Last epoch (End)">Last</button>',
    '  <input type="range" class="cr-scrubber" min="0" value="0" aria-label="epoch">',
    '  <span class="cr-epoch"></span>',
    "</div>",
    '<div class="cr-update" role="status" aria-live="polite"></div>',
    '<form class="cr-quiz" hidden>',
    '  <label><span class="cr-prompt"></span>',
    '    <input class="cr-answer" type="text" inputmode="decimal" autocomplete="off"',
    '      data-ask="update" aria-label="the next value"></label>',
    '  <button type="submit" data-action="check">Check</button>',
    '  <button type="button" data-action="reveal">Reveal</button>',
    '  <button type="button" data-action="skip">Skip</button>',
    '  <span class="cr-score"></span>',
    "</form>",
    '<div class="cr-feedback" aria-live="polite"></div>',
    '<div class="cr-network"></div>',
    '<div class="cr-weights"></div>',
    '<div class="cr-figures">',
    '  <figure class="cr-cost"><figcaption>The cost C, epoch by epoch</figcaption>',
    '    <div class="cr-readout"></div></figure>',
    '  <figure class="cr-boundary"><figcaption>The decision boundary</figcaption>',
    '    <div class="cr-plane"><canvas data-boundary=""></canvas></div>',
    '    <div class="cr-axes"></div></figure>',
    "</div>",
    '<div class="cr-legend"></div>',
  ].join("\n");
  find(".cr-title").textContent = data.title;
  find(".cr-help").textContent = data.quiz
    ? "Before each step, type the selected weight's next value. Click an edge or a name to choose another weight; \u2190 \u2192 step, space plays."
    : "Scrub through the epochs (\u2190 \u2192 Home End, space plays); click an edge or a name to follow another weight.";
  var scrubber = find(".cr-scrubber");
  scrubber.max = String(last);
  var update = find(".cr-update"), feedback = find(".cr-feedback");
  var answer = find(".cr-answer");

  // The network: draw_network's SVG; each weight's edge and bias carry data-label.
  var network = find(".cr-network");
  network.innerHTML = data.svg;
  var drawing = network.querySelector("svg");
  drawing.removeAttribute("width");
  drawing.removeAttribute("height");
  // room on the right for the output's bias, whose name is longer than its label
  var box = drawing.getAttribute("viewBox").split(/\s+/).map(Number);
  drawing.setAttribute("viewBox", [box[0], box[1], box[2] + 30, box[3]].join(" "));
  // draw_network's key speaks of numbers on every edge; the legend below says what is drawn
  drawing.querySelectorAll("g.graph > text").forEach(function (t) { t.remove(); });
  var edges = {}, biases = {};
  drawing.querySelectorAll("g.edge[data-label]").forEach(function (g) {
    edges[g.dataset.label] = g;
  });
  drawing.querySelectorAll("g.node[data-label]").forEach(function (g) {
    biases[g.dataset.label] = g;
  });
  var tag = svgElement("g", { "class": "cr-tag" });
  var tagBox = svgElement("rect", { rx: "2" });
  var tagLines = [svgElement("text", {}), svgElement("text", {})];
  tag.appendChild(tagBox);
  tagLines.forEach(function (t) { tag.appendChild(t); });
  drawing.querySelector("g.graph").appendChild(tag);

  // The weights by name, by layer: the same choice as clicking an edge.
  var names = find(".cr-weights"), byLayer = {};
  var ordered = data.params.filter(function (p) { return p.kind === "w"; })
    .concat(data.params.filter(function (p) { return p.kind !== "w"; }));
  ordered.forEach(function (p) {
    var layer = p.layer;
    if (!byLayer[layer]) {
      byLayer[layer] = make("div", { "class": "cr-layer" });
      byLayer[layer].appendChild(make("span", { "class": "cr-layer-name" },
        layer ? "W^" + layer + ", b^" + layer + ":" : "other:"));
      names.appendChild(byLayer[layer]);
    }
    byLayer[layer].appendChild(make("button", { type: "button", "class": "cr-name",
      "data-label": p.label, title: p.label }, p.name));
  });

  // The cost curve.
  var curve = data.curve;
  var plot = svgElement("svg", { viewBox: "0 0 " + curve.width + " " + curve.height,
                                 "class": "cr-curve", role: "img",
                                 "aria-label": "the cost C at every epoch" });
  plot.appendChild(svgElement("polyline", { "class": "cr-axis", points:
    curve.left + "," + curve.top + " " + curve.left + "," + curve.bottom + " " +
    curve.right + "," + curve.bottom }));
  curve.yTicks.forEach(function (tick) {
    plot.appendChild(svgElement("line", { "class": "cr-grid", x1: curve.left, x2: curve.right,
                                          y1: tick[0], y2: tick[0] }));
    var label = svgElement("text", { x: curve.left - 4, y: tick[0] + 4, "text-anchor": "end" });
    label.textContent = tick[1];
    plot.appendChild(label);
  });
  curve.xTicks.forEach(function (tick) {
    var label = svgElement("text", { x: tick[0], y: curve.bottom + 15, "text-anchor": "middle" });
    label.textContent = tick[1];
    plot.appendChild(label);
  });
  plot.appendChild(svgElement("polyline", { "class": "cr-train", points: curve.train }));
  if (curve.test) plot.appendChild(svgElement("polyline", { "class": "cr-test", points: curve.test }));
  var marker = svgElement("line", { "class": "cr-now", y1: curve.top, y2: curve.bottom });
  plot.appendChild(marker);
  find(".cr-cost").insertBefore(plot, find(".cr-readout"));
  var readout = find(".cr-readout");

  // The decision boundary: one byte per grid cell, painted on a canvas.
  var boundary = data.boundary;
  var canvas = find("canvas");
  canvas.width = canvas.height = boundary.size;
  var context = canvas.getContext("2d");
  var pixels = context.createImageData(boundary.size, boundary.size);
  var dots = svgElement("svg", { viewBox: "0 0 1 1", preserveAspectRatio: "none",
                                 "class": "cr-points" });
  boundary.points.forEach(function (point) {
    dots.appendChild(svgElement("circle", {
      cx: point[0], cy: point[1], r: 0.014,
      "class": "cr-point cr-class" + point[2] + (point[3] ? " cr-test-point" : "") }));
  });
  find(".cr-plane").appendChild(dots);
  find(".cr-axes").textContent = "across: " + boundary.xName + " (" + boundary.xRange[0] +
    " to " + boundary.xRange[1] + "); up: " + boundary.yName + " (" + boundary.yRange[0] +
    " to " + boundary.yRange[1] + ")" + (boundary.others ? "; " + boundary.others : "") +
    ". Colour: " + boundary.shade + " (red 0, blue 1).";
  var legend = "Edges: blue a positive weight, red a negative one; the wider, the larger. " +
    "The selected weight is outlined, with its value and \u2202C/\u2202w. Cost: " +
    curve.loss + ", training data (blue)" + (curve.test ? ", test data (orange)" : "") +
    ". Points: filled training, rings test." + (data.note ? " " + data.note + "." : "");
  find(".cr-legend").textContent = legend;

  function paint(i) {
    var bytes = atob(boundary.pictures[i]);
    for (var c = 0; c < bytes.length; c++) {
      var p = bytes.charCodeAt(c) / 255;
      // white at 1/2, red towards 0, blue towards 1
      var colour = p < 0.5 ? [214, 39, 40] : [31, 119, 180];
      var strength = Math.abs(p - 0.5) * 2 * 0.6;
      for (var k = 0; k < 3; k++) {
        pixels.data[4 * c + k] = Math.round(255 + (colour[k] - 255) * strength);
      }
      pixels.data[4 * c + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
    canvas.dataset.boundary = String(data.epochs[i]);
  }

  // -- the quiz ----------------------------------------------------------------
  function key(label, i) { return label + "@" + i; }
  function question() {  // the open question at this epoch, or null
    var p = params[state.selected];
    if (!data.quiz || !p.quiz || !p.quiz[state.i]) return null;
    return key(p.label, state.i) in state.answered ? null : p.quiz[state.i];
  }
  function record(result, typed, diagnosis) {
    var p = params[state.selected];
    state.answers.push({ label: p.label, epoch: data.epochs[state.i], ask: "update",
                         typed: typed, result: result, diagnosis: diagnosis });
    model.set("answers", state.answers.slice());
    model.save_changes();
  }
  function score() {
    var right = state.answers.filter(function (a) { return a.result === "right"; }).length;
    var asked = Object.keys(state.answered).length;
    return "score " + right + " of " + asked;
  }
  function say(text, kind) {
    feedback.textContent = text;
    feedback.className = "cr-feedback" + (kind ? " cr-" + kind : "");
  }
  function check() {
    var q = question();
    if (!q) return;
    var p = params[state.selected], text = answer.value;
    var read = readNumber(text, data.reading);
    if (read.error) { say(read.error, "wrong"); return; }
    var typed = read.value;
    var k = key(p.label, state.i);
    if (Math.abs(typed - q[0]) <= q[1]) {  // q: [expected, tolerance, direction, wrong]
      state.answered[k] = "right";
      record("right", text, "correct");
      show();
      say(fill(data.quizText.right, p.name) + " " + p.nextText[state.i] + ".", "right");
      return;
    }
    state.tries[k] = (state.tries[k] || 0) + 1;
    var message = null, mistake = "other";
    q[3].forEach(function (wrong) {  // [value, tolerance, index of the mistake]
      if (message === null && Math.abs(typed - wrong[0]) <= wrong[1]) {
        mistake = data.mistakes[wrong[2]];
        message = data.quizText[mistake];
      }
    });
    if (message === null && q[2] !== 0 && (typed - p.values[state.i]) * q[2] < 0) {
      mistake = "direction";
      message = q[2] < 0 ? data.quizText.down : data.quizText.up;
    }
    if (message === null) message = data.quizText.other;
    message = fill(message, p.name);
    record("wrong", text, mistake);
    if (state.tries[k] >= data.attempts) {
      state.answered[k] = "revealed";
      show();
      say(message + " " + fill(data.quizText.revealed, p.name) + " " + p.nextText[state.i] + ".",
          "wrong");
      return;
    }
    say(message, "wrong");
  }
  function reveal() {
    var p = params[state.selected];
    if (!question()) return;
    state.answered[key(p.label, state.i)] = "revealed";
    record("revealed", "", "revealed");
    show();
    say(fill(data.quizText.revealed, p.name) + " " + p.nextText[state.i] + ".");
  }
  function skip() {
    var p = params[state.selected];
    if (!question()) return;
    state.answered[key(p.label, state.i)] = "skipped";
    record("skipped", "", "skipped");
    go(state.i + 1);
  }

  // -- showing epoch i -----------------------------------------------------------
  function show() {
    var i = state.i, p = params[state.selected], q = question();
    scrubber.value = String(i);
    scrubber.dataset.epoch = String(data.epochs[i]);
    find(".cr-epoch").textContent = "epoch " + data.epochs[i] + " of " + data.epochs[last];
    // the network at epoch i
    data.params.forEach(function (w) {
      var value = w.values[i], colour = value >= 0 ? POSITIVE : NEGATIVE;
      var edge = edges[w.label];
      if (edge) {
        edge.querySelectorAll("path, polygon").forEach(function (shape) {
          shape.setAttribute("stroke", colour);
          shape.setAttribute("stroke-width", String(w.width[i]));
          if (shape.tagName === "polygon") shape.setAttribute("fill", colour);
        });
        edge.classList.toggle("cr-selected", w.label === state.selected);
      }
      var bias = biases[w.label];
      if (bias) {
        var texts = bias.querySelectorAll("text");
        if (texts.length) texts[0].textContent = w.name + " = " + w.valueText[i];
        bias.classList.toggle("cr-selected", w.label === state.selected);
      }
    });
    root.querySelectorAll(".cr-name").forEach(function (button) {
      button.classList.toggle("cr-selected", button.dataset.label === state.selected);
    });
    placeTag(p, i);
    // the cost and the accuracy
    marker.setAttribute("x1", curve.x[i]);
    marker.setAttribute("x2", curve.x[i]);
    readout.dataset.cost = String(data.cost[i]);
    readout.textContent = "epoch " + data.epochs[i] + ": C = " + data.costText[i] +
      (data.testCostText ? " (test " + data.testCostText[i] + ")" : "") + ", accuracy " +
      data.accuracyText[i] + (data.testAccuracyText ? " (test " + data.testAccuracyText[i] + ")" : "");
    paint(i);
    // the update of the selected weight
    update.dataset.label = p.label;
    update.dataset.epoch = String(data.epochs[i]);
    update.dataset.value = String(p.values[i]);
    var grad = p.grads[i];
    update.dataset.grad = grad === null ? "" : String(grad);
    var shownNext = grad !== null && !q;
    if (grad === null) {
      update.textContent = p.name + " = " + p.valueText[i] + " after epoch " + data.epochs[i] +
        ", the last: the network fit returned, so no update follows.";
    } else {
      var g = p.gradText[i];
      var lines = p.name + " \u2190 " + p.name + " \u2212 \u03b5 \u00b7 dC/d" + p.name + " = " +
        p.valueText[i] + " \u2212 " + data.lrText + " \u00d7 " + (g.charAt(0) === "-" ? "(" + g + ")" : g) +
        " = " + (shownNext ? p.nextText[i] : "?");
      update.textContent = lines + "   (epoch " + data.epochs[i] + " \u2192 " + data.nextEpoch[i] + ")";
    }
    // the question
    var form = find(".cr-quiz");
    if (!q && document.activeElement === answer) {
      root.focus();  // the box is about to hide: the keys go on to the replay at once
    }
    form.hidden = !q;
    if (q) {
      answer.dataset.label = p.label;
      find(".cr-prompt").textContent = p.name + " at epoch " + data.nextEpoch[i] + " =";
    }
    find(".cr-score").textContent = data.quiz ? score() : "";
    find('[data-action="play"]').textContent = state.timer ? "Pause" : "Play";
  }

  function placeTag(p, i) {
    var edge = edges[p.label] || biases[p.label];
    if (!edge) { tag.setAttribute("visibility", "hidden"); return; }
    tag.setAttribute("visibility", "visible");
    var at;
    var path = edge.querySelector("path");
    if (path && edges[p.label]) {
      at = path.getPointAtLength(0.62 * path.getTotalLength());
    } else {
      var box = edge.getBBox();
      at = { x: box.x + box.width / 2, y: box.y - 16 };
    }
    tagLines[0].textContent = p.name + " = " + p.valueText[i];
    tagLines[1].textContent = p.gradText[i] === null ? "\u2202C/\u2202w \u2014" :
      "\u2202C/\u2202w = " + p.gradText[i];
    tagLines[0].setAttribute("x", at.x); tagLines[0].setAttribute("y", at.y - 3);
    tagLines[1].setAttribute("x", at.x); tagLines[1].setAttribute("y", at.y + 10);
    var width = 0;
    tagLines.forEach(function (t) { width = Math.max(width, t.getComputedTextLength()); });
    tagBox.setAttribute("x", at.x - width / 2 - 4);
    tagBox.setAttribute("y", at.y - 15);
    tagBox.setAttribute("width", width + 8);
    tagBox.setAttribute("height", 29);
  }

  // -- moving ------------------------------------------------------------------
  function go(i) {
    i = Math.max(0, Math.min(last, i));
    if (i > state.i && question()) {  // the next value is asked before it is shown
      stop();
      say(fill(data.quizText.first, params[state.selected].name));
      show();
      return false;
    }
    if (i !== state.i) say("");
    state.i = i;
    show();
    return true;
  }
  function stop() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }
  function play() {
    if (state.timer) { stop(); show(); return; }
    if (state.i === last) go(0);
    state.timer = setInterval(function () {
      if (state.i === last || !go(state.i + 1)) { stop(); show(); }
    }, 250);
    show();
  }
  function select(label) {
    if (!(label in params)) return;
    state.selected = label;
    say("");
    show();
  }

  var actions = {
    first: function () { stop(); go(0); }, prev: function () { stop(); go(state.i - 1); },
    next: function () { stop(); go(state.i + 1); }, last: function () { stop(); go(last); },
    play: play, reveal: reveal, skip: skip,
  };
  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button && button.dataset.action in actions) { actions[button.dataset.action](); return; }
    var chosen = event.target.closest("[data-label]");
    if (chosen && (chosen.classList.contains("cr-name") || chosen.closest(".cr-network"))) {
      select(chosen.dataset.label);
    }
  });
  find(".cr-quiz").addEventListener("submit", function (event) {
    event.preventDefault();
    check();
  });
  // Enter checks, also where the page around us takes the form's own Enter
  // for a shortcut and cancels it (JupyterLab's command mode).
  answer.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    event.stopPropagation();
    check();
  });
  scrubber.addEventListener("input", function () {
    stop();
    var wanted = Number(scrubber.value);
    // Forward past an open question stops at it.
    while (state.i < wanted && go(state.i + 1)) { /* step by step */ }
    if (wanted < state.i) go(wanted);
    show();
  });
  var keys = { ArrowRight: actions.next, ArrowLeft: actions.prev, Home: actions.first,
               End: actions.last, " ": play };
  // The saved page is all replay: its keys work wherever the focus is.
  var keyTarget = standalone ? document : root;
  keyTarget.addEventListener("keydown", function (event) {
    if (event.target === answer || event.altKey || event.ctrlKey || event.metaKey) return;
    if (!(event.key in keys)) return;
    event.preventDefault();
    event.stopPropagation();  // not the notebook's shortcuts
    keys[event.key]();
  });
  show();
  if (standalone) root.focus();
  return function () { stop(); };
}

export default { render };
