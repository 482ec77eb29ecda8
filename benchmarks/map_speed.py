"""Speed of mAP@All on the paper's MNIST protocol: 1,000 queries against 69,000 codes.

Compares, in one run and on the same codes: flymodel's counting pass (tie-aware expected AP), its seeded
random tie-break, and a plain reference that argsorts every query's full distance row. Writes JSON with
machine, versions, seeds and date. Run: python benchmarks/map_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from flymodel.data.protocols import get_protocol
from flymodel.hashing import FlyHash, LSH
from flymodel.index import iter_hamming_distances
from flymodel.io import environment_info, write_json
from flymodel.metrics import mean_average_precision


def argsort_map(q_codes, db_codes, yq, ydb) -> float:
    """Reference: full argsort of each distance row, then eq. 12 by cumulative sums (ties in argsort order)."""
    aps = []
    for rows, dist in iter_hamming_distances(q_codes, db_codes):
        order = np.argsort(dist, axis=1)
        rel = ydb[order] == yq[rows, None]
        hits = np.cumsum(rel, axis=1)
        prec = hits / np.arange(1, rel.shape[1] + 1)
        aps.append((prec * rel).sum(axis=1) / np.maximum(hits[:, -1], 1))
    return float(np.concatenate(aps).mean())


def best_time(fn, repeats: int) -> tuple[float, float]:
    """Fastest wall time of `repeats` calls and the value of the last call."""
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def mnist_protocol_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The MNIST protocol's database and query features and labels for a split seed: X_db, X_q, y_db, y_q."""
    protocol = get_protocol("mnist")
    data = protocol.load()
    split = protocol.split(data.labels, seed)
    return (data.features(split.database), data.features(split.queries), data.labels[split.database],
            data.labels[split.queries])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "map_speed.json"))
    args = parser.parse_args()
    protocol = get_protocol("mnist")
    X_db, X_q, ydb, yq = mnist_protocol_split(args.seed)
    cases = []
    for hasher in [LSH(k=16, seed=args.seed, device="cpu"), LSH(k=64, seed=args.seed, device="cpu"),
                   FlyHash(k=16, seed=args.seed, device="cpu"), FlyHash(k=32, seed=args.seed, device="cpu")]:
        hasher.fit(X_db)
        q_codes, db_codes = hasher.transform(X_q), hasher.transform(X_db)
        row = {"hasher": repr(hasher), "params": hasher.get_params(), "code_shape": list(db_codes.shape),
               "n_queries": len(q_codes)}
        for name, fn in {
            "counting_expected": lambda: mean_average_precision(q_codes, db_codes, yq, ydb),
            "random_tiebreak": lambda: mean_average_precision(q_codes, db_codes, yq, ydb, ties="random", seed=args.seed),
            "full_argsort": lambda: argsort_map(q_codes, db_codes, yq, ydb),
        }.items():
            seconds, value = best_time(fn, args.repeats)
            row[name] = {"seconds": seconds, "map": value}
        cases.append(row)
        print(row["hasher"], {k: round(v["seconds"], 3) for k, v in row.items() if isinstance(v, dict) and "seconds" in v},
              flush=True)
    write_json(args.output, {
        "benchmark": "map_speed", "protocol": protocol.to_dict(), "seed": args.seed, "repeats": args.repeats,
        "timing": "best of repeats, wall-clock seconds, includes Hamming distances (counting: indexing the codes too)", "torch_threads": torch.get_num_threads(),
        "environment": environment_info(), "cases": cases,
    })
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
