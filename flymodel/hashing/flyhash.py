"""FlyHash (Dasgupta, Stevens & Navlakha, Science 2017), as Ryali et al. 2020 use it as a baseline.

Each of m Kenyon cells (default m = 10·d) sums a random subset of the d inputs (binary weights; each KC
samples 10 % of the inputs) and APL inhibition keeps the k most active KCs (k-WTA).
"""

from __future__ import annotations

import torch

from flymodel.circuit.kwta import kwta
from flymodel.circuit.wiring import bernoulli_wiring, claw_wiring, seeded_generator
from flymodel.hashing.base import Hasher
from flymodel.validation import check_choice, check_fraction, check_int

CENTERINGS = ("none", "mean", "sample")
SAMPLINGS = ("fixed", "bernoulli")


def center(X: torch.Tensor, centering: str, mean: torch.Tensor | None) -> torch.Tensor:
    """Apply an input centring: 'mean' subtracts the training mean per feature, 'sample' each row's own mean.

    The centrings shared by FlyHash and LSH. Any other value of `centering` (``"none"``) returns X itself, not a
    copy; `centering` is not validated here (the hashers check it in ``fit``).

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The input rows.
    centering : {"none", "mean", "sample"}
        ``"mean"`` subtracts `mean` from every row, ``"sample"`` subtracts each row's own mean over its features
        (the per-odour normalisation of Dasgupta et al. 2017), ``"none"`` leaves X unchanged.
    mean : torch.Tensor of shape (n_features,) or None
        The training mean of each feature; used only when ``centering="mean"``.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_features)
        The centred rows (X itself for ``"none"``).
    """
    if centering == "mean":
        return X - mean
    if centering == "sample":
        return X - X.mean(dim=1, keepdim=True)
    return X


class FlyHash(Hasher):
    """Random sparse binary expansion d → m followed by k-WTA: k active units among m.

    Each of the m Kenyon cells (KCs) sums a random subset of the d inputs with weight 1, and the k most active KCs
    form the code (k-winner-take-all, the high-gain limit of APL inhibition): a sparse boolean code of m bits with
    exactly k of them True. The wiring is random, not learned: ``fit`` only draws it (from `seed`) and records the
    training mean. Ties between equally active KCs go to the lower index, so codes are deterministic.

    Parameters
    ----------
    k : int, default 16
        Active KCs per code (the hash length); 1 <= k < m.
    m : int or None, default None
        Number of KCs (the code width); None means 10·d for d input features (Ryali et al. 2020, Appendix D, after
        Dasgupta et al. 2017).
    sampling_rate : float, default 0.1
        Fraction of the inputs each KC samples, in (0, 1] (0.1 in the paper).
    fan_in : int or None, default None
        A fixed number of inputs per KC (e.g. 6, as PN→KC claws in the fly), in [1, d]; overrides
        `sampling_rate` and needs ``sampling="fixed"``.
    sampling : {"fixed", "bernoulli"}, default "fixed"
        ``"fixed"``: every KC samples exactly round(sampling_rate·d) distinct inputs (at least one).
        ``"bernoulli"``: each PN→KC connection exists independently with probability `sampling_rate`, so the
        fan-in varies across KCs.
    centering : {"none", "mean", "sample"}, default "none"
        ``"none"``, ``"mean"`` (subtract the training mean of each input) or ``"sample"`` (subtract each input
        vector's own mean, the per-odour normalisation of Dasgupta et al.).
    seed : int, default 0
        Random seed of the wiring (>= 0); the wiring is drawn on the CPU, so a seed gives the same codes on every
        device.
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Attributes
    ----------
    weights_ : torch.Tensor of shape (m, n_features), dtype float32
        The binary PN→KC wiring: ``weights_[i, j] = 1`` when KC i samples input j.
    mean_ : torch.Tensor of shape (n_features,)
        The training mean of each input (subtracted when ``centering="mean"``).
    n_features_in_ : int
        Number of input features seen by ``fit``.
    n_bits_ : int
        Width of the code, m.

    See Also
    --------
    flymodel.hashing.BioHash : The same k-WTA code with learned (Krotov–Hopfield) weights.
    flymodel.hashing.LSH : Dense random-hyperplane codes.

    Notes
    -----
    The parameters are checked by ``fit``: it raises a ValueError when ``k < 1``, ``m < 2``, ``k >= m`` or
    ``seed < 0``, when `sampling_rate` lies outside (0, 1], when `sampling` or `centering` is not one of its
    values, when `fan_in` lies outside [1, d] or is given with ``sampling="bernoulli"``, and a TypeError when an
    integer parameter is not an integer or `sampling_rate` is not a number.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import FlyHash
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((200, 20)).astype(np.float32)
    >>> hasher = FlyHash(k=8, device="cpu").fit(X)  # m = 10 * 20 = 200 Kenyon cells
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype
    ((200, 200), dtype('bool'))
    >>> codes.sum(axis=1)[:5]  # exactly k active KCs per code
    array([8, 8, 8, 8, 8])

    A slightly perturbed input keeps most of its active KCs; another input shares few. For k-sparse codes the
    Hamming distance is 2·(k − overlap):

    >>> near = X[:1] + 0.01 * rng.standard_normal((1, 20)).astype(np.float32)
    >>> hamming_distances(hasher.transform(near), codes[:3])
    array([[ 2, 16, 10]], dtype=int32)

    ``encode`` gives the stored form of the codes, each code's k active units in increasing order:

    >>> hasher.encode(X[:2])
    array([[  6,  12,  15,  92, 124, 157, 161, 186],
           [ 47,  89,  99, 121, 142, 185, 195, 199]], dtype=int32)
    """

    sparse = True

    def __init__(self, k: int = 16, m: int | None = None, sampling_rate: float = 0.1, fan_in: int | None = None,
                 sampling: str = "fixed", centering: str = "none", seed: int = 0, device: str = "auto"):
        self.k = k
        self.m = m
        self.sampling_rate = sampling_rate
        self.fan_in = fan_in
        self.sampling = sampling
        self.centering = centering
        self.seed = seed
        self.device = device

    def _validate_params(self, n_features: int) -> None:
        m = 10 * n_features if self.m is None else check_int(self.m, "m", minimum=2)
        check_int(self.k, "k", minimum=1)
        if self.k >= m:
            raise ValueError(f"k={self.k} must be smaller than m={m} (the number of Kenyon cells)")
        check_fraction(self.sampling_rate, "sampling_rate")
        check_choice(self.sampling, "sampling", SAMPLINGS)
        check_choice(self.centering, "centering", CENTERINGS)
        check_int(self.seed, "seed", minimum=0)
        if self.fan_in is not None:
            check_int(self.fan_in, "fan_in", minimum=1, maximum=n_features)
            if self.sampling != "fixed":
                raise ValueError(f"fan_in={self.fan_in} fixes the number of inputs per KC; it needs sampling='fixed', got {self.sampling!r}")

    def _fit(self, X: torch.Tensor) -> None:
        d = X.shape[1]
        m = 10 * d if self.m is None else self.m
        gen = seeded_generator(self.seed)
        if self.sampling == "bernoulli":
            weights = bernoulli_wiring(m, d, self.sampling_rate, gen)
        else:
            weights = claw_wiring(m, d, self.fan_in if self.fan_in is not None else max(1, round(self.sampling_rate * d)), gen)
        self.weights_ = weights.to(X.device)
        self.mean_ = X.mean(dim=0)

    def _n_bits(self) -> int:
        """Width of the boolean code: m, the number of Kenyon cells."""
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return kwta(center(X, self.centering, self.mean_) @ self.weights_.T, self.k)
