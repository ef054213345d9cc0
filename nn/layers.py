"""Neuron, Layer and MLP, indexed as in the article.

    net = MLP(4, [4, 4, 1], seed=0)     # the 4-4-4-1 network
    s = net([5.1, 3.5, 1.4, 0.2])       # the prediction s, a Value
    net.weight(2, 2, 2)                 # (w_22)^2, label 'w2_22'
    net.z(3, 2), net.a(3, 2)            # (z_2)^3 and (a_2)^3 of that pass

Layers are numbered l = 1 (the input) ... L (the output); L = 4 here.
(w_jk)^l connects neuron k of layer l to neuron j of layer l+1, and

    (z_j)^{l+1} = Σ_k (w_jk)^l (a_k)^l + (b_j)^l,    (a_j)^{l+1} = f((z_j)^{l+1}),

with a^1 = x. In code, ``net.layers[l - 2]`` computes layer l (``net.layers[0]``
computes layer 2 from the input), so (w_jk)^l is
``net.layers[l - 1].neurons[j - 1].w[k - 1]``.

Initialisation: one numpy Generator, ``numpy.random.default_rng(seed)``, draws
for every neuron in order (layer by layer, neuron by neuron) its weights and
then its bias, each uniform in (−1/√nin, 1/√nin) where nin is the neuron's
number of inputs — PyTorch's default for ``nn.Linear``. The same seed gives the
same network; ``seed=None`` gives a fresh random one.
"""

import numbers
import os

import numpy as np

from engine import Value, notation, weighted_sum
from engine.kinds import is_real, is_whole
from nn.module import ModelFormatError, Module, _describe_architecture, read_model_file

__all__ = ["Neuron", "Layer", "MLP", "ACTIVATIONS", "load", "parameter_name"]

# a = f(z) for each activation: the Value's op, or z itself for 'linear' (no node)
_ACTIVATE = {"tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu,
             "linear": lambda z: z}
ACTIVATIONS = tuple(_ACTIVATE)


# The label of a parameter or node: parameter_name('w', 2, 2, 2) -> 'w2_22'.
parameter_name = notation.label


def _check_activation(activation, what="activation"):
    if activation not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {', '.join(ACTIVATIONS)}; "
                         f"got {activation!r}")
    return activation


def _check_size(n, what):
    if not is_whole(n) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


