"""BioConvHash's training time on this machine, stage by stage, and its mAP with a short hash-layer schedule.

Appendix D's schedule runs the hash layer for up to T_max = 100 epochs until the mean synapse norm is < 1.06; over
100,000 (MNIST) or 147,600 (CIFAR-10) conv features the norm stays near 1.1 until the learning rate has decayed, so
the hash layer takes most of its 100 epochs, an hour or more per model on 2 CPU cores. This benchmark measures
every stage (filters, conv features of the training set, hash-layer epochs, encoding) on the paper's protocol and
projects the full schedule from the measured per-epoch time; it trains the hash layer for --hash-epochs epochs
(T_max = that, so the learning rate still decays to 0) and scores mAP, a documented short-schedule stand-in.
--n-train trains on the first N database images only (timing of large sets, e.g. CIFAR-10), scaling the
per-image stages to the full set in the projection.
Writes benchmarks/results/bioconvhash_cpu_<dataset>.json (machine, versions, seeds, date) and .md
(bioconvhash_cpu_<dataset>_timing.* with --n-train). Stages found in the feature cache are not timed.
Run: python benchmarks/bioconvhash_cpu.py mnist --ks 2 4 8 16 32 --hash-epochs 5 --cache DIR
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from flymodel.data.protocols import get_protocol
from flymodel.hashing import BioConvHash
from flymodel.io import atomic_path, environment_info, write_json
from flymodel.metrics import retrieval_scores
from flymodel.reproduce import BIOCONVHASH_PARAMS

RESULTS = Path(__file__).parent / "results"
FULL_EPOCHS = 100  # Appendix D's T_max


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=sorted(BIOCONVHASH_PARAMS))
    parser.add_argument("--ks", nargs="+", type=int, default=[2, 4, 8, 16, 32])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hash-epochs", type=int, default=5, help="T_max of the hash layer (Appendix D: 100)")
    parser.add_argument("--n-train", type=int, help="train on the first N database images only (timing)")
    parser.add_argument("--cache", required=True, help="feature cache directory (MNIST: about 12 GB per seed)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    protocol = get_protocol(args.dataset)
    dataset = protocol.load()
    split = protocol.split(dataset.labels, args.seed)
    database = split.database if args.n_train is None else split.database[:args.n_train]
    X_db, X_q = dataset.features(database), dataset.features(split.queries)
    y_db, y_q = dataset.labels[database], dataset.labels[split.queries]
    scale = len(split.database) / len(database)  # per-image stages, projected to the full training set
    runs = []
    for k in args.ks:
        hasher = BioConvHash(k=k, **BIOCONVHASH_PARAMS[args.dataset], hash_max_epochs=args.hash_epochs, seed=args.seed,
                             device=args.device, progress=True, feature_cache=args.cache)
        t0 = time.perf_counter()
        hasher.fit(X_db)
        t1 = time.perf_counter()
        score, t2 = None, t1
        if args.n_train is None:  # a subset's codes would not be the protocol's database: timing only
            db_codes, q_codes = hasher.transform(X_db), hasher.transform(X_q)
            t2 = time.perf_counter()
            score = float(retrieval_scores(q_codes, db_codes, y_q, y_db, R=protocol.R, ties="expected",
                                           seed=args.seed)["average_precision"].mean())
        epoch_seconds = [entry["seconds"] for entry in hasher.training_log_]
        run = {"k": k, "m": hasher.n_bits_, "fit_seconds": t1 - t0, "stage_seconds": hasher.fit_seconds_,
               "cache_hits": hasher.cache_hits_,
               "encode_seconds": t2 - t1, "hash_epochs": len(epoch_seconds), "hash_epoch_seconds": epoch_seconds,
               "final_mean_norm": hasher.training_log_[-1]["mean_norm"],
               "filter_epochs": [len(log) for log in hasher.filter_logs_],
               "feature_dim": hasher.feature_dim_, "feature_density": hasher.feature_density_,
               "map": score,
               "projected_full_hash_layer_seconds": float(np.median(epoch_seconds)) * scale * FULL_EPOCHS}
        runs.append(run)
        print({key: value for key, value in run.items() if key != "hash_epoch_seconds"}, flush=True)
        write_results(args, protocol, split, database, scale, runs)  # after every k: an interrupted run keeps its finished ks


def write_results(args: argparse.Namespace, protocol, split, database, scale: float, runs: list[dict]) -> None:
    """Write the JSON and markdown of the runs so far."""
    first, hits = runs[0]["stage_seconds"], runs[0]["cache_hits"]  # later fits read filters and features from the cache
    results = {
        "benchmark": "bioconvhash_cpu", "dataset": args.dataset, "metric": protocol.metric, "seed": args.seed,
        "settings": {**BIOCONVHASH_PARAMS[args.dataset], "hash_max_epochs": args.hash_epochs},
        "n_train": len(database), "n_train_full": len(split.database), "n_queries": len(split.queries),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "environment": environment_info(),
        "filters_seconds": None if hits["filters"] else first["filters"],
        "features_seconds_full_set": None if hits["features"] else first["features"] * scale, "runs": runs,
        "paper_v100_training": "about 3.5 min (k = 2, 4, 8) and 5 min (k = 16, 32) on MNIST (Table 9)",
    }
    stem = f"bioconvhash_cpu_{args.dataset}" + ("_timing" if args.n_train is not None else "")
    write_json(RESULTS / f"{stem}.json", results)
    with atomic_path(RESULTS / f"{stem}.md") as tmp:
        tmp.write_text(markdown(results))


def markdown(results: dict) -> str:
    """The stage times and the projection as a markdown table."""
    lines = [f"BioConvHash on {results['dataset']}, seed {results['seed']}, {results['n_train']} of "
             f"{results['n_train_full']} training images, hash layer T_max = {results['settings']['hash_max_epochs']} "
             f"epochs; {results['environment'].get('cpu_count', '?')} CPU cores",
             f"filters: {_seconds(results['filters_seconds'])}; conv features of the full training set: "
             f"{_seconds(results['features_seconds_full_set'])}", "",
             f"| k | m | hash-layer epoch (s) | final norm | {results['metric']} (%) | full {FULL_EPOCHS}-epoch hash layer (h) |",
             "|---:|---:|---:|---:|---:|---:|"]
    for run in results["runs"]:
        score = "—" if run["map"] is None else f"{100 * run['map']:.2f}"
        lines.append(f"| {run['k']} | {run['m']} | {np.median(run['hash_epoch_seconds']):.0f} | {run['final_mean_norm']:.3f} | "
                     f"{score} | {run['projected_full_hash_layer_seconds'] / 3600:.1f} |")
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    """A stage time, or a note that this run found the stage in the feature cache."""
    return "read from the feature cache (not timed here)" if value is None else f"{value:.0f} s"


if __name__ == "__main__":
    main()
