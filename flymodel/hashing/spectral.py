"""Spectral Hashing (Weiss, Torralba & Fergus, NIPS 2008): thresholded Laplacian eigenfunctions.

The bits are thresholded analytical eigenfunctions of the Laplacian of a uniform distribution fitted along the top
PCA directions, following the authors' reference MATLAB code trainSH.m / compressSH.m.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from flymodel.hashing.pca import PrincipalBitsHasher, principal_components

#: MATLAB's eps, the margin trainSH.m puts around the data range; applied in float64 as in MATLAB (it is lost in
#: float32 for values of magnitude above about 1e-9; in float64 it only matters for directions near zero).
EPS = float(np.finfo(np.float64).eps)


def spectral_modes(ranges: np.ndarray, nbits: int) -> np.ndarray:
    """The nbits one-dimensional modes with the smallest eigenvalues Σ_j (m_j π / R_j)² (trainSH.m step 3).

    Along each direction j, modes 1 .. maxMode_j − 1 are enumerated, with maxMode_j = ceil((nbits + 1) R_j / max R)
    (wider directions get more modes); the constant mode is skipped, and ties are kept in enumeration order
    (MATLAB's sort is stable).

    Parameters
    ----------
    ranges : ndarray of shape (npca,)
        The range R_j of the data along each principal direction, all positive.
    nbits : int
        Number of modes (bits) to return.

    Returns
    -------
    ndarray of shape (nbits, npca), dtype int64
        One mode per row: its frequency index m_j along each direction, non-zero along exactly one direction.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing.spectral import spectral_modes
    >>> spectral_modes(np.array([4.0, 2.0, 1.0]), 4)  # the widest direction gets the most modes
    array([[1, 0, 0],
           [2, 0, 0],
           [0, 1, 0],
           [3, 0, 0]])
    """
    max_mode = np.ceil((nbits + 1) * ranges / ranges.max()).astype(np.int64)  # maxMode = ceil((nbits+1)*R/max(R))
    n_modes = int(max_mode.sum()) - len(max_mode) + 1  # nModes = sum(maxMode) - length(maxMode) + 1
    modes = np.zeros((n_modes, len(ranges)), dtype=np.int64)  # row 0 is the constant mode
    row = 1
    for i, top in enumerate(max_mode):
        modes[row:row + top - 1, i] = np.arange(1, top)  # modes(m+1:m+maxMode(i)-1, i) = 2:maxMode(i), minus 1
        row += top - 1
    eigenvalues = ((modes * (math.pi / ranges)) ** 2).sum(axis=1)  # −eigVal = Σ omegas², omegas = modes·π/R
    return modes[np.argsort(eigenvalues, kind="stable")[1:nbits + 1]]  # modes(ii(2:nbits+1), :): skip the constant


class SpectralHash(PrincipalBitsHasher):  # __init__ is inherited; numpydoc ignore=PR02
    """Spectral Hashing: bit i is Π_j sin(ω_ij (⟨v_j, x⟩ − mn_j) + π/2) > 0.

    The ω_i are the k lowest-frequency modes. ``fit`` projects the training data onto its top k principal directions v_j (trainSH.m: no mean is removed),
    fits a uniform distribution on [mn_j, mx_j] along each (the data range, widened by MATLAB's eps), and keeps the
    k one-dimensional eigenfunctions of its Laplacian with the smallest eigenvalues (``spectral_modes``), with
    ω_ij = m_ij π / (mx_j − mn_j). Wide directions get several bits of increasing frequency; each bit is a sinusoid
    along one direction, thresholded at zero.

    Parameters
    ----------
    k : int, default 16
        Number of bits, at most the number of features: npca = min(k, d) = k directions.
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Attributes
    ----------
    components_ : torch.Tensor of shape (k, n_features)
        The top k principal directions v_j, one per row, by decreasing variance.
    mn_ : torch.Tensor of shape (k,), dtype float64
        The smallest training projection onto each direction, minus eps.
    mx_ : torch.Tensor of shape (k,), dtype float64
        The largest training projection onto each direction, plus eps.
    modes_ : torch.Tensor of shape (k, k), dtype int64
        The mode of each bit (row) along each direction (column), non-zero along exactly one.
    n_features_in_ : int
        Number of input features seen by ``fit``.
    n_bits_ : int
        Width of the code, k.

    Notes
    -----
    ``transform`` evaluates only the factor of the product along each mode's own direction: the other factors are
    sin(0 + π/2) = 1 exactly, so the bits are those of compressSH.m. ``fit`` raises a TypeError when `k` is not an
    integer, and a ValueError when it lies outside [1, n_features] or when X does not vary along one of the top
    k principal directions (trainSH.m would divide by a zero range there).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import SpectralHash
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.normal(size=(200, 8)) * [4, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]).astype(np.float32)
    >>> hasher = SpectralHash(k=4, device="cpu").fit(X)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype
    ((200, 4), dtype('bool'))

    The first principal direction, four times wider than the others, carries three bits of increasing frequency:

    >>> hasher.modes_
    tensor([[1, 0, 0, 0],
            [2, 0, 0, 0],
            [3, 0, 0, 0],
            [0, 1, 0, 0]])
    >>> near = X[:1] + 0.05 * rng.standard_normal((1, 8)).astype(np.float32)
    >>> hamming_distances(hasher.transform(near), codes[:3])
    array([[0, 3, 2]], dtype=int32)
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

    def _n_bits(self) -> int:
        """Width of the boolean code: k, one bit per mode."""
        return self.modes_.shape[0]

    @property
    def n_units_(self) -> int:  # property; numpydoc ignore=RT01
        """Values computed per sample in ``transform``: k, one sinusoid per mode (it sets the block size)."""
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
