"""chainrule quiz: the worked example's factors asked one by one, fed through stdin."""

import io
import subprocess
import sys

import pytest

import nn
from chainrule.cli import Setup, main


@pytest.fixture(scope="module")
def factors():
    """The demo's four factors for dC/d(w_22)^2 and their product, from explain."""
    setup = Setup(0)
    explanation = nn.explain(setup.cost(), setup.net.weight(2, 2, 2))
    return [f.value for f in explanation.paths[0].factors], explanation.autograd


def run(monkeypatch, capsys, lines, argv=("quiz",)):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_right_answers_are_all_right_and_the_example_is_stated(monkeypatch, capsys, factors):
    values, product = factors
    status, out = run(monkeypatch, capsys, [f"{v:.4g}" for v in values + [product]])
    assert status == 0
    assert "The demo's worked example" in out and "versicolor (y = 0)" in out
    assert "C = softplus(s) − y·s" in out
    assert "dC/d(w_22)^2 = dC/ds · ds/d(a_2)^3 · d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2" in out
    assert out.count("Correct") == 5 and "5 of 5 right" in out


def test_each_wrong_answer_gets_its_diagnosis(monkeypatch, capsys, factors):
    values, product = factors
    answers = [values[0], values[1], -values[2], values[3], values[3]]
    status, out = run(monkeypatch, capsys, [f"{v:.4g}" for v in answers])
    assert status == 0
    assert "factor 3, d(a_2)^3/d(z_2)^3: right magnitude, wrong sign" in out
    assert "forgot the upstream gradient dC/d(z_2)^3" in out  # the product: factor 4 alone
    assert "3 of 5 right" in out


def test_a_non_number_is_asked_again(monkeypatch, capsys, factors):
    values, product = factors
    lines = ["half", ""] + [f"{v:.4g}" for v in values + [product]]
    status, out = run(monkeypatch, capsys, lines)
    assert status == 0
    assert "'half' is not a number" in out and "'' is not a number" in out
    assert "5 of 5 right" in out


def test_end_of_input_stops_cleanly(monkeypatch, capsys, factors):
    status, out = run(monkeypatch, capsys, [f"{factors[0][0]:.4g}"])
    assert status == 0 and "end of input" in out


class CtrlC(io.StringIO):
    def readline(self, *args):
        raise KeyboardInterrupt


def test_ctrl_c_stops_cleanly(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", CtrlC())
    assert main(["quiz", "b3_1"]) == 130
    assert "interrupted" in capsys.readouterr().out


def test_an_unknown_name_exits_2(monkeypatch, capsys):
    status = main(["quiz", "w9_99"])
    assert status == 2 and "no node labelled 'w9_99'" in capsys.readouterr().err


def test_through_a_pipe_it_ends_without_a_traceback(tmp_path):
    finished = subprocess.run([sys.executable, "-m", "chainrule", "quiz"], input="0.45\nx\n",
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr and finished.stderr == ""
    assert "'x' is not a number" in finished.stdout and "end of input" in finished.stdout


def test_demo_writes_the_page_and_says_how_to_open_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--quiet", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    page = tmp_path / "out" / "backprop.html"
    if not page.exists():  # no Graphviz here: the demo says so and goes on
        assert "skipped out/backprop.html" in out
        return
    assert "open it in a browser: file://" in out and str(page) in out
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'data-label="w2_22"' in text
    assert "the paths to (w_22)^2" in text and '"quiz":true' in text
