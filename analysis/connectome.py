"""The hemibrain wiring against shuffled nulls: do the real PN→KC connections make better odour codes than random
ones with the same degrees, and which glomeruli converge on the same KCs more or less often than chance?

For the data's wiring and n_shuffles shuffles under each null (flymodel.circuit.wiring: degree-preserving curveball,
the KC-degree null of Caron et al. 2013, uniform claws with the data's in-degrees), the rate engine's steady state at
the circuit's APL gain gives, on the 110 Hallem & Carlson odours: the fraction of responding KCs, population and
lifetime sparseness, the mean correlation between odour codes and the dimension of the responses (participation
ratio); and, on noisy single trials of similar and dissimilar odour pairs, d′ and held-out accuracy (graded and binary
readouts). Each measure's data value is placed in each null distribution (z-score, two-sided empirical p). The spiking
engine repeats the comparison for the data and spiking_shuffles shuffles of one null. Glomerular co-occurrence (KCs
shared by two glomeruli, binary wiring) is compared with cooccurrence_shuffles shuffles per null, z-scored per pair,
with Benjamini–Hochberg control of the false discovery rate over the pairs (Caron et al. 2013; Zheng et al. 2022);
there p comes from z under a normal approximation of each pair's null (shared-KC counts are sums of many indicators),
since an empirical p cannot resolve below 1 / (shuffles + 1).
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
from scipy.stats import false_discovery_control, norm
from tqdm.auto import tqdm

from flymodel.circuit.measures import dimension, pair_discrimination, sparseness_measures
from flymodel.circuit.odours import OdourPairs, driven_odour_pairs, noisy_trials
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import NULLS, CircuitSpec, load_circuit
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.circuit.wiring import degree_preserving_shuffle, kc_degree_shuffle, random_wiring, seeded_generator
from flymodel.data import load_hemibrain
from flymodel.experiment import Experiment
from flymodel.plots import save_figure
from flymodel.spiking.circuit import min_spikes_for
from flymodel.spiking.devices import DEVICES
from flymodel.validation import check_choice, check_int

#: Measures per wiring: name → label for tables and figures.
MEASURES = {
    "fraction_responding": "responding KCs (fraction)",
    "population_sparseness": "population sparseness",
    "lifetime_sparseness": "lifetime sparseness",
    "mean_correlation": "mean code correlation",
    "dimension": "dimension (participation ratio)",
    "graded_d_prime_similar": "d′ similar pairs, graded",
    "graded_d_prime_dissimilar": "d′ dissimilar pairs, graded",
    "binary_d_prime_similar": "d′ similar pairs, binary",
    "binary_d_prime_dissimilar": "d′ dissimilar pairs, binary",
    "binary_accuracy_similar": "accuracy similar pairs, binary",
    "binary_accuracy_dissimilar": "accuracy dissimilar pairs, binary",
}


@dataclass(frozen=True)
class ConnectomeConfig:
    """Settings of the connectome experiment."""

    circuit: str = "hemibrain_mb"
    nulls: tuple[str, ...] = NULLS
    n_shuffles: int = 20
    n_pairs: int = 8
    min_fraction: float = 0.02  # odours in pairs drive at least this fraction of the data circuit's KCs
    n_trials: int = 10
    pn_noise_hz: float = 20.0
    cv_folds: int = 2
    seed: int = 0  # seed of the trial noise (the same trials for every wiring: a paired design)
    spiking_null: str = "degree_preserving"
    spiking_shuffles: int = 5
    spiking_presentation_ms: float = 200.0
    spiking_device: str = "cpp_standalone"
    cooccurrence_shuffles: int = 100
    fdr: float = 0.05

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        if not self.nulls or len(set(self.nulls)) != len(self.nulls):
            raise ValueError(f"nulls={list(self.nulls)}: expected distinct names among {', '.join(NULLS)}")
        for null in self.nulls:
            check_choice(null, "nulls", NULLS)
        check_int(self.n_shuffles, "n_shuffles", minimum=2)
        check_int(self.n_pairs, "n_pairs", minimum=1)
        if not (isinstance(self.min_fraction, (int, float)) and 0 <= self.min_fraction < 1):
            raise ValueError(f"min_fraction={self.min_fraction!r} must be a fraction of KCs in [0, 1)")
        check_int(self.cv_folds, "cv_folds", minimum=2)
        check_int(self.n_trials, "n_trials", minimum=max(2, self.cv_folds))
        if not (isinstance(self.pn_noise_hz, (int, float)) and math.isfinite(self.pn_noise_hz) and self.pn_noise_hz >= 0):
            raise ValueError(f"pn_noise_hz={self.pn_noise_hz!r} must be a finite rate >= 0 Hz")
        check_int(self.seed, "seed", minimum=0)
        check_choice(self.spiking_null, "spiking_null", NULLS)
        check_int(self.spiking_shuffles, "spiking_shuffles", minimum=0)
        if self.spiking_shuffles == 1:
            raise ValueError("spiking_shuffles=1: expected 0 (rate engine only) or >= 2 (a null needs a spread)")
        if not (isinstance(self.spiking_presentation_ms, (int, float)) and self.spiking_presentation_ms > 0):
            raise ValueError(f"spiking_presentation_ms={self.spiking_presentation_ms!r} must be a time > 0 ms")
        check_choice(self.spiking_device, "spiking_device", DEVICES)
        check_int(self.cooccurrence_shuffles, "cooccurrence_shuffles", minimum=2)
        if not (isinstance(self.fdr, float) and 0 < self.fdr < 1):
            raise ValueError(f"fdr={self.fdr!r} must be a false discovery rate in (0, 1)")


def wiring_spec(base: CircuitSpec, null: str | None, shuffle: int) -> CircuitSpec:
    """The circuit with the data's wiring (null None) or shuffle number `shuffle` of a null."""
    if null is None:
        return base.replace(**{"kc.wiring": "connectome"})
    return base.replace(**{"kc.wiring": "shuffled", "kc.null": null, "kc.shuffle_seed": shuffle})


