"""Preprocessing and training choices of FlyHash, LSH, BioHash and NaiveBioHash, each scored on validation data.

Every variant is scored on validation queries carved out of the training set (100 per class, Appendix D of
Ryali et al. 2020), never on the protocol's query set: this is where defaults are chosen.
Writes JSON (with machine, versions, seeds, date) and a markdown table beside it.
Run: python benchmarks/validation_choices.py {flyhash,biohash,naivebiohash,biohash_cifar10} [--seeds 0 1 2] [--only TEXT ...] [--output STEM]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flymodel.compare import CompareConfig, run_compare
from flymodel.hashing import METHODS
from flymodel.io import environment_info, write_json
from flymodel.paper import paper_map

#: study: {variant name: (method, constructor parameters, tie policy)}
STUDIES: dict[str, dict[str, tuple[str, dict[str, Any], str]]] = {
    "flyhash": {
        "flyhash fixed fan-in, raw": ("flyhash", {"sampling": "fixed", "centering": "none"}, "expected"),
        "flyhash fixed fan-in, mean-centred": ("flyhash", {"sampling": "fixed", "centering": "mean"}, "expected"),
        "flyhash bernoulli, raw": ("flyhash", {"sampling": "bernoulli", "centering": "none"}, "expected"),
        "flyhash bernoulli, per-sample centred (FlyLSH code)": ("flyhash", {"sampling": "bernoulli", "centering": "sample"}, "expected"),
        "flyhash bernoulli, per-sample centred, random tie-break": ("flyhash", {"sampling": "bernoulli", "centering": "sample"}, "random"),
        "flyhash bernoulli, mean-centred": ("flyhash", {"sampling": "bernoulli", "centering": "mean"}, "expected"),
        "flyhash m = d = 784 (not 10·d), fixed fan-in, raw": ("flyhash", {"m": 784}, "expected"),
        "lsh raw": ("lsh", {"centering": "none"}, "expected"),
        "lsh mean-centred": ("lsh", {"centering": "mean"}, "expected"),
    },
    "biohash": {
        "biohash mean-centred, stop at mean norm < 1.06 (Appendix D)": ("biohash", {"centering": "mean"}, "expected"),
        "biohash raw, stop at mean norm < 1.06": ("biohash", {"centering": "none"}, "expected"),
        "biohash mean-centred, 10 epochs (T_max = 10, no early stop)": ("biohash", {"centering": "mean", "tol": 0.0, "max_epochs": 10}, "expected"),
        "biohash mean-centred, 30 epochs (T_max = 30, no early stop)": ("biohash", {"centering": "mean", "tol": 0.0, "max_epochs": 30}, "expected"),
        "biohash raw, 30 epochs (T_max = 30, no early stop)": ("biohash", {"centering": "none", "tol": 0.0, "max_epochs": 30}, "expected"),
    },
    "naivebiohash": {
        "naivebiohash mean-centred, Δ = 0 (paper's rule settings)": ("naivebiohash", {}, "expected"),
        "naivebiohash mean-centred, Δ = 0.4, r = 2 (Krotov & Hopfield 2019)": ("naivebiohash", {"delta": 0.4}, "expected"),
        "naivebiohash mean-centred, Δ = 0, 30 epochs": ("naivebiohash", {"tol": 0.0, "max_epochs": 30}, "expected"),
        "naivebiohash raw": ("naivebiohash", {"centering": "none"}, "expected"),
    },
    "biohash_cifar10": {
        "biohash raw, 0.5 % activity": ("biohash", {"centering": "none", "activity": 0.005}, "expected"),
        "biohash mean-centred, 0.5 % activity (Appendix D)": ("biohash", {"centering": "mean", "activity": 0.005}, "expected"),
    },
}

#: The dataset of each study (MNIST unless named here).
DATASETS: dict[str, str] = {"biohash_cifar10": "cifar10"}


def markdown_table(rows: dict[str, dict[str, Any]], ks: list[int], dataset: str = "mnist") -> str:
    """One row per variant ('mean ± std' per k), then the paper's query-set numbers of each method."""
    lines = ["| variant | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for name, row in rows.items():
        cells = [f"{row['summary'][str(k)]['mean']:.2f} ± {row['summary'][str(k)]['std']:.2f}" for k in ks]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for method in dict.fromkeys(row["method"] for row in rows.values()):
        name = METHODS[method].__name__
        lines.append(f"| paper {name} (query set) | " + " | ".join(f"{paper_map(dataset, name, k)}" for k in ks) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 32])
    parser.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                        help="run only the variants whose name contains one of these texts")
    parser.add_argument("--output", default=None, help="output stem (default: benchmarks/results/<study>_choices)")
    args = parser.parse_args()
    output = args.output or str(Path(__file__).parent / "results" / f"{args.study}_choices")
    dataset = DATASETS.get(args.study, "mnist")
    rows = {}
    selected = {n: v for n, v in STUDIES[args.study].items() if args.only is None or any(t in n for t in args.only)}
    for name, (method, params, ties) in selected.items():
        config = CompareConfig(dataset=dataset, methods=(method,), ks=tuple(args.k), seeds=tuple(args.seeds),
                               ties=ties, evaluation="validation", method_params={method: params})
        res = run_compare(config, progress=True)
        logs = [r["training_log"] for r in res["records"] if "training_log" in r]
        rows[name] = {"method": method, "params": params, "ties": ties, "summary": res["summary"][method],
                      "seconds": res["total_seconds"],
                      **({"epochs": [len(log) for log in logs], "final_mean_norms": [log[-1]["mean_norm"] for log in logs]}
                         if logs else {})}
        print(name, {k: round(v["mean"], 2) for k, v in res["summary"][method].items()}, flush=True)
    out = {"benchmark": f"{args.study}_choices", "dataset": dataset,
           "evaluation": "validation (100/class from the training set)",
           "metric": f"{res['protocol']['metric']} (%)",
           "seeds": args.seeds, "ks": args.k, "environment": environment_info(), "variants": rows}
    write_json(f"{output}.json", out)
    table = markdown_table(rows, args.k, dataset)
    Path(f"{output}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
