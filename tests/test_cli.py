"""The chainrule command: demo, explain, train, and its errors (exit status 2)."""

import json
import os
import re
import subprocess
import sys

import pytest

from chainrule.cli import Setup, main
from nn.layers import load
from nn.train import accuracy, fit


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def three_values(text):
    """The autograd, matrix-form and finite-difference numbers the CLI prints."""
    numbers = {}
    for method in ("autograd", "matrix form", "finite differences"):
        match = re.search(rf"^  {method}.*?([+-]\d+\.\d+)", text, re.MULTILINE)
        assert match, f"no {method} line in:\n{text}"
        numbers[method] = float(match.group(1))
    return numbers


@pytest.mark.slow
def test_demo_runs_the_article_end_to_end(in_tmp, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    # the forward pass in the article's notation
    assert "(z_2)^3 = " in out and "(a_2)^3 = " in out and "s = (a_1)^4" in out
    # the chain rule for the worked example: one path, agreeing with autograd
    assert "dC/d(w_22)^2 by the chain rule: 1 path" in out and "agree" in out
    values = three_values(out)
    assert values["matrix form"] == pytest.approx(values["autograd"], rel=1e-12)
    assert values["finite differences"] == pytest.approx(values["autograd"], rel=1e-6)
    accuracies = re.search(r"train accuracy (\d\.\d+).*test accuracy (\d\.\d+)", out)
    assert float(accuracies.group(1)) >= 0.9 and float(accuracies.group(2)) >= 0.9
    model = json.loads((in_tmp / "out" / "model.json").read_text())
    assert model["architecture"]["nouts"] == [4, 4, 1]
    assert len(model["parameters"]) == 45


@pytest.mark.slow
def test_demo_draws_the_graph_and_the_network_or_says_why_not(in_tmp, capsys):
    assert main(["demo", "--quiet"]) == 0
    out = capsys.readouterr().out
    for name in ("graph.svg", "network.svg"):
        path = in_tmp / "out" / name
        if path.exists():
            assert path.read_text().lstrip().startswith(("<?xml", "<svg"))
            assert f"to out/{name}" in out
        else:
            assert f"skipped out/{name}" in out


def test_demo_without_viz_still_trains_and_saves(in_tmp, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "viz", None)  # import viz now raises ImportError
    assert main(["demo", "--quiet", "--epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "viz is not importable" in out
    assert (in_tmp / "out" / "model.json").exists()
    assert not (in_tmp / "out" / "graph.svg").exists()


def test_demo_progress_bar_shows_the_cost(in_tmp, capsys):
    assert main(["demo", "--epochs", "20"]) == 0
    err = capsys.readouterr().err
    assert "epoch 20/20" in err and "C = " in err


def test_the_progress_bars_last_line_agrees_with_the_summary(in_tmp, capsys):
    assert main(["train", "--epochs", "5"]) == 0
    captured = capsys.readouterr()
    bar = captured.err.strip().splitlines()[-1]
    cost, bar_accuracy = re.search(r"epoch 5/5 .*C = (\S+)  accuracy = (\S+)$", bar).groups()
    summary_cost = re.search(r"C: \S+ -> (\S+) after 5 epochs", captured.out).group(1)
    summary_accuracy = re.search(r"train accuracy (\S+)", captured.out).group(1)
    assert float(cost) == pytest.approx(float(summary_cost), abs=1e-4)
    assert bar_accuracy == summary_accuracy


@pytest.mark.parametrize("name, article", [("w2_22", "(w_22)^2"), ("b3_1", "(b_1)^3"),
                                           ("w1_43", "(w_43)^1")])
def test_explain_any_parameter_agrees_three_ways(in_tmp, capsys, name, article):
    assert main(["explain", name]) == 0
    out = capsys.readouterr().out
    assert f"dC/d{article} by the chain rule" in out
    values = three_values(out)
    assert values["matrix form"] == pytest.approx(values["autograd"], rel=1e-12, abs=1e-15)
    assert values["finite differences"] == pytest.approx(values["autograd"], rel=1e-5,
                                                         abs=1e-9)


@pytest.mark.parametrize("name", ["w9_99", "w4_11", "b3_2", "x_1", "w2_2"])
def test_explain_an_unknown_parameter_exits_2_with_one_line(in_tmp, capsys, name):
    assert main(["explain", name]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert f"unknown parameter '{name}'" in lines[0] and "w2_22" in lines[0]
    assert "b3_1" in lines[0]
    assert captured.out == ""


def test_train_saves_the_same_model_as_fit_with_the_same_settings(in_tmp, capsys):
    assert main(["train", "--epochs", "5", "--lr", "0.1", "--seed", "1", "--quiet",
                 "--out", "m/model.json"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    saved = load(in_tmp / "m" / "model.json")
    setup = Setup(1)
    fit(setup.net, setup.X_train, setup.y_train, lr=0.1, epochs=5, progress=False)
    assert saved.state_dict() == setup.net.state_dict()


def test_train_writes_to_out_model_json_by_default(in_tmp):
    assert main(["train", "--epochs", "2", "--quiet"]) == 0
    assert (in_tmp / "out" / "model.json").exists()


@pytest.mark.parametrize("argv", [
    [],                                   # no command
    ["fly"],                              # unknown command
    ["train", "--epochs", "0"],
    ["train", "--epochs", "ten"],
    ["train", "--lr", "-0.5"],
    ["train", "--lr", "nan"],
    ["demo", "--seed", "-1"],
    ["explain"],                          # no name
    ["train", "--bogus"],
])
def test_bad_options_exit_2_with_an_error_on_stderr(in_tmp, capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert not (in_tmp / "out").exists()


def test_an_unwritable_output_path_exits_1_with_one_line(in_tmp, capsys):
    (in_tmp / "blocker").write_text("a file, not a directory")
    assert main(["train", "--epochs", "1", "--quiet", "--out", "blocker/model.json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule train: error:")
    assert (in_tmp / "blocker").read_text() == "a file, not a directory"


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_python_dash_m_chainrule_runs_the_command(tmp_path):
    import chainrule
    project = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))
    env = dict(os.environ, PYTHONPATH=project + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "chainrule", "explain", "w9_99"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown parameter 'w9_99'" in done.stderr


def test_train_summary_reports_the_trained_network(in_tmp, capsys):
    assert main(["train", "--epochs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    before, after = map(float, re.search(r"C: (\d\.\d+) -> (\d\.\d+) after 1 epoch\b",
                                         out).groups())
    assert after < before  # one epoch is one update, and the summary shows it
    setup = Setup(0)
    history = fit(setup.net, setup.X_train, setup.y_train, epochs=1, progress=False)
    assert after == round(history.cost[-1], 4)
    train_accuracy = float(re.search(r"train accuracy (\d\.\d+)", out).group(1))
    assert train_accuracy == round(accuracy(setup.net, setup.X_train, setup.y_train), 3)
