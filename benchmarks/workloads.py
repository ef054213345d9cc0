"""The workloads: networks, data, losses and training steps, the same for every implementation.

Every implementation of a workload starts from the same parameters (``initial_parameters``)
and the same data, computes the same loss and takes the same SGD step:

    forward (build the loss) → zero_grad → backward → w ← w − ε ∂C/∂w

The autograd engines (this one and micrograd) run literally the same loss code
(``squared_error`` and ``demo_loss`` take the Value class as an argument); only
how a neuron's weighted input is built differs, and that is what the two builds
of this engine compare:

    weighted_sum  z = weighted_sum(w, a, b): one node per weighted input
    elementary    z = sum((w_k * a_k for ...), b): micrograd's graph, 2n nodes per z

Parameters are listed in micrograd's order: layer by layer, neuron by neuron,
its weights w_j1 … w_jm and then its bias b_j.
"""

import math

import numpy as np
from micrograd.engine import Value as MicrogradValue
from micrograd.nn import MLP as MicrogradMLP

import engine
from engine import Value, weighted_sum

# -- the two networks and their data -------------------------------------------

MLP_4441 = (4, 4, 4, 1)     # the article's network: 4 inputs, two hidden layers of 4, 1 output
MLP_DEMO = (2, 16, 16, 1)   # micrograd's demo.ipynb network
DEMO_SAMPLES = 100          # micrograd's demo trains on 100 points of the moons data
ALPHA = 1e-4                # micrograd's demo: L2 regularisation strength
LEARNING_RATE = 0.05        # ε; its value does not change the cost of a step
SEED = 1337                 # micrograd's demo seed


def initial_parameters(sizes, seed=SEED):
    """W^l (n × m nested lists) and b^l (n) for every layer, uniform in [-1, 1), as floats.

    W^l[j][k] is (w_jk)^l: it connects neuron k of layer l to neuron j of layer l + 1.
    """
    rng = np.random.default_rng(seed)
    layers = []
    for m, n in zip(sizes, sizes[1:]):
        weights = rng.uniform(-1.0, 1.0, size=(n, m)).tolist()
        biases = rng.uniform(-1.0, 1.0, size=n).tolist()
        layers.append((weights, biases))
    return layers


def one_sample(n_inputs=4, seed=SEED):
    """One input x (floats in [-1, 1)) and its target y, for the 4-4-4-1 workload."""
    rng = np.random.default_rng(seed + 1)
    return rng.uniform(-1.0, 1.0, size=n_inputs).tolist(), 0.5


