"""step_through(direction='forward') without a browser: the steps, the formulas, the quiz."""

import math
import re

import pytest

import engine
from engine import OPS, Value
from nn.check import forward_answer, read_number
from nn.explain import explain
from viz import step_through
from viz.labels import number


def neuron():
    """a = tanh(w1·x1 + w2·x2 + b), every node labelled."""
    x1, x2 = Value(0.5, label="x1"), Value(-1.5, label="x2")
    w1, w2 = Value(0.8, label="w1"), Value(-0.3, label="w2")
    b = Value(0.2, label="b")
    p1, p2 = w1 * x1, w2 * x2
    p1.label, p2.label = "p1", "p2"
    z = p1 + p2
    z.label = "z"
    s = z + b
    s.label = "s"
    a = s.tanh()
    a.label = "a"
    return a


def network_cost():
    nn = pytest.importorskip("nn")
    net = nn.MLP(4, [4, 4, 1], seed=0)
    return net, nn.binary_cross_entropy(net([0.6, 0.5, -0.5, -0.6]), 1.0)


def test_the_steps_compute_every_node_once_each_after_its_operands():
    a = neuron()
    player = step_through(a, direction="forward")
    labels = [step["label"] for step in player.data["steps"]]
    computed = {v.label: v for v in engine.topological_order(a) if v.parents}
    assert sorted(labels) == sorted(computed)
    for k, label in enumerate(labels):
        assert not {p.label for p in computed[label].parents} & set(labels[k:])


def test_each_step_writes_the_formula_with_names_and_values_and_the_value():
    a = neuron()
    lines = {step["label"]: step["line"] for step in step_through(a, direction="forward")
             .data["steps"]}
    assert lines["z"] == "z = p1 + p2 = 0.4 + 0.45 = 0.85"
    assert lines["s"] == "s = z + b = 0.85 + 0.2 = 1.05"
    assert lines["a"] == f"a = tanh(s) = tanh(1.05) = {number(math.tanh(1.05), 4)}"
    assert lines["p2"] == "p2 = w2 · x2 = (-0.3) · (-1.5) = 0.45"


def test_the_formulas_come_from_the_op_table():
    a = neuron()
    steps = step_through(a, direction="forward").data["steps"]
    values = {v.label: v for v in engine.topological_order(a)}
    for step in steps:
        node = values[step["label"]]
        formula = OPS[node.op].show([p.label for p in node.parents])
        assert step["line"].startswith(f"{node.label} = {formula} = ")


def test_a_value_shows_only_from_its_own_step_and_the_last_step_has_every_value():
    a = neuron()
    data = step_through(a, direction="forward").data
    values = {v.label: v for v in engine.topological_order(a)}
    seen = {}
    for step in data["steps"]:
        assert step["node"] not in seen  # not on screen before its step
        seen.update(step["arrived"])
        seen.update(step["updates"])
    leaves = {k: v for k, v in seen.items() if k in data["steps"][0]["arrived"]}
    assert len(leaves) == 5  # x1, x2, w1, w2, b: given from the first step
    labels = {step["node"]: step["label"] for step in data["steps"]}
    for node_id, label in labels.items():
        assert read_number(seen[node_id]) == pytest.approx(values[label].data, rel=1e-3)


def test_the_forward_pass_leaves_the_graph_as_it_was():
    a = neuron()
    a.backward()
    before = {v.label: (v.data, v.grad) for v in engine.topological_order(a)}
    step_through(a, direction="forward", quiz=True)
    assert {v.label: (v.data, v.grad) for v in engine.topological_order(a)} == before


def test_the_quiz_asks_each_computed_value_with_data_ask_forward():
    a = neuron()
    data = step_through(a, direction="forward", quiz=True).data
    values = {v.label: v for v in engine.topological_order(a)}
    assert [q["label"] for q in data["questions"]] == [s["label"] for s in data["steps"]]
    for question in data["questions"]:
        assert question["ask"] == "forward"
        assert question["expected"] == values[question["label"]].data
        assert number(question["expected"], 4) not in question["prompt"]
        assert data["valueOf"][data["steps"][question["step"]]["node"]] == question["id"]


def test_nodes_asks_only_those():
    a = neuron()
    data = step_through(a, direction="forward", nodes=["s"]).data
    assert [q["label"] for q in data["questions"]] == ["s"]


