"""Run a study's tasks in-process or on a Dask cluster, store them as they finish, and summarise them.

The tasks run through flymodel.tasks, each finished task stored at once in OUTPUT/tasks/; the summary holds
per-cell means with 95 % CIs and paired contrasts with Holm-adjusted p.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from flymodel.io import environment_info, read_json, write_json
from flymodel.stats import mean_ci, paired_test
from flymodel.study.plots import plot_study
from flymodel.study.spec import StudySpec
from flymodel.study.tasks import RATE_BATCH, batches, make_tasks, run_batch
from flymodel.tasks import TASKS_DIR, TaskStore, execute


def run_study(study: StudySpec, output_dir: str | os.PathLike[str], scheduler: str = "local",
              workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Run every task the output folder does not hold yet, then write OUTPUT/results.json; return its record.

    Each finished task is written at once to OUTPUT/tasks/ as a JSON file keyed by a hash of everything that decides
    its numbers and of the code's version, so an interrupted or extended study computes only the tasks it has no
    file for. The record then summarises every task of the study, those run now and those found: per cell and engine
    each measure's mean with its 95 % t interval over seeds (``summarise``), the paired contrasts against the
    reference cells (``contrasts``, ``loss_contrasts``), and the figures of flymodel.study.plots.plot_study are
    drawn from results.json into ``output_dir``.

    Parameters
    ----------
    study : StudySpec
        The study, as ``load_study`` returns it.
    output_dir : str or os.PathLike
        The folder for tasks/, results.json and the figures (study_measures, study_contrasts, study_losses, as
        .png and .pdf); created if missing. A folder that holds tasks of an earlier run resumes it.
    scheduler : str, default "local"
        ``"none"`` runs the tasks in this process, ``"local"`` on a Dask LocalCluster of worker processes with
        one thread each, and any other value is the address of a running Dask scheduler (e.g.
        ``"tcp://host:8786"``). Every scheduler gives the same numbers.
    workers : int or None, default None
        Worker processes of the ``"local"`` cluster; None starts one per CPU core.
    progress : bool, default True
        Show a progress bar of the finished tasks.

    Returns
    -------
    dict
        The record written to results.json: ``study``, ``description``, ``source``, ``settings`` (the study's
        fields), ``environment``, ``scheduler``, ``tasks_run`` (tasks computed by this call), ``tasks_total``,
        ``total_seconds``, ``scheduler_startup_seconds``, ``records`` (every task's cell, seed, engine and
        measures, in grid order), ``cells`` (``summarise``), ``contrasts`` (``contrasts``) and
        ``loss_contrasts`` (``loss_contrasts``).

    See Also
    --------
    load_study : Reads and validates a study file.

    Examples
    --------
    A study of two fan-ins on a 200-KC circuit, two seeds, run in this process, then run again:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from flymodel.study import load_study, run_study
    >>> text = '''
    ... name = "tiny"
    ... circuit = "drosophila_mb"
    ... seeds = 2
    ... [overrides]
    ... "kc.n" = 200
    ... [factors]
    ... "kc.fan_in" = [2, 6]
    ... [measures]
    ... list = ["fraction_responding", "dimension"]
    ... [contrasts]
    ... reference = { "kc.fan_in" = 6 }
    ... '''
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "tiny.toml"
    ...     _ = path.write_text(text)
    ...     study = load_study(path)
    ...     results = run_study(study, Path(folder) / "out", scheduler="none", progress=False)
    ...     again = run_study(study, Path(folder) / "out", scheduler="none", progress=False)
    ...     files = sorted(p.name for p in (Path(folder) / "out").iterdir())
    >>> results["tasks_run"], results["tasks_total"], again["tasks_run"]
    (4, 4, 0)
    >>> files
    ['results.json', 'study_contrasts.pdf', 'study_contrasts.png', 'study_measures.pdf', 'study_measures.png', 'tasks']

    The mean fraction of responding KCs per cell, over the two seeds, and the contrast of fan-in 2 against 6:

    >>> [(c["cell"], round(c["measures"]["fraction_responding"]["mean"], 3)) for c in results["cells"]]
    [({'kc.fan_in': 2}, 0.012), ({'kc.fan_in': 6}, 0.159)]
    >>> first = results["contrasts"][0]
    >>> first["measure"], first["cell"], first["reference"], round(first["mean_difference"], 3), first["n"]
    ('fraction_responding', {'kc.fan_in': 2}, {'kc.fan_in': 6}, -0.147, 2)
    """
    started = time.perf_counter()
    store = TaskStore(Path(output_dir) / TASKS_DIR)
    tasks = make_tasks(study)
    todo = [t for t in tasks if t.key() not in store]
    ran, timings = 0, {}
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"study {study.name}", unit="task",
              disable=not progress) as bar:
        groups = batches(todo, 1 if scheduler == "none" else RATE_BATCH)  # in-process, every task is stored at once
        for batch, results in execute(run_batch, groups, scheduler, workers, timings):
            for task, measures in zip(batch, results):
                store.put(task.key(), {"cell": task.cell, "seed": task.seed, "engine": task.engine,
                                       "measures": measures})
            ran += len(batch)
            bar.update(len(batch))
    records = [store.get(t.key()) for t in tasks]
    results = {"study": study.name, "description": study.description, "source": study.source,
               "settings": _settings(study), "environment": environment_info(), "scheduler": scheduler,
               "tasks_run": ran, "tasks_total": len(tasks), "total_seconds": time.perf_counter() - started,
               "scheduler_startup_seconds": timings.get("startup_seconds", 0.0),
               "records": records, "cells": summarise(study, records), "contrasts": contrasts(study, records),
               "loss_contrasts": loss_contrasts(study, records)}
    write_json(Path(output_dir) / "results.json", results)
    plot_study(read_json(Path(output_dir) / "results.json"), Path(output_dir))
    return results


