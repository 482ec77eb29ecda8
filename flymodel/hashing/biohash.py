"""BioHash and NaiveBioHash (Ryali et al. 2020, sections 2.1 and 2.3): learned PN→KC synapses as hashers.

The PN→KC synapses are learned by the Krotov–Hopfield rule (``flymodel.learning``, eq. 1–2) and read out by k-WTA
(BioHash, eq. 6) or by the signs of the m = k activations (NaiveBioHash, section 2.3's control).
"""

from __future__ import annotations

import os

import torch

from flymodel.circuit.kwta import kwta
from flymodel.hashing.base import Hasher
from flymodel.hashing.flyhash import CENTERINGS, center
from flymodel.learning import PlasticityRule, TrainingSchedule, currents, train_synapses
from flymodel.validation import check_choice, check_fraction, check_int


def hidden_units(k: int, m: int | None, activity: float) -> int:
    """The number of hidden units: m when given, else round(k / activity) (the activity of Appendix D).

    Parameters
    ----------
    k : int
        Active units per code.
    m : int or None
        Number of hidden units; when given it is returned as is.
    activity : float
        Fraction k/m of active units, used when ``m`` is None.

    Returns
    -------
    int
        ``m``, or ``max(1, round(k / activity))`` when ``m`` is None.

    Examples
    --------
    >>> from flymodel.hashing.biohash import hidden_units
    >>> hidden_units(16, None, 0.05), hidden_units(16, 400, 0.05)
    (320, 400)
    """
    return m if m is not None else max(1, round(k / activity))


def check_expansion(k: int, m: int | None, activity: float) -> int:
    """Check k, activity and the resulting m (k < m: an expansive, sparse code); return m.

    Parameters
    ----------
    k : int
        Active units per code, at least 1.
    m : int or None
        Number of hidden units, or None to set it from ``activity``.
    activity : float
        Fraction k/m of active units, in (0, 1].

    Returns
    -------
    int
        The number of hidden units m (``hidden_units(k, m, activity)``).

    Raises
    ------
    ValueError
        If ``k < 1``, ``activity`` is outside (0, 1], m is smaller than 2, or ``k >= m``.
    TypeError
        If ``k`` or ``m`` is not an integer, or ``activity`` is not a number.
    """
    check_int(k, "k", minimum=1)
    check_fraction(activity, "activity")
    units = check_int(hidden_units(k, m, activity), "m", minimum=2)
    if k >= units:
        raise ValueError(f"k={k} must be smaller than m={units} (the number of hidden units)")
    return units


class LearnedSynapses(Hasher):
    """Shared by the learned hashers: centre with the training mean, learn W (m × d) by eq. 1, compute currents.

    Subclasses store the learning parameters (``p``, ``delta``, ``rank``, ``lr``, ``max_epochs``, ``batch_size``,
    ``tol``, ``centering``, ``seed``, ``progress``, ``checkpoint``) and define ``n_hidden()`` and ``_encode``.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
        The training mean (subtracted from the inputs when ``centering='mean'``).
    weights_ : torch.Tensor of shape (m, n_features)
        The learned synapses W, one row per hidden unit.
    training_log_ : list of dict
        One entry per epoch run, with the keys ``epoch``, ``lr``, ``mean_norm`` (the mean synapse p-norm the
        convergence criterion ``tol`` is tested on), ``energy`` (eq. 3) and ``seconds``.
    """

    def n_hidden(self) -> int:
        """The number of hidden units m.

        Returns
        -------
        int
            The number of rows of the learned synapses W.
        """
        raise NotImplementedError

    def _validate_learning(self, m: int) -> None:
        check_choice(self.centering, "centering", CENTERINGS)
        check_int(self.seed, "seed", minimum=0)
        self._rule().validate(m)

    def _rule(self) -> PlasticityRule:
        return PlasticityRule(p=self.p, delta=self.delta, rank=self.rank)

    def _fit(self, X: torch.Tensor) -> None:
        self.mean_ = X.mean(dim=0)
        schedule = TrainingSchedule(lr=self.lr, max_epochs=self.max_epochs, batch_size=self.batch_size, tol=self.tol)
        schedule.validate(X.shape[0])
        self.weights_, self.training_log_ = train_synapses(
            center(X, self.centering, self.mean_), self.n_hidden(), self._rule(), schedule,
            seed=self.seed, progress=self.progress, checkpoint=self.checkpoint)

    def _currents(self, X: torch.Tensor) -> torch.Tensor:
        """⟨W_μ, x − mean⟩_μ for every sample and hidden unit (eq. 1's input currents)."""
        return currents(self.weights_, center(X, self.centering, self.mean_), self.p)


