"""ITQ, Iterative Quantization (Gong & Lazebnik, CVPR 2011, "Iterative quantization: a procrustean approach to
learning binary codes"): rotate the top-k PCA projection to minimise the quantisation loss ||B − V R||_F²,
following the authors' reference MATLAB code ITQ.m."""

from __future__ import annotations

import torch

from flymodel.circuit.wiring import seeded_generator
from flymodel.hashing.base import Hasher
from flymodel.hashing.pca import check_n_components, principal_components
from flymodel.validation import check_int


def random_rotation(k: int, seed: int) -> torch.Tensor:
    """A Haar-distributed random k×k orthogonal matrix in float64 on the CPU, the same for a seed on every device."""
    Q, R = torch.linalg.qr(torch.randn(k, k, dtype=torch.float64, generator=seeded_generator(seed)))
    return Q * torch.sign(torch.diagonal(R))  # QR of a Gaussian, sign-corrected (Mezzadri 2007) so Q is Haar


class ITQ(Hasher):
    """PCA-ITQ: bit j is (V R)_j > 0 with V = (x − mean) Pᵀ the top-k PCA projection and R a learned rotation.

    Parameters
    ----------
    k : number of bits (hash length), at most the number of features.
    n_iter : alternations of B = sgn(V R) and the Procrustes update of R (paper, Appendix D: 50).
    seed, device : seed of the initial random rotation; torch device ('auto' picks CUDA when present).
    """

    sparse = False

    def __init__(self, k: int = 16, n_iter: int = 50, seed: int = 0, device: str = "auto"):
        self.k = k
        self.n_iter = n_iter
        self.seed = seed
        self.device = device

    def _validate_params(self, n_features: int) -> None:
        check_n_components(self.k, n_features)
        check_int(self.n_iter, "n_iter", minimum=1)
        check_int(self.seed, "seed", minimum=0)

    def _fit(self, X: torch.Tensor) -> None:
        self.mean_, self.components_ = principal_components(X, self.k)
        V = self._project(X).double()
        R = random_rotation(self.k, self.seed).to(X.device)
        for _ in range(self.n_iter):
            B = torch.where(V @ R >= 0, 1.0, -1.0).to(V.dtype)  # ITQ.m: UX = sgn(V R), +1 at 0
            UB, _, UAt = torch.linalg.svd(B.T @ V)  # ITQ.m: [UB, sigma, UA] = svd(UX' * V)
            R = UAt.T @ UB.T  # ITQ.m: R = UA * UB' minimises ||B − V R||_F (orthogonal Procrustes)
        self.rotation_ = R.to(X.dtype)

    def _project(self, X: torch.Tensor) -> torch.Tensor:
        """V = (X − mean) Pᵀ, the projection onto the top-k principal directions."""
        return (X - self.mean_) @ self.components_.T

    @property
    def n_bits_(self) -> int:
        return self.rotation_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return self._project(X) @ self.rotation_ > 0  # ITQ codes: sgn(V R)
