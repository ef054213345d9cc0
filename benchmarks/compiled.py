"""engine.compile on the same workloads: the step as straight-line code, timed side by side.

The same networks, data, parameters, losses and SGD step as workloads.py, with the
graph compiled once (its compile time reported apart) and the compiled step replayed:

    4441        compile_sgd_step: forward, backward and w ← w − ε ∂C/∂w in one function
    demo        compile_sgd_step of the whole batch's graph (100 samples + L2)
    demo/sample compile_sample_step of one sample's hinge term, called for each of the
                100 samples, plus one for the L2 term, then the SGD update in Python:
                what fit does (one function per architecture, not per batch)

Each is timed in one time_steps call with micrograd and plain-float backprop, so the
ratios come from the same minutes of the same (shared, noisy) machine. fit on Iris is
timed end to end with compile on and off, compile time included.
"""

import math
import time

import engine
from benchmarks import timing
from benchmarks.plain_float import plain_trainer
from benchmarks.timing import format_seconds, time_steps
from benchmarks.workloads import (
    ALPHA,
    LEARNING_RATE,
    MLP_4441,
    MLP_DEMO,
    SEED,
    EngineMLP,
    agree,
    demo_loss,
    initial_parameters,
    make_moons,
    micrograd_trainer,
    one_sample,
)
from engine import Value

# Targets from the compile issue
TARGETS = {"4441": {"speedup": 20.0, "plain_ratio": 0.5},
           "demo": {"speedup": 100.0, "plain_ratio": 0.6}}
FIT_SPEEDUP_TARGET = 5.0
COMPILE_SECONDS_TARGET = 2.0   # the demo graph


class Compiled4441:
    """The 4-4-4-1 step, C = (s − y)², as one compiled SGD step."""

    def __init__(self, seed=SEED):
        self.x, y = one_sample(seed=seed)
        model = EngineMLP(initial_parameters(MLP_4441, seed), "weighted_sum")
        inputs = [Value(x_k) for x_k in self.x]
        cost = (model(inputs) - y) ** 2
        self.node_count = len(engine.topological_order(cost))
        start = time.perf_counter()
        self.sgd_step = engine.compile_sgd_step(cost, model.parameters(), inputs)
        self.compile_seconds = time.perf_counter() - start
        self.gradients = engine.compile(cost, model.parameters() + inputs,
                                        wrt=model.parameters())
        self.parameters = [p.data for p in model.parameters()]

    def step(self):
        self.sgd_step(self.parameters, *self.x, LEARNING_RATE)

    def loss_and_gradients(self):
        value, gradients = self.gradients(*self.parameters, *self.x)
        return value, list(gradients)

    def nodes(self):
        return self.node_count


class CompiledDemo:
    """micrograd's demo step compiled: the whole batch, or one sample at a time."""

    def __init__(self, per_sample, seed=SEED):
        self.per_sample = per_sample
        layers = initial_parameters(MLP_DEMO, seed)
        self.X, self.Y = make_moons(seed=seed)
        model = EngineMLP(layers, "weighted_sum")
        parameters = model.parameters()
        whole = demo_loss(model, self.X, self.Y, Value)
        self.node_count = len(engine.topological_order(whole))
        start = time.perf_counter()
        if per_sample:
            # One sample's term relu(1 + (−y)·s): x and −y are the inputs (−y·s in
            # the whole graph is a product with the constant −y, so the same op).
            x = [Value(0.0), Value(0.0)]
            minus_y = Value(0.0)
            term = (1 + minus_y * model(x)).relu()
            self.sample = engine.compile_sample_step(term, parameters, x + [minus_y])
            self.l2 = engine.compile_sample_step(
                ALPHA * sum(p * p for p in parameters), parameters)
        else:
            self.sgd_step = engine.compile_sgd_step(whole, parameters)
            self.gradients = engine.compile(whole, parameters)
        self.compile_seconds = time.perf_counter() - start
        self.parameters = [p.data for p in parameters]
        self.zeros = (0.0,) * len(parameters)

    def _batch(self):
        """(C, ∂C/∂p) by the per-sample steps: the samples in order, then L2."""
        parameters, gradients, sample = self.parameters, self.zeros, self.sample.function
        seed = 1.0 / len(self.X)  # d C/d term_i: the mean's factor
        data_loss = 0.0
        for (x1, x2), y in zip(self.X, self.Y):
            term, gradients = sample(parameters, gradients, x1, x2, -y, seed)
            data_loss = data_loss + term
        l2, gradients = self.l2.function(parameters, gradients, 1.0)
        if not math.isfinite(sum(gradients)):  # the steps leave this check to the caller
            raise FloatingPointError("a gradient is not finite")
        return data_loss * seed + l2, gradients

    def step(self):
        if not self.per_sample:
            self.sgd_step(self.parameters, LEARNING_RATE)
            return
        _, gradients = self._batch()
        self.parameters = [w - LEARNING_RATE * g for w, g in zip(self.parameters, gradients)]

    def loss_and_gradients(self):
        if self.per_sample:
            value, gradients = self._batch()
        else:
            value, gradients = self.gradients(*self.parameters)
        return value, list(gradients)

    def nodes(self):
        return self.node_count