class BioHash(LearnedSynapses):
    """Learned sparse expansion d → m with k active units (eq. 6): y_μ = 1 iff ⟨W_μ, x⟩_μ is in the top k.

    ``fit`` learns the synapses W (m × d) from the centred training data by the Krotov–Hopfield rule (eq. 1–2,
    ``flymodel.learning.train_synapses``), from N(0, 1) initial weights; ``transform`` computes the currents
    ⟨W_μ, x − mean⟩_μ (the p-inner product) and keeps the k largest (k-WTA).

    Parameters
    ----------
    k : int, default 16
        Active units per code (hash length).
    m : int or None, default None
        Number of hidden units; when given it wins over ``activity``.
    activity : float, default 0.05
        The activity k/m that sets m = round(k / activity) when ``m`` is None. The paper's activities: 5 % on
        MNIST, 0.5 % on CIFAR-10 (Appendix D).
    p : float, default 2.0
        The learning rule's Lebesgue exponent (p ≥ 1), also used in the p-inner product of the currents.
    delta : float, default 0.0
        The anti-Hebbian strength Δ ≥ 0 (eq. 2).
    rank : int, default 2
        The rank r of the unit that receives the anti-Hebbian update (2 ≤ r ≤ m when Δ > 0).
    lr : float, default 2e-2
        The initial learning rate ε0, decayed linearly to 0 over ``max_epochs`` (Appendix D: 2e-2).
    max_epochs : int, default 100
        The number of epochs T_max (Appendix D: 100).
    batch_size : int, default 100
        The minibatch size, at most the number of training samples (Appendix D: 100).
    tol : float, default 1.06
        The convergence criterion: training stops once the mean synapse norm falls below it (Appendix D: 1.06);
        ``tol=0`` never stops early.
    centering : {"mean", "none", "sample"}, default "mean"
        ``'mean'`` (Appendix D) subtracts the training mean from every input, ``'sample'`` each row's own mean,
        ``'none'`` nothing.
    seed : int, default 0
        Seed of the initial weights and of the sample order.
    device : str, default "auto"
        The torch device; ``'auto'`` picks CUDA when present.
    progress : bool, default False
        Show a progress bar over epochs.
    checkpoint : str or os.PathLike or None, default None
        A file to checkpoint training to after every epoch and to resume from; None: no checkpoint.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
        The training mean.
    weights_ : torch.Tensor of shape (m, n_features)
        The learned synapses W.
    training_log_ : list of dict
        One entry per epoch run (``epoch``, ``lr``, ``mean_norm``, ``energy``, ``seconds``).
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    Two clusters of points: codes of points of the same cluster share more active units.

    >>> import numpy as np
    >>> from flymodel.hashing import BioHash
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(2, 16))
    >>> labels = rng.integers(0, 2, size=100)
    >>> X = (centres[labels] + 0.3 * rng.normal(size=(100, 16))).astype(np.float32)
    >>> hasher = BioHash(k=4, m=32, max_epochs=5, batch_size=20, device="cpu").fit(X)
    >>> hasher.weights_.shape, len(hasher.training_log_)  # 32 hidden units; 5 epochs run
    (torch.Size([32, 16]), 5)
    >>> codes = hasher.transform(X)
    >>> codes.shape, codes.sum(axis=1)[:5]
    ((100, 32), array([4, 4, 4, 4, 4]))
    >>> D = hamming_distances(codes, codes)
    >>> same = labels[:, None] == labels[None, :]
    >>> bool(D[same].mean() < D[~same].mean())
    True
    >>> hasher.encode(X[:3]).shape  # stored as the sorted indices of the k active units
    (3, 4)
    """

    sparse = True

    def __init__(self, k: int = 16, m: int | None = None, activity: float = 0.05, p: float = 2.0, delta: float = 0.0,
                 rank: int = 2, lr: float = 2e-2, max_epochs: int = 100, batch_size: int = 100, tol: float = 1.06,
                 centering: str = "mean", seed: int = 0, device: str = "auto", progress: bool = False,
                 checkpoint: str | os.PathLike[str] | None = None):
        self.k = k
        self.m = m
        self.activity = activity
        self.p = p
        self.delta = delta
        self.rank = rank
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.centering = centering
        self.seed = seed
        self.device = device
        self.progress = progress
        self.checkpoint = checkpoint

    def n_hidden(self) -> int:
        """The number of hidden units m, given directly or as round(k / activity).

        Returns
        -------
        int
            ``m`` when given, else ``max(1, round(k / activity))``.
        """
        return hidden_units(self.k, self.m, self.activity)

    def _validate_params(self, n_features: int) -> None:
        self._validate_learning(check_expansion(self.k, self.m, self.activity))

    def _n_bits(self) -> int:
        """Width of the code: the m hidden units, of which k are active."""
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return kwta(self._currents(X), self.k)  # eq. 6: the k largest currents win


