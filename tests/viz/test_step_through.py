"""viz.step_through without a browser: the data, the marked SVG and the one-file page."""

import base64
import html.parser
import json
import math
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


def test_before_the_cell_runs_the_output_is_a_picture_and_one_line():
    bundle = step_through(small_graph(), quiz=True)._repr_mimebundle_()
    if isinstance(bundle, tuple):
        bundle = bundle[0]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG")
    page = bundle["text/html"]
    assert re.search(r'<img src="data:image/png;base64,', page)
    assert "Run this cell to step through it" in page and "Trust Notebook" in page
    assert "<svg" not in page and "<script" not in page and "<button" not in page
    assert "Run this cell" in bundle["text/plain"]


@pytest.mark.parametrize("direction, what", [("backward", "the final gradients"),
                                             ("forward", "every value")])
def test_the_picture_says_what_it_shows_and_fits_the_column(direction, what):
    player = step_through(small_graph(), direction=direction)
    data, _ = player._repr_mimebundle_()
    title = html.escape(player.data["title"])
    assert f'style="max-width:100%" alt="{title}, with {what}"' in data["text/html"]


def test_the_widget_syncs_data_svg_and_answers_and_nothing_more():
    import anywidget

    from viz.step_through import StepThrough

    own = set(StepThrough.class_trait_names(sync=True))
    assert own - set(anywidget.AnyWidget.class_trait_names(sync=True)) == {
        "data", "svg", "answers"}


def test_the_saved_page_without_a_script_shows_the_picture_and_says_why(tmp_path):
    text = step_through(small_graph()).save(tmp_path / "page.html").read_text(encoding="utf-8")
    assert 'class="cr-nojs"' in text and "Trust Notebook" in text and "jupyter trust" in text
    assert "<svg" in text and "<button" not in text.split("<script")[0]  # no dead buttons
    assert not re.search(r'<g id="', text)


def questions(page):
    return [(q["label"], q["ask"], q["consumer"]) for q in page.data["questions"]]


def test_the_quiz_asks_each_local_derivative_into_a_node_then_its_gradient():
    page = step_through(small_graph(), quiz=True)
    asked = questions(page)
    # a = tanh(z) is asked about twice from L = a·a (two edges), then its gradient
    assert asked[:3] == [("a", "local", "L"), ("a", "local", "L"), ("a", "gradient", None)]
    assert ("z", "local", "a") in asked and ("z", "gradient", None) in asked
    # z = wx + b: the ±1 of the add is shown, not asked
    assert ("wx", "local", "z") not in asked and ("b", "local", "z") not in asked
    assert ("wx", "gradient", None) in asked
    for step in page.data["steps"]:
        kinds = [page.data["questions"][q]["ask"] for q in step["questions"]]
        assert kinds == sorted(kinds, key=["local", "gradient"].index)  # locals first


def test_ask_nodes_and_attempts_choose_what_is_asked():
    assert {a for _, a, _ in questions(step_through(small_graph(), quiz=True, ask="local"))} \
        == {"local"}
    assert {a for _, a, _ in questions(step_through(small_graph(), quiz=True,
                                                    ask="gradient"))} == {"gradient"}
    named = step_through(small_graph(), nodes=["b", "z"])
    assert questions(named) == [("z", "local", "a"), ("z", "gradient", None),
                                ("b", "local", "z"), ("b", "gradient", None)]
    assert step_through(small_graph(), quiz=True, attempts=5).data["attempts"] == 5
    with pytest.raises(ValueError, match="ask="):
        step_through(small_graph(), quiz=True, ask="everything")
    with pytest.raises(ValueError, match="attempts="):
        step_through(small_graph(), quiz=True, attempts=0)


def test_the_panel_lists_only_sends_to_drawn_nodes_and_nothing_to_a_constant():
    x = Value(0.5, label="x")
    y = x ** 2
    y.label = "y"
    page = step_through(y)
    (y_step,) = [s for s in page.data["steps"] if s["label"] == "y"]
    assert [send["toName"] for send in y_step["sends"]] == ["x"]
    assert all(send["local"] != "0" for s in page.data["steps"] for send in s["sends"])


