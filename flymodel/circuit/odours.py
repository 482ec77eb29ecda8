"""Odour-discrimination stimuli for the circuit models (Lin et al. 2014, Nat Neurosci 17:559): receptor-response
correlations, pairs of similar and dissimilar odours, noisy single trials, and the fraction of wirings an odour drives.
The measures of the KC codes they evoke are in flymodel.circuit.measures."""

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
    """Pearson r between every two odours' receptor-response vectors (rows of an odours × receptors table)."""
    table = np.asarray(responses, dtype=float)
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 2:
        raise ValueError(f"responses has shape {table.shape}; expected (n_odours >= 2, n_receptors >= 2)")
    if np.any(table.std(axis=1) == 0):
        raise ValueError("responses holds an odour with the same response at every receptor; its r is undefined")
    return np.corrcoef(table)


def drive_probability(rates_hz: Any, spec: CircuitSpec) -> np.ndarray:
    """Per odour, the fraction of all possible sparse KCs (fan_in distinct PNs, weight 1) whose mean depolarisation
    exceeds threshold without inhibition: the expected fraction of responding KCs with APL blocked, over wirings.

    Exact enumeration of the C(n_pn, fan_in) claw sets (flymodel.circuit.rate: V = epsp · τ_m · Σ_claws r).
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
    """Greedy odour pairs from a correlation matrix: n_pairs similar (highest r first) and then n_pairs dissimilar
    (lowest r first), each odour used at most once over both lists; candidates (indices) restricts the odours."""
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

    def greedy(order: np.ndarray) -> list[tuple[int, int]]:
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
    """Odour pairs laid out for trials: pair_odours lists the odours of every pair (similar pairs first), rows indexes
    pairs into it, and record gives each pair's names and receptor r, and the number of candidate odours."""

    pair_odours: np.ndarray
    rows: dict[str, list[tuple[int, int]]]
    record: dict[str, Any]


def driven_odour_pairs(drive: Any, n_pairs: int, min_drive: float) -> OdourPairs:
    """n_pairs similar and n_pairs dissimilar Hallem & Carlson odours by receptor-response r (select_pairs), among the
    odours whose drive (e.g. the fraction of a circuit's KCs they make respond) is at least min_drive."""
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
    """Trial PN rates max(0, r + σ ξ), ξ ~ N(0, 1) per PN and trial: (n_odours, n_trials, n_pn)."""
    rates = np.asarray(rates_hz, dtype=float)
    check_int(n_trials, "n_trials", minimum=1)
    if not (np.isfinite(noise_hz) and noise_hz >= 0):
        raise ValueError(f"noise_hz={noise_hz} must be a finite standard deviation >= 0 Hz")
    xi = rng.standard_normal((rates.shape[0], n_trials, rates.shape[1]))
    return np.maximum(rates[:, None, :] + noise_hz * xi, 0.0)
