"""engine.compile(..., batch=...): one sample's graph over numpy arrays of a batch.

The batch function must give, for every sample, the value the engine gives
for that sample, and for a shared input the sum (or mean) over the samples of
the gradient backward() gives; per-sample inputs get one gradient per sample.
numpy's tanh/exp and its summation order round differently from Python's in
the last bits, so "the same" is to a tight relative bound, not ==. Whatever
the engine refuses for some sample, the batch refuses with the engine's error
and that sample's index.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_compile import SETTINGS, STEPS, micrograd_demo_graph, numbers, run

import engine
from engine import Value
from engine.batch import compile_batch
from nn.layers import MLP
from nn.losses import binary_cross_entropy, hinge, mse

REL = 1e-12


def close(got, want, scale=None, rel=REL):
    """|got − want| <= rel · scale (scale: |want|, or the sum of the terms' sizes)."""
    scale = abs(want) if scale is None else scale
    return abs(got - want) <= rel * scale + 1e-250  # (products near underflow round apart)


# -- random graphs over every op ------------------------------------------------------

@st.composite
def batch_programs(draw):
    n_leaves = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 8))):
        available = n_leaves + k
        steps.append((draw(st.sampled_from(sorted(STEPS))),
                      draw(st.integers(0, available - 1)),
                      draw(st.integers(0, available - 1))))
    varies = draw(st.lists(st.booleans(), min_size=n_leaves, max_size=n_leaves))
    if not any(varies):
        varies[0] = True
    n_samples = draw(st.integers(1, 4))
    samples = [draw(st.lists(numbers, min_size=n_leaves, max_size=n_leaves))
               for _ in range(n_samples)]
    for sample in samples[1:]:  # shared inputs: one number for every sample
        for k in range(n_leaves):
            if not varies[k]:
                sample[k] = samples[0][k]
    return steps, varies, samples


def engine_sample(steps, numbers):
    """('ok', value, gradients, sizes) by backward() of one sample's graph, or
    ('error', error)."""
    try:
        leaves, output = run(steps, numbers)
        output.backward()
        if not all(math.isfinite(leaf.grad) for leaf in leaves):
            raise FloatingPointError("a gradient is not finite")
        return "ok", output.data, [leaf.grad for leaf in leaves], term_sizes(output, leaves)
    except (ArithmeticError, ValueError) as error:
        return "error", error


def term_sizes(output, leaves):
    """For each leaf, Σ over the paths from it to output of |the product of the local
    derivatives|: the size of the terms its gradient adds up. Added in another order,
    a sum rounds apart by a part of this, not of what is left where terms cancel
    (1/x − x/x² at x = 1e−165 leaves 0 of two terms of 7e164)."""
    size = {output: 1.0}
    for node in reversed(engine.topological_order(output)):
        s = size.get(node, 0.0)
        if not node.parents or not s:
            continue
        try:
            locals_ = engine.local_derivatives(node)
        except ArithmeticError:  # undefined here: backward sent a gradient of 0 through it
            continue
        for parent, local in zip(node.parents, locals_):
            if not math.isnan(local):  # (the same: nan only where 0 went through)
                size[parent] = size.get(parent, 0.0) + s * abs(local)
    return [size.get(leaf, 0.0) for leaf in leaves]


@SETTINGS
@given(batch_programs(), st.booleans())
def test_random_graphs_over_every_op_agree_with_backward_sample_by_sample(program, matrices):
    steps, varies, samples = program
    try:
        leaves, output = run(steps, samples[0])
    except (ArithmeticError, ValueError):
        return  # the engine refuses to build it at all: nothing to compile
    batch = [leaf for leaf, v in zip(leaves, varies) if v]
    f = compile_batch(output, leaves, batch=batch, matrices=matrices)
    arguments = [np.array([s[k] for s in samples]) if v else samples[0][k]
                 for k, v in enumerate(varies)]
    expected = [engine_sample(steps, numbers) for numbers in samples]
    failed = [i for i, e in enumerate(expected) if e[0] == "error"]
    if failed:
        with pytest.raises((ArithmeticError, ValueError)) as raised:
            f(*arguments)
        assert str(raised.value).startswith(f"sample {failed[0]}: "), f.source
        assert isinstance(raised.value, type(expected[failed[0]][1])), f.source
        return
    values, gradients = f(*arguments)
    # A gradient is a sum of terms that the batch code may add in another order
    # than backward(): where they cancel, the difference is relative to the
    # terms (term_sizes), not to what is left of them.
    for i, (_, value, _, _) in enumerate(expected):
        assert close(values[i], value, rel=1e-9), (i, f.source)
    for k, v in enumerate(varies):
        per_sample = [e[2][k] for e in expected]
        sizes = [e[3][k] for e in expected]
        if v:
            for i, (g, size) in enumerate(zip(per_sample, sizes)):
                assert close(gradients[k][i], g, scale=1.0 + size, rel=1e-9), (k, i, f.source)
        else:
            assert close(gradients[k], sum(per_sample), scale=1.0 + sum(sizes), rel=1e-9), \
                (k, f.source)


