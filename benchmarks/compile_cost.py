"""What compiling costs: time and memory per node, and fit's choice to compile.

    python -m benchmarks.compile_cost [--quick]   # this section alone

Rows (the reliability issue, "nothing to lose"):

    chain       engine.compile of a 50,000-op chain (x·c, x+c): seconds and peak
                bytes per node (tracemalloc's peak while compiling, over the
                graph's nodes; the graph itself was built before)
    784-64-1    compile_sample_step of one sample's cost through MLP(784, [64, 1])
                with binary cross-entropy: what fit(compile=True) compiles
    fit         fit(MLP(784, [64, 1]), 2 samples) with compile on and off:
                seconds (min of a few runs) and peak bytes (tracemalloc)
    4-4-4-1     the compiled SGD step of the 4-4-4-1 network against plain-float
                backprop, timed in turns (the per-sample compiled path's speed)

Times are taken without tracemalloc (it slows allocation), memory in a
separate run with it. The machine may be shared: compare ratios from one run.
"""

import argparse
import gc
import sys
import time
import tracemalloc

import numpy as np

import engine
from benchmarks import timing
from benchmarks.compiled import Compiled4441
from benchmarks.plain_float import plain_trainer
from benchmarks.timing import format_seconds, time_steps
from benchmarks.workloads import CHAIN_ADD, CHAIN_MUL, CHAIN_START
from engine import Value

CHAIN_OPS = 50_000
WIDE = (784, [64, 1])
FIT_SAMPLES = 2
FIT_EPOCHS = (1, 20)
BYTES_PER_NODE_TARGET = 2048.0
SECONDS_PER_NODE_TARGET = 30e-6


def chain_graph(n=CHAIN_OPS):
    """(output, leaves) of a chain of n ops, x·c and x+c in turn."""
    leaves = [Value(CHAIN_START, label="x"), Value(CHAIN_MUL, label="c"),
              Value(CHAIN_ADD, label="d")]
    x = leaves[0]
    for i in range(n):
        x = x * leaves[1] if i % 2 == 0 else x + leaves[2]
    return x, leaves


def wide_graph():
    """(cost, parameters, inputs, s) of one sample through MLP(784, [64, 1]), BCE."""
    from nn.layers import MLP
    from nn.losses import binary_cross_entropy
    net = MLP(*WIDE, seed=0)
    rng = np.random.default_rng(0)
    x = [Value(float(v), label=f"x_{k}") for k, v in enumerate(rng.normal(size=WIDE[0]), 1)]
    y = Value(1.0, label="y")
    s = net(x)
    return binary_cross_entropy(s, y), net.parameters(), x + [y], s


def _compile_chain():
    x, leaves = chain_graph()
    return (lambda: engine.compile(x, leaves)), len(engine.topological_order(x))


def _compile_wide():
    cost, parameters, inputs, s = wide_graph()
    return ((lambda: engine.compile_sample_step(cost, parameters, inputs, outputs=[s])),
            len(engine.topological_order(cost)))


def measure_compile(make, repeats):
    """(nodes, seconds (min of repeats), peak bytes while compiling)."""
    compile_it, nodes = make()
    seconds = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        compiled = compile_it()
        seconds.append(time.perf_counter() - start)
        del compiled
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        compiled = compile_it()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del compiled
    gc.collect()
    return nodes, min(seconds), peak


def measure_fit(compile, epochs, repeats):
    """(seconds (min of repeats), peak bytes) of fit on 2 samples of 784 features."""
    import nn.compiled
    from nn.layers import MLP
    from nn.train import fit
    rng = np.random.default_rng(1)
    X = rng.normal(size=(FIT_SAMPLES, WIDE[0]))
    y = np.array([0.0, 1.0][:FIT_SAMPLES])

    def run():
        clear = getattr(nn.compiled, "clear_cache", None)
        if clear:
            clear()  # compile time included, as on a first call
        fit(MLP(*WIDE, seed=0), X, y, epochs=epochs, progress=False, compile=compile)

    seconds = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    gc.collect()
    return min(seconds), peak


def time_4441(budget):
    """{'compiled': Timing, 'plain-float': Timing} of the 4-4-4-1 step, in turns."""
    return time_steps({"compiled": Compiled4441().step,
                       "plain-float": plain_trainer("4441").step}, budget)


