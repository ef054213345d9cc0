"""engine.compile: the graph as straight-line Python, exactly equal to backward().

Equal means ==, not approximately: the generated code adds a node's incoming
gradients in the order backward() adds them. Whatever the engine refuses,
the compiled function refuses with the engine's own error.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine import OPS, Value, apply, weighted_sum
from nn.layers import MLP
from nn.losses import binary_cross_entropy, hinge, mse

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Every op of the table, applied to earlier nodes: some unguarded (log, div,
# sqrt), so that the engine refuses some points and the compiled code must too.
STEPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "div-safe": lambda a, b: a / (b * b + 1),
    "neg": lambda a, b: -a,
    "square": lambda a, b: a ** 2,
    "pow-half": lambda a, b: a ** 0.5,
    "pow": lambda a, b: a ** b,
    "pow-safe": lambda a, b: (a * a + 0.5) ** b,
    "2**a": lambda a, b: 2 ** a,
    "exp": lambda a, b: a.exp(),
    "log": lambda a, b: a.log(),
    "log-safe": lambda a, b: (a * a + 1).log(),
    "sqrt": lambda a, b: a.sqrt(),
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "relu": lambda a, b: a.relu(),
    "softplus": lambda a, b: a.softplus(),
    "weighted_sum": lambda a, b: weighted_sum([a, b, a], [b, a, 3.0], b),
    "weighted_sum-no-bias": lambda a, b: weighted_sum([a], [b]),
    "squared_error": lambda a, b: apply(OPS["squared_error"], a, b),
    "binary_cross_entropy": lambda a, b: apply(OPS["binary_cross_entropy"], a, b),
    "hinge": lambda a, b: apply(OPS["hinge"], a, b),
    "binary_cross_entropy_of_probability":
        lambda a, b: apply(OPS["binary_cross_entropy_of_probability"], a.sigmoid(), b),
    "a+a": lambda a, b: a + a,
}

numbers = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False) | st.sampled_from(
    [0.0, 1.0, -1.0, 2.0, 1e200, -1e200])


@st.composite
def programs(draw):
    n_leaves = draw(st.integers(1, 3))
    steps = []
    for k in range(draw(st.integers(1, 10))):
        available = n_leaves + k
        steps.append((draw(st.sampled_from(sorted(STEPS))),
                      draw(st.integers(0, available - 1)),
                      draw(st.integers(0, available - 1))))
    first = draw(st.lists(numbers, min_size=n_leaves, max_size=n_leaves))
    second = draw(st.lists(numbers, min_size=n_leaves, max_size=n_leaves))
    return steps, first, second


def run(steps, numbers):
    """The program's leaves and output (the sum of every node) at these numbers."""
    leaves = [Value(x, label=f"x_{k}") for k, x in enumerate(numbers, start=1)]
    nodes = list(leaves)
    for name, i, j in steps:
        nodes.append(STEPS[name](nodes[i], nodes[j]))
    output = nodes[len(leaves)]
    for node in nodes[len(leaves) + 1:]:
        output = output + node
    return leaves, output


def dynamic(steps, numbers):
    """('ok', value, gradients) from engine.grad, or ('error', type, message)."""
    try:
        leaves, output = run(steps, numbers)
        return "ok", output.data, engine.grad(output, leaves)
    except (ArithmeticError, ValueError) as error:
        return "error", type(error), str(error)


def compiled(f, numbers):
    try:
        value, gradients = f(*numbers)
        return "ok", value, gradients
    except (ArithmeticError, ValueError) as error:
        return "error", type(error), str(error)


@SETTINGS
@given(programs())
def test_compiled_random_graphs_equal_the_engine_or_raise_its_error(program):
    steps, first, second = program
    try:
        leaves, output = run(steps, first)
    except (ArithmeticError, ValueError):
        return  # the engine refuses to build it at all: nothing to compile
    f = engine.compile(output, leaves)
    for numbers in (first, second):
        expected, got = dynamic(steps, numbers), compiled(f, numbers)
        if expected[0] == "ok":
            assert got == expected, f.source
        else:
            # The same kind of error. (Its message names the same node unless
            # two nodes fail: a graph does not record which was made first;
            # the parametrized tests below pin the messages down.)
            assert got[:2] == expected[:2], f.source


@SETTINGS
@given(programs())
def test_compiled_gradients_equal_backward(program):
    steps, first, _ = program
    try:
        leaves, output = run(steps, first)
        output.backward()
    except (ArithmeticError, ValueError):
        return
    value, gradients = engine.compile(output, leaves)(*first)
    assert value == output.data
    assert gradients == tuple(leaf.grad for leaf in leaves)


