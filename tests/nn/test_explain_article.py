"""explain in the article's factors: one path, dC/ds first, for every cost, sample and seed."""

import math

import pytest

from engine import Value, grad
from nn import MLP, binary_cross_entropy, explain, hinge, mse

ARTICLE = ["dC/ds", "ds/d(a_2)^3", "d(a_2)^3/d(z_2)^3", "d(z_2)^3/d(w_22)^2"]
SAMPLES = [[0.5, -1.0, 2.0, 0.3], [-1.2, 0.4, 0.0, 1.7], [3.0, 3.0, -3.0, 0.1]]


def _sigmoid(s):
    return 1.0 / (1.0 + math.exp(-s))


# each cost with its dC/ds, derived by hand
COSTS = {
    "mse": (mse, 0.25, lambda s, y: 2.0 * (s - y)),
    "binary_cross_entropy": (binary_cross_entropy, 1, lambda s, y: _sigmoid(s) - y),
    "hinge": (hinge, -1, lambda s, y: -y if y * s < 1.0 else 0.0),
}


@pytest.mark.parametrize("cost_name", sorted(COSTS))
@pytest.mark.parametrize("seed", [0, 3, 7])
@pytest.mark.parametrize("x", SAMPLES)
def test_w22_has_one_path_and_the_article_factors(cost_name, seed, x):
    cost, y, dC_ds = COSTS[cost_name]
    net = MLP(4, [4, 4, 1], seed=seed)
    C = cost(net(x), y)
    e = explain(C, net.weight(2, 2, 2))
    assert e.count == 1, f"{cost_name}, seed {seed}: {e.count} paths"
    factors = e.paths[0].factors
    assert [f.text for f in factors] == ARTICLE
    s = net.a(4, 1).data
    by_hand = [dC_ds(s, y), net.weight(3, 1, 2).data,
               1.0 - math.tanh(net.z(3, 2).data) ** 2, net.a(2, 2).data]
    for factor, expected in zip(factors, by_hand):
        assert factor.value == pytest.approx(expected, rel=1e-12, abs=1e-15), factor.text
    assert e.total == grad(C, net.weight(2, 2, 2))[0]


def test_factor_formulas_use_the_operands_names():
    net = MLP(4, [4, 4, 1], seed=0)
    C = binary_cross_entropy(net(SAMPLES[0]), 1)
    formulas = [f.formula for f in explain(C, net.weight(2, 2, 2)).paths[0].factors]
    assert formulas == ["σ(s) − y", "(w_12)^3", "1 − tanh²((z_2)^3)", "(a_2)^2"]


@pytest.mark.parametrize("name", ["w2_22", "(w_22)^2", " (w_22)^2 ", "w_22^2"])
def test_a_parameter_can_be_named_by_label_or_as_the_article_writes_it(name):
    net = MLP(4, [4, 4, 1], seed=0)
    C = mse(net(SAMPLES[0]), 0.25)
    assert explain(C, name).param is net.weight(2, 2, 2)


def test_a_bias_can_be_named_as_the_article_writes_it():
    net = MLP(4, [4, 4, 1], seed=0)
    C = mse(net(SAMPLES[0]), 0.25)
    assert explain(C, "(b_1)^3").param is net.bias(3, 1)


def test_an_unknown_name_suggests_the_nearest():
    net = MLP(4, [4, 4, 1], seed=0)
    C = mse(net(SAMPLES[0]), 0.25)
    with pytest.raises(KeyError, match=r"w2_2'.*did you mean w2_21, w2_22"):
        explain(C, "w2_2")


def test_explanation_says_what_it_explains():
    net = MLP(4, [4, 4, 1], seed=0)
    x = SAMPLES[1]
    C = binary_cross_entropy(net(x), 1)
    e = explain(C, net.weight(2, 2, 2))
    cost_line, sample_line = e.setting()
    assert cost_line.startswith("C = ln(1 + exp(s)) − y·s = ")
    assert f"s = {net.a(4, 1).data:.6g}" in cost_line and "y = 1" in cost_line
    assert sample_line == "for the sample x = (x_1, ..., x_4) = (-1.2, 0.4, 0, 1.7)"
    text = str(e)
    assert cost_line in text and sample_line in text
    assert r"\text{for the sample } x = (x_{1}, \ldots, x_{4})" in e._repr_latex_()


def test_an_undefined_local_derivative_raises_floating_point_error_naming_the_node():
    x = Value(0.0, label="x")
    with pytest.raises(FloatingPointError, match=r"sqrt's local derivative"):
        explain(x.sqrt() + x, x)


def test_small_unlabelled_expressions_are_still_explained_step_by_step():
    x, y = Value(2.0, label="x"), Value(1.0, label="y")
    out = (x * y + x).tanh()
    e = explain(out, x)
    assert e.count == 2
    assert [len(path.factors) for path in e.paths] == [3, 2]
    assert e.agrees


@pytest.mark.slow
def test_a_long_chain_is_explained_in_one_pass():
    # Each step of the path is linked, not copied: 20,000 steps are one path.
    x = Value(0.5, label="x")
    y = x
    for i in range(20_000):
        y = y * 1.0001 if i % 2 else y + 0.001
    e = explain(y, x)
    assert e.count == 1 and len(e.paths[0]) == 20_001
    assert e.agrees
