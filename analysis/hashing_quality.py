"""Is a learned circuit a better LSH than a random one, at equal cost? Every hasher at equal active bits k and at
equal storage, with precision–recall curves and a retrieval grid (Ryali et al. 2020, Tables 1–2 and Figure 3).

What is run, per dataset (its protocol of flymodel.data.protocols, query set, ties="expected"):
1. Equal k: compare's run of every method at every k and seed (mAP over seeds, mean and Student-t 95 % CI).
2. Equal storage (DESIGN.md): a k-sparse code of m units costs S = k·log2(m) bits (the indices of its active
   units; compare's storage_bits), a dense code of b bits costs b. For every sparse method (FlyHash, BioHash) and k,
   each dense method runs again at b = round(S) bits (deduplicated over the sparse methods and k; bit lengths
   already run at equal k are reused, not run again). The table pairs each sparse code with the dense codes of its
   storage, with a paired test over seeds of sparse − LSH at equal storage and at equal k.
3. Precision–recall at k = curve_k: Hamming-ball retrieval swept over the radius r = 0..r_max (r_max = k for
   dense codes, 2k for k-sparse ones, the largest possible distance; flymodel.metrics.retrieval_precision_recall).
   Precision and recall are macro-averaged over queries; a query that retrieves nothing at radius r has no
   precision there and is left out of that radius's precision average (the figure starts where some do);
   the curve drawn is the mean over seeds of those query averages at each radius.
4. A retrieval grid like the paper's Figure 3: grid_method at grid_k, the first seed (0 by default); queries ranked
   by precision of their top 15 (ties between queries broken by a permutation seeded with that seed), the best
   grid_queries − grid_queries // 3 (4 of 6: successes) and the worst grid_queries // 3 (2: failures); each with
   its 15 nearest database images in Hamming distance, ties in distance ordered at random (seeded).

Each comparison is resumable: compare stores each finished run at once in output_dir/tasks/ (flymodel.tasks), keyed
by its settings and those of the codes hook, so an interrupted or extended run computes only the runs it lacks.

Deviations and choices, written down:
- Fashion-MNIST has no BioHash settings in flymodel.reproduce.BIOHASH_PARAMS (the paper does not use it); it takes
  MNIST's (both are 28×28 grey images of ten classes). `method_params` overrides any of them for every dataset.
- PCA-based hashers (PCAHash, ITQ, SpectralHash) give at most d bits (one per principal direction): at equal storage
  they run at min(round(S), d) bits, and the table marks a capped cell.
- Summaries, table and tests give mAP in percent (records keep compare's fractions); statistics over seeds use
  flymodel.stats (mean_ci, paired_test); a paired test needs two seeds or more, so with one seed it is left out (None).
- Records keep a short summary of BioHash's per-epoch training log (epochs, last epoch's energy and mean norm),
  not the whole log.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from flymodel.compare import CodesHook, CompareConfig, run_compare
from flymodel.data.protocols import PROTOCOLS, Split, get_protocol
from flymodel.experiment import Experiment
from flymodel.hashing import METHODS
from flymodel.index import iter_hamming_distances
from flymodel.io import atomic_path
from flymodel.metrics import retrieval_precision_recall
from flymodel.plots import plot_mean_ci, save_figure
from flymodel.reproduce import BIOCONVHASH_PARAMS, BIOHASH_PARAMS
from flymodel.stats import mean_ci, paired_test
from flymodel.tasks import TASKS_DIR
from flymodel.validation import check_choice, check_int

#: Per-dataset settings of the learned hashers (chosen on validation queries, see flymodel.reproduce).
DATASET_PARAMS: dict[str, dict[str, dict[str, Any]]] = {"biohash": BIOHASH_PARAMS, "bioconvhash": BIOCONVHASH_PARAMS}
#: Datasets without settings of their own borrow those of a similar dataset (both 28×28 grey images, ten classes).
BORROWED_SETTINGS: dict[str, str] = {"fashion_mnist": "mnist"}
#: The random dense baseline that every sparse code is tested against.
BASELINE = "lsh"
#: Hashers with one bit per principal direction, hence at most d bits (check_n_components in flymodel.hashing.pca).
PCA_BASED: tuple[str, ...] = ("pcahash", "itq", "spectralhash")
#: Retrievals shown per query in the grid (the paper's Figure 3).
TOP = 15


@dataclass(frozen=True)
class HashingQualityConfig:
    """Settings: datasets, methods, hash lengths k, seeds; the k of the precision–recall curves (curve_k, one of ks);
    the grid's method, k (one of ks) and number of queries (1 to 30); method_params maps a method to constructor
    parameters that override the per-dataset defaults; device is the torch device of every hasher."""

    datasets: tuple[str, ...] = ("mnist", "fashion_mnist")
    methods: tuple[str, ...] = ("lsh", "pcahash", "spectralhash", "itq", "flyhash", "naivebiohash", "biohash")
    ks: tuple[int, ...] = (2, 4, 8, 16, 32)
    seeds: tuple[int, ...] = (0, 1, 2)
    method_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    curve_k: int = 16
    grid_method: str = "biohash"
    grid_k: int = 16
    grid_queries: int = 6
    device: str = "cpu"

    def validate(self) -> None:
        """Raise a ValueError naming the first bad field."""
        if not self.datasets:
            raise ValueError("datasets is empty; expected at least one of: " + ", ".join(PROTOCOLS))
        if len(set(self.datasets)) != len(self.datasets):
            raise ValueError(f"datasets={list(self.datasets)} holds duplicates; expected each dataset once")
        for method in self.methods:
            check_choice(method, "methods", tuple(METHODS))
        for dataset in self.datasets:
            check_choice(dataset, "datasets", tuple(PROTOCOLS))
            equal_k_config(self, dataset)  # compare checks ks, seeds and method_params
        if self.curve_k not in self.ks:
            raise ValueError(f"curve_k={self.curve_k} is not in ks={list(self.ks)}; expected one of them")
        if self.grid_k not in self.ks:
            raise ValueError(f"grid_k={self.grid_k} is not in ks={list(self.ks)}; expected one of them")
        if self.grid_method not in self.methods:
            raise ValueError(f"grid_method={self.grid_method!r} is not in methods={list(self.methods)}; "
                             "expected one of them")
        check_int(self.grid_queries, "grid_queries", minimum=1, maximum=30)


# --- the runs -----------------------------------------------------------------------------------------------------

def dataset_params(config: HashingQualityConfig, dataset: str) -> dict[str, dict[str, Any]]:
    """Constructor parameters per method on dataset: the per-dataset settings, then config.method_params."""
    source = BORROWED_SETTINGS.get(dataset, dataset)
    params = {m: dict(DATASET_PARAMS[m][source]) for m in config.methods if m in DATASET_PARAMS
              and source in DATASET_PARAMS[m]}
    for method, extra in config.method_params.items():
        params[method] = {**params.get(method, {}), **extra}
    return params


def equal_k_config(config: HashingQualityConfig, dataset: str) -> CompareConfig:
    """compare's settings for every method at every k of config on dataset."""
    return CompareConfig(dataset=dataset, methods=config.methods, ks=config.ks, seeds=config.seeds, ties="expected",
                         device=config.device, method_params=dataset_params(config, dataset)).validate()


