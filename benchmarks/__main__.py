"""python -m benchmarks [--quick] [--profile WORKLOAD]

1. Checks that every implementation computes the same loss and the same gradients
   (relative 1e-9) from the same parameters and data; stops with exit status 1 if not.
2. Times one training step (forward, zero_grad, backward, SGD) of each implementation:
   this engine (two builds), micrograd 0.1.0 and plain-float backprop.
3. Measures bytes per graph node with tracemalloc.
4. Prints a markdown table and the targets of the engine issue with PASS/FAIL.
5. engine.compile (benchmarks/compiled.py): the compiled steps against micrograd and
   plain-float, fit on Iris with compile on and off, compile time per node.
6. engine.compile over a batch (benchmarks/batch.py): against PyTorch float64 and numpy
   by hand on Iris and micrograd's moons demo.

The exit status is 0 even when a target fails: this is a report, not a test.
"""

import argparse
import cProfile
import gc
import os
import platform
import pstats
import sys
import time
from importlib import metadata

import numpy as np

from benchmarks import batch, compile_cost, compiled, timing
from benchmarks.memory import measure_graph
from benchmarks.plain_float import PlainChain, plain_trainer
from benchmarks.timing import format_seconds, time_steps
from benchmarks.workloads import (
    CHAIN_LENGTHS,
    SEED,
    agree,
    engine_chain,
    engine_trainer,
    micrograd_chain,
    micrograd_trainer,
    relative_difference,
)

PROBLEM_TITLES = {
    "4441": "(1) 4-4-4-1 MLP, 1 sample, MSE",
    "demo": "(2) micrograd demo: 2-16-16-1, hinge + L2, 100 moons",
}
BUILD_NAMES = {"weighted_sum": "weighted-sum", "elementary": "elementary"}

# Targets from the engine issue ("Speed and memory").
TARGETS = {
    "4441": {"speedup_weighted_sum": 3.0, "speedup_elementary": 1.5, "plain_ratio": 4.0},
    "demo": {"speedup_weighted_sum": 20.0, "speedup_elementary": 3.0, "plain_ratio": 6.0},
}
CHAIN_GROWTH_TARGET = 12.0      # median(1e6 chain) / median(1e5 chain)
BYTES_PER_NODE_TARGET = 250.0

# Gradient checks: several parameter sets for the small network (a single set can
# leave most relu units dead and most gradients 0), two for the demo.
CHECK_SEEDS = {"4441": tuple(range(SEED, SEED + 8)), "demo": (SEED, SEED + 1)}
SHORT_CHAIN = 200   # short enough for micrograd's recursive topological sort


def short(n):
    """1e4 for 10000: how the issue names the chain lengths."""
    return f"{n:.0e}".replace("e+0", "e").replace("e+", "e")


class GradientMismatch(Exception):
    pass


# -- 1. the gradient check -----------------------------------------------------------

def compare(what, reference_name, reference, name, result):
    """Raise GradientMismatch unless result (loss, gradients) equals the reference."""
    (reference_loss, reference_grads), (loss, grads) = reference, result
    problems = []
    if len(grads) != len(reference_grads):
        problems.append(f"{len(grads)} gradients, {reference_name} has {len(reference_grads)}")
    elif not agree(loss, reference_loss):
        problems.append(f"loss {loss!r}, {reference_name} {reference_loss!r}")
    else:
        for i, (g, r) in enumerate(zip(grads, reference_grads)):
            if not agree(g, r):
                problems.append(f"gradient #{i}: {g!r}, {reference_name} {r!r}")
    if problems:
        raise GradientMismatch(f"{what}: {name} disagrees with {reference_name}:\n    "
                               + "\n    ".join(problems[:10]))
    return max((relative_difference(g, r) for g, r in zip(grads, reference_grads)), default=0.0)


