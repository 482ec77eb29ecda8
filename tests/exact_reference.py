"""Brute-force references that tests compare flymodel's numbers with, written from the definitions and sharing no
code with flymodel.index or flymodel.metrics.

- hamming: distances by counting differing bits of packed codes (popcount), not flymodel's matmul or postings;
- ranking_ap: eq. 12 of Ryali et al. 2020 for one explicit ranking;
- expected_ap: the tie-aware AP@R of McSherry & Najork (ECIR 2008), the mean of eq. 12 over all orders of tied items,
  summed slot by slot over each tie group (a hypergeometric average when the cut-off R splits one);
- seeded_order_ap: the AP of the one tie order that ties="random" documents (a uniform key per item, seeded per query);
- reference_map / assert_maps_reproduce: an experiment's reported mAP recomputed from scratch: the seed's split, the
  same hasher refitted with the stored parameters (deterministic), these distances and this AP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import comb
from typing import Any

import numpy as np

from flymodel.data.protocols import Protocol
from flymodel.hashing import make_hasher

#: Reported and recomputed mAP must agree to this (float64 sums of at most 10^5 terms in another order).
MAP_ATOL = 1e-9


def hamming_chunks(query_codes: np.ndarray, database_codes: np.ndarray, chunk: int = 50):
    """Yield (query rows, int64 Hamming distances to every database code) for `chunk` queries at a time, by whichever
    of two definitions is cheaper for these codes: |a| + |b| − 2·(database bits set at the query's set bits), or
    the popcount of the XOR of the codes packed into 64-bit words."""
    q, db = np.asarray(query_codes, dtype=bool), np.asarray(database_codes, dtype=bool)
    words = -(-q.shape[1] // 64)
    if q.sum(axis=1).mean() < words:  # sparse codes: few set bits per query
        columns, ones = np.asfortranarray(db), db.sum(axis=1)
        for start in range(0, len(q), chunk):
            block = q[start:start + chunk]
            shared = np.stack([columns[:, np.flatnonzero(row)].sum(axis=1) for row in block])
            yield slice(start, start + len(block)), block.sum(axis=1)[:, None] + ones[None, :] - 2 * shared
        return

    def pack(codes: np.ndarray) -> np.ndarray:  # (words, rows) of uint64
        padded = np.zeros((codes.shape[0], 64 * words), dtype=bool)
        padded[:, :codes.shape[1]] = codes
        return np.ascontiguousarray(np.packbits(padded, axis=1, bitorder="little").view(np.uint64).T)

    qw, dbw = pack(q), pack(db)
    for start in range(0, len(q), chunk):
        acc = np.zeros((qw[:, start:start + chunk].shape[1], db.shape[0]), dtype=np.int64)
        for w in range(words):
            acc += np.bitwise_count(qw[w, start:start + chunk, None] ^ dbw[w][None, :])
        yield slice(start, start + len(acc)), acc


def hamming(query_codes: np.ndarray, database_codes: np.ndarray) -> np.ndarray:
    """(n_q, n_db) int64 Hamming distances (hamming_chunks gathered)."""
    return np.concatenate([d for _, d in hamming_chunks(query_codes, database_codes)])


def ranking_ap(relevant_in_order: np.ndarray, R: int | None = None) -> float:
    """Eq. 12 for one ranking: the mean of Precision(l) over the relevant positions l <= R (0 if there are none)."""
    rel = np.asarray(relevant_in_order, dtype=bool)[:R]
    hits = np.cumsum(rel)
    return float((hits[rel] / (np.flatnonzero(rel) + 1)).sum() / hits[-1]) if rel.any() else 0.0


def _group_sum(n_before: int, rel_before: int, size: int, n_rel: int) -> float:
    """E[Σ Precision(l)·Rel(l)] over the `size` slots of a tie group holding n_rel relevant items in random order.

    A relevant item sits in each slot p = 1..size with probability n_rel/size; given that, each of the p − 1 slots
    before it holds a relevant item with probability (n_rel − 1)/(size − 1), so its expected precision is
    (rel_before + 1 + (p − 1)(n_rel − 1)/(size − 1)) / (n_before + p).
    """
    if n_rel == 0:
        return 0.0
    p = np.arange(1, size + 1)
    others = (p - 1) * ((n_rel - 1) / (size - 1)) if size > 1 else np.zeros(1)
    return float((n_rel / size) * ((rel_before + 1 + others) / (n_before + p)).sum())


def expected_ap(distances: np.ndarray, relevant: np.ndarray, R: int | None = None) -> float:
    """Tie-aware AP@R of one query: the mean of eq. 12 over every order of the items tied at equal distance.

    The database is sorted by distance into tie groups (a counting sort: sizes and relevant counts per distance).
    Groups wholly inside the top R add _group_sum; if R splits a group, keeping q of its n items, the number x of
    relevant items kept is hypergeometric and E[AP] = Σ_x P(x)·(S_before + E[sum | x]) / (R_before + x).
    """
    distances = np.asarray(distances, dtype=np.int64)
    relevant = np.asarray(relevant, dtype=bool)
    R = len(distances) if R is None else R
    sizes = np.bincount(distances)
    rels = np.bincount(distances, weights=relevant).astype(np.int64)
    total, n_before, rel_before = 0.0, 0, 0
    for size, n_rel in zip(sizes.tolist(), rels.tolist()):
        if size == 0:
            continue
        if n_before + size <= R:
            total += _group_sum(n_before, rel_before, size, n_rel)
            n_before, rel_before = n_before + size, rel_before + n_rel
            continue
        q = R - n_before  # the cut-off keeps q of this group's items: average over the relevant ones kept
        ap = 0.0
        for x in range(min(n_rel, q) + 1):
            p_x = comb(n_rel, x) * comb(size - n_rel, q - x) / comb(size, q)
            if p_x and rel_before + x:
                ap += p_x * (total + _group_sum(n_before, rel_before, q, x)) / (rel_before + x)
        return ap
    return total / rel_before if rel_before else 0.0


def expected_aps(distances: np.ndarray, relevant: np.ndarray, R: int | None = None) -> np.ndarray:
    """expected_ap of every row at once, by McSherry & Najork's closed form of a whole tie group's slot sum.

    With C(j) = Σ_{i<=j} 1/i, a group of n items (r relevant) after N items (R_b relevant) adds
    (r/n)·[(R_b + 1)·(C(N+n) − C(N)) + (r − 1)/(n − 1)·(n − (N + 1)·(C(N+n) − C(N)))], the sum over its slots
    i = N+1..N+n of (r/n)·(R_b + 1 + (i − N − 1)(r − 1)/(n − 1))/i. Rows where R splits a group go to expected_ap.
    """
    distances = np.asarray(distances, dtype=np.int64)
    relevant = np.asarray(relevant, dtype=bool)
    n_q, n_db = distances.shape
    R = n_db if R is None else R
    n_bins = int(distances.max()) + 1
    keys = (distances + n_bins * np.arange(n_q)[:, None]).ravel()
    size = np.bincount(keys, minlength=n_q * n_bins).reshape(n_q, n_bins)
    rel = np.bincount(keys, weights=relevant.ravel(), minlength=n_q * n_bins).reshape(n_q, n_bins)
    N = np.cumsum(size, axis=1) - size
    Rb = np.cumsum(rel, axis=1) - rel
    C = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n_db + 1))])
    dC = C[N + size] - C[N]
    pairs = np.divide(rel - 1, size - 1, out=np.zeros(size.shape), where=size > 1)
    group = np.divide(rel, size, out=np.zeros(size.shape), where=size > 0) * ((Rb + 1) * dC + pairs * (size - (N + 1) * dC))
    inside = N + size <= R
    kept = np.where(inside, rel, 0).sum(axis=1)
    aps = np.divide(np.where(inside, group, 0.0).sum(axis=1), kept, out=np.zeros(n_q), where=kept > 0)
    for row in np.flatnonzero(((N < R) & (N + size > R)).any(axis=1)):
        aps[row] = expected_ap(distances[row], relevant[row], R)
    return aps


def expected_map(query_codes: np.ndarray, database_codes: np.ndarray, query_labels: np.ndarray,
                 database_labels: np.ndarray, R: int | None = None) -> float:
    """Tie-aware mAP@R (R=None: mAP@All) of Hamming ranking with relevance = same label (expected_aps)."""
    query_labels, database_labels = np.asarray(query_labels), np.asarray(database_labels)
    aps = [expected_aps(dist, query_labels[rows, None] == database_labels[None, :], R)
           for rows, dist in hamming_chunks(query_codes, database_codes)]
    return float(np.concatenate(aps).mean())


def seeded_order(distances: np.ndarray, seed: int, query_index: int) -> np.ndarray:
    """The ranking ties="random" documents for query query_index: by distance, ties by a uniform key drawn from
    numpy's default_rng(SeedSequence([seed, query_index])), one key per database item."""
    key = np.random.default_rng(np.random.SeedSequence([seed, query_index])).random(len(distances))
    return np.lexsort((key, distances))


def seeded_order_map(query_codes: np.ndarray, database_codes: np.ndarray, query_labels: np.ndarray,
                     database_labels: np.ndarray, seed: int, R: int | None = None) -> float:
    """mAP@R of Hamming ranking with ties broken by seeded_order, each query's ranking sorted explicitly."""
    database_labels = np.asarray(database_labels)
    return float(np.mean([ranking_ap((database_labels == query_labels[i])[seeded_order(d, seed, i)], R)
                          for rows, dist in hamming_chunks(query_codes, database_codes)
                          for i, d in zip(range(rows.start, rows.stop), dist)]))


def reference_map(record: Mapping[str, Any], protocol: Protocol, evaluation: str = "query", dataset: Any = None,
                  ties: str = "expected") -> float:
    """A record's mAP from scratch: the seed's split of the protocol (its validation split if asked), the record's
    method refitted with its stored parameters (k, seed and device included) on the database, and the brute-force
    mAP of its codes."""
    dataset = protocol.load() if dataset is None else dataset
    split = protocol.split(dataset.labels, record["seed"])
    if evaluation == "validation":
        split = protocol.validation_split(dataset.labels, split)
    X_db, X_q = dataset.features(split.database), dataset.features(split.queries)
    hasher = make_hasher(record["method"], **record["params"]).fit(X_db)
    args = (hasher.transform(X_q), hasher.transform(X_db), dataset.labels[split.queries], dataset.labels[split.database])
    if ties == "random":
        return seeded_order_map(*args, seed=record["seed"], R=protocol.R)
    return expected_map(*args, R=protocol.R)


def assert_maps_reproduce(records: Iterable[Mapping[str, Any]], protocol: Protocol, evaluation: str = "query",
                          dataset: Any = None, ties: str = "expected") -> None:
    """Every record's reported mAP equals reference_map to MAP_ATOL."""
    dataset = protocol.load() if dataset is None else dataset
    records = list(records)
    assert records, "no records to check"
    for record in records:
        expected = reference_map(record, protocol, evaluation, dataset, ties)
        assert abs(record["map"] - expected) <= MAP_ATOL, (
            f"{record['method']} k={record['params'].get('k')} seed={record['seed']}: reported mAP {record['map']!r}, "
            f"recomputed {expected!r}")
