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
- The hash layer is trained by streaming: its input features are recomputed for every minibatch (they do not
  fit in memory: 100,000 features per MNIST image), so they are never stored for the training set.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from flymodel.hashing.base import seeded_generator
from flymodel.hashing.biohash import LearnedSynapses, check_expansion, hidden_units
from flymodel.hashing.flyhash import center
from flymodel.kwta import kwta
from flymodel.learning import TrainingSchedule, currents, p_weights, train_synapses
from flymodel.validation import check_int

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

    Exactly k_ci channels survive per location; ties go to the lower channel index (flymodel.kwta.kwta).
    """
    n, n_channels, height, width = activations.shape
    if isinstance(k_ci, bool) or not isinstance(k_ci, (int, np.integer)) or not 1 <= k_ci <= n_channels:
        raise ValueError(f"k_ci={k_ci!r} is outside its range; expected an integer 1 <= k_ci <= F={n_channels} (channels kept per location)")
    per_location = activations.permute(0, 2, 3, 1).reshape(-1, n_channels)
    keep = kwta(per_location, int(k_ci)).reshape(n, height, width, n_channels).permute(0, 3, 1, 2)
    return activations.masked_fill(~keep, 0)


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
        filters and for the hash layer alike. centering : of the hash layer's input features ('mean': the
        training mean, computed in blocks; 'none'; 'sample').
    seed, device : seed of every random draw; torch device ('auto' picks CUDA). progress : progress bars.
    block_size : images whose features are computed at once, to bound memory.
    checkpoint : a path prefix; training state is checkpointed to PREFIX.filters-kK.pt (one per bank) and
        PREFIX.hash.pt after every epoch and resumed from there.
    See the module docstring for the interpretations of the paper.
    """

    sparse = True

    def __init__(self, k: int = 16, activity: float = 0.05, m: int | None = None,
                 kernel_sizes: Sequence[int] = (3, 4), n_filters: int = 500, k_ci: int = 10, pool_kernel: int = 7,
                 pool_stride: int = 2, stride: int = 1, image_shape: Sequence[int] | None = None,
                 n_patches: int = 100_000, p: float = 2.0, delta: float = 0.0, rank: int = 2, lr: float = 2e-2,
                 max_epochs: int = 100, batch_size: int = 100, tol: float = 1.06, centering: str = "mean",
                 seed: int = 0, device: str = "auto", progress: bool = False, block_size: int = 256,
                 checkpoint: str | os.PathLike[str] | None = None):
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
        self.batch_size = batch_size
        self.tol = tol
        self.centering = centering
        self.seed = seed
        self.device = device
        self.progress = progress
        self.block_size = block_size
        self.checkpoint = checkpoint

    def n_hidden(self) -> int:
        """m of the hash layer, given directly or as round(k / activity)."""
        return hidden_units(self.k, self.m, self.activity)

    def _schedule(self) -> TrainingSchedule:
        """Appendix D's schedule, shared by the filters and the hash layer."""
        return TrainingSchedule(lr=self.lr, max_epochs=self.max_epochs, batch_size=self.batch_size, tol=self.tol)

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
        self._validate_learning(m)  # centering, seed, and the rule against the hash layer's m
        self._rule().validate(n_filters)
        if isinstance(self.batch_size, (int, np.integer)) and self.n_patches < self.batch_size:
            raise ValueError(f"n_patches={self.n_patches} is smaller than batch_size={self.batch_size}; expected n_patches >= "
                             f"batch_size (the filters are learned in minibatches of patches)")
        self._schedule().validate(self.n_patches)

    def _checkpoint(self, name: str) -> Path | None:
        """The checkpoint file of one training stage (None without a checkpoint prefix)."""
        return None if self.checkpoint is None else Path(f"{os.fspath(self.checkpoint)}.{name}.pt")

    def _fit(self, X: torch.Tensor) -> None:
        """Learn each filter bank on patches, the feature mean in blocks, then the hash layer by streaming (Appendix D)."""
        self.image_shape_ = resolve_image_shape(self.image_shape, X.shape[1])
        self._schedule().validate(X.shape[0])
        images = rows_to_images(X, self.image_shape_)
        gen = seeded_generator(self.seed)
        self.kernel_sizes_ = [int(size) for size in self.kernel_sizes]
        self.filter_logs_: list[list[dict[str, float]]] = []
        self.n_patches_: list[int] = []
        for size in self.kernel_sizes_:
            patches = sample_patches(images, size, self.n_patches, gen)
            if patches.shape[0] < self.batch_size:
                raise ValueError(f"only {patches.shape[0]} of the n_patches={self.n_patches} patches of size K={size} are "
                                 f"not all-zero, fewer than batch_size={self.batch_size}; raise n_patches or lower batch_size")
            filters, log = train_synapses(  # filters learned by eq. 1 on unit patches (section 2.4)
                patches, self.n_filters, self._rule(), self._schedule(), seed=self._draw_seed(gen),
                progress=self.progress, checkpoint=self._checkpoint(f"filters-k{size}"), desc=f"filters K={size}")
            setattr(self, f"filters_k{size}_", filters.reshape(self.n_filters, self.image_shape_[2], size, size))
            self.filter_logs_.append(log)
            self.n_patches_.append(int(patches.shape[0]))
        self.feature_mean_ = self._feature_mean(X) if self.centering == "mean" else None  # Appendix D: centred on the training mean
        self.weights_, self.training_log_ = train_synapses(  # the BioHash layer (section 2.1), streaming the features
            X, self.n_hidden(), self._rule(), self._schedule(), seed=self._draw_seed(gen), progress=self.progress,
            checkpoint=self._checkpoint("hash"), features=self._hash_inputs, features_tag=self._features_tag(),
            desc="hash layer")

    @staticmethod
    def _draw_seed(gen: torch.Generator) -> int:
        """A training seed drawn from the fit's generator, so every layer gets its own stream from one seed."""
        return int(torch.randint(2**62, (1,), generator=gen))

    def _banks(self) -> list[torch.Tensor]:
        """The learned filter banks, (F, C, K, K) each, in kernel_sizes_ order."""
        return [getattr(self, f"filters_k{size}_") for size in self.kernel_sizes_]

    def _features(self, X: torch.Tensor) -> torch.Tensor:
        """conv_features of feature rows X (flattened HWC images), uncentred."""
        return conv_features(rows_to_images(X, self.image_shape_), self._banks(), self.k_ci, self.pool_kernel,
                             self.pool_stride, self.stride, self.p)

    def _hash_inputs(self, X: torch.Tensor) -> torch.Tensor:
        """The hash layer's input for rows X: their conv features, centred."""
        return center(self._features(X), self.centering, self.feature_mean_)

    def _feature_mean(self, X: torch.Tensor) -> torch.Tensor:
        """The training mean of the conv features, accumulated in float64 over blocks of block_size images."""
        total = torch.zeros(self.feature_dim_, dtype=torch.float64, device=X.device)
        for start in tqdm(range(0, X.shape[0], self.block_size), desc="feature mean", unit="block", disable=not self.progress):
            total += self._features(X[start:start + self.block_size]).double().sum(dim=0)
        return (total / X.shape[0]).to(X.dtype)

    def _features_tag(self) -> str:
        """A digest of everything the hash layer's input depends on (filters, inhibition, pooling, centring), for its checkpoint."""
        digest = hashlib.sha256(json.dumps([self.k_ci, self.pool_kernel, self.pool_stride, self.stride, self.p,
                                            self.centering, list(self.image_shape_)]).encode())
        for tensor in [*self._banks(), *([] if self.feature_mean_ is None else [self.feature_mean_])]:
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
    def code_size_(self) -> int:
        """m: the hash layer's units, of which k are active per code."""
        return self.weights_.shape[0]

    @property
    def n_units_(self) -> int:
        """Values computed per image in _encode (the largest of a bank's conv maps, the features, the m currents): sets transform's block."""
        conv_maps = max(self.n_filters * conv[0] * conv[1] for conv, _ in self._bank_shapes())
        return max(conv_maps, self.feature_dim_, self.code_size_)

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        """Codes of X in blocks of block_size images: k-WTA (eq. 6) of the hash layer's currents."""
        return torch.cat([kwta(currents(self.weights_, self._hash_inputs(X[start:start + self.block_size]), self.p), self.k)
                          for start in range(0, X.shape[0], self.block_size)])