def test_every_op_of_the_table_is_in_the_random_graphs():
    ops = set()
    for step in STEPS.values():
        a, b = Value(0.7), Value(1.3)
        ops.add(step(a, b).op)
    assert ops >= set(engine.OPS)


# -- the article's network ------------------------------------------------------------

def article_batch(activation="tanh", loss=binary_cross_entropy, n=75, seed=0, expand=False):
    net = MLP(4, [4, 4, 1], activation=activation, seed=seed, expand=expand)
    x = [Value(0.0, label=f"x_{k}") for k in range(1, 5)]
    y = Value(1.0, label="y")  # a label every loss takes; the calls give the batch's
    cost = loss(net(x), y)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = (rng.random(n) > 0.5).astype(float)
    if loss is hinge:
        Y = 2 * Y - 1
    return net, x, y, cost, X, Y


@pytest.mark.parametrize("matrices", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("loss", [mse, binary_cross_entropy, hinge])
def test_the_4_4_4_1_network_agrees_with_the_scalar_code_and_backward(matrices, activation,
                                                                     loss):
    net, x, y, cost, X, Y = article_batch(activation, loss)
    parameters = net.parameters()
    f = engine.compile(cost, parameters + x + [y], wrt=parameters, batch=x + [y]) \
        if not matrices else compile_batch(cost, parameters + x + [y], wrt=parameters,
                                           batch=x + [y], matrices=True)
    weights = [p.data for p in parameters]
    values, gradients = f(*weights, *X.T, Y)
    scalar = engine.compile(cost, parameters + x + [y], wrt=parameters)
    totals, sizes = [0.0] * len(parameters), [0.0] * len(parameters)
    for i in range(len(Y)):
        value, grads = scalar(*weights, *X[i], Y[i])
        assert close(values[i], value)
        for k, g in enumerate(grads):
            totals[k] += g
            sizes[k] += abs(g)
    for k in range(len(parameters)):
        assert close(gradients[k], totals[k], scale=sizes[k]), parameters[k].label
    # backward() of the whole batch's graph, a mean: reduction="mean"
    mean = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                         reduction="mean", matrices=matrices)
    _, mean_gradients = mean(*weights, *X.T, Y)
    C = loss([net(list(row)) for row in X.tolist()], Y.tolist())
    C.backward()
    for k, p in enumerate(parameters):
        assert close(mean_gradients[k], p.grad, scale=sizes[k] / len(Y)), p.label


def test_the_elementary_graph_compiles_over_a_batch_too():
    net, x, y, cost, X, Y = article_batch(expand=True, n=10)
    parameters = net.parameters()
    f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True)  # no weighted sums: one line per node
    values, gradients = f(*[p.data for p in parameters], *X.T, Y)
    C = binary_cross_entropy([net(list(row)) for row in X.tolist()], Y.tolist())
    C.backward()
    assert close(values.mean(), C.data)
    for g, p in zip(gradients, parameters):
        assert close(g / len(Y), p.grad, scale=1e-3 + abs(p.grad))


def test_the_micrograd_demo_as_one_samples_graph():
    # micrograd's loss is mean(hinge terms) + α Σ p²: one sample's cost is its
    # hinge term + the (shared) L2 term, and the mean over the batch is the loss
    parameters, x, y, one, X, Y = moons_sample()
    same_net, whole = micrograd_demo_graph()  # the same numbers, the whole batch's graph
    whole.backward()
    for matrices in (False, True):
        f = compile_batch(one, parameters + x + [y], wrt=parameters, batch=x + [y],
                          reduction="mean", matrices=matrices)
        values, gradients = f(*[p.data for p in parameters], *X.T, Y)
        assert close(values.mean(), whole.data, rel=1e-13)
        for g, p in zip(gradients, same_net.parameters()):
            assert close(g, p.grad, scale=1e-12 + abs(p.grad), rel=1e-11), p.label
        assert f.replays == 0


