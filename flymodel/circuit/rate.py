"""The rate engine of a circuit spec in torch: threshold-linear KCs under a graded APL, at steady state or in time.

Mean KC depolarisation, threshold-linear KCs and a graded APL, at the exact steady state or integrated in time;
exact top-k is the gain → ∞ limit. CPU or CUDA, float32 or float64.

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
    """The constants of the rate equations, from a spec's [kc] and [apl] sections.

    Attributes
    ----------
    drive_mv_per_hz : float
        The mean depolarisation (mV) per Hz of weighted PN input, epsp · τ_m (Campbell's theorem).
    threshold_mv : float
        The KC threshold θ (mV above rest).
    slope_hz_per_mv : float
        The high-drive slope of the LIF f–I curve, β = 1 / (τ_m (θ − V_reset)) (Hz per mV).
    apl_tau_s : float
        The time constant τ_APL of the APL activity (s).

    Examples
    --------
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.rate import RateParameters
    >>> params = RateParameters.from_spec(load_circuit("drosophila_mb"))
    >>> params
    RateParameters(drive_mv_per_hz=0.03, threshold_mv=10.0, slope_hz_per_mv=10.0, apl_tau_s=0.005)

    With 3 mV EPSPs and τ_m = 10 ms, a KC whose 6 claws bring 60 Hz each sits 0.8 mV above threshold:

    >>> round(params.drive_mv_per_hz * 6 * 60.0 - params.threshold_mv, 6)
    0.8
    """

    drive_mv_per_hz: float  # epsp · τ_m: mean depolarisation per Hz of weighted PN input (Campbell's theorem)
    threshold_mv: float  # θ
    slope_hz_per_mv: float  # β = 1 / (τ_m (θ − V_reset))
    apl_tau_s: float  # τ_APL

    @classmethod
    def from_spec(cls, spec: CircuitSpec) -> RateParameters:
        """The rate constants of a spec: from epsp_mv, tau_m_ms, threshold_mv, reset_mv and the APL's tau_ms.

        Parameters
        ----------
        spec : CircuitSpec
            The circuit; only its [kc] and [apl] sections are read.

        Returns
        -------
        RateParameters
            Its constants, in mV, Hz and seconds.
        """
        kc = spec.kc
        return cls(drive_mv_per_hz=kc.epsp_mv * kc.tau_m_ms * 1e-3, threshold_mv=kc.threshold_mv,
                   slope_hz_per_mv=1e3 / (kc.tau_m_ms * (kc.threshold_mv - kc.reset_mv)),
                   apl_tau_s=spec.apl.tau_ms * 1e-3)


def depolarisation(rates_hz: torch.Tensor, weights: torch.Tensor, params: RateParameters) -> torch.Tensor:
    """V = epsp · τ_m · W r, the mean free depolarisation (mV) of every KC per stimulus.

    Parameters
    ----------
    rates_hz : torch.Tensor of shape (n_stimuli, n_pn)
        PN firing rates (Hz).
    weights : torch.Tensor of shape (n_kc, n_pn)
        PN→KC weights, in the dtype and on the device of ``rates_hz``.
    params : RateParameters
        The rate constants (``drive_mv_per_hz`` is epsp · τ_m).

    Returns
    -------
    torch.Tensor of shape (n_stimuli, n_kc)
        Depolarisation (mV above rest) without inhibition.

    Examples
    --------
    >>> import torch
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.rate import RateParameters, depolarisation
    >>> params = RateParameters.from_spec(load_circuit("drosophila_mb"))
    >>> weights = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    >>> depolarisation(torch.tensor([[100.0, 50.0, 0.0]]), weights, params)
    tensor([[4.5000, 1.5000]])
    """
    return (params.drive_mv_per_hz * rates_hz) @ weights.T


def apl_steady_state(v: torch.Tensor, params: RateParameters, gain_mv: float,
                     apl_weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """KC rates (Hz) and APL activity at the exact fixed point of the feedback loop, for depolarisations v.

    The fixed point solves a = τ_APL β Σ_μ w_μ [V_μ − θ − g a]_+ (w = 1 without KC→APL weights); it has one root,
    since the left side rises and the right side falls with a.

    Parameters
    ----------
    v : torch.Tensor of shape (n_stimuli, n_kc)
        Free depolarisations (mV above rest), e.g. from ``depolarisation``.
    params : RateParameters
        The rate constants.
    gain_mv : float
        The APL gain g (mV per unit of APL activity); 0 removes the feedback.
    apl_weights : torch.Tensor of shape (n_kc,) or None, default None
        KC→APL weights; None counts every KC spike once.

    Returns
    -------
    rates : torch.Tensor of shape (n_stimuli, n_kc)
        KC rates (Hz), β [V − θ − g a]_+.
    activity : torch.Tensor of shape (n_stimuli,)
        APL activity a at the fixed point.

    Notes
    -----
    With the j most driven KCs active, a_j = c Σ_{μ≤j} x_μ / (1 + c g j), x = V − θ sorted in descending order and
    c = τ_APL β. KC j is above threshold under a_j exactly for a leading run of j, and the fixed point keeps that run
    active (counting it is robust to rounding, unlike testing both ends of the run). With KC→APL weights w (one per
    KC), a KC's rate counts w times in the APL: a_j = c Σ_{μ≤j} w_μ x_μ / (1 + c g Σ_{μ≤j} w_μ), by the same argument.

    Examples
    --------
    Three KCs 4, 2 and 1 mV above threshold (θ = 10 mV): the APL silences the least driven one.

    >>> import torch
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.rate import RateParameters, apl_steady_state
    >>> params = RateParameters.from_spec(load_circuit("drosophila_mb"))
    >>> v = torch.tensor([[14.0, 12.0, 11.0]], dtype=torch.float64)
    >>> rates, activity = apl_steady_state(v, params, gain_mv=0.0)
    >>> rates
    tensor([[40., 20., 10.]], dtype=torch.float64)
    >>> rates, activity = apl_steady_state(v, params, gain_mv=10.0)
    >>> rates, activity
    (tensor([[25.,  5.,  0.]], dtype=torch.float64), tensor([0.1500], dtype=torch.float64))
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
    """Integrate the APL feedback loop from rest by forward Euler: for transients, and to check the fixed point.

    τ_APL da/dt = −a + τ_APL β Σ w [V − θ − g a]_+ (w = 1 without KC→APL weights), from a = 0 for
    ``round(duration_ms / dt_ms)`` steps.

    Parameters
    ----------
    v : torch.Tensor of shape (n_stimuli, n_kc)
        Free depolarisations (mV above rest), held constant.
    params : RateParameters
        The rate constants.
    gain_mv : float
        The APL gain g (mV per unit of APL activity).
    duration_ms : float
        Integration time (ms), at least ``dt_ms``.
    dt_ms : float, default 0.1
        Euler time step (ms).
    apl_weights : torch.Tensor of shape (n_kc,) or None, default None
        KC→APL weights; None counts every KC spike once.

    Returns
    -------
    rates : torch.Tensor of shape (n_stimuli, n_kc)
        KC rates (Hz) at the end.
    trace : torch.Tensor of shape (n_steps + 1, n_stimuli)
        APL activity at every step, starting with a = 0.

    Raises
    ------
    ValueError
        If ``dt_ms <= 0`` or ``duration_ms < dt_ms``, or if ``dt_ms`` is too large for a stable integration.

    Notes
    -----
    Forward Euler is stable while dt (1/τ_APL + β g Σ w) < 2, the sum over the KCs above threshold; a larger dt raises.

    Examples
    --------
    >>> import torch
    >>> from flymodel.circuit import load_circuit
    >>> from flymodel.circuit.rate import RateParameters, apl_dynamics, apl_steady_state
    >>> params = RateParameters.from_spec(load_circuit("drosophila_mb"))
    >>> v = torch.tensor([[14.0, 12.0, 11.0]], dtype=torch.float64)
    >>> rates, trace = apl_dynamics(v, params, gain_mv=10.0, duration_ms=50.0)
    >>> trace.shape
    torch.Size([501, 1])
    >>> fixed_rates, activity = apl_steady_state(v, params, gain_mv=10.0)
    >>> torch.allclose(trace[-1], activity), torch.allclose(rates, fixed_rates)
    (True, True)
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

    Inputs may be numpy arrays or torch tensors; results are numpy arrays (or tensors with ``as_tensor=True``),
    computed on ``device`` in ``dtype`` (float64 by default here, so that the rate model's arithmetic does not depend
    on rounding; the input rates are read as float32 first, as every feature matrix is by
    ``flymodel.validation.check_features``). Stimuli are processed in chunks of about ``CHUNK_ELEMENTS`` stimulus × KC entries.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit: ``[inputs] n`` PNs, ``[kc] n`` KCs, and the constants of ``RateParameters``.
    weights : array-like or torch.Tensor of shape (n_kc, n_pn), optional
        PN→KC weights; default the spec's wiring (``flymodel.circuit.wiring.random_wiring``), the same as the
        spiking engine's.
    device : str or torch.device, default "cpu"
        Where the computations run, e.g. ``"cpu"`` or ``"cuda"``.
    dtype : torch.dtype, default torch.float64
        The floating-point type of the computations.
    as_tensor : bool, default False
        Return torch tensors on ``device`` instead of numpy arrays.

    Attributes
    ----------
    spec : CircuitSpec
        The circuit.
    params : RateParameters
        The constants of the rate equations.
    device : torch.device
        Where the computations run.
    dtype : torch.dtype
        The floating-point type of the computations.
    as_tensor : bool
        Whether results are torch tensors.
    weights : ndarray of shape (n_kc, n_pn), dtype float64
        The PN→KC weights.
    apl_weights : torch.Tensor of shape (n_kc,) or None
        Each KC's weight in the APL's activity (``[apl] weights = "connectome"``), or None when every KC spike
        counts once.

    Raises
    ------
    ValueError
        If ``weights`` do not have the shape (``kc.n``, ``inputs.n``) or hold NaN or infinite values.

    See Also
    --------
    flymodel.spiking.SpikingCircuit : The spiking engine of the same spec.

    Examples
    --------
    A 200-KC version of the fly circuit (24 PNs, 6 claws per KC) and three stimuli of random PN rates:

    >>> import numpy as np
    >>> from flymodel.circuit import RateCircuit, load_circuit
    >>> spec = load_circuit("drosophila_mb").replace(**{"kc.n": 200})
    >>> circuit = RateCircuit(spec)
    >>> circuit.weights.shape, circuit.weights.sum(axis=1)[:3]
    ((200, 24), array([6., 6., 6.]))
    >>> rng = np.random.default_rng(0)
    >>> pn_rates = rng.uniform(0.0, 100.0, size=(3, 24))

    The KCs that respond to each stimulus, with APL feedback and with it blocked:

    >>> codes = circuit.responding(pn_rates)
    >>> codes.shape, codes.dtype
    ((3, 200), dtype('bool'))
    >>> codes.sum(axis=1), circuit.responding(pn_rates, apl_gain_mv=0.0).sum(axis=1)
    (array([39, 59, 22]), array([57, 96, 30]))

    Their rates and the APL activity at the fixed point, and fixed-size codes of the 10 most depolarised KCs:

    >>> rates, activity = circuit.steady_state(pn_rates)
    >>> rates.max(axis=1).round(1), activity.round(2)
    (array([29.2, 28.4, 40.3]), array([2.13, 3.12, 1.15]))
    >>> circuit.top_k(pn_rates, 10).sum(axis=1)
    array([10, 10, 10])
    """

    def __init__(self, spec: CircuitSpec, weights: Any = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float64, as_tensor: bool = False):
        self.spec = spec
        self.params = RateParameters.from_spec(spec)
        self.device, self.dtype, self.as_tensor = torch.device(device), dtype, as_tensor
        self.weights = random_wiring(spec) if weights is None else check_weights(weights, spec)  # numpy, n_kc × n_pn
        self._weights = torch.as_tensor(self.weights, dtype=dtype, device=self.device)
        kc_apl = apl_weights(spec)  # None: every KC counts once in the APL
        self.apl_weights = None if kc_apl is None else torch.as_tensor(kc_apl, dtype=dtype, device=self.device)

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
        """Mean free membrane depolarisation (mV above rest) of every KC per stimulus, without inhibition.

        Parameters
        ----------
        rates_hz : array-like or torch.Tensor of shape (n_stimuli, n_pn)
            PN firing rates (Hz), one row per stimulus.

        Returns
        -------
        ndarray or torch.Tensor of shape (n_stimuli, n_kc)
            V = epsp · τ_m · W r (mV above rest).

        Raises
        ------
        ValueError
            If ``rates_hz`` is not a finite matrix with ``[inputs] n`` columns and at least one row.
        TypeError
            If ``rates_hz`` is not numeric.
        """
        return self._out(self._chunks(rates_hz, lambda v, rows: (v,))[0])

    def steady_state(self, rates_hz: Any, apl_gain_mv: float | None = None) -> tuple[Any, Any]:
        """KC rates (Hz) and APL activity at the fixed point of the feedback loop (``apl_steady_state``).

        Parameters
        ----------
        rates_hz : array-like or torch.Tensor of shape (n_stimuli, n_pn)
            PN firing rates (Hz), one row per stimulus.
        apl_gain_mv : float or None, default None
            The APL gain (mV); None takes the spec's ``[apl] gain_mv``.

        Returns
        -------
        rates : ndarray or torch.Tensor of shape (n_stimuli, n_kc)
            KC rates (Hz).
        activity : ndarray or torch.Tensor of shape (n_stimuli,)
            APL activity.

        Raises
        ------
        ValueError
            If ``apl_gain_mv`` is negative or not finite, or ``rates_hz`` is not a finite matrix with
            ``[inputs] n`` columns and at least one row.
        TypeError
            If ``rates_hz`` is not numeric.
        """
        gain = self._gain(apl_gain_mv)
        rates, activity = self._chunks(rates_hz, lambda v, rows: apl_steady_state(v, self.params, gain,
                                                                                  self.apl_weights))
        return self._out(rates), self._out(activity)

    def dynamics(self, rates_hz: Any, duration_ms: float, apl_gain_mv: float | None = None,
                 dt_ms: float = 0.1) -> tuple[Any, Any]:
        """KC rates after ``duration_ms`` of the APL loop from rest, and the APL activity at every step.

        Forward Euler integration of the feedback loop (``apl_dynamics``).

        Parameters
        ----------
        rates_hz : array-like or torch.Tensor of shape (n_stimuli, n_pn)
            PN firing rates (Hz), one row per stimulus.
        duration_ms : float
            Integration time (ms).
        apl_gain_mv : float or None, default None
            The APL gain (mV); None takes the spec's ``[apl] gain_mv``.
        dt_ms : float, default 0.1
            Euler time step (ms).

        Returns
        -------
        rates : ndarray or torch.Tensor of shape (n_stimuli, n_kc)
            KC rates (Hz) at the end.
        trace : ndarray or torch.Tensor of shape (n_steps + 1, n_stimuli)
            APL activity at every step, from 0.

        Raises
        ------
        ValueError
            If ``apl_gain_mv`` is negative or not finite, ``dt_ms`` is not in (0, ``duration_ms``] or too large for
            a stable integration, or ``rates_hz`` is not a finite matrix with ``[inputs] n`` columns.
        TypeError
            If ``rates_hz`` is not numeric.

        Examples
        --------
        The APL activity settles at its fixed point within a few τ_APL (5 ms here):

        >>> import numpy as np
        >>> from flymodel.circuit import RateCircuit, load_circuit
        >>> circuit = RateCircuit(load_circuit("drosophila_mb").replace(**{"kc.n": 200}))
        >>> pn_rates = np.random.default_rng(0).uniform(0.0, 100.0, size=(3, 24))
        >>> rates, trace = circuit.dynamics(pn_rates, duration_ms=50.0)
        >>> trace.shape
        (501, 3)
        >>> np.allclose(trace[-1], circuit.steady_state(pn_rates)[1], atol=1e-4)
        True
        """
        gain = self._gain(apl_gain_mv)

        def step(v: torch.Tensor, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:  # helper: numpydoc ignore=GL08
            rates, trace = apl_dynamics(v, self.params, gain, duration_ms, dt_ms, self.apl_weights)
            return rates, trace.T  # stimuli first, to concatenate chunks

        rates, trace = self._chunks(rates_hz, step)
        return self._out(rates), self._out(trace.T)

    def responding(self, rates_hz: Any, apl_gain_mv: float | None = None) -> Any:
        """The KCs that fire at the steady state of the APL feedback loop.

        Parameters
        ----------
        rates_hz : array-like or torch.Tensor of shape (n_stimuli, n_pn)
            PN firing rates (Hz), one row per stimulus.
        apl_gain_mv : float or None, default None
            The APL gain (mV); None takes the spec's ``[apl] gain_mv``.

        Returns
        -------
        ndarray or torch.Tensor of shape (n_stimuli, n_kc), dtype bool
            True where a KC's steady-state rate is above 0.

        Raises
        ------
        ValueError
            If ``apl_gain_mv`` is negative or not finite, or ``rates_hz`` is not a finite matrix with
            ``[inputs] n`` columns and at least one row.
        TypeError
            If ``rates_hz`` is not numeric.
        """
        gain = self._gain(apl_gain_mv)
        return self._out(self._chunks(rates_hz, lambda v, rows: (
            apl_steady_state(v, self.params, gain, self.apl_weights)[0] > 0,))[0])

    def top_k(self, rates_hz: Any, k: int | Any) -> Any:
        """The k most depolarised KCs per stimulus, ties to the lower index (``flymodel.circuit.kwta``).

        Exact top-k is the stand-in for APL feedback in its high-gain limit; a k per stimulus can match the number of
        KCs that fired in another code.

        Parameters
        ----------
        rates_hz : array-like or torch.Tensor of shape (n_stimuli, n_pn)
            PN firing rates (Hz), one row per stimulus.
        k : int or array-like of shape (n_stimuli,)
            Winners per stimulus: one k in 0..n_kc for all, or one integer in 0..n_kc per stimulus (0: no winner).

        Returns
        -------
        ndarray or torch.Tensor of shape (n_stimuli, n_kc), dtype bool
            True for the winners.

        Raises
        ------
        ValueError
            If a k is out of range, there is not one k per stimulus, or ``rates_hz`` is not a finite matrix with
            ``[inputs] n`` columns and at least one row.
        TypeError
            If ``rates_hz`` is not numeric.

        Examples
        --------
        >>> import numpy as np
        >>> from flymodel.circuit import RateCircuit, load_circuit
        >>> circuit = RateCircuit(load_circuit("drosophila_mb").replace(**{"kc.n": 200}))
        >>> pn_rates = np.random.default_rng(0).uniform(0.0, 100.0, size=(3, 24))
        >>> circuit.top_k(pn_rates, [0, 5, 20]).sum(axis=1)
        array([ 0,  5, 20])
        """
        ks = torch.as_tensor(np.asarray(k))  # one k for all, or one per row; per row, so k = 0 is a valid count
        return self._out(self._chunks(rates_hz, lambda v, rows: (
            kwta(v, ks.expand(v.shape[0]) if ks.ndim == 0 else ks[rows]),))[0])

    def _gain(self, apl_gain_mv: float | None) -> float:
        gain = self.spec.apl.gain_mv if apl_gain_mv is None else float(apl_gain_mv)
        if not (np.isfinite(gain) and gain >= 0):
            raise ValueError(f"apl_gain_mv={apl_gain_mv} must be a finite gain >= 0 mV")
        return gain
