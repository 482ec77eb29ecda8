"""The settings that `make run` (the main job) uses: every analysis and preset named in the Makefile loads through the
analysis registry and make_config, validates, and runs end to end into results.json and its figures.

The runs keep each preset's settings and shrink only sizes (seeds, KCs, pairs, trials, points, grid rows, epochs of the
inhibition experiment's learning) and the data: MNIST is cut to its first IMAGES[name] images by patching the
protocols' loader (sparsity needs 3,000: its validation queries take 100 per class from the protocol's database).
The inhibition run keeps the main job's cpp_standalone spiking device, so it builds one Brian2 project per seed
(10–20 s each) and is marked `standalone`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import flymodel.data.protocols as protocols
from analysis import EXPERIMENTS, get_experiment
from flymodel.data.images import ImageDataset, load_mnist
from flymodel.experiment import make_config, run_experiment

ROOT = Path(__file__).resolve().parents[1]
#: (analysis, preset) of every `flymodel analyze` line of the Makefile's run target, in order.
MAIN_JOB = [("inhibition", "main"), ("hashing_quality", "quick"), ("sparsity", "quick"), ("activity_tsne", "quick"),
            ("portraits", None)]
#: Per analysis, the sizes shrunk for the test (every other setting is the preset's or the default).
SIZES = {
    "inhibition": {"seeds": (0, 1), "kc_n": 200, "n_pairs": 2, "n_trials": 4, "learn_trials": 4, "learn_epochs": 5},
    "hashing_quality": {"grid_queries": 2},
    "sparsity": {},
    "activity_tsne": {"seeds": (0, 1), "n_points": 150},
    "portraits": {"n_shown": 16},
}
#: Per analysis, the MNIST images its protocols load (the first ones; the inhibition experiment reads no images).
IMAGES = {"inhibition": 1500, "hashing_quality": 1500, "sparsity": 3000, "activity_tsne": 1500, "portraits": 1500}
#: Figures (PNG and PDF each) that each analysis draws at these settings.
FIGURES = {
    "inhibition": ["inhibition_measures", "inhibition_lin2014", "inhibition_noise"],
    "hashing_quality": ["hashing_quality_mnist", "precision_recall_mnist", "retrieval_grid_mnist"],
    "sparsity": ["sparsity"],
    "activity_tsne": ["activity_tsne"],
    "portraits": ["portraits_synapses", "portraits_learning"],
}


def _make_run_lines() -> list[tuple[str, str | None]]:
    """The (analysis, preset) of each `$(ANALYZE) NAME [--preset P]` line of the Makefile's run target."""
    recipe = re.search(r"^run:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    lines = re.findall(r"\$\(ANALYZE\) (\w+)(?: --preset (\w+))?", recipe)
    return [(name, preset or None) for name, preset in lines]


def test_the_list_is_the_makefiles_main_job():
    """MAIN_JOB is exactly what `make run` runs, so the tests below check the main job's own settings."""
    assert _make_run_lines() == MAIN_JOB


@pytest.mark.parametrize("name, preset", MAIN_JOB)
def test_main_job_settings_load_and_validate(name, preset):
    """The registry finds the analysis, make_config applies its preset over the defaults and validates the result."""
    assert name in EXPERIMENTS
    experiment = get_experiment(name)
    config = make_config(experiment, preset=preset)
    settings = experiment.presets[preset] if preset else {}
    for key, value in settings.items():
        assert getattr(config, key) == value, key
    defaults = experiment.config_type()
    changed = {f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(defaults, f.name)}
    assert changed == {key for key, value in settings.items() if getattr(defaults, key) != value}


@pytest.fixture(scope="module")
def mnist():
    """MNIST, loaded once for the module."""
    return load_mnist()


@pytest.mark.parametrize("name, preset", [pytest.param(*run, marks=pytest.mark.standalone) if run[0] == "inhibition"
                                          else run for run in MAIN_JOB])
def test_main_job_runs_end_to_end(name, preset, mnist, tmp_path, monkeypatch):
    """Each main-job analysis runs at its preset with only sizes shrunk, writing results.json (its settings recorded)
    and every figure as PNG and PDF into the output folder, and no temporary file."""
    n = IMAGES[name]
    small = ImageDataset("mnist", mnist.images[:n], mnist.labels[:n], n, mnist.class_names)
    monkeypatch.setattr(protocols, "load_dataset", lambda name, root=None: small)
    experiment = get_experiment(name)
    config = make_config(experiment, preset=preset, overrides=SIZES[name])
    kept = {**dataclasses.asdict(make_config(experiment, preset=preset))}
    assert {k: v for k, v in dataclasses.asdict(config).items() if k not in SIZES[name]} == \
        {k: v for k, v in kept.items() if k not in SIZES[name]}  # only the sizes differ from the main job's settings
    results, paths = run_experiment(experiment, config, tmp_path, progress=False)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert stored["experiment"] == name and stored["config"] == json.loads(json.dumps(dataclasses.asdict(config)))
    figures = sorted(f"{stem}.{ext}" for stem in FIGURES[name] for ext in ("png", "pdf"))
    written = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".png", ".pdf"))
    assert written == figures
    for figure in figures:
        head = (tmp_path / figure).read_bytes()[:8]
        assert head.startswith(b"\x89PNG" if figure.endswith(".png") else b"%PDF"), figure
    assert {p.name for p in paths.values()} >= {"results.json", *figures}
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]