def test_a_forgotten_bias_is_named_in_words_that_say_bias():
    net, cost = network_cost()
    values = {v.label: v for v in engine.topological_order(cost)}
    z = values["z3_2"]
    answer = forward_answer(z, explain(cost, cost).name)
    diagnosis = answer.diagnose(z.data - values["b2_2"].data)
    assert diagnosis.mistake == "forgot_bias"
    assert "bias" in diagnosis.message and "(b_2)^2" in diagnosis.message
    assert number(z.data, 4) not in diagnosis.message
    assert answer.diagnose(z.data)
    assert answer.diagnose(-z.data).mistake == "sign"


def test_tanh_and_sigmoid_applied_twice_or_forgotten_are_named():
    for f, apply in (("tanh", math.tanh), ("sigmoid", lambda t: 1 / (1 + math.exp(-t)))):
        s = Value(0.7, label="s")
        a = getattr(s, f)()
        a.label = "a"
        answer = forward_answer(a, explain(a, a).name)
        assert answer.diagnose(apply(apply(0.7))).mistake == "applied_twice"
        assert answer.diagnose(0.7).mistake == "forgot_activation"
        assert "twice" in answer.diagnose(apply(apply(0.7))).message


def test_an_op_without_forward_mistakes_is_still_asked():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    out = x * y
    out.label = "out"
    assert not OPS["mul"].forward_mistakes
    answer = forward_answer(out, explain(out, out).name)
    assert answer.diagnose(6.0) and answer.diagnose(5.0).mistake == "other"
    assert "x · y" in answer.diagnose(5.0, attempt=2).message


def test_by_layer_writes_z_as_w_a_plus_b_with_the_numbers():
    net, cost = network_cost()
    values = {v.label: v for v in engine.topological_order(cost)}
    data = step_through(cost, direction="forward", group="layer").data
    names = [step["name"] for step in data["steps"]]
    assert names == ["z^2", "a^2", "z^3", "a^3", "s", "C"]
    z3 = data["steps"][2]
    assert z3["line"].startswith("z^3 = W^2 a^2 + b^2")
    header, *rows = z3["rows"]
    assert header == ["W^2", "", "", "", "a^2", "b^2", "z^3"]
    for j, row in enumerate(rows, start=1):
        assert row[:4] == [number(values[f"w2_{j}{k}"].data, 4) for k in range(1, 5)]
        assert row[4] == number(values[f"a2_{j}"].data, 4)
        assert row[5] == number(values[f"b2_{j}"].data, 4)
        assert row[6]["value"] == number(values[f"z3_{j}"].data, 4)
        # the row is the matrix product: z_j = Σ_k W_jk a_k + b_j
        assert sum(values[f"w2_{j}{k}"].data * values[f"a2_{k}"].data for k in range(1, 5)) \
            + values[f"b2_{j}"].data == pytest.approx(values[f"z3_{j}"].data, rel=1e-12)
    assert data["steps"][0]["line"].startswith("z^2 = W^1 x + b^1")
    assert data["steps"][1]["line"] == "a^2 = tanh(z^2), neuron by neuron"


def test_group_needs_the_forward_direction_and_a_known_direction():
    a = neuron()
    with pytest.raises(ValueError, match="group"):
        step_through(a, group="layer")
    with pytest.raises(ValueError, match="direction"):
        step_through(a, direction="sideways")


def test_the_backward_player_is_unchanged_by_default():
    a = neuron()
    data = step_through(a).data
    assert "direction" not in data and "valueOf" not in data
    assert all("rows" not in step for step in data["steps"])


def test_around_gives_what_comes_before_the_paths_and_no_backward_labels():
    net, cost = network_cost()
    player = step_through(cost, direction="forward", quiz=True, around="w2_22")
    first = player.data["steps"][0]
    assert first["label"] == "z3_2"
    given = first["arrived"]
    a = net.a(2, 2)  # (a_2)^2 feeds (z_2)^3: computed before the paths, so given
    node_of_a = next(node for node, label in _labels(player.svg).items() if label == "a2_2")
    assert given[node_of_a] == number(a.data, 4)
    # the path's edges carry no local derivative: 1 − tanh²((z_2)^3) = 0.8131 would
    # give the asked (a_2)^3 = tanh((z_2)^3) away
    for edge in re.findall(r'<g class="edge[^>]*>.*?</g>', player.svg, flags=re.S):
        assert "<text" not in edge
    local = 1 - math.tanh(net.z(3, 2).data) ** 2
    assert number(local, 4) not in player.svg


def _labels(svg):
    """{data-node: data-label} of the drawn nodes."""
    return dict(re.findall(r'data-node="([^"]*)" data-label="([^"]*)"', svg))
