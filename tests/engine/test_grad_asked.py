"""engine.grad: only the gradients asked for must be finite (README's promise).

A local derivative that does not exist somewhere nobody asked about must not
fail the pass, and grad with and without create_graph give the same numbers.
"""

import math

import pytest

import engine
from engine import Value


def test_a_gradient_nobody_asked_for_cannot_fail_the_pass():
    x = Value(2.0, label="x")
    out = x * 3.0 + Value(0.0).sqrt()  # d√u/du at u = 0 does not exist
    assert engine.grad(out, [x]) == (3.0,)
    assert engine.grad(out, [x], create_graph=True)[0].data == 3.0
    assert engine.compile(out, [x])(2.0) == (6.0, (3.0,))  # as the compiled function


@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.0])
def test_the_exponents_gradient_at_a_zero_base_is_zero(exponent):
    # d(b^e)/de = b^e·ln b → 0 as b → 0 (PyTorch gives 0); d/db at b = 0,
    # e = 0.5 does not exist, and was not asked for
    b, e = Value(0.0, label="b"), Value(exponent, label="e")
    assert engine.grad(b ** e, [e]) == (0.0,)
    assert engine.grad(b ** e, [e], create_graph=True)[0].data == 0.0


def test_the_base_gradient_that_does_not_exist_is_refused_when_asked_for():
    b, e = Value(0.0, label="b"), Value(0.5, label="e")
    with pytest.raises(FloatingPointError, match="'b'.*nan"):
        engine.grad(b ** e, [b])
    with pytest.raises(FloatingPointError, match="'b'"):
        engine.grad(b ** e, [b], create_graph=True)


def test_an_undefined_local_derivative_on_the_way_is_refused_and_named():
    z = Value(0.0, label="z")
    u = z.sqrt()
    u.label = "u"
    for create_graph in (False, True):
        with pytest.raises(FloatingPointError, match="'u'.*sqrt's local derivative"):
            engine.grad(u + z, [z], create_graph=create_graph)


def test_grad_with_and_without_create_graph_agree_at_a_zero_gradient():
    # f = √z · relu(z − 1) at z = 0: relu's 0 stops the gradient before √'s
    # undefined derivative, in both passes
    z = Value(0.0, label="z")
    f = z.sqrt() * (z - 1.0).relu()
    assert engine.grad(f, z) == (0.0,)
    assert engine.grad(f, z, create_graph=True)[0].data == 0.0


def test_second_derivatives_still_keep_terms_whose_first_value_is_zero():
    # f = x · tanh(x) at 0: f' = tanh x + x(1 − tanh² x) = 0, f'' = 2 at 0
    x = Value(0.0, label="x")
    (first,) = engine.grad(x * x.tanh(), [x], create_graph=True)
    assert first.data == 0.0
    (second,) = engine.grad(first, [x])
    assert math.isclose(second, 2.0)
