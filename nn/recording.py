"""What fit(..., record=True) keeps: every parameter and its gradient, epoch by epoch.

    history = fit(net, X, y, record=True)
    history.params[e]["w2_22"]       # (w_22)^2 after e epochs
    history.grads[e]["w2_22"]        # dC/d(w_22)^2, the gradient of epoch e's step
    w, g = history.params[e]["w2_22"], history.grads[e]["w2_22"]
    history.params[e + 1]["w2_22"] == w - history.lr * g     # w_{e+1} = w_e − ε g_e

Each entry is a {label: float} dict, like state_dict. viz.training_replay
draws these numbers; ``outputs`` and ``cost_and_accuracy`` compute what it
shows about the network of a recorded epoch.
"""

import sys

import numpy as np

from engine import no_grad
from engine.kinds import is_whole

__all__ = ["Recorder", "every", "nbytes", "size_text", "network_with", "outputs",
           "cost_and_accuracy"]


def every(record):
    """fit's record argument as k (keep epochs 0, k, 2k, ... and the last), or None."""
    if record is False or record is None:
        return None
    if record is True:
        return 1
    if not is_whole(record) or record < 1:
        raise ValueError(f"fit: record must be True, False or a whole number k >= 1 "
                         f"(keep every k-th epoch), got {record!r}")
    return int(record)


class Recorder:
    """Copies the parameters (and the gradients of each step) into a History."""

    def __init__(self, net, history, every):
        self.named = list(net.named_parameters().items())
        self.history = history
        self.every = every
        history.every = every
        history.network = net

    def params(self, epoch):
        """Keep every parameter as it is after ``epoch`` epochs."""
        self.history.recorded.append(epoch)
        self.history.params.append({name: p.data for name, p in self.named})

    def grads(self, epoch, add=False):
        """Keep the gradient of the step just taken from epoch (add: its next minibatch)."""
        if epoch % self.every:
            return
        if add:
            total = self.history.grads[-1]
            for name, p in self.named:
                total[name] += p.grad
        else:
            self.history.grads.append({name: p.grad for name, p in self.named})

    def finish(self, last):
        """Keep the last epoch too (the network fit returns), once."""
        if self.history.recorded[-1] != last:
            self.params(last)


def nbytes(entries):
    """Bytes held by a list of {label: float} dicts (the labels are shared, counted once)."""
    total = sys.getsizeof(entries)
    labels = set()
    for entry in entries:
        total += sys.getsizeof(entry) + sum(sys.getsizeof(v) for v in entry.values())
        labels.update(entry)
    return total + sum(sys.getsizeof(label) for label in labels) if entries else 0


def size_text(n):
    """1234567 -> '1.2 MB' (decimal units, as file sizes are shown)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def network_with(net, params):
    """A new network of net's architecture holding the numbers of params."""
    try:
        copy = type(net).from_architecture(net.architecture())
    except (NotImplementedError, AttributeError, TypeError):
        import copy as copying  # a network without an architecture: copy it whole
        copy = copying.deepcopy(net)
    copy.load_state_dict(params)
    return copy


def outputs(net, X):
    """The output s of net for every row of X (numpy), fast: the matrix form for an MLP.

    An MLP (layers of neurons with weights w, bias b and an activation) is
    evaluated as z^{l+1} = W^l a^l + b^l, a^{l+1} = f(z^{l+1}) on all rows at
    once (nn.matrix's numpy f); any other network, sample by sample by the engine.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    layers = getattr(net, "layers", None)
    try:
        from nn.matrix import activation_function, to_matrices
        Ws, bs = to_matrices(net)
        activations = [layer.activation for layer in layers]
    except (AttributeError, TypeError):
        from nn.train import _outputs
        return _outputs(net, X)
    a = X.T
    for W, b, f in zip(Ws, bs, activations):
        a = activation_function(f, W @ a + b[:, None])
    return a[0]


def cost_and_accuracy(history, i, X, y):
    """(C, accuracy) of the network of recorded epoch i on (X, y), measured as fit measures.

    C is the mean cost fit minimised, by the engine; the accuracy is NaN when
    the targets are not two classes.
    """
    from nn.losses import LOSSES
    from nn.train import _accuracy, _as_samples, _choose_loss, _output, _threshold

    net = history.model(i)
    samples, targets = _as_samples(X, y)
    name = history.loss
    loss = name if name in LOSSES else None
    if loss is None:
        raise ValueError(f"cost_and_accuracy: the custom loss {name!r} cannot be "
                         f"measured again; use one of {', '.join(LOSSES)}")
    _, loss_fn, targets = _choose_loss(loss, targets)
    with no_grad():
        outs = [_output(net, x) for x in samples]
        cost = loss_fn(outs, targets).data
    return cost, _accuracy([s.data for s in outs], targets, _threshold(name, targets))


def shade(loss, s):
    """How strongly each output s says "the second class", in [0, 1], and what that is.

    A loss whose classes are 0/1 split at s = 0 (binary cross-entropy) reads s
    as a logit: σ(s), the predicted probability of y = 1. Another loss with two
    labels (hinge: −1/+1; MSE on 0/1): s from the first label to the second,
    clipped. Anything else: s scaled from its smallest to its largest.
    """
    from nn.losses import CLASSES

    s = np.asarray(s, dtype=float)
    classes = CLASSES.get(loss)
    if classes is not None and classes.labels == (0.0, 1.0) and classes.boundary == 0.0:
        return 0.5 * (1.0 + np.tanh(0.5 * s)), "σ(s), the predicted probability of y = 1"
    if classes is not None:
        low, high = classes.labels or (0.0, 1.0)
        return (np.clip((s - low) / (high - low), 0.0, 1.0),
                f"s, from {low:g} (first class) to {high:g} (second class)")
    low, high = float(s.min()), float(s.max())
    scale = (high - low) or 1.0
    return (s - low) / scale, f"s, from its smallest ({low:.3g}) to its largest ({high:.3g})"


def second_class(loss, target):
    """1 when target is the second class of loss's labels (y = 1, or +1), else 0."""
    return 1 if target > 0 else 0