def _verdict(passed):
    return "PASS" if passed else "**FAIL**"


def report(quick, log):
    """This section of make bench, as markdown."""
    repeats = 1 if quick else 3
    lines = ["## What compiling costs (reliability issue: nothing to lose)", "",
             f"Compile time (min of {repeats}) and peak memory while compiling "
             "(tracemalloc, a separate run), per node of the graph:", "",
             "| graph | nodes | compile time | per node | peak memory | per node |",
             "|---|---|---|---|---|---|"]
    targets = []
    for title, make in ((f"chain of {CHAIN_OPS:,} ops (engine.compile)", _compile_chain),
                        ("784-64-1, one sample + BCE (compile_sample_step, as fit)",
                         _compile_wide)):
        log(f"  compiling: {title}")
        try:
            nodes, seconds, peak = measure_compile(make, repeats)
        except (RecursionError, MemoryError) as error:
            lines.append(f"| {title} | — | {type(error).__name__} | — | — | — |")
            targets.append(f"- **FAIL** {title}: {type(error).__name__}")
            continue
        lines.append(f"| {title} | {nodes:,} | {format_seconds(seconds)} "
                     f"| {format_seconds(seconds / nodes)} | {peak / 1e6:.1f} MB "
                     f"| {peak / nodes:,.0f} B |")
        targets.append(f"- {_verdict(seconds / nodes <= SECONDS_PER_NODE_TARGET)} {title}: "
                       f"≤ {SECONDS_PER_NODE_TARGET * 1e6:g} µs per node to compile — "
                       f"measured {seconds / nodes * 1e6:.1f} µs")
        targets.append(f"- {_verdict(peak / nodes <= BYTES_PER_NODE_TARGET)} {title}: "
                       f"≤ {BYTES_PER_NODE_TARGET:g} B per node while compiling — "
                       f"measured {peak / nodes:,.0f} B")

    lines += ["", f"fit(MLP(784, [64, 1]), {FIT_SAMPLES} samples), compile time included "
              f"(min of {repeats}; peak memory by tracemalloc in one more run):", "",
              "| epochs | compile=False | compile=True | on/off | peak memory off "
              "| peak memory on |", "|---|---|---|---|---|---|"]
    for epochs in FIT_EPOCHS:
        log(f"  fit 784-64-1, {FIT_SAMPLES} samples, {epochs} epochs, compile off and on")
        off, off_peak = measure_fit(False, epochs, repeats)
        on, on_peak = measure_fit(True, epochs, repeats)
        lines.append(f"| {epochs} | {format_seconds(off)} | {format_seconds(on)} "
                     f"| {on / off:.2f}x | {off_peak / 1e6:.0f} MB | {on_peak / 1e6:.0f} MB |")
        targets.append(f"- {_verdict(on <= 1.25 * off)} fit 784-64-1, {FIT_SAMPLES} samples, "
                       f"{epochs} epoch(s): compile=True not slower than the graph (≤ 1.25x, "
                       f"noise) — measured {on / off:.2f}x")

    log("  4-4-4-1 compiled step and plain-float, in turns")
    budget = timing.QUICK if quick else timing.FULL
    timings = time_4441(budget)
    compiled, plain = timings["compiled"], timings["plain-float"]
    lines += ["", "The 4-4-4-1 compiled SGD step (the per-sample compiled path), timed in "
              "turns with plain-float backprop:", "",
              "| step | min | median | steps timed |", "|---|---|---|---|",
              f"| 4-4-4-1 compiled SGD step | {format_seconds(compiled.min)} "
              f"| {format_seconds(compiled.median)} | {compiled.repeats:,} |",
              f"| 4-4-4-1 plain-float step | {format_seconds(plain.min)} "
              f"| {format_seconds(plain.median)} | {plain.repeats:,} |",
              "", f"compiled / plain-float (medians): {compiled.median / plain.median:.2f}x",
              "", "Targets (reliability issue):", ""] + targets
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compile_cost")
    parser.add_argument("--quick", action="store_true", help="one repeat, short timings")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    print(report(args.quick, log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