def check_gradients():
    """Every implementation against plain-float backprop. Returns a summary line."""
    worst = 0.0
    checked = []
    for problem, seeds in CHECK_SEEDS.items():
        gradients = nonzero = 0
        for seed in seeds:
            reference = plain_trainer(problem, seed).loss_and_gradients()
            implementations = {
                "this engine (weighted_sum)": engine_trainer(problem, "weighted_sum", seed),
                "this engine (elementary)": engine_trainer(problem, "elementary", seed),
                "micrograd": micrograd_trainer(problem, seed),
            }
            for name, trainer in implementations.items():
                worst = max(worst, compare(f"{PROBLEM_TITLES[problem]}, seed {seed}",
                                           "plain-float", reference,
                                           name, trainer.loss_and_gradients()))
            gradients += len(reference[1])
            nonzero += sum(g != 0.0 for g in reference[1])
        checked.append(f"{problem}: {len(seeds)} parameter sets, {gradients} gradients "
                       f"({nonzero} nonzero)")
    for n in (SHORT_CHAIN, *CHAIN_LENGTHS):
        reference = PlainChain(n).loss_and_gradients()
        implementations = {"this engine": engine_chain(n)}
        if n == SHORT_CHAIN:
            implementations["micrograd"] = micrograd_chain(n)
        for name, trainer in implementations.items():
            worst = max(worst, compare(f"chain of {n:,} operations", "plain-float", reference,
                                       name, trainer.loss_and_gradients()))
    checked.append(f"chains of {SHORT_CHAIN} (micrograd too), "
                   + ", ".join(short(n) for n in CHAIN_LENGTHS))
    return (f"Gradients agree with plain-float backprop (relative 1e-9; largest relative "
            f"difference {worst:.1e}): " + "; ".join(checked) + ".")


# -- 2. timing ---------------------------------------------------------------------

class Row:
    """One line of the table: a workload, this engine's build, and the three timings."""

    def __init__(self, workload, graph, nodes, micrograd_nodes, ours, micrograd, plain):
        self.workload = workload
        self.graph = graph
        self.nodes = nodes
        self.micrograd_nodes = micrograd_nodes
        self.ours = ours                # Timing
        self.micrograd = micrograd      # Timing, or a str such as 'RecursionError'
        self.plain = plain              # Timing

    @property
    def speedup(self):
        """micrograd / ours (medians); None when micrograd did not run."""
        if isinstance(self.micrograd, str):
            return None
        return self.micrograd.median / self.ours.median

    @property
    def plain_ratio(self):
        """ours / plain-float (medians)"""
        return self.ours.median / self.plain.median


def time_problem(problem, budget, log):
    """Rows for one network workload: both builds of this engine, micrograd, plain-float."""
    micrograd = micrograd_trainer(problem)
    ours = {build: engine_trainer(problem, build) for build in ("weighted_sum", "elementary")}
    log(f"  {problem}: micrograd, plain-float, this engine (weighted_sum, elementary)")
    timings = time_steps({"micrograd": micrograd.step,
                          "plain-float": plain_trainer(problem).step,
                          **{build: trainer.step for build, trainer in ours.items()}}, budget)
    micrograd_nodes = micrograd.nodes()
    return [Row(PROBLEM_TITLES[problem], BUILD_NAMES[build], trainer.nodes(), micrograd_nodes,
                timings[build], timings["micrograd"], timings["plain-float"])
            for build, trainer in ours.items()]


def try_micrograd_chain(n):
    """(nodes, None) for micrograd on a chain if its backward works, else
    (nodes, 'RecursionError'): its recursive topological sort fails on long chains."""
    chain = micrograd_chain(n)
    root = chain.build()
    nodes = chain.count_nodes(root)
    try:
        root.backward()
    except RecursionError:
        return nodes, "RecursionError"
    finally:
        del root
        gc.collect()  # micrograd's graphs are reference cycles: free this one now
    return nodes, None


