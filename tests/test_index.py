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


def test_codes_of_different_sizes_rank_by_size_minus_twice_the_overlap():
    """Variable-density codes (the APL readout): for a query a, the rank of b is set by |b| − 2⟨a, b⟩, so a small code
    with a smaller overlap can beat a large one, and a silent code sits at |a|."""
    query = np.zeros((1, 12), dtype=bool)
    query[0, :3] = True
    db = np.zeros((4, 12), dtype=bool)
    db[0, :7] = True  # overlap 3, 7 active: 3 + 7 − 6 = 4
    db[1, :2] = True  # overlap 2, 2 active: 3 + 2 − 4 = 1
    db[3, [0, 8, 9, 10]] = True  # overlap 1, 4 active: 3 + 4 − 2 = 5; db[2] is silent: 3
    D, I = search(query, db, n_neighbors=4)
    np.testing.assert_array_equal(I, [[1, 2, 0, 3]])
    np.testing.assert_array_equal(D, [[1, 3, 4, 5]])
    silent = np.zeros((1, 12), dtype=bool)  # a query that evokes no response ranks the database by code size
    np.testing.assert_array_equal(search(silent, db, n_neighbors=4)[1], [[2, 1, 3, 0]])


def test_errors_name_the_problem():
    q = np.zeros((2, 4), dtype=bool)
    with pytest.raises(ValueError, match="query_codes have 4 bits but database_codes have 5"):
        hamming_distances(q, np.zeros((3, 5), dtype=bool))
    with pytest.raises(ValueError, match="n_neighbors=4 is too large"):
        search(q, np.zeros((3, 4), dtype=bool), n_neighbors=4)
    with pytest.raises(ValueError, match="chunk_size=0"):
        next(iter_hamming_distances(q, q, chunk_size=0))
