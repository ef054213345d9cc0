// The step-through player (viz/step_through.py writes its data).
//
// One ES module for every place a learner meets it: anywidget loads it in
// JupyterLab, Notebook 7, VS Code and Colab (render({ model, el })), and the
// saved page runs it inline with a stand-in for the model (mountPage).
//
// Python computed every number and every message: the gradients at each
// step, the chain-rule lines, and for each question the right value and the
// named wrong ones with their diagnoses (nn/check.py). This script only shows
// them step by step, and compares a typed number with those answers.

const SVG_NS = "http://www.w3.org/2000/svg";

const TEMPLATE = `
<div class="cr-title"></div>
<div class="cr-help"></div>
<div class="cr-controls">
  <button type="button" data-action="reset" title="Clear every answer and start again">Reset</button>
  <button type="button" data-action="home" title="The first step, answers kept (Home)">Home</button>
  <button type="button" data-action="prev" title="Previous step (&#x2190;)">&#x25C0; Prev</button>
  <button type="button" data-action="next" title="Next step (&#x2192;)">Next &#x25B6;</button>
  <button type="button" data-action="play" title="Play or pause (space)">Play</button>
  <input type="range" class="cr-slider" min="0" value="0" aria-label="step">
  <span class="cr-counter" data-step="1"></span>
  <span class="cr-score" data-score="0"></span>
</div>
<div class="cr-confirm" hidden>Clear every answer and start again?
  <button type="button" data-action="clear">Yes, clear them</button>
  <button type="button" data-action="keep">No, keep them</button></div>
<div class="cr-legend" aria-label="legend">
  <span><i class="cr-key cr-key-current"></i>current: the node sending its gradient</span>
  <span><i class="cr-key cr-key-asked"></i>your turn: the node asked about</span>
  <span><i class="cr-key cr-key-pending"></i>not reached: no gradient yet (grad &#x2014;)</span>
  <span><i class="cr-key cr-key-send"></i>sends: grad &#xD7; local derivative</span>
  <span class="cr-key-quiz"><b>?</b> yours to work out</span>
</div>
<div class="cr-panel">
  <div class="cr-step"></div>
  <div class="cr-line"></div>
  <table class="cr-sends"></table>
  <div class="cr-quiz" hidden>
    <label><span class="cr-prompt"></span>
      <input class="cr-answer" type="text" inputmode="decimal" autocomplete="off"
             spellcheck="false" data-label="" data-ask="" aria-label="your answer"></label>
    <button type="button" data-action="check" title="Check (Enter)">Check</button>
    <button type="button" data-action="reveal">Reveal</button>
  </div>
  <div class="cr-status" role="status" aria-live="polite"></div>
</div>
<div class="cr-graph"></div>`;

