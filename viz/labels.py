"""Text on the drawing: numbers to a precision, and labels that cannot break DOT.

Every piece of text that reaches the DOT source goes through ``html_text``
and is placed inside a Graphviz HTML-like label (``<...>``). In such a label
``&``, ``<``, ``>`` and ``"`` are markup, escaped as XML entities, and a
backslash starts Graphviz's own escapes (``\\N`` is the node's name, ``\\G`` the
graph's), so every backslash is doubled. With those five, any string, quotes,
braces, bars and all, comes out on the picture exactly as written and cannot
end the label early. (Record labels would also give ``{|}`` a meaning.)
Newlines become line breaks; other control characters, which SVG (XML 1.0)
cannot carry, are shown as Python escapes.
"""

__all__ = ["number", "html_text", "html_label", "table"]


def number(x, precision):
    """x to ``precision`` significant digits: 0.123456 -> '0.1235' (precision 4)."""
    if x == 0:
        x = 0.0  # never print '-0'
    return format(x, f".{precision}g")


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\\": "\\\\"}


def _escaped(character):
    """One character as an HTML-like label must spell it."""
    if character in _ESCAPES:
        return _ESCAPES[character]
    code = ord(character)
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0xFFFE, 0xFFFF):
        # XML cannot carry it: show its Python escape, '\x07', backslash doubled
        return repr(character)[1:-1].replace("\\", "\\\\")
    return character


# Graphviz refuses an HTML-like label of more than 16,384 bytes ("Invalid
# Input"), and a node's label holds several texts (label, data, grad), so one
# text may take at most MAX_TEXT_BYTES once escaped; a longer one is cut with
# an ellipsis, and the drawing says so (SHORTENED_NOTE).
MAX_TEXT_BYTES = 2000
ELLIPSIS = "…"
SHORTENED_NOTE = (f"labels too long to draw (over {MAX_TEXT_BYTES:,} bytes) are shortened "
                  f"with {ELLIPSIS}")
_BREAK = '<br align="center"/>'


def html_text(text):
    """``text`` escaped for the inside of an HTML-like label; newlines become <br/>.

    A text whose escaped form passes MAX_TEXT_BYTES is cut there, with '…'.
    """
    pieces = _escaped_pieces(text)
    if sum(size for _, size in pieces) <= MAX_TEXT_BYTES:
        return "".join(piece for piece, _ in pieces)
    kept, room = [], MAX_TEXT_BYTES - len(ELLIPSIS.encode("utf-8"))
    for piece, size in pieces:
        room -= size
        if room < 0:
            break
        kept.append(piece)
    return "".join(kept) + ELLIPSIS


def is_shortened(text):
    """True if html_text cuts text short (a drawing then says so: SHORTENED_NOTE)."""
    return sum(size for _, size in _escaped_pieces(text)) > MAX_TEXT_BYTES


def _escaped_pieces(text):
    """[(escaped character or line break, its size in UTF-8 bytes)] of text."""
    pieces = []
    for character in str(text).replace("\r\n", "\n").replace("\r", "\n"):
        piece = _BREAK if character == "\n" else _escaped(character)
        pieces.append((piece, len(piece.encode("utf-8"))))
    return pieces


def html_label(content):
    """An HTML-like label for the graphviz package: it keeps ``<...>`` verbatim."""
    return f"<{content}>"


def _attributes(attributes):
    return "".join(f' {name}="{value}"' for name, value in attributes.items())


def table(rows, **attributes):
    """An HTML table: ``rows`` is a list of rows, each a list of (content, cell_attributes).

    Contents must already be escaped (``html_text``); attribute values are
    ours (colours, sizes), never user text.
    """
    body = "".join(
        "<tr>" + "".join(f"<td{_attributes(cell_attributes)}>{content}</td>"
                         for content, cell_attributes in row) + "</tr>"
        for row in rows)
    return f"<table{_attributes(attributes)}>{body}</table>"
