"""engine.compile(..., batch=...) against PyTorch float64 and numpy by hand (issue 18).

Two workloads, each trained from the same initial weights on the same numbers by
every way, whose costs are checked against each other (relative 1e-9) before
their times are believed:

    Iris     the article's 4-4-4-1 tanh network, 75 training flowers (versicolor vs
             virginica, standardised), binary cross-entropy on the logit, full-batch
             gradient descent, ε = 0.5, 100 epochs
    moons    micrograd's demo: 2-16-16-1 relu, hinge + L2 (α = 1e-4), 100 samples,
             full batch, ε = 0.05, 100 steps

Ways: nn.fit(compile="batch"); engine.compile(batch=..., matrices=True) with a plain
SGD loop on floats; the same with one line per node (matrices=False); fit's per-sample
compiled path and the dynamic engine (compile=True / False); PyTorch float64 on one
thread (F.linear, tanh/relu, binary_cross_entropy_with_logits, optim.SGD); numpy by
hand in the article's matrix form (the δ equations); micrograd (moons only, a few
steps timed and scaled to 100). Every time includes compiling (no cache is kept
between runs). Each way runs several times, in turns; the table gives the minimum
(the least disturbed run on a shared machine) and the median.
"""

import statistics
import time

import numpy as np

from benchmarks.timing import format_seconds
from benchmarks.workloads import (
    ALPHA,
    LEARNING_RATE,
    MLP_DEMO,
    SEED,
    EngineMLP,
    initial_parameters,
    make_moons,
    micrograd_trainer,
)
from engine import Value
from engine.batch import compile_batch

EPOCHS = 100
IRIS_LR = 0.5
TORCH_VERSION = "2.13.0"
TARGETS = {"torch": 3.0, "by_hand": 2.0, "micrograd": 1000.0}

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # optional: the rows say why they are missing
    torch = None


# -- Iris ------------------------------------------------------------------------------

def iris():
    """(X 75 × 4 standardised, y 0/1, the 4-4-4-1 network's W^l and b^l as numpy arrays)."""
    from nn.datasets import load_iris, standardize, train_test_split
    from nn.layers import MLP
    from nn.matrix import to_matrices
    X, y = load_iris()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=25, seed=0)
    X_train, _, _, _ = standardize(X_train, X_test)
    Ws, bs = to_matrices(MLP(4, [4, 4, 1], seed=0))
    return np.asarray(X_train, dtype=float), np.asarray(y_train, dtype=float), Ws, bs


def iris_fit(compile):
    from nn.compiled import clear_cache
    from nn.layers import MLP
    from nn.train import fit
    X, y, _, _ = IRIS

    def run():
        clear_cache()  # compile time included
        history = fit(MLP(4, [4, 4, 1], seed=0), X, y, lr=IRIS_LR, epochs=EPOCHS,
                      progress=False, compile=compile)
        return history.cost[:EPOCHS]
    return run


def iris_engine(matrices):
    """engine.compile over the batch, then gradient descent on a list of floats."""
    from nn.layers import MLP
    from nn.losses import binary_cross_entropy
    X, y, _, _ = IRIS

    def run():
        net = MLP(4, [4, 4, 1], seed=0)
        x = [Value(0.0, label=f"x_{k}") for k in range(1, 5)]
        target = Value(0.0, label="y")
        parameters = net.parameters()
        start = time.perf_counter()
        f = compile_batch(binary_cross_entropy(net(x), target), parameters + x + [target],
                          wrt=parameters, batch=x + [target], reduction="mean",
                          matrices=matrices)
        COMPILING.setdefault(("iris", matrices), []).append(time.perf_counter() - start)
        weights = f.pack([p.data for p in parameters])  # W^l and b^l as arrays
        data = list(X.T) + [y]
        costs = []
        for _ in range(EPOCHS):
            values, gradients, _ = f.run(weights + data, checked=True, packed=True)
            costs.append(float(values.sum() / len(values)))
            weights = [w - IRIS_LR * g for w, g in zip(weights, gradients)]
        return costs
    return run