def engine_reference(problem, seed=SEED):
    """(C, gradients) from this engine's backward(), for the exactness check."""
    from benchmarks.workloads import engine_trainer
    return engine_trainer(problem, "weighted_sum", seed).loss_and_gradients()


def check(log):
    """A line saying how the compiled steps agree with plain-float and with backward()."""
    lines = []
    for name, make, problem in (("4441", Compiled4441, "4441"),
                                ("demo, whole batch", lambda s: CompiledDemo(False, s), "demo"),
                                ("demo, per sample", lambda s: CompiledDemo(True, s), "demo")):
        log(f"  checking compiled {name}")
        exact = close = 0
        for seed in (SEED, SEED + 1):
            value, gradients = make(seed).loss_and_gradients()
            plain_value, plain_gradients = plain_trainer(problem, seed).loss_and_gradients()
            engine_value, engine_gradients = engine_reference(problem, seed)
            close += agree(value, plain_value) and all(
                agree(g, r) for g, r in zip(gradients, plain_gradients))
            exact += value == engine_value and gradients == engine_gradients
        lines.append(f"{name}: {'agrees' if close == 2 else '**DISAGREES**'} with "
                     f"plain-float (relative 1e-9), "
                     f"{'equal (==)' if exact == 2 else '**not equal**'} to backward()")
    return "Compiled steps, 2 parameter sets each: " + "; ".join(lines) + "."


def time_compiled(budget, log):
    """[(title, nodes, compiled form, Timing, micrograd Timing, plain Timing)]"""
    rows = []
    log("  compiled 4441: micrograd, plain-float, compiled")
    compiled = Compiled4441()
    timings = time_steps({"micrograd": micrograd_trainer("4441").step,
                          "plain-float": plain_trainer("4441").step,
                          "compiled": compiled.step}, budget)
    rows.append(("(1) 4-4-4-1 MLP, 1 sample, MSE", compiled.nodes(),
                 "one compiled SGD step", timings["compiled"], timings["micrograd"],
                 timings["plain-float"], "4441"))
    log("  compiled demo: micrograd, plain-float, whole batch, per sample")
    whole, per_sample = CompiledDemo(False), CompiledDemo(True)
    timings = time_steps({"micrograd": micrograd_trainer("demo").step,
                          "plain-float": plain_trainer("demo").step,
                          "whole": whole.step, "per-sample": per_sample.step}, budget)
    title = "(2) micrograd demo: 2-16-16-1, hinge + L2, 100 moons"
    rows.append((title, whole.nodes(), "whole batch, one compiled SGD step",
                 timings["whole"], timings["micrograd"], timings["plain-float"], "demo"))
    rows.append((title, per_sample.nodes(), "per-sample step × 100 + L2, summed",
                 timings["per-sample"], timings["micrograd"], timings["plain-float"], "demo"))
    return rows


def time_compile(log):
    """[(graph, nodes, seconds)] for engine.compile on a few graphs (one run each)."""
    from benchmarks.workloads import CHAIN_ADD, CHAIN_MUL, CHAIN_START
    measured = []
    demo = CompiledDemo(False)
    measured.append(("micrograd demo, whole batch (compile_sgd_step)", demo.nodes(),
                     demo.compile_seconds))
    for n in (10_000, 100_000):
        log(f"  compiling a chain of {n:,}")
        leaves = [Value(CHAIN_START), Value(CHAIN_MUL), Value(CHAIN_ADD)]
        x = leaves[0]
        for i in range(n):
            x = x * leaves[1] if i % 2 == 0 else x + leaves[2]
        start = time.perf_counter()
        f = engine.compile(x, leaves)
        seconds = time.perf_counter() - start
        value, gradients = f(CHAIN_START, CHAIN_MUL, CHAIN_ADD)
        x.backward()
        assert (value, gradients) == (x.data, tuple(leaf.grad for leaf in leaves))
        measured.append((f"chain of {n:,} ops (engine.compile, then run: == backward())",
                         len(engine.topological_order(x)), seconds))
        del f, x
    return measured


