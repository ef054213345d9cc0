"""backward, backward_steps, zero_grad, topological_order: accumulation semantics."""

import math
import sys

import pytest

import engine
from engine import Value, weighted_sum

# -- small graphs with hand-derived gradients --------------------------------------

def reused_intermediate_graph(x=0.8, y=-1.3):
    """out = b² + tanh b + b·x with b = x·y used three times.

    d out/d b (all paths) = 2b + 1 − tanh² b + x
    d out/d x = (d out/d b)·y + b,  d out/d y = (d out/d b)·x
    """
    x, y = Value(x, label="x"), Value(y, label="y")
    b = x * y
    b.label = "b"
    square, squash, cross = b * b, b.tanh(), b * x
    head = square + squash
    out = head + cross
    nodes = dict(x=x, y=y, b=b, square=square, squash=squash, cross=cross, head=head,
                 out=out)
    return nodes


def expected_reused_intermediate_gradients(x=0.8, y=-1.3):
    b = x * y
    d_b = 2 * b + 1 - math.tanh(b) ** 2 + x
    return dict(x=d_b * y + b, y=d_b * x, b=d_b, square=1.0, squash=1.0, cross=1.0,
                head=1.0, out=1.0)


def test_a_plus_a_gives_gradient_two():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_x_times_x_gives_gradient_two_x():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_a_node_used_on_several_paths_gets_the_sum_over_paths():
    # y = x² + 3x + x − x·x·x  ⇒  dy/dx = 2x + 4 − 3x²
    x = Value(1.25)
    (x * x + x * 3 + x - x * x * x).backward()
    assert x.grad == pytest.approx(2 * 1.25 + 4 - 3 * 1.25 ** 2, rel=1e-15)


def test_every_node_including_intermediates_gets_d_root_d_node():
    nodes = reused_intermediate_graph()
    nodes["out"].backward()
    for name, expected in expected_reused_intermediate_gradients().items():
        assert nodes[name].grad == pytest.approx(expected, rel=1e-14), name


def test_backward_twice_doubles_every_gradient_below_a_reused_intermediate():
    nodes = reused_intermediate_graph()
    out = nodes["out"]
    every_node = engine.topological_order(out)
    out.backward()
    first = [node.grad for node in every_node]
    out.backward()
    assert [node.grad for node in every_node] == [2 * g for g in first]
    # micrograd re-sends what the first pass left and gives 3x at x and y
    expected = expected_reused_intermediate_gradients()
    assert nodes["x"].grad == pytest.approx(2 * expected["x"], rel=1e-14)
    assert nodes["y"].grad == pytest.approx(2 * expected["y"], rel=1e-14)


def test_backward_three_times_triples_every_gradient():
    nodes = reused_intermediate_graph()
    out = nodes["out"]
    every_node = engine.topological_order(out)
    out.backward()
    first = [node.grad for node in every_node]
    out.backward()
    out.backward()
    assert [node.grad for node in every_node] == [g + g + g for g in first]


def test_backward_of_two_roots_adds_their_gradients():
    x = Value(1.5)
    first, second = x * x, x.exp()
    first.backward()
    second.backward()
    assert x.grad == pytest.approx(2 * 1.5 + math.exp(1.5), rel=1e-15)


def test_backward_seeds_the_root_with_the_given_gradient():
    nodes = reused_intermediate_graph()
    nodes["out"].backward(gradient=-4.0)
    assert nodes["out"].grad == -4.0
    for name, expected in expected_reused_intermediate_gradients().items():
        assert nodes[name].grad == pytest.approx(-4.0 * expected, rel=1e-14), name


def test_backward_of_a_leaf_gives_it_gradient_one():
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0


def test_backward_touches_no_node_outside_the_graph():
    x, y = Value(2.0), Value(5.0)
    unrelated = y * 3
    (x * x).backward()
    assert y.grad == 0.0 and unrelated.grad == 0.0


