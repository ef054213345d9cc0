"""draw_dot takes a node's name wherever it takes a Value of the graph."""

import pytest

import viz
from nn.example import WorkedExample


@pytest.fixture(scope="module")
def cost():
    return WorkedExample(0).cost()


@pytest.mark.parametrize("name", ["w1_11", "(w_11)^1", "z3_2", "(a_2)^3"])
def test_highlight_by_name_draws_what_highlight_by_value_draws(cost, name):
    from engine import notation, topological_order
    value = notation.find(name, topological_order(cost))
    assert viz.draw_dot(cost, highlight=name).source == \
        viz.draw_dot(cost, highlight=value).source


def test_around_by_name_draws_what_around_by_value_draws(cost):
    from engine import notation, topological_order
    value = notation.find("z3_2", topological_order(cost))
    assert viz.draw_dot(cost, around="z3_2").source == viz.draw_dot(cost, around=value).source


def test_an_unknown_name_suggests_the_nearest(cost):
    with pytest.raises(KeyError, match="no node labelled 'w1_55'.*did you mean w1_44"):
        viz.draw_dot(cost, highlight="w1_55")


def test_a_gradient_of_none_is_drawn_as_none():
    from engine import Value
    x = Value(1.0, label="x")
    y = x * x
    x.grad = None
    assert "grad None" in viz.draw_dot(y).source