def code_measures(clean: np.ndarray, clean_responding: np.ndarray, trials: np.ndarray, trials_responding: np.ndarray,
                  pairs: dict[str, list[tuple[int, int]]], cv_folds: int, seed: int) -> dict[str, float]:
    """Every measure of MEASURES from noise-free responses to all odours and single-trial responses to the pair odours
    (n_pair_odours, n_trials, n_kc), with the responding flags of each."""
    values = sparseness_measures(clean, clean_responding)
    out = {k: float(values[k]) for k in ("fraction_responding", "population_sparseness", "lifetime_sparseness",
                                         "mean_correlation")}
    out["dimension"] = dimension(clean)
    for readout, x in (("graded", trials), ("binary", trials_responding.astype(float))):
        for group, group_pairs in pairs.items():
            for name, per_pair in pair_discrimination(x, group_pairs, cv_folds, seed).items():
                out[f"{readout}_{name}_{group}"] = float(np.mean(per_pair))
    return {k: out[k] for k in MEASURES}


def rate_measures(spec: CircuitSpec, weights: np.ndarray, odours: np.ndarray, trials: np.ndarray,
                  pairs: dict[str, list[tuple[int, int]]], config: ConnectomeConfig) -> dict[str, float]:
    """The measures of one wiring in the rate engine at the circuit's APL gain."""
    circuit = RateCircuit(spec, weights)
    clean = circuit.steady_state(odours)[0]
    n_odours, n_trials, n_pn = trials.shape
    rates = circuit.steady_state(trials.reshape(-1, n_pn))[0].reshape(n_odours, n_trials, -1)
    return code_measures(clean, clean > 0, rates, rates > 0, pairs, config.cv_folds, config.seed)


