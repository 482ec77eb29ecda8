"""Which FlyHash/LSH preprocessing and wiring choices reproduce Ryali et al. 2020, Table 1, chosen on validation data.

Every variant is scored on validation queries carved out of the MNIST training set (100 per class,
Appendix D), never on the protocol's query set. Writes JSON (with machine, versions, seeds, date) and a
markdown table beside it. Run: python benchmarks/flyhash_choices.py [--seeds 0 1 2] [--only TEXT ...] [--output STEM]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flymodel.compare import CompareConfig, run_compare
from flymodel.io import environment_info, write_json
from flymodel.paper import paper_map

VARIANTS: dict[str, tuple[str, dict, str]] = {
    # name: (method, params, tie policy)
    "flyhash fixed fan-in, raw": ("flyhash", {"sampling": "fixed", "centering": "none"}, "expected"),
    "flyhash fixed fan-in, mean-centred": ("flyhash", {"sampling": "fixed", "centering": "mean"}, "expected"),
    "flyhash bernoulli, raw": ("flyhash", {"sampling": "bernoulli", "centering": "none"}, "expected"),
    "flyhash bernoulli, per-sample centred (FlyLSH code)": ("flyhash", {"sampling": "bernoulli", "centering": "sample"}, "expected"),
    "flyhash bernoulli, per-sample centred, random tie-break": ("flyhash", {"sampling": "bernoulli", "centering": "sample"}, "random"),
    "flyhash bernoulli, mean-centred": ("flyhash", {"sampling": "bernoulli", "centering": "mean"}, "expected"),
    "flyhash m = d = 784 (not 10·d), fixed fan-in, raw": ("flyhash", {"m": 784}, "expected"),
    "lsh raw": ("lsh", {"centering": "none"}, "expected"),
    "lsh mean-centred": ("lsh", {"centering": "mean"}, "expected"),
}
CLASS = {"flyhash": "FlyHash", "lsh": "LSH"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 32])
    parser.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                        help="run only the variants whose name contains one of these texts")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "flyhash_choices"))
    args = parser.parse_args()
    rows = {}
    selected = {n: v for n, v in VARIANTS.items() if args.only is None or any(t in n for t in args.only)}
    for name, (method, params, ties) in selected.items():
        config = CompareConfig(dataset="mnist", methods=(method,), ks=tuple(args.k), seeds=tuple(args.seeds),
                               ties=ties, evaluation="validation", method_params={method: params})
        res = run_compare(config, progress=True)
        rows[name] = {"method": method, "params": params, "ties": ties, "summary": res["summary"][method],
                      "seconds": res["total_seconds"]}
        print(name, {k: round(v["mean"], 2) for k, v in res["summary"][method].items()}, flush=True)
    out = {"benchmark": "flyhash_choices", "dataset": "mnist", "evaluation": "validation (100/class from the training set)",
           "metric": "mAP@All (%)", "seeds": args.seeds, "ks": args.k, "environment": environment_info(), "variants": rows}
    write_json(f"{args.output}.json", out)
    lines = ["| variant | " + " | ".join(f"k={k}" for k in args.k) + " |", "|---|" + "---:|" * len(args.k)]
    for name, row in rows.items():
        cells = [f"{row['summary'][str(k)]['mean']:.2f} ± {row['summary'][str(k)]['std']:.2f}" for k in args.k]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for method in dict.fromkeys(row["method"] for row in rows.values()):
        lines.append(f"| paper {CLASS[method]} (query set) | " + " | ".join(f"{paper_map('mnist', CLASS[method], k)}" for k in args.k) + " |")
    Path(f"{args.output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
