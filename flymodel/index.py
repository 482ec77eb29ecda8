"""Hamming search over boolean codes, dense (k bits) or k-sparse (m units, k active), from one representation.

A code is a row of a boolean matrix. The Hamming distance between two rows a, b is
|a| + |b| - 2⟨a, b⟩; for k-sparse codes this is 2·(k − overlap), so ranking by Hamming distance and
ranking by overlap (the fly's readout) are the same ranking. Codes whose number of active bits varies (a circuit's
APL readout) are ranked by the same distance: for one query, |a| is fixed, so a database code b ranks by
|b| − 2⟨a, b⟩; each shared active bit gains twice what each extra active bit costs, and a silent code (|b| = 0) sits
at distance |a|, ahead of any code that shares less than half of its own bits with the query. The overlap ⟨a, b⟩ is computed by a dense
matmul for dense codes and through an inverted index (postings per unit) when codes are sparse,
which is where the fly's expansion pays: the cost grows with k², not with m.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from flymodel.validation import check_codes, check_int

#: Codes whose fraction of active bits is below this (and that are wider than 128 bits) use a sparse product.
SPARSE_DENSITY = 0.05
#: Units active in more than this fraction of the database are multiplied densely rather than walked.
DENSE_POSTINGS = 0.03
#: At most this many float32 entries (n_rows × dense units, about 256 MB) are kept as dense columns.
DENSE_ENTRIES = 2**26
#: Distance-matrix entries computed at once when chunking over queries (about 64 MB of int32).
CHUNK_ENTRIES = 2**24


class _Postings:
    """Inverted index of sparse codes: for each unit, the database rows where it is active (CSC layout).

    Real codes use some units far more than others (a KC that samples the centre of MNIST digits fires
    for thousands of images). Walking the postings of such a unit costs more than a dense product, so the
    most used units (postings longer than DENSE_POSTINGS · n_rows) are kept as dense float columns and
    multiplied; the rest are walked.
    """

    def __init__(self, database: np.ndarray):
        self.n_rows = database.shape[0]
        rows, units = torch.from_numpy(database).nonzero(as_tuple=True)
        lengths = torch.bincount(units, minlength=database.shape[1])
        self.weights = torch.bincount(rows, minlength=self.n_rows).to(torch.int32).numpy()
        budget = max(0, DENSE_ENTRIES // self.n_rows)  # dense columns that fit the memory budget
        busiest = torch.argsort(lengths, descending=True, stable=True)[:budget]
        self.dense_units = busiest[lengths[busiest] > DENSE_POSTINGS * self.n_rows]
        self.is_dense = torch.zeros(database.shape[1], dtype=torch.bool)
        self.is_dense[self.dense_units] = True
        self.dense_columns = torch.from_numpy(database[:, self.dense_units.numpy()]).float()
        keep = ~self.is_dense[units]
        units, order = torch.sort(units[keep], stable=True)
        self.rows = rows[keep][order]
        self.indptr = torch.zeros(database.shape[1] + 1, dtype=torch.int64)
        self.indptr[1:] = torch.cumsum(torch.bincount(units, minlength=database.shape[1]), 0)

    def overlaps(self, queries: np.ndarray) -> np.ndarray:
        """Shared active units of each query with every database row: dense product for busy units, postings for the rest."""
        q = torch.from_numpy(queries)
        qrow, unit = q.nonzero(as_tuple=True)
        keep = ~self.is_dense[unit]
        qrow, unit = qrow[keep], unit[keep]
        starts, lengths = self.indptr[unit], self.indptr[unit + 1] - self.indptr[unit]
        ends = torch.cumsum(lengths, 0)
        offsets = torch.arange(int(ends[-1]) if len(ends) else 0) - torch.repeat_interleave(ends - lengths, lengths)
        db_rows = self.rows[torch.repeat_interleave(starts, lengths) + offsets]
        keys = torch.repeat_interleave(qrow, lengths) * self.n_rows + db_rows
        counts = torch.zeros(queries.shape[0] * self.n_rows, dtype=torch.int32)
        counts.scatter_add_(0, keys, torch.ones(len(keys), dtype=torch.int32))
        counts = counts.view(queries.shape[0], self.n_rows)
        if len(self.dense_units):
            counts += (q[:, self.dense_units].float() @ self.dense_columns.T).to(torch.int32)  # exact: < 2**24
        return counts.numpy()


def _is_sparse(codes: np.ndarray) -> bool:
    """Sparse codes (wide, few active bits) are searched through postings; others by a dense matmul."""
    return codes.shape[1] > 128 and np.count_nonzero(codes) < SPARSE_DENSITY * codes.size


def _overlaps(queries: np.ndarray, prepared: np.ndarray | _Postings) -> np.ndarray:
    """Number of shared active bits between every query row and every database row (int32)."""
    if isinstance(prepared, _Postings):
        return prepared.overlaps(queries)
    return (queries.astype(np.float32) @ prepared.T).astype(np.int32)  # exact: counts < 2**24


def iter_hamming_distances(
    queries: np.ndarray, database: np.ndarray, chunk_size: int | None = None
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (query slice, int32 Hamming distances to every database row) in chunks of queries, to bound memory."""
    queries = check_codes(queries, "query_codes")
    database = check_codes(database, "database_codes")
    if queries.shape[1] != database.shape[1]:
        raise ValueError(
            f"query_codes have {queries.shape[1]} bits but database_codes have {database.shape[1]}; they must match"
        )
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ENTRIES // database.shape[0])
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if _is_sparse(database):
        prepared: np.ndarray | _Postings = _Postings(database)
        db_weight = prepared.weights
    else:
        prepared = database.astype(np.float32)
        db_weight = database.sum(axis=1, dtype=np.int32)
    for start in range(0, queries.shape[0], chunk_size):
        rows = slice(start, min(start + chunk_size, queries.shape[0]))
        q_weight = queries[rows].sum(axis=1, dtype=np.int32)
        dist = _overlaps(queries[rows], prepared)
        dist *= -2  # in place: |a| + |b| − 2⟨a, b⟩ without full-size temporaries
        dist += q_weight[:, None]
        dist += db_weight[None, :]
        yield rows, dist


def hamming_distances(queries: np.ndarray, database: np.ndarray) -> np.ndarray:
    """All Hamming distances (n_queries, n_database) as int32; for small problems and tests."""
    q = check_codes(queries, "query_codes")
    out = np.empty((q.shape[0], np.asarray(database).shape[0]), dtype=np.int32)
    for rows, dist in iter_hamming_distances(q, database):
        out[rows] = dist
    return out


def search(queries: np.ndarray, database: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """The n_neighbors nearest database rows of each query, FAISS-style (D, I); ties go to the lower index."""
    n_db = np.asarray(database).shape[0]
    n_neighbors = check_int(n_neighbors, "n_neighbors", minimum=1, maximum=n_db)
    q = check_codes(queries, "query_codes")
    D = np.empty((q.shape[0], n_neighbors), dtype=np.int32)
    I = np.empty((q.shape[0], n_neighbors), dtype=np.int64)
    for rows, dist in iter_hamming_distances(q, database):
        order = np.argsort(dist, axis=1, kind="stable")[:, :n_neighbors]
        I[rows] = order
        D[rows] = np.take_along_axis(dist, order, axis=1)
    return D, I
