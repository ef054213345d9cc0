"""fit: the article's gradient descent, on a data set.

Start from the network's random weights and biases; every epoch, run the
forward pass on the data, compute the cost C, backpropagate ∂C/∂w into every
parameter and step w ← w − ε ∂C/∂w (b likewise); stop when the epoch budget is
spent or when C stops falling by more than tol (the termination condition).

    from nn.layers import MLP
    from nn.train import fit
    net = MLP(4, [4, 4, 1], seed=0)       # the 4-4-4-1 network
    history = fit(net, X_train, y_train)  # X standardised, y 0/1
    history.cost[-1], history.accuracy[-1]
"""

import math
import numbers
import sys

import numpy as np

from engine import Value, no_grad
from nn.checks import float_array, where_not_finite
from nn.losses import LOSSES, binary_cross_entropy, mse
from nn.optim import SGD
from nn.progress import ProgressBar

__all__ = ["fit", "History", "predict", "accuracy", "DEFAULT_LR", "DEFAULT_EPOCHS"]

# Chosen so that fit(net, X, y) trains the 4-4-4-1 network well on
# standardised data, full batch, with no tuning (see tests/nn/test_train.py).
DEFAULT_LR = 0.5
DEFAULT_EPOCHS = 100


class History:
    """What fit recorded, one entry per epoch (like Keras' History).

    epochs       -- 1, 2, ... for the epochs that ran
    cost         -- C over the training data at each epoch (mean over samples,
                    from the epoch's forward passes, before its updates)
    accuracy     -- the fraction classified correctly in those same passes
                    (NaN when the targets are real numbers, not classes)
    loss         -- the name of the loss ('binary_cross_entropy', 'mse', 'hinge')
    lr           -- the learning rate ε used
    stopped_early, reason -- whether and why training stopped before the budget
    """

    def __init__(self, loss, lr, budget):
        self.epochs = []
        self.cost = []
        self.accuracy = []
        self.loss = loss
        self.lr = lr
        self.budget = budget
        self.stopped_early = False
        self.reason = f"the epoch budget ({budget}) was spent"

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        if not self.epochs:
            return f"History(loss={self.loss}, lr={self.lr:g}, no epochs)"
        text = (f"History(loss={self.loss}, lr={self.lr:g}, {len(self)} epochs, "
                f"cost {self.cost[0]:.4g} -> {self.cost[-1]:.4g}")
        if not math.isnan(self.accuracy[-1]):
            text += f", accuracy {self.accuracy[-1]:.3f}"
        return text + f"; stopped because {self.reason})"


def fit(net, X, y, loss=None, lr=None, epochs=None, tol=None, batch_size=None,
        seed=None, progress=True, callback=None):
    """Train net on (X, y) by gradient descent and return its History.

    net        -- a network with one output neuron, e.g. MLP(4, [4, 4, 1])
    X, y       -- samples (rows) and targets, lists or numpy arrays
    loss       -- 'binary_cross_entropy' (alias 'bce'), 'mse', 'hinge', or a
                  function loss(outputs, targets) -> C. By default binary
                  cross-entropy when every label is 0 or 1 (the output s is
                  then a logit: predict 1 when s > 0), otherwise MSE.
                  hinge takes ±1 labels; 0/1 labels are mapped to −1/+1.
    lr         -- the learning rate ε (default DEFAULT_LR = 0.5)
    epochs     -- the epoch budget (default DEFAULT_EPOCHS = 100)
    tol        -- stop once an epoch lowers C by less than tol (default: never)
    batch_size -- samples per step; None means the whole data set (the
                  article's full-batch descent). Minibatches are drawn from a
                  shuffle of the data, made anew each epoch from ``seed``.
    progress   -- show a progress bar with the current cost (False: silent)
    callback   -- callback(epoch, cost, net), called after every epoch
    """
    samples, targets = _as_samples(X, y)
    loss_name, loss_fn, targets = _choose_loss(loss, targets)
    lr = DEFAULT_LR if lr is None else lr
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    # (float_info.max, not inf: an int beyond a float compares below inf.)
    if tol is not None and (not isinstance(tol, numbers.Real)
                            or not 0 <= tol <= sys.float_info.max):
        raise ValueError(f"fit: tol must be a finite number >= 0 or None, got {tol!r}")
    n = len(samples)
    if batch_size is None:
        batch_size = n
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
            or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a whole number >= 1, got {batch_size!r}")
    if callback is not None and not callable(callback):
        raise TypeError("fit: callback must be a function callback(epoch, cost, net)")

    # The decision boundary on s that accuracy is measured with (None: regression).
    threshold = _threshold(loss_name, targets)
    optimizer = SGD(net.parameters(), lr=lr)
    history = History(loss_name, optimizer.lr, epochs)
    rng = np.random.default_rng(seed)
    bar = ProgressBar(epochs) if progress else None
    try:
        for epoch in range(1, epochs + 1):
            order = list(range(n)) if batch_size >= n else rng.permutation(n).tolist()
            epoch_cost = 0.0
            correct = 0
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                outputs = [_output(net, samples[i]) for i in batch]
                batch_targets = [targets[i] for i in batch]
                cost = loss_fn(outputs, batch_targets)
                optimizer.zero_grad()
                cost.backward()
                optimizer.step()
                epoch_cost += cost.data * len(batch)
                if threshold is not None:
                    correct += sum((s.data > threshold) == (t > threshold)
                                   for s, t in zip(outputs, batch_targets))
            epoch_cost /= n
            history.epochs.append(epoch)
            history.cost.append(epoch_cost)
            history.accuracy.append(correct / n if threshold is not None else math.nan)
            if bar:
                bar.update(epoch, epoch_cost, history.accuracy[-1])
            if callback is not None:
                callback(epoch, epoch_cost, net)
            if tol is not None and epoch > 1 and history.cost[-2] - epoch_cost < tol:
                history.stopped_early = epoch < epochs
                history.reason = (f"C fell by less than tol={tol:g} "
                                  f"({history.cost[-2]:.6g} -> {epoch_cost:.6g})")
                break
    finally:
        if bar:
            bar.close()
    return history


