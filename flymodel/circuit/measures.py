"""Measures of KC codes: Treves–Rolls sparseness, code correlation, discrimination (d′, held-out accuracy), dimension.

Responses are arrays of non-negative KC activities (rates in Hz or spike counts): one row per stimulus
(trial-averaged) or (n_stimuli, n_trials, n_kc) single trials. A vector with no variance (e.g. a trial in which no KC
fired) has no Pearson correlation; the measures below say how they treat it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

__all__ = ["treves_rolls", "correlation_matrix", "mean_code_correlation", "d_prime", "centroid_accuracy",
           "pair_discrimination", "sparseness_measures", "dimension"]


def treves_rolls(responses: Any, axis: int = -1) -> np.ndarray:
    """Vinje–Gallant / Treves–Rolls sparseness of each vector along an axis, from 0 (uniform) to 1 (one active).

    S = (1 − (Σr/N)² / (Σr²/N)) / (1 − 1/N) of each vector along axis: 0 for a uniform response, 1 for a single
    active element; NaN for an all-zero vector (undefined).

    Parameters
    ----------
    responses : array-like
        Non-negative activities (rates or spike counts), e.g. (n_stimuli, n_kc).
    axis : int, default -1
        The axis of the N elements of each vector: the KCs (population sparseness per stimulus) or the stimuli
        (lifetime sparseness per KC).

    Returns
    -------
    ndarray
        S per vector: the shape of ``responses`` without ``axis``.

    Raises
    ------
    ValueError
        If ``axis`` has fewer than 2 elements, or a response is negative.

    Notes
    -----
    Vinje & Gallant 2000 (Science 287:1273), eq. in Methods; Willmore & Tolhurst 2001 for the two uses (population
    sparseness over cells per stimulus, lifetime sparseness over stimuli per cell).

    Examples
    --------
    >>> from flymodel.circuit.measures import treves_rolls
    >>> treves_rolls([[1, 1, 1, 1], [4, 0, 0, 0], [2, 2, 0, 0], [0, 0, 0, 0]])
    array([0.        , 1.        , 0.66666667,        nan])
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
    """Pearson r between every row of a and every row of b; a constant row (no variance) gets r = 0 with everything.

    Parameters
    ----------
    a : array-like of shape (n_a, n_units)
        First set of vectors.
    b : array-like of shape (n_b, n_units)
        Second set of vectors, with as many units as ``a``.

    Returns
    -------
    ndarray of shape (n_a, n_b)
        Pearson r of every pair of rows.

    Examples
    --------
    >>> from flymodel.circuit.measures import correlation_matrix
    >>> correlation_matrix([[1, 2, 3], [3, 2, 1]], [[2, 4, 6], [5, 5, 5]])
    array([[ 1.,  0.],
           [-1.,  0.]])
    """
    za, zb = _standardise(a), _standardise(b)
    return za @ zb.T / za.shape[1]


def _standardise(x: Any) -> np.ndarray:
    """Rows z-scored (population sd); constant rows become zeros."""
    x = np.asarray(x, dtype=float)
    centred = x - x.mean(axis=1, keepdims=True)
    sd = centred.std(axis=1, keepdims=True)
    return np.divide(centred, sd, out=np.zeros_like(centred), where=sd > 0)


def mean_code_correlation(codes: Any) -> tuple[float, int]:
    """Mean Pearson r over all pairs of odour codes (rows), and how many pairs entered.

    Rows with no variance are left out, their r being undefined.

    Parameters
    ----------
    codes : array-like of shape (n_odours, n_kc)
        One code (activities or responding flags) per odour.

    Returns
    -------
    mean_r : float
        Mean r over the pairs of rows with variance; NaN if fewer than 2 rows have variance.
    n_pairs : int
        Number of pairs averaged.

    Examples
    --------
    The silent fourth code is left out of the 3 pairs of the others:

    >>> from flymodel.circuit.measures import mean_code_correlation
    >>> r, pairs = mean_code_correlation([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 0]])
    >>> round(r, 3), pairs
    (-0.333, 3)
    """
    x = np.asarray(codes, dtype=float)
    keep = x.std(axis=1) > 0
    if keep.sum() < 2:
        return float("nan"), 0
    r = correlation_matrix(x[keep], x[keep])
    upper = r[np.triu_indices(int(keep.sum()), k=1)]
    return float(upper.mean()), int(upper.size)