def test_the_4_4_4_1_network_over_many_samples_through_one_compiled_function():
    net = MLP(4, [4, 4, 1], seed=3)
    x = [Value(0.0, label=f"x_{k}") for k in range(1, 5)]
    y = Value(0.0, label="y")
    f = engine.compile(binary_cross_entropy(net(x), y), net.parameters() + x + [y])
    rng = np.random.default_rng(0)
    for sample in range(300):
        params = rng.normal(scale=1.5, size=45).tolist()
        inputs = rng.normal(size=4).tolist()
        target = float(sample % 2)
        value, gradients = f(*params, *inputs, target)
        for p, number in zip(net.parameters(), params):
            p.data = number
        fresh = [Value(v, label=f"x_{k}") for k, v in enumerate(inputs, start=1)]
        target_value = Value(target)
        cost = binary_cross_entropy(net(fresh), target_value)
        net.zero_grad()
        cost.backward()
        assert value == cost.data, f"sample {sample}: C differs"
        expected = [p.grad for p in net.parameters()] + [v.grad for v in fresh] + [
            target_value.grad]
        assert list(gradients) == expected, f"sample {sample}: gradients differ"
    assert f.replays == 0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
@pytest.mark.parametrize("loss", [mse, binary_cross_entropy, hinge])
@pytest.mark.parametrize("expand", [False, True])
def test_every_activation_cost_and_build_compiles_exactly(activation, loss, expand):
    net = MLP(3, [5, 2, 1], activation=activation, seed=1, expand=expand)
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = [Value(v, label=f"x_{k}") for k, v in enumerate(rng.normal(size=3), 1)]
        target = 1.0 if loss is not hinge else -1.0
        cost = loss(net(x), target)
        net.zero_grad()
        cost.backward()
        value, gradients = engine.compile(cost, net.parameters())(
            *[p.data for p in net.parameters()])
        assert value == cost.data
        assert list(gradients) == [p.grad for p in net.parameters()]


def micrograd_demo_graph(n_samples=100, alpha=1e-4):
    """micrograd's demo loss on a 2-16-16-1 relu network, fused weighted sums."""
    net = MLP(2, [16, 16, 1], activation="relu", seed=1337)
    rng = np.random.default_rng(1337)
    X = rng.normal(size=(n_samples, 2)).tolist()
    Y = [1.0 if rng.random() < 0.5 else -1.0 for _ in range(n_samples)]
    scores = [net([Value(a), Value(b)]) for a, b in X]
    losses = [(1 + -y * s).relu() for y, s in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in net.parameters())
    return net, data_loss + reg_loss


def test_micrograd_demo_graph_compiles_exactly():
    net, cost = micrograd_demo_graph()
    assert len(engine.topological_order(cost)) > 7000
    cost.backward()
    f = engine.compile(cost, net.parameters())
    value, gradients = f(*[p.data for p in net.parameters()])
    assert value == cost.data
    assert list(gradients) == [p.grad for p in net.parameters()]
    assert f.replays == 0


def test_a_100000_node_chain_compiles_and_runs():
    x, c_mul, c_add = Value(1.5, label="x"), Value(0.999999, label="c"), Value(1e-6, label="d")
    y = x
    for i in range(100_000):
        y = y * c_mul if i % 2 == 0 else y + c_add
    y.backward()
    value, gradients = engine.compile(y, [x, c_mul, c_add])(1.5, 0.999999, 1e-6)
    assert value == y.data
    assert gradients == (x.grad, c_mul.grad, c_add.grad)


# -- what the code reads like --------------------------------------------------------

def article_network():
    net = MLP(4, [4, 4, 1], seed=0)
    x = [Value(v, label=f"x_{k}") for k, v in enumerate([0.5, -1.0, 0.25, 2.0], start=1)]
    return net, binary_cross_entropy(net(x), 1.0)


def test_the_code_reads_like_the_article():
    net, cost = article_network()
    f = engine.compile(cost, net.parameters())
    lines = [line.strip() for line in f.source.splitlines()]
    assert "z3_2 = w2_21*a2_1 + w2_22*a2_2 + w2_23*a2_3 + w2_24*a2_4 + b2_2" in lines
    assert "a3_2 = math.tanh(z3_2)" in lines
    assert any(line.startswith("dC_dz3_2 = dC_da3_2 * (1.0 - a3_2 * a3_2)") for line in lines)
    assert "dC_dw2_22 = dC_dz3_2 * a2_2" in lines
    assert f.line_of(net.weight(2, 2, 2)).strip() == "dC_dw2_22 = dC_dz3_2 * a2_2"
    assert f.gradient_name(net.weight(2, 2, 2)) == "dC_dw2_22"
    assert str(f) == f.source
    # every forward line comes before the backward pass, which goes output first
    assert lines.index("a3_2 = math.tanh(z3_2)") < next(
        i for i, line in enumerate(lines) if line.startswith("dC_ds ="))