def predict(net, X, loss="binary_cross_entropy"):
    """The class of each sample, as a numpy array (no graph is recorded).

    binary_cross_entropy: 1 when s > 0, i.e. σ(s) > 1/2, else 0;
    mse (0/1 labels): 1 when s > 1/2, else 0; hinge: +1 when s > 0, else −1.
    """
    name = _loss_name(loss)
    if name not in ("binary_cross_entropy", "mse", "hinge"):
        raise ValueError(f"predict: no decision rule for the loss {name!r}")
    outputs = _outputs(net, X)
    if name == "hinge":
        return np.where(outputs > 0.0, 1, -1)
    return (outputs > (0.5 if name == "mse" else 0.0)).astype(int)


def accuracy(net, X, y, loss="binary_cross_entropy"):
    """The fraction of samples whose output s is on the side of their label.

    The boundary is the one ``fit`` measures accuracy with: s = 0 for
    binary cross-entropy and hinge (±1 or 0/1 labels), s = 1/2 for MSE on 0/1.
    """
    name = _loss_name(loss)
    _, targets = _as_samples(X, y)
    threshold = _threshold(name, targets)
    if threshold is None:
        raise ValueError(f"accuracy: the labels {sorted(set(targets))[:5]} are not "
                         f"two classes that the loss {name!r} can decide between")
    outputs = _outputs(net, X)
    return float(np.mean((outputs > threshold) == (np.asarray(targets) > threshold)))


def _outputs(net, X):
    """The output s for every sample, as a numpy array of floats."""
    samples, _ = _as_samples(X, np.zeros(len(X)))
    with no_grad():
        return np.array([_output(net, x).data for x in samples])


# -- helpers -------------------------------------------------------------------------

def _as_samples(X, y):
    """X as a list of lists of floats and y as a list of floats, checked."""
    X = float_array(X, "fit: X")
    y = float_array(y, "fit: y")
    if X.ndim == 1:
        X = X[:, None]  # one feature per sample
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"fit: X must be samples × features and y one target per "
                         f"sample; got X of shape {X.shape} and y of shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)} targets")
    if len(y) == 0:
        raise ValueError("fit: no samples")
    bad = where_not_finite(X, "X") or where_not_finite(y, "y")
    if bad:
        raise ValueError(f"fit: X and y must be finite numbers, but {bad}")
    return X.tolist(), y.tolist()


def _loss_name(loss):
    if callable(loss):
        for name, fn in LOSSES.items():
            if fn is loss:
                return "binary_cross_entropy" if name == "bce" else name
        return getattr(loss, "__name__", "custom loss")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of "
                         f"'binary_cross_entropy' (or 'bce'), 'mse', 'hinge', or a function")
    return "binary_cross_entropy" if loss == "bce" else loss


def _choose_loss(loss, targets):
    """(name, loss function, targets), picking the loss from the labels if not given."""
    labels = set(targets)
    if loss is None:
        loss = binary_cross_entropy if labels <= {0.0, 1.0} else mse
    name = _loss_name(loss)
    if name == "binary_cross_entropy" and not labels <= {0.0, 1.0}:
        raise ValueError(f"fit: binary cross-entropy needs 0/1 labels, got "
                         f"{sorted(labels)[:5]}")
    if name == "hinge":
        if labels <= {0.0, 1.0}:
            targets = [2.0 * t - 1.0 for t in targets]  # 0/1 -> -1/+1
        elif not labels <= {-1.0, 1.0}:
            raise ValueError(f"fit: hinge needs -1/+1 (or 0/1) labels, got "
                             f"{sorted(labels)[:5]}")
    if callable(loss):
        return name, loss, targets
    return name, LOSSES[loss], targets


def _output(net, x):
    s = net(x)
    if not isinstance(s, Value):
        size = len(s) if hasattr(s, "__len__") else "?"
        raise ValueError(f"fit: the network must have one output neuron (s); "
                         f"this one gives {size} outputs")
    return s


def _threshold(name, targets):
    """Where s splits the classes: 0 for logits and ±1 labels, 1/2 for MSE on 0/1.

    None when the targets are not two classes (or the loss is a custom one).
    """
    labels = set(targets)
    if name in ("binary_cross_entropy", "hinge"):
        return 0.0
    if name == "mse" and labels <= {0.0, 1.0}:
        return 0.5
    if name == "mse" and labels <= {-1.0, 1.0}:
        return 0.0
    return None
