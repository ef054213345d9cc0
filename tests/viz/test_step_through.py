"""viz.step_through without a browser: the data, the marked SVG and the one-file page."""

import html.parser
import json
import re

import pytest
from conftest import small_graph

import engine
from engine import Value
from viz import GraphTooLarge, step_through
from viz.labels import number


class Groups(html.parser.HTMLParser):
    """data-* attributes of every <g> of the page, and the page's <script> texts."""

    def __init__(self):
        super().__init__()
        self.nodes, self.edges, self.scripts, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "g" and "data-node" in attributes:
            self.nodes.append(attributes)
        if tag == "g" and "data-edge" in attributes:
            self.edges.append(attributes)
        self._in_script = tag == "script"

    def handle_data(self, text):
        if self._in_script:
            self.scripts.append(text)

    def handle_endtag(self, tag):
        self._in_script = False


def parsed(page_html):
    parser = Groups()
    parser.feed(page_html)
    return parser


def test_steps_follow_backward_steps_and_end_at_backwards_gradients():
    loss = small_graph()
    page = step_through(loss)
    order = [record.node.label for record in small_graph().backward_steps()]
    assert [step["label"] for step in page.data["steps"]] == order
    expected = small_graph()
    expected.backward()
    final = {}
    for step in page.data["steps"]:
        final.update(step["arrived"])
        final.update(step["updates"])
    labels = {node["data-node"]: node["data-label"] for node in parsed(page.html()).nodes}
    shown = {labels[node_id]: grad for node_id, grad in final.items()}
    assert shown == {v.label: number(v.grad, 4) for v in engine.topological_order(expected)}


def test_a_node_reached_twice_shows_its_running_sum_then_the_total():
    page = step_through(small_graph())
    (l_step,) = [s for s in page.data["steps"] if s["label"] == "L"]
    assert len(l_step["sends"]) == 2  # L = a·a: two edges to a
    a = small_graph().parents[0].data
    assert [s["edge"].split()[2] for s in l_step["sends"]] == ["0", "1"]
    assert [s["contribution"] for s in l_step["sends"]] == [number(a, 4)] * 2  # a each
    assert list(l_step["updates"].values()) == [number(a + a, 4)]  # dL/da = a + a


def test_the_chain_rule_line_is_written_in_the_operands_names():
    page = step_through(small_graph())
    (z_step,) = [s for s in page.data["steps"] if s["label"] == "z"]
    assert z_step["line"].startswith("dL/dz = dL/da · (1 − tanh²(z)) = ")


def test_stepping_leaves_every_grad_as_it_was():
    loss = small_graph()
    before = {v: v.grad for v in engine.topological_order(loss)}
    step_through(loss, quiz=True)
    assert {v: v.grad for v in engine.topological_order(loss)} == before


def test_the_picture_without_javascript_shows_backwards_gradients():
    loss = small_graph()
    svg = step_through(loss).svg
    expected = small_graph()
    expected.backward()
    for value in engine.topological_order(expected):
        assert f"grad {number(value.grad, 4)}".replace("-", "&#45;") in svg


def test_every_drawn_node_carries_its_label_and_every_edge_its_send():
    page = parsed(step_through(small_graph()).html())
    labels = sorted(node["data-label"] for node in page.nodes if node["data-label"])
    assert labels == sorted(["x", "w", "b", "wx", "z", "a", "L"])
    assert len(page.edges) == 2 + 2 + 1 + 2 + 4  # operand edges and each op's result


def test_a_hostile_label_is_escaped_everywhere():
    hostile = "</script><script>alert(1)</script><b onmouseover=x>"
    x = Value(1.0, label=hostile)
    y = x.tanh()
    y.label = "y"
    text = step_through(y, quiz=True).html()
    assert "<script>alert(1)" not in text and "<b onmouseover" not in text
    page = parsed(text)
    assert [n["data-label"] for n in page.nodes if n["data-label"] != "y"
            and n["data-label"]] == [hostile]
    data = json.loads(page.scripts[0])
    assert [s["label"] for s in data["steps"]] == ["y", hostile]


def test_the_page_is_one_file_that_fetches_nothing(tmp_path):
    path = step_through(small_graph(), quiz=True).save(tmp_path / "page.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_the_notebook_output_works_without_a_script():
    fragment = step_through(small_graph())._repr_html_()
    assert "<svg" in fragment and 'class="cr-nojs"' in fragment
    assert "trust the notebook" in fragment and ".save(" in fragment
    assert re.search(r'class="cr-controls" hidden', fragment)  # no dead buttons
    other = step_through(small_graph())._repr_html_()
    uid = re.search(r'id="(cr-[0-9a-f]+)"', fragment).group(1)
    assert uid not in other  # two players on one notebook page do not clash
    assert not re.search(r'<g id="', fragment)


def test_around_a_name_draws_and_asks_only_the_paths_to_it():
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0)
    cost = nn.binary_cross_entropy(net([0.6, 0.5, -0.5, -0.6]), 1.0)
    page = step_through(cost, around="(w_22)^2", quiz=True)
    asked = [step["label"] for step in page.data["steps"] if "quiz" in step]
    assert asked == ["s", "a3_2", "z3_2", "w2_22"]
    drawn = {step["label"] for step in page.data["steps"]}
    assert {"C", "s", "a3_2", "z3_2", "w2_22"} <= drawn and len(drawn) < 30
    (w_step,) = [s for s in page.data["steps"] if s["label"] == "w2_22"]
    quiz = w_step["quiz"]
    assert quiz["expected"] == engine.grad(cost, net.weight(2, 2, 2))[0]
    assert {w["mistake"] for w in quiz["wrong"]} == {"forgot_upstream", "forgot_local", "sign"}
    assert quiz["prompt"] == "dC/d(w_22)^2 = dC/d(z_2)^3 · (a_2)^2 = ?"


def test_around_something_not_in_the_graph_is_refused():
    with pytest.raises(ValueError, match="not in the graph"):
        step_through(small_graph(), around=Value(1.0, label="elsewhere"))
    with pytest.raises(KeyError, match="no node labelled"):
        step_through(small_graph(), around="nowhere")


def test_a_graph_above_max_nodes_is_refused_with_advice():
    with pytest.raises(GraphTooLarge, match=r"step_through\(root, around=value\)"):
        step_through(small_graph(), max_nodes=5)
