"""fit(compile=True) gives exactly (==) the History and parameters of the graph's fit."""

import math

import numpy as np
import pytest

import nn.compiled
from nn.datasets import load_iris, make_moons, standardize, train_test_split
from nn.layers import MLP
from nn.train import fit


def iris(seed=0):
    X, y = load_iris()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.5, seed=seed)
    X_train, _, _, _ = standardize(X_train, X_test)
    return X_train, y_train


def both(make_net, X, y, **options):
    """(history, net) from fit with compile=True and with compile=False."""
    results = []
    for compile in (True, False):
        net = make_net()
        history = fit(net, X, y, progress=False, compile=compile, **options)
        results.append((history, net))
    return results


def assert_same(compiled, graph):
    (h1, net1), (h2, net2) = compiled, graph
    assert h1.epochs == h2.epochs
    assert h1.cost == h2.cost, "the costs per epoch differ"
    assert np.array_equal(h1.accuracy, h2.accuracy, equal_nan=True), "accuracies differ"
    assert (h1.stopped_early, h1.reason) == (h2.stopped_early, h2.reason)
    p1, p2 = net1.named_parameters(), net2.named_parameters()
    assert {k: p.data for k, p in p1.items()} == {k: p.data for k, p in p2.items()}, \
        "the trained parameters differ"
    assert {k: p.grad for k, p in p1.items()} == {k: p.grad for k, p in p2.items()}, \
        "the parameters' last gradients differ"


@pytest.mark.parametrize("batch_size", [None, 7, 1])
def test_iris_full_batch_and_minibatches_give_the_same_history_and_parameters(batch_size):
    X, y = iris()
    epochs = 30 if batch_size != 1 else 5
    compiled, graph = both(lambda: MLP(4, [4, 4, 1], seed=0), X, y, epochs=epochs,
                           batch_size=batch_size, seed=3)
    assert compiled[0].compiled, compiled[0].compile_note
    assert_same(compiled, graph)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "mse", "hinge"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_every_loss_and_activation_gives_the_same_history(loss, activation):
    X, y = make_moons(60, noise=0.2, seed=1)
    assert_same(*both(lambda: MLP(2, [8, 8, 1], activation=activation, seed=2), X, y,
                      loss=loss, epochs=15, lr=0.3))


def test_regression_targets_and_micrograds_graph_give_the_same_history():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = np.sin(X).sum(axis=1)
    assert_same(*both(lambda: MLP(3, [6, 1], expand=True, seed=5), X, y, epochs=20, lr=0.05))


def test_tol_stops_at_the_same_epoch():
    X, y = iris(1)
    compiled, graph = both(lambda: MLP(4, [4, 4, 1], seed=1), X, y, epochs=300, tol=1e-3)
    assert compiled[0].stopped_early
    assert_same(compiled, graph)


def test_a_divergent_learning_rate_raises_the_engines_error_either_way():
    X, y = iris()
    errors = []
    for compile in (True, False):
        with pytest.raises((OverflowError, FloatingPointError)) as caught:
            fit(MLP(4, [4, 4, 1], activation="relu", output_activation="linear", seed=0),
                X, y * 1e150, loss="mse", lr=1e150, epochs=5, progress=False, compile=compile)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


def test_the_step_is_compiled_once_per_architecture_and_cost(monkeypatch):
    nn.compiled.clear_cache()
    compiled = []
    original = nn.compiled.compile_sample_step
    monkeypatch.setattr(nn.compiled, "compile_sample_step",
                        lambda *a, **k: compiled.append(1) or original(*a, **k))
    monkeypatch.setattr(nn.compiled, "COMPILE_SECONDS_PER_NODE", 0.0)  # always pays
    X, y = iris()
    for seed in range(3):
        history = fit(MLP(4, [4, 4, 1], seed=seed), X, y, epochs=3, batch_size=5,
                      progress=False)
        assert history.compiled
    assert len(compiled) == 1
    fit(MLP(4, [4, 4, 1], seed=0), X, y, loss="mse", epochs=2, progress=False)
    fit(MLP(4, [3, 1], seed=0), X, y, epochs=2, progress=False)
    assert len(compiled) == 3


def test_a_custom_loss_trains_through_the_graph():
    X, y = iris()

    def custom(outputs, targets):
        total = 0.0
        for s, t in zip(outputs, targets):
            total = total + (s - t) ** 2
        return total / len(outputs)

    assert_same(*both(lambda: MLP(4, [4, 1], seed=0), X, y, loss=custom, epochs=5))
    assert nn.compiled.compiled_batch_cost(MLP(4, [1]), custom, X.tolist(), y.tolist(),
                                           None) is None


def test_callback_sees_the_trained_parameters():
    X, y = iris()
    seen = {}
    for compile in (True, False):
        fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=3, progress=False, compile=compile,
            callback=lambda epoch, cost, net, c=compile: seen.setdefault(c, []).append(
                (epoch, cost, [p.data for p in net.parameters()])))
    assert seen[True] == seen[False]
    assert not math.isnan(seen[True][-1][1])