def d_prime(trials_a: Any, trials_b: Any) -> float:
    """Discriminability d′ of two odours from their code distances (1 − Pearson r between single trials).

    d′ = (mean between-odour distance − mean within-odour distance) / sqrt((var_between + var_within) / 2); within
    pools the trial pairs of both odours. 0 when every distance is equal (e.g. no KC fired in any trial).

    Parameters
    ----------
    trials_a : array-like of shape (n_trials_a, n_kc)
        Single-trial codes of odour a.
    trials_b : array-like of shape (n_trials_b, n_kc)
        Single-trial codes of odour b.

    Returns
    -------
    float
        The d′: large when trials of one odour are closer to each other than to the other odour's trials.

    Raises
    ------
    ValueError
        If an odour has fewer than 2 trials.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.measures import d_prime
    >>> rng = np.random.default_rng(0)
    >>> means = rng.random((2, 50))
    >>> trials = np.maximum(means[:, None, :] + 0.3 * rng.standard_normal((2, 8, 50)), 0)
    >>> round(d_prime(trials[0], trials[1]), 2)
    4.75
    """
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
    """Held-out accuracy of a nearest-centroid readout of two odours, by stratified n_splits-fold cross-validation.

    A trial is assigned to the odour whose mean training code it correlates best with (a linear readout of
    z-scored trials); ties, e.g. a silent trial, go to odour a.

    Parameters
    ----------
    trials_a : array-like of shape (n_trials_a, n_kc)
        Single-trial codes of odour a.
    trials_b : array-like of shape (n_trials_b, n_kc)
        Single-trial codes of odour b.
    n_splits : int
        Number of folds, at least 2 and at most the number of trials of either odour.
    seed : int
        Seed of the shuffle before the folds are formed.

    Returns
    -------
    float
        Fraction of trials assigned to their own odour when held out: 0.5 is chance, 1.0 perfect.

    Raises
    ------
    ValueError
        If ``n_splits`` is below 2 or larger than an odour's number of trials (from scikit-learn).

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.measures import centroid_accuracy
    >>> rng = np.random.default_rng(0)
    >>> means = rng.random((2, 50))
    >>> trials = np.maximum(means[:, None, :] + 0.3 * rng.standard_normal((2, 8, 50)), 0)
    >>> centroid_accuracy(trials[0], trials[1], n_splits=4, seed=0)
    1.0
    """
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
    """Discriminability d′ and held-out nearest-centroid accuracy of each odour pair, from single trials.

    Parameters
    ----------
    trials : array-like of shape (n_odours, n_trials, n_kc)
        Single-trial codes of every odour.
    pairs : list of tuple of int
        The pairs of odour indices (rows of ``trials``) to compare.
    n_splits : int
        Number of cross-validation folds of ``centroid_accuracy``.
    seed : int
        Seed of the folds.

    Returns
    -------
    dict
        ``"d_prime"`` and ``"accuracy"``: lists of floats, one per pair (``d_prime``, ``centroid_accuracy``).

    Raises
    ------
    ValueError
        If an odour has fewer than 2 trials, or ``n_splits`` does not fit its trials.

    Examples
    --------
    Odours 0 and 1 have different mean codes, odour 2 repeats odour 0:

    >>> import numpy as np
    >>> from flymodel.circuit.measures import pair_discrimination
    >>> rng = np.random.default_rng(0)
    >>> means = rng.random((2, 50))[[0, 1, 0]]
    >>> trials = np.maximum(means[:, None, :] + 0.3 * rng.standard_normal((3, 8, 50)), 0)
    >>> scores = pair_discrimination(trials, [(0, 1), (0, 2)], n_splits=4, seed=0)
    >>> [round(d, 1) for d in scores["d_prime"]], scores["accuracy"]
    ([4.8, -0.1], [1.0, 0.5])
    """
    x = np.asarray(trials, dtype=float)
    return {"d_prime": [d_prime(x[i], x[j]) for i, j in pairs],
            "accuracy": [centroid_accuracy(x[i], x[j], n_splits, seed) for i, j in pairs]}


