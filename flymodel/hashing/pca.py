"""PCA hashing: one bit per top principal direction, sign(⟨v_j, x − mean⟩) (the PCAH baseline of Wang, Kumar &
Chang 2010 and Gong & Lazebnik 2011), and the PCA helper shared with ITQ and Spectral Hashing."""

from __future__ import annotations

import torch

from flymodel.hashing.base import Hasher
from flymodel.validation import check_int

#: Elements of X (rows × features) converted to float64 at once when accumulating the covariance (32 MB).
COVARIANCE_BLOCK = 2**22


def check_n_components(value: int, n_features: int, name: str = "k") -> int:
    """Return value as an int in [1, n_features], else raise: PCA gives at most d principal directions."""
    check_int(value, name, minimum=1)
    if value > n_features:
        raise ValueError(f"{name}={value} must be <= n_features={n_features} (PCA gives at most d principal directions)")
    return int(value)


def principal_components(X: torch.Tensor, n_components: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean (d,) and top principal directions (n_components, d) of X by decreasing variance, from a float64
    covariance built over row blocks; each direction's largest-magnitude entry is made positive, for determinism."""
    n, d = X.shape
    check_n_components(n_components, d, "n_components")
    block = max(1, COVARIANCE_BLOCK // d)
    total = torch.zeros(d, dtype=torch.float64, device=X.device)
    for start in range(0, n, block):
        total += X[start:start + block].sum(dim=0, dtype=torch.float64)
    mean = total / n
    cov = torch.zeros(d, d, dtype=torch.float64, device=X.device)
    for start in range(0, n, block):
        centred = X[start:start + block].double() - mean
        cov += centred.T @ centred  # Σ = (X − μ)ᵀ(X − μ) / (n − 1), as MATLAB's cov(X)
    cov /= max(n - 1, 1)
    _, vectors = torch.linalg.eigh(cov)  # eigenvalues ascending, eigenvectors in columns
    components = vectors.flip(1)[:, :n_components].T
    pivots = components.abs().argmax(dim=1, keepdim=True)
    components = components * torch.sign(components.gather(1, pivots))
    return mean.to(X.dtype), components.to(X.dtype)


class PrincipalBitsHasher(Hasher):
    """Shared by the deterministic PCA-based hashers: k dense bits from the top k ≤ d principal directions.

    Parameters
    ----------
    k : number of bits (hash length), at most the number of features.
    device : torch device ('auto' picks CUDA when present). The method is deterministic: no seed.
    """

    sparse = False

    def __init__(self, k: int = 16, device: str = "auto"):
        self.k = k
        self.device = device

    def _validate_params(self, n_features: int) -> None:
        check_n_components(self.k, n_features)


class PCAHash(PrincipalBitsHasher):
    """PCA hashing: bit j is ⟨v_j, x − mean⟩ > 0 for the j-th principal direction v_j (parameters: k, device)."""

    def _fit(self, X: torch.Tensor) -> None:
        self.mean_, self.components_ = principal_components(X, self.k)

    @property
    def n_bits_(self) -> int:
        return self.components_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return (X - self.mean_) @ self.components_.T > 0  # PCAH: sign of the centred PCA projection
