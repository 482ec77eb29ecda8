"""The rate engine of a circuit spec in torch: mean KC depolarisation, threshold-linear KCs and a graded APL, at the
exact steady state or integrated in time; exact top-k is the gain → ∞ limit. CPU or CUDA, float32 or float64.

The same spec and weights as the spiking network (flymodel.spiking). For PN rates r (Hz) and weights W, a KC's mean
free depolarisation is V = epsp · τ_m · W r (Campbell's theorem for shot noise). A KC fires at f = β [V − θ − g·a]_+
with β = 1 / (τ_m (θ − V_reset)), the high-drive slope of the LIF f–I curve, and the APL activity a counts KC spikes
over its time constant: τ_APL da/dt = −a + τ_APL Σ f (a KC spike adds 1 and decays with τ_APL, as in the spiking APL).
The steady state solves a = τ_APL β Σ_μ [V_μ − θ − g a]_+ exactly (one root: the left side rises and the right side
falls with a). The APL creates the sparseness; gain → ∞ keeps only the top KC, and exact top-k (flymodel.circuit.kwta)
is the fast stand-in used by the hashers.

Pure functions on tensors with a frozen parameter object (after norse's torch/functional), and RateCircuit, the thin
wrapper that holds a spec's wiring and converts numpy in and out. Stimuli are processed in chunks, so memory stays
bounded for any number of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from flymodel.circuit.kwta import kwta
from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.wiring import apl_weights, check_weights, random_wiring
from flymodel.validation import check_features

#: Stimuli × KCs per chunk: about 32 MB of float64 per intermediate.
CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class RateParameters:
    """The constants of the rate equations, from a spec's [kc] and [apl] sections."""

    drive_mv_per_hz: float  # epsp · τ_m: mean depolarisation per Hz of weighted PN input (Campbell's theorem)
    threshold_mv: float  # θ
    slope_hz_per_mv: float  # β = 1 / (τ_m (θ − V_reset))
    apl_tau_s: float  # τ_APL

    @classmethod
    def from_spec(cls, spec: CircuitSpec) -> RateParameters:
        kc = spec.kc
        return cls(drive_mv_per_hz=kc.epsp_mv * kc.tau_m_ms * 1e-3, threshold_mv=kc.threshold_mv,
                   slope_hz_per_mv=1e3 / (kc.tau_m_ms * (kc.threshold_mv - kc.reset_mv)),
                   apl_tau_s=spec.apl.tau_ms * 1e-3)


def depolarisation(rates_hz: torch.Tensor, weights: torch.Tensor, params: RateParameters) -> torch.Tensor:
    """V = epsp · τ_m · W r, the mean free depolarisation (mV) of every KC per stimulus: (n_stimuli, n_kc)."""
    return (params.drive_mv_per_hz * rates_hz) @ weights.T


