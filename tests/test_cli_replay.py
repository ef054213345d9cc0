"""chainrule demo writes out/training.html: the replay of the run it trained."""

import json
import re

import pytest

from chainrule.cli import main


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_demo_writes_the_replay_of_its_training_run(in_tmp, capsys):
    assert main(["demo", "--quiet", "--epochs", "12"]) == 0
    out = capsys.readouterr().out
    page = in_tmp / "out" / "training.html"
    assert "to out/training.html" in out
    state = json.loads(re.search(r'id="cr-state">(.*?)</script>', page.read_text(), re.S)
                       .group(1))
    data = state["data"]
    assert data["epochs"] == list(range(13))
    model = json.loads((in_tmp / "out" / "model.json").read_text())
    # the replay's last epoch is the model the demo saved
    last = {p["label"]: p["values"][-1] for p in data["params"]}
    assert last == model["parameters"]
    assert data["boundary"]["xName"] == "petal_length_cm"
