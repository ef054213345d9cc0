"""explain: the chain rule path by path, named in the article's notation."""

import math

import pytest

from engine import Value, grad
from nn import MLP, explain
from nn.losses import mse

X = [0.5, -1.0, 2.0, 0.3]
Y = 0.25


@pytest.fixture
def network_and_cost():
    net = MLP(4, [4, 4, 1], seed=0)
    s = net(X)
    C = mse(s, Y)   # C = (s − y)², one op: the chain rule starts with dC/ds
    return net, C


def test_w22_in_layer_2_has_one_path(network_and_cost):
    net, C = network_and_cost
    e = explain(C, net.weight(2, 2, 2))
    assert e.count == 1 and len(e.paths) == 1
    labels = [node.label for node in e.paths[0]]
    # C ← s ← (a_2)^3 ← (z_2)^3 ← (w_22)^2, as in the article
    assert labels == ["C", "s", "a3_2", "z3_2", "w2_22"]
    assert e.paths[0][0] is C and e.paths[0][-1] is net.weight(2, 2, 2)


def test_w22_total_equals_the_article_formula_by_hand(network_and_cost):
    net, C = network_and_cost
    s = net.a(4, 1).data
    # dC/d(w_22)^2 = dC/ds · ds/d(a_2)^3 · d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2
    #              = 2(s − y) · (w_12)^3 · (1 − tanh²((z_2)^3)) · (a_2)^2
    by_hand = (2 * (s - Y) * net.weight(3, 1, 2).data
               * (1 - math.tanh(net.z(3, 2).data) ** 2) * net.a(2, 2).data)
    e = explain(C, net.weight(2, 2, 2))
    assert e.total == pytest.approx(by_hand, rel=1e-14)
    assert e.autograd == grad(C, net.weight(2, 2, 2))[0]
    assert e.agrees


def test_factors_are_named_in_the_article_notation(network_and_cost):
    net, C = network_and_cost
    factors = explain(C, net.weight(2, 2, 2)).paths[0].factors
    texts = [f.text for f in factors]
    assert texts == ["dC/ds", "ds/d(a_2)^3", "d(a_2)^3/d(z_2)^3", "d(z_2)^3/d(w_22)^2"]


def test_factor_values_are_the_local_derivatives(network_and_cost):
    net, C = network_and_cost
    factors = explain(C, net.weight(2, 2, 2)).paths[0].factors
    by_text = {f.text: f.value for f in factors}
    assert by_text["d(z_2)^3/d(w_22)^2"] == net.a(2, 2).data
    assert by_text["ds/d(a_2)^3"] == net.weight(3, 1, 2).data
    assert by_text["d(a_2)^3/d(z_2)^3"] == 1 - net.a(3, 2).data ** 2
    assert by_text["dC/ds"] == 2 * (net.a(4, 1).data - Y)
    assert [f.op for f in factors] == ["squared_error", "weighted_sum", "tanh", "weighted_sum"]
    # each formula in the operands' own names, as the article writes them
    assert factors[0].formula == "2·(s − y)"
    assert factors[1].formula == "(w_12)^3"
    assert factors[2].formula == "1 − tanh²((z_2)^3)"
    assert factors[3].formula == "(a_2)^2"


def test_path_product_is_the_product_of_its_factors(network_and_cost):
    net, C = network_and_cost
    path = explain(C, net.weight(1, 2, 3)).paths[0]
    assert path.product == math.prod(f.value for f in path.factors)


def test_first_layer_weight_has_one_path_per_hidden_neuron_of_layer_3(network_and_cost):
    net, C = network_and_cost
    e = explain(C, net.weight(1, 2, 3))
    assert e.count == 4
    through = sorted(path[3].label for path in e.paths)  # C ← s ← (a_j)^3 ← (z_j)^3
    assert through == ["z3_1", "z3_2", "z3_3", "z3_4"]
    assert e.total == pytest.approx(e.autograd, rel=1e-13)


@pytest.mark.parametrize("name", ["w1_11", "b1_4", "w2_34", "b2_1", "w3_13", "b3_1"])
def test_sum_over_paths_equals_autograd_for_every_kind_of_parameter(network_and_cost, name):
    net, C = network_and_cost
    param = net.named_parameters()[name]
    e = explain(C, param)
    assert abs(e.total - e.autograd) <= 1e-12 * max(1.0, abs(e.autograd))


