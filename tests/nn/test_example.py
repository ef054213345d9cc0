"""The worked example: the same network, flower and cost wherever it is used."""

import math

from nn.datasets import load_iris, standardize, train_test_split
from nn.example import CLASSES, WorkedExample


def test_the_sample_is_the_first_standardised_training_flower():
    example = WorkedExample(seed=0)
    X, y = load_iris(CLASSES)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.5, seed=0)
    standardised, *_ = standardize(X_train, X_test)
    assert example.x == list(standardised[0])
    assert example.raw_x == list(X_train[0])
    assert example.y == y_train[0] and example.flower == CLASSES[example.y]


def test_the_cost_is_binary_cross_entropy_on_the_output():
    example = WorkedExample(seed=3)
    C = example.cost()
    s = example.net.a(4, 1).data
    by_hand = math.log1p(math.exp(s)) - example.y * s
    assert math.isclose(C.data, by_hand, rel_tol=1e-15)
    assert C.label == "C" and C.op == "binary_cross_entropy"


def test_two_examples_of_one_seed_are_the_same_numbers():
    a, b = WorkedExample(seed=1), WorkedExample(seed=1)
    assert a.cost().data == b.cost().data
    assert a.describe() == b.describe()
    assert "y = " in a.describe() and "cross-entropy" in a.describe()
