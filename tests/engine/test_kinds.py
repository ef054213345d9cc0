"""One test of what counts as a number, used wherever input is checked."""

import numpy as np
import pytest

from engine.kinds import is_real, is_whole


@pytest.mark.parametrize("x", [0, -3, 2.5, float("nan"), np.float64(1.5), np.int32(4)])
def test_reals(x):
    assert is_real(x)


@pytest.mark.parametrize("x", [True, False, "1", None, 1 + 2j, [1.0]])
def test_not_reals(x):
    assert not is_real(x)


def test_whole_numbers_are_ints_but_not_bools_or_floats():
    assert is_whole(3) and is_whole(np.int64(3))
    assert not is_whole(True) and not is_whole(3.0) and not is_whole("3")


def test_every_checker_refuses_a_bool_where_a_number_belongs():
    import nn
    from engine import Value
    with pytest.raises(TypeError):
        Value(True)
    with pytest.raises(ValueError):
        nn.MLP(True, [4, 1])
    with pytest.raises((TypeError, ValueError)):
        nn.SGD([Value(1.0)], lr=True)
