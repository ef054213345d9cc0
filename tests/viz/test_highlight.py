"""show_local and highlight: the chain rule's factors written on the edges."""

import math

import pytest

from engine import Value
from viz import draw_dot


def _operand_edges(dot, drawing, value):
    """The edges into value's op node, in operand order: [(tail, head, key)]."""
    head = drawing.node_id(value) + "op"
    edges = [e for e in dot.edges("operand") if e[1] == head]
    return sorted(edges, key=lambda e: e[2])


def _edge_number(text):
    """The number after the last '=' of an edge label ('1 − tanh²(x) = 0.42' -> 0.42)."""
    return float(text.rsplit("=", 1)[-1])


# -- show_local ---------------------------------------------------------------------

def test_show_local_writes_tanh_derivative_formula_and_value(parse):
    x = Value(0.7, label="x")
    y = x.tanh()
    drawing = draw_dot(y, show_local=True, precision=6)
    dot = parse(drawing.source)
    (edge,) = _operand_edges(dot, drawing, y)
    text = dot.edge_text(*edge)
    assert text.startswith("1 − tanh²(x) = ")
    assert _edge_number(text) == pytest.approx(1 - math.tanh(0.7) ** 2, rel=1e-5)


def test_show_local_of_product_is_the_other_operand(parse):
    a, b = Value(2.5, label="a"), Value(-4.0, label="b")
    out = a * b
    drawing = draw_dot(out, show_local=True)
    dot = parse(drawing.source)
    texts = [dot.edge_text(*e) for e in _operand_edges(dot, drawing, out)]
    # d(ab)/da = b, d(ab)/db = a: the learner's own names, not the table's x and y
    assert texts == ["b = -4", "a = 2.5"]


@pytest.mark.parametrize("build, expected", [
    (lambda x, y: x / y, lambda x, y: (1 / y, -x / y ** 2)),
    (lambda x, y: x - y, lambda x, y: (1.0, -1.0)),
    (lambda x, y: x ** y, lambda x, y: (y * x ** (y - 1), x ** y * math.log(x))),
    (lambda x, y: x ** 3, lambda x, y: (3 * x ** 2, 0.0)),
])
def test_show_local_values_match_hand_derivatives(parse, build, expected):
    xv, yv = 1.7, 0.6
    x, y = Value(xv, label="x"), Value(yv, label="y")
    out = build(x, y)
    drawing = draw_dot(out, show_local=True, precision=8)
    dot = parse(drawing.source)
    # an edge from a constant (the 3 of x ** 3) carries no derivative: nothing flows there
    texts = [dot.edge_text(*e) for e in _operand_edges(dot, drawing, out)]
    shown = [_edge_number(text) for text in texts if text]
    assert shown == pytest.approx(expected(xv, yv)[:len(shown)], rel=1e-6)


def test_show_local_of_weighted_sum_names_the_matching_operand(parse):
    w1, w2 = Value(0.5, label="w1"), Value(-0.25, label="w2")
    a1, a2 = Value(2.0, label="a1"), Value(3.0, label="a2")
    b = Value(0.1, label="b")
    from engine import weighted_sum
    z = weighted_sum([w1, w2], [a1, a2], b)
    drawing = draw_dot(z, show_local=True)
    dot = parse(drawing.source)
    texts = [dot.edge_text(*e) for e in _operand_edges(dot, drawing, z)]
    # dz/dw_k = x_k, dz/dx_k = w_k, dz/db = 1, each named by its own label
    assert texts == ["a1 = 2", "a2 = 3", "w1 = 0.5", "w2 = -0.25", "1"]


def test_without_show_local_edges_carry_no_label(parse):
    x = Value(0.7, label="x")
    drawing = draw_dot(x.tanh() * x)
    dot = parse(drawing.source)
    assert all(dot.edge_text(*e) == "" for e in dot.edges())


# -- highlight ---------------------------------------------------------------------

def test_highlight_of_w2_22_is_the_article_path(parse, network):
    net, cost = network
    w2_22 = net.weight(2, 2, 2)
    s = net.a(4, 1)
    assert cost.op == "squared_error" and cost.parents[0] is s   # C = (s − y)²
    path = [w2_22, net.z(3, 2), net.a(3, 2), s, cost]
    assert [v.label for v in path] == ["w2_22", "z3_2", "a3_2", "s", "C"]

    drawing = draw_dot(cost, highlight=w2_22)
    dot = parse(drawing.source)
    ids = [drawing.node_id(v) for v in path]
    assert dot.nodes("value") & dot.nodes("highlight") == set(ids)
    assert dot.nodes("op") & dot.nodes("highlight") == {i + "op" for i in ids[1:]}
    operand = {(tail, head) for tail, head, _ in dot.edges("highlight")
               if (tail, head, _) in dot.edges("operand")}
    result = {(tail, head) for tail, head, _ in dot.edges("highlight")
              if (tail, head, _) in dot.edges("result")}
    assert operand == {(ids[i], ids[i + 1] + "op") for i in range(4)}
    assert result == {(i + "op", i) for i in ids[1:]}
    assert len(dot.edges("highlight")) == 8