def make_moons(n_samples=DEMO_SAMPLES, noise=0.1, seed=SEED):
    """Two interleaving half circles, as sklearn's make_moons, with labels −1 and +1.

    Returns (X, y) as plain Python floats: X a list of [x1, x2], y a list of ±1.0.
    Every implementation gets these same lists (numpy scalars would slow the
    Python arithmetic of some implementations and not others).
    """
    rng = np.random.default_rng(seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    angle_outer = np.linspace(0.0, np.pi, n_outer)
    angle_inner = np.linspace(0.0, np.pi, n_inner)
    points = np.vstack([
        np.column_stack([np.cos(angle_outer), np.sin(angle_outer)]),
        np.column_stack([1.0 - np.cos(angle_inner), 0.5 - np.sin(angle_inner)]),
    ])
    points += rng.normal(scale=noise, size=points.shape)
    labels = np.concatenate([-np.ones(n_outer), np.ones(n_inner)])
    order = rng.permutation(n_samples)
    return points[order].tolist(), labels[order].tolist()


# -- the two losses, written once for both autograd engines --------------------

def squared_error(model, x, y, value_type):
    """C = (s − y)² for one sample: the 4-4-4-1 workload."""
    inputs = [value_type(x_k) for x_k in x]
    s = model(inputs)
    return (s - y) ** 2


def demo_loss(model, X, Y, value_type):
    """micrograd's demo.ipynb loss, term for term.

    C = mean_i relu(1 − y_i·s_i) + α Σ_p p²   (SVM max-margin loss plus L2 regularisation)
    """
    inputs = [list(map(value_type, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


# -- this engine's MLP, built two ways ---------------------------------------------

BUILDS = ("weighted_sum", "elementary")


class EngineMLP:
    """An MLP of this engine's Values: relu hidden layers, linear output (as micrograd's MLP).

    build='weighted_sum': z_j = weighted_sum(w_j, a, b_j), one node per weighted input.
    build='elementary':   z_j = sum((w_jk * a_k for ...), b_j), micrograd's exact graph.
    """

    def __init__(self, layers, build):
        if build not in BUILDS:
            raise ValueError(f"build must be one of {BUILDS}, not {build!r}")
        self.build = build
        self.weights = [[[Value(w) for w in row] for row in W] for W, _ in layers]
        self.biases = [[Value(b_j) for b_j in b] for _, b in layers]

    def __call__(self, activation):
        last = len(self.weights) - 1
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            if self.build == "weighted_sum":
                weighted_input = [weighted_sum(w_j, activation, b_j) for w_j, b_j in zip(W, b)]
            else:
                weighted_input = [sum((w * a for w, a in zip(w_j, activation)), b_j)
                                  for w_j, b_j in zip(W, b)]
            activation = (weighted_input if layer == last
                          else [z_j.relu() for z_j in weighted_input])
        return activation[0] if len(activation) == 1 else activation

    def parameters(self):
        return [p for W, b in zip(self.weights, self.biases)
                for w_j, b_j in zip(W, b) for p in (*w_j, b_j)]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


def micrograd_mlp(layers):
    """micrograd's own MLP, with its random weights replaced by ``layers``."""
    sizes = [len(layers[0][0][0])] + [len(b) for _, b in layers]
    model = MicrogradMLP(sizes[0], sizes[1:])
    for layer, (W, b) in zip(model.layers, layers):
        for neuron, w_j, b_j in zip(layer.neurons, W, b):
            for w, value in zip(neuron.w, w_j):
                w.data = value
            neuron.b.data = b_j
    return model


# -- counting nodes ------------------------------------------------------------------

def count_engine_nodes(root):
    """Nodes of one of this engine's graphs."""
    return len(engine.topological_order(root))


def count_micrograd_nodes(root):
    """Nodes of a micrograd graph, walking ``_prev`` with a stack (no recursion)."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


# -- a training step for an autograd engine -----------------------------------------

class AutogradTrainer:
    """One autograd model and its loss: a training step, its gradients, its graph.

    loss(model) builds the graph of C; value_type is the engine's Value class.
    """

    def __init__(self, model, loss, count_nodes, learning_rate=LEARNING_RATE):
        self.model = model
        self.loss = loss
        self.count_nodes = count_nodes
        self.learning_rate = learning_rate

    def step(self):
        """forward → zero_grad → backward → SGD, as micrograd's demo does it."""
        cost = self.loss(self.model)
        self.model.zero_grad()
        cost.backward()
        learning_rate = self.learning_rate
        for p in self.model.parameters():
            p.data -= learning_rate * p.grad

    def loss_and_gradients(self):
        """(C, [∂C/∂p for every parameter p]) at the current parameters, without a step."""
        cost = self.loss(self.model)
        self.model.zero_grad()
        cost.backward()
        return float(cost.data), [float(p.grad) for p in self.model.parameters()]

    def graph(self):
        """The loss node of one forward pass (its graph, for counting and measuring)."""
        return self.loss(self.model)

    def nodes(self):
        return self.count_nodes(self.graph())

    def leaves_before_forward(self):
        """How many nodes of the graph exist before a forward pass: the parameters."""
        return len(self.model.parameters())


def engine_trainer(problem, build, seed=SEED):
    """This engine on a problem ('4441' or 'demo'), with the given build."""
    layers, loss = PROBLEMS[problem](seed)
    model = EngineMLP(layers, build)
    return AutogradTrainer(model, lambda m: loss(m, Value), count_engine_nodes)


def micrograd_trainer(problem, seed=SEED):
    """micrograd 0.1.0 on a problem ('4441' or 'demo')."""
    layers, loss = PROBLEMS[problem](seed)
    model = micrograd_mlp(layers)
    return AutogradTrainer(model, lambda m: loss(m, MicrogradValue), count_micrograd_nodes)


def _problem_4441(seed):
    x, y = one_sample(seed=seed)
    return initial_parameters(MLP_4441, seed), lambda model, V: squared_error(model, x, y, V)


def _problem_demo(seed):
    X, Y = make_moons(seed=seed)
    return initial_parameters(MLP_DEMO, seed), lambda model, V: demo_loss(model, X, Y, V)


PROBLEMS = {"4441": _problem_4441, "demo": _problem_demo}


# -- chains: x ← x·c_mul, x ← x + c_add, alternating -----------------------------------
# c_mul^(n/2) stays near 1 (0.999999^500000 ≈ e^−0.5), so values and gradients stay
# ordinary numbers even for a million operations.

CHAIN_START, CHAIN_MUL, CHAIN_ADD = 1.5, 0.999999, 1e-6
CHAIN_LENGTHS = (10_000, 100_000, 1_000_000)


class ChainTrainer:
    """A chain of n operations in an autograd engine: build it, backward, zero the leaves."""

    def __init__(self, n, value_type, count_nodes):
        self.n = n
        self.count_nodes = count_nodes
        self.x = value_type(CHAIN_START)
        self.c_mul = value_type(CHAIN_MUL)
        self.c_add = value_type(CHAIN_ADD)

    def build(self):
        x, c_mul, c_add = self.x, self.c_mul, self.c_add
        for i in range(self.n):
            x = x * c_mul if i % 2 == 0 else x + c_add
        return x

    def step(self):
        """Build the chain and backpropagate through it (the graph is freed on return)."""
        leaves = (self.x, self.c_mul, self.c_add)
        for leaf in leaves:
            leaf.grad = 0.0
        self.build().backward()

    def loss_and_gradients(self):
        """(x_n, [∂x_n/∂x_0, ∂x_n/∂c_mul, ∂x_n/∂c_add])."""
        leaves = (self.x, self.c_mul, self.c_add)
        for leaf in leaves:
            leaf.grad = 0.0
        root = self.build()
        root.backward()
        return float(root.data), [float(leaf.grad) for leaf in leaves]

    def graph(self):
        return self.build()

    def nodes(self):
        return self.count_nodes(self.graph())

    def leaves_before_forward(self):
        """x_0, c_mul and c_add exist before the chain is built."""
        return 3


def engine_chain(n):
    return ChainTrainer(n, Value, count_engine_nodes)


def micrograd_chain(n):
    return ChainTrainer(n, MicrogradValue, count_micrograd_nodes)


def relative_difference(a, b):
    """|a − b| / max(|a|, |b|), and 0 when both are 0."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / scale


def agree(a, b, rtol=1e-9, atol=1e-12):
    """a and b equal to rtol relatively (atol absorbs round-off next to an exact 0)."""
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
