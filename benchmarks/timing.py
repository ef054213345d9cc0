"""Timing one training step: min and median over repeats, within a time budget.

Each step is timed on its own with time.perf_counter. The garbage collector
keeps the interpreter's default settings throughout: a collection that a step
triggers is part of what that step costs a user. gc.collect() runs only before
a timed block, never inside one.
"""

import gc
import statistics
import time
from typing import NamedTuple


class Budget(NamedTuple):
    """How long to time one implementation on one workload."""
    seconds: float      # keep repeating until this much time has passed …
    min_repeats: int    # … but time at least this many steps …
    max_repeats: int    # … and at most this many
    warmup: int         # untimed steps first (caches, first allocations)


FULL = Budget(seconds=4.0, min_repeats=5, max_repeats=100_000, warmup=3)
QUICK = Budget(seconds=0.5, min_repeats=3, max_repeats=20_000, warmup=1)
# A chain of 1e6 operations takes seconds per step: fewer repeats suffice.
FULL_CHAIN = Budget(seconds=4.0, min_repeats=3, max_repeats=100_000, warmup=1)
QUICK_CHAIN = Budget(seconds=0.5, min_repeats=1, max_repeats=20_000, warmup=0)


class Timing(NamedTuple):
    min: float          # seconds per step
    median: float       # seconds per step
    repeats: int


def time_steps(step, budget):
    """Call step() repeatedly; the min and median of its durations, in seconds."""
    gc.collect()  # start every block from the same state: no garbage left by the last one
    for _ in range(budget.warmup):
        step()
    durations = []
    clock = time.perf_counter
    deadline = clock() + budget.seconds
    while len(durations) < budget.max_repeats and (
            len(durations) < budget.min_repeats or clock() < deadline):
        start = clock()
        step()
        durations.append(clock() - start)
    return Timing(min(durations), statistics.median(durations), len(durations))


def format_seconds(seconds):
    """'24.1 µs', '6.20 ms', '1.25 s': three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            value = seconds / scale
            decimals = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{decimals}f} {unit}"
