"""How a study scales out on Dask: the claws study (110 tasks) run in one go four ways, side by side in one run:

- serially in this process (--scheduler none; every task runs with one torch and one BLAS thread wherever it runs);
- on a LocalCluster of 1 and of 2 worker processes (one thread each), started by run_study;
- on a LocalCluster of 2 workers with Dask's default worker environment (MALLOC_TRIM_THRESHOLD_=65536, which
  flymodel unsets: flymodel.tasks.WORKER_ENVIRON), to measure what that setting costs;
- through an explicitly started scheduler and 2 worker processes on localhost (`dask scheduler`, `dask worker
  tcp://127.0.0.1:PORT`), the multi-node path, started and stopped here.

Every way must give identical records (asserted). Each time is run_study's wall time from its call to its results.json,
so the LocalCluster times include starting the cluster (also recorded apart, as scheduler_startup_seconds, with the
speed-ups of the time after it); the explicit cluster is started before the clock starts (its start-up is recorded
apart). Writes benchmarks/results/study_scaling.json (machine, versions, seeds, date).
With --larger-seeds N (default 40) the study also runs with N seeds in-process and on 2 workers, to show the speed-up
once the work outweighs the fixed costs (cluster start-up, each worker's imports and data loading).
Run: python benchmarks/study_scaling.py [--study claws] [--larger-seeds 40]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


import dask
from distributed import Client, LocalCluster

from flymodel.io import environment_info, write_json
from flymodel.study import load_study, run_study
from flymodel.study.tasks import make_tasks, run_task
from flymodel.tasks import WORKER_ENVIRON

RESULTS = Path(__file__).parent / "results" / "study_scaling.json"
#: Tasks timed one by one in one worker, with and without Dask's MALLOC_TRIM_THRESHOLD_.
PER_TASK = 30
#: The Dask config for workers started by hand (flymodel.tasks.WORKER_ENVIRON as YAML): leave glibc's malloc alone.
WORKER_CONFIG = "distributed:\n  nanny:\n    pre-spawn-environ:\n      MALLOC_TRIM_THRESHOLD_: null\n"
DASK = Path(sys.executable).parent / "dask"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(study, folder: Path, **kwargs) -> tuple[dict, list]:
    """run_study's wall time and cluster start-up, and its records."""
    started = time.perf_counter()
    results = run_study(study, folder, progress=False, **kwargs)
    return {"seconds": time.perf_counter() - started,
            "scheduler_startup_seconds": results["scheduler_startup_seconds"]}, results["records"]


