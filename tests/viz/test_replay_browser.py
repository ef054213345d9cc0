"""The training replay's saved page in a real browser: Debian's Chromium, driven by Playwright.

Chromium comes from the system (apt-get install chromium), never from
Playwright's own download; without it, or without playwright, these tests
skip and say why.
"""


import pytest
from browsing import SavedPage, needs_chromium, open_saved

import nn
from nn.datasets import load_iris, standardize, train_test_split
from nn.train import fit
from viz import training_replay
from viz.labels import number

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser tests need playwright (pip install playwright)")
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def run():
    """Notebook 04's run, 30 epochs: versicolor vs virginica, seed 0, ε = 0.5."""
    X, y = load_iris(classes=("versicolor", "virginica"))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    X_train, X_test, _, _ = standardize(X_train, X_test)
    history = fit(nn.MLP(4, [4, 4, 1], seed=0), X_train, y_train, lr=0.5, epochs=30,
                  record=True, progress=False)
    return history, X_train, y_train, X_test, y_test


class Opened(SavedPage):
    """A saved page opened from file://, with what it logged and requested."""

    def epoch(self):
        return int(self.page.get_attribute(".cr-scrubber", "data-epoch"))

    def scrub(self, i):
        self.page.evaluate("""i => { const s = document.querySelector('.cr-scrubber');
            s.value = String(i); s.dispatchEvent(new Event('input')); }""", i)

    def update(self):
        """The update line: its text and its data-* numbers."""
        return self.page.evaluate("""() => { const u = document.querySelector('[role=status]');
            return {text: u.textContent, label: u.dataset.label, epoch: Number(u.dataset.epoch),
                    value: u.dataset.value, grad: u.dataset.grad}; }""")

    def boundary(self):
        return self.page.evaluate("""() => { const c = document.querySelector('[data-boundary]');
            return [c.dataset.boundary, c.toDataURL()]; }""")

    def answer(self, text):
        self.page.fill(".cr-answer", text)
        self.page.press(".cr-answer", "Enter")
        return self.page.text_content(".cr-feedback")


@pytest.fixture
def open_page(browser, tmp_path):
    contexts = []

    def open_(replay, name="training.html", width=1280):
        context, opened = open_saved(browser, replay.save(tmp_path / name), Opened,
                                     width=width, ready="[role=status][data-label]")
        contexts.append(context)
        return opened

    yield open_
    for context in contexts:
        context.close()


def test_scrubbing_to_epoch_e_shows_that_epochs_cost_value_and_gradient(run, open_page):
    history, X, y, X_test, y_test = run
    page = open_page(training_replay(history, X, y, X_test=X_test, y_test=y_test))
    for e in (0, 7, 30, 12):
        page.scrub(e)
        assert page.epoch() == e
        readout = page.page.text_content(".cr-readout")
        assert f"C = {number(history.cost[e], 4)}" in readout
        assert float(page.page.get_attribute(".cr-readout", "data-cost")) == history.cost[e]
        update = page.update()
        assert update["label"] == "w2_22" and update["epoch"] == e
        assert float(update["value"]) == history.params[e]["w2_22"]
        assert number(history.params[e]["w2_22"], 4) in update["text"]
        if e < 30:
            assert float(update["grad"]) == history.grads[e]["w2_22"]
            assert number(history.grads[e]["w2_22"], 4) in update["text"]
    assert page.errors == [] and page.requests == [page.url]


def test_the_update_line_satisfies_w_next_equals_w_minus_lr_times_g(run, open_page):
    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y))
    for e in (0, 5, 29):
        page.scrub(e)
        now = page.update()
        w, g = float(now["value"]), float(now["grad"])
        text = now["text"]
        # the line's own numbers: ... = w_e − ε × g_e = w_{e+1}
        shown = text.split(" = ")[-1].split()[0]
        page.scrub(e + 1)
        after = float(page.update()["value"])
        assert after == w - history.lr * g  # bit for bit: the replay holds the run's numbers
        assert shown == number(after, 4)
        assert f"− {history.lr:g} × " in text
    assert page.errors == []


def test_keys_buttons_and_play_move_through_the_epochs(run, open_page):
    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y))
    keyboard = page.page.keyboard
    keyboard.press("End")
    assert page.epoch() == 30
    keyboard.press("Home")
    assert page.epoch() == 0
    keyboard.press("ArrowRight")
    keyboard.press("ArrowRight")
    assert page.epoch() == 2
    keyboard.press("ArrowLeft")
    assert page.epoch() == 1
    keyboard.press(" ")  # play
    page.page.wait_for_function("() => Number(document.querySelector('.cr-scrubber')"
                                ".dataset.epoch) >= 4")
    assert page.page.text_content('[data-action="play"]') == "Pause"
    keyboard.press(" ")  # pause
    stopped = page.epoch()
    page.page.wait_for_timeout(600)
    assert page.epoch() == stopped
    page.page.click('[data-action="last"]')
    assert page.epoch() == 30
    assert page.errors == []


