"""Image benchmarks (MNIST, Fashion-MNIST, CIFAR-10) as read-only uint8 arrays, train rows then test rows.

The benchmarks are those of the similarity-search papers. ``DATASETS`` maps each dataset's name to its loader, so
that experiments can name the dataset in their configuration (``load_dataset``).

Examples
--------
>>> from flymodel.data import DATASETS
>>> sorted(DATASETS)
['cifar10', 'fashion_mnist', 'mnist']
>>> DATASETS["mnist"]().name
'mnist'
"""

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
    """A labelled image set: uint8 images (N, H, W) or (N, H, W, C), train rows first, then test rows.

    The loaders return their arrays read-only. The fields are also the constructor's arguments.

    Attributes
    ----------
    name : str
        The dataset's name, e.g. ``"mnist"``.
    images : ndarray of shape (n_images, H, W) or (n_images, H, W, C), dtype uint8
        The images, train rows first, then test rows.
    labels : ndarray of shape (n_images,), dtype int64
        The class of each image, from 0 to ``n_classes - 1``.
    n_train : int
        The number of train rows: rows ``[0, n_train)`` are the train split, the rest the test split.
    class_names : tuple of str
        The name of each class, indexed by label.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.data import ImageDataset
    >>> images = np.arange(4 * 2 * 3, dtype=np.uint8).reshape(4, 2, 3) * 10
    >>> toy = ImageDataset("toy", images, np.array([0, 1, 0, 1]), n_train=3, class_names=("even", "odd"))
    >>> len(toy), toy.n_classes, toy.image_shape
    (4, 2, (2, 3, 1))
    >>> X = toy.features([0, 3])
    >>> X.shape, X.dtype
    ((2, 6), dtype('float32'))
    >>> X[0].round(3).tolist()
    [0.0, 0.039, 0.078, 0.118, 0.157, 0.196]
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    n_train: int
    class_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:  # a property, described without Returns; numpydoc ignore=RT01
        """Number of classes (labels run from 0 to ``n_classes - 1``).

        An int: the length of ``class_names``.
        """
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:  # a property, described without Returns; numpydoc ignore=RT01
        """(H, W, C) of one image; C = 1 for grey images.

        A tuple of three ints, also for grey images stored as (N, H, W).
        """
        height, width, *channels = self.images.shape[1:]
        return (height, width, channels[0] if channels else 1)

    def __len__(self) -> int:
        """Number of images, train plus test."""
        return len(self.labels)

    def features(self, indices: Any = None) -> np.ndarray:
        """Return float32 pixels in [0, 1], one flattened (C-order, HWC) image per row.

        Only the rows ``indices`` if given, else every row.

        Parameters
        ----------
        indices : array-like of int or bool, slice, or None, default None
            The rows to return (a 1-D integer or boolean array, or a slice); None returns every row.

        Returns
        -------
        ndarray of shape (n_rows, H * W * C), dtype float32
            The pixels divided by 255, a new array.

        Raises
        ------
        ValueError
            If ``indices`` does not select rows (e.g. a single integer).
        """
        images = self.images if indices is None else self.images[indices]
        if images.ndim != self.images.ndim:
            raise ValueError(
                f"indices must select rows (a 1-D integer or boolean array, or a slice); got {indices!r}"
            )
        out = images.reshape(len(images), -1).astype(np.float32)
        out /= np.float32(255)
        return out


def cache_dir() -> Path:
    """Return the folder for decoded-data caches: $FLYMODEL_CACHE, else ~/.cache/flymodel.

    Returns
    -------
    Path
        The folder (not created here); CIFAR-10's decoded pixels are cached in it.
    """
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "flymodel"


def load_mnist(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load MNIST (60,000 train + 10,000 test digits, 28x28 grey); root overrides the data search.

    The file is mnist.npz; it is read once per process, and the arrays are read-only.

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds mnist.npz; None searches ``data_dirs()``.

    Returns
    -------
    ImageDataset
        70,000 images of shape (28, 28), the 60,000 train rows first; class names ``"0"`` to ``"9"``.

    Raises
    ------
    DataFileError
        If the file is not found or fails its checksum.

    Examples
    --------
    >>> from flymodel.data import load_mnist
    >>> mnist = load_mnist()
    >>> mnist.images.shape, mnist.images.dtype, mnist.n_train
    ((70000, 28, 28), dtype('uint8'), 60000)
    >>> mnist.image_shape, mnist.n_classes
    ((28, 28, 1), 10)
    >>> mnist.features(slice(0, 5)).shape
    (5, 784)
    """
    return _load_idx_npz("mnist", data_path("mnist.npz", root), MNIST_CLASSES)


