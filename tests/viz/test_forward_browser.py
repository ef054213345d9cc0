"""The forward step-through page in a real browser: Debian's Chromium, driven by Playwright.

As tests/viz/test_player_browser.py: the saved page opened from file://, with
every request but the file itself refused and recorded; the browser is
conftest's (browsing.py).
"""

import pytest
from browsing import PlayerPage, needs_chromium
from test_step_through_forward import network_cost, neuron

import engine
from viz import step_through
from viz.labels import number

pytest.importorskip("playwright.sync_api",
                    reason="the browser tests need playwright (pip install playwright)")
pytestmark = needs_chromium  # the browser: conftest's, one Chromium for the run


class Opened(PlayerPage):
    """A page opened from file://, with what it logged and requested."""

    def current(self):
        """The labels of the Values computed at this step (or asked about)."""
        return self.page.evaluate("""() => [...document.querySelectorAll(
            'g.node.value.cr-current, g.node.value.cr-asked')].map(g => g.dataset.label)""")

    def values(self):
        """{label: the 'data ...' line each drawn Value shows}."""
        return self.page.evaluate("""() => Object.fromEntries(
            [...document.querySelectorAll('g.node.value')].map(g => [g.dataset.label,
              [...g.querySelectorAll('text')].map(t => t.textContent)
                .find(t => t.startsWith('data ')) || null]))""")

    def asked(self):
        """(data-label, data-ask) of the answer box, or None when hidden."""
        if not self.page.is_visible(".cr-answer"):
            return None
        box = self.page.query_selector(".cr-answer")
        return box.get_attribute("data-label"), box.get_attribute("data-ask")

    def on_screen(self):
        """The text a learner sees: the panel and every line of the drawing."""
        return self.page.evaluate("""() => {
            const player = document.querySelector('.cr-player');
            const texts = [...player.querySelectorAll('svg text')]
              .filter(t => getComputedStyle(t).visibility !== 'hidden')
              .map(t => t.textContent);
            return player.querySelector('.cr-panel').innerText + '\\n' + texts.join('\\n'); }""")


@pytest.fixture
def open_page(open_player):
    return lambda player, **options: open_player(player, Opened, **options)


def test_next_visits_the_nodes_in_topological_order_and_ends_with_every_value(open_page):
    a = neuron()
    opened = open_page(step_through(a, direction="forward"))
    leaves = {v.label for v in engine.topological_order(a) if not v.parents}
    shown = opened.values()
    assert all(shown[label] != "data ?" for label in leaves)  # given from the start
    first = opened.current()  # the first step computes p1 or p2
    assert first in (["p1"], ["p2"])
    assert all(shown[label] == "data ?" for label in shown
               if label not in leaves | set(first))
    visited = []
    while True:
        visited += opened.current()
        if opened.page.is_disabled('[data-action="next"]'):
            break
        opened.page.click('[data-action="next"]')
    by_label = {v.label: v for v in engine.topological_order(a)}
    assert sorted(visited[:2]) == ["p1", "p2"] and visited[2:] == ["z", "s", "a"]
    for k, label in enumerate(visited):  # each after its operands
        assert all(p.label not in visited[k:] for p in by_label[label].parents)
    assert opened.values() == {v.label: f"data {number(v.data, 4)}"
                               for v in engine.topological_order(a)}
    assert opened.errors == [] and opened.requests == [opened.url]


def test_a_value_appears_only_when_its_step_is_reached(open_page):
    a = neuron()
    opened = open_page(step_through(a, direction="forward"))
    opened.page.click('[data-action="next"]')
    opened.page.click('[data-action="next"]')
    shown = opened.values()  # the third step: z, after p1 and p2
    assert opened.current() == ["z"]
    assert shown["p2"] == f"data {number(-0.3 * -1.5, 4)}"
    assert shown["z"] == "data 0.85"
    assert shown["s"] == "data ?" and shown["a"] == "data ?"
    assert opened.page.text_content(".cr-line") == "z = p1 + p2 = 0.4 + 0.45 = 0.85"
    opened.page.click('[data-action="prev"]')
    assert opened.values()["z"] == "data ?"


def test_the_quiz_asks_each_value_and_names_a_forgotten_bias(open_page):
    net, cost = network_cost()
    by_label = {v.label: v for v in engine.topological_order(cost)}
    z = by_label["z3_2"]
    player = step_through(cost, direction="forward", nodes=[z])
    opened = open_page(player)
    while opened.asked() is None:
        opened.page.click('[data-action="next"]')
    assert opened.asked() == ("z3_2", "forward")
    assert number(z.data, 4) not in opened.on_screen()
    without_bias = z.data - by_label["b2_2"].data
    said = opened.answer(f"{without_bias:.6g}")
    assert "bias" in said and number(z.data, 4) not in said
    assert "(b_2)^2" in said
    said = opened.answer(f"{-z.data:.6g}")
    assert "sign" in said
    said = opened.answer(f"{z.data:.6g}")
    assert said.startswith("Correct")
    assert opened.asked() is None
    assert opened.values()["z3_2"] == f"data {number(z.data, 4)}"
    assert opened.errors == [] and opened.requests == [opened.url]


