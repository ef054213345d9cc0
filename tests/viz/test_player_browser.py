"""The step-through page in a real browser: Debian's Chromium, driven by Playwright.

A page's script can only be tested where it runs. Chromium comes from the
system (apt-get install chromium), never from Playwright's own download;
without it, or without playwright, these tests skip and say why.
"""

import io
import math
import shutil

import pytest
from conftest import small_graph

import engine
from engine import Value
from viz import step_through
from viz.labels import number

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser tests need playwright (pip install playwright)")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the browser tests need Debian's chromium (apt-get install -y chromium)")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Opened:
    """A page opened from file://, with what it logged and requested."""

    def __init__(self, page, url):
        self.page, self.url = page, url
        self.errors, self.requests = [], []

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

    def status(self):
        return self.page.text_content('[role="status"]')

    def answer(self, text):
        self.page.fill(".cr-answer", text)
        self.page.press(".cr-answer", "Enter")
        return self.status()


@pytest.fixture
def open_page(browser, tmp_path):
    pages = []

    def open_(player, name="page.html", javascript=True):
        path = player.save(tmp_path / name)
        url = path.as_uri()
        context = browser.new_context(viewport={"width": 1150, "height": 900},
                                      java_script_enabled=javascript)
        context.set_default_timeout(10_000)  # fail in seconds, not minutes
        page = context.new_page()
        opened = Opened(page, url)
        page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("request", lambda request: opened.requests.append(request.url))
        # Anything but the file itself is refused (and recorded above).
        page.route("**/*", lambda route: route.continue_() if route.request.url == url
                   else route.abort())
        page.goto(url)
        pages.append(context)
        return opened

    yield open_
    for context in pages:
        context.close()


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


# -- loading --------------------------------------------------------------------------

def test_the_saved_page_loads_from_file_with_no_error_and_no_request(open_page):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    assert opened.page.is_visible(".cr-controls") and opened.page.is_visible(".cr-panel")
    assert opened.page.query_selector(".cr-nojs") is None
    assert opened.current() == "C"
    opened.page.keyboard.press("ArrowRight")
    assert opened.current() == "s"
    assert opened.errors == []
    assert opened.requests == [opened.url]


def test_without_javascript_the_page_shows_the_final_gradients_and_says_why(open_page):
    order, grads = backward_order_and_grads()
    opened = open_page(step_through(small_graph()), javascript=False)
    assert opened.page.is_visible(".cr-nojs")
    assert "trust the notebook" in opened.page.text_content(".cr-nojs")
    assert not opened.page.is_visible(".cr-controls")
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


def test_the_keys_step_the_same_way(open_page):
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
        "() => document.querySelector('.cr-counter').textContent.startsWith('step 3 ')")
    opened.page.keyboard.press(" ")  # pause
    stopped = opened.page.text_content(".cr-counter")
    opened.page.wait_for_timeout(1200)
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

def quiz_at_x(open_page):
    """The two-path page, at the question about x (p and q skipped)."""
    opened = open_page(step_through(two_paths(), quiz=True))
    opened.page.click('[data-action="next"]')
    for _ in range(10):
        if opened.page.get_attribute(".cr-answer", "data-label") == "x":
            break
        opened.page.click('[data-action="skip"]')
    assert opened.current() == "x" and opened.grads()["x"] == "grad ?"
    return opened


X = 1.5
Q = math.tanh(X)
P = X * X
DX = Q * X + Q * X + P * (1 - Q * Q)  # r = p·q: through p (x·x, twice) and through q


@pytest.mark.parametrize("typed, words", [
    (X, "forgot the upstream gradient"),          # dp/dx alone
    (Q, "forgot the local derivative"),           # dr/dp alone
    (-DX, "wrong sign"),
    (Q * X, "counted only one path"),             # one of x·x's two edges
    (7.0, "Multiply the upstream gradient"),      # anything else: the first hint, no answer
])
def test_each_diagnosis_appears_for_its_wrong_value(open_page, typed, words):
    opened = quiz_at_x(open_page)
    status = opened.answer(f"{typed:.5g}")
    assert words in status
    assert opened.grads()["x"] == "grad ?"  # not revealed: try again
    assert "Correct" in opened.answer(f"{DX:.4g}")
    assert opened.grads()["x"] == f"grad {number(DX, 4)}"
    assert opened.errors == []


def test_a_non_number_is_not_checked(open_page):
    opened = quiz_at_x(open_page)
    assert "Type a number" in opened.answer("three")


def test_the_network_quiz_accepts_right_answers_and_keeps_the_score(open_page):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    names = {"s": net.a(4, 1), "a3_2": net.a(3, 2), "z3_2": net.z(3, 2),
             "w2_22": net.weight(2, 2, 2)}
    expected = dict(zip(names, engine.grad(cost, list(names.values()))))
    asked = []
    for _ in range(100):
        if opened.page.is_disabled('[data-action="next"]') and \
                not opened.page.is_visible(".cr-quiz"):
            break  # the last step
        if opened.page.is_visible(".cr-quiz"):
            label = opened.page.get_attribute(".cr-answer", "data-label")
            asked.append(label)
            assert "Correct" in opened.answer(f"{expected[label]:.4g}")
        else:
            opened.page.keyboard.press("ArrowRight")
    assert asked == ["s", "a3_2", "z3_2", "w2_22"]
    assert "Score: 4 of 4 right at the first try" in opened.page.text_content(".cr-score")
    final = opened.grads()
    cost.backward()
    for label, value in names.items():
        assert final[label] == f"grad {number(value.grad, 4)}"


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
    fragments = step_through(small_graph())._repr_html_() + step_through(two_paths())._repr_html_()
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.set_content(f"<!DOCTYPE html><html><body>{fragments}</body></html>")
    first, second = page.query_selector_all(".cr-player")
    first.query_selector('[data-action="next"]').click()
    assert first.query_selector(".cr-counter").text_content() == "step 2 of 7"
    assert second.query_selector(".cr-counter").text_content() == "step 1 of 4"
    page.close()


def test_a_screenshot_of_each_state_is_not_blank(open_page, tmp_path):
    net, cost = network_cost()
    opened = open_page(step_through(cost, around="w2_22", quiz=True))
    shots = {"start": opened.page.screenshot()}
    opened.page.keyboard.press("ArrowRight")
    shots["asked"] = opened.page.screenshot()
    opened.answer("1")
    shots["wrong"] = opened.page.screenshot()
    opened.page.click('[data-action="reveal"]')
    shots["revealed"] = opened.page.screenshot()
    for _ in range(100):
        if opened.page.is_disabled('[data-action="next"]') and \
                not opened.page.is_visible(".cr-quiz"):
            break  # the last step
        if opened.page.is_visible(".cr-quiz"):
            opened.page.click('[data-action="skip"]')
        else:
            opened.page.keyboard.press("End")
    shots["end"] = opened.page.screenshot()
    opened.page.click('[data-action="fit"]')
    shots["fit"] = opened.page.screenshot()
    for name, png in shots.items():
        (tmp_path / f"{name}.png").write_bytes(png)
        assert not_blank(png), f"the screenshot of state {name!r} is blank"
    # the page fits a notebook column: nothing wider than 1,100 px but the graph's own scroll
    width = opened.page.evaluate("() => document.querySelector('.cr-player').scrollWidth")
    assert width <= 1100
