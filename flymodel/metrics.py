"""Retrieval metrics: mAP@R (Ryali et al. 2020, eq. 12) and precision@R, tie-aware by default.

Hamming distances are small integers, so many database items tie with each other at short code
lengths. The default scores a ranking by the *expected* value of the metric over all orderings of
tied items, equally likely (McSherry & Najork, ECIR 2008); a seeded random tie-break is the option.
With integer distances the expected value needs only, per query, how many items and how many relevant
items lie at each distance: one counting pass (``np.bincount``), no sort of the database.

Derivation of the closed form used below. Take a tie group of n items, r of them relevant, preceded
by N items of which R_b are relevant. In a uniformly random order within the group, position p
(1..n) holds a relevant item with probability r/n, and given that, each other position before it
holds a relevant item with probability (r−1)/(n−1). So the group adds to Σ Precision(l)·Rel(l)::

    (r/n) Σ_{p=1..n} [R_b + 1 + (p−1)(r−1)/(n−1)] / (N + p)
  = (r/n) [ (R_b + 1)·ΔH + (r−1)/(n−1) · (n − (N + 1)·ΔH) ],   ΔH = H(N + n) − H(N),

with H the harmonic numbers. If the cut-off R falls inside the group (q = R − N of its positions
kept), the number X of relevant items kept is hypergeometric (n, r, q), the normaliser of eq. 12 is
R_b + X, and E[AP] = Σ_x P(X = x) · (S_b + f(x)) / (R_b + x), with f(x) the same sum over q positions
holding x relevant items. Everything is exact; nothing is sampled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

import numpy as np
from scipy.special import gammaln

from flymodel.codes import SparseCodes
from flymodel.index import HammingIndex, iter_hamming_distances
from flymodel.validation import check_choice, check_codes, check_int, check_labels

__all__ = ["average_precision", "expected_average_precision", "expected_precision", "hypergeom_pmf",
           "mean_average_precision", "precision_recall_curve", "retrieval_map_score", "retrieval_precision_recall",
           "retrieval_scorer", "retrieval_scores"]

TiePolicy = Literal["expected", "random"]
TIE_POLICIES: tuple[str, ...] = ("expected", "random")
#: Queries counted at once by retrieval_scores, at most, and the (query × class × distance) entries held per chunk.
COUNT_QUERIES, COUNT_ENTRIES = 1024, 2**24
#: Elements of the (queries × hypergeometric support) arrays built at once when the cut-off R splits a tie group.
STRADDLE_BLOCK = 2**22


def _harmonic(n: int) -> np.ndarray:
    """H(0..n) in float64."""
    h = np.zeros(n + 1)
    np.cumsum(1.0 / np.arange(1, n + 1), out=h[1:])
    return h


def _group_precision_sum(
    n: np.ndarray, r: np.ndarray, n_before: np.ndarray, rel_before: np.ndarray, H: np.ndarray
) -> np.ndarray:
    """Expected Σ Precision(l)·Rel(l) over a whole tie group of n items holding r relevant ones (module docstring)."""
    dH = H[n_before + n] - H[n_before]
    with np.errstate(divide="ignore", invalid="ignore"):
        pair = np.where(n > 1, (r - 1) / np.maximum(n - 1, 1), 0.0) * (n - (n_before + 1) * dH)
        out = np.where(n > 0, (r / np.maximum(n, 1)) * ((rel_before + 1) * dH + pair), 0.0)
    return out


def _check_histograms(counts: Any, relevant: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-query histograms as int64, checked: one row per query, every row counting the same items, and relevant
    items at most the items at each distance; returns them with the number of items."""
    counts, relevant = np.asarray(counts), np.asarray(relevant)
    if counts.ndim != 2 or counts.shape != relevant.shape or counts.shape[0] == 0:
        raise ValueError(f"counts of shape {counts.shape} and relevant of shape {relevant.shape}: expected the same "
                         "(n_queries >= 1, n_distances) shape")
    counts, relevant = counts.astype(np.int64), relevant.astype(np.int64)
    totals = counts.sum(axis=1)
    if (counts < 0).any() or (relevant < 0).any() or (relevant > counts).any():
        raise ValueError("counts and relevant must be counts >= 0 with relevant <= counts at every distance")
    if (totals != totals[0]).any() or totals[0] == 0:
        raise ValueError(f"every query's counts must add up to the same number of database items (> 0); got "
                         f"totals from {totals.min()} to {totals.max()}")
    return counts, relevant, int(totals[0])


