"""fit(compile="batch") trains as compile=True does, to 1e-12 relative.

Not ==: numpy's tanh and exp and its sums round differently from Python's in
the last bits (nn/batched.py), so the History is held to a relative bound.
"""

import numpy as np
import pytest

from nn.datasets import load_iris, make_moons, standardize, train_test_split
from nn.layers import MLP
from nn.train import fit

REL = 1e-12


def iris(test_size=0.25, seed=0):
    X, y = load_iris()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=test_size, seed=seed)
    X_train, _, _, _ = standardize(X_train, X_test)
    return X_train, y_train


def both(make_net, X, y, **options):
    """[(history, net) with compile=True, (history, net) with compile='batch']"""
    results = []
    for compile in (True, "batch"):
        net = make_net()
        results.append((fit(net, X, y, progress=False, compile=compile, **options), net))
    return results


def assert_close(per_sample, batch, rel=REL):
    (h1, net1), (h2, net2) = per_sample, batch
    assert h1.epochs == h2.epochs
    for epoch, (c1, c2) in enumerate(zip(h1.cost, h2.cost)):
        assert abs(c1 - c2) <= rel * abs(c1), f"epoch {epoch}: C {c1!r} vs {c2!r}"
    assert np.array_equal(h1.accuracy, h2.accuracy, equal_nan=True), "accuracies differ"
    assert (h1.stopped_early, h1.reason) == (h2.stopped_early, h2.reason)
    for (name, p1), p2 in zip(net1.named_parameters().items(), net2.parameters()):
        assert abs(p1.data - p2.data) <= 1e-10 * (1.0 + abs(p1.data)), name


@pytest.mark.parametrize("batch_size", [None, 7, 1])
def test_iris_full_batch_and_minibatches_give_the_per_sample_history(batch_size):
    X, y = iris()
    epochs = 100 if batch_size is None else 20 if batch_size == 7 else 5
    assert_close(*both(lambda: MLP(4, [4, 4, 1], seed=0), X, y, epochs=epochs,
                       batch_size=batch_size, seed=3))


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "mse", "hinge"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_every_loss_and_activation_gives_the_per_sample_history(loss, activation):
    X, y = make_moons(60, noise=0.2, seed=1)
    assert_close(*both(lambda: MLP(2, [8, 8, 1], activation=activation, seed=2), X, y,
                       loss=loss, epochs=15, lr=0.3))


def test_the_moons_demo_network_gives_the_per_sample_history():
    X, y = make_moons(100, noise=0.1, seed=1337)
    assert_close(*both(lambda: MLP(2, [16, 16, 1], activation="relu", seed=1337), X, y,
                       loss="hinge", epochs=30, lr=0.1, batch_size=25, seed=0))


def test_micrograds_graph_and_a_sigmoid_output_train_too():
    X, y = make_moons(40, noise=0.2, seed=4)
    assert_close(*both(lambda: MLP(2, [4, 1], seed=2, expand=True), X, y, epochs=10))
    assert_close(*both(lambda: MLP(2, [4, 1], seed=2, output_activation="sigmoid"), X,
                       y, loss="mse", epochs=10))


def test_tol_stops_at_the_same_epoch():
    X, y = iris()
    (h1, _), (h2, _) = both(lambda: MLP(4, [4, 4, 1], seed=0), X, y, epochs=300, tol=1e-4)
    assert h1.stopped_early and len(h1) == len(h2)


def test_a_custom_loss_trains_through_the_graph():
    X, y = iris()

    def my_loss(outputs, targets):
        return sum(((s - t) ** 2 for s, t in zip(outputs, targets)), start=0.0) * 0.5

    h1 = fit(MLP(4, [4, 1], seed=0), X, y, loss=my_loss, epochs=3, progress=False,
             compile=False)
    h2 = fit(MLP(4, [4, 1], seed=0), X, y, loss=my_loss, epochs=3, progress=False,
             compile="batch")
    assert h1.cost == h2.cost  # the same graph, the same numbers


def test_what_the_engine_refuses_is_refused_naming_the_row_of_X():
    X = np.zeros((10, 2))
    X[6] = [1e200, 1e200]  # (s − y)² overflows for this sample only
    y = np.arange(10.0)
    net = MLP(2, [1], seed=0, output_activation="linear")
    before = [p.data for p in net.parameters()]
    with pytest.raises(OverflowError, match=r"^sample 6: "):
        fit(net, X, y, loss="mse", epochs=2, progress=False, compile="batch")
    assert [p.data for p in net.parameters()] == before  # nothing was changed
    # in a minibatch, the sample is still named by its row of X
    net = MLP(2, [1], seed=0, output_activation="linear")
    X[6] = 0.0
    X[3] = [1e200, 1e200]
    with pytest.raises(OverflowError, match=r"^sample 3: "):
        fit(net, X, y, loss="mse", epochs=2, batch_size=4, seed=1, progress=False,
            compile="batch")


def test_a_network_that_may_branch_on_the_numbers_trains_through_the_graph():
    # one graph stands for every sample only for nn's own networks (nn.compiled)
    class Leaky(MLP):
        def __call__(self, x):
            z = super().__call__(x)
            return z if z.data > 0 else z * 0.01

    X, y = iris()
    h1 = fit(Leaky(4, [4, 1], seed=0), X, y, epochs=5, progress=False, compile=False)
    h2 = fit(Leaky(4, [4, 1], seed=0), X, y, epochs=5, progress=False, compile="batch")
    assert h1.cost == h2.cost
    assert not h2.compiled and "Leaky" in h2.compile_note
    h3 = fit(MLP(4, [4, 1], seed=0), X, y, epochs=2, progress=False, compile="batch")
    assert h3.compiled and "batch" in h3.compile_note


def test_the_gradients_fit_adds_are_python_floats():
    X, y = iris()
    net = MLP(4, [4, 4, 1], seed=0)
    fit(net, X, y, epochs=1, progress=False, compile="batch")
    assert all(type(p.grad) is float and type(p.data) is float for p in net.parameters())