def load_fashion_mnist(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load Fashion-MNIST (60,000 train + 10,000 test clothing images, 28x28 grey); root overrides the search.

    The file is fashion_mnist.npz; it is read once per process, and the arrays are read-only.

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds fashion_mnist.npz; None searches ``data_dirs()``.

    Returns
    -------
    ImageDataset
        70,000 images of shape (28, 28), the 60,000 train rows first, in 10 classes.

    Raises
    ------
    DataFileError
        If the file is not found or fails its checksum.

    Examples
    --------
    >>> from flymodel.data import load_fashion_mnist
    >>> fashion = load_fashion_mnist()
    >>> fashion.images.shape, fashion.n_train
    ((70000, 28, 28), 60000)
    >>> fashion.class_names[:3]
    ('T-shirt/top', 'Trouser', 'Pullover')
    """
    return _load_idx_npz("fashion_mnist", data_path("fashion_mnist.npz", root), FASHION_MNIST_CLASSES)


def load_cifar10(root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load CIFAR-10 (50,000 + 10,000 JPEG-decoded 32x32 RGB images, sorted by class).

    ``root`` overrides the data search. The file cifar10_jpeg.npz stores JPEGs. The first load decodes them with Pillow (about a minute), checks the
    pixels against the sha256 sums of the data README, and caches them in ``cache_dir()``; later loads read the
    cache. The result is memoised per process and its arrays are read-only.

    Parameters
    ----------
    root : str or os.PathLike or None, default None
        The folder that holds cifar10_jpeg.npz; None searches ``data_dirs()``.

    Returns
    -------
    ImageDataset
        60,000 images of shape (32, 32, 3), the 50,000 train rows first, each split sorted by class.

    Raises
    ------
    DataFileError
        If the file is not found or fails its checksum.
    RuntimeError
        If freshly decoded pixels differ from the README's shapes, class counts or pixel sha256 (a JPEG decoder
        that does not match the reference ones).

    Examples
    --------
    The first call may decode for a minute, so it is not run here:

    >>> from flymodel.data import load_cifar10
    >>> cifar = load_cifar10()  # doctest: +SKIP
    >>> cifar.images.shape, cifar.n_train, cifar.image_shape  # doctest: +SKIP
    ((60000, 32, 32, 3), 50000, (32, 32, 3))
    >>> cifar.class_names[:3]  # doctest: +SKIP
    ('airplane', 'automobile', 'bird')
    """
    return _load_cifar10(data_path("cifar10_jpeg.npz", root))


DATASETS: dict[str, Callable[..., ImageDataset]] = {
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
}


def load_dataset(name: str, root: str | os.PathLike[str] | None = None) -> ImageDataset:
    """Load a dataset by its ``DATASETS`` name, so experiments can name the dataset in their configuration.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist", "cifar10"}
        The dataset.
    root : str or os.PathLike or None, default None
        The folder that holds the dataset's file; None searches ``data_dirs()``.

    Returns
    -------
    ImageDataset
        The dataset, as its loader returns it.

    Raises
    ------
    ValueError
        If ``name`` is not a key of ``DATASETS``.
    DataFileError
        If the dataset's file is not found or fails its checksum.

    Examples
    --------
    >>> from flymodel.data import load_dataset
    >>> mnist = load_dataset("mnist")
    >>> mnist.name, len(mnist)
    ('mnist', 70000)
    >>> load_dataset("imagenet")
    Traceback (most recent call last):
        ...
    ValueError: dataset='imagenet' is not known; expected one of: cifar10, fashion_mnist, mnist
    """
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
