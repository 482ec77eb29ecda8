"""Binary codes as they are stored: dense codes packed 8 bits to a byte, k-sparse codes as the sorted indices of their
active units (an (n, k) integer matrix when every code has k, CSR when the number varies), with exact conversions to
and from the boolean matrix that the hashers return.

Array conventions (what Hasher.encode returns, flymodel encode writes and HammingIndex takes): uint8 (n, ceil(n_bits/8))
is packed codes; a signed or 16/32-bit unsigned integer (n, k) matrix holds each code's k active units, sorted.

Packed codes use numpy's np.packbits layout (first bit in the most significant bit of the first byte, the last byte
padded with zeros), the layout of FAISS binary indexes (IndexBinaryFlat and its kin take uint8 arrays of
ceil(n_bits / 8) bytes per code). Padding bits are zero in every code, so they never change a Hamming distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flymodel.validation import check_codes, check_int


#: Bytes per active unit (int32 index) and per code (int64 row pointer) of SparseCodes.
SPARSE_INDEX_BYTES, SPARSE_POINTER_BYTES = 4, 8


def packed_width(n_bits: int) -> int:
    """Bytes per packed code of n_bits bits."""
    return (check_int(n_bits, "n_bits", minimum=1) + 7) // 8


def pack_codes(codes: np.ndarray) -> np.ndarray:
    """A boolean (n, n_bits) code matrix as packed uint8 (n, ceil(n_bits / 8)), np.packbits layout."""
    return np.packbits(check_codes(codes, "codes"), axis=1)


def unpack_codes(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """Packed uint8 codes back to the boolean (n, n_bits) matrix; the padding bits must be zero."""
    packed = check_packed(packed, n_bits, "packed")  # also refuses non-zero padding bits
    return np.unpackbits(packed, axis=1, count=n_bits).astype(bool)


def check_packed(packed: np.ndarray, n_bits: int, name: str) -> np.ndarray:
    """A 2-D uint8 array of ceil(n_bits / 8) bytes per row, or a ValueError naming what is wrong."""
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
    """Whether codes is an (n, k) matrix of active-unit indices (any integer dtype except uint8, which is packed)."""
    return isinstance(codes, np.ndarray) and codes.ndim == 2 and np.issubdtype(codes.dtype, np.integer) \
        and codes.dtype != np.uint8


@dataclass(frozen=True)
class SparseCodes:
    """k-sparse (or varying-density) codes in CSR layout: row i's active units are indices[indptr[i]:indptr[i+1]],
    sorted. Memory: 4 bytes per active unit plus 8 per code, against n_bits / 8 per packed code."""

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
        """The active units of each row of a boolean code matrix."""
        codes = check_codes(codes, "codes")
        rows, units = np.divmod(np.flatnonzero(codes), codes.shape[1])  # 8× faster than np.nonzero of a 2-D array
        indptr = np.zeros(codes.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=codes.shape[0]), out=indptr[1:])
        return cls(indptr, units.astype(np.int32), codes.shape[1])

    @classmethod
    def from_indices(cls, indices: np.ndarray, n_bits: int) -> SparseCodes:
        """Codes given as an (n, k) matrix of active units, each row strictly increasing in [0, n_bits)."""
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
        """The (n, k) int32 matrix of active units; a ValueError when the codes do not all have the same k."""
        weights = self.weights
        if len(weights) and np.any(weights != weights[0]):
            raise ValueError(f"codes have {weights.min()} to {weights.max()} active units; an (n, k) index matrix needs "
                             "the same k in every code (store them packed, or as SparseCodes)")
        return self.indices.reshape(len(self), int(weights[0]) if len(weights) else 0)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def weights(self) -> np.ndarray:
        """Active units per code (int32)."""
        return np.diff(self.indptr).astype(np.int32)

    @property
    def nbytes(self) -> int:
        return int(self.indptr.nbytes + self.indices.nbytes)

    def to_dense(self) -> np.ndarray:
        """The boolean (n, n_bits) code matrix."""
        codes = np.zeros((len(self), self.n_bits), dtype=bool)
        codes[np.repeat(np.arange(len(self)), self.weights), self.indices] = True
        return codes

    @classmethod
    def concatenate(cls, parts: list[SparseCodes], n_bits: int) -> SparseCodes:
        """The codes of parts, one after another (none: zero codes of n_bits bits)."""
        if any(p.n_bits != n_bits for p in parts):
            raise ValueError(f"cannot concatenate SparseCodes of {sorted({p.n_bits for p in parts})} bits into {n_bits}")
        offsets = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
        indptr = np.concatenate([[0]] + [p.indptr[1:] + o for p, o in zip(parts, offsets)]).astype(np.int64)
        indices = np.concatenate([p.indices for p in parts]).astype(np.int32) if parts else np.zeros(0, np.int32)
        return cls(indptr, indices, n_bits)

    def rows(self, start: int, stop: int) -> SparseCodes:
        """Codes start..stop as their own SparseCodes."""
        lo, hi = int(self.indptr[start]), int(self.indptr[stop])
        return SparseCodes(self.indptr[start:stop + 1] - lo, self.indices[lo:hi], self.n_bits)
