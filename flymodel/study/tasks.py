"""One study task: a grid cell's circuit, for one seed, in one engine, read out and measured. Pure of any scheduler:
the same function runs in-process or on a Dask worker, and the same inputs give the same numbers."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from flymodel.circuit.kwta import kwta
from flymodel.circuit.measures import centroid_accuracy, d_prime, dimension, sparseness_measures
from flymodel.circuit.odours import driven_odour_pairs, noisy_trials
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.io import package_versions
from flymodel.spiking.circuit import SpikingCircuit, min_spikes_for
from flymodel.study.spec import TRIAL_MEASURES, StudySpec

#: Odours in pairs must drive at least this fraction of the study circuit's KCs (rate engine, seed 0, base circuit).
MIN_PAIR_DRIVE = 0.02


@dataclass(frozen=True)
class Task:
    """What one task needs, all plain data so that it pickles to a worker."""

    cell: dict[str, Any]
    seed: int
    engine: str
    circuit: dict[str, Any]  # the cell's CircuitSpec.to_dict(), seed applied
    readout: str
    k: int | None
    coding_level: float | None
    measures: tuple[str, ...]
    trials: int
    noise_hz: float
    pair_odours: tuple[int, ...]
    pairs: dict[str, tuple[tuple[int, int], ...]]
    spiking_presentation_ms: float | None
    spiking_device: str

    def key(self) -> str:
        """A hash of everything that decides the task's numbers, and of the code's version."""
        record = {**self.__dict__, "versions": package_versions(("flymodel", "torch", "numpy", "brian2"))}
        return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


def choose_pairs(study: StudySpec) -> tuple[tuple[int, ...], dict[str, tuple[tuple[int, int], ...]]]:
    """The study's odour pairs, chosen once on the base circuit at seed 0 (flymodel.circuit.odours.driven_odour_pairs),
    so that every cell sees the same pairs."""
    if not any(m in TRIAL_MEASURES for m in study.measures):
        return (), {}
    spec = study.circuit.replace(**{"simulation.seed": 0})
    pairs = driven_odour_pairs(RateCircuit(spec).responding(circuit_stimuli(spec).rates_hz).mean(axis=1), study.pairs,
                               MIN_PAIR_DRIVE)
    return tuple(int(i) for i in pairs.pair_odours), {g: tuple(rows) for g, rows in pairs.rows.items()}


def make_tasks(study: StudySpec) -> list[Task]:
    """Every (cell, seed, engine) of the study, in grid order."""
    pair_odours, pairs = choose_pairs(study)
    return [Task(cell=cell, seed=seed, engine=engine, circuit=study.cell_spec(cell, seed).to_dict(),
                 readout=study.readout, k=study.k, coding_level=study.coding_level, measures=study.measures,
                 trials=study.trials, noise_hz=study.noise_hz, pair_odours=pair_odours, pairs=pairs,
                 spiking_presentation_ms=study.spiking_presentation_ms, spiking_device=study.spiking_device)
            for cell in study.cells() for seed in study.seeds for engine in study.engines]


def run_task(task: Task) -> dict[str, float]:
    """The task's measures. On a Dask worker torch gets one thread, so that workers do not fight over cores."""
    try:
        from distributed import get_worker

        get_worker()
        torch.set_num_threads(1)
    except (ImportError, ValueError):
        pass
    spec = CircuitSpec.from_dict(task.circuit)
    clean = circuit_stimuli(spec).rates_hz
    trials = None
    if task.trials:
        rng = np.random.default_rng((task.seed, 1))  # trial noise: the seed's own stream, shared by every cell
        trials = noisy_trials(clean[list(task.pair_odours)], task.trials, task.noise_hz, rng)
    if task.engine == "rate":
        graded, responding = _rate_readout(spec, task, clean, trials)
    else:
        graded, responding = _spiking_readout(spec, task, clean, trials)
    return _measures(task, graded, responding)


def _rate_readout(spec: CircuitSpec, task: Task, clean: np.ndarray,
                  trials: np.ndarray | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Graded responses and responding flags of the clean stimuli (and trials) in the rate engine."""
    circuit = RateCircuit(spec)
    inputs = [clean] + ([] if trials is None else [trials.reshape(-1, trials.shape[-1])])
    if task.readout == "apl":
        rates = [circuit.steady_state(x)[0] for x in inputs]
        return rates, [r > 0 for r in rates]
    drives = [circuit.depolarisation(x) for x in inputs]
    if task.readout == "top_k":
        masks = [kwta(torch.from_numpy(v), task.k).numpy() for v in drives]
        return [np.where(m, v, 0.0) for v, m in zip(drives, masks)], masks
    # coding level f: each KC's threshold is the (1 − f) quantile of its drive over the clean stimuli (Litwin-Kumar
    # et al. 2017: a per-KC threshold sets the fraction of stimuli each KC responds to)
    thresholds = np.quantile(drives[0], 1 - task.coding_level, axis=0)
    return [np.maximum(v - thresholds, 0.0) for v in drives], [v > thresholds for v in drives]


def _spiking_readout(spec: CircuitSpec, task: Task, clean: np.ndarray,
                     trials: np.ndarray | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Spike counts and responding flags from one spiking run of the clean stimuli followed by the trials."""
    if task.spiking_presentation_ms is not None:
        spec = spec.replace(**{"simulation.presentation_ms": task.spiking_presentation_ms,
                               "simulation.min_spikes": min_spikes_for(task.spiking_presentation_ms)})
    rates = clean if trials is None else np.concatenate([clean, trials.reshape(-1, trials.shape[-1])])
    with tempfile.TemporaryDirectory(prefix="flymodel_study_") as folder:
        circuit = SpikingCircuit(spec, len(rates), device=task.spiking_device, directory=folder)
        counts = circuit.run(rates).counts.astype(float)
    parts = [counts[:len(clean)]] + ([] if trials is None else [counts[len(clean):]])
    if task.readout == "top_k":
        masks = [kwta(torch.from_numpy(c), task.k).numpy() for c in parts]
        return [np.where(m, c, 0.0) for c, m in zip(parts, masks)], masks
    return parts, [c >= spec.simulation.min_spikes for c in parts]


def _measures(task: Task, graded: list[np.ndarray], responding: list[np.ndarray]) -> dict[str, float]:
    """The study's measures: code measures of the clean responses; d′ (graded) and held-out accuracy (binary) of the
    odour pairs' noisy trials."""
    values: dict[str, float] = {}
    code = sparseness_measures(graded[0], responding[0])
    for name in ("fraction_responding", "population_sparseness", "lifetime_sparseness", "mean_correlation"):
        values[name] = float(code[name])
    values["dimension"] = dimension(graded[0])
    if len(graded) > 1:
        shape = (len(task.pair_odours), task.trials, -1)
        g, b = graded[1].reshape(shape), responding[1].reshape(shape).astype(float)
        for group, pairs in task.pairs.items():
            values[f"dprime_{group}"] = float(np.mean([d_prime(g[i], g[j]) for i, j in pairs]))
            values[f"accuracy_{group}"] = float(np.mean([centroid_accuracy(b[i], b[j], 2, task.seed) for i, j in pairs]))
    return {m: values[m] for m in task.measures}