# -- what the code says ----------------------------------------------------------------

def test_the_batch_code_is_the_scalar_code_line_for_line_with_the_sums_visible():
    net, x, y, cost, X, Y = article_batch()
    parameters = net.parameters()
    scalar = engine.compile(cost, parameters + x + [y], wrt=parameters).source
    batch = engine.compile(cost, parameters + x + [y], wrt=parameters, batch=x + [y]).source
    assert "    z3_2 = w2_21*a2_1 + w2_22*a2_2 + w2_23*a2_3 + w2_24*a2_4 + b2_2\n" in batch
    assert "    a3_2 = np.tanh(z3_2)\n" in batch
    assert "    dC_dw2_22 = float(dC_dz3_2 @ a2_2)  # Σ over the batch\n" in batch
    assert "    dC_db2_2 = float(dC_dz3_2.sum())  # Σ over the batch\n" in batch
    # every node has its line, named as in the scalar code
    for line in scalar.splitlines():
        target = line.strip().split(" = ")[0]
        if " = " in line and target.startswith(("z", "a", "s", "C", "dC_dz", "dC_da")):
            assert f"    {target} = " in batch, target


def test_the_matrix_code_is_the_articles_matrix_form():
    net, x, y, cost, X, Y = article_batch()
    parameters = net.parameters()
    f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True)
    # the matrices come in and go out as arguments: W^l and the column b^l
    assert f.source.startswith("def forward_backward(w1, b1, w2, b2, w3, b3_1, x_1, x_2, "
                               "x_3, x_4, y, gradient):\n")
    assert f.packed_names == ["w1", "b1", "w2", "b2", "w3", "b3_1"] == f.packed_wrt
    for line in ("# w2: row j, column k holds w2_11 ... w2_44", "z3 = w2 @ a2 + b2",
                 "a3 = np.tanh(z3)", "s = w3 @ a3 + b3_1",
                 "dC_dz3 = dC_da3 * (1.0 - a3 * a3)", "dC_da2 = w2.T @ dC_dz3",
                 "dC_dw2 = dC_dz3 @ a2.T  # Σ over the batch",
                 "dC_db2 = dC_dz3.sum(axis=1, keepdims=True)  # Σ over the batch",
                 "return C, (dC_dw1, dC_db1, dC_dw2, dC_db2, dC_dw3, dC_db3_1), ()"):
        assert f"    {line}" in f.source, line
    # in the article's order: δ^4, dC/dW^3 and dC/db^3 from it, δ^3, dC/dW^2 ..., δ^2
    order = ["dC_ds =", "dC_dw3 =", "dC_db3_1 =", "dC_dz3 =", "dC_dw2 =", "dC_dz2 ="]
    places = [f.source.index(f"    {line}") for line in order]
    assert places == sorted(places), f.source


def test_a_parameter_read_one_by_one_too_keeps_its_matrix_inside_the_code():
    net, x, y, cost, X, Y = article_batch()
    parameters = net.parameters()
    w2_22 = next(p for p in parameters if p.label == "w2_22")
    cost = cost + 0.5 * w2_22 * w2_22  # one weight alone: w2 is built from its numbers
    cost.label = "L"
    f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True)
    assert "w2 = np.array(((w2_11, w2_12, w2_13, w2_14)," in f.source
    assert "    dL_dw2 = (dL_dz3 @ a2.T).tolist()  # Σ over the batch" in f.source
    assert "w2_22" in f.packed_names and "w1" in f.packed_names
    by_node = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y])
    numbers = [p.data for p in parameters] + list(X.T) + [Y]
    (values, gradients), (want_values, want) = f(*numbers), by_node(*numbers)
    assert all(close(v, w) for v, w in zip(values, want_values))
    assert all(close(g, w, scale=1.0 + abs(w)) for g, w in zip(gradients, want))


def test_reduction_mean_is_the_sum_over_n():
    net, x, y, cost, X, Y = article_batch(n=20)
    arguments = net.parameters() + x + [y]
    numbers = [p.data for p in net.parameters()] + list(X.T) + [Y]
    _, summed = engine.compile(cost, arguments, batch=x + [y])(*numbers)
    _, mean = engine.compile(cost, arguments, batch=x + [y], reduction="mean")(*numbers)
    for s, m in zip(summed[:len(net.parameters())], mean):
        assert close(m, s / 20, scale=abs(s / 20))


