"""The `activity_tsne` experiment (Ryali et al. 2020, Figure 5): t-SNE embeddings of MNIST BioHash codes as the
activity a = k/m varies at fixed m = 160 (k = round(a · m)), with the cluster structure quantified per activity.

Per seed: BioHash (m units, BIOHASH_PARAMS["mnist"]: raw pixels, Appendix D's schedule) is fitted on the MNIST
protocol's training set (the seed's split; seed 0 is the paper's setting of one split), n_points database images
are drawn stratified by class, and at every activity their codes are embedded by scikit-learn's TSNE (2-D,
init "pca", random_state = seed, metric "hamming" on the boolean codes, i.e. the fraction of differing bits, the
distance the codes are searched by). Each activity gets three numbers: the codes' mAP on the protocol's queries
(mAP@All, tie-aware), the silhouette by class of the t-SNE embedding (Euclidean, sklearn.metrics.silhouette_score),
and the silhouette by class of the codes themselves under the Hamming metric (no t-SNE involved). All three are
summarised over the seeds (default 0, 1, 2) by flymodel.stats.mean_ci; the figure shows the first seed's embedding.

One fit per seed serves every activity: the Krotov–Hopfield rule (eq. 1–2, flymodel.learning.train_synapses)
updates only the top unit (and the rank-r unit when Δ ≠ 0), so W depends on m, the data, the rule, the schedule and
the seed but not on k; k enters only the k-WTA read-out (eq. 6, BioHash._encode). The fitted BioHash's k is
therefore reset with set_params(k=...) before encoding, which gives the same codes as a fresh fit at that k.

Deviations: the paper does not give its t-SNE settings, its number of points or its metric; ours are above. The
asked-for activity is rounded to a whole k (1 % of 160 = 1.6 → k = 2, i.e. 1.25 %); both are recorded. At small k
many images share one code (distinct_codes counts them per panel), and identical codes land on one spot of the map.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from flymodel.data.protocols import get_protocol
from flymodel.experiment import Experiment
from flymodel.hashing import BioHash
from flymodel.metrics import TIE_POLICIES, retrieval_scores
from flymodel.plots import save_figure
from flymodel.reproduce import BIOHASH_PARAMS
from flymodel.stats import mean_ci
from flymodel.validation import check_choice, check_int, check_percent, check_seeds, check_values

DATASET = "mnist"
#: Distance t-SNE uses between boolean codes (fraction of differing bits).
TSNE_METRIC = "hamming"


@dataclass(frozen=True)
class ActivityTsneConfig:
    """Settings of the activity t-SNE experiment; activities are percentages of m."""

    activities: tuple[float, ...] = (1.0, 5.0, 20.0, 70.0)
    m: int = 160
    n_points: int = 2000
    perplexity: float = 30.0
    seeds: tuple[int, ...] = (0, 1, 2)
    ties: str = "expected"
    device: str = "cpu"

    def ks(self) -> tuple[int, ...]:
        """k = round(a · m) active units for each activity, at least 1."""
        return tuple(max(1, round(a / 100 * self.m)) for a in self.activities)

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        check_int(self.m, "m", minimum=2)
        for activity, k in zip(check_values(self.activities, "activities"), self.ks()):
            check_percent(activity, "activities")
            if k >= self.m:
                raise ValueError(f"activities={activity!r} gives k={k} active units of m={self.m}; expected k < m")
        if len(set(self.ks())) != len(self.ks()):
            raise ValueError(f"activities={list(self.activities)} give the same k twice at m={self.m} "
                             f"(ks {list(self.ks())}); expected activities with distinct k")
        check_int(self.n_points, "n_points", minimum=10)
        if isinstance(self.perplexity, bool) or not isinstance(self.perplexity, (int, float)) \
                or not 0 < self.perplexity < self.n_points:
            raise ValueError(f"perplexity={self.perplexity!r} must lie between 0 and n_points={self.n_points}")
        check_seeds(self.seeds)
        check_choice(self.ties, "ties", TIE_POLICIES)


def sample_points(labels: np.ndarray, n_points: int, seed: int) -> np.ndarray:
    """n_points positions into labels drawn stratified by class with the seed (sorted)."""
    if n_points > len(labels):
        raise ValueError(f"n_points={n_points} exceeds the {len(labels)} database images")
    chosen, _ = train_test_split(np.arange(len(labels)), train_size=n_points, stratify=labels, random_state=seed)
    return np.sort(chosen)


def embed(codes: np.ndarray, perplexity: float, seed: int) -> np.ndarray:
    """2-D t-SNE of boolean codes under the Hamming metric, PCA-initialised and seeded."""
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", metric=TSNE_METRIC, random_state=seed)
    return tsne.fit_transform(codes)


def class_silhouette(points: np.ndarray, labels: np.ndarray, metric: str) -> float:
    """Mean silhouette of the points grouped by class (−1 to 1; high when classes form separate clusters)."""
    return float(silhouette_score(points, labels, metric=metric))


def run_seed(config: ActivityTsneConfig, seed: int, bar: tqdm) -> dict[str, Any]:
    """Fit BioHash once for the seed and, at every activity, embed and score the codes (see module docstring)."""
    protocol = get_protocol(DATASET)
    dataset = protocol.load()
    split = protocol.split(dataset.labels, seed)
    X_db, X_q = dataset.features(split.database), dataset.features(split.queries)
    y_db, y_q = dataset.labels[split.database], dataset.labels[split.queries]
    hasher = BioHash(k=config.ks()[0], m=config.m, centering=str(BIOHASH_PARAMS[DATASET]["centering"]), seed=seed,
                     device=config.device)
    started = time.perf_counter()
    hasher.fit(X_db)
    fit_seconds = time.perf_counter() - started
    chosen = sample_points(y_db, config.n_points, seed)
    per_activity = []
    for k in config.ks():
        bar.set_postfix_str(f"seed={seed} k={k}")
        hasher.set_params(k=k)  # W does not depend on k (module docstring): only the k-WTA read-out changes
        db_codes = hasher.transform(X_db)
        scores = retrieval_scores(hasher.transform(X_q), db_codes, y_q, y_db, R=protocol.R, ties=config.ties, seed=seed)
        codes = db_codes[chosen]
        coordinates = embed(codes, config.perplexity, seed)
        per_activity.append({
            "map": float(scores["average_precision"].mean()),
            "tsne_silhouette": class_silhouette(coordinates, y_db[chosen], "euclidean"),
            "code_silhouette": class_silhouette(codes, y_db[chosen], TSNE_METRIC),
            "distinct_codes": len(np.unique(codes, axis=0)),  # identical codes share one spot in the embedding
            "coordinates": np.round(coordinates, 3).tolist(),
        })
        bar.update()
    fit = {"seed": seed, "epochs": len(hasher.training_log_), "final_mean_norm": hasher.training_log_[-1]["mean_norm"],
           "fit_seconds": fit_seconds}
    return {"fit": fit, "labels": y_db[chosen].tolist(), "indices": split.database[chosen].tolist(),
            "per_activity": per_activity}


def run(config: ActivityTsneConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Run every seed and gather, per activity, the embeddings and the numbers with their mean_ci over seeds."""
    with tqdm(total=len(config.seeds) * len(config.activities), desc="activity t-SNE", unit="embedding",
              disable=not progress) as bar:
        per_seed = [run_seed(config, seed, bar) for seed in config.seeds]
    panels = []
    for i, (activity, k) in enumerate(zip(config.activities, config.ks())):
        rows = [s["per_activity"][i] for s in per_seed]
        panel: dict[str, Any] = {"requested_activity": activity, "activity": 100 * k / config.m, "k": k, "m": config.m,
                                 "embeddings": [r["coordinates"] for r in rows],
                                 "distinct_codes": [r["distinct_codes"] for r in rows]}
        for name in ("map", "tsne_silhouette", "code_silhouette"):
            panel[name] = [r[name] for r in rows]
            panel[f"{name}_summary"] = mean_ci([(100 if name == "map" else 1) * r[name] for r in rows])
        panels.append(panel)
    protocol = get_protocol(DATASET)
    return {"dataset": DATASET, "metric": protocol.metric, "class_names": list(protocol.load().class_names),
            "seeds": list(config.seeds), "tsne": {"metric": TSNE_METRIC, "init": "pca",
                                                   "perplexity": config.perplexity, "n_components": 2},
            "fits": [s["fit"] for s in per_seed], "labels": [s["labels"] for s in per_seed],
            "indices": [s["indices"] for s in per_seed], "panels": panels}


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Figure `activity_tsne`: the first seed's t-SNE embedding per activity, coloured by class, with the mAP and
    silhouettes (mean over seeds) in each title and one shared legend (Figure 5)."""
    panels, names = results["panels"], results["class_names"]
    colours = plt.get_cmap("tab10").colors
    labels = np.asarray(results["labels"][0])
    n_cols = 2 if len(panels) > 1 else 1
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.6 * n_cols, 4.4 * n_rows + 0.6), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        xy = np.asarray(panel["embeddings"][0])
        ax.scatter(xy[:, 0], xy[:, 1], c=[colours[c % 10] for c in labels], s=3, linewidths=0, alpha=0.8)
        ax.set_title(f"activity {panel['activity']:.3g} % (k = {panel['k']} of m = {panel['m']})\n"
                     f"{results['metric']} {panel['map_summary']['mean']:.1f} %, silhouette: "
                     f"t-SNE {panel['tsne_silhouette_summary']['mean']:.2f}, "
                     f"codes {panel['code_silhouette_summary']['mean']:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    handles = [Line2D([], [], linestyle="", marker="o", markersize=6, color=colours[i % 10], label=name)
               for i, name in enumerate(names)]
    fig.legend(handles=handles, loc="lower center", ncol=len(names), frameon=False, fontsize=9,
               title="MNIST digit class", title_fontsize=9, handletextpad=0.1, columnspacing=1.0)
    n_seeds = len(results["seeds"])
    fig.suptitle(f"t-SNE of {len(labels)} MNIST BioHash codes (Hamming metric, seed {results['seeds'][0]}); "
                 f"numbers: mean over {n_seeds} seed{'s' if n_seeds > 1 else ''}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return save_figure(fig, output_dir / "activity_tsne")


EXPERIMENT = Experiment(
    name="activity_tsne",
    description="t-SNE of MNIST BioHash codes at activity 1, 5, 20 and 70 % with m = 160 (paper Figure 5)",
    config_type=ActivityTsneConfig,
    run=run,
    plot=plot,
    presets={"quick": {"n_points": 300, "perplexity": 20.0}},
)