def expected_average_precision(counts: np.ndarray, relevant: np.ndarray, R: int | None = None) -> np.ndarray:
    """Tie-aware AP@R per query from per-distance histograms.

    counts[q, d] is the number of database items at distance d from query q, relevant[q, d] how many of
    them are relevant; distances are the column order. R=None means all items (mAP@All). The value is the
    expected AP@R over all orders of the items within each distance, equally likely, in closed form (the module
    docstring derives it); where the cut-off R splits a distance, it averages over the hypergeometric number of
    relevant items kept.

    Parameters
    ----------
    counts : array-like of shape (n_queries, n_distances) of int
        Items at each distance from each query; every row sums to the same number of items, n_items.
    relevant : array-like of shape (n_queries, n_distances) of int
        Relevant items at each distance, at most `counts`.
    R : int or None, default None
        The cut-off, in [1, n_items]; None means n_items.

    Returns
    -------
    ndarray of shape (n_queries,), dtype float64
        The expected AP@R of each query: Σ Precision(l)·Rel(l) over the top R divided by the relevant items
        among them (Ryali et al. 2020, eq. 12); 0 where none is relevant.

    Raises
    ------
    TypeError
        If `R` is not an integer.
    ValueError
        If `R` lies outside [1, n_items], or the histograms differ in shape, hold negative counts or more relevant
        items than items, or count different numbers of items for different queries.

    Examples
    --------
    One item at distance 0 (relevant), two tied at distance 1 (one relevant), one at distance 2:

    >>> import numpy as np
    >>> from flymodel.metrics import expected_average_precision
    >>> counts, relevant = np.array([[1, 2, 1]]), np.array([[1, 1, 0]])
    >>> expected_average_precision(counts, relevant)  # (1 + 2/2) / 2 and (1 + 2/3) / 2, equally likely
    array([0.91666667])
    >>> expected_average_precision(counts, relevant, R=2)
    array([1.])
    """
    counts, relevant, n_items = _check_histograms(counts, relevant)
    R = n_items if R is None else check_int(R, "R", minimum=1, maximum=n_items)
    return _expected_ap(counts, relevant, R, n_items)


def _expected_ap(counts: np.ndarray, relevant: np.ndarray, R: int, n_items: int) -> np.ndarray:
    """expected_average_precision on int64 histograms that are known to be consistent (built here), R in range."""
    H = _harmonic(n_items)
    n_before = np.cumsum(counts, axis=1) - counts
    rel_before = np.cumsum(relevant, axis=1) - relevant
    full = n_before + counts <= R
    group_sums = _group_precision_sum(counts, relevant, n_before, rel_before, H)
    numerator = np.where(full, group_sums, 0.0).sum(axis=1)
    n_relevant_kept = np.where(full, relevant, 0).sum(axis=1)
    ap = np.divide(numerator, n_relevant_kept, out=np.zeros(len(counts)), where=n_relevant_kept > 0)

    straddle = (n_before < R) & (n_before + counts > R)  # at most one group per query
    rows, cols = np.nonzero(straddle)
    if rows.size:
        # In blocks of queries, so that the (queries × hypergeometric support) arrays stay within STRADDLE_BLOCK.
        block = max(1, STRADDLE_BLOCK // (int(np.minimum(relevant[rows, cols], R - n_before[rows, cols]).max()) + 1))
        for start in range(0, rows.size, block):
            r_, c_ = rows[start:start + block], cols[start:start + block]
            ap[r_] = _straddling_ap(
                n=counts[r_, c_],
                r=relevant[r_, c_],
                q=R - n_before[r_, c_],
                n_before=n_before[r_, c_],
                rel_before=rel_before[r_, c_],
                sum_before=numerator[r_],
                H=H,
            )
    return ap


def hypergeom_pmf(x: np.ndarray, n: np.ndarray, r: np.ndarray, q: np.ndarray) -> np.ndarray:
    """P(X = x) for X ~ Hypergeom(population n, r successes, q draws); 0 off the support.

    P(X = x) = C(r,x)·C(n−r,q−x)/C(n,q), computed from log-gamma (scipy.stats.hypergeom.pmf gives the same values but is about 100× slower).

    Parameters
    ----------
    x : array-like
        Numbers of successes drawn.
    n : array-like
        Population sizes.
    r : array-like
        Successes in the population, in [0, n].
    q : array-like
        Draws, in [0, n].

    Returns
    -------
    ndarray, dtype float64
        The probabilities, in the broadcast shape of the four arguments.

    Examples
    --------
    Two of four tied items are relevant and the cut-off keeps two of them:

    >>> import numpy as np
    >>> from flymodel.metrics import hypergeom_pmf
    >>> hypergeom_pmf(np.arange(4), 4, 2, 2)
    array([0.16666667, 0.66666667, 0.16666667, 0.        ])
    """
    x, n, r, q = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, n, r, q))
    support = (x >= 0) & (x <= r) & (q - x >= 0) & (q - x <= n - r)
    xs, qx = np.where(support, x, 0.0), np.where(support, q - x, 0.0)
    log_pmf = (gammaln(r + 1) - gammaln(xs + 1) - gammaln(np.maximum(r - xs, 0) + 1)
               + gammaln(n - r + 1) - gammaln(qx + 1) - gammaln(np.maximum(n - r - qx, 0) + 1)
               - gammaln(n + 1) + gammaln(q + 1) + gammaln(n - q + 1))
    return np.where(support, np.exp(log_pmf), 0.0)


