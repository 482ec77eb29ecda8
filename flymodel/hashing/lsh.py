"""LSH as SimHash (Charikar 2002): k random Gaussian hyperplanes through the (centred) data, one bit each."""

from __future__ import annotations

import torch

from flymodel.circuit.wiring import gaussian_wiring, seeded_generator
from flymodel.hashing.base import Hasher
from flymodel.hashing.flyhash import CENTERINGS, center
from flymodel.validation import check_choice, check_int


class LSH(Hasher):
    """SimHash: bit j of the code is sign(⟨g_j, x − mean⟩) with g_j ~ N(0, I) (Ryali et al. 2020, Appendix A).

    k random Gaussian hyperplanes, one bit each: bit j is True when ⟨g_j, x − mean⟩ > 0. Codes are dense (about
    half of the bits True), and the probability that two inputs disagree on a bit is their angle / π (Charikar
    2002), so the Hamming distance between codes estimates the angle between the (centred) inputs. ``fit`` draws
    the hyperplanes from `seed` and records the training mean; nothing is learned from the data otherwise.

    Parameters
    ----------
    k : int, default 16
        Number of bits (the hash length), >= 1.
    centering : {"mean", "none", "sample"}, default "mean"
        ``"mean"``: hyperplanes through the training mean, so that sign projections split the data; ``"none"``:
        through the origin; ``"sample"``: each input vector's own mean over its features is subtracted first.
    seed : int, default 0
        Random seed of the hyperplanes (>= 0); they are drawn on the CPU, so a seed gives the same codes on every
        device.
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Attributes
    ----------
    projections_ : torch.Tensor of shape (k, n_features), dtype float32
        The hyperplane normals g_j, one per row, entries drawn from N(0, 1).
    mean_ : torch.Tensor of shape (n_features,)
        The training mean of each input (subtracted when ``centering="mean"``).
    n_features_in_ : int
        Number of input features seen by ``fit``.
    n_bits_ : int
        Width of the code, k.

    See Also
    --------
    flymodel.hashing.FlyHash : Sparse random expansion with k-WTA.

    Notes
    -----
    ``fit`` raises a TypeError when `k` or `seed` is not an integer, and a ValueError when ``k < 1``,
    ``seed < 0`` or `centering` is not one of its values.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import LSH
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 20)).astype(np.float32)
    >>> hasher = LSH(k=32, device="cpu").fit(X)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype
    ((200, 32), dtype('bool'))
    >>> round(float(codes.mean()), 2)  # hyperplanes through the mean: balanced bits
    0.5

    A slightly perturbed input lands on the same side of almost every hyperplane:

    >>> near = X[:1] + 0.05 * rng.standard_normal((1, 20)).astype(np.float32)
    >>> hamming_distances(hasher.transform(near), codes[:3])
    array([[ 2, 21, 10]], dtype=int32)

    ``encode`` stores the codes packed 8 bits to a byte (``np.packbits`` layout):

    >>> hasher.encode(X[:2])
    array([[ 63, 231,   1, 178],
           [168,   2, 218, 118]], dtype=uint8)
    """

    sparse = False

    def __init__(self, k: int = 16, centering: str = "mean", seed: int = 0, device: str = "auto"):
        self.k = k
        self.centering = centering
        self.seed = seed
        self.device = device

    def _validate_params(self, n_features: int) -> None:
        check_int(self.k, "k", minimum=1)
        check_choice(self.centering, "centering", CENTERINGS)
        check_int(self.seed, "seed", minimum=0)

    def _fit(self, X: torch.Tensor) -> None:
        self.projections_ = gaussian_wiring(self.k, X.shape[1], seeded_generator(self.seed)).to(X.device)
        self.mean_ = X.mean(dim=0)

    def _n_bits(self) -> int:
        """Width of the boolean code: k, the number of hyperplanes."""
        return self.projections_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return center(X, self.centering, self.mean_) @ self.projections_.T > 0
