"""Hamming search over binary codes, dense (k bits) or k-sparse (m units, k active).

``HammingIndex`` searches stored codes (``flymodel.codes``); ``hamming_distances``, ``iter_hamming_distances`` and
``search`` are brute-force helpers over the boolean matrix for small problems.

The Hamming distance between two codes a, b is ``|a| + |b| - 2⟨a, b⟩``; for k-sparse codes this is 2·(k − overlap),
so ranking by Hamming distance and ranking by overlap (the fly's readout) are the same ranking. Codes whose number of
active bits varies (a circuit's APL readout) are ranked by the same distance: for one query, ``|a|`` is fixed, so a
database code b ranks by ``|b| − 2⟨a, b⟩``; each shared active bit gains twice what each extra active bit costs, and
a silent code (``|b| = 0``) sits at distance ``|a|``, ahead of any code that shares less than half of its own bits
with the query. Dense codes are compared by FAISS (popcounts of packed bytes) or a matmul; sparse codes through an
inverted index (postings per unit), which is where the fly's expansion pays: the cost grows with the postings
touched, not m.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from flymodel.codes import SparseCodes, check_packed, is_index_matrix, pack_codes, packed_width, unpack_codes
from flymodel.io import atomic_path
from flymodel.validation import check_codes, check_int

__all__ = ["HammingIndex", "hamming_distances", "iter_hamming_distances", "search"]

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
    return _sparse_by_density(codes.shape[1], np.count_nonzero(codes), codes.shape[0])


def _sparse_by_density(n_bits: int, active: int, n_codes: int) -> bool:
    """The rule: wider than 128 bits with fewer than SPARSE_DENSITY of them active."""
    return n_bits > 128 and active < SPARSE_DENSITY * n_bits * n_codes


def _overlaps(queries: np.ndarray, prepared: np.ndarray | _Postings) -> np.ndarray:
    """Number of shared active bits between every query row and every database row (int32)."""
    if isinstance(prepared, _Postings):
        return prepared.overlaps(queries)
    return (queries.astype(np.float32) @ prepared.T).astype(np.int32)  # exact: counts < 2**24


def iter_hamming_distances(
    queries: np.ndarray, database: np.ndarray, chunk_size: int | None = None
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield (query slice, int32 Hamming distances to every database row), a chunk of queries at a time.

    Chunks bound the memory held. The database is prepared once: wide, sparse codes (more than 128 bits, fewer than ``SPARSE_DENSITY`` of them
    active) go through an inverted index of their active units, others through a float32 matrix product. Each
    distance is ``|a| + |b| − 2⟨a, b⟩``, exact.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_bits), dtype bool
        Query codes.
    database : ndarray of shape (n_database, n_bits), dtype bool
        Database codes.
    chunk_size : int or None, default None
        Queries per chunk, >= 1; None chooses it so that a chunk holds about ``CHUNK_ENTRIES`` (2**24) distances.

    Yields
    ------
    rows : slice
        The queries of this chunk.
    distances : ndarray of shape (rows.stop - rows.start, n_database), dtype int32
        Their Hamming distances to every database code.

    Raises
    ------
    TypeError
        If the codes are not boolean or `chunk_size` is not an integer.
    ValueError
        If the codes are not 2-D or are empty, their numbers of bits differ, or ``chunk_size < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.index import iter_hamming_distances
    >>> database = np.array([[0, 0, 0, 0, 1, 1, 1, 1],
    ...                      [0, 0, 0, 1, 1, 1, 1, 1],
    ...                      [1, 1, 1, 1, 0, 0, 0, 0]], dtype=bool)
    >>> for rows, distances in iter_hamming_distances(database[[0, 2]], database, chunk_size=1):
    ...     print(rows, distances)
    slice(0, 1, None) [[0 1 8]]
    slice(1, 2, None) [[8 7 0]]
    """
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
    """All Hamming distances (n_queries, n_database) as int32; for small problems and tests.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_bits), dtype bool
        Query codes.
    database : ndarray of shape (n_database, n_bits), dtype bool
        Database codes.

    Returns
    -------
    ndarray of shape (n_queries, n_database), dtype int32
        The number of bits in which each query differs from each database code.

    Raises
    ------
    TypeError
        If the codes are not boolean.
    ValueError
        If the codes are not 2-D or are empty, or their numbers of bits differ.

    See Also
    --------
    iter_hamming_distances : The same distances, a chunk of queries at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.index import hamming_distances
    >>> database = np.array([[0, 0, 0, 0, 1, 1, 1, 1],
    ...                      [0, 0, 0, 1, 1, 1, 1, 1],
    ...                      [1, 1, 1, 1, 0, 0, 0, 0]], dtype=bool)
    >>> hamming_distances(database[:2], database)
    array([[0, 1, 8],
           [1, 0, 7]], dtype=int32)
    """
    q = check_codes(queries, "query_codes")
    out = np.empty((q.shape[0], np.asarray(database).shape[0]), dtype=np.int32)
    for rows, dist in iter_hamming_distances(q, database):
        out[rows] = dist
    return out


