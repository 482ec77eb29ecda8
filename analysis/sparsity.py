"""The `sparsity` experiment (Ryali et al. 2020, Figure 4 and Appendix D): BioHash's mAP as the activity a = k/m of
the hash layer varies at fixed hash length k (m = round(k / a)), scored on validation queries carved out of the
training set, as the paper chose its activity (5 % on MNIST, 0.5 % on CIFAR-10).

Each (dataset, activity) is one flymodel.compare run of BioHash over the ks and seeds that fit (evaluation
"validation": 100 queries per class from the training set, the rest as training set and database; mAP@All on MNIST,
mAP@1000 on CIFAR-10, tie-aware). Every run is stored at once in output_dir/tasks/ (flymodel.tasks), keyed by its
settings, so an interrupted or extended sweep (more activities, ks or seeds) computes only the runs it lacks.
BioHash's other settings are those of the reproduction (flymodel.reproduce.BIOHASH_PARAMS: raw pixels on MNIST,
mean-centred pixels on CIFAR-10; Appendix D's schedule).

Deviations from the paper:
- the ks run by default are (2, 4, 8, 16, 32) on MNIST but only (2, 4) on CIFAR-10, where BioHash's cost grows with
  m·d (k = 32 at 0.5 % is m = 6,400 units on 3,072 inputs, ~30 minutes per fit on 2 CPU cores);
- combinations with m < k + 1 (no expansion left) or m > max_units are skipped and listed in the results;
- the activity is set through m = round(k / a), so the activity actually run, k/m, can differ slightly from the
  one asked for; both are recorded and the figure plots the actual one;
- the validation split is drawn per seed (the seed draws the split and BioHash's initial weights and sample order
  alike, as in flymodel.compare); the paper does not say how many splits or seeds it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import NullLocator

from flymodel.compare import CompareConfig, run_compare
from flymodel.data.protocols import get_protocol
from flymodel.experiment import Experiment
from flymodel.hashing.biohash import hidden_units
from flymodel.metrics import TIE_POLICIES
from flymodel.plots import plot_mean_ci, save_figure
from flymodel.reproduce import BIOHASH_PARAMS
from flymodel.stats import mean_ci, paired_test
from flymodel.tasks import TASKS_DIR
from flymodel.validation import check_choice, check_int, check_percent, check_seeds, check_values

#: Datasets with BioHash settings chosen by the paper (Appendix D).
DATASETS: tuple[str, ...] = tuple(BIOHASH_PARAMS)
#: How the figure names each dataset.
TITLES: dict[str, str] = {"mnist": "MNIST", "cifar10": "CIFAR-10"}


@dataclass(frozen=True)
class SparsityConfig:
    """Settings of the sparsity experiment; activities are percentages (a = k/m · 100)."""

    datasets: tuple[str, ...] = ("mnist", "cifar10")
    mnist_activities: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
    cifar10_activities: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
    mnist_ks: tuple[int, ...] = (2, 4, 8, 16, 32)
    cifar10_ks: tuple[int, ...] = (2, 4)
    seeds: tuple[int, ...] = (0, 1, 2)
    max_units: int = 6400
    ties: str = "expected"
    device: str = "cpu"

    def activities_of(self, dataset: str) -> tuple[float, ...]:
        """The activities (%) run on a dataset."""
        return getattr(self, f"{dataset}_activities")

    def ks_of(self, dataset: str) -> tuple[int, ...]:
        """The hash lengths run on a dataset."""
        return getattr(self, f"{dataset}_ks")

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        for dataset in check_values(self.datasets, "datasets"):
            check_choice(dataset, "datasets", DATASETS)
        for dataset in DATASETS:
            for activity in check_values(self.activities_of(dataset), f"{dataset}_activities"):
                check_percent(activity, f"{dataset}_activities")
            for k in check_values(self.ks_of(dataset), f"{dataset}_ks"):
                check_int(k, f"{dataset}_ks", minimum=1)
        check_seeds(self.seeds)
        check_int(self.max_units, "max_units", minimum=2)
        check_choice(self.ties, "ties", TIE_POLICIES)


def units_for(k: int, activity_percent: float) -> int:
    """m = round(k / a) hidden units for hash length k at activity a (in %), as BioHash computes it."""
    return hidden_units(k, None, activity_percent / 100)


def skip_reason(k: int, m: int, max_units: int) -> str | None:
    """Why the (k, m) combination is not run (no expansion, or more units than max_units), or None to run it."""
    if m < k + 1:
        return f"m={m} < k+1={k + 1}: no expansion left"
    if m > max_units:
        return f"m={m} > max_units={max_units}"
    return None


def _compare_config(config: SparsityConfig, dataset: str, activity: float, ks: tuple[int, ...]) -> CompareConfig:
    """compare's configuration of BioHash at one activity (%) on validation queries (Appendix D)."""
    params = {"activity": activity / 100, "centering": BIOHASH_PARAMS[dataset]["centering"]}
    return CompareConfig(dataset=dataset, methods=("biohash",), ks=ks, seeds=config.seeds, ties=config.ties,
                         evaluation="validation", device=config.device, method_params={"biohash": params})