def test_repeated_operand_counts_two_paths():
    x = Value(3.0, label="x")
    y = x * x
    e = explain(y, x)
    assert e.count == 2
    assert e.total == 6.0 == e.autograd


def test_parameter_not_in_the_graph_has_no_path():
    x, w = Value(2.0, label="x"), Value(1.0, label="w")
    e = explain(x * 3.0, w)
    assert e.count == 0 and e.paths == [] and e.total == 0.0 == e.autograd
    assert "does not depend" in str(e)


def test_output_is_its_own_parameter():
    x = Value(2.0, label="x")
    e = explain(x, x)
    assert e.count == 1 and e.total == 1.0 and e.paths[0] == [x]


def test_too_many_paths_are_grouped_by_layer_not_listed():
    # 4-8-8-8-8-8-1: 8^4 = 4096 paths from C to a first-layer weight
    net = MLP(4, [8, 8, 8, 8, 8, 1], seed=0)
    C = (net(X) - Y) ** 2
    e = explain(C, net.weight(1, 1, 1))
    assert e.count == 8 ** 4 and e.grouped and e.paths == []
    assert [g.layer for g in e.groups] == [6, 5, 4, 3, 2]
    for group in e.groups:  # each layer of z nodes is crossed by every path once
        assert group.paths == e.count
        assert group.total == pytest.approx(e.autograd, rel=1e-12, abs=1e-15)
    assert abs(e.total - e.autograd) <= 1e-12 * max(1.0, abs(e.autograd))
    assert "grouped by layer" in str(e)


def test_limit_decides_between_listing_and_grouping(network_and_cost):
    net, C = network_and_cost
    assert not explain(C, net.weight(1, 1, 1), limit=4).grouped
    assert explain(C, net.weight(1, 1, 1), limit=3).grouped


def test_a_long_chain_does_not_hang_or_recurse():
    x = Value(0.5, label="x")
    y = x
    for _ in range(3000):
        y = y * 1.0001 + x * 0.0
    e = explain(y, x, limit=10)
    assert e.count == 3001 and e.grouped
    assert e.total == pytest.approx(e.autograd, rel=1e-12)


def test_path_count_beyond_any_listing_is_counted_exactly():
    # Each step doubles the paths: y = y + y, 200 times -> 2^200 paths
    x = Value(1.0, label="x")
    y = x
    for _ in range(200):
        y = y + y
    e = explain(y, x)
    assert e.count == 2 ** 200 and e.grouped
    assert e.total == e.autograd == 2.0 ** 200


def test_nodes_lists_every_node_on_some_path(network_and_cost):
    net, C = network_and_cost
    e = explain(C, net.weight(2, 2, 2))
    assert set(e.nodes) == set(e.paths[0])


def test_text_shows_paths_factors_and_the_check(network_and_cost):
    net, C = network_and_cost
    text = str(explain(C, net.weight(2, 2, 2)))
    assert text.startswith("dC/d(w_22)^2 by the chain rule: 1 path from C to (w_22)^2")
    assert "C ← s ← (a_2)^3 ← (z_2)^3 ← (w_22)^2" in text
    assert "d(a_2)^3/d(z_2)^3" in text and "tanh: 1 − tanh²((z_2)^3)" in text
    assert "autograd" in text and "agree" in text


def test_latex_uses_partial_fractions(network_and_cost):
    net, C = network_and_cost
    latex = explain(C, net.weight(2, 2, 2))._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$")
    assert r"\frac{\partial C}{\partial (w_{22})^{2}}" in latex
    assert r"\frac{\partial (a_{2})^{3}}{\partial (z_{2})^{3}}" in latex


def test_unlabelled_intermediates_get_placeholders_listed_in_the_legend():
    net = MLP(2, [2, 1], seed=0)
    outputs = [net([0.1 * i, 0.2]) for i in range(4)]
    C = sum(((s - 1.0) ** 2 for s in outputs), Value(0.0)) / 4
    C.label = "C"
    e = explain(C, net.weight(2, 1, 1))
    assert e.count == 4
    text = str(e)
    assert "where" in text and "u1 = " in text


def test_disagreement_would_be_reported(network_and_cost):
    net, C = network_and_cost
    e = explain(C, net.weight(2, 2, 2), rtol=-1.0)  # an impossible tolerance
    assert not e.agrees and "DISAGREE" in str(e)
