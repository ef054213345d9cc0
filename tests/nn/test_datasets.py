"""Iris, two moons, the stratified split and standardisation."""

import numpy as np
import pytest

from nn.datasets import load_iris, make_moons, standardize, train_test_split


def test_default_iris_is_versicolor_zero_and_virginica_one_fifty_each():
    X, y = load_iris()
    assert X.shape == (100, 4) and X.dtype == float
    assert np.bincount(y).tolist() == [50, 50]
    # the first versicolor row of Fisher's table, then the first virginica row
    assert X[0].tolist() == [7.0, 3.2, 4.7, 1.4] and y[0] == 0
    assert X[y == 1][0].tolist() == [6.3, 3.3, 6.0, 2.5]


def test_first_named_class_gets_label_zero():
    X, y = load_iris(classes=("virginica", "versicolor"))
    assert X[y == 0][0].tolist() == [6.3, 3.3, 6.0, 2.5]


def test_three_classes_get_their_index():
    X, y = load_iris(classes=None)
    assert X.shape == (150, 4)
    assert np.bincount(y).tolist() == [50, 50, 50]
    # setosa's petals are the shortest: every setosa petal < every other petal
    assert X[y == 0, 2].max() < X[y != 0, 2].min()


def test_an_unknown_class_is_refused_listing_the_valid_ones():
    with pytest.raises(ValueError, match="unknown class 'rose'.*setosa, versicolor, virginica"):
        load_iris(classes=("rose", "virginica"))


def test_moons_have_the_requested_size_and_balanced_labels():
    X, y = make_moons(101, noise=0.1, seed=0)
    assert X.shape == (101, 2)
    assert np.bincount(y).tolist() == [50, 51]


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(40, noise=0.0, seed=1)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_moons_are_reproducible_from_the_seed_and_noisy():
    X1, y1 = make_moons(50, noise=0.2, seed=7)
    X2, y2 = make_moons(50, noise=0.2, seed=7)
    X3, _ = make_moons(50, noise=0.2, seed=8)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    upper = X1[y1 == 0]
    assert np.abs(np.hypot(*upper.T) - 1.0).max() > 0.05


def test_stratified_split_keeps_class_proportions():
    X, y = load_iris(classes=None)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=3)
    assert len(X_train) == len(y_train) == 120 and len(X_test) == len(y_test) == 30
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    assert np.bincount(y_train).tolist() == [40, 40, 40]


def test_stratified_split_keeps_an_unbalanced_ratio():
    y = np.array([0] * 80 + [1] * 20)
    X = np.arange(100.0)[:, None]
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    assert np.bincount(y_test).tolist() == [40, 10]


def test_split_partitions_the_rows_and_keeps_them_paired():
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=0)
    rows = sorted(map(tuple, np.vstack([X_train, X_test]).tolist()))
    assert rows == sorted(map(tuple, X.tolist()))
    # every row keeps its own label
    label_of = {tuple(x): label for x, label in zip(X.tolist(), y)}
    for x, label in zip(X_test.tolist(), y_test):
        assert label_of[tuple(x)] == label


def test_split_is_reproducible_and_depends_on_the_seed():
    X, y = load_iris()
    first = train_test_split(X, y, seed=4)
    again = train_test_split(X, y, seed=4)
    other = train_test_split(X, y, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_unstratified_split_takes_the_requested_count():
    X, y = np.arange(10.0)[:, None], np.linspace(0, 1, 10)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=3, seed=0, stratify=False)
    assert len(X_test) == 3 and len(X_train) == 7


def test_stratifying_real_targets_says_to_turn_it_off():
    with pytest.raises(ValueError, match="stratify=False"):
        train_test_split(np.zeros((5, 1)), np.linspace(0, 1, 5))


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.5, 0, 100])
def test_a_test_size_out_of_range_is_refused(test_size):
    X, y = load_iris()
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=test_size)


def test_standardize_gives_train_columns_mean_zero_std_one():
    X, y = load_iris()
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.5, seed=0)
    train, test, mean, std = standardize(X_train, X_test)
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mean, X_train.mean(axis=0), rtol=1e-15)
    # the test set is moved with the training set's mean and std, not its own
    np.testing.assert_allclose(test, (X_test - mean) / std, rtol=1e-15)
    assert not np.allclose(test.mean(axis=0), 0.0, atol=1e-3)


def test_standardize_leaves_a_constant_column_at_zero_not_nan():
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    result = standardize(X)
    assert result.test is None
    assert result.train[:, 1].tolist() == [0.0, 0.0]
    assert result.train[:, 0].tolist() == [-1.0, 1.0]


# -- scikit-learn's keyword names ----------------------------------------------------

def test_make_moons_takes_scikit_learns_keywords_and_the_positional_form():
    by_sklearn_names = make_moons(n_samples=60, noise=0.2, random_state=3)
    positional = make_moons(60, 0.2, 3)
    by_our_names = make_moons(n=60, noise=0.2, seed=3)
    for a, b, c in zip(by_sklearn_names, positional, by_our_names):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert by_sklearn_names[0].shape == (60, 2)


def test_make_moons_refuses_both_names_of_one_parameter():
    with pytest.raises(TypeError, match="random_state and seed"):
        make_moons(random_state=1, seed=2)


def test_train_test_split_takes_random_state_and_stratify_labels():
    X, y = load_iris()
    ours = train_test_split(X, y, test_size=0.5, seed=4)
    theirs = train_test_split(X, y, test_size=0.5, random_state=4, stratify=y)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a, b)
