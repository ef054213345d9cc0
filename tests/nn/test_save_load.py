"""Saving and loading: exact round trips, and every fault leaves model and file as they were."""

import json
import math
import os

import pytest

import nn
from nn import MLP, Layer, ModelFormatError, Neuron


@pytest.fixture
def net():
    return MLP(4, [4, 4, 1], seed=0)


@pytest.fixture
def saved(tmp_path, net):
    path = tmp_path / "model.json"
    net.save(path)
    return path


def edited(path, change):
    """Write a changed copy of the saved document back to path."""
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


# -- round trips -----------------------------------------------------------------

def test_state_dict_is_plain_floats_by_name(net):
    state = net.state_dict()
    assert list(state) == list(net.named_parameters())
    assert all(type(v) is float for v in state.values())
    state["w1_11"] = 123.0  # a copy: the model does not change
    assert net.weight(1, 1, 1).data != 123.0


def test_load_state_dict_copies_every_number(net):
    other = MLP(4, [4, 4, 1], seed=1)
    other.load_state_dict(net.state_dict())
    assert other.state_dict() == net.state_dict()


def test_save_then_load_gives_back_every_bit(tmp_path, net):
    path = tmp_path / "model.json"
    net.save(path)
    other = MLP(4, [4, 4, 1], seed=99).load(path)
    assert other.state_dict() == net.state_dict()
    x = [0.5, -1.0, 2.0, 0.3]
    assert other(x).data == net(x).data


def test_saved_file_is_json_with_version_architecture_and_parameters(saved, net):
    document = json.loads(saved.read_text())
    assert document["format"] == "chainrule-model"
    assert document["version"] == 1
    assert document["architecture"] == {"type": "MLP", "nin": 4, "nouts": [4, 4, 1],
                                        "activation": "tanh",
                                        "output_activation": "linear"}
    assert document["parameters"] == net.state_dict()


def test_from_file_builds_a_new_network(saved, net):
    rebuilt = MLP.from_file(saved)
    assert rebuilt.architecture() == net.architecture()
    assert rebuilt.state_dict() == net.state_dict()


def test_nn_load_builds_whatever_module_the_file_holds(tmp_path):
    for module in (MLP(3, [2, 1], "relu", "sigmoid", seed=1), Layer(3, 2, "sigmoid", seed=2),
                   Neuron(3, "linear", seed=3)):
        path = tmp_path / f"{type(module).__name__}.json"
        module.save(path)
        loaded = nn.load(path)
        assert type(loaded) is type(module)
        assert loaded.architecture() == module.architecture()
        assert loaded.state_dict() == module.state_dict()


def test_save_leaves_no_temporary_file(tmp_path, net):
    net.save(tmp_path / "model.json")
    assert os.listdir(tmp_path) == ["model.json"]


def test_save_replaces_an_existing_file(saved):
    other = MLP(4, [4, 4, 1], seed=5)
    other.save(saved)
    assert MLP.from_file(saved).state_dict() == other.state_dict()


def test_saved_file_is_not_private_to_the_owner(saved):
    # written like any new file (the umask decides), not 0600 like a tempfile
    umask = os.umask(0)
    os.umask(umask)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask


# -- faults in load_state_dict: a clear error, and the model unchanged -------------

def _without(name):
    def change(state):
        del state[name]
    return change


def _with(name, value):
    def change(state):
        state[name] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_without("w2_22"), "missing 'w2_22'"),
    (_with("w9_99", 0.0), "unexpected 'w9_99'"),
    (_with("w2_22", "0.5"), "'w2_22' must be a real number"),
    (_with("w2_22", None), "'w2_22' must be a real number"),
    (_with("w2_22", True), "'w2_22' must be a real number"),
    (_with("w2_22", [0.5]), "'w2_22' must be a real number"),
    (_with("w2_22", math.nan), "'w2_22' must be finite"),
    (_with("b3_1", math.inf), "'b3_1' must be finite"),
    (_with("b3_1", 10 ** 400), "'b3_1' must be finite"),
])
def test_bad_state_dict_is_refused_and_changes_nothing(net, change, message):
    before = net.state_dict()
    state = {name: value + 1.0 for name, value in before.items()}
    change(state)
    with pytest.raises(ModelFormatError, match=message):
        net.load_state_dict(state)
    assert net.state_dict() == before


def test_state_dict_that_is_not_a_dict_is_refused(net):
    before = net.state_dict()
    with pytest.raises(ModelFormatError, match="expected a dict"):
        net.load_state_dict(list(before.items()))
    assert net.state_dict() == before


def test_model_format_error_is_a_value_error():
    assert issubclass(ModelFormatError, ValueError)


# -- faults in a file: a clear error, and the model unchanged ---------------------

def _set(path_in_document, value):
    def change(document):
        target = document
        for key in path_in_document[:-1]:
            target = target[key]
        target[path_in_document[-1]] = value
    return change


def _delete(key):
    def change(document):
        del document[key]
    return change


