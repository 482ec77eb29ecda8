"""Figure helpers (matplotlib, headless): every figure is drawn from a results record and saved as PNG and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from flymodel.io import atomic_path  # noqa: E402


def save_figure(fig: plt.Figure, stem: str | Path) -> dict[str, Path]:
    """Save fig as stem.png (150 dpi) and stem.pdf, atomically, close it, and return the paths."""
    paths = {}
    for ext in ("png", "pdf"):
        path = Path(f"{stem}.{ext}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
        paths[ext] = path
    plt.close(fig)
    return paths


def plot_map_vs_k(results: dict[str, Any], stem: str | Path) -> dict[str, Path]:
    """mAP against hash length k, one line per method (mean ± std over seeds), the paper's values dashed with open markers."""
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
