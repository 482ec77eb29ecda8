"""The rate model of a circuit spec: mean KC depolarisation, threshold-linear KCs and a graded APL at steady state.

The same spec and weights as the spiking network (flymodel.spiking). For PN rates r (Hz) and weights W,
a KC's mean free depolarisation is V = epsp · τ_m · W r (Campbell's theorem for shot noise). A KC fires at
f = β [V − θ − g·a]_+ with β = 1 / (τ_m (θ − V_reset)), the high-drive slope of the LIF f–I curve, and the APL
activity a counts KC spikes over its time constant, a = τ_APL Σ f (a KC spike adds 1 and decays with τ_APL, as in
the spiking APL). The steady state solves a = τ_APL β Σ_μ [V_μ − θ − g a]_+ exactly (one root: the left side
rises and the right side falls with a). The APL creates the sparseness; gain → ∞ keeps only the top KC, and
exact top-k (flymodel.circuit.kwta) is the fast stand-in used by the hashers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.wiring import check_weights, random_wiring
from flymodel.validation import check_features


class RateCircuit:
    """Rate-model encoder of a CircuitSpec: depolarisation, APL steady state, responding KCs and top-k codes."""

    def __init__(self, spec: CircuitSpec, weights: Any = None):
        self.spec = spec
        self.weights = random_wiring(spec) if weights is None else check_weights(weights, spec)

    def depolarisation(self, rates_hz: Any) -> np.ndarray:
        """Mean free membrane depolarisation (mV above rest) of every KC per stimulus: (n_stimuli, n_kc)."""
        rates = check_features(rates_hz, "rates_hz", n_features=self.spec.inputs.n).astype(float)
        return self.spec.kc.epsp_mv * self.spec.kc.tau_m_ms * 1e-3 * rates @ self.weights.T

    def steady_state(self, rates_hz: Any, apl_gain_mv: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """KC rates (Hz, n_stimuli × n_kc) and APL activity (n_stimuli,) at the fixed point of the feedback loop."""
        gain = self.spec.apl.gain_mv if apl_gain_mv is None else float(apl_gain_mv)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"apl_gain_mv={apl_gain_mv} must be a finite gain >= 0 mV")
        kc = self.spec.kc
        beta = 1e3 / (kc.tau_m_ms * (kc.threshold_mv - kc.reset_mv))  # Hz per mV
        c = self.spec.apl.tau_ms * 1e-3 * beta
        above_threshold = self.depolarisation(rates_hz) - kc.threshold_mv
        excess = -np.sort(-above_threshold, axis=1)  # descending
        j = np.arange(1, excess.shape[1] + 1)
        # With the j most driven KCs active: a_j = c Σ_{μ≤j} excess_μ / (1 + c g j). KC j is above threshold under
        # a_j exactly for a leading run of j, and the fixed point keeps that run active (counting it is robust to
        # rounding, unlike testing both ends of the run).
        a = c * np.cumsum(excess, axis=1) / (1 + c * gain * j)
        active = (excess > gain * a).sum(axis=1) - 1
        activity = np.where(active >= 0, a[np.arange(len(a)), np.maximum(active, 0)], 0.0)
        rates = beta * np.maximum(above_threshold - gain * activity[:, None], 0.0)
        return rates, activity

    def responding(self, rates_hz: Any, apl_gain_mv: float | None = None) -> np.ndarray:
        """Boolean (n_stimuli, n_kc): the KCs that fire at the steady state."""
        return self.steady_state(rates_hz, apl_gain_mv)[0] > 0

    def top_k(self, rates_hz: Any, k: int | np.ndarray) -> np.ndarray:
        """Boolean (n_stimuli, n_kc): the k most depolarised KCs per stimulus (k may differ per stimulus).

        Ties go to the lower index, as in flymodel.circuit.kwta: a stable sort keeps equal drives in index order.
        """
        drive = self.depolarisation(rates_hz)
        ks = np.broadcast_to(np.asarray(k), (drive.shape[0],))
        if np.any(ks < 0):
            raise ValueError(f"k={k} must be >= 0 winners per stimulus")
        order = np.argsort(-drive, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(drive.shape[1])[None, :].repeat(len(drive), axis=0), axis=1)
        return ranks < ks[:, None]
