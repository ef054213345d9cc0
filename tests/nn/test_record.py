"""fit(..., record=True): every parameter and gradient, epoch by epoch, as the run had them."""

import pytest

from nn.datasets import load_iris, standardize, train_test_split
from nn.layers import MLP
from nn.train import fit


def iris(seed=0):
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=seed)
    X_train, X_test, _, _ = standardize(X_train, X_test)
    return X_train, y_train


@pytest.mark.parametrize("compiled", [True, False])
def test_each_recorded_epoch_is_the_last_one_minus_lr_times_its_gradient(compiled):
    X, y = iris()
    history = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=12, progress=False,
                  record=True, compile=compiled)
    assert history.recorded == list(range(13))
    assert len(history.params) == 13 and len(history.grads) == 12
    for e, g in enumerate(history.grads):
        for label, w in history.params[e].items():
            # w_{e+1} = w_e − ε g_e, bit for bit as SGD.step computes it
            assert history.params[e + 1][label] == w - history.lr * g[label], (e, label)


def test_the_recorded_gradient_is_the_engines_gradient_of_the_mean_cost():
    X, y = iris()
    history = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=3, progress=False, record=True,
                  compile=True)
    from nn.losses import binary_cross_entropy
    for e in range(3):
        net = MLP(4, [4, 4, 1], seed=0)
        net.load_state_dict(history.params[e])
        binary_cross_entropy([net(x) for x in X], y).backward()
        grads = {name: p.grad for name, p in net.named_parameters().items()}
        assert grads == pytest.approx(history.grads[e], rel=1e-12, abs=1e-15)


def test_params_0_is_the_network_before_and_the_last_the_network_fit_returns():
    X, y = iris()
    net = MLP(4, [4, 4, 1], seed=3)
    before = net.state_dict()
    history = fit(net, X, y, epochs=7, progress=False, record=True)
    assert history.params[0] == before
    assert history.params[-1] == net.state_dict()
    assert list(history.params[0]) == list(net.state_dict())  # the labels, in order
    assert "w2_22" in history.params[0]


@pytest.mark.parametrize("compiled", [True, False])
def test_recorded_epoch_e_equals_a_separate_fit_of_e_epochs(compiled):
    X, y = iris(1)
    history = fit(MLP(4, [4, 4, 1], seed=1), X, y, epochs=6, progress=False,
                  record=True, compile=compiled)
    for e in (1, 4, 6):
        alone = MLP(4, [4, 4, 1], seed=1)
        fit(alone, X, y, epochs=e, progress=False, compile=compiled)
        assert history.params[e] == alone.state_dict()


def test_compiled_and_graph_runs_record_the_same_numbers():
    X, y = iris(2)
    runs = [fit(MLP(4, [4, 4, 1], seed=2), X, y, epochs=4, progress=False, record=True,
                compile=compiled) for compiled in (True, False)]
    assert runs[0].params == runs[1].params
    assert runs[0].grads == runs[1].grads


def test_record_k_keeps_every_kth_epoch_and_the_last():
    X, y = iris()
    every = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=10, progress=False, record=True)
    thinned = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=10, progress=False, record=3)
    assert thinned.recorded == [0, 3, 6, 9, 10]
    assert thinned.params == [every.params[e] for e in (0, 3, 6, 9, 10)]
    assert thinned.grads == [every.grads[e] for e in (0, 3, 6, 9)]
    exact = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=9, progress=False, record=3)
    assert exact.recorded == [0, 3, 6, 9] and len(exact.grads) == 3


def test_an_early_stop_records_the_epoch_it_stopped_at():
    X, y = iris()
    history = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=500, tol=1e-3, progress=False,
                  record=50)
    assert history.stopped_early
    assert history.recorded[-1] == len(history) and history.recorded[-2] % 50 == 0


def test_minibatch_gradients_add_up_to_the_epochs_step():
    X, y = iris()
    history = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=3, batch_size=10, seed=0,
                  progress=False, record=True)
    for e, g in enumerate(history.grads):
        for label, w in history.params[e].items():
            assert history.params[e + 1][label] == pytest.approx(
                w - history.lr * g[label], rel=1e-12, abs=1e-14)


def test_without_record_nothing_is_kept_and_the_repr_says_what_is():
    X, y = iris()
    plain = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=2, progress=False)
    assert plain.params == [] and plain.grads == [] and plain.nbytes == 0
    assert "recorded" not in repr(plain)
    history = fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=100, progress=False, record=True)
    text = repr(history)
    assert "recorded 101 epochs (every epoch)" in text
    assert "45 parameters and 100 gradients" in text
    assert "kB" in text
    # 201 dicts of 45 floats: at least the floats themselves (24 bytes each)
    assert 201 * 45 * 24 < history.nbytes < 201 * 45 * 24 * 4


@pytest.mark.parametrize("bad", [0, -1, 2.5, "yes"])
def test_record_must_be_true_false_or_a_whole_number(bad):
    X, y = iris()
    with pytest.raises(ValueError, match="record"):
        fit(MLP(4, [4, 4, 1], seed=0), X, y, epochs=2, progress=False, record=bad)


def test_model_i_is_a_network_holding_that_epochs_numbers():
    X, y = iris()
    net = MLP(4, [4, 4, 1], seed=0)
    history = fit(net, X, y, epochs=5, progress=False, record=True)
    again = history.model(2)
    assert again is not net and again.state_dict() == history.params[2]
    assert net.state_dict() == history.params[-1]  # untouched