def explicit_cluster(study, folder: Path, workers: int) -> dict:
    """Start `dask scheduler` and `workers` × `dask worker` on localhost, run the study through its address, stop
    them; return the timings."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    config = folder.parent / "dask_config"  # what README tells a user to put in ~/.config/dask/: see WORKER_CONFIG
    config.mkdir(exist_ok=True)
    (config / "flymodel.yaml").write_text(WORKER_CONFIG)
    env = {**os.environ, "DASK_CONFIG": str(config)}
    started = time.perf_counter()
    processes = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(workers):
            processes.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard"],
                                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        startup = time.perf_counter() - started
        times, records = timed(study, folder, scheduler=address)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    return {"address": address, "workers": workers, "cluster_startup_seconds": startup, **times, "records": records}


def scaling_runs(study, root: Path) -> tuple[dict, list]:
    """In-process, LocalCluster with 1 and 2 workers, and an explicit scheduler with 2 workers: timings, records."""
    runs = {}
    times, serial = timed(study, root / "none", scheduler="none")
    runs["none"] = {"scheduler": "none", "workers": 0, **times}
    for workers in (1, 2):
        times, records = timed(study, root / f"local{workers}", scheduler="local", workers=workers)
        assert records == serial, f"LocalCluster({workers}) gave other numbers than the in-process run"
        runs[f"local_{workers}"] = {"scheduler": "local", "workers": workers, **times}
    explicit = explicit_cluster(study, root / "address", 2)
    assert explicit.pop("records") == serial, "the explicit scheduler gave other numbers than the in-process run"
    runs["address_2"] = {"scheduler": "address", **explicit}
    return runs, serial


def larger_runs(study_name: str, seeds: int, root: Path) -> dict:
    """The study with more seeds, in-process and on 2 workers: how the speed-up grows once the work outweighs the
    fixed costs."""
    bigger = load_study(study_name, {"seeds": seeds})
    serial_times, serial = timed(bigger, root / "none", scheduler="none")
    local_times, records = timed(bigger, root / "local2", scheduler="local", workers=2)
    assert records == serial, "the larger study gave other numbers on 2 workers"
    return {"seeds": seeds, "tasks": len(serial), "none": serial_times, "local_2": local_times,
            "speedup": serial_times["seconds"] / local_times["seconds"],
            "compute_speedup": serial_times["seconds"] / (local_times["seconds"] - local_times["scheduler_startup_seconds"])}


def time_tasks(tasks: list) -> float:
    """Seconds to run the tasks one after another where this is called (in-process or in a worker)."""
    started = time.perf_counter()
    for task in tasks:
        run_task(task)
    return time.perf_counter() - started


def malloc_trim_runs(study, root: Path, serial: list) -> tuple[dict, dict]:
    """What Dask's default worker environment (MALLOC_TRIM_THRESHOLD_=65536) costs: the study on 2 such workers, and
    the first PER_TASK tasks in one worker with and without it, against in-process. Run last: a nanny writes its
    environment into this process's os.environ before it spawns, so every later child process would inherit it."""
    tasks = make_tasks(study)[:PER_TASK]
    per_task = {"tasks": len(tasks), "in_process_seconds": time_tasks(tasks)}
    for name, config in (("flymodel_environ", WORKER_ENVIRON), ("dask_default_environ", {})):
        with dask.config.set(config):
            cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            client.submit(time_tasks, tasks[:2], pure=False).result()  # imports and data loading
            per_task[f"{name}_seconds"] = client.submit(time_tasks, tasks, pure=False).result()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        times, records = timed(study, root / "malloc_trim", scheduler=cluster.scheduler_address)
    os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    assert records == serial, "workers with Dask's default environment gave other numbers"
    return {"scheduler": "LocalCluster, Dask's default worker environment", "workers": 2,
            "malloc_trim_threshold": 65536, **times}, per_task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="claws")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--larger-seeds", type=int, default=40,
                        help="also run the study with this many seeds, in-process and on 2 workers (0: not)")
    args = parser.parse_args(argv)
    study = load_study(args.study)
    with tempfile.TemporaryDirectory(prefix="flymodel_study_scaling_") as scratch:
        root = Path(scratch)
        runs, serial = scaling_runs(study, root / "runs")
        larger = larger_runs(args.study, args.larger_seeds, root / "larger") if args.larger_seeds else None
        runs["local_2_malloc_trim"], per_task = malloc_trim_runs(study, root, serial)
    for run in runs.values():
        run["compute_seconds"] = run["seconds"] - run["scheduler_startup_seconds"]
    for run in runs.values():
        for base in ("none", "local_1"):
            run[f"speedup_vs_{base}"] = runs[base]["seconds"] / run["seconds"]
            run[f"compute_speedup_vs_{base}"] = runs[base]["compute_seconds"] / run["compute_seconds"]
    for key, run in runs.items():
        print(f"{key}: {run['seconds']:.1f} s (start-up {run['scheduler_startup_seconds']:.1f} s), "
              f"{run['speedup_vs_none']:.2f}× in-process ({run['compute_speedup_vs_none']:.2f}× after start-up)")
    print(f"first {per_task['tasks']} tasks: in-process {per_task['in_process_seconds']:.2f} s, one worker "
          f"{per_task['flymodel_environ_seconds']:.2f} s (flymodel's environment), "
          f"{per_task['dask_default_environ_seconds']:.2f} s (Dask's default)")
    if larger:
        print(f"{larger['seeds']} seeds: in-process {larger['none']['seconds']:.1f} s, 2 workers "
              f"{larger['local_2']['seconds']:.1f} s ({larger['speedup']:.2f}×, {larger['compute_speedup']:.2f}× "
              "after start-up)")
    record = {"benchmark": "study_scaling", "study": study.name, "tasks": len(serial), "seeds": list(study.seeds),
              "identical_records": True, "target_speedup_2": 1.7, "cpu_count": os.cpu_count(), "runs": runs,
              "larger": larger, "malloc_trim_per_task": per_task, "environment": environment_info()}
    write_json(args.output, record)
    print(f"json: {args.output}")


if __name__ == "__main__":
    main()
