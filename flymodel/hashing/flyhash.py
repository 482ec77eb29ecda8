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
    """Apply an input centring: 'mean' subtracts the training mean per feature, 'sample' each row's own mean."""
    if centering == "mean":
        return X - mean
    if centering == "sample":
        return X - X.mean(dim=1, keepdim=True)
    return X


class FlyHash(Hasher):
    """Random sparse binary expansion d → m followed by k-WTA: k active units among m.

    Parameters
    ----------
    k : active KCs per code (hash length).
    m : number of KCs; None means 10·d (Ryali et al. 2020, Appendix D, after Dasgupta et al. 2017).
    sampling_rate : fraction of the inputs each KC samples (0.1 in the paper).
    fan_in : a fixed number of inputs per KC (e.g. 6, as PN→KC claws in the fly); overrides sampling_rate.
    sampling : 'fixed' — every KC samples exactly round(sampling_rate·d) distinct inputs; 'bernoulli' — each
        PN→KC connection exists independently with probability sampling_rate (fan-in varies across KCs).
    centering : 'none', 'mean' (subtract the training mean of each input) or 'sample' (subtract each
        input vector's own mean, the per-odour normalisation of Dasgupta et al.).
    seed, device : random seed of the wiring; torch device ('auto' picks CUDA when present).
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

    @property
    def n_bits_(self) -> int:
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return kwta(center(X, self.centering, self.mean_) @ self.weights_.T, self.k)
