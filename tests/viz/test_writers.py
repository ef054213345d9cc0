"""Every writer of viz goes through engine.files.write_atomic: whole files or none.

StepThrough.save and Drawing.render over an existing file keep it as it was
when the text cannot be encoded or the write fails, and take any valid name.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from engine import Value
from viz import draw_dot, step_through


def small_cost(label="x"):
    x = Value(0.5, label=label)
    w = Value(-1.5, label="w")
    return (x * w).tanh()


def test_step_through_save_with_a_lone_surrogate_keeps_the_old_page(tmp_path):
    path = tmp_path / "backprop.html"
    path.write_text("the old page")
    page = step_through(small_cost("x\ud800"))
    with pytest.raises(ValueError, match=r"cannot write the page to .*'\\ud800'"):
        page.save(path)
    assert path.read_text() == "the old page"  # not emptied
    assert os.listdir(tmp_path) == ["backprop.html"]


@pytest.mark.parametrize("length", [242, 255])
def test_pages_and_drawings_take_the_longest_file_names(tmp_path, length):
    page = tmp_path / ("p" * (length - 5) + ".html")
    picture = tmp_path / ("d" * (length - 4) + ".svg")
    step_through(small_cost()).save(page)
    draw_dot(small_cost()).render(picture)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert picture.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    assert sorted(os.listdir(tmp_path)) == sorted([page.name, picture.name])


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="needs resource limits (POSIX)")
@pytest.mark.parametrize("writer", ["page", "drawing"])
def test_a_write_cut_short_by_a_size_limit_leaves_the_old_file(tmp_path, writer):
    # RLIMIT_FSIZE stands in for a full disk: the write fails part way through
    path = tmp_path / ("out.html" if writer == "page" else "out.svg")
    path.write_text("the old file")
    make = ("viz.step_through(cost).save(path)" if writer == "page"
            else "viz.draw_dot(cost).render(path)")
    code = textwrap.dedent(f"""
        import resource
        import viz
        from engine import Value
        cost = (Value(0.5, label="x") * Value(-1.5, label="w")).tanh()
        path = {str(path)!r}
        if {writer!r} == "drawing":
            viz.draw_dot(cost).svg()  # load the renderer before the limit
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, hard))
        try:
            {make}
        except OSError as error:
            print("refused", error.errno)
    """)
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120, cwd=os.getcwd())
    assert finished.stdout.startswith("refused"), finished.stderr
    assert path.read_text() == "the old file"
    assert os.listdir(tmp_path) == [path.name]
