/* The step-through player (viz/step_through.py writes its data).

   Python computed every number and every message: the gradients at each step,
   the chain-rule lines, and for each question the right value and the usual
   wrong ones (nn/check.py). This script only shows them step by step, and
   compares a typed number with those answers. */

function chainrulePlayer(root) {
  "use strict";
  var data = JSON.parse(root.querySelector(".cr-data").textContent);
  var steps = data.steps;
  var last = steps.length - 1;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var find = function (selector) { return root.querySelector(selector); };
  var graph = find(".cr-graph");
  var layer = graph.querySelector("g.graph");
  var slider = find(".cr-slider");
  var answer = find(".cr-answer");

  // The drawing: node groups by DOT id, the text showing each grad, the edges.
  var nodes = {}, gradText = {}, edges = {};
  root.querySelectorAll("g.node[data-node]").forEach(function (g) {
    nodes[g.dataset.node] = g;
    // Graphviz draws a node's outline first, then its text and cell borders.
    var outline = g.querySelector("path, polygon, ellipse");
    if (outline) outline.classList.add("cr-outline");
    g.querySelectorAll("text").forEach(function (text) {
      if (/^grad /.test(text.textContent)) gradText[g.dataset.node] = text;
    });
  });
  root.querySelectorAll("g.edge[data-edge]").forEach(function (g) {
    edges[g.dataset.edge] = g;
  });
  var stepOf = {};  // node id -> the index of its step
  steps.forEach(function (step, k) { stepOf[step.node] = k; });

  var state = { k: 0, asking: false, answers: {}, tries: {}, timer: null };

  // Is this node's gradient a question not answered yet?
  function unanswered(id) {
    var k = stepOf[id];
    return data.quiz && k !== undefined && Boolean(steps[k].quiz) && !(k in state.answers);
  }

  // -- showing step k ---------------------------------------------------------
  function render() {
    var k = state.k, step = steps[k];
    var shown = {};  // node id -> the gradient it shows (a running sum until complete)
    for (var j = 0; j <= k; j++) {
      Object.assign(shown, steps[j].arrived);
      if (j < k || !state.asking) Object.assign(shown, steps[j].updates);
    }
    Object.keys(gradText).forEach(function (id) {
      var text = !(id in shown) ? "\u2014" : unanswered(id) ? "?" : shown[id];
      gradText[id].textContent = "grad " + text;
    });
    Object.keys(nodes).forEach(function (id) {
      var g = nodes[id], value = id.replace(/op$/, "");
      var isOp = value !== id;
      var current = value === step.node;
      g.classList.toggle("cr-current", current && !state.asking);
      g.classList.toggle("cr-asked", current && state.asking && !isOp);
      g.classList.toggle("cr-pending", isOp ? !(stepOf[value] <= k) : !(id in shown));
    });
    drawSends(step);
    // the caption above the graph gives the final gradient away: hide it in a quiz
    var atEnd = k === last && !state.asking;
    layer.querySelectorAll(":scope > text").forEach(function (text) {
      text.style.visibility = data.quiz && !atEnd ? "hidden" : "";
    });
    writePanel(step, atEnd);
    slider.value = String(k);
    find(".cr-counter").textContent = "step " + (k + 1) + " of " + steps.length;
    find('[data-action="prev"]').disabled = k === 0;
    find('[data-action="next"]').disabled = k === last || state.asking;
    find('[data-action="play"]').disabled = state.asking || (k === last && !state.timer);
    if (nodes[step.node]) follow(nodes[step.node]);
  }

  function drawSends(step) {
    layer.querySelectorAll(".cr-edge-label").forEach(function (g) { g.remove(); });
    Object.keys(edges).forEach(function (key) { edges[key].classList.remove("cr-send"); });
    if (state.asking) return;
    step.sends.forEach(function (send) {
      var edge = edges[send.edge];
      if (!edge) return;  // the parent is not drawn
      edge.classList.add("cr-send");
      label(edge, send.grad + " \u00d7 " + send.local + " = " + contribution(send));
    });
  }

  function contribution(send) {
    return send.to && unanswered(send.to) ? "?" : send.contribution;
  }

  // A label at the middle of an edge, on a white box so it reads over lines;
  // below the edge when Graphviz wrote a label of its own there.
  function label(edge, text) {
    var path = edge.querySelector("path");
    if (!path) return;
    var middle = path.getPointAtLength(path.getTotalLength() / 2);
    if (edge.querySelector("text")) middle = { x: middle.x, y: middle.y + 14 };
    var g = document.createElementNS(SVG_NS, "g");
    var box = document.createElementNS(SVG_NS, "rect");
    var words = document.createElementNS(SVG_NS, "text");
    g.setAttribute("class", "cr-edge-label");
    words.setAttribute("x", middle.x);
    words.setAttribute("y", middle.y + 4);
    words.setAttribute("text-anchor", "middle");
    words.textContent = text;
    g.appendChild(box);
    g.appendChild(words);
    layer.appendChild(g);
    var size = words.getBBox();
    box.setAttribute("x", size.x - 3);
    box.setAttribute("y", size.y - 1);
    box.setAttribute("width", size.width + 6);
    box.setAttribute("height", size.height + 2);
    box.setAttribute("rx", 3);
  }

  function writePanel(step, atEnd) {
    var name = step.label && step.label !== step.name
      ? step.name + " (" + step.label + ")" : step.name;
    find(".cr-step").textContent = "Step " + (state.k + 1) + " of " + steps.length + ": " +
      (name || "an unlabelled node");
    find(".cr-line").textContent = state.asking ? step.quiz.prompt : step.line;
    var table = find(".cr-sends");
    table.textContent = "";
    if (!state.asking) {
      if (!step.sends.length) row(table, ["a leaf:", "it sends nothing on"]);
      step.sends.forEach(function (send) {
        row(table, ["to " + send.toName,
                    "local derivative " + send.formula + " = " + send.local,
                    "sends " + send.grad + " \u00d7 " + send.local + " = " + contribution(send)]);
      });
    }
    var quiz = find(".cr-quiz");
    var wasHidden = quiz.hidden;
    if (!state.asking && quiz.contains(document.activeElement)) {
      root.focus({ preventScroll: true });  // keep the keys working once it is hidden
    }
    quiz.hidden = !state.asking;
    if (state.asking) {
      find(".cr-prompt").textContent = "Your turn: " + step.quiz.goal + " =";
      answer.dataset.label = step.label;
      if (wasHidden) answer.value = "";
      if (root.contains(document.activeElement)) answer.focus();
    }
    find(".cr-score").textContent = data.quiz && atEnd ? score() : "";
  }

  function row(table, cells) {
    var tr = table.insertRow();
    cells.forEach(function (text) { tr.insertCell().textContent = text; });
  }

  function score() {
    var asked = 0, first = 0, later = 0, revealed = 0, skipped = 0;
    steps.forEach(function (step, k) {
      if (!step.quiz) return;
      asked += 1;
      var how = state.answers[k];
      if (how === "first") first += 1;
      else if (how === "later") later += 1;
      else if (how === "revealed") revealed += 1;
      else skipped += 1;
    });
    return "Score: " + first + " of " + asked + " right at the first try; " + later +
      " right after another try, " + revealed + " revealed, " + skipped + " skipped.";
  }

  // Keep the current node in view inside the scrolling graph box.
  function follow(element) {
    if (graph.classList.contains("cr-fit")) return;
    var box = graph.getBoundingClientRect(), node = element.getBoundingClientRect();
    if (node.left < box.left || node.right > box.right) {
      graph.scrollLeft += (node.left + node.right - box.left - box.right) / 2;
    }
    if (node.top < box.top || node.bottom > box.bottom) {
      graph.scrollTop += (node.top + node.bottom - box.top - box.bottom) / 2;
    }
  }

  function say(message, kind) {
    var status = find(".cr-status");
    status.textContent = message;
    status.classList.toggle("cr-right", kind === "right");
    status.classList.toggle("cr-wrong", kind === "wrong");
  }

  // -- moving -----------------------------------------------------------------
  function go(k) {
    state.k = Math.max(0, Math.min(k, last));
    state.asking = Boolean(data.quiz && steps[state.k].quiz && !(state.k in state.answers));
    say("");
    render();
  }

  function next() {  // false when it cannot move: at the end, or a question waits
    if (state.asking) {
      say("Type your answer first (or Reveal, or Skip).", "wrong");
      return false;
    }
    if (state.k >= last) return false;
    go(state.k + 1);
    return true;
  }

  function prev() { if (state.k > 0) go(state.k - 1); }

  function end() { stop(); while (next()) { /* stops at a question */ } }

  function reset() {
    stop();
    state.answers = {};
    state.tries = {};
    go(0);
  }

  function play() {
    if (state.timer) { stop(); return; }
    if (!next()) return;
    state.timer = setInterval(function () { if (!next()) stop(); }, 900);
    find('[data-action="play"]').textContent = "Pause";
    render();
  }

  function stop() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    find('[data-action="play"]').textContent = "Play";
    render();
  }

  function toStep(k) {
    if (k <= state.k) { go(k); return; }
    while (state.k < k && next()) { /* forward stops at a question */ }
    render();
  }

  // -- the quiz ----------------------------------------------------------------
  function check() {
    var k = state.k, quiz = steps[k].quiz;
    var text = answer.value.trim().replace(/\u2212/g, "-");
    var typed = text === "" ? NaN : Number(text);
    if (!isFinite(typed)) { say("Type a number, such as -0.0658.", "wrong"); return; }
    if (Math.abs(typed - quiz.expected) <= quiz.tolerance) {
      state.answers[k] = state.tries[k] ? "later" : "first";
      state.asking = false;
      render();
      say(quiz.correct, "right");
      return;
    }
    var tries = state.tries[k] = (state.tries[k] || 0) + 1;
    // Python wrote one message per try (they grow); the last one repeats.
    var pick = function (messages) { return messages[Math.min(tries, messages.length) - 1]; };
    var message = pick(quiz.hints);
    for (var i = 0; i < quiz.wrong.length; i++) {
      var wrong = quiz.wrong[i];
      if (Math.abs(typed - wrong.value) <= wrong.tolerance) { message = pick(wrong.messages); break; }
    }
    if (tries >= quiz.attempts) message += " " + quiz.reveal;
    say(message, "wrong");
  }

  function reveal() {
    state.answers[state.k] = "revealed";
    state.asking = false;
    render();
    say("Revealed: " + steps[state.k].line);
  }

  function skip() {
    var goal = steps[state.k].quiz.goal;
    state.answers[state.k] = "skipped";
    state.asking = false;
    if (!next()) render();
    say("Skipped " + goal + ".");
  }

  // -- wiring ------------------------------------------------------------------
  var actions = { reset: reset, prev: function () { stop(); prev(); },
                  next: function () { stop(); next(); }, play: play, reveal: reveal,
                  skip: skip, fit: fit };
  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button && button.dataset.action in actions) actions[button.dataset.action]();
  });
  find(".cr-quiz").addEventListener("submit", function (event) {
    event.preventDefault();
    check();
  });
  slider.addEventListener("input", function () {
    var k = Number(slider.value);
    stop();
    toStep(k);
  });

  var keys = { ArrowRight: actions.next, ArrowLeft: actions.prev, Home: reset, End: end,
               " ": play };
  // The saved page is all player: its keys work wherever the focus is.
  var keyTarget = root.dataset.standalone === "1" ? document : root;
  keyTarget.addEventListener("keydown", function (event) {
    if (event.target === answer || event.altKey || event.ctrlKey || event.metaKey) return;
    if (!(event.key in keys)) return;
    event.preventDefault();  // no scrolling, and no button pressed by space
    keys[event.key]();
  });
  keyTarget.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target !== answer) event.preventDefault();
  });

  function fit() {
    var fitted = graph.classList.toggle("cr-fit");
    find('[data-action="fit"]').textContent = fitted ? "Actual size" : "Fit width";
  }

  // With JavaScript: the controls instead of the note that says they need it.
  var note = find(".cr-nojs");
  if (note) note.remove();
  find(".cr-controls").hidden = false;
  find(".cr-panel").hidden = false;
  go(0);
  if (root.dataset.standalone === "1") root.focus();
}
