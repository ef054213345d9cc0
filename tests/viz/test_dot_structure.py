"""draw_dot's DOT: one box per Value, one node per op, one edge per operand."""

import pytest

from engine import OPS, Value
from viz import GraphTooLarge, draw_dot
from viz.dot import KINDS


def test_expression_has_a_node_per_value_and_per_op(parse):
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a            # values a, b, a·b, c; ops ×, +
    dot = parse(draw_dot(c).source)
    assert len(dot.nodes("value")) == 4
    assert len(dot.nodes("op")) == 2
    # a→×, b→×, ×→a·b, a·b→+, a→+, +→c
    assert len(dot.edges()) == 6
    assert len(dot.edges("operand")) == 4
    assert len(dot.edges("result")) == 2


def test_reused_operand_draws_one_edge_per_use(parse):
    a = Value(2.0, label="a")
    doubled = a + a
    drawing = draw_dot(doubled)
    dot = parse(drawing.source)
    into_add = [(tail, head) for tail, head, _ in dot.edges("operand")]
    assert into_add == [(drawing.node_id(a), drawing.node_id(doubled) + "op")] * 2


def test_square_by_multiplication_has_two_edges_from_x(parse):
    x = Value(3.0, label="x")
    y = x * x
    drawing = draw_dot(y)
    dot = parse(drawing.source)
    edges = dot.edges("operand")
    assert edges == [(drawing.node_id(x), drawing.node_id(y) + "op", edges[0][2]),
                     (drawing.node_id(x), drawing.node_id(y) + "op", edges[1][2])]
    assert edges[0][2] != edges[1][2]


def test_shared_subexpression_is_drawn_once(parse):
    a = Value(1.5, label="a")
    t = a.tanh()
    out = t * t + t
    dot = parse(draw_dot(out).source)
    # a, t, t·t, out: t is one box however often it is used
    assert len(dot.nodes("value")) == 4
    assert len(dot.nodes("op")) == 3


def test_op_nodes_show_the_symbol_from_the_op_table(parse):
    x = Value(0.5, label="x")
    y = (x.tanh() * x.exp() - x.sigmoid()) / x.relu()
    drawing = draw_dot(y)
    dot = parse(drawing.source)
    symbols = sorted(dot.node_text(node) for node in dot.nodes("op"))
    expected = sorted(OPS[name].symbol for name in ("tanh", "exp", "mul", "sigmoid",
                                                     "sub", "relu", "div"))
    assert symbols == expected


def test_value_label_shows_label_data_and_grad_to_the_precision(parse):
    x = Value(1.23456789, label="x")
    y = x * x
    y.backward()                     # x.grad = 2x = 2.46913578
    drawing = draw_dot(y, precision=3)
    text = parse(drawing.source).node_text(drawing.node_id(x))
    assert text == "x | data 1.23 | grad 2.47"
    text = parse(draw_dot(y, precision=6).source).node_text(drawing.node_id(x))
    assert text == "x | data 1.23457 | grad 2.46914"


def test_unlabelled_value_shows_data_and_grad_only(parse):
    x = Value(2.0, label="x")
    y = x * 3.0
    y.backward()
    drawing = draw_dot(y)
    assert parse(drawing.source).node_text(drawing.node_id(y)) == "data 6 | grad 1"


def test_show_grad_false_leaves_the_grad_out(parse):
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    drawing = draw_dot(y, show_grad=False)
    assert parse(drawing.source).node_text(drawing.node_id(x)) == "x | data 2"


def test_kinds_of_value_are_told_apart(parse):
    w = Value(0.5, label="w")      # a parameter: a labelled leaf
    x = Value(2.0, label="x_1")    # an input
    c = Value(3.0)                 # a constant
    out = (w * x + c).tanh()
    drawing = draw_dot(out)
    dot = parse(drawing.source)
    assert dot.nodes("parameter") == {drawing.node_id(w)}
    assert dot.nodes("input") == {drawing.node_id(x), drawing.node_id(c)}
    assert dot.nodes("output") == {drawing.node_id(out)}
    assert len(dot.nodes("intermediate")) == 2
    styles = {kind: dot.node_attr(next(iter(dot.nodes(kind))), "fillcolor")
              for kind in ("parameter", "input", "output", "intermediate")}
    assert len(set(styles.values())) == 4
    assert dot.node_attr(drawing.node_id(out), "peripheries") == "2"


def test_legend_names_every_kind_drawn(parse):
    x = Value(2.0, label="x_1")
    w = Value(3.0, label="w")
    dot = parse(draw_dot(2 * (w * x), legend=True).source)
    for kind in ("parameter", "input", "constant", "intermediate", "output"):
        assert KINDS[kind]["meaning"] in dot.caption()
    assert "op: its symbol" in dot.caption()
    assert len(dot.nodes("value")) == 5  # the legend is text over the drawing, not Values


def test_legend_is_shown_where_colours_say_more_than_the_kind(parse):
    x = Value(2.0, label="x")
    y = x * x
    assert "parameter" not in parse(draw_dot(y).source).caption()
    assert "highlighted path" in parse(draw_dot(y, highlight=x).source).caption()
    assert "red: on the highlighted path" in parse(draw_dot(y, highlight=x).source).caption()
    assert "red:" not in parse(draw_dot(y, highlight=x, legend=False).source).caption()


