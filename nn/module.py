"""Module: what every network part shares — its parameters, saving and loading.

As in PyTorch, a module owns parameters (here: Values) and hands them out by
name, in a fixed order:

    net.named_parameters()   {'w1_11': Value, 'w1_12': Value, ..., 'b3_1': Value}
    net.parameters()         the same Values, as a list
    net.zero_grad()          every ∂C/∂w back to 0
    net.state_dict()         {'w1_11': 0.123..., ...}: plain floats, a copy
    net.load_state_dict(d)   checks everything, then copies the numbers in
    net.save(path)           JSON, written to a temporary file and renamed
    net.load(path)           reads such a file into this module

The file format (version 1) is plain JSON, readable by anything:

    {"format": "chainrule-model",
     "version": 1,
     "architecture": {"type": "MLP", "nin": 4, "nouts": [4, 4, 1],
                      "activation": "tanh", "output_activation": "linear"},
     "parameters": {"w1_11": 0.12, ..., "b3_1": -0.05}}

Floats are written with ``repr`` precision, so a saved model loads back
bit for bit. No pickle: loading a file never runs code from it.
"""

import json
import math
import os

from engine.files import read_regular_file, write_atomic
from engine.kinds import is_real

__all__ = ["Module", "ModelFormatError", "FORMAT_NAME", "FORMAT_VERSION",
           "read_model_file"]

FORMAT_NAME = "chainrule-model"
FORMAT_VERSION = 1
# The largest model file read: a million parameters take about 30 MB of JSON
# (and far more memory as Values). A larger file, or /dev/zero, is refused
# before it is parsed.
MAX_FILE_BYTES = 256 * 2**20


class ModelFormatError(ValueError):
    """A state dict or model file that cannot be loaded; the message says why.

    Raised before anything is changed: the model keeps its parameters.
    """


class Module:
    """Base class of Neuron, Layer and MLP.

    A subclass defines ``named_parameters()`` (name -> Value, in a stable
    order) and ``architecture()`` (a JSON-ready dict that, with
    ``from_architecture``, rebuilds a module of the same shape).
    """

    def named_parameters(self):
        """An ordered dict: parameter name -> Value."""
        raise NotImplementedError

    def architecture(self):
        """The shape of the module as a JSON-ready dict."""
        raise NotImplementedError

    @classmethod
    def from_architecture(cls, architecture, n_parameters=None):
        """A new module with the given architecture (parameters still random).

        With n_parameters, a ModelFormatError unless the architecture has that
        many parameters, raised before anything is built (a file that is 177
        bytes long must not make a million Values).
        """
        raise NotImplementedError

    # -- parameters -------------------------------------------------------------
    def parameters(self):
        """Every parameter Value, in the order of ``named_parameters()``."""
        return list(self.named_parameters().values())

    def zero_grad(self):
        """Set ∂C/∂p back to 0 for every parameter p (gradients accumulate)."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self):
        """How many weights and biases the module has (45 for 4-4-4-1)."""
        return len(self.named_parameters())

    # -- state dicts ------------------------------------------------------------
    def state_dict(self):
        """A copy of every parameter's number: {name: float}."""
        return {name: p.data for name, p in self.named_parameters().items()}

    def load_state_dict(self, state_dict):
        """Copy the numbers of ``state_dict`` into the parameters.

        Everything is checked first — the same names, no missing or extra
        ones, every value a finite real number — and a ModelFormatError names
        the first problem found. On error no parameter has changed.
        """
        return self._load_numbers(state_dict, "state dict")

    def _load_numbers(self, state_dict, source):
        """Check every number of state_dict first, then copy them all in."""
        numbers_by_name = self._checked_state(state_dict, source)
        parameters = self.named_parameters()
        for name, number in numbers_by_name.items():
            parameters[name].data = number
        return self

    def _checked_state(self, state_dict, source):
        """{name: float} from state_dict, or a ModelFormatError saying what is wrong."""
        if not isinstance(state_dict, dict):
            raise ModelFormatError(f"{source}: expected a dict of parameter name -> "
                                   f"number, got {type(state_dict).__name__}")
        expected = list(self.named_parameters())
        known = set(expected)  # made once: loading stays linear in the parameters
        missing = [name for name in expected if name not in state_dict]
        extra = [name for name in state_dict if name not in known]
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing {_some(missing)}")
            if extra:
                problems.append(f"unexpected {_some(extra)}")
            raise ModelFormatError(
                f"{source} does not fit {self!r} ({len(expected)} parameters): "
                + "; ".join(problems))
        checked = {}
        for name in expected:
            checked[name] = _finite_number(state_dict[name], f"{source}: parameter {name!r}")
        return checked

    # -- files ------------------------------------------------------------------
    def to_json(self):
        """The model file's content as a string (see the module docstring)."""
        for name, p in self.named_parameters().items():
            if not (isinstance(p.data, float) and math.isfinite(p.data)):
                raise ValueError(f"cannot save {self!r}: parameter {name!r} is "
                                 f"{p.data!r}, not a finite number")
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "architecture": self.architecture(),
            "parameters": self.state_dict(),
        }
        return json.dumps(document, indent=1, allow_nan=False) + "\n"

    def save(self, path):
        """Write the model to ``path`` as JSON, atomically.

        The text goes to a temporary file in the same directory, which then
        replaces ``path`` in one step (os.replace): a reader sees the old file
        or the new one, never half of one. If anything fails — a model with a
        non-finite parameter, a missing or read-only directory — an existing
        file at ``path`` is left as it was.

        A symlink is followed: its target is replaced and the link kept. An
        existing file keeps its permissions. Anything that is not a regular
        file (a device such as /dev/null, a FIFO, a directory) is refused with
        an OSError, never replaced. (engine.files.write_atomic does the
        writing, for every file chainrule writes.)
        """
        text = self.to_json()  # fails before any file is touched
        write_atomic(path, text, what="the model")

    def load(self, path):
        """Read a file written by ``save`` into this module; returns self.

        The file must hold this module's architecture. The whole file is
        checked before any parameter changes (ModelFormatError otherwise),
        by the same code as ``nn.load``, so the two accept the same files.
        To build a new network from a file instead, use ``MLP.from_file(path)``
        or ``nn.load(path)``.
        """
        document = read_model_file(path)
        if document["architecture"] != self.architecture():
            raise ModelFormatError(
                f"{os.fspath(path)}: the file holds "
                f"{_describe_architecture(document['architecture'])}, "
                f"but this model is {_describe_architecture(self.architecture())}")
        loaded = type(self).from_document(document, path)  # every check, nothing changed
        return self._load_numbers(loaded.state_dict(), os.fspath(path))

    @classmethod
    def from_file(cls, path):
        """A new module built from a file written by ``save``."""
        return cls.from_document(read_model_file(path), path)

    @classmethod
    def from_document(cls, document, path):
        """A new module from a model file's document (from ``read_model_file``).

        The one way a file becomes a module: ``nn.load``, ``from_file`` and
        ``load`` all come here. The architecture is checked, and its number of
        parameters compared with the file's, before anything is built.
        """
        where = os.fspath(path)
        architecture = document["architecture"]
        if architecture.get("type") != cls.__name__:
            raise ModelFormatError(f"{where}: the file holds "
                                   f"{_describe_architecture(architecture)}, not a "
                                   f"{cls.__name__}")
        try:
            module = cls.from_architecture(architecture,
                                           n_parameters=len(document["parameters"]))
        except ModelFormatError as error:
            raise ModelFormatError(f"{where}: {error}") from None
        return module._load_numbers(document["parameters"], where)


