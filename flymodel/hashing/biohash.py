"""BioHash and NaiveBioHash (Ryali et al. 2020, sections 2.1 and 2.3): PN→KC synapses learned by the
Krotov–Hopfield rule, read out by k-WTA (BioHash) or by the signs of the m = k activations (NaiveBioHash)."""

from __future__ import annotations

import os

import torch

from flymodel.circuit.kwta import kwta
from flymodel.hashing.base import Hasher
from flymodel.hashing.flyhash import CENTERINGS, center
from flymodel.learning import PlasticityRule, TrainingSchedule, currents, train_synapses
from flymodel.validation import check_choice, check_fraction, check_int


def hidden_units(k: int, m: int | None, activity: float) -> int:
    """The number of hidden units: m when given, else round(k / activity) (the activity of Appendix D)."""
    return m if m is not None else max(1, round(k / activity))


def check_expansion(k: int, m: int | None, activity: float) -> int:
    """Check k, activity and the resulting m (k < m: an expansive, sparse code); return m."""
    check_int(k, "k", minimum=1)
    check_fraction(activity, "activity")
    units = check_int(hidden_units(k, m, activity), "m", minimum=2)
    if k >= units:
        raise ValueError(f"k={k} must be smaller than m={units} (the number of hidden units)")
    return units


class LearnedSynapses(Hasher):
    """Shared by the learned hashers: centre with the training mean, learn W (m × d) by eq. 1, compute currents.

    Subclasses store the learning parameters (p, delta, rank, lr, max_epochs, batch_size, tol, centering,
    seed, progress, checkpoint) and define n_hidden() and _encode.
    """

    def n_hidden(self) -> int:
        """The number of hidden units m."""
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

    Parameters
    ----------
    k : active units per code (hash length).
    m, activity : number of hidden units, or the activity k/m that sets it (m = round(k / activity)); m wins
        when given. The paper's activities: 5 % on MNIST, 0.5 % on CIFAR-10 (Appendix D).
    p, delta, rank : the learning rule's Lebesgue exponent, anti-Hebbian strength Δ and its rank r (eq. 1–2).
    lr, max_epochs, batch_size, tol : ε0 with linear decay over max_epochs, minibatch size, and the
        convergence criterion on the mean synapse norm (Appendix D: 2e-2, 100, 100, 1.06; tol=0 never stops early).
    centering : 'mean' (Appendix D: subtract the training mean), 'none' or 'sample'.
    seed, device : seed of the initial weights and the sample order; torch device ('auto' picks CUDA).
    progress : show a progress bar over epochs. checkpoint : a file to checkpoint training to and resume from.
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
        """m, given directly or as round(k / activity)."""
        return hidden_units(self.k, self.m, self.activity)

    def _validate_params(self, n_features: int) -> None:
        self._validate_learning(check_expansion(self.k, self.m, self.activity))

    @property
    def n_bits_(self) -> int:
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return kwta(self._currents(X), self.k)  # eq. 6: the k largest currents win


class NaiveBioHash(LearnedSynapses):
    """The same learned synapses without expansion or k-WTA (section 2.3's control): m = k units, bit μ = [⟨W_μ, x⟩_μ > 0].

    Parameters are BioHash's, less m and activity: k is the number of hidden units and of bits.
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
        """m = k: one hidden unit per bit."""
        return self.k

    def _validate_params(self, n_features: int) -> None:
        self._validate_learning(check_int(self.k, "k", minimum=1))

    @property
    def n_bits_(self) -> int:
        return self.weights_.shape[0]

    def _encode(self, X: torch.Tensor) -> torch.Tensor:
        return self._currents(X) > 0  # sign of the activations