def test_the_widget_reads_the_answers_back_and_keeps_the_score():
    page = step_through(small_graph(), quiz=True)
    assert page.score == (0, len(page.data["questions"]))
    page.answers = [{"question": 0, "node": "a", "ask": "local", "right": True,
                     "revealed": False}, {"question": 1, "node": "a", "ask": "local",
                                          "right": True, "revealed": True}]
    assert page.score.right == 1 and str(page.score) == f"score 1 of {page.score.asked}"


def secret_numbers(page):
    """Every way an asked value may be spelled (4 and 3 significant digits, the full float)."""
    for question in page.data["questions"]:
        value = question["expected"]
        operands = [v["value"] for v in question["values"]]  # d(w·x)/dw = x: on the drawing
        if value != round(value) and not any(math.isclose(value, v) for v in operands):
            yield question, {repr(value), number(value, 4), number(value, 3)}


def test_the_students_copy_holds_no_answer_yet_checks_them(tmp_path):
    page = step_through(small_graph(), quiz=True)
    text = page.save(tmp_path / "students.html", answers=False).read_text(encoding="utf-8")
    shown_data = re.sub(r"data [^<]*", "", text)  # the operands' values may show (x·w: x)
    for question, forms in secret_numbers(page):
        for form in forms:
            for spelling in (form, form.replace("-", "&#45;"), form.replace("-", "−")):
                assert spelling not in shown_data, (question["goal"], spelling)
    data = json.loads(parsed(text).scripts[0])
    assert data["salt"] and all("expected" not in q for q in data["questions"])
    assert all(q["reveal"] == "The answers are with your teacher." for q in data["questions"])
    # each question's hashes hold the rounding of its expected value, and a neighbour's
    from viz.step_through import answer_hash, rounded_key
    for question, mine in zip(page.data["questions"], data["questions"]):
        value, spread = question["expected"], question["tolerance"]
        assert answer_hash(data["salt"], rounded_key(value)) in mine["hashes"]
        assert answer_hash(data["salt"], rounded_key(value + 0.9 * spread)) in mine["hashes"]
        assert answer_hash(data["salt"], rounded_key(value + 3 * spread)) not in mine["hashes"]
        for wrong, hashed in zip(question["wrong"], mine["wrong"]):
            assert answer_hash(data["salt"], rounded_key(wrong["value"])) in hashed["hashes"]
    assert step_through(small_graph(), quiz=True).html() != text  # the full page differs


def test_save_writes_the_page_text_and_returns_the_path(tmp_path):
    page = step_through(small_graph(), quiz=True)
    path = page.save(tmp_path / "page.html")
    assert path == tmp_path / "page.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_around_a_name_draws_and_asks_only_the_paths_to_it():
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0)
    cost = nn.binary_cross_entropy(net([0.6, 0.5, -0.5, -0.6]), 1.0)
    page = step_through(cost, around="(w_22)^2", quiz=True)
    asked = [q["label"] for q in page.data["questions"] if q["ask"] == "gradient"]
    assert asked == ["s", "a3_2", "z3_2", "w2_22"]
    # about the edges on the paths only: one local derivative into each
    assert [(q["label"], q["consumer"]) for q in page.data["questions"] if q["ask"] == "local"] \
        == [("s", "C"), ("a3_2", "s"), ("z3_2", "a3_2"), ("w2_22", "z3_2")]
    drawn = {step["label"] for step in page.data["steps"]}
    assert {"C", "s", "a3_2", "z3_2", "w2_22"} <= drawn and len(drawn) < 30
    (w_step,) = [s for s in page.data["steps"] if s["label"] == "w2_22"]
    quiz = page.data["questions"][w_step["questions"][-1]]
    assert quiz["ask"] == "gradient"
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