def storage_of(records: list[dict[str, Any]]) -> dict[tuple[str, int], float]:
    """Storage bits S = k·log2(m) of every sparse (method, k) run (the same for every seed)."""
    # DESIGN.md "equal storage": a k-sparse code stores the indices of its k active units among m
    return {(r["method"], r["k"]): r["storage_bits"] for r in records if METHODS[r["method"]].sparse}


def dense_bits(method: str, storage: float, n_features: int) -> int:
    """Bits of a dense code that costs as much as storage bits: round(S), at most d for the PCA-based hashers."""
    bits = max(1, round(storage))
    return min(bits, n_features) if method in PCA_BASED else bits


def equal_storage_config(config: HashingQualityConfig, dataset: str, storage: dict[tuple[str, int], float],
                         n_features: int) -> CompareConfig | None:
    """compare's settings for every dense method at the storage of every sparse code, leaving out the bit lengths
    already run at equal k (None when there is nothing left to run)."""
    dense = [m for m in config.methods if not METHODS[m].sparse]
    method_ks = {m: tuple(sorted({dense_bits(m, s, n_features) for s in storage.values()} - set(config.ks)))
                 for m in dense}
    method_ks = {m: ks for m, ks in method_ks.items() if ks}
    if not method_ks:
        return None
    params = {m: p for m, p in dataset_params(config, dataset).items() if m in method_ks}
    return CompareConfig(dataset=dataset, methods=tuple(method_ks), ks=(), seeds=config.seeds, ties="expected",
                         device=config.device, method_params=params, method_ks=method_ks).validate()


