"""PyTorch habits on engine.Value: they work as in PyTorch, or fail loudly.

In-place updates under no_grad, ``grad = None``, backward from a result
without a graph, ``detach()`` and ``bool()``.
"""

import math

import pytest

from engine import Value, backward_by_the_book, grad, no_grad, topological_order
from nn.layers import MLP
from nn.optim import SGD

# -- p -= lr * p.grad under no_grad ------------------------------------------------


def test_in_place_update_under_no_grad_changes_the_parameter_itself():
    net = MLP(2, [3, 1], seed=0)
    before = [p.data for p in net.parameters()]
    held = net.parameters()  # a list that holds the same Values
    net([0.5, -1.0]).backward()
    with no_grad():
        for p in net.parameters():
            p -= 0.1 * p.grad
    for p, old, same in zip(net.parameters(), before, held):
        assert p is same
        assert p.data == old - 0.1 * p.grad


@pytest.mark.parametrize("update, expected", [
    (lambda p: p.__iadd__(0.5), 2.5), (lambda p: p.__isub__(0.5), 1.5),
    (lambda p: p.__imul__(3.0), 6.0), (lambda p: p.__itruediv__(4.0), 0.5),
    (lambda p: p.__isub__(Value(0.25)), 1.75),
], ids=["+=", "-=", "*=", "/=", "-= a Value"])
def test_every_in_place_operator_changes_data_under_no_grad(update, expected):
    p = Value(2.0, label="w")
    with no_grad():
        result = update(p)
    assert result is p and p.data == expected and p.label == "w" and not p.parents


def test_a_pytorch_style_loop_trains_as_sgd_does():
    x, y = [0.3, -0.8], 1.0
    by_hand, by_sgd = MLP(2, [4, 1], seed=3), MLP(2, [4, 1], seed=3)
    optimizer = SGD(by_sgd.parameters(), lr=0.2)
    for _ in range(5):
        for p in by_hand.parameters():
            p.grad = None            # optimizer.zero_grad(set_to_none=True)
        ((by_hand(x) - y) ** 2).backward()
        with no_grad():
            for p in by_hand.parameters():
                p -= 0.2 * p.grad
        optimizer.zero_grad()
        ((by_sgd(x) - y) ** 2).backward()
        optimizer.step()
    assert [p.data for p in by_hand.parameters()] == [p.data for p in by_sgd.parameters()]


def test_plus_equals_with_grad_on_builds_a_new_node_and_keeps_the_original():
    losses = [Value(float(k), label=f"l{k}") for k in range(1, 4)]
    total = Value(0.0, label="total")
    first = total
    for loss in losses:
        total += loss * loss
    assert first.data == 0.0 and not first.parents  # unchanged
    assert total.data == 14.0
    total.backward()
    assert [loss.grad for loss in losses] == [2.0, 4.0, 6.0]


def test_in_place_on_an_op_result_under_no_grad_is_refused_and_changes_nothing():
    x = Value(1.0, label="x")
    y = x.tanh()
    with no_grad(), pytest.raises(RuntimeError, match="output of tanh"):
        y -= 0.1
    assert y.data == math.tanh(1.0)


def test_in_place_that_the_op_refuses_changes_nothing():
    p = Value(2.0, label="w")
    with no_grad(), pytest.raises(ZeroDivisionError, match="div"):
        p /= 0.0
    assert p.data == 2.0


# -- grad = None -------------------------------------------------------------------


def test_grad_none_counts_as_no_gradient_yet():
    x = Value(3.0, label="x")
    (x * x).backward()
    x.grad = None
    (x * x).backward()
    assert x.grad == 6.0  # one pass, not two


def test_grad_none_below_the_root_and_on_the_root():
    x, w = Value(0.5), Value(-2.0)
    s = (w * x).tanh()
    for node in (x, w, s, s.parents[0]):
        node.grad = None
    s.backward()
    assert (x.grad, w.grad) == grad(s, [x, w])


def test_a_grad_that_is_no_number_is_named():
    x = Value(3.0, label="x")
    x.grad = "zero"
    with pytest.raises(TypeError, match="'x'"):
        (x * x).backward()


def test_sgd_skips_a_parameter_without_gradient_as_pytorch_does():
    a, b = Value(1.0), Value(2.0)
    optimizer = SGD([a, b], lr=0.5)
    a.grad, b.grad = 4.0, None
    optimizer.step()
    assert (a.data, b.data) == (-1.0, 2.0)


def test_repr_shows_a_missing_gradient():
    x = Value(1.0)
    x.grad = None
    assert repr(x) == "Value(data=1.0, grad=None)"


def test_backward_step_by_hand_with_missing_gradients():
    x = Value(2.0)
    y = x * 3.0
    x.grad = None
    y.grad = 1.0
    y._backward()
    assert x.grad == 3.0


# -- results without a graph ---------------------------------------------------------


def test_backward_from_a_result_computed_under_no_grad_raises():
    w = Value(2.0, label="w")
    with no_grad():
        loss = w * w
    loss.label = "loss"
    with pytest.raises(RuntimeError, match="'loss' was computed under no_grad"):
        loss.backward()
    with pytest.raises(RuntimeError, match="no_grad"):
        grad(loss, w)
    with pytest.raises(RuntimeError, match="no_grad"):
        backward_by_the_book(loss)
    assert w.grad == 0.0


def test_backward_from_a_leaf_of_ones_own_still_works():
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0


def test_detach_is_a_constant_with_the_number_and_no_graph():
    x = Value(1.5, label="x")
    y = x * x
    d = y.detach()
    assert d.data == 2.25 and d.constant and not d.parents and d is not y
    with pytest.raises(RuntimeError, match="no_grad\\(\\) \\(or detached\\)"):
        d.backward()
    z = d * x  # no gradient flows through the detached factor
    z.backward()
    assert x.grad == 2.25


# -- bool ----------------------------------------------------------------------------


@pytest.mark.parametrize("data, truth", [(0.0, False), (-0.0, False), (2.0, True),
                                         (-1e-300, True)])
def test_bool_is_whether_the_number_is_nonzero(data, truth):
    assert bool(Value(data)) is truth


# -- backward_by_the_book --------------------------------------------------------------


def test_backward_by_the_book_has_every_node_even_below_a_dead_relu():
    w, x, b = Value(-1.0, label="w"), Value(2.0, label="x"), Value(0.5, label="b")
    c = Value(3.0, label="c")
    out = (w * x + b).relu() + c * w
    grads = backward_by_the_book(out)
    nodes = topological_order(out)
    assert set(grads) == set(nodes)
    assert [grads[n] for n in nodes] == list(grad(out, nodes))
    assert grads[x] == 0.0 and grads[b] == 0.0


def test_backward_steps_with_missing_gradients_end_where_backward_does():
    w, x = Value(-1.0, label="w"), Value(2.0, label="x")
    out = (w * x).relu() + w
    for node in (w, x):
        node.grad = None
    for _ in out.backward_steps():
        pass
    assert (w.grad, x.grad) == grad(out, [w, x])
