"""Spectral Hashing (Weiss, Torralba & Fergus, NIPS 2008): thresholded analytical eigenfunctions of the Laplacian
of a uniform distribution fitted along the top PCA directions, following the authors' reference MATLAB code
trainSH.m / compressSH.m."""

from __future__ import annotations

import math

import numpy as np
import torch

from flymodel.hashing.pca import PrincipalBitsHasher, principal_components

#: MATLAB's eps, the margin trainSH.m puts around the data range; applied in float64 as in MATLAB (it is lost in
#: float32 for values of magnitude above about 1e-9; in float64 it only matters for directions near zero).
EPS = float(np.finfo(np.float64).eps)


def spectral_modes(ranges: np.ndarray, nbits: int) -> np.ndarray:
    """The nbits one-dimensional modes (nbits, npca) with the smallest eigenvalues Σ_j (m_j π / R_j)², ties kept
    in enumeration order (MATLAB's sort is stable), as in trainSH.m step 3."""
    max_mode = np.ceil((nbits + 1) * ranges / ranges.max()).astype(np.int64)  # maxMode = ceil((nbits+1)*R/max(R))
    n_modes = int(max_mode.sum()) - len(max_mode) + 1  # nModes = sum(maxMode) - length(maxMode) + 1
    modes = np.zeros((n_modes, len(ranges)), dtype=np.int64)  # row 0 is the constant mode
    row = 1
    for i, top in enumerate(max_mode):
        modes[row:row + top - 1, i] = np.arange(1, top)  # modes(m+1:m+maxMode(i)-1, i) = 2:maxMode(i), minus 1
        row += top - 1
    eigenvalues = ((modes * (math.pi / ranges)) ** 2).sum(axis=1)  # −eigVal = Σ omegas², omegas = modes·π/R
    return modes[np.argsort(eigenvalues, kind="stable")[1:nbits + 1]]  # modes(ii(2:nbits+1), :): skip the constant


class SpectralHash(PrincipalBitsHasher):
    """Spectral Hashing: bit i is Π_j sin(ω_ij (⟨v_j, x⟩ − mn_j) + π/2) > 0 for the k lowest-frequency modes ω_i.

    Parameters: k (bits, at most the number of features: npca = min(k, d) = k directions) and device.
    """

    def _fit(self, X: torch.Tensor) -> None:
        _, self.components_ = principal_components(X, self.k)  # trainSH.m: [pc, l] = eigs(cov(X), npca)
        projected = (X @ self.components_.T).double()  # trainSH.m: X = X * pc, "no need to remove the mean"
        self.mn_ = projected.min(dim=0).values - EPS  # trainSH.m: mn = min(X) - eps
        self.mx_ = projected.max(dim=0).values + EPS  # trainSH.m: mx = max(X) + eps
        ranges = (self.mx_ - self.mn_).cpu().numpy()
        if (ranges <= 0).any():  # trainSH.m would divide by R = 0 here
            j = int(np.argmax(ranges <= 0))
            raise ValueError(f"X does not vary along principal direction {j} (every projection is "
                             f"{float(projected[0, j])}); expected spread along each of the top k={self.k} directions")
        self.modes_ = torch.from_numpy(spectral_modes(ranges, self.k)).to(X.device)

    @property
    def n_bits_(self) -> int:
        return self.modes_.shape[0]

    @property
    def n_units_(self) -> int:
        return self.modes_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        shifted = (X @ self.components_.T).double() - self.mn_  # compressSH.m: X = X*pc; X = X - mn
        omegas = self.modes_ * (math.pi / (self.mx_ - self.mn_))  # compressSH.m: omegas = modes .* pi./(mx-mn)
        # compressSH.m: U(:, i) = prod(sin(X .* omegas(i, :) + pi/2), 2); B = U > 0. Each mode is non-zero along one
        # direction j(i) (spectral_modes), and the other factors are sin(0 + π/2) = 1 exactly, so the product is the
        # one factor along j(i): the same bits at k instead of k × npca evaluations per row.
        direction = self.modes_.argmax(dim=1)
        along = omegas.gather(1, direction[:, None]).squeeze(1)
        return torch.sin(shifted[:, direction] * along + math.pi / 2) > 0
