"""step_through(around=...) is linear, its advice names only its own arguments,
and labels longer than Graphviz takes are drawn shortened, with a note."""

import re
import sys

import pytest

from engine import Value
from viz import draw_dot, step_through
from viz.labels import ELLIPSIS, MAX_TEXT_BYTES, SHORTENED_NOTE, html_text, is_shortened
from viz.select import GraphTooLarge


def chain(n):
    x = Value(0.1, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def refusal_work(n):
    """Lines of Python executed to refuse step_through(around=x) on a chain of n ops.

    A count, not a time: the same on a loaded machine as on an idle one.
    """
    x, y = chain(n)
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        with pytest.raises(GraphTooLarge):
            step_through(y, around=x)
    finally:
        sys.settrace(None)
    return lines


def test_step_through_around_refuses_a_long_chain_in_linear_time():
    # it took 1.5 / 6.6 / 54 s for 1,000 / 2,000 / 4,000 ops (one search per node):
    # quadratic work, 4 x the lines for twice the chain; linear work gives 2 x
    small, large = refusal_work(1000), refusal_work(2000)
    assert large < 2.5 * small, (small, large)


@pytest.mark.parametrize("around", [False, True])
def test_too_large_advice_suggests_only_step_throughs_own_arguments(around):
    x, y = chain(30)
    with pytest.raises(GraphTooLarge) as error:
        step_through(y, around=x if around else None, max_nodes=10)
    message = str(error.value)
    called = re.findall(r"step_through\(([^)]*)\)", message)
    assert called and "max_nodes=" in message
    for arguments in called:
        for name in re.findall(r"(\w+)=", arguments):
            assert name in ("around", "max_nodes"), message
    assert "depth=" not in message and "group=" not in message and "draw_dot" not in message


@pytest.mark.parametrize("label", ["x" * 20_000, "&" * 20_000, "\ud800" * 5_000,
                                   "∂" * 20_000, "line\n" * 5_000])
def test_a_label_longer_than_graphviz_takes_is_drawn_shortened_with_a_note(label):
    x = Value(0.5, label=label)
    cost = (x * Value(2.0, label="w")).tanh()
    drawing = draw_dot(cost)
    svg = drawing.svg()  # was RenderError: Invalid Input
    assert ELLIPSIS in svg and SHORTENED_NOTE.replace("…", "") .split(" with")[0] in svg
    assert SHORTENED_NOTE in drawing.caption


def test_html_text_stays_within_its_budget_and_leaves_short_texts_alone():
    assert html_text("a<b") == "a&lt;b"
    assert not is_shortened("w2_22")
    for text in ("x" * 5000, "&" * 5000, "\x07" * 5000, "\U0001d6db" * 5000):
        escaped = html_text(text)
        assert is_shortened(text) and escaped.endswith(ELLIPSIS)
        assert len(escaped.encode("utf-8")) <= MAX_TEXT_BYTES
    exact = "x" * MAX_TEXT_BYTES
    assert html_text(exact) == exact and not is_shortened(exact)