def test_backward_through_weighted_sum_and_activation():
    # a = tanh(w1·x1 + w2·x2 + b): da/dw_k = (1 − a²)·x_k, da/db = 1 − a²
    w1, w2, x1, x2, b = (Value(v) for v in (0.3, -0.8, 1.5, 0.25, 0.1))
    a = weighted_sum([w1, w2], [x1, x2], b).tanh()
    a.backward()
    slope = 1 - math.tanh(0.3 * 1.5 - 0.8 * 0.25 + 0.1) ** 2
    assert w1.grad == pytest.approx(slope * 1.5, rel=1e-14)
    assert w2.grad == pytest.approx(slope * 0.25, rel=1e-14)
    assert x1.grad == pytest.approx(slope * 0.3, rel=1e-14)
    assert x2.grad == pytest.approx(slope * -0.8, rel=1e-14)
    assert b.grad == pytest.approx(slope, rel=1e-14)


# -- zero_grad ------------------------------------------------------------------------

def test_zero_grad_resets_every_node_of_the_graph():
    nodes = reused_intermediate_graph()
    nodes["out"].backward()
    engine.zero_grad(nodes["out"])
    assert all(node.grad == 0.0 for node in engine.topological_order(nodes["out"]))
    assert all(node.grad == 0.0 for node in nodes.values())


def test_zero_grad_then_backward_gives_a_single_pass_gradient():
    nodes = reused_intermediate_graph()
    out = nodes["out"]
    every_node = engine.topological_order(out)
    out.backward()
    first = [node.grad for node in every_node]
    out.backward()
    engine.zero_grad(out)
    out.backward()
    assert [node.grad for node in every_node] == first


def test_zero_grad_leaves_nodes_outside_the_graph_alone():
    x, y = Value(2.0), Value(3.0)
    y.grad = 7.0
    out = x * x
    out.backward()
    engine.zero_grad(out)
    assert x.grad == 0.0
    assert y.grad == 7.0


# -- topological_order ----------------------------------------------------------------

def test_topological_order_puts_every_node_after_its_parents():
    out = reused_intermediate_graph()["out"]
    order = engine.topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]


def test_topological_order_lists_every_reachable_node_once_and_the_root_last():
    nodes = reused_intermediate_graph()
    order = engine.topological_order(nodes["out"])
    assert len(order) == len(set(order))
    assert set(nodes.values()) <= set(order)
    reachable, stack = set(), [nodes["out"]]
    while stack:
        node = stack.pop()
        if node not in reachable:
            reachable.add(node)
            stack.extend(node.parents)
    assert set(order) == reachable
    assert order[-1] is nodes["out"]


# -- a deep chain, under the default recursion limit ---------------------------------

DEFAULT_RECURSION_LIMIT = 1000


