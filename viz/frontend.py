"""One ES module, two homes: a Jupyter widget (anywidget) and a saved offline page.

An interactive output of viz is one ES module, ``render({ model, el })``
(anywidget's contract), shipped as package data. Python computes every
number and puts it in the widget's state, the trait ``data``; the module only
shows it, and writes what the learner did back into the trait ``answers``.

    class TrainingReplay(Interactive):
        _esm = module_path("replay.js")
        _css = module_path("replay.css")

In Jupyter, anywidget loads that module (JupyterLab 4, Notebook 7, VS Code,
Colab). ``.save(path)`` writes the same module into one HTML file, with a
small stand-in for anywidget's model (``get``, ``set``, ``save_changes``,
``on``) serving the same state: no server, no network request.

The module's source must declare ``function render({ model, el })`` at its
top level and end with ``export default { render };``, so that the saved page
can call ``render`` itself.

A subclass whose page is its own (StepThrough's: the drawing shown before the
script runs, a students' copy) overrides ``html``; ``save`` hands its keyword
options on to it.
"""

import base64
import html
import json
import pathlib
import struct
import zlib
from importlib import resources

import anywidget
import traitlets

from engine.files import write_atomic

__all__ = ["Interactive", "module_path", "page", "json_for_script", "png"]

# In JupyterLab 4 an untrusted notebook shows the picture, not the widget, even after a run.
TRUST = ("in JupyterLab 4, trust the notebook first: the command palette (Ctrl+Shift+C), "
         "Trust Notebook; or jupyter trust NOTEBOOK.ipynb")
RUN_THIS_CELL = f"Run this cell to use it ({TRUST})."


def module_path(name):
    """The path of a front-end file shipped in the viz package ('replay.js')."""
    return pathlib.Path(str(resources.files("viz").joinpath(name)))


def json_for_script(data):
    """JSON safe inside <script>: no '<' (so no '</script>'), '>' or '&' can end it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# anywidget's model, as far as our modules use it, served from the page's own JSON.
_MODEL_STAND_IN = """
function pageModel(state) {
  var listeners = {};
  return {
    get: function (name) { return state[name]; },
    set: function (name, value) {
      state[name] = value;
      (listeners["change:" + name] || []).forEach(function (f) { f(); });
    },
    save_changes: function () {},
    on: function (event, f) { (listeners[event] = listeners[event] || []).push(f); },
    off: function (event, f) {
      listeners[event] = (listeners[event] || []).filter(function (g) { return g !== f; });
    },
  };
}
"""


def page(module, css, data, title, fallback=""):
    """One self-contained HTML page running ``module`` on ``data``.

    module, css -- the front end's source text
    fallback    -- HTML shown until the script runs (and where it cannot)
    """
    state = {"data": data, "answers": [], "standalone": True}
    script = (f"{module}\n{_MODEL_STAND_IN}\n"
              'const root = document.getElementById("cr-root");\n'
              'const state = JSON.parse(document.getElementById("cr-state").textContent);\n'
              "render({ model: pageModel(state), el: root });\n")
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{css}\n</style>\n</head>\n"
            f'<body>\n<div id="cr-root">{fallback}</div>\n'
            f'<script type="application/json" id="cr-state">{json_for_script(state)}</script>\n'
            f'<script type="module">\n{script}</script>\n</body>\n</html>\n')


def png(rgb):
    """PNG bytes of an image given as a (height, width, 3) array of 0..255 (no library)."""
    height, width, _ = rgb.shape
    rows = b"".join(b"\x00" + bytes(row) for row in rgb.astype("uint8").reshape(height, -1))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


class Interactive(anywidget.AnyWidget):
    """Base of viz's widgets: ``data`` (computed in Python) in, ``answers`` out.

    A subclass sets ``_esm`` and ``_css`` (module_path(...)) and a ``title``;
    ``.save(path)`` writes the offline page, ``.html()`` returns it.
    """

    data = traitlets.Dict().tag(sync=True)
    answers = traitlets.List().tag(sync=True)
    alt = "a picture of the output"  # the picture's alt text (subclasses say what it shows)
    run_this_cell = RUN_THIS_CELL  # the line beside the picture (subclasses may say more)

    def fallback_html(self):
        """What the saved page shows before its script runs (subclasses say more)."""
        return f"<p>{html.escape(self.data.get('title', ''))}</p>"

    def picture(self):
        """PNG bytes shown where the widget cannot run (untrusted, GitHub), or None."""
        return None

    def _repr_mimebundle_(self, **kwargs):
        # Beside the widget: a picture and one line, for viewers that cannot run
        # it (an untrusted notebook, GitHub, nbconvert). Where the widget runs,
        # Jupyter shows the widget, its richest form.
        data, metadata = super()._repr_mimebundle_(**kwargs) or ({}, {})
        data = dict(data)
        picture = self.picture()
        title = html.escape(self.data.get("title", ""))
        if picture is not None:
            encoded = base64.b64encode(picture).decode("ascii")
            data["image/png"] = encoded
            data["text/html"] = (  # what a sanitiser keeps; no wider than the column
                f'<div class="cr-picture"><p><b>{title}</b></p>'
                f'<img src="data:image/png;base64,{encoded}" style="max-width:100%" '
                f'alt="{html.escape(self.alt)}">'
                f"<p>{html.escape(self.run_this_cell)}</p></div>")
        data["text/plain"] = f"{repr(self)}\n{self.run_this_cell}"
        return data, metadata

    def html(self):
        """The whole page: one file, nothing fetched from anywhere."""
        # anywidget has read the files into the traits _esm and _css already
        return page(str(self._esm), str(self._css), self.data, self.data.get("title", "chainrule"),
                    self.fallback_html())

    def save(self, path, **page_options):
        """Write the page to path (UTF-8), atomically, and return the path.

        page_options go to ``html`` (a subclass's own, such as StepThrough's
        answers=False). A failed write (a full disk, a text UTF-8 cannot
        carry) leaves an old file as it was.
        """
        return write_atomic(path, self.html(**page_options), what="the page")

    render = save  # as Drawing.render: the demo writes drawings and pages alike
