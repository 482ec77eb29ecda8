"""ITQ (Iterative Quantization): rotate the top-k PCA projection to minimise ||B − V R||_F².

The rotation minimises the quantisation loss ||B − V R||_F² (Gong & Lazebnik, CVPR 2011, "Iterative quantization:
a procrustean approach to learning binary codes"), following the authors' reference MATLAB code ITQ.m.
"""

from __future__ import annotations

import torch

from flymodel.circuit.wiring import seeded_generator
from flymodel.hashing.base import Hasher
from flymodel.hashing.pca import check_n_components, principal_components
from flymodel.validation import check_int


def random_rotation(k: int, seed: int) -> torch.Tensor:
    """A Haar-distributed random k×k orthogonal matrix (float64, on the CPU).

    The same for a seed on every device. The Q factor of the QR decomposition of a standard Gaussian matrix, with the signs of R's diagonal moved into
    Q (Mezzadri 2007), so that Q is uniformly (Haar) distributed: ITQ's initial rotation.

    Parameters
    ----------
    k : int
        Size of the matrix.
    seed : int
        Seed of the Gaussian draw (torch's CPU generator).

    Returns
    -------
    torch.Tensor of shape (k, k), dtype float64
        An orthogonal matrix, on the CPU.
    """
    Q, R = torch.linalg.qr(torch.randn(k, k, dtype=torch.float64, generator=seeded_generator(seed)))
    return Q * torch.sign(torch.diagonal(R))  # QR of a Gaussian, sign-corrected (Mezzadri 2007) so Q is Haar


class ITQ(Hasher):
    """PCA-ITQ: bit j is (V R)_j > 0 with V = (x − mean) Pᵀ the top-k PCA projection and R a learned rotation.

    ``fit`` projects the training data onto its top k principal directions P, then, from a random orthogonal R,
    alternates B = sgn(V R) and the orthogonal Procrustes update of R that minimises the quantisation loss
    ||B − V R||_F² for that B (the SVD of Bᵀ V), as the authors' ITQ.m does. The k dense bits are then the signs of
    the rotated projection.

    Parameters
    ----------
    k : int, default 16
        Number of bits (the hash length), in [1, n_features].
    n_iter : int, default 50
        Alternations of B = sgn(V R) and the Procrustes update of R, >= 1 (paper, Appendix D: 50).
    seed : int, default 0
        Seed of the initial random rotation (>= 0), drawn on the CPU.
    device : str, default "auto"
        Torch device to compute on: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
        The training mean.
    components_ : torch.Tensor of shape (k, n_features)
        The top k principal directions P, one per row, by decreasing variance.
    rotation_ : torch.Tensor of shape (k, k), dtype float32
        The learned orthogonal rotation R.
    n_features_in_ : int
        Number of input features seen by ``fit``.
    n_bits_ : int
        Width of the code, k.

    See Also
    --------
    flymodel.hashing.PCAHash : The same bits without the rotation (R = I).

    Notes
    -----
    During training B takes the value +1 where (V R)_j = 0 (ITQ.m's ``sgn``); ``transform`` sets bit j when
    (V R)_j > 0. ``fit`` raises a TypeError when an integer parameter is not an integer and a ValueError when `k`
    lies outside [1, n_features], ``n_iter < 1`` or ``seed < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from flymodel.hashing import ITQ
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.normal(size=(200, 8)) * [4, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]).astype(np.float32)
    >>> hasher = ITQ(k=4, device="cpu").fit(X)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.dtype
    ((200, 4), dtype('bool'))
    >>> R = hasher.rotation_
    >>> torch.allclose(R @ R.T, torch.eye(4), atol=1e-5)  # orthogonal
    True

    The learned rotation quantises the PCA projection with less loss than PCA hashing (R = I):

    >>> V = (torch.from_numpy(X) - hasher.mean_) @ hasher.components_.T
    >>> def loss(R):  # ||B - V R||_F^2 with B = sgn(V R)
    ...     VR = V @ R
    ...     return float(((torch.where(VR >= 0, 1.0, -1.0) - VR) ** 2).sum())
    >>> loss(R) < loss(torch.eye(4))
    True
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

    def _n_bits(self) -> int:
        """Width of the boolean code: k, the size of the rotation."""
        return self.rotation_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return self._project(X) @ self.rotation_ > 0  # ITQ codes: sgn(V R)