def test_clicking_an_edge_or_a_name_selects_that_weight(run, open_page):
    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y))
    page.scrub(3)
    page.page.dispatch_event('.cr-network g.edge[data-label="w3_12"]', "click")
    update = page.update()
    assert update["label"] == "w3_12"
    assert float(update["value"]) == history.params[3]["w3_12"]
    assert "(w_12)^3 ← (w_12)^3 − ε · dC/d(w_12)^3" in update["text"]
    page.page.click('button.cr-name[data-label="b1_2"]')
    assert page.update()["label"] == "b1_2"
    edges = page.page.eval_on_selector_all(".cr-network g.edge[data-label]",
                                           "gs => gs.map(g => g.dataset.label)")
    assert sorted(edges) == sorted(label for label in history.params[0] if label[0] == "w")
    assert page.errors == []


def test_edges_are_coloured_by_sign_and_the_boundary_changes(run, open_page):
    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y, features=(2, 3)))
    first = page.boundary()
    colours = page.page.eval_on_selector_all(
        ".cr-network g.edge[data-label] path",
        "ps => ps.map(p => [p.closest('g').dataset.label, p.getAttribute('stroke')])")
    for label, colour in colours:
        assert colour == ("#1f77b4" if history.params[0][label] >= 0 else "#d62728"), label
    page.page.keyboard.press("End")
    last = page.boundary()
    assert first[0] == "0" and last[0] == "30"
    assert first[1] != last[1]
    assert page.errors == []


def test_the_quiz_accepts_the_next_value_and_diagnoses_a_wrong_sign(run, open_page):
    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y, quiz=True), name="quiz.html")
    w, g = history.params[0]["w2_22"], history.grads[0]["w2_22"]
    right = history.params[1]["w2_22"]
    assert page.page.get_attribute(".cr-answer", "data-ask") == "update"
    assert page.page.get_attribute(".cr-answer", "data-label") == "w2_22"
    # the asked value is not on screen before it is answered, nor after trying to step on
    page.page.keyboard.press("ArrowRight")
    assert page.epoch() == 0
    assert number(right, 4) not in page.page.inner_text("body")
    assert "?" in page.update()["text"]
    message = page.answer(f"{w + history.lr * g:.4f}")  # added the step: the wrong sign
    assert "sign" in message or "direction" in message
    assert number(right, 4) not in page.page.inner_text("body")
    message = page.answer(f"{w - g:.4f}")  # forgot ε
    assert "learning rate" in message
    message = page.answer(f"{right:.4g}")
    assert message.startswith("Right") and number(right, 4) in message
    assert number(right, 4) in page.update()["text"]
    page.page.keyboard.press("ArrowRight")
    assert page.epoch() == 1
    assert "score 1 of 1" in page.page.text_content(".cr-score")
    assert page.errors == [] and page.requests == [page.url]


def test_the_replay_fits_an_840_px_column(run, open_page):
    history, X, y, X_test, y_test = run
    page = open_page(training_replay(history, X, y, X_test=X_test, y_test=y_test), width=840)
    width = page.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 840
    smallest = page.page.evaluate("""() => Math.min(...[...document.querySelectorAll(
        '.cr-replay button, .cr-update, .cr-readout, .cr-axes, .cr-curve text, '
        + '.cr-network g.node text, .cr-tag text')]
        .map(e => parseFloat(getComputedStyle(e).fontSize)
                  * (e.closest('svg') ? e.closest('svg').getBoundingClientRect().width
                     / e.closest('svg').viewBox.baseVal.width : 1)))""")
    assert smallest >= 10


def test_the_quiz_reads_numbers_as_nn_check_does_and_hints_without_digits(run, open_page):
    from nn.check import read_number

    history, X, y, *_ = run
    page = open_page(training_replay(history, X, y, quiz=True), name="reading.html")
    right = history.params[1]["w2_22"]
    for text in ("0,5", "1/0", "abc", ""):
        with pytest.raises(ValueError) as error:
            read_number(text)
        message = page.answer(text)
        assert message == str(error.value)  # the same words as Python's
        assert not any(c.isdigit() for c in message.split(":", 1)[1])
    assert page.epoch() == 0
    fraction = f"{round(right * 10000)}/10000"
    assert page.answer(fraction.replace("-", "\u2212")).startswith("Right")
    assert page.errors == []
