"""engine.files: every file chainrule writes is written whole or not at all.

write_atomic encodes first, writes a temporary file, fsyncs it and renames
it over the target; read_regular_file reads only regular files of bounded
size. (FIFOs made in tmp_path stand in for devices where a test writes;
/dev/zero is only ever read, in a child process with a memory limit.)
"""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from engine.files import check_writable, read_regular_file, write_atomic

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(os, "O_NONBLOCK"),
                                reason="needs POSIX FIFOs")


def run_python(code, timeout=60):
    """Run code in a fresh interpreter (for resource limits); returns the process."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=os.getcwd())


def test_write_atomic_writes_text_as_utf8_and_bytes_as_they_are(tmp_path):
    write_atomic(tmp_path / "a.txt", "∂C/∂w")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_bytes() == "∂C/∂w".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.bin"]


def test_text_utf8_cannot_carry_is_refused_before_the_file_is_touched(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("the old page")
    with pytest.raises(ValueError, match=r"character 3 .*'\\ud800'.*UTF-8.*Nothing was written"):
        write_atomic(path, "abc\ud800", what="the page")
    assert path.read_text() == "the old page"
    assert os.listdir(tmp_path) == ["page.html"]


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="needs resource limits (POSIX)")
def test_a_file_size_limit_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("the old model")
    finished = run_python(f"""
        import resource
        from engine.files import write_atomic
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
        try:
            write_atomic({str(path)!r}, "x" * 100_000)
        except OSError as error:
            print("refused", error.errno)
    """)
    assert finished.stdout.startswith("refused"), finished.stderr
    assert path.read_text() == "the old model"
    assert os.listdir(tmp_path) == ["model.json"]  # the temporary file is gone


@pytest.mark.parametrize("length", [242, 248, 250, 254, 255])
def test_any_valid_file_name_works_even_the_longest(tmp_path, length):
    path = tmp_path / ("m" * (length - 5) + ".json")
    assert len(path.name) == length
    write_atomic(path, "first")
    write_atomic(path, "second")  # over an existing file too
    assert path.read_text() == "second"
    assert os.listdir(tmp_path) == [path.name]


def test_a_long_name_of_many_byte_characters_is_cut_at_a_character(tmp_path):
    path = tmp_path / ("δ" * 125 + ".json")  # 250 + 5 = 255 bytes
    assert len(os.fsencode(path.name)) == 255
    write_atomic(path, "∂")
    assert path.read_text() == "∂"


@posix_only
def test_write_atomic_refuses_a_fifo_and_leaves_it(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"not a regular file \(a FIFO\), so the page"):
        write_atomic(fifo, "x", what="the page")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX permissions")
def test_write_atomic_keeps_the_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_atomic(path, "new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640 and path.read_text() == "new"


def test_read_regular_file_reads_a_file(tmp_path):
    (tmp_path / "m.json").write_bytes(b"{}")
    assert read_regular_file(tmp_path / "m.json", max_bytes=2) == b"{}"


def test_read_regular_file_refuses_a_file_over_the_cap_before_reading_it(tmp_path):
    (tmp_path / "m.json").write_bytes(b"x" * 1001)
    with pytest.raises(OSError, match=r"1,001 bytes or more, larger than a model file can "
                                      r"be \(1,000 bytes at most\)"):
        read_regular_file(tmp_path / "m.json", max_bytes=1000, what="a model file")


def test_read_regular_file_refuses_a_directory(tmp_path):
    with pytest.raises(OSError, match=r"not a regular file \(a directory\)"):
        read_regular_file(tmp_path, max_bytes=1000)


@posix_only
def test_read_regular_file_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    finished = run_python(f"""
        from engine.files import read_regular_file
        try:
            read_regular_file({str(fifo)!r}, max_bytes=1000)
        except OSError as error:
            print(error)
    """, timeout=30)
    assert "not a regular file (a FIFO)" in finished.stdout, finished.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "geteuid"),
                    reason="needs /dev/zero and resource limits")
def test_nn_load_refuses_dev_zero_instead_of_reading_it_for_ever():
    # in a child with 2 GB of address space and a timeout, so a failure cannot hurt
    finished = run_python("""
        import resource
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, hard))
        import nn
        try:
            nn.load("/dev/zero")
        except OSError as error:
            print(error)
    """, timeout=60)
    assert "not a regular file (a character device)" in finished.stdout, finished.stderr


def test_nn_load_caps_the_size_read_before_parsing(tmp_path, monkeypatch):
    import nn
    import nn.module

    path = tmp_path / "model.json"
    nn.MLP(4, [4, 4, 1], seed=0).save(path)
    assert nn.load(path).num_parameters() == 45
    monkeypatch.setattr(nn.module, "MAX_FILE_BYTES", os.path.getsize(path) - 1)
    with pytest.raises(OSError, match="larger than a model file can be"):
        nn.load(path)


@pytest.mark.parametrize("name, message", [
    ("newdir/", "ends in a separator, so it names a folder"),
    ("folder", "is not a regular file (a directory)"),
    ("blocker/model.json", "blocker is a file, not a folder"),
    ("m" * 256, "more than 255"),
])
def test_check_writable_refuses_what_cannot_be_written(tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "blocker").write_text("a file")
    with pytest.raises(OSError) as error:
        check_writable(name)
    assert message in error.value.strerror


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_check_writable_refuses_dev_null():
    with pytest.raises(OSError, match=r"not a regular file \(a character device\)"):
        check_writable("/dev/null")


def test_check_writable_accepts_new_folders_and_existing_files(tmp_path):
    (tmp_path / "model.json").write_text("old")
    check_writable(tmp_path / "model.json")
    check_writable(tmp_path / "a" / "b" / "model.json")
    check_writable(tmp_path / ("m" * 255))
