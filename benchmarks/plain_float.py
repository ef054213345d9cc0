"""Backprop by hand on plain Python floats and lists: the limit for a pure-Python engine.

No graph, no nodes: the forward pass keeps the weighted inputs z and the
activations a of every layer, and the backward pass is the article's equations
written out. With layers l = 1 … L, a^1 = x and f = relu (linear at the output):

    forward    z^{l+1} = W^l a^l + b^l,   a^{l+1} = f(z^{l+1}),   s = z^L
    output     δ^L = ∂C/∂s
    backward   δ^l = ((W^l)ᵀ δ^{l+1}) ⊙ f'(z^l)
    gradients  ∂C/∂(w_jk)^l = (δ_j)^{l+1} (a_k)^l,   ∂C/∂(b_j)^l = (δ_j)^{l+1}
    SGD        w ← w − ε ∂C/∂w

The same maths, data and parameters as the autograd workloads (workloads.py).
"""

from operator import mul

from benchmarks.workloads import (
    ALPHA,
    CHAIN_ADD,
    CHAIN_MUL,
    CHAIN_START,
    LEARNING_RATE,
    MLP_4441,
    MLP_DEMO,
    SEED,
    initial_parameters,
    make_moons,
    one_sample,
)


def dot(u, v):
    """Σ_k u_k·v_k"""
    return sum(map(mul, u, v))


def relu(z):
    return z if z > 0.0 else 0.0


def relu_derivative(z):
    # relu'(0) = 0, as in this engine, micrograd and PyTorch
    return 1.0 if z > 0.0 else 0.0


class PlainMLP:
    """An MLP on floats: weights[l][j][k] is (w_jk)^l, biases[l][j] is (b_j)^l.

    Gradients accumulate in weight_gradients and bias_gradients (same shapes), as
    ``.grad`` does in an autograd engine, so a loss over many samples sums them.
    """

    def __init__(self, layers):
        self.weights = [[list(row) for row in W] for W, _ in layers]
        self.biases = [list(b) for _, b in layers]
        self.zero_grad()

    def zero_grad(self):
        self.weight_gradients = [[[0.0] * len(row) for row in W] for W in self.weights]
        self.bias_gradients = [[0.0] * len(b) for b in self.biases]

    def forward(self, x):
        """s, and what backward needs: activations = [a^1 = x, a^2, …, a^{L−1}] (the inputs
        of W^1 … W^{L−1}) and weighted_inputs = [z^2, …, z^L]."""
        activation = x
        activations = [x]
        weighted_inputs = []
        last = len(self.weights) - 1
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            weighted_input = [dot(w_j, activation) + b_j for w_j, b_j in zip(W, b)]
            weighted_inputs.append(weighted_input)
            if layer == last:
                activation = weighted_input  # linear output
            else:
                activation = [relu(z_j) for z_j in weighted_input]
                activations.append(activation)
        return activation[0], activations, weighted_inputs

    def backward(self, activations, weighted_inputs, output_delta):
        """Add ∂C/∂w and ∂C/∂b to the gradients, given δ^L = ∂C/∂s for one sample."""
        delta = [output_delta]
        for layer in reversed(range(len(self.weights))):
            activation = activations[layer]
            weight_gradients = self.weight_gradients[layer]
            bias_gradients = self.bias_gradients[layer]
            for j, delta_j in enumerate(delta):
                # ∂C/∂w_jk = δ_j a_k,  ∂C/∂b_j = δ_j
                gradients_j = weight_gradients[j]
                for k, a_k in enumerate(activation):
                    gradients_j[k] += delta_j * a_k
                bias_gradients[j] += delta_j
            if layer > 0:
                # δ^l = (W^l)ᵀ δ^{l+1} ⊙ f'(z^l); zip(*W) gives the columns of W, the rows of Wᵀ
                columns = zip(*self.weights[layer])
                delta = [dot(column_k, delta) * relu_derivative(z_k)
                         for column_k, z_k in zip(columns, weighted_inputs[layer - 1])]

    def sgd(self, learning_rate):
        """w ← w − ε ∂C/∂w and b ← b − ε ∂C/∂b, in place"""
        for W, b, weight_gradients, bias_gradients in zip(
                self.weights, self.biases, self.weight_gradients, self.bias_gradients):
            for w_j, gradients_j in zip(W, weight_gradients):
                for k, gradient in enumerate(gradients_j):
                    w_j[k] -= learning_rate * gradient
            for j, gradient in enumerate(bias_gradients):
                b[j] -= learning_rate * gradient

    def parameters(self):
        """The parameters in micrograd's order: per neuron w_j1 … w_jm, then b_j."""
        return [p for W, b in zip(self.weights, self.biases)
                for w_j, b_j in zip(W, b) for p in (*w_j, b_j)]

    def gradients(self):
        """∂C/∂p in the order of ``parameters()``."""
        return [g for W, b in zip(self.weight_gradients, self.bias_gradients)
                for g_j, gb_j in zip(W, b) for g in (*g_j, gb_j)]


