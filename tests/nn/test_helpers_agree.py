"""Helpers accept and refuse what their siblings do.

binary_cross_entropy takes 0/1 targets everywhere (fit, the loss, the matrix
form); a test_size that is a number of samples gives exactly that many test
samples, stratified or not.
"""

import numpy as np
import pytest

import nn
from engine import Value
from nn.datasets import load_iris, train_test_split


@pytest.mark.parametrize("target", [2.0, -1.0, 0.5])
def test_every_binary_cross_entropy_refuses_a_label_outside_0_and_1(target):
    with pytest.raises(ValueError, match="0/1 labels"):
        nn.fit(nn.MLP(1, [1], seed=0), [0.0, 1.0], [0.0, target],
               loss="binary_cross_entropy", progress=False)
    with pytest.raises(ValueError, match="binary_cross_entropy: targets must be 0 or 1"):
        nn.binary_cross_entropy(Value(0.3), target)
    with pytest.raises(ValueError, match="binary_cross_entropy: targets must be 0 or 1"):
        nn.binary_cross_entropy([Value(0.3), Value(0.1)], [1.0, target])
    with pytest.raises(ValueError, match="binary_cross_entropy: targets must be 0 or 1"):
        nn.matrix_backprop([[[1.0]]], [[0.0]], [1.0], target, cost="binary_cross_entropy")


def test_binary_cross_entropy_still_takes_0_and_1_labels_of_any_number_type():
    costs = [nn.binary_cross_entropy(Value(0.3), y).data for y in (0, 1, 0.0, np.int64(1))]
    assert costs[0] == costs[2] and costs[1] == costs[3] and costs[0] != costs[1]


@pytest.mark.parametrize("test_size", [2, 3, 7, 33, 97, 98])
def test_a_stratified_split_by_count_has_exactly_that_many_test_samples(test_size):
    X, y = load_iris()  # 50 versicolor, 50 virginica
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=0)
    assert len(X_test) == len(y_test) == test_size
    assert len(X_train) == 100 - test_size
    assert abs(np.sum(y_test == 0) - np.sum(y_test == 1)) <= 1  # the classes' shares
    assert set(y_train) == set(y_test) == {0, 1}


def test_a_split_by_count_gives_that_many_even_when_the_shares_round_down():
    # Three classes of 10: 4 test samples are 1.33 per class, which rounds to 1.
    X, y = np.arange(30.0)[:, None], np.repeat([0, 1, 2], 10)
    for stratify in (True, False):
        _, X_test, _, y_test = train_test_split(X, y, test_size=4, seed=1, stratify=stratify)
        assert len(X_test) == 4
    assert sorted(np.bincount(train_test_split(X, y, test_size=4, seed=1)[3])) == [1, 1, 2]


def test_a_split_by_count_too_small_to_stratify_is_refused():
    X, y = load_iris()
    with pytest.raises(ValueError, match="test_size=1 samples cannot be stratified over 2"):
        train_test_split(X, y, test_size=1)
    assert len(train_test_split(X, y, test_size=1, stratify=False)[1]) == 1


def test_a_split_by_fraction_is_unchanged():
    # The article's split: half of each class, the same rows for the same seed.
    X, y = load_iris()
    _, _, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    assert np.bincount(y_test).tolist() == [25, 25]
    by_count = train_test_split(X, y, test_size=50, seed=0)
    by_fraction = train_test_split(X, y, test_size=0.5, seed=0)
    for a, b in zip(by_count, by_fraction):
        assert np.array_equal(a, b)
