"""The step-through page in a real browser: Debian's Chromium, driven by Playwright.

A page's script can only be tested where it runs. Chromium comes from the
system (apt-get install chromium), never from Playwright's own download;
without it, or without playwright, these tests skip and say why.
"""

import io
import math

import pytest
from browsing import PlayerPage, needs_chromium
from conftest import small_graph

import engine
from engine import Value
from viz import step_through
from viz.labels import number

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser tests need playwright (pip install playwright)")
pytestmark = needs_chromium


class Opened(PlayerPage):
    """A page opened from file://, with what it logged and requested."""

    def current(self):
        """The label of the node being processed (or asked about)."""
        return self.page.evaluate("""() => {
            const g = document.querySelector('g.node.value.cr-current, g.node.value.cr-asked');
            return g ? g.dataset.label : null; }""")

    def grads(self):
        """{label: the grad each drawn Value shows}."""
        return self.page.evaluate("""() => Object.fromEntries(
            [...document.querySelectorAll('g.node.value')].map(g => [g.dataset.label,
              [...g.querySelectorAll('text')].map(t => t.textContent)
                .find(t => t.startsWith('grad ')) || null]))""")

    def edge_labels(self):
        return self.page.evaluate(
            "() => [...document.querySelectorAll('.cr-edge-label')].map(g => g.textContent)")

    def snapshot(self):
        return (self.current(), self.grads(), self.edge_labels(),
                self.page.text_content(".cr-line"))

    def asked(self):
        """(data-label, data-ask, data-consumer) of the answer box, or None when hidden."""
        if not self.page.is_visible(".cr-answer"):
            return None
        box = self.page.query_selector(".cr-answer")
        return (box.get_attribute("data-label"), box.get_attribute("data-ask"),
                box.get_attribute("data-consumer"))

    def on_screen(self):
        """The text a learner sees: the panel and every line of the drawing but data."""
        return self.page.evaluate("""() => {
            const player = document.querySelector('.cr-player');
            const texts = [...player.querySelectorAll('svg text')]
              .filter(t => getComputedStyle(t).visibility !== 'hidden'
                           && !t.textContent.startsWith('data '))
              .map(t => t.textContent);
            return player.querySelector('.cr-panel').innerText + '\\n' + texts.join('\\n'); }""")


@pytest.fixture
def open_page(open_player):
    return lambda player, **options: open_player(player, Opened, **options)


def backward_order_and_grads():
    loss = small_graph()
    order = [record.node.label for record in loss.backward_steps()]
    loss = small_graph()
    loss.backward()
    grads = {v.label: f"grad {number(v.grad, 4)}" for v in engine.topological_order(loss)}
    return order, grads


def network_cost():
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0)
    return net, nn.binary_cross_entropy(net([0.6, 0.5, -0.5, -0.6]), 1.0)


def two_paths():
    """r = p·q with p = x·x and q = tanh(x): x's gradient has three terms."""
    x = Value(1.5, label="x")
    p = x * x
    p.label = "p"
    q = x.tanh()
    q.label = "q"
    r = p * q
    r.label = "r"
    return r


def not_blank(png):
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 22)
    most = max(count for count, _ in colours)
    return len(colours) > 20 and most < 0.97 * image.width * image.height




def answer_all(opened, values, reveal=False):
    """Answer (or reveal) every question from here to the end; returns what was asked."""
    asked = []
    for _ in range(200):
        question = opened.asked()
        if question is not None:
            asked.append(question)
            if reveal:
                opened.page.click('[data-action="reveal"]')
            else:
                assert "Correct" in opened.answer(f"{values(question):.4g}"), question
        elif opened.page.is_disabled('[data-action="next"]'):
            break  # the last step
        else:
            opened.page.keyboard.press("ArrowRight")
    return asked


def network_values(cost):
    """The right number for each (label, ask, consumer) of the network quiz."""
    nodes = {v.label: v for v in engine.topological_order(cost) if v.label}
    grads = dict(zip(nodes, engine.grad(cost, list(nodes.values()))))

    def value(question):
        label, ask, consumer = question
        if ask == "gradient":
            return grads[label]
        child = nodes[consumer]
        index = child.parents.index(nodes[label])
        return engine.local_derivatives(child)[index]
    return value


# -- loading --------------------------------------------------------------------------