// -- numbers as the learner types them: nn.check.read_number, rule for rule ----------
// reading = { pattern: NUMBER_PATTERN, hints: TYPING_HINTS } from nn/check.py.
export function readNumber(text, reading) {
  const shown = text.trim();
  const compact = text.replace(/\s+/g, "").replace(/\u2212/g, "-");
  const whole = new RegExp("^(?:" + reading.pattern + ")$");
  const fail = (key) => ({ error: "'" + shown + "' is not a number: " + reading.hints[key] });
  const parts = compact.match(whole);
  if (!parts) {
    if (!compact) return fail("empty");
    if (compact.includes(",")) return fail(whole.test(compact.replace(/,/g, ".")) ? "comma" : "commas");
    if ((compact.match(/\//g) || []).length > 1) return fail("fraction_bars");
    if (["inf", "infinity", "nan"].includes(compact.toLowerCase().replace(/^[+-]+/, ""))) {
      return fail("not_finite");
    }
    return fail("other");
  }
  let value = Number(parts[1]);
  if (parts[2] !== undefined) {
    if (Number(parts[2]) === 0) return fail("zero_denominator");
    value = value / Number(parts[2]);
  }
  if (!isFinite(value)) return fail("not_finite");
  return { value };
}

// -- the students' copy compares salted hashes (step_through.answer_hash) ----------
function fnv(text, basis) {
  let h = basis >>> 0;
  for (const byte of new TextEncoder().encode(text)) {
    h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

export function answerHash(salt, key) {
  const text = salt + "|" + key;
  return fnv(text, 0x811C9DC5) + fnv(text, 0x050C5D1F);
}

export function roundedKey(x) {  // -0.45461 -> "-4546e-1", as step_through.rounded_key
  if (x === 0) return "0";
  const [mantissa, exponent] = x.toExponential(3).split("e");
  return mantissa.replace(".", "") + "e" + Number(exponent);
}

// -- the player ----------------------------------------------------------------------
function render({ model, el }) {
  const data = model.get("data");
  const steps = data.steps, questions = data.questions || [];
  const last = steps.length - 1;
  // The forward pass (direction "forward"): each node's value ('data') appears
  // once reached, and valueOf holds the questions; backward: its gradient.
  const forward = data.direction === "forward";
  const askedOf = forward ? data.valueOf : data.gradientOf;
  const stepNodes = (s) => s.nodes || [s.node];
  const root = document.createElement("div");
  root.className = "cr-player";
  root.tabIndex = 0;
  root.dataset.lmSuppressShortcuts = "true";  // JupyterLab: our keys, not its shortcuts
  root.innerHTML = TEMPLATE;
  el.appendChild(root);
  const find = (selector) => root.querySelector(selector);
  const graph = find(".cr-graph");
  graph.innerHTML = model.get("svg");
  const layer = graph.querySelector("g.graph") || graph;
  const slider = find(".cr-slider");
  const answer = find(".cr-answer");
  find(".cr-title").textContent = data.title;
  find(".cr-help").textContent = data.instructions;
  slider.max = String(last);
  find(".cr-key-quiz").hidden = !data.quiz;
  find(".cr-key-asked").parentElement.hidden = !data.quiz;
  find(".cr-score").hidden = !data.quiz;
  if (data.legend) {  // the forward pass has its own words for the key
    find(".cr-legend").querySelectorAll("span").forEach((span, i) => {
      if (i >= data.legend.length) return;
      if (data.legend[i]) span.lastChild.textContent = data.legend[i];
      else span.hidden = true;
    });
  }

  // The drawing: node groups by DOT id, the text showing each grad, the edges.
  const nodes = {}, gradText = {}, dataText = {}, edges = {}, edgeText = {};
  root.querySelectorAll("g.node[data-node]").forEach((g) => {
    nodes[g.dataset.node] = g;
    // Graphviz draws a node's outline first, then its text and cell borders.
    const outline = g.querySelector("path, polygon, ellipse");
    if (outline) outline.classList.add("cr-outline");
    g.querySelectorAll("text").forEach((text) => {
      if (/^grad /.test(text.textContent)) gradText[g.dataset.node] = text;
      if (/^data /.test(text.textContent)) dataText[g.dataset.node] = text;
    });
  });
  root.querySelectorAll("g.edge[data-edge]").forEach((g) => {
    edges[g.dataset.edge] = g;
    g.querySelectorAll("text").forEach((text) => {  // the '= value' line under the formula
      if (/^=/.test(text.textContent.trim())) edgeText[g.dataset.edge] = [text, text.textContent];
    });
  });
  const captions = layer.querySelectorAll("text.cr-caption");

  const state = { k: 0, records: {}, timer: null };
  loadAnswers();

  // -- what is known --------------------------------------------------------------
  function record(q) {
    if (!state.records[q]) {
      state.records[q] = { tries: 0, typed: [], right: false, revealed: false,
                           mistake: "", diagnosis: "", value: null };
    }
    return state.records[q];
  }
  function known(q) {
    if (q === undefined) return true;
    const r = state.records[q];
    return Boolean(r && (r.right || r.revealed));
  }
  function asked(k) {  // the first question of step k not answered yet, or undefined
    return steps[k].questions.find((q) => !known(q));
  }
  // A number on screen: '?' while its question is open; in the students' copy
  // (null: not in the file) the number the learner typed right.
  function shown(value, q) {
    if (!known(q)) return "?";
    if (value !== null && value !== undefined) return value;
    const r = state.records[q];
    return r && r.right ? r.value : "?";
  }

  // -- showing step k ---------------------------------------------------------------
  function draw() {
    const k = state.k, step = steps[k], q = asked(k);
    const asking = q !== undefined;
    const values = {};  // node id -> the gradient it shows (a running sum until complete)
    for (let j = 0; j <= k; j++) {
      Object.assign(values, steps[j].arrived);
      if (j < k || !asking) Object.assign(values, steps[j].updates);
    }
    if (forward) {
      for (const id of Object.keys(dataText)) {
        dataText[id].textContent = "data " + (!(id in values) ? "?"
          : shown(values[id], askedOf[id]));
      }
    } else {
      for (const id of Object.keys(gradText)) {
        gradText[id].textContent = "grad " + (!(id in values) ? "\u2014"
          : shown(values[id], data.gradientOf[id]));
      }
    }
    for (const id of Object.keys(nodes)) {
      const g = nodes[id], value = id.replace(/op$/, "");
      const isOp = value !== id, current = stepNodes(step).includes(value);
      const reached = isOp ? steps.findIndex((s) => stepNodes(s).includes(value)) <= k
        : id in values;
      g.classList.toggle("cr-current", current && !asking);
      g.classList.toggle("cr-asked", current && asking && !isOp);
      g.classList.toggle("cr-pending", !reached && !(current && asking));
    }
    for (const [edge, [text, words]] of Object.entries(edgeText)) {
      const q = data.localOf[edge];
      text.textContent = q === undefined ? words
        : "= " + shown(/^=\s*\?$/.test(words.trim()) ? null : words.replace(/^\s*=\s*/, ""), q);
    }
    const allKnown = questions.every((question) => known(question.id));
    captions.forEach((text) => { text.style.visibility = allKnown ? "" : "hidden"; });
    drawSends(step, asking);
    writePanel(step, q);
    slider.value = String(k);
    const counter = find(".cr-counter");
    counter.textContent = "step " + (k + 1) + " of " + steps.length;
    counter.dataset.step = String(k + 1);
    writeScore();
    find('[data-action="prev"]').disabled = k === 0;
    find('[data-action="home"]').disabled = k === 0;
    find('[data-action="next"]').disabled = k === last || asking;
    find('[data-action="play"]').disabled = asking || (k === last && !state.timer);
    follow(nodes[step.node]);
  }

  // A tall drawing scrolls inside its own pane: keep the current node in view
  // there, without scrolling the notebook or the page around the player.
  function follow(g) {
    if (!g) return;
    const box = g.getBoundingClientRect(), pane = graph.getBoundingClientRect();
    if (box.top < pane.top || box.bottom > pane.bottom) {
      graph.scrollTop += (box.top + box.bottom - pane.top - pane.bottom) / 2;
    }
  }

  function sent(send) {  // [grad, local, contribution] of one send, as far as known
    const grad = shown(send.grad, data.gradientOf[send.from]);
    const local = shown(send.local, data.localOf[send.edge]);
    let contribution = "?";
    if (known(data.localOf[send.edge]) && known(data.gradientOf[send.to])) {
      contribution = send.contribution !== null ? send.contribution
        : grad !== "?" && local !== "?" ? (Number(grad) * Number(local)).toPrecision(4) : "?";
    }
    return [grad, local, contribution];
  }

  function drawSends(step, asking) {
    layer.querySelectorAll(".cr-edge-label").forEach((g) => g.remove());
    Object.values(edges).forEach((edge) => edge.classList.remove("cr-send"));
    if (asking) return;
    for (const send of step.sends) {
      const edge = edges[send.edge];
      if (!edge) continue;  // the parent is not drawn
      edge.classList.add("cr-send");
      const [grad, local, contribution] = sent(Object.assign({ from: step.node }, send));
      label(edge, grad + " \u00d7 " + local + " = " + contribution);
    }
  }

  // A label at the middle of an edge, on a white box so it reads over lines;
  // below the edge when Graphviz wrote a label of its own there.
  function label(edge, text) {
    const path = edge.querySelector("path");
    if (!path) return;
    let middle = path.getPointAtLength(path.getTotalLength() / 2);
    if (edge.querySelector("text")) middle = { x: middle.x, y: middle.y + 14 };
    const g = document.createElementNS(SVG_NS, "g");
    const box = document.createElementNS(SVG_NS, "rect");
    const words = document.createElementNS(SVG_NS, "text");
    g.setAttribute("class", "cr-edge-label");
    words.setAttribute("x", middle.x);
    words.setAttribute("y", middle.y + 4);
    words.setAttribute("text-anchor", "middle");
    words.textContent = text;
    g.appendChild(box);
    g.appendChild(words);
    layer.appendChild(g);
    const fit = () => {  // the text's box exists only once the page lays it out
      const size = words.getBBox();
      box.setAttribute("x", size.x - 3);
      box.setAttribute("y", size.y - 1);
      box.setAttribute("width", size.width + 6);
      box.setAttribute("height", size.height + 2);
      box.setAttribute("rx", 3);
    };
    if (root.isConnected) fit();
    else requestAnimationFrame(fit);
  }

  function writePanel(step, q) {
    const name = step.label && step.label !== step.name
      ? step.name + " (" + step.label + ")" : step.name;
    find(".cr-step").textContent = "Step " + (state.k + 1) + " of " + steps.length + ": " +
      (name || "an unlabelled node");
    const open = step.questions.filter((p) => !known(p));
    let line = step.line;
    if (q !== undefined) line = questions[q].prompt;
    else if (open.length) line = questions[open[open.length - 1]].prompt;
    else if (step.grad === null) line = line.replace(/\?$/, shown(null, data.gradientOf[step.node]));
    find(".cr-line").textContent = line;
    const table = find(".cr-sends");
    table.textContent = "";
    if (step.rows) {  // the forward pass: each node's formula with the values (or a matrix)
      for (const cells of step.rows) {
        row(table, cells.map((c) => (c !== null && typeof c === "object"
          ? shown(c.value, askedOf[c.node]) : c)));
      }
    } else if (q === undefined) {
      if (!step.sends.length) row(table, ["a leaf:", "it sends nothing on"]);
      for (const send of step.sends) {
        const [grad, local, contribution] = sent(Object.assign({ from: step.node }, send));
        row(table, ["to " + send.toName, "local derivative " + send.formula + " = " + local,
                    "sends " + grad + " \u00d7 " + local + " = " + contribution]);
      }
    }
    const quiz = find(".cr-quiz");
    if (q === undefined && quiz.contains(document.activeElement)) {
      root.focus({ preventScroll: true });  // keep the keys working once it is hidden
    }
    const wasFor = answer.dataset.question;
    quiz.hidden = q === undefined;
    if (q === undefined) {
      delete answer.dataset.question;
      return;
    }
    const question = questions[q];
    find(".cr-prompt").textContent = "Your turn: " + question.goal + " =";
    answer.dataset.label = question.label;
    answer.dataset.ask = question.ask;
    if (question.consumer !== null) answer.dataset.consumer = question.consumer;
    else delete answer.dataset.consumer;
    answer.dataset.question = String(q);
    if (wasFor !== String(q)) answer.value = "";
    if (root.contains(document.activeElement)) answer.focus({ preventScroll: true });
  }

  function row(table, cells) {
    const tr = table.insertRow();
    for (const text of cells) tr.insertCell().textContent = text;
  }

  function writeScore() {
    const right = questions.filter((q) => {
      const r = state.records[q.id];
      return r && r.right && !r.revealed;
    }).length;
    const done = questions.every((q) => known(q.id));
    const score = find(".cr-score");
    score.dataset.score = String(right);
    score.textContent = (done ? "final score " : "score ") + right + " of " + questions.length;
  }

  function say(message, kind) {
    const status = find(".cr-status");
    status.textContent = message || "";
    status.classList.toggle("cr-right", kind === "right");
    status.classList.toggle("cr-wrong", kind === "wrong");
  }

  // -- moving -------------------------------------------------------------------------
  function go(k) {
    state.k = Math.max(0, Math.min(k, last));
    say("");
    draw();
  }
  function next() {  // false when it cannot move: at the end, or a question waits
    if (asked(state.k) !== undefined) {
      say("Answer the question first (or Reveal).", "wrong");
      return false;
    }
    if (state.k >= last) return false;
    go(state.k + 1);
    return true;
  }
  function prev() { if (state.k > 0) go(state.k - 1); }
  function end() { stop(); while (next()) { /* stops at a question */ } }
  function home() { stop(); go(0); }
  function play() {
    if (state.timer) { stop(); return; }
    if (!next()) return;
    state.timer = setInterval(() => { if (!next()) stop(); }, 900);
    find('[data-action="play"]').textContent = "Pause";
    draw();
  }
  function stop() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    find('[data-action="play"]').textContent = "Play";
  }
  function toStep(k) {
    stop();
    if (k <= state.k) { go(k); return; }
    while (state.k < k && next()) { /* forward stops at a question */ }
  }
  function reset() {  // asks first: the answers are the learner's work
    stop();
    if (!Object.keys(state.records).length) { go(0); return; }
    find(".cr-confirm").hidden = false;
    find('[data-action="keep"]').focus();
  }
  function clear() {
    find(".cr-confirm").hidden = true;
    state.records = {};
    saveAnswers();
    root.focus({ preventScroll: true });
    go(0);
  }
  function keep() {
    find(".cr-confirm").hidden = true;
    root.focus({ preventScroll: true });
  }

  // -- the quiz ----------------------------------------------------------------------
  function matches(typed, target) {  // target: a question or one of its named mistakes
    if (target.hashes) return target.hashes.includes(answerHash(data.salt, roundedKey(typed)));
    return Math.abs(typed - target.value) <= target.tolerance;
  }
  function check() {
    const q = asked(state.k);
    if (q === undefined) return;
    const question = questions[q], r = record(q);
    const read = readNumber(answer.value, data.reading);
    if (read.error) { say(read.error, "wrong"); return; }
    r.typed.push(answer.value.trim());
    if (matches(read.value, question.hashes ? question
      : { value: question.expected, tolerance: question.tolerance })) {
      r.right = true;
      r.value = Number(read.value.toPrecision(4)).toString();
      r.mistake = "correct";
      r.diagnosis = question.correct;
      finish(question.correct, "right");
      return;
    }
    r.tries += 1;
    const at = (list) => list[Math.min(r.tries, list.length) - 1] || "";
    const wrong = question.wrong.find((w) => matches(read.value, w));
    r.mistake = wrong ? wrong.mistake : "other";
    r.diagnosis = wrong ? at(wrong.messages) : at(question.hints);
    if (r.tries >= data.attempts) {
      r.revealed = true;
      finish(r.diagnosis + " " + (data.reveal || "The answer: " + question.reveal), "wrong");
      return;
    }
    saveAnswers();
    say(r.diagnosis + " (try " + (r.tries + 1) + " of " + data.attempts + ")", "wrong");
  }
  function reveal() {
    const q = asked(state.k);
    if (q === undefined) return;
    const r = record(q);
    r.revealed = true;
    r.diagnosis = r.diagnosis || "revealed";
    finish(data.reveal || "Revealed: " + questions[q].reveal, "");
  }
  function finish(message, kind) {
    saveAnswers();
    draw();
    say(message, kind);
  }

  // -- answers back to Python (the widget's answers; one record per question) ----------
  function saveAnswers() {
    const list = questions.filter((q) => state.records[q.id]).map((q) => {
      const r = state.records[q.id];
      return { question: q.id, node: q.label, ask: q.ask, consumer: q.consumer, goal: q.goal,
               typed: r.typed.slice(), tries: r.tries, right: r.right, revealed: r.revealed,
               mistake: r.mistake, diagnosis: r.diagnosis, value: r.value };
    });
    model.set("answers", list);
    model.save_changes();
  }
  function loadAnswers() {
    state.records = {};
    for (const a of model.get("answers") || []) {
      state.records[a.question] = { tries: a.tries, typed: a.typed.slice(), right: a.right,
                                    revealed: a.revealed, mistake: a.mistake,
                                    diagnosis: a.diagnosis, value: a.value };
    }
  }
  const onAnswers = () => { loadAnswers(); draw(); };  // another view of the same widget
  model.on("change:answers", onAnswers);

  // -- wiring ------------------------------------------------------------------------
  const actions = { reset, home, clear, keep, check, reveal,
                    prev: () => { stop(); prev(); }, next: () => { stop(); next(); }, play };
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button && button.dataset.action in actions) actions[button.dataset.action]();
  });
  slider.addEventListener("input", () => toStep(Number(slider.value)));
  const keys = { ArrowRight: actions.next, ArrowLeft: actions.prev, Home: home, End: end,
                 " ": play };
  // Keys work only while the player has the focus, and go no further: the
  // notebook's own shortcuts (arrows, space, Enter) do not see them.
  root.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    event.stopPropagation();
    if (event.target === answer) {
      if (event.key === "Enter") { event.preventDefault(); check(); }
      return;
    }
    if (event.target === slider && event.key !== " ") return;  // the slider's own arrows
    if (event.key === "Enter" && event.target.closest("button")) return;
    if (!(event.key in keys)) return;
    event.preventDefault();  // no scrolling, and no button pressed by space
    keys[event.key]();
  });
  root.addEventListener("keyup", (event) => {
    event.stopPropagation();
    if (event.key === " " && event.target !== answer) event.preventDefault();
  });

  go(0);
  return () => {  // the view is gone: no timer, no listener left behind
    stop();
    model.off("change:answers", onAnswers);
  };
}

// -- the saved page: a stand-in for the widget's model over the page's JSON ---------------
function pageModel(state) {
  const listeners = {};
  return {
    get: (name) => state[name],
    set: (name, value) => { state[name] = value; },
    on: (event, callback) => { (listeners[event] = listeners[event] || []).push(callback); },
    off: () => {},
    save_changes: () => {},
  };
}

export function mountPage(page) {
  if (page.dataset.mounted) return;
  page.dataset.mounted = "1";
  const picture = page.querySelector(".cr-static");
  const svg = picture.querySelector(".cr-graph").innerHTML;
  const data = JSON.parse(page.querySelector(".cr-data").textContent);
  picture.remove();  // with the script running, the player replaces the picture
  render({ model: pageModel({ data, svg, answers: [] }), el: page });
  page.querySelector(".cr-player").focus();
}

export default { render };
