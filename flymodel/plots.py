"""Figure helpers (headless matplotlib): figures drawn from a results record, saved as PNG and PDF.

Importing the module selects matplotlib's non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from flymodel.io import atomic_path  # noqa: E402


def save_figure(fig: plt.Figure, stem: str | Path) -> dict[str, Path]:
    """Save fig as stem.png (150 dpi) and stem.pdf, atomically, close it, and return the paths.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; closed afterwards.
    stem : str or Path
        Path without suffix; its folder is created if missing.

    Returns
    -------
    dict of str to Path
        ``png`` and ``pdf``: the files written.
    """
    paths = {}
    for ext in ("png", "pdf"):
        path = Path(f"{stem}.{ext}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
        paths[ext] = path
    plt.close(fig)
    return paths


def plot_map_vs_k(results: dict[str, Any], stem: str | Path) -> dict[str, Path]:
    """Plot mAP against hash length k, one line per method, and save it as PNG and PDF.

    Each method is drawn as its mean ± std over seeds, the paper's values dashed with open markers.

    Parameters
    ----------
    results : dict
        A compare (or reproduce) results record: its ``summary``, ``protocol``, ``evaluation`` and
        ``tie_policy`` are drawn.
    stem : str or Path
        Path of the figure without suffix.

    Returns
    -------
    dict of str to Path
        ``png`` and ``pdf``: the files written.
    """
    summary = results["summary"]
    fig, ax = plt.subplots(figsize=(7.6, 4.4))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    n_seeds = max(s["n"] for per_k in summary.values() for s in per_k.values())
    for i, (method, per_k) in enumerate(summary.items()):
        colour = colours[i % len(colours)]
        ks = sorted(int(k) for k in per_k)
        means = [per_k[str(k)]["mean"] for k in ks]
        stds = [per_k[str(k)]["std"] for k in ks]
        ax.errorbar(ks, means, yerr=stds, marker="o", capsize=3, color=colour, label=method)
        paper = [(k, per_k[str(k)]["paper"]) for k in ks if per_k[str(k)]["paper"] is not None]
        if paper:
            ax.plot(*zip(*paper), linestyle="--", marker="s", markerfacecolor="none", color=colour, alpha=0.7)
    ax.plot([], [], color="grey", marker="o", label=f"ours, mean ± std ({n_seeds} seeds)")
    ax.plot([], [], color="grey", linestyle="--", marker="s", markerfacecolor="none", label="Ryali et al. 2020")
    ax.set_xscale("log", base=2)
    all_ks = sorted({int(k) for per_k in summary.values() for k in per_k})
    ax.set_xticks(all_ks, [str(k) for k in all_ks])
    ax.set_xlabel("hash length k (active units or bits)")
    ax.set_ylabel(f"{results['protocol']['metric']} (%)")
    ax.set_title(f"{results['protocol']['dataset']}: {results['evaluation']} set, ties={results['tie_policy']}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, stem)


def plot_kc_raster(summary: dict[str, Any], stem: str | Path) -> dict[str, Path]:
    """Plot the KC spike raster of the first presentations with the APL activity below, and save it.

    Parameters
    ----------
    summary : dict
        A simulate results record (``SpikingResult.summary()``): its ``raster``, ``circuit``,
        ``apl_gain_mv`` and ``device`` are drawn.
    stem : str or Path
        Path of the figure without suffix.

    Returns
    -------
    dict of str to Path
        ``png`` and ``pdf``: the files written.
    """
    raster = summary["raster"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot(raster["time_s"], raster["kc"], "|", color="black", markersize=2, alpha=0.6)
    bottom.plot(raster["apl_time_s"], raster["apl_activity"], color="tab:red", lw=1)
    edges = raster["presentation_edges_s"]
    for ax in (top, bottom):
        for edge in edges[1:-1]:
            ax.axvline(edge, color="grey", lw=0.5, ls=":")
    for name, left, right in zip(raster["stimuli"], edges[:-1], edges[1:]):
        top.text((left + right) / 2, 1.01, name, transform=top.get_xaxis_transform(), ha="center", va="bottom",
                 fontsize=7, clip_on=False)
    top.set_ylabel("Kenyon cell")
    top.set_ylim(-0.5, summary["circuit"]["kc"]["n"] - 0.5)
    bottom.set_ylabel("APL activity\n(KC spikes in τ_APL)")
    bottom.set_xlabel("time (s)")
    top.set_title(f"{summary['circuit']['name']}: APL gain {summary['apl_gain_mv']:g} mV, device {summary['device']}",
                  fontsize=10, pad=16)
    return save_figure(fig, stem)


def plot_sparseness(summary: dict[str, Any], stem: str | Path) -> dict[str, Path]:
    """Plot the fraction of responding KCs per stimulus (sorted), the mean and the 5–10 % band of flies.

    The band is the fraction of KCs measured to respond to an odour in vivo.

    Parameters
    ----------
    summary : dict
        A simulate results record: its ``stimuli`` (each with ``fraction_responding``),
        ``mean_fraction_responding``, ``circuit`` and ``apl_gain_mv`` are drawn.
    stem : str or Path
        Path of the figure without suffix.

    Returns
    -------
    dict of str to Path
        ``png`` and ``pdf``: the files written.
    """
    fractions = sorted((s["fraction_responding"] * 100 for s in summary["stimuli"]), reverse=True)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.axhspan(5, 10, color="tab:green", alpha=0.15, label="5–10 % (in vivo)")
    ax.bar(range(len(fractions)), fractions, color="tab:blue", width=0.85, label="per stimulus")
    mean = summary["mean_fraction_responding"] * 100
    ax.axhline(mean, color="black", ls="--", lw=1, label=f"mean {mean:.1f} %")
    ax.set_xlabel("stimulus (sorted by response)")
    ax.set_ylabel("responding KCs (%)")
    ax.set_xlim(-1, len(fractions))
    ax.set_title(f"{summary['circuit']['name']}: KCs with ≥ {summary['circuit']['simulation']['min_spikes']} spikes "
                 f"per presentation, APL gain {summary['apl_gain_mv']:g} mV", fontsize=10)
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, stem)


def plot_mean_ci(ax: plt.Axes, x: Any, summaries: list[dict[str, Any]], band: bool = True, **style: Any) -> None:
    """Draw means over seeds against x with their confidence intervals, as a shaded band or error bars.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw into.
    x : array-like of shape (n,)
        The positions.
    summaries : list of dict
        One ``flymodel.stats.mean_ci`` record per position (``mean``, ``ci_low``, ``ci_high``).
    band : bool, default True
        Draw the intervals as a shaded band around the line; False draws error bars.
    **style : dict, optional
        Passed to the line (``label``, ``color``, ``marker``, ``linestyle``, ...).
    """
    means = [s["mean"] for s in summaries]
    low = [s["ci_low"] for s in summaries]
    high = [s["ci_high"] for s in summaries]
    if band:
        (line,) = ax.plot(x, means, **style)
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    else:
        yerr = [[m - lo for m, lo in zip(means, low)], [hi - m for m, hi in zip(means, high)]]
        ax.errorbar(x, means, yerr=yerr, capsize=3, **style)