def _settings(study: StudySpec) -> dict[str, Any]:
    return {"circuit": study.circuit.to_dict(), "factors": {k: list(v) for k, v in study.factors.items()},
            "seeds": list(study.seeds), "engines": list(study.engines), "readout": study.readout, "k": study.k,
            "coding_level": study.coding_level, "measures": list(study.measures), "trials": study.trials,
            "noise_hz": study.noise_hz, "pairs": study.pairs, "pair_drive": study.pair_drive,
            "min_drive": study.min_drive, "reference": study.reference, "loss": list(study.loss),
            "spiking_presentation_ms": study.spiking_presentation_ms, "spiking_device": study.spiking_device}


def _values(records: list[dict[str, Any]], cell: dict[str, Any], engine: str, measure: str) -> dict[int, float]:
    return {r["seed"]: r["measures"][measure] for r in records if r["cell"] == cell and r["engine"] == engine}


def summarise(study: StudySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per cell and engine, each measure's mean, sd and 95 % t interval over seeds.

    Parameters
    ----------
    study : StudySpec
        The study whose cells, engines and measures are summarised.
    records : list of dict
        Task records, each with ``cell``, ``seed``, ``engine`` and ``measures`` (as results.json's ``records``).

    Returns
    -------
    list of dict
        One entry per cell and engine, in grid order: ``cell``, ``engine`` and ``measures``, which maps each measure
        to flymodel.stats.mean_ci of its finite values over seeds (``mean``, ``std``, ``n``, ``ci_low``,
        ``ci_high``, ``confidence``), or to ``{"mean": None, "n": 0}`` where it is undefined at every seed.
    """
    out = []
    for cell in study.cells():
        for engine in study.engines:
            measures = {}
            for m in study.measures:
                finite = [v for v in _values(records, cell, engine, m).values() if np.isfinite(v)]
                measures[m] = mean_ci(finite) if finite else {"mean": None, "n": 0}  # undefined at every seed
            out.append({"cell": cell, "engine": engine, "measures": measures})
    return out


def holm(p: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (Holm 1979): p_(i) · (m − i + 1), made monotone and capped at 1.

    Parameters
    ----------
    p : list of float
        The m p-values of one family of tests.

    Returns
    -------
    list of float
        The adjusted p-values, in the order of ``p``: the i-th smallest p-value times m − i + 1, capped at 1 and
        never below the adjusted value of a smaller p-value.

    Examples
    --------
    >>> from flymodel.study.run import holm
    >>> [round(x, 3) for x in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    order = np.argsort(p)
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def contrasts(study: StudySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every cell against its reference cell, paired over seeds, per engine and measure, with Holm-adjusted p.

    The reference cell of a cell has the ``[contrasts] reference`` levels and the cell's other factors. Each
    contrast is the paired test of flymodel.stats.paired_test over the seeds at which both values are finite; the
    Holm adjustment runs over the contrasts of each engine and measure.

    Parameters
    ----------
    study : StudySpec
        The study, with its reference levels.
    records : list of dict
        Task records, each with ``cell``, ``seed``, ``engine`` and ``measures`` (as results.json's ``records``).

    Returns
    -------
    list of dict
        One entry per contrast: ``cell``, ``reference``, ``engine``, ``measure``, ``seeds``, the fields of
        flymodel.stats.paired_test (``n``, ``mean_difference`` of cell minus reference, ``ci_low``, ``ci_high``,
        ``confidence``, ``t``, ``p_t_test``, ``p_wilcoxon``, ``cohens_dz``) and ``p_holm``. Contrasts with fewer than
        2 usable seeds are left out; the list is empty for a study without a reference.
    """
    if not study.reference:
        return []
    out = []
    for engine in study.engines:
        for measure in study.measures:
            family = []
            for cell, reference in _against_reference(study):
                a, b = _values(records, cell, engine, measure), _values(records, reference, engine, measure)
                seeds = [s for s in study.seeds if np.isfinite(a[s]) and np.isfinite(b[s])]
                if len(seeds) < 2:
                    continue
                family.append({"cell": cell, "reference": reference, "engine": engine, "measure": measure,
                               "seeds": seeds, **paired_test([a[s] for s in seeds], [b[s] for s in seeds])})
            out += _with_holm(family)
    return out


def _against_reference(study: StudySpec) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every cell that is not a reference cell, with its reference cell (the reference levels, other factors equal)."""
    pairs = [(cell, {**cell, **study.reference}) for cell in study.cells()]
    return [(cell, reference) for cell, reference in pairs if cell != reference]


def _with_holm(family: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The family of paired tests, each with its Holm-adjusted p (an undefined t-test p counts as 1)."""
    adjusted = holm([c["p_t_test"] if c["p_t_test"] is not None else 1.0 for c in family])
    for contrast, p in zip(family, adjusted):
        contrast["p_holm"] = p
    return family


def loss_contrasts(study: StudySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paired test of the two ``[contrasts] loss`` measures' relative losses against the reference.

    For the two loss measures a and b, every cell against its reference cell per engine: per seed the relative
    losses 1 − a/a_ref and 1 − b/b_ref (seeds with a reference value <= 0 left out, and listed), their means with
    95 % CIs, and the paired test of loss_a − loss_b (Lin et al. 2014: similar odour pairs lose more discrimination
    than dissimilar ones when APL is blocked), with Holm-adjusted p over the cells of each engine.

    Parameters
    ----------
    study : StudySpec
        The study, with its reference levels and its two loss measures.
    records : list of dict
        Task records, each with ``cell``, ``seed``, ``engine`` and ``measures`` (as results.json's ``records``).

    Returns
    -------
    list of dict
        One entry per cell and engine: ``cell``, ``reference``, ``engine``, ``measures`` (the names of a and b),
        ``seeds``, ``excluded_seeds``, ``loss_<a>`` and ``loss_<b>`` (flymodel.stats.mean_ci of each relative loss),
        the fields of flymodel.stats.paired_test of loss_a against loss_b, and ``p_holm``. Cells with fewer than 2
        usable seeds are left out; the list is empty for a study without loss measures.
    """
    if not study.loss:
        return []
    a_name, b_name = study.loss
    out = []
    for engine in study.engines:
        family = []
        for cell, reference in _against_reference(study):
            losses: dict[str, dict[int, float]] = {}
            for name in study.loss:
                values, base = _values(records, cell, engine, name), _values(records, reference, engine, name)
                losses[name] = {s: 1 - values[s] / base[s] for s in study.seeds
                                if np.isfinite(values[s]) and np.isfinite(base[s]) and base[s] > 0}
            seeds = [s for s in study.seeds if s in losses[a_name] and s in losses[b_name]]
            if len(seeds) < 2:
                continue
            a, b = [losses[a_name][s] for s in seeds], [losses[b_name][s] for s in seeds]
            family.append({"cell": cell, "reference": reference, "engine": engine, "measures": [a_name, b_name],
                           "seeds": seeds, "excluded_seeds": [s for s in study.seeds if s not in seeds],
                           f"loss_{a_name}": mean_ci(a), f"loss_{b_name}": mean_ci(b), **paired_test(a, b)})
        out += _with_holm(family)
    return out
