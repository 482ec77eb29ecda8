"""Tests for flymodel.data.protocols: the papers' query/database splits, validation splits and metrics."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.data import PROTOCOLS, Protocol, Split, get_protocol, load_mnist, stratified_split

MNIST_LABELS = np.repeat(np.arange(10), 7000)
CIFAR_LABELS = np.repeat(np.arange(10), 6000)


def shuffled(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(labels)


def check_partition(split: Split, labels: np.ndarray, per_class: int, universe: np.ndarray | None = None) -> None:
    universe = np.arange(len(labels)) if universe is None else universe
    q, db = split.queries, split.database
    assert np.issubdtype(q.dtype, np.integer) and np.issubdtype(db.dtype, np.integer)
    assert (np.diff(q) > 0).all() and (np.diff(db) > 0).all()  # sorted, no repeats
    assert np.intersect1d(q, db).size == 0
    np.testing.assert_array_equal(np.union1d(q, db), np.sort(universe))
    classes, counts = np.unique(labels[q], return_counts=True)
    np.testing.assert_array_equal(classes, np.unique(labels[universe]))
    assert (counts == per_class).all()


@pytest.mark.parametrize("labels", [MNIST_LABELS, shuffled(MNIST_LABELS)], ids=["sorted", "shuffled"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_split(name, labels):
    split = get_protocol(name).split(labels, seed=0)
    assert isinstance(split, Split) and split.seed == 0
    assert len(split.queries) == 1000
    assert len(split.database) == 69000
    check_partition(split, labels, per_class=100)


def test_cifar10_split():
    labels = shuffled(CIFAR_LABELS, 3)
    split = get_protocol("cifar10").split(labels, seed=1)
    assert len(split.queries) == 10000
    assert len(split.database) == 50000
    check_partition(split, labels, per_class=1000)


def test_same_seed_same_split():
    p = get_protocol("mnist")
    a, b = p.split(MNIST_LABELS, 5), p.split(MNIST_LABELS, 5)
    np.testing.assert_array_equal(a.queries, b.queries)
    np.testing.assert_array_equal(a.database, b.database)


def test_different_seed_different_split():
    p = get_protocol("mnist")
    a, b = p.split(MNIST_LABELS, 0), p.split(MNIST_LABELS, 1)
    assert not np.array_equal(a.queries, b.queries)
    # and not nearly the same: two random 100-of-7000 draws share about 1.4 items per class
    assert np.intersect1d(a.queries, b.queries).size < 100


def test_split_accepts_numpy_integer_seed():
    split = get_protocol("mnist").split(MNIST_LABELS, np.int64(2))
    assert split.seed == 2 and type(split.seed) is int


@pytest.mark.parametrize("name,labels,per_class", [("mnist", MNIST_LABELS, 100), ("cifar10", CIFAR_LABELS, 1000)])
def test_validation_split(name, labels, per_class):
    labels = shuffled(labels, 7)
    p = get_protocol(name)
    split = p.split(labels, seed=4)
    val = p.validation_split(labels, split)
    assert val.seed == 4
    assert len(val.queries) == 1000
    assert len(val.database) == len(split.database) - 1000
    # queries and database of the validation split are drawn from the split's database only
    assert np.isin(val.queries, split.database).all()
    assert np.isin(val.database, split.database).all()
    assert not np.isin(val.queries, split.queries).any()
    assert not np.isin(val.database, split.queries).any()
    check_partition(val, labels, per_class=100, universe=split.database)


def test_validation_split_per_class_and_determinism():
    p = get_protocol("mnist")
    split = p.split(MNIST_LABELS, seed=0)
    a = p.validation_split(MNIST_LABELS, split, per_class=30)
    b = p.validation_split(MNIST_LABELS, split, per_class=30)
    np.testing.assert_array_equal(a.queries, b.queries)
    check_partition(a, MNIST_LABELS, per_class=30, universe=split.database)


def test_metrics_and_to_dict():
    assert get_protocol("mnist").metric == "mAP@All"
    assert get_protocol("fashion_mnist").metric == "mAP@All"
    assert get_protocol("cifar10").metric == "mAP@1000"
    assert get_protocol("mnist").R is None and get_protocol("cifar10").R == 1000
    d = get_protocol("cifar10").to_dict()
    assert d["name"] == "cifar10" and d["dataset"] == "cifar10"
    assert d["queries_per_class"] == 1000 and d["R"] == 1000 and d["metric"] == "mAP@1000"
    assert set(PROTOCOLS) == {"mnist", "fashion_mnist", "cifar10"}
    assert all(isinstance(p, Protocol) for p in PROTOCOLS.values())


def test_unknown_protocol():
    with pytest.raises(ValueError, match=r"dataset='svhn' is not known; expected one of: cifar10, fashion_mnist, mnist"):
        get_protocol("svhn")


@pytest.mark.parametrize("seed", [-1, -100])
def test_negative_seed(seed):
    with pytest.raises(ValueError, match=rf"seed={seed} is too small"):
        get_protocol("mnist").split(MNIST_LABELS, seed)


@pytest.mark.parametrize("seed", [1.5, "0", None])
def test_non_integer_seed(seed):
    with pytest.raises(TypeError, match="seed must be an integer"):
        get_protocol("mnist").split(MNIST_LABELS, seed)


@pytest.mark.parametrize("size", [50, 100])
def test_class_with_too_few_items(size):
    labels = np.concatenate([np.repeat([0, 1, 2], 500), np.full(size, 3)])
    with pytest.raises(ValueError, match=rf"class 3 has {size} items; need more than per_class=100"):
        get_protocol("mnist").split(labels, 0)


def test_stratified_split_small():
    labels = np.array([0, 1, 0, 1, 2, 2, 0, 2, 1])
    split = stratified_split(labels, 2, seed=3)
    check_partition(split, labels, per_class=2)
    assert len(split.database) == 3


def test_real_mnist_split_sizes():
    labels = load_mnist().labels
    p = get_protocol("mnist")
    split = p.split(labels, 0)
    assert len(split.queries) == 1000
    assert len(split.database) == 69000
    check_partition(split, labels, per_class=100)
    val = p.validation_split(labels, split)
    assert len(val.queries) == 1000 and len(val.database) == 68000


@pytest.mark.parametrize("per_class, error, match", [
    (0, ValueError, "per_class=0 is too small; expected per_class >= 1"),
    (-1, ValueError, "per_class=-1 is too small; expected per_class >= 1"),
    (2.5, TypeError, "per_class must be an integer; got 2.5"),
])
def test_a_bad_number_of_queries_per_class_is_named(per_class, error, match):
    with pytest.raises(error, match=match):
        stratified_split(np.repeat(np.arange(3), 5), per_class, seed=0)
