"""Resumable tasks: a folder of task records keyed by a hash, and an executor that runs the missing ones.

The executor runs tasks in this process or on a dask.distributed cluster. Studies, the hashing comparisons and the
sweeps built on them (sparsity, Table 3's channel inhibition) all store their finished work here: each task is
written atomically to ``FOLDER/<key>.json`` as soon as it finishes, keyed by a hash of everything that decides its
numbers and of the code's version, so an interrupted or extended run computes only the tasks it has no file for.

``scheduler='none'`` runs the tasks in this process; ``'local'`` starts a LocalCluster of worker processes with one
thread each; any other value is the address of a running scheduler (e.g. ``tcp://host:8786`` from
``dask scheduler`` and ``dask worker``, or from dask-jobqueue).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from flymodel.io import package_versions, read_json, write_json

T = TypeVar("T")
#: The task folder's name inside an output folder.
TASKS_DIR = "tasks"
#: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in every worker it spawns; setting it disables glibc's dynamic mmap
#: threshold, so every large numpy array is mmap'ed and unmapped again, and study tasks ran 2–3× slower in workers
#: than in-process (measured on the claws study). flymodel's LocalCluster leaves it unset (None unsets it, per
#: distributed.nanny._get_env_variables); workers started by hand take the same setting from a Dask config file.
WORKER_ENVIRON = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: Packages whose versions are part of every task key: a new release recomputes instead of mixing results.
KEY_PACKAGES = ("flymodel", "torch", "numpy", "brian2")


@functools.cache
def _code_versions() -> tuple[tuple[str, str], ...]:
    """The versions of KEY_PACKAGES, read once per process (importlib.metadata takes milliseconds per call)."""
    return tuple(sorted(package_versions(KEY_PACKAGES).items()))


def task_key(fields: dict[str, Any]) -> str:
    """Return a hash of the fields that decide a task's numbers and of the code's version (`KEY_PACKAGES`).

    Parameters
    ----------
    fields : dict
        Everything that decides the task's result; serialised as JSON with sorted keys, values that JSON
        cannot write taken as their ``str``.

    Returns
    -------
    str
        The first 20 hexadecimal digits of the SHA-256 of the fields and the versions: the same fields give the
        same key until a package of `KEY_PACKAGES` changes version.
    """
    record = {**fields, "versions": dict(_code_versions())}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


class TaskStore:
    """A folder of finished task records, one JSON file per key, each written atomically.

    ``key in store`` tells whether a record is stored, ``len(store)`` counts the records.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder; created by the first `put`.

    Attributes
    ----------
    folder : Path
        The folder.
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        """Return the file of a key's record, stored or not.

        Parameters
        ----------
        key : str
            A task key (`task_key`).

        Returns
        -------
        Path
            ``folder/<key>.json``.
        """
        return self.folder / f"{key}.json"

    def __contains__(self, key: str) -> bool:
        return self.path(key).exists()

    def __len__(self) -> int:
        return len(list(self.folder.glob("*.json"))) if self.folder.is_dir() else 0

    def get(self, key: str) -> dict[str, Any]:
        """Read a stored record.

        Parameters
        ----------
        key : str
            A task key.

        Returns
        -------
        dict
            The record as written by `put`.

        Raises
        ------
        FileNotFoundError
            If no record is stored under `key`.
        """
        return read_json(self.path(key))

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Write a record atomically under a key, replacing any record stored there.

        Parameters
        ----------
        key : str
            A task key.
        record : dict
            The task's JSON-ready record.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.path(key), record)


def execute(function: Callable[[T], Any], tasks: Iterable[T], scheduler: str = "none", workers: int | None = None,
            timings: dict[str, float] | None = None) -> Iterator[tuple[T, Any]]:
    """Yield ``(task, function(task))`` as tasks finish, on the chosen scheduler.

    In this process the tasks run in their order; on a cluster they are yielded in the order they finish, and
    the dashboard's address is printed. An exception raised by `function` propagates when its task's result is
    reached. The cluster (or the connection to it) is closed when the generator ends or is closed.

    Parameters
    ----------
    function : callable
        Called once per task; on a cluster it and the tasks must be picklable.
    tasks : iterable
        The tasks, read at once into a list.
    scheduler : str, default "none"
        ``"none"``: in this process; ``"local"``: a LocalCluster of worker processes with one thread each;
        any other value: the address of a running Dask scheduler (see the module docstring).
    workers : int or None, default None
        Worker processes of a LocalCluster; None takes one per CPU core.
    timings : dict or None, default None
        If given, receives ``startup_seconds``: how long starting the cluster (or connecting to it) took
        (0.0 in this process).

    Yields
    ------
    tuple
        ``(task, result)`` for every task.
    """
    tasks = list(tasks)
    if timings is not None:
        timings["startup_seconds"] = 0.0
    if not tasks:
        return
    if scheduler == "none":
        for task in tasks:
            yield task, function(task)
        return
    import dask
    from distributed import Client, LocalCluster, as_completed

    started = time.perf_counter()
    cluster = None
    if scheduler == "local":
        environ = dict(os.environ)  # the nanny writes the workers' environment into this process's before it spawns
        with dask.config.set(WORKER_ENVIRON):
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True)
        os.environ.clear()
        os.environ.update(environ)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    if timings is not None:
        timings["startup_seconds"] = time.perf_counter() - started
    try:
        print(f"Dask dashboard: {client.dashboard_link}")
        futures = {client.submit(function, task, pure=False): task for task in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