@pytest.fixture
def default_recursion_limit():
    """Run the test under CPython's default limit, whatever the runner set."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    yield
    assert sys.getrecursionlimit() == DEFAULT_RECURSION_LIMIT, "the engine changed it"
    sys.setrecursionlimit(previous)


@pytest.mark.slow
def test_chain_of_1e5_operations_works_under_the_default_recursion_limit(
        default_recursion_limit):
    # y = x·r·r·…·r (1e5 times, r = 1 + 1e-5): dy/dx = r^1e5, d y/d(node k) = r^(1e5−k)
    steps = 100_000
    ratio = 1.0 + 1e-5
    x = Value(1.0)
    y = x
    for _ in range(steps):
        y = y * ratio
    order = engine.topological_order(y)
    assert len(order) == 2 * steps + 1   # x, one constant and one product per step
    assert order[-1] is y
    position = {node: i for i, node in enumerate(order)}
    assert all(position[parent] < position[node] for node in order for parent in node.parents)
    y.backward()
    assert x.grad == pytest.approx(ratio ** steps, rel=1e-9)
    assert engine.grad(y, [x])[0] == pytest.approx(ratio ** steps, rel=1e-9)
    assert sum(1 for _ in y.backward_steps()) == 2 * steps + 1
    engine.zero_grad(y)
    assert x.grad == 0.0
    del y, order  # freeing a deep graph must not recurse either


# -- backward_steps ----------------------------------------------------------------------

def small_graph():
    """out = w·z with z = x·y, w = z + x; at x = 2, y = −3:
    d out/d w = z = −6, d out/d z = w + z = −10, d out/d x = 24, d out/d y = −20."""
    x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    z = x * y
    w = z + x
    out = w * z
    return dict(x=x, y=y, z=z, w=w, out=out)


SMALL_GRAPH_GRADIENTS = dict(out=1.0, w=-6.0, z=-10.0, x=24.0, y=-20.0)


def test_backward_steps_yields_one_record_per_node_root_first_in_reverse_topological_order():
    out = small_graph()["out"]
    expected_order = engine.topological_order(out)[::-1]
    steps = list(out.backward_steps())
    assert [step.node for step in steps] == expected_order
    assert steps[0].node is out
    assert [step.index for step in steps] == list(range(len(expected_order)))


def test_backward_steps_record_holds_the_complete_gradient_of_its_node():
    nodes = small_graph()
    names = {node: name for name, node in nodes.items()}
    for step in nodes["out"].backward_steps():
        assert step.grad == SMALL_GRAPH_GRADIENTS[names[step.node]]


def test_backward_steps_root_sends_local_derivative_and_contribution_to_each_parent():
    nodes = small_graph()
    first = next(nodes["out"].backward_steps())
    assert [send.parent for send in first.sends] == [nodes["w"], nodes["z"]]
    assert [send.local_derivative for send in first.sends] == [-6.0, -4.0]   # z, w
    assert [send.contribution for send in first.sends] == [-6.0, -4.0]


def test_backward_steps_contribution_is_gradient_times_local_derivative():
    nodes = small_graph()
    steps = {step.node: step for step in nodes["out"].backward_steps()}
    w_step, z_step = steps[nodes["w"]], steps[nodes["z"]]
    assert [(s.parent, s.local_derivative, s.contribution) for s in w_step.sends] == [
        (nodes["z"], 1.0, -6.0), (nodes["x"], 1.0, -6.0)]
    assert [(s.parent, s.local_derivative, s.contribution) for s in z_step.sends] == [
        (nodes["x"], -3.0, 30.0), (nodes["y"], 2.0, -20.0)]
    for step in steps.values():
        for send in step.sends:
            assert send.contribution == step.grad * send.local_derivative
        assert len(step.sends) == len(step.node.parents)


def test_backward_steps_leaves_have_no_sends():
    nodes = small_graph()
    for step in nodes["out"].backward_steps():
        if not step.node.parents:
            assert step.sends == ()


def test_backward_steps_applies_each_step_before_yielding_it():
    nodes = small_graph()
    steps = nodes["out"].backward_steps()
    next(steps)
    assert nodes["out"].grad == 1.0
    assert nodes["w"].grad == -6.0
    assert nodes["z"].grad == -4.0       # only the root's contribution so far
    assert nodes["x"].grad == 0.0


def test_backward_steps_changes_nothing_until_iterated():
    nodes = small_graph()
    nodes["out"].backward_steps()
    assert all(node.grad == 0.0 for node in nodes.values())


def test_backward_steps_pending_lists_the_nodes_still_to_visit():
    out = small_graph()["out"]
    steps = list(out.backward_steps())
    for step in steps:
        assert step.pending() == [s.node for s in steps[step.index + 1:]]


def test_backward_steps_of_a_leaf_is_one_step_without_sends():
    x = Value(3.0)
    steps = list(x.backward_steps())
    assert len(steps) == 1
    assert steps[0].node is x and steps[0].grad == 1.0 and steps[0].sends == ()
    assert x.grad == 1.0


@pytest.mark.parametrize("start_grads", ["zero", "nonzero"])
@pytest.mark.parametrize("seed", [1.0, -0.37])
def test_backward_steps_run_to_the_end_leaves_exactly_what_backward_leaves(start_grads,
                                                                           seed):
    by_backward = engine.topological_order(reused_intermediate_graph()["out"])
    by_steps = engine.topological_order(reused_intermediate_graph()["out"])
    if start_grads == "nonzero":
        for k, (a, b) in enumerate(zip(by_backward, by_steps)):
            a.grad = b.grad = 0.1 * k - 0.35 + 1e-3 * k * k
    by_backward[-1].backward(seed)
    for _ in by_steps[-1].backward_steps(seed):
        pass
    assert [node.grad for node in by_steps] == [node.grad for node in by_backward]


def test_backward_steps_twice_doubles_every_gradient_like_backward():
    out = reused_intermediate_graph()["out"]
    every_node = engine.topological_order(out)
    list(out.backward_steps())
    first = [node.grad for node in every_node]
    list(out.backward_steps())
    assert [node.grad for node in every_node] == [2 * g for g in first]