def test_the_saved_page_loads_from_file_with_no_error_and_no_request(open_page):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    assert opened.page.is_visible(".cr-controls") and opened.page.is_visible(".cr-panel")
    assert opened.page.query_selector(".cr-static") is None  # the picture made way
    assert opened.current() == "C"
    opened.page.keyboard.press("ArrowRight")
    assert opened.asked() == ("s", "local", "C")
    assert opened.errors == []
    assert opened.requests == [opened.url]


def test_without_javascript_the_page_shows_the_final_gradients_and_says_why(open_page):
    order, grads = backward_order_and_grads()
    opened = open_page(step_through(small_graph()), javascript=False)
    assert opened.page.is_visible(".cr-nojs")
    assert "Trust Notebook" in opened.page.text_content(".cr-nojs")
    assert opened.page.query_selector("button") is None  # no dead buttons
    shown = opened.page.eval_on_selector_all(
        "g.node.value", "gs => gs.map(g => [g.dataset.label, g.textContent])")
    for label, text in shown:
        assert grads[label] in text.replace("\xa0", " ")


# -- stepping ---------------------------------------------------------------------------

def test_next_visits_the_nodes_in_backward_steps_order_and_ends_at_backward(open_page):
    order, grads = backward_order_and_grads()
    opened = open_page(step_through(small_graph()))
    visited = [opened.current()]
    for _ in order[1:]:
        opened.page.click('[data-action="next"]')
        visited.append(opened.current())
    assert visited == order
    assert opened.grads() == grads
    assert opened.page.is_disabled('[data-action="next"]')
    assert opened.page.get_attribute(".cr-counter", "data-step") == str(len(order))


def test_the_keys_step_the_same_way_and_only_while_the_player_has_the_focus(open_page):
    order, grads = backward_order_and_grads()
    opened = open_page(step_through(small_graph()))
    visited = [opened.current()]
    for _ in order[1:]:
        opened.page.keyboard.press("ArrowRight")
        visited.append(opened.current())
    assert visited == order and opened.grads() == grads
    opened.page.keyboard.press("Home")
    assert opened.current() == order[0]
    assert opened.grads()["x"] == "grad —"  # not reached: no gradient shown
    opened.page.keyboard.press("End")
    assert opened.current() == order[-1] and opened.grads() == grads
    opened.page.keyboard.press("ArrowLeft")
    assert opened.current() == order[-2]
    opened.page.keyboard.press("Home")
    opened.page.keyboard.press(" ")  # play
    opened.page.wait_for_function(
        "() => document.querySelector('.cr-counter').dataset.step === '3'")
    opened.page.keyboard.press(" ")  # pause
    stopped = opened.page.text_content(".cr-counter")
    opened.page.wait_for_timeout(1200)
    assert opened.page.text_content(".cr-counter") == stopped
    opened.page.evaluate("() => document.activeElement.blur()")
    opened.page.keyboard.press("ArrowRight")  # not focused: the keys are the page's
    assert opened.page.text_content(".cr-counter") == stopped


def test_a_node_reached_twice_shows_the_running_sum_and_the_edges_say_what_they_send(
        open_page):
    a = small_graph().parents[0].data
    opened = open_page(step_through(small_graph()))
    assert opened.current() == "L"
    assert opened.grads()["a"] == f"grad {number(a + a, 4)}"
    labels = opened.edge_labels()
    assert labels == [f"1 × {number(a, 4)} = {number(a, 4)}"] * 2  # grad × local = sent


def test_prev_undoes_next(open_page):
    opened = open_page(step_through(small_graph()))
    states = [opened.snapshot()]
    for _ in range(4):
        opened.page.click('[data-action="next"]')
        states.append(opened.snapshot())
    for expected in reversed(states[:-1]):
        opened.page.click('[data-action="prev"]')
        assert opened.snapshot() == expected


def test_the_slider_moves_to_a_step(open_page):
    order, _ = backward_order_and_grads()
    opened = open_page(step_through(small_graph()))
    opened.page.fill(".cr-slider", "3")
    assert opened.current() == order[3]


# -- the quiz -----------------------------------------------------------------------------

X = 1.5
Q = math.tanh(X)
P = X * X
DX = Q * X + Q * X + P * (1 - Q * Q)  # r = p·q: through p (x·x, twice) and through q


def quiz_at_x(open_page, answers=True, **options):
    """The two-path page, at the question about dr/dx."""
    opened = open_page(step_through(two_paths(), nodes=["x"], ask="gradient", **options),
                       answers=answers)
    while opened.asked() is None:
        opened.page.keyboard.press("ArrowRight")
    assert opened.asked() == ("x", "gradient", None) and opened.grads()["x"] == "grad ?"
    return opened


