"""LSH as SimHash (Charikar 2002): k random Gaussian hyperplanes through the (centred) data, one bit each."""

from __future__ import annotations

import torch

from flymodel.circuit.wiring import gaussian_wiring, seeded_generator
from flymodel.hashing.base import Hasher
from flymodel.hashing.flyhash import CENTERINGS, center
from flymodel.validation import check_choice, check_int


class LSH(Hasher):
    """SimHash: bit j of the code is sign(⟨g_j, x − mean⟩) with g_j ~ N(0, I) (Ryali et al. 2020, Appendix A).

    Parameters
    ----------
    k : number of bits (hash length).
    centering : 'mean' (default: hyperplanes through the training mean, so that sign projections split the
        data), 'none', or 'sample'.
    seed, device : random seed of the hyperplanes; torch device ('auto' picks CUDA when present).
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

    @property
    def n_bits_(self) -> int:
        return self.projections_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return center(X, self.centering, self.mean_) @ self.projections_.T > 0