def iris_torch():
    X, y, Ws, bs = IRIS

    def run():
        torch.set_num_threads(1)
        weights = [torch.tensor(W, requires_grad=True) for W in Ws]
        biases = [torch.tensor(b, requires_grad=True) for b in bs]
        inputs, targets = torch.tensor(X), torch.tensor(y)
        optimizer = torch.optim.SGD(weights + biases, lr=IRIS_LR)
        costs = []
        for _ in range(EPOCHS):
            optimizer.zero_grad()
            a = torch.tanh(F.linear(inputs, weights[0], biases[0]))
            a = torch.tanh(F.linear(a, weights[1], biases[1]))
            s = F.linear(a, weights[2], biases[2]).squeeze(1)
            cost = F.binary_cross_entropy_with_logits(s, targets)
            cost.backward()
            optimizer.step()
            costs.append(cost.item())
        return costs
    return run


def iris_by_hand():
    """The article's matrix form: z^{l+1} = W^l a^l + b^l, then the δ equations."""
    X, y, Ws, bs = IRIS

    def run():
        W = [w.copy() for w in Ws]
        b = [v.copy()[:, None] for v in bs]
        a1, n = X.T, len(y)
        costs = []
        for _ in range(EPOCHS):
            a2 = np.tanh(W[0] @ a1 + b[0])
            a3 = np.tanh(W[1] @ a2 + b[1])
            s = (W[2] @ a3 + b[2])[0]
            costs.append(float(np.mean(np.logaddexp(0.0, s) - y * s)))
            delta4 = ((1.0 / (1.0 + np.exp(-s)) - y) / n)[None, :]   # δ^4 = dC/ds
            delta3 = (W[2].T @ delta4) * (1.0 - a3 * a3)              # δ^3
            delta2 = (W[1].T @ delta3) * (1.0 - a2 * a2)              # δ^2
            for l, (delta, a) in enumerate(((delta2, a1), (delta3, a2), (delta4, a3))):
                W[l] -= IRIS_LR * (delta @ a.T)                       # ∂C/∂W^l = δ^{l+1} (a^l)ᵀ
                b[l] -= IRIS_LR * delta.sum(axis=1, keepdims=True)    # ∂C/∂b^l = Σ δ^{l+1}
        return costs
    return run


# -- moons --------------------------------------------------------------------------

def moons():
    X, Y = make_moons(seed=SEED)
    return np.asarray(X, dtype=float), np.asarray(Y, dtype=float), \
        initial_parameters(MLP_DEMO, SEED)


def moons_engine(matrices):
    """One sample's cost, relu(1 − y·s) + α Σ p², compiled over the batch with its mean."""
    X, Y, layers = MOONS

    def run():
        model = EngineMLP(layers, "weighted_sum")
        x = [Value(0.0, label="x_1"), Value(0.0, label="x_2")]
        y = Value(0.0, label="y")
        parameters = model.parameters()
        start = time.perf_counter()
        cost = (1 + -y * model(x)).relu() + ALPHA * sum(p * p for p in parameters)
        f = compile_batch(cost, parameters + x + [y], wrt=parameters, batch=x + [y],
                          reduction="mean", matrices=matrices)
        COMPILING.setdefault(("moons", matrices), []).append(time.perf_counter() - start)
        weights = f.pack([p.data for p in parameters])  # W^l and b^l as arrays
        data = list(X.T) + [Y]
        costs = []
        for _ in range(EPOCHS):
            values, gradients, _ = f.run(weights + data, checked=True, packed=True)
            costs.append(float(values.sum() / len(values)))
            weights = [w - LEARNING_RATE * g for w, g in zip(weights, gradients)]
        return costs
    return run


def moons_torch():
    X, Y, layers = MOONS

    def run():
        torch.set_num_threads(1)
        weights = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W, _ in layers]
        biases = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for _, b in layers]
        inputs, targets = torch.tensor(X), torch.tensor(Y)
        parameters = weights + biases
        optimizer = torch.optim.SGD(parameters, lr=LEARNING_RATE)
        costs = []
        for _ in range(EPOCHS):
            optimizer.zero_grad()
            a = torch.relu(F.linear(inputs, weights[0], biases[0]))
            a = torch.relu(F.linear(a, weights[1], biases[1]))
            s = F.linear(a, weights[2], biases[2]).squeeze(1)
            cost = torch.relu(1 - targets * s).mean() + ALPHA * sum((p * p).sum()
                                                                    for p in parameters)
            cost.backward()
            optimizer.step()
            costs.append(cost.item())
        return costs
    return run