def time_chains(budget, quick, log):
    """Rows for the chains. micrograd comes after this engine and plain-float have been
    timed, so that its million-node attempt (about 0.7 GB, all reference cycles) cannot
    leave the heap in a state that slows the others."""
    rows = []
    for n in CHAIN_LENGTHS:
        log(f"  chain {short(n)}: plain-float, this engine")
        ours = engine_chain(n)
        timings = time_steps({"plain-float": PlainChain(n).step, "ours": ours.step}, budget)
        rows.append(Row(f"(3) chain of {short(n)} ops (x·c, x+c), build + backward", "elementary",
                        ours.nodes(), None, timings["ours"], None, timings["plain-float"]))
    for n, row in zip(CHAIN_LENGTHS, rows):
        log(f"  chain {short(n)}: micrograd")
        if quick and n > 100_000:
            row.micrograd = "not run (--quick)"
            continue
        row.micrograd_nodes, failure = try_micrograd_chain(n)
        row.micrograd = failure or time_steps({"micrograd": micrograd_chain(n).step},
                                              budget)["micrograd"]
    return rows


def chain_breakdown(log):
    """[(n, build, build in gc, backward, backward in gc)] for one chain of each length.

    Where a chain's time goes: building the graph (the user's forward code) and
    backward, each with the time the garbage collector took inside it (measured
    with gc.callbacks; the collector keeps its default settings).
    """
    in_gc = []
    started = []

    def on_gc(phase, info):
        if phase == "start":
            started.append(time.perf_counter())
        else:
            in_gc.append(time.perf_counter() - started.pop())

    breakdown = []
    gc.callbacks.append(on_gc)
    try:
        for n in CHAIN_LENGTHS:
            log(f"  chain {short(n)}: build and backward apart")
            chain = engine_chain(n)
            gc.collect()
            in_gc.clear()
            start = time.perf_counter()
            root = chain.build()
            build, build_gc = time.perf_counter() - start, sum(in_gc)
            in_gc.clear()
            start = time.perf_counter()
            root.backward()
            backward, backward_gc = time.perf_counter() - start, sum(in_gc)
            del root
            breakdown.append((n, build, build_gc, backward, backward_gc))
    finally:
        gc.callbacks.remove(on_gc)
    return breakdown


def breakdown_table(breakdown):
    lines = ["| chain | build | of which in the garbage collector | backward | "
             "of which in the garbage collector |",
             "|---|---|---|---|---|"]
    for n, build, build_gc, backward, backward_gc in breakdown:
        lines.append(f"| {short(n)} | {format_seconds(build)} | {format_seconds(build_gc)} | "
                     f"{format_seconds(backward)} | {format_seconds(backward_gc)} |")
    first, last = breakdown[1], breakdown[2]
    lines.append("")
    lines.append(f"1e6 / 1e5: build {last[1] / first[1]:.1f}x (without the collector's time "
                 f"{(last[1] - last[2]) / (first[1] - first[2]):.1f}x), backward "
                 f"{last[3] / first[3]:.1f}x.")
    return "\n".join(lines)


# -- 3. memory ---------------------------------------------------------------------

def measure_memory(log):
    """[(graph, implementation, Memory)] for the 1e5 chain and the demo graph."""
    measured = []
    n = CHAIN_LENGTHS[1]
    for name, trainer in (("this engine", engine_chain(n)), ("micrograd", micrograd_chain(n))):
        log(f"  chain {short(n)}: {name}")
        measured.append((f"chain of {short(n)} ops", name, measure_graph(trainer)))
    for name, trainer in (("this engine, weighted-sum", engine_trainer("demo", "weighted_sum")),
                          ("this engine, elementary", engine_trainer("demo", "elementary")),
                          ("micrograd", micrograd_trainer("demo"))):
        log(f"  demo: {name}")
        measured.append(("micrograd demo (forward of one step)", name, measure_graph(trainer)))
    return measured


# -- 4. the report -------------------------------------------------------------------

def machine_info():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()} "
            f"({platform.python_implementation()}); numpy {np.__version__}; "
            f"micrograd {metadata.version('micrograd')}; gc thresholds {gc.get_threshold()} "
            f"(defaults, enabled: {gc.isenabled()})")


