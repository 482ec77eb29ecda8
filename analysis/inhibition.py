"""The `inhibition` experiment: what the fly loses when APL feedback inhibition is disrupted (Lin, Bygrave,
de Calignon, Lee & Miesenböck 2014, Nat Neurosci 17:559). Blocking APL makes Kenyon-cell (KC) codes denser and more
correlated (their Fig. 2–3); flies still tell dissimilar odours apart but no longer similar ones (their Fig. 4–5).

Circuit: circuits/drosophila_mb.toml (24 Hallem & Carlson PNs, kc_n KCs with 6 random claws, graded APL, intact
gain 0.3 mV at 2,000 KCs). Deviation: with kc_n ≠ 2,000 the intact gain is scaled by 2,000 / kc_n, because the APL
sums the spikes of all KCs; without it small test circuits would be much denser at the "intact" gain (13 % responding
KCs at 300 KCs instead of 5 %). The APL gain is swept as fractions of the intact gain; the sparseness comes from the APL feedback
alone (no top-k anywhere). Three models share each seed's wiring (`simulation.seed`) and noisy trials:
- rate: flymodel.circuit.rate.RateCircuit steady state; responses = KC rates (Hz), responding = rate > 0;
- spiking: flymodel.spiking.SpikingCircuit (one build per seed, one run per gain, every trial of every pair odour in
  one run); responses = spike counts per presentation, responding = counts >= min_spikes, with min_spikes =
  round(8 · presentation / 1 s) (at least 1) to keep the circuit file's 8 spikes per 1 s criterion;
- learned: the rate model with PN→KC weights learned by the Krotov–Hopfield rule (flymodel.learning, Ryali et al.
  2020 eq. 1–2, p = 2, Δ = 0, Appendix D schedule) on learn_trials noisy trials of all 110 odours. The rule's
  winner-take-all selection stands for the intact APL competition. Learning starts from N(0, 1) weights
  (Appendix D), so the learned weights are signed: a negative weight is a PN that inhibits the KC directly, which
  real PN→KC synapses (cholinergic, excitatory) cannot do; units that never win keep their random signed weights
  (the results give how many converged). The weights are scaled by one factor per seed (bisection on log scale) so
  that at the intact gain the learned circuit's mean fraction of responding KCs (noise-free, all 110 odours) equals
  the random circuit's; the inputs are raw PN rates (no mean-centring: the circuit has no way to subtract a mean).

Odour pairs (same for every seed): Pearson r between odours' 24-receptor response vectors (Hallem & Carlson 2006,
responses relative to spontaneous firing); n_pairs similar pairs greedily by highest r, then n_pairs dissimilar pairs
greedily by lowest r, no odour used twice. Candidates are the odours that can drive the circuit: their expected
fraction of responding KCs with APL blocked, over all possible 6-claw wirings (flymodel.circuit.odours.drive_probability),
is at least min_drive (default 10 %). Deviation: without this rule the dissimilar pairs are mostly odours that drive
almost no receptor above spontaneous (45 of the 110 odours fire no KC at all), whose "codes" are empty.

Trials: each trial's PN rates are max(0, r + σ ξ), ξ ~ N(0, 1) per PN and trial (σ = pn_noise_hz); the spiking
model adds Poisson spike trains on top. Default σ = 20 Hz, from a rate-model sweep (8 + 8 pairs, 10 trials,
5 seeds, 5-fold nearest-centroid readout) at the intact gain: σ = 10 Hz gives similar-pair d′ ≈ 5.3 and 100 %
accuracy (perfect), σ = 20 Hz d′ ≈ 2.0 and ≈ 97 % accuracy (discriminable, not perfectly), σ = 40 Hz d′ ≈ 0.6 and
≈ 81 %; dissimilar pairs stay at 100 % throughout.

Measures per (model, gain, seed), on the pair odours' responses (and, in the rate models, also on the noise-free
responses to all 110 odours, keys prefixed all_): fraction of KCs responding (mean over odours and single trials);
Treves–Rolls / Vinje–Gallant sparseness on trial-averaged responses over KCs per odour (population) and over odours
per KC (lifetime; only KCs responding to at least one odour, counted in lifetime_kcs); mean Pearson correlation of
the trial-averaged codes over all odour pairs; discrimination of each pair from single trials: d′ of correlation
distances and the held-out accuracy of a nearest-centroid readout (cv_folds-fold stratified cross-validation;
cv_folds = 2 is train on half the trials, test on the other half), averaged over similar and over dissimilar pairs.
Discrimination is measured with two readouts: graded (rates or spike counts; the brief's primary readout) and
binary (which KCs respond, as a downstream neuron that sees only active vs silent KCs).

The Lin et al. test per model and readout: per seed, loss = 1 − d′(blocked) / d′(intact) of the group-mean d′ for
similar and dissimilar pairs, and the accuracy drop = accuracy(intact) − accuracy(blocked);
flymodel.stats.paired_test(loss_similar, loss_dissimilar) over seeds. The model "reproduces Lin et al." when the
similar pairs' loss is above MATERIAL_LOSS = 10 % (lower 95 % bound) and above the dissimilar pairs' loss (paired
95 % CI of the difference above 0). A seed whose intact d′ is not positive has no defined loss and is left out
(listed). The noise sweep (rate model, random wiring, intact vs blocked) repeats the test at each of noise_levels_hz
for both readouts, to show in which regime the effect appears. The learned circuit is compared with the random one seed by seed (paired tests of
losses and of measures at every gain).
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from flymodel.circuit.measures import pair_discrimination, sparseness_measures
from flymodel.circuit.odours import drive_probability, noisy_trials, receptor_correlations, select_pairs
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import CircuitSpec, load_circuit
from flymodel.circuit.stimuli import Stimuli, odour_stimuli
from flymodel.data import load_hallem_carlson
from flymodel.experiment import Experiment
from flymodel.learning import PlasticityRule, TrainingSchedule, synapse_norms, train_synapses
from flymodel.plots import plot_mean_ci, save_figure
from flymodel.spiking.circuit import min_spikes_for
from flymodel.spiking.devices import DEVICES
from flymodel.stats import mean_ci, paired_test
from flymodel.validation import check_choice, check_int, check_values

CIRCUIT = "drosophila_mb"
MODELS = ("rate", "spiking", "learned")
READOUTS = ("graded", "binary")
GROUPS = ("similar", "dissimilar")
#: Spikes per second of presentation that make a KC "responding" (circuits/drosophila_mb.toml: 8 in 1 s).
#: Random-number streams drawn from each seed: trials of the pair odours, noise-sweep trials, learning trials.
PAIR_TRIALS, SWEEP_TRIALS, LEARN_TRIALS = 0, 1, 2
#: Measures summarised over seeds (scalars per model, gain and seed).
SPARSENESS = ("fraction_responding", "population_sparseness", "lifetime_sparseness", "mean_correlation")
ALL_ODOURS = tuple(f"all_{m}" for m in SPARSENESS)
DISCRIMINATION = tuple(f"{readout}_{measure}_{group}" for readout in READOUTS
                       for measure in ("d_prime", "accuracy") for group in GROUPS)


@dataclass(frozen=True)
class InhibitionConfig:
    """Settings of the inhibition experiment (APL gains as fractions of the circuit's intact gain)."""

    models: tuple[str, ...] = MODELS
    apl_fractions: tuple[float, ...] = (1.0, 0.5, 0.25, 0.125, 0.05, 0.0)
    seeds: tuple[int, ...] = tuple(range(10))
    n_pairs: int = 8
    min_drive: float = 0.1
    n_trials: int = 10
    pn_noise_hz: float = 20.0
    cv_folds: int = 2
    kc_n: int = 2000
    spiking_presentation_ms: float = 200.0
    spiking_device: str = "cpp_standalone"
    noise_levels_hz: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0, 40.0)
    learn_trials: int = 100
    learn_epochs: int = 100
    learn_lr: float = 0.02

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        check_values(self.models, "models")
        for model in self.models:
            check_choice(model, "models", MODELS)
        check_values(self.apl_fractions, "apl_fractions")
        for fraction in self.apl_fractions:
            if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
                raise ValueError(f"apl_fractions holds {fraction!r}; expected fractions of the intact gain in [0, 1]")
        if 1.0 not in self.apl_fractions or 0.0 not in self.apl_fractions:
            raise ValueError(f"apl_fractions={list(self.apl_fractions)} must contain 1.0 (intact) and 0.0 (blocked)")
        if len(check_values(self.seeds, "seeds")) < 2:
            raise ValueError(f"seeds={list(self.seeds)} has fewer than 2 seeds; the paired tests need at least 2")
        for seed in self.seeds:
            check_int(seed, "seeds", minimum=0)
        check_int(self.n_pairs, "n_pairs", minimum=1)
        if not (isinstance(self.min_drive, (int, float)) and 0 <= self.min_drive < 1):
            raise ValueError(f"min_drive={self.min_drive!r} must be a fraction of KCs in [0, 1)")
        check_int(self.cv_folds, "cv_folds", minimum=2)
        check_int(self.n_trials, "n_trials", minimum=max(2, self.cv_folds))
        _positive(self.pn_noise_hz, "pn_noise_hz")
        check_int(self.kc_n, "kc_n", minimum=2)
        _positive(self.spiking_presentation_ms, "spiking_presentation_ms")
        check_choice(self.spiking_device, "spiking_device", DEVICES)
        for level in check_values(self.noise_levels_hz, "noise_levels_hz", allow_empty=True):
            _positive(level, "noise_levels_hz")
        check_int(self.learn_trials, "learn_trials", minimum=1)
        check_int(self.learn_epochs, "learn_epochs", minimum=1)
        _positive(self.learn_lr, "learn_lr")


