"""BioHash training speed on MNIST: time to convergence per k, and an epoch's cost in plain matmul passes.

For each k (m = k / 0.05, the paper's MNIST activity) and input centring (raw pixels, as in the Table 1 run, and
mean-centred, Appendix D and the class default), BioHash is trained on the 69,000 training images of the
paper's protocol (seed 0 split) to convergence (Appendix D), and one plain matmul pass over the data
(69,000 × 784 by 784 × m) is timed beside it, best of 3. The paper's V100 times (Appendix E, Table 9) are
listed for comparison. Writes JSON (machine, versions, seeds, date) and a markdown table.
Run: python benchmarks/biohash_speed.py [--k 2 4 8 16 32] [--centering none mean] [--device cpu] [--output STEM]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from flymodel.data.protocols import get_protocol
from flymodel.hashing import BioHash
from flymodel.io import environment_info, write_json
from flymodel.validation import resolve_device

#: Appendix E, Table 9: BioHash training time on MNIST on one V100 GPU (seconds), by k.
PAPER_V100_SECONDS = {2: 1.7, 4: 1.7, 8: 1.7, 16: 3.4, 32: 5.0}
ACTIVITY = 0.05


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work so that wall-clock times are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_pass_seconds(X: torch.Tensor, m: int, repeats: int = 3) -> float:
    """Best time of one plain pass X @ Wᵀ over the data with a random W (m × d)."""
    W = torch.randn(m, X.shape[1], device=X.device)
    best = float("inf")
    for _ in range(repeats + 1):  # the first call warms up the kernels
        synchronize(X.device)
        started = time.perf_counter()
        X @ W.T
        synchronize(X.device)
        best = min(best, time.perf_counter() - started)
    return best


def measure(X_np: Any, k: int, centering: str, device: str, seed: int) -> dict[str, Any]:
    """Train BioHash at k on the data and return the timings, epochs and the epoch cost in matmul passes."""
    dev = resolve_device(device)
    hasher = BioHash(k=k, activity=ACTIVITY, centering=centering, seed=seed, device=device)
    m = hasher.n_hidden()
    hasher.fit(X_np[:1000])  # warm-up on a small slice (allocator, kernels), not timed
    synchronize(dev)
    started = time.perf_counter()
    hasher.fit(X_np)
    synchronize(dev)
    total = time.perf_counter() - started
    log = hasher.training_log_
    pass_seconds = matmul_pass_seconds(torch.from_numpy(X_np).to(dev), m)
    epoch_seconds = sum(r["seconds"] for r in log) / len(log)
    return {"k": k, "m": m, "centering": centering, "epochs": len(log), "final_mean_norm": log[-1]["mean_norm"], "train_seconds": total,
            "epoch_seconds": epoch_seconds, "matmul_pass_seconds": pass_seconds,
            "passes_per_epoch": epoch_seconds / pass_seconds, "paper_v100_seconds": PAPER_V100_SECONDS.get(k)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", nargs="+", type=int, default=[2, 4, 8, 16, 32])
    parser.add_argument("--centering", nargs="+", default=["none", "mean"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="output stem (default: benchmarks/results/biohash_speed_<device>)")
    args = parser.parse_args()
    output = args.output or str(Path(__file__).parent / "results" / f"biohash_speed_{args.device.replace(':', '')}")
    protocol = get_protocol("mnist")
    dataset = protocol.load()
    X = dataset.features(protocol.split(dataset.labels, 0).database)
    rows = []
    for centering, k in ((c, k) for c in args.centering for k in args.k):
        rows.append(measure(X, k, centering, args.device, args.seed))
        r = rows[-1]
        print(f"{centering} k={k} m={r['m']}: {r['train_seconds']:.2f} s, {r['epochs']} epochs, "
              f"{r['epoch_seconds']:.3f} s/epoch = {r['passes_per_epoch']:.2f} matmul passes", flush=True)
    env = environment_info()
    out = {"benchmark": "biohash_speed", "dataset": "mnist", "n_samples": int(X.shape[0]), "activity": ACTIVITY,
           "device": args.device, "torch_threads": torch.get_num_threads(), "seed": args.seed,
           "environment": env, "results": rows}
    write_json(f"{output}.json", out)
    lines = [f"BioHash training on MNIST ({X.shape[0]} × {X.shape[1]}), device {args.device}, "
             f"{torch.get_num_threads()} torch threads, seed {args.seed}", "",
             "| centring | k | m | epochs | training (s) | s / epoch | matmul pass (s) | passes / epoch | paper, V100 (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['centering']} | {r['k']} | {r['m']} | {r['epochs']} | {r['train_seconds']:.2f} | {r['epoch_seconds']:.3f} | "
                     f"{r['matmul_pass_seconds']:.3f} | {r['passes_per_epoch']:.2f} | {r['paper_v100_seconds']} |")
    Path(f"{output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
