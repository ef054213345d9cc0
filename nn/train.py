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
import time

import numpy as np

from engine import Value, no_grad
from engine.kinds import is_whole
from nn import recording
from nn.batched import BatchCost, batch_compiled_cost
from nn.checks import float_array, where_not_finite
from nn.compiled import CompileChoice
from nn.losses import (
    CLASSES,
    LOSSES,
    OUTPUT_RANGES,
    OUTPUTS,
    binary_cross_entropy,
    binary_cross_entropy_of_probability,
    mse,
)
from nn.optim import SGD
from nn.progress import Progress

__all__ = ["fit", "History", "predict", "accuracy", "DEFAULT_LR", "DEFAULT_EPOCHS"]

# Chosen so that fit(net, X, y) trains the 4-4-4-1 network well on
# standardised data, full batch, with no tuning (see tests/nn/test_train.py).
DEFAULT_LR = 0.5
DEFAULT_EPOCHS = 100


class History:
    """What fit recorded: the network after each epoch (like Keras' History).

    Entry e describes the network after e epochs of updates, measured over all
    the training data with one more forward pass; entry 0 is the network as
    fit received it. So cost[0] -> cost[-1] is what training did, and the last
    entry is the trained network: the one fit returns with.

    epochs       -- 0, 1, 2, ... (0: before any update)
    cost         -- C over the training data (the mean over the samples)
    accuracy     -- the fraction of the training data classified correctly
                    (NaN when the targets are real numbers, not classes)
    loss         -- the name of the loss ('binary_cross_entropy', 'mse', 'hinge')
    lr           -- the learning rate ε used
    stopped_early, reason -- whether and why training stopped before the budget
    compiled, compile_note -- whether compiled code computed C (fit(compile=True)),
                    and how C was computed and why (the same numbers either way)

    With fit(..., record=True) (or record=k: epochs 0, k, 2k, ... and the last):
    recorded     -- the epochs kept, [0, 1, 2, ...] (or [0, k, 2k, ..., last])
    params       -- params[i] = {label: float}, every parameter after epoch
                    recorded[i] (like state_dict): params[0] the network fit
                    received, params[-1] the one it returns
    grads        -- grads[i] = {label: ∂C/∂w}, the gradient that moved params[i]
                    on to the next epoch: w_{e+1} = w_e − ε g_e. The last
                    recorded epoch took no step, so len(grads) == len(params) − 1.
                    With minibatches it is the sum of the epoch's steps' gradients.
    Without record these are empty lists.

    len(history) is the number of epochs that ran, one less than len(history.cost).
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
        self.recorded = []
        self.params = []
        self.grads = []
        self.every = None  # record=k: k (None: nothing recorded)
        self.network = None  # record: the trained network (for replays: history.model(i))
        self.compiled = False
        self.compile_note = "the graph (compile=False)"

    def __len__(self):
        return len(self.epochs) - 1

    def record(self, epoch, cost, accuracy):
        self.epochs.append(epoch)
        self.cost.append(cost)
        self.accuracy.append(accuracy)

    @property
    def nbytes(self):
        """The memory that the recorded params and grads take, in bytes (0: none)."""
        return recording.nbytes(self.params + self.grads)

    def model(self, i):
        """A new network like the trained one, holding params[i] (record only)."""
        if self.network is None:
            raise ValueError("History.model: nothing was recorded; "
                             "train with fit(..., record=True)")
        return recording.network_with(self.network, self.params[i])

    def __repr__(self):
        if not self:
            return f"History(loss={self.loss}, lr={self.lr:g}, no epochs)"
        text = (f"History(loss={self.loss}, lr={self.lr:g}, {len(self)} epochs, "
                f"cost {self.cost[0]:.4g} -> {self.cost[-1]:.4g}")
        if not math.isnan(self.accuracy[-1]):
            text += f", accuracy {self.accuracy[-1]:.3f}"
        if self.params:
            every = "every epoch" if self.every == 1 else f"every {self.every} epochs"
            text += (f"; recorded {len(self.params)} epochs ({every}): "
                     f"{len(self.params[0])} parameters and {len(self.grads)} gradients "
                     f"of them, {recording.size_text(self.nbytes)}")
        return text + f"; stopped because {self.reason})"


def fit(net, X, y, loss=None, lr=None, epochs=None, tol=None, batch_size=None,
        seed=None, progress=True, callback=None, compile=True, record=False):
    """Train net on (X, y) by gradient descent and return its History.

    net        -- a network with one output neuron, e.g. MLP(4, [4, 4, 1])
    X, y       -- samples (rows) and targets, lists or numpy arrays
    loss       -- 'binary_cross_entropy' (alias 'bce'), 'mse', 'hinge',
                  'binary_cross_entropy_of_probability', or a function
                  loss(outputs, targets) -> C. By default, when every label
                  is 0 or 1: binary cross-entropy on the logit s for a linear
                  output (predict 1 when s > 0), on the probability p for a
                  sigmoid output (predict 1 when p > 1/2), MSE for tanh or relu;
                  otherwise MSE. hinge takes ±1 labels; 0/1 labels are mapped
                  to −1/+1. A loss that cannot work with the network's output
                  (a logit loss on a sigmoid, hinge on tanh) is refused with
                  the reason.
    lr         -- the learning rate ε (default DEFAULT_LR = 0.5)
    epochs     -- the epoch budget (default DEFAULT_EPOCHS = 100)
    tol        -- stop once an epoch lowers C by less than tol (default: never)
    batch_size -- samples per step; None means the whole data set (the
                  article's full-batch descent). Minibatches are drawn from a
                  shuffle of the data, made anew each epoch from ``seed``.
    progress   -- show a progress bar (tqdm) with C and the accuracy after each
                  epoch (False: silent)
    callback   -- callback(epoch, cost, net), called after every epoch with the
                  cost of the network that epoch left (history.cost[epoch])
    compile    -- True (default): where it pays, each sample's forward and
                  backward pass run as compiled straight-line code
                  (nn/compiled.py), several times faster and with exactly the
                  same History and parameters, so there is nothing to lose.
                  The first epoch runs through the graph and is timed; fit
                  compiles if the epochs left would save more than compiling
                  costs. Only nn's MLP and Neuron with a built-in loss are
                  compiled: any other network could branch on the numbers.
                  ``history.compile_note`` says what was done and why.
                  False: build and backpropagate the graph.
                  "batch": one sample's graph compiled over numpy arrays, every
                  sample of a batch at once (nn/batched.py), for nn's networks
                  and losses; many times faster again. The History equals
                  compile=True's to about 1e-13 relative, not to the last bit
                  (numpy's tanh, exp and sums round differently from Python's),
                  so it is not the default.
    record     -- True: keep every parameter and its gradient at every epoch in
                  history.params and history.grads (for viz.training_replay);
                  k (a whole number): keep epochs 0, k, 2k, ... and the last.
                  False (default): keep only the costs.
    """
    samples, targets = _as_samples(X, y)
    loss_name, loss_fn, targets = _choose_loss(loss, targets, net)
    lr = DEFAULT_LR if lr is None else lr
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    if not is_whole(epochs) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number >= 1, got {epochs!r}")
    # (float_info.max, not inf: an int beyond a float compares below inf.)
    if tol is not None and (not isinstance(tol, numbers.Real)
                            or not 0 <= tol <= sys.float_info.max):
        raise ValueError(f"fit: tol must be a finite number >= 0 or None, got {tol!r}")
    n = len(samples)
    if batch_size is None:
        batch_size = n
    if (not is_whole(batch_size)
            or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a whole number >= 1, got {batch_size!r}")
    if callback is not None and not callable(callback):
        raise TypeError("fit: callback must be a function callback(epoch, cost, net)")
    every = recording.every(record)

    # The decision boundary on s that accuracy is measured with (None: regression).
    threshold = _threshold(loss_name, targets)

    def graph_cost(batch):
        """C over these samples, as a graph, and their outputs s."""
        outputs = [_output(net, samples[i]) for i in batch]
        return loss_fn(outputs, [targets[i] for i in batch]), [s.data for s in outputs]

    # The same numbers from compiled code, when net and loss can be compiled
    # and it pays (decided after the first epoch, which the graph computes).
    batch_cost = graph_cost
    choice = CompileChoice(net, loss_fn, samples, targets, graph_cost) \
        if compile and compile != "batch" else None
    if compile == "batch":
        batch_cost, batch_note = batch_compiled_cost(net, loss_fn, samples, targets)
        batch_cost = batch_cost or graph_cost
    # the batch path's outputs s are an array: the accuracy is one comparison
    batched = batch_cost is not graph_cost and compile == "batch"
    target_array = np.array(targets) if batched else None

    def measure():
        """C over all the training data (with its graph) and the accuracy."""
        cost, outputs = batch_cost(range(n))
        return cost, _accuracy(outputs, target_array if batched else targets, threshold)

    optimizer = SGD(net.parameters(), lr=lr)
    history = History(loss_name, optimizer.lr, epochs)
    rng = np.random.default_rng(seed)
    cost, correct = measure()
    history.record(0, cost.data, correct)
    recorder = every and recording.Recorder(net, history, every)
    if recorder:
        recorder.params(0)
    bar = Progress(epochs, cost.data, correct) if progress else None
    if choice is not None:
        history.compile_note = choice.note
    if compile == "batch":
        history.compiled, history.compile_note = batch_cost is not graph_cost, batch_note
    epoch_started = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            if batch_size >= n:
                # Full batch, the article's descent: step down the gradient of
                # the C just measured, then measure the network it leaves.
                _step(optimizer, cost)
                if recorder:
                    recorder.grads(epoch - 1)
            else:
                order = rng.permutation(n).tolist()
                for start in range(0, n, batch_size):
                    batch = order[start:start + batch_size]
                    _step(optimizer, batch_cost(batch)[0])
                    if recorder:
                        recorder.grads(epoch - 1, add=start > 0)
            cost, correct = measure()
            if choice is not None and epoch <= 3:
                # the first epoch runs through the graph, timed: compile if it pays;
                # if the first wholly compiled epoch (the third: the second steps
                # down the graph's gradient) was not faster, back to the graph
                seconds = time.perf_counter() - epoch_started
                if epoch == 1:
                    batch_cost = choice.after_first_epoch(seconds, epochs - 1) or graph_cost
                elif epoch == 3 and choice.compiled and not choice.after_compiled_epoch(seconds):
                    batch_cost = graph_cost
                history.compiled, history.compile_note = choice.compiled, choice.note
                epoch_started = time.perf_counter()  # compile time left out
            history.record(epoch, cost.data, correct)
            if recorder and epoch % every == 0:
                recorder.params(epoch)
            if bar:
                bar.update(cost.data, correct)
            if callback is not None:
                callback(epoch, cost.data, net)
            if tol is not None and history.cost[-2] - history.cost[-1] < tol:
                history.stopped_early = epoch < epochs
                change = ("fell by less than" if history.cost[-1] <= history.cost[-2]
                          else "rose instead of falling by")
                history.reason = (f"C {change} tol={tol:g} "
                                  f"({history.cost[-2]:.6g} -> {history.cost[-1]:.6g})")
                break
    finally:
        if bar:
            bar.close()
    if recorder:
        recorder.finish(history.epochs[-1])
    return history


def predict(net, X, loss=None):
    """The class of each sample, as a numpy array (no graph is recorded).

    binary_cross_entropy: 1 when s > 0, i.e. σ(s) > 1/2, else 0;
    binary_cross_entropy_of_probability: 1 when p > 1/2, else 0;
    mse (0/1 labels): 1 when s > 1/2, else 0; hinge: +1 when s > 0, else −1.
    loss=None: the loss fit picks for 0/1 labels and this network's output.
    """
    name, _, _ = _choose_loss(loss, [0.0, 1.0], net, "predict")
    if name not in CLASSES:
        raise ValueError(f"predict: no decision rule for the loss {name!r}")
    low, high = CLASSES[name].labels or (0.0, 1.0)
    boundary = _boundary(name, (low, high))
    return np.where(_outputs(net, X) > boundary, int(high), int(low))


def accuracy(net, X, y, loss=None):
    """The fraction of samples whose output s is on the side of their label.

    The boundary is the one ``fit`` measures accuracy with: s = 0 for
    binary cross-entropy on a logit and hinge (±1 or 0/1 labels), p = 1/2 for
    the cross-entropy of a probability (a sigmoid output), s = 1/2 for MSE on
    0/1. loss=None: the loss fit picks for these labels and this network.
    """
    _, targets = _as_samples(X, y)
    name, _, _ = _choose_loss(loss, targets, net, "accuracy")
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


# The loss fit picks for 0/1 labels, by the network's output activation: the
# cross-entropy that matches what s is (a logit or a probability), else MSE.
_LOSS_FOR_01_LABELS = {"linear": binary_cross_entropy,
                       "sigmoid": binary_cross_entropy_of_probability}


def _choose_loss(loss, targets, net=None, caller="fit"):
    """(name, loss function, targets), picking the loss from the labels and the
    network's output activation if not given; a loss that cannot work with
    that output is a ValueError that says why."""
    labels = set(targets)
    output = getattr(net, "output_activation", None)  # None: a network of one's own
    if loss is None:
        loss = _LOSS_FOR_01_LABELS.get(output, binary_cross_entropy if output is None
                                       else mse) if labels <= {0.0, 1.0} else mse
    name = _loss_name(loss)
    wanted = CLASSES[name].labels if name in CLASSES else None
    if wanted is not None and not labels <= set(wanted):
        if not labels <= {0.0, 1.0}:
            named = "0/1" if wanted == (0.0, 1.0) else f"{wanted[0]:g}/{wanted[1]:+g} (or 0/1)"
            raise ValueError(f"{caller}: {name} needs {named} labels, "
                             f"got {sorted(labels)[:5]}")
        targets = [wanted[int(t)] for t in targets]  # 0/1 -> the loss's own labels
    if output in OUTPUT_RANGES:
        _check_output(caller, name, output, set(targets))
    if callable(loss):
        return name, loss, targets
    return name, LOSSES[loss], targets


def _check_output(caller, name, output, labels):
    """Refuse, with the reason, a loss that cannot work with the network's output
    (it would train to a quiet wrong result: a sigmoid's p read as a logit)."""
    low, high = OUTPUT_RANGES[output]
    produces = "any real number" if output == "linear" else \
        f"{output}(z), which lies in ({low:g}, {high:g})"
    if name in OUTPUTS and output not in OUTPUTS[name][0]:
        fits = [loss for loss, (outputs, _) in OUTPUTS.items() if output in outputs]
        instead = ", ".join(f"loss={loss!r}" for loss in fits + ["mse"])
        raise ValueError(
            f"{caller}: {name} takes {OUTPUTS[name][1]}, but this network's output "
            f"s = {produces} (output_activation={output!r}). Use {instead}, or build "
            f"the network with output_activation={OUTPUTS[name][0][0]!r}")
    boundary = _threshold(name, labels)
    if boundary is not None:
        if not low < boundary < high:  # e.g. a sigmoid's p with labels −1/+1
            raise ValueError(
                f"{caller}: {name} with the labels {sorted(labels)} splits the classes "
                f"at s = {boundary:g}, but this network's output s = {produces}, never "
                f"crosses it: every sample would get the same class. Use labels "
                f"inside ({low:g}, {high:g}) or output_activation='linear'")


def _step(optimizer, cost):
    """One step of gradient descent: ∂C/∂w by backpropagation, then w ← w − ε ∂C/∂w."""
    if isinstance(cost, BatchCost):  # compiled gradients, as numbers: one pass, same numbers
        optimizer.step_from(cost.gradients)
        return
    optimizer.zero_grad()
    cost.backward()
    optimizer.step()


def _accuracy(outputs, targets, threshold):
    """The fraction of outputs s on their target's side of threshold (NaN: no classes)."""
    if threshold is None:
        return math.nan
    if isinstance(outputs, np.ndarray):  # fit's batch path: every sample in one comparison
        return int(np.count_nonzero((outputs > threshold) == (targets > threshold))) \
            / len(targets)
    correct = sum((s > threshold) == (t > threshold) for s, t in zip(outputs, targets))
    return correct / len(targets)


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
    if name not in CLASSES:
        return None
    labels = set(targets)
    pairs = [CLASSES[name].labels] if CLASSES[name].labels else [(0.0, 1.0), (-1.0, 1.0)]
    if CLASSES[name].labels:
        pairs.append((0.0, 1.0))  # 0/1 labels, as fit maps them onto the loss's own
    pair = next((pair for pair in pairs if labels <= set(pair)), None)
    return None if pair is None else _boundary(name, pair)


def _boundary(name, labels):
    """The output s between the two classes: the loss's own, or halfway between labels."""
    boundary = CLASSES[name].boundary
    return (labels[0] + labels[1]) / 2.0 if boundary is None else boundary