def test_the_dC_dw22_line_is_the_articles_product():
    # dC/d(w_22)^2 = dC/d(a_2)^3 · d(a_2)^3/d(z_2)^3 · d(z_2)^3/d(w_22)^2
    net, cost = article_network()
    f = engine.compile(cost, net.parameters())
    v = f.variables(*[p.data for p in net.parameters()])
    by_hand = v["dC_da3_2"] * (1 - math.tanh(v["z3_2"]) ** 2) * v["a2_2"]
    assert v["dC_dw2_22"] == pytest.approx(by_hand, rel=1e-12)
    cost.backward()
    assert v["dC_dw2_22"] == net.weight(2, 2, 2).grad


def test_unlabelled_nodes_get_short_stable_names():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    out = (x * y + x).tanh()
    first, second = engine.compile(out, [x, y]).source, engine.compile(out, [x, y]).source
    assert first == second
    assert "mul_1 = x * y" in first and "add_1 = mul_1 + x" in first
    assert "out = math.tanh(add_1)" in first


def test_labels_that_are_not_identifiers_become_unique_identifiers():
    leaves = [Value(1.0, label=label) for label in
              ("w2_12,3", "lambda", "1x", "w 1", "w 1", "x", "σ", "dout_dx", "math", "")]
    out = leaves[0]
    for leaf in leaves[1:]:
        out = out * 1.5 + leaf
    f = engine.compile(out, leaves)
    out.backward()
    value, gradients = f(*[1.0] * len(leaves))
    assert value == out.data and gradients == tuple(leaf.grad for leaf in leaves)
    names = [f.name_of(leaf) for leaf in leaves]
    assert len(set(names)) == len(names) and all(name.isidentifier() for name in names)
    assert "w2_12_3" in names and "lambda" not in names and "math" not in names


def test_constants_are_written_into_the_code():
    x, w = Value(2.0, label="x"), Value(-0.5, label="w")
    out = w * x ** 2 - 3 * x
    f = engine.compile(out, [x])
    assert "w = -0.5" in f.source and "(x ** 2.0)" not in f.source
    assert f(4.0) == (-0.5 * 16.0 - 12.0, (-0.5 * 2 * 4.0 - 3.0,))
    assert f.source.startswith("def forward_backward(x):")


def test_wrt_selects_the_gradients_and_leaves_out_the_rest():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    out = x * y
    f = engine.compile(out, [x, y], wrt=[y])
    assert f(2.0, 5.0) == (10.0, (2.0,))
    assert "dout_dx" not in f.source
    with pytest.raises(ValueError, match="wrt must be among the inputs"):
        engine.compile(out, [x], wrt=[y])


def test_inputs_must_be_leaves_and_appear_once():
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match="leaves"):
        engine.compile(x * x, [x * 2])
    with pytest.raises(ValueError, match="twice"):
        engine.compile(x * x, [x, x])


def test_wrong_arguments_are_a_clear_type_error():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = engine.compile(x * y, [x, y])
    with pytest.raises(TypeError, match=r"takes 2 numbers \(x, y\), got 1"):
        f(1.0)
    with pytest.raises(TypeError, match=r"argument 2 \(y\) must be a real number, not str"):
        f(1.0, "2")
    with pytest.raises(TypeError, match="real number, not bool"):
        f(True, 2.0)
    with pytest.raises(ValueError, match="finite"):
        f(math.inf, 2.0)
    assert f(np.float64(2.0), 4) == (8.0, (4.0, 2.0))


# -- same safety ------------------------------------------------------------------

def error_of(function, *arguments):
    try:
        function(*arguments)
    except (ArithmeticError, ValueError) as error:
        return type(error), str(error)
    return None


