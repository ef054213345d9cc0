"""The engine against an independent numpy implementation.

A 2-layer network written with matrices (z² = W¹a¹ + b¹, a² = tanh z²,
s = W²a² + b², C = (s − y)²) and its backward pass by the local-gradient
equations (δ = ∂C/∂z); and random polynomials in two variables, whose
derivatives numpy.polynomial computes from the coefficients.
"""

import numpy as np
import numpy.polynomial.polynomial as P
import pytest

import engine
from engine import Value, weighted_sum


def numpy_network(W1, b1, W2, b2, x, y):
    """Forward and backward in numpy: returns C and dC/dW1, db1, dW2, db2, dx."""
    z2 = W1 @ x + b1
    a2 = np.tanh(z2)
    s = W2 @ a2 + b2                       # shape (1,)
    cost = float(((s - y) ** 2)[0])
    delta3 = 2 * (s - y)                   # ∂C/∂s (linear output)
    delta2 = (W2.T @ delta3) * (1 - a2 ** 2)
    return cost, dict(W1=np.outer(delta2, x), b1=delta2, W2=np.outer(delta3, a2),
                      b2=delta3, x=W1.T @ delta2)


def as_values(array, name):
    """An object array of labelled leaf Values with the same shape and data."""
    values = np.empty(array.size, dtype=object)
    for k, v in enumerate(array.ravel()):
        values[k] = Value(float(v), label=f"{name}_{k}")
    return values.reshape(array.shape)


def engine_network(W1, b1, W2, b2, x, y, elementary):
    """The same network from Values: weighted_sum nodes or elementary * and +."""
    def weighted_input(weights, inputs, bias):
        if not elementary:
            return weighted_sum(weights, inputs, bias)
        z = bias
        for w, a in zip(weights, inputs):
            z = z + w * a
        return z

    a2 = [weighted_input(W1[j], x, b1[j]).tanh() for j in range(W1.shape[0])]
    s = weighted_input(W2[0], a2, b2[0])
    return (s - y) ** 2


@pytest.mark.parametrize("elementary", [False, True], ids=["weighted_sum", "elementary"])
@pytest.mark.parametrize("seed", range(5))
def test_two_layer_network_cost_and_gradients_match_numpy(seed, elementary):
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4)
    W2, b2 = rng.normal(size=(1, 4)), rng.normal(size=1)
    x, y = rng.normal(size=3), float(rng.normal())
    cost, expected = numpy_network(W1, b1, W2, b2, x, y)

    params = dict(W1=as_values(W1, "W1"), b1=as_values(b1, "b1"),
                  W2=as_values(W2, "W2"), b2=as_values(b2, "b2"), x=as_values(x, "x"))
    C = engine_network(params["W1"], params["b1"], params["W2"], params["b2"],
                       params["x"], y, elementary)
    C.backward()
    assert C.data == pytest.approx(cost, rel=1e-12)
    for name, gradient in expected.items():
        got = np.array([v.grad for v in params[name].ravel()]).reshape(gradient.shape)
        np.testing.assert_allclose(got, gradient, rtol=1e-11, atol=1e-13, err_msg=name)


def engine_polynomial(coefficients, x, y):
    """Σ_ij c_ij x^i y^j with Values."""
    total = Value(0.0)
    for (i, j), c in np.ndenumerate(coefficients):
        total = total + float(c) * x ** i * y ** j
    return total


@pytest.mark.parametrize("seed", range(8))
def test_random_polynomial_value_gradient_and_hessian_match_numpy(seed):
    rng = np.random.default_rng(100 + seed)
    degree = rng.integers(1, 5)
    c = rng.normal(size=(degree + 1, degree + 1))
    x0, y0 = rng.uniform(-1.5, 1.5, size=2)
    x, y = Value(x0), Value(y0)
    p = engine_polynomial(c, x, y)

    assert p.data == pytest.approx(P.polyval2d(x0, y0, c), rel=1e-12, abs=1e-12)
    d_dx, d_dy = engine.grad(p, [x, y], create_graph=True)
    expected_dx = P.polyval2d(x0, y0, P.polyder(c, axis=0))
    expected_dy = P.polyval2d(x0, y0, P.polyder(c, axis=1))
    assert d_dx.data == pytest.approx(expected_dx, rel=1e-11, abs=1e-11)
    assert d_dy.data == pytest.approx(expected_dy, rel=1e-11, abs=1e-11)

    hessian = [engine.grad(d_dx, [x, y]), engine.grad(d_dy, [x, y])]
    expected = [[P.polyval2d(x0, y0, P.polyder(c, 2, axis=0)),
                 P.polyval2d(x0, y0, P.polyder(P.polyder(c, axis=0), axis=1))],
                [P.polyval2d(x0, y0, P.polyder(P.polyder(c, axis=1), axis=0)),
                 P.polyval2d(x0, y0, P.polyder(c, 2, axis=1))]]
    np.testing.assert_allclose(np.array(hessian), np.array(expected), rtol=1e-10,
                               atol=1e-10)
