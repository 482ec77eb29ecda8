"""Reproduce Ryali et al. 2020, Table 1 (MNIST, mAP@All) and Table 2 (CIFAR-10, mAP@1000), every method, 3 seeds.

The same run as `flymodel reproduce DATASET`; this script writes the results where the README reads them:
benchmarks/results/table1_mnist.{json,md} and table2_cifar10.{json,md} (JSON with machine, versions, seeds,
date and every run; markdown with the paper's numbers beside ours and the targets checked), and the mAP-vs-k
figure as <stem>_map_vs_k.png/.pdf. Interrupted
runs resume from benchmarks/results/<stem>.partial.json.
While a table runs, --report writes <stem>.partial.md from the runs finished so far, and runs nothing.
Run: python benchmarks/reproduce_tables.py mnist [cifar10] [--seeds 0 1 2] [--device cpu] [--report]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flymodel.io import atomic_path, write_json
from flymodel.plots import plot_map_vs_k
from flymodel.reproduce import TABLES, markdown_table, partial_results, run_table

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="+", choices=sorted(TABLES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", action="store_true", help="only write <stem>.partial.md from the finished runs")
    args = parser.parse_args()
    for dataset in args.datasets:
        stem = RESULTS / f"{TABLES[dataset].lower().replace(' ', '')}_{dataset}"
        partial = Path(f"{stem}.partial.json")
        if args.report:
            table = markdown_table(partial_results(dataset, partial))
            Path(f"{stem}.partial.md").write_text(table)
            print(table)
            continue
        results = run_table(dataset, seeds=tuple(args.seeds), device=args.device, resume=partial)
        write_json(f"{stem}.json", results)
        with atomic_path(f"{stem}.md") as tmp:
            tmp.write_text(markdown_table(results))
        plot_map_vs_k(results, f"{stem}_map_vs_k")
        partial.unlink(missing_ok=True)
        print(markdown_table(results))


if __name__ == "__main__":
    main()