@pytest.mark.parametrize("build, good, bad", [
    (lambda x: (x - 1.0).log(), 5.0, 0.5),               # log of x <= 0
    (lambda x: 1.0 / (x - 2.0), 5.0, 2.0),               # division by zero
    (lambda x: (x * 1e200) * 1e200, 1e-200, 3.0),        # overflow in the forward pass
    (lambda x: (x * 1e200 * 1e200).tanh(), 1e-200, 3.0),  # ... even when tanh hides it
    (lambda x: (x - 1.0).sqrt(), 5.0, 0.0),              # sqrt of a negative
    (lambda x: (x - 1.0) ** 0.5, 5.0, 0.0),              # negative base, fractional power
    (lambda x: (x - 1.0).sqrt() + x, 5.0, 1.0),          # d sqrt/dx at 0 is infinite
    (lambda x: x.exp(), 5.0, 800.0),                     # exp overflows
    (lambda x: (x - 3.0) ** -1.0, 5.0, 3.0),             # 0 to a negative power
    (lambda x: (x * 1e-100) ** -2.0, 5.0, 1e-60),        # a gradient that overflows
], ids=["log", "div", "overflow", "overflow-hidden", "sqrt", "pow", "sqrt-gradient", "exp",
        "zero-to-negative", "gradient-overflow"])
def test_the_compiled_function_refuses_what_the_engine_refuses(build, good, bad):
    x = Value(good, label="x")  # compiled where the engine is happy
    f = engine.compile(build(x), [x])

    def engine_at(number):
        leaf = Value(number, label="x")
        return engine.grad(build(leaf), [leaf])

    expected = error_of(engine_at, bad)
    assert expected is not None, "the case should make the engine refuse"
    assert error_of(f, bad) == expected
    assert f.replays == 1


def test_a_zero_gradient_sends_nothing_even_through_an_infinite_derivative():
    # relu(-1) = 0 makes d out/d(sqrt) exactly 0, and backward() sends nothing
    # on from a zero gradient; the compiled code multiplies 0 by
    # d sqrt/dx = inf at x = 0, gets nan, and replays the engine instead.
    x = Value(1.0, label="x")
    out = (x.sqrt() - 5.0).relu() + x
    f = engine.compile(out, [x])
    leaf = Value(0.0, label="x")
    expected_out = (leaf.sqrt() - 5.0).relu() + leaf
    assert f(0.0) == (expected_out.data, engine.grad(expected_out, [leaf]))


def test_frozen_branch_is_replayed_not_retraced():
    # Replay, not tracing: the `if` ran once, at x = 2, and chose x * x.
    def build(x):
        return x * x if x > 0 else -x

    x = Value(2.0, label="x")
    f = engine.compile(build(x), [x])
    assert f(-3.0) == (9.0, (-6.0,))          # still x * x
    dynamic_value = build(Value(-3.0)).data   # define-by-run takes the other branch
    assert dynamic_value == 3.0


# -- training steps ----------------------------------------------------------------

def test_sgd_step_equals_the_engines_step():
    net = MLP(4, [4, 4, 1], activation="relu", seed=2)
    x = [Value(v, label=f"x_{k}") for k, v in enumerate([0.3, -0.2, 0.9, 1.1], 1)]
    cost = (net(x) - 0.5) ** 2
    step = engine.compile_sgd_step(cost, net.parameters(), x)
    parameters = [p.data for p in net.parameters()]
    for _ in range(5):
        value = step(parameters, 0.3, -0.2, 0.9, 1.1, 0.05)
        net.zero_grad()
        cost = (net(x) - 0.5) ** 2
        cost.backward()
        for p in net.parameters():
            p.data -= 0.05 * p.grad
        assert value == cost.data
        assert parameters == [p.data for p in net.parameters()]
    assert "parameters[:] = updated" in step.source


def test_sample_steps_add_up_to_the_batch_exactly():
    net = MLP(4, [4, 4, 1], seed=4)
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(30, 4)).tolist(), [float(k % 2) for k in range(30)]
    x = [Value(v, label=f"x_{k}") for k, v in enumerate(X[0], start=1)]
    y = Value(Y[0], label="y")
    s = net(x)
    step = engine.compile_sample_step(binary_cross_entropy(s, y), net.parameters(),
                                      x + [y], outputs=[s])
    parameters = [p.data for p in net.parameters()]
    gradients = (0.0,) * len(parameters)
    costs, outputs = [], []
    for xi, yi in zip(X, Y):
        c, s_i, gradients = step(parameters, gradients, *xi, yi, 1.0 / len(X))
        costs.append(c)
        outputs.append(s_i)
    batch = [net(xi) for xi in X]
    cost = binary_cross_entropy(batch, Y)
    net.zero_grad()
    cost.backward()
    total = costs[0]
    for c in costs[1:]:
        total = total + c
    assert total / len(costs) == cost.data
    assert outputs == [s.data for s in batch]
    assert list(gradients) == [p.grad for p in net.parameters()]