def test_a_constant_is_drawn_without_a_gradient(parse):
    x = Value(2.0, label="x")
    y = 2 * x
    y.backward()
    drawing = draw_dot(y, show_local=True)
    dot = parse(drawing.source)
    (constant,) = dot.nodes("constant")
    assert dot.node_text(constant) == "2"
    (edge,) = [e for e in dot.edges("operand") if e[0] == constant]
    assert dot.edge_text(*edge) == ""            # no local derivative into a constant


def test_rankdir_is_passed_to_graphviz(parse):
    x = Value(2.0)
    dot = parse(draw_dot(x.exp(), rankdir="TB").source)
    assert dot.graph.graph_attr["rankdir"] == "TB"


def test_leaf_alone_is_one_node(parse):
    dot = parse(draw_dot(Value(4.0, label="lonely")).source)
    assert dot.nodes() == {"v0"} and dot.edges() == []


def test_same_graph_gives_the_same_source():
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    assert draw_dot(y).source == draw_dot(y).source


# -- sub-graphs and the size limit ----------------------------------------------------

def _chain(n):
    """x, x+1, x+1+1, ...: n + 1 Values and n ops, each Value one edge from the next."""
    x = Value(0.0, label="x")
    values = [x]
    for _ in range(n):
        values.append(values[-1] + 1.0)
    return values


def test_depth_keeps_the_values_within_that_many_edges_of_the_root(parse):
    values = _chain(10)   # each + also has a constant 1.0 leaf
    root = values[-1]
    drawing = draw_dot(root, depth=2)
    dot = parse(drawing.source)
    # depth 1: values[-2] and its constant; depth 2: values[-3] and its constant
    assert len(dot.nodes("value")) == 5
    assert drawing.node_id(values[-3])
    with pytest.raises(KeyError):
        drawing.node_id(values[-4])
    # the boundary Value is marked: its inputs are not drawn
    assert "cut" in dot.node_attr(drawing.node_id(values[-3]), "class").split()


def test_depth_zero_draws_the_root_alone(parse):
    root = _chain(5)[-1]
    dot = parse(draw_dot(root, depth=0).source)
    assert len(dot.nodes("value")) == 1


def test_around_draws_the_neighbourhood_of_one_value(parse):
    values = _chain(10)
    middle = values[5]
    drawing = draw_dot(values[-1], around=middle, depth=1)
    dot = parse(drawing.source)
    # one edge away: values[4] and the constant 1.0 (its inputs), values[6] (its consumer)
    drawn = {v for v in values if _drawn(drawing, v)}
    assert drawn == {values[4], values[5], values[6]}
    assert len(dot.nodes("value")) == 4  # with middle's constant 1.0


def test_around_a_value_outside_the_graph_is_refused():
    root = _chain(3)[-1]
    with pytest.raises(ValueError, match="not in the graph"):
        draw_dot(root, around=Value(1.0, label="stranger"))


def _drawn(drawing, value):
    try:
        drawing.node_id(value)
    except KeyError:
        return False
    return True


def test_graph_over_max_nodes_is_refused_with_what_to_do():
    root = _chain(30)[-1]    # 61 values + 30 ops = 91 nodes
    with pytest.raises(GraphTooLarge) as refused:
        draw_dot(root, max_nodes=50, fold=False)
    message = str(refused.value)
    assert "91 nodes" in message
    assert "max_nodes=50" in message
    for advice in ("depth=", "around=", "group=", "max_nodes=91"):
        assert advice in message


def test_graph_too_large_is_a_value_error():
    assert issubclass(GraphTooLarge, ValueError)


def test_sub_graph_of_a_large_graph_fits_the_limit(parse):
    root = _chain(3000)[-1]
    dot = parse(draw_dot(root, depth=3, max_nodes=50).source)
    assert len(dot.nodes("value")) == 7


def test_max_nodes_none_draws_any_size(parse):
    root = _chain(30)[-1]
    dot = parse(draw_dot(root, max_nodes=None, fold=False).source)
    assert len(dot.nodes()) == 91


def test_deep_graph_builds_without_recursion_error():
    root = _chain(5000)[-1]
    with pytest.raises(GraphTooLarge, match="15001 nodes"):
        draw_dot(root, fold=False)


def test_deep_graph_is_folded_to_what_is_near_the_root(parse):
    root = _chain(5000)[-1]
    dot = parse(draw_dot(root).source)
    assert len(dot.nodes("value")) < 10          # what is within 3 edges of the root
    assert dot.nodes("fold")
    assert "fold=False" in dot.caption()


@pytest.mark.parametrize("arguments, message", [
    ({"rankdir": "UP"}, "rankdir"),
    ({"precision": 0}, "precision"),
    ({"max_nodes": 0}, "max_nodes"),
    ({"depth": -1}, "depth"),
    ({"group": "synapse"}, "group"),
])
def test_bad_arguments_are_refused_by_name(arguments, message):
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match=message):
        draw_dot(x * x, **arguments)


def test_drawing_something_else_than_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="draws a Value"):
        draw_dot(3.0)
