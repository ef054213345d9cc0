"""--out is checked before any work: a folder name, a device or a FIFO is refused at once."""

import os

import pytest

from chainrule.cli import main


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("out, reason", [
    ("newdir/", "newdir/ ends in a separator, so it names a folder, not a file"),
    ("newdir/deeper/", "ends in a separator"),
    ("m" * 256 + ".json", "more than 255"),
])
def test_train_refuses_an_out_that_names_no_file_before_training(in_tmp, capsys, out, reason):
    assert main(["train", "--out", out]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no training line: nothing ran
    assert captured.err.startswith(f"chainrule train: error: cannot write to --out {out}: ")
    assert reason in captured.err
    assert os.listdir(in_tmp) == []


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_train_refuses_dev_null_before_training(in_tmp, capsys):
    assert main(["train", "--out", os.devnull]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "/dev/null is not a regular file (a character device)" in captured.err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_demo_refuses_a_fifo_where_it_would_write_before_any_work(in_tmp, capsys):
    (in_tmp / "out").mkdir()
    os.mkfifo(in_tmp / "out" / "graph.svg")
    assert main(["demo", "--out", "out"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "graph.svg is not a regular file (a FIFO)" in captured.err