def time_fit(log, repeats=3):
    """(seconds with compile off, seconds with compile on): fit on Iris, 100 epochs, min."""
    import nn.compiled
    from nn.datasets import load_iris, standardize, train_test_split
    from nn.layers import MLP
    from nn.train import fit
    X, y = load_iris()
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.5, seed=0)
    X_train, _, _, _ = standardize(X_train, X_test)
    seconds = {False: [], True: []}
    for _ in range(repeats):
        for compile in (False, True):
            log(f"  fit on Iris, compile={compile}")
            nn.compiled.clear_cache()  # compile time included
            start = time.perf_counter()
            fit(MLP(4, [4, 4, 1], seed=0), X_train, y_train, epochs=100, progress=False,
                compile=compile)
            seconds[compile].append(time.perf_counter() - start)
    return min(seconds[False]), min(seconds[True])


def report(quick, log):
    """The compiled section of make bench, as markdown."""
    budget = timing.QUICK if quick else timing.FULL
    agreement = check(log)
    rows = time_compiled(budget, log)
    compile_times = time_compile(log)
    fit_off, fit_on = time_fit(log, repeats=1 if quick else 3)

    lines = ["## engine.compile", "", agreement, "",
             "Per training step (forward + backward + SGD update), min and median over "
             "repeats, timed in turns with micrograd and plain-float; ratios use the medians.",
             "",
             "| workload | compiled form | nodes | compiled min | compiled median "
             "| micrograd median | plain-float median | micrograd/compiled (speed-up) "
             "| compiled/plain-float | steps timed: compiled / micrograd / plain |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    targets = []
    for title, nodes, form, ours, micrograd, plain, problem in rows:
        speedup, ratio = micrograd.median / ours.median, ours.median / plain.median
        lines.append(f"| {title} | {form} | {nodes:,} | {format_seconds(ours.min)} "
                     f"| {format_seconds(ours.median)} | {format_seconds(micrograd.median)} "
                     f"| {format_seconds(plain.median)} | {speedup:.1f}x | {ratio:.2f}x "
                     f"| {ours.repeats:,} / {micrograd.repeats:,} / {plain.repeats:,} |")
        goal = TARGETS[problem]
        targets.append(f"- {_verdict(speedup >= goal['speedup'])} {title}, {form}: "
                       f"≥ {goal['speedup']:g}x faster than micrograd — measured {speedup:.1f}x")
        targets.append(f"- {_verdict(ratio <= goal['plain_ratio'])} {title}, {form}: "
                       f"≤ {goal['plain_ratio']:g}x plain-float — measured {ratio:.2f}x")
    lines += ["", "Compile time (one run each; the code is generated, then compiled by "
              "CPython):", "", "| graph | nodes | compile time | per node |", "|---|---|---|---|"]
    for graph, nodes, seconds in compile_times:
        lines.append(f"| {graph} | {nodes:,} | {format_seconds(seconds)} "
                     f"| {format_seconds(seconds / nodes)} |")
    demo_seconds = compile_times[0][2]
    targets.append(f"- {_verdict(demo_seconds < COMPILE_SECONDS_TARGET)} the demo graph "
                   f"({compile_times[0][1]:,} nodes) compiles in < "
                   f"{COMPILE_SECONDS_TARGET:g} s — measured {demo_seconds:.2f} s")
    speedup = fit_off / fit_on
    lines += ["", f"fit on Iris (4-4-4-1, 50 flowers, 100 epochs, full batch), min of "
              f"{1 if quick else 3}: compile=False {format_seconds(fit_off)}, compile=True "
              f"{format_seconds(fit_on)} (compile time included): {speedup:.1f}x."]
    targets.append(f"- {_verdict(speedup >= FIT_SPEEDUP_TARGET)} fit on Iris, 100 epochs: "
                   f"compile on ≥ {FIT_SPEEDUP_TARGET:g}x faster than off — measured "
                   f"{speedup:.1f}x")
    lines += ["", "Targets (compile issue):", ""] + targets
    return "\n".join(lines)


def _verdict(passed):
    return "PASS" if passed else "**FAIL**"
