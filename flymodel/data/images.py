"""Image benchmarks (MNIST, Fashion-MNIST, CIFAR-10) as read-only uint8 arrays, train then test, for similarity search."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from flymodel.data.files import EXPECTED_SHA256, data_path

CACHE_ENV_VAR = "FLYMODEL_CACHE"

MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)

# From shared/data/README.md: the decoded pixels every tested JPEG decoder produces, and the per-class counts.
_CIFAR10_DECODED_SHA256 = {
    "x_train": "bf3aabd52be912dae02a0435296c4dab5289524b57f55cd162dc4796935a611b",
    "x_test": "5a6aa8185204d80b65d3dfb540696dadd5f10d185ded226a96665d3e0fc6259f",
}
_CIFAR10_SHAPES = {"x_train": (50000, 32, 32, 3), "x_test": (10000, 32, 32, 3)}
_CIFAR10_PER_CLASS = {"y_train": 5000, "y_test": 1000}


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A labelled image set: uint8 images (N, H, W) or (N, H, W, C), train rows first, then test rows."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    n_train: int
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        """Number of classes (labels run from 0 to n_classes - 1)."""
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image; C = 1 for grey images."""
        height, width, *channels = self.images.shape[1:]
        return (height, width, channels[0] if channels else 1)

    def __len__(self) -> int:
        """Number of images, train plus test."""
        return len(self.labels)

    def features(self, indices: Any = None) -> np.ndarray:
        """Return float32 pixels in [0, 1], one flattened (C-order, HWC) image per row; only rows `indices` if given."""
        images = self.images if indices is None else self.images[indices]
        if images.ndim != self.images.ndim:
            raise ValueError(
                f"indices must select rows (a 1-D integer or boolean array, or a slice); got {indices!r}"
            )
        out = images.reshape(len(images), -1).astype(np.float32)
        out /= np.float32(255)
        return out


def cache_dir() -> Path:
    """Return the folder for decoded-data caches: $FLYMODEL_CACHE, else ~/.cache/flymodel."""
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "flymodel"


def load_mnist(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load MNIST (60,000 train + 10,000 test digits, 28x28 grey); root overrides the data search."""
    return _load_idx_npz("mnist", data_path("mnist.npz", root), MNIST_CLASSES)


def load_fashion_mnist(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load Fashion-MNIST (60,000 train + 10,000 test clothing images, 28x28 grey); root overrides the search."""
    return _load_idx_npz("fashion_mnist", data_path("fashion_mnist.npz", root), FASHION_MNIST_CLASSES)


def load_cifar10(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load CIFAR-10 (50,000 + 10,000 JPEG-decoded 32x32 RGB images, sorted by class); root overrides the search."""
    return _load_cifar10(data_path("cifar10_jpeg.npz", root))


DATASETS: dict[str, Callable[..., ImageDataset]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
}


def load_dataset(name: str, root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load a dataset by its DATASETS name, so experiments can name the dataset in their configuration."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is not known; expected one of: {', '.join(sorted(DATASETS))}")
    return DATASETS[name](root)


def _dataset(name: str, splits: Any, class_names: tuple[str, ...]) -> ImageDataset:
    """Join the train and test splits into one read-only ImageDataset."""
    images = np.concatenate([splits["x_train"], splits["x_test"]])
    labels = np.concatenate([splits["y_train"], splits["y_test"]]).astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return ImageDataset(name, images, labels, len(splits["y_train"]), class_names)


@lru_cache(maxsize=4)
def _load_idx_npz(name: str, path: Path, class_names: tuple[str, ...]) -> ImageDataset:
    """Read an npz with x_/y_ train/test arrays; memoised because the result is read-only."""
    with np.load(path) as z:
        return _dataset(name, {key: z[key] for key in ("x_train", "y_train", "x_test", "y_test")}, class_names)


@lru_cache(maxsize=2)
def _load_cifar10(path: Path) -> ImageDataset:
    """Read CIFAR-10 labels from the npz and pixels from the decode cache (decoding on a miss); memoised."""
    with np.load(path) as z:
        labels = {"y_train": z["y_train"], "y_test": z["y_test"]}
        cache = cache_dir() / f"cifar10_decoded_{EXPECTED_SHA256[path.name]}.npz"
        pixels = _read_cache(cache)
        if pixels is None:
            pixels = _decode_cifar10(z)
            _check_cifar10(pixels, labels)
            _write_cache(cache, pixels)
    return _dataset("cifar10", pixels | labels, CIFAR10_CLASSES)


def _decode_cifar10(z: Any) -> dict[str, np.ndarray]:
    """Decode every stored JPEG with Pillow to uint8 RGB (HWC), as the data README describes."""
    pixels = {}
    for split in ("train", "test"):
        buf, offsets = z[f"{split}_jpeg"], z[f"{split}_offsets"].tolist()
        images = []
        for start, stop in zip(offsets[:-1], offsets[1:]):
            with Image.open(io.BytesIO(buf[start:stop])) as img:
                images.append(np.asarray(img.convert("RGB")))
        pixels[f"x_{split}"] = np.stack(images)
    return pixels


def _check_cifar10(pixels: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> None:
    """Raise if freshly decoded CIFAR-10 differs from the README's shapes, class counts or pixel sha256."""
    for key, shape in _CIFAR10_SHAPES.items():
        if pixels[key].shape != shape or pixels[key].dtype != np.uint8:
            raise RuntimeError(
                f"decoded CIFAR-10 {key} has shape {pixels[key].shape} {pixels[key].dtype}; expected {shape} uint8"
            )
        actual = hashlib.sha256(np.ascontiguousarray(pixels[key]).data).hexdigest()
        if actual != _CIFAR10_DECODED_SHA256[key]:
            raise RuntimeError(
                f"decoding cifar10_jpeg.npz with Pillow {Image.__version__} gave different pixels for {key}: "
                f"sha256 {actual}, expected {_CIFAR10_DECODED_SHA256[key]} (shared/data/README.md). This JPEG "
                "decoder does not match the reference ones, so results would not be comparable; use a standard "
                "Pillow build (libjpeg-turbo)."
            )
    for key, per_class in _CIFAR10_PER_CLASS.items():
        counts = np.bincount(labels[key], minlength=len(CIFAR10_CLASSES))
        if counts.tolist() != [per_class] * len(CIFAR10_CLASSES):
            raise RuntimeError(f"CIFAR-10 {key} class counts are {counts.tolist()}; expected {per_class} per class")


def _read_cache(cache: Path) -> dict[str, np.ndarray] | None:
    """Return the cached decoded pixels, or None if the cache is missing, unreadable or the wrong shape."""
    try:
        with np.load(cache) as z:
            pixels = {key: z[key] for key in _CIFAR10_SHAPES}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if any(pixels[k].shape != shape or pixels[k].dtype != np.uint8 for k, shape in _CIFAR10_SHAPES.items()):
        return None
    return pixels


def _write_cache(cache: Path, pixels: dict[str, np.ndarray]) -> None:
    """Write the decoded pixels atomically (temp file, then os.replace); warn instead of failing if it cannot."""
    tmp: str | None = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **pixels)
        os.replace(tmp, cache)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        warnings.warn(f"could not write the CIFAR-10 decode cache {cache}: {exc}; it will be decoded again next time")


def _clear_caches() -> None:
    """Forget memoised datasets (for tests that change files, caches or the environment)."""
    _load_idx_npz.cache_clear()
    _load_cifar10.cache_clear()