def cell(timing_or_text, stat):
    if isinstance(timing_or_text, str):
        return timing_or_text
    return format_seconds(getattr(timing_or_text, stat))


def count(nodes):
    return "—" if nodes is None else f"{nodes:,}"


def repeats(timing_or_text):
    return "—" if isinstance(timing_or_text, str) else f"{timing_or_text.repeats:,}"


def ratio(value):
    return "—" if value is None else f"{value:.2f}x"


def table(rows):
    lines = [
        "| workload | graph (this engine) | nodes: ours / micrograd | ours min | ours median "
        "| micrograd min | micrograd median | plain-float min | plain-float median "
        "| micrograd/ours (speed-up) | ours/plain-float | steps timed: ours / micrograd / plain |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.workload} | {row.graph} | {row.nodes:,} / {count(row.micrograd_nodes)} "
            f"| {cell(row.ours, 'min')} | {cell(row.ours, 'median')} "
            f"| {cell(row.micrograd, 'min')} | {cell(row.micrograd, 'median')} "
            f"| {cell(row.plain, 'min')} | {cell(row.plain, 'median')} "
            f"| {ratio(row.speedup)} | {ratio(row.plain_ratio)} "
            f"| {repeats(row.ours)} / {repeats(row.micrograd)} / {repeats(row.plain)} |")
    return "\n".join(lines)


def memory_table(measured):
    lines = ["| graph | implementation | nodes built | bytes allocated | bytes per node |",
             "|---|---|---|---|---|"]
    for graph, name, memory in measured:
        lines.append(f"| {graph} | {name} | {memory.nodes:,} | {memory.bytes:,} "
                     f"| {memory.bytes_per_node:.0f} |")
    return "\n".join(lines)


def verdict(passed):
    return "PASS" if passed else "**FAIL**"


def targets(rows, chain_rows, measured):
    """The issue's targets, one line each, with PASS/FAIL."""
    lines = []
    by_key = {(row.workload, row.graph): row for row in rows}
    for problem, goal in TARGETS.items():
        title = PROBLEM_TITLES[problem]
        ws = by_key[(title, BUILD_NAMES["weighted_sum"])]
        elementary = by_key[(title, BUILD_NAMES["elementary"])]
        lines.append(f"- {verdict(ws.speedup >= goal['speedup_weighted_sum'])} {title}, "
                     f"weighted-sum: ≥ {goal['speedup_weighted_sum']:g}x faster than "
                     f"micrograd — measured {ws.speedup:.2f}x")
        lines.append(f"- {verdict(ws.plain_ratio <= goal['plain_ratio'])} {title}, "
                     f"weighted-sum: ≤ {goal['plain_ratio']:g}x plain-float — "
                     f"measured {ws.plain_ratio:.2f}x")
        lines.append(f"- {verdict(elementary.speedup >= goal['speedup_elementary'])} {title}, "
                     f"elementary (micrograd's graph): ≥ {goal['speedup_elementary']:g}x faster "
                     f"than micrograd — measured {elementary.speedup:.2f}x")
    by_length = dict(zip(CHAIN_LENGTHS, chain_rows))
    growth = by_length[1_000_000].ours.median / by_length[100_000].ours.median
    lines.append(f"- {verdict(growth <= CHAIN_GROWTH_TARGET)} (3) the 1e6 chain works "
                 f"(gradients checked) and costs ≤ {CHAIN_GROWTH_TARGET:g}x the 1e5 chain — "
                 f"measured {growth:.2f}x")
    for graph, name, memory in measured:
        if name.startswith("this engine"):
            lines.append(f"- {verdict(memory.bytes_per_node <= BYTES_PER_NODE_TARGET)} (4) "
                         f"≤ {BYTES_PER_NODE_TARGET:g} bytes per node, {graph}, {name} — "
                         f"measured {memory.bytes_per_node:.0f}")
    return "\n".join(lines)


# -- profile -----------------------------------------------------------------------

