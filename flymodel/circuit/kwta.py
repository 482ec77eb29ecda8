"""k-winner-take-all: the exact top-k that APL feedback inhibition implements in its high-gain limit."""

from __future__ import annotations

import torch


def kwta(activations: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """Boolean mask of the k largest activations per row (eq. 6 of Ryali et al. 2020); ties go to the lower index.

    torch.topk leaves the order of equal values unspecified. Rows whose k-th and (k+1)-th largest values
    differ have one answer, taken from topk; in the other rows every unit above the k-th value wins and
    units equal to it win in index order until k have won. Exact, deterministic, the same on every device.
    k must lie in 1..n_units (k = n_units: every unit wins); any other k raises a ValueError: k < 1 would give
    empty codes and k > n_units cannot have k winners, mistakes that an all-False or all-True mask would hide.
    A 1-d tensor k gives each row its own k (0..n_units).
    """
    n_units = activations.shape[1]
    if isinstance(k, torch.Tensor):
        if k.ndim == 1:
            return _kwta_per_row(activations, k)
        k = int(k.item())
    if not 1 <= k <= n_units:
        raise ValueError(f"k={k} is outside the valid range; expected 1 <= k <= {n_units} (the units per row)")
    if k == n_units:
        return torch.ones_like(activations, dtype=torch.bool)
    values, indices = torch.topk(activations, k + 1, dim=1)
    mask = torch.zeros_like(activations, dtype=torch.bool).scatter_(1, indices[:, :k], True)
    tied = torch.nonzero(values[:, k - 1] == values[:, k]).squeeze(1)
    if tied.numel():
        rows = activations[tied]
        threshold = values[tied, k - 1 : k]
        above = rows > threshold
        at = rows == threshold
        room = k - above.sum(dim=1, keepdim=True)
        mask[tied] = above | (at & (torch.cumsum(at, dim=1) <= room))
    return mask


def _kwta_per_row(activations: torch.Tensor, ks: torch.Tensor) -> torch.Tensor:
    """k-WTA with its own k per row, each in 0..n_units (a row may have no winner: k then counts another code's
    active units, as when the rate model's top-k is matched to the KCs that fired); ties to the lower index."""
    n, n_units = activations.shape
    if ks.shape != (n,):
        raise ValueError(f"k has shape {tuple(ks.shape)}; expected one k per row, ({n},)")
    if ks.dtype.is_floating_point or bool(((ks < 0) | (ks > n_units)).any()):
        raise ValueError(f"k holds {ks.tolist()[:8]}…; expected integers in 0..{n_units} (the units per row)")
    order = torch.sort(activations, dim=1, descending=True, stable=True).indices  # equal values keep index order
    ranks = torch.empty_like(order).scatter_(1, order, torch.arange(n_units, device=order.device).expand(n, n_units))
    return ranks < ks.to(activations.device)[:, None]