class Neuron(Module):
    """One neuron: a = f(z), z = Σ_k w_k x_k + b.

    w          -- its nin weights (Values); b -- its bias (a Value)
    activation -- 'tanh', 'sigmoid', 'relu' or 'linear' (f(z) = z)
    expand     -- if True, z is built from elementary × and + nodes (micrograd's
                  graph) instead of one ``weighted_sum`` node; same numbers
    seed       -- an int, None, or a numpy Generator to draw from (see the
                  module docstring for the scheme)
    """

    def __init__(self, nin, activation="tanh", seed=None, expand=False):
        self.nin = _check_size(nin, "nin (the number of inputs)")
        self.activation = _check_activation(activation)
        self.expand = bool(expand)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.nin)
        self.w = [Value(float(w)) for w in rng.uniform(-bound, bound, size=self.nin)]
        self.b = Value(float(rng.uniform(-bound, bound)))
        self.name_parameters()

    def name_parameters(self, layer=None, j=None):
        """Label the weights and bias: w_k and b on its own, w2_22 and b2_2 in a net."""
        for k, w in enumerate(self.w, start=1):
            w.label = f"w_{k}" if j is None else parameter_name("w", layer, j, k)
        self.b.label = "b" if j is None else parameter_name("b", layer, j)

    def weighted_input(self, x):
        """z = Σ_k w_k x_k + b, the article's weighted input (one node)."""
        if len(x) != self.nin:
            raise ValueError(f"{self!r} takes {self.nin} inputs, got {len(x)}")
        if not self.expand:
            return weighted_sum(self.w, x, self.b)
        z = self.w[0] * x[0]
        for w, x_k in zip(self.w[1:], x[1:]):
            z = z + w * x_k
        return z + self.b

    def activate(self, z):
        """a = f(z). For 'linear', a is z itself (no extra node)."""
        return _ACTIVATE[self.activation](z)

    def __call__(self, x):
        return self.activate(self.weighted_input(x))

    def named_parameters(self):
        names = {f"w_{k}": w for k, w in enumerate(self.w, start=1)}
        names["b"] = self.b
        return names

    def architecture(self):
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    @classmethod
    def from_architecture(cls, architecture, n_parameters=None):
        _check_keys(architecture, ("type", "nin", "activation"))
        nin = _file_size(architecture, "nin")
        activation = _file_activation(architecture, "activation")
        _check_count(architecture, nin + 1, n_parameters)
        return cls(nin, activation)

    def __repr__(self):
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons that all read the same nin inputs; returns a list of nout Values.

    A layer always returns a list, even with one neuron, so a 1-neuron hidden
    layer works like any other.
    """

    def __init__(self, nin, nout, activation="tanh", seed=None, expand=False):
        self.nin = _check_size(nin, "nin (the number of inputs)")
        self.nout = _check_size(nout, "nout (the number of neurons)")
        self.activation = _check_activation(activation)
        rng = np.random.default_rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng, expand=expand)
                        for _ in range(self.nout)]
        self.name_parameters()

    def name_parameters(self, layer=None):
        """Label every parameter: w_jk and b_j on its own, w2_jk and b2_j in a net."""
        for j, neuron in enumerate(self.neurons, start=1):
            neuron.name_parameters(layer, j)

    def __call__(self, x):
        return [neuron(x) for neuron in self.neurons]

    def named_parameters(self, layer=None):
        """{'w_11': ..., 'b_1': ...}; with layer=l, the names in a net ('w2_11')."""
        names = {}
        for j, neuron in enumerate(self.neurons, start=1):
            for k, w in enumerate(neuron.w, start=1):
                names[parameter_name("w", layer, j, k)] = w
            names[parameter_name("b", layer, j)] = neuron.b
        return names

    def architecture(self):
        return {"type": "Layer", "nin": self.nin, "nout": self.nout,
                "activation": self.activation}

    @classmethod
    def from_architecture(cls, architecture, n_parameters=None):
        _check_keys(architecture, ("type", "nin", "nout", "activation"))
        nin, nout = _file_size(architecture, "nin"), _file_size(architecture, "nout")
        activation = _file_activation(architecture, "activation")
        _check_count(architecture, (nin + 1) * nout, n_parameters)
        return cls(nin, nout, activation)

    def __repr__(self):
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: MLP(4, [4, 4, 1]) is the article's 4-4-4-1 network.

    nin               -- the number of inputs, the neurons of layer 1
    nouts             -- the neurons of layers 2 .. L
    activation        -- f of the hidden layers: 'tanh', 'sigmoid', 'relu', 'linear'
    output_activation -- f of the output layer ('linear': s = z^L, a logit or a
                         real-valued prediction)
    seed              -- an int (reproducible), None (fresh) or a numpy Generator
    expand            -- True: build z from elementary × and + (micrograd's graph)

    ``net(x)`` returns the output: a Value labelled 's' when the last layer has
    one neuron, else a list of Values labelled 's_1', 's_2', ...
    """

    def __init__(self, nin, nouts, activation="tanh", output_activation="linear",
                 seed=None, expand=False):
        self.nin = _check_size(nin, "nin (the number of inputs)")
        if isinstance(nouts, numbers.Integral):
            raise TypeError(f"nouts must be a list of layer sizes, e.g. [4, 4, 1], "
                            f"not {nouts!r}")
        self.nouts = [_check_size(n, "each layer size in nouts") for n in nouts]
        if not self.nouts:
            raise ValueError("nouts must name at least one layer, e.g. [4, 4, 1]")
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation, "output_activation")
        self.expand = bool(expand)
        rng = np.random.default_rng(seed)
        sizes = self.sizes
        self.layers = []
        for l in range(1, len(sizes)):
            f = self.output_activation if l == len(sizes) - 1 else self.activation
            layer = Layer(sizes[l - 1], sizes[l], f, seed=rng, expand=expand)
            layer.name_parameters(l)  # W^l is in net.layers[l - 1]
            self.layers.append(layer)
        self._weighted_inputs = None  # z^2 .. z^L of the last forward pass
        self._activations = None      # a^1 .. a^L of the last forward pass

    @property
    def sizes(self):
        """Neurons per layer, input first: [4, 4, 4, 1] for 4-4-4-1."""
        return [self.nin] + self.nouts

    @property
    def num_layers(self):
        """L, the number of layers counting the input layer (4 for 4-4-4-1)."""
        return len(self.nouts) + 1

    # -- forward pass -----------------------------------------------------------
    def __call__(self, x):
        """The forward pass: a^1 = x, z^{l+1} = W^l a^l + b^l, a^{l+1} = f(z^{l+1}).

        x is a list or 1-d numpy array of nin numbers or Values. Numbers
        become leaves labelled 'x_1' .. 'x_n' (a^1 = x). Every z and a is
        labelled ('z3_2', 'a3_2'; the output 's') and kept until the next
        call, for ``net.z(l, j)`` and ``net.a(l, j)``.
        """
        inputs = self._inputs(x)
        last = self.num_layers
        activations = [inputs]
        weighted_inputs = [None]  # layer 1 has no weighted input
        for l, layer in enumerate(self.layers, start=2):
            zs, outs = [], []
            for j, neuron in enumerate(layer.neurons, start=1):
                # neuron.weighted_input then neuron.activate is neuron(x), split
                # in two so that the pass can keep z as well as a.
                z = neuron.weighted_input(activations[-1])
                z.label = parameter_name("z", l, j)
                a = neuron.activate(z)
                # With 'linear', a is z: the one node takes a's label.
                if l == last:
                    a.label = "s" if layer.nout == 1 else f"s_{j}"
                else:
                    a.label = parameter_name("a", l, j)
                zs.append(z)
                outs.append(a)
            weighted_inputs.append(zs)
            activations.append(outs)
        self._weighted_inputs = weighted_inputs
        self._activations = activations
        output = activations[-1]
        return output[0] if len(output) == 1 else list(output)

    def _inputs(self, x):
        if isinstance(x, np.ndarray):
            if x.ndim != 1:
                raise ValueError(f"{self!r} takes one sample, a 1-d array of {self.nin} "
                                 f"numbers; got an array of shape {x.shape} "
                                 f"(call the network once per row)")
            x = x.tolist()
        elif isinstance(x, (Value, numbers.Real)):
            x = [x]
        x = list(x)
        if len(x) != self.nin:
            raise ValueError(f"{self!r} takes {self.nin} inputs (layer 1 has "
                             f"{self.nin} neurons), got {len(x)}")
        inputs = []
        for k, x_k in enumerate(x, start=1):
            if isinstance(x_k, Value):
                if not x_k.label:
                    x_k.label = f"x_{k}"
            elif not is_real(x_k):
                raise TypeError(f"input x_{k} must be a number or a Value, not "
                                f"{type(x_k).__name__}: {x_k!r}")
            else:
                try:
                    x_k = Value(x_k, label=f"x_{k}")
                except ValueError:  # nan, ±inf or an int beyond a float
                    raise ValueError(f"{self!r}: input x_{k} must be a finite number, "
                                     f"got {x_k!r}") from None
            inputs.append(x_k)
        return inputs

    # -- the article's indexing ---------------------------------------------------
    def weight(self, l, j, k):
        """(w_jk)^l: from neuron k of layer l to neuron j of layer l+1 (1-based)."""
        self._check_index(l, 1, self.num_layers - 1, "layer l",
                          f"for weights (W^l connects layer l to layer l+1 in a "
                          f"{self.num_layers}-layer network)")
        self._check_index(j, 1, self.sizes[l], "j", f"(neurons in layer {l + 1})")
        self._check_index(k, 1, self.sizes[l - 1], "k", f"(neurons in layer {l})")
        return self.layers[l - 1].neurons[j - 1].w[k - 1]

    def bias(self, l, j):
        """(b_j)^l: the bias of neuron j of layer l+1, added to (z_j)^{l+1}."""
        self._check_index(l, 1, self.num_layers - 1, "layer l",
                          f"for biases (b^l is added to z^(l+1) in a "
                          f"{self.num_layers}-layer network)")
        self._check_index(j, 1, self.sizes[l], "j", f"(neurons in layer {l + 1})")
        return self.layers[l - 1].neurons[j - 1].b

    def z(self, l, j):
        """(z_j)^l of the last forward pass (l = 2 .. L; the input has no z)."""
        self._check_forward()
        self._check_index(l, 2, self.num_layers, "layer l",
                          "for weighted inputs (layer 1, the input, has none)")
        self._check_index(j, 1, self.sizes[l - 1], "j", f"(neurons in layer {l})")
        return self._weighted_inputs[l - 1][j - 1]

    def a(self, l, j):
        """(a_j)^l of the last forward pass; a(1, k) is the input x_k."""
        self._check_forward()
        self._check_index(l, 1, self.num_layers, "layer l", "for activations")
        self._check_index(j, 1, self.sizes[l - 1], "j", f"(neurons in layer {l})")
        return self._activations[l - 1][j - 1]

    def _check_forward(self):
        if self._activations is None:
            raise RuntimeError("no forward pass yet: call net(x) first, then "
                               "net.z(l, j) and net.a(l, j) give that pass's values")

    @staticmethod
    def _check_index(i, low, high, name, why):
        if not is_whole(i):
            raise TypeError(f"{name} must be an integer, got {i!r}")
        if not low <= i <= high:
            raise IndexError(f"{name} must be {low}..{high} {why}; got {i}")

    # -- Module -------------------------------------------------------------------
    def named_parameters(self):
        """{'w1_11': (w_11)^1, 'w1_12': ..., 'b1_1': ..., ..., 'b3_1': ...}.

        Layer by layer, neuron by neuron: each neuron's weights, then its bias
        (micrograd's order of ``parameters()``). The names are the labels.
        """
        names = {}
        for l, layer in enumerate(self.layers, start=1):
            names.update(layer.named_parameters(l))
        return names

    def architecture(self):
        return {"type": "MLP", "nin": self.nin, "nouts": list(self.nouts),
                "activation": self.activation,
                "output_activation": self.output_activation}

    @classmethod
    def from_architecture(cls, architecture, n_parameters=None):
        _check_keys(architecture, ("type", "nin", "nouts", "activation", "output_activation"))
        nouts = architecture["nouts"]
        if not isinstance(nouts, list) or not nouts:
            raise ModelFormatError(f"architecture: 'nouts' must be a non-empty list of "
                                   f"layer sizes, got {nouts!r}")
        for n in nouts:
            _file_size({"nouts": n}, "nouts")
        nin = _file_size(architecture, "nin")
        activation = _file_activation(architecture, "activation")
        output_activation = _file_activation(architecture, "output_activation")
        sizes = [nin] + nouts
        # each neuron of layer l + 1 has one weight per neuron of layer l, and a bias
        count = sum((m + 1) * n for m, n in zip(sizes, sizes[1:]))
        _check_count(architecture, count, n_parameters)
        return cls(nin, nouts, activation, output_activation)

    def __repr__(self):
        return (f"MLP({self.nin}, {self.nouts}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r})")

    def __str__(self):
        sizes = "-".join(str(n) for n in self.sizes)
        lines = [f"MLP {sizes}: {self.num_layers} layers, "
                 f"{self.num_parameters()} parameters"]
        for l in range(1, self.num_layers):
            f = self.layers[l - 1].activation
            lines.append(f"  layer {l} -> {l + 1}: W^{l} {self.sizes[l]}×{self.sizes[l - 1]}, "
                         f"b^{l} {self.sizes[l]}, f = {f}")
        return "\n".join(lines)