def read_model_file(path):
    """The checked JSON document of a model file, or a ModelFormatError.

    Only a regular file of at most MAX_FILE_BYTES is read (an OSError
    otherwise, before parsing: /dev/zero is refused, not read for ever).
    Checks the envelope — valid JSON, the format name, a known version, an
    architecture dict and a parameters dict — not the parameters themselves
    (that needs the model: see ``Module.load``).
    """
    where = os.fspath(path)
    data = read_regular_file(where, MAX_FILE_BYTES, what="a model file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ModelFormatError(f"{where} is not UTF-8 text (byte {error.start} is "
                               f"{data[error.start]:#04x}): not a model file?") from None
    try:
        # parse_constant rejects NaN and Infinity, which Python's json would accept;
        # object_pairs_hook rejects a key given twice, which it would let the last win.
        document = json.loads(text, parse_constant=_reject_constant,
                              object_pairs_hook=_object_without_duplicates)
    except ModelFormatError as error:
        raise ModelFormatError(f"{where}: {error}") from None
    except json.JSONDecodeError as error:
        raise ModelFormatError(f"{where} is not valid JSON (truncated or damaged?): "
                               f"{error}") from None
    except RecursionError:
        raise ModelFormatError(f"{where}: its JSON is nested too deeply to be a "
                               f"model file") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise ModelFormatError(f"{where}: {error}") from None
    if not isinstance(document, dict):
        raise ModelFormatError(f"{where}: expected a JSON object, got "
                               f"{type(document).__name__}")
    if document.get("format") != FORMAT_NAME:
        raise ModelFormatError(f"{where}: not a chainrule model file (its \"format\" is "
                               f"{document.get('format')!r}, expected {FORMAT_NAME!r})")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise ModelFormatError(f"{where}: format version {version!r} is not supported "
                               f"(this chainrule reads version {FORMAT_VERSION})")
    for key in ("architecture", "parameters"):
        if not isinstance(document.get(key), dict):
            raise ModelFormatError(f"{where}: {key!r} must be a JSON object, got "
                                   f"{type(document.get(key)).__name__}")
    extra = sorted(set(document) - {"format", "version", "architecture", "parameters"})
    if extra:
        raise ModelFormatError(f"{where}: unexpected top-level keys {extra}")
    return document


def _object_without_duplicates(pairs):
    document = dict(pairs)
    if len(document) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ModelFormatError(f"the key {key!r} appears more than once "
                                       f"in one JSON object")
            seen.add(key)
    return document


def _reject_constant(name):
    raise ModelFormatError(f"{name} is not a finite number")


def _finite_number(value, what):
    """value as a finite float, or a ModelFormatError naming ``what``."""
    if not is_real(value):
        raise ModelFormatError(f"{what} must be a real number, got "
                               f"{type(value).__name__}: {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ModelFormatError(f"{what} must be finite, got {value!r}")
    return number


def _some(names, shown=5):
    listed = ", ".join(repr(name) for name in names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{listed}{more}"


def _describe_architecture(architecture):
    """'MLP 4-4-4-1 (tanh, output linear)' or the raw dict if it is not an MLP."""
    if architecture.get("type") == "MLP" and isinstance(architecture.get("nouts"), list):
        sizes = "-".join(str(n) for n in [architecture.get("nin")] + architecture["nouts"])
        return (f"an MLP {sizes} (activation {architecture.get('activation')}, "
                f"output {architecture.get('output_activation')})")
    return repr(architecture)
