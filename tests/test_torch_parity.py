"""The engine against PyTorch in float64: values, first and second derivatives.

Random expressions (fixed seeds) are built twice, once from Values and once
from 0-d float64 tensors, by the same program; torch.autograd.grad with
create_graph=True gives the reference gradients and Hessians. Skipped when
torch is not importable.
"""

import math
import random

import pytest

import engine
from engine import Value, weighted_sum

torch = pytest.importorskip("torch")

REL = 1e-12


def _wsum_torch(weights, inputs, bias=None):
    z = sum(w * x for w, x in zip(weights, inputs))
    return z if bias is None else z + bias


# name -> (on Values, on tensors); every op of the engine, domains kept safe
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "neg": (lambda a, b: -a, lambda a, b: -a),
    "pow-int": (lambda a, b: a ** 3, lambda a, b: a ** 3),
    "pow-float": (lambda a, b: (a * a + 0.5) ** 1.5, lambda a, b: (a * a + 0.5) ** 1.5),
    "pow-value": (lambda a, b: (a * a + 0.5) ** b, lambda a, b: (a * a + 0.5) ** b),
    "2**a": (lambda a, b: 2 ** a, lambda a, b: 2 ** a),
    "2-a": (lambda a, b: 2 - a, lambda a, b: 2 - a),
    "2/(a²+1)": (lambda a, b: 2 / (a * a + 1), lambda a, b: 2 / (a * a + 1)),
    "3*a+2": (lambda a, b: 3 * a + 2, lambda a, b: 3 * a + 2),
    "exp": (lambda a, b: a.exp(), lambda a, b: a.exp()),
    "log": (lambda a, b: (a * a + 1).log(), lambda a, b: (a * a + 1).log()),
    "sqrt": (lambda a, b: (a * a + 0.01).sqrt(), lambda a, b: (a * a + 0.01).sqrt()),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: a.tanh()),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: a.sigmoid()),
    "relu": (lambda a, b: a.relu(), lambda a, b: a.relu()),
    "weighted_sum": (lambda a, b: weighted_sum([a, b], [b, a], a),
                     lambda a, b: _wsum_torch([a, b], [b, a], a)),
}
NAMES = sorted(OPS)


def random_program(seed):
    """(leaf data, steps) with every intermediate in a safe range, from a seed."""
    rng = random.Random(seed)
    leaf_data = [rng.uniform(-1.5, 1.5) for _ in range(3)]
    nodes = [Value(x) for x in leaf_data]
    steps = []
    while len(steps) < rng.randint(4, 10):
        name = rng.choice(NAMES)
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        if name == "relu" and abs(nodes[i].data) < 1e-3:
            continue            # not at the kink, where conventions may differ
        try:
            node = OPS[name][0](nodes[i], nodes[j])
        except (ArithmeticError, ValueError):
            continue
        if abs(node.data) > 50:
            continue
        nodes.append(node)
        steps.append((name, i, j))
    return leaf_data, steps


def run(steps, leaves, backend):
    nodes = list(leaves)
    for name, i, j in steps:
        nodes.append(OPS[name][backend](nodes[i], nodes[j]))
    output = nodes[len(leaves)]
    for node in nodes[len(leaves) + 1:]:
        output = output + node
    return output


def assert_close(got, expected, what):
    """Relative agreement to REL, measured against the largest entry compared."""
    scale = max([1.0] + [abs(e) for e in expected])
    for k, (g, e) in enumerate(zip(got, expected)):
        assert math.isclose(g, e, rel_tol=REL, abs_tol=REL * scale), (what, k, g, e)


def torch_leaves(data):
    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in data]


