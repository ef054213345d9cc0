"""to_torch(net): carry a trained network into PyTorch.

PyTorch is not a dependency of chainrule: it is imported only when
``to_torch`` is called.

    model = nn.to_torch(net)        # torch.nn.Sequential, float64
    model(torch.tensor(x))          # the same s as net(x)

``torch.nn.Linear`` stores W^l exactly as the article does, shape (neurons in
layer l+1, neurons in layer l), so the l-th Linear module's ``.weight`` is W^l and its ``.bias``
is b^l.
"""

from nn.matrix import to_matrices

__all__ = ["to_torch"]


def to_torch(net):
    """An equivalent torch.nn.Sequential (float64) with the same weights and biases.

    Linear(n_l, n_{l+1}) for each W^l, each followed by its activation
    (Tanh, Sigmoid or ReLU; nothing for 'linear'). The tensors are copies.
    """
    try:
        import torch
    except ImportError:
        raise ImportError("nn.to_torch needs PyTorch, which chainrule does not install: "
                          "pip install torch") from None

    activations = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
                   "relu": torch.nn.ReLU}
    Ws, bs = to_matrices(net)
    modules = []
    for layer, W, b in zip(net.layers, Ws, bs):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(activations[layer.activation]())
    return torch.nn.Sequential(*modules)
