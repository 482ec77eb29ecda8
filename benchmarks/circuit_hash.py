"""Circuits as encoders on MNIST: mnist_kc through the rate engine, read out by APL feedback or by exact top-k, beside
BioHash and FlyHash, by mAP@All on the paper's query set (Ryali et al. 2020 protocol), in one run.

Rows (each `flymodel compare` with the same seeds and ks):
  - circuit, APL readout: the KCs that respond at the steady state, the APL gain set at fit so that k respond on
    average to the training digits (code sizes vary per digit; their mean and spread are recorded);
  - circuit, top-k readout: the k most depolarised KCs (exactly k);
  - BioHash at the same m = 320 and k (activity 5 %, raw pixels: Table 1's MNIST setting); the circuit's rate
    engine learns with the same rule from PN rates = 50 Hz × pixel, from the same N(0, 1) start;
  - FlyHash at its paper setting (m = 10·d).
Writes JSON (machine, versions, seeds, date, every run) and a markdown table.
Run: python benchmarks/circuit_hash.py [--ks 8 16 32] [--seeds 0 1 2] [--output STEM]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flymodel.compare import CompareConfig, run_compare
from flymodel.io import atomic_path, environment_info, write_json

#: row name: (method, constructor parameters)
ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "circuit mnist_kc, rate engine, APL readout (gain set to k on average)":
        ("circuit", {"circuit": "mnist_kc", "engine": "rate", "readout": "apl"}),
    "circuit mnist_kc, rate engine, top-k readout":
        ("circuit", {"circuit": "mnist_kc", "engine": "rate", "readout": "top_k"}),
    "BioHash m = 320 (activity 5 %), raw pixels": ("biohash", {"m": 320, "centering": "none"}),
    "FlyHash m = 10·d (paper setting)": ("flyhash", {}),
}


def active_bits(records: list[dict[str, Any]], k: int) -> dict[str, float]:
    """Mean (over seeds) of the mean number of active bits per database code at k, and its range over seeds."""
    values = [r["active_bits"] for r in records if r["k"] == k]
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}


def markdown(rows: dict[str, dict[str, Any]], ks: list[int]) -> str:
    """mAP@All (%) mean ± std over seeds per row and k, and the mean active KCs per code."""
    lines = ["| encoder | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for name, row in rows.items():
        cells = [f"{row['summary'][str(k)]['mean']:.2f} ± {row['summary'][str(k)]['std']:.2f} "
                 f"({row['active_bits'][str(k)]['mean']:.1f} active)" for k in ks]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "circuit_hash_mnist"))
    args = parser.parse_args(argv)
    rows: dict[str, dict[str, Any]] = {}
    for name, (method, params) in ROWS.items():
        config = CompareConfig(dataset="mnist", methods=(method,), ks=tuple(args.ks), seeds=tuple(args.seeds),
                               method_params={method: params})
        run = run_compare(config, progress=True, resume=f"{args.output}.partial-{len(rows)}.json")
        rows[name] = {"method": method, "params": params, "summary": run["summary"][method],
                      "active_bits": {str(k): active_bits(run["records"], k) for k in args.ks},
                      "seconds": run["total_seconds"], "records": run["records"]}
    record = {"benchmark": "circuit_hash", "dataset": "mnist", "evaluation": "query", "metric": "mAP@All (%)",
              "ks": args.ks, "seeds": args.seeds, "environment": environment_info(), "rows": rows}
    write_json(f"{args.output}.json", record)
    with atomic_path(f"{args.output}.md") as tmp:
        tmp.write_text(markdown(rows, args.ks))
    for index in range(len(rows)):
        Path(f"{args.output}.partial-{index}.json").unlink(missing_ok=True)
    print(markdown(rows, args.ks))
    return record


if __name__ == "__main__":
    main()
