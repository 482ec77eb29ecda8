"""The Krotov–Hopfield local learning rule (PNAS 2019) that BioHash uses: Hebbian for the winner, anti-Hebbian for rank r.

Notation of Ryali et al. 2020, section 2.1. Synapses W (m × d), input x (d). The p-inner product is
⟨W_μ, x⟩_μ = Σ_i |W_μi|^(p−2) W_μi x_i. For one sample the rule (eq. 1) is

    τ dW_μi/dt = g[Rank(⟨W_μ, x⟩_μ)] · (x_i − ⟨W_μ, x⟩_μ W_μi),   g = 1 (rank 1), −Δ (rank r), 0 otherwise (eq. 2)

and for a minibatch X (B × d) with currents I = ⟨W, X⟩ (B × m) and activations G (B × m) it sums to

    dW = Gᵀ X − diag(Σ_b G_bμ I_bμ) W,      W ← W + ε · dW / max|dW|

(the normalised step of Krotov & Hopfield's reference code). The synapses converge to the unit p-sphere;
training stops when the mean synapse p-norm falls below a tolerance (1.06, Appendix D). With Δ = 0 the
dynamics decrease the energy of eq. 3, E = −Σ_A Σ_μ g[Rank] ⟨W_μ, x_A⟩_μ / ⟨W_μ, W_μ⟩_μ^((p−1)/p).
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


@dataclass(frozen=True)
class PlasticityRule:
    """Parameters of eq. 1–2: Lebesgue exponent p (≥ 1), anti-Hebbian strength Δ (≥ 0) and its rank r (2 ≤ r ≤ m when Δ > 0)."""

    p: float = 2.0
    delta: float = 0.0
    rank: int = 2

    def validate(self, n_units: int) -> PlasticityRule:
        """Raise a ValueError naming the first parameter outside its range (r must also be ≤ m)."""
        if not (isinstance(self.p, (int, float)) and self.p >= 1):
            raise ValueError(f"p={self.p} must be a number >= 1 (the Lebesgue exponent of the synaptic norm)")
        if not (isinstance(self.delta, (int, float)) and self.delta >= 0):
            raise ValueError(f"delta={self.delta} must be >= 0 (the strength of the anti-Hebbian term)")
        check_int(self.rank, "rank", minimum=2, maximum=n_units if self.delta > 0 else None)  # r unused when Δ = 0
        return self


def p_weights(W: torch.Tensor, p: float) -> torch.Tensor:
    """|W|^(p−2)·W = sign(W)|W|^(p−1): the weights as seen by the p-inner product (W itself when p = 2)."""
    return W if p == 2 else torch.sign(W) * W.abs().pow(p - 1)


def currents(W: torch.Tensor, X: torch.Tensor, p: float) -> torch.Tensor:
    """Synaptic currents ⟨W_μ, x⟩_μ for every sample and unit: (B, m)."""
    return X @ p_weights(W, p).T


def sparse_weight_update(W: torch.Tensor, X: torch.Tensor,
                         rule: PlasticityRule) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dW of eq. 1 summed over the minibatch X on the only rows it touches: (units, dW[units], drive).

    dW = Gᵀ X − diag(Σ_b G_bμ I_bμ) W with currents I and activations G = g[Rank(I)] (eq. 2). G has one or two
    non-zeros per sample, so dW is zero except on the units that won (or came r-th) for some sample: at most
    B (or 2B) rows of m. Computing only those rows makes a step cost O(B·d) beyond the currents, not O(m·d).
    drive[j] = Σ_b G_b,units[j] I_b,units[j] is the term that pulls those synapses back to the unit sphere.
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
    """dW of eq. 1 summed over the minibatch X, as a dense (m × d) matrix."""
    units, dW_units, _ = sparse_weight_update(W, X, rule)
    dW = torch.zeros_like(W)
    dW[units] = dW_units
    return dW


def update_(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule, lr: float) -> float:
    """One minibatch step in place, W ← W + ε·dW / max|dW| (Krotov & Hopfield's normalised update).

    Returns the batch's share of the energy of eq. 3 under the old W (logged at no extra cost).
    """
    units, dW_units, drive = sparse_weight_update(W, X, rule)
    batch_energy = _energy_terms(W[units], drive, rule.p)
    low, high = torch.aminmax(dW_units)
    W.index_add_(0, units, dW_units, alpha=lr / max(-float(low), float(high), 1e-30))
    return batch_energy


def synapse_norms(W: torch.Tensor, p: float) -> torch.Tensor:
    """The p-norm of each unit's synapses, (m,); they converge towards 1."""
    return W.abs().pow(p).sum(dim=1).pow(1.0 / p)


def _energy_terms(W_units: torch.Tensor, drive: torch.Tensor, p: float) -> float:
    """Eq. 3 summed over the batch, −Σ_μ (Σ_b g_bμ ⟨W_μ, x_b⟩_μ) / ⟨W_μ, W_μ⟩_μ^((p−1)/p), over the units with g ≠ 0."""
    return float(-(drive / W_units.abs().pow(p).sum(dim=1).pow((p - 1) / p)).sum())


def energy(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> float:
    """The energy of eq. 3 over the samples X (non-increasing under the dynamics when Δ = 0)."""
    units, _, drive = sparse_weight_update(W, X, rule)
    return _energy_terms(W[units], drive, rule.p)


@runtime_checkable
class RowSource(Protocol):
    """Training samples read by minibatch: shape (n, d), take(indices on the CPU) → (len(indices), d) tensor on the
    training device, and a JSON-ready fingerprint that changes whenever the rows do (for checkpoints)."""

    shape: tuple[int, ...]

    def take(self, indices: torch.Tensor) -> torch.Tensor: ...

    def fingerprint(self) -> list[Any]: ...


class TensorRows:
    """A tensor as a RowSource: its rows by index, fingerprinted by shape and sum."""

    def __init__(self, X: torch.Tensor):
        self.X = X
        self.shape = tuple(X.shape)

    def take(self, indices: torch.Tensor) -> torch.Tensor:
        return self.X[indices.to(self.X.device)]

    def fingerprint(self) -> list[Any]:
        return [list(self.shape), float(self.X.double().sum())]


@dataclass(frozen=True)
class TrainingSchedule:
    """Appendix D's schedule: ε_t = ε0 (1 − t/T_max) per epoch t, minibatches of batch_size, stop at mean norm < tol.

    tol = 0 disables the early stop: training runs all max_epochs epochs.
    """

    lr: float = 2e-2
    max_epochs: int = 100
    batch_size: int = 100
    tol: float = 1.06

    def validate(self, n_samples: int) -> TrainingSchedule:
        """Raise a ValueError naming the first parameter outside its range."""
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
    """Learn W (n_units × d) from X by eq. 1 with the schedule; returns W and a per-epoch log.

    Weights start from N(0, 1) (Appendix D), drawn on the CPU from `seed`; each epoch visits the samples in a
    seeded random order. With `checkpoint`, the state is written (atomically) after every epoch, and a run
    started with the same arguments resumes from it and ends with the same W as an uninterrupted run.

    X is a tensor or a RowSource, whose minibatches are read on demand (e.g. features kept on disk that would
    not fit in memory); a RowSource's fingerprint stands for its data in the checkpoint. `desc` labels the
    progress bar.
    """
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
