"""save never replaces what is not a regular file, writes through symlinks, keeps permissions.

(Only FIFOs and directories made in tmp_path stand in for devices: a test
must never risk a real device.)
"""

import json
import os
import stat

import pytest

from chainrule.cli import main
from nn import MLP

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")


@pytest.fixture
def net():
    return MLP(4, [4, 4, 1], seed=0)


def saved_parameters(path):
    return json.loads(open(path, encoding="utf-8").read())["parameters"]


@posix_only
def test_save_refuses_a_fifo_and_leaves_it_a_fifo(tmp_path, net):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"not a regular file \(a FIFO\)"):
        net.save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]  # no temporary file left behind


@posix_only
def test_save_refuses_a_symlink_to_a_fifo_and_keeps_both(tmp_path, net):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "model.json"
    link.symlink_to(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        net.save(link)
    assert os.readlink(link) == str(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_save_refuses_a_directory(tmp_path, net):
    directory = tmp_path / "model.json"
    directory.mkdir()
    with pytest.raises(OSError, match=r"a directory"):
        net.save(directory)
    assert directory.is_dir() and list(directory.iterdir()) == []


def test_save_through_a_symlink_writes_its_target_and_keeps_the_link(tmp_path, net):
    elsewhere = tmp_path / "models"
    elsewhere.mkdir()
    target = elsewhere / "real.json"
    target.write_text("old")
    link = tmp_path / "model.json"
    link.symlink_to(os.path.join("models", "real.json"))  # relative, as links often are
    net.save(link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("models", "real.json")
    assert saved_parameters(target) == net.state_dict()
    assert sorted(os.listdir(elsewhere)) == ["real.json"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path, net):
    link = tmp_path / "model.json"
    link.symlink_to(tmp_path / "new.json")
    net.save(link)
    assert link.is_symlink()
    assert saved_parameters(tmp_path / "new.json") == net.state_dict()


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX permissions")
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_save_keeps_an_existing_files_permissions(tmp_path, net, mode):
    path = tmp_path / "model.json"
    path.write_text("old")
    os.chmod(path, mode)
    net.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert saved_parameters(path) == net.state_dict()


@posix_only
def test_train_out_a_fifo_exits_1_and_leaves_it(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status = main(["train", "--epochs", "1", "--quiet", "--out", str(fifo)])
    assert status == 1
    assert "not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