class NaiveBioHash(LearnedSynapses):
    """Learned synapses without expansion or k-WTA (section 2.3's control): m = k units, signs as bits.

    Bit μ = [⟨W_μ, x⟩_μ > 0]: the same learned synapses as ``BioHash``, read out by the signs of the m = k
    activations instead of k-WTA. Parameters are BioHash's, less ``m`` and ``activity``: ``k`` is the number of
    hidden units and of bits.

    Parameters
    ----------
    k : int, default 16
        Number of hidden units and of bits (hash length).
    p : float, default 2.0
        The learning rule's Lebesgue exponent (p ≥ 1), also used in the p-inner product of the currents.
    delta : float, default 0.0
        The anti-Hebbian strength Δ ≥ 0 (eq. 2).
    rank : int, default 2
        The rank r of the unit that receives the anti-Hebbian update (2 ≤ r ≤ k when Δ > 0).
    lr : float, default 2e-2
        The initial learning rate ε0, decayed linearly to 0 over ``max_epochs``.
    max_epochs : int, default 100
        The number of epochs T_max.
    batch_size : int, default 100
        The minibatch size, at most the number of training samples.
    tol : float, default 1.06
        Training stops once the mean synapse norm falls below it; ``tol=0`` never stops early.
    centering : {"mean", "none", "sample"}, default "mean"
        ``'mean'`` subtracts the training mean from every input, ``'sample'`` each row's own mean, ``'none'``
        nothing.
    seed : int, default 0
        Seed of the initial weights and of the sample order.
    device : str, default "auto"
        The torch device; ``'auto'`` picks CUDA when present.
    progress : bool, default False
        Show a progress bar over epochs.
    checkpoint : str or os.PathLike or None, default None
        A file to checkpoint training to after every epoch and to resume from; None: no checkpoint.

    Attributes
    ----------
    mean_ : torch.Tensor of shape (n_features,)
        The training mean.
    weights_ : torch.Tensor of shape (k, n_features)
        The learned synapses W.
    training_log_ : list of dict
        One entry per epoch run (``epoch``, ``lr``, ``mean_norm``, ``energy``, ``seconds``).
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.hashing import NaiveBioHash
    >>> from flymodel.index import hamming_distances
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(2, 16))
    >>> labels = rng.integers(0, 2, size=100)
    >>> X = (centres[labels] + 0.3 * rng.normal(size=(100, 16))).astype(np.float32)
    >>> hasher = NaiveBioHash(k=16, max_epochs=5, batch_size=20, device="cpu").fit(X)
    >>> codes = hasher.transform(X)  # dense: any number of the 16 bits may be set
    >>> codes.shape, hasher.sparse
    ((100, 16), False)
    >>> D = hamming_distances(codes, codes)
    >>> same = labels[:, None] == labels[None, :]
    >>> bool(D[same].mean() < D[~same].mean())
    True
    >>> stored = hasher.encode(X)  # 16 bits packed into 2 bytes per code
    >>> stored.shape, stored.dtype, hasher.code_size_
    ((100, 2), dtype('uint8'), 2)
    """

    sparse = False

    def __init__(self, k: int = 16, p: float = 2.0, delta: float = 0.0, rank: int = 2, lr: float = 2e-2,
                 max_epochs: int = 100, batch_size: int = 100, tol: float = 1.06, centering: str = "mean",
                 seed: int = 0, device: str = "auto", progress: bool = False,
                 checkpoint: str | os.PathLike[str] | None = None):
        self.k = k
        self.p = p
        self.delta = delta
        self.rank = rank
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.tol = tol
        self.centering = centering
        self.seed = seed
        self.device = device
        self.progress = progress
        self.checkpoint = checkpoint

    def n_hidden(self) -> int:
        """The number of hidden units, m = k: one hidden unit per bit.

        Returns
        -------
        int
            ``k``.
        """
        return self.k

    def _validate_params(self, n_features: int) -> None:
        self._validate_learning(check_int(self.k, "k", minimum=1))

    def _n_bits(self) -> int:
        """Width of the code: the k hidden units, one bit each."""
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return self._currents(X) > 0  # sign of the activations
