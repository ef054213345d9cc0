"""explain's LaTeX escapes every character of a label that means something to LaTeX."""

import pytest

from engine import Value, notation
from nn import explain

SPECIALS = "\\_%&#${}^~<>"


@pytest.mark.parametrize("character", list(SPECIALS))
def test_each_special_character_of_a_label_is_escaped(character):
    x = Value(2.0, label=f"my{character}x")
    y = x * x
    y.label = "out"
    latex = explain(y, x)._repr_latex_()
    escaped = notation.latex(f"my{character}x")
    assert escaped in latex
    # the character never stands bare inside the escaped name
    assert f"my{character}x" not in latex


def test_latex_escape_leaves_no_special_character_unescaped():
    text = notation.latex_escape(SPECIALS)
    for character in "%&#$_":
        assert text.count(character) == text.count("\\" + character)