def spiking_measures(spec: CircuitSpec, odours: np.ndarray, trials: np.ndarray,
                     pairs: dict[str, list[tuple[int, int]]], config: ConnectomeConfig) -> tuple[dict[str, float], float]:
    """The measures of one wiring in the spiking engine (one run of all odours and trials) and its wall time."""
    from flymodel.spiking import SpikingCircuit

    min_spikes = min_spikes_for(config.spiking_presentation_ms)
    spec = spec.replace(**{"simulation.presentation_ms": config.spiking_presentation_ms,
                           "simulation.min_spikes": min_spikes})
    n_odours, n_trials, n_pn = trials.shape
    rates = np.concatenate([odours, trials.reshape(-1, n_pn)])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flymodel_connectome_") as folder:
        circuit = SpikingCircuit(spec, len(rates), device=config.spiking_device, directory=folder)
        counts = circuit.run(rates).counts.astype(float)
    clean, single = counts[:len(odours)], counts[len(odours):].reshape(n_odours, n_trials, -1)
    values = code_measures(clean, clean >= min_spikes, single, single >= min_spikes, pairs, config.cv_folds, config.seed)
    return values, time.perf_counter() - started


def place_in_null(data: float, null: list[float]) -> dict[str, float]:
    """The data value against a null sample: mean, sd, the central 95 % of the null (2.5th–97.5th percentiles),
    z = (data − mean) / sd, the relative difference data / mean − 1 and the two-sided empirical
    p = (1 + #{|null − mean| ≥ |data − mean|}) / (n + 1) (Davison & Hinkley 1997, eq. 4.11)."""
    values = np.asarray(null, dtype=float)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    extreme = int((np.abs(values - mean) >= abs(data - mean)).sum())
    low, high = np.percentile(values, [2.5, 97.5])
    return {"data": float(data), "null_mean": mean, "null_sd": sd, "null_95": [float(low), float(high)],
            "z": (data - mean) / sd if sd > 0 else float("nan"),
            "relative": data / mean - 1 if mean != 0 else float("nan"),
            "p": (1 + extreme) / (len(values) + 1), "n": len(values)}


def cooccurrence(binary: np.ndarray) -> np.ndarray:
    """KCs shared by every two glomeruli: the upper triangle (k = 1) of BᵀB for the binary KC × glomerulus wiring."""
    shared = binary.T.astype(np.int64) @ binary.astype(np.int64)
    return shared[np.triu_indices(binary.shape[1], k=1)]


def cooccurrence_test(binary: np.ndarray, glomeruli: tuple[str, ...], null: str, n_shuffles: int,
                      q: float) -> dict[str, Any]:
    """Per glomerulus pair, the data's shared KCs against n_shuffles shuffles of the binary wiring: z-scores, two-sided
    p under a normal approximation of the null, pairs above and below chance after Benjamini–Hochberg at q, and the
    most extreme pairs."""
    data = cooccurrence(binary)
    shuffles = []
    for shuffle in range(n_shuffles):
        generator = seeded_generator(shuffle)
        if null == "degree_preserving":
            s = degree_preserving_shuffle(binary.astype(float), generator)
        else:
            s = kc_degree_shuffle(binary.astype(float), generator, by_frequency=null == "kc_degree")
        shuffles.append(cooccurrence(s > 0))
    sample = np.array(shuffles, dtype=float)
    mean, sd = sample.mean(axis=0), sample.std(axis=0, ddof=1)
    z = np.where(sd > 0, (data - mean) / np.where(sd > 0, sd, 1), 0.0)
    # p from z under a normal null: an empirical p cannot go below 1 / (n + 1), too coarse for BH over 1,770 pairs
    p = 2 * norm.sf(np.abs(z))
    rejected = false_discovery_control(p, method="bh") <= q  # Benjamini & Hochberg 1995
    rows, cols = np.triu_indices(len(glomeruli), k=1)
    order = np.argsort(z)

    def pair(i: int) -> dict[str, Any]:
        return {"glomeruli": [glomeruli[rows[i]], glomeruli[cols[i]]], "shared_kcs": int(data[i]),
                "null_mean": float(mean[i]), "z": float(z[i]), "p": float(p[i])}

    return {"null": null, "shuffles": n_shuffles, "pairs": int(len(data)),
            "above": int((rejected & (z > 0)).sum()), "below": int((rejected & (z < 0)).sum()),
            "min_p": float(p.min()), "z_matrix_upper": z.tolist(),
            "top_above": [pair(i) for i in order[::-1][:10]], "top_below": [pair(i) for i in order[:10]]}


