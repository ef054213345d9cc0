"""The object draw_dot and draw_network return: DOT text that renders itself.

In Jupyter a Drawing shows as SVG with no extra call (``_repr_svg_`` and
``_repr_mimebundle_``). Elsewhere: ``.source`` is the DOT text, ``.svg()`` the
SVG text, ``.render("graph.png")`` writes a file.
"""

import os

from engine.files import write_atomic
from viz import render as renderers

__all__ = ["Drawing"]


class Drawing:
    """A graph ready to render.

    graph   -- the graphviz.Digraph it was built with
    source  -- its DOT text
    caption -- one line saying what is drawn (also in repr)
    """

    def __init__(self, graph, caption="", node_ids=None):
        self.graph = graph
        self.caption = caption
        self._node_ids = node_ids or {}

    @property
    def engine(self):
        """Graphviz's layout program: 'dot', or 'neato' for fixed positions."""
        return self.graph.engine

    @property
    def source(self):
        return self.graph.source

    def node_id(self, value):
        """The DOT node id of a drawn Value (KeyError if it is not drawn)."""
        return self._node_ids[value]

    def pipe(self, format="svg"):
        """The rendered picture as bytes: 'svg', 'png' or 'pdf'."""
        return renderers.render(self.source, format, self.engine)

    def svg(self):
        """The SVG text."""
        return self.pipe("svg").decode("utf-8")

    def render(self, path, format=None):
        """Write the picture to ``path`` and return the path.

        The format comes from ``format`` or else the suffix: .svg, .png, .pdf.
        The file is written only once the picture is complete, and atomically
        (engine.files.write_atomic): a full disk leaves an existing file as it was.
        """
        suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        format = (format or suffix or "svg").lower()
        if format not in renderers.FORMATS:
            raise ValueError(f"cannot tell the format of {os.fspath(path)!r}: give it a "
                             f"suffix or format= (one of {', '.join(renderers.FORMATS)})")
        picture = self.pipe(format)
        return write_atomic(path, picture, what="the drawing")

    def _repr_svg_(self):
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg()}

    def __repr__(self):
        return f"<Drawing: {self.caption}>" if self.caption else "<Drawing>"