class PlainTrainer:
    """A PlainMLP and a loss whose ∂C/∂s is written by hand."""

    def __init__(self, model, loss_and_backward, learning_rate=LEARNING_RATE):
        self.model = model
        self.loss_and_backward = loss_and_backward
        self.learning_rate = learning_rate

    def step(self):
        """zero_grad → forward and backward → SGD"""
        self.model.zero_grad()
        self.loss_and_backward(self.model)
        self.model.sgd(self.learning_rate)

    def loss_and_gradients(self):
        self.model.zero_grad()
        cost = self.loss_and_backward(self.model)
        return cost, self.model.gradients()


def squared_error_and_backward(model, x, y):
    """C = (s − y)², so δ^L = ∂C/∂s = 2(s − y)."""
    s, activations, weighted_inputs = model.forward(x)
    model.backward(activations, weighted_inputs, 2.0 * (s - y))
    return (s - y) ** 2


def demo_loss_and_backward(model, X, Y):
    """micrograd's demo loss C = (1/N) Σ_i relu(1 − y_i s_i) + α Σ_p p², and its gradients.

    For sample i, ∂C/∂s_i = −y_i / N where the margin 1 − y_i s_i is positive (0 elsewhere);
    the regularisation adds ∂(α p²)/∂p = 2αp to every parameter.
    """
    n = len(X)
    data_loss = 0.0
    for x, y in zip(X, Y):
        s, activations, weighted_inputs = model.forward(x)
        margin = 1.0 - y * s
        data_loss += relu(margin)
        model.backward(activations, weighted_inputs, -y / n if margin > 0.0 else 0.0)
    reg_loss = 0.0
    for W, b, gW, gb in zip(model.weights, model.biases,
                            model.weight_gradients, model.bias_gradients):
        for j, (w_j, b_j) in enumerate(zip(W, b)):
            reg_loss += dot(w_j, w_j) + b_j * b_j
            gW[j] = [g + 2.0 * ALPHA * w for g, w in zip(gW[j], w_j)]
            gb[j] += 2.0 * ALPHA * b_j
    return data_loss / n + ALPHA * reg_loss


def plain_trainer(problem, seed=SEED):
    """Plain-float backprop on a problem ('4441' or 'demo'), same data and parameters."""
    if problem == "4441":
        x, y = one_sample(seed=seed)
        model = PlainMLP(initial_parameters(MLP_4441, seed))
        return PlainTrainer(model, lambda m: squared_error_and_backward(m, x, y))
    if problem == "demo":
        X, Y = make_moons(seed=seed)
        model = PlainMLP(initial_parameters(MLP_DEMO, seed))
        return PlainTrainer(model, lambda m: demo_loss_and_backward(m, X, Y))
    raise ValueError(f"unknown problem {problem!r}")


class PlainChain:
    """The chain x ← x·c_mul, x ← x + c_add (alternating, n operations) on floats."""

    def __init__(self, n):
        self.n = n

    def loss_and_gradients(self):
        """(x_n, [∂x_n/∂x_0, ∂x_n/∂c_mul, ∂x_n/∂c_add])"""
        c_mul, c_add = CHAIN_MUL, CHAIN_ADD
        # forward: keep every x_i, as a graph would
        xs = [CHAIN_START]
        x = CHAIN_START
        for i in range(self.n):
            x = x * c_mul if i % 2 == 0 else x + c_add
            xs.append(x)
        # backward: g = ∂x_n/∂x_i, from i = n down to 0
        g, g_mul, g_add = 1.0, 0.0, 0.0
        for i in reversed(range(self.n)):
            if i % 2 == 0:      # x_{i+1} = x_i · c_mul
                g_mul += g * xs[i]
                g *= c_mul
            else:               # x_{i+1} = x_i + c_add
                g_add += g
        return x, [g, g_mul, g_add]

    def step(self):
        self.loss_and_gradients()
