"""Binary codes as they are stored: packed bytes for dense codes, sorted active units for k-sparse ones.

Dense codes are packed 8 bits to a byte; k-sparse codes are stored as the sorted indices of their active units (an
(n, k) integer matrix when every code has k, CSR when the number varies), with exact conversions to and from the
boolean matrix that the hashers return.

Array conventions (what Hasher.encode returns, flymodel encode writes and HammingIndex takes): uint8 (n, ceil(n_bits/8))
is packed codes; an (n, k) matrix of any other integer dtype holds each code's k active units, sorted.

Packed codes use numpy's np.packbits layout (first bit in the most significant bit of the first byte, the last byte
padded with zeros), the layout of FAISS binary indexes (IndexBinaryFlat and its kin take uint8 arrays of
ceil(n_bits / 8) bytes per code). Padding bits are zero in every code, so they never change a Hamming distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flymodel.validation import check_codes, check_int

__all__ = ["SparseCodes", "check_packed", "is_index_matrix", "pack_codes", "packed_width", "unpack_codes"]

#: Bytes per active unit (int32 index) and per code (int64 row pointer) of SparseCodes.
SPARSE_INDEX_BYTES, SPARSE_POINTER_BYTES = 4, 8


def packed_width(n_bits: int) -> int:
    """Bytes per packed code of n_bits bits.

    Parameters
    ----------
    n_bits : int
        Bits per code, >= 1.

    Returns
    -------
    int
        The number of bytes, ceil(n_bits / 8).

    Raises
    ------
    TypeError
        If `n_bits` is not an integer.
    ValueError
        If ``n_bits < 1``.

    Examples
    --------
    >>> from flymodel.codes import packed_width
    >>> packed_width(8), packed_width(10), packed_width(64)
    (1, 2, 8)
    """
    return (check_int(n_bits, "n_bits", minimum=1) + 7) // 8


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """A boolean (n, n_bits) code matrix as packed uint8 (n, ceil(n_bits / 8)), np.packbits layout.

    The first bit of a code goes to the most significant bit of its first byte, and the last byte is padded with
    zero bits: the layout of FAISS binary indexes.

    Parameters
    ----------
    codes : ndarray of shape (n, n_bits), dtype bool
        The codes, as a hasher's ``transform`` returns them.

    Returns
    -------
    ndarray of shape (n, ceil(n_bits / 8)), dtype uint8
        The packed codes.

    Raises
    ------
    TypeError
        If `codes` is not boolean.
    ValueError
        If `codes` is not 2-D or is empty.

    See Also
    --------
    unpack_codes : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.codes import pack_codes
    >>> codes = np.array([[1, 0, 1, 1, 0, 0, 0, 0, 0, 1],
    ...                   [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]], dtype=bool)
    >>> pack_codes(codes)  # 10 bits in 2 bytes: 0b10110000 = 176, 0b01000000 = 64
    array([[176,  64],
           [ 64, 128]], dtype=uint8)
    """
    return np.packbits(check_codes(codes, "codes"), axis=1)


def unpack_codes(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """Packed uint8 codes back to the boolean (n, n_bits) matrix; the padding bits must be zero.

    Parameters
    ----------
    packed : ndarray of shape (n, ceil(n_bits / 8)), dtype uint8
        Packed codes, np.packbits layout.
    n_bits : int
        Bits per code.

    Returns
    -------
    ndarray of shape (n, n_bits), dtype bool
        The codes.

    Raises
    ------
    ValueError
        If `packed` is not uint8, has another shape, or has a non-zero padding bit (see ``check_packed``).
    TypeError
        If `n_bits` is not an integer.

    See Also
    --------
    pack_codes : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.codes import unpack_codes
    >>> unpack_codes(np.array([[176, 64], [64, 128]], dtype=np.uint8), 10).astype(int)
    array([[1, 0, 1, 1, 0, 0, 0, 0, 0, 1],
           [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]])
    >>> unpack_codes(np.array([[176, 65]], dtype=np.uint8), 10)  # bit 16 is set: not a 10-bit code
    Traceback (most recent call last):
        ...
    ValueError: packed have non-zero padding bits beyond n_bits=10; they were not packed from 10-bit codes
    """
    packed = check_packed(packed, n_bits, "packed")  # also refuses non-zero padding bits
    return np.unpackbits(packed, axis=1, count=n_bits).astype(bool)


def check_packed(packed: np.ndarray, n_bits: int, name: str) -> np.ndarray:
    """A 2-D uint8 array of ceil(n_bits / 8) bytes per row, or a ValueError naming what is wrong.

    Also refuses packed codes with a non-zero padding bit (beyond n_bits in the last byte): they were not packed
    from n_bits-bit codes, and would change Hamming distances.

    Parameters
    ----------
    packed : array-like of shape (n, ceil(n_bits / 8)), dtype uint8
        Packed codes, np.packbits layout.
    n_bits : int
        Bits per code.
    name : str
        Name of the argument, used in the error messages.

    Returns
    -------
    ndarray of shape (n, ceil(n_bits / 8)), dtype uint8
        `packed` as a C-contiguous array.

    Raises
    ------
    ValueError
        If `packed` is not uint8, not 2-D with ceil(n_bits / 8) columns, or has a non-zero padding bit, or if
        ``n_bits < 1``.
    TypeError
        If `n_bits` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.codes import check_packed
    >>> check_packed(np.array([[176, 64]], dtype=np.uint8), 10, "codes")
    array([[176,  64]], dtype=uint8)
    >>> check_packed(np.array([[176, 64]], dtype=np.uint8), 24, "codes")
    Traceback (most recent call last):
        ...
    ValueError: codes has shape (1, 2); expected (n, 3) bytes for 24-bit codes
    """
    packed = np.asarray(packed)
    width = packed_width(n_bits)
    if packed.dtype != np.uint8:
        raise ValueError(f"{name} has dtype {packed.dtype}; packed codes are uint8 (np.packbits), or pass the boolean "
                         "code matrix")
    if packed.ndim != 2 or packed.shape[1] != width:
        raise ValueError(f"{name} has shape {packed.shape}; expected (n, {width}) bytes for {n_bits}-bit codes")
    padding = (1 << (8 * width - n_bits)) - 1  # the low bits of the last byte beyond n_bits (np.packbits order)
    if padding and len(packed) and np.any(packed[:, -1] & padding):
        raise ValueError(f"{name} have non-zero padding bits beyond n_bits={n_bits}; they were not packed from "
                         f"{n_bits}-bit codes")
    return np.ascontiguousarray(packed)


def is_index_matrix(codes: object) -> bool:
    """Whether codes is an (n, k) matrix of active-unit indices: any integer dtype except uint8 (packed).

    Only the type, number of dimensions and dtype are looked at, not the values.

    Parameters
    ----------
    codes : object
        Anything.

    Returns
    -------
    bool
        True for a 2-D ndarray of an integer dtype other than uint8.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.codes import is_index_matrix
    >>> is_index_matrix(np.array([[0, 3], [1, 2]], dtype=np.int32))  # active units
    True
    >>> is_index_matrix(np.array([[176, 64]], dtype=np.uint8))  # packed bytes
    False
    >>> is_index_matrix(np.array([[True, False]]))  # the boolean matrix
    False
    """
    return isinstance(codes, np.ndarray) and codes.ndim == 2 and np.issubdtype(codes.dtype, np.integer) \
        and codes.dtype != np.uint8


@dataclass(frozen=True)
class SparseCodes:  # dataclass fields; numpydoc ignore=PR02
    """Sparse codes in CSR layout: row i's active units are ``indices[indptr[i]:indptr[i+1]]``, sorted.

    For k-sparse (or varying-density) codes. Memory: 4 bytes per active unit plus 8 per code, against n_bits / 8 per
    packed code. ``len(codes)`` is the number of codes. The dataclass is frozen; the constructor checks the
    structure (it does not check that each row is sorted: ``from_dense`` and ``from_indices`` build sorted rows).

    Parameters
    ----------
    indptr : ndarray of shape (n + 1,), dtype int64
        Row pointers: 0 first, non-decreasing, ``len(indices)`` last.
    indices : ndarray of shape (nnz,), dtype int32
        The active units of all codes, one row after another, each in [0, n_bits).
    n_bits : int
        Width of the codes (m units).

    Raises
    ------
    ValueError
        If `indptr` does not start at 0, decreases or does not end at ``len(indices)``, or an index lies outside
        [0, n_bits).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.codes import SparseCodes
    >>> codes = np.array([[1, 0, 1, 1, 0, 0, 0, 0, 0, 1],
    ...                   [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]], dtype=bool)
    >>> sparse = SparseCodes.from_dense(codes)
    >>> sparse
    SparseCodes(indptr=array([0, 4, 6]), indices=array([0, 2, 3, 9, 1, 8], dtype=int32), n_bits=10)
    >>> len(sparse), sparse.weights, sparse.nbytes  # 3 row pointers of 8 bytes, 6 units of 4
    (2, array([4, 2], dtype=int32), 48)
    >>> bool((sparse.to_dense() == codes).all())
    True
    """

    indptr: np.ndarray  # int64, (n + 1,)
    indices: np.ndarray  # int32, (nnz,)
    n_bits: int

    def __post_init__(self) -> None:
        indptr, indices = np.asarray(self.indptr), np.asarray(self.indices)
        if indptr.ndim != 1 or len(indptr) < 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0) \
                or indptr[-1] != len(indices):
            raise ValueError("SparseCodes.indptr must start at 0, never decrease and end at len(indices)")
        if len(indices) and (indices.min() < 0 or indices.max() >= self.n_bits):
            raise ValueError(f"SparseCodes.indices must lie in [0, n_bits={self.n_bits})")

    @classmethod
    def from_dense(cls, codes: np.ndarray) -> SparseCodes:
        """The active units of each row of a boolean code matrix.

        Parameters
        ----------
        codes : ndarray of shape (n, n_bits), dtype bool
            The codes, as a hasher's ``transform`` returns them.

        Returns
        -------
        SparseCodes
            The same codes, each row's units in increasing order.

        Raises
        ------
        TypeError
            If `codes` is not boolean.
        ValueError
            If `codes` is not 2-D or is empty.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> SparseCodes.from_dense(np.array([[0, 1, 1, 0], [0, 0, 0, 1]], dtype=bool))
        SparseCodes(indptr=array([0, 2, 3]), indices=array([1, 2, 3], dtype=int32), n_bits=4)
        """
        codes = check_codes(codes, "codes")
        rows, units = np.divmod(np.flatnonzero(codes), codes.shape[1])  # 8× faster than np.nonzero of a 2-D array
        indptr = np.zeros(codes.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=codes.shape[0]), out=indptr[1:])
        return cls(indptr, units.astype(np.int32), codes.shape[1])

    @classmethod
    def from_indices(cls, indices: np.ndarray, n_bits: int) -> SparseCodes:
        """Codes given as an (n, k) matrix of active units, each row strictly increasing in [0, n_bits).

        Parameters
        ----------
        indices : ndarray of shape (n, k), any int dtype but uint8
            Each code's k active units, sorted and distinct (as a sparse hasher's ``encode`` returns them).
        n_bits : int
            Width of the codes (m units).

        Returns
        -------
        SparseCodes
            The codes, k active units each.

        Raises
        ------
        ValueError
            If `indices` is not a 2-D integer matrix (uint8 is packed codes), a row is not strictly increasing, an
            index lies outside [0, n_bits), or ``n_bits < 1``.
        TypeError
            If `n_bits` is not an integer.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> codes = SparseCodes.from_indices(np.array([[0, 3], [1, 2]]), n_bits=5)
        >>> codes.to_dense().astype(int)
        array([[1, 0, 0, 1, 0],
               [0, 1, 1, 0, 0]])
        """
        if not is_index_matrix(indices):
            raise ValueError(f"indices must be an (n, k) integer matrix of active units (not uint8: that is packed "
                             f"codes); got {getattr(indices, 'dtype', type(indices).__name__)} of shape "
                             f"{getattr(indices, 'shape', None)}")
        if indices.shape[1] and np.any(np.diff(indices, axis=1) <= 0):
            raise ValueError("indices must be sorted and distinct in every row (each code's active units, ascending); "
                             "for a 0/1 matrix of bits pass codes.astype(bool)")
        n, k = indices.shape
        n_bits = check_int(n_bits, "n_bits", minimum=1)
        if indices.size and (indices.min() < 0 or indices.max() >= n_bits):  # before the cast to int32 can wrap
            raise ValueError(f"SparseCodes.indices must lie in [0, n_bits={n_bits})")
        return cls(np.arange(n + 1, dtype=np.int64) * k, np.ascontiguousarray(indices, dtype=np.int32).ravel(), n_bits)

    def to_indices(self) -> np.ndarray:
        """The (n, k) int32 matrix of active units; a ValueError when the codes do not all have the same k.

        Returns
        -------
        ndarray of shape (n, k), dtype int32
            Each code's active units, sorted; a view of ``indices`` (shape (0, 0) for no codes).

        Raises
        ------
        ValueError
            If the codes do not all have the same number of active units.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> SparseCodes(np.array([0, 2, 4]), np.array([0, 3, 1, 2], dtype=np.int32), 5).to_indices()
        array([[0, 3],
               [1, 2]], dtype=int32)
        """
        weights = self.weights
        if len(weights) and np.any(weights != weights[0]):
            raise ValueError(f"codes have {weights.min()} to {weights.max()} active units; an (n, k) index matrix needs "
                             "the same k in every code (store them packed, or as SparseCodes)")
        return self.indices.reshape(len(self), int(weights[0]) if len(weights) else 0)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def weights(self) -> np.ndarray:  # property; numpydoc ignore=RT01
        """Active units per code (int32).

        An ndarray of shape (n,), dtype int32: ``indptr[i + 1] - indptr[i]`` for code i.
        """
        return np.diff(self.indptr).astype(np.int32)

    @property
    def nbytes(self) -> int:  # property; numpydoc ignore=RT01
        """Bytes held by the codes: those of ``indptr`` and ``indices`` (8 per code plus 8, 4 per active unit)."""
        return int(self.indptr.nbytes + self.indices.nbytes)

    def to_dense(self) -> np.ndarray:
        """The boolean (n, n_bits) code matrix.

        Returns
        -------
        ndarray of shape (n, n_bits), dtype bool
            True at each code's active units.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> SparseCodes(np.array([0, 1, 3]), np.array([2, 0, 3], dtype=np.int32), 4).to_dense().astype(int)
        array([[0, 0, 1, 0],
               [1, 0, 0, 1]])
        """
        codes = np.zeros((len(self), self.n_bits), dtype=bool)
        codes[np.repeat(np.arange(len(self)), self.weights), self.indices] = True
        return codes

    @classmethod
    def concatenate(cls, parts: list[SparseCodes], n_bits: int) -> SparseCodes:
        """The codes of parts, one after another (none: zero codes of n_bits bits).

        Parameters
        ----------
        parts : list of SparseCodes
            The codes to join, all of n_bits bits.
        n_bits : int
            Width of the codes.

        Returns
        -------
        SparseCodes
            ``len(parts[0]) + len(parts[1]) + ...`` codes, in order.

        Raises
        ------
        ValueError
            If a part's ``n_bits`` differs from `n_bits`.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> a = SparseCodes.from_dense(np.array([[1, 0, 1, 0]], dtype=bool))
        >>> b = SparseCodes.from_dense(np.array([[0, 1, 0, 0], [0, 0, 0, 1]], dtype=bool))
        >>> SparseCodes.concatenate([a, b], 4)
        SparseCodes(indptr=array([0, 2, 3, 4]), indices=array([0, 2, 1, 3], dtype=int32), n_bits=4)
        """
        if any(p.n_bits != n_bits for p in parts):
            raise ValueError(f"cannot concatenate SparseCodes of {sorted({p.n_bits for p in parts})} bits into {n_bits}")
        offsets = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
        indptr = np.concatenate([[0]] + [p.indptr[1:] + o for p, o in zip(parts, offsets)]).astype(np.int64)
        indices = np.concatenate([p.indices for p in parts]).astype(np.int32) if parts else np.zeros(0, np.int32)
        return cls(indptr, indices, n_bits)

    def rows(self, start: int, stop: int) -> SparseCodes:
        """Codes start..stop as their own SparseCodes.

        Parameters
        ----------
        start : int
            First code, in [0, len(self)].
        stop : int
            One past the last code, in [start, len(self)]; the bounds are not checked.

        Returns
        -------
        SparseCodes
            Codes ``start`` to ``stop - 1``, their ``indices`` a view of this one's.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.codes import SparseCodes
        >>> codes = SparseCodes.from_indices(np.array([[0, 3], [1, 2], [2, 4]]), n_bits=5)
        >>> codes.rows(1, 3).to_indices()
        array([[1, 2],
               [2, 4]], dtype=int32)
        """
        lo, hi = int(self.indptr[start]), int(self.indptr[stop])
        return SparseCodes(self.indptr[start:stop + 1] - lo, self.indices[lo:hi], self.n_bits)