def _positive(value: Any, name: str) -> float:
    """Return a finite number > 0, or raise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r} must be a finite number > 0")
    return float(value)


def percent_key(fraction: float) -> str:
    """The JSON key of an APL level: its percentage of the intact gain, e.g. '12.5'."""
    return f"{100 * fraction:g}"


@dataclass(frozen=True)
class Setup:
    """What every model shares: the circuit, the odours, the pairs (indices into pair_odours) and the gains."""

    spec: CircuitSpec
    odours: Stimuli
    pair_odours: np.ndarray  # indices into odours of the odours in pairs, similar pairs first
    pairs: dict[str, list[tuple[int, int]]]  # group → pairs of rows of pair_odours
    fractions: tuple[float, ...]  # APL fractions, intact first


def make_setup(config: InhibitionConfig) -> tuple[Setup, dict[str, Any]]:
    """Load the circuit and odours, choose the pairs (receptor-response r, driving odours only); return the setup and
    its JSON record (pairs with names and r, candidate count)."""
    base = load_circuit(CIRCUIT)
    # APL activity sums over KCs: scale the gain by N_file / kc_n to keep the intact sparseness of the full circuit
    spec = base.replace(**{"kc.n": config.kc_n, "apl.gain_mv": base.apl.gain_mv * base.kc.n / config.kc_n})
    odours = odour_stimuli(spec)
    table = load_hallem_carlson()
    correlation = receptor_correlations(table.responses)
    drive = drive_probability(odours.rates_hz, spec)
    candidates = np.flatnonzero(drive >= config.min_drive)
    similar, dissimilar = select_pairs(correlation, config.n_pairs, candidates)
    pair_odours = np.array([i for pair in similar + dissimilar for i in pair])
    rows = {"similar": [(2 * k, 2 * k + 1) for k in range(len(similar))],
            "dissimilar": [(2 * k, 2 * k + 1) for k in range(len(similar), len(similar) + len(dissimilar))]}
    fractions = tuple(sorted(config.apl_fractions, reverse=True))
    record = {group: [{"odours": [table.odours[i], table.odours[j]], "r": float(correlation[i, j]),
                       "drive_probability": [float(drive[i]), float(drive[j])]} for i, j in pairs]
              for group, pairs in (("similar", similar), ("dissimilar", dissimilar))}
    record["candidates"] = int(len(candidates))
    return Setup(spec, odours, pair_odours, rows, fractions), record


def measure(setup: Setup, trials: np.ndarray, responding: np.ndarray, cv_folds: int, seed: int) -> dict[str, Any]:
    """Every measure of one (model, gain, seed) from single-trial responses and responding flags, both
    (n_pair_odours, n_trials, n_kc): sparseness and correlation of trial means, and discrimination per readout."""
    values: dict[str, Any] = sparseness_measures(trials.mean(axis=1), responding)
    for readout, x in (("graded", trials), ("binary", responding.astype(float))):
        for group, pairs in setup.pairs.items():
            scores = pair_discrimination(x, pairs, cv_folds, seed)
            for name, per_pair in scores.items():
                values[f"{readout}_{name}_{group}"] = float(np.mean(per_pair))
                values[f"{readout}_{name}_{group}_pairs"] = per_pair
    return values


def rate_measures(circuit: RateCircuit, setup: Setup, trials_hz: np.ndarray, gain: float, cv_folds: int,
                  seed: int) -> dict[str, Any]:
    """Measures of a rate circuit at one gain: steady-state KC rates to the noisy pair trials and, noise-free, to
    all 110 odours (keys all_*)."""
    n_odours, n_trials, n_pn = trials_hz.shape
    rates = circuit.steady_state(trials_hz.reshape(-1, n_pn), gain)[0].reshape(n_odours, n_trials, -1)
    values = measure(setup, rates, rates > 0, cv_folds, seed)
    clean = circuit.steady_state(setup.odours.rates_hz, gain)[0]
    values.update({f"all_{k}": v for k, v in sparseness_measures(clean, clean > 0).items()})
    return values


def run_rate(circuit: RateCircuit, setup: Setup, trials_hz: np.ndarray, config: InhibitionConfig,
             seed: int) -> dict[str, dict[str, Any]]:
    """The rate model's measures at every APL level: percent key → measures."""
    return {percent_key(f): rate_measures(circuit, setup, trials_hz, f * setup.spec.apl.gain_mv, config.cv_folds,
                                          seed) for f in setup.fractions}