def _straddling_ap(
    n: np.ndarray,
    r: np.ndarray,
    q: np.ndarray,
    n_before: np.ndarray,
    rel_before: np.ndarray,
    sum_before: np.ndarray,
    H: np.ndarray,
) -> np.ndarray:
    """E[AP@R] when the cut-off keeps only q of a tie group's n items: average over X ~ Hypergeom(n, r, q)."""
    x = np.arange(int(np.minimum(r, q).max()) + 1)[None, :]
    pmf = hypergeom_pmf(x, n[:, None], r[:, None], q[:, None])  # zero outside the support
    dH = (H[n_before + q] - H[n_before])[:, None]
    qq = q[:, None].astype(float)
    first = (x / qq) * (rel_before[:, None] + 1) * dH
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.where(qq > 1, x * (x - 1) / (qq * np.maximum(qq - 1, 1)), 0.0) * (qq - (n_before[:, None] + 1) * dH)
        kept = rel_before[:, None] + x
        ap_given_x = np.where(kept > 0, (sum_before[:, None] + first + second) / np.maximum(kept, 1), 0.0)
    return (pmf * ap_given_x).sum(axis=1)


def expected_precision(counts: np.ndarray, relevant: np.ndarray, R: int) -> np.ndarray:
    """Tie-aware precision@R per query from per-distance histograms (see expected_average_precision).

    A distance group that the cut-off R splits contributes its relevant fraction times the items kept: the
    expected precision over all orders within each distance.

    Parameters
    ----------
    counts : array-like of shape (n_queries, n_distances) of int
        Items at each distance from each query; every row sums to the same number of items, n_items.
    relevant : array-like of shape (n_queries, n_distances) of int
        Relevant items at each distance, at most `counts`.
    R : int
        The cut-off, in [1, n_items].

    Returns
    -------
    ndarray of shape (n_queries,), dtype float64
        The expected fraction of relevant items among the top R of each query.

    Raises
    ------
    TypeError
        If `R` is not an integer.
    ValueError
        If `R` lies outside [1, n_items], or the histograms differ in shape, hold negative counts or more relevant
        items than items, or count different numbers of items for different queries.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.metrics import expected_precision
    >>> expected_precision(np.array([[1, 2, 1]]), np.array([[1, 1, 0]]), R=2)  # (1 + 1/2) / 2
    array([0.75])
    """
    counts, relevant, n_items = _check_histograms(counts, relevant)
    return _expected_prec(counts, relevant, check_int(R, "R", minimum=1, maximum=n_items))


def _expected_prec(counts: np.ndarray, relevant: np.ndarray, R: int) -> np.ndarray:
    """expected_precision on int64 histograms that are known to be consistent (built here), R in range."""
    n_before = np.cumsum(counts, axis=1) - counts
    kept = np.clip(R - n_before, 0, counts)  # items of each group inside the top R
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_rel = np.where(counts > 0, relevant * kept / np.maximum(counts, 1), 0.0)
    return expected_rel.sum(axis=1) / R


