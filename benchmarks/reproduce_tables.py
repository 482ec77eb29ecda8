"""Reproduce Ryali et al. 2020, Tables 1 (MNIST, mAP@All) and 2 (CIFAR-10, mAP@1000), every method, 3 seeds; Table 6
(CIFAR-10 queries with shadows) from the same fits with --shadows; Table 3 (BioConvHash by k_CI) with --table3.

The same runs as `flymodel reproduce DATASET [--shadows | --channel-inhibition]`; this script writes the results where
the README reads them: benchmarks/results/table1_mnist.{json,md}, table2_cifar10.{json,md} (JSON with machine,
versions, seeds, date and every run; markdown with the paper's numbers beside ours and the targets checked) and the
mAP-vs-k figure as <stem>_map_vs_k.png/.pdf; Table 3 as table3_<dataset>.{json,md}.
With --methods, only those methods run (to <stem>_<methods>.json) and their rows then replace theirs in <stem>.json,
so that an expensive row (BioConvHash) can be added to a finished table. Every finished run is stored at once in
benchmarks/results/tasks/ (flymodel.tasks), so an interrupted or extended table computes only the runs it lacks.
While a table runs, --report writes <stem>.partial.md from the runs finished so far, and runs nothing.
Run: python benchmarks/reproduce_tables.py mnist [cifar10] [--methods M ...] [--shadows] [--table3] [--seeds 0 1 2]
     [--device cpu] [--report]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flymodel.io import atomic_path, read_json, write_json
from flymodel.plots import plot_map_vs_k
from flymodel.reproduce import (TABLE_METHODS, TABLES, channel_inhibition_table, markdown_table, merge_results,
                                partial_results, run_channel_inhibition, run_table, table_config)

RESULTS = Path(__file__).parent / "results"
#: The finished runs of every table (flymodel.tasks), kept out of git.
STORE = RESULTS / "tasks"


def write_table(results: dict, stem: Path) -> None:
    """<stem>.json, <stem>.md and the mAP-vs-k figure of a table's results."""
    write_json(f"{stem}.json", results)
    with atomic_path(f"{stem}.md") as tmp:
        tmp.write_text(markdown_table(results))
    plot_map_vs_k(results, f"{stem}_map_vs_k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", choices=sorted(TABLES))
    parser.add_argument("--methods", nargs="+", choices=TABLE_METHODS, help="run only these and merge them into the table")
    parser.add_argument("--shadows", action="store_true", help="also score shadowed queries (Table 6)")
    parser.add_argument("--table3", action="store_true", help="run Table 3 (BioConvHash by k_CI) instead")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", action="store_true", help="only write <stem>.partial.md from the finished runs")
    args = parser.parse_args()
    for dataset in args.datasets:
        if args.table3:
            stem = RESULTS / f"table3_{dataset}"
            results = run_channel_inhibition(dataset, seeds=tuple(args.seeds), device=args.device, store=STORE)
            write_json(f"{stem}.json", results)
            with atomic_path(f"{stem}.md") as tmp:
                tmp.write_text(channel_inhibition_table(results))
            print(channel_inhibition_table(results))
            continue
        table = RESULTS / f"{TABLES[dataset].lower().replace(' ', '')}_{dataset}"
        stem = Path(f"{table}_{'_'.join(args.methods)}") if args.methods else table
        methods = tuple(args.methods or TABLE_METHODS)
        if args.report:
            text = markdown_table(partial_results(table_config(dataset, tuple(args.seeds), args.device, methods,
                                                               args.shadows), STORE))
            Path(f"{stem}.partial.md").write_text(text)
            print(text)
            continue
        results = run_table(dataset, seeds=tuple(args.seeds), device=args.device, methods=methods, store=STORE,
                            shadow_queries=args.shadows)
        if args.methods:
            write_json(f"{stem}.json", results)
            if Path(f"{table}.json").exists():
                results = merge_results(read_json(f"{table}.json"), results)
        write_table(results, table)
        print(markdown_table(results))


if __name__ == "__main__":
    main()
