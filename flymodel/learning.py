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

from dataclasses import dataclass

import torch

from flymodel.validation import check_int


@dataclass(frozen=True)
class PlasticityRule:
    """Parameters of eq. 1–2: Lebesgue exponent p (≥ 1), anti-Hebbian strength Δ (≥ 0) and its rank r (≥ 2)."""

    p: float = 2.0
    delta: float = 0.0
    rank: int = 2

    def validate(self, n_units: int) -> PlasticityRule:
        """Raise a ValueError naming the first parameter outside its range (r must also be ≤ m)."""
        if not (isinstance(self.p, (int, float)) and self.p >= 1):
            raise ValueError(f"p={self.p} must be a number >= 1 (the Lebesgue exponent of the synaptic norm)")
        if not (isinstance(self.delta, (int, float)) and self.delta >= 0):
            raise ValueError(f"delta={self.delta} must be >= 0 (the strength of the anti-Hebbian term)")
        check_int(self.rank, "rank", minimum=2, maximum=n_units)
        return self


def p_weights(W: torch.Tensor, p: float) -> torch.Tensor:
    """|W|^(p−2)·W = sign(W)|W|^(p−1): the weights as seen by the p-inner product (W itself when p = 2)."""
    return W if p == 2 else torch.sign(W) * W.abs().pow(p - 1)


def currents(W: torch.Tensor, X: torch.Tensor, p: float) -> torch.Tensor:
    """Synaptic currents ⟨W_μ, x⟩_μ for every sample and unit: (B, m)."""
    return X @ p_weights(W, p).T


def weight_update(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """dW of eq. 1 summed over the minibatch X, Gᵀ X − diag(Σ_b G_bμ I_bμ) W, with the currents I and activations G.

    G = g[Rank(I)] of eq. 2 has one or two non-zeros per row, so Gᵀ X is an index_add of the samples onto
    their winners (and rank-r units), not a dense product.
    """
    I = currents(W, X, rule.p)
    top = torch.topk(I, rule.rank, dim=1).indices
    rows = torch.arange(I.shape[0], device=I.device)
    G = torch.zeros_like(I)
    G[rows, top[:, 0]] = 1.0
    dW = torch.zeros_like(W).index_add_(0, top[:, 0], X)
    if rule.delta > 0:
        G[rows, top[:, rule.rank - 1]] = -rule.delta
        dW.index_add_(0, top[:, rule.rank - 1], X, alpha=-rule.delta)
    dW -= (G * I).sum(dim=0)[:, None] * W
    return dW, I, G


def step(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule, lr: float) -> tuple[torch.Tensor, float]:
    """One minibatch step W + ε·dW / max|dW| (Krotov & Hopfield's normalised update).

    Returns the new W and the batch's share of the energy of eq. 3 under the old W (logged at no extra cost).
    """
    dW, I, G = weight_update(W, X, rule)
    batch_energy = _energy_terms(W, I, G, rule.p)
    return W + lr * dW / dW.abs().max().clamp_min(1e-30), batch_energy


def synapse_norms(W: torch.Tensor, p: float) -> torch.Tensor:
    """The p-norm of each unit's synapses, (m,); they converge towards 1."""
    return W.abs().pow(p).sum(dim=1).pow(1.0 / p)


def _energy_terms(W: torch.Tensor, I: torch.Tensor, G: torch.Tensor, p: float) -> float:
    """−Σ G·I / ⟨W_μ, W_μ⟩_μ^((p−1)/p) of eq. 3 for given currents and activations."""
    denom = W.abs().pow(p).sum(dim=1).pow((p - 1) / p)
    return float(-(G * I / denom).sum())


def energy(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> float:
    """The energy of eq. 3 over the samples X (non-increasing under the dynamics when Δ = 0)."""
    _, I, G = weight_update(W, X, rule)
    return _energy_terms(W, I, G, rule.p)