@pytest.mark.parametrize("typed, words", [
    (X, "forgot the upstream gradient"),          # dp/dx alone
    (Q, "forgot the local derivative"),           # dr/dp alone
    (-DX, "wrong sign"),
    (Q * X, "counted only one path"),             # one of x·x's two edges
    (7.0, "Multiply the upstream gradient"),      # anything else: the first hint
])
def test_each_diagnosis_appears_for_its_wrong_value_without_the_answer(open_page, typed, words):
    opened = quiz_at_x(open_page)
    status = opened.answer(f"{typed:.5g}")
    assert words in status
    assert number(DX, 4) not in status and number(DX, 3) not in status
    assert opened.grads()["x"] == "grad ?"  # not revealed: try again
    assert "Correct" in opened.answer(f"{DX:.4g}")
    assert opened.grads()["x"] == f"grad {number(DX, 4)}"
    assert opened.errors == []


def test_a_named_mistake_of_a_local_derivative_is_named(open_page):
    loss = small_graph()
    a = loss.parents[0]
    opened = open_page(step_through(loss, nodes=["z"], ask="local"))
    while opened.asked() is None:
        opened.page.keyboard.press("ArrowRight")
    assert opened.asked() == ("z", "local", "a")
    status = opened.answer(f"{a.data:.4g}")  # tanh(z) itself for its derivative
    assert "itself" in status and "tanh" in status
    assert number(1 - a.data ** 2, 4) not in status
    assert "Correct" in opened.answer(f"{1 - a.data ** 2:.4g}")


def test_hints_grow_and_the_answer_shows_only_after_the_last_attempt(open_page):
    opened = quiz_at_x(open_page, attempts=3)
    said = [opened.answer("7"), opened.answer("8")]
    assert said[0] != said[1] and all(number(DX, 4) not in s for s in said)
    assert "try 2 of 3" in said[0] and "try 3 of 3" in said[1]
    last = opened.answer("9")
    assert number(DX, 4) in last  # the third wrong try shows the answer
    assert opened.asked() is None and opened.grads()["x"] == f"grad {number(DX, 4)}"


def test_numbers_are_read_as_learners_type_them(open_page):
    opened = quiz_at_x(open_page)
    assert "point" in opened.answer("0,5") and "comma" in opened.status()
    assert "try" not in opened.status()  # not a number: not a try
    assert "is not a number: use digits" in opened.answer("three")
    assert "fraction bar" in opened.answer("1/2/3")
    assert "Correct" in opened.answer(f"{DX:.4g}".replace("-", "\u2212"))
    opened = quiz_at_x(open_page)
    assert "Correct" not in opened.answer("1/2")  # read as 0.5: a wrong number, diagnosed
    assert "Multiply" in opened.status()


def test_nothing_unanswered_is_on_screen_and_the_score_runs(open_page):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    value = network_values(cost)
    total = int(opened.page.text_content(".cr-score").split(" of ")[1])
    right, answered = 0, set()
    nodes = {v.label: v for v in engine.topological_order(cost) if v.label}

    def operands(question):
        label, ask, consumer = question
        return {number(p.data, 4) for p in nodes[consumer].parents} if consumer else set()

    for _ in range(200):
        question = opened.asked()
        if question is None:
            if opened.page.is_disabled('[data-action="next"]'):
                break
            opened.page.keyboard.press("ArrowRight")
            continue
        screen = opened.on_screen()
        # shown before: the answered dC/ds-local is dC/ds; d(w·a)/da is w, an operand's value
        if number(value(question), 4) not in answered | operands(question):
            assert number(value(question), 4) not in screen, (question, screen)
        answered.add(number(value(question), 4))
        assert "∂C/∂w2_22" not in screen  # the caption with the final gradient
        assert "Correct" in opened.answer(f"{value(question):.4g}")
        right += 1
        assert opened.page.text_content(".cr-score") == f"score {right} of {total}" \
            or right == total
        assert opened.page.get_attribute(".cr-score", "data-score") == str(right)
    assert right == total == 8
    assert opened.page.text_content(".cr-score") == f"final score {total} of {total}"
    assert "∂C/∂w2_22" in opened.on_screen()  # every question answered: the caption
    # Prev and Home keep every answer; Reset asks first
    opened.page.keyboard.press("ArrowLeft")
    opened.page.keyboard.press("Home")
    assert opened.page.get_attribute(".cr-counter", "data-step") == "1"
    assert opened.page.get_attribute(".cr-score", "data-score") == str(total)
    opened.page.click('[data-action="reset"]')
    assert opened.page.is_visible(".cr-confirm")
    opened.page.click('[data-action="keep"]')
    assert opened.page.get_attribute(".cr-score", "data-score") == str(total)
    opened.page.click('[data-action="reset"]')
    opened.page.click('[data-action="clear"]')
    assert opened.page.get_attribute(".cr-score", "data-score") == "0"
    assert opened.errors == []


