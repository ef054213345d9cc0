"""The training replay where learners are: a widget in JupyterLab 4 and Notebook 7.

The ``jupyter`` fixture (conftest.py, browsing.py) starts JupyterLab (or
Notebook 7) from this Python's environment on 127.0.0.1 with a token and stops
it by its PID; the test opens a notebook that makes a replay, runs it, steps and
answers with the keyboard, and reads the answers back in the kernel. It skips,
saying why, without JupyterLab, playwright or chromium.
"""

import json
import os
import subprocess
import sys

import pytest
from browsing import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the Jupyter tests need playwright (pip install playwright)")
pytest.importorskip("jupyterlab", reason="the Jupyter tests need JupyterLab (the notebooks extra)")
pytestmark = needs_chromium

MAKE = """\
import nn
from nn.datasets import make_moons
from viz import training_replay
X, y = make_moons(40, noise=0.1, seed=0)
history = nn.fit(nn.MLP(2, [4, 1], seed=0), X, y, epochs=8, record=True, progress=False)
replay = training_replay(history, X, y, quiz=True)
replay"""
READ = """\
import json
print("ANSWERS", json.dumps(replay.answers))
print("NEXT", repr(history.params[1][replay.data["selected"]]))"""


@pytest.fixture(scope="module")
def lab(jupyter):
    """A Jupyter server (conftest.py) whose folder holds replay.ipynb: MAKE, then READ."""
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
              "outputs": [], "source": source} for i, source in enumerate([MAKE, READ])]
    notebook = {"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}
    (jupyter.root / "replay.ipynb").write_text(json.dumps(notebook))
    return jupyter


@pytest.fixture(scope="module")
def page(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(lab.page_url("replay.ipynb"))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                           " && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           ".session && window.jupyterapp.shell.currentWidget"
                           ".sessionContext.session.kernel"
                           # the server is shared: another notebook may be open too
                           " && window.jupyterapp.shell.currentWidget.context.path"
                           " === 'replay.ipynb'")
    yield page
    context.close()


def epoch(page):
    return int(page.get_attribute(".cr-replay .cr-scrubber", "data-epoch"))


def test_the_replay_runs_in_jupyterlab_with_keys_and_answers_back_in_python(page):
    # Notebook 7 (7.6.5) logs one error of its own while it loads, before any
    # cell runs ("reading 'schema'"); what counts is that the replay adds none.
    before = list(page.errors)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    page.wait_for_selector(".cr-replay [role=status][data-label]")
    # the widget, not the picture kept for viewers that cannot run it
    assert page.locator(".jp-OutputArea-output img:visible").count() == 0
    status = page.locator(".cr-replay [role=status]")
    label = status.get_attribute("data-label")
    assert label == "w2_22" or label.startswith("w")
    assert epoch(page) == 0
    # The arrow key reaches the replay, not the notebook; the quiz holds it at epoch 0.
    page.click(".cr-replay .cr-epoch")
    page.keyboard.press("ArrowRight")
    assert epoch(page) == 0
    assert "first" in page.text_content(".cr-replay .cr-feedback")
    # A wrong sign, then the right value, answered with Enter.
    value = float(status.get_attribute("data-value"))
    grad = float(status.get_attribute("data-grad"))
    page.fill(".cr-replay .cr-answer", repr(value + 0.5 * grad * 50))
    page.press(".cr-replay .cr-answer", "Enter")
    feedback = page.text_content(".cr-replay .cr-feedback")
    assert "sign" in feedback or "direction" in feedback
    page.fill(".cr-replay .cr-answer", repr(value - 0.5 * grad))
    page.press(".cr-replay .cr-answer", "Enter")
    assert page.text_content(".cr-replay .cr-feedback").startswith("Right")
    page.click(".cr-replay .cr-epoch")
    page.keyboard.press("ArrowRight")
    assert epoch(page) == 1
    page.keyboard.press("End")
    assert epoch(page) == 1  # the quiz asks again at epoch 1
    # The answers came back to the kernel. (The widget's messages and the cell's
    # execution travel separately: read again until the last answer has arrived.)
    answers = []
    for _ in range(20):
        page.evaluate("""() => { const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = 1; notebook.mode = 'command';
            return window.jupyterapp.commands.execute('notebook:run-cell'); }""")
        output = page.locator(".jp-OutputArea-output:visible", has_text="ANSWERS")
        output.wait_for()
        page.wait_for_timeout(300)
        text = output.text_content()
        answers = json.loads(text.split("ANSWERS", 1)[1].split("NEXT")[0])
        if len(answers) >= 2:
            break
    assert [a["result"] for a in answers] == ["wrong", "right"]
    assert answers[0]["diagnosis"] in ("sign", "direction")
    assert answers[1]["label"] == label and answers[1]["epoch"] == 0
    assert page.errors == before


def test_an_untrusted_notebook_shows_the_replays_picture_before_the_cell_runs(lab, page):
    """Executed elsewhere (as nbconvert or a refresh does), opened untrusted: a picture."""
    folder = lab.root
    cell = {"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {},
            "outputs": [], "source": MAKE}
    executed = folder / "executed.ipynb"
    executed.write_text(json.dumps({"cells": [cell], "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                    "--execute", "--inplace", str(executed)], check=True, capture_output=True,
                   env=dict(os.environ, JUPYTER_DATA_DIR=str(folder / "elsewhere")))
    other = page.context.new_page()
    try:
        other.goto(lab.page_url("executed.ipynb"))
        output = other.locator(".jp-OutputArea-output", has=other.locator("img"))
        output.first.wait_for()
        assert "Run this cell" in output.first.text_content()
        assert other.locator(".cr-replay").count() == 0
        width = other.evaluate("() => document.querySelector('.jp-OutputArea-output img')"
                               ".naturalWidth")
        assert width == 200  # the 40 × 40 boundary, 5 pixels a cell
    finally:
        other.close()
