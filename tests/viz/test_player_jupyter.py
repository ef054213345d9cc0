"""The player where learners meet it: JupyterLab 4 and Notebook 7, in Debian's Chromium.

Each server is started by the ``jupyter`` fixture (conftest.py, browsing.py),
from the project's environment, on 127.0.0.1 with a random token in a
temporary directory, and stopped by its PID. The
tests run a cell that shows a quiz player, answer with Enter, step with the
arrow keys, read ``player.answers`` back in the kernel, and open a notebook
untrusted to find a picture, not run-on text. Without jupyterlab, notebook,
playwright or chromium they skip and say why.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from browsing import needs_chromium

pytest.importorskip("jupyterlab", reason="the Jupyter tests need jupyterlab (the notebooks extra)")
pytest.importorskip("notebook", reason="the Jupyter tests need notebook>=7 (the notebooks extra)")
nbformat = pytest.importorskip("nbformat", reason="the Jupyter tests need nbformat")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser tests need playwright (pip install playwright)")
pytestmark = needs_chromium

QUIZ_CELL = """\
from engine import Value
from viz import step_through
x, w = Value(1.5, label="x"), Value(-0.8, label="w")
z = w * x
z.label = "z"
a = z.tanh()
a.label = "a"
player = step_through(a, quiz=True, nodes=["z"], ask="both")
player"""
READ_CELL = 'import json; print("ANSWERS", json.dumps(player.answers), "SCORE", player.score)'


def write_notebook(path, sources, outputs=None):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    if outputs is not None:
        for cell, cell_outputs in zip(notebook.cells, outputs):
            cell.outputs = cell_outputs
    nbformat.write(notebook, path)


def open_notebook(browser, server, name):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(server.page_url(name))
    page.wait_for_selector(".jp-Notebook:visible .jp-Cell", state="attached")
    # the kernel is up when its status says idle
    server.wait_for_kernel(name)
    for button in page.query_selector_all(".jp-Dialog button.jp-mod-reject"):
        button.click()  # any 'would you like...' dialog
    return context, page


def run_cell(page, index):
    """Run cell number index (from 0) as a learner does: click it, Shift+Enter."""
    cell = page.locator(".jp-Notebook:visible .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    return cell


def wait_idle(page, cell):
    """Until the cell's prompt shows its execution number (not '*' or blank)."""
    cell.locator(".jp-InputPrompt").filter(has_text="[").first.wait_for()
    page.wait_for_function(
        "cell => /\\[\\d+\\]/.test(cell.querySelector('.jp-InputPrompt').textContent)",
        arg=cell.element_handle())


def test_a_quiz_player_runs_answers_with_enter_steps_with_arrows_and_reports_back(
        browser, jupyter):
    server = jupyter
    write_notebook(server.root / "quiz.ipynb", [QUIZ_CELL, READ_CELL])
    context, page = open_notebook(browser, jupyter, "quiz.ipynb")
    try:
        cell = run_cell(page, 0)
        player = cell.locator(".cr-player")
        player.wait_for()
        assert player.locator(".cr-counter").get_attribute("data-step") == "1"
        player.locator(".cr-help").wait_for()
        player.click(position={"x": 5, "y": 5})
        page.keyboard.press("ArrowRight")  # a → z (tanh): z is asked
        box = player.locator(".cr-answer")
        box.wait_for()
        assert player.locator(".cr-counter").get_attribute("data-step") == "2"
        assert box.get_attribute("data-label") == "z"
        assert box.get_attribute("data-ask") == "local"
        assert box.get_attribute("data-consumer") == "a"
        status = player.locator('[role="status"]')
        box.fill("0.5")          # not 1 − tanh²(z)
        box.press("Enter")
        assert status.text_content().strip() != ""
        first = status.text_content()
        import math
        local = 1 - math.tanh(-1.2) ** 2
        box.fill(f"{local:.4g}")
        box.press("Enter")
        page.wait_for_function("s => /Correct/.test(s.textContent)",
                               arg=status.element_handle())
        assert first not in status.text_content()  # the old message is gone
        assert box.get_attribute("data-ask") == "gradient"
        box.fill(f"{local:.4g}")  # the gradient of z: upstream 1 × local
        box.press("Enter")
        page.wait_for_function("s => /Correct/.test(s.textContent)",
                               arg=status.element_handle())
        assert player.locator(".cr-score").get_attribute("data-score") == "2"
        player.click(position={"x": 5, "y": 5})
        page.keyboard.press("ArrowRight")
        assert player.locator(".cr-counter").get_attribute("data-step") == "3"
        page.keyboard.press("ArrowLeft")
        assert player.locator(".cr-counter").get_attribute("data-step") == "2"
        # the notebook's own shortcuts did not see the keys: still two cells
        assert page.locator(".jp-Notebook:visible .jp-Cell").count() == 2
        reader = run_cell(page, 1)
        output = reader.locator(".jp-OutputArea-output").filter(has_text="ANSWERS")
        output.wait_for()
        text = output.text_content()
        answers = json.loads(text.split("ANSWERS", 1)[1].split(" SCORE ")[0])
        assert [(a["node"], a["ask"], a["right"]) for a in answers] == [
            ("z", "local", True), ("z", "gradient", True)]
        assert answers[0]["typed"] == ["0.5", f"{local:.4g}"] and answers[0]["tries"] == 1
        assert answers[0]["consumer"] == "a"
        assert "score 2 of 2" in text
    finally:
        context.close()


NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
PLAYER_NOTEBOOK = "03_backprop_dC_dw22.ipynb"


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory):
    """Notebook 03 as committed, executed as make notebooks-refresh does (not signed)."""
    folder = tmp_path_factory.mktemp("executed")
    path = folder / PLAYER_NOTEBOOK
    shutil.copy(NOTEBOOKS / PLAYER_NOTEBOOK, path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                    "--execute", "--inplace", str(path)], check=True, capture_output=True,
                   env=dict(os.environ, JUPYTER_DATA_DIR=str(folder / ".data")))
    return path


def test_an_untrusted_notebook_shows_a_picture_not_run_on_text(browser, jupyter,
                                                                executed_notebook):
    server = jupyter
    shutil.copy(executed_notebook, server.root / PLAYER_NOTEBOOK)
    cells = nbformat.read(executed_notebook, as_version=4).cells
    index = next(i for i, cell in enumerate(cells)
                 if cell.cell_type == "code" and "step_through(" in cell.source)
    context, page = open_notebook(browser, jupyter, PLAYER_NOTEBOOK)
    try:
        cell = page.locator(".jp-Notebook:visible .jp-Cell").nth(index)
        output = cell.locator(".jp-OutputArea-output")
        output.first.wait_for(state="attached")
        picture = output.locator("img, svg")
        picture.first.wait_for(state="attached")
        assert picture.count() >= 1
        text = output.first.text_content()
        assert "Run this cell to step through it" in text and "Trust Notebook" in text
        assert page.locator(".cr-player").count() == 0  # no dead buttons, no empty box
        assert "data " not in text and "grad " not in text  # no labels run together
    finally:
        context.close()
