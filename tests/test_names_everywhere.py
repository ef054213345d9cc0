"""Names work everywhere: chainrule explain of any node, quiz over every path,
and the CLI's modules import one way (setting <- code, quiz <- cli)."""

import ast
import io
import pathlib
import sys

import pytest

import chainrule
import nn
from chainrule.cli import main
from chainrule.quiz import _questions
from chainrule.setting import Setup
from engine import grad, notation, topological_order
from nn.check import gradient_name
from nn.matrix import matrix_backprop, to_matrices


def run(argv, capsys):
    status = main(argv)
    return status, capsys.readouterr().out


@pytest.mark.parametrize("name", ["z3_2", "(z_2)^3", "z2_4", "a3_2", "x_1", "s"])
def test_explain_any_node_gives_its_gradient_three_ways(capsys, name):
    status, out = run(["explain", name], capsys)
    assert status == 0
    setup = Setup(0)
    cost = setup.cost()
    node = notation.find(name, topological_order(cost))
    (autograd,) = grad(cost, [node])
    assert f"autograd (C.backward())            {autograd:+.15f}" in out
    assert "matrix form (local gradients δ)" in out and "(no entry" not in out
    numbers = [float(line.split()[-3]) for line in out.splitlines()
               if "|difference|" in line and line.startswith(("  matrix", "  finite"))]
    assert len(numbers) == 2 and all(abs(n - autograd) < 1e-8 for n in numbers)


def test_explain_a_weighted_input_names_the_local_gradient_delta(capsys):
    status, out = run(["explain", "z3_2"], capsys)
    setup = Setup(0)
    net = setup.net
    Ws, bs = to_matrices(net)
    delta = matrix_backprop(Ws, bs, setup.x, setup.y, cost="binary_cross_entropy").delta
    assert "dC/d(z_2)^3 is (δ_2)^3, the article's local gradient" in out
    assert f"{float(delta[2][1]):+.15f}" in out


def test_quiz_walks_every_path_of_the_sum(capsys, monkeypatch):
    setup = Setup(0)
    cost, w = setup.cost(), setup.net.weight(1, 2, 3)
    explanation = nn.explain(cost, w)
    assert len(explanation.paths) == 4
    edges = {(f.child, f.index) for path in explanation.paths for f in path.factors}
    assert len(edges) == 15  # 6 on the first path, 3 new on each of the other three
    name = explanation.name
    locals_ = {gradient_name(name(child), name(child.parents[index]))
               for child, index in edges}
    # every question answered right, from numbers computed here by the engine
    questions = _questions(cost, explanation, 3)
    typed = "".join(f"{answer.expected:.6g}\n" for _, answer in questions)
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    status, out = run(["quiz", "w1_23"], capsys)
    assert status == 0
    asked = [answer.goal for what, answer in questions if what.startswith("the local")]
    assert sorted(asked) == sorted(locals_)  # each edge of the four paths, once
    goals = [answer.goal for _, answer in questions]
    # dC/d(a_2)^2 sums the four paths: asked after every gradient it adds up
    a = goals.index("dC/d(a_2)^2")
    assert all(goals.index(f"dC/d(z_{j})^3") < a for j in range(1, 5))
    assert goals[-1] == "dC/d(w_23)^1"
    assert questions[-1][1].expected == pytest.approx(grad(cost, [w])[0], rel=1e-12)
    assert out.count("Correct") == len(questions)
    assert f"{len(questions)} of {len(questions)} right" in out


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_cli_modules_import_one_way():
    folder = pathlib.Path(chainrule.__file__).parent
    imports = {path.stem: _imports(path) for path in folder.glob("*.py")}
    assert not any(name.startswith("chainrule") for name in imports["setting"])
    for module in ("code", "quiz"):
        assert "chainrule.cli" not in imports[module], f"{module}.py imports cli.py"
        assert "chainrule.setting" in imports[module]
    assert {"chainrule.code", "chainrule.quiz"} <= imports["cli"]


def test_grad_takes_names_as_every_api_of_the_graph_does():
    setup = Setup(0)
    cost, net = setup.cost(), setup.net
    by_value = grad(cost, [net.weight(2, 2, 2), net.bias(1, 3)])
    assert grad(cost, ["w2_22", "(b_3)^1"]) == by_value
    assert grad(cost, "(w_22)^2") == by_value[:1]
    assert grad(cost, ["z3_2"]) == grad(cost, [net.z(3, 2)])
    with pytest.raises(KeyError, match="did you mean w2_21, w2_22"):
        grad(cost, ["w2_2"])
