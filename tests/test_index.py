"""Hamming distances and search, dense and sparse paths, against a direct XOR count."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.index import hamming_distances, iter_hamming_distances, search


def xor_count(q: np.ndarray, db: np.ndarray) -> np.ndarray:
    return (q[:, None, :] ^ db[None, :, :]).sum(axis=2)


def sparse_codes(rng, n, m, k):
    codes = np.zeros((n, m), dtype=bool)
    codes[np.arange(n)[:, None], np.argsort(rng.random((n, m)), axis=1)[:, :k]] = True
    return codes


@pytest.mark.parametrize("kind", ["dense", "sparse", "sparse-uneven", "sparse-skewed"])
def test_hamming_equals_xor_count(kind):
    rng = np.random.default_rng(0)
    if kind == "dense":
        q, db = rng.random((20, 33)) < 0.5, rng.random((70, 33)) < 0.5
    elif kind == "sparse":
        q, db = sparse_codes(rng, 20, 500, 4), sparse_codes(rng, 70, 500, 4)
    elif kind == "sparse-uneven":  # sparse but rows with different numbers of active units
        q, db = rng.random((20, 500)) < 0.01, rng.random((70, 500)) < 0.01
    else:  # a few busy units (taken by the dense-column path) among rare ones (taken by the postings)
        rate = np.where(np.arange(500) < 5, 0.5, 0.005)
        q, db = rng.random((20, 500)) < rate, rng.random((70, 500)) < rate
    np.testing.assert_array_equal(hamming_distances(q, db), xor_count(q, db))


def test_chunks_cover_all_queries_in_order():
    rng = np.random.default_rng(1)
    q, db = rng.random((23, 8)) < 0.5, rng.random((9, 8)) < 0.5
    rows = [r for r, _ in iter_hamming_distances(q, db, chunk_size=5)]
    assert [(r.start, r.stop) for r in rows] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]


def test_search_returns_nearest_with_stable_ties():
    db = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    D, I = search(np.array([[1, 0, 0, 0]], dtype=bool), db, n_neighbors=3)
    np.testing.assert_array_equal(I, [[0, 2, 1]])
    np.testing.assert_array_equal(D, [[0, 0, 2]])


def test_sparse_and_overlap_ranking_agree():
    """For k-sparse codes the Hamming distance is 2·(k − overlap): ranking by either is the same."""
    rng = np.random.default_rng(2)
    q, db = sparse_codes(rng, 5, 300, 6), sparse_codes(rng, 40, 300, 6)
    overlap = q.astype(int) @ db.T.astype(int)
    np.testing.assert_array_equal(hamming_distances(q, db), 2 * (6 - overlap))


def test_errors_name_the_problem():
    q = np.zeros((2, 4), dtype=bool)
    with pytest.raises(ValueError, match="query_codes have 4 bits but database_codes have 5"):
        hamming_distances(q, np.zeros((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="n_neighbors=4 is too large"):
        search(q, np.zeros((3, 4), dtype=bool), n_neighbors=4)
    with pytest.raises(ValueError, match="chunk_size=0"):
        next(iter_hamming_distances(q, q, chunk_size=0))
