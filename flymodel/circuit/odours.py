"""Odour-discrimination stimuli for the circuit models (Lin et al. 2014, Nat Neurosci 17:559).

Receptor-response correlations, pairs of similar and dissimilar odours, noisy single trials, and the fraction of
wirings an odour drives. The measures of the KC codes they evoke are in ``flymodel.circuit.measures``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from flymodel.circuit.rate import RateParameters
from flymodel.circuit.spec import CircuitSpec
from flymodel.data import load_hallem_carlson
from flymodel.validation import check_int

#: Largest number of claw combinations enumerated exactly by drive_probability.
MAX_COMBINATIONS = 2_000_000


def receptor_correlations(responses: Any) -> np.ndarray:
    """Pearson r between every two odours' receptor-response vectors (rows of an odours × receptors table).

    Parameters
    ----------
    responses : array-like of shape (n_odours, n_receptors)
        Receptor responses per odour, e.g. the Hallem & Carlson table.

    Returns
    -------
    ndarray of shape (n_odours, n_odours)
        The correlation matrix (1 on the diagonal).

    Raises
    ------
    ValueError
        If the table has fewer than 2 odours or 2 receptors, or an odour has the same response at every receptor.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.odours import receptor_correlations
    >>> receptor_correlations(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0], [3.0, 1.0, 0.0]])).round(2)
    array([[ 1.  ,  0.99, -0.98],
           [ 0.99,  1.  , -0.95],
           [-0.98, -0.95,  1.  ]])
    """
    table = np.asarray(responses, dtype=float)
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        raise ValueError(f"responses has shape {table.shape}; expected (n_odours >= 2, n_receptors >= 2)")
    if np.any(table.std(axis=1) == 0):
        raise ValueError("responses holds an odour with the same response at every receptor; its r is undefined")
    return np.corrcoef(table)


def drive_probability(rates_hz: Any, spec: CircuitSpec) -> np.ndarray:
    """Per odour, the fraction of all possible sparse KCs whose mean depolarisation exceeds threshold.

    A sparse KC has fan_in distinct PNs of weight 1; without inhibition, the fraction is the expected fraction of
    responding KCs with APL blocked, over wirings. Exact enumeration of the C(n_pn, fan_in) claw sets
    (``flymodel.circuit.rate``: V = epsp · τ_m · Σ_claws r).

    Parameters
    ----------
    rates_hz : array-like of shape (n_odours, n_pn)
        PN rates (Hz) per odour.
    spec : CircuitSpec
        The circuit: ``[inputs] n``, ``[kc] fan_in``, and the constants of ``RateParameters``.

    Returns
    -------
    ndarray of shape (n_odours,)
        Fraction of claw sets above threshold, per odour.

    Raises
    ------
    ValueError
        If ``rates_hz`` is not (n_odours, ``[inputs] n``), or there are more than ``MAX_COMBINATIONS`` claw sets.

    Examples
    --------
    With 3 mV EPSPs and 6 claws, a KC fires above a mean input of 55.6 Hz per claw; with half the PNs at 100 Hz,
    it needs 4 of its 6 claws among them (a hypergeometric tail, 0.32):

    >>> import numpy as np
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.odours import drive_probability
    >>> rates = np.array([[60.0] * 24, [50.0] * 24, [100.0] * 12 + [0.0] * 12])
    >>> drive_probability(rates, load_circuit("drosophila_mb")).round(4)
    array([1.    , 0.    , 0.3202])
    """
    rates = np.asarray(rates_hz, dtype=float)
    n_pn, fan_in = spec.inputs.n, spec.kc.fan_in
    if rates.ndim != 2 or rates.shape[1] != n_pn:
        raise ValueError(f"rates_hz has shape {rates.shape}; expected (n_odours, {n_pn}) for circuit {spec.name!r}")
    if math.comb(n_pn, fan_in) > MAX_COMBINATIONS:
        raise ValueError(f"fan_in={fan_in} of {n_pn} PNs gives {math.comb(n_pn, fan_in)} claw sets; "
                         f"expected at most {MAX_COMBINATIONS} to enumerate")
    claws = np.array(list(itertools.combinations(range(n_pn), fan_in)))
    scale = RateParameters.from_spec(spec).drive_mv_per_hz
    return np.array([(scale * row[claws].sum(axis=1) > spec.kc.threshold_mv).mean() for row in rates])


def select_pairs(correlation: Any, n_pairs: int,
                 candidates: Any = None) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Greedy odour pairs from a correlation matrix: n_pairs similar ones, then n_pairs dissimilar ones.

    Similar pairs are taken highest r first, then dissimilar pairs lowest r first, each odour used at most once
    over both lists; candidates (indices) restricts the odours.

    Parameters
    ----------
    correlation : array-like of shape (n_odours, n_odours)
        Symmetric correlation matrix, e.g. from ``receptor_correlations``.
    n_pairs : int
        Pairs per list, at least 1.
    candidates : array-like of int, optional
        Indices of the odours that may be paired; default all.

    Returns
    -------
    similar : list of tuple of int
        The similar pairs (i, j), i < j, highest r first.
    dissimilar : list of tuple of int
        The dissimilar pairs, lowest r first.

    Raises
    ------
    ValueError
        If ``correlation`` is not square, ``n_pairs`` is below 1, or there are fewer than 4 · n_pairs candidates.
    TypeError
        If ``n_pairs`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.odours import receptor_correlations, select_pairs
    >>> table = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 7.0], [3.0, 1.0, 0.0], [0.0, 5.0, 1.0], [4.0, 4.0, 1.0]])
    >>> select_pairs(receptor_correlations(table), n_pairs=1)
    ([(0, 1)], [(2, 3)])
    """
    r = np.asarray(correlation, dtype=float)
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        raise ValueError(f"correlation has shape {r.shape}; expected a square matrix")
    check_int(n_pairs, "n_pairs", minimum=1)
    pool = np.arange(len(r)) if candidates is None else np.unique(np.asarray(candidates, dtype=int))
    if len(pool) < 4 * n_pairs:
        raise ValueError(f"n_pairs={n_pairs} needs {4 * n_pairs} distinct odours; only {len(pool)} are candidates")
    rows, cols = np.triu_indices(len(pool), k=1)
    values = r[pool[rows], pool[cols]]
    used: set[int] = set()

    def greedy(order: np.ndarray) -> list[tuple[int, int]]:  # helper: numpydoc ignore=GL08
        chosen = []
        for k in order:
            i, j = int(pool[rows[k]]), int(pool[cols[k]])
            if i not in used and j not in used:
                chosen.append((i, j))
                used.update((i, j))
                if len(chosen) == n_pairs:
                    break
        return chosen

    order = np.argsort(-values, kind="stable")
    similar = greedy(order)
    dissimilar = greedy(order[::-1])
    return similar, dissimilar


