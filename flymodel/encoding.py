"""Out-of-core encoding and search on files: a database of feature rows in an .npy file is hashed block by block into
an .npy of stored codes (flymodel.codes' layouts) written atomically through a memory map, indexed once, and queried;
what `flymodel encode` and `flymodel search` run. Memory stays bounded by a block of rows, the codes and the index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flymodel.codes import SparseCodes, is_index_matrix, packed_width
from flymodel.hashing import METHODS, Hasher, load_hasher
from flymodel.index import HammingIndex
from flymodel.io import atomic_path

#: Rows hashed per block when encoding a file (about 12 MB of MNIST float32 features).
FILE_BLOCK_ROWS = 4096
#: The .npy header readers by format version (np.save writes 1.0, or 2.0 for very large headers).
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class NpyRows:
    """Rows of a 2-D C-order .npy file read on demand with plain reads (no memory map), so that streaming a database
    larger than memory keeps only the block being read resident: len(), .shape, .dtype and rows[a:b]."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            try:
                version = np.lib.format.read_magic(handle)
                read_header = HEADER_READERS.get(version)
                if read_header is None:
                    raise ValueError(f"npy format version {version}; expected one of {sorted(HEADER_READERS)}")
                shape, fortran, dtype = read_header(handle)
            except ValueError as exc:
                raise ValueError(f"{self.path} is not an .npy file: {exc}") from None
            self._offset = handle.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{self.path} holds a {'Fortran-order ' if fortran else ''}{dtype} array of shape {shape}; "
                             "expected a 2-D C-order numeric array (n_rows, n_features)")
        self.shape, self.dtype = tuple(shape), dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice) -> np.ndarray:
        if not isinstance(rows, slice) or rows.step not in (None, 1):
            raise TypeError("NpyRows reads contiguous row ranges only: rows[start:stop]")
        start, stop, _ = rows.indices(self.shape[0])
        count = max(stop - start, 0)
        row_bytes = self.shape[1] * self.dtype.itemsize
        block = np.fromfile(self.path, dtype=self.dtype, count=count * self.shape[1],
                            offset=self._offset + start * row_bytes)
        return block.reshape(count, self.shape[1])


def load_model(path: str | os.PathLike[str], method: str | None = None) -> Hasher:
    """A hasher saved by Hasher.save; with method (a command-line name), it must be a hasher of that class."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"--model {path}: no such file (write one with Hasher.save or `flymodel fit`)")
    model = load_hasher(str(path))
    if method is not None:
        if method not in METHODS:
            raise ValueError(f"method={method!r} is not known; expected one of: {', '.join(sorted(METHODS))}")
        if not isinstance(model, METHODS[method]):
            raise ValueError(f"--model {path} holds a {type(model).__name__}, not a {METHODS[method].__name__} "
                             f"(--method {method})")
    return model


@dataclass(frozen=True)
class EncodeReport:
    """What encode_file wrote: the codes file, its layout ('packed' or 'indices'), shape, and the index file."""

    codes: Path
    layout: str
    shape: tuple[int, int]
    index: Path | None


def encode_file(model: Hasher, source: str | os.PathLike[str], output: str | os.PathLike[str],
                index: str | os.PathLike[str] | None = None, packed: bool = False,
                block_rows: int = FILE_BLOCK_ROWS, progress: bool = True) -> EncodeReport:
    """Hash the rows of the .npy file source into output (.npy, written atomically through a memory map): packed
    uint8 codes for dense hashers (or packed=True), the (n, k) int32 sorted active units of k-sparse ones. With
    index, also build a HammingIndex of the codes and save it there (atomically)."""
    rows = NpyRows(source)
    if len(rows) == 0:
        raise ValueError(f"--input {source} has no rows; expected at least one feature row to encode")
    if model.sparse and not model.fixed_weight and not packed:
        raise ValueError(f"this {type(model).__name__}'s codes vary in the number of active units, which an (n, k) "
                         "matrix cannot hold; encode them packed (--packed)")
    layout = "packed" if packed or not model.sparse else "indices"
    width = packed_width(model.n_bits_) if layout == "packed" else model.k
    dtype = np.uint8 if layout == "packed" else np.int32
    with atomic_path(output) as tmp:
        codes = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=(len(rows), width))
        model.encode(rows, packed=packed, block_rows=block_rows, out=codes, progress=progress)
        codes.flush()
        del codes
    written = None
    if index is not None:
        written = build_index(np.load(output, mmap_mode="r"), model.n_bits_).save(index)
    return EncodeReport(Path(output), layout, (len(rows), width), written)


def build_index(codes: np.ndarray | SparseCodes, n_bits: int, kind: str = "auto") -> HammingIndex:
    """A HammingIndex of stored codes (any layout of flymodel.codes)."""
    return HammingIndex(n_bits, kind=kind).add(codes)


def search_file(index: str | os.PathLike[str], queries: str | os.PathLike[str], n_neighbors: int,
                model: Hasher | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(D, I) of the saved index for the queries in an .npy file: stored codes (packed bytes or active units), or
    feature rows when model is given (encoded by it first)."""
    found = HammingIndex.load(index)
    if model is not None:
        coded = model.encode(NpyRows(queries))
    else:
        coded = np.load(queries)
        if not isinstance(coded, np.ndarray):
            coded.close()
            raise ValueError(f"--queries {queries} is an .npz archive; expected one .npy array of stored codes")
        if not (coded.dtype in (np.uint8, np.bool_) or is_index_matrix(coded)):
            raise ValueError(f"--queries {queries} holds {coded.dtype} values; expected stored codes (uint8 packed "
                             "bytes, integer active units or booleans), or pass --model to encode feature rows")
    return found.search(coded, n_neighbors)