def run_spiking(setup: Setup, trials_hz: np.ndarray, config: InhibitionConfig,
                seed: int) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The spiking model's measures at every APL level (one build, one run per gain) and its timings."""
    from flymodel.spiking import SpikingCircuit  # Brian2 is imported only when the spiking model runs

    spec = setup.spec.replace(**{"simulation.seed": seed,
                                 "simulation.presentation_ms": config.spiking_presentation_ms,
                                 "simulation.min_spikes": min_spikes_for(config.spiking_presentation_ms)})
    n_odours, n_trials, n_pn = trials_hz.shape
    per_gain, run_seconds = {}, []
    with tempfile.TemporaryDirectory(prefix="flymodel_inhibition_") as folder:
        circuit = SpikingCircuit(spec, n_odours * n_trials, device=config.spiking_device, directory=folder)
        for f in setup.fractions:
            result = circuit.run(trials_hz.reshape(-1, n_pn), apl_gain_mv=f * spec.apl.gain_mv)
            counts = result.counts.reshape(n_odours, n_trials, -1).astype(float)
            per_gain[percent_key(f)] = measure(setup, counts, counts >= spec.simulation.min_spikes,
                                               config.cv_folds, seed)
            run_seconds.append(result.run_seconds)
    return per_gain, {"build_seconds": circuit.build_seconds, "run_seconds": run_seconds}


