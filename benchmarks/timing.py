"""Timing one training step: min and median over repeats, within a time budget.

Each step is timed on its own with time.perf_counter. The implementations of a
workload are timed in turns (a block of each, then again, ``rounds`` times), so
that a busy spell of the machine falls on all of them rather than on one.

The garbage collector keeps the interpreter's default settings throughout: a
collection that a step triggers is part of what that step costs a user.
gc.collect() runs only before a timed block, never inside one, so no block
pays for the garbage of another.
"""

import gc
import math
import statistics
import time
from typing import NamedTuple


class Budget(NamedTuple):
    """How long to time each implementation of one workload."""
    seconds: float      # keep repeating until this much time has passed …
    min_repeats: int    # … but time at least this many steps …
    max_repeats: int    # … and at most this many
    warmup: int         # untimed steps before each block (first allocations, caches)
    rounds: int         # blocks per implementation, taken in turns


FULL = Budget(seconds=4.0, min_repeats=6, max_repeats=100_000, warmup=1, rounds=3)
QUICK = Budget(seconds=0.5, min_repeats=2, max_repeats=20_000, warmup=1, rounds=1)
# A chain step allocates everything afresh and takes up to seconds: no warm-up needed
# (the gradient check has run every chain once already), fewer repeats suffice.
FULL_CHAIN = Budget(seconds=4.0, min_repeats=3, max_repeats=100_000, warmup=0, rounds=3)
QUICK_CHAIN = Budget(seconds=0.5, min_repeats=1, max_repeats=20_000, warmup=0, rounds=1)


class Timing(NamedTuple):
    min: float          # seconds per step
    median: float       # seconds per step
    repeats: int


def _time_block(step, seconds, min_repeats, max_repeats, warmup):
    gc.collect()
    for _ in range(warmup):
        step()
    durations = []
    clock = time.perf_counter
    deadline = clock() + seconds
    while len(durations) < max_repeats and (
            len(durations) < min_repeats or clock() < deadline):
        start = clock()
        step()
        durations.append(clock() - start)
    return durations


def time_steps(steps, budget):
    """{name: Timing} for a dict {name: step function}, timed in turns."""
    durations = {name: [] for name in steps}
    for _ in range(budget.rounds):
        for name, step in steps.items():
            durations[name] += _time_block(
                step, budget.seconds / budget.rounds,
                math.ceil(budget.min_repeats / budget.rounds),
                math.ceil(budget.max_repeats / budget.rounds), budget.warmup)
    return {name: Timing(min(d), statistics.median(d), len(d)) for name, d in durations.items()}


def format_seconds(seconds):
    """'24.1 µs', '6.20 ms', '1.25 s': three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            value = seconds / scale
            decimals = 0 if value >= 100 else 1 if value >= 10 else 2
            return f"{value:.{decimals}f} {unit}"
