"""Hostile model files: every malformed file is a ModelFormatError naming the file.

The model is left untouched, sizes are checked before anything is built,
loading is linear in the number of parameters, and net.load, MLP.from_file
and nn.load accept and refuse the same files.
"""

import json
import sys

import pytest

import nn
from engine import notation
from nn import MLP, ModelFormatError


def document(net):
    return json.loads(net.to_json())


def write(tmp_path, text, name="model.json"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused_by_every_loader(path, message):
    """Check net.load, MLP.from_file and nn.load all refuse path, leaving net as it was."""
    net = MLP(4, [4, 4, 1], seed=7)
    before = net.state_dict()
    for load in (net.load, MLP.from_file, nn.load):
        with pytest.raises(ModelFormatError, match=message) as error:
            load(path)
        assert str(path) in str(error.value)
    assert net.state_dict() == before


def test_deeply_nested_json_is_a_model_format_error(tmp_path):
    path = write(tmp_path, '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused_by_every_loader(path, "nested too deeply")


def test_bytes_that_are_not_utf8_are_a_model_format_error(tmp_path):
    text = MLP(4, [4, 4, 1], seed=0).to_json().encode("utf-8")
    path = write(tmp_path, text[:40] + b"\xff\xfe" + text[40:])
    refused_by_every_loader(path, "not UTF-8 text")


@pytest.mark.parametrize("where", ["top level", "parameters"])
def test_a_key_given_twice_is_refused(tmp_path, where):
    text = MLP(4, [4, 4, 1], seed=0).to_json()
    if where == "top level":
        text = text.replace('"version": 1,', '"version": 1, "version": 1,', 1)
    else:
        text = text.replace('"w1_11": ', '"w1_11": 0.5, "w1_11": ', 1)
    assert text.count('"version"') + text.count('"w1_11"') == 3  # the edit happened
    refused_by_every_loader(write(tmp_path, text), "appears more than once")


def test_an_integer_too_long_for_python_to_parse_is_a_model_format_error(tmp_path):
    net = MLP(4, [4, 4, 1], seed=0)
    text = net.to_json().replace(repr(net.weight(1, 1, 1).data), "1" * 5000, 1)
    # Python refuses to parse it (more than 4300 digits), or it is not finite
    refused_by_every_loader(write(tmp_path, text), "digits|finite")


@pytest.mark.parametrize("module_type", [[], {}, 3, None])
def test_a_module_type_that_is_not_a_name_is_refused(tmp_path, module_type):
    content = document(MLP(4, [4, 4, 1], seed=0))
    content["architecture"]["type"] = module_type
    path = write(tmp_path, json.dumps(content))
    with pytest.raises(ModelFormatError, match="unknown module type"):
        nn.load(path)


def test_a_version_that_is_a_float_is_refused(tmp_path):
    content = document(MLP(4, [4, 4, 1], seed=0))
    content["version"] = 1.0
    refused_by_every_loader(write(tmp_path, json.dumps(content)), "format version 1.0")


# -- sizes before allocation ---------------------------------------------------------

def test_a_tiny_file_declaring_a_huge_layer_is_refused_before_building_it(tmp_path,
                                                                        monkeypatch):
    built = []
    original = nn.layers.Neuron.__init__
    monkeypatch.setattr(nn.layers.Neuron, "__init__",
                        lambda self, *args, **kwargs: (built.append(1),
                                                       original(self, *args, **kwargs))[1])
    path = write(tmp_path, json.dumps({
        "format": "chainrule-model", "version": 1,
        "architecture": {"type": "MLP", "nin": 1000, "nouts": [1000],
                         "activation": "tanh", "output_activation": "linear"},
        "parameters": {"w1_11": 0.5}}))
    assert path.stat().st_size < 200
    with pytest.raises(ModelFormatError, match="has 1001000 parameters, but the file "
                                               "holds only 1"):
        nn.load(path)
    assert built == []


@pytest.mark.parametrize("architecture", [
    {"type": "Neuron", "nin": 10 ** 12, "activation": "tanh"},
    {"type": "Layer", "nin": 10 ** 6, "nout": 10 ** 6, "activation": "tanh"},
])
def test_huge_neurons_and_layers_are_refused_before_building(tmp_path, architecture):
    path = write(tmp_path, json.dumps({"format": "chainrule-model", "version": 1,
                                       "architecture": architecture, "parameters": {}}))
    with pytest.raises(ModelFormatError, match="but the file holds only 0"):
        nn.load(path)


def test_a_renamed_parameter_is_still_named(tmp_path):
    content = document(MLP(4, [4, 4, 1], seed=0))
    content["parameters"]["w9_99"] = content["parameters"].pop("b2_3")
    refused_by_every_loader(write(tmp_path, json.dumps(content)),
                            "missing 'b2_3'; unexpected 'w9_99'")


class CountedName(str):
    """A parameter name that counts each time it is hashed or compared.

    A set or dict of names rebuilt, or a list of names scanned, inside one
    line of Python is work a count of lines cannot see; this sees it.
    """

    uses = 0

    def __hash__(self):
        CountedName.uses += 1
        return str.__hash__(self)

    def __eq__(self, other):
        CountedName.uses += 1
        return str.__eq__(self, other)


def lines_executed(function):
    """How many lines of Python function() executes."""
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        function()
    finally:
        sys.settrace(None)
    return lines


def loading_work(tmp_path, monkeypatch, nin):
    """(lines of Python executed, uses of parameter names) to load MLP(nin, [25, 1]).

    nn.load and net.load, both. Counts, not times: the same on a loaded
    machine as on an idle one.
    """
    net = MLP(nin, [25, 1], seed=0)
    path = tmp_path / f"model-{nin}.json"
    net.save(path)

    def load():
        loaded = nn.load(path)
        net.load(path)
        assert loaded.state_dict() == net.state_dict()

    lines = lines_executed(load)
    with monkeypatch.context() as patch:
        patch.setattr(nn.layers, "parameter_name",
                      lambda *args: CountedName(notation.label(*args)))
        CountedName.uses = 0
        load()
    return lines, CountedName.uses


def test_loading_twice_the_parameters_is_twice_the_work(tmp_path, monkeypatch):
    # 1,051 and 2,051 parameters. The check for unexpected names built
    # set(expected) once per name: the same lines, but 3.8 x the uses of
    # names for twice the parameters (40,401 parameters took about a minute).
    small = loading_work(tmp_path, monkeypatch, 40)
    large = loading_work(tmp_path, monkeypatch, 80)
    assert large[0] < 2.5 * small[0], ("lines", small, large)
    assert large[1] < 2.5 * small[1], ("uses of names", small, large)


# -- one code path -------------------------------------------------------------------

def with_architecture(**changes):
    content = document(MLP(4, [4, 4, 1], seed=0))
    content["architecture"].update(changes)
    return content


@pytest.mark.parametrize("content", [
    with_architecture(nin=4.0),
    with_architecture(nouts=[4.0, 4, 1]),
    with_architecture(nouts=[4, 4, True]),
    with_architecture(extra="key"),
], ids=["nin a float", "a layer size a float", "a layer size a bool", "an extra key"])
def test_net_load_refuses_what_nn_load_refuses(tmp_path, content):
    # The first three compare equal to the model's architecture (4.0 == 4,
    # True == 1), which was all that net.load checked; nn.load refused them.
    path = write(tmp_path, json.dumps(content))
    refused_by_every_loader(path, "architecture|the file holds")


def test_every_loader_accepts_a_saved_file(tmp_path):
    saved = MLP(4, [4, 4, 1], seed=0)
    path = tmp_path / "model.json"
    saved.save(path)
    net = MLP(4, [4, 4, 1], seed=7)
    for loaded in (net.load(path), MLP.from_file(path), nn.load(path)):
        assert loaded.state_dict() == saved.state_dict()
