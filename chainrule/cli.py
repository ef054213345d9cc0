"""The ``chainrule`` command. (Placeholder until nn lands: an engine example.)"""

import argparse
import sys

from engine import Value, gradcheck


def engine_example():
    x = Value(2.0, label="x")
    w = Value(-0.5, label="w")
    b = Value(0.1, label="b")
    z = w * x + b
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    a.backward()
    print("a = tanh(w·x + b) at x = 2, w = -0.5, b = 0.1:", a.data)
    for v in (x, w, b, z):
        print(f"  d a / d {v.label} = {v.grad:+.12f}")
    print(gradcheck(lambda x, w, b: (w * x + b).tanh(), [x, w, b]))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule")
    parser.add_argument("command", choices=["demo"])
    parser.parse_args(argv)
    engine_example()
    return 0


if __name__ == "__main__":
    sys.exit(main())
