"""The Krotov–Hopfield local learning rule (PNAS 2019): Hebbian for the winner, anti-Hebbian for rank r.

This is the torch core shared by BioHash, BioConvHash, CircuitHash and the rate engine. Notation of
Ryali et al. 2020, section 2.1. Synapses W (m × d), input x (d). The p-inner product is
``⟨W_μ, x⟩_μ = Σ_i |W_μi|^(p−2) W_μi x_i``. For one sample the rule (eq. 1) is::

    τ dW_μi/dt = g[Rank(⟨W_μ, x⟩_μ)] · (x_i − ⟨W_μ, x⟩_μ W_μi),   g = 1 (rank 1), −Δ (rank r), 0 otherwise (eq. 2)

and for a minibatch X (B × d) with currents I = ⟨W, X⟩ (B × m) and activations G (B × m) it sums to::

    dW = Gᵀ X − diag(Σ_b G_bμ I_bμ) W,      W ← W + ε · dW / max|dW|

(the normalised step of Krotov & Hopfield's reference code). The synapses converge to the unit p-sphere;
training stops when the mean synapse p-norm falls below a tolerance (1.06, Appendix D). With Δ = 0 the
dynamics decrease the energy of eq. 3, ``E = −Σ_A Σ_μ g[Rank] ⟨W_μ, x_A⟩_μ / ⟨W_μ, W_μ⟩_μ^((p−1)/p)``.

`PlasticityRule` holds p, Δ and r, `TrainingSchedule` Appendix D's schedule, and `train_synapses` learns W;
`currents`, `weight_update`, `energy` and `synapse_norms` expose the terms of the equations above.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch
from tqdm.auto import tqdm

from flymodel.circuit.wiring import gaussian_wiring, seeded_generator
from flymodel.io import atomic_path
from flymodel.validation import check_int

__all__ = [
    "PlasticityRule",
    "RowSource",
    "TrainingSchedule",
    "currents",
    "energy",
    "synapse_norms",
    "train_synapses",
    "weight_update",
]


@dataclass(frozen=True)
class PlasticityRule:
    """Parameters of eq. 1–2: the Lebesgue exponent p, the anti-Hebbian strength Δ and its rank r.

    For each sample the unit with the largest current ⟨W_μ, x⟩_μ (rank 1) moves towards the sample with
    g = 1 and the unit of rank r moves away from it with g = −Δ (eq. 2); every other unit is left unchanged.
    The fields are the constructor's arguments.

    Attributes
    ----------
    p : float, default 2.0
        Lebesgue exponent of the synaptic norm and of the p-inner product, p ≥ 1 (p = 2: the Euclidean
        inner product).
    delta : float, default 0.0
        Anti-Hebbian strength Δ ≥ 0. With Δ = 0 only the winner learns and the dynamics decrease the
        energy of eq. 3.
    rank : int, default 2
        Rank r ≥ 2 of the unit that receives the anti-Hebbian update, at most m when Δ > 0; unused when
        ``delta == 0``.

    See Also
    --------
    TrainingSchedule : The learning-rate schedule and stopping rule.
    train_synapses : Learn synapses with this rule.

    Notes
    -----
    The rule is not checked when the object is made: `validate` checks it against the number of units,
    and `train_synapses` calls it.

    Examples
    --------
    >>> from flymodel.learning import PlasticityRule
    >>> rule = PlasticityRule(p=3.0, delta=0.4, rank=2)
    >>> rule.validate(n_units=8)
    PlasticityRule(p=3.0, delta=0.4, rank=2)
    >>> PlasticityRule(delta=0.4, rank=9).validate(n_units=8)
    Traceback (most recent call last):
    ...
    ValueError: rank=9 is too large; expected rank <= 8
    """

    p: float = 2.0
    delta: float = 0.0
    rank: int = 2

    def validate(self, n_units: int) -> PlasticityRule:
        """Check the parameters against the number of units m and return the rule unchanged.

        Parameters
        ----------
        n_units : int
            Number of units m; the rank r must not exceed it when ``delta > 0``.

        Returns
        -------
        PlasticityRule
            This rule, so that the call can be chained.

        Raises
        ------
        ValueError
            Naming the first parameter outside its range: ``p < 1``, ``delta < 0``, ``rank < 2``, or
            ``rank > n_units`` when ``delta > 0``.
        TypeError
            If `rank` is not an integer.
        """
        if not (isinstance(self.p, (int, float)) and self.p >= 1):
            raise ValueError(f"p={self.p} must be a number >= 1 (the Lebesgue exponent of the synaptic norm)")
        if not (isinstance(self.delta, (int, float)) and self.delta >= 0):
            raise ValueError(f"delta={self.delta} must be >= 0 (the strength of the anti-Hebbian term)")
        check_int(self.rank, "rank", minimum=2, maximum=n_units if self.delta > 0 else None)  # r unused when Δ = 0
        return self


def p_weights(W: torch.Tensor, p: float) -> torch.Tensor:
    """Return the weights as seen by the p-inner product, ``|W|^(p−2)·W = sign(W)|W|^(p−1)``.

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    p : float
        Lebesgue exponent of the rule.

    Returns
    -------
    torch.Tensor of shape (m, d)
        ``sign(W)|W|^(p−1)``, with the dtype and device of `W`; `W` itself (not a copy) when ``p == 2``.
    """
    return W if p == 2 else torch.sign(W) * W.abs().pow(p - 1)


def currents(W: torch.Tensor, X: torch.Tensor, p: float) -> torch.Tensor:
    """Return the synaptic currents ⟨W_μ, x⟩_μ of every sample and unit.

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    X : torch.Tensor of shape (B, d)
        Samples, one per row, with the dtype and device of `W`.
    p : float
        Lebesgue exponent of the p-inner product.

    Returns
    -------
    torch.Tensor of shape (B, m)
        ``I[b, μ] = Σ_i |W_μi|^(p−2) W_μi X_bi``.

    Examples
    --------
    >>> import torch
    >>> from flymodel.learning import currents
    >>> W = torch.tensor([[1.0, 0.0], [0.0, -2.0]])
    >>> X = torch.tensor([[3.0, 1.0]])
    >>> currents(W, X, p=2.0)
    tensor([[ 3., -2.]])
    >>> currents(W, X, p=3.0)  # |W|^(p−2)·W = [[1, 0], [0, -4]]
    tensor([[ 3., -4.]])
    """
    return X @ p_weights(W, p).T


def sparse_weight_update(W: torch.Tensor, X: torch.Tensor,
                         rule: PlasticityRule) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return dW of eq. 1 summed over the minibatch X, on the only rows it touches.

    ``dW = Gᵀ X − diag(Σ_b G_bμ I_bμ) W`` with currents I and activations ``G = g[Rank(I)]`` (eq. 2). G has one or
    two non-zeros per sample, so dW is zero except on the units that won (or came r-th) for some sample: at most
    B (or 2B) rows of m. Computing only those rows makes a step cost O(B·d) beyond the currents, not O(m·d).

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    X : torch.Tensor of shape (B, d)
        Minibatch, one sample per row, with the dtype and device of `W`.
    rule : PlasticityRule
        The rule's p, Δ and r (not validated here).

    Returns
    -------
    units : torch.Tensor of shape (u,), dtype int64
        The units with a non-zero update, in increasing order (u ≤ B, or 2B when ``rule.delta > 0``).
    dW_units : torch.Tensor of shape (u, d)
        The rows ``dW[units]``.
    drive : torch.Tensor of shape (u,)
        ``drive[j] = Σ_b G_b,units[j] I_b,units[j]``, the term that pulls those synapses back to the unit sphere.
    """
    I = currents(W, X, rule.p)
    top = torch.topk(I, rule.rank if rule.delta > 0 else 1, dim=1).indices
    picked = [(top[:, 0], 1.0)] + ([(top[:, rule.rank - 1], -rule.delta)] if rule.delta > 0 else [])
    units, inverse = torch.unique(torch.cat([idx for idx, _ in picked]), return_inverse=True)
    dW_units = torch.zeros(units.numel(), X.shape[1], dtype=X.dtype, device=X.device)
    drive = torch.zeros(units.numel(), dtype=I.dtype, device=I.device)
    rows = torch.arange(X.shape[0], device=X.device)
    for slot, (idx, g) in zip(inverse.split(X.shape[0]), picked):
        dW_units.index_add_(0, slot, X, alpha=g)  # Gᵀ X: g · x_b onto unit idx_b
        drive.index_add_(0, slot, I[rows, idx], alpha=g)
    dW_units.addcmul_(drive[:, None], W[units], value=-1.0)
    return units, dW_units, drive


