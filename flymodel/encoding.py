"""Out-of-core encoding and search on files: what ``flymodel encode`` and ``flymodel search`` run.

A database of feature rows in an .npy file is hashed block by block into an .npy of stored codes
(``flymodel.codes``' layouts) written atomically through a memory map, indexed once, and queried. Memory stays
bounded by a block of rows, the codes and the index.
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

__all__ = ["EncodeReport", "NpyRows", "build_index", "encode_file", "load_model", "search_file"]

#: Rows hashed per block when encoding a file (about 12 MB of MNIST float32 features).
FILE_BLOCK_ROWS = 4096
#: The .npy header readers by format version (np.save writes 1.0, or 2.0 for very large headers).
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


class NpyRows:
    """Rows of a 2-D C-order .npy file read on demand with plain reads (no memory map).

    Streaming a database larger than memory this way keeps only the block being read resident. Opening reads the
    header only; ``len(rows)`` is the number of rows and ``rows[a:b]`` reads rows a to b − 1 as an ndarray (only
    contiguous ranges: another index raises a TypeError). A hasher's ``encode`` takes it in place of an array.

    Parameters
    ----------
    path : str or os.PathLike
        An .npy file (format version 1.0 or 2.0) holding a 2-D C-order numeric array.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    shape : tuple of (int, int)
        (n_rows, n_features).
    dtype : numpy.dtype
        The array's dtype.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not an .npy file of a supported version, or holds anything but a 2-D C-order numeric array.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.encoding import NpyRows
    >>> X = np.arange(12, dtype=np.float32).reshape(4, 3)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     np.save(os.path.join(folder, "features.npy"), X)
    ...     rows = NpyRows(os.path.join(folder, "features.npy"))
    ...     print(len(rows), rows.shape, rows.dtype)
    ...     print(rows[1:3])
    4 (4, 3) float32
    [[3. 4. 5.]
     [6. 7. 8.]]
    """

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
    """A hasher saved by Hasher.save; with method (a command-line name), it must be a hasher of that class.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``Hasher.save``.
    method : str or None, default None
        A command-line name of ``flymodel.hashing.METHODS`` (e.g. ``"flyhash"``); None accepts any hasher.

    Returns
    -------
    Hasher
        The fitted hasher.

    Raises
    ------
    FileNotFoundError
        If `path` is not a file.
    ValueError
        If `path` is not a hasher file of this format version, `method` is not known, or the file holds a hasher
        of another class than `method`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.encoding import load_model
    >>> from flymodel.hashing import FlyHash
    >>> X = np.random.default_rng(0).random((50, 20)).astype(np.float32)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "flyhash.npz")
    ...     FlyHash(k=8, device="cpu").fit(X).save(path)
    ...     print(type(load_model(path, method="flyhash")).__name__)
    ...     load_model(path, method="lsh")
    Traceback (most recent call last):
        ...
    ValueError: --model ...flyhash.npz holds a FlyHash, not a LSH (--method lsh)
    """
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
    """What encode_file wrote: the codes file, its layout ('packed' or 'indices'), shape, and the index file.

    Attributes
    ----------
    codes : pathlib.Path
        The .npy file of stored codes.
    layout : {"packed", "indices"}
        ``"packed"``: uint8 bytes, ``np.packbits`` layout; ``"indices"``: the (n, k) int32 sorted active units.
    shape : tuple of (int, int)
        Shape of the codes array: (n_rows, bytes per code) or (n_rows, k).
    index : pathlib.Path or None
        The saved ``HammingIndex`` of the codes, or None when none was asked for.

    Examples
    --------
    >>> from pathlib import Path
    >>> from flymodel.encoding import EncodeReport
    >>> EncodeReport(Path("codes.npy"), "packed", (1000, 4), None)
    EncodeReport(codes=...Path('codes.npy'), layout='packed', shape=(1000, 4), index=None)
    """

    codes: Path
    layout: str
    shape: tuple[int, int]
    index: Path | None


def encode_file(model: Hasher, source: str | os.PathLike[str], output: str | os.PathLike[str],
                index: str | os.PathLike[str] | None = None, packed: bool = False,
                block_rows: int = FILE_BLOCK_ROWS, progress: bool = True) -> EncodeReport:
    """Hash the rows of the .npy file source into output (.npy, written atomically through a memory map).

    The codes are packed uint8 codes for dense hashers (or packed=True), the (n, k) int32 sorted active units of
    k-sparse ones. The rows are read and hashed `block_rows` at a time (``NpyRows``), so neither the features nor
    the boolean codes of the whole file are held in memory. With index, also build a HammingIndex of the codes and
    save it there (atomically).

    Parameters
    ----------
    model : Hasher
        A fitted hasher.
    source : str or os.PathLike
        An .npy file of feature rows (n_rows, n_features), 2-D and C-order.
    output : str or os.PathLike
        The .npy file to write the codes to.
    index : str or os.PathLike or None, default None
        Where to save a ``HammingIndex`` of the codes (an .npz file); None builds none.
    packed : bool, default False
        Store a sparse hasher's codes packed (n_bits / 8 bytes each) instead of as active units; required for
        codes whose number of active units varies (a circuit's APL readout).
    block_rows : int, default FILE_BLOCK_ROWS
        Rows hashed at once (``FILE_BLOCK_ROWS`` = 4096).
    progress : bool, default True
        Whether to show a progress bar over the blocks.

    Returns
    -------
    EncodeReport
        The files written, the layout and the shape of the codes.

    Raises
    ------
    FileNotFoundError
        If `source` does not exist.
    ValueError
        If `source` is not a 2-D C-order numeric .npy file or has no rows, the model's codes vary in density and
        `packed` is False, or the rows do not have the model's number of features.
    flymodel.hashing.NotFittedError
        If `model` is not fitted.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.encoding import encode_file
    >>> from flymodel.hashing import FlyHash
    >>> X = np.random.default_rng(0).random((50, 20)).astype(np.float32)
    >>> model = FlyHash(k=8, device="cpu").fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     np.save(os.path.join(folder, "features.npy"), X)
    ...     report = encode_file(model, os.path.join(folder, "features.npy"), os.path.join(folder, "codes.npy"),
    ...                          index=os.path.join(folder, "index.npz"), progress=False)
    ...     codes = np.load(report.codes)
    >>> report.layout, report.shape, report.index.name
    ('indices', (50, 8), 'index.npz')
    >>> bool((codes == model.encode(X)).all())
    True
    """
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
    """A HammingIndex of stored codes (any layout of flymodel.codes).

    Parameters
    ----------
    codes : ndarray or SparseCodes
        The codes: the boolean matrix, packed uint8, an (n, k) integer matrix of sorted active units, or
        ``SparseCodes``; a memory-mapped array (``np.load(..., mmap_mode="r")``) works too.
    n_bits : int
        Width of the codes (the hasher's ``n_bits_``).
    kind : {"auto", "dense", "sparse"}, default "auto"
        The index kind (see ``HammingIndex``).

    Returns
    -------
    HammingIndex
        An index holding the codes, ids 0 to n − 1.

    Raises
    ------
    TypeError
        If `n_bits` is not an integer, or the codes are in no form of ``flymodel.codes``.
    ValueError
        If ``n_bits < 1``, `kind` is not one of its values, or the codes are not n_bits wide.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.encoding import build_index
    >>> index = build_index(np.array([[0, 5, 9, 150], [1, 2, 3, 4]], dtype=np.int32), n_bits=200)
    >>> index.kind, len(index)
    ('sparse', 2)
    """
    return HammingIndex(n_bits, kind=kind).add(codes)


def search_file(index: str | os.PathLike[str], queries: str | os.PathLike[str], n_neighbors: int,
                model: Hasher | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(D, I) of the saved index for the queries in an .npy file: stored codes, or feature rows with a model.

    Without `model`, the file holds stored codes (packed bytes, active units or booleans); with one, it holds
    feature rows, encoded by it first.

    Parameters
    ----------
    index : str or os.PathLike
        A file written by ``HammingIndex.save`` (or ``encode_file``).
    queries : str or os.PathLike
        An .npy file of query codes, or of feature rows when `model` is given.
    n_neighbors : int
        Neighbours per query, in [1, len(index)].
    model : Hasher or None, default None
        The fitted hasher that encoded the database, to encode feature rows; None when `queries` holds codes.

    Returns
    -------
    D : ndarray of shape (n_queries, n_neighbors), dtype int32
        Hamming distances of the neighbours, increasing along each row.
    I : ndarray of shape (n_queries, n_neighbors), dtype int64
        Their ids (database rows); among equal distances, the lower id first.

    Raises
    ------
    ValueError
        If `index` is not a HammingIndex file, `queries` is an .npz archive or (without `model`) holds no stored
        codes, or `n_neighbors` lies outside [1, len(index)].
    TypeError
        If `n_neighbors` is not an integer.
    FileNotFoundError
        If `queries` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.encoding import encode_file, search_file
    >>> from flymodel.hashing import FlyHash
    >>> X = np.random.default_rng(0).random((50, 20)).astype(np.float32)
    >>> model = FlyHash(k=8, device="cpu").fit(X)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     features, index = os.path.join(folder, "features.npy"), os.path.join(folder, "index.npz")
    ...     np.save(features, X)
    ...     report = encode_file(model, features, os.path.join(folder, "codes.npy"), index=index, progress=False)
    ...     D, I = search_file(index, features, n_neighbors=2, model=model)  # feature rows as queries
    ...     np.save(os.path.join(folder, "queries.npy"), np.load(report.codes)[:2])
    ...     D2, I2 = search_file(index, os.path.join(folder, "queries.npy"), n_neighbors=2)  # stored codes
    >>> I[:2]  # each row finds itself first
    array([[ 0, 43],
           [ 1,  6]])
    >>> bool((D2 == D[:2]).all() and (I2 == I[:2]).all())
    True
    """
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
