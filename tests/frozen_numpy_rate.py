"""A frozen copy of the numpy rate model that flymodel.circuit.rate replaced (commit 93f2656), kept verbatim as the
reference the torch engine must reproduce: depolarisation, the exact APL steady state and top-k with stable ties."""

from __future__ import annotations

import numpy as np

from flymodel.circuit.spec import CircuitSpec
from flymodel.validation import check_features


def depolarisation(spec: CircuitSpec, weights: np.ndarray, rates_hz: np.ndarray) -> np.ndarray:
    rates = check_features(rates_hz, "rates_hz", n_features=spec.inputs.n).astype(float)
    return spec.kc.epsp_mv * spec.kc.tau_m_ms * 1e-3 * rates @ weights.T


def steady_state(spec: CircuitSpec, weights: np.ndarray, rates_hz: np.ndarray,
                 apl_gain_mv: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    gain = spec.apl.gain_mv if apl_gain_mv is None else float(apl_gain_mv)
    kc = spec.kc
    beta = 1e3 / (kc.tau_m_ms * (kc.threshold_mv - kc.reset_mv))  # Hz per mV
    c = spec.apl.tau_ms * 1e-3 * beta
    above_threshold = depolarisation(spec, weights, rates_hz) - kc.threshold_mv
    excess = -np.sort(-above_threshold, axis=1)  # descending
    j = np.arange(1, excess.shape[1] + 1)
    a = c * np.cumsum(excess, axis=1) / (1 + c * gain * j)
    active = (excess > gain * a).sum(axis=1) - 1
    activity = np.where(active >= 0, a[np.arange(len(a)), np.maximum(active, 0)], 0.0)
    rates = beta * np.maximum(above_threshold - gain * activity[:, None], 0.0)
    return rates, activity


def top_k(spec: CircuitSpec, weights: np.ndarray, rates_hz: np.ndarray, k: int | np.ndarray) -> np.ndarray:
    drive = depolarisation(spec, weights, rates_hz)
    ks = np.broadcast_to(np.asarray(k), (drive.shape[0],))
    order = np.argsort(-drive, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(drive.shape[1])[None, :].repeat(len(drive), axis=0), axis=1)
    return ranks < ks[:, None]
