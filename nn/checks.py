"""Checking numbers that come from users, with messages that say where.

    float_array([[1, 2], [3, nan]], "X")      the array, as floats
    where_not_finite(X, "X")                  'X[1, 1] = nan', or '' when all finite

``np.asarray(x, dtype=float)`` raises a bare OverflowError for an int beyond
a float's range; ``float_array`` makes it a ValueError that names the array.
"""

import numpy as np

__all__ = ["float_array", "where_not_finite"]


def float_array(x, what):
    """x as a numpy array of floats, or a ValueError naming ``what``."""
    try:
        return np.asarray(x, dtype=float)
    except OverflowError:
        raise ValueError(f"{what} holds an integer too large for a float") from None


def where_not_finite(array, what):
    """'X[3, 1] = nan' for the first entry of array that is nan or ±inf; '' if none."""
    bad = np.argwhere(~np.isfinite(array))
    if len(bad) == 0:
        return ""
    index = tuple(int(i) for i in bad[0])
    place = f"[{', '.join(str(i) for i in index)}]" if index else ""  # none for a 0-d array
    return f"{what}{place} = {float(array[index])!r}"
