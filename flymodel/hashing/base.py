"""The hasher base class: a scikit-learn transformer computing in torch, with stored codes and save/load.

``Hasher`` is a scikit-learn transformer (``BaseEstimator``, ``TransformerMixin``) that computes in torch on CPU or
CUDA and returns boolean codes (``transform``), the codes as they are stored (``encode``, see ``flymodel.codes``) and
writes and reads its fitted state (``save`` and ``load``).

Conventions (``sklearn/base.py``): ``__init__`` only stores its arguments; parameters are checked in ``fit``; fitted
attributes end in ``_``; ``fit`` returns self; ``transform`` returns a boolean matrix: (n, m) with exactly k True per
row for sparse (expansive) hashers, (n, k) bits for dense ones. scikit-learn's own estimator checks run over every
hasher in ``tests/test_sklearn_checks.py``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any, ClassVar

import dask.array as da
import numpy as np
import sklearn.exceptions
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from flymodel.codes import SPARSE_INDEX_BYTES, SPARSE_POINTER_BYTES, SparseCodes, pack_codes, packed_width
from flymodel.io import atomic_path, package_versions, to_json
from flymodel.validation import check_features, check_int, resolve_device

#: Version of the on-disk format written by Hasher.save; load refuses other versions.
FORMAT_VERSION = 1
#: Activations computed at once in transform (rows × units), to bound memory (about 64 MB of float32).
TRANSFORM_BLOCK = 2**24
#: Rows hashed at once by encode (each block's boolean codes are packed before the next is hashed).
ENCODE_BLOCK = 4096


class NotFittedError(sklearn.exceptions.NotFittedError):
    """Raised when transform (or encode, or save) is called before fit; scikit-learn's NotFittedError.

    A subclass of ``sklearn.exceptions.NotFittedError`` (itself a ``ValueError`` and an ``AttributeError``), so
    ``sklearn.utils.validation.check_is_fitted`` and code that catches scikit-learn's error catch it too. The
    message names the hasher and the call that needed a fitted one.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import LSH, NotFittedError
    >>> hasher = LSH(k=8, device="cpu")
    >>> try:
    ...     hasher.transform(np.ones((2, 5)))
    ... except NotFittedError as error:
    ...     print(error)
    this LSH is not fitted yet; call fit(X) before transform
    >>> import sklearn.exceptions
    >>> issubclass(NotFittedError, sklearn.exceptions.NotFittedError)
    True
    """


class Hasher(TransformerMixin, BaseEstimator):
    """Base class of every hasher: subclasses implement _fit(X) and _encode(X_block) on torch tensors.

    A hasher is a scikit-learn transformer: ``fit(X)`` learns (or draws) the hash function from training features,
    ``transform(X)`` returns the boolean codes, and ``encode(X)`` the codes in their stored layout
    (``flymodel.codes``). ``save`` writes the parameters and fitted state to an ``.npz`` file that ``load`` (or
    ``flymodel.hashing.load_hasher``) reads back into a hasher giving identical codes. ``get_params``,
    ``set_params``, ``clone`` and the repr come from ``BaseEstimator``.

    A subclass sets the class attribute ``sparse``, stores its constructor arguments unchanged, and implements
    ``_validate_params(n_features)``, ``_fit(X)`` and ``_encode(X_block)`` on torch tensors on ``torch_device``,
    and the ``n_bits_`` property; defining the subclass adds it to ``registry``.

    Attributes
    ----------
    sparse : bool
        Class attribute: True when codes are k-sparse over m units (``transform`` returns (n, m) with k True per
        row), False when they are k dense bits ((n, k)).
    registry : dict of str to type
        Class attribute: every hasher class by its name, for ``load`` and the command line.
    n_features_in_ : int
        Number of features seen by ``fit``; its presence marks the hasher as fitted.

    Notes
    -----
    ``fit`` deletes the fitted attributes of a previous fit before fitting again, so a refit never keeps stale
    state. ``transform`` hashes at most ``TRANSFORM_BLOCK`` activations (rows × ``n_units_``) at once, and
    ``encode`` hashes ``block_rows`` rows at a time, so neither holds the activations of all of X.

    Examples
    --------
    Fit a concrete hasher (here LSH, 12 dense bits), hash, store and reload it:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from flymodel.hashing import LSH, load_hasher
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 20)).astype(np.float32)
    >>> hasher = LSH(k=12, device="cpu").fit(X)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype, hasher.n_bits_
    ((100, 12), dtype('bool'), 12)
    >>> stored = hasher.encode(X, packed=True)  # 12 bits packed into 2 bytes per code
    >>> stored.shape, stored.dtype, hasher.code_size_
    ((100, 2), dtype('uint8'), 2)
    >>> bool((np.unpackbits(stored, axis=1, count=12) == codes).all())
    True
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "lsh.npz")
    ...     hasher.save(path)
    ...     loaded = load_hasher(path)
    >>> loaded
    LSH(device='cpu', k=12)
    >>> bool((loaded.transform(X) == codes).all())
    True
    """

    #: True when codes are k-sparse over m units, False when they are k dense bits.
    sparse: ClassVar[bool]
    #: Registry of hasher classes by name, for load() and the command line.
    registry: ClassVar[dict[str, type[Hasher]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Hasher.registry[cls.__name__] = cls

    # --- scikit-learn protocol (get_params, set_params, clone and repr come from BaseEstimator) -----------------
    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted()

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # codes are boolean, whatever the input's float dtype
        return tags

    # --- fitting and encoding ------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:  # a property, described without Returns; numpydoc ignore=RT01
        """The torch device computations run on (resolved from the device parameter).

        ``'auto'`` resolves to ``cuda`` when CUDA is available and to ``cpu`` otherwise; a hasher without a
        ``device`` parameter computes on the CPU. Reading it raises a ``ValueError`` when ``device`` is not a torch
        device, or names CUDA where CUDA is not available.
        """
        return resolve_device(getattr(self, "device", "cpu"))

    def fitted_attributes(self) -> list[str]:
        """Names of the attributes set by fit (they end in '_').

        These are the instance attributes that ``fit`` deletes before refitting and that ``save`` writes.

        Returns
        -------
        list of str
            The public instance attributes whose names end in ``_``, sorted; empty before ``fit``.
        """
        return sorted(k for k in vars(self) if k.endswith("_") and not k.startswith("_"))

    def is_fitted(self) -> bool:
        """Whether fit has been called.

        Returns
        -------
        bool
            True once ``fit`` (or ``load``) has set ``n_features_in_``.
        """
        return "n_features_in_" in vars(self)

    def _check_fitted(self, action: str) -> None:
        if not self.is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) before {action}")

    def fit(self, X: Any, y: Any = None) -> Hasher:
        """Learn (or draw) the hash function from training data X (n_samples, n_features); y is ignored.

        The parameters are checked first (against the number of features), and the fitted attributes of any
        earlier fit are deleted, so that a refit starts afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; converted to a C-contiguous float32 array and moved to ``torch_device``.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        self : Hasher
            The fitted hasher.

        Raises
        ------
        ValueError
            If X is not 2-D, is empty, holds NaN or infinite or complex values, or if a parameter is outside its
            range (the message names the parameter, its value and what was expected).
        TypeError
            If X is not numeric or is a scipy sparse matrix, or if an integer parameter is not an integer.
        """
        X = check_features(X, "X")
        self._validate_params(X.shape[1])
        for name in self.fitted_attributes():
            delattr(self, name)
        self._fit(torch.from_numpy(X).to(self.torch_device))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Hash X (n_samples, n_features) into boolean codes, in blocks of rows to bound memory.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features with as many columns as the training data; converted to float32.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_bits), dtype bool
            One code of ``n_bits_`` bits per row: for sparse hashers the m units, exactly k of them True per row
            (a circuit's APL readout excepted); for dense hashers the k bits.

        Raises
        ------
        NotFittedError
            If the hasher is not fitted.
        ValueError
            If X does not have ``n_features_in_`` columns, is not 2-D, is empty, or holds NaN, infinite or complex
            values.
        TypeError
            If X is not numeric or is a scipy sparse matrix.
        """
        self._check_fitted("transform")
        X = check_features(X, "X", n_features=self.n_features_in_, expected_by=type(self).__name__)
        codes = np.empty((X.shape[0], self.n_bits_), dtype=bool)
        block = max(1, TRANSFORM_BLOCK // max(self.n_units_, 1))
        for start in range(0, X.shape[0], block):
            chunk = torch.from_numpy(X[start:start + block]).to(self.torch_device)
            codes[start:start + block] = self._encode(chunk).cpu().numpy()
        return codes

    def encode(self, X: Any, *, packed: bool = False, block_rows: int = ENCODE_BLOCK, out: np.ndarray | None = None,
               progress: bool = False) -> np.ndarray | SparseCodes | da.Array:
        """The codes of X as they are stored (``flymodel.codes``), hashed block_rows rows at a time.

        The stored layouts are packed uint8 bytes (``np.packbits`` layout, FAISS's) for dense hashers, or for any
        hasher with ``packed=True``; for sparse hashers the (n, k) int32 matrix of each code's sorted active units,
        or ``SparseCodes`` (CSR) when the number varies (a circuit's APL readout).

        X is hashed ``block_rows`` rows at a time, so the boolean codes of all of X are never held: X may be a
        memory-mapped array, and ``out`` a preallocated (memory-mapped) array of the result's shape and dtype to
        write into. A dask array X is encoded chunk by chunk (``map_blocks``) into a dask array of codes, for
        databases on a cluster; ``progress`` shows a progress bar over the blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or dask.array.Array
            Features with as many columns as the training data; anything that ``len`` and row slicing work on
            (e.g. ``np.memmap``), or a 2-D dask array.
        packed : bool, default False
            Store packed bytes also for a sparse hasher (m bits per code instead of its k active units).
        block_rows : int, default 4096
            Rows hashed at once (``ENCODE_BLOCK``); each block's boolean codes are converted before the next block
            is hashed. Not used for a dask array, which is encoded by its own row chunks.
        out : ndarray or None, default None
            A preallocated array of the result's shape and dtype to write the codes into, which is then returned;
            None allocates one. Not used for a dask array.
        progress : bool, default False
            Show a progress bar over the blocks.

        Returns
        -------
        ndarray or SparseCodes or dask.array.Array
            An ndarray of shape (n_samples, ``ceil(n_bits_ / 8)``), dtype uint8 (packed codes) for dense hashers or
            with ``packed=True``; an ndarray of shape (n_samples, k), dtype int32 (each code's active units,
            sorted) for sparse hashers with ``fixed_weight``; ``SparseCodes`` (CSR) for sparse hashers whose number
            of active units varies; a dask array of the packed or index layout when X is a dask array.

        Raises
        ------
        NotFittedError
            If the hasher is not fitted.
        ValueError
            If X has no rows; if ``out`` does not have the result's shape and dtype, or is given for codes of
            varying density; if X is a dask array that is not 2-D with ``n_features_in_`` columns, or the codes
            vary in density (use ``packed=True``); or if ``block_rows < 1``, or X is rejected as by ``transform``.
        TypeError
            If ``block_rows`` is not an integer, or X is rejected as by ``transform``.
        """
        self._check_fitted("encode")
        block_rows = check_int(block_rows, "block_rows", minimum=1)
        layout = "packed" if packed or not self.sparse else "indices" if self.fixed_weight else "csr"
        if isinstance(X, da.Array):
            return self._encode_dask(X, layout)
        n = len(X)
        if n == 0:
            raise ValueError("X is empty; expected at least one row to encode")
        starts = range(0, n, block_rows)
        blocks = (self._stored(self.transform(X[start:start + block_rows]), layout) for start in
                  tqdm(starts, desc=f"{type(self).__name__}: encoding", unit="block", disable=not progress))
        if layout == "csr":
            if out is not None:
                raise ValueError("out: codes of varying density are SparseCodes, which cannot be written into an array")
            return SparseCodes.concatenate(list(blocks), self.n_bits_)
        shape, dtype = (n, self._stored_width(layout)), (np.uint8 if layout == "packed" else np.int32)
        if out is None:
            out = np.empty(shape, dtype=dtype)
        elif out.shape != shape or out.dtype != dtype:
            raise ValueError(f"out has shape {out.shape} and dtype {out.dtype}; expected {shape} {np.dtype(dtype)}")
        for start, block in zip(starts, blocks):
            out[start:start + len(block)] = block
        return out

    @property
    def fixed_weight(self) -> bool:  # a property, described without Returns; numpydoc ignore=RT01
        """Whether every code has exactly k active units, as in every sparse hasher but a circuit's APL readout.

        True for sparse hashers (``encode`` then stores an (n, k) index matrix) and False for dense ones; a
        ``CircuitHash`` with ``readout='apl'`` overrides it with False (its codes are stored as ``SparseCodes``).
        """
        return self.sparse

    def _stored(self, codes: np.ndarray, layout: str) -> np.ndarray | SparseCodes:
        """Boolean codes in a stored layout: 'packed' bytes, 'indices' (n, k) or 'csr' SparseCodes."""
        if layout == "packed":
            return pack_codes(codes)
        sparse = SparseCodes.from_dense(codes)
        return sparse if layout == "csr" else sparse.to_indices()

    def _stored_width(self, layout: str) -> int:
        return packed_width(self.n_bits_) if layout == "packed" else self.k

    def _encode_dask(self, X: da.Array, layout: str) -> da.Array:
        """map_blocks over row chunks (the features are gathered into one chunk per row block)."""
        if layout == "csr":
            raise ValueError(f"a dask array of codes needs a fixed width, but this {type(self).__name__}'s codes vary "
                             "in density; use encode(X, packed=True)")
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has shape {X.shape}, but {type(self).__name__} is expecting (n, {self.n_features_in_})")
        X = X.rechunk({1: -1})
        width, dtype = self._stored_width(layout), (np.uint8 if layout == "packed" else np.int32)
        frozen = copy.deepcopy(self)  # the hasher as fitted now: a later refit must not change these codes

        def encode_block(block: np.ndarray) -> np.ndarray:
            if len(block) == 0:  # empty chunks are common after masking
                return np.zeros((0, width), dtype=dtype)
            return frozen._stored(frozen.transform(block), layout)

        return X.map_blocks(encode_block, chunks=(X.chunks[0], (width,)), dtype=dtype)

    @property
    def n_bits_(self) -> int:  # a property, described without Returns; numpydoc ignore=RT01
        """Width of the boolean code: m for sparse hashers, k for dense ones.

        The number of columns of ``transform``'s output, known after ``fit`` (before, reading it raises
        ``NotFittedError``); every subclass computes it from its fitted state (``_n_bits``).
        """
        self._check_fitted("n_bits_")
        return self._n_bits()

    def _n_bits(self) -> int:
        """The code width from the fitted state; each subclass defines it."""
        raise NotImplementedError

    @property
    def code_size_(self) -> int | None:  # a property, described without Returns; numpydoc ignore=RT01
        """Bytes stored per code, or None when the number of active units is not set in advance.

        ``ceil(n_bits_ / 8)`` packed bytes for dense hashers. For sparse ones, the bytes per code of their CSR layout
        (``SparseCodes``, and a sparse ``HammingIndex``): 4 per active unit plus 8 for the code's row pointer, with k
        active units (for a circuit's APL readout, the k its gain was set to on average); the (n, k) index matrix
        that ``encode`` returns for a fixed k takes 4 per active unit, without the pointer. None when the count is
        not set in advance (APL readout with ``k=None``): ``SparseCodes.nbytes / len(codes)`` then measures it.
        Reading it before ``fit`` raises ``NotFittedError``.
        """
        self._check_fitted("code_size_")
        if not self.sparse:
            return packed_width(self.n_bits_)
        k = getattr(self, "k", None)
        return None if k is None else SPARSE_INDEX_BYTES * k + SPARSE_POINTER_BYTES

    @property
    def n_units_(self) -> int:  # a property, described without Returns; numpydoc ignore=RT01
        """Hidden units computed per sample in _encode (sets the transform block size).

        ``transform`` hashes ``TRANSFORM_BLOCK // n_units_`` rows at a time; ``n_bits_`` unless a subclass computes
        more values per sample (``BioConvHash``'s convolution maps).
        """
        return self.n_bits_

    def _validate_params(self, n_features: int) -> None:
        raise NotImplementedError

    def _fit(self, X: torch.Tensor) -> None:
        raise NotImplementedError

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write parameters and fitted state to an .npz file, atomically; load() restores identical codes.

        Fitted tensors are stored as arrays; the class name, the parameters (``get_params``), the other fitted
        attributes, ``FORMAT_VERSION`` and the versions of flymodel, torch and numpy go into a JSON record. The
        file is written beside ``path`` and renamed into place, so an interrupted save never leaves a broken file.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write, used as given (no ``.npz`` suffix is added); missing parent folders are created.

        Raises
        ------
        NotFittedError
            If the hasher is not fitted.
        TypeError
            If a parameter or fitted attribute cannot be written as JSON.
        """
        self._check_fitted("save")
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, Any] = {}
        for name in self.fitted_attributes():
            value = getattr(self, name)
            if isinstance(value, torch.Tensor):
                arrays[name] = value.detach().cpu().numpy()
            else:
                scalars[name] = value
        meta = {
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "params": self.get_params(),
            "fitted_scalars": scalars,
            "versions": package_versions(("flymodel", "torch", "numpy")),
        }
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, __meta__=np.array(to_json(meta)), **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | None = None) -> Hasher:
        """Read a hasher written by save(); device overrides the saved device parameter.

        The hasher is rebuilt from its saved class and parameters and given its fitted state, with its tensors on
        its ``torch_device``; called on a subclass, ``load`` accepts only files holding that subclass.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by ``save``.
        device : str or None, default None
            A torch device (``'cpu'``, ``'cuda'``, ``'auto'``...) replacing the saved ``device`` parameter, e.g. to
            load on a CPU a hasher fitted on a GPU; None keeps the saved one.

        Returns
        -------
        Hasher
            A fitted hasher of the saved class, which gives the same codes as the one saved.

        Raises
        ------
        ValueError
            If the file is not a flymodel hasher file, was written in another format version, holds a class that
            is unknown or is not ``cls`` or a subclass of it, or if ``device`` is not available.
        OSError
            If the file cannot be read (``FileNotFoundError`` when it does not exist).
        """
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a plain .npy array, not an .npz archive
            raise ValueError(f"{path} is not a flymodel hasher file: it holds one array, not the .npz that save writes")
        with loaded as data:
            if "__meta__" not in data:
                raise ValueError(f"{path} is not a flymodel hasher file (no __meta__ record)")
            meta = json.loads(str(data["__meta__"]))
            arrays = {k: data[k] for k in data.files if k != "__meta__"}
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} has format_version={meta.get('format_version')}; this flymodel reads {FORMAT_VERSION}")
        klass = Hasher.registry.get(meta["class"])
        if klass is None or not issubclass(klass, cls):
            raise ValueError(f"{path} holds a {meta['class']}, not a {cls.__name__}")
        params = dict(meta["params"])
        if device is not None:
            params["device"] = device
        model = klass(**params)
        for name, value in meta["fitted_scalars"].items():
            setattr(model, name, value)
        for name, value in arrays.items():
            setattr(model, name, torch.from_numpy(value).to(model.torch_device))
        return model

