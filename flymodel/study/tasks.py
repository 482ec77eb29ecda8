"""One study task: a grid cell's circuit, for one seed, in one engine, read out and measured.

Pure of any scheduler: the same function runs in-process or on a Dask worker, and the same inputs give the same
numbers.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from flymodel.circuit.kwta import kwta
from flymodel.circuit.measures import dimension, pair_discrimination, sparseness_measures
from flymodel.circuit.odours import drive_probability, driven_odour_pairs, noisy_trials
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.spiking.circuit import SpikingCircuit, min_spikes_for
from flymodel.study.spec import TRIAL_MEASURES, StudySpec
from flymodel.tasks import task_key

#: The random stream of each seed's noisy trials, (seed, PAIR_TRIALS): the inhibition analysis' stream for them.
PAIR_TRIALS = 0


@dataclass(frozen=True)
class Task:
    """What one task needs, all plain data so that it pickles to a worker.

    Built by ``make_tasks``; the fields are also the constructor's arguments.

    Attributes
    ----------
    cell : dict
        The grid cell: each factor's dotted circuit key and its level.
    seed : int
        The seed of the wiring, the spike trains and the trial noise.
    engine : {"rate", "spiking"}
        The engine the circuit runs in.
    circuit : dict
        The cell's ``CircuitSpec.to_dict()``, with the seed applied.
    readout : {"apl", "top_k", "coding_level"}
        How KC responses become codes (StudySpec.readout).
    k : int or None
        Active KCs per code for the ``top_k`` readout.
    coding_level : float or None
        The coding level f for the ``coding_level`` readout.
    measures : tuple of str
        The measures to return, in this order.
    trials : int
        Noisy trials per pair odour; 0 for noise-free responses only.
    noise_hz : float
        Standard deviation (Hz) of the Gaussian noise added to each PN's rate in every trial.
    pair_odours : tuple of int
        Hallem & Carlson odour indices of every pair's two odours, similar pairs first; empty without trial
        measures.
    pairs : dict of str to tuple of (int, int)
        For ``"similar"`` and ``"dissimilar"``, each pair as two positions in ``pair_odours``.
    spiking_presentation_ms : float or None
        The spiking engine's presentation time in ms; None keeps the circuit's.
    spiking_device : str
        The Brian2 device of the spiking engine.
    """

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
        """A hash of everything that decides the task's numbers, and of the code's version.

        Returns
        -------
        str
            20 hexadecimal digits (flymodel.tasks.task_key of the task's fields), the name of its stored record.
        """
        return task_key(self.__dict__)


def choose_pairs(study: StudySpec) -> tuple[tuple[int, ...], dict[str, tuple[tuple[int, int], ...]]]:
    """The study's odour pairs, chosen once on the base circuit so that every cell sees the same pairs.

    The pairs are those of flymodel.circuit.odours.driven_odour_pairs: among odours that make at least
    ``min_drive`` of the base circuit's KCs respond (rate engine, seed 0), or whose expected fraction responding with
    APL blocked over every sparse wiring is at least ``min_drive`` (``pair_drive = "blocked_wirings"``, the
    inhibition analysis' rule).

    Parameters
    ----------
    study : StudySpec
        The study; its ``pairs``, ``pair_drive`` and ``min_drive`` choose the pairs.

    Returns
    -------
    pair_odours : tuple of int
        Hallem & Carlson odour indices of every pair's two odours, similar pairs first.
    pairs : dict of str to tuple of (int, int)
        For ``"similar"`` and ``"dissimilar"``, each pair as two positions in ``pair_odours``. Both are empty when the
        study has no trial measure.

    Raises
    ------
    ValueError
        If fewer than ``4 * pairs`` odours reach ``min_drive`` (flymodel.circuit.odours.select_pairs).
    """
    if not any(m in TRIAL_MEASURES for m in study.measures):
        return (), {}
    spec = study.circuit.replace(**{"simulation.seed": 0})
    rates = circuit_stimuli(spec).rates_hz
    if study.pair_drive == "blocked_wirings":
        drive = drive_probability(rates, spec)
    else:
        drive = RateCircuit(spec).responding(rates).mean(axis=1)
    pairs = driven_odour_pairs(drive, study.pairs, study.min_drive)
    return tuple(int(i) for i in pairs.pair_odours), {g: tuple(rows) for g, rows in pairs.rows.items()}


def make_tasks(study: StudySpec) -> list[Task]:
    """Every (cell, seed, engine) of the study, in grid order.

    Parameters
    ----------
    study : StudySpec
        The study.

    Returns
    -------
    list of Task
        One task per cell, seed and engine: cells in ``study.cells()`` order, then seeds, then engines, every task
        with the same odour pairs (``choose_pairs``).
    """
    pair_odours, pairs = choose_pairs(study)
    return [Task(cell=cell, seed=seed, engine=engine, circuit=study.cell_spec(cell, seed).to_dict(),
                 readout=study.readout, k=study.k, coding_level=study.coding_level, measures=study.measures,
                 trials=study.trials, noise_hz=study.noise_hz, pair_odours=pair_odours, pairs=pairs,
                 spiking_presentation_ms=study.spiking_presentation_ms, spiking_device=study.spiking_device)
            for cell in study.cells() for seed in study.seeds for engine in study.engines]


def run_task(task: Task) -> dict[str, float]:
    """The task's measures, computed with one torch thread and one BLAS thread wherever it runs.

    One thread each keeps the numbers independent of the scheduler (summation order changes with the thread count)
    and keeps side-by-side workers from fighting over cores; the caller's thread settings are restored.

    Parameters
    ----------
    task : Task
        The task to run.

    Returns
    -------
    dict of str to float
        Each of ``task.measures`` with its value (NaN where a measure is undefined).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            return _run_task(task)
    finally:
        torch.set_num_threads(threads)


def _run_task(task: Task) -> dict[str, float]:
    spec = CircuitSpec.from_dict(task.circuit)
    clean = circuit_stimuli(spec).rates_hz
    trials = None
    if task.trials:
        rng = np.random.default_rng((task.seed, PAIR_TRIALS))  # trial noise: the seed's own, shared by every cell
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
    """Spike counts and responding flags from one spiking run of the trials followed by the clean stimuli (trials
    first: their spike trains are then those of a run of the trials alone, as in the inhibition analysis)."""
    if task.spiking_presentation_ms is not None:
        spec = spec.replace(**{"simulation.presentation_ms": task.spiking_presentation_ms,
                               "simulation.min_spikes": min_spikes_for(task.spiking_presentation_ms)})
    n_trials = 0 if trials is None else trials.shape[0] * trials.shape[1]
    rates = clean if trials is None else np.concatenate([trials.reshape(-1, trials.shape[-1]), clean])
    counts = worker_circuit(spec, len(rates), task.spiking_device).run(rates, apl_gain_mv=spec.apl.gain_mv)
    counts = counts.counts.astype(float)
    parts = [counts[n_trials:]] + ([] if trials is None else [counts[:n_trials]])
    if task.readout == "top_k":
        masks = [kwta(torch.from_numpy(c), task.k).numpy() for c in parts]
        return [np.where(m, c, 0.0) for c, m in zip(parts, masks)], masks
    return parts, [c >= spec.simulation.min_spikes for c in parts]


#: This process's spiking circuit, kept between tasks: its build signature, the circuit, and counts of builds and
#: reuses. Brian2 holds one device per process, so one circuit at a time; the APL gain is a run_arg, no new build.
_WORKER_BUILD: dict[str, Any] = {}


def worker_circuit(spec: CircuitSpec, n_stimuli: int, device: str) -> SpikingCircuit:
    """The spiking circuit for spec, built in this process's one build directory, or the last one if it fits.

    The last circuit built is reused when it differs from ``spec`` only in the APL gain (passed to ``run()`` as a
    run_arg), so a sweep of gains on one seed compiles once. The build directory,
    flymodel_study_build_<pid> in the temporary folder, is removed when the process exits.

    Parameters
    ----------
    spec : CircuitSpec
        The circuit.
    n_stimuli : int
        Stimuli presented in one run.
    device : str
        The Brian2 device, one of flymodel.spiking.devices.DEVICES.

    Returns
    -------
    SpikingCircuit
        A built circuit for ``spec`` and ``n_stimuli``.
    """
    tables = spec.to_dict()
    structure = {**tables, "apl": {**tables["apl"], "gain_mv": None}}
    signature = json.dumps({"spec": structure, "n_stimuli": n_stimuli, "device": device}, sort_keys=True, default=str)
    cached = _WORKER_BUILD.get("circuit")
    if _WORKER_BUILD.get("signature") == signature and cached is not None and cached.is_active():
        _WORKER_BUILD["reused"] = _WORKER_BUILD.get("reused", 0) + 1
        return cached
    folder = Path(tempfile.gettempdir()) / f"flymodel_study_build_{os.getpid()}"
    if "signature" not in _WORKER_BUILD:
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    _WORKER_BUILD.update(signature=signature, circuit=SpikingCircuit(spec, n_stimuli, device=device, directory=folder),
                         builds=_WORKER_BUILD.get("builds", 0) + 1)
    return _WORKER_BUILD["circuit"]


def run_batch(tasks: list[Task]) -> list[dict[str, float]]:
    """The measures of tasks run one after another in this process (on a Dask worker, one scheduler task).

    A batch holds the spiking tasks that share a build, so that the build is compiled once for all of them.

    Parameters
    ----------
    tasks : list of Task
        The tasks, as ``batches`` groups them.

    Returns
    -------
    list of dict
        ``run_task`` of each task, in order.
    """
    return [run_task(task) for task in tasks]


#: Rate tasks per batch: a rate task takes a fraction of a second, about what a scheduler round trip and the
#: task-file writes cost, so they travel in small groups.
RATE_BATCH = 8


def batches(tasks: list[Task], rate_batch: int = RATE_BATCH) -> list[list[Task]]:
    """The tasks grouped for ``run_batch``, in the order of their first task.

    Spiking tasks that differ only in the APL gain go together (one build); rate tasks go in consecutive groups of
    up to ``rate_batch``.

    Parameters
    ----------
    tasks : list of Task
        The tasks to group.
    rate_batch : int, default RATE_BATCH
        The most rate tasks in one group.

    Returns
    -------
    list of list of Task
        The groups; every task is in exactly one.
    """
    groups: dict[str, list[Task]] = {}
    rate: list[Task] = []
    for task in tasks:
        if task.engine == "spiking":
            circuit = {**task.circuit, "apl": {**task.circuit["apl"], "gain_mv": None}}
            key = json.dumps([circuit, task.__dict__ | {"circuit": None, "cell": None}], sort_keys=True, default=str)
            groups.setdefault(key, []).append(task)
        else:
            if not rate or len(rate) == rate_batch:
                rate = []
                groups[task.key()] = rate
            rate.append(task)
    return list(groups.values())


def _measures(task: Task, graded: list[np.ndarray], responding: list[np.ndarray]) -> dict[str, float]:
    """The study's measures: code measures of the clean responses; d′ and held-out nearest-centroid accuracy (two
    folds) of the odour pairs' noisy trials, on the graded responses and on the binary ones (responding KCs)."""
    values: dict[str, float] = {}
    code = sparseness_measures(graded[0], responding[0])
    for name in ("fraction_responding", "population_sparseness", "lifetime_sparseness", "mean_correlation"):
        values[name] = float(code[name])
    values["dimension"] = dimension(graded[0])
    values["dimension_binary"] = dimension(responding[0].astype(float))
    if len(graded) > 1:
        shape = (len(task.pair_odours), task.trials, -1)
        readouts = {"graded": graded[1].reshape(shape), "binary": responding[1].reshape(shape).astype(float)}
        for readout, x in readouts.items():
            for group, pairs in task.pairs.items():
                scores = pair_discrimination(x, list(pairs), 2, task.seed)
                d, accuracy = float(np.mean(scores["d_prime"])), float(np.mean(scores["accuracy"]))
                values[f"dprime_{group}" if readout == "graded" else f"dprime_binary_{group}"] = d
                values[f"accuracy_{group}" if readout == "binary" else f"accuracy_graded_{group}"] = accuracy
    return {m: values[m] for m in task.measures}