def test_a_per_sample_input_gets_one_gradient_per_sample():
    x, w = Value(0.0, label="x"), Value(0.0, label="w")
    out = (w * x).tanh()
    f = engine.compile(out, [w, x], batch=[x])
    values, (dw, dx) = f(0.5, [1.0, -2.0, 3.0])
    for i, xi in enumerate([1.0, -2.0, 3.0]):
        assert close(dx[i], 0.5 * (1 - math.tanh(0.5 * xi) ** 2))
        assert close(values[i], math.tanh(0.5 * xi))
    assert close(dw, sum(xi * (1 - math.tanh(0.5 * xi) ** 2) for xi in [1.0, -2.0, 3.0]),
                 scale=3.0)


def test_an_op_added_to_the_table_needs_no_edit_here():
    # tests/engine/test_adding_an_op.py does this for an op with an array form;
    # this one's Python form (operators only) works on arrays as it is
    cube = engine.Op("cube", "³", ("x",), forward=lambda x: x * x * x,
                     derivatives=lambda x, out: (3.0 * x * x,),
                     result=engine.Formula("$x³", "$x^3", "$x * $x * $x"),
                     local=(engine.Formula("3$x²", "3 $x^2", "3.0 * $x * $x"),))
    engine.OPS["cube"] = cube
    try:
        x = Value(0.0, label="x")
        f = engine.compile(engine.apply(cube, x), [x], batch=[x])
        values, (dx,) = f([1.0, 2.0])
        assert values.tolist() == [1.0, 8.0] and dx.tolist() == [3.0, 12.0]
    finally:
        del engine.OPS["cube"]


# -- refusals ----------------------------------------------------------------------

def test_a_non_finite_number_is_refused_naming_the_argument_and_the_sample():
    x, w = Value(0.0, label="x"), Value(0.0, label="w")
    f = engine.compile((w * x).tanh(), [w, x], batch=[x])
    with pytest.raises(ValueError, match=r"argument 2 \(x\) must be finite; sample 2 is nan"):
        f(0.5, [1.0, 2.0, math.nan])
    with pytest.raises(ValueError, match=r"argument 1 \(w\) must be finite"):
        f(math.inf, [1.0, 2.0])


def test_log_of_a_non_positive_number_is_the_engines_error_naming_the_sample():
    x, w = Value(1.0, label="x"), Value(1.0, label="w")
    out = (w * x).log()
    out.label = "out"
    for matrices in (False, True):
        f = compile_batch(out, [w, x], batch=[x], matrices=matrices)
        with pytest.raises(ValueError, match=r"^sample 3: log.*x > 0") as raised:
            f(2.0, [1.0, 2.0, 3.0, -1.0, 0.0])
        engine_error = None
        try:
            (Value(2.0, label="w") * Value(-1.0, label="x")).log()
        except ValueError as error:
            engine_error = str(error)
        assert str(raised.value) == f"sample 3: {engine_error}"


def test_division_by_zero_and_overflow_name_the_sample():
    x, w = Value(1.0, label="x"), Value(1.0, label="w")
    f = engine.compile(w / x, [w, x], batch=[x])
    with pytest.raises(ZeroDivisionError, match=r"^sample 1: div"):
        f(1.0, [2.0, 0.0, 0.0])
    g = engine.compile((w * x).exp(), [w, x], batch=[x])
    with pytest.raises(OverflowError, match=r"^sample 2: exp"):
        g(1.0, [2.0, 3.0, 800.0])
    assert g.replays == 1


def test_only_the_array_code_going_astray_gives_the_engines_numbers():
    # 0 ** 0.5 is fine, but the array form of d(x^y)/dx computes 0 ** −0.5 in the
    # branch np.where leaves out: numpy objects, the engine does the batch
    x = Value(1.0, label="x")
    f = engine.compile(x ** 0.5 + x, [x], batch=[x])
    with pytest.raises(FloatingPointError, match="^sample 1: backward"):
        f([1.0, 0.0])  # d√x/dx at 0 is infinite: the engine refuses it too
    values, (dx,) = f([4.0, 1.0])
    assert values.tolist() == [6.0, 2.0] and dx.tolist() == [1.25, 1.5]
    y = Value(1.0, label="y")
    g = engine.compile(x ** y, [x, y], batch=[x, y])
    values, (dx, dy) = g([0.0, 4.0], [0.0, 0.5])  # 0^0 = 1; its dy is 0, dx is 0
    assert values.tolist() == [1.0, 2.0] and dx.tolist() == [0.0, 0.25]
    assert g.replays == 1