def test_the_legend_and_the_instructions_stay_on_screen(open_page):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    for _ in range(3):
        legend = opened.page.inner_text(".cr-legend")
        for words in ("current", "your turn", "not reached"):
            assert words in legend
        assert opened.page.is_visible(".cr-legend") and opened.page.is_visible(".cr-help")
        assert "Enter" in opened.page.inner_text(".cr-help")
        opened.page.keyboard.press("ArrowRight")
        if opened.asked():
            opened.page.click('[data-action="reveal"]')
    # the drawing's own legend is not hidden with the caption
    assert "parameter" in opened.on_screen()


def test_a_students_copy_checks_answers_and_names_mistakes_without_holding_them(open_page):
    loss = small_graph()
    a = loss.parents[0]
    opened = open_page(step_through(loss, nodes=["z"]), answers=False)
    while opened.asked() is None:
        opened.page.keyboard.press("ArrowRight")
    assert "itself" in opened.answer(f"{a.data:.4g}")
    local = 1 - a.data ** 2
    assert "Correct" in opened.answer(f"{local:.5g}")
    assert opened.asked() == ("z", "gradient", None)
    opened.page.click('[data-action="reveal"]')
    assert "with your teacher" in opened.status()
    assert opened.grads()["z"] == "grad ?"
    assert opened.errors == []


def test_a_students_copy_accepts_a_number_either_side_of_a_rounding_boundary(open_page):
    opened = quiz_at_x(open_page, answers=False)
    assert "Correct" in opened.answer(f"{DX * (1 + 0.0004):.6g}")
    opened = quiz_at_x(open_page, answers=False)
    assert "Correct" in opened.answer(f"{DX * (1 - 0.0004):.6g}")
    opened = quiz_at_x(open_page, answers=False)
    assert "Correct" not in opened.answer(f"{DX * 1.01:.6g}")


# -- safety and looks ----------------------------------------------------------------------

def test_a_hostile_label_shows_as_text_and_runs_nothing(open_page):
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    x = Value(0.5, label=hostile)
    y = x.tanh()
    y.label = "y"
    opened = open_page(step_through(y, quiz=True))
    opened.page.click('[data-action="next"]')
    assert opened.page.get_attribute(".cr-answer", "data-label") == hostile
    assert hostile in opened.page.text_content(".cr-step")
    assert opened.page.evaluate("() => window.pwned") is None
    assert opened.page.evaluate("() => document.querySelectorAll('.cr-player img').length") == 0
    labels = opened.page.eval_on_selector_all("g.node.value", "gs => gs.map(g => g.dataset.label)")
    assert hostile in labels
    assert hostile in opened.page.text_content("svg")  # drawn as text
    assert opened.errors == [] and opened.requests == [opened.url]


def test_two_players_on_one_page_step_apart(browser, tmp_path):
    first, second = step_through(small_graph()).html(), step_through(two_paths()).html()
    def body(page):
        return page[page.index('<div class="cr-page">'):page.index('<script type="module">')]
    script = first[first.index('<script type="module">'):first.index("</body>")]
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.set_content(f"<!DOCTYPE html><html><body>{body(first)}{body(second)}{script}"
                     "</body></html>")
    page.wait_for_selector(".cr-player")
    one, two = page.query_selector_all(".cr-player")
    one.query_selector('[data-action="next"]').click()
    assert one.query_selector(".cr-counter").text_content() == "step 2 of 7"
    assert two.query_selector(".cr-counter").text_content() == "step 1 of 4"
    page.close()