def apl_steady_state(v: torch.Tensor, params: RateParameters, gain_mv: float,
                     apl_weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """KC rates (Hz) and APL activity (n_stimuli,) at the exact fixed point of the feedback loop, for depolarisations v.

    With the j most driven KCs active, a_j = c Σ_{μ≤j} x_μ / (1 + c g j), x = V − θ sorted in descending order and
    c = τ_APL β. KC j is above threshold under a_j exactly for a leading run of j, and the fixed point keeps that run
    active (counting it is robust to rounding, unlike testing both ends of the run). With KC→APL weights w (one per
    KC), a KC's rate counts w times in the APL: a_j = c Σ_{μ≤j} w_μ x_μ / (1 + c g Σ_{μ≤j} w_μ), by the same argument.
    """
    c = params.apl_tau_s * params.slope_hz_per_mv
    above = v - params.threshold_mv
    if apl_weights is None:
        excess = torch.sort(above, dim=1, descending=True).values
        j = torch.arange(1, v.shape[1] + 1, dtype=v.dtype, device=v.device)
        a = c * torch.cumsum(excess, dim=1) / (1 + c * gain_mv * j)
    else:
        excess, order = torch.sort(above, dim=1, descending=True)
        w = apl_weights.to(v.dtype)[order]
        a = c * torch.cumsum(w * excess, dim=1) / (1 + c * gain_mv * torch.cumsum(w, dim=1))
    active = (excess > gain_mv * a).sum(dim=1) - 1
    activity = torch.where(active >= 0, a.gather(1, active.clamp(min=0)[:, None])[:, 0], torch.zeros_like(a[:, 0]))
    rates = params.slope_hz_per_mv * torch.relu(above - gain_mv * activity[:, None])
    return rates, activity


def apl_dynamics(v: torch.Tensor, params: RateParameters, gain_mv: float, duration_ms: float,
                 dt_ms: float = 0.1, apl_weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate τ_APL da/dt = −a + τ_APL β Σ w [V − θ − g a]_+ (w = 1 without KC→APL weights) from a = 0 by forward
    Euler: the KC rates at the end and the APL activity at every step, (n_steps + 1, n_stimuli). For transients, and
    to check the fixed point.

    Forward Euler is stable while dt (1/τ_APL + β g Σ w) < 2, the sum over the KCs above threshold; a larger dt raises.
    """
    if not (dt_ms > 0 and duration_ms >= dt_ms):
        raise ValueError(f"dt_ms={dt_ms} and duration_ms={duration_ms}: expected 0 < dt_ms <= duration_ms")
    dt = dt_ms * 1e-3
    above = v - params.threshold_mv
    w = torch.ones(v.shape[1], dtype=v.dtype, device=v.device) if apl_weights is None else apl_weights.to(v.dtype)
    stiffness = 1 / params.apl_tau_s + params.slope_hz_per_mv * gain_mv * float(((above > 0) * w).sum(dim=1).max())
    if dt * stiffness >= 2:
        raise ValueError(f"dt_ms={dt_ms} is too large for gain_mv={gain_mv}: forward Euler needs dt_ms < "
                         f"{2e3 / stiffness:.3g} here")
    a = torch.zeros(v.shape[0], dtype=v.dtype, device=v.device)
    trace = [a]
    for _ in range(round(duration_ms / dt_ms)):
        total = params.slope_hz_per_mv * (w * torch.relu(above - gain_mv * a[:, None])).sum(dim=1)
        a = a + dt * (total - a / params.apl_tau_s)
        trace.append(a)
    return params.slope_hz_per_mv * torch.relu(above - gain_mv * a[:, None]), torch.stack(trace)


class RateCircuit:
    """Rate-model encoder of a CircuitSpec: depolarisation, APL steady state, responding KCs and top-k codes.

    Inputs may be numpy arrays or torch tensors; results are numpy arrays (or tensors with as_tensor=True), computed
    on `device` in `dtype` (float64 by default here, so that the rate model's numbers do not depend on rounding).
    """

    def __init__(self, spec: CircuitSpec, weights: Any = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float64, as_tensor: bool = False):
        self.spec = spec
        self.params = RateParameters.from_spec(spec)
        self.device, self.dtype, self.as_tensor = torch.device(device), dtype, as_tensor
        self.weights = random_wiring(spec) if weights is None else check_weights(weights, spec)  # numpy, n_kc × n_pn
        self._weights = torch.as_tensor(self.weights, dtype=dtype, device=self.device)
        kc_apl = apl_weights(spec)  # None: every KC counts once in the APL
        self._apl_weights = None if kc_apl is None else torch.as_tensor(kc_apl, dtype=dtype, device=self.device)

    def _rates(self, rates_hz: Any) -> torch.Tensor:
        if isinstance(rates_hz, torch.Tensor):
            rates_hz = rates_hz.detach().cpu().numpy()
        rates = check_features(rates_hz, "rates_hz", n_features=self.spec.inputs.n,
                               expected_by=f"circuit {self.spec.name!r} ([inputs] n)")
        return torch.as_tensor(np.asarray(rates, dtype=float), dtype=self.dtype, device=self.device)

    def _out(self, tensor: torch.Tensor) -> Any:
        return tensor if self.as_tensor else tensor.cpu().numpy()

    def _chunks(self, rates_hz: Any, step: Callable[[torch.Tensor, slice], tuple[torch.Tensor, ...]]) -> list[torch.Tensor]:
        """Apply step to the depolarisations of bounded chunks of stimuli (and their rows) and concatenate each of its
        outputs along the stimuli."""
        rates = self._rates(rates_hz)
        if len(rates) == 0:
            raise ValueError("rates_hz holds no stimuli; expected at least one row")
        size = max(1, CHUNK_ELEMENTS // self._weights.shape[0])
        parts = [step(depolarisation(rates[i:i + size], self._weights, self.params), slice(i, i + size))
                 for i in range(0, len(rates), size)]
        return [torch.cat(column) for column in zip(*parts)]

    def depolarisation(self, rates_hz: Any) -> Any:
        """Mean free membrane depolarisation (mV above rest) of every KC per stimulus: (n_stimuli, n_kc)."""
        return self._out(self._chunks(rates_hz, lambda v, rows: (v,))[0])

    def steady_state(self, rates_hz: Any, apl_gain_mv: float | None = None) -> tuple[Any, Any]:
        """KC rates (Hz, n_stimuli × n_kc) and APL activity (n_stimuli,) at the fixed point of the feedback loop."""
        gain = self._gain(apl_gain_mv)
        rates, activity = self._chunks(rates_hz, lambda v, rows: apl_steady_state(v, self.params, gain,
                                                                                  self._apl_weights))
        return self._out(rates), self._out(activity)

    def dynamics(self, rates_hz: Any, duration_ms: float, apl_gain_mv: float | None = None,
                 dt_ms: float = 0.1) -> tuple[Any, Any]:
        """KC rates after duration_ms of the APL loop from rest, and the APL activity at every step (steps × stimuli)."""
        gain = self._gain(apl_gain_mv)

        def step(v: torch.Tensor, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
            rates, trace = apl_dynamics(v, self.params, gain, duration_ms, dt_ms, self._apl_weights)
            return rates, trace.T  # stimuli first, to concatenate chunks

        rates, trace = self._chunks(rates_hz, step)
        return self._out(rates), self._out(trace.T)

    def responding(self, rates_hz: Any, apl_gain_mv: float | None = None) -> Any:
        """Boolean (n_stimuli, n_kc): the KCs that fire at the steady state."""
        gain = self._gain(apl_gain_mv)
        return self._out(self._chunks(rates_hz, lambda v, rows: (
            apl_steady_state(v, self.params, gain, self._apl_weights)[0] > 0,))[0])

    def top_k(self, rates_hz: Any, k: int | Any) -> Any:
        """Boolean (n_stimuli, n_kc): the k most depolarised KCs per stimulus (k may differ per stimulus, 0 to n_kc),
        ties to the lower index (flymodel.circuit.kwta)."""
        ks = torch.as_tensor(np.asarray(k))  # one k for all, or one per row; per row, so k = 0 is a valid count
        return self._out(self._chunks(rates_hz, lambda v, rows: (
            kwta(v, ks.expand(v.shape[0]) if ks.ndim == 0 else ks[rows]),))[0])

    def _gain(self, apl_gain_mv: float | None) -> float:
        gain = self.spec.apl.gain_mv if apl_gain_mv is None else float(apl_gain_mv)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"apl_gain_mv={apl_gain_mv} must be a finite gain >= 0 mV")
        return gain