def _histograms(distances: np.ndarray, relevant: np.ndarray,
                max_distance: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-query counts of items and of relevant items at each integer distance 0..max_distance (default: the
    largest; farther items are dropped), one bincount pass each."""
    n_q = distances.shape[0]
    if max_distance is None:
        n_bins = int(distances.max()) + 1
    else:  # one extra bin collects every distance beyond max_distance, then is dropped
        n_bins = max_distance + 2
        distances = np.minimum(distances, max_distance + 1)
    keys = (distances + n_bins * np.arange(n_q)[:, None]).ravel()
    counts = np.bincount(keys, minlength=n_q * n_bins).reshape(n_q, n_bins)
    rel = np.bincount(keys, weights=relevant.ravel(), minlength=n_q * n_bins).reshape(n_q, n_bins).astype(np.int64)
    return (counts, rel) if max_distance is None else (counts[:, :-1], rel[:, :-1])


def _random_tiebreak_scores(
    distances: np.ndarray, relevant: np.ndarray, R: int, seeds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """AP@R and precision@R per query after breaking ties by a random order seeded per query."""
    ap = np.empty(len(distances))
    prec = np.empty(len(distances))
    positions = np.arange(1, R + 1)
    for i, (dist, rel, seed) in enumerate(zip(distances, relevant, seeds)):
        jitter = np.random.default_rng(seed).random(dist.shape[0]) * 0.5  # keeps integer groups in order
        top = np.argsort(dist + jitter)[:R]
        hits = rel[top].astype(np.float64)
        found = np.cumsum(hits)
        ap[i] = (found / positions * hits).sum() / found[-1] if found[-1] > 0 else 0.0
        prec[i] = found[-1] / R
    return ap, prec


def _check_distances(distances: np.ndarray, relevant: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distances = np.asarray(distances)
    relevant = np.asarray(relevant)
    if distances.ndim != 2 or distances.shape[1] == 0 or distances.shape[0] == 0:
        raise ValueError(f"distances must be a non-empty 2-D array (n_queries, n_items); got shape {distances.shape}")
    if not np.issubdtype(distances.dtype, np.integer):
        raise TypeError(f"distances must be integers (e.g. Hamming distances); got dtype {distances.dtype}")
    if (distances < 0).any():
        raise ValueError("distances must be non-negative")
    if relevant.shape != distances.shape:
        raise ValueError(f"relevant has shape {relevant.shape} but distances has {distances.shape}; they must match")
    return distances.astype(np.int64, copy=False), relevant.astype(bool, copy=False)


def average_precision(
    distances: np.ndarray,
    relevant: np.ndarray,
    R: int | None = None,
    ties: TiePolicy = "expected",
    seed: int = 0,
) -> np.ndarray:
    """AP@R (eq. 12, before the mean over queries) for each row of integer distances and relevance flags.

    Items are ranked by increasing distance. With ``ties="expected"`` (the default) each query scores the expected
    AP@R over all orders of equally distant items (``expected_average_precision``); with ``ties="random"``, the
    AP@R of one random order within each distance, seeded per query.

    Parameters
    ----------
    distances : array-like of shape (n_queries, n_items) of int
        Non-negative integer distances (e.g. Hamming distances) from each query to each item.
    relevant : array-like of shape (n_queries, n_items) of bool
        Whether each item is relevant to each query.
    R : int or None, default None
        The cut-off, in [1, n_items]; None means all items (AP@All).
    ties : {"expected", "random"}, default "expected"
        How equally distant items are ordered.
    seed : int, default 0
        Seed of the random orders (query i uses ``SeedSequence([seed, i])``); unused with ``ties="expected"``.

    Returns
    -------
    ndarray of shape (n_queries,), dtype float64
        AP@R of each query; 0 where no relevant item is in the top R.

    Raises
    ------
    TypeError
        If `distances` is not of an integer dtype, or `R` is not an integer.
    ValueError
        If `distances` is not a non-empty 2-D array or holds a negative value, `relevant` has another shape,
        `ties` is not one of its values, or `R` lies outside [1, n_items].

    Examples
    --------
    Items 1 and 2 tie at distance 1, and of the two only item 2 is relevant:

    >>> import numpy as np
    >>> from flymodel.metrics import average_precision
    >>> distances = np.array([[0, 1, 1, 2]])
    >>> relevant = np.array([[True, False, True, False]])
    >>> average_precision(distances, relevant)  # orders (1, 2) and (2, 1): (1 + 2/3) / 2 and 1, averaged
    array([0.91666667])
    >>> average_precision(distances, relevant, ties="random", seed=0)  # this seed puts item 2 first
    array([1.])
    """
    distances, relevant = _check_distances(distances, relevant)
    check_choice(ties, "ties", TIE_POLICIES)
    R = distances.shape[1] if R is None else check_int(R, "R", minimum=1, maximum=distances.shape[1])
    if ties == "random":
        return _random_tiebreak_scores(distances, relevant, R, _query_seeds(seed, 0, len(distances)))[0]
    counts, rel = _histograms(distances, relevant)
    return _expected_ap(counts.astype(np.int64, copy=False), rel, R, distances.shape[1])


def _query_seeds(seed: int, start: int, n: int) -> np.ndarray:
    """One independent seed per query index, so random tie-breaks do not depend on chunking."""
    return [np.random.SeedSequence([seed, start + i]) for i in range(n)]


def retrieval_scores(
    query_codes: np.ndarray | SparseCodes,
    database_codes: np.ndarray | SparseCodes | HammingIndex,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    R: int | None = None,
    ties: TiePolicy = "expected",
    seed: int = 0,
    chunk_size: int | None = None,
) -> dict[str, np.ndarray]:
    """Per-query AP@R and precision@R of Hamming ranking, relevance = same label; chunked over queries.

    database_codes is the boolean database codes (indexed here), or a HammingIndex of them: its postings or packed
    words are built once and kept, so scoring many query sets against one database never rebuilds them, and the
    queries may then be in any stored form of flymodel.codes.
    Returns {"average_precision": (n_queries,), "precision": (n_queries,)}; R=None means the whole database.

    Hamming distances are small integers, so many database codes tie. With ``ties="expected"`` (the default)
    each query scores the expected value over all orders of equally distant codes, computed exactly from one
    counting pass (``HammingIndex.distance_counts``) without sorting; with ``ties="random"``, the value for one
    random order within each distance, seeded per query (it sorts full distance rows).

    Parameters
    ----------
    query_codes : ndarray of shape (n_queries, n_bits), dtype bool, or SparseCodes
        Query codes: boolean, or any stored form of ``flymodel.codes`` when `database_codes` is a HammingIndex or
        SparseCodes.
    database_codes : ndarray of shape (n_database, n_bits), dtype bool, or SparseCodes or HammingIndex
        Database codes, stored codes, or an index of them (the last two not with ``ties="random"``).
    query_labels : array-like of shape (n_queries,) of int
        Class label of each query.
    database_labels : array-like of shape (n_database,) of int
        Class label of each database code; relevant = same label as the query.
    R : int or None, default None
        The cut-off, in [1, n_database]; None means the whole database (mAP@All).
    ties : {"expected", "random"}, default "expected"
        How equally distant codes are ordered.
    seed : int, default 0
        Seed of the random orders (query i uses ``SeedSequence([seed, i])``, whatever the chunking); unused with
        ``ties="expected"``.
    chunk_size : int or None, default None
        Queries scored at once, >= 1; None bounds the histograms held (at most ``COUNT_QUERIES`` queries and
        about ``COUNT_ENTRIES`` entries).

    Returns
    -------
    dict of str to ndarray
        ``"average_precision"``: AP@R of each query, ``"precision"``: precision@R of each query, both of shape
        (n_queries,), dtype float64.

    Raises
    ------
    TypeError
        If boolean codes are expected but not given, the labels are not integers, `R` or `chunk_size` is not an
        integer, or ``ties="random"`` is asked with a HammingIndex.
    ValueError
        If `ties` is not one of its values, the codes are not 2-D, are empty or differ in width, the labels are
        not 1-D or do not match the codes in number, or `R` or `chunk_size` is out of range.

    See Also
    --------
    mean_average_precision : The mean of ``"average_precision"``.

    Examples
    --------
    The query is at distance 2 from database codes 0 (relevant: same label) and 1 (not relevant), and at distance 4
    from code 2:

    >>> import numpy as np
    >>> from flymodel.metrics import retrieval_scores
    >>> query = np.array([[1, 1, 0, 0]], dtype=bool)
    >>> database = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 0, 1, 1]], dtype=bool)
    >>> scores = retrieval_scores(query, database, np.array([0]), np.array([0, 1, 1]))
    >>> scores["average_precision"], scores["precision"]  # AP 1 or 1/2, equally likely
    (array([0.75]), array([0.333]))

    A random tie-break scores one of the two orders:

    >>> retrieval_scores(query, database, np.array([0]), np.array([0, 1, 1]), ties="random", seed=0)
    {'average_precision': array([0.5]), 'precision': array([0.333])}
    """
    check_choice(ties, "ties", TIE_POLICIES)
    if ties == "random":
        return _random_tiebreak_retrieval(query_codes, database_codes, query_labels, database_labels, R, seed, chunk_size)
    if isinstance(database_codes, HammingIndex):
        index = database_codes
    elif isinstance(database_codes, SparseCodes):  # stored codes: indexed as they are; queries in any stored form
        index = HammingIndex(database_codes.n_bits).add(database_codes)
    else:  # codes as the hashers' transform returns them: boolean, queries and database alike
        query_codes, index = check_codes(query_codes, "query_codes"), _index_of(database_codes)
    n_db, n_q = len(index), len(query_codes)
    query_labels = check_labels(query_labels, n_q, "query_labels", "query_codes")
    database_labels = check_labels(database_labels, n_db, "database_labels", "database_codes")
    R_eff = n_db if R is None else check_int(R, "R", minimum=1, maximum=n_db)
    classes, inverse = np.unique(np.concatenate([database_labels, query_labels]), return_inverse=True)
    db_class, q_class = inverse[:n_db], inverse[n_db:]
    if chunk_size is None:  # bound the (queries × classes × distances) histogram held per chunk
        chunk_size = max(1, min(COUNT_QUERIES, COUNT_ENTRIES // (len(classes) * (index.n_bits + 1))))
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    ap, prec = np.empty(n_q), np.empty(n_q)
    for start in range(0, n_q, chunk_size):
        rows = slice(start, min(start + chunk_size, n_q))
        # One counting pass per chunk: stored codes per (query, database class, distance).
        hist = index.distance_counts(_rows(query_codes, rows), db_class, len(classes))
        counts = hist.sum(axis=1)
        relevant = hist[np.arange(rows.stop - rows.start), q_class[rows]]
        counts, relevant = counts.astype(np.int64, copy=False), relevant.astype(np.int64, copy=False)
        ap[rows] = _expected_ap(counts, relevant, R_eff, n_db)  # every row counts the n_db database codes
        prec[rows] = _expected_prec(counts, relevant, R_eff)
    return {"average_precision": ap, "precision": prec}


def _index_of(codes: np.ndarray) -> HammingIndex:
    """A HammingIndex of boolean database codes."""
    codes = check_codes(codes, "database_codes")
    return HammingIndex(codes.shape[1]).add(codes)


def _rows(codes: np.ndarray | SparseCodes, rows: slice) -> np.ndarray | SparseCodes:
    return codes.rows(rows.start, rows.stop) if isinstance(codes, SparseCodes) else codes[rows]


def _random_tiebreak_retrieval(query_codes: np.ndarray, database_codes: np.ndarray, query_labels: np.ndarray,
                               database_labels: np.ndarray, R: int | None, seed: int,
                               chunk_size: int | None) -> dict[str, np.ndarray]:
    """retrieval_scores with a seeded random order within each tie group (boolean codes: it sorts full distances)."""
    if isinstance(database_codes, (HammingIndex, SparseCodes)):
        raise TypeError(f"ties='random' sorts full distance rows and needs the boolean database codes, not a "
                        f"{type(database_codes).__name__}")
    query_codes = check_codes(query_codes, "query_codes")
    database_codes = check_codes(database_codes, "database_codes")
    query_labels = check_labels(query_labels, query_codes.shape[0], "query_labels", "query_codes")
    database_labels = check_labels(database_labels, database_codes.shape[0], "database_labels", "database_codes")
    n_db = database_codes.shape[0]
    R_eff = n_db if R is None else check_int(R, "R", minimum=1, maximum=n_db)
    ap, prec = np.empty(query_codes.shape[0]), np.empty(query_codes.shape[0])
    for rows, dist in iter_hamming_distances(query_codes, database_codes, chunk_size):
        relevant = database_labels[None, :] == query_labels[rows, None]
        seeds = _query_seeds(seed, rows.start, rows.stop - rows.start)
        ap[rows], prec[rows] = _random_tiebreak_scores(dist, relevant, R_eff, seeds)
    return {"average_precision": ap, "precision": prec}


def mean_average_precision(
    query_codes: np.ndarray | SparseCodes,
    database_codes: np.ndarray | SparseCodes | HammingIndex,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    R: int | None = None,
    ties: TiePolicy = "expected",
    seed: int = 0,
) -> float:
    """Mean AP@R of eq. 12 (R=None: mAP@All) for Hamming ranking with relevance = same label.

    The mean over queries of ``retrieval_scores(...)["average_precision"]``, tie-aware by default: equally
    distant database codes are scored by the expected AP over all their orders, not by an arbitrary order.

    Parameters
    ----------
    query_codes : ndarray of shape (n_queries, n_bits), dtype bool, or SparseCodes
        Query codes: boolean, or any stored form of ``flymodel.codes`` when `database_codes` is a HammingIndex or
        SparseCodes.
    database_codes : ndarray of shape (n_database, n_bits), dtype bool, or SparseCodes or HammingIndex
        Database codes, stored codes, or an index of them (the last two not with ``ties="random"``).
    query_labels : array-like of shape (n_queries,) of int
        Class label of each query.
    database_labels : array-like of shape (n_database,) of int
        Class label of each database code; relevant = same label as the query.
    R : int or None, default None
        The cut-off, in [1, n_database]; None means the whole database (mAP@All).
    ties : {"expected", "random"}, default "expected"
        How equally distant codes are ordered (see ``retrieval_scores``).
    seed : int, default 0
        Seed of the random orders; unused with ``ties="expected"``.

    Returns
    -------
    float
        The mAP@R, in [0, 1].

    Raises
    ------
    TypeError
        If the codes or labels have the wrong dtype, or `R` is not an integer (see ``retrieval_scores``).
    ValueError
        If the codes or labels have the wrong shape, or `ties` or `R` is out of range (see ``retrieval_scores``).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.metrics import mean_average_precision
    >>> labels = np.array([0, 0, 1, 1])
    >>> codes = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 1, 1, 1]], dtype=bool)
    >>> mean_average_precision(codes, codes, labels, labels)  # each code finds itself, then its class mate
    1.0

    Ties lower the expected score: the query ties a relevant and an irrelevant code at distance 2.

    >>> query = np.array([[1, 1, 0, 0]], dtype=bool)
    >>> database = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 0, 1, 1]], dtype=bool)
    >>> mean_average_precision(query, database, np.array([0]), np.array([0, 1, 1]))
    0.75
    >>> mean_average_precision(query, database, np.array([0]), np.array([0, 1, 1]), R=1)
    0.5
    """
    scores = retrieval_scores(query_codes, database_codes, query_labels, database_labels, R=R, ties=ties, seed=seed)
    return float(scores["average_precision"].mean())


def _precision_recall_sums(distances: np.ndarray, relevant: np.ndarray, max_radius: int) -> np.ndarray:
    """Sums over queries, per radius r: precision (queries retrieving something), queries retrieving something,
    recall (queries with a relevant item), and queries with a relevant item; shape (4, max_radius + 1)."""
    counts, rel = _histograms(distances, relevant, max_radius)
    retrieved, found = np.cumsum(counts, axis=1), np.cumsum(rel, axis=1)  # items within Hamming radius ≤ r
    n_relevant = relevant.sum(axis=1)
    answered = retrieved > 0
    precision = np.divide(found, retrieved, out=np.zeros(found.shape), where=answered)
    has_relevant = n_relevant > 0
    recall = found[has_relevant] / n_relevant[has_relevant, None]
    return np.stack([precision.sum(axis=0), answered.sum(axis=0), recall.sum(axis=0),
                     np.full(max_radius + 1, has_relevant.sum())])


def _curve_from_sums(sums: np.ndarray, n_queries: int) -> dict[str, np.ndarray]:
    """Query averages from _precision_recall_sums: precision is NaN at radii where no query retrieves anything."""
    precision_sum, answered, recall_sum, with_relevant = sums
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(answered > 0, precision_sum / np.maximum(answered, 1), np.nan)
    recall = recall_sum / with_relevant if with_relevant[0] > 0 else np.full(len(recall_sum), np.nan)
    return {"radius": np.arange(len(precision_sum)), "precision": precision, "recall": recall,
            "answered": answered / n_queries}


def precision_recall_curve(distances: np.ndarray, relevant: np.ndarray,
                           max_radius: int | None = None) -> dict[str, np.ndarray]:
    """Precision and recall of Hamming-ball retrieval at every radius r = 0..max_radius, averaged over queries.

    Retrieved at radius r: every item at distance ≤ r. precision(r) = relevant retrieved / retrieved, averaged over
    the queries that retrieve at least one item at r (the others have no precision; "answered" gives their
    fraction); recall(r) = relevant retrieved / all relevant items, averaged over queries with a relevant item.
    Returns {"radius", "precision", "recall", "answered"}, arrays of length max_radius + 1 (default: the largest
    distance, where recall is 1).

    Parameters
    ----------
    distances : array-like of shape (n_queries, n_items) of int
        Non-negative integer distances (e.g. Hamming distances) from each query to each item.
    relevant : array-like of shape (n_queries, n_items) of bool
        Whether each item is relevant to each query.
    max_radius : int or None, default None
        The largest radius, >= 0; None means the largest distance.

    Returns
    -------
    dict of str to ndarray
        ``"radius"``: 0..max_radius; ``"precision"``: mean precision at each radius, NaN where no query retrieves
        anything; ``"recall"``: mean recall at each radius, NaN everywhere if no query has a relevant item;
        ``"answered"``: the fraction of queries that retrieve at least one item. All of length max_radius + 1.

    Raises
    ------
    TypeError
        If `distances` is not of an integer dtype, or `max_radius` is not an integer.
    ValueError
        If `distances` is not a non-empty 2-D array or holds a negative value, `relevant` has another shape, or
        ``max_radius < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.metrics import precision_recall_curve
    >>> curve = precision_recall_curve(np.array([[0, 1, 1, 2]]), np.array([[True, False, True, False]]))
    >>> curve["radius"], curve["precision"], curve["recall"]
    (array([0, 1, 2]), array([1.   , 0.667, 0.5  ]), array([0.5, 1. , 1. ]))
    """
    distances, relevant = _check_distances(distances, relevant)
    max_radius = int(distances.max()) if max_radius is None else check_int(max_radius, "max_radius", minimum=0)
    return _curve_from_sums(_precision_recall_sums(distances, relevant, max_radius), distances.shape[0])


def retrieval_precision_recall(
    query_codes: np.ndarray,
    database_codes: np.ndarray,
    query_labels: np.ndarray,
    database_labels: np.ndarray,
    max_radius: int | None = None,
    chunk_size: int | None = None,
) -> dict[str, np.ndarray]:
    """The precision_recall_curve of Hamming search over codes, relevance = same label, chunked over queries.

    max_radius defaults to the largest distance these codes can have, ``min(bits, max |q| + max |db|)``: 2k for
    k-sparse codes, at most the number of bits for dense ones.

    Parameters
    ----------
    query_codes : ndarray of shape (n_queries, n_bits), dtype bool
        Query codes.
    database_codes : ndarray of shape (n_database, n_bits), dtype bool
        Database codes.
    query_labels : array-like of shape (n_queries,) of int
        Class label of each query.
    database_labels : array-like of shape (n_database,) of int
        Class label of each database code; relevant = same label as the query.
    max_radius : int or None, default None
        The largest radius, >= 0; None means the largest distance these codes can have (above).
    chunk_size : int or None, default None
        Queries whose distances are computed at once (see ``iter_hamming_distances``).

    Returns
    -------
    dict of str to ndarray
        ``"radius"``, ``"precision"``, ``"recall"`` and ``"answered"``, as ``precision_recall_curve`` returns them.

    Raises
    ------
    TypeError
        If the codes are not boolean, the labels are not integers, or `max_radius` or `chunk_size` is not an
        integer.
    ValueError
        If the codes are not 2-D, are empty or differ in width, the labels are not 1-D or do not match the codes
        in number, or `max_radius` or `chunk_size` is negative (or `chunk_size` zero).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.metrics import retrieval_precision_recall
    >>> query = np.array([[1, 1, 0, 0]], dtype=bool)
    >>> database = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 0, 1, 1]], dtype=bool)
    >>> curve = retrieval_precision_recall(query, database, np.array([0]), np.array([0, 1, 1]))
    >>> curve["radius"], curve["answered"]  # nothing lies within radius 0 or 1
    (array([0, 1, 2, 3, 4]), array([0., 0., 1., 1., 1.]))
    >>> curve["precision"], curve["recall"]
    (array([ nan,  nan, 0.5  , 0.5  , 0.333]), array([0., 0., 1., 1., 1.]))
    """
    query_codes = check_codes(query_codes, "query_codes")
    database_codes = check_codes(database_codes, "database_codes")
    query_labels = check_labels(query_labels, query_codes.shape[0], "query_labels", "query_codes")
    database_labels = check_labels(database_labels, database_codes.shape[0], "database_labels", "database_codes")
    if max_radius is None:
        max_radius = min(query_codes.shape[1], int(query_codes.sum(axis=1).max() + database_codes.sum(axis=1).max()))
    max_radius = check_int(max_radius, "max_radius", minimum=0)
    sums = np.zeros((4, max_radius + 1))
    for rows, dist in iter_hamming_distances(query_codes, database_codes, chunk_size):
        relevant = database_labels[None, :] == query_labels[rows, None]
        sums += _precision_recall_sums(dist, relevant, max_radius)
    return _curve_from_sums(sums, query_codes.shape[0])


def retrieval_map_score(labels: np.ndarray, codes: np.ndarray, query_fraction: float = 0.2, R: int | None = None,
                        seed: int = 0) -> float:
    """Mean AP@R (eq. 12; R=None: mAP@All) within one labelled, hashed set, some items querying the others.

    A seeded query_fraction of its items queries the others, relevance = same label; what retrieval_scorer
    computes from the validation labels and codes. The expected score over tied orders
    (``mean_average_precision``).

    Parameters
    ----------
    labels : array-like of shape (n_items,) of int
        Class label of each item.
    codes : ndarray of shape (n_items, n_bits), dtype bool
        The items' codes.
    query_fraction : float, default 0.2
        Share of the items used as queries, in (0, 1); round(query_fraction · n_items) must leave at least one
        query and one database item.
    R : int or None, default None
        The cut-off, at most the number of database items; None means all of them (mAP@All).
    seed : int, default 0
        Seed of the random split into queries and database.

    Returns
    -------
    float
        The mAP@R, in [0, 1].

    Raises
    ------
    TypeError
        If `codes` is not boolean, `labels` are not integers, or `R` is not an integer.
    ValueError
        If `query_fraction` lies outside (0, 1) or leaves no query or no database item, the labels do not match
        the codes, or `R` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.metrics import retrieval_map_score
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 10)
    >>> codes = np.zeros((20, 8), dtype=bool)
    >>> codes[:10, :4] = codes[10:, 4:] = True  # one block of bits per class
    >>> codes ^= rng.random((20, 8)) < 0.1  # flip about one bit in ten
    >>> round(retrieval_map_score(labels, codes), 3)  # 4 queries against 16 items
    0.988
    """
    codes = check_codes(codes, "codes")
    labels = check_labels(labels, codes.shape[0], "labels", "codes")
    if not 0 < query_fraction < 1:
        raise ValueError(f"query_fraction={query_fraction!r} must lie in (0, 1): the share of items used as queries")
    n_queries = int(round(query_fraction * len(labels)))
    if not 1 <= n_queries < len(labels):
        raise ValueError(f"query_fraction={query_fraction} of {len(labels)} items gives {n_queries} queries; expected "
                         f"at least one query and one database item")
    order = np.random.default_rng(seed).permutation(len(labels))
    queries, database = order[:n_queries], order[n_queries:]
    return mean_average_precision(codes[queries], codes[database], labels[queries], labels[database], R=R)


def retrieval_scorer(query_fraction: float = 0.2, R: int | None = None, seed: int = 0) -> Callable[..., float]:
    """A scikit-learn scorer for hashers and pipelines ending in one: mAP of the transformed validation split.

    The scorer transforms the validation split, then computes retrieval_map_score on its labels; use it as
    ``GridSearchCV(..., scoring=retrieval_scorer())``. It is a callable with the scorer signature (estimator, X,
    y), since make_scorer cannot ask for transform (its response_method is one of predict, predict_proba,
    decision_function). The arguments are checked when it scores, not here.

    Parameters
    ----------
    query_fraction : float, default 0.2
        Share of the validation items used as queries, in (0, 1).
    R : int or None, default None
        The cut-off of mAP@R; None means mAP@All.
    seed : int, default 0
        Seed of the split into queries and database.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``: ``retrieval_map_score(y, estimator.transform(X), ...)``.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import LSH
    >>> from flymodel.metrics import retrieval_scorer
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = (rng.normal(size=(2, 10))[y] + rng.normal(size=(60, 10))).astype(np.float32)  # two noisy clusters
    >>> scorer = retrieval_scorer(query_fraction=0.2)
    >>> round(scorer(LSH(k=16, device="cpu").fit(X), X, y), 2)
    0.92
    """
    return partial(_score_by_retrieval, query_fraction=query_fraction, R=R, seed=seed)


def _score_by_retrieval(estimator: Any, X: Any, y: np.ndarray, *, query_fraction: float, R: int | None,
                        seed: int) -> float:
    return retrieval_map_score(y, estimator.transform(X), query_fraction=query_fraction, R=R, seed=seed)
