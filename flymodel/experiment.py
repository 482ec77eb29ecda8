"""The shape every analysis shares: config → run → results JSON → figures drawn from that JSON alone.

A config comes from defaults in code, a preset, a file and command-line values; the run's results JSON holds the
config, the environment, timings and raw numbers; the figures are drawn from that JSON alone, so they can be
redrawn later.

An experiment module in ``analysis/`` defines a frozen dataclass of settings (with an optional ``validate()`` that
raises a ValueError naming the bad field) and an `Experiment` record; ``flymodel analyze NAME`` runs it
(`make_config`, then `run_experiment`), ``flymodel figure NAME`` redraws its figures from ``results.json``
(`redraw`).
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flymodel.io import environment_info, read_json, write_json

__all__ = ["Experiment", "make_config", "redraw", "run_experiment"]

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class Experiment:
    """One analysis: its settings type, how to run it and how to draw its figures from the results.

    The fields are the constructor's arguments.

    Attributes
    ----------
    name : str
        Name of the experiment, as given to ``flymodel analyze NAME``; recorded in the results.
    description : str
        One line on what the experiment measures (shown by ``flymodel analyze --list``).
    config_type : type
        A dataclass of settings whose every field has a default; an optional ``validate()`` method raises a
        ValueError naming a bad field.
    run : callable
        ``run(config, output_dir, progress) → dict``: computes the results body (JSON-ready raw numbers) for a
        config, may write more files into ``output_dir``, and shows progress bars when ``progress``.
    plot : callable
        ``plot(results, output_dir) → dict of str to Path``: draws the figures from the results record alone
        (as read back from ``results.json``) and returns their paths by name.
    presets : Mapping of str to Mapping, default {}
        Named sets of settings (field → value), applied over the defaults by `make_config`.

    See Also
    --------
    make_config : The settings of a run, from defaults, preset, file and overrides.
    run_experiment : Run an experiment and draw its figures.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from flymodel.experiment import Experiment, make_config
    >>> @dataclass(frozen=True)
    ... class NoiseConfig:
    ...     seeds: tuple = (0, 1, 2)
    ...     scale: float = 1.0
    >>> def run(config, output_dir, progress):
    ...     import numpy as np
    ...     return {"values": [config.scale * np.random.default_rng(s).normal() for s in config.seeds]}
    >>> def plot(results, output_dir):
    ...     return {}  # no figure
    >>> noise = Experiment("noise", "one Gaussian draw per seed", NoiseConfig, run, plot,
    ...                    presets={"quick": {"seeds": [0]}})
    >>> make_config(noise, preset="quick", overrides={"scale": 2})
    NoiseConfig(seeds=(0,), scale=2.0)
    """

    name: str
    description: str
    config_type: type
    run: Callable[[Any, Path, bool], dict[str, Any]]
    plot: Callable[[dict[str, Any], Path], dict[str, Path]]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Give a file or command-line value the type of the field's default (lists become tuples, ints become floats)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{name}={value!r} must be true or false")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name}={value!r} must be a list, like the default {list(default)}")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if default is not None and not isinstance(value, type(default)):
        raise TypeError(f"{name}={value!r} must be of type {type(default).__name__}, like the default {default!r}")
    return value


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read settings from a .toml or .json file: a flat table of field = value.

    Parameters
    ----------
    path : str or Path
        The file; its suffix (``.toml`` or ``.json``) decides how it is parsed.

    Returns
    -------
    dict
        The settings by field name, with the values as parsed (TOML arrays and JSON lists are lists).

    Raises
    ------
    FileNotFoundError
        If `path` is not a file.
    ValueError
        If the suffix is neither ``.toml`` nor ``.json``, or if the file does not parse
        (``tomllib.TOMLDecodeError`` and ``json.JSONDecodeError`` are ValueErrors).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())
    if path.suffix == ".json":
        return json.loads(path.read_text())
    raise ValueError(f"config file {path} must end in .toml or .json")


def make_config(experiment: Experiment, preset: str | None = None, file: str | Path | None = None,
                overrides: Mapping[str, Any] | None = None) -> Any:
    """Build the experiment's settings: the defaults, then the preset, the file and the overrides, validated.

    Each layer replaces the fields it names. A value takes the type of the field's default: lists become tuples
    (nested lists too, one level down), ints become floats for float fields; other mismatches are refused.

    Parameters
    ----------
    experiment : Experiment
        The experiment whose ``config_type`` and presets are used.
    preset : str or None, default None
        Name of one of the experiment's presets.
    file : str or Path or None, default None
        A .toml or .json file of settings (see `read_config_file`).
    overrides : Mapping or None, default None
        Field → value, applied last (the command line's ``--set``).

    Returns
    -------
    object
        An instance of ``experiment.config_type``, after its ``validate()`` if it has one.

    Raises
    ------
    ValueError
        If `preset` is not a preset of the experiment, if a layer names a field the settings do not have, if
        the file cannot be read (see `read_config_file`), or if ``validate()`` refuses the settings.
    TypeError
        If a value's type does not match the field's default (a bool for a bool, a list for a tuple, ...).
    FileNotFoundError
        If `file` does not exist.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from flymodel.experiment import Experiment, make_config
    >>> @dataclass(frozen=True)
    ... class Settings:
    ...     seeds: tuple = (0, 1, 2)
    ...     scale: float = 1.0
    >>> toy = Experiment("toy", "a toy", Settings, run=None, plot=None, presets={"quick": {"seeds": [0]}})
    >>> make_config(toy)
    Settings(seeds=(0, 1, 2), scale=1.0)
    >>> make_config(toy, preset="quick", overrides={"scale": 3})
    Settings(seeds=(0,), scale=3.0)
    >>> make_config(toy, overrides={"sclae": 3})
    Traceback (most recent call last):
    ...
    ValueError: --set: toy has no setting 'sclae'; expected one of: seeds, scale
    """
    defaults = experiment.config_type()
    fields = {f.name: getattr(defaults, f.name) for f in dataclasses.fields(defaults)}
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if preset is not None:
        if preset not in experiment.presets:
            raise ValueError(f"preset={preset!r} is not a preset of {experiment.name}; expected one of: "
                             + (", ".join(experiment.presets) or "(none)"))
        layers.append((f"preset {preset}", experiment.presets[preset]))
    if file is not None:
        layers.append((str(file), read_config_file(file)))
    layers.append(("--set", overrides or {}))
    changes: dict[str, Any] = {}
    for where, values in layers:
        for name, value in values.items():
            if name not in fields:
                raise ValueError(f"{where}: {experiment.name} has no setting {name!r}; expected one of: "
                                 + ", ".join(fields))
            changes[name] = _coerce(name, value, fields[name])
    config = dataclasses.replace(defaults, **changes)
    if hasattr(config, "validate"):
        config.validate()
    return config


def run_experiment(experiment: Experiment, config: Any, output_dir: str | Path,
                   progress: bool = True) -> tuple[dict[str, Any], dict[str, Path]]:
    """Run an experiment, write ``output_dir/results.json`` atomically and draw the figures from it.

    The figures are drawn from the results as read back from the file, so that `redraw` gives the same
    figures later.

    Parameters
    ----------
    experiment : Experiment
        The experiment to run.
    config : object
        Its settings, an instance of ``experiment.config_type`` (see `make_config`).
    output_dir : str or Path
        Folder for ``results.json``, the figures and any other files the run writes; created if missing.
    progress : bool, default True
        Passed to the experiment's run: show its progress bars.

    Returns
    -------
    results : dict
        ``experiment``, ``description``, ``config`` (the settings as a dict), ``environment`` (versions,
        machine, date: `flymodel.io.environment_info`), ``total_seconds`` (the run's wall time), then the
        entries of the run's body.
    paths : dict of str to Path
        ``json``: the results file, then the paths returned by the experiment's plot.

    See Also
    --------
    redraw : Draw the figures again from ``results.json``.

    Examples
    --------
    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> import matplotlib.pyplot as plt
    >>> from flymodel.experiment import Experiment, make_config, run_experiment
    >>> from flymodel.plots import save_figure
    >>> @dataclass(frozen=True)
    ... class NoiseConfig:
    ...     seeds: tuple = (0, 1, 2)
    ...     scale: float = 1.0
    >>> def run(config, output_dir, progress):
    ...     import numpy as np
    ...     return {"values": [config.scale * np.random.default_rng(s).normal() for s in config.seeds]}
    >>> def plot(results, output_dir):
    ...     fig, ax = plt.subplots()
    ...     ax.plot(results["values"], "o")
    ...     return save_figure(fig, output_dir / "values")  # values.png and values.pdf
    >>> noise = Experiment("noise", "one Gaussian draw per seed", NoiseConfig, run, plot)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     results, paths = run_experiment(noise, make_config(noise), tmp, progress=False)
    ...     written = sorted(path.name for path in paths.values())
    >>> results["experiment"], results["config"], len(results["values"])
    ('noise', {'seeds': (0, 1, 2), 'scale': 1.0}, 3)
    >>> written
    ['results.json', 'values.pdf', 'values.png']
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    body = experiment.run(config, output_dir, progress)
    results = {"experiment": experiment.name, "description": experiment.description,
               "config": dataclasses.asdict(config), "environment": environment_info(),
               "total_seconds": time.perf_counter() - started, **body}
    paths = {"json": write_json(output_dir / RESULTS_FILE, results)}
    paths.update(experiment.plot(read_json(output_dir / RESULTS_FILE), output_dir))
    return results, paths


def redraw(experiment: Experiment, results_dir: str | Path, output_dir: str | Path | None = None) -> dict[str, Path]:
    """Draw an experiment's figures again from ``results_dir/results.json``, without running anything.

    Parameters
    ----------
    experiment : Experiment
        The experiment that wrote the results.
    results_dir : str or Path
        Folder holding ``results.json``.
    output_dir : str or Path or None, default None
        Where to write the figures; None writes them beside ``results.json``.

    Returns
    -------
    dict of str to Path
        The paths returned by the experiment's plot.

    Raises
    ------
    FileNotFoundError
        If ``results_dir/results.json`` does not exist.
    ValueError
        If the file holds the results of another experiment.

    Examples
    --------
    Figures are drawn again from the results file alone, into another folder (``flymodel figure NAME`` does this):

    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from pathlib import Path
    >>> import matplotlib.pyplot as plt
    >>> from flymodel.experiment import Experiment, make_config, redraw, run_experiment
    >>> from flymodel.plots import save_figure
    >>> @dataclass(frozen=True)
    ... class LineConfig:
    ...     slope: float = 2.0
    >>> def plot(results, output_dir):
    ...     fig, ax = plt.subplots()
    ...     ax.plot(results["y"])
    ...     return save_figure(fig, output_dir / "line")
    >>> line = Experiment("line", "a straight line", LineConfig,
    ...                   lambda config, output_dir, progress: {"y": [config.slope * x for x in range(3)]}, plot)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = run_experiment(line, make_config(line), tmp, progress=False)
    ...     paths = redraw(line, tmp, Path(tmp) / "again")
    ...     drawn = sorted(str(path.relative_to(tmp)) for path in paths.values())
    >>> drawn
    ['again/line.pdf', 'again/line.png']
    """
    path = Path(results_dir) / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `flymodel analyze {experiment.name}` first "
                                "(or pass --results DIR)")
    results = read_json(path)
    if results.get("experiment") != experiment.name:
        raise ValueError(f"{path} holds results of experiment {results.get('experiment')!r}, not {experiment.name!r}")
    return experiment.plot(results, Path(output_dir or results_dir))
