"""Rendering: the system `dot` when it is on PATH, else pygraphviz in-process."""

import os
import shutil
import stat
import struct
import sys
import textwrap

import graphviz
import pytest
from conftest import svg_node_groups

from engine import Value
from viz import RendererNotFound, RenderError, choose_renderer, draw_dot
from viz.render import _stderr_filtered, render

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _expression():
    """a·b + a: 4 Values and 2 ops, so 6 node groups in the SVG."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = a * b + a
    out.backward()
    return out


def _png_size(png):
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
    return width, height


def _fake_dot(directory, record, exit_status=0):
    """A `dot` program for PATH that records its arguments and renders with pygraphviz."""
    directory.mkdir(exist_ok=True)
    script = directory / "dot"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        arguments = sys.argv[1:]
        with open({str(record)!r}, "a") as log:
            log.write(" ".join(arguments) + "\\n")
        if {exit_status}:
            sys.stderr.write("Fontconfig warning: noise\\nError: syntax error in line 1\\n")
            sys.exit({exit_status})
        import pygraphviz
        graph = pygraphviz.AGraph(string=sys.stdin.read())
        for argument in arguments:
            if argument.startswith("-G"):
                name, value = argument[2:].split("=", 1)
                graph.graph_attr[name] = value
        format = [a[2:] for a in arguments if a.startswith("-T")][0]
        engine = ([a[2:] for a in arguments if a.startswith("-K")] or ["dot"])[0]
        sys.stdout.buffer.write(graph.draw(format=format, prog=engine))
        """))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
