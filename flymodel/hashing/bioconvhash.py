"""BioConvHash (Ryali et al. 2020, section 2.4 and Appendix D): convolutional filters learned by the
Krotov–Hopfield rule on unit-normalised image patches, patch-normalised convolution, cross-channel
inhibition, max-pooling, then a BioHash layer (learned synapses read out by k-WTA).

The pipeline for one image, per filter bank (one bank of F filters per kernel size K):

    a_f(y, x) = ⟨W_f, P(y, x)⟩_p / ‖P(y, x)‖₂        patch-normalised convolution (section 2.4)
    a ← top-k_CI of the F channels at every (y, x)   cross-channel inhibition, the rest set to 0
    a ← max_pool2d(a, 7, stride 2)                   (Appendix D)

the flattened pooled maps of all banks are concatenated, centred with their training mean, and hashed by a
BioHash layer: y_μ = 1 iff ⟨W_μ, features⟩_μ is among the k largest (eq. 6).

Interpretations where the paper is silent (documented choices):
- Filters are learned on `n_patches` patches drawn uniformly over training images and positions (the paper
  says "dividing the training set into patches"; all 46 M patches of MNIST would be needlessly many).
  Patches are flattened in (C, K, K) order, divided by their L2 norm and not centred; all-zero patches
  (MNIST's background) have no direction and are dropped, so a bank may see fewer than n_patches patches.
- The patch norm is the L2 norm also when p ≠ 2 (the p-inner product is taken with unit L2 patches), and an
  all-zero patch (norm ≤ eps) gives activation 0 rather than 0/0.
- Activations are not rectified: cross-channel inhibition keeps the k_CI largest values even when they are
  negative, and the others become 0, exactly as "the rest are set to 0" reads; max-pooling follows.
- Every layer uses the same rule parameters and schedule (p, Δ, r, ε0, epochs, minibatch, tol), Appendix D's
  BioHash values; the bank seeds and the hash layer's seed are drawn from one generator seeded by `seed`.
- Cross-channel inhibition keeps exactly k_CI channels per location; among channels tied at the k_CI-th value
  torch.topk chooses (ties only matter at blank patches, where every kept value is 0 anyway).
- The training set's features (100,000 per MNIST image, about 10 % non-zero) are computed once per fit and kept
  as a sparse store on disk (flymodel.hashing.feature_store), which the hash layer's epochs read by minibatch;
  with `feature_cache` the store and the filters outlive the fit and are shared by fits that differ only in the
  hash layer (k, m, activity), as a table over k does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from flymodel.circuit.kwta import kwta
from flymodel.circuit.wiring import seeded_generator
from flymodel.hashing.biohash import LearnedSynapses, check_expansion, hidden_units
from flymodel.hashing.feature_store import SparseRows
from flymodel.hashing.flyhash import center
from flymodel.learning import TrainingSchedule, currents, p_weights, train_synapses
from flymodel.validation import check_features, check_int

#: Image shapes (H, W, C) inferred from the number of features when image_shape is None: MNIST-like and CIFAR-like.
DEFAULT_IMAGE_SHAPES: dict[int, tuple[int, int, int]] = {784: (28, 28, 1), 3072: (32, 32, 3)}


def patch_normalised_conv(images: torch.Tensor, filters: torch.Tensor, stride: int = 1, p: float = 2.0,
                          eps: float = 1e-8) -> torch.Tensor:
    """Convolution over unit-normalised patches, ⟨W_f, P⟩_p / ‖P‖₂: (N, C, H, W) × (F, C, K, K) → (N, F, H', W').

    The divisive normalisation of section 2.4 without unfolding the patches: the numerator is an ordinary
    convolution with the p-weights |W|^(p−2)·W, the patch norms one single-channel convolution of the squared
    image with a K×K×C box of ones. Patches with norm ≤ eps (all-zero patches) give 0.
    """
    kernel_size = filters.shape[-1]
    numerator = F.conv2d(images, p_weights(filters, p), stride=stride)  # Σ_i |W_fi|^(p−2) W_fi P_i (section 2.1's p-inner product)
    box = torch.ones(1, images.shape[1], kernel_size, kernel_size, dtype=images.dtype, device=images.device)
    norms = F.conv2d(images * images, box, stride=stride).clamp_min(0).sqrt()  # ‖P(y, x)‖₂ for every patch
    return torch.where(norms > eps, numerator / norms.clamp_min(eps), torch.zeros((), dtype=images.dtype, device=images.device))


def channel_inhibition(activations: torch.Tensor, k_ci: int) -> torch.Tensor:
    """Cross-channel inhibition (section 2.4): keep the k_ci largest of the F channels at every (n, y, x), zero the rest.

    Exactly k_ci channels survive per location (torch.topk, deterministic on a device). Among channels tied at
    the k_ci-th value, which ones survive is topk's choice: it changes no value in the output's all-zero
    locations (blank patches), the only place where ties are common.
    """
    n_channels = activations.shape[1]
    if isinstance(k_ci, bool) or not isinstance(k_ci, (int, np.integer)) or not 1 <= k_ci <= n_channels:
        raise ValueError(f"k_ci={k_ci!r} is outside its range; expected an integer 1 <= k_ci <= F={n_channels} (channels kept per location)")
    values, channels = torch.topk(activations, int(k_ci), dim=1)
    return torch.zeros_like(activations).scatter_(1, channels, values)


def sample_patches(images: torch.Tensor, kernel_size: int, n_patches: int, generator: torch.Generator,
                   eps: float = 1e-8) -> torch.Tensor:
    """Draw n_patches K×K×C patches uniformly over images and positions, as unit vectors (P', C·K·K), for learning filters.

    Appendix D: filters are learned on patches of the training images. Patches are flattened in the filters'
    (C, K, K) order and divided by their L2 norm; patches with norm ≤ eps (all-zero) are dropped, so P' ≤ n_patches.
    The draws are made by the (CPU) generator, so a seed gives the same patches on every device.
    """
    n_images, n_channels, height, width = images.shape
    if kernel_size > min(height, width):
        raise ValueError(f"kernel size K={kernel_size} is larger than the {height}×{width} images; expected K <= {min(height, width)}")
    index = torch.randint(n_images, (n_patches,), generator=generator)
    top = torch.randint(height - kernel_size + 1, (n_patches,), generator=generator)
    left = torch.randint(width - kernel_size + 1, (n_patches,), generator=generator)
    offsets = torch.arange(kernel_size)
    patches = images[index[:, None, None, None].to(images.device),
                     torch.arange(n_channels, device=images.device)[None, :, None, None],
                     (top[:, None] + offsets)[:, None, :, None].to(images.device),
                     (left[:, None] + offsets)[:, None, None, :].to(images.device)].reshape(n_patches, -1)
    norms = patches.norm(dim=1)
    keep = norms > eps
    return patches[keep] / norms[keep, None]


def conv_output_shapes(height: int, width: int, kernel_size: int, stride: int, pool_kernel: int,
                       pool_stride: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (H', W') of a K×K convolution and the (H'', W'') after max-pooling, or a ValueError if either layer does not fit."""
    if kernel_size > min(height, width):
        raise ValueError(f"kernel size K={kernel_size} is larger than the {height}×{width} images; expected K <= {min(height, width)}")
    conv = ((height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1)
    if pool_kernel > min(conv):
        raise ValueError(f"pool_kernel={pool_kernel} is larger than the {conv[0]}×{conv[1]} output of the K={kernel_size} "
                         f"convolution (stride {stride}) of {height}×{width} images; expected pool_kernel <= {min(conv)}")
    return conv, ((conv[0] - pool_kernel) // pool_stride + 1, (conv[1] - pool_kernel) // pool_stride + 1)


def conv_features(images: torch.Tensor, banks: Sequence[torch.Tensor], k_ci: int, pool_kernel: int = 7,
                  pool_stride: int = 2, stride: int = 1, p: float = 2.0) -> torch.Tensor:
    """The hash layer's input: per bank, patch-normalised conv → channel inhibition → max-pool, flattened and concatenated.

    images (N, C, H, W); banks: one (F, C, K, K) filter tensor per kernel size. Returns (N, Σ_banks F·H''·W'').
    """
    if not banks:
        raise ValueError("banks is empty; expected at least one (F, C, K, K) filter bank")
    outputs = []
    for filters in banks:
        conv_output_shapes(images.shape[2], images.shape[3], filters.shape[-1], stride, pool_kernel, pool_stride)
        activations = channel_inhibition(patch_normalised_conv(images, filters, stride, p), k_ci)  # section 2.4
        outputs.append(F.max_pool2d(activations, pool_kernel, pool_stride).flatten(1))  # Appendix D: kernel 7, stride 2
    return torch.cat(outputs, dim=1)


def resolve_image_shape(image_shape: Sequence[int] | None, n_features: int) -> tuple[int, int, int]:
    """The (H, W, C) layout of a feature row: image_shape checked against d, or inferred for d = 784 or 3072."""
    if image_shape is None:
        if n_features not in DEFAULT_IMAGE_SHAPES:
            raise ValueError(f"image_shape=None cannot be inferred from d={n_features} features; expected d=784 (28×28×1) "
                             f"or d=3072 (32×32×3), or pass image_shape=(H, W, C)")
        return DEFAULT_IMAGE_SHAPES[n_features]
    if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 3
            and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in image_shape)):
        raise ValueError(f"image_shape={image_shape!r} must be three positive integers (H, W, C)")
    if math.prod(image_shape) != n_features:
        raise ValueError(f"image_shape={tuple(image_shape)} holds H·W·C={math.prod(image_shape)} values but X has "
                         f"d={n_features} features; they must be equal")
    return (int(image_shape[0]), int(image_shape[1]), int(image_shape[2]))


def rows_to_images(X: torch.Tensor, image_shape: Sequence[int]) -> torch.Tensor:
    """Feature rows flattened in C-order (H, W, C), as ImageDataset.features() writes them, to (N, C, H, W) images for conv2d."""
    height, width, n_channels = image_shape
    return X.reshape(X.shape[0], height, width, n_channels).permute(0, 3, 1, 2)


class BioConvHash(LearnedSynapses):
    """Learned convolutional filters, patch normalisation, cross-channel inhibition and max-pooling, then BioHash.

    Parameters
    ----------
    k : active units per code (hash length). m, activity : hidden units of the hash layer, or the activity k/m
        that sets it (m = round(k / activity)); m wins when given.
    kernel_sizes : one filter bank per kernel size K (Appendix D: (3, 4) on MNIST, (3, 4, 10) on CIFAR-10).
    n_filters : filters F per bank (500 on MNIST, 400 on CIFAR-10). k_ci : channels kept per location by
        cross-channel inhibition (10 on MNIST, 1 on CIFAR-10). pool_kernel, pool_stride : the max-pooling
        (7, 2). stride : of the convolutions (1).
    image_shape : (H, W, C) of a feature row (C-order HWC, as ImageDataset.features() writes); None infers
        (28, 28, 1) for d = 784 and (32, 32, 3) for d = 3072.
    n_patches : random patches drawn to learn each bank (all-zero patches are dropped from them).
    p, delta, rank, lr, max_epochs, batch_size, tol : the learning rule and schedule (BioHash's), used for the
        filters and for the hash layer alike. hash_max_epochs : T_max of the hash layer alone (None: max_epochs); a
        shorter schedule for CPUs, where a 100-epoch hash layer over 100,000 features takes hours (see the README). centering : of the hash layer's input features ('mean': the
        training mean, computed in blocks; 'none'; 'sample').
    seed, device : seed of every random draw; torch device ('auto' picks CUDA). progress : progress bars.
    block_size : images whose features are computed at once, to bound memory.
    checkpoint : a path prefix; training state is checkpointed to PREFIX.filters-kK.pt (one per bank) and
        PREFIX.hash.pt after every epoch and resumed from there.
    feature_cache : a directory that keeps the learned filters and the training set's conv features (a sparse
        store: about 6 GB for MNIST), named by everything they depend on; later fits on the same data with the
        same filter settings and seed reuse them (a table over k learns the filters and convolves the data once),
        and transform() of the training set reads its features from there. None: a temporary store per fit.
    See the module docstring for the interpretations of the paper.
    """

    sparse = True

    def __init__(self, k: int = 16, activity: float = 0.05, m: int | None = None,
                 kernel_sizes: Sequence[int] = (3, 4), n_filters: int = 500, k_ci: int = 10, pool_kernel: int = 7,
                 pool_stride: int = 2, stride: int = 1, image_shape: Sequence[int] | None = None,
                 n_patches: int = 100_000, p: float = 2.0, delta: float = 0.0, rank: int = 2, lr: float = 2e-2,
                 max_epochs: int = 100, hash_max_epochs: int | None = None, batch_size: int = 100, tol: float = 1.06,
                 centering: str = "mean", seed: int = 0, device: str = "auto", progress: bool = False, block_size: int = 256,
                 checkpoint: str | os.PathLike[str] | None = None,
                 feature_cache: str | os.PathLike[str] | None = None):
        self.k = k
        self.activity = activity
        self.m = m
        self.kernel_sizes = kernel_sizes
        self.n_filters = n_filters
        self.k_ci = k_ci
        self.pool_kernel = pool_kernel
        self.pool_stride = pool_stride
        self.stride = stride
        self.image_shape = image_shape
        self.n_patches = n_patches
        self.p = p
        self.delta = delta
        self.rank = rank
        self.lr = lr
        self.max_epochs = max_epochs
        self.hash_max_epochs = hash_max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.centering = centering
        self.seed = seed
        self.device = device
        self.progress = progress
        self.block_size = block_size
        self.checkpoint = checkpoint
        self.feature_cache = feature_cache

    def n_hidden(self) -> int:
        """m of the hash layer, given directly or as round(k / activity)."""
        return hidden_units(self.k, self.m, self.activity)

    def _schedule(self, hash_layer: bool = False) -> TrainingSchedule:
        """Appendix D's schedule, shared by the filters and the hash layer (whose T_max hash_max_epochs may shorten)."""
        epochs = self.hash_max_epochs if hash_layer and self.hash_max_epochs is not None else self.max_epochs
        return TrainingSchedule(lr=self.lr, max_epochs=epochs, batch_size=self.batch_size, tol=self.tol)

    def _validate_params(self, n_features: int) -> None:
        """Check every parameter against the data's width d; each error names the parameter, its value and the expectation."""
        m = check_expansion(self.k, self.m, self.activity)
        if not isinstance(self.kernel_sizes, (tuple, list)) or not self.kernel_sizes:
            raise ValueError(f"kernel_sizes={self.kernel_sizes!r} must be a non-empty tuple of kernel sizes, e.g. (3, 4)")
        if not all(isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 1 for size in self.kernel_sizes):
            raise ValueError(f"kernel_sizes={self.kernel_sizes!r} must hold integer kernel sizes >= 1")
        if len(set(self.kernel_sizes)) != len(self.kernel_sizes):
            raise ValueError(f"kernel_sizes={self.kernel_sizes!r} holds duplicates; expected each kernel size once")
        n_filters = check_int(self.n_filters, "n_filters", minimum=1)
        if isinstance(self.k_ci, bool) or not isinstance(self.k_ci, (int, np.integer)) or not 1 <= self.k_ci <= n_filters:
            raise ValueError(f"k_ci={self.k_ci!r} is outside its range; expected an integer 1 <= k_ci <= n_filters={n_filters} "
                             f"(channels kept per location)")
        for name in ("pool_kernel", "pool_stride", "stride", "n_patches", "block_size"):
            check_int(getattr(self, name), name, minimum=1)
        height, width, _ = resolve_image_shape(self.image_shape, n_features)
        for size in self.kernel_sizes:
            conv_output_shapes(height, width, size, self.stride, self.pool_kernel, self.pool_stride)
        if self.feature_cache is not None and not isinstance(self.feature_cache, (str, os.PathLike)):
            raise ValueError(f"feature_cache={self.feature_cache!r} must be a directory path or None")
        self._validate_learning(m)  # centering, seed, and the rule against the hash layer's m
        self._rule().validate(n_filters)
        if isinstance(self.batch_size, (int, np.integer)) and self.n_patches < self.batch_size:
            raise ValueError(f"n_patches={self.n_patches} is smaller than batch_size={self.batch_size}; expected n_patches >= "
                             f"batch_size (the filters are learned in minibatches of patches)")
        self._schedule().validate(self.n_patches)
        if self.hash_max_epochs is not None:
            check_int(self.hash_max_epochs, "hash_max_epochs", minimum=1)

    def _checkpoint(self, name: str) -> Path | None:
        """The checkpoint file of one training stage (None without a checkpoint prefix)."""
        return None if self.checkpoint is None else Path(f"{os.fspath(self.checkpoint)}.{name}.pt")

    def _fit(self, X: torch.Tensor) -> None:
        """Learn each filter bank on patches, store the training set's conv features once, then learn the hash layer on them (Appendix D)."""
        self.image_shape_ = resolve_image_shape(self.image_shape, X.shape[1])
        self._schedule().validate(X.shape[0])
        self._store: SparseRows | None = None
        self._training_digest = array_digest(X)
        images = rows_to_images(X, self.image_shape_)
        gen = seeded_generator(self.seed)
        self.kernel_sizes_ = [int(size) for size in self.kernel_sizes]
        started = time.perf_counter()
        hits = {"filters": True, "features": False}
        self.filter_logs_: list[list[dict[str, float]]] = []
        self.n_patches_: list[int] = []
        for size in self.kernel_sizes_:
            patches = sample_patches(images, size, self.n_patches, gen)
            if patches.shape[0] < self.batch_size:
                raise ValueError(f"only {patches.shape[0]} of the n_patches={self.n_patches} patches of size K={size} are "
                                 f"not all-zero, fewer than batch_size={self.batch_size}; raise n_patches or lower batch_size")
            bank_seed = self._draw_seed(gen)
            bank_checkpoint = self._filters_checkpoint(size, bank_seed)
            hits["filters"] &= bank_checkpoint is not None and bank_checkpoint.exists()
            filters, log = train_synapses(  # filters learned by eq. 1 on unit patches (section 2.4)
                patches, self.n_filters, self._rule(), self._schedule(), seed=bank_seed, progress=self.progress,
                checkpoint=bank_checkpoint, desc=f"filters K={size}")
            setattr(self, f"filters_k{size}_", filters.reshape(self.n_filters, self.image_shape_[2], size, size))
            self.filter_logs_.append(log)
            self.n_patches_.append(int(patches.shape[0]))
        hash_seed = self._draw_seed(gen)
        filters_done = time.perf_counter()
        with self._training_features(X, hits) as store:
            features_done = time.perf_counter()
            mean = store.column_sums() / store.shape[0]  # Appendix D: centred on the training mean
            self.feature_mean_ = torch.from_numpy(mean).to(X.device, X.dtype) if self.centering == "mean" else None
            self.feature_density_ = store.density
            self.weights_, self.training_log_ = train_synapses(  # the BioHash layer (section 2.1) on the stored features
                CentredFeatures(store, self.centering, self.feature_mean_, X.device), self.n_hidden(), self._rule(),
                self._schedule(hash_layer=True), seed=hash_seed, progress=self.progress, checkpoint=self._checkpoint("hash"),
                desc="hash layer")
        self.fit_seconds_ = {"filters": filters_done - started, "features": features_done - filters_done,
                             "hash_layer": time.perf_counter() - features_done}
        self.cache_hits_ = hits  # which stages were read from the feature cache (their seconds are then only the reading)

    @staticmethod
    def _draw_seed(gen: torch.Generator) -> int:
        """A training seed drawn from the fit's generator, so every layer gets its own stream from one seed."""
        return int(torch.randint(2**62, (1,), generator=gen))

    def _filters_checkpoint(self, size: int, bank_seed: int) -> Path | None:
        """Where a bank's training is checkpointed: the feature cache (named by all it depends on, so fits that differ
        only in the hash layer share it), else the checkpoint prefix, else nowhere."""
        if self.feature_cache is None:
            return self._checkpoint(f"filters-k{size}")
        key = json.dumps([self._training_digest, list(self.image_shape_), size, self.n_filters, self.n_patches, bank_seed,
                          self.p, self.delta, self.rank, self.lr, self.max_epochs, self.batch_size, self.tol])
        return Path(self.feature_cache) / f"filters-k{size}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"

    @contextlib.contextmanager
    def _training_features(self, X: torch.Tensor, hits: dict[str, bool]) -> Iterator[SparseRows]:
        """The conv features of the training set X as a SparseRows store: found in or added to the feature cache, or
        built in a temporary directory that is removed afterwards."""
        tag = self._features_tag()
        blocks = (self._features(X[start:start + self.block_size]).cpu().numpy()
                  for start in range(0, X.shape[0], self.block_size))
        if self.feature_cache is not None:
            directory = Path(self.feature_cache) / f"features-{tag[:24]}"
            hits["features"] = (directory / "meta.json").exists()
            store = SparseRows(directory) if hits["features"] else SparseRows.build(
                directory, blocks, X.shape[0], self.feature_dim_, tag, self.progress, desc="conv features")
            if store.tag != tag or store.shape != (X.shape[0], self.feature_dim_):
                raise ValueError(f"feature cache {directory} holds other features (tag {store.tag[:12]}…, shape {store.shape}); "
                                 f"delete it or pass another feature_cache")
            self._store = store
            yield store
            return
        with tempfile.TemporaryDirectory(prefix="flymodel-features-") as scratch:
            yield SparseRows.build(Path(scratch) / "features", blocks, X.shape[0], self.feature_dim_, tag, self.progress,
                                   desc="conv features")

    def _banks(self) -> list[torch.Tensor]:
        """The learned filter banks, (F, C, K, K) each, in kernel_sizes_ order."""
        return [getattr(self, f"filters_k{size}_") for size in self.kernel_sizes_]

    def _features(self, X: torch.Tensor) -> torch.Tensor:
        """conv_features of feature rows X (flattened HWC images), uncentred."""
        return conv_features(rows_to_images(X, self.image_shape_), self._banks(), self.k_ci, self.pool_kernel,
                             self.pool_stride, self.stride, self.p)

    def _features_tag(self) -> str:
        """A digest of everything the training features depend on (data, filters, inhibition, pooling), for the feature cache."""
        digest = hashlib.sha256(json.dumps([self._training_digest, self.k_ci, self.pool_kernel, self.pool_stride,
                                            self.stride, self.p, list(self.image_shape_)]).encode())
        for tensor in self._banks():
            digest.update(tensor.detach().cpu().numpy().tobytes())
        return digest.hexdigest()

    def _bank_shapes(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Conv and pooled (H, W) of every bank for the fitted image shape."""
        height, width, _ = self.image_shape_
        return [conv_output_shapes(height, width, size, self.stride, self.pool_kernel, self.pool_stride)
                for size in self.kernel_sizes_]

    @property
    def feature_dim_(self) -> int:
        """Width of the hash layer's input: Σ_banks F·H''·W''."""
        return sum(self.n_filters * pooled[0] * pooled[1] for _, pooled in self._bank_shapes())

    @property
    def n_bits_(self) -> int:
        """m: the hash layer's units, of which k are active per code."""
        return self.weights_.shape[0]

    @property
    def n_units_(self) -> int:
        """Values computed per image in _encode (the largest of a bank's conv maps, the features, the m currents): sets transform's block."""
        conv_maps = max(self.n_filters * conv[0] * conv[1] for conv, _ in self._bank_shapes())
        return max(conv_maps, self.feature_dim_, self.n_bits_)

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        """Codes of X in blocks of block_size images: k-WTA (eq. 6) of the hash layer's currents."""
        return torch.cat([self._codes(center(self._features(X[start:start + self.block_size]), self.centering, self.feature_mean_))
                          for start in range(0, X.shape[0], self.block_size)])

    def _codes(self, features: torch.Tensor) -> torch.Tensor:
        """k-WTA (eq. 6) of the hash layer's currents for centred features."""
        return kwta(currents(self.weights_, features, self.p), self.k)

    def transform(self, X: Any) -> np.ndarray:
        """Hash X into k-sparse codes; the training set itself (the database of the paper's protocols) is read from the
        feature cache of this fit instead of being convolved again."""
        store = getattr(self, "_store", None)
        if store is None or not isinstance(X, np.ndarray) or X.shape[0] != store.shape[0] or not self.is_fitted():
            return super().transform(X)
        X = check_features(X, "X", n_features=self.n_features_in_, expected_by=type(self).__name__)
        if array_digest(torch.from_numpy(X)) != self._training_digest:
            return super().transform(X)
        rows = CentredFeatures(store, self.centering, self.feature_mean_, self.torch_device)
        order = torch.arange(X.shape[0])
        return torch.cat([self._codes(rows.take(order[start:start + self.block_size])).cpu()
                          for start in range(0, X.shape[0], self.block_size)]).numpy()


class CentredFeatures:
    """A SparseRows store read as centred float32 rows on a device: the hash layer's training input (a RowSource)."""

    def __init__(self, store: SparseRows, centering: str, mean: torch.Tensor | None, device: torch.device):
        self.store, self.centering, self.mean, self.device = store, centering, mean, device
        self.shape = store.shape

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        return center(torch.from_numpy(self.store.dense(indices.cpu().numpy())).to(self.device), self.centering, self.mean)

    def fingerprint(self) -> list[Any]:
        return [list(self.shape), self.store.tag, self.centering]


def array_digest(X: torch.Tensor) -> str:
    """sha256 of a tensor's shape, dtype and values: identifies a training set."""
    array = np.ascontiguousarray(X.detach().cpu().numpy())
    return hashlib.sha256(f"{array.shape}{array.dtype}".encode() + array.tobytes()).hexdigest()
