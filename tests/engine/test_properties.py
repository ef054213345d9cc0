"""Property-based tests: random expression graphs, checked against central differences.

A program is a few leaves and a list of steps; each step applies one op to
earlier nodes (chosen at random, so nodes are reused). Ops whose domain is
limited only see safe arguments: log of a square plus 1, sqrt of a square plus
a little, a power of a positive base, division by a square plus 1. The output
is the sum of every computed node, so every node matters.
"""

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import engine
from engine import OPS, Value, apply, weighted_sum

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.filter_too_much,
                                           HealthCheck.too_slow])

STEPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "neg": lambda a, b: -a,
    "square": lambda a, b: a ** 2,
    "cube": lambda a, b: a ** 3,
    "pow": lambda a, b: (a * a + 0.5) ** b,
    "pow-float": lambda a, b: (a * a + 0.5) ** 1.5,
    "2**a": lambda a, b: 2 ** a,
    "2-a": lambda a, b: 2 - a,
    "1/(a²+1)": lambda a, b: 1 / (a * a + 1),
    "3*a": lambda a, b: 3 * a,
    "a+2": lambda a, b: a + 2,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: (a * a + 1).log(),
    "log-exp": lambda a, b: a.exp().log(),
    "sqrt": lambda a, b: (a * a + 0.01).sqrt(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "weighted_sum": lambda a, b: weighted_sum([a, b], [b, a], a),
    "weighted_sum-no-bias": lambda a, b: weighted_sum([a], [b]),
    "softplus": lambda a, b: a.softplus(),
    "squared_error": lambda a, b: apply(OPS["squared_error"], a, b),
    "binary_cross_entropy": lambda a, b: apply(OPS["binary_cross_entropy"], a, b),
}

LIMIT = 50.0   # |data| of every node: keeps round-off of the differences small


@st.composite
def programs(draw):
    n_leaves = draw(st.integers(1, 3))
    leaves = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False),
                           min_size=n_leaves, max_size=n_leaves))
    steps = []
    for k in range(draw(st.integers(1, 8))):
        available = n_leaves + k
        steps.append((draw(st.sampled_from(sorted(STEPS))),
                      draw(st.integers(0, available - 1)),
                      draw(st.integers(0, available - 1))))
    return leaves, steps


def run(steps, leaves):
    """(every node, output, relu inputs) of the program on these leaf Values."""
    nodes = list(leaves)
    relu_inputs = []
    for name, i, j in steps:
        if name == "relu":
            relu_inputs.append(nodes[i])
        nodes.append(STEPS[name](nodes[i], nodes[j]))
    output = nodes[len(leaves)]
    for node in nodes[len(leaves) + 1:]:
        output = output + node
    return nodes, output, relu_inputs


def build(program):
    leaf_data, steps = program
    leaves = [Value(x, label=f"x{k + 1}") for k, x in enumerate(leaf_data)]
    try:
        nodes, output, relu_inputs = run(steps, leaves)
    except (ArithmeticError, ValueError):
        assume(False)   # outside the engine's domain: not this test's subject
    assume(all(abs(node.data) <= LIMIT for node in nodes) and abs(output.data) <= 1e4)
    for r in relu_inputs:
        # far enough from the kink that no difference step crosses it
        slope = sum(abs(g) for g in engine.grad(r, leaves))
        assume(abs(r.data) > 1e-2 * (1.0 + slope))
    return leaves, nodes, output


def function_of(program):
    return lambda *leaves: run(program[1], list(leaves))[1]


@SETTINGS
@given(programs())
def test_random_expression_passes_gradcheck(program):
    leaves, _, output = build(program)
    report = engine.gradcheck(function_of(program), leaves)
    assert report, str(report)


@SETTINGS
@given(programs())
def test_random_expression_gradients_are_finite_and_backward_equals_grad(program):
    leaves, nodes, output = build(program)
    expected = engine.grad(output, leaves)
    output.backward()
    assert [x.grad for x in leaves] == list(expected)
    assert all(math.isfinite(node.grad) for node in engine.topological_order(output))


@SETTINGS
@given(programs())
def test_random_expression_backward_twice_doubles_every_gradient(program):
    _, _, output = build(program)
    every_node = engine.topological_order(output)
    output.backward()
    first = [node.grad for node in every_node]
    output.backward()
    assert [node.grad for node in every_node] == [2 * g for g in first]


@SETTINGS
@given(programs(), st.floats(-3.0, 3.0, allow_nan=False))
def test_random_expression_backward_steps_leaves_exactly_what_backward_leaves(program,
                                                                             start):
    _, _, by_backward = build(program)
    _, _, by_steps = build(program)
    nodes_b = engine.topological_order(by_backward)
    nodes_s = engine.topological_order(by_steps)
    for k, (a, b) in enumerate(zip(nodes_b, nodes_s)):
        a.grad = b.grad = start * k
    by_backward.backward()
    steps = list(by_steps.backward_steps())
    assert [step.node for step in steps] == nodes_s[::-1]
    assert [node.grad for node in nodes_s] == [node.grad for node in nodes_b]


@SETTINGS
@given(programs())
def test_random_expression_zero_grad_resets_every_node(program):
    _, _, output = build(program)
    output.backward()
    engine.zero_grad(output)
    assert all(node.grad == 0.0 for node in engine.topological_order(output))


@SETTINGS
@given(programs())
def test_random_expression_topological_order_puts_each_node_after_its_parents(program):
    leaves, nodes, output = build(program)
    order = engine.topological_order(output)
    position = {node: k for k, node in enumerate(order)}
    assert len(position) == len(order)
    assert set(nodes[len(leaves):]) <= set(order)   # every computed node (a leaf may be unused)
    for node in order:
        assert all(position[parent] < position[node] for parent in node.parents)


@settings(SETTINGS, max_examples=50)
@given(programs())
def test_random_expression_second_derivatives_match_differences_of_first(program):
    leaves, _, output = build(program)
    first = engine.grad(output, leaves, create_graph=True)
    f = function_of(program)
    h = 1e-5
    for i, g in enumerate(first):
        row = engine.grad(g, leaves)
        for j, x in enumerate(leaves):
            original = x.data
            try:
                x.data = original + h
                plus = engine.grad(f(*leaves), leaves)[i]
                x.data = original - h
                minus = engine.grad(f(*leaves), leaves)[i]
            finally:
                x.data = original
            assert row[j] == pytest.approx((plus - minus) / (2 * h), rel=1e-4, abs=1e-4)


@SETTINGS
@given(programs())
def test_random_expression_fast_backward_equals_the_backward_by_the_book(program):
    leaves, nodes, output = build(program)
    by_the_book = engine.backward_by_the_book(output)
    output.backward()
    for node in set(nodes):
        assert node.grad == by_the_book.get(node, 0.0), node
