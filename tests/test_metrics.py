"""mAP@R and precision@R against brute-force references: explicit enumeration of every order of tied items."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exact_reference import hamming, seeded_order
from flymodel.index import hamming_distances
from flymodel.metrics import (average_precision, expected_average_precision, expected_precision, mean_average_precision,
                              retrieval_scores)


def ap_of_ranking(relevant_in_order: np.ndarray, R: int) -> float:
    """Eq. 12 for one query, written as the definition: mean of Precision(l) over relevant l <= R."""
    hits, total = 0, 0.0
    for position, rel in enumerate(relevant_in_order[:R], start=1):
        if rel:
            hits += 1
            total += hits / position
    return total / hits if hits else 0.0


def tie_orders(distances: np.ndarray):
    """Every ranking consistent with the distances: all permutations within each tie group."""
    groups = [np.flatnonzero(distances == d) for d in np.unique(distances)]
    for perms in itertools.product(*(itertools.permutations(g) for g in groups)):
        yield np.concatenate(perms)


def enumerate_expected(distances: np.ndarray, relevant: np.ndarray, R: int) -> tuple[float, float]:
    """Exact expected AP@R and precision@R over all tie orders, by enumeration."""
    aps, precs = [], []
    for order in tie_orders(distances):
        aps.append(ap_of_ranking(relevant[order], R))
        precs.append(relevant[order][:R].sum() / R)
    return float(np.mean(aps)), float(np.mean(precs))


# Small cases with heavy ties: up to 7 items on at most 3 distinct distances (at most 5040 orders).
case = st.integers(min_value=1, max_value=7).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.integers(1, n),
    )
)


@settings(max_examples=300, deadline=None)
@given(case)
def test_expected_ap_equals_enumeration_of_tie_orders(c):
    dist, rel, R = np.array(c[0]), np.array(c[1]), c[2]
    expected_ap, expected_prec = enumerate_expected(dist, rel, R)
    assert average_precision(dist[None], rel[None], R=R)[0] == pytest.approx(expected_ap, abs=1e-12)
    full_ap, _ = enumerate_expected(dist, rel, len(dist))
    assert average_precision(dist[None], rel[None])[0] == pytest.approx(full_ap, abs=1e-12)


@settings(max_examples=250, deadline=None)
@given(case, st.integers(0, 2**31 - 1))
def test_random_tiebreak_is_one_tie_order_scored_exactly(c, seed):
    """The seeded random policy scores one valid tie order, exactly as eq. 12 defines it."""
    dist, rel, R = np.array(c[0]), np.array(c[1]), c[2]
    got = average_precision(dist[None], rel[None], R=R, ties="random", seed=seed)[0]
    candidates = {round(ap_of_ranking(rel[o], R), 12) for o in tie_orders(dist)}
    assert round(got, 12) in candidates


@settings(max_examples=200, deadline=None)
@given(case)
def test_expected_precision_equals_enumeration(c):
    dist, rel, R = np.array(c[0]), np.array(c[1]), c[2]
    _, expected_prec = enumerate_expected(dist, rel, R)
    codes_q, codes_db, yq, ydb = _codes_for(dist, rel)
    got = retrieval_scores(codes_q, codes_db, yq, ydb, R=R)["precision"][0]
    assert got == pytest.approx(expected_prec, abs=1e-12)


def _codes_for(dist: np.ndarray, rel: np.ndarray):
    """Dense codes realising given Hamming distances to an all-zero query, with labels realising relevance."""
    width = int(dist.max()) + 1
    codes_db = np.arange(width)[None, :] < dist[:, None]  # row i has dist[i] ones
    codes_q = np.zeros((1, width), dtype=bool)
    return codes_q, codes_db, np.array([1]), np.where(rel, 1, 0)


def test_random_tiebreak_averages_to_the_expected_value():
    rng = np.random.default_rng(0)
    dist = rng.integers(0, 3, size=(1, 40))
    rel = rng.random((1, 40)) < 0.3
    expected = average_precision(dist, rel, R=15)[0]
    draws = [average_precision(dist, rel, R=15, ties="random", seed=s)[0] for s in range(3000)]
    assert np.mean(draws) == pytest.approx(expected, abs=4 * np.std(draws) / math.sqrt(len(draws)))


def _tied_codes(seed: int = 6):
    """30 queries and 400 database items as 4-bit codes of 3 classes: 5 distances for 400 items, so ties everywhere."""
    rng = np.random.default_rng(seed)
    return (rng.random((30, 4)) < 0.5, rng.random((400, 4)) < 0.5, rng.integers(0, 3, 30), rng.integers(0, 3, 400))


def test_random_ties_on_codes_average_to_the_expected_score():
    """On heavily tied codes, mAP with ties="random" over 400 seeds averages to the expected-ties mAP within 4
    standard errors of that average; single seeds do differ from it (the tie orders matter)."""
    codes = _tied_codes()
    expected = mean_average_precision(*codes)
    draws = np.array([mean_average_precision(*codes, ties="random", seed=s) for s in range(400)])
    standard_error = draws.std(ddof=1) / math.sqrt(len(draws))
    assert abs(draws.mean() - expected) < 4 * standard_error
    assert np.abs(draws - expected).max() > 10 * standard_error  # not the expected value in disguise
    for R in (17, 200):
        expected = mean_average_precision(*codes, R=R)
        draws = np.array([mean_average_precision(*codes, R=R, ties="random", seed=s) for s in range(400)])
        assert abs(draws.mean() - expected) < 4 * draws.std(ddof=1) / math.sqrt(len(draws)), R


@pytest.mark.parametrize("R", [None, 17, 200])
def test_random_ties_score_the_explicitly_sorted_seeded_order(R):
    """ties="random" with seed s scores, for query i, exactly the ranking sorted by (distance, a uniform key from
    default_rng(SeedSequence([s, i]))): the order its documentation promises, whatever the chunking."""
    q, db, yq, ydb = _tied_codes()
    dist = hamming(q, db)
    for seed in (0, 7):
        explicit = [ap_of_ranking((ydb == yq[i])[seeded_order(dist[i], seed, i)], R or len(ydb)) for i in range(len(q))]
        for chunk in (None, 4):
            got = retrieval_scores(q, db, yq, ydb, R=R, ties="random", seed=seed, chunk_size=chunk)["average_precision"]
            np.testing.assert_allclose(got, explicit, rtol=0, atol=1e-12)


def test_without_ties_random_and_expected_scores_are_the_same():
    """When every database item is at its own distance from each query, both tie policies score the one ranking."""
    n = 60
    database = np.arange(n - 1)[None, :] < np.arange(n)[:, None]  # item i has its first i bits set
    queries = np.array([np.zeros(n - 1, bool), np.ones(n - 1, bool)])  # distances i and n - 1 - i: all distinct
    rng = np.random.default_rng(7)
    yq, ydb = rng.integers(0, 3, 2), rng.integers(0, 3, n)
    assert all(len(set(row)) == n for row in hamming(queries, database))
    for R in (None, 20):
        expected = retrieval_scores(queries, database, yq, ydb, R=R)["average_precision"]
        sorted_ap = [ap_of_ranking((ydb == y)[np.argsort(d)], R or n) for d, y in zip(hamming(queries, database), yq)]
        np.testing.assert_allclose(expected, sorted_ap, rtol=0, atol=1e-12)
        for seed in range(5):
            got = retrieval_scores(queries, database, yq, ydb, R=R, ties="random", seed=seed)["average_precision"]
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_large_groups_closed_form_against_monte_carlo():
    """Ties far larger than enumeration allows: the closed form matches many random tie orders."""
    rng = np.random.default_rng(1)
    dist = rng.integers(0, 4, size=(1, 3000))
    rel = rng.random((1, 3000)) < 0.1
    for R in (None, 1000, 1234):
        expected = average_precision(dist, rel, R=R)[0]
        draws = np.array([average_precision(dist, rel, R=R, ties="random", seed=s)[0] for s in range(400)])
        assert abs(draws.mean() - expected) < 5 * draws.std() / math.sqrt(len(draws)) + 1e-12


@pytest.mark.parametrize("ties", ["expected", "random"])
@pytest.mark.parametrize("sparse", [False, True])
def test_label_fast_path_equals_general_path(ties, sparse):
    """retrieval_scores (counting pass over labels, chunked) equals average_precision on explicit distances."""
    rng = np.random.default_rng(2)
    if sparse:
        n_units, k = 400, 3
        def codes(n):
            out = np.zeros((n, n_units), dtype=bool)
            out[np.arange(n)[:, None], np.argsort(rng.random((n, n_units)), axis=1)[:, :k]] = True
            return out
    else:
        def codes(n):
            return rng.random((n, 6)) < 0.5
    q, db = codes(37), codes(500)
    yq, ydb = rng.integers(0, 4, 37), rng.integers(0, 4, 500)
    relevant = yq[:, None] == ydb[None, :]
    dist = hamming_distances(q, db)
    for R in (None, 50):
        fast = retrieval_scores(q, db, yq, ydb, R=R, ties=ties, seed=5, chunk_size=8)["average_precision"]
        general = average_precision(dist, relevant, R=R, ties=ties, seed=5)
        np.testing.assert_allclose(fast, general, atol=1e-12)
        assert mean_average_precision(q, db, yq, ydb, R=R, ties=ties, seed=5) == pytest.approx(fast.mean(), abs=1e-12)


def test_chunking_does_not_change_results():
    rng = np.random.default_rng(3)
    q, db = rng.random((50, 8)) < 0.5, rng.random((300, 8)) < 0.5
    yq, ydb = rng.integers(0, 3, 50), rng.integers(0, 3, 300)
    for ties in ("expected", "random"):
        a = retrieval_scores(q, db, yq, ydb, ties=ties, chunk_size=7)["average_precision"]
        b = retrieval_scores(q, db, yq, ydb, ties=ties, chunk_size=1000)["average_precision"]
        np.testing.assert_array_equal(a, b)


def test_perfect_and_worst_rankings():
    rel = np.array([[True, True, False, False]])
    assert average_precision(np.array([[0, 0, 1, 1]]), rel)[0] == pytest.approx(1.0)
    assert average_precision(np.array([[1, 1, 0, 0]]), rel)[0] == pytest.approx((1 / 3 + 2 / 4) / 2)
    assert average_precision(np.array([[0, 1, 2, 3]]), np.zeros((1, 4), bool))[0] == 0.0


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda q, db, yq, ydb: mean_average_precision(q.astype(int), db, yq, ydb), TypeError, "query_codes must be a boolean"),
        (lambda q, db, yq, ydb: mean_average_precision(q[:, :3], db, yq, ydb), ValueError, "bits"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq[:-1], ydb), ValueError, "query_labels has 4 entries"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq, ydb[:-1]), ValueError, "database_labels has 9 entries"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq, ydb, R=0), ValueError, "R=0"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq, ydb, R=11), ValueError, "R=11"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq, ydb, ties="first"), ValueError, "ties='first'"),
        (lambda q, db, yq, ydb: mean_average_precision(q[:0], db, yq[:0], ydb), ValueError, "empty"),
        (lambda q, db, yq, ydb: mean_average_precision(q, db, yq.astype(float), ydb), TypeError, "integer class labels"),
    ],
)
def test_bad_input_errors(call, error, match):
    rng = np.random.default_rng(4)
    q, db = rng.random((5, 6)) < 0.5, rng.random((10, 6)) < 0.5
    with pytest.raises(error, match=match):
        call(q, db, rng.integers(0, 2, 5), rng.integers(0, 2, 10))


def test_average_precision_rejects_bad_distances():
    with pytest.raises(TypeError, match="integers"):
        average_precision(np.array([[0.5, 1.0]]), np.array([[True, False]]))
    with pytest.raises(ValueError, match="non-negative"):
        average_precision(np.array([[-1, 1]]), np.array([[True, False]]))
    with pytest.raises(ValueError, match="relevant has shape"):
        average_precision(np.array([[0, 1]]), np.array([[True]]))


def test_hypergeom_pmf_equals_scipy():
    """The log-gamma pmf equals scipy.stats.hypergeom.pmf, including zeros off the support."""
    from scipy.stats import hypergeom

    from flymodel.metrics import hypergeom_pmf

    rng = np.random.default_rng(0)
    n = rng.integers(1, 3000, 200)
    r = rng.integers(0, n + 1)
    q = rng.integers(0, n + 1)
    x = np.arange(0, 1200)[None, :]
    ours = hypergeom_pmf(x, n[:, None], r[:, None], q[:, None])
    np.testing.assert_allclose(ours, hypergeom.pmf(x, n[:, None], r[:, None], q[:, None]), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(ours[np.minimum(r, q) < 1200].sum(axis=1), 1.0, rtol=1e-9)


def test_straddling_rows_in_blocks_give_the_same_ap(monkeypatch):
    """Processing the cut-off tie groups in small row blocks does not change AP@R."""
    import flymodel.metrics as metrics

    rng = np.random.default_rng(1)
    counts = rng.multinomial(2000, np.full(6, 1 / 6), size=50)  # every query ranks the same 2000 items
    relevant = rng.binomial(counts, 0.3)
    full = metrics.expected_average_precision(counts, relevant, R=500)
    monkeypatch.setattr(metrics, "STRADDLE_BLOCK", 7)
    np.testing.assert_array_equal(metrics.expected_average_precision(counts, relevant, R=500), full)


@pytest.mark.parametrize("counts, relevant, match", [
    ([[1, 2], [2, 2]], [[1, 0], [1, 0]], "every query's counts must add up to the same number of database items"),
    ([[1, 2]], [[2, 0]], "relevant <= counts at every distance"),
    ([[1, -1, 3]], [[0, 0, 0]], "counts >= 0"),
    ([[1, 2]], [[1, 0, 0]], r"expected the same \(n_queries >= 1, n_distances\) shape"),
    ([[0, 0]], [[0, 0]], r"the same number of database items \(> 0\)"),
])
def test_expected_metrics_refuse_inconsistent_histograms(counts, relevant, match):
    """A histogram row that counts other items than the first would be scored against the first row's total."""
    for metric in (lambda c, r: expected_average_precision(c, r), lambda c, r: expected_precision(c, r, R=1)):
        with pytest.raises(ValueError, match=match):
            metric(np.array(counts), np.array(relevant))


def test_a_sparse_codes_database_scores_as_its_boolean_codes():
    """retrieval_scores takes SparseCodes for the database (indexed as stored), with boolean or stored queries."""
    from flymodel.codes import SparseCodes

    rng = np.random.default_rng(0)
    codes, labels = rng.random((40, 30)) < 0.1, rng.integers(0, 3, 40)
    expected = retrieval_scores(codes[:5], codes, labels[:5], labels)
    for queries in (codes[:5], SparseCodes.from_dense(codes[:5])):
        scores = retrieval_scores(queries, SparseCodes.from_dense(codes), labels[:5], labels)
        np.testing.assert_allclose(scores["average_precision"], expected["average_precision"])
        np.testing.assert_allclose(scores["precision"], expected["precision"])
    with pytest.raises(TypeError, match="ties='random' .* needs the boolean database codes, not a SparseCodes"):
        retrieval_scores(codes[:5], SparseCodes.from_dense(codes), labels[:5], labels, ties="random")