def moons_per_sample():
    """engine.compile_sample_step per sample + L2 (benchmarks/compiled.py), 100 steps."""
    from benchmarks.compiled import CompiledDemo

    def run():
        demo = CompiledDemo(True)
        costs = []
        for _ in range(EPOCHS):
            costs.append(demo.loss_and_gradients()[0])
            demo.step()
        return costs
    return run


# -- running and reporting -------------------------------------------------------------

IRIS = MOONS = None
COMPILING = {}  # (workload, matrices) -> seconds spent building the graph and compiling


def time_ways(ways, repeats, log):
    """{name: (seconds per run: list, costs of the last run)}, the ways taken in turns."""
    seconds = {name: [] for name in ways}
    costs = {}
    for _ in range(repeats):
        for name, run in ways.items():
            log(f"  {name}")
            start = time.perf_counter()
            costs[name] = run()
            seconds[name].append(time.perf_counter() - start)
    return {name: (seconds[name], costs[name]) for name in ways}


def agreement(results, reference):
    """'largest relative difference of the cost sequences': checks every way against one."""
    worst, problems = 0.0, []
    want = results[reference][1]
    for name, (_, costs) in results.items():
        difference = max(abs(c - w) / abs(w) for c, w in zip(costs, want))
        worst = max(worst, difference)
        if len(costs) != len(want) or not difference <= 1e-9:
            problems.append(f"{name} (relative difference {difference:.1e})")
    return worst, problems


def micrograd_seconds(quick):
    """micrograd's 100 steps: a few of its steps timed (min), times 100."""
    trainer = micrograd_trainer("demo")
    durations = []
    for _ in range(2 if quick else 5):
        start = time.perf_counter()
        trainer.step()
        durations.append(time.perf_counter() - start)
    return min(durations) * EPOCHS, statistics.median(durations) * EPOCHS, len(durations)