def fake_dot_on_path(tmp_path, monkeypatch):
    """PATH holds only a fake `dot`; returns the file where it logs its calls."""
    record = tmp_path / "dot-calls.txt"
    _fake_dot(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("CHAINRULE_RENDERER", raising=False)
    return record


def _calls(record):
    return record.read_text().splitlines() if record.exists() else []


# -- choosing ---------------------------------------------------------------------

def test_dot_on_path_is_preferred(fake_dot_on_path):
    assert choose_renderer() == "dot"


def test_without_dot_on_path_pygraphviz_is_used(no_dot_on_path):
    assert choose_renderer() == "pygraphviz"


def test_environment_variable_forces_pygraphviz_over_dot(fake_dot_on_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_RENDERER", "pygraphviz")
    assert choose_renderer() == "pygraphviz"
    svg = draw_dot(_expression()).svg()
    assert len(svg_node_groups(svg)) == 6
    assert _calls(fake_dot_on_path) == []


def test_forcing_dot_without_dot_says_what_to_install(no_dot_on_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_RENDERER", "dot")
    with pytest.raises(RendererNotFound, match="Install Graphviz"):
        draw_dot(_expression()).svg()


def test_no_renderer_at_all_says_exactly_what_to_install(no_dot_on_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)   # import pygraphviz fails
    with pytest.raises(RendererNotFound) as missing:
        draw_dot(_expression()).svg()
    message = str(missing.value)
    assert "pip install 'pygraphviz>=2.0.4'" in message
    assert "apt install graphviz" in message


def test_forcing_pygraphviz_when_it_is_missing_says_pip_install(no_dot_on_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    monkeypatch.setenv("CHAINRULE_RENDERER", "pygraphviz")
    with pytest.raises(RendererNotFound, match="pip install"):
        choose_renderer()


def test_unknown_renderer_name_is_refused(monkeypatch):
    monkeypatch.setenv("CHAINRULE_RENDERER", "cairo")
    with pytest.raises(ValueError, match="dot, pygraphviz"):
        choose_renderer()


def test_graphviz_executable_not_found_never_reaches_a_notebook(no_dot_on_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    drawing = draw_dot(_expression())
    for show in (drawing._repr_svg_, drawing._repr_mimebundle_, drawing.svg):
        with pytest.raises(RendererNotFound) as error:
            show()
        assert not isinstance(error.value, graphviz.ExecutableNotFound)


# -- the dot program ---------------------------------------------------------------

def test_svg_through_the_dot_program(fake_dot_on_path):
    svg = draw_dot(_expression()).svg()
    assert len(svg_node_groups(svg)) == 6
    call = _calls(fake_dot_on_path)[-1]   # draw_dot may lay it out first, to measure it
    assert "-Tsvg" in call.split() and "-Kdot" in call.split()


def test_png_through_the_dot_program_is_capped(fake_dot_on_path, tmp_path):
    path = draw_dot(_expression()).render(tmp_path / "graph.png")
    width, height = _png_size(path.read_bytes())
    assert width > 0 and height > 0
    call = _calls(fake_dot_on_path)[-1]   # draw_dot may lay it out first, to measure it
    assert {"-Tpng", "-Gdpi=96", "-Gsize=40,40"} <= set(call.split())


def test_failing_dot_program_gives_its_message_without_fontconfig_noise(tmp_path, monkeypatch):
    _fake_dot(tmp_path / "bin", tmp_path / "calls.txt", exit_status=1)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("CHAINRULE_RENDERER", raising=False)
    with pytest.raises(RenderError) as failed:
        draw_dot(_expression()).svg()
    assert "syntax error in line 1" in str(failed.value)
    assert "Fontconfig" not in str(failed.value)


@pytest.mark.skipif(shutil.which("dot") is None, reason="no Graphviz `dot` on PATH")
def test_svg_through_the_real_dot_program(monkeypatch):
    monkeypatch.setenv("CHAINRULE_RENDERER", "dot")
    assert len(svg_node_groups(draw_dot(_expression()).svg())) == 6


# -- pygraphviz --------------------------------------------------------------------

def test_svg_through_pygraphviz_has_a_group_per_node(no_dot_on_path):
    groups = svg_node_groups(draw_dot(_expression()).svg())
    assert len(groups) == 6
    classes = sorted(group.get("class") for group in groups)
    assert classes.count("node op add") == 1 and classes.count("node op mul") == 1
    assert "node value output" in classes


def test_png_through_pygraphviz(no_dot_on_path, tmp_path):
    path = draw_dot(_expression()).render(tmp_path / "graph.png")
    assert path == tmp_path / "graph.png"
    width, height = _png_size(path.read_bytes())
    assert 100 < width < 3840 and 20 < height < 3840


def test_png_of_a_large_graph_is_capped(no_dot_on_path):
    x = Value(0.0, label="x")
    for _ in range(300):            # 601 Values in a row: hundreds of inches wide
        x = x + 1.0
    png = draw_dot(x).pipe("png")
    width, height = _png_size(png)
    assert max(width, height) <= 40 * 96


def test_pdf_from_the_suffix(no_dot_on_path, tmp_path):
    path = draw_dot(_expression()).render(str(tmp_path / "graph.pdf"))
    assert path == str(tmp_path / "graph.pdf")
    assert open(path, "rb").read(5) == b"%PDF-"


def test_format_argument_overrides_the_suffix(no_dot_on_path, tmp_path):
    path = draw_dot(_expression()).render(tmp_path / "picture.out", format="svg")
    assert len(svg_node_groups(path.read_text())) == 6


def test_unknown_suffix_is_refused_and_writes_nothing(no_dot_on_path, tmp_path):
    with pytest.raises(ValueError, match="svg, png, pdf"):
        draw_dot(_expression()).render(tmp_path / "graph.gif")
    assert not (tmp_path / "graph.gif").exists()


def test_jupyter_display_is_svg(no_dot_on_path):
    drawing = draw_dot(_expression())
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert len(svg_node_groups(bundle["image/svg+xml"])) == 6
    assert drawing._repr_svg_() == bundle["image/svg+xml"]


def test_render_refuses_unknown_formats():
    with pytest.raises(ValueError, match="use one of svg, png, pdf"):
        render("digraph { a }", "gif")


def test_fontconfig_warnings_on_stderr_are_dropped_and_others_kept(capfd):
    with _stderr_filtered():
        os.write(2, b'Fontconfig warning: "fonts.conf", line 6: unknown element\n')
        os.write(2, b"Warning: something Graphviz wants you to know\n")
    assert capfd.readouterr().err == "Warning: something Graphviz wants you to know\n"
