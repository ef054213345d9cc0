"""The article's notation, in one place: labels ⇄ the article's names ⇄ LaTeX.

A label is what a Value carries; the article writes the same thing with the
layer as a superscript:

    label      article       LaTeX             what it is
    'w2_22'    (w_22)^2      (w_{22})^{2}      weight from (a_2)^2 to (z_2)^3
    'b3_1'     (b_1)^3       (b_{1})^{3}       bias of neuron 1 of layer 4
    'z3_2'     (z_2)^3       (z_{2})^{3}       weighted input of neuron 2, layer 3
    'a3_2'     (a_2)^3       (a_{2})^{3}       its activation
    'x_1'      x_1           x_{1}             input 1 (a^1 = x)
    's', 'C'   s, C          s, C              the output and the cost

Indices of 10 or more are separated by a comma: 'w2_12,3' is (w_12,3)^2.
nn writes labels with ``label``; nn, viz and explain read them with
``parse``, ``article_name`` and ``latex``; ``find`` looks a name up.
"""

import difflib
import re
from typing import NamedTuple

__all__ = ["Label", "label", "parse", "input_index", "article_name", "latex",
           "latex_escape", "from_article", "find", "layer_name"]

# 'w2_22', 'b3_1', 'z3_2', 'a3_2', 'w2_12,3': kind, layer, indices
_LAYER_LABEL = re.compile(r"^([wbza])(\d+)_(\d+)(?:,?(\d+))?$")
# the article's spelling: '(w_22)^2', '(b_1)^3', 'w_22^2', '(w_12,3)^2'
_ARTICLE_NAME = re.compile(r"^\(?([wbza])_\{?(\d+),?(\d*)\}?\)?\^\{?(\d+)\}?$")
# 'x_2': input 2 of the network
_INPUT_LABEL = re.compile(r"^x_(\d+)$")
# Layers and indices have at most this many digits: a label with a 5,000-digit
# "layer" is not the article's notation (and Python refuses to read it as an int).
_MAX_DIGITS = 9
# 'x_2', 's_1': a letter (or word) with a subscript
_SUBSCRIPT_LABEL = re.compile(r"^([A-Za-z]+)_([0-9A-Za-z,]+)$")


class Label(NamedTuple):
    """A label taken apart: kind 'w', 'b', 'z' or 'a'; layer l; indices j, k."""
    kind: str
    layer: int
    j: int
    k: int | None  # only weights have a second index


def label(kind, layer, j, k=None):
    """The label of a parameter or node in the article's notation.

    label('w', 2, 2, 2) -> 'w2_22'     (w_22)^2
    label('w', 2, 12, 3) -> 'w2_12,3'  (indices of 10 or more: commas)
    label('b', 3, 1) -> 'b3_1'         (b_1)^3
    label('z', 3, 2) -> 'z3_2'         (z_2)^3
    ``layer=None`` leaves the layer out ('w_22'), for a Layer on its own.
    """
    prefix = kind if layer is None else f"{kind}{layer}"
    if k is None:
        return f"{prefix}_{j}"
    separator = "," if j >= 10 or k >= 10 else ""
    return f"{prefix}_{j}{separator}{k}"


def parse(text):
    """'w2_22' -> Label('w', 2, 2, 2); None for a label of another kind.

    A weight's two indices are one digit each unless a comma separates them.
    """
    match = _LAYER_LABEL.match(text or "")
    if not match or _too_many_digits(match):
        return None
    kind, layer, first, second = match.groups()
    if kind == "w":
        if second is None:  # 'w2_22': one digit each
            if len(first) != 2:
                return None
            first, second = first[0], first[1]
        return Label(kind, int(layer), int(first), int(second))
    if second is not None:
        return None
    return Label(kind, int(layer), int(first), None)


def input_index(text):
    """k for an input's label 'x_k' (a^1 = x), else None."""
    match = _INPUT_LABEL.match(text or "")
    return int(match.group(1)) if match and not _too_many_digits(match) else None


def _too_many_digits(match):
    return any(len(group or "") > _MAX_DIGITS for group in match.groups())


def _indices(parsed):
    if parsed.k is None:
        return str(parsed.j)
    separator = "," if parsed.j >= 10 or parsed.k >= 10 else ""
    return f"{parsed.j}{separator}{parsed.k}"


def article_name(text):
    """How the article writes a label: 'w2_22' -> '(w_22)^2'; others as they are."""
    parsed = parse(text)
    if parsed is None:
        return text
    return f"({parsed.kind}_{_indices(parsed)})^{parsed.layer}"


def layer_name(kind, layer):
    """A whole layer's vector or matrix as the article writes it: ('z', 3) -> 'z^3'."""
    return f"{kind}^{layer}"


def latex(text):
    """A label in LaTeX: 'w2_22' -> '(w_{22})^{2}', 'x_1' -> 'x_{1}', 'C' -> 'C'."""
    parsed = parse(text)
    if parsed is not None:
        return f"({parsed.kind}_{{{_indices(parsed)}}})^{{{parsed.layer}}}"
    match = _SUBSCRIPT_LABEL.match(text)
    if match:
        base, sub = match.groups()
        base = base if len(base) == 1 else rf"\mathrm{{{base}}}"
        return f"{base}_{{{latex_escape(sub)}}}"
    if len(text) == 1 and text.isalpha():
        return text
    return r"\mathrm{" + latex_escape(text) + "}"


_LATEX_SPECIALS = {"\\": r"\backslash{}", "_": r"\_", "%": r"\%", "&": r"\&",
                   "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}",
                   "^": r"\hat{}", "~": r"\sim{}", "<": r"\lt{}", ">": r"\gt{}"}


def latex_escape(text):
    """text with every character that means something to LaTeX (or MathJax) escaped."""
    return "".join(_LATEX_SPECIALS.get(character, character) for character in text)


def from_article(name):
    """The label for a name as a learner may write it: '(w_22)^2' -> 'w2_22'.

    A label already ('w2_22', 'x_1', 'C') comes back as it is.
    """
    name = name.strip().replace(" ", "")
    match = _ARTICLE_NAME.match(name)
    if not match or _too_many_digits(match):
        return name
    kind, first, second, layer = match.groups()
    if kind == "w" and not second:
        if len(first) != 2:
            return name
        first, second = first[0], first[1]
    return label(kind, int(layer), int(first), int(second) if second else None)


def find(name, values):
    """The Value labelled ``name`` (or its article spelling) among values.

    Raises KeyError naming the closest labels when there is none.
    """
    wanted = from_article(name)
    by_label = {}
    for value in values:
        if value.label:
            by_label.setdefault(value.label, value)
    if wanted in by_label:
        return by_label[wanted]
    # names that start with what was typed first ('w2_2' -> w2_21, w2_22, ...)
    close = [name for name in by_label if name.startswith(wanted)][:4]
    close += [name for name in difflib.get_close_matches(wanted, list(by_label), n=3,
                                                         cutoff=0.6) if name not in close]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise KeyError(f"no node labelled {name!r} in the graph{hint}")
