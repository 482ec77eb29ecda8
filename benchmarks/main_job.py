"""How long the README's main job (`make run`) takes: the whole command and each analysis in it.

Runs `make run RESULTS=<temporary folder>` once, times it, and reads each analysis's own total_seconds from its
results.json. Writes benchmarks/results/main_job.json (machine, versions, date), and keeps the inhibition analysis's
results.json (its `main` preset, which the README discusses) as benchmarks/results/main_job_inhibition.json.
Run: python benchmarks/main_job.py [--output STEM]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from flymodel.io import environment_info, read_json, write_json

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "benchmarks/results/main_job"), help="output stem (.json)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run(["make", "run", f"RESULTS={folder}"], cwd=ROOT, check=True)
        wall = time.perf_counter() - start
        analyses = {path.parent.name: read_json(path)["total_seconds"] for path in sorted(Path(folder).glob("*/results.json"))}
        write_json(f"{args.output}_inhibition.json", read_json(Path(folder) / "inhibition" / "results.json"))
    write_json(f"{args.output}.json", {"benchmark": "main_job", "command": "make run", "environment": environment_info(),
                                       "wall_seconds": wall, "analysis_seconds": analyses})
    print(f"make run: {wall:.0f} s; " + ", ".join(f"{name} {s:.0f} s" for name, s in analyses.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
