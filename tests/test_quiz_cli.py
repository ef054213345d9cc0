"""chainrule quiz: the worked example's factors asked one by one, fed through stdin."""

import io
import subprocess
import sys

import pytest

import engine
import nn
from chainrule.cli import Setup, main


@pytest.fixture(scope="module")
def example():
    """The demo's path to (w_22)^2, its local derivatives and gradients, from explain and grad."""
    setup = Setup(0)
    cost = setup.cost()
    explanation = nn.explain(cost, setup.net.weight(2, 2, 2))
    path = explanation.paths[0]
    locals_ = [f.value for f in path.factors]
    gradients = dict(zip(path[1:], engine.grad(cost, list(path[1:]))))
    return path, locals_, gradients


def right_answers(example):
    """What the quiz asks, in order: each local derivative, then the gradient (not next to C)."""
    path, locals_, gradients = example
    answers = [locals_[0]]  # dC/ds: its gradient is the same number, so it is not asked again
    for node, local in zip(path[2:], locals_[1:]):
        answers += [local, gradients[node]]
    return answers


def run(monkeypatch, capsys, lines, argv=("quiz",)):
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_right_answers_are_all_right_and_the_example_is_stated(monkeypatch, capsys, example):
    answers = right_answers(example)
    assert len(answers) == 7
    status, out = run(monkeypatch, capsys, [f"{v:.4g}" for v in answers])
    assert status == 0
    assert "The demo's worked example" in out and "versicolor (y = 0)" in out
    assert "C = softplus(s) − y·s" in out
    assert "dC/d(w_22)^2 = dC/ds · ds/d(a_2)^3 · d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2" in out
    assert "d(a_2)^3/d(z_2)^3 = ?   where (a_2)^3 = tanh((z_2)^3)" in out
    assert out.count("Correct") == 7 and "7 of 7 right (7 at the first try)" in out


def test_the_local_derivatives_are_asked_before_the_gradients(monkeypatch, capsys, example):
    status, out = run(monkeypatch, capsys, [f"{v:.4g}" for v in right_answers(example)])
    asked = [line.split(": ", 1)[1] for line in out.splitlines()
             if line.startswith("question ")]
    assert asked == ["the local derivative dC/ds", "the local derivative ds/d(a_2)^3",
                     "the gradient dC/d(a_2)^3, upstream × local",
                     "the local derivative d(a_2)^3/d(z_2)^3",
                     "the gradient dC/d(z_2)^3, upstream × local",
                     "the local derivative d(z_2)^3/d(w_22)^2",
                     "the gradient dC/d(w_22)^2, upstream × local"]


def shown_before(out, marker):
    return out[:out.index(marker)]


def test_a_named_mistake_is_diagnosed_and_nothing_is_given_away(monkeypatch, capsys, example):
    path, locals_, _ = example
    answers = right_answers(example)
    tanh_z = path[2].data  # (a_2)^3 = tanh((z_2)^3) itself, typed for its derivative
    lines = [f"{v:.4g}" for v in answers[:3]] + [f"{tanh_z:.4g}"] + \
        [f"{v:.4g}" for v in answers[3:]]
    status, out = run(monkeypatch, capsys, lines)
    assert status == 0
    assert "That is tanh((z_2)^3) itself, not d(a_2)^3/d(z_2)^3." in out
    assert "6 of 7 right (6 at the first try)" not in out and "7 of 7 right (6 at" in out
    expected = locals_[2]
    before = shown_before(out, "Correct: d(a_2)^3/d(z_2)^3")
    for digits in (3, 4):
        assert f"{expected:.{digits}g}" not in before


def test_the_hints_grow_and_the_answer_comes_after_three_tries(monkeypatch, capsys, example):
    _, locals_, _ = example
    answers = right_answers(example)
    lines = [f"{answers[0]:.4g}", f"{answers[1]:.4g}", f"{answers[2]:.4g}", "7", "8", "9"] + \
        [f"{v:.4g}" for v in answers[4:]]
    status, out = run(monkeypatch, capsys, lines)
    assert status == 0
    question = out[out.index("question 4 of 7"):out.index("question 5 of 7")]
    tries = [line for line in question.splitlines() if "Not d(a_2)^3/d(z_2)^3 yet" in line]
    assert len(tries) == 3
    assert "Differentiate (a_2)^3 = tanh((z_2)^3)" in tries[0] and "1 − tanh²" not in tries[0]
    assert "1 − tanh²((z_2)^3)" in tries[1] and "tanh²(0.4628)" not in tries[1]
    assert "1 − tanh²(0.4628)" in tries[2]
    expected = f"{locals_[2]:.4g}"
    assert expected not in question.split("The answer:")[0]
    assert f"The answer: d(a_2)^3/d(z_2)^3 = 1 − tanh²((z_2)^3) = 1 − tanh²(0.4628) = " \
        f"{expected}" in question
    assert "6 of 7 right (6 at the first try)" in out


def test_a_non_number_is_asked_again_with_a_hint_that_is_no_answer(monkeypatch, capsys,
                                                                   example):
    lines = ["half", "", "0,4546", "1/0"] + [f"{v:.4g}" for v in right_answers(example)]
    status, out = run(monkeypatch, capsys, lines)
    assert status == 0
    assert "'half' is not a number" in out and "'' is not a number" in out
    assert "'0,4546' is not a number: use a point as the decimal separator" in out
    hints = [line.split(": ", 1)[1] for line in out.splitlines() if "is not a number" in line]
    assert len(hints) == 4 and not any(character.isdigit() for hint in hints for character in hint)
    assert "7 of 7 right" in out


def test_fractions_and_a_unicode_minus_are_read(monkeypatch, capsys, example):
    answers = right_answers(example)
    lines = [f"{v:.4g}".replace("-", "−") for v in answers]
    lines[0] = f"{round(answers[0] * 10000)}/10000"
    status, out = run(monkeypatch, capsys, lines)
    assert "7 of 7 right" in out


def test_end_of_input_stops_cleanly(monkeypatch, capsys, example):
    status, out = run(monkeypatch, capsys, [f"{example[1][0]:.4g}"])
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


def test_a_gradient_with_edges_off_the_path_is_given_what_they_send(monkeypatch, capsys):
    status, out = run(monkeypatch, capsys, ["0.1"] * 40, argv=("quiz", "w1_23"))
    assert status == 0
    question = out[out.index("the gradient dC/d(a_2)^2"):]
    assert "where the other edges into it send dC/d(z_4)^3 · d(z_4)^3/d(a_2)^2 = " in question


def test_attempts_can_be_chosen(monkeypatch, capsys):
    status, out = run(monkeypatch, capsys, ["7"] * 7, argv=("quiz", "--attempts", "1"))
    assert status == 0 and out.count("The answer:") == 7 and "0 of 7 right" in out