def test_highlighted_edges_carry_the_local_derivatives_of_the_article(parse, network):
    net, cost = network
    w2_22, z3_2, a3_2, s = net.weight(2, 2, 2), net.z(3, 2), net.a(3, 2), net.a(4, 1)
    y = cost.parents[1].data
    drawing = draw_dot(cost, highlight=w2_22, precision=8)
    dot = parse(drawing.source)

    def local(parent, child):
        (edge,) = [e for e in dot.edges("highlight")
                   if e[:2] == (drawing.node_id(parent), drawing.node_id(child) + "op")]
        return _edge_number(dot.edge_text(*edge))

    # dC/d(w_22)² = dC/ds · ds/d(a_2)³ · d(a_2)³/d(z_2)³ · d(z_2)³/d(w_22)²
    assert local(w2_22, z3_2) == pytest.approx(net.a(2, 2).data, rel=1e-7)
    assert local(z3_2, a3_2) == pytest.approx(1 - math.tanh(z3_2.data) ** 2, rel=1e-7)
    assert local(a3_2, s) == pytest.approx(net.weight(3, 1, 2).data, rel=1e-7)
    assert local(s, cost) == pytest.approx(2 * (s.data - y), rel=1e-7)   # dC/ds


def test_highlight_caption_states_the_derivative(parse, network):
    net, cost = network
    w2_22 = net.weight(2, 2, 2)
    drawing = draw_dot(cost, highlight=w2_22, precision=6)
    dot = parse(drawing.source)   # keep the parsed graph alive while reading it
    caption = dot.caption()
    assert f"∂C/∂w2_22 = {w2_22.grad:.6g}" in caption
    assert "1 highlighted path " in caption


def test_highlight_with_an_explain_result_marks_the_same_nodes(parse, network):
    nn = pytest.importorskip("nn")
    if not hasattr(nn, "explain"):
        pytest.skip("nn.explain is not there yet")
    net, cost = network
    w2_22 = net.weight(2, 2, 2)
    from_value = parse(draw_dot(cost, highlight=w2_22).source)
    from_explain = parse(draw_dot(cost, highlight=nn.explain(cost, w2_22)).source)
    assert from_explain.nodes("highlight") == from_value.nodes("highlight")
    assert sorted(from_explain.edges("highlight")) == sorted(from_value.edges("highlight"))


def test_highlight_with_any_object_with_paths(parse):
    x = Value(2.0, label="x")
    t = x.tanh()
    out = t * x
    explained = type("Explained", (), {"paths": [[out, t, x], [out, x]],
                                       "param": x, "output": out})()
    drawing = draw_dot(out, highlight=explained)
    dot = parse(drawing.source)
    assert dot.nodes("value") & dot.nodes("highlight") == {
        drawing.node_id(v) for v in (x, t, out)}


def test_highlight_follows_every_path_through_reuse(parse):
    x = Value(0.3, label="x")
    y = x * x + x.exp()            # three paths from y to x
    drawing = draw_dot(y, highlight=x)
    dot = parse(drawing.source)
    x_id = drawing.node_id(x)
    assert len([e for e in dot.edges("highlight") if e[0] == x_id]) == 3
    assert "3 highlighted paths" in dot.caption()
    assert dot.nodes("value") - dot.nodes("highlight") == set()


def test_highlight_leaves_other_branches_plain(parse):
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    out = a.tanh() + b.exp()
    drawing = draw_dot(out, highlight=a)
    dot = parse(drawing.source)
    b_side = {drawing.node_id(b), drawing.node_id(out.parents[1])}
    assert not b_side & dot.nodes("highlight")


def test_highlight_of_a_value_outside_the_graph_is_refused():
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match="not in the graph"):
        draw_dot(x * x, highlight=Value(2.0, label="other"))


def test_highlight_of_something_else_is_a_type_error():
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match="highlight"):
        draw_dot(x * x, highlight=42)
    with pytest.raises(KeyError, match="no node labelled 'w2_22'"):  # a name: looked up
        draw_dot(x * x, highlight="w2_22")