def choose_pairs(spec: CircuitSpec, weights: np.ndarray, odours: np.ndarray, config: ConnectomeConfig) -> OdourPairs:
    """The odour pairs, among odours that drive at least min_fraction of the data circuit's KCs."""
    return driven_odour_pairs(RateCircuit(spec, weights).responding(odours).mean(axis=1), config.n_pairs,
                              config.min_fraction)


def run(config: ConnectomeConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Measure the data's wiring and every shuffle in the rate engine, a subset in the spiking engine, and test
    glomerular co-occurrence."""
    started = time.perf_counter()
    base = load_circuit(config.circuit)
    if base.kc.wiring not in ("connectome", "shuffled"):
        raise ValueError(f"circuit={config.circuit!r} has [kc] wiring = {base.kc.wiring!r}; expected a connectome circuit")
    data_spec = wiring_spec(base, None, 0)
    odours = circuit_stimuli(data_spec).rates_hz
    data_weights = random_wiring(data_spec)
    chosen = choose_pairs(data_spec, data_weights, odours, config)
    pairs = chosen.rows
    trials = noisy_trials(odours[chosen.pair_odours], config.n_trials, config.pn_noise_hz,
                          np.random.default_rng(config.seed))
    wirings = [(None, 0)] + [(null, s) for null in config.nulls for s in range(config.n_shuffles)]
    rate: dict[str, list[dict[str, float]]] = {"data": []}
    degrees: dict[str, Any] = {"data": _degrees(data_weights)}
    for null, shuffle in tqdm(wirings, desc="connectome (rate)", unit="wiring", disable=not progress):
        spec = wiring_spec(base, null, shuffle)
        weights = data_weights if null is None else random_wiring(spec)
        rate.setdefault(null or "data", []).append(rate_measures(spec, weights, odours, trials, pairs, config))
        if null is not None:
            degrees.setdefault(null, []).append(_degrees(weights))
    rate_seconds = time.perf_counter() - started
    spiking: dict[str, list[dict[str, float]]] = {}
    spiking_seconds: list[float] = []
    if config.spiking_shuffles:
        runs = [(None, 0)] + [(config.spiking_null, s) for s in range(config.spiking_shuffles)]
        for null, shuffle in tqdm(runs, desc="connectome (spiking)", unit="wiring", disable=not progress):
            values, seconds = spiking_measures(wiring_spec(base, null, shuffle), odours, trials, pairs, config)
            spiking.setdefault(null or "data", []).append(values)
            spiking_seconds.append(seconds)
    glomeruli = load_hemibrain(min_synapses=base.kc.min_synapses).glomeruli
    binary = data_weights > 0
    co = {null: cooccurrence_test(binary, glomeruli, null, config.cooccurrence_shuffles, config.fdr)
          for null in tqdm(config.nulls, desc="co-occurrence", unit="null", disable=not progress)}
    return {
        "settings": {"circuit": base.name, "apl_gain_mv": base.apl.gain_mv, "n_kc": base.kc.n,
                     "n_glomeruli": base.inputs.n, "n_odours": len(odours),
                     "spiking_min_spikes": min_spikes_for(config.spiking_presentation_ms)},
        "pairs": chosen.record,
        "rate": {"per_wiring": rate, "tests": _tests(rate, config.nulls)},
        "spiking": {"per_wiring": spiking, "tests": _tests(spiking, (config.spiking_null,)) if spiking else {},
                    "seconds_per_wiring": spiking_seconds},
        "cooccurrence": co,
        "degrees": degrees,
        "matrix": _matrix_record(data_spec, data_weights),
        "timings": {"rate_seconds": rate_seconds, "total_seconds": time.perf_counter() - started},
    }


def _tests(per_wiring: dict[str, list[dict[str, float]]], nulls: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per null and measure, the data's place in the null distribution."""
    data = per_wiring["data"][0]
    return {null: {m: place_in_null(data[m], [w[m] for w in per_wiring[null]]) for m in MEASURES}
            for null in nulls if null in per_wiring}


def _degrees(weights: np.ndarray) -> dict[str, list[int]]:
    """Glomeruli per KC and KCs per glomerulus of a wiring."""
    binary = weights > 0
    return {"kc_in_degree": binary.sum(axis=1).tolist(), "glomerulus_partners": binary.sum(axis=0).tolist()}


def _matrix_record(spec: CircuitSpec, weights: np.ndarray) -> dict[str, Any]:
    """The data's KC × glomerulus weights as triplets, with the KC types and glomerulus names, to draw the matrix."""
    hemibrain = load_hemibrain(min_synapses=spec.kc.min_synapses)
    rows, cols = np.nonzero(weights)
    return {"kc_types": list(hemibrain.kc_types), "glomeruli": list(hemibrain.glomeruli),
            "rows": rows.tolist(), "cols": cols.tolist(), "weights": weights[rows, cols].tolist()}


# --- figures ---------------------------------------------------------------------------------------------------

NULL_COLOURS = {"degree_preserving": "tab:blue", "kc_degree": "tab:orange", "uniform": "tab:green"}
TYPE_CLASSES = (("KCg", "γ"), ("KCa'b'", "α′β′"), ("KCab", "αβ"))


def _type_class(kc_type: str) -> int:
    return next(i for i, (prefix, _) in enumerate(TYPE_CLASSES) if kc_type.startswith(prefix))


def plot_matrix(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """The connectome's KC × glomerulus synapse weights, KCs sorted by type class and subtype."""
    m = results["matrix"]
    types = m["kc_types"]
    matrix = np.zeros((len(types), len(m["glomeruli"])))
    matrix[m["rows"], m["cols"]] = m["weights"]
    order = sorted(range(len(types)), key=lambda i: (_type_class(types[i]), types[i], i))
    fig, ax = plt.subplots(figsize=(9, 7))
    image = ax.imshow(matrix[order], aspect="auto", interpolation="nearest", cmap="Greys",
                      vmax=np.percentile(matrix[matrix > 0], 95))
    classes = [_type_class(types[i]) for i in order]
    for c in range(1, len(TYPE_CLASSES)):
        if c in classes:
            ax.axhline(classes.index(c) - 0.5, color="tab:red", lw=0.8)
    present = [c for c in range(len(TYPE_CLASSES)) if c in classes]
    centres = [float(np.mean([i for i, k in enumerate(classes) if k == c])) for c in present]
    ax.set_yticks(centres, [f"{TYPE_CLASSES[c][1]} ({classes.count(c)})" for c in present])
    ax.set_xticks(range(len(m["glomeruli"])), m["glomeruli"], rotation=90, fontsize=5)
    ax.set_ylabel("Kenyon cells, sorted by type class and subtype")
    ax.set_xlabel("glomerulus")
    fig.colorbar(image, ax=ax, label="synapses / mean of a connected pair")
    ax.set_title(f"{results['settings']['circuit']}: PN→KC wiring ({len(types):,} KCs × {len(m['glomeruli'])} glomeruli)")
    return save_figure(fig, output_dir / "connectome_matrix")


def plot_degrees(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Glomeruli per KC and KCs per glomerulus (ranked) of the data and of each null (mean and range over shuffles)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    data = results["degrees"]["data"]
    left.hist(data["kc_in_degree"], bins=np.arange(0.5, max(data["kc_in_degree"]) + 1.5), color="k", alpha=0.6,
              label="data (every null keeps it)")
    left.set_xlabel("glomeruli per KC")
    left.set_ylabel("KCs")
    for null, shuffles in results["degrees"].items():
        if null == "data":
            continue
        sample = np.sort(np.array([s["glomerulus_partners"] for s in shuffles]), axis=1)[:, ::-1]
        right.plot(sample.mean(axis=0), color=NULL_COLOURS[null], label=null.replace("_", " "))
        right.fill_between(range(sample.shape[1]), sample.min(axis=0), sample.max(axis=0), color=NULL_COLOURS[null],
                           alpha=0.2)
    right.plot(np.sort(data["glomerulus_partners"])[::-1], "k--", lw=1.5, label="data (degree preserving keeps it)")
    right.set_xlabel("glomerulus (ranked by partners)")
    right.set_ylabel("KC partners")
    right.legend()
    left.legend()
    return save_figure(fig, output_dir / "connectome_degrees")


def plot_nulls(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Each measure's null distributions (rate engine) with the data's value marked."""
    per_wiring = results["rate"]["per_wiring"]
    names = list(MEASURES)
    columns = 4
    rows = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.8 * rows))
    for ax, name in zip(axes.flat, names):
        for null, shuffles in per_wiring.items():
            if null == "data":
                continue
            ax.hist([w[name] for w in shuffles], bins=10, color=NULL_COLOURS[null], alpha=0.5,
                    label=null.replace("_", " "))
        ax.axvline(per_wiring["data"][0][name], color="k", lw=2, label="data")
        ax.set_title(MEASURES[name], fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("hemibrain wiring (black) against its shuffles, rate engine")
    fig.tight_layout()
    return save_figure(fig, output_dir / "connectome_nulls")


def plot_cooccurrence(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """z-scores of glomerular co-occurrence against each null."""
    glomeruli = results["matrix"]["glomeruli"]
    tests = results["cooccurrence"]
    fig, axes = plt.subplots(1, len(tests), figsize=(6 * len(tests), 5.5), squeeze=False)
    rows, cols = np.triu_indices(len(glomeruli), k=1)
    for ax, (null, test) in zip(axes[0], tests.items()):
        z = np.zeros((len(glomeruli), len(glomeruli)))
        z[rows, cols] = test["z_matrix_upper"]
        z = z + z.T
        limit = max(3.0, float(np.abs(z).max()))
        image = ax.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks(range(len(glomeruli)), glomeruli, rotation=90, fontsize=4)
        ax.set_yticks(range(len(glomeruli)), glomeruli, fontsize=4)
        ax.set_title(f"{null.replace('_', ' ')}: {test['above']} pairs above, {test['below']} below "
                     f"(FDR {results['config']['fdr']:g})", fontsize=9)
        fig.colorbar(image, ax=ax, label="z, shared KCs vs null")
    return save_figure(fig, output_dir / "connectome_cooccurrence")


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Every figure of the experiment, from the results JSON alone."""
    paths: dict[str, Path] = {}
    for name, draw in (("matrix", plot_matrix), ("degrees", plot_degrees), ("nulls", plot_nulls),
                       ("cooccurrence", plot_cooccurrence)):
        paths.update({f"{name}_{k}": v for k, v in draw(results, output_dir).items()})
    return paths


EXPERIMENT = Experiment(
    name="connectome",
    description="the hemibrain PN→KC wiring against degree-preserving, KC-degree and uniform shuffles: odour codes, "
                "discrimination and glomerular co-occurrence",
    config_type=ConnectomeConfig,
    run=run,
    plot=plot,
    presets={"quick": {"n_shuffles": 4, "n_pairs": 4, "n_trials": 4, "spiking_shuffles": 2,
                       "spiking_presentation_ms": 50.0, "cooccurrence_shuffles": 5}},
)
