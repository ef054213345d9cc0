"""Any label comes out exactly as written and never changes the graph."""

import pytest
from conftest import svg_node_groups, svg_texts

from engine import Value
from viz import draw_dot

HOSTILE = [
    'say "hi"',
    "a < b > c",
    "{record|fields}",
    "back\\slash\\",
    "ends with a backslash \\",
    "&amp; is not an entity",
    "]; evil [label=x]; a -> b; //",
    '"]; injected -> node [color=red',
    "</b></td></tr></table>>]; x -> y [",
    "<b>not bold</b>",
    "w² ∂C/∂w — ß é 中文 😀",
    "\\n \\l \\N \\G \\E \\T \\H \\L \\\\ are not escapes here",
]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_label_keeps_the_graph_as_it_is(parse, label):
    x = Value(2.0, label=label)
    y = x * x
    y.label = label
    dot = parse(draw_dot(y, show_local=True, highlight=x).source)
    assert len(dot.nodes()) == 3           # x, y and the × node: nothing injected
    assert len(dot.edges()) == 3


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_label_reads_back_verbatim_from_the_dot(parse, label):
    x = Value(2.0, label=label)
    drawing = draw_dot(x * 1.0)
    text = parse(drawing.source).node_text(drawing.node_id(x))
    assert text == f"{label} | data 2 | grad 0"


def test_hostile_labels_render_to_svg_that_parses_and_shows_them(no_dot_on_path):
    values = [Value(float(i), label=label) for i, label in enumerate(HOSTILE)]
    total = values[0]
    for value in values[1:]:
        total = total + value
    drawing = draw_dot(total)
    groups = svg_node_groups(drawing.svg())        # parses as XML
    shown = [line for group in groups for line in svg_texts(group)]
    for label in HOSTILE:
        assert label in shown


def test_newline_in_a_label_becomes_a_line_break(no_dot_on_path):
    x = Value(1.0, label="first line\nsecond line")
    drawing = draw_dot(x)
    (group,) = svg_node_groups(drawing.svg())
    lines = svg_texts(group)
    assert "first line" in lines and "second line" in lines


def test_control_characters_are_shown_as_escapes(no_dot_on_path):
    x = Value(1.0, label="bell\x07tab\there")
    drawing = draw_dot(x)
    (group,) = svg_node_groups(drawing.svg())  # XML 1.0 cannot carry \x07 itself
    assert "bell\\x07tab\\there" in svg_texts(group)


def test_spaces_are_kept(no_dot_on_path):
    x = Value(1.0, label="  two  spaces  ")
    (group,) = svg_node_groups(draw_dot(x).svg())
    assert "  two  spaces  " in svg_texts(group)
