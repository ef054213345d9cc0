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


def test_explain_takes_the_articles_spelling_of_a_name(in_tmp, capsys):
    assert main(["explain", "w2_22"]) == 0
    as_labelled = capsys.readouterr().out
    assert main(["explain", "(w_22)^2"]) == 0
    assert capsys.readouterr().out == as_labelled
    assert main(["explain", "(b_1)^3"]) == 0
    assert "dC/d(b_1)^3 by the chain rule" in capsys.readouterr().out


@pytest.mark.parametrize("name, nearest", [("w2_2", "w2_21, w2_22, w2_23, w2_24"),
                                           ("w4_11", "w3_11, w2_11, w1_11"),
                                           ("b3_2", "b3_1, b2_2, b1_2")])
def test_an_unknown_name_suggests_the_nearest_labels(in_tmp, capsys, name, nearest):
    assert main(["explain", name]) == 2
    assert f"'{name}' in the graph; did you mean {nearest}" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["w9_99", "w4_11", "b3_2", "z9_1", "x_7", "w2_2"])
def test_explain_an_unknown_parameter_exits_2_with_one_line(in_tmp, capsys, name):
    assert main(["explain", name]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert f"no node labelled '{name}'" in lines[0] and "w2_22" in lines[0]
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


@pytest.mark.parametrize("command, out, reason", [
    ("train", "blocker/model.json", "blocker is a file, not a folder"),
    ("train", "blocker/deeper/model.json", "blocker is a file, not a folder"),
    ("train", "folder", "it is a folder; name a file in it"),
    ("demo", "blocker", "it is a file, not a folder"),
    ("demo", "blocker/out", "blocker is a file, not a folder"),
])
def test_an_unwritable_out_fails_at_once_naming_it(in_tmp, capsys, command, out, reason):
    (in_tmp / "blocker").write_text("a file, not a directory")
    (in_tmp / "folder").mkdir()
    assert main([command, "--out", out]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran: no network, no training line
    assert captured.err.startswith(
        f"chainrule {command}: error: cannot write to --out {out}: {reason}")
    assert len(captured.err.strip().splitlines()) == 1 and ".tmp" not in captured.err
    assert (in_tmp / "blocker").read_text() == "a file, not a directory"
    assert list((in_tmp / "folder").iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write in any folder")
def test_out_in_a_read_only_folder_fails_at_once(in_tmp, capsys):
    (in_tmp / "locked").mkdir(mode=0o500)
    assert main(["train", "--out", "locked/model.json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no permission to write in locked" in captured.err


def test_out_in_folders_that_do_not_exist_yet_is_made(in_tmp):
    assert main(["train", "--epochs", "1", "--quiet", "--out", "a/b/model.json"]) == 0
    assert load(in_tmp / "a" / "b" / "model.json").num_parameters() == 45


def test_bare_chainrule_prints_the_help_and_exits_0(in_tmp, capsys):
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: chainrule")
    assert all(command in captured.out for command in ("demo", "explain", "train"))
    assert captured.err == ""


def run_chainrule(args, cwd, **options):
    """python -m chainrule in a fresh interpreter, with this project importable."""
    import chainrule
    project = os.path.dirname(os.path.dirname(os.path.abspath(chainrule.__file__)))
    env = dict(os.environ, PYTHONPATH=project + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "chainrule", *args], cwd=cwd, env=env,
                            stderr=subprocess.PIPE, text=True, **options)


def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(tmp_path):
    # as `chainrule explain b3_1 | head -5` once head has its lines: here the
    # reader closes its end before the command has written anything
    process = run_chainrule(["explain", "b3_1"], tmp_path, stdout=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert err == ""
    assert process.returncode == 1


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def test_python_dash_m_chainrule_runs_the_command(tmp_path):
    process = run_chainrule(["explain", "w9_99"], tmp_path, stdout=subprocess.DEVNULL)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "no node labelled 'w9_99'" in err


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


def test_explain_says_which_sample_label_and_cost_it_explains(in_tmp, capsys):
    from nn.example import WorkedExample

    assert main(["explain", "w2_22", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    example = WorkedExample(seed=3)
    assert f"The worked example: {example.describe()}." in out
    assert f"y = {example.y}" in out and "C = ln(1 + exp(s)) − y·s" in out
    assert "1 path from C to (w_22)^2" in out   # cross-entropy keeps the article's one path