def top_retrievals(query_codes: np.ndarray, database_codes: np.ndarray, n: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The n nearest database rows of each query in Hamming distance, ties in seeded random order: (rows, distances)."""
    rng = np.random.default_rng(seed)
    rows = np.empty((len(query_codes), n), dtype=np.int64)
    dists = np.empty((len(query_codes), n), dtype=np.int64)
    for chunk, dist in iter_hamming_distances(query_codes, database_codes):
        keyed = dist + rng.random(dist.shape) * 0.5  # jitter < 1 keeps integer distances in order
        top = np.argpartition(keyed, n - 1, axis=1)[:, :n]
        order = np.take_along_axis(top, np.argsort(np.take_along_axis(keyed, top, axis=1), axis=1), axis=1)
        rows[chunk], dists[chunk] = order, np.take_along_axis(dist, order, axis=1)
    return rows, dists


def select_queries(precision: np.ndarray, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the best n − n // 3 and the worst n // 3 queries by precision (ties: seeded random order)."""
    shuffled = np.random.default_rng(seed).permutation(len(precision))
    ranked = shuffled[np.argsort(-precision[shuffled], kind="stable")]
    n_worst = n_queries // 3
    return ranked[:n_queries - n_worst], ranked[len(ranked) - n_worst:][::-1]


def retrieval_grid(dataset: Any, query_codes: np.ndarray, database_codes: np.ndarray, split: Split,
                   n_queries: int, seed: int) -> dict[str, Any]:
    """Figure 3's grid: chosen queries and their top 15 retrievals with pixels (uint8 lists), labels and distances."""
    rows, dists = top_retrievals(query_codes, database_codes, TOP, seed)
    q_labels, db_labels = dataset.labels[split.queries], dataset.labels[split.database]
    same = db_labels[rows] == q_labels[:, None]
    precision = same.mean(axis=1)
    best, worst = select_queries(precision, n_queries, seed)
    shown = [(int(q), "success") for q in best] + [(int(q), "failure") for q in worst]

    def item(row: int) -> dict[str, Any]:
        label = int(dataset.labels[row])
        return {"row": row, "label": label, "class_name": dataset.class_names[label],
                "image": dataset.images[row].tolist()}

    queries = []
    for q, kind in shown:
        retrievals = [{**item(int(split.database[r])), "same_class": bool(s), "distance": int(d)}
                      for r, s, d in zip(rows[q], same[q], dists[q])]
        queries.append({**item(int(split.queries[q])), "kind": kind, "precision_at_15": float(precision[q]),
                        "retrievals": retrievals})
    return {"queries": queries, "mean_precision_at_15": float(precision.mean()),
            "selection": f"the {len(best)} best and {len(worst)} worst of {len(precision)} queries by precision of "
                         f"the top {TOP} (ties between queries: permutation seeded with {seed}; ties in distance: "
                         "random order seeded likewise)"}


def codes_hook(config: HashingQualityConfig, dataset: Any) -> CodesHook:
    """compare's on_codes hook: a precision–recall curve for runs at curve_k, the retrieval grid for the grid run."""
    grid_seed = config.seeds[0]

    def on_codes(record: dict[str, Any], query_codes: np.ndarray, database_codes: np.ndarray,
                 split: Split) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if record["k"] == config.curve_k:
            max_radius = min(record["code_bits"], 2 * record["k"])  # the largest Hamming distance these codes have
            curve = retrieval_precision_recall(query_codes, database_codes, dataset.labels[split.queries],
                                               dataset.labels[split.database], max_radius=max_radius)
            out["pr_curve"] = {name: [None if np.isnan(v) else float(v) for v in values]
                               for name, values in curve.items()}
        if (record["method"], record["k"], record["seed"]) == (config.grid_method, config.grid_k, grid_seed):
            out["retrieval_grid"] = retrieval_grid(dataset, query_codes, database_codes, split,
                                                   config.grid_queries, grid_seed)
        return out

    return on_codes


def slim(record: dict[str, Any]) -> dict[str, Any]:
    """The record without its per-epoch training log, which is summarised (epochs, last energy and mean norm)."""
    out = {key: value for key, value in record.items() if key != "training_log"}
    log = record.get("training_log")
    if log:
        out["training"] = {"epochs": len(log), "energy": log[-1]["energy"], "mean_norm": log[-1]["mean_norm"]}
    return out


# --- statistics ---------------------------------------------------------------------------------------------------

def maps_by_seed(records: list[dict[str, Any]], method: str, k: int) -> dict[int, float]:
    """mAP (%) of method at hash length k, per seed."""
    return {r["seed"]: 100 * r["map"] for r in records if r["method"] == method and r["k"] == k}


def summarize_equal_k(records: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """mean_ci of mAP (%) over seeds per method and k."""
    return {m: {str(k): mean_ci(list(maps_by_seed(records, m, k).values()))
                for k in sorted({r["k"] for r in records if r["method"] == m})}
            for m in dict.fromkeys(r["method"] for r in records)}


def map_vs_storage(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """mAP (%) against storage bits per code, per method: sparse codes at S = k·log2(m), dense ones at their bits."""
    out: dict[str, list[dict[str, Any]]] = {}
    for method in dict.fromkeys(r["method"] for r in records):
        points = []
        for k in sorted({r["k"] for r in records if r["method"] == method}):
            bits = next(r["storage_bits"] for r in records if r["method"] == method and r["k"] == k)
            points.append({"k": k, "storage_bits": bits, **mean_ci(list(maps_by_seed(records, method, k).values()))})
        out[method] = sorted(points, key=lambda p: p["storage_bits"])
    return out


def paired_or_none(a: dict[int, float], b: dict[int, float]) -> dict[str, Any] | None:
    """paired_test of a − b over their common seeds, or None with fewer than two (no spread to test)."""
    seeds = sorted(set(a) & set(b))
    return paired_test([a[s] for s in seeds], [b[s] for s in seeds]) if len(seeds) >= 2 else None


def equal_storage_rows(config: HashingQualityConfig, records: list[dict[str, Any]],
                       n_features: int) -> list[dict[str, Any]]:
    """One row per sparse (method, k): its storage and mAP, each dense method's mAP at that storage, and the paired
    tests of sparse − LSH at equal storage and at equal k. records holds both runs (equal k and equal storage)."""
    rows = []
    dense = [m for m in config.methods if not METHODS[m].sparse]
    for (method, k), storage in storage_of(records).items():
        sparse_maps = maps_by_seed(records, method, k)
        cells = {}
        for other in dense:
            bits = dense_bits(other, storage, n_features)
            cells[other] = {"bits": bits, "capped": bits != max(1, round(storage)),
                            **mean_ci(list(maps_by_seed(records, other, bits).values()))}
        tests = {"vs_lsh_equal_storage": None, "vs_lsh_equal_k": None}
        if BASELINE in dense:
            tests = {"vs_lsh_equal_storage": paired_or_none(sparse_maps, maps_by_seed(records, BASELINE,
                                                                                      cells[BASELINE]["bits"])),
                     "vs_lsh_equal_k": paired_or_none(sparse_maps, maps_by_seed(records, BASELINE, k))}
        m = next(r["code_bits"] for r in records if (r["method"], r["k"]) == (method, k))
        rows.append({"method": method, "k": k, "m": m, "storage_bits": storage,
                     "map": mean_ci(list(sparse_maps.values())), "dense": cells, **tests})
    return rows


def _ci_cell(s: dict[str, Any]) -> str:
    return f"{s['mean']:.2f} [{s['ci_low']:.2f}, {s['ci_high']:.2f}]"


def _test_cell(t: dict[str, Any] | None) -> str:
    if t is None:
        return "—"
    p = "n/a" if t["p_t_test"] is None else f"{t['p_t_test']:.3g}"
    return f"{t['mean_difference']:+.2f} [{t['ci_low']:+.2f}, {t['ci_high']:+.2f}], p={p}"


def format_equal_storage(rows: list[dict[str, Any]], dataset: str, metric: str, n_seeds: int) -> str:
    """The equal-storage table in markdown: sparse code, k, m, S, its mAP, each dense method at round(S) bits, and
    the paired differences from LSH at equal storage and at equal k."""
    dense = list(rows[0]["dense"]) if rows else []
    lines = [f"{dataset}: {metric} (%) at equal storage, mean [95 % CI] over {n_seeds} seeds. A k-sparse code of m "
             "units costs S = k·log2(m) bits; each dense method runs at round(S) bits (* capped at d). "
             "Δ LSH = sparse − LSH, paired over seeds [95 % CI], p of the paired t-test.", "",
             "| sparse | k | m | S (bits) | sparse mAP | " + " | ".join(f"{m} @ round(S)" for m in dense)
             + " | Δ LSH, equal storage | Δ LSH, equal k |",
             "|" + "---|" * (7 + len(dense))]
    for row in rows:
        cells = [f"{_ci_cell(row['dense'][m])} ({row['dense'][m]['bits']}{'*' if row['dense'][m]['capped'] else ''} b)"
                 for m in dense]
        lines.append(f"| {row['method']} | {row['k']} | {row['m']} | {row['storage_bits']:.1f} | "
                     f"{_ci_cell(row['map'])} | "
                     + " | ".join(cells) + f" | {_test_cell(row['vs_lsh_equal_storage'])} | "
                     f"{_test_cell(row['vs_lsh_equal_k'])} |")
    return "\n".join(lines) + "\n"


def mean_pr_curves(records: list[dict[str, Any]], k: int) -> dict[str, dict[str, Any]]:
    """Per method, the precision–recall curve at k averaged over seeds at each radius (NaN-aware, None where no seed
    has a precision)."""
    out = {}
    for method in dict.fromkeys(r["method"] for r in records):
        curves = [r["pr_curve"] for r in records if r["method"] == method and r["k"] == k and "pr_curve" in r]
        if not curves:
            continue
        mean = {}
        for name in ("precision", "recall", "answered"):
            values = np.array([[np.nan if v is None else v for v in c[name]] for c in curves], dtype=float)
            with warnings.catch_warnings():  # a radius where no seed has a precision stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                seed_mean = np.nanmean(values, axis=0)
            mean[name] = [None if np.isnan(v) else float(v) for v in seed_mean]
        out[method] = {"radius": curves[0]["radius"], **mean, "n_seeds": len(curves)}
    return out


# --- run ----------------------------------------------------------------------------------------------------------

def run_dataset(config: HashingQualityConfig, dataset: str, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Both comparisons on one dataset, with its curves, grid, summaries, table and tests."""
    protocol = get_protocol(dataset)
    data = protocol.load()
    n_features = int(np.prod(data.image_shape))
    started = time.perf_counter()
    store = output_dir / TASKS_DIR
    hook_settings = {name: getattr(config, name) for name in ("seeds", "curve_k", "grid_method", "grid_k", "grid_queries")}
    equal_k = run_compare(equal_k_config(config, dataset), progress=progress, store=store,
                          on_codes=codes_hook(config, data), hook_settings=hook_settings)
    equal_k_seconds = time.perf_counter() - started
    storage_config = equal_storage_config(config, dataset, storage_of(equal_k["records"]), n_features)
    storage_records = [] if storage_config is None else run_compare(
        storage_config, progress=progress, store=store)["records"]
    records = equal_k["records"] + storage_records
    rows = equal_storage_rows(config, records, n_features)
    grid_record = next(r for r in equal_k["records"] if "retrieval_grid" in r)
    return {
        "protocol": equal_k["protocol"], "metric": protocol.metric, "split_sizes": equal_k["split_sizes"],
        "n_features": n_features, "image_shape": list(data.image_shape),
        "method_params": dataset_params(config, dataset),
        "settings_from": BORROWED_SETTINGS.get(dataset, dataset),
        **({"settings_note": f"{dataset} has no BioHash settings of its own; it uses "
                             f"{BORROWED_SETTINGS[dataset]}'s (both are 28×28 grey images of ten classes)"}
           if dataset in BORROWED_SETTINGS else {}),
        "sparse_methods": [m for m in config.methods if METHODS[m].sparse],
        "records_equal_k": [slim({k: v for k, v in r.items() if k not in ("pr_curve", "retrieval_grid")})
                            for r in equal_k["records"]],
        "records_equal_storage": [slim(r) for r in storage_records],
        "summary_equal_k": summarize_equal_k(equal_k["records"]),
        "map_vs_storage": map_vs_storage(records),
        "equal_storage": rows,
        "equal_storage_table": format_equal_storage(rows, dataset, protocol.metric, len(config.seeds)),
        "pr_curves": {"k": config.curve_k, "averaging": "macro over queries, then mean over seeds per radius",
                      "per_seed": {f"{r['method']}/{r['seed']}": r["pr_curve"] for r in equal_k["records"]
                                   if "pr_curve" in r},
                      "mean": mean_pr_curves(equal_k["records"], config.curve_k)},
        "retrieval_grid": {"method": config.grid_method, "k": config.grid_k, "seed": grid_record["seed"],
                           **grid_record["retrieval_grid"]},
        "seconds": {"equal_k": equal_k_seconds, "equal_storage": time.perf_counter() - started - equal_k_seconds},
    }


def run(config: HashingQualityConfig, output_dir: Path, progress: bool) -> dict[str, Any]:
    """Run every dataset of config (resumable through output_dir/tasks/)."""
    config.validate()
    return {"datasets": {d: run_dataset(config, d, Path(output_dir), progress) for d in config.datasets}}


# --- figures ------------------------------------------------------------------------------------------------------

def _styles(methods: list[str], sparse: list[str]) -> dict[str, dict[str, Any]]:
    """One colour per method, the same in every figure (its place among all hashers); sparse codes solid with
    circles, dense codes dashed with squares."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    order = list(METHODS)
    return {m: {"color": colours[order.index(m) % len(colours)], "marker": "o" if m in sparse else "s",
                "linestyle": "-" if m in sparse else "--", "label": f"{m} ({'sparse' if m in sparse else 'dense'})"}
            for m in methods}


def plot_map_panels(result: dict[str, Any], dataset: str, stem: Path) -> dict[str, Path]:
    """(a) mAP vs k at equal active bits; (b) mAP vs storage bits per code; 95 % CI error bars, shared legend."""
    summary, storage = result["summary_equal_k"], result["map_vs_storage"]
    styles = _styles(list(summary), result["sparse_methods"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    dodge = np.linspace(-0.08, 0.08, len(summary)) if len(summary) > 1 else [0.0]  # log2 units, so bars do not hide
    for shift, (method, per_k) in zip(dodge, summary.items()):
        ks = sorted(int(k) for k in per_k)
        plot_mean_ci(left, [k * 2 ** shift for k in ks], [per_k[str(k)] for k in ks], band=False, markersize=5,
                     **styles[method])
        points = storage[method]
        plot_mean_ci(right, [p["storage_bits"] for p in points], points, band=False, markersize=5,
                     **{**styles[method], "label": None})
    all_ks = sorted({int(k) for per_k in summary.values() for k in per_k})
    left.set_xscale("log", base=2)
    left.set_xticks(all_ks, [str(k) for k in all_ks])
    left.set_xlabel("hash length k (active units or bits; methods offset for readability)")
    left.set_ylabel(f"{result['metric']} (%)")
    left.set_title("(a) equal active bits k", fontsize=10)
    right.set_xscale("log", base=2)
    bits = [p["storage_bits"] for points in storage.values() for p in points]
    ticks = 2 ** np.arange(np.floor(np.log2(min(bits))), np.ceil(np.log2(max(bits))) + 1).astype(int)
    right.set_xticks(ticks, [str(t) for t in ticks])
    right.set_xlabel("storage per code (bits; sparse: k·log₂ m)")
    right.set_title("(b) equal storage", fontsize=10)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.yaxis.set_tick_params(labelleft=True)
    n_seeds = max(s["n"] for per_k in summary.values() for s in per_k.values())
    fig.suptitle(f"{dataset}: hashing quality, mean and 95 % CI over {n_seeds} seeds", fontsize=11)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06 * (1 + (len(labels) - 1) // 4), 1, 1))
    return save_figure(fig, stem)


def plot_pr_curves(result: dict[str, Any], dataset: str, stem: Path) -> dict[str, Path]:
    """Precision against recall of Hamming-ball retrieval at curve_k, one line per method (mean over seeds)."""
    curves = result["pr_curves"]["mean"]
    styles = _styles(list(result["summary_equal_k"]), result["sparse_methods"])
    fig, ax = plt.subplots(figsize=(7.6, 5))
    for method, curve in curves.items():
        points = [(r, p) for r, p in zip(curve["recall"], curve["precision"]) if p is not None and r is not None]
        ax.plot(*zip(*points), markersize=3, **styles[method])
    ax.set_xlabel("recall (fraction of same-class items within radius r)")
    ax.set_ylabel("precision (fraction of retrieved items of the same class)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    n_seeds = max(c["n_seeds"] for c in curves.values())
    ax.set_title(f"{dataset}: Hamming-ball retrieval at k = {result['pr_curves']['k']}, radius r swept\n"
                 f"(query averages, mean over {n_seeds} seeds)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, stem)


def _show_image(ax: plt.Axes, pixels: list, colour: str, width: float) -> None:
    """Draw an image (grey or RGB uint8 lists) with a coloured border of the given width (points)."""
    image = np.asarray(pixels, dtype=np.uint8)
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(width)


def plot_retrieval_grid(result: dict[str, Any], dataset: str, stem: Path) -> dict[str, Path]:
    """Figure 3 of the paper: each query (blue border) and its top 15 retrievals, green same class, red other."""
    grid = result["retrieval_grid"]
    queries = grid["queries"]
    fig, axes = plt.subplots(len(queries), TOP + 1, figsize=(0.62 * (TOP + 1) + 1.2, 0.64 * len(queries) + 0.8),
                             squeeze=False, gridspec_kw={"wspace": 0.12, "hspace": 0.12})
    for row, query in zip(axes, queries):
        _show_image(row[0], query["image"], "tab:blue", 2.5)
        row[0].set_ylabel(f"{query['kind']}: {query['class_name']}\nP@15 = {query['precision_at_15']:.2f}", fontsize=7,
                          rotation=0, ha="right", va="center", labelpad=4)
        for ax, hit in zip(row[1:], query["retrievals"]):
            _show_image(ax, hit["image"], "tab:green" if hit["same_class"] else "tab:red", 2.5)
    axes[0, 0].set_title("query", fontsize=8)
    for i, ax in enumerate(axes[0, 1:], start=1):
        ax.set_title(str(i), fontsize=8)
    fig.suptitle(f"{dataset}: {grid['method']} k = {grid['k']} (seed {grid['seed']}), queries (blue) and their top "
                 f"{TOP} retrievals; green = same class, red = other class", fontsize=10)
    return save_figure(fig, stem)


def plot(results: dict[str, Any], output_dir: Path) -> dict[str, Path]:
    """Per dataset D: hashing_quality_D, precision_recall_D, retrieval_grid_D (PNG and PDF) and equal_storage_D.md."""
    output_dir = Path(output_dir)
    paths: dict[str, Path] = {}
    for dataset, result in results["datasets"].items():
        for name, draw in (("hashing_quality", plot_map_panels), ("precision_recall", plot_pr_curves),
                           ("retrieval_grid", plot_retrieval_grid)):
            for ext, path in draw(result, dataset, output_dir / f"{name}_{dataset}").items():
                paths[f"{name}_{dataset}_{ext}"] = path
        table = output_dir / f"equal_storage_{dataset}.md"
        with atomic_path(table) as tmp:
            tmp.write_text(result["equal_storage_table"])
        paths[f"equal_storage_{dataset}"] = table
    return paths


EXPERIMENT = Experiment(
    name="hashing_quality",
    description="Learned (BioHash) vs random (FlyHash, LSH) and classical hashing: mAP at equal active bits and at "
                "equal storage, precision–recall curves, a retrieval grid (Ryali et al. 2020, Tables 1–2, Fig. 3)",
    config_type=HashingQualityConfig,
    run=run,
    plot=plot,
    presets={"quick": {"methods": ("lsh", "flyhash", "biohash"), "ks": (2, 4), "seeds": (0, 1),
                       "datasets": ("mnist",), "curve_k": 4, "grid_k": 4}},
)
