"""viz.training_replay: what the replay of a recorded fit holds, computed in Python."""

import base64
import json
import re

import numpy as np
import pytest

import nn
from engine import no_grad
from nn.datasets import load_iris, make_moons, standardize, train_test_split
from nn.train import fit
from viz import TrainingReplay, training_replay
from viz.labels import number


@pytest.fixture(scope="module")
def iris_run():
    """Notebook 04's run: versicolor vs virginica, seed 0, ε = 0.5, 100 epochs."""
    X, y = load_iris(classes=("versicolor", "virginica"))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    X_train, X_test, _, _ = standardize(X_train, X_test)
    history = fit(nn.MLP(4, [4, 4, 1], seed=0), X_train, y_train, lr=0.5, record=True,
                  progress=False)
    return history, X_train, y_train, X_test, y_test


@pytest.fixture(scope="module")
def iris_replay(iris_run):
    history, X_train, y_train, X_test, y_test = iris_run
    return training_replay(history, X_train, y_train, features=(2, 3), X_test=X_test,
                           y_test=y_test)


def param(replay, label):
    return next(p for p in replay.data["params"] if p["label"] == label)


def test_every_shown_number_is_the_recorded_runs(iris_run, iris_replay):
    history = iris_run[0]
    data = iris_replay.data
    assert data["epochs"] == list(range(101))
    assert data["cost"] == history.cost
    for p in data["params"]:
        assert p["values"] == [entry[p["label"]] for entry in history.params]
        assert p["grads"][:-1] == [entry[p["label"]] for entry in history.grads]
        assert p["grads"][-1] is None  # the last epoch took no step
        assert p["valueText"][7] == number(history.params[7][p["label"]], 4)


def test_the_next_value_shown_is_the_next_epochs_parameter(iris_run, iris_replay):
    history = iris_run[0]
    w = param(iris_replay, "w2_22")
    for e in range(100):
        # w_{e+1} = w_e − ε g_e, and that is what fit left after epoch e + 1
        assert w["nextText"][e] == number(history.params[e + 1]["w2_22"], 4)
    assert iris_replay.data["nextEpoch"][:3] == [1, 2, 3]
    assert iris_replay.data["nextEpoch"][-1] is None


def test_the_test_cost_is_the_engines_cost_of_the_test_data(iris_run, iris_replay):
    history, _, _, X_test, y_test = iris_run
    for e in (0, 10, 100):
        net = history.model(e)
        with no_grad():
            cost = nn.binary_cross_entropy([net(x) for x in X_test], list(y_test))
        assert iris_replay.data["testCost"][e] == pytest.approx(cost.data, rel=1e-12)
    trained = nn.train.accuracy(history.model(100), X_test, y_test)
    assert iris_replay.data["testAccuracyText"][100] == f"{trained:.2f}"


def test_the_boundary_is_the_networks_probability_over_the_two_features(iris_run,
                                                                        iris_replay):
    history, X_train, *_ = iris_run
    boundary = iris_replay.data["boundary"]
    size = boundary["size"]
    pictures = [np.frombuffer(base64.b64decode(p), dtype=np.uint8)
                for p in boundary["pictures"]]
    assert all(p.size == size * size for p in pictures)
    assert not np.array_equal(pictures[0], pictures[-1])
    # one cell by the engine: the top-left corner is (lowest x_3, highest x_4)
    low, high = boundary["xRange"][0], boundary["yRange"][1]
    x = X_train.mean(axis=0)
    x[2], x[3] = float(low), float(high)
    net = history.model(100)
    with no_grad():
        s = net(list(x)).data
    assert abs(pictures[-1][0] / 255 - 1 / (1 + np.exp(-s))) < 0.01


def test_the_selected_weight_is_w2_22_or_else_the_first_weight():
    X, y = make_moons(40, noise=0.1, seed=0)
    small = fit(nn.MLP(2, [1]), X, y, epochs=3, record=True, progress=False)
    assert training_replay(small, X, y).data["selected"] == "w1_11"
    deep = fit(nn.MLP(2, [16, 16, 1], activation="relu", seed=0), X, y, loss="hinge",
               epochs=3, lr=0.05, record=True, progress=False)
    replay = training_replay(deep, X, y)  # micrograd's moons: the data's own plane
    assert replay.data["selected"] == "w2_22"
    assert replay.data["boundary"]["xName"] == "x_1"
    assert training_replay(small, X, y, weight="(b_1)^1").data["selected"] == "b1_1"


def test_a_history_without_a_record_is_refused_with_advice():
    X, y = make_moons(20, seed=0)
    history = fit(nn.MLP(2, [2, 1], seed=0), X, y, epochs=2, progress=False)
    with pytest.raises(ValueError, match="record=True"):
        training_replay(history, X, y)