def load(path):
    """A new Neuron, Layer or MLP built from a file written by ``save``.

    The same checks as ``MLP.from_file`` and ``net.load`` (Module.from_document).
    """
    document = read_model_file(path)
    kinds = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}
    kind = document["architecture"].get("type")
    if not isinstance(kind, str) or kind not in kinds:
        raise ModelFormatError(f"{os.fspath(path)}: unknown module type {kind!r} "
                               f"(expected one of {', '.join(kinds)})")
    return kinds[kind].from_document(document, path)


# -- checking an architecture read from a file ------------------------------------

def _check_keys(architecture, keys):
    missing = [key for key in keys if key not in architecture]
    extra = [key for key in architecture if key not in keys]
    if missing or extra:
        raise ModelFormatError(f"architecture: missing keys {missing}, unexpected keys "
                               f"{extra} (expected {list(keys)})")


def _check_count(architecture, count, n_parameters):
    """A ModelFormatError if the architecture has more parameters than the file.

    Checked before the module is built, so what a file makes is bounded by its
    size. (With fewer, the module is built and the check by name says which
    of the file's parameters are unexpected.)
    """
    if n_parameters is not None and count > n_parameters:
        raise ModelFormatError(f"architecture: {_describe_architecture(architecture)} has "
                               f"{count} parameters, but the file holds only {n_parameters}")


def _file_size(architecture, key):
    n = architecture[key]
    if not is_whole(n) or n < 1:
        raise ModelFormatError(f"architecture: {key!r} must be a positive integer, got {n!r}")
    return n


def _file_activation(architecture, key):
    """The activation a model file names: checked as any activation is."""
    try:
        return _check_activation(architecture[key], f"architecture: {key!r}")
    except ValueError as error:
        raise ModelFormatError(str(error)) from None