def _point(records: list[dict[str, Any]], k: int, activity: float) -> dict[str, Any]:
    """One point of a k's curve: activity, m, per-seed mAP (fraction) with its mean_ci in %, fit times, epochs."""
    rows = sorted((r for r in records if r["k"] == k), key=lambda r: r["seed"])
    m = rows[0]["code_bits"]
    return {"activity": 100 * k / m, "requested_activity": activity, "m": m,
            "seeds": [r["seed"] for r in rows], "map": [r["map"] for r in rows],
            "map_percent": mean_ci([100 * r["map"] for r in rows]),
            "fit_seconds": [r["fit_seconds"] for r in rows],
            "epochs": [len(r["training_log"]) for r in rows],
            "final_mean_norm": [r["training_log"][-1]["mean_norm"] for r in rows]}


def _best(points: list[dict[str, Any]], paper_activity: float) -> dict[str, Any]:
    """The activity with the highest mean mAP, and a paired test of it against the paper's activity (if both ran)."""
    best = max(points, key=lambda p: p["map_percent"]["mean"])
    paper = next((p for p in points if math.isclose(p["requested_activity"], paper_activity)), None)
    versus = None
    if paper is not None and paper is not best and len(best["map"]) > 1:
        versus = paired_test([100 * v for v in best["map"]], [100 * v for v in paper["map"]])
    return {"activity": best["activity"], "requested_activity": best["requested_activity"], "m": best["m"],
            "map_percent": best["map_percent"], "versus_paper_activity": versus}


def run_dataset(config: SparsityConfig, dataset: str, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Run every activity × k that fits on one dataset; return its curves, best activities and skipped runs."""
    paper_activity = 100 * float(BIOHASH_PARAMS[dataset]["activity"])
    points: dict[int, list[dict[str, Any]]] = {k: [] for k in config.ks_of(dataset)}
    skipped: list[dict[str, Any]] = []
    for activity in sorted(config.activities_of(dataset)):
        ks = []
        for k in config.ks_of(dataset):
            m = units_for(k, activity)
            reason = skip_reason(k, m, config.max_units)
            if reason is None:
                ks.append(k)
            else:
                skipped.append({"k": k, "requested_activity": activity, "m": m, "reason": reason})
        if not ks:
            continue
        result = run_compare(_compare_config(config, dataset, activity, tuple(ks)), progress=progress,
                             store=output_dir / TASKS_DIR)
        for k in ks:
            points[k].append(_point(result["records"], k, activity))
    curves = {str(k): {"points": pts, "best": _best(pts, paper_activity)} for k, pts in points.items() if pts}
    return {"protocol": get_protocol(dataset).to_dict(), "evaluation": "validation",
            "centering": BIOHASH_PARAMS[dataset]["centering"], "paper_activity": paper_activity,
            "curves": curves, "skipped": skipped}


def run(config: SparsityConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Run the experiment on every dataset (resumable through output_dir/tasks/)."""
    datasets = {dataset: run_dataset(config, dataset, output_dir, progress) for dataset in config.datasets}
    return {"activity_unit": "%", "seeds": list(config.seeds), "datasets": datasets}


def _activity_ticks(ax: plt.Axes, activities: list[float]) -> None:
    """Put a tick labelled in plain numbers at each activity asked for (log axis), and no minor ticks."""
    ax.set_xticks(activities, [f"{a:.3g}" for a in activities])
    ax.xaxis.set_minor_locator(NullLocator())


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `sparsity`: one panel per dataset, mAP (%) against activity (%) on a log axis, one line per k with its
    95 % confidence band over seeds, the paper's activity dashed (Figure 4)."""
    datasets = results["datasets"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.2), squeeze=False)
    for ax, (dataset, record) in zip(axes[0], datasets.items()):
        activities: set[float] = set()
        for k, curve in record["curves"].items():
            points = curve["points"]
            activities.update(p["requested_activity"] for p in points)
            plot_mean_ci(ax, [p["activity"] for p in points], [p["map_percent"] for p in points], marker="o",
                         markersize=4, label=f"k = {k}")
        ax.axvline(record["paper_activity"], color="grey", linestyle="--", linewidth=1,
                   label=f"paper's choice ({record['paper_activity']:g} %)")
        ax.set_xscale("log")
        _activity_ticks(ax, sorted(activities))
        ax.set_xlabel("activity k/m (%)")
        ax.set_ylabel(f"{record['protocol']['metric']} on validation queries (%)")
        ax.set_title(f"{TITLES[dataset]}: BioHash, m = k / activity", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="best")
    n_seeds = len(results["seeds"])
    fig.suptitle(f"Effect of activity on retrieval (mean and 95 % CI over {n_seeds} seeds)", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, output_dir / "sparsity")


EXPERIMENT = Experiment(
    name="sparsity",
    description="BioHash mAP against the hash layer's activity k/m at fixed k, on validation queries (paper Figure 4)",
    config_type=SparsityConfig,
    run=run,
    plot=plot,
    presets={"quick": {"datasets": ("mnist",), "mnist_ks": (2, 4), "mnist_activities": (1.0, 5.0, 20.0),
                       "seeds": (0, 1)}},
)
