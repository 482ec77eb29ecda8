"""The hasher base class: scikit-learn estimator conventions, torch on CPU or CUDA, boolean codes, save/load.

Conventions (as in sklearn/base.py): ``__init__`` only stores its arguments; parameters are checked in
``fit``; fitted attributes end in ``_``; ``fit`` returns self; ``transform`` returns a boolean matrix:
(n, m) with exactly k True per row for sparse (expansive) hashers, (n, k) bits for dense ones.
"""

from __future__ import annotations

import inspect
import json
import os
from typing import Any, ClassVar

import numpy as np
import torch

from flymodel.codes import SparseCodes, pack_codes
from flymodel.io import atomic_path, package_versions, to_json
from flymodel.validation import check_features, check_int, resolve_device

#: Version of the on-disk format written by Hasher.save; load refuses other versions.
FORMAT_VERSION = 1
#: Activations computed at once in transform (rows × units), to bound memory (about 64 MB of float32).
TRANSFORM_BLOCK = 2**24
#: Rows hashed at once by encode (each block's boolean codes are packed before the next is hashed).
ENCODE_BLOCK = 4096


class NotFittedError(RuntimeError):
    """Raised when transform (or save) is called before fit."""


class Hasher:
    """Base class of every hasher: subclasses implement _fit(X) and _encode(X_block) on torch tensors."""

    #: True when codes are k-sparse over m units, False when they are k dense bits.
    sparse: ClassVar[bool]
    #: Registry of hasher classes by name, for load() and the command line.
    registry: ClassVar[dict[str, type[Hasher]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Hasher.registry[cls.__name__] = cls

    # --- scikit-learn parameter protocol -------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Hasher:
        """Set constructor parameters (validated at the next fit); unknown names raise a ValueError."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{name!r} is not a parameter of {type(self).__name__}; expected one of: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

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
        X = check_features(X, "X", n_features=self.n_features_in_)
        codes = np.empty((X.shape[0], self.code_size_), dtype=bool)
        block = max(1, TRANSFORM_BLOCK // max(self.n_units_, 1))
        for start in range(0, X.shape[0], block):
            chunk = torch.from_numpy(X[start:start + block]).to(self.torch_device)
            codes[start:start + block] = self._encode(chunk).cpu().numpy()
        return codes

    def encode(self, X: Any, block_rows: int = ENCODE_BLOCK) -> np.ndarray | SparseCodes:
        """The codes of X as they are stored: packed uint8 bytes (np.packbits layout, FAISS's) for dense hashers,
        SparseCodes (the sorted active units of each code) for sparse ones. X is hashed block_rows rows at a time,
        so the boolean matrix of all of X is never held; X may be a memory-mapped array."""
        self._check_fitted("encode")
        block_rows = check_int(block_rows, "block_rows", minimum=1)
        n = len(X)
        if n == 0:
            raise ValueError("X is empty; expected at least one row to encode")
        blocks = (self.transform(X[start:start + block_rows]) for start in range(0, n, block_rows))
        if self.sparse:
            return SparseCodes.concatenate([SparseCodes.from_dense(b) for b in blocks], self.code_size_)
        return np.concatenate([pack_codes(b) for b in blocks])

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """fit(X) then transform(X)."""
        return self.fit(X, y).transform(X)

    @property
    def code_size_(self) -> int:
        """Width of the boolean code: m for sparse hashers, k for dense ones."""
        raise NotImplementedError

    @property
    def n_units_(self) -> int:
        """Hidden units computed per sample in _encode (sets the transform block size)."""
        return self.code_size_

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

