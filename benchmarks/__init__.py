"""Benchmarks: this engine against micrograd 0.1.0 and a hand-written plain-float backprop.

Run with ``make bench`` (``python -m benchmarks``); ``--quick`` for a fast look,
``--profile WORKLOAD`` for a cProfile of one workload's step on this engine.

    workloads.py    the networks, data, losses and training steps (same maths for everyone)
    plain_float.py  backprop by hand on floats and lists: the limit for a pure-Python engine
    memory.py       bytes per graph node, with tracemalloc
    timing.py       min and median per step, with a time budget
    __main__.py     checks that all gradients agree, times, prints the table and the targets

Speed is measured here only, never as timed assertions in tests.
"""
