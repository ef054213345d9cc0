"""nn: the article's network built out of engine Values.

    import nn
    net = nn.MLP(4, [4, 4, 1], seed=0)   # the 4-4-4-1 network
    s = net([5.1, 3.5, 1.4, 0.2])        # the prediction s
    net.weight(2, 2, 2)                  # (w_22)^2, labelled 'w2_22'
    print(nn.explain((s - 1) ** 2, net.weight(2, 2, 2)))   # the chain rule

Modules: Module, Neuron, Layer, MLP; nn.load(path) builds a network from a
file written by ``net.save(path)``. The matrix form: to_matrices,
from_matrices, matrix_backprop. to_torch needs PyTorch (never a dependency).
nn.check_derivation(C, "w2_22", factors=[...]) checks a hand derivation.
Training: the losses mse, binary_cross_entropy, hinge; SGD; fit; and the
data sets in nn.datasets (load_iris, make_moons, train_test_split, standardize).
"""

from nn import datasets
from nn.check import DerivationReport, check_derivation
from nn.explain import Explanation, explain
from nn.layers import ACTIVATIONS, MLP, Layer, Neuron, load, parameter_name
from nn.losses import binary_cross_entropy, hinge, mse
from nn.matrix import BackpropResult, from_matrices, matrix_backprop, to_matrices
from nn.module import ModelFormatError, Module
from nn.optim import SGD
from nn.torch_bridge import to_torch
from nn.train import fit

__all__ = ["Module", "Neuron", "Layer", "MLP", "load", "ModelFormatError",
           "ACTIVATIONS", "parameter_name",
           "to_matrices", "from_matrices", "matrix_backprop", "BackpropResult",
           "explain", "Explanation", "check_derivation", "DerivationReport", "to_torch",
           "mse", "binary_cross_entropy", "hinge", "SGD", "fit", "datasets"]
