"""Reproduce Ryali et al. 2020, Table 1 (MNIST, mAP@All) and Table 2 (CIFAR-10 pixels, mAP@1000).

Every method of the tables on the paper's protocol, k ∈ {2, 4, 8, 16, 32} (and 64 where the paper reports it),
over seeds; the results record is `compare`'s, with a markdown table that puts the paper's numbers beside ours
and the targets of the reproduction (issue 3) checked one by one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flymodel.compare import CompareConfig, run_compare, save_results, summarize
from flymodel.data.protocols import get_protocol
from flymodel.io import atomic_path, read_json
from flymodel.paper import PAPER_KS
from flymodel.validation import check_choice

#: The table of the paper that each dataset reproduces.
TABLES: dict[str, str] = {"mnist": "Table 1", "cifar10": "Table 2"}
#: Methods in the tables' row order (BioConvHash is reproduced by its own issue).
TABLE_METHODS: tuple[str, ...] = ("lsh", "pcahash", "flyhash", "spectralhash", "itq", "naivebiohash", "biohash")
#: The learned sparse codes whose k = 64 the paper does not report.
SPARSE_LEARNED: tuple[str, ...] = ("biohash",)
#: BioHash's settings per dataset, each chosen on validation queries carved from the training set: the activity k/m
#: by the paper (Appendix D, Figure 4); the centring by benchmarks/validation_choices.py biohash on MNIST (raw pixels
#: score 0.9–1.6 points above mean-centred ones) and by convergence on CIFAR-10 (raw pixels leave the mean synapse
#: norm at 5.1 after 100 epochs, centred ones reach 1.05 in 8), as written down in the README.
BIOHASH_PARAMS: dict[str, dict[str, float | str]] = {
    "mnist": {"activity": 0.05, "centering": "none"},
    "cifar10": {"activity": 0.005, "centering": "mean"},
}
#: Issue 3's targets: BioHash at least the paper minus this many points, by dataset and k (default for other k).
TOLERANCE: dict[str, dict[int | None, float]] = {"mnist": {2: 4.0, None: 2.5}, "cifar10": {None: 2.0}}


def table_config(dataset: str, seeds: tuple[int, ...] = (0, 1, 2), device: str = "cpu",
                 methods: tuple[str, ...] = TABLE_METHODS) -> CompareConfig:
    """The compare configuration of the dataset's table: its methods and k, BioHash with BIOHASH_PARAMS."""
    check_choice(dataset, "dataset", tuple(TABLES))
    return CompareConfig(
        dataset=dataset, methods=methods, ks=PAPER_KS, seeds=seeds, device=device,
        method_params={"biohash": dict(BIOHASH_PARAMS[dataset])} if "biohash" in methods else {},
        method_ks={m: PAPER_KS[:-1] for m in SPARSE_LEARNED if m in methods},
    ).validate()


def run_table(dataset: str, seeds: tuple[int, ...] = (0, 1, 2), device: str = "cpu",
              methods: tuple[str, ...] = TABLE_METHODS, progress: bool = True,
              resume: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run the table (see table_config) and return compare's results record with the targets checked."""
    results = run_compare(table_config(dataset, seeds, device, methods), progress=progress, resume=resume)
    results["experiment"] = f"reproduce {TABLES[dataset]}"
    results["targets"] = check_targets(results)
    return results


def partial_results(dataset: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """A results record (as run_table's) from the runs finished so far in a resume file, to report a table in progress."""
    state = read_json(path)
    protocol = get_protocol(dataset)
    results = {"experiment": f"reproduce {TABLES[dataset]} (in progress)", "config": state["config"],
               "protocol": protocol.to_dict(), "tie_policy": state["config"]["ties"],
               "evaluation": state["config"]["evaluation"], "records": state["records"],
               "summary": summarize(state["records"], dataset)}
    results["targets"] = check_targets(results)
    return results


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 3's acceptance targets for BioHash on this table, each with the numbers compared and whether it holds.

    MNIST: BioHash ≥ paper − 2.5 (k = 4…32) and − 4 (k = 2), and never below ITQ. CIFAR-10: BioHash ≥ paper − 2
    and above every baseline at the same k.
    """
    dataset, summary = results["config"]["dataset"], results["summary"]
    if "biohash" not in summary:
        return []
    targets = []
    for k, ours in summary["biohash"].items():
        tolerance = TOLERANCE[dataset].get(int(k), TOLERANCE[dataset][None])
        if ours["paper"] is not None:
            floor = ours["paper"] - tolerance
            targets.append({"k": int(k), "target": f"BioHash >= paper - {tolerance:g}", "ours": ours["mean"],
                            "bound": floor, "holds": ours["mean"] >= floor})
        # MNIST: never below ITQ (≥); CIFAR-10: above every baseline (>).
        rivals, strict = (("itq",), False) if dataset == "mnist" else (tuple(m for m in summary if m != "biohash"), True)
        for rival in rivals:
            if rival in summary and k in summary[rival]:
                other = summary[rival][k]["mean"]
                targets.append({"k": int(k), "target": f"BioHash {'>' if strict else '>='} {rival}",
                                "ours": ours["mean"], "bound": other,
                                "holds": ours["mean"] > other if strict else ours["mean"] >= other})
    return targets


def markdown_table(results: dict[str, Any]) -> str:
    """The table as markdown: one row per method, 'ours ± std (paper)' per k, then the targets that fail."""
    summary, dataset = results["summary"], results["config"]["dataset"]
    ks = sorted({int(k) for per_k in summary.values() for k in per_k})
    counts = sorted({s["n"] for per_k in summary.values() for s in per_k.values()})
    n_seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]} (not every run has finished)"
    lines = [f"{results['protocol']['metric']} (%) on {dataset}, {results['evaluation']} set, "
             f"mean ± std over {n_seeds} seeds (paper, {TABLES[dataset]}); ties: {results['tie_policy']}", "",
             "| method | " + " | ".join(f"k={k}" for k in ks) + " |", "|---|" + "---:|" * len(ks)]
    for method, per_k in summary.items():
        cells = []
        for k in ks:
            s = per_k.get(str(k))
            if s is None:
                cells.append("—")
            else:
                paper = f" ({s['paper']:.2f})" if s["paper"] is not None else ""
                cells.append(f"{s['mean']:.2f} ± {s['std']:.2f}{paper}")
        name = next(r["class"] for r in results["records"] if r["method"] == method)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    failing = [t for t in results.get("targets", []) if not t["holds"]]
    held = len(results.get("targets", [])) - len(failing)
    lines += ["", f"Targets: {held} of {len(results.get('targets', []))} hold."]
    lines += [f"- not held: k={t['k']}: {t['target']} ({t['ours']:.2f} vs {t['bound']:.2f})" for t in failing]
    return "\n".join(lines) + "\n"


def save_table(results: dict[str, Any], output_dir: str | Path) -> dict[str, Path]:
    """Write results.json, table.md and the mAP-vs-k figure into output_dir; return their paths."""
    paths = save_results(results, output_dir)
    table = Path(output_dir) / "table.md"
    with atomic_path(table) as tmp:
        tmp.write_text(markdown_table(results))
    return {**paths, "table": table}