def test_a_screenshot_of_each_state_is_not_blank_and_fits_the_column(open_page, tmp_path):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    shots = {"start": opened.page.screenshot()}
    opened.page.keyboard.press("ArrowRight")
    shots["asked"] = opened.page.screenshot()
    opened.answer("1")
    shots["wrong"] = opened.page.screenshot()
    opened.page.click('[data-action="reveal"]')
    shots["revealed"] = opened.page.screenshot()
    answer_all(opened, None, reveal=True)
    shots["end"] = opened.page.screenshot()
    for name, png in shots.items():
        (tmp_path / f"{name}.png").write_bytes(png)
        assert not_blank(png), f"the screenshot of state {name!r} is blank"
    # the player fits an 840-px notebook column, and its own text is 10 px or more
    width = opened.page.evaluate("() => document.querySelector('.cr-player').scrollWidth")
    assert width <= 840
    smallest = opened.page.evaluate("""() => Math.min(...[...document.querySelectorAll(
        '.cr-player *:not(svg *)')].filter(e => e.childNodes.length && [...e.childNodes].some(
        n => n.nodeType === 3 && n.textContent.trim())).map(
        e => parseFloat(getComputedStyle(e).fontSize)))""")
    assert smallest >= 10


def _mistake_cases():
    """The op table's named mistakes, as tests/nn/test_mistakes.py lists them."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "nn" / "test_mistakes.py"
    spec = importlib.util.spec_from_file_location("mistake_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES, module.ids


CASES, CASE_IDS = _mistake_cases()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_each_named_mistake_is_diagnosed_in_a_students_copy(open_page, case):
    from nn.check import local_answer
    from nn.explain import explain

    op, build, index, mistake, typed, words = case
    out = build()
    operand = out.parents[index]
    opened = open_page(step_through(out, nodes=[operand], ask="local"), answers=False)
    while opened.asked() is None:
        opened.page.keyboard.press("ArrowRight")
    assert opened.asked()[1:] == ("local", out.label)
    expected = local_answer(out, index, explain(out, out).name).diagnose(typed, 1)
    assert expected.mistake == mistake
    status = opened.answer(repr(typed))
    assert status.startswith(expected.message) and words in status
    assert opened.errors == []


@pytest.fixture(scope="module")
def player_module(browser):
    """A blank page with player.js's exports on window (the module as the page runs it)."""
    from importlib import resources
    script = resources.files("viz").joinpath("player.js").read_text(encoding="utf-8")
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.set_content("<!DOCTYPE html><html><body><script type=\"module\">" + script
                     + "\nObject.assign(window, { readNumber, answerHash, roundedKey });"
                     "</script></body></html>")
    page.wait_for_function("() => window.readNumber !== undefined")
    yield page
    page.close()


TYPED = ["−0.5", "-0.5", " 1e-3 ", "1/2", " -3 / 4", ".5", "5.", "+2", "2E+3", "0,5", "1,2,3",
         "1/2/3", "inf", "-NaN", "", "abc", "1/0", "1e999", "0.5.5", "1 000", "−1/−4"]


@pytest.mark.parametrize("text", TYPED)
def test_the_page_reads_a_typed_number_as_read_number_does(player_module, text):
    from nn.check import NUMBER_PATTERN, TYPING_HINTS, read_number
    try:
        expected = {"value": read_number(text)}
    except ValueError as error:
        expected = {"error": str(error)}
    reading = {"pattern": NUMBER_PATTERN, "hints": TYPING_HINTS}
    assert player_module.evaluate("([t, r]) => readNumber(t, r)", [text, reading]) == expected


@pytest.mark.parametrize("value", [0.0, -0.0, 0.45455, -3.2105, 1e-7, 123456.0, 0.99995,
                                   -0.00012345, 9.9995])
def test_the_page_hashes_a_number_as_python_does(player_module, value):
    from viz.step_through import answer_hash, rounded_key
    key = player_module.evaluate("x => roundedKey(x)", value)
    assert key == rounded_key(value)
    assert player_module.evaluate("([s, k]) => answerHash(s, k)", ["a1b2", key]) \
        == answer_hash("a1b2", key)


def test_a_tall_drawing_scrolls_in_its_pane_to_keep_the_current_node_in_view(open_page):
    _, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22"))
    page = opened.page
    in_view = """() => {
        const pane = document.querySelector('.cr-graph').getBoundingClientRect();
        const g = document.querySelector('g.node.value.cr-current, g.node.value.cr-asked');
        const box = g.getBoundingClientRect();
        return box.top >= pane.top - 1 && box.bottom <= pane.bottom + 1; }"""
    pane = page.evaluate("() => { const p = document.querySelector('.cr-graph');"
                         " return [p.clientHeight, p.scrollHeight]; }")
    assert pane[1] > pane[0]  # taller than its pane: the case this is about
    page.click(".cr-player")
    for _ in range(len(page.query_selector_all("g.node.value")) + 2):
        assert page.evaluate(in_view), opened.current()
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Home")
    assert page.evaluate(in_view)
    assert opened.errors == []
