"""The Brian2 PN→KC→APL network of a CircuitSpec, with the spiking Krotov–Hopfield rule on PN→KC synapses.

Neurons (potentials relative to rest):

PN
    Poisson (spike when rand() < r·dt) or regular (phase oscillator) trains at the stimulus rate r_i(t),
    read from a TimedArray with one row per stimulus; a trace x_i (τ_x, +1 per spike) estimates r_i·τ_x.
KC
    LIF: τ_m dv/dt = I − v − g·a; threshold θ, reset V_reset, refractory period. A PN spike adds epsp·w_μi
    to v (tau_syn = 0), or epsp·w_μi·τ_m/τ_syn to a synaptic current I decaying with τ_syn.
APL
    Graded and non-spiking (Papadopoulou et al. 2011, Science 332:721): τ_APL da/dt = −a, and every KC spike
    adds 1. Its inhibition g·a (g = apl_gain, mV) reaches every KC, so the number of KCs that stay active is
    set by the feedback loop, not by a top-k.

State is reset at the start of each presentation (an inter-stimulus interval long enough to return to rest).

Plasticity: from eq. 1 to synaptic events. For one input x, the rule of Ryali et al. 2020 (eq. 1–2, p = 2) is

    τ dW_μi/dt = g_μ (x_i − ⟨W_μ, x⟩ W_μi),  g = 1 for the winner, −Δ for the unit of rank r, 0 otherwise.

Here the input is the PN trace x_i ≈ r_i τ_x, and the KC trace h_μ (τ_x, +W_μi on each PN spike) estimates
⟨W_μ, x⟩ = Σ_i W_μi r_i τ_x with the same scale, so x_i − h_μ W_μi is the bracket of eq. 1. Then

- g = 1 (Hebbian): at each spike of KC μ (a winner of the APL competition),  W_μi += η (x_i − h_μ W_μi);
- g = −Δ (anti-Hebbian): at a 'near' event of KC μ — its potential within anti_margin of threshold while it
  has not spiked for τ_x (strongly driven but suppressed by the APL), at most once per anti_interval —
  W_μi −= η Δ (x_i − h_μ W_μi);
- the −⟨W, x⟩ W term is the decay that keeps each KC's synapses on the unit sphere (its fixed point is
  ⟨W_μ, x⟩ W_μ = x, i.e. ``|W_μ| = 1`` along the input).

Deviations from the rate rule, by necessity of spikes: winners are the KCs that fire (their number is set by
the APL, not fixed to 1), a winner is updated once per spike (rate-weighted), 'rank r' becomes 'near
threshold', and η decays linearly to 0 over the run instead of the per-minibatch max-``|ΔW|`` normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.wiring import apl_weights


@dataclass
class Network:
    """The Brian2 objects of one circuit, and the synapse list that maps weights to a dense matrix.

    Synapse s connects PN ``pre[s]`` to KC ``post[s]``: its weight is ``W[post[s], pre[s]]``.

    Attributes
    ----------
    net : brian2.Network
        The network holding every object below.
    pn : brian2.NeuronGroup
        The PNs (``inputs.n``), driven by the ``stimulus`` TimedArray.
    kc : brian2.NeuronGroup
        The LIF KCs (``kc.n``), with the shared variable ``apl_gain``.
    apl : brian2.NeuronGroup
        The single graded APL, variable ``a``.
    pn_kc : brian2.Synapses
        The PN→KC synapses, weight ``w`` (and the plasticity rule, if enabled).
    stimulus : brian2.TimedArray
        PN rates, one row per presentation.
    kc_spikes : brian2.SpikeMonitor
        Every KC spike.
    apl_trace : brian2.StateMonitor
        The APL activity, sampled every ``apl_record_ms``.
    pn_spikes : brian2.SpikeMonitor or None
        Every PN spike, if recorded.
    pre : ndarray of shape (n_synapses,)
        The PN of each synapse.
    post : ndarray of shape (n_synapses,)
        The KC of each synapse.
    """

    net: Any
    pn: Any
    kc: Any
    apl: Any
    pn_kc: Any
    stimulus: Any
    kc_spikes: Any
    apl_trace: Any
    pn_spikes: Any | None
    pre: np.ndarray
    post: np.ndarray


def build_network(spec: CircuitSpec, placeholder_rates: np.ndarray, weights: np.ndarray, record_pn: bool = False,
                  apl_record_ms: float = 1.0) -> Network:
    """Create the groups, synapses and monitors on the active Brian2 device; stimuli enter as a TimedArray.

    Dense wiring connects every PN to every KC; otherwise only the non-zero entries of ``weights`` become synapses.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    placeholder_rates : ndarray of shape (n_stimuli, n_pn)
        Initial PN rates (Hz); their number of rows sets the number of presentations and the duration of the
        plasticity schedule (a run may replace the values).
    weights : ndarray of shape (n_kc, n_pn)
        Initial PN→KC weights.
    record_pn : bool, default False
        Add a SpikeMonitor of the PNs.
    apl_record_ms : float, default 1.0
        Sampling interval of the APL trace (ms).

    Returns
    -------
    Network
        The Brian2 objects, collected in one ``brian2.Network``.
    """
    import brian2 as b2
    from brian2 import Hz, ms, mV

    kc_p, apl_p, pl, sim = spec.kc, spec.apl, spec.plasticity, spec.simulation
    plastic = pl.enabled
    anti = plastic and pl.delta > 0
    presentation = sim.presentation_ms * ms
    duration = presentation * placeholder_rates.shape[0]
    stimulus = b2.TimedArray(placeholder_rates * Hz, dt=presentation, name="stimulus")
    ns = {"stimulus": stimulus, "tau_m": kc_p.tau_m_ms * ms, "theta": kc_p.threshold_mv * mV,
          "v_reset": kc_p.reset_mv * mV, "tau_apl": apl_p.tau_ms * ms, "tau_x": pl.trace_ms * ms,
          "epsp": kc_p.epsp_mv * mV,
          "tau_syn": kc_p.tau_syn_ms * ms, "near_level": (kc_p.threshold_mv - pl.anti_margin_mv) * mV,
          "anti_interval": pl.anti_interval_ms * ms, "delta": pl.delta, "t_total": duration}

    trace_eq = "dx/dt = -x/tau_x : 1" if plastic else ""
    if spec.inputs.spike_model == "poisson":
        pn = b2.NeuronGroup(spec.inputs.n, f"rate = stimulus(t, i) : Hz\n{trace_eq}", threshold="rand() < rate*dt",
                            reset="x += 1" if plastic else "", namespace=ns, name="pn", method="exact")
    else:
        pn = b2.NeuronGroup(spec.inputs.n, f"rate = stimulus(t, i) : Hz\ndphase/dt = rate : 1\n{trace_eq}",
                            threshold="phase >= 1", reset="phase -= 1" + ("\nx += 1" if plastic else ""),
                            namespace=ns, name="pn", method="euler")
        pn.phase = "rand()"

    synaptic_current = kc_p.tau_syn_ms > 0
    kc_eqs = """dv/dt = (INPUT - v - apl_gain*a_apl)/tau_m : volt (unless refractory)
