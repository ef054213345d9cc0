"""The forward step-through where learners meet it: JupyterLab 4 and Notebook 7, in Chromium.

The servers and the browser are conftest's (``jupyter``, ``browser``:
browsing.py), the notebook helpers test_player_jupyter's: each server is
started on 127.0.0.1 with a token in a temporary directory and stopped by its PID.
"""

import json

import pytest

pytest.importorskip("jupyterlab", reason="the Jupyter tests need jupyterlab (the notebooks extra)")
pytest.importorskip("notebook", reason="the Jupyter tests need notebook>=7 (the notebooks extra)")
pytest.importorskip("nbformat", reason="the Jupyter tests need nbformat")
pytest.importorskip("playwright.sync_api",
                    reason="the browser tests need playwright (pip install playwright)")

from browsing import needs_chromium  # noqa: E402
from test_player_jupyter import open_notebook, run_cell, write_notebook  # noqa: E402

pytestmark = needs_chromium

FORWARD_CELL = """\
import nn
from viz import step_through
net = nn.MLP(2, [1], seed=0)
s = net([0.5, -1.0])
player = step_through(s, direction="forward", quiz=True)
player"""
READ_CELL = 'import json; print("ANSWERS", json.dumps(player.answers), "SCORE", player.score)'


def test_the_forward_quiz_runs_names_a_forgotten_bias_and_reports_back(browser, jupyter):
    import nn
    net = nn.MLP(2, [1], seed=0)
    s = net([0.5, -1.0])
    bias = net.layers[0].neurons[0].b.data
    write_notebook(jupyter.root / "forward.ipynb", [FORWARD_CELL, READ_CELL])
    context, page = open_notebook(browser, jupyter, "forward.ipynb")
    try:
        cell = run_cell(page, 0)
        player = cell.locator(".cr-player")
        player.wait_for()
        box = player.locator(".cr-answer")
        box.wait_for()
        assert box.get_attribute("data-ask") == "forward"
        assert box.get_attribute("data-label") == "s"
        status = player.locator('[role="status"]')
        box.fill(f"{s.data - bias:.6g}")
        box.press("Enter")
        page.wait_for_function("s => /bias/.test(s.textContent)", arg=status.element_handle())
        box.fill(f"{s.data:.6g}")
        box.press("Enter")
        page.wait_for_function("s => /Correct/.test(s.textContent)",
                               arg=status.element_handle())
        reader = run_cell(page, 1)
        output = reader.locator(".jp-OutputArea-output").filter(has_text="ANSWERS")
        output.wait_for()
        text = output.text_content()
        answers = json.loads(text.split("ANSWERS", 1)[1].split(" SCORE ")[0])
        assert [(a["node"], a["ask"], a["right"], a["tries"]) for a in answers] == [
            ("s", "forward", True, 1)]
        assert "score 1 of 1" in text
    finally:
        context.close()
