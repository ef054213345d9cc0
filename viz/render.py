"""DOT text -> SVG, PNG or PDF, on any machine.

Two renderers, tried in this order:

    dot         Graphviz's own program, when it is on PATH
    pygraphviz  Graphviz compiled into a Python wheel (pip install pygraphviz),
                run in this process: a fresh machine needs nothing but pip

``CHAINRULE_RENDERER=dot`` or ``=pygraphviz`` forces one of them. When neither
can run, RendererNotFound says exactly what to install. Errors of the
``graphviz`` package (ExecutableNotFound and friends) never get out of here.
"""

import os
import shutil
import subprocess
import tempfile

__all__ = ["FORMATS", "RENDERERS", "RenderError", "RendererNotFound",
           "choose_renderer", "render"]

FORMATS = ("svg", "png", "pdf")
RENDERERS = ("dot", "pygraphviz")
ENGINES = ("dot", "neato")
ENVIRONMENT_VARIABLE = "CHAINRULE_RENDERER"

# A PNG is drawn at RASTER_DPI and scaled down to fit RASTER_MAX_INCHES on
# each side, so no graph gives a bitmap wider or taller than 96 × 40 = 3840
# pixels. Vector formats (SVG, PDF) are left at their natural size.
RASTER_DPI = 96
RASTER_MAX_INCHES = 40
RASTER_FORMATS = ("png",)

INSTALL_HINT = (
    "Install one of them: `pip install 'pygraphviz>=2.0.4'` (its wheels bundle "
    "Graphviz, nothing else needed), or Graphviz itself so that `dot` is on PATH "
    "(apt install graphviz, brew install graphviz, conda install graphviz, or "
    "https://graphviz.org/download/).")


class RenderError(RuntimeError):
    """Graphviz could not turn the DOT source into a picture."""


class RendererNotFound(RenderError):
    """Neither the `dot` program nor pygraphviz is available."""


def _pygraphviz_available():
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return False
    return True


def choose_renderer():
    """'dot' or 'pygraphviz': the renderer that render() will use now."""
    forced = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if forced == "dot":
        if shutil.which("dot") is None:
            raise RendererNotFound(
                f"{ENVIRONMENT_VARIABLE}=dot, but there is no `dot` program on PATH. "
                "Install Graphviz (apt install graphviz, brew install graphviz, "
                f"conda install graphviz), or unset {ENVIRONMENT_VARIABLE} to "
                "render with pygraphviz.")
        return "dot"
    if forced == "pygraphviz":
        if not _pygraphviz_available():
            raise RendererNotFound(
                f"{ENVIRONMENT_VARIABLE}=pygraphviz, but pygraphviz cannot be "
                "imported. Install it with `pip install 'pygraphviz>=2.0.4'`, or "
                f"unset {ENVIRONMENT_VARIABLE} to use the `dot` program.")
        return "pygraphviz"
    if forced:
        raise ValueError(f"{ENVIRONMENT_VARIABLE}={forced!r}: use one of "
                         f"{', '.join(RENDERERS)}, or leave it unset")
    if shutil.which("dot") is not None:
        return "dot"
    if _pygraphviz_available():
        return "pygraphviz"
    raise RendererNotFound("Cannot render the graph: there is no `dot` program "
                           "on PATH and pygraphviz is not installed. " + INSTALL_HINT)


def render(source, format="svg", engine="dot"):
    """The picture of DOT ``source`` in ``format`` ('svg', 'png' or 'pdf'), as bytes.

    engine is Graphviz's layout program: 'dot' (layered, for computation
    graphs) or 'neato' (positions given in the source, for draw_network).
    """
    format = format.lower()
    if format not in FORMATS:
        raise ValueError(f"cannot render format {format!r}: use one of {', '.join(FORMATS)}")
    if engine not in ENGINES:
        raise ValueError(f"unknown layout engine {engine!r}: use one of {', '.join(ENGINES)}")
    if choose_renderer() == "dot":
        return _render_with_dot(source, format, engine)
    return _render_with_pygraphviz(source, format, engine)


def _raster_attributes(format):
    """Graph attributes that cap the size of a bitmap (none for vector formats)."""
    if format not in RASTER_FORMATS:
        return {}
    return {"dpi": str(RASTER_DPI), "size": f"{RASTER_MAX_INCHES},{RASTER_MAX_INCHES}"}


def _without_fontconfig_warnings(text):
    # Fontconfig, inside Graphviz, warns about the machine's font configuration
    # files (e.g. 'unknown element "reset-dirs"'); that is no concern of ours.
    return "\n".join(line for line in text.splitlines()
                     if line.strip() and not line.startswith("Fontconfig"))


def _render_with_dot(source, format, engine):
    command = [shutil.which("dot") or "dot", f"-K{engine}", f"-T{format}"]
    command += [f"-G{name}={value}" for name, value in _raster_attributes(format).items()]
    try:
        finished = subprocess.run(command, input=source.encode("utf-8"),
                                  capture_output=True, check=False)
    except OSError as error:
        raise RenderError(f"could not run `dot` ({error}). " + INSTALL_HINT) from None
    messages = _without_fontconfig_warnings(finished.stderr.decode("utf-8", "replace"))
    if finished.returncode != 0 or not finished.stdout:
        raise RenderError(f"`dot -K{engine} -T{format}` failed (exit status "
                          f"{finished.returncode}): {messages or 'no message'}")
    return finished.stdout


def _render_with_pygraphviz(source, format, engine):
    import pygraphviz

    try:
        graph = pygraphviz.AGraph(string=source)
        graph.graph_attr.update(_raster_attributes(format))
        with _stderr_filtered():
            picture = graph.draw(format=format, prog=engine)
    except (ValueError, TypeError, OSError) as error:
        raise RenderError(f"pygraphviz could not render {format}: {error}") from None
    if not picture:
        raise RenderError(f"pygraphviz returned an empty {format}")
    return picture


class _stderr_filtered:
    """Run Graphviz in-process with its Fontconfig warnings filtered out.

    Graphviz's C code writes to file descriptor 2 directly, past Python's
    sys.stderr, so the descriptor itself is pointed at a temporary file for
    the duration and whatever else was written is passed on afterwards.
    """

    def __enter__(self):
        self._captured = tempfile.TemporaryFile()
        try:
            self._saved = os.dup(2)
            os.dup2(self._captured.fileno(), 2)
        except OSError:  # no usable descriptor 2 (some embedded interpreters)
            self._saved = None
        return self

    def __exit__(self, *exc_info):
        if self._saved is not None:
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._captured.seek(0)
            text = self._captured.read().decode("utf-8", "replace")
            messages = _without_fontconfig_warnings(text)
            if messages:
                os.write(2, (messages + "\n").encode("utf-8"))
        self._captured.close()
        return False