a_apl : 1 (linked)
apl_gain : volt (shared, constant)""".replace("INPUT", "I_syn" if synaptic_current else "0*mV")
    if synaptic_current:
        kc_eqs += "\ndI_syn/dt = -I_syn/tau_syn : volt"
    if plastic:
        kc_eqs += "\ndh/dt = -h/tau_x : 1"
    if anti:
        kc_eqs += "\nt_near : second"
    events = {"near": "v > near_level and not_refractory and t - lastspike > tau_x and t - t_near > anti_interval"} if anti else None
    kc = b2.NeuronGroup(kc_p.n, kc_eqs, threshold="v > theta", reset="v = v_reset",
                        refractory=kc_p.refractory_ms * ms, events=events, namespace=ns, name="kc",
                        method="exponential_euler")
    if anti:
        kc.t_near = -1e4 * b2.second
        kc.run_on_event("near", "t_near = t")
    kc.apl_gain = spec.apl.gain_mv * mV
    apl = b2.NeuronGroup(1, "da/dt = -a/tau_apl : 1", namespace=ns, name="apl", method="exact")
    kc.a_apl = b2.linked_var(apl, "a", index=np.zeros(kc_p.n, dtype=int))
    kc_to_apl = apl_weights(spec)
    if kc_to_apl is None:
        kc_apl = b2.Synapses(kc, apl, on_pre="a_post += 1", name="kc_apl")
        kc_apl.connect()
    else:  # a KC spike adds its KC→APL weight
        kc_apl = b2.Synapses(kc, apl, "w_apl : 1 (constant)", on_pre="a_post += w_apl", name="kc_apl")
        kc_apl.connect(i=np.arange(kc_p.n, dtype=np.int32), j=np.zeros(kc_p.n, dtype=np.int32))
        kc_apl.w_apl = kc_to_apl

    post, pre = np.indices(weights.shape).reshape(2, -1) if spec.kc.wiring == "dense" else np.nonzero(weights)
    model = "w : 1"
    # With a synaptic current, the jump epsp·τ_m/τ_syn keeps the mean depolarisation at epsp·τ_m·Σ w r.
    on_pre = "I_syn_post += epsp*w*tau_m/tau_syn" if synaptic_current else "v_post += epsp*w"
    on_post: dict[str, str] = {}
    on_event = {"pre": "spike"}
    if plastic:
        model += "\nlr : 1 (shared, constant)"
        on_pre += "\nh_post += w"
        on_post["hebb"] = "w += lr*clip(1 - t/t_total, 0, 1)*(x_pre - h_post*w)"
        on_event["hebb"] = "spike"
        if anti:
            on_post["anti"] = "w -= delta*lr*clip(1 - t/t_total, 0, 1)*(x_pre - h_post*w)"
            on_event["anti"] = "near"
    pn_kc = b2.Synapses(pn, kc, model, on_pre=on_pre, on_post=on_post or None, on_event=on_event,
                        namespace=ns, name="pn_kc")
    pn_kc.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
    pn_kc.w = weights[post, pre]
    if plastic:
        pn_kc.lr = pl.lr

    reset_kc = "v = 0*mV" + ("\nI_syn = 0*mV" if synaptic_current else "") + ("\nh = 0" if plastic else "")
    kc.run_regularly(reset_kc, dt=presentation, when="start", name="kc_presentation_reset")
    apl.run_regularly("a = 0", dt=presentation, when="start", name="apl_presentation_reset")
    if plastic:
        pn.run_regularly("x = 0", dt=presentation, when="start", name="pn_presentation_reset")

    kc_spikes = b2.SpikeMonitor(kc, record=True, name="kc_spikes")
    apl_trace = b2.StateMonitor(apl, "a", record=[0], dt=apl_record_ms * ms, name="apl_trace")
    pn_spikes = b2.SpikeMonitor(pn, name="pn_spikes") if record_pn else None
    objects = [pn, kc, apl, kc_apl, pn_kc, kc_spikes, apl_trace] + ([pn_spikes] if record_pn else [])
    net = b2.Network(*objects, name="circuit")
    return Network(net, pn, kc, apl, pn_kc, stimulus, kc_spikes, apl_trace, pn_spikes, pre, post)