@pytest.mark.parametrize("change, message", [
    (_set(["version"], 2), "format version 2 is not supported"),
    (_set(["version"], "1"), "format version '1' is not supported"),
    (_set(["version"], True), "format version True is not supported"),
    (_set(["format"], "pickle"), "not a chainrule model file"),
    (_delete("parameters"), "'parameters' must be a JSON object"),
    (_delete("architecture"), "'architecture' must be a JSON object"),
    (_set(["extra"], 1), "unexpected top-level keys"),
    (_set(["architecture", "nouts"], [4, 3, 1]), "the file holds an MLP 4-4-3-1"),
    (_set(["architecture", "activation"], "relu"), "activation relu"),
    (_set(["parameters", "w2_22"], "abc"), "'w2_22' must be a real number"),
    (_set(["parameters", "w2_22"], None), "'w2_22' must be a real number"),
    (_set(["parameters", "w9_99"], 1.0), "unexpected 'w9_99'"),
])
def test_bad_file_is_refused_and_changes_nothing(saved, change, message):
    edited(saved, change)
    model = MLP(4, [4, 4, 1], seed=42)
    before = model.state_dict()
    with pytest.raises(ModelFormatError, match=message):
        model.load(saved)
    assert model.state_dict() == before


def test_missing_parameter_in_file_is_counted(saved):
    # Counted, not named: the count is checked before the network is built.
    edited(saved, lambda document: document["parameters"].pop("b2_3"))
    model = MLP(4, [4, 4, 1], seed=42)
    before = model.state_dict()
    with pytest.raises(ModelFormatError, match="has 45 parameters, but the file holds only 44"):
        model.load(saved)
    assert model.state_dict() == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_number_in_file_is_refused(saved, literal):
    text = saved.read_text()
    value = repr(json.loads(text)["parameters"]["w1_11"])
    saved.write_text(text.replace(value, literal, 1))
    model = MLP(4, [4, 4, 1], seed=42)
    before = model.state_dict()
    with pytest.raises(ModelFormatError, match="finite"):
        model.load(saved)
    assert model.state_dict() == before


@pytest.mark.parametrize("cut", [0, 1, 50, -3])
def test_truncated_file_is_refused(saved, cut):
    text = saved.read_text()
    saved.write_text(text[:cut] if cut >= 0 else text[:cut])
    model = MLP(4, [4, 4, 1], seed=42)
    before = model.state_dict()
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        model.load(saved)
    assert model.state_dict() == before


def test_json_that_is_not_an_object_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text("[1, 2, 3]")
    with pytest.raises(ModelFormatError, match="expected a JSON object"):
        MLP(4, [4, 4, 1], seed=0).load(path)


def test_missing_file_raises_file_not_found(tmp_path, net):
    before = net.state_dict()
    with pytest.raises(FileNotFoundError):
        net.load(tmp_path / "nothing.json")
    assert net.state_dict() == before


@pytest.mark.parametrize("architecture, message", [
    ({"type": "MLP", "nin": 0, "nouts": [1], "activation": "tanh",
      "output_activation": "linear"}, "'nin' must be a positive integer"),
    ({"type": "MLP", "nin": 4, "nouts": 1, "activation": "tanh",
      "output_activation": "linear"}, "'nouts' must be a non-empty list"),
    ({"type": "MLP", "nin": 4, "nouts": [4, 1.5], "activation": "tanh",
      "output_activation": "linear"}, "'nouts' must be a positive integer"),
    ({"type": "MLP", "nin": 4, "nouts": [1], "activation": "gelu",
      "output_activation": "linear"}, "'activation' must be one of"),
    ({"type": "MLP", "nin": 4, "nouts": [1], "activation": "tanh"}, "missing keys"),
    ({"type": "Transformer"}, "unknown module type"),
])
def test_bad_architecture_in_file_is_refused_by_nn_load(tmp_path, architecture, message):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"format": "chainrule-model", "version": 1,
                                "architecture": architecture, "parameters": {}}))
    with pytest.raises(ModelFormatError, match=message):
        nn.load(path)


def test_from_file_refuses_another_module_type(tmp_path):
    path = tmp_path / "layer.json"
    Layer(4, 4, seed=0).save(path)
    with pytest.raises(ModelFormatError, match="not a MLP"):
        MLP.from_file(path)


# -- faults in save: an existing file is left as it was ----------------------------

def test_save_with_a_non_finite_parameter_fails_and_keeps_the_old_file(saved, net):
    original = saved.read_bytes()
    net.weight(2, 2, 2).data = math.nan  # possible only by assigning .data directly
    with pytest.raises(ValueError, match="'w2_22'.*not a finite number"):
        net.save(saved)
    assert saved.read_bytes() == original
    assert os.listdir(saved.parent) == ["model.json"]


def test_save_into_a_missing_directory_fails(tmp_path, net):
    with pytest.raises(FileNotFoundError):
        net.save(tmp_path / "no" / "such" / "model.json")
    assert os.listdir(tmp_path) == []


def test_save_that_fails_while_writing_keeps_the_old_file(saved, net, monkeypatch):
    original = saved.read_bytes()

    def failing_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        MLP(4, [4, 4, 1], seed=3).save(saved)
    assert saved.read_bytes() == original
    assert os.listdir(saved.parent) == ["model.json"]  # the temporary file is gone


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions and a non-root user")
def test_save_into_a_read_only_directory_keeps_the_old_file(saved, net):
    original = saved.read_bytes()
    os.chmod(saved.parent, 0o500)
    try:
        with pytest.raises(PermissionError):
            MLP(4, [4, 4, 1], seed=3).save(saved)
    finally:
        os.chmod(saved.parent, 0o700)
    assert saved.read_bytes() == original
