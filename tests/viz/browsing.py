"""What the browser tests share: Debian's Chromium, and a Jupyter server to open notebooks in.

Chromium comes from the system (apt-get install chromium), never from
Playwright's own download. A Jupyter server (JupyterLab 4 or Notebook 7) is
started from this Python's environment on 127.0.0.1 with a random token, in
a temporary folder that also holds its settings (nothing of the user's own
Jupyter set-up is read or written), and stopped by its PID.

The fixtures that use these live in conftest.py: ``browser`` (one Chromium for
the whole run) and ``jupyter`` (one server of each app for the whole run).
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM = shutil.which("chromium")
NO_CHROMIUM = "the browser tests need Debian's chromium (apt-get install -y chromium)"
# Headless, and no connection of Chromium's own: this machine's network is closed.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)

# app: (the jupyter subcommand, a notebook's address, the option that exposes window.jupyterapp)
APPS = {
    "lab": ("lab", "/lab/tree/{name}", "--LabApp.expose_app_in_browser=True"),
    "notebook7": ("notebook", "/notebooks/{name}",
                  "--JupyterNotebookApp.expose_app_in_browser=True"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A Jupyter server of one app ('lab' or 'notebook7') in the folder root."""

    def __init__(self, app, root):
        self.app, self.root = app, root
        self.port, self.token = free_port(), secrets.token_hex(16)
        command, _, expose = APPS[app]
        env = dict(os.environ, JUPYTER_DATA_DIR=str(root / ".data"),
                   JUPYTER_CONFIG_DIR=str(root / ".config"),
                   JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
                   IPYTHONDIR=str(root / ".ipython"),
                   JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"))
        # no news, no "would you like to receive announcements" dialog over the page
        settings = root / ".settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.log = open(root / f"{app}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", command, "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", expose]
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
        """The address of notebook name (relative to root) in this app, with the token."""
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


class SavedPage:
    """A saved page opened from file://, with what it logged and what it requested."""

    def __init__(self, page, url):
        self.page, self.url = page, url
        self.errors, self.requests = [], []


class PlayerPage(SavedPage):
    """A saved step-through player: its status line and its answer box."""

    def status(self):
        return self.page.text_content('[role="status"]')

    def answer(self, text):
        self.page.fill(".cr-answer", text)
        self.page.press(".cr-answer", "Enter")
        return self.status()


def open_saved(browser, path, kind=SavedPage, width=900, javascript=True, ready=None):
    """Open the file at path in a new context of browser: (context, a kind(page, url)).

    Anything but the file itself is refused, and recorded in .requests; console
    errors and uncaught exceptions go to .errors. ready: a selector to wait for.
    """
    url = path.as_uri()
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)  # fail in seconds, not minutes
    page = context.new_page()
    opened = kind(page, url)
    page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("request", lambda request: opened.requests.append(request.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url == url
               else route.abort())
    page.goto(url)
    if javascript and ready:
        page.wait_for_selector(ready)
    return context, opened