def report(quick, log):
    global IRIS, MOONS
    IRIS, MOONS = iris(), moons()
    repeats = 2 if quick else 7
    have_torch = torch is not None and torch.__version__.split("+")[0] == TORCH_VERSION
    why_not = ("torch is not installed" if torch is None else
               f"torch {torch.__version__} is not {TORCH_VERSION}") + \
        f" (pip install torch=={TORCH_VERSION})"

    iris_ways = {
        'nn.fit(compile="batch")': iris_fit("batch"),
        "engine.compile(batch, matrices=True) + SGD loop": iris_engine(True),
        "engine.compile(batch), one line per node + SGD loop": iris_engine(False),
        "nn.fit(compile=True), per sample": iris_fit(True),
        "nn.fit(compile=False), the graph": iris_fit(False),
        "numpy by hand (matrix form, δ equations)": iris_by_hand(),
    }
    if have_torch:
        iris_ways["PyTorch float64, 1 thread"] = iris_torch()
    log("batch: Iris 4-4-4-1, 100 epochs")
    iris_results = time_ways(iris_ways, repeats, log)
    moons_ways = {
        "engine.compile(batch, matrices=True) + SGD loop": moons_engine(True),
        "engine.compile(batch), one line per node + SGD loop": moons_engine(False),
        "engine.compile_sample_step per sample": moons_per_sample(),
    }
    if have_torch:
        moons_ways["PyTorch float64, 1 thread"] = moons_torch()
    log("batch: micrograd's moons demo, 100 steps")
    moons_results = time_ways(moons_ways, repeats, log)
    log("batch: micrograd, a few steps")
    micrograd = micrograd_seconds(quick)

    lines = ["## engine.compile over a batch (issue 18)", ""]
    checks = []
    for title, results, reference in (
            ("Iris", iris_results, "numpy by hand (matrix form, δ equations)"),
            ("moons", moons_results, "engine.compile_sample_step per sample")):
        worst, problems = agreement(results, reference)
        checks.append(f"{title}: every way's 100 costs agree with {reference} to "
                      f"{worst:.1e} relative" if not problems else
                      f"{title}: **DISAGREE** with {reference}: {', '.join(problems)}")
    lines += ["Costs checked before timing: " + "; ".join(checks) + ".", "",
              f"Whole runs (compile time included), {repeats} of each, in turns; min and "
              "median. The machine is shared (2 cores, several users): the minimum is the "
              "least disturbed run. Ratios use the minimums.", "",
              "| workload | way | min | median | of which compiling (min) "
              "| PyTorch / this (speed-up) | this / numpy by hand |",
              "|---|---|---|---|---|---|---|"]

    def rows(title, results, torch_name, hand_name, workload):
        torch_min = min(results[torch_name][0]) if torch_name in results else None
        hand_min = min(results[hand_name][0]) if hand_name in results else None
        for name, (seconds, _) in results.items():
            best = min(seconds)
            compiling = COMPILING.get((workload, "matrices=True" in name)) \
                if name.startswith("engine.compile(") else None
            lines.append(
                f"| {title} | {name} | {format_seconds(best)} "
                f"| {format_seconds(statistics.median(seconds))} "
                f"| {format_seconds(min(compiling)) if compiling else ''} "
                f"| {f'{torch_min / best:.2f}x' if torch_min else '—'} "
                f"| {f'{best / hand_min:.2f}x' if hand_min else '—'} |")
        if torch_name not in results:
            lines.append(f"| {title} | PyTorch float64, 1 thread | skipped: {why_not} "
                         f"| | | | |")

    torch_name = "PyTorch float64, 1 thread"
    hand_name = "numpy by hand (matrix form, δ equations)"
    rows("Iris 4-4-4-1, 100 epochs", iris_results, torch_name, hand_name, "iris")
    rows("moons 2-16-16-1, 100 steps", moons_results, torch_name, hand_name, "moons")
    lines.append(f"| moons 2-16-16-1, 100 steps | micrograd 0.1.0 ({micrograd[2]} steps timed, "
                 f"× 100) | {format_seconds(micrograd[0])} | {format_seconds(micrograd[1])} "
                 f"| | | |")

    targets = []

    def ratio_target(what, results, name, other, goal, faster=True, without=None):
        if other not in results and other != "micrograd":
            targets.append(f"- not measured: {what} ({why_not})")
            return
        ours = min(results[name][0]) - (min(COMPILING[without]) if without else 0.0)
        theirs = micrograd[0] if other == "micrograd" else min(results[other][0])
        value = theirs / ours if faster else ours / theirs
        passed = value >= goal if faster else value <= goal
        targets.append(f"- {'PASS' if passed else '**FAIL**'} {what}: "
                       f"{'≥' if faster else '≤'} {goal:g}x — measured {value:.2f}x")

    for name in ('nn.fit(compile="batch")', "engine.compile(batch, matrices=True) + SGD loop"):
        ratio_target(f"Iris, {name}, faster than PyTorch float64", iris_results, name,
                     torch_name, TARGETS["torch"])
        ratio_target(f"Iris, {name}, time / numpy by hand", iris_results, name, hand_name,
                     TARGETS["by_hand"], faster=False)
    name = "engine.compile(batch, matrices=True) + SGD loop"
    ratio_target(f"moons, {name}, faster than PyTorch float64", moons_results, name,
                 torch_name, TARGETS["torch"])
    ratio_target(f"moons, {name}, compile time left out, faster than PyTorch float64",
                 moons_results, name, torch_name, TARGETS["torch"],
                 without=("moons", True))
    ratio_target(f"moons, {name}, faster than micrograd", moons_results, name, "micrograd",
                 TARGETS["micrograd"])
    lines += ["", "Targets (issue 18):", ""] + targets
    return "\n".join(lines)


def main():
    import argparse
    import sys
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    print(report(args.quick, log))


if __name__ == "__main__":
    main()
