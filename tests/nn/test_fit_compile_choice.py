"""fit(compile=True) gives the graph's numbers or trains through the graph
(reliability issue, §1): a branch on the data, the compiled step's cache key,
and compiling only where it pays."""

import numpy as np
import pytest

import nn.compiled
from engine import Value
from nn.layers import MLP
from nn.module import Module
from nn.train import fit


@pytest.fixture(autouse=True)
def fresh_cache():
    nn.compiled.clear_cache()
    yield
    nn.compiled.clear_cache()


def data(n=30, features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    return X, (X.sum(axis=1) > 0).astype(float)


def histories(make_net, X, y, **options):
    """[(history, parameters)] with compile=True, then compile=False."""
    results = []
    for compile in (True, False):
        net = make_net()
        history = fit(net, X, y, progress=False, compile=compile, **options)
        results.append((history, [p.data for p in net.parameters()]))
    return results


def assert_same_numbers(compiled, graph):
    assert compiled[0].cost == graph[0].cost
    assert compiled[1] == graph[1]


class LeakyByHand(Module):
    """A custom network whose forward pass branches on a number."""

    def __init__(self):
        self.inner = MLP(3, [4, 1], seed=1)

    def named_parameters(self):
        return self.inner.named_parameters()

    def __call__(self, x):
        z = self.inner(x)
        return z if z.data > 0 else z * 0.01


def test_a_network_that_branches_on_the_data_trains_through_the_graph():
    X, y = data()
    compiled, graph = histories(LeakyByHand, X, y, epochs=20)
    assert_same_numbers(compiled, graph)
    assert not compiled[0].compiled
    assert "branch on the numbers" in compiled[0].compile_note


class Scaled(MLP):
    """An MLP subclass whose output is multiplied by a constant, self.scale."""

    scale = 1.0

    def __call__(self, x):
        return super().__call__(x) * self.scale


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_a_subclass_with_its_own_call_keeps_its_constant(scale):
    X, y = data(seed=2)

    def make():
        net = Scaled(3, [4, 1], seed=0)
        net.scale = scale
        return net

    # after a fit of another scale, each still trains with its own
    compiled, graph = histories(make, X, y, epochs=20)
    assert_same_numbers(compiled, graph)


def test_an_activation_changed_after_construction_gets_its_own_code():
    X, y = data(seed=3)
    first = histories(lambda: MLP(3, [4, 1], seed=0), X, y, epochs=30)
    assert first[0][0].compiled, first[0][0].compile_note

    def relu_first():
        net = MLP(3, [4, 1], seed=0)
        net.layers[0].neurons[0].activation = "relu"
        return net

    compiled, graph = histories(relu_first, X, y, epochs=30)
    assert compiled[0].compiled
    assert_same_numbers(compiled, graph)
    assert compiled[0].cost != first[0][0].cost


def test_the_cache_key_covers_the_constants_of_the_graph():
    x = [Value(0.5, label="x_1")]
    net = MLP(1, [1], seed=0)
    keys = []
    for constant in (1.0, 3.0, 1.0):
        s = net(x) * constant
        order = nn.compiled.topological_order(s)
        keys.append(nn.compiled._signature(order, net.parameters() + x, s))
    assert keys[0] == keys[2] != keys[1]


def test_fit_does_not_compile_where_compiling_cannot_pay(monkeypatch):
    # 784-64-1 on 2 samples: ~51,000 nodes to compile for two epochs of two samples
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2, 784)), np.array([0.0, 1.0])
    compiled = []
    monkeypatch.setattr(nn.compiled, "compile_sample_step",
                        lambda *a, **k: compiled.append(1))
    history = fit(MLP(784, [64, 1], seed=0), X, y, epochs=2, progress=False)
    assert not compiled and not history.compiled
    assert "not faster than the graph" in history.compile_note


def test_fit_compiles_from_the_second_epoch_where_it_pays():
    X, y = data(n=40, seed=4)
    compiled, graph = histories(lambda: MLP(3, [4, 4, 1], seed=0), X, y, epochs=40)
    assert compiled[0].compiled and compiled[0].compile_note.startswith("compiled code")
    assert_same_numbers(compiled, graph)


def test_a_single_epoch_is_never_compiled():
    X, y = data(seed=5)
    history = fit(MLP(3, [4, 1], seed=0), X, y, epochs=1, progress=False)
    assert not history.compiled and "one epoch" in history.compile_note


def test_fit_goes_back_to_the_graph_if_the_compiled_epoch_was_not_faster(monkeypatch):
    original = nn.compiled.CompileChoice.after_compiled_epoch
    monkeypatch.setattr(nn.compiled.CompileChoice, "after_compiled_epoch",
                        lambda self, seconds: original(self, 1e9))  # as if very slow
    X, y = data(n=40, seed=6)
    compiled, graph = histories(lambda: MLP(3, [4, 1], seed=0), X, y, epochs=30)
    assert compiled[0].compile_note.startswith("the graph again from epoch 4")
    assert_same_numbers(compiled, graph)
