"""Why NaiveBioHash scores like a 1-bit code at k = 2 on MNIST: its two learned units point in opposite directions.

For each seed, NaiveBioHash (k = 2, the paper's rule settings, mean-centred inputs) is trained on the training
part of the seed's validation split (Appendix D). Reported: the cosine between the two units' synapses, the share
of images in each of the four codes, and validation mAP@All with the sign threshold (the method) and with a
per-unit median threshold (an alternative reading of "binarised activations"). Writes JSON and markdown.
Run: python benchmarks/naivebiohash_k2.py [--seeds 0 1 2] [--output STEM]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from flymodel.data.protocols import get_protocol
from flymodel.hashing import NaiveBioHash
from flymodel.io import environment_info, write_json
from flymodel.metrics import mean_average_precision


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "naivebiohash_k2"))
    args = parser.parse_args()
    protocol = get_protocol("mnist")
    data = protocol.load()
    rows = []
    for seed in args.seeds:
        split = protocol.validation_split(data.labels, protocol.split(data.labels, seed))
        X_db, X_q = data.features(split.database), data.features(split.queries)
        y_db, y_q = data.labels[split.database], data.labels[split.queries]
        hasher = NaiveBioHash(k=2, seed=seed, device="cpu").fit(X_db)
        W = hasher.weights_
        cosine = float(torch.nn.functional.cosine_similarity(W[0], W[1], dim=0))
        codes, counts = np.unique(hasher.transform(X_db), axis=0, return_counts=True)
        shares = {"".join(str(int(b)) for b in code): float(c / len(X_db)) for code, c in zip(codes, counts)}
        a_db, a_q = (hasher._currents(torch.from_numpy(X)) for X in (X_db, X_q))
        median = a_db.median(dim=0).values
        rows.append({
            "seed": seed, "cosine": cosine, "code_shares": shares,
            "map_sign": 100 * mean_average_precision(hasher.transform(X_q), hasher.transform(X_db), y_q, y_db),
            "map_median": 100 * mean_average_precision((a_q > median).numpy(), (a_db > median).numpy(), y_q, y_db),
        })
        print(rows[-1], flush=True)
    write_json(f"{args.output}.json", {"benchmark": "naivebiohash_k2", "dataset": "mnist",
                                       "evaluation": "validation (100/class from the training set)",
                                       "environment": environment_info(), "seeds": args.seeds, "results": rows})
    lines = ["| seed | cos(W₁, W₂) | share of images in codes 00 / 01 / 10 / 11 | mAP@All, sign bits | mAP@All, median bits |",
             "|---:|---:|---|---:|---:|"]
    for r in rows:
        shares = " / ".join(f"{100 * r['code_shares'].get(c, 0.0):.1f} %" for c in ("00", "01", "10", "11"))
        lines.append(f"| {r['seed']} | {r['cosine']:.3f} | {shares} | {r['map_sign']:.2f} | {r['map_median']:.2f} |")
    Path(f"{args.output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
