"""The hasher base class: a scikit-learn transformer (BaseEstimator, TransformerMixin) computing in torch on CPU or
CUDA, with boolean codes, stored codes (encode) and save/load.

Conventions (sklearn/base.py): ``__init__`` only stores its arguments; parameters are checked in ``fit``; fitted
attributes end in ``_``; ``fit`` returns self; ``transform`` returns a boolean matrix: (n, m) with exactly k True per
row for sparse (expansive) hashers, (n, k) bits for dense ones. scikit-learn's own estimator checks run over every
hasher in tests/test_sklearn_checks.py.
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
    """Raised when transform (or encode, or save) is called before fit; scikit-learn's NotFittedError."""


class Hasher(TransformerMixin, BaseEstimator):
    """Base class of every hasher: subclasses implement _fit(X) and _encode(X_block) on torch tensors."""

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
    def torch_device(self) -> torch.device:
        """The torch device computations run on (resolved from the device parameter)."""
        return resolve_device(getattr(self, "device", "cpu"))

    def fitted_attributes(self) -> list[str]:
        """Names of the attributes set by fit (they end in '_')."""
        return sorted(k for k in vars(self) if k.endswith("_") and not k.startswith("_"))

    def is_fitted(self) -> bool:
        """Whether fit has been called."""
        return "n_features_in_" in vars(self)

    def _check_fitted(self, action: str) -> None:
        if not self.is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) before {action}")

    def fit(self, X: Any, y: Any = None) -> Hasher:
        """Learn (or draw) the hash function from training data X (n_samples, n_features); y is ignored."""
        X = check_features(X, "X")
        self._validate_params(X.shape[1])
        for name in self.fitted_attributes():
            delattr(self, name)
        self._fit(torch.from_numpy(X).to(self.torch_device))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Hash X (n_samples, n_features) into boolean codes, in blocks of rows to bound memory."""
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
        """The codes of X as they are stored (flymodel.codes): packed uint8 bytes (np.packbits layout, FAISS's) for
        dense hashers, or for any hasher with packed=True; for sparse hashers the (n, k) int32 matrix of each code's
        sorted active units, or SparseCodes (CSR) when the number varies (a circuit's APL readout).

        X is hashed block_rows rows at a time, so the boolean codes of all of X are never held: X may be a
        memory-mapped array, and out a preallocated (memory-mapped) array of the result's shape and dtype to write
        into. A dask array X is encoded chunk by chunk (map_blocks) into a dask array of codes, for databases on a
        cluster; progress shows a progress bar over the blocks.
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
    def fixed_weight(self) -> bool:
        """Whether every code has exactly k active units, as in every sparse hasher but a circuit's APL readout."""
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
    def n_bits_(self) -> int:
        """Width of the boolean code: m for sparse hashers, k for dense ones."""
        raise NotImplementedError

    @property
    def code_size_(self) -> int | None:
        """Bytes that encode stores per code: ceil(n_bits_ / 8) packed bytes for dense hashers; for sparse ones
        (SparseCodes) 4 per active unit plus 8 for the code's row pointer, with k active units (for a circuit's APL
        readout, the k its gain was set to on average). None when the count is not set in advance (APL readout with
        k=None): SparseCodes.nbytes / len(codes) then measures it."""
        self._check_fitted("code_size_")
        if not self.sparse:
            return packed_width(self.n_bits_)
        k = getattr(self, "k", None)
        return None if k is None else SPARSE_INDEX_BYTES * k + SPARSE_POINTER_BYTES

    @property
    def n_units_(self) -> int:
        """Hidden units computed per sample in _encode (sets the transform block size)."""
        return self.n_bits_

    def _validate_params(self, n_features: int) -> None:
        raise NotImplementedError

    def _fit(self, X: torch.Tensor) -> None:
        raise NotImplementedError

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # --- persistence -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write parameters and fitted state to an .npz file, atomically; load() restores identical codes."""
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
        """Read a hasher written by save(); device overrides the saved device parameter."""
        with np.load(path, allow_pickle=False) as data:
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

