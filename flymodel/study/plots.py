"""Figures of a study, drawn from its results.json alone.

Each measure against the first factor with 95 % CI bands (a line per level of a second factor, a column per
engine), and the contrasts against the reference with their CIs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from flymodel.plots import save_figure


def _levels(values: list[Any]) -> tuple[np.ndarray, list[str]]:
    """x positions and tick labels: the levels themselves when numeric, else their order."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), [f"{v:g}" for v in values]
    return np.arange(len(values), dtype=float), [str(v) for v in values]


def plot_measures(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Each measure (rows) against the first factor, per engine (columns).

    One line per level of the second factor, each the mean over seeds with its 95 % CI band; a study without
    factors gets one point per measure.

    Parameters
    ----------
    results : dict
        A study's results record, as flymodel.study.run_study returns it or results.json holds it.
    output_dir : Path
        The folder the figure files are written to.

    Returns
    -------
    dict of str to Path
        The files written, by format: ``"png"`` (study_measures.png, 150 dpi) and ``"pdf"`` (study_measures.pdf) in
        ``output_dir``.
    """
    settings = results["settings"]
    factors, measures, engines = list(settings["factors"]), settings["measures"], settings["engines"]
    first = factors[0] if factors else None
    second = factors[1] if len(factors) > 1 else None
    xs, labels = _levels(settings["factors"][first]) if first else (np.zeros(1), [""])
    fig, axes = plt.subplots(len(measures), len(engines), figsize=(4.5 * len(engines), 2.6 * len(measures)),
                             squeeze=False, sharex=True)
    groups = settings["factors"][second] if second else [None]
    for col, engine in enumerate(engines):
        for row, measure in enumerate(measures):
            ax = axes[row, col]
            for level in groups:
                cells = [c for c in results["cells"] if c["engine"] == engine
                         and (second is None or c["cell"][second] == level)]
                stats = [c["measures"][measure] for c in cells]
                mean = np.array([np.nan if s["mean"] is None else s["mean"] for s in stats], dtype=float)
                low = np.array([s.get("ci_low", np.nan) for s in stats], dtype=float)
                high = np.array([s.get("ci_high", np.nan) for s in stats], dtype=float)
                label = None if second is None else f"{second} = {level}"
                ax.plot(xs[:len(mean)], mean, "o-", ms=3, label=label)
                ax.fill_between(xs[:len(mean)], low, high, alpha=0.2)
            ax.set_ylabel(measure.replace("_", " "), fontsize=8)
            if row == 0:
                ax.set_title(f"{engine} engine")
            if row == len(measures) - 1:
                ax.set_xticks(xs, labels, fontsize=7)
                ax.set_xlabel(first or "")
    if second:
        axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"study {results['study']}: mean and 95 % CI over {len(settings['seeds'])} seeds")
    fig.tight_layout()
    return save_figure(fig, output_dir / "study_measures")


def plot_contrasts(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Each measure's difference from the reference cell (paired over seeds), with its 95 % CI, per level.

    One panel per measure (rows) and engine (columns); a star marks a contrast with Holm-adjusted p < 0.05.

    Parameters
    ----------
    results : dict
        A study's results record, as flymodel.study.run_study returns it or results.json holds it.
    output_dir : Path
        The folder the figure files are written to.

    Returns
    -------
    dict of str to Path
        The files written, by format: ``"png"`` (study_contrasts.png, 150 dpi) and ``"pdf"`` (study_contrasts.pdf) in
        ``output_dir``.
    """
    contrasts = results["contrasts"]
    measures = list(dict.fromkeys(c["measure"] for c in contrasts))
    engines = list(dict.fromkeys(c["engine"] for c in contrasts))
    fig, axes = plt.subplots(len(measures), len(engines), figsize=(4.5 * len(engines), 2.4 * len(measures)),
                             squeeze=False)
    for col, engine in enumerate(engines):
        for row, measure in enumerate(measures):
            ax = axes[row, col]
            rows = [c for c in contrasts if c["engine"] == engine and c["measure"] == measure]
            names = [", ".join(f"{k}={v}" for k, v in c["cell"].items()) for c in rows]
            mean = np.array([c["mean_difference"] for c in rows])
            errors = np.array([[m - c["ci_low"], c["ci_high"] - m] for m, c in zip(mean, rows)]).T
            marks = ["*" if c["p_holm"] < 0.05 else "" for c in rows]
            ax.errorbar(range(len(rows)), mean, yerr=errors, fmt="o", ms=3, capsize=2)
            for i, mark in enumerate(marks):
                ax.annotate(mark, (i, mean[i]), textcoords="offset points", xytext=(4, 4), fontsize=9)
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xticks(range(len(rows)), names, rotation=60, fontsize=6)
            ax.set_ylabel(f"Δ {measure.replace('_', ' ')}", fontsize=8)
            if row == 0:
                ax.set_title(f"{engine}: against {results['settings']['reference']} (* Holm p < 0.05)", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, output_dir / "study_contrasts")


def plot_losses(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """The ``[contrasts] loss`` test per engine: both measures' relative losses and their paired difference.

    Top row: each loss measure's relative loss against the reference, 1 − x / x(reference) in %, mean and 95 % CI
    over seeds per cell. Bottom row: their paired difference with its CI, a star where Holm-adjusted p < 0.05.

    Parameters
    ----------
    results : dict
        A study's results record, as flymodel.study.run_study returns it or results.json holds it.
    output_dir : Path
        The folder the figure files are written to.

    Returns
    -------
    dict of str to Path
        The files written, by format: ``"png"`` (study_losses.png, 150 dpi) and ``"pdf"`` (study_losses.pdf) in
        ``output_dir``.
    """
    losses = results["loss_contrasts"]
    a, b = results["settings"]["loss"]
    engines = list(dict.fromkeys(c["engine"] for c in losses))
    fig, axes = plt.subplots(2, len(engines), figsize=(4.5 * len(engines), 5.6), squeeze=False, sharex="col")
    for col, engine in enumerate(engines):
        rows = [c for c in losses if c["engine"] == engine]
        names = [", ".join(f"{k}={v}" for k, v in c["cell"].items()) for c in rows]
        x = np.arange(len(rows))
        for offset, measure in ((-0.08, a), (0.08, b)):
            stats = [c[f"loss_{measure}"] for c in rows]
            mean = np.array([100 * s["mean"] for s in stats])
            errors = np.array([[m - 100 * s["ci_low"], 100 * s["ci_high"] - m] for m, s in zip(mean, stats)]).T
            axes[0, col].errorbar(x + offset, mean, yerr=errors, fmt="o", ms=4, capsize=2,
                                  label=measure.replace("_", " "))
        difference = np.array([100 * c["mean_difference"] for c in rows])
        errors = np.array([[d - 100 * c["ci_low"], 100 * c["ci_high"] - d] for d, c in zip(difference, rows)]).T
        axes[1, col].errorbar(x, difference, yerr=errors, fmt="o", ms=4, capsize=2, color="k")
        for i, c in enumerate(rows):
            if c["p_holm"] < 0.05:
                axes[1, col].annotate("*", (i, difference[i]), textcoords="offset points", xytext=(5, 3))
        for ax in axes[:, col]:
            ax.axhline(0, color="k", lw=0.6)
            ax.grid(True, alpha=0.3)
        axes[0, col].set_title(f"{engine} engine: against {results['settings']['reference']}", fontsize=8)
        axes[0, col].set_ylabel("relative loss (%)", fontsize=8)
        axes[1, col].set_ylabel("loss difference (%)\n(* Holm p < 0.05)", fontsize=8)
        axes[1, col].set_xticks(x, names, rotation=45, fontsize=7)
        axes[0, col].legend(fontsize=7)
    fig.suptitle(f"study {results['study']}: 1 − x / x(reference), paired over {len(results['settings']['seeds'])} seeds")
    fig.tight_layout()
    return save_figure(fig, output_dir / "study_losses")


def plot_study(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Every figure of a study from its results record.

    The measures figure always; the contrasts figure if the study has contrasts, and the losses figure if it has
    loss contrasts.

    Parameters
    ----------
    results : dict
        A study's results record, as flymodel.study.run_study returns it or results.json holds it.
    output_dir : Path
        The folder the figure files are written to.

    Returns
    -------
    dict of str to Path
        The files written, keyed ``measures_png``, ``measures_pdf``, ``contrasts_png``, ``contrasts_pdf``,
        ``losses_png`` and ``losses_pdf`` (those of the figures drawn).
    """
    paths = {f"measures_{k}": v for k, v in plot_measures(results, output_dir).items()}
    if results["contrasts"]:
        paths.update({f"contrasts_{k}": v for k, v in plot_contrasts(results, output_dir).items()})
    if results.get("loss_contrasts"):
        paths.update({f"losses_{k}": v for k, v in plot_losses(results, output_dir).items()})
    return paths