def test_bad_arguments_are_clear_errors():
    x, w = Value(0.0, label="x"), Value(0.0, label="w")
    f = engine.compile(w * x, [w, x], batch=[x])
    with pytest.raises(TypeError, match=r"takes 2 arguments \(w, x\), got 1"):
        f(1.0)
    with pytest.raises(ValueError, match="1-D array"):
        f(1.0, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="no samples"):
        f(1.0, [])
    y = Value(0.0, label="y")
    g = engine.compile(w * x + y, [w, x, y], batch=[x, y])
    with pytest.raises(ValueError, match=r"argument 3 \(y\) has 2 samples, the arguments "
                                         r"before it 3"):
        g(1.0, [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="batch must be among the inputs"):
        engine.compile(w * x, [w], batch=[x])
    with pytest.raises(ValueError, match="reduction must be"):
        engine.compile(w * x, [w, x], batch=[x], reduction="average")


def test_a_weighted_sum_of_thousands_of_terms_compiles_over_a_batch():
    xs = [Value(0.0, label=f"x_{k}") for k in range(5000)]
    ws = [Value(0.001 * (k % 7), label=f"w_{k}") for k in range(5000)]
    out = engine.weighted_sum(ws, xs).tanh()
    f = engine.compile(out, ws + xs, wrt=ws, batch=xs)
    numbers = np.linspace(-1.0, 1.0, 5000)
    values, gradients = f(*[w.data for w in ws], *[[v, -v] for v in numbers])
    z = sum(w.data * v for w, v in zip(ws, numbers))
    assert close(values[0], math.tanh(z), rel=1e-12)
    assert close(values[1], math.tanh(-z), rel=1e-12)


# -- matrices=True on networks of many shapes ----------------------------------------

ACTIVATIONS = {"tanh": lambda v: v.tanh(), "sigmoid": lambda v: v.sigmoid(),
               "relu": lambda v: v.relu(), "softplus": lambda v: v.softplus(),
               "linear": lambda v: v}


@st.composite
def layered_networks(draw):
    n_inputs = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    activations = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(sizes),
                                max_size=len(sizes)))
    bias = draw(st.booleans())
    reads = draw(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=3))
    shared_weight = draw(st.booleans())
    # a penalty α Σ op(p): over every parameter, every other one, or none
    penalty = draw(st.sampled_from([None, "p*p", "p**2", "p*p+b*b"]))
    every = draw(st.sampled_from([1, 2]))
    seed = draw(st.integers(0, 1000))
    return n_inputs, sizes, activations, bias, reads, shared_weight, (penalty, every), seed


PENALTIES = {"p*p": lambda p: p * p, "p**2": lambda p: p ** 2}


def build_layered(n_inputs, sizes, activations, bias, reads, shared_weight, penalty, seed):
    """Layers of weighted sums of shared leaves; some nodes also read one by one;
    perhaps a penalty over (some of) the parameters."""
    rng = np.random.default_rng(seed)
    x = [Value(0.5, label=f"x_{k}") for k in range(1, n_inputs + 1)]
    parameters, layers, a = [], [], x
    for l, (size, activation) in enumerate(zip(sizes, activations), start=1):
        zs = []
        for j in range(size):
            ws = [Value(rng.uniform(-1, 1), label=f"w{l}_{j}{k}") for k in range(len(a))]
            if shared_weight and parameters:
                ws[0] = parameters[0]  # one weight used twice
            b = Value(rng.uniform(-1, 1), label=f"b{l}_{j}") if bias else None
            parameters += [w for w in ws if w not in parameters] + ([b] if b else [])
            zs.append(engine.weighted_sum(ws, a, b) if b else engine.weighted_sum(ws, a))
        a = [ACTIVATIONS[activation](z) for z in zs]
        layers.append((zs, a))
    output = sum(a[1:], a[0])
    for layer, row in reads:  # a node of some layer read on its own, too
        zs, acts = layers[layer % len(layers)]
        output = output + 0.5 * acts[row % len(acts)] + zs[row % len(zs)] * 0.25
    kind, every = penalty
    if kind == "p*p+b*b":  # two sums: weights p·p, biases b**2
        weights = [p for p in parameters if p.label.startswith("w")][::every]
        biases = [p for p in parameters if p.label.startswith("b")]
        output = output + 1e-2 * sum(p * p for p in weights) + sum(b ** 2 for b in biases)
    elif kind is not None:
        output = output + 1e-2 * sum(PENALTIES[kind](p) for p in parameters[::every])
    return x, parameters, output


