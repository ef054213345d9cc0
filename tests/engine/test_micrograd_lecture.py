"""The micrograd lecture's path, walked on engine.Value.

Learners come from Karpathy's micrograd lecture with code that reads
``node._prev``, ``node._op`` and calls ``node._backward()`` by hand. These
tests do what the lecture does, in our own words — a backward pass by hand,
node by node; a topological order built from ``_prev``; a graph drawn from
``_prev`` and ``_op`` — and check every number against ``backward()``.
"""

import math

import graphviz
import pytest

from engine import Value, local_derivatives, no_grad


def neuron():
    """The lecture's neuron: o = tanh(x1·w1 + x2·w2 + b), with its labels and numbers."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    leaves = {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}
    return o, [o, n, x1w1x2w2, x1w1, x2w2], leaves


def order_from_prev(root):
    """Every node after the nodes in its _prev, root last (no recursion)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((child, False) for child in node._prev)
    return order


def all_grads(root):
    return {id(node): node.grad for node in order_from_prev(root)}


def test_the_neuron_by_hand_gives_the_lectures_gradients_and_backwards():
    o, inner_nodes, leaves = neuron()
    assert o.data == pytest.approx(math.sqrt(0.5), abs=1e-15)  # the lecture's 0.7071
    o.grad = 1.0
    for node in inner_nodes:  # the lecture's manual pass: o, n, then down
        node._backward()
    by_hand = {name: v.grad for name, v in leaves.items()}
    # the lecture's numbers: do/dn = 1 − o² = 0.5, then the products
    assert by_hand["x1"] == pytest.approx(-1.5) and by_hand["w1"] == pytest.approx(1.0)
    assert by_hand["x2"] == pytest.approx(0.5) and by_hand["w2"] == 0.0
    assert by_hand["b"] == pytest.approx(0.5)

    fresh, _, fresh_leaves = neuron()
    fresh.backward()
    assert by_hand == {name: v.grad for name, v in fresh_leaves.items()}  # every digit


def test_backward_through_a_topological_order_built_from_prev_equals_backward():
    # the lecture's second form: ordered from _prev, then _backward in reverse
    x = Value(0.7, label="x")
    e = (2 * x).exp()
    o = (e - 1) / (e + 1)          # tanh written out, as the lecture does
    loss = (o - 0.3) ** 2 + o * x  # x reaches loss along several paths
    order = order_from_prev(loss)
    for node in order:
        assert all(order.index(child) < order.index(node) for child in node._prev)
    loss.grad = 1.0
    for node in reversed(order):
        node._backward()
    by_hand = all_grads(loss)

    for node in order:
        node.grad = 0.0
    loss.backward()
    assert by_hand == all_grads(loss)
    assert x.grad == pytest.approx(2 * (math.tanh(0.7) - 0.3) * (1 - math.tanh(0.7) ** 2)
                                   + (1 - math.tanh(0.7) ** 2) * 0.7 + math.tanh(0.7))


def test_backward_by_hand_adds_for_a_value_used_twice():
    # the lecture's bug hunt: b = a + a must give a.grad = 2, not 1
    a = Value(3.0, label="a")
    b = a + a
    b.grad = 1.0
    b._backward()
    assert a.grad == 2.0
    assert b._prev == {a}  # a set, as micrograd's: both edges are one entry


def test_prev_is_the_set_of_parents_and_empty_for_a_leaf():
    x, y = Value(1.0), Value(2.0)
    z = x * y
    assert z._prev == {x, y} and isinstance(z._prev, set)
    assert x._prev == set()


@pytest.mark.parametrize("make, symbol", [
    (lambda a, b: a + b, "+"), (lambda a, b: a * b, "*"), (lambda a, b: a ** 2, "**2"),
    (lambda a, b: a ** 0.5, "**0.5"), (lambda a, b: a ** -1, "**-1"),
    (lambda a, b: a.tanh(), "tanh"), (lambda a, b: a.exp(), "exp"),
    (lambda a, b: a.relu(), "ReLU"), (lambda a, b: a - b, "-"), (lambda a, b: a / b, "/"),
], ids=["add", "mul", "pow2", "pow_half", "pow_minus_one", "tanh", "exp", "relu", "sub",
        "div"])
def test_op_reads_as_micrograd_writes_it(make, symbol):
    assert make(Value(1.5), Value(2.0))._op == symbol


def test_op_is_empty_for_a_leaf_and_for_a_result_under_no_grad():
    x = Value(1.0)
    assert x._op == ""
    with no_grad():
        assert (x * 2)._op == ""


def test_backward_step_sends_the_op_tables_local_derivatives():
    x, w = Value(0.5), Value(-2.0)
    z = (x * w).tanh()
    z.grad = 3.0
    z._backward()
    (parent,) = z.parents
    assert parent.grad == 3.0 * local_derivatives(z)[0]
    assert parent.grad == 3.0 * (1 - math.tanh(-1.0) ** 2)


def test_backward_step_of_a_leaf_does_nothing():
    x = Value(2.0)
    x.grad = 5.0
    x._backward()
    assert x.grad == 5.0


def test_the_lectures_graph_drawn_from_prev_and_op():
    o, inner_nodes, leaves = neuron()
    o.backward()
    # the lecture's trace: nodes and edges from _prev
    nodes, edges, stack = set(), set(), [o]
    while stack:
        v = stack.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                stack.append(child)
    dot = graphviz.Digraph(graph_attr={"rankdir": "LR"})
    for n in nodes:
        uid = str(id(n))
        dot.node(uid, label=f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}",
                 shape="record")
        if n._op:
            dot.node(uid + n._op, label=n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    source = dot.source
    assert len(nodes) == 10 and len(edges) == 9
    assert sorted(n._op for n in nodes if n._op) == ["*", "*", "+", "+", "tanh"]
    assert "{ o | data 0.7071 | grad 1.0000 }" in source
    assert "{ x1 | data 2.0000 | grad -1.5000 }" in source
    assert "label=tanh" in source and 'label="+"' in source


def test_repr_shows_the_lectures_numbers_to_the_last_digit():
    o, _, _ = neuron()
    assert repr(o) == f"Value(data={math.tanh(o.parents[0].data)!r}, grad=0.0, label='o')"
    assert repr(Value(0.1 + 0.2)) == "Value(data=0.30000000000000004, grad=0.0)"


def test_the_lectures_training_loop_runs_and_lowers_the_loss():
    # the lecture's last part: a tiny MLP trained with p.data += -lr * p.grad
    from nn.layers import MLP
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    net = MLP(3, [4, 4, 1], seed=0)
    losses = []
    for _ in range(20):
        ypred = [net(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in net.parameters():
            p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data += -0.05 * p.grad
        losses.append(loss.data)
    assert losses[-1] < losses[0] / 4
