"""Data to train on: Fisher's Iris, two moons, a stratified split, standardisation.

    from nn.datasets import load_iris, train_test_split, standardize
    X, y = load_iris()                                  # versicolor 0, virginica 1
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    X_train, X_test, mean, std = standardize(X_train, X_test)

Everything is numpy arrays: X has one row per sample, y one label per row.
"""

import csv
import io
import numbers
import sys
from importlib import resources
from typing import NamedTuple

import numpy as np

from engine.kinds import is_real, is_whole
from nn.checks import float_array

__all__ = ["IRIS_CLASSES", "IRIS_FEATURES", "load_iris", "make_moons",
           "train_test_split", "standardize", "Standardized"]

IRIS_CLASSES = ("setosa", "versicolor", "virginica")
IRIS_FEATURES = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")


def load_iris(classes=("versicolor", "virginica")):
    """Fisher's Iris (1936), the rows of the named species, in file order.

    Returns (X, y): X is an (n, 4) float array of the four measurements in cm
    (IRIS_FEATURES), y an int array holding each row's position in ``classes``:
    0/1 for two classes (the first named class is 0), 0/1/2 for three.
    ``classes=None`` means all three species. Versicolor vs virginica, the
    default, is the pair that no straight line separates.
    """
    if classes is None:
        classes = IRIS_CLASSES
    if isinstance(classes, str):
        classes = (classes,)
    classes = tuple(classes)
    unknown = [c for c in classes if c not in IRIS_CLASSES]
    if unknown:
        raise ValueError(f"load_iris: unknown class {unknown[0]!r}; "
                         f"the classes are {', '.join(IRIS_CLASSES)}")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise ValueError(f"load_iris: name two or three different classes, got {classes}")

    text = (resources.files("nn") / "data" / "iris.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    chosen = [row for row in rows if row["species"] in classes]
    X = np.array([[float(row[name]) for name in IRIS_FEATURES] for row in chosen])
    y = np.array([classes.index(row["species"]) for row in chosen], dtype=int)
    return X, y


def make_moons(n_samples=100, noise=0.1, random_state=None, *, n=None, seed=None):
    """Two interleaving half circles (micrograd's demo data), shuffled.

    Class 0 is the upper half circle of radius 1 centred at (0, 0); class 1
    the lower half circle centred at (1, 0.5). Each has n // 2 points (class 1
    takes the odd one), evenly spaced along the arc, then moved by Gaussian
    noise of standard deviation ``noise``. Returns (X, y): X is (n, 2), y is 0/1.

    The keywords are scikit-learn's (n_samples, noise, random_state, so
    ``make_moons(n_samples=100, noise=0.1, random_state=0)`` runs as it does
    there); the older n= and seed= are the same two.
    """
    n = _one_of("make_moons", "n_samples", n_samples, 100, "n", n)
    seed = _one_of("make_moons", "random_state", random_state, None, "seed", seed)
    if not is_whole(n) or n < 2:
        raise ValueError(f"make_moons: n must be an integer >= 2, got {n!r}")
    # (float_info.max, not inf: an int beyond a float compares below inf.)
    if not isinstance(noise, numbers.Real) or not 0 <= noise <= sys.float_info.max:
        raise ValueError(f"make_moons: noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    angle_upper = np.linspace(0.0, np.pi, n_upper)
    angle_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.column_stack([np.cos(angle_upper), np.sin(angle_upper)])
    lower = np.column_stack([1.0 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)])
    X = np.vstack([upper, lower])
    y = np.concatenate([np.zeros(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    X = X + rng.normal(scale=noise, size=X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def train_test_split(X, y, test_size=0.25, seed=None, stratify=True, *,
                     random_state=None):
    """Split (X, y) at random into a training and a test part.

    test_size -- the test fraction (0 < test_size < 1) or a number of samples
                 (an int: the test part then has exactly that many)
    seed      -- the random seed; random_state= is the same (scikit-learn's name)
    stratify  -- keep each class's share the same in both parts: every class
                 gives round(fraction · its count) samples to the test part,
                 at least 1 and at most all but 1; for a number of samples,
                 the shares are rounded so that they add up to it
                 (pass False for real-valued targets). As in scikit-learn, it
                 may also be the labels to stratify by (``stratify=y``).
    Returns X_train, X_test, y_train, y_test (scikit-learn's order), each
    part shuffled. The same seed gives the same split.
    """
    seed = _one_of("train_test_split", "seed", seed, None, "random_state", random_state)
    X, y = np.asarray(X), np.asarray(y)
    n = len(y)
    if len(X) != n:
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {n} labels")
    strata = y
    if stratify is not True and stratify is not False and stratify is not None:
        strata = np.asarray(stratify)  # scikit-learn's form: the labels themselves
        if strata.shape != (n,):
            raise ValueError(f"train_test_split: stratify must be True, False or one "
                             f"label per sample ({n}), got shape {strata.shape}")
        stratify = True
    if not is_real(test_size):
        raise TypeError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        if not 0 < test_size < n:
            raise ValueError(f"train_test_split: test_size={test_size} samples "
                             f"must be between 1 and {n - 1}")
        fraction = test_size / n
    else:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) "
                             f"or a count of samples, got {test_size!r}")
        fraction = float(test_size)
    rng = np.random.default_rng(seed)

    if stratify:
        classes = [np.flatnonzero(strata == label) for label in np.unique(strata)]
        for label, rows in zip(np.unique(strata), classes):
            if len(rows) < 2:
                raise ValueError(f"train_test_split: class {label!r} has {len(rows)} "
                                 f"sample; stratifying needs at least 2 per class "
                                 f"(pass stratify=False for real-valued targets)")
        n_tests = [min(max(int(round(fraction * len(rows))), 1), len(rows) - 1)
                   for rows in classes]
        if isinstance(test_size, numbers.Integral):
            n_tests = _shares_adding_up_to(int(test_size), fraction, classes, n_tests)
        test_rows = np.concatenate([rng.permutation(rows)[:n_test]
                                    for rows, n_test in zip(classes, n_tests)])
    else:
        n_test = min(max(int(round(fraction * n)), 1), n - 1)
        test_rows = rng.permutation(n)[:n_test]

    is_test = np.zeros(n, dtype=bool)
    is_test[test_rows] = True
    train = rng.permutation(np.flatnonzero(~is_test))
    test = rng.permutation(np.flatnonzero(is_test))
    return X[train], X[test], y[train], y[test]


def _one_of(function, name, value, default, other_name, other):
    """The value of a parameter that has two names (ours and scikit-learn's)."""
    if other is None:
        return value
    if value is not default and value is not None:
        raise TypeError(f"{function}: {name} and {other_name} are the same parameter; "
                        f"give one of them")
    return other


def _shares_adding_up_to(total, fraction, classes, n_tests):
    """n_tests changed by one sample at a time until they add up to total.

    Each step moves the class whose share is furthest from fraction · its
    count; every class keeps at least 1 test and 1 training sample.
    """
    if not len(classes) <= total <= sum(len(rows) for rows in classes) - len(classes):
        raise ValueError(f"train_test_split: test_size={total} samples cannot be "
                         f"stratified over {len(classes)} classes: each part needs "
                         f"at least one sample of every class")
    n_tests = list(n_tests)
    while sum(n_tests) != total:
        grow = sum(n_tests) < total
        # how far each class is below (growing) or above (shrinking) its exact share
        gaps = [(fraction * len(rows) - n) * (1 if grow else -1)
                for rows, n in zip(classes, n_tests)]
        movable = [i for i, (rows, n) in enumerate(zip(classes, n_tests))
                   if (n < len(rows) - 1 if grow else n > 1)]
        i = max(movable, key=lambda i: gaps[i])
        n_tests[i] += 1 if grow else -1
    return n_tests


class Standardized(NamedTuple):
    """What ``standardize`` returns; unpacks as train, test, mean, std."""
    train: np.ndarray
    test: object        # np.ndarray, or None when no test set was given
    mean: np.ndarray
    std: np.ndarray


def standardize(X_train, X_test=None):
    """Shift and scale each column to mean 0, standard deviation 1 on the training set.

    x' = (x − mean) / std, with mean and std measured on X_train only and
    applied unchanged to X_test (the test set must not leak into training).
    A constant column keeps std = 1, so it becomes 0 instead of NaN.
    Returns Standardized(train, test, mean, std); test is None without X_test.
    """
    X_train = float_array(X_train, "standardize: X_train")
    if X_train.ndim != 2 or len(X_train) == 0:
        raise ValueError(f"standardize: X_train must be a non-empty 2-D array "
                         f"(samples × features), got shape {X_train.shape}")
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0.0, std, 1.0)
    train = (X_train - mean) / std
    test = None
    if X_test is not None:
        X_test = float_array(X_test, "standardize: X_test")
        if X_test.ndim != 2 or X_test.shape[1] != X_train.shape[1]:
            raise ValueError(f"standardize: X_test has shape {X_test.shape}, but "
                             f"X_train has {X_train.shape[1]} columns")
        test = (X_test - mean) / std
    return Standardized(train, test, mean, std)
