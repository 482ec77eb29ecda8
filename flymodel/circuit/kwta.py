"""Exact k-winner-take-all: the top-k that APL feedback inhibition implements in its high-gain limit."""

from __future__ import annotations

import torch


def kwta(activations: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """Boolean mask of the k largest activations per row (eq. 6 of Ryali et al. 2020); ties go to the lower index.

    Exact, deterministic, the same on every device. k must lie in 1..n_units (k = n_units: every unit wins); any
    other k raises a ValueError: k < 1 would give empty codes and k > n_units cannot have k winners, mistakes that an
    all-False or all-True mask would hide. A 1-d tensor k gives each row its own k (0..n_units).

    Parameters
    ----------
    activations : torch.Tensor of shape (n_rows, n_units)
        The activations of each row's units (e.g. KC depolarisations per stimulus).
    k : int or torch.Tensor
        Winners per row: an int (or 0-d tensor) in 1..n_units for every row, or an integer tensor of shape
        (n_rows,) with one k in 0..n_units per row.

    Returns
    -------
    torch.Tensor of shape (n_rows, n_units), dtype torch.bool
        True for the k winners of each row, on the device of ``activations``.

    Raises
    ------
    ValueError
        If an int k is outside 1..n_units, or a per-row k has the wrong shape, a floating-point dtype or a value
        outside 0..n_units.

    Notes
    -----
    ``torch.topk`` leaves the order of equal values unspecified. Rows whose k-th and (k+1)-th largest values
    differ have one answer, taken from topk; in the other rows every unit above the k-th value wins and
    units equal to it win in index order until k have won.

    Examples
    --------
    >>> import torch
    >>> from flymodel.circuit import kwta
    >>> x = torch.tensor([[0.1, 0.9, 0.5, 0.7], [3.0, 1.0, 2.0, 0.0]])
    >>> kwta(x, 2)
    tensor([[False,  True, False,  True],
            [ True, False,  True, False]])

    Ties go to the lower index, and a tensor k gives each row its own number of winners:

    >>> kwta(torch.tensor([[1.0, 1.0, 1.0, 0.0]]), 2)
    tensor([[ True,  True, False, False]])
    >>> kwta(x, torch.tensor([1, 3])).sum(dim=1)
    tensor([1, 3])
    >>> kwta(x, 0)
    Traceback (most recent call last):
    ...
    ValueError: k=0 is outside the valid range; expected 1 <= k <= 4 (the units per row)
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