def search(queries: np.ndarray, database: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """The n_neighbors nearest database rows of each query, FAISS-style (D, I); ties go to the lower index.

    A brute-force search over all distances (``iter_hamming_distances``), for small problems; ``HammingIndex``
    keeps the database between searches.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_bits), dtype bool
        Query codes.
    database : ndarray of shape (n_database, n_bits), dtype bool
        Database codes.
    n_neighbors : int
        Neighbours per query, in [1, n_database].

    Returns
    -------
    D : ndarray of shape (n_queries, n_neighbors), dtype int32
        Hamming distances of the neighbours, increasing along each row.
    I : ndarray of shape (n_queries, n_neighbors), dtype int64
        Their database rows; among equal distances, the lower row first.

    Raises
    ------
    TypeError
        If the codes are not boolean or `n_neighbors` is not an integer.
    ValueError
        If the codes are not 2-D or are empty, their numbers of bits differ, or `n_neighbors` lies outside
        [1, n_database].

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.index import search
    >>> database = np.array([[0, 0, 0, 0, 1, 1, 1, 1],
    ...                      [0, 0, 0, 1, 1, 1, 1, 1],
    ...                      [1, 1, 1, 1, 0, 0, 0, 0],
    ...                      [0, 0, 0, 0, 1, 1, 1, 1]], dtype=bool)
    >>> D, I = search(database[[0, 2]], database, n_neighbors=2)
    >>> D  # rows 0 and 3 are the same code: both at distance 0 from query 0
    array([[0, 0],
           [0, 7]], dtype=int32)
    >>> I
    array([[0, 3],
           [2, 1]])
    """
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


def _as_words(packed: np.ndarray) -> np.ndarray:
    """Packed codes as (n, ceil(bytes / 8)) uint64 words, the last zero-padded."""
    words = np.zeros((len(packed), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    words[:, :packed.shape[1]] = packed
    return words.view(np.uint64)


# --- a persistent index -----------------------------------------------------------------------------------------

#: distance_counts walks postings when at most this fraction of the stored bits is active, else XORs packed words.
COUNT_POSTINGS_DENSITY = 0.1
#: Distances computed at once by distance_counts' packed-word path (queries × stored codes).
COUNT_CHUNK_ENTRIES = 2**22

#: Codes converted at once between packed bytes and SparseCodes (bounds the boolean matrix held).
UNPACK_ROWS = 65536

#: Version of the HammingIndex file format (save/load); a file of another version is refused.
FORMAT_VERSION = 1
KINDS = ("auto", "dense", "sparse")


class HammingIndex:
    """Codes added once, searched many times by Hamming distance, exactly.

    Dense codes are kept in a FAISS IndexBinaryFlat (packed, np.packbits layout), k-sparse codes in an inverted
    index over active units kept between calls, so that a query costs the postings it touches rather than m.
    Results are exact and ordered by distance, then by id (the order of addition, from 0). Codes, stored and
    queries alike, may be passed as the boolean matrix, as packed uint8, as an (n, k) integer matrix of sorted
    active units, or as ``flymodel.codes.SparseCodes`` (the forms of ``flymodel.codes``, whatever the kind).
    ``len(index)`` is the number of codes stored.

    Parameters
    ----------
    n_bits : int
        Width of the codes (k bits for dense codes, m units for sparse ones), >= 1.
    kind : {"auto", "dense", "sparse"}, default "auto"
        How the codes are stored and searched: ``"dense"``, ``"sparse"``, or ``"auto"``: sparse when the first
        codes added are wider than 128 bits with fewer than 5 % of their bits active
        (``flymodel.index.SPARSE_DENSITY``), dense otherwise.

    Attributes
    ----------
    n_bits : int
        Width of the codes.
    kind : str
        ``"dense"`` or ``"sparse"`` once codes are added (``"auto"`` until then, if so constructed).

    Raises
    ------
    TypeError
        If `n_bits` is not an integer.
    ValueError
        If ``n_bits < 1`` or `kind` is not one of its values.

    See Also
    --------
    search : Brute-force search over boolean codes, without an index.

    Examples
    --------
    Four 8-bit codes (rows 0 and 3 are equal), searched by two queries:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.index import HammingIndex
    >>> codes = np.array([[0, 0, 0, 0, 1, 1, 1, 1],
    ...                   [0, 0, 0, 1, 1, 1, 1, 1],
    ...                   [1, 1, 1, 1, 0, 0, 0, 0],
    ...                   [0, 0, 0, 0, 1, 1, 1, 1]], dtype=bool)
    >>> index = HammingIndex(n_bits=8).add(codes)
    >>> len(index), index.kind, index.code_size  # one packed byte per code
    (4, 'dense', 1.0)
    >>> D, I = index.search(codes[[0, 2]], n_neighbors=3)
    >>> D
    array([[0, 0, 1],
           [0, 7, 8]], dtype=int32)
    >>> I  # equal distances: the lower id first
    array([[0, 3, 1],
           [2, 1, 0]])

    Every code within a radius; query q's results are ``D[lims[q]:lims[q + 1]]`` and ``I[lims[q]:lims[q + 1]]``:

    >>> lims, D, I = index.range_search(codes[[0, 2]], radius=1)
    >>> lims, D, I
    (array([0, 3, 4]), array([0, 0, 1, 0], dtype=int32), array([0, 3, 1, 2]))

    k-sparse codes, here 4 active units among 200 given as sorted indices, go to an inverted index; an index is
    saved to, and loaded from, one ``.npz`` file:

    >>> units = np.array([[0, 5, 9, 150], [0, 5, 9, 151], [1, 2, 3, 4], [0, 5, 60, 70]])
    >>> sparse = HammingIndex(n_bits=200).add(units)
    >>> sparse.kind
    'sparse'
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = sparse.save(os.path.join(folder, "index.npz"))
    ...     loaded = HammingIndex.load(path)
    >>> loaded.search(units[:1], n_neighbors=3)  # 2 · (k − shared units)
    (array([[0, 2, 4]], dtype=int32), array([[0, 1, 3]]))
    """

    def __init__(self, n_bits: int, kind: str = "auto"):
        self.n_bits = check_int(n_bits, "n_bits", minimum=1)
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}: expected one of {', '.join(KINDS)}")
        self.kind = kind
        self._packed: list[np.ndarray] = []
        self._sparse: list[SparseCodes] = []
        self._faiss = None
        self._posting_ptr: np.ndarray | None = None  # the inverted index, built on the first query (_build_postings)
        self._codes: SparseCodes | None = None
        self._words: np.ndarray | None = None  # packed codes as (words, n) uint64, for distance_counts
        self._packed_weights: np.ndarray | None = None  # active bits per dense code, for distance_counts
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def code_size(self) -> float:  # property; numpydoc ignore=RT01
        """Bytes stored per code: ceil(n_bits / 8) for dense codes, 4 per active unit plus 8 for sparse ones.

        A float: for sparse codes, the mean over the stored codes (``SparseCodes.nbytes / len``).
        """
        if self.kind == "sparse":
            stored = self._all_sparse()
            return stored.nbytes / max(len(stored), 1)
        return float(packed_width(self.n_bits))

    def add(self, codes: np.ndarray | SparseCodes) -> HammingIndex:
        """Append codes (ids continue from len(self)); returns self.

        The first call of an ``"auto"`` index chooses its kind from these codes. The FAISS index or the postings are
        (re)built on the next query.

        Parameters
        ----------
        codes : ndarray or SparseCodes
            The codes, in any form of ``flymodel.codes``: the boolean (n, n_bits) matrix, packed uint8
            (n, ceil(n_bits / 8)), an (n, k) integer matrix of sorted active units, or ``SparseCodes``.

        Returns
        -------
        HammingIndex
            This index, for chaining (``HammingIndex(n_bits).add(codes)``).

        Raises
        ------
        TypeError
            If an array of codes is neither boolean, packed uint8 nor an integer index matrix.
        ValueError
            If the codes are not n_bits wide, an index matrix's rows are not sorted and distinct or hold a unit
            outside [0, n_bits), or packed codes have non-zero padding bits.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> index = HammingIndex(16)
        >>> index.add(np.zeros((3, 16), dtype=bool)).add(np.packbits(np.ones((2, 16), dtype=bool), axis=1))
        <flymodel.index.HammingIndex object at 0x...>
        >>> len(index), index.search(np.ones((1, 16), dtype=bool), 2)  # ids 3 and 4: the packed ones
        (5, (array([[0, 0]], dtype=int32), array([[3, 4]])))
        """
        codes = self._from_indices(codes, "codes")
        if self.kind == "auto":
            self.kind = self._choose_kind(codes)
        if self.kind == "dense":
            packed = self._as_packed(codes, "codes")
            self._packed.append(packed)
            count = len(packed)
        else:
            sparse = self._as_sparse(codes, "codes")
            self._sparse.append(sparse)
            count = len(sparse)
        self._faiss = self._posting_ptr = self._codes = self._words = self._packed_weights = None
        self._size += count
        return self

    def search(self, queries: np.ndarray | SparseCodes, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """(D, I): the n_neighbors nearest codes of each query, int32 distances and int64 ids, by distance then id.

        Parameters
        ----------
        queries : ndarray or SparseCodes
            Query codes, in any form of ``flymodel.codes`` (see ``add``), n_bits wide.
        n_neighbors : int
            Neighbours per query, in [1, len(self)].

        Returns
        -------
        D : ndarray of shape (n_queries, n_neighbors), dtype int32
            Hamming distances of the neighbours, increasing along each row.
        I : ndarray of shape (n_queries, n_neighbors), dtype int64
            Their ids (order of addition); among equal distances, the lower id first.

        Raises
        ------
        TypeError
            If `n_neighbors` is not an integer, or the queries are not in a form of ``flymodel.codes``.
        ValueError
            If the index is empty, `n_neighbors` lies outside [1, len(self)], or the queries are not n_bits wide.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> index = HammingIndex(4).add(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=bool))
        >>> index.search(np.array([[1, 1, 1, 0]], dtype=bool), n_neighbors=2)
        (array([[1, 2]], dtype=int32), array([[0, 1]]))
        """
        n_neighbors = self._check_neighbors(n_neighbors)
        queries = self._from_indices(queries, "queries")
        if self.kind == "dense":
            D, I = self._dense_index().search(self._as_packed(queries, "queries"), n_neighbors)
            return D.astype(np.int32, copy=False), I.astype(np.int64, copy=False)
        found = [self._sparse_knn(units, n_neighbors) for units in self._query_units(queries)]
        D = np.array([d for d, _ in found], dtype=np.int32).reshape(-1, n_neighbors)
        return D, np.array([i for _, i in found], dtype=np.int64).reshape(-1, n_neighbors)

    def range_search(self, queries: np.ndarray | SparseCodes, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lims, D, I), as FAISS: every stored code within Hamming distance <= radius of each query.

        Query q's results are ``D[lims[q]:lims[q+1]]`` and ``I[lims[q]:lims[q+1]]``, ordered by distance then id.

        Parameters
        ----------
        queries : ndarray or SparseCodes
            Query codes, in any form of ``flymodel.codes`` (see ``add``), n_bits wide.
        radius : int
            The largest distance included, >= 0.

        Returns
        -------
        lims : ndarray of shape (n_queries + 1,), dtype int64
            Offsets of each query's results in D and I.
        D : ndarray of shape (lims[-1],), dtype int32
            Hamming distances, increasing within each query's results.
        I : ndarray of shape (lims[-1],), dtype int64
            Ids of the codes found; among equal distances, the lower id first.

        Raises
        ------
        TypeError
            If `radius` is not an integer, or the queries are not in a form of ``flymodel.codes``.
        ValueError
            If the index is empty, ``radius < 0``, or the queries are not n_bits wide.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> index = HammingIndex(4).add(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=bool))
        >>> lims, D, I = index.range_search(np.array([[1, 0, 0, 0], [0, 1, 1, 1]], dtype=bool), radius=1)
        >>> for q in range(2):
        ...     print(q, D[lims[q]:lims[q + 1]], I[lims[q]:lims[q + 1]])
        0 [0 1] [1 0]
        1 [1] [2]
        """
        radius = check_int(radius, "radius", minimum=0)
        self._check_nonempty()
        queries = self._from_indices(queries, "queries")
        if self.kind == "dense":
            lims, D, I = self._dense_index().range_search(self._as_packed(queries, "queries"), radius + 1)  # FAISS: <
            D, I = D.astype(np.int32), I.astype(np.int64)
            for q in range(len(lims) - 1):  # FAISS returns each query's results unordered
                lo, hi = lims[q], lims[q + 1]
                order = np.lexsort((I[lo:hi], D[lo:hi]))
                D[lo:hi], I[lo:hi] = D[lo:hi][order], I[lo:hi][order]
            return lims.astype(np.int64), D, I
        lims, D, I = [0], [np.empty(0, np.int32)], [np.empty(0, np.int64)]
        for units in self._query_units(queries):
            dist, ids, counts = self._sparse_candidates(units)
            weight, by_weight, weights = len(units), self._by_weight, self._weights
            others = by_weight[:np.searchsorted(weights[by_weight], radius - weight, side="right")]
            others = others[counts[others] == 0]  # codes sharing no unit: distance |q| + |b|
            dist = np.concatenate([dist, weight + weights[others]])
            ids = np.concatenate([ids, others])
            keep = dist <= radius
            order = np.lexsort((ids[keep], dist[keep]))
            D.append(dist[keep][order].astype(np.int32))
            I.append(ids[keep][order].astype(np.int64))
            lims.append(lims[-1] + int(keep.sum()))
        return np.array(lims, dtype=np.int64), np.concatenate(D), np.concatenate(I)

    @property
    def faiss_index(self):  # noqa: ANN201 (faiss.IndexBinaryFlat; faiss is imported on first use); property; numpydoc ignore=RT01
        """The FAISS IndexBinaryFlat that holds dense codes (built after the last add), for FAISS's own tools.

        A ``faiss.IndexBinaryFlat`` of ``8 * ceil(n_bits / 8)`` bits, holding every stored code in the order of
        addition. Reading it raises a ValueError when the index holds sparse codes or is empty.
        """
        if self.kind != "dense":
            raise ValueError(f"this index holds {self.kind} codes; only a dense index keeps a FAISS IndexBinaryFlat")
        self._check_nonempty()
        return self._dense_index()

    def distance_counts(self, queries: np.ndarray | SparseCodes, groups: np.ndarray | None = None,
                        n_groups: int = 1) -> np.ndarray:
        """How many stored codes of each group lie at each Hamming distance from each query, exactly.

        The counting pass of ``flymodel.metrics``' tie-aware mAP: no sort, no full distance matrix kept. Sparse codes
        (at most 10 % of bits active, ``COUNT_POSTINGS_DENSITY``) walk the postings, built once and kept; denser
        ones XOR packed 64-bit words and popcount them.

        Parameters
        ----------
        queries : ndarray or SparseCodes
            Query codes, in any form of ``flymodel.codes`` (see ``add``), n_bits wide.
        groups : ndarray of shape (len(self),) or None, default None
            Each stored code's group, an integer in [0, n_groups) (e.g. its class label); None puts all in
            group 0.
        n_groups : int, default 1
            Number of groups, >= 1.

        Returns
        -------
        ndarray of shape (n_queries, n_groups, n_distances), dtype int64
            ``counts[q, g, d]``: the stored codes of group g at distance d from query q. n_distances is the largest
            query weight plus the largest stored weight, plus one (weights are numbers of active bits).

        Raises
        ------
        TypeError
            If `n_groups` is not an integer, or the queries are not in a form of ``flymodel.codes``.
        ValueError
            If the index is empty, ``n_groups < 1``, `groups` does not hold one integer in [0, n_groups) per
            stored code, or the queries are not n_bits wide.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> index = HammingIndex(4).add(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=bool))
        >>> index.distance_counts(np.array([[1, 0, 0, 0]], dtype=bool))  # distances 1, 0, 3
        array([[[1, 1, 0, 1]]])
        >>> index.distance_counts(np.array([[1, 0, 0, 0]], dtype=bool), groups=np.array([0, 0, 1]), n_groups=2)
        array([[[1, 1, 0, 0],
                [0, 0, 0, 1]]])
        """
        self._check_nonempty()
        queries = self._as_sparse(self._from_indices(queries, "queries"), "queries")
        n_groups = check_int(n_groups, "n_groups", minimum=1)
        groups = np.zeros(self._size, np.int64) if groups is None else np.asarray(groups)
        if groups.shape != (self._size,) or not np.issubdtype(groups.dtype, np.integer) \
                or (self._size and (groups.min() < 0 or groups.max() >= n_groups)):
            raise ValueError(f"groups must hold one integer in [0, n_groups={n_groups}) per stored code "
                             f"({self._size}); got {groups.dtype} of shape {groups.shape}")
        weights = self._stored_weights()
        n_bins = int(queries.weights.max(initial=0)) + int(weights.max(initial=0)) + 1
        if len(queries) == 0:
            return np.zeros((0, n_groups, n_bins), dtype=np.int64)
        if weights.sum() <= COUNT_POSTINGS_DENSITY * self.n_bits * self._size:
            return self._counts_by_postings(queries, groups.astype(np.int64), n_groups, n_bins)
        return self._counts_by_words(queries, groups.astype(np.int64), n_groups, n_bins)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to one .npz file, atomically, with its format version.

        The file holds the format version (``FORMAT_VERSION``), n_bits, the kind and the codes: packed bytes for a
        dense index, CSR arrays for a sparse one. It is written to a temporary file that replaces `path` when
        complete.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (``np.savez`` format; give it an ``.npz`` suffix).

        Returns
        -------
        pathlib.Path
            `path`.

        Raises
        ------
        ValueError
            If the index is empty.

        See Also
        --------
        HammingIndex.load : Read the file back.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> index = HammingIndex(4).add(np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool))
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = index.save(os.path.join(folder, "index.npz"))
        ...     print(path.name, len(HammingIndex.load(path)))
        index.npz 2
        """
        self._check_nonempty()
        arrays: dict[str, np.ndarray] = {"format_version": np.array(FORMAT_VERSION), "n_bits": np.array(self.n_bits),
                                         "kind": np.array(self.kind)}
        if self.kind == "dense":
            arrays["packed"] = np.concatenate(self._packed)
        else:
            stored = self._all_sparse()
            arrays.update(indptr=stored.indptr, indices=stored.indices)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> HammingIndex:
        """An index written by save(); a file that is not one, or of another format version, raises a ValueError.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by ``HammingIndex.save``.

        Returns
        -------
        HammingIndex
            The index, with the same kind, codes and ids.

        Raises
        ------
        ValueError
            If `path` cannot be read as an ``.npz`` file (including a missing file), is not a HammingIndex file,
            has another format version, or is corrupt.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from flymodel.index import HammingIndex
        >>> codes = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = HammingIndex(4).add(codes).save(os.path.join(folder, "index.npz"))
        ...     index = HammingIndex.load(path)
        >>> index.kind, len(index), index.search(codes[1:], 1)
        ('dense', 2, (array([[0]], dtype=int32), array([[1]])))
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ValueError(f"{path} is not a HammingIndex file (flymodel.index.HammingIndex.save): {exc}") from None
        if "format_version" not in arrays or int(arrays["format_version"]) != FORMAT_VERSION:
            raise ValueError(f"{path}: HammingIndex format version {arrays.get('format_version')!s}, expected "
                             f"{FORMAT_VERSION}")
        try:
            index = cls(int(arrays["n_bits"]), str(arrays["kind"]))
            if index.kind == "dense":
                return index.add(arrays["packed"])
            return index.add(SparseCodes(arrays["indptr"], arrays["indices"], index.n_bits))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: a corrupt HammingIndex file: {exc}") from None

    # --- internals ---------------------------------------------------------------------------------------------

    def _is_packed(self, codes: np.ndarray) -> bool:
        """uint8 rows of ceil(n_bits / 8) bytes are packed codes (a uint8 0/1 matrix of n_bits columns is not)."""
        return codes.dtype == np.uint8 and codes.ndim == 2 and codes.shape[1] == packed_width(self.n_bits) \
            and codes.shape[1] != self.n_bits

    def _from_indices(self, codes: np.ndarray | SparseCodes, name: str) -> np.ndarray | SparseCodes:
        """An (n, k) matrix of active units as SparseCodes; other forms unchanged."""
        if is_index_matrix(codes):
            try:
                return SparseCodes.from_indices(codes, self.n_bits)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return codes

    def _choose_kind(self, codes: np.ndarray | SparseCodes) -> str:
        if isinstance(codes, SparseCodes):
            return "sparse" if _sparse_by_density(self.n_bits, len(codes.indices), len(codes)) else "dense"
        codes = np.asarray(codes)
        if self._is_packed(codes):
            return "dense"
        return "sparse" if _is_sparse(self._as_bool(codes, "codes")) else "dense"

    def _as_bool(self, codes: np.ndarray, name: str) -> np.ndarray:
        codes = check_codes(codes, name)
        if codes.shape[1] != self.n_bits:
            raise ValueError(f"{name} have {codes.shape[1]} bits; this index holds {self.n_bits}-bit codes")
        return codes

    def _as_packed(self, codes: np.ndarray | SparseCodes, name: str) -> np.ndarray:
        if isinstance(codes, SparseCodes):  # in blocks of rows, never the whole boolean matrix
            if codes.n_bits != self.n_bits:
                raise ValueError(f"{name} have {codes.n_bits} bits; this index holds {self.n_bits}-bit codes")
            return np.concatenate([np.zeros((0, packed_width(self.n_bits)), np.uint8)] +
                                  [pack_codes(codes.rows(start, min(start + UNPACK_ROWS, len(codes))).to_dense())
                                   for start in range(0, len(codes), UNPACK_ROWS)])
        codes = np.asarray(codes)
        if self._is_packed(codes):
            return check_packed(codes, self.n_bits, name)
        return pack_codes(self._as_bool(codes, name))

    def _as_sparse(self, codes: np.ndarray | SparseCodes, name: str) -> SparseCodes:
        if isinstance(codes, SparseCodes):
            if codes.n_bits != self.n_bits:
                raise ValueError(f"{name} have {codes.n_bits} bits; this index holds {self.n_bits}-bit codes")
            return codes
        codes = np.asarray(codes)
        if self._is_packed(codes):
            return SparseCodes.from_dense(unpack_codes(codes, self.n_bits))
        return SparseCodes.from_dense(self._as_bool(codes, name))

    def _all_sparse(self) -> SparseCodes:
        """Every stored sparse code as one SparseCodes (the batches are merged once)."""
        if self._codes is None:
            self._codes = SparseCodes.concatenate(self._sparse, self.n_bits)
            self._sparse = [self._codes]
        return self._codes

    def _stored_weights(self) -> np.ndarray:
        """Active bits of every stored code (dense codes: popcounts of the packed bytes, kept)."""
        if self.kind == "sparse":
            return self._all_sparse().weights
        if self._packed_weights is None:
            packed = np.concatenate(self._packed)
            self._packed = [packed]
            self._packed_weights = np.bitwise_count(packed).sum(axis=1, dtype=np.int32)
        return self._packed_weights

    def _sparse_view(self) -> SparseCodes:
        """The stored codes as SparseCodes whatever the kind (dense codes are unpacked once and kept)."""
        if self.kind == "sparse":
            return self._all_sparse()
        if self._codes is None:
            packed = np.concatenate(self._packed)
            self._packed = [packed]
            self._codes = SparseCodes.concatenate(
                [SparseCodes.from_dense(unpack_codes(packed[start:start + UNPACK_ROWS], self.n_bits))
                 for start in range(0, len(packed), UNPACK_ROWS)], self.n_bits)
        return self._codes

    def _counts_by_postings(self, queries: SparseCodes, groups: np.ndarray, n_groups: int, n_bins: int) -> np.ndarray:
        """distance_counts from the postings: per query, the overlap with every stored code (one bincount of the
        postings its units touch), the distances |q| + |b| − 2⟨q, b⟩, then one bincount by (group, distance). Linear
        in the stored codes with a small constant, and never m; faster than gathering the candidates' ids."""
        if self._posting_ptr is None:
            self._build_postings()
        base = self._weights.astype(np.int64) + groups * n_bins  # |b| plus the key offset of b's group
        ptr, ids = self._posting_ptr, self._posting_ids
        counts = np.empty((len(queries), n_groups, n_bins), dtype=np.int64)
        for row in range(len(queries)):
            units = queries.indices[queries.indptr[row]:queries.indptr[row + 1]]
            touched = np.concatenate([ids[ptr[u]:ptr[u + 1]] for u in units]) if len(units) else ids[:0]
            keys = np.bincount(touched, minlength=self._size)
            keys *= -2
            keys += base
            keys += len(units)
            counts[row] = np.bincount(keys, minlength=n_groups * n_bins).reshape(n_groups, n_bins)
        return counts

    def _counts_by_words(self, queries: SparseCodes, groups: np.ndarray, n_groups: int, n_bins: int) -> np.ndarray:
        """distance_counts by XOR and popcount of 64-bit words, a chunk of queries at a time, then one bincount."""
        if self._words is None:
            self._words = np.ascontiguousarray(_as_words(np.concatenate(self._packed) if self.kind == "dense" else
                                                         self._as_packed(self._all_sparse(), "codes")).T)
        words = _as_words(self._as_packed(queries, "queries"))
        counts = np.empty((len(queries), n_groups, n_bins), dtype=np.int64)
        chunk = max(1, COUNT_CHUNK_ENTRIES // self._size)
        dtype = np.uint8 if self.n_bits < 2**8 else np.uint16 if self.n_bits < 2**16 else np.uint32
        group_keys = torch.from_numpy(groups * n_bins)
        for start in range(0, len(queries), chunk):
            rows = words[start:start + chunk]
            dist = np.bitwise_count(rows[:, :1] ^ self._words[0][None, :]).astype(dtype, copy=False)
            for w in range(1, self._words.shape[0]):
                dist += np.bitwise_count(rows[:, w:w + 1] ^ self._words[w][None, :])
            keys = torch.from_numpy(dist).to(torch.int64) + group_keys
            keys += (n_groups * n_bins * torch.arange(len(rows)))[:, None]
            found = torch.bincount(keys.ravel(), minlength=len(rows) * n_groups * n_bins)  # torch's is parallel
            counts[start:start + len(rows)] = found.numpy().reshape(len(rows), n_groups, n_bins)
        return counts

    def _dense_index(self):
        """The FAISS IndexBinaryFlat of the stored packed codes, built once after the last add."""
        import faiss

        if self._faiss is None:
            self._faiss = faiss.IndexBinaryFlat(8 * packed_width(self.n_bits))
            packed = np.concatenate(self._packed)
            self._packed = [packed]
            self._faiss.add(packed)
        return self._faiss

    def _query_units(self, queries: np.ndarray | SparseCodes) -> Iterator[np.ndarray]:
        """Each query's active units (the postings are built on the first query after an add)."""
        self._check_nonempty()
        if self._posting_ptr is None:
            self._build_postings()
        if isinstance(queries, SparseCodes):
            sparse = self._as_sparse(queries, "queries")
        elif self._is_packed(np.asarray(queries)):
            sparse = SparseCodes.from_dense(unpack_codes(np.asarray(queries), self.n_bits))
        else:
            sparse = SparseCodes.from_dense(self._as_bool(queries, "queries"))
        for row in range(len(sparse)):
            yield sparse.indices[sparse.indptr[row]:sparse.indptr[row + 1]]

    def _build_postings(self) -> None:
        """The inverted index (for each unit the ids of the codes where it is active, CSC) and the codes sorted by
        their number of active units, then id."""
        stored = self._sparse_view()
        self._weights = stored.weights
        id_type = np.int32 if len(stored) < 2**31 else np.int64  # halves the postings' memory
        ids = np.repeat(np.arange(len(stored), dtype=id_type), self._weights)
        order = np.argsort(stored.indices, kind="stable")
        self._posting_ids = ids[order]
        self._posting_ptr = np.zeros(self.n_bits + 1, dtype=np.int64)
        np.cumsum(np.bincount(stored.indices, minlength=self.n_bits), out=self._posting_ptr[1:])
        self._by_weight = np.lexsort((np.arange(len(stored)), self._weights))

    def _sparse_candidates(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The codes sharing at least one active unit with a query, and their Hamming distances |q| + |b| − 2⟨q, b⟩:
        the cost is the postings of the query's units plus one pass over the ids, never m. Also the overlap of
        every code (0 for the others)."""
        ptr = self._posting_ptr
        touched = np.concatenate([self._posting_ids[ptr[u]:ptr[u + 1]] for u in units]) if len(units) else \
            np.empty(0, np.int64)
        counts = np.bincount(touched, minlength=len(self._weights))  # one C pass; a sort of the touched ids is slower
        ids = np.flatnonzero(counts)
        return len(units) + self._weights[ids] - 2 * counts[ids], ids, counts

    def _sparse_knn(self, units: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """One query's n_neighbors nearest codes, by distance then id: its candidates (shared units) and the
        lightest codes sharing none (distance |q| + |b|, in the precomputed order of |b| then id)."""
        dist, ids, counts = self._sparse_candidates(units)
        others = self._by_weight[:n_neighbors + len(ids)]
        others = others[counts[others] == 0][:n_neighbors]
        dist = np.concatenate([dist, len(units) + self._weights[others]])
        ids = np.concatenate([ids, others])
        key = dist.astype(np.int64) * self._size + ids  # unique: selects exactly the (distance, id)-smallest
        if len(key) > n_neighbors:
            key = key[np.argpartition(key, n_neighbors - 1)[:n_neighbors]]
        key = np.sort(key)
        return (key // self._size).astype(np.int32), key % self._size

    def _check_nonempty(self) -> None:
        if self._size == 0:
            raise ValueError("the index is empty; add codes first")

    def _check_neighbors(self, n_neighbors: int) -> int:
        self._check_nonempty()
        return check_int(n_neighbors, "n_neighbors", minimum=1, maximum=self._size)
