"""PCA hashing: one bit per top principal direction, sign(⟨v_j, x − mean⟩), and the shared PCA helper.

PCAHash is the PCAH baseline of Wang, Kumar & Chang 2010 and Gong & Lazebnik 2011; ``principal_components`` and
``PrincipalBitsHasher`` are shared with ITQ and Spectral Hashing.
"""

from __future__ import annotations

import torch

from flymodel.hashing.base import Hasher
from flymodel.validation import check_int

#: Elements of X (rows × features) converted to float64 at once when accumulating the covariance (32 MB).
COVARIANCE_BLOCK = 2**22


def check_n_components(value: int, n_features: int, name: str = "k") -> int:
    """Return value as an int in [1, n_features], else raise: PCA gives at most d principal directions.

    Parameters
    ----------
    value : int
        The requested number of principal directions (a hasher's k, or n_components).
    n_features : int
        Number of input features d, the most directions PCA gives.
    name : str, default "k"
        Name of the parameter, used in the error messages.

    Returns
    -------
    int
        `value` as a Python int.

    Raises
    ------
    TypeError
        If `value` is not an integer.
    ValueError
        If ``value < 1`` or ``value > n_features``.
    """
    check_int(value, name, minimum=1)
    if value > n_features:
        raise ValueError(f"{name}={value} must be <= n_features={n_features} (PCA gives at most d principal directions)")
    return int(value)


def principal_components(X: torch.Tensor, n_components: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and the top principal directions of X, by decreasing variance.

    The covariance Σ = (X − μ)ᵀ(X − μ) / (n − 1) (MATLAB's ``cov(X)``) is accumulated in float64 over blocks of
    rows (``COVARIANCE_BLOCK`` elements at a time), and its eigenvectors give the directions. Each direction's
    largest-magnitude entry is made positive, for determinism: the sign of an eigenvector is otherwise arbitrary.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The training rows, on any device.
    n_components : int
        Number of directions to return, in [1, n_features].

    Returns
    -------
    mean : torch.Tensor of shape (n_features,)
        The mean of X, in X's dtype.
    components : torch.Tensor of shape (n_components, n_features)
        The orthonormal principal directions, one per row, by decreasing variance, in X's dtype.

    Raises
    ------
    TypeError
        If `n_components` is not an integer.
    ValueError
        If `n_components` lies outside [1, n_features].
    """
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

    The base of PCAHash and SpectralHash: it stores the parameters and checks in ``fit`` that
    1 <= k <= n_features; subclasses implement ``_fit`` and ``_encode``.

    Parameters
    ----------
    k : int, default 16
        Number of bits (the hash length), at most the number of features.
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``. The method is deterministic: no seed.
    """

    sparse = False

    def __init__(self, k: int = 16, device: str = "auto"):
        self.k = k
        self.device = device

    def _validate_params(self, n_features: int) -> None:
        check_n_components(self.k, n_features)


class PCAHash(PrincipalBitsHasher):  # __init__ is inherited; numpydoc ignore=PR02
    """PCA hashing: bit j is ⟨v_j, x − mean⟩ > 0 for the j-th principal direction v_j.

    The PCAH baseline (Wang, Kumar & Chang 2010; Gong & Lazebnik 2011): the k dense bits are the signs of the
    centred projections onto the top k principal directions of the training data, so every bit splits the
    training set about in half. Deterministic: the same data give the same codes.

    Parameters
    ----------
    k : int, default 16
        Number of bits (the hash length), in [1, n_features].
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
        The training mean.
    components_ : torch.Tensor of shape (k, n_features)
        The top k principal directions v_j, one per row, by decreasing variance.
    n_features_in_ : int
        Number of input features seen by ``fit``.
    n_bits_ : int
        Width of the code, k.

    See Also
    --------
    flymodel.hashing.ITQ : The same projection, rotated to lower the quantisation loss.

    Notes
    -----
    ``fit`` raises a TypeError when `k` is not an integer and a ValueError when it lies outside
    [1, n_features].

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import PCAHash
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.normal(size=(200, 8)) * [4, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]).astype(np.float32)
    >>> hasher = PCAHash(k=4, device="cpu").fit(X)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype
    ((200, 4), dtype('bool'))
    >>> codes.mean(axis=0).round(2)  # each bit splits the training set about in half
    array([0.48, 0.48, 0.5 , 0.49])
    >>> near = X[:1] + 0.05 * rng.standard_normal((1, 8)).astype(np.float32)
    >>> hamming_distances(hasher.transform(near), codes[:3])
    array([[0, 3, 3]], dtype=int32)
    """

    def _fit(self, X: torch.Tensor) -> None:
        self.mean_, self.components_ = principal_components(X, self.k)

    def _n_bits(self) -> int:
        """Width of the boolean code: k, the number of principal directions."""
        return self.components_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return (X - self.mean_) @ self.components_.T > 0  # PCAH: sign of the centred PCA projection
