"""Circuits as encoders on MNIST: mnist_kc through the rate engine, read out by APL feedback or by exact top-k, beside
BioHash and FlyHash, by mAP@All on the paper's query set (Ryali et al. 2020 protocol), in one run.

Rows (each `flymodel compare` with the same seeds and ks):
  - circuit, APL readout: the KCs that respond at the steady state, the APL gain set at fit so that k respond on
    average to the training digits (code sizes vary per digit; their mean and spread are recorded);
  - circuit, top-k readout: the k most depolarised KCs (exactly k);
  - BioHash at the same m = 320 and k (activity 5 %, raw pixels: Table 1's MNIST setting); the circuit's rate
    engine learns with the same rule from PN rates = 50 Hz × pixel, from the same N(0, 1) start;
  - FlyHash at its paper setting (m = 10·d).
For codes whose size varies (the APL readout) each run also records the spread of the database codes' sizes, their
Pearson r with each image's total intensity (its "ink"), and the mAP@All of ranking by overlap alone (|q ∧ b|, ties
expected) beside the Hamming ranking, to tell a cost of the size differences from a cost of the codes themselves.
Writes JSON (machine, versions, seeds, date, every run) and a markdown table.
Run: python benchmarks/circuit_hash.py [--ks 8 16 32] [--seeds 0 1 2] [--output STEM]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from flymodel.compare import CodesHook, CompareConfig, run_compare
from flymodel.data.protocols import get_protocol
from flymodel.io import atomic_path, environment_info, write_json
from flymodel.metrics import average_precision

#: row name: (method, constructor parameters)
ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "circuit mnist_kc, rate engine, APL readout (gain set to k on average)":
        ("circuit", {"circuit": "mnist_kc", "engine": "rate", "readout": "apl"}),
    "circuit mnist_kc, rate engine, top-k readout":
        ("circuit", {"circuit": "mnist_kc", "engine": "rate", "readout": "top_k"}),
    "BioHash m = 320 (activity 5 %), raw pixels": ("biohash", {"m": 320, "centering": "none"}),
    "FlyHash m = 10·d (paper setting)": ("flyhash", {}),
}


def size_diagnostics(ink: np.ndarray, labels: np.ndarray) -> CodesHook:
    """A compare hook: for codes of varying size, their size spread, r with ink and the overlap-ranking mAP."""
    def hook(record: dict[str, Any], q_codes: np.ndarray, db_codes: np.ndarray, split: Any) -> dict[str, Any]:
        sizes = db_codes.sum(axis=1)
        if sizes.std() == 0:
            return {}
        q, db = q_codes.astype(np.float32), db_codes.astype(np.float32)
        relevant_all = labels[split.queries][:, None] == labels[split.database][None, :]
        ap = []
        for start in range(0, len(q), 100):  # distance = |q| − overlap: ranking by overlap, one query at a time
            overlap = (q[start:start + 100] @ db.T).astype(np.int64)
            distances = q_codes[start:start + 100].sum(axis=1, dtype=np.int64)[:, None] - overlap
            ap.append(average_precision(distances, relevant_all[start:start + 100]))
        return {"code_size_sd": float(sizes.std()),
                "code_size_ink_r": float(np.corrcoef(sizes, ink[split.database])[0, 1]),
                "map_overlap_ranking": float(np.concatenate(ap).mean())}

    return hook


def active_bits(records: list[dict[str, Any]], k: int) -> dict[str, float]:
    """Mean (over seeds) of the mean number of active bits per database code at k, and its range over seeds."""
    values = [r["active_bits"] for r in records if r["k"] == k]
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values)}


DIAGNOSTICS = ("code_size_sd", "code_size_ink_r", "map_overlap_ranking")


def diagnostics(records: list[dict[str, Any]], k: int) -> dict[str, float] | None:
    """Mean over seeds of size_diagnostics' entries at k, or None for codes of fixed size."""
    runs = [r for r in records if r["k"] == k and "code_size_sd" in r]
    return {d: float(np.mean([r[d] for r in runs])) for d in DIAGNOSTICS} if runs else None


def markdown(rows: dict[str, dict[str, Any]], ks: list[int]) -> str:
    """mAP@All (%) mean ± std over seeds per row and k, the mean active KCs per code, and the size diagnostics."""
    lines = ["| encoder | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for name, row in rows.items():
        cells = [f"{row['summary'][str(k)]['mean']:.2f} ± {row['summary'][str(k)]['std']:.2f} "
                 f"({row['active_bits'][str(k)]['mean']:.1f} active)" for k in ks]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for name, row in rows.items():
        for k in ks:
            d = row["diagnostics"][str(k)]
            if d is not None:
                lines.append(f"\n{name}, k={k}: code size sd {d['code_size_sd']:.1f}, r with ink "
                             f"{d['code_size_ink_r']:.2f}, mAP ranking by overlap {100 * d['map_overlap_ranking']:.2f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", nargs="+", type=int, default=[8, 16, 32])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "circuit_hash_mnist"))
    args = parser.parse_args(argv)
    data = get_protocol("mnist").load()
    hook = size_diagnostics(data.features().sum(axis=1), data.labels)
    rows: dict[str, dict[str, Any]] = {}
    for name, (method, params) in ROWS.items():
        config = CompareConfig(dataset="mnist", methods=(method,), ks=tuple(args.ks), seeds=tuple(args.seeds),
                               method_params={method: params})
        run = run_compare(config, progress=True, store=f"{args.output}.tasks", on_codes=hook,
                          hook_settings={"diagnostics": "size_diagnostics"})
        rows[name] = {"method": method, "params": params, "summary": run["summary"][method],
                      "active_bits": {str(k): active_bits(run["records"], k) for k in args.ks},
                      "diagnostics": {str(k): diagnostics(run["records"], k) for k in args.ks},
                      "seconds": run["total_seconds"], "records": run["records"]}
    record = {"benchmark": "circuit_hash", "dataset": "mnist", "evaluation": "query", "metric": "mAP@All (%)",
              "ks": args.ks, "seeds": args.seeds, "environment": environment_info(), "rows": rows}
    write_json(f"{args.output}.json", record)
    with atomic_path(f"{args.output}.md") as tmp:
        tmp.write_text(markdown(rows, args.ks))
    for index in range(len(rows)):
        Path(f"{args.output}.partial.{index}.json").unlink(missing_ok=True)
    print(markdown(rows, args.ks))
    return record


if __name__ == "__main__":
    main()
