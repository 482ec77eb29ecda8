"""Atomic file writes and the provenance record (versions, machine, date) stored with every result.

Every results file is written through `atomic_path`, so that a reader (or a resumed run) never sees a
half-written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`: it replaces `path` in one step on success, and is removed on error.

    The parent folder is created if missing. The temporary file exists (empty) when yielded and has the mode
    that ``open()`` would give a new file under the process umask.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    Path
        A temporary file in the folder of `path` to write to, named ``.NAME.*.tmp``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file the mode open() would
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_json(data: Any) -> str:
    """Return data as indented JSON text; numpy scalars and arrays, paths and dataclasses are converted.

    Parameters
    ----------
    data : object
        JSON-ready data, which may also hold numpy scalars and arrays (as numbers and lists), paths (as
        strings) and dataclass instances (as dicts).

    Returns
    -------
    str
        The JSON text, indented by 2 spaces, without a final newline.

    Raises
    ------
    TypeError
        If `data` holds an object of another type.
    """
    return json.dumps(data, indent=2, default=_jsonable)


def _jsonable(obj: Any) -> Any:
    """Convert numpy scalars and arrays, paths and dataclass instances (e.g. a CircuitSpec) so json can write them."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write data as indented JSON, atomically (a reader never sees a half-written file).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder is created if missing.
    data : object
        JSON-ready data, converted as by `to_json`.

    Returns
    -------
    Path
        `path`.

    Raises
    ------
    TypeError
        If `data` holds an object that `to_json` cannot convert.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(to_json(data) + "\n")
    return Path(path)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file written by `write_json`.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    object
        The parsed data (numpy arrays and tuples come back as lists).
    """
    return json.loads(Path(path).read_text())


def package_versions(names: tuple[str, ...] = ("flymodel", "numpy", "scipy", "torch", "matplotlib", "brian2")) -> dict[str, str]:
    """Return the installed versions of the packages that shape results.

    Parameters
    ----------
    names : tuple of str, default ("flymodel", "numpy", "scipy", "torch", "matplotlib", "brian2")
        Distribution names to look up.

    Returns
    -------
    dict of str to str
        The version of each package, ``"not installed"`` where it is absent.
    """
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def environment_info() -> dict[str, Any]:
    """Return the machine, Python, package versions, torch threads and date, for results and benchmark JSON.

    Returns
    -------
    dict
        ``date`` (UTC, ISO 8601), ``python``, ``platform``, ``machine``, ``processor``, ``cpu_count``,
        ``torch_threads``, ``cuda`` (the name of CUDA device 0, or None) and ``versions``
        (`package_versions`).
    """
    import torch

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": package_versions(),
    }
