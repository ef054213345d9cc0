"""The matrix form: the network as W^l and b^l, and backprop by the local-gradient equations.

Independent of the engine: ``matrix_backprop`` is plain numpy, written straight
from the article's equations, so that it can check the engine's gradients.

    Forward      a^1 = x,  z^{l+1} = W^l a^l + b^l,  a^{l+1} = f(z^{l+1})
    Output       δ^L = ∂C/∂a^L ⊙ f'(z^L)
    Backward     δ^l = ((W^l)^T δ^{l+1}) ⊙ f'(z^l)           (l = L−1 .. 2)
    Partials     ∂C/∂(w_jk)^l = δ_j^{l+1} (a_k)^l,   ∂C/∂(b_j)^l = δ_j^{l+1}

W^l has shape (n, m): n neurons in layer l+1, m in layer l. Python lists
count from 0, so ``Ws[l - 1]`` is W^l.

Costs, per sample, on the output s = a^L (the mean over the outputs when
there are several):
    'mse'                   C = (s − y)²                 ∂C/∂s = 2(s − y)
    'binary_cross_entropy'  C = log(1 + e^s) − y·s       ∂C/∂s = σ(s) − y
                            (s is the logit; −y·log σ(s) − (1−y)·log(1 − σ(s)))
These are the per-sample definitions of ``nn.mse`` and ``nn.binary_cross_entropy``.
"""

import numpy as np

from nn.checks import float_array, where_not_finite
from nn.layers import ACTIVATIONS, MLP

__all__ = ["to_matrices", "from_matrices", "matrix_backprop", "BackpropResult",
           "COSTS"]

COSTS = ("mse", "binary_cross_entropy")


def to_matrices(net):
    """(Ws, bs): lists of numpy arrays, W^l = Ws[l − 1] of shape (n_{l+1}, n_l), b^l = bs[l − 1].

    (W^l)[j − 1, k − 1] is (w_jk)^l = net.weight(l, j, k). The arrays are
    copies: changing them does not change the network.
    """
    Ws, bs = [], []
    for layer in net.layers:
        Ws.append(np.array([[w.data for w in neuron.w] for neuron in layer.neurons]))
        bs.append(np.array([neuron.b.data for neuron in layer.neurons]))
    return Ws, bs


def from_matrices(Ws, bs, activation="tanh", output_activation="linear", expand=False):
    """An MLP whose (w_jk)^l is Ws[l − 1][j − 1, k − 1] and (b_j)^l is bs[l − 1][j − 1]."""
    Ws, bs = _checked_matrices(Ws, bs)
    nouts = [W.shape[0] for W in Ws]
    net = MLP(Ws[0].shape[1], nouts, activation, output_activation, seed=0, expand=expand)
    for layer, W, b in zip(net.layers, Ws, bs):
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                w.data = float(W[j, k])
            neuron.b.data = float(b[j])
    return net


def _checked_matrices(Ws, bs):
    """Ws and bs as float arrays, or a ValueError naming the first wrong shape."""
    Ws = [float_array(W, f"W^{l}") for l, W in enumerate(Ws, start=1)]
    bs = [float_array(b, f"b^{l}") for l, b in enumerate(bs, start=1)]
    if not Ws:
        raise ValueError("need at least one weight matrix W^1")
    if len(Ws) != len(bs):
        raise ValueError(f"{len(Ws)} weight matrices but {len(bs)} bias vectors")
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        if W.ndim != 2 or W.size == 0:
            raise ValueError(f"W^{l} must be a non-empty 2-d array, got shape {W.shape}")
        if b.shape != (W.shape[0],):
            raise ValueError(f"b^{l} must have shape ({W.shape[0]},) to match W^{l} "
                             f"{W.shape}, got {b.shape}")
        if l > 1 and W.shape[1] != Ws[l - 2].shape[0]:
            raise ValueError(f"W^{l} has shape {W.shape}: it needs {Ws[l - 2].shape[0]} "
                             f"columns, one per neuron of layer {l} (W^{l - 1} has shape "
                             f"{Ws[l - 2].shape})")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"W^{l} and b^{l} must be finite")
    return Ws, bs


# -- activations and their derivatives, in numpy --------------------------------

def _sigmoid(z):
    # exp of a negative number only, so it never overflows
    e = np.exp(-np.abs(z))
    return np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


# f(z) and f'(z) for each activation, elementwise; f' is given z and a = f(z)
_ACTIVATIONS = {
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    # relu'(0) = 0, as in PyTorch
    "relu": (lambda z: np.where(z > 0.0, z, 0.0), lambda z, a: np.where(z > 0.0, 1.0, 0.0)),
    "linear": (lambda z: z.copy(), lambda z, a: np.ones_like(z)),
}


def _activation(name):
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return _ACTIVATIONS[name]


def activation_function(name, z):
    """f(z) elementwise."""
    return _activation(name)[0](z)


def activation_derivative(name, z, a):
    """f'(z) elementwise, given a = f(z)."""
    return _activation(name)[1](z, a)


