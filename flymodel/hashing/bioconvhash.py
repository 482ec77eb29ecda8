"""BioConvHash (Ryali et al. 2020, section 2.4 and Appendix D): learned convolutional filters, then BioHash.

Convolutional filters learned by the Krotov–Hopfield rule on unit-normalised image patches, patch-normalised
convolution, cross-channel inhibition, max-pooling, then a BioHash layer (learned synapses read out by k-WTA).

The pipeline for one image, per filter bank (one bank of F filters per kernel size K)::

    a_f(y, x) = ⟨W_f, P(y, x)⟩_p / ‖P(y, x)‖₂        patch-normalised convolution (section 2.4)
    a ← top-k_CI of the F channels at every (y, x)   cross-channel inhibition, the rest set to 0
    a ← max_pool2d(a, 7, stride 2)                   (Appendix D)

the flattened pooled maps of all banks are concatenated, centred with their training mean, and hashed by a
BioHash layer: y_μ = 1 iff ⟨W_μ, features⟩_μ is among the k largest (eq. 6).

Interpretations where the paper is silent (documented choices):

- Filters are learned on ``n_patches`` patches drawn uniformly over training images and positions (the paper
  says "dividing the training set into patches"; all 46 M patches of MNIST would be needlessly many).
  Patches are flattened in (C, K, K) order, divided by their L2 norm and not centred; all-zero patches
  (MNIST's background) have no direction and are dropped, so a bank may see fewer than n_patches patches.
- The patch norm is the L2 norm also when p ≠ 2 (the p-inner product is taken with unit L2 patches), and an
  all-zero patch (norm ≤ eps) gives activation 0 rather than 0/0.
- Activations are not rectified: cross-channel inhibition keeps the k_CI largest values even when they are
  negative, and the others become 0, exactly as "the rest are set to 0" reads; max-pooling follows.
- Every layer uses the same rule parameters and schedule (p, Δ, r, ε0, epochs, minibatch, tol), Appendix D's
  BioHash values; the bank seeds and the hash layer's seed are drawn from one generator seeded by ``seed``.
- Cross-channel inhibition keeps exactly k_CI channels per location; among channels tied at the k_CI-th value
  torch.topk chooses (ties only matter at blank patches, where every kept value is 0 anyway).
- The training set's features (100,000 per MNIST image, about 10 % non-zero) are computed once per fit and kept
  as a sparse store on disk (``flymodel.hashing.feature_store``), which the hash layer's epochs read by minibatch;
  with ``feature_cache`` the store and the filters outlive the fit and are shared by fits that differ only in the
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
    """Convolution over unit-normalised patches, ⟨W_f, P⟩_p / ‖P‖₂.

    Shapes: (N, C, H, W) images × (F, C, K, K) filters → (N, F, H', W') activations. The divisive normalisation
    of section 2.4 without unfolding the patches: the numerator is an ordinary convolution with the p-weights
    ``|W|^(p−2)·W``, the patch norms one single-channel convolution of the squared image with a K×K×C box of
    ones. Patches with norm ≤ eps (all-zero patches) give 0.

    Parameters
    ----------
    images : torch.Tensor of shape (N, C, H, W)
        The images, floating point.
    filters : torch.Tensor of shape (F, C, K, K)
        One filter bank, of the images' dtype and device.
    stride : int, default 1
        Stride of the convolution.
    p : float, default 2.0
        Exponent of the p-inner product (p = 2: the ordinary dot product).
    eps : float, default 1e-8
        Patches whose L2 norm is at most ``eps`` give activation 0.

    Returns
    -------
    torch.Tensor of shape (N, F, H', W')
        The activations, with H' = (H − K) // stride + 1 and W' = (W − K) // stride + 1; unchanged when an image
        is scaled by a positive factor.

    Examples
    --------
    >>> import torch
    >>> from flymodel.hashing.bioconvhash import patch_normalised_conv
    >>> images = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(0)) + 0.1
    >>> filters = torch.randn(3, 1, 3, 3, generator=torch.Generator().manual_seed(1))
    >>> out = patch_normalised_conv(images, filters)
    >>> out.shape
    torch.Size([2, 3, 4, 4])
    >>> torch.allclose(patch_normalised_conv(5 * images, filters), out, atol=1e-6)
    True
    """
    kernel_size = filters.shape[-1]
    numerator = F.conv2d(images, p_weights(filters, p), stride=stride)  # Σ_i |W_fi|^(p−2) W_fi P_i (section 2.1's p-inner product)
    box = torch.ones(1, images.shape[1], kernel_size, kernel_size, dtype=images.dtype, device=images.device)
    norms = F.conv2d(images * images, box, stride=stride).clamp_min(0).sqrt()  # ‖P(y, x)‖₂ for every patch
    return torch.where(norms > eps, numerator / norms.clamp_min(eps), torch.zeros((), dtype=images.dtype, device=images.device))


def channel_inhibition(activations: torch.Tensor, k_ci: int) -> torch.Tensor:
    """Cross-channel inhibition (section 2.4): keep the k_ci largest of the F channels at every location.

    At every (n, y, x) the k_ci largest channels keep their value and the rest are set to 0. Exactly k_ci
    channels survive per location (``torch.topk``, deterministic on a device). Among channels tied at the k_ci-th
    value, which ones survive is topk's choice: it changes no value in the output's all-zero locations (blank
    patches), the only place where ties are common.

    Parameters
    ----------
    activations : torch.Tensor of shape (N, F, H, W)
        The activations of F channels.
    k_ci : int
        Channels kept per location, 1 ≤ k_ci ≤ F.

    Returns
    -------
    torch.Tensor of shape (N, F, H, W)
        The activations with all but the k_ci largest channels at every location set to 0 (the kept values are
        not rectified, and may be negative).

    Raises
    ------
    ValueError
        If ``k_ci`` is not an integer between 1 and F.

    Examples
    --------
    >>> import torch
    >>> from flymodel.hashing.bioconvhash import channel_inhibition
    >>> activations = torch.randn(2, 8, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> out = channel_inhibition(activations, 3)
    >>> (out != 0).sum(dim=1).unique().tolist()  # 3 of the 8 channels at every location
    [3]
    """
    n_channels = activations.shape[1]
    if isinstance(k_ci, bool) or not isinstance(k_ci, (int, np.integer)) or not 1 <= k_ci <= n_channels:
        raise ValueError(f"k_ci={k_ci!r} is outside its range; expected an integer 1 <= k_ci <= F={n_channels} (channels kept per location)")
    values, channels = torch.topk(activations, int(k_ci), dim=1)
    return torch.zeros_like(activations).scatter_(1, channels, values)


def sample_patches(images: torch.Tensor, kernel_size: int, n_patches: int, generator: torch.Generator,
                   eps: float = 1e-8) -> torch.Tensor:
    """Draw n_patches K×K×C patches uniformly over images and positions, as unit vectors, to learn filters.

    The result is a (P', C·K·K) matrix, one patch per row. Appendix D: filters are learned on patches of the
    training images. Patches are flattened in the filters' (C, K, K) order and divided by their L2 norm; patches
    with norm ≤ eps (all-zero) are dropped, so P' ≤ n_patches. The draws are made by the (CPU) generator, so a
    seed gives the same patches on every device.

    Parameters
    ----------
    images : torch.Tensor of shape (N, C, H, W)
        The training images.
    kernel_size : int
        The patch size K, at most min(H, W).
    n_patches : int
        Patches drawn (each image index and position uniformly at random, with replacement).
    generator : torch.Generator
        A CPU generator making the draws.
    eps : float, default 1e-8
        Patches whose L2 norm is at most ``eps`` are dropped.

    Returns
    -------
    torch.Tensor of shape (P', C·K·K)
        The non-zero patches as unit L2 vectors, on the images' device, with P' ≤ n_patches.

    Raises
    ------
    ValueError
        If ``kernel_size`` is larger than the images.
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
    """The (H', W') of a K×K convolution and the (H'', W'') after max-pooling.

    A ValueError is raised if either layer does not fit.

    Parameters
    ----------
    height : int
        Image height H.
    width : int
        Image width W.
    kernel_size : int
        Convolution kernel size K.
    stride : int
        Convolution stride.
    pool_kernel : int
        Max-pooling kernel size.
    pool_stride : int
        Max-pooling stride.

    Returns
    -------
    conv : tuple of (int, int)
        (H', W') = ((H − K) // stride + 1, (W − K) // stride + 1).
    pooled : tuple of (int, int)
        (H'', W'') = ((H' − pool_kernel) // pool_stride + 1, (W' − pool_kernel) // pool_stride + 1).

    Raises
    ------
    ValueError
        If K is larger than the images, or ``pool_kernel`` larger than the convolution's output.

    Examples
    --------
    MNIST with Appendix D's 3×3 filters and 7×7 max-pooling of stride 2:

    >>> from flymodel.hashing.bioconvhash import conv_output_shapes
    >>> conv_output_shapes(28, 28, 3, 1, 7, 2)
    ((26, 26), (10, 10))
    """
    if kernel_size > min(height, width):
        raise ValueError(f"kernel size K={kernel_size} is larger than the {height}×{width} images; expected K <= {min(height, width)}")
    conv = ((height - kernel_size) // stride + 1, (width - kernel_size) // stride + 1)
    if pool_kernel > min(conv):
        raise ValueError(f"pool_kernel={pool_kernel} is larger than the {conv[0]}×{conv[1]} output of the K={kernel_size} "
                         f"convolution (stride {stride}) of {height}×{width} images; expected pool_kernel <= {min(conv)}")
    return conv, ((conv[0] - pool_kernel) // pool_stride + 1, (conv[1] - pool_kernel) // pool_stride + 1)


def conv_features(images: torch.Tensor, banks: Sequence[torch.Tensor], k_ci: int, pool_kernel: int = 7,
                  pool_stride: int = 2, stride: int = 1, p: float = 2.0) -> torch.Tensor:
    """The hash layer's input: per bank, patch-normalised conv → channel inhibition → max-pool.

    The pooled maps of every bank are flattened and concatenated.

    Parameters
    ----------
    images : torch.Tensor of shape (N, C, H, W)
        The images.
    banks : sequence of torch.Tensor
        One (F, C, K, K) filter tensor per kernel size.
    k_ci : int
        Channels kept per location by cross-channel inhibition, 1 ≤ k_ci ≤ F.
    pool_kernel : int, default 7
        Max-pooling kernel size (Appendix D: 7).
    pool_stride : int, default 2
        Max-pooling stride (Appendix D: 2).
    stride : int, default 1
        Convolution stride.
    p : float, default 2.0
        Exponent of the p-inner product of the convolution.

    Returns
    -------
    torch.Tensor of shape (N, Σ_banks F·H''·W'')
        The pooled maps of every bank, each flattened in (F, H'', W'') order, concatenated in the order of
        ``banks``.

    Raises
    ------
    ValueError
        If ``banks`` is empty, a bank's convolution or pooling does not fit the images, or ``k_ci`` is outside
        [1, F].
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
    """The (H, W, C) layout of a feature row: image_shape checked against d, or inferred for d = 784 or 3072.

    Parameters
    ----------
    image_shape : sequence of int or None
        (H, W, C), three positive integers with H·W·C = d; None infers (28, 28, 1) for d = 784 and (32, 32, 3)
        for d = 3072 (``DEFAULT_IMAGE_SHAPES``).
    n_features : int
        The number of features d of a row.

    Returns
    -------
    tuple of (int, int, int)
        (H, W, C).

    Raises
    ------
    ValueError
        If ``image_shape`` is not three positive integers, does not hold d values, or is None for another d.

    Examples
    --------
    >>> from flymodel.hashing.bioconvhash import resolve_image_shape
    >>> resolve_image_shape(None, 3072), resolve_image_shape([8, 8, 1], 64)
    ((32, 32, 3), (8, 8, 1))
    """
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
    """Feature rows flattened in C-order (H, W, C) to (N, C, H, W) images for conv2d.

    The rows are laid out as ``ImageDataset.features()`` writes them.

    Parameters
    ----------
    X : torch.Tensor of shape (N, H·W·C)
        Feature rows, each an image flattened in (H, W, C) order.
    image_shape : sequence of int
        (H, W, C).

    Returns
    -------
    torch.Tensor of shape (N, C, H, W)
        The images, a view of X where torch can reshape without copying.
    """
    height, width, n_channels = image_shape
    return X.reshape(X.shape[0], height, width, n_channels).permute(0, 3, 1, 2)


class BioConvHash(LearnedSynapses):
    """Learned convolutional filters, patch normalisation, cross-channel inhibition, max-pooling, then BioHash.

    ``fit`` learns one bank of ``n_filters`` filters per kernel size on random unit-normalised patches of the
    training images (eq. 1, section 2.4), computes the training set's features (patch-normalised convolution,
    cross-channel inhibition, max-pooling, flattened and concatenated over the banks) and learns a BioHash layer of
    m units on them; ``transform`` returns its k-WTA codes (eq. 6). See the module docstring for the pipeline and
    for the interpretations of the paper.

    Parameters
    ----------
    k : int, default 16
        Active units per code (hash length).
    activity : float, default 0.05
        The activity k/m that sets the hash layer's m = round(k / activity) when ``m`` is None.
    m : int or None, default None
        Hidden units of the hash layer; when given it wins over ``activity``.
    kernel_sizes : sequence of int, default (3, 4)
        One filter bank per kernel size K, each K at most the image size (Appendix D: (3, 4) on MNIST, (3, 4, 10)
        on CIFAR-10).
    n_filters : int, default 500
        Filters F per bank (500 on MNIST, 400 on CIFAR-10).
    k_ci : int, default 10
        Channels kept per location by cross-channel inhibition, at most ``n_filters`` (10 on MNIST, 1 on
        CIFAR-10).
    pool_kernel : int, default 7
        Kernel size of the max-pooling (Appendix D: 7).
    pool_stride : int, default 2
        Stride of the max-pooling (Appendix D: 2).
    stride : int, default 1
        Stride of the convolutions.
    image_shape : sequence of int or None, default None
        (H, W, C) of a feature row (C-order HWC, as ``ImageDataset.features()`` writes); None infers (28, 28, 1)
        for d = 784 and (32, 32, 3) for d = 3072.
    n_patches : int, default 100_000
        Random patches drawn to learn each bank (all-zero patches are dropped from them); at least
        ``batch_size``.
    p : float, default 2.0
        The learning rule's Lebesgue exponent (p ≥ 1), for the filters and the hash layer alike.
    delta : float, default 0.0
        The anti-Hebbian strength Δ ≥ 0 (eq. 2).
    rank : int, default 2
        The rank r of the unit that receives the anti-Hebbian update.
    lr : float, default 2e-2
        The initial learning rate ε0, decayed linearly over the epochs.
    max_epochs : int, default 100
        T_max of the filters, and of the hash layer unless ``hash_max_epochs`` is given.
    hash_max_epochs : int or None, default None
        T_max of the hash layer alone (None: ``max_epochs``); a shorter schedule for CPUs, where a 100-epoch hash
        layer over 100,000 features takes hours (see the README).
    batch_size : int, default 100
        The minibatch size, for patches and for images alike.
    tol : float, default 1.06
        Training stops once the mean synapse norm falls below it; ``tol=0`` never stops early.
    centering : {"mean", "none", "sample"}, default "mean"
        Centring of the hash layer's input features: ``'mean'`` subtracts the training mean (computed in blocks),
        ``'sample'`` each row's own mean, ``'none'`` nothing.
    seed : int, default 0
        Seed of every random draw (patches, initial weights, sample orders).
    device : str, default "auto"
        The torch device; ``'auto'`` picks CUDA when present.
    progress : bool, default False
        Show progress bars.
    block_size : int, default 256
        Images whose features are computed at once, to bound memory.
    checkpoint : str or os.PathLike or None, default None
        A path prefix; training state is checkpointed to ``PREFIX.filters-kK.pt`` (one per bank) and
        ``PREFIX.hash.pt`` after every epoch and resumed from there. None: no checkpoints.
    feature_cache : str or os.PathLike or None, default None
        A directory that keeps the learned filters and the training set's conv features (a sparse store: about
        6 GB for MNIST), named by everything they depend on; later fits on the same data with the same filter
        settings and seed reuse them (a table over k learns the filters and convolves the data once), and
        ``transform()`` of the training set reads its features from there. None: a temporary store per fit.

    Attributes
    ----------
    image_shape_ : tuple of (int, int, int)
        The (H, W, C) of a feature row.
    kernel_sizes_ : list of int
        The kernel sizes of the banks.
    filters_kK_ : torch.Tensor of shape (n_filters, C, K, K)
        The learned filters of the bank of kernel size K, one attribute per K (e.g. ``filters_k3_``).
    filter_logs_ : list of list of dict
        The training log of each bank (as ``training_log_``).
    n_patches_ : list of int
        The non-zero patches each bank was learned on.
    feature_mean_ : torch.Tensor of shape (D,) or None
        The training mean of the D = ``feature_dim_`` features (None unless ``centering='mean'``).
    feature_density_ : float
        Fraction of non-zero training features.
    weights_ : torch.Tensor of shape (m, D)
        The hash layer's learned synapses, over the D = ``feature_dim_`` features.
    training_log_ : list of dict
        The hash layer's log, one entry per epoch (``epoch``, ``lr``, ``mean_norm``, ``energy``, ``seconds``).
    fit_seconds_ : dict of str to float
        Seconds spent on the ``'filters'``, the ``'features'`` and the ``'hash_layer'``.
    cache_hits_ : dict of str to bool
        Which stages (``'filters'``, ``'features'``) were read from the feature cache.
    n_features_in_ : int
        Number of features seen by ``fit`` (H·W·C).

    Examples
    --------
    Tiny 8×8 grey images, one bank of four 3×3 filters and a hash layer of 16 units with 2 active:

    >>> import numpy as np
    >>> from flymodel.hashing import BioConvHash
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(40, 64)).astype(np.float32)  # 40 images of 8×8×1, flattened
    >>> hasher = BioConvHash(k=2, m=16, kernel_sizes=(3,), n_filters=4, k_ci=2, pool_kernel=2, pool_stride=2,
    ...                      image_shape=(8, 8, 1), n_patches=100, max_epochs=2, batch_size=10, device="cpu")
    >>> hasher = hasher.fit(X)
    >>> hasher.filters_k3_.shape
    torch.Size([4, 1, 3, 3])
    >>> hasher.feature_dim_  # 4 filters × 3 × 3 pooled positions (6×6 convolution, pooled 2×2 by stride 2)
    36
    >>> codes = hasher.transform(X[:3])
    >>> codes.shape, codes.sum(axis=1).tolist()
    ((3, 16), [2, 2, 2])
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
        """The m of the hash layer, given directly or as round(k / activity).

        Returns
        -------
        int
            ``m`` when given, else ``max(1, round(k / activity))``.
        """
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
    def feature_dim_(self) -> int:  # a property, described without Returns; numpydoc ignore=RT01
        """Width of the hash layer's input: Σ_banks F·H''·W''.

        The sum over the banks of ``n_filters`` times the pooled map size H''·W'' for the fitted image shape
        (known after ``fit``).
        """
        return sum(self.n_filters * pooled[0] * pooled[1] for _, pooled in self._bank_shapes())

    def _n_bits(self) -> int:
        """Width of the code, m: the hash layer's units, of which k are active per code."""
        return self.weights_.shape[0]

    @property
    def n_units_(self) -> int:  # a property, described without Returns; numpydoc ignore=RT01
        """Values computed per image in _encode, which set the rows ``transform`` hashes at once.

        The largest of a bank's convolution maps (F·H'·W'), the features (``feature_dim_``) and the m currents.
        """
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
        """Hash X into k-sparse codes; with a feature cache, the training set's features are read, not recomputed.

        When this fit used a ``feature_cache`` and X is the training set itself (the database of the paper's
        protocols: same shape and values), its features are read from the fit's feature store instead of being
        convolved again; the codes are the same.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Images flattened in (H, W, C) order, with ``n_features_in_`` = H·W·C columns.

        Returns
        -------
        codes : ndarray of shape (n_samples, m), dtype bool
            Exactly k True per row: the k largest currents of the hash layer.

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
    """A SparseRows store read as centred float32 rows on a device: the hash layer's training input.

    Implements the ``flymodel.learning.RowSource`` protocol (``shape``, ``take``, ``fingerprint``), so that
    ``train_synapses`` reads its minibatches from the store on demand.

    Parameters
    ----------
    store : SparseRows
        The feature rows.
    centering : {"mean", "none", "sample"}
        The centring applied to each row read (``flymodel.hashing.flyhash.center``).
    mean : torch.Tensor of shape (n_cols,) or None
        The mean subtracted with ``centering='mean'``, on ``device``; None otherwise.
    device : torch.device
        The device rows are returned on.

    Attributes
    ----------
    store : SparseRows
        The feature rows.
    centering : str
        The centring.
    mean : torch.Tensor or None
        The mean subtracted with ``centering='mean'``.
    device : torch.device
        The device rows are returned on.
    shape : tuple of (int, int)
        The store's (n_rows, n_cols).
    """

    def __init__(self, store: SparseRows, centering: str, mean: torch.Tensor | None, device: torch.device):
        self.store, self.centering, self.mean, self.device = store, centering, mean, device
        self.shape = store.shape

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """The rows at indices, densified and centred, on the device.

        Parameters
        ----------
        indices : torch.Tensor of shape (n,)
            Row indices, in the order wanted.

        Returns
        -------
        torch.Tensor of shape (n, n_cols), dtype float32
            The centred rows.
        """
        return center(torch.from_numpy(self.store.dense(indices.cpu().numpy())).to(self.device), self.centering, self.mean)

    def fingerprint(self) -> list[Any]:
        """What the rows are, for checkpoints: the shape, the store's tag and the centring.

        Returns
        -------
        list
            ``[[n_rows, n_cols], tag, centering]``, JSON-ready.
        """
        return [list(self.shape), self.store.tag, self.centering]


def array_digest(X: torch.Tensor) -> str:
    """The sha256 of a tensor's shape, dtype and values: identifies a training set.

    Parameters
    ----------
    X : torch.Tensor
        The tensor (on any device).

    Returns
    -------
    str
        The hexadecimal digest (64 characters).
    """
    array = np.ascontiguousarray(X.detach().cpu().numpy())
    return hashlib.sha256(f"{array.shape}{array.dtype}".encode() + array.tobytes()).hexdigest()
