"""What counts as a number here: one test each, used wherever input is checked.

A bool is an int to Python (True + True == 2), but a flag passed where a
number belongs is a mistake, so neither test accepts one.
"""

import numbers

__all__ = ["is_real", "is_whole"]


def is_real(x):
    """True for a real number (int, float, a numpy scalar), not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_whole(x):
    """True for a whole number (int, a numpy integer), not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)