def _mse(s, y):
    return float(np.mean((s - y) ** 2)), 2.0 * (s - y) / s.size


def _binary_cross_entropy(s, y):
    if not np.all((y == 0.0) | (y == 1.0)):
        raise ValueError(f"binary_cross_entropy: targets must be 0 or 1, got "
                         f"{sorted(set(y.tolist()))[:5]}")
    # log(1 + e^s) = max(s, 0) + log(1 + e^−|s|): no overflow for large |s|
    softplus = np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s)))
    return float(np.mean(softplus - y * s)), (_sigmoid(s) - y) / s.size


# C and ∂C/∂s (the mean over the outputs) for each cost
_COSTS = {"mse": _mse, "binary_cross_entropy": _binary_cross_entropy}


def _cost_and_gradient(cost, s, y):
    """C and ∂C/∂s (the mean over the outputs)."""
    if cost not in _COSTS:
        raise ValueError(f"cost must be one of {', '.join(COSTS)}; got {cost!r}")
    return _COSTS[cost](s, y)


class BackpropResult:
    """What ``matrix_backprop`` computed; lists count from 0, so index l − 1 is layer l.

    dW[l − 1], db[l − 1] -- ∂C/∂W^l and ∂C/∂b^l, shaped like W^l and b^l
    z[l − 1]             -- z^l (z[0] is None: the input has no weighted input)
    a[l − 1]             -- a^l (a[0] is x)
    delta[l − 1]         -- δ^l = ∂C/∂z^l (delta[0] is None)
    output, cost         -- s = a^L and C
    """

    def __init__(self, dW, db, z, a, delta, cost):
        self.dW, self.db = dW, db
        self.z, self.a, self.delta = z, a, delta
        self.output = a[-1]
        self.cost = cost

    def weight_gradient(self, l, j, k):
        """∂C/∂(w_jk)^l, 1-based as in the article."""
        return float(self.dW[l - 1][j - 1, k - 1])

    def bias_gradient(self, l, j):
        """∂C/∂(b_j)^l, 1-based as in the article."""
        return float(self.db[l - 1][j - 1])

    def __repr__(self):
        shapes = ", ".join(f"W^{l} {W.shape}" for l, W in enumerate(self.dW, start=1))
        return f"BackpropResult(C={self.cost!r}, {shapes})"


def matrix_backprop(Ws, bs, x, y, activation="tanh", cost="mse",
                    output_activation="linear"):
    """Every ∂C/∂(w_jk)^l and ∂C/∂(b_j)^l for one sample (x, y), in numpy.

    Ws, bs            -- W^l = Ws[l − 1], b^l = bs[l − 1] (see ``to_matrices``)
    x, y              -- the input a^1 and the target (a number or one per output)
    activation        -- f of the hidden layers; output_activation -- of layer L
    cost              -- 'mse' or 'binary_cross_entropy' (on the logit s)
    Returns a BackpropResult: .dW and .db shaped like Ws and bs, and the
    forward values z, a and the local gradients δ.
    """
    Ws, bs = _checked_matrices(Ws, bs)
    x = float_array(x, "matrix_backprop: x").reshape(-1)
    if x.shape != (Ws[0].shape[1],):
        raise ValueError(f"x must have {Ws[0].shape[1]} numbers (columns of W^1), "
                         f"got shape {x.shape}")
    bad = where_not_finite(x, "x") or where_not_finite(float_array(y, "matrix_backprop: y"), "y")
    if bad:
        raise ValueError(f"matrix_backprop: x and y must be finite numbers, but {bad}")
    L = len(Ws) + 1
    fs = [None] + [activation] * (L - 2) + [output_activation]  # fs[l - 1] is f of layer l

    # Forward: a^1 = x, z^{l+1} = W^l a^l + b^l, a^{l+1} = f(z^{l+1})
    z, a = [None], [x]
    for l in range(1, L):
        z_next = Ws[l - 1] @ a[l - 1] + bs[l - 1]
        z.append(z_next)
        a.append(activation_function(fs[l], z_next))

    y = np.broadcast_to(float_array(y, "y"), a[-1].shape)
    C, dC_da = _cost_and_gradient(cost, a[-1], y)

    # Backward: δ^L = ∂C/∂a^L ⊙ f'(z^L), δ^l = ((W^l)^T δ^{l+1}) ⊙ f'(z^l)
    delta = [None] * L
    delta[L - 1] = dC_da * activation_derivative(fs[L - 1], z[L - 1], a[L - 1])
    for l in range(L - 1, 1, -1):
        delta[l - 1] = (Ws[l - 1].T @ delta[l]) * activation_derivative(fs[l - 1], z[l - 1],
                                                                        a[l - 1])

    # Partials: ∂C/∂(w_jk)^l = δ_j^{l+1} (a_k)^l, ∂C/∂(b_j)^l = δ_j^{l+1}
    dW = [np.outer(delta[l], a[l - 1]) for l in range(1, L)]
    db = [delta[l].copy() for l in range(1, L)]
    return BackpropResult(dW, db, z, a, delta, C)
