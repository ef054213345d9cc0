"""Fixtures for the viz tests: the 4-4-4-1 network, and readers for DOT and SVG.

DOT is read back with pygraphviz (Graphviz's own parser), SVG with
xml.etree, so the tests check what Graphviz sees, not our strings.
"""

import html
import re
import xml.etree.ElementTree as ET

import pytest

from engine import Value

SVG = "{http://www.w3.org/2000/svg}"


class ParsedDot:
    """A drawing's DOT source as Graphviz parses it."""

    def __init__(self, source):
        import pygraphviz

        self.graph = pygraphviz.AGraph(string=source)

    def nodes(self, cls=None):
        """Node names, optionally only those whose class has the word ``cls``."""
        return {str(n) for n in self.graph.iternodes()
                if cls is None or cls in (n.attr.get("class") or "").split()}

    def edges(self, cls=None):
        """(tail, head, key) of every edge, optionally only those of class ``cls``.

        The invisible edges that hold the article's order (class 'order') are
        left out unless asked for.
        """
        found = []
        for tail, head, key in self.graph.edges(keys=True):
            edge = self.graph.get_edge(tail, head, key)
            classes = (edge.attr.get("class") or "").split()
            if cls is None and "order" in classes:
                continue
            if cls is None or cls in classes:
                found.append((str(tail), str(head), key))
        return found

    def caption(self):
        """The text over the drawing (captions and legend), on one line."""
        return label_text(self.graph.graph_attr.get("label") or "").replace("\n", " ")

    def edge_attr(self, tail, head, key, name):
        return self.graph.get_edge(tail, head, key).attr.get(name) or ""

    def node_attr(self, node, name):
        return self.graph.get_node(node).attr.get(name) or ""

    def node_text(self, node):
        return label_text(self.node_attr(node, "label"))

    def edge_text(self, tail, head, key):
        """An edge label's text on one line ('1 − tanh²(x) = 0.42', drawn on two)."""
        return label_text(self.edge_attr(tail, head, key, "label")).replace("\n", " ")

    def clusters(self):
        """{cluster name: set of its node names}."""
        return {str(sub.name): {str(n) for n in sub.nodes()}
                for sub in self.graph.subgraphs() if str(sub.name).startswith("cluster")}


def label_text(label):
    """The text an HTML-like label shows: cells joined by ' | ', <br/> as newline.

    As Graphviz reads it: entities decoded, and a doubled backslash is one.
    """
    label = re.sub(r"<br[^>]*>", "\n", label)
    label = re.sub(r"</td>\s*(</tr>\s*<tr>\s*)?<td[^>]*>", " | ", label)
    label = re.sub(r"<[^>]+>", "", label).replace("\\\\", "\\")
    return html.unescape(label)


def svg_node_groups(svg_text):
    """The <g class="node ..."> elements of an SVG, parsed as XML."""
    root = ET.fromstring(svg_text)
    return [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]


def svg_texts(group):
    """The text lines of an SVG group, as a reader sees them (no-break spaces as spaces)."""
    return ["".join(t.itertext()).replace("\xa0", " ") for t in group.iter(f"{SVG}text")]


@pytest.fixture
def parse():
    return ParsedDot


@pytest.fixture
def network():
    """The 4-4-4-1 network after one forward and backward pass of mse(s, y).

    Returns (net, C).
    """
    nn = pytest.importorskip("nn")
    from nn.losses import mse

    net = nn.MLP(4, [4, 4, 1], seed=0)
    s = net([5.1, 3.5, 1.4, 0.2])
    cost = mse(s, 1.0)
    cost.backward()
    return net, cost


@pytest.fixture
def no_dot_on_path(tmp_path, monkeypatch):
    """PATH holds only an empty directory, and no renderer is forced."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CHAINRULE_RENDERER", raising=False)
    return empty


def small_graph():
    """L = a·a with a = tanh(w·x + b): every node labelled, a reached along two edges."""
    x, w, b = Value(2.0, label="x"), Value(-0.5, label="w"), Value(0.3, label="b")
    wx = w * x
    wx.label = "wx"
    z = wx + b
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    loss = a * a
    loss.label = "L"
    return loss


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright, for the whole run (browsing.py)."""
    from browsing import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need playwright (pip install playwright)")
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session", params=["lab", "notebook7"])
def jupyter(request, tmp_path_factory):
    """A JupyterLab 4, then a Notebook 7 server, each started once for the whole run."""
    from browsing import JupyterServer

    pytest.importorskip("jupyterlab", reason="the Jupyter tests need jupyterlab (the notebooks "
                        "extra)")
    if request.param == "notebook7":
        pytest.importorskip("notebook", reason="the Jupyter tests need notebook>=7 (the "
                            "notebooks extra)")
    server = JupyterServer(request.param, tmp_path_factory.mktemp(request.param))
    yield server
    server.stop()


@pytest.fixture
def open_player(browser, tmp_path):
    """open_player(player, kind, name=, answers=, javascript=): save it, open it from file://.

    kind is the browsing.PlayerPage subclass the test reads the page with; every
    page opened is closed at the end of the test.
    """
    from browsing import open_saved

    contexts = []

    def open_(player, kind, name="page.html", answers=True, javascript=True):
        path = player.save(tmp_path / name, answers=answers)
        context, opened = open_saved(browser, path, kind, javascript=javascript,
                                     ready=".cr-player")
        contexts.append(context)
        return opened

    yield open_
    for context in contexts:
        context.close()