def weight_update(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> torch.Tensor:
    """Return dW of eq. 1 summed over the minibatch X, as a dense matrix.

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    X : torch.Tensor of shape (B, d)
        Minibatch, one sample per row, with the dtype and device of `W`.
    rule : PlasticityRule
        The rule's p, Δ and r (not validated here).

    Returns
    -------
    torch.Tensor of shape (m, d)
        ``dW = Gᵀ X − diag(Σ_b G_bμ I_bμ) W``: zero on every row but those of the units that won (or came r-th)
        for some sample.

    Examples
    --------
    >>> import torch
    >>> from flymodel.learning import PlasticityRule, weight_update
    >>> gen = torch.Generator().manual_seed(0)
    >>> W, X = torch.randn(8, 20, generator=gen), torch.randn(3, 20, generator=gen)
    >>> dW = weight_update(W, X, PlasticityRule(delta=0.4, rank=2))
    >>> dW.shape
    torch.Size([8, 20])
    >>> int((dW != 0).any(dim=1).sum()) <= 2 * len(X)  # only winners and rank-r units move
    True
    """
    units, dW_units, _ = sparse_weight_update(W, X, rule)
    dW = torch.zeros_like(W)
    dW[units] = dW_units
    return dW


def update_(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule, lr: float) -> float:
    """Take one minibatch step in place, ``W ← W + ε·dW / max|dW|`` (Krotov & Hopfield's normalised update).

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, updated in place.
    X : torch.Tensor of shape (B, d)
        Minibatch, one sample per row, with the dtype and device of `W`.
    rule : PlasticityRule
        The rule's p, Δ and r (not validated here).
    lr : float
        Learning rate ε: the largest change of any synapse in this step.

    Returns
    -------
    float
        The batch's share of the energy of eq. 3 under the old W (logged at no extra cost).
    """
    units, dW_units, drive = sparse_weight_update(W, X, rule)
    batch_energy = _energy_terms(W[units], drive, rule.p)
    low, high = torch.aminmax(dW_units)
    W.index_add_(0, units, dW_units, alpha=lr / max(-float(low), float(high), 1e-30))
    return batch_energy


def synapse_norms(W: torch.Tensor, p: float) -> torch.Tensor:
    """Return the p-norm of each unit's synapses, ``(Σ_i |W_μi|^p)^(1/p)``.

    Under the rule the synapses converge to the unit p-sphere, so the norms converge towards 1;
    `train_synapses` stops when their mean falls below the schedule's tolerance.

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    p : float
        Lebesgue exponent of the norm.

    Returns
    -------
    torch.Tensor of shape (m,)
        The norm of each row of `W`, with its dtype and device.

    Examples
    --------
    Synapses drawn from N(0, 1) start with norms near √d; learning brings them towards 1:

    >>> import torch
    >>> from flymodel.learning import PlasticityRule, TrainingSchedule, synapse_norms, train_synapses
    >>> X = torch.randn(300, 20, generator=torch.Generator().manual_seed(0))
    >>> W0 = torch.randn(8, 20, generator=torch.Generator().manual_seed(1))
    >>> synapse_norms(W0, p=2.0).shape
    torch.Size([8])
    >>> round(float(synapse_norms(W0, p=2.0).mean()), 1)
    4.7
    >>> schedule = TrainingSchedule(lr=0.1, max_epochs=2, batch_size=10, tol=0)
    >>> W, log = train_synapses(X, n_units=8, rule=PlasticityRule(p=2.0), schedule=schedule)
    >>> bool(synapse_norms(W, p=2.0).mean() < synapse_norms(W0, p=2.0).mean())
    True
    """
    return W.abs().pow(p).sum(dim=1).pow(1.0 / p)


def _energy_terms(W_units: torch.Tensor, drive: torch.Tensor, p: float) -> float:
    """Eq. 3 summed over the batch, −Σ_μ (Σ_b g_bμ ⟨W_μ, x_b⟩_μ) / ⟨W_μ, W_μ⟩_μ^((p−1)/p), over the units with g ≠ 0."""
    return float(-(drive / W_units.abs().pow(p).sum(dim=1).pow((p - 1) / p)).sum())


def energy(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> float:
    """Return the energy of eq. 3 over the samples X.

    ``E = −Σ_A Σ_μ g[Rank] ⟨W_μ, x_A⟩_μ / ⟨W_μ, W_μ⟩_μ^((p−1)/p)``, summed over the samples x_A and the units
    with g ≠ 0 for them (the winner, and the unit of rank r with g = −Δ). It is non-increasing under the
    dynamics when Δ = 0.

    Parameters
    ----------
    W : torch.Tensor of shape (m, d)
        Synapses, one row per unit.
    X : torch.Tensor of shape (n, d)
        Samples, one per row, with the dtype and device of `W`.
    rule : PlasticityRule
        The rule's p, Δ and r (not validated here).

    Returns
    -------
    float
        The energy E; lower is better.

    Examples
    --------
    Learning lowers the energy below that of random synapses:

    >>> import torch
    >>> from flymodel.learning import PlasticityRule, TrainingSchedule, energy, train_synapses
    >>> X = torch.randn(300, 20, generator=torch.Generator().manual_seed(0))
    >>> rule = PlasticityRule(p=2.0)  # Δ = 0
    >>> W0 = torch.randn(8, 20, generator=torch.Generator().manual_seed(1))
    >>> schedule = TrainingSchedule(lr=0.1, max_epochs=2, batch_size=10, tol=0)
    >>> W, log = train_synapses(X, n_units=8, rule=rule, schedule=schedule)
    >>> bool(energy(W, X, rule) < energy(W0, X, rule))
    True
    """
    units, _, drive = sparse_weight_update(W, X, rule)
    return _energy_terms(W[units], drive, rule.p)


@runtime_checkable
class RowSource(Protocol):
    """Training samples read by minibatch, the protocol that `train_synapses` accepts besides a tensor.

    A RowSource lets training read features kept on disk (or built on demand) that would not fit in memory.
    Any object with these members is one (the protocol is checked at run time by ``isinstance``).

    Attributes
    ----------
    shape : tuple of int
        ``(n, d)``: the number of samples and of features.

    Examples
    --------
    Rows built on demand, here the rows of a fixed random matrix, train exactly as the tensor would:

    >>> import torch
    >>> from flymodel.learning import PlasticityRule, RowSource, TrainingSchedule, train_synapses
    >>> class GeneratedRows:
    ...     shape = (200, 10)
    ...     def take(self, indices):
    ...         rows = torch.randn(200, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ...         return rows[indices]
    ...     def fingerprint(self):
    ...         return ["generated", 200, 10, 0]
    >>> isinstance(GeneratedRows(), RowSource)
    True
    >>> schedule = TrainingSchedule(lr=0.1, max_epochs=1, batch_size=20, tol=0)
    >>> W, log = train_synapses(GeneratedRows(), n_units=4, rule=PlasticityRule(), schedule=schedule)
    >>> tuple(W.shape), len(log)
    ((4, 10), 1)
    """

    shape: tuple[int, ...]

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """Return the rows at `indices`, on the training device.

        Parameters
        ----------
        indices : torch.Tensor of shape (B,), dtype int64
            Row numbers, on the CPU.

        Returns
        -------
        torch.Tensor of shape (B, d)
            The rows, in the order of `indices`; their device and dtype are the training's.
        """
        ...

    def fingerprint(self) -> list[Any]:
        """Return a JSON-ready fingerprint of the rows, which changes whenever the rows do.

        Returns
        -------
        list
            Stands for the data in a checkpoint: a checkpoint written for another fingerprint is refused.
        """
        ...


class TensorRows:
    """A tensor as a RowSource: its rows by index, fingerprinted by shape and sum.

    Parameters
    ----------
    X : torch.Tensor of shape (n, d)
        The samples, kept as given (same device and dtype, no copy).

    Attributes
    ----------
    X : torch.Tensor of shape (n, d)
        The samples.
    shape : tuple of int
        ``tuple(X.shape)``.
    """

    def __init__(self, X: torch.Tensor):
        self.X = X
        self.shape = tuple(X.shape)

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        """Return the rows at `indices`, on the device of `X`.

        Parameters
        ----------
        indices : torch.Tensor of shape (B,), dtype int64
            Row numbers, on any device.

        Returns
        -------
        torch.Tensor of shape (B, d)
            ``X[indices]``.
        """
        return self.X[indices.to(self.X.device)]

    def fingerprint(self) -> list[Any]:
        """Return the shape and the sum of `X` (in float64) as a JSON-ready list.

        Returns
        -------
        list
            ``[[n, d], sum]``.
        """
        return [list(self.shape), float(self.X.double().sum())]


@dataclass(frozen=True)
class TrainingSchedule:
    """Appendix D's training schedule: a linearly decaying learning rate, minibatches and an early stop.

    Epoch t (counted from 0) uses the learning rate ``ε_t = ε0 (1 − t/T_max)``, visits the samples in minibatches
    of `batch_size`, and training stops after the first epoch whose mean synapse norm is below `tol`.
    The fields are the constructor's arguments.

    Attributes
    ----------
    lr : float, default 2e-2
        Initial learning rate ε0 > 0: the largest change of any synapse in one step of the first epoch.
    max_epochs : int, default 100
        Number of epochs T_max ≥ 1, the most that are run.
    batch_size : int, default 100
        Samples per minibatch, 1 ≤ batch_size ≤ n (the last minibatch of an epoch may be smaller).
    tol : float, default 1.06
        Stop when the mean synapse p-norm falls below it (≥ 0). ``tol = 0`` disables the early stop: training
        runs all max_epochs epochs.

    See Also
    --------
    PlasticityRule : The learning rule.
    train_synapses : Learn synapses with this schedule.

    Examples
    --------
    With the default tolerance, training stops once the synapses are close to the unit sphere:

    >>> import torch
    >>> from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
    >>> X = torch.randn(300, 20, generator=torch.Generator().manual_seed(0))
    >>> schedule = TrainingSchedule(lr=0.1, max_epochs=20, batch_size=10)  # tol=1.06
    >>> W, log = train_synapses(X, n_units=8, rule=PlasticityRule(delta=0.4), schedule=schedule)
    >>> len(log) < schedule.max_epochs, log[-1]["mean_norm"] < schedule.tol
    (True, True)
    >>> round(log[1]["lr"], 3)  # ε_1 = ε0 (1 − 1/20)
    0.095
    >>> schedule.validate(n_samples=5)
    Traceback (most recent call last):
    ...
    ValueError: batch_size=10 is too large; expected batch_size <= 5
    """

    lr: float = 2e-2
    max_epochs: int = 100
    batch_size: int = 100
    tol: float = 1.06

    def validate(self, n_samples: int) -> TrainingSchedule:
        """Check the schedule against the number of samples and return it unchanged.

        Parameters
        ----------
        n_samples : int
            Number of training samples n; `batch_size` must not exceed it.

        Returns
        -------
        TrainingSchedule
            This schedule, so that the call can be chained.

        Raises
        ------
        ValueError
            Naming the first parameter outside its range: ``lr <= 0``, ``max_epochs < 1``, `batch_size` outside
            [1, n_samples] or ``tol < 0``.
        TypeError
            If `max_epochs` or `batch_size` is not an integer.
        """
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr={self.lr} must be > 0 (the initial learning rate ε0)")
        check_int(self.max_epochs, "max_epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1, maximum=n_samples)
        if not (isinstance(self.tol, (int, float)) and self.tol >= 0):
            raise ValueError(f"tol={self.tol} must be >= 0 (stop when the mean synapse norm falls below it; 0 runs all max_epochs)")
        return self


def train_synapses(
    X: torch.Tensor | RowSource,
    n_units: int,
    rule: PlasticityRule,
    schedule: TrainingSchedule,
    seed: int = 0,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    desc: str = "learning synapses",
) -> tuple[torch.Tensor, list[dict[str, float]]]:
    """Learn synapses W (n_units × d) from X by eq. 1 with the schedule; return W and a per-epoch log.

    Weights start from N(0, 1) (Appendix D), drawn on the CPU from `seed`; each epoch visits the samples in a
    seeded random order. With `checkpoint`, the state is written (atomically) after every epoch, and a run
    started with the same arguments resumes from it and ends with the same W as an uninterrupted run.

    Parameters
    ----------
    X : torch.Tensor of shape (n, d) or RowSource
        Training samples. A RowSource's minibatches are read on demand (e.g. features kept on disk that would
        not fit in memory), and its fingerprint stands for its data in the checkpoint. W takes the device and
        dtype of the rows.
    n_units : int
        Number of units m, the rows of W.
    rule : PlasticityRule
        The learning rule (p, Δ, r); validated against `n_units`.
    schedule : TrainingSchedule
        Learning rate, epochs, minibatch size and early stop; validated against the number of samples.
    seed : int, default 0
        Seed of the initial weights and of the order in which each epoch visits the samples.
    progress : bool, default False
        Show a progress bar (tqdm) with the learning rate, mean norm and energy of each epoch.
    checkpoint : str or os.PathLike or None, default None
        File to write the training state to after every epoch and to resume from if it exists; None keeps
        nothing.
    desc : str, default "learning synapses"
        Label of the progress bar.

    Returns
    -------
    W : torch.Tensor of shape (n_units, d)
        The learned synapses, on the device and with the dtype of the rows of X.
    log : list of dict
        One record per epoch run: ``epoch`` (from 1), ``lr`` (ε_t), ``mean_norm`` (the mean synapse p-norm
        after the epoch), ``energy`` (the energy of eq. 3 summed over the epoch's minibatches, each under the
        synapses before its step) and ``seconds``.

    Raises
    ------
    ValueError
        If `n_units` < 1, a parameter of `rule` or `schedule` is out of range, or `checkpoint` exists but was
        written for other data or settings.
    TypeError
        If `X` is neither a tensor nor a RowSource, or `n_units`, `rule.rank`, `schedule.max_epochs` or
        `schedule.batch_size` is not an integer.

    See Also
    --------
    synapse_norms : The norms that decide the early stop.
    energy : The energy of eq. 3.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import torch
    >>> from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
    >>> X = torch.randn(300, 20, generator=torch.Generator().manual_seed(0))
    >>> rule = PlasticityRule(p=2.0, delta=0.4, rank=2)
    >>> schedule = TrainingSchedule(lr=0.1, max_epochs=2, batch_size=10, tol=0)
    >>> W, log = train_synapses(X, n_units=8, rule=rule, schedule=schedule, seed=0)
    >>> W.shape, W.dtype
    (torch.Size([8, 20]), torch.float32)
    >>> [(e["epoch"], e["lr"]) for e in log]
    [(1, 0.1), (2, 0.05)]
    >>> log[-1]["mean_norm"] < log[0]["mean_norm"]  # the norms fall from about √20 towards 1
    True

    The same seed gives the same synapses, and a finished checkpoint is resumed instead of retrained:

    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "synapses.pt"
    ...     W1, _ = train_synapses(X, 8, rule, schedule, seed=0, checkpoint=path)
    ...     W2, log2 = train_synapses(X, 8, rule, schedule, seed=0, checkpoint=path)
    >>> torch.equal(W1, W), torch.equal(W2, W), len(log2)
    (True, True, 2)
    """
    if not (isinstance(X, torch.Tensor) or isinstance(X, RowSource)):
        raise TypeError(f"X must be a torch.Tensor of shape (n, d) or a RowSource; got {type(X).__name__} "
                        "(convert an array with torch.as_tensor)")
    check_int(n_units, "n_units", minimum=1)
    rule.validate(n_units)
    schedule.validate(X.shape[0])
    gen = seeded_generator(seed)
    source = X if isinstance(X, RowSource) else TensorRows(X)
    fingerprint: dict[str, Any] = {"n_units": n_units, "rule": asdict(rule), "schedule": asdict(schedule),
                                   "seed": int(seed), "data": source.fingerprint()}
    like = source.take(torch.arange(min(schedule.batch_size, X.shape[0])))
    W = gaussian_wiring(n_units, X.shape[1], gen).to(device=like.device, dtype=like.dtype)
    log: list[dict[str, float]] = []
    if checkpoint is not None and Path(checkpoint).exists():
        W, log = _resume(checkpoint, fingerprint, gen, like)
    done = bool(log) and log[-1]["mean_norm"] < schedule.tol
    bar = tqdm(total=schedule.max_epochs, initial=len(log), desc=desc, unit="epoch", disable=not progress)
    for epoch in range(len(log), 0 if done else schedule.max_epochs):
        started = time.perf_counter()
        lr = schedule.lr * (1 - epoch / schedule.max_epochs)  # linear decay (Appendix D)
        order = torch.randperm(X.shape[0], generator=gen)
        total_energy = 0.0
        for start in range(0, X.shape[0], schedule.batch_size):
            total_energy += update_(W, source.take(order[start:start + schedule.batch_size]), rule, lr)
        mean_norm = float(synapse_norms(W, rule.p).mean())
        log.append({"epoch": epoch + 1, "lr": lr, "mean_norm": mean_norm, "energy": total_energy,
                    "seconds": time.perf_counter() - started})
        bar.set_postfix(lr=f"{lr:.4f}", norm=f"{mean_norm:.3f}", energy=f"{total_energy:.4g}")
        bar.update()
        if checkpoint is not None:
            _save_checkpoint(checkpoint, W, log, gen, fingerprint)
        if mean_norm < schedule.tol:
            break
    bar.close()
    return W, log


def _save_checkpoint(path: str | os.PathLike[str], W: torch.Tensor, log: list[dict[str, float]],
                     gen: torch.Generator, fingerprint: dict[str, Any]) -> None:
    """Write the training state atomically (an interrupted write never leaves a broken checkpoint)."""
    with atomic_path(path) as tmp:
        torch.save({"W": W.cpu(), "log": log, "generator": gen.get_state(), "fingerprint": fingerprint}, tmp)


def _resume(path: str | os.PathLike[str], fingerprint: dict[str, Any], gen: torch.Generator,
            like: torch.Tensor) -> tuple[torch.Tensor, list[dict[str, float]]]:
    """Load a checkpoint written for the same data and settings, restoring the shuffling generator; W gets like's device and dtype."""
    state = torch.load(path, weights_only=True)
    if state["fingerprint"] != fingerprint:
        raise ValueError(f"checkpoint {path} was written for other data or settings ({state['fingerprint']}); "
                         f"delete it or pass another checkpoint path")
    gen.set_state(state["generator"])
    return state["W"].to(device=like.device, dtype=like.dtype), state["log"]