@SETTINGS
@given(layered_networks())
def test_matrix_code_of_any_layered_network_agrees_with_one_line_per_node(network):
    x, parameters, output = build_layered(*network)
    inputs = parameters + x
    rng = np.random.default_rng(network[-1])
    X = rng.normal(size=(5, len(x)))
    numbers = [p.data for p in parameters] + list(X.T)
    by_node = compile_batch(output, inputs, wrt=parameters, batch=x)
    by_layer = compile_batch(output, inputs, wrt=parameters, batch=x, matrices=True)
    values, gradients = by_node(*numbers)
    matrix_values, matrix_gradients = by_layer(*numbers)
    assert by_layer.replays == 0, by_layer.source
    for v, m in zip(values, matrix_values):
        assert close(m, v, scale=1.0 + abs(v)), by_layer.source
    for g, m in zip(gradients, matrix_gradients):
        assert close(m, g, scale=1.0 + abs(g)), by_layer.source
    # and the engine, sample by sample
    for i, row in enumerate(X):
        for leaf, number in zip(x, row):
            leaf.data = float(number)
        value, engine_gradients = engine.compile(output, inputs, wrt=parameters)(
            *[p.data for p in parameters], *row)
        assert close(matrix_values[i], value, scale=1.0 + abs(value))


def test_a_node_named_like_numpy_does_not_hide_it():
    x, w = Value(1.0, label="np"), Value(2.0, label="gradient")
    out = (w * x).tanh()
    out.label = "float"
    for matrices in (False, True):
        f = compile_batch(out, [w, x], batch=[x], matrices=matrices)
        values, (dw, dx) = f(2.0, [0.5, 1.0])
        assert close(values[1], math.tanh(2.0)) and close(dx[1], 2.0 * (1 - math.tanh(2.0) ** 2))


def test_a_shared_add_chain_passes_its_gradient_on_and_its_squares_are_inline():
    # an L2 term, (b·b + c·c) + a·a: shared, so dC/d(inner) is dC/d(l2) itself (an
    # add passes it on): no line 'dC_dinner = dC_dl2' per add of the chain
    a, b, c = Value(0.5, label="a"), Value(-2.0, label="b"), Value(3.0, label="c")
    x = Value(0.0, label="x")
    inner = b * b + c * c
    inner.label = "inner"
    l2 = inner + a * a
    l2.label = "l2"
    C = a * x + l2
    C.label = "C"
    for matrices in (False, True):
        f = compile_batch(C, [a, b, c, x], wrt=[a, b, c], batch=[x], matrices=matrices)
        values, (ga, gb, gc) = f(0.5, -2.0, 3.0, np.array([1.0, 2.0, 4.0]))
        assert values.tolist() == [13.75, 14.25, 15.25]
        assert (ga, gb, gc) == (7.0 + 3 * 2 * 0.5, 3 * 2 * -2.0, 3 * 2 * 3.0)
        assert "dC_dl2 = float(gradient.sum())" in f.source  # Σ over the batch, once
        assert "dC_dinner" not in f.source
        assert "dC_db = dC_dl2 * b + dC_dl2 * b" in f.source  # a leaf keeps its line
        # b·b is read once, by an add whose derivative does not name it: written inside it
        assert "inner = (b * b) + (c * c)" in f.source
        assert "mul_4 = a * x" in f.source  # a per-sample node keeps its line


# -- the matrices as arguments: pack, unpack, run(packed=True); penalties over them ----------

def moons_sample(penalty=lambda p: p * p, alpha=1e-4):
    """micrograd's demo as one sample's graph: relu(1 − y·s) + α Σ penalty(p)."""
    net, _ = micrograd_demo_graph()
    rng = np.random.default_rng(1337)
    X = rng.normal(size=(100, 2))
    Y = np.array([1.0 if rng.random() < 0.5 else -1.0 for _ in range(100)])
    x = [Value(0.0, label="x_1"), Value(0.0, label="x_2")]
    y = Value(0.0, label="y")
    parameters = net.parameters()
    one = (1 + -y * net(x)).relu() + alpha * sum(penalty(p) for p in parameters)
    one.label = "C"
    return parameters, x, y, one, X, Y


