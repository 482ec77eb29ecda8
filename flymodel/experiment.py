"""The shape every analysis shares: a config (defaults in code, a preset, a file, command-line values) → run → results
JSON (config, environment, timings, raw numbers) → figures drawn from that JSON alone, so they can be redrawn later.

An experiment module in analysis/ defines a frozen dataclass of settings (with an optional validate() that raises a
ValueError naming the bad field) and an Experiment record; `flymodel analyze NAME` runs it, `flymodel figure NAME`
redraws its figures from results.json.
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

RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class Experiment:
    """One analysis: its settings type, run(config, output_dir, progress) → results body, plot(results, output_dir)."""

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
    """Settings from a .toml or .json file: a flat table of field = value."""
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
    """The experiment's settings: the defaults, then the preset, then the file, then the overrides, validated."""
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
    """Run, write output_dir/results.json atomically, draw the figures from it; return the results and the paths."""
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
    """Draw an experiment's figures again from results_dir/results.json, without running anything."""
    path = Path(results_dir) / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `flymodel analyze {experiment.name}` first "
                                "(or pass --results DIR)")
    results = read_json(path)
    if results.get("experiment") != experiment.name:
        raise ValueError(f"{path} holds results of experiment {results.get('experiment')!r}, not {experiment.name!r}")
    return experiment.plot(results, Path(output_dir or results_dir))
