"""The player where learners meet it: JupyterLab 4 and Notebook 7, in Debian's Chromium.

Each server is started here, from the project's environment, on 127.0.0.1
with a random token in a temporary directory, and stopped by its PID. The
tests run a cell that shows a quiz player, answer with Enter, step with the
arrow keys, read ``player.answers`` back in the kernel, and open a notebook
untrusted to find a picture, not run-on text. Without jupyterlab, notebook,
playwright or chromium they skip and say why.
"""

import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("jupyterlab", reason="the Jupyter tests need jupyterlab (the notebooks extra)")
pytest.importorskip("notebook", reason="the Jupyter tests need notebook>=7 (the notebooks extra)")
nbformat = pytest.importorskip("nbformat", reason="the Jupyter tests need nbformat")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the browser tests need playwright (pip install playwright)")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the browser tests need Debian's chromium (apt-get install -y chromium)")

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
APPS = {"lab": ("lab", "/lab/tree/{name}"), "notebook7": ("notebook", "/notebooks/{name}")}

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Jupyter server of one app, started from this Python, stopped by its PID."""

    def __init__(self, app, root):
        self.app, self.root = app, root
        self.port, self.token = free_port(), secrets.token_hex(16)
        env = dict(os.environ, JUPYTER_DATA_DIR=str(root / ".data"),
                   JUPYTER_CONFIG_DIR=str(root / ".config"),
                   JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"))
        # no news, no "would you like to receive announcements" dialog over the page
        settings = root / ".settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.log = open(root / f"{app}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", APPS[app][0], "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={root}", "--LabApp.news_url=None"]
            + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=root)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}",
                                            timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"jupyter {app} did not start: "
                            + (root / f"{app}.log").read_text(errors="replace")[-2000:])
            time.sleep(0.5)

    def page_url(self, name):
        return self.url + APPS[self.app][1].format(name=name) + f"?token={self.token}"

    def wait_for_kernel(self, name):
        """Until the notebook's kernel is idle with a browser connected (cells can run)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.url}/api/sessions?token={self.token}",
                                        timeout=5) as response:
                sessions = json.load(response)
            kernels = [s["kernel"] for s in sessions if s["path"] == name and s.get("kernel")]
            if any(k["execution_state"] == "idle" and k["connections"] for k in kernels):
                return
            time.sleep(0.3)
        pytest.fail(f"no kernel became ready in jupyter {self.app}")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module", params=list(APPS))
def server(request, tmp_path_factory):
    started = Server(request.param, tmp_path_factory.mktemp(request.param))
    yield started
    started.stop()


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
        browser, server):
    write_notebook(server.root / "quiz.ipynb", [QUIZ_CELL, READ_CELL])
    context, page = open_notebook(browser, server, "quiz.ipynb")
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


def test_an_untrusted_notebook_shows_a_picture_not_run_on_text(browser, server,
                                                                executed_notebook):
    shutil.copy(executed_notebook, server.root / PLAYER_NOTEBOOK)
    cells = nbformat.read(executed_notebook, as_version=4).cells
    index = next(i for i, cell in enumerate(cells)
                 if cell.cell_type == "code" and "step_through(" in cell.source)
    context, page = open_notebook(browser, server, PLAYER_NOTEBOOK)
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