def test_the_same_penalty_twice_in_one_sum_keeps_its_parameters_by_name():
    parameters, x, y, one, X, Y = moons_sample()
    twice = one + sum([p * p for p in parameters] + [p * p for p in parameters])
    f = compile_batch(twice, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True)
    assert len(f.packed_names) == len(parameters)  # no matrix is an argument
    by_node = compile_batch(twice, parameters + x + [y], wrt=parameters, batch=x + [y])
    numbers = [p.data for p in parameters] + list(X.T) + [Y]
    (values, gradients), (want_values, want) = f(*numbers), by_node(*numbers)
    assert all(close(v, w, rel=1e-13) for v, w in zip(values, want_values))
    assert all(close(g, w, scale=1e-12 + abs(w), rel=1e-11) for g, w in zip(gradients, want))


@pytest.mark.parametrize("penalty, written", [
    (lambda p: p * p, "mul_w1 = w1 * w1"),
    (lambda p: p ** 2, "pow_scalar_w1 = w1 ** 2.0"),
    (lambda p: (p * p + 1e-8).sqrt(), None),  # not one op of p: the matrix is built
])
def test_a_penalty_over_every_parameter_is_written_over_the_matrices(penalty, written):
    parameters, x, y, one, X, Y = moons_sample(penalty)
    by_layer = compile_batch(one, parameters + x + [y], wrt=parameters, batch=x + [y],
                             reduction="mean", matrices=True)
    by_node = compile_batch(one, parameters + x + [y], wrt=parameters, batch=x + [y],
                            reduction="mean")
    numbers = [p.data for p in parameters] + list(X.T) + [Y]
    (values, gradients), (want_values, want) = by_layer(*numbers), by_node(*numbers)
    assert by_layer.replays == by_node.replays == 0
    assert all(close(v, w, rel=1e-13) for v, w in zip(values, want_values))
    for g, w, p in zip(gradients, want, parameters):
        assert close(g, w, scale=1e-12 + abs(w), rel=1e-11), p.label
    if written is None:  # every parameter its own argument, the matrices built inside
        assert len(by_layer.packed_names) == len(parameters)
        assert "    w2 = np.array(((w2_11, w2_12, " in by_layer.source
        return
    assert f"    {written}\n" in by_layer.source
    assert by_layer.packed_names == ["w1", "b1", "w2", "b2", "w3", "b3_1"]
    assert by_layer.source.count("\n") < 60  # not a line per parameter
    # dC/dW^l: the layer's δ (a^l)ᵀ, then the penalty's share, whole matrices
    assert "    dC_dw2 = dC_dz3 @ a2.T + " in by_layer.source \
        or "    dC_dw2 = dC_dws" in by_layer.source


def test_pack_and_unpack_are_each_others_opposite_and_run_packed_gives_the_same_numbers():
    parameters, x, y, one, X, Y = moons_sample()
    f = compile_batch(one, parameters + x + [y], wrt=parameters, batch=x + [y],
                      reduction="mean", matrices=True)
    numbers = [p.data for p in parameters]
    packed = f.pack(numbers)
    assert [np.shape(m) for m in packed] == [(16, 2), (16, 1), (16, 16), (16, 1), (16,), ()]
    assert packed[0][3, 1] == parameters[3 * 3 + 1].data  # row j, column k: w_jk
    assert f.unpack(packed) == numbers
    values, gradients = f(*numbers, *X.T, Y)
    packed_values, packed_gradients, _ = f.run(packed + list(X.T) + [Y], packed=True)
    assert packed_values.tolist() == values.tolist()
    assert f.unpack(packed_gradients) == list(gradients)
    with pytest.raises(TypeError, match="pack: 337 shared inputs"):
        f.pack(numbers[:-1])


def test_training_with_packed_matrices_is_training_with_numbers():
    parameters, x, y, one, X, Y = moons_sample()
    f = compile_batch(one, parameters + x + [y], wrt=parameters, batch=x + [y],
                      reduction="mean", matrices=True)
    data = list(X.T) + [Y]
    numbers, packed = [p.data for p in parameters], f.pack([p.data for p in parameters])
    for step in range(5):
        lr = 1.0 - 0.9 * step / 100
        values, gradients = f(*numbers, *data)
        packed_values, packed_gradients, _ = f.run(packed + data, checked=True, packed=True)
        assert packed_values.tolist() == values.tolist()
        numbers = [w - lr * g for w, g in zip(numbers, gradients)]
        packed = [w - lr * g for w, g in zip(packed, packed_gradients)]
        assert f.unpack(packed) == numbers  # the same arithmetic, matrix or number