def test_bad_features_are_refused(iris_run):
    history, X_train, y_train, *_ = iris_run
    for bad in [(0, 0), (0, 4), (1,)]:
        with pytest.raises(ValueError, match="features"):
            training_replay(history, X_train, y_train, features=bad)


def test_long_runs_are_thinned_with_a_note():
    X, y = make_moons(30, seed=0)
    history = fit(nn.MLP(2, [3, 1], seed=0), X, y, epochs=60, record=True, progress=False)
    replay = training_replay(history, X, y, max_epochs=11)
    assert replay.data["epochs"][0] == 0 and replay.data["epochs"][-1] == 60
    assert len(replay.data["epochs"]) == 11
    assert "61 epochs were recorded" in replay.data["note"]
    thinned = fit(nn.MLP(2, [3, 1], seed=0), X, y, epochs=60, record=20, progress=False)
    assert training_replay(thinned, X, y).data["epochs"] == [0, 20, 40, 60]


def test_the_quiz_expects_the_next_value_and_knows_the_wrong_sign(iris_run):
    history, X_train, y_train, *_ = iris_run
    replay = training_replay(history, X_train, y_train, quiz=True)
    mistakes = replay.data["mistakes"]
    w = param(replay, "w2_22")
    for e in (0, 10, 99):
        expected, tolerance, direction, wrong = w["quiz"][e]
        value, g = history.params[e]["w2_22"], history.grads[e]["w2_22"]
        assert abs(expected - history.params[e + 1]["w2_22"]) < tolerance / 100
        assert direction == (-1 if g > 0 else 1)
        by_name = {mistakes[i]: v for v, _, i in wrong}
        if e == 99:
            # the step is smaller than the 3 digits checked: w ± ε g both pass
            assert abs(history.lr * g) < tolerance and "sign" not in by_name
            continue
        assert by_name["sign"] == pytest.approx(value + history.lr * g, rel=1e-6)
    assert w["quiz"][100] is None  # nothing follows the last epoch
    for text in replay.data["quizText"].values():
        assert not re.search(r"\d\.\d", text)  # no number, so no answer, in a message
    assert "sign" in replay.data["quizText"]["sign"]
    assert "direction" in replay.data["quizText"]["down"].lower()


def test_the_saved_page_is_one_small_file_with_no_url(iris_replay, tmp_path):
    path = iris_replay.save(tmp_path / "training.html")
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 1_000_000  # the issue's bound for notebook 04's run
    urls = set(re.findall(r"""https?://[^\s\\"'<>)]+""", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    state = json.loads(re.search(r'id="cr-state">(.*?)</script>', text, re.S).group(1))
    assert state["data"]["epochs"] == iris_replay.data["epochs"]
    assert "export default { render };" in text


def test_the_replay_is_an_anywidget_widget(iris_replay):
    import anywidget

    assert isinstance(iris_replay, TrainingReplay)
    assert isinstance(iris_replay, anywidget.AnyWidget)
    assert "function render({ model, el })" in iris_replay._esm
    assert "101 epochs" in repr(iris_replay)
    own = set(TrainingReplay.class_trait_names(sync=True))
    assert own - set(anywidget.AnyWidget.class_trait_names(sync=True)) == {
        "data", "answers", "standalone"}


def test_where_the_widget_cannot_run_a_picture_of_the_boundary_is_shown(iris_replay):
    import struct
    import zlib

    from viz.replay import boundary_image

    data, _ = iris_replay._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    for shown in (data["text/plain"], data["text/html"]):  # and how, in JupyterLab 4
        assert "Run this cell to replay the training" in shown and "Trust Notebook" in shown
    assert data["image/png"] in data["text/html"]  # the same picture, for sanitisers
    assert 'style="max-width:100%"' in data["text/html"]  # no wider than the column
    picture = base64.b64decode(data["image/png"])
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", picture[16:24])
    expected = boundary_image(iris_replay.data["boundary"], -1)
    assert (height, width) == expected.shape[:2]
    # the pixels are the last epoch's boundary: decode the one IDAT chunk
    start = picture.index(b"IDAT") + 4
    length = struct.unpack(">I", picture[start - 8:start - 4])[0]
    rows = zlib.decompress(picture[start:start + length])
    pixels = np.frombuffer(rows, dtype=np.uint8).reshape(height, 1 + 3 * width)[:, 1:]
    assert np.array_equal(pixels.reshape(height, width, 3), expected.astype(np.uint8))
    first = boundary_image(iris_replay.data["boundary"], 0)
    assert not np.array_equal(first, expected)