def test_tanh_applied_twice_and_forgotten_are_named(open_page):
    a = neuron()
    player = step_through(a, direction="forward", nodes=["a"])
    opened = open_page(player)
    while opened.asked() is None:
        opened.page.click('[data-action="next"]')
    s = a.parents[0].data
    assert "twice" in opened.answer(f"{__import__('math').tanh(a.data):.6g}")
    assert "forgot to apply tanh" in opened.answer(f"{s:.6g}")
    said = opened.answer("0.1")  # the third wrong try reveals
    assert number(a.data, 4) in said
    assert opened.values()["a"] == f"data {number(a.data, 4)}"


def test_by_layer_shows_the_matrix_and_fits_the_column(open_page, tmp_path):
    net, cost = network_cost()
    opened = open_page(step_through(cost, direction="forward", group="layer"))
    opened.page.click('[data-action="next"]')
    opened.page.click('[data-action="next"]')  # z^3 = W^2 a^2 + b^2
    assert opened.page.text_content(".cr-line").startswith("z^3 = W^2 a^2 + b^2")
    table = opened.page.inner_text(".cr-sends")
    by_label = {v.label: v for v in engine.topological_order(cost)}
    for label in ("w2_22", "b2_2", "a2_2", "z3_2"):
        assert number(by_label[label].data, 4) in table
    assert sorted(opened.current()) == ["z3_1", "z3_2", "z3_3", "z3_4"]
    png = opened.page.screenshot()
    (tmp_path / "layer.png").write_bytes(png)
    width = opened.page.evaluate("() => document.querySelector('.cr-player').scrollWidth")
    assert width <= 840
    while not opened.page.is_disabled('[data-action="next"]'):
        opened.page.click('[data-action="next"]')
    shown = {label: text for label, text in opened.values().items() if text is not None}
    assert len(shown) > 10
    assert shown == {label: f"data {number(by_label[label].data, 4)}" for label in shown}
    assert opened.errors == [] and opened.requests == [opened.url]


def test_a_students_copy_checks_values_and_names_the_bias_without_holding_them(open_page,
                                                                              tmp_path):
    net, cost = network_cost()
    by_label = {v.label: v for v in engine.topological_order(cost)}
    z = by_label["z3_2"]
    player = step_through(cost, direction="forward", nodes=["z3_2"])
    opened = open_page(player, name="students.html", answers=False)
    page_text = (tmp_path / "students.html").read_text(encoding="utf-8")
    for digits in (3, 4, 6):
        assert number(z.data, digits) not in page_text
    while opened.asked() is None:
        opened.page.click('[data-action="next"]')
    assert opened.values()["z3_2"] == "data ?"
    said = opened.answer(f"{z.data - by_label['b2_2'].data:.6g}")
    assert "bias" in said
    assert opened.answer(f"{z.data:.6g}").startswith("Correct")
    assert opened.values()["z3_2"] == f"data {number(z.data, 4)}"
    assert opened.errors == [] and opened.requests == [opened.url]


def test_by_layer_with_a_quiz_keeps_each_asked_value_off_screen(open_page):
    net, cost = network_cost()
    by_label = {v.label: v for v in engine.topological_order(cost)}
    opened = open_page(step_through(cost, direction="forward", group="layer",
                                    nodes=["z3_1", "z3_2"]))
    while opened.asked() is None:
        opened.page.click('[data-action="next"]')
    assert opened.asked() == ("z3_1", "forward")
    screen = opened.on_screen()
    assert number(by_label["z3_1"].data, 4) not in screen
    assert number(by_label["z3_2"].data, 4) not in screen
    assert number(by_label["w2_22"].data, 4) in screen  # the matrix is there to use
    assert opened.answer(f"{by_label['z3_1'].data:.6g}").startswith("Correct")
    assert opened.asked() == ("z3_2", "forward")
    assert number(by_label["z3_2"].data, 4) not in opened.on_screen()
    assert number(by_label["z3_1"].data, 4) in opened.page.inner_text(".cr-sends")
    assert opened.errors == []


def test_without_javascript_the_page_shows_every_value_and_says_why(open_page):
    a = neuron()
    opened = open_page(step_through(a, direction="forward"), javascript=False)
    text = opened.page.inner_text("body")
    assert "every value of the forward pass" in text
    assert opened.requests == [opened.url]
