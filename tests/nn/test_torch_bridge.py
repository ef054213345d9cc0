"""to_torch: the same network in PyTorch, with the same outputs and gradients."""

import builtins

import numpy as np
import pytest

from engine import grad
from nn import MLP, to_matrices, to_torch


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("output_activation", ["linear", "sigmoid"])
def test_torch_network_gives_the_same_output_and_gradients(activation, output_activation):
    torch = pytest.importorskip("torch")
    net = MLP(4, [4, 4, 1], activation, output_activation, seed=0)
    model = to_torch(net)
    x, y = [0.5, -1.0, 2.0, 0.3], 0.75

    s = net(x)
    C = (s - y) ** 2
    partials = grad(C, net.parameters())

    s_torch = model(torch.tensor(x, dtype=torch.float64))
    assert s_torch.dtype == torch.float64
    assert s_torch.item() == pytest.approx(s.data, rel=1e-14, abs=1e-15)
    C_torch = ((s_torch - y) ** 2).sum()
    C_torch.backward()

    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    torch_partials = np.concatenate(
        [np.column_stack([m.weight.grad.numpy(), m.bias.grad.numpy()]).ravel()
         for m in linears])
    assert np.allclose(torch_partials, partials, rtol=1e-12, atol=1e-15)


def test_linear_modules_hold_W_and_b():
    torch = pytest.importorskip("torch")
    net = MLP(4, [3, 2], seed=1)
    linears = [m for m in to_torch(net) if isinstance(m, torch.nn.Linear)]
    Ws, bs = to_matrices(net)
    for m, W, b in zip(linears, Ws, bs):
        assert np.array_equal(m.weight.detach().numpy(), W)
        assert np.array_equal(m.bias.detach().numpy(), b)


def test_torch_copy_is_independent_of_the_network():
    torch = pytest.importorskip("torch")
    net = MLP(2, [1], seed=0)
    model = to_torch(net)
    with torch.no_grad():
        model[0].weight.fill_(5.0)
    assert net.weight(1, 1, 1).data != 5.0


def test_missing_torch_gives_a_clear_import_error(monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(MLP(2, [1], seed=0))


def test_importing_nn_does_not_import_torch():
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[2]  # the repository
    code = "import sys, nn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "False"