def profile_workloads():
    """name -> (make this engine's trainer, steps to profile)"""
    workloads = {}
    for problem, steps in (("4441", 2000), ("demo", 20)):
        for build in ("weighted_sum", "elementary"):
            name = f"{problem}-{BUILD_NAMES[build]}"
            workloads[name] = (lambda p=problem, b=build: engine_trainer(p, b), steps)
    for n, steps in zip(CHAIN_LENGTHS, (50, 5, 1)):
        workloads[f"chain-{short(n)}"] = (lambda n=n: engine_chain(n), steps)
    return workloads


def profile(name):
    """cProfile this engine's step on one workload; print the top 15 functions by tottime."""
    make_trainer, steps = profile_workloads()[name]
    trainer = make_trainer()
    trainer.step()  # warm up
    collections = []
    collecting_since = []

    def on_gc(phase, info):
        # Time spent in the garbage collector: cProfile does not show it as a function.
        if phase == "start":
            collecting_since.append(time.perf_counter())
        elif collecting_since:
            collections.append(time.perf_counter() - collecting_since.pop())

    gc.collect()
    gc.callbacks.append(on_gc)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    try:
        profiler.enable()
        for _ in range(steps):
            trainer.step()
        profiler.disable()
    finally:
        gc.callbacks.remove(on_gc)
    elapsed = time.perf_counter() - start
    print(f"cProfile of {steps} steps of {name} on this engine "
          f"({format_seconds(elapsed / steps)} per step under the profiler)")
    print(f"garbage collector: {len(collections)} collections, "
          f"{format_seconds(sum(collections))} = {100 * sum(collections) / elapsed:.1f}% "
          f"of the time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)


# -- main --------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="This engine against micrograd 0.1.0 and plain-float backprop.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats: a fast look, not numbers to report")
    parser.add_argument("--profile", metavar="WORKLOAD", choices=sorted(profile_workloads()),
                        help="cProfile this engine's step on one workload: "
                             + ", ".join(profile_workloads()))
    args = parser.parse_args(argv)

    if args.profile:
        profile(args.profile)
        return 0

    started = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    log("checking gradients")
    try:
        agreement = check_gradients()
    except GradientMismatch as error:
        print(f"ABORTED before timing: the implementations compute different gradients.\n"
              f"{error}", file=sys.stderr)
        return 1
    gc.collect()

    budget = timing.QUICK if args.quick else timing.FULL
    chain_budget = timing.QUICK_CHAIN if args.quick else timing.FULL_CHAIN
    log("timing training steps")
    rows = time_problem("4441", budget, log) + time_problem("demo", budget, log)
    gc.collect()
    log("timing chains")
    chain_rows = time_chains(chain_budget, args.quick, log)
    gc.collect()
    breakdown = chain_breakdown(log)
    gc.collect()
    log("measuring memory")
    measured = measure_memory(log)
    gc.collect()
    log("engine.compile")
    compiled_report = compiled.report(args.quick, log)
    log("what compiling costs")
    compiled_report += "\n\n" + compile_cost.report(args.quick, log)
    gc.collect()
    log("engine.compile over a batch")
    batch_report = batch.report(args.quick, log)

    mode = "--quick: few repeats, for a look only" if args.quick else "full run"
    print(f"## make bench ({mode})\n")
    print(machine_info() + "\n")
    print(agreement + "\n")
    print("Per training step: forward + zero_grad + backward + SGD update (chains: build + "
          "backward). Min and median over repeats; ratios use the medians. Default garbage-"
          "collector settings; gc.collect() only between timed blocks.\n")
    print(table(rows + chain_rows) + "\n")
    print("One chain of each length, build and backward apart (one run each):\n")
    print(breakdown_table(breakdown) + "\n")
    print("Bytes per node (tracemalloc: bytes still allocated after building the graph / "
          "nodes the build created):\n")
    print(memory_table(measured) + "\n")
    print("Targets:\n")
    print(targets(rows, chain_rows, measured) + "\n")
    print(compiled_report + "\n")
    print(batch_report + "\n")
    print(f"(took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