def learn_weights(setup: Setup, config: InhibitionConfig, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Krotov–Hopfield synapses (Ryali et al. 2020 eq. 1–2, Appendix D schedule) learned from noisy trials of all
    odours, and a record of the training (epochs, final mean norm, converged units, seconds)."""
    rng = np.random.default_rng((seed, LEARN_TRIALS))
    samples = noisy_trials(setup.odours.rates_hz, config.learn_trials, config.pn_noise_hz, rng)
    X = torch.tensor(samples.reshape(-1, samples.shape[-1]), dtype=torch.float32)
    started = time.perf_counter()
    schedule = TrainingSchedule(lr=config.learn_lr, max_epochs=config.learn_epochs,
                                batch_size=min(100, X.shape[0]))
    W, log = train_synapses(X, setup.spec.kc.n, PlasticityRule(p=2.0, delta=0.0), schedule, seed=seed)
    norms = synapse_norms(W, 2.0)
    return W.double().numpy(), {"epochs": len(log), "final_mean_norm": log[-1]["mean_norm"],
                                "converged_units": int((norms < schedule.tol).sum()),
                                "seconds": time.perf_counter() - started}


def match_scale(spec: CircuitSpec, weights: np.ndarray, rates_hz: np.ndarray, target: float, gain: float,
                iterations: int = 40) -> float:
    """The factor s for which RateCircuit(spec, s·weights) has the target mean fraction of responding KCs at
    the gain (bisection on log s; the fraction rises with s)."""
    def fraction(log_s: float) -> float:
        return float(RateCircuit(spec, math.exp(log_s) * weights).responding(rates_hz, gain).mean())

    low, high = math.log(1e-4), math.log(1e4)
    if not fraction(low) <= target <= fraction(high):
        raise ValueError(f"no scale of the learned weights gives {100 * target:.2f} % responding KCs at "
                         f"{gain} mV (reachable: {100 * fraction(low):.2f}–{100 * fraction(high):.2f} %)")
    for _ in range(iterations):
        middle = (low + high) / 2
        low, high = (middle, high) if fraction(middle) < target else (low, middle)
    return math.exp((low + high) / 2)


def run_seed(setup: Setup, config: InhibitionConfig, seed: int) -> dict[str, Any]:
    """Every model of one seed on the same wiring and noisy trials: per model its per-gain measures, plus the
    learning record and timings."""
    spec = setup.spec.replace(**{"simulation.seed": seed})
    trials_hz = noisy_trials(setup.odours.rates_hz[setup.pair_odours], config.n_trials, config.pn_noise_hz,
                             np.random.default_rng((seed, PAIR_TRIALS)))
    out: dict[str, Any] = {"models": {}, "timings": {}}
    random_circuit = RateCircuit(spec)
    if "rate" in config.models:
        started = time.perf_counter()
        out["models"]["rate"] = run_rate(random_circuit, setup, trials_hz, config, seed)
        out["timings"]["rate_seconds"] = time.perf_counter() - started
    if "spiking" in config.models:
        started = time.perf_counter()
        out["models"]["spiking"], out["timings"]["spiking"] = run_spiking(setup, trials_hz, config, seed)
        out["timings"]["spiking"]["total_seconds"] = time.perf_counter() - started
    if "learned" in config.models:
        weights, out["learning"] = learn_weights(setup, config, seed)
        started = time.perf_counter()
        dense = spec.replace(**{"kc.wiring": "dense"})
        target = float(random_circuit.responding(setup.odours.rates_hz).mean())
        scale = match_scale(dense, weights, setup.odours.rates_hz, target, spec.apl.gain_mv)
        learned = RateCircuit(dense, scale * weights)
        out["learning"].update({"scale": scale, "target_fraction_responding": target,
                                "learned_fraction_responding": float(learned.responding(setup.odours.rates_hz).mean()),
                                "negative_weight_fraction": float((weights < 0).mean())})
        out["models"]["learned"] = run_rate(learned, setup, trials_hz, config, seed)
        out["timings"]["learned_seconds"] = out["learning"]["seconds"] + time.perf_counter() - started
    return out


def noise_sweep_seed(setup: Setup, config: InhibitionConfig, seed: int) -> dict[str, list[dict[str, float]]]:
    """Rate model, random wiring: group-mean d′ per readout, intact and blocked, at each noise level (one seed)."""
    circuit = RateCircuit(setup.spec.replace(**{"simulation.seed": seed}))
    rng = np.random.default_rng((seed, SWEEP_TRIALS))
    rows = []
    for level in config.noise_levels_hz:
        trials_hz = noisy_trials(setup.odours.rates_hz[setup.pair_odours], config.n_trials, level, rng)
        row = {}
        for f in (1.0, 0.0):
            n_odours, n_trials, n_pn = trials_hz.shape
            rates = circuit.steady_state(trials_hz.reshape(-1, n_pn), f * setup.spec.apl.gain_mv)[0]
            rates = rates.reshape(n_odours, n_trials, -1)
            for readout, x in (("graded", rates), ("binary", (rates > 0).astype(float))):
                for group, pairs in setup.pairs.items():
                    d = pair_discrimination(x, pairs, config.cv_folds, seed)["d_prime"]
                    row[f"{readout}_d_prime_{group}_{percent_key(f)}"] = float(np.mean(d))
        rows.append(row)
    return rows


#: The loss of d′ that counts as "losing discrimination" (Lin et al.: flies could no longer tell similar odours apart):
#: the lower 95 % bound of the similar pairs' loss must exceed it, so a significant 2 % loss is not called an effect.
MATERIAL_LOSS = 0.10


def lin_test(intact: dict[str, list[float]], blocked: dict[str, list[float]], seeds: list[int],
             readout: str) -> dict[str, Any]:
    """Lin et al.'s test for one readout from per-seed measures at the intact and blocked gains: losses of d′ and
    accuracy drops per group, their paired comparison (similar − dissimilar), and whether the effect is reproduced."""
    loss, drop = {}, {}
    for group in GROUPS:
        d_intact = np.array(intact[f"{readout}_d_prime_{group}"])
        d_blocked = np.array(blocked[f"{readout}_d_prime_{group}"])
        with np.errstate(divide="ignore", invalid="ignore"):
            loss[group] = np.where(d_intact > 0, 1 - d_blocked / d_intact, np.nan)
        drop[group] = (np.array(intact[f"{readout}_accuracy_{group}"])
                       - np.array(blocked[f"{readout}_accuracy_{group}"]))
    kept = np.isfinite(loss["similar"]) & np.isfinite(loss["dissimilar"])
    record: dict[str, Any] = {
        "seeds": [s for s, k in zip(seeds, kept) if k], "excluded_seeds": [s for s, k in zip(seeds, kept) if not k],
        **{f"loss_{g}": [float(v) for v in loss[g][kept]] for g in GROUPS},
        **{f"accuracy_drop_{g}": [float(v) for v in drop[g]] for g in GROUPS},
        "accuracy_test": paired_test(drop["similar"], drop["dissimilar"]) if len(seeds) > 1 else None}
    if kept.sum() < 2:
        record.update({"loss_test": None, "reproduces": None,
                       "verdict": "fewer than 2 seeds with a positive intact d′: no test"})
        return record
    record.update({f"loss_{g}_ci": mean_ci(loss[g][kept]) for g in GROUPS})
    record["loss_test"] = paired_test(loss["similar"][kept], loss["dissimilar"][kept])
    record["reproduces"] = bool(record["loss_similar_ci"]["ci_low"] > MATERIAL_LOSS and record["loss_test"]["ci_low"] > 0)
    record["verdict"] = verdict(record)
    return record


def verdict(record: dict[str, Any]) -> str:
    """One sentence saying whether similar pairs lose much more discrimination than dissimilar ones."""
    sim, dis, test = record["loss_similar_ci"], record["loss_dissimilar_ci"], record["loss_test"]
    numbers = (f"loss of d′ similar {100 * sim['mean']:.0f} % [{100 * sim['ci_low']:.0f}, {100 * sim['ci_high']:.0f}]"
               f", dissimilar {100 * dis['mean']:.0f} % [{100 * dis['ci_low']:.0f}, {100 * dis['ci_high']:.0f}]")
    if record["reproduces"]:
        return f"reproduces Lin et al. 2014: similar pairs lose more than dissimilar ones ({numbers})"
    if sim["ci_low"] <= 0:
        why = "similar pairs do not lose discrimination significantly"
    elif sim["ci_low"] <= MATERIAL_LOSS:
        why = f"similar pairs lose less than {100 * MATERIAL_LOSS:.0f} % of their d′ (95 % CI)"
    else:
        why = "similar pairs do not lose significantly more than dissimilar ones"
    return f"does not reproduce Lin et al. 2014: {why} ({numbers}; paired p = {_p(test)})"


def _p(test: dict[str, Any] | None) -> str:
    """The paired t-test's p-value as text."""
    return "n/a" if test is None or test["p_t_test"] is None else f"{test['p_t_test']:.2g}"


def collect(per_seed: list[dict[str, Any]], model: str, setup: Setup) -> dict[str, Any]:
    """One model's results: per gain the raw per-seed values of every measure and mean_ci summaries of the scalars."""
    gains = {}
    for f in setup.fractions:
        key = percent_key(f)
        rows = [seed_out["models"][model][key] for seed_out in per_seed]
        raw = {name: [row[name] for row in rows] for name in rows[0]}
        summary = {name: mean_ci(values) for name, values in raw.items()
                   if not name.endswith("_pairs") and np.all(np.isfinite(np.asarray(values, dtype=float)))}
        gains[key] = {"fraction": f, "gain_mv": f * setup.spec.apl.gain_mv, "per_seed": raw, "summary": summary}
    return {"gains": gains}


def learned_vs_random(models: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """Paired (per seed) comparisons of the learned and the random rate circuit: every scalar measure at every gain,
    and the Lin losses per readout and group."""
    random, learned = models["rate"], models["learned"]
    measures = {}
    for key, gain in random["gains"].items():
        measures[key] = {name: paired_test(learned["gains"][key]["per_seed"][name], values)
                         for name, values in gain["per_seed"].items()
                         if name in learned["gains"][key]["summary"] and name in gain["summary"]}
    losses = {}
    for readout in READOUTS:
        a, b = learned["lin_test"][readout], random["lin_test"][readout]
        common = sorted(set(a["seeds"]) & set(b["seeds"]))
        losses[readout] = {g: paired_test([a[f"loss_{g}"][a["seeds"].index(s)] for s in common],
                                          [b[f"loss_{g}"][b["seeds"].index(s)] for s in common])
                           if len(common) > 1 else None for g in GROUPS}
    return {"note": "paired_test(learned, random) per seed: mean_difference > 0 means larger in the learned circuit",
            "seeds": seeds, "measures": measures, "losses": losses}


def summarise_noise_sweep(rows: list[list[dict[str, float]]], config: InhibitionConfig) -> dict[str, Any]:
    """Per readout and noise level: per-seed losses of d′ for both groups, their mean_ci and the similar − dissimilar
    difference (mean_ci), and the intact d′ per group."""
    sweep: dict[str, Any] = {"levels_hz": list(config.noise_levels_hz), "chosen_hz": config.pn_noise_hz}
    for readout in READOUTS:
        per_level = []
        for i in range(len(config.noise_levels_hz)):
            seeds_rows = [seed_rows[i] for seed_rows in rows]
            entry: dict[str, Any] = {}
            for group in GROUPS:
                intact = np.array([r[f"{readout}_d_prime_{group}_100"] for r in seeds_rows])
                blocked = np.array([r[f"{readout}_d_prime_{group}_0"] for r in seeds_rows])
                entry[f"d_prime_intact_{group}"] = intact.tolist()
                entry[f"d_prime_blocked_{group}"] = blocked.tolist()
                with np.errstate(divide="ignore", invalid="ignore"):
                    entry[f"loss_{group}"] = np.where(intact > 0, 1 - blocked / intact, np.nan).tolist()
            kept = np.isfinite(entry["loss_similar"]) & np.isfinite(entry["loss_dissimilar"])
            for group in GROUPS:
                entry[f"loss_{group}_ci"] = mean_ci(np.array(entry[f"loss_{group}"])[kept]) if kept.any() else None
            difference = np.subtract(entry["loss_similar"], entry["loss_dissimilar"])[kept]
            entry["difference_ci"] = mean_ci(difference) if kept.any() else None
            entry["difference_test"] = (paired_test(np.array(entry["loss_similar"])[kept],
                                                    np.array(entry["loss_dissimilar"])[kept])
                                        if kept.sum() > 1 else None)
            per_level.append(entry)
        sweep[readout] = per_level
    return sweep


def run(config: InhibitionConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Run every model over the seeds and gains, the Lin test per model and readout, the noise sweep and the
    learned-versus-random comparison."""
    started = time.perf_counter()
    setup, pairs = make_setup(config)
    setup_seconds = time.perf_counter() - started
    per_seed, sweep_rows = [], []
    for seed in tqdm(config.seeds, desc="inhibition", unit="seed", disable=not progress):
        per_seed.append(run_seed(setup, config, seed))
        if config.noise_levels_hz:
            sweep_rows.append(noise_sweep_seed(setup, config, seed))
    seeds = list(config.seeds)
    models = {}
    for model in (m for m in MODELS if m in config.models):
        models[model] = collect(per_seed, model, setup)
        intact, blocked = models[model]["gains"]["100"]["per_seed"], models[model]["gains"]["0"]["per_seed"]
        models[model]["lin_test"] = {readout: lin_test(intact, blocked, seeds, readout) for readout in READOUTS}
    spec = setup.spec
    return {
        "settings": {"circuit": spec.name, "intact_gain_mv": spec.apl.gain_mv, "kc_n": spec.kc.n,
                     "apl_percent": [100 * f for f in setup.fractions],
                     "gains_mv": [f * spec.apl.gain_mv for f in setup.fractions],
                     "spiking_min_spikes": min_spikes_for(config.spiking_presentation_ms),
                     "readouts": {"graded": "rates (Hz) or spike counts per presentation",
                                  "binary": "responding KCs (rate > 0, or counts >= min_spikes)"},
                     "n_odours": len(setup.odours)},
        "seeds": seeds,
        "pairs": pairs,
        "models": models,
        "noise_sweep": summarise_noise_sweep(sweep_rows, config) if sweep_rows else None,
        "learned_vs_random": learned_vs_random(models, seeds) if {"rate", "learned"} <= set(models) else None,
        "learning": [s["learning"] for s in per_seed] if "learned" in config.models else None,
        "timings": {"setup_seconds": setup_seconds, "per_seed": [s["timings"] for s in per_seed]},
    }


# --- figures ---------------------------------------------------------------------------------------------------

#: Rows of the measures figure: (measure key without readout/group, y label, scale to percent?).
ROWS = (("fraction_responding", "responding KCs (%)", 100),
        ("population_sparseness", "population\nsparseness S", 1),
        ("lifetime_sparseness", "lifetime\nsparseness S", 1),
        ("mean_correlation", "mean code\ncorrelation r", 1),
        ("graded_d_prime", "d′, graded\n(rates / counts)", 1),
        ("binary_d_prime", "d′, binary\n(responding KCs)", 1),
        ("graded_accuracy", "accuracy (%),\ngraded", 100),
        ("binary_accuracy", "accuracy (%),\nbinary", 100))
#: Rows whose lines get a legend (the first sparseness row and the first discrimination row).
LEGEND_ROWS = (0, 4)
GROUP_COLOURS = {"similar": "tab:red", "dissimilar": "tab:blue"}
COLUMN_TITLES = {"rate": "rate model (steady state)", "spiking": "spiking model (Brian2)"}


def _scaled(summaries: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    """mean_ci records with mean and interval multiplied by factor (e.g. fractions to percent)."""
    return [{**s, **{k: factor * s[k] for k in ("mean", "ci_low", "ci_high")}} for s in summaries]


def _curve(model: dict[str, Any], name: str, factor: float) -> list[dict[str, Any]] | None:
    """A measure's mean_ci per gain (intact first), scaled, or None where a gain lacks it."""
    summaries = [gain["summary"].get(name) for gain in model["gains"].values()]
    return None if any(s is None for s in summaries) else _scaled(summaries, factor)


def _draw_measure(ax: plt.Axes, x: np.ndarray, model: dict[str, Any], key: str, factor: float, learned: bool,
                  with_all: bool) -> None:
    """One panel's lines: a sparseness measure (pair odours, and all odours dashed-dotted for rate models) or a
    discrimination measure per group (similar red, dissimilar blue); the learned circuit dashed."""
    style = {"linestyle": "--", "marker": "s", "markerfacecolor": "none"} if learned else {"marker": "o"}
    who = "learned" if learned else "random"
    if key in SPARSENESS:
        curve = _curve(model, key, factor)
        if curve:
            plot_mean_ci(ax, x, curve, color="black" if not learned else "tab:green", markersize=4,
                         label=f"{who}: pair odours, trials", **style)
        curve = _curve(model, f"all_{key}", factor)
        if with_all and curve:
            plot_mean_ci(ax, x, curve, color="tab:gray" if not learned else "tab:olive", markersize=3,
                         label=f"{who}: 110 odours, noise-free", **{**style, "linestyle": ":" if not learned else "-."})
        return
    for group in GROUPS:
        curve = _curve(model, f"{key}_{group}", factor)
        if curve:
            plot_mean_ci(ax, x, curve, color=GROUP_COLOURS[group], markersize=4, label=f"{who}: {group} pairs",
                         **style)


def plot_measures(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `inhibition_measures`: rows = measures, columns = rate / spiking model, x = APL gain (% of intact,
    intact on the left), mean and 95 % CI over seeds; the learned circuit dashed in the rate column."""
    models = results["models"]
    columns = [c for c in ("rate", "spiking") if c in models or (c == "rate" and "learned" in models)]
    percents = results["settings"]["apl_percent"]
    x = np.arange(len(percents))
    fig, axes = plt.subplots(len(ROWS), len(columns), figsize=(4.4 * len(columns) + 1.6, 2.05 * len(ROWS)),
                             sharex=True, squeeze=False)
    for col, column in enumerate(columns):
        drawn = [(models[column], False)] if column in models else []
        if column == "rate" and "learned" in models:
            drawn.append((models["learned"], True))
        for row, (key, label, factor) in enumerate(ROWS):
            ax = axes[row, col]
            for model, learned in drawn:
                _draw_measure(ax, x, model, key, factor, learned, with_all=column == "rate")
            ax.grid(True, alpha=0.3)
            if col == 0:
                ax.set_ylabel(label, fontsize=9)
            if row == 0:
                ax.set_title(COLUMN_TITLES[column], fontsize=10)
            ax.tick_params(labelsize=8)
        axes[-1, col].set_xticks(x, [f"{p:g}" for p in percents])
        axes[-1, col].set_xlabel("APL gain (% of intact)", fontsize=9)
    for row in LEGEND_ROWS:  # one legend for the sparseness rows, one for the discrimination rows
        handles: dict[str, Any] = {}
        for ax in axes[row]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(label, handle)
        axes[row, -1].legend(handles.values(), handles.keys(), fontsize=7.5, frameon=False, loc="upper left",
                             bbox_to_anchor=(1.02, 1.0))
    for row, (key, _, _) in enumerate(ROWS):
        if "accuracy" in key:
            for ax in axes[row]:
                ax.set_ylim(top=min(ax.get_ylim()[1], 105))  # t intervals can pass 100 %; the axis stops near it
    fig.suptitle(f"{results['settings']['circuit']}: KC codes as APL inhibition is reduced "
                 f"(mean and 95 % CI over {len(results['seeds'])} seeds)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    return save_figure(fig, output_dir / "inhibition_measures")


MODEL_TITLES = {"rate": "rate model", "spiking": "spiking model", "learned": "learned rate model"}


def _draw_lin(ax: plt.Axes, test: dict[str, Any]) -> None:
    """Loss of d′ (%) for similar and dissimilar pairs: per-seed dots joined by lines, mean with 95 % CI, and the
    paired difference's p-value and d_z."""
    losses = np.array([test["loss_similar"], test["loss_dissimilar"]]) * 100
    ax.axhline(0, color="black", linewidth=0.8)
    if losses.size:
        ax.plot([0, 1], losses, color="grey", alpha=0.5, linewidth=0.8, marker=".", markersize=5)
    for i, group in enumerate(GROUPS):
        ci = test.get(f"loss_{group}_ci")
        if ci:
            ax.errorbar([i + 0.12], [100 * ci["mean"]], yerr=[[100 * (ci["mean"] - ci["ci_low"])],
                                                             [100 * (ci["ci_high"] - ci["mean"])]],
                        color=GROUP_COLOURS[group], marker="o", markersize=7, capsize=4, linewidth=2)
    ax.set_xticks([0, 1], ["similar", "dissimilar"])
    ax.set_xlim(-0.4, 1.5)
    paired = test["loss_test"]
    if paired is not None:
        dz = "n/a" if paired["cohens_dz"] is None else f"{paired['cohens_dz']:.2f}"
        text = (f"Δ = {100 * paired['mean_difference']:.0f} % [{100 * paired['ci_low']:.0f}, "
                f"{100 * paired['ci_high']:.0f}]\np = {_p(paired)}, d_z = {dz}")
        ax.set_xlabel(text, fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)


def plot_lin(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `inhibition_lin2014`: loss of discrimination when APL is blocked, similar vs dissimilar pairs, per model
    (columns) and readout (rows)."""
    models = results["models"]
    fig, axes = plt.subplots(len(READOUTS), len(models), figsize=(2.9 * len(models) + 0.6, 6.2), squeeze=False,
                             sharey="row")
    for col, (model, record) in enumerate(models.items()):
        for row, readout in enumerate(READOUTS):
            ax = axes[row, col]
            _draw_lin(ax, record["lin_test"][readout])
            if row == 0:
                ax.set_title(MODEL_TITLES[model], fontsize=10)
            if col == 0:
                ax.set_ylabel(f"loss of d′ (%), {readout}\n1 − d′(blocked) / d′(intact)", fontsize=9)
    fig.suptitle("Lin et al. 2014 test: discrimination lost when APL is blocked\n(per-seed dots; mean and 95 % CI; "
                 "Δ = similar − dissimilar, paired t-test)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, output_dir / "inhibition_lin2014")


def plot_noise(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `inhibition_noise`: rate model, losses of d′ with APL blocked against the PN noise level, per group and
    readout, and the similar − dissimilar difference with its 95 % CI."""
    sweep = results["noise_sweep"]
    levels = sweep["levels_hz"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    styles = {"graded": {"linestyle": "-", "marker": "o"},
              "binary": {"linestyle": "--", "marker": "s", "markerfacecolor": "none"}}
    for readout in READOUTS:
        entries = sweep[readout]
        for group in GROUPS:
            points = [(lvl, e[f"loss_{group}_ci"]) for lvl, e in zip(levels, entries) if e[f"loss_{group}_ci"]]
            if points:
                plot_mean_ci(left, [p[0] for p in points], _scaled([p[1] for p in points], 100),
                             color=GROUP_COLOURS[group], label=f"{group}, {readout}", **styles[readout])
        points = [(lvl, e["difference_ci"]) for lvl, e in zip(levels, entries) if e["difference_ci"]]
        if points:
            plot_mean_ci(right, [p[0] for p in points], _scaled([p[1] for p in points], 100), color="black",
                         label=f"{readout} readout", **styles[readout])
    for ax in (left, right):
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axvline(sweep["chosen_hz"], color="grey", linestyle=":", linewidth=1,
                   label=f"default σ = {sweep['chosen_hz']:g} Hz")
        ax.set_xscale("log")
        ax.set_xticks(levels, [f"{v:g}" for v in levels])
        ax.minorticks_off()
        ax.set_xlabel("PN trial noise σ (Hz)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7.5, frameon=False, loc="best")
    left.set_ylabel("loss of d′ when APL is blocked (%)")
    left.set_title("loss per pair group", fontsize=10)
    right.set_ylabel("loss similar − loss dissimilar (%)")
    right.set_title("Lin et al. effect (> 0: similar pairs lose more)", fontsize=10)
    fig.suptitle(f"Rate model, random wiring: which noise regime shows the effect "
                 f"(mean and 95 % CI over {len(results['seeds'])} seeds)", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, output_dir / "inhibition_noise")


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Every figure of the experiment, from the results JSON alone."""
    paths = {f"measures_{k}": v for k, v in plot_measures(results, output_dir).items()}
    paths.update({f"lin2014_{k}": v for k, v in plot_lin(results, output_dir).items()})
    if results["noise_sweep"] is not None:
        paths.update({f"noise_{k}": v for k, v in plot_noise(results, output_dir).items()})
    return paths


EXPERIMENT = Experiment(
    name="inhibition",
    description="KC sparseness, correlation and odour discrimination as APL inhibition is reduced, in the rate, "
                "spiking and learned circuits (Lin et al. 2014)",
    config_type=InhibitionConfig,
    run=run,
    plot=plot,
    presets={"quick": {"seeds": (0, 1, 2), "n_pairs": 4, "n_trials": 6, "kc_n": 500,
                       "spiking_presentation_ms": 100.0, "noise_levels_hz": (5.0, 20.0, 40.0),
                       "learn_trials": 20, "learn_epochs": 50},
             # the main job's (make run): every model at 10 seeds and 2,000 KCs, with shorter spiking presentations
             # and fewer trials and learning epochs than the defaults
             "main": {"n_trials": 8, "spiking_presentation_ms": 100.0, "learn_trials": 50, "learn_epochs": 50}},
)
