"""Measures of KC codes: Treves–Rolls sparseness, code correlation, discrimination (d′, held-out accuracy) and
dimension.

Responses are arrays of non-negative KC activities (rates in Hz or spike counts): one row per stimulus
(trial-averaged) or (n_stimuli, n_trials, n_kc) single trials. A vector with no variance (e.g. a trial in which no KC
fired) has no Pearson correlation; the measures below say how they treat it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold


def treves_rolls(responses: Any, axis: int = -1) -> np.ndarray:
    """Vinje–Gallant / Treves–Rolls sparseness S = (1 − (Σr/N)² / (Σr²/N)) / (1 − 1/N) of each vector along axis:
    0 for a uniform response, 1 for a single active element; NaN for an all-zero vector (undefined).

    Vinje & Gallant 2000 (Science 287:1273), eq. in Methods; Willmore & Tolhurst 2001 for the two uses (population
    sparseness over cells per stimulus, lifetime sparseness over stimuli per cell).
    """
    r = np.asarray(responses, dtype=float)
    n = r.shape[axis]
    if n < 2:
        raise ValueError(f"responses has {n} elements along axis {axis}; sparseness needs at least 2")
    if np.any(r < 0):
        raise ValueError("responses holds negative values; sparseness is defined for non-negative activities")
    mean_sq = np.mean(r ** 2, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean_sq > 0, (1 - np.mean(r, axis=axis) ** 2 / mean_sq) / (1 - 1 / n), np.nan)


def correlation_matrix(a: Any, b: Any) -> np.ndarray:
    """Pearson r between every row of a and every row of b; a constant row (no variance) gets r = 0 with everything."""
    za, zb = _standardise(a), _standardise(b)
    return za @ zb.T / za.shape[1]


def _standardise(x: Any) -> np.ndarray:
    """Rows z-scored (population sd); constant rows become zeros."""
    x = np.asarray(x, dtype=float)
    centred = x - x.mean(axis=1, keepdims=True)
    sd = centred.std(axis=1, keepdims=True)
    return np.divide(centred, sd, out=np.zeros_like(centred), where=sd > 0)


def mean_code_correlation(codes: Any) -> tuple[float, int]:
    """Mean Pearson r over all pairs of odour codes (rows), and how many pairs entered (rows with no variance are
    left out, their r being undefined)."""
    x = np.asarray(codes, dtype=float)
    keep = x.std(axis=1) > 0
    if keep.sum() < 2:
        return float("nan"), 0
    r = correlation_matrix(x[keep], x[keep])
    upper = r[np.triu_indices(int(keep.sum()), k=1)]
    return float(upper.mean()), int(upper.size)


def d_prime(trials_a: Any, trials_b: Any) -> float:
    """d′ of code distances (1 − Pearson r between single-trial vectors): (mean between-odour distance − mean
    within-odour distance) / sqrt((var_between + var_within) / 2); within pools the trial pairs of both odours."""
    a, b = np.asarray(trials_a, dtype=float), np.asarray(trials_b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"d_prime needs at least 2 trials per odour; got {len(a)} and {len(b)}")
    within = np.concatenate([(1 - correlation_matrix(x, x))[np.triu_indices(len(x), k=1)] for x in (a, b)])
    between = (1 - correlation_matrix(a, b)).ravel()
    difference = between.mean() - within.mean()
    spread = math.sqrt((between.var() + within.var()) / 2)
    if spread == 0:  # every distance equal (e.g. no KC fired in any trial): the odours cannot be told apart
        return 0.0
    return float(difference / spread)


def centroid_accuracy(trials_a: Any, trials_b: Any, n_splits: int, seed: int) -> float:
    """Held-out accuracy of a nearest-centroid readout (assign a trial to the odour whose mean training code it
    correlates best with; a linear readout of z-scored trials), by stratified n_splits-fold cross-validation."""
    x = np.concatenate([np.asarray(trials_a, dtype=float), np.asarray(trials_b, dtype=float)])
    y = np.repeat([0, 1], [len(trials_a), len(trials_b)])
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    correct = 0
    for train, test in folds.split(x, y):
        centroids = np.stack([x[train][y[train] == c].mean(axis=0) for c in (0, 1)])
        guess = np.argmax(correlation_matrix(x[test], centroids), axis=1)  # ties (e.g. a silent trial) go to odour a
        correct += int((guess == y[test]).sum())
    return correct / len(y)


def pair_discrimination(trials: Any, pairs: list[tuple[int, int]], n_splits: int, seed: int) -> dict[str, list[float]]:
    """d′ and held-out nearest-centroid accuracy of each odour pair, from single trials (n_odours, n_trials, n_kc)."""
    x = np.asarray(trials, dtype=float)
    return {"d_prime": [d_prime(x[i], x[j]) for i, j in pairs],
            "accuracy": [centroid_accuracy(x[i], x[j], n_splits, seed) for i, j in pairs]}


def sparseness_measures(mean_responses: Any, responding: Any) -> dict[str, float | int]:
    """Fraction of KCs responding per odour, population and lifetime Treves–Rolls sparseness, and the mean pairwise
    correlation of odour codes, from trial-averaged responses (n_odours, n_kc) and responding flags (…, n_kc)."""
    r = np.asarray(mean_responses, dtype=float)
    flags = np.asarray(responding, dtype=bool)
    population = treves_rolls(r, axis=1)
    cells = flags.reshape(-1, flags.shape[-1]).any(axis=0)  # lifetime: KCs responding to at least one odour
    lifetime = treves_rolls(r[:, cells], axis=0) if cells.any() else np.array([np.nan])
    correlation, n_correlated = mean_code_correlation(r)
    return {"fraction_responding": float(flags.mean()),
            "population_sparseness": _nanmean(population), "population_odours": int(np.isfinite(population).sum()),
            "lifetime_sparseness": _nanmean(lifetime), "lifetime_kcs": int(cells.sum()),
            "mean_correlation": correlation, "correlated_pairs": n_correlated}


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values, NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def dimension(responses: Any) -> float:
    """Participation ratio (Σλ)² / Σλ² of the covariance of responses across stimuli (Litwin-Kumar et al. 2017, Neuron
    93:1153, eq. 2): how many dimensions the (n_stimuli, n_units) population responses spread over, from 1 to n_units.

    Finite samples bias it downwards: the sample covariance of n stimuli has rank at most n − 1, so the estimate can
    never exceed n − 1, and with n not ≫ n_units it falls short of the population value (Litwin-Kumar et al. correct
    for this in their Methods; this function returns the plain sample estimate). NaN when no unit varies.
    """
    r = np.asarray(responses, dtype=float)
    if r.ndim != 2 or r.shape[0] < 2 or r.shape[1] < 1:
        raise ValueError(f"responses has shape {r.shape}; expected (n_stimuli >= 2, n_units >= 1)")
    if not np.isfinite(r).all():
        raise ValueError(f"responses holds {int((~np.isfinite(r)).sum())} NaN or infinite values; expected finite numbers")
    centred = r - r.mean(axis=0)
    # The covariance's eigenvalues are the squared singular values of the centred responses (/ (n − 1)), and both
    # Σλ and Σλ² follow from the Gram matrix of the smaller side without forming the n_units × n_units covariance.
    gram = centred @ centred.T if r.shape[0] <= r.shape[1] else centred.T @ centred
    total, squares = np.trace(gram), np.sum(gram * gram)
    return float(total ** 2 / squares) if squares > 0 else float("nan")