@dataclass(frozen=True, eq=False)
class OdourPairs:
    """Odour pairs laid out for trials: the odours of every pair, where each pair sits, and a record of them.

    Attributes
    ----------
    pair_odours : ndarray of shape (4 · n_pairs,), dtype int
        The Hallem & Carlson odour indices of every pair, pair by pair (similar pairs first).
    rows : dict
        ``"similar"`` and ``"dissimilar"``: lists of (row, row) pairs indexing ``pair_odours``.
    record : dict
        ``"similar"`` and ``"dissimilar"``: per pair, the odour names and their receptor r; ``"candidates"``: the
        number of candidate odours.
    """

    pair_odours: np.ndarray
    rows: dict[str, list[tuple[int, int]]]
    record: dict[str, Any]


def driven_odour_pairs(drive: Any, n_pairs: int, min_drive: float) -> OdourPairs:
    """Similar and dissimilar pairs of Hallem & Carlson odours by receptor-response r, among the driving odours.

    n_pairs similar and n_pairs dissimilar pairs (``select_pairs``), among the odours whose drive (e.g. the fraction
    of a circuit's KCs they make respond) is at least min_drive.

    Parameters
    ----------
    drive : array-like of shape (110,)
        A drive per Hallem & Carlson odour, in the table's order.
    n_pairs : int
        Pairs per list.
    min_drive : float
        The smallest drive of a candidate odour.

    Returns
    -------
    OdourPairs
        The pairs, laid out for trials.

    Raises
    ------
    ValueError
        If fewer than 4 · n_pairs odours reach ``min_drive``.
    FileNotFoundError
        If the Hallem & Carlson data file is missing or fails its checksum.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.odours import driven_odour_pairs
    >>> pairs = driven_odour_pairs(np.ones(110), n_pairs=2, min_drive=0.5)
    >>> pairs.pair_odours.shape, pairs.rows["dissimilar"], pairs.record["candidates"]
    ((8,), [(4, 5), (6, 7)], 110)
    >>> pairs.record["similar"][0]["odours"]
    ['methyl benzoate', 'ethyl benzoate']
    """
    table = load_hallem_carlson()
    correlation = receptor_correlations(table.responses)
    candidates = np.flatnonzero(np.asarray(drive) >= min_drive)
    similar, dissimilar = select_pairs(correlation, n_pairs, candidates)
    rows = {"similar": [(2 * k, 2 * k + 1) for k in range(len(similar))],
            "dissimilar": [(2 * k, 2 * k + 1) for k in range(len(similar), len(similar) + len(dissimilar))]}
    record: dict[str, Any] = {group: [{"odours": [table.odours[i], table.odours[j]], "r": float(correlation[i, j])}
                                      for i, j in pairs] for group, pairs in (("similar", similar),
                                                                             ("dissimilar", dissimilar))}
    record["candidates"] = int(len(candidates))
    return OdourPairs(np.array([i for pair in similar + dissimilar for i in pair]), rows, record)


def noisy_trials(rates_hz: Any, n_trials: int, noise_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Trial PN rates max(0, r + σ ξ), ξ ~ N(0, 1) per PN and trial.

    Parameters
    ----------
    rates_hz : array-like of shape (n_odours, n_pn)
        Mean PN rates (Hz) per odour.
    n_trials : int
        Trials per odour, at least 1.
    noise_hz : float
        The noise's standard deviation σ (Hz), finite and >= 0.
    rng : numpy.random.Generator
        The source of the noise.

    Returns
    -------
    ndarray of shape (n_odours, n_trials, n_pn)
        Single-trial PN rates (Hz), >= 0.

    Raises
    ------
    ValueError
        If ``n_trials`` is below 1 or ``noise_hz`` is negative or not finite.
    TypeError
        If ``n_trials`` is not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from flymodel.circuit.odours import noisy_trials
    >>> trials = noisy_trials(np.full((3, 24), 20.0), n_trials=5, noise_hz=5.0, rng=np.random.default_rng(0))
    >>> trials.shape, round(float(trials.std()), 1), bool(trials.min() >= 0)
    ((3, 5, 24), 5.0, True)
    """
    rates = np.asarray(rates_hz, dtype=float)
    check_int(n_trials, "n_trials", minimum=1)
    if not (np.isfinite(noise_hz) and noise_hz >= 0):
        raise ValueError(f"noise_hz={noise_hz} must be a finite standard deviation >= 0 Hz")
    xi = rng.standard_normal((rates.shape[0], n_trials, rates.shape[1]))
    return np.maximum(rates[:, None, :] + noise_hz * xi, 0.0)