@pytest.mark.parametrize("seed", range(40))
def test_random_expression_value_gradient_and_hessian_match_pytorch(seed):
    leaf_data, steps = random_program(seed)

    leaves = [Value(x) for x in leaf_data]
    out = run(steps, leaves, backend=0)
    first = engine.grad(out, leaves, create_graph=True)
    hessian = [engine.grad(g, leaves) for g in first]

    t_leaves = torch_leaves(leaf_data)
    t_out = run(steps, t_leaves, backend=1)
    t_first = torch.autograd.grad(t_out, t_leaves, create_graph=True, allow_unused=True)
    t_hessian = []
    for g in t_first:
        if g is None or not g.requires_grad:
            t_hessian.append([0.0] * len(t_leaves))
            continue
        row = torch.autograd.grad(g, t_leaves, retain_graph=True, allow_unused=True)
        t_hessian.append([0.0 if r is None else r.item() for r in row])

    assert_close([out.data], [t_out.item()], "value")
    assert_close([g.data for g in first], [0.0 if g is None else g.item() for g in t_first],
                 "gradient")
    for i, (row, t_row) in enumerate(zip(hessian, t_hessian)):
        assert_close(row, t_row, f"hessian row {i}")


@pytest.mark.parametrize("seed", range(10))
def test_backward_on_a_random_expression_matches_pytorch_backward(seed):
    leaf_data, steps = random_program(1000 + seed)
    leaves = [Value(x) for x in leaf_data]
    run(steps, leaves, backend=0).backward()
    t_leaves = torch_leaves(leaf_data)
    run(steps, t_leaves, backend=1).backward()
    assert_close([x.grad for x in leaves],
                 [0.0 if t.grad is None else t.grad.item() for t in t_leaves], "backward")


def test_4_4_4_1_network_gradients_match_pytorch():
    # tanh hidden layers, linear output, C = (s − y)²; weights (w_jk)^l as in the article
    rng = random.Random(7)
    sizes = [4, 4, 4, 1]
    shapes = [(sizes[layer + 1], sizes[layer]) for layer in range(3)]
    weights = [[[rng.gauss(0, 1) for _ in range(m)] for _ in range(n)] for n, m in shapes]
    biases = [[rng.gauss(0, 1) for _ in range(n)] for n, _ in shapes]
    x_data, y = [rng.gauss(0, 1) for _ in range(4)], 0.3

    def forward(W, b, x, wsum):
        a = x
        for layer in range(3):
            z = [wsum(W[layer][j], a, b[layer][j]) for j in range(len(W[layer]))]
            a = z if layer == 2 else [zj.tanh() for zj in z]
        return (a[0] - y) ** 2

    W = [[[Value(w) for w in row] for row in layer] for layer in weights]
    b = [[Value(v) for v in layer] for layer in biases]
    cost = forward(W, b, x_data, weighted_sum)
    cost.backward()

    tW = [[torch_leaves(row) for row in layer] for layer in weights]
    tb = [torch_leaves(layer) for layer in biases]
    t_cost = forward(tW, tb, x_data, _wsum_torch)
    t_cost.backward()

    assert_close([cost.data], [t_cost.item()], "cost")
    for layer in range(3):
        for j, row in enumerate(W[layer]):
            assert_close([w.grad for w in row], [t.grad.item() for t in tW[layer][j]],
                         f"w{layer + 1}_{j + 1}k")
        assert_close([v.grad for v in b[layer]], [t.grad.item() for t in tb[layer]],
                     f"b{layer + 2}")


def test_relu_gradient_at_zero_matches_pytorch():
    x = Value(0.0)
    x.relu().backward()
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    t.relu().backward()
    assert x.grad == t.grad.item() == 0.0


@pytest.mark.parametrize("x0", [1000.0, -1000.0, 30.0])
def test_tanh_and_sigmoid_saturation_match_pytorch(x0):
    for method in ("tanh", "sigmoid"):
        x = Value(x0)
        y = getattr(x, method)()
        y.backward()
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        ty = getattr(t, method)()
        ty.backward()
        assert y.data == pytest.approx(ty.item(), rel=REL, abs=1e-300)
        assert x.grad == pytest.approx(t.grad.item(), rel=1e-9, abs=1e-300)
