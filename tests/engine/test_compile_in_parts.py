"""A very long program is compiled and run in parts (memory per node stays small);
it computes exactly what the one function computes, and refuses the same."""

import math

import numpy as np
import pytest

import engine
import engine.codegen
from engine import Value
from nn.layers import MLP
from nn.losses import binary_cross_entropy


@pytest.fixture
def small_parts(monkeypatch):
    """Every program of more than 10 lines runs in parts of about 200 characters."""
    monkeypatch.setattr(engine.codegen, "LARGE_PROGRAM", 10)
    monkeypatch.setattr(engine.codegen, "CHARACTERS_PER_PART", 200)


def network(seed=0, activation="tanh"):
    net = MLP(4, [4, 4, 1], activation=activation, seed=seed)
    x = [Value(v, label=f"x_{k}") for k, v in enumerate([0.3, -0.2, 0.9, 1.1], start=1)]
    y = Value(1.0, label="y")
    return net, x, y


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_compile_in_parts_equals_the_one_function(small_parts, activation):
    net, x, y = network(activation=activation)
    cost = binary_cross_entropy(net(x), y)
    parts = engine.compile(cost, net.parameters() + x)
    numbers = [p.data for p in net.parameters()] + [v.data for v in x]
    expected = engine.grad(cost, net.parameters() + x)
    assert parts(*numbers) == (cost.data, expected)
    assert parts.function.__name__ == "function"  # the parts, not one function


def test_sgd_and_sample_steps_in_parts_equal_the_engine(small_parts):
    net, x, y = network(seed=3)
    s = net(x)
    cost = binary_cross_entropy(s, y)
    parameters = net.parameters()
    step = engine.compile_sgd_step(cost, parameters, x + [y])
    sample = engine.compile_sample_step(cost, parameters, x + [y], outputs=[s])
    numbers = [v.data for v in x] + [1.0]
    weights = [p.data for p in parameters]
    c, s_value, gradients = sample(weights, (0.0,) * len(weights), *numbers, 0.5)
    expected = engine.grad(cost, parameters)
    assert (c, s_value) == (cost.data, s.data)
    assert gradients == tuple(0.0 + 0.5 * g for g in expected)
    assert step(weights, *numbers, 0.1) == cost.data
    assert weights == [p.data - 0.1 * g for p, g in zip(parameters, expected)]


def test_parts_refuse_what_the_engine_refuses_and_keep_the_line_numbers(small_parts):
    x = Value(2.0, label="x")
    out = x
    for _ in range(12):
        out = out * 1.5 + 1.0
    out = (out - 200.0).log()
    f = engine.compile(out, [x])
    with pytest.raises(ValueError, match="log"):
        f(-1.0)  # the engine's own error, from the replay
    with pytest.raises(ValueError, match=r"argument 1 \(x\) must be finite"):
        f(math.inf)
    with pytest.raises(ValueError) as caught:
        f.function(-1.0)  # the bare code: Python's own error, in the generated line
    frame = caught.tb
    while frame.tb_next:
        frame = frame.tb_next
    assert frame.tb_frame.f_code.co_filename.startswith("<engine.compile")
    assert "math.log" in f.source.splitlines()[frame.tb_lineno - 1]


def test_a_50000_op_chain_compiles_in_parts_and_equals_backward():
    leaves = [Value(0.5, label="x"), Value(1.0001, label="c"), Value(1e-4, label="d")]
    out = leaves[0]
    for i in range(50_000):
        out = out * leaves[1] if i % 2 == 0 else out + leaves[2]
    f = engine.compile(out, leaves)
    assert len(f.source.splitlines()) > engine.codegen.LARGE_PROGRAM
    out.backward()
    assert f(0.5, 1.0001, 1e-4) == (out.data, tuple(leaf.grad for leaf in leaves))


def test_numpy_numbers_and_lists_go_through_parts(small_parts):
    net, x, y = network(seed=5)
    cost = binary_cross_entropy(net(x), y)
    f = engine.compile(cost, x)
    value, _ = f(*np.array([0.3, -0.2, 0.9, 1.1]))
    assert value == cost.data