def sparseness_measures(mean_responses: Any, responding: Any) -> dict[str, float | int]:
    """Fraction of KCs responding, population and lifetime sparseness, and the mean correlation of odour codes.

    From trial-averaged responses (n_odours, n_kc) and responding flags (…, n_kc). Population sparseness is the
    Treves–Rolls S over the KCs per odour; lifetime sparseness is S over the odours per KC, for the KCs that respond
    to at least one odour. Odours or KCs without any activity (S undefined) are left out of the means.

    Parameters
    ----------
    mean_responses : array-like of shape (n_odours, n_kc)
        Trial-averaged activities (rates or spike counts).
    responding : array-like of shape (..., n_kc), dtype bool
        Which KCs responded, per odour (and trial).

    Returns
    -------
    dict
        ``fraction_responding`` (float, the mean of ``responding``), ``population_sparseness`` (float) and the
        number of odours it averages, ``population_odours`` (int), ``lifetime_sparseness`` (float) and
        ``lifetime_kcs`` (int), ``mean_correlation`` (float) and ``correlated_pairs`` (int, from
        ``mean_code_correlation``). A mean over nothing is NaN.

    Raises
    ------
    ValueError
        If a response is negative, or there are fewer than 2 KCs, or fewer than 2 odours while a KC responds.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.measures import sparseness_measures
    >>> rng = np.random.default_rng(0)
    >>> responses = rng.exponential(10.0, (6, 20)) * (rng.random((6, 20)) < 0.2)
    >>> measures = sparseness_measures(responses, responses > 0)
    >>> {key: round(value, 3) for key, value in measures.items()}
    {'fraction_responding': 0.217, 'population_sparseness': 0.897, 'population_odours': 6,
     'lifetime_sparseness': 0.931, 'lifetime_kcs': 15, 'mean_correlation': -0.018, 'correlated_pairs': 15}
    """
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
    """Participation ratio (Σλ)² / Σλ² of the covariance of responses across stimuli.

    Litwin-Kumar et al. 2017, Neuron 93:1153, eq. 2: how many dimensions the (n_stimuli, n_units) population
    responses spread over, from 1 to n_units. NaN when no unit varies.

    Parameters
    ----------
    responses : array-like of shape (n_stimuli, n_units)
        Population responses, one row per stimulus; at least 2 stimuli.

    Returns
    -------
    float
        The participation ratio of the sample covariance's eigenvalues λ.

    Raises
    ------
    ValueError
        If ``responses`` is not 2-d with at least 2 rows and 1 column, or holds NaN or infinite values.

    Notes
    -----
    Finite samples bias it downwards: the sample covariance of n stimuli has rank at most n − 1, so the estimate can
    never exceed n − 1, and with n not ≫ n_units it falls short of the population value (Litwin-Kumar et al. correct
    for this in their Methods; this function returns the plain sample estimate).

    Examples
    --------
    Ten independent units spread over nearly 10 dimensions; ten copies of one unit over 1:

    >>> import numpy as np
    >>> from flymodel.circuit.measures import dimension
    >>> x = np.random.default_rng(0).standard_normal((200, 10))
    >>> round(dimension(x), 2), round(dimension(np.repeat(x[:, :1], 10, axis=1)), 2)
    (9.38, 1.0)
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
