"""Run a study's tasks in-process or on a Dask cluster, store each finished task at once, and summarise.

scheduler='none' runs the tasks in this process; 'local' starts a dask.distributed LocalCluster of worker processes
(one thread each); any other value is the address of a running scheduler (e.g. tcp://host:8786 from `dask scheduler`
and `dask worker`, or from dask-jobqueue). Each finished task is written atomically to OUTPUT/tasks/<key>.json,
keyed by a hash of its cell, seed, engine, settings and code version: an interrupted or extended study reruns only
the tasks it has no file for.
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
from flymodel.study.tasks import Task, make_tasks, run_task

TASKS_DIR = "tasks"


def run_study(study: StudySpec, output_dir: str | os.PathLike[str], scheduler: str = "local",
              workers: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Run every task the output folder does not hold yet, then write OUTPUT/results.json; return its record."""
    started = time.perf_counter()
    store = Path(output_dir) / TASKS_DIR
    store.mkdir(parents=True, exist_ok=True)
    tasks = make_tasks(study)
    todo = [t for t in tasks if not (store / f"{t.key()}.json").exists()]
    ran = 0
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=f"study {study.name}", unit="task",
              disable=not progress) as bar:
        for task, measures in _execute(todo, scheduler, workers):
            write_json(store / f"{task.key()}.json", {"cell": task.cell, "seed": task.seed, "engine": task.engine,
                                                      "measures": measures})
            ran += 1
            bar.update()
    records = [read_json(store / f"{t.key()}.json") for t in tasks]
    results = {"study": study.name, "description": study.description, "source": study.source,
               "settings": _settings(study), "environment": environment_info(), "scheduler": scheduler,
               "tasks_run": ran, "tasks_total": len(tasks), "seconds": time.perf_counter() - started,
               "records": records, "cells": summarise(study, records), "contrasts": contrasts(study, records)}
    write_json(Path(output_dir) / "results.json", results)
    plot_study(read_json(Path(output_dir) / "results.json"), Path(output_dir))
    return results


def _execute(tasks: list[Task], scheduler: str, workers: int | None):
    """Yield (task, measures) as tasks finish, on the chosen scheduler."""
    if not tasks:
        return
    if scheduler == "none":
        for task in tasks:
            yield task, run_task(task)
        return
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        print(f"Dask dashboard: {client.dashboard_link}")
        futures = {client.submit(run_task, task, pure=False): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _settings(study: StudySpec) -> dict[str, Any]:
    return {"circuit": study.circuit.to_dict(), "factors": {k: list(v) for k, v in study.factors.items()},
            "seeds": list(study.seeds), "engines": list(study.engines), "readout": study.readout, "k": study.k,
            "coding_level": study.coding_level, "measures": list(study.measures), "trials": study.trials,
            "noise_hz": study.noise_hz, "pairs": study.pairs, "reference": study.reference,
            "spiking_presentation_ms": study.spiking_presentation_ms, "spiking_device": study.spiking_device}


def _values(records: list[dict[str, Any]], cell: dict[str, Any], engine: str, measure: str) -> dict[int, float]:
    return {r["seed"]: r["measures"][measure] for r in records if r["cell"] == cell and r["engine"] == engine}


def summarise(study: StudySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per cell and engine, each measure's mean, sd and 95 % t interval over seeds."""
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
    """Holm–Bonferroni adjusted p-values (Holm 1979): p_(i) · (m − i + 1), made monotone and capped at 1."""
    order = np.argsort(p)
    adjusted = np.empty(len(p))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


def contrasts(study: StudySpec, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every cell against its reference cell (the reference levels, other factors equal), paired over seeds, per
    engine and measure: the paired test of flymodel.stats, with Holm-adjusted p over the contrasts of each engine and
    measure."""
    if not study.reference:
        return []
    out = []
    for engine in study.engines:
        for measure in study.measures:
            family = []
            for cell in study.cells():
                reference = {**cell, **study.reference}
                if cell == reference:
                    continue
                a, b = _values(records, cell, engine, measure), _values(records, reference, engine, measure)
                seeds = [s for s in study.seeds if np.isfinite(a[s]) and np.isfinite(b[s])]
                if len(seeds) < 2:
                    continue
                family.append({"cell": cell, "reference": reference, "engine": engine, "measure": measure,
                               "seeds": seeds, **paired_test([a[s] for s in seeds], [b[s] for s in seeds])})
            adjusted = holm([c["p_t_test"] if c["p_t_test"] is not None else 1.0 for c in family])
            for contrast, p in zip(family, adjusted):
                contrast["p_holm"] = p
            out += family
    return out