def test_packed_gradients_of_some_parameters_only():
    net, x, y, cost, X, Y = article_batch()
    parameters = net.parameters()
    some = [p for p in parameters if p.label.startswith(("w2", "b3"))]
    f = compile_batch(cost, parameters + x + [y], wrt=some, batch=x + [y], matrices=True)
    assert f.packed_wrt == ["w2", "b3_1"]
    numbers = [p.data for p in parameters]
    values, gradients = f(*numbers, *X.T, Y)
    _, packed, _ = f.run(f.pack(numbers) + list(X.T) + [Y], packed=True)
    assert np.shape(packed[0]) == (4, 4) and packed[0].ravel().tolist() == list(gradients[:16])
    assert packed[1] == gradients[16]
    _, everything = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                                  matrices=True)(*numbers, *X.T, Y)
    by_label = dict(zip([p.label for p in parameters], everything))
    assert list(gradients) == [by_label[p.label] for p in some]


def test_packed_runs_refuse_naming_the_sample_and_replay_into_matrices():
    net = MLP(2, [3, 1], activation="tanh", seed=0)
    x = [Value(1.0, label="x_1"), Value(1.0, label="x_2")]
    parameters = net.parameters()
    out = net(x).exp() + 1e-3 * sum(p * p for p in parameters)
    f = compile_batch(out, parameters + x, wrt=parameters, batch=x, matrices=True)
    packed = f.pack([p.data for p in parameters])
    with pytest.raises(ValueError, match=r"argument \d+ \(x_2\) must be finite; sample 1"):
        f.run(packed + [np.array([0.5, 0.5]), np.array([0.5, math.inf])], packed=True)
    data = [np.array([0.5, -1.0]), np.array([0.25, 2.0])]
    values, gradients, _ = f.run(packed + data, packed=True)
    assert [np.shape(g) for g in gradients] == [(3, 2), (3, 1), (3,), ()]


def test_a_packed_run_the_array_code_cannot_do_is_the_engines_numbers_in_matrices():
    # sample 0: s = 0 and y = 0, so s ** y = 1 with d/ds = 0 for the engine, while
    # the array form computes y · s^(y − 1) = 0 · 0^(−1) and numpy objects
    net = MLP(2, [2, 1], activation="relu", seed=0)
    for p in net.parameters():
        p.data = 0.0 if p.label.startswith("b") else 1.0
    x = [Value(1.0, label="x_1"), Value(1.0, label="x_2")]
    y = Value(1.0, label="y")
    parameters = net.parameters()
    out = net(x) ** y
    f = compile_batch(out, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True)
    assert f.packed_names == ["w1", "b1", "w2", "b2_1"]
    data = [np.array([-1.0, 1.0]), np.array([-1.0, 2.0]), np.array([0.0, 0.5])]
    packed = f.pack([p.data for p in parameters])
    values, gradients, _ = f.run(packed + data, packed=True)
    assert f.replays == 1
    assert values.tolist() == [1.0, 6.0 ** 0.5]
    assert [np.shape(g) for g in gradients] == [(2, 2), (2, 1), (2,), ()]
    flat_values, flat_gradients = f(*[p.data for p in parameters], *data)
    assert f.replays == 2 and flat_values.tolist() == values.tolist()
    assert f.unpack(gradients) == list(flat_gradients)
    want = 0.5 * 6.0 ** -0.5  # ds/db2_1 of sample 1; sample 0 sends nothing
    assert close(gradients[3], want)
    with pytest.raises(TypeError, match=r"^forward_backward\(w1, b1, w2, b2_1, x_1, x_2, y, "
                       r"gradient\) takes 7 arguments before gradient, got 6$"):
        f.run(packed + data[:2], packed=True)


def test_a_parameter_asked_for_as_an_output_keeps_its_name():
    net, x, y, cost, X, Y = article_batch()
    parameters = net.parameters()
    f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                      matrices=True, outputs=[parameters[0]])
    assert f.packed_names[0] == "w1_11"  # its layer's W is built inside the code
    values, gradients, (w1_11,) = f(*[p.data for p in parameters], *X.T, Y)
    assert w1_11 == parameters[0].data
