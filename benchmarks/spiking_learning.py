"""Learning in the spiking circuit: mnist_kc trained by the spiking Krotov–Hopfield rule on MNIST digits.

The circuit (784 Poisson PNs → 320 LIF KCs with graded APL, dense plastic synapses from N(0, 1)) is shown
n_train digits once each, in cpp_standalone. Its synapses before and after are scored as hash functions with
the rate readout (k-WTA of W x, k = 16, the same m and k as BioHash at 5 % activity) by mAP@All on MNIST
(paper protocol, seed 0: 1,000 queries; a database of n_database images from the other 69,000), beside
rate-model BioHash trained on the same digits with the same m and k, and FlyHash/LSH-free random Gaussian
weights (the circuit's initial wiring). Also records synapse norms and KC activity over training.
Run: python benchmarks/spiking_learning.py [--n-train 2000] [--n-database 10000] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flymodel.circuit.kwta import kwta
from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import image_rates
from flymodel.circuit.wiring import random_wiring
from flymodel.data.protocols import get_protocol
from flymodel.hashing import BioHash
from flymodel.io import environment_info, write_json
from flymodel.metrics import mean_average_precision
from flymodel.spiking import SpikingCircuit

K = 16


def hash_codes(weights: np.ndarray, X: np.ndarray, k: int) -> np.ndarray:
    """Rate readout of a circuit's synapses: the k KCs with the largest ⟨W_μ, x⟩."""
    return kwta(torch.from_numpy(X @ weights.T.astype(np.float32)), k).numpy()


def score(weights: np.ndarray, X_q: np.ndarray, y_q: np.ndarray, X_db: np.ndarray, y_db: np.ndarray) -> float:
    """mAP@All (%) of k-WTA codes of the given weights."""
    return 100 * mean_average_precision(hash_codes(weights, X_q, K), hash_codes(weights, X_db, K), y_q, y_db)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-database", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--output", default="benchmarks/results/spiking_learning")
    args = parser.parse_args(argv)
    spec = load_circuit("mnist_kc")
    if args.set:
        spec = spec.replace(**{k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)})
    protocol = get_protocol("mnist")
    data = protocol.load()
    split = protocol.split(data.labels, args.seed)
    rng = np.random.default_rng(args.seed)
    train = rng.choice(split.database, size=args.n_train, replace=False)
    rest = np.setdiff1d(split.database, train)
    database = rng.choice(rest, size=args.n_database, replace=False)
    X = data.images.reshape(len(data.images), -1).astype(np.float32) / 255.0
    X_q, y_q, X_db, y_db = X[split.queries], data.labels[split.queries], X[database], data.labels[database]

    initial = random_wiring(spec)
    circuit = SpikingCircuit(spec, args.n_train, weights=initial, device="cpp_standalone")
    result = circuit.run(image_rates(spec, data.images[train]), progress=True)
    learned = result.weights
    active = result.codes.sum(axis=1)
    tenth = max(1, args.n_train // 10)

    started = time.perf_counter()
    biohash = BioHash(k=K, activity=0.05, centering="none", seed=args.seed).fit(X[train])
    biohash_seconds = time.perf_counter() - started
    rows = {
        "initial wiring (N(0,1))": score(initial, X_q, y_q, X_db, y_db),
        "spiking circuit, learned": score(learned, X_q, y_q, X_db, y_db),
        "rate BioHash, same digits": score(biohash.weights_.numpy().astype(float), X_q, y_q, X_db, y_db),
    }
    norms = {"initial": float(np.linalg.norm(initial, axis=1).mean()),
             "learned": float(np.linalg.norm(learned, axis=1).mean()),
             "learned_kcs_that_fired": float(np.linalg.norm(learned[result.counts.sum(axis=0) > 0], axis=1).mean()),
             "biohash": float(torch.linalg.norm(biohash.weights_, dim=1).mean())}
    record = {
        "benchmark": "spiking_learning", "environment": environment_info(), "circuit": spec.to_dict(),
        "n_train": args.n_train, "n_database": args.n_database, "n_queries": len(split.queries), "k": K,
        "seed": args.seed, "map_all_percent": rows, "mean_synapse_norm": norms,
        "kcs_active_per_digit": {"first_tenth": float(active[:tenth].mean()), "last_tenth": float(active[-tenth:].mean())},
        "kcs_that_ever_fired": int((result.counts.sum(axis=0) > 0).sum()),
        "seconds": {"build": result.build_seconds, "simulate": result.run_seconds, "biohash_fit": biohash_seconds},
        "biological_seconds": args.n_train * spec.simulation.presentation_ms / 1e3,
    }
    write_json(f"{args.output}.json", record)
    lines = [f"# Learning in the spiking circuit (mnist_kc, {args.n_train} digits, k = {K}, m = {spec.kc.n})", "",
             f"mAP@All on MNIST ({len(split.queries)} queries, {args.n_database} database images), k-WTA readout:", "",
             "| synapses | mAP@All (%) |", "|---|---:|"]
    lines += [f"| {name} | {value:.2f} |" for name, value in rows.items()]
    lines += ["", f"Mean synapse norm: initial {norms['initial']:.2f}, learned {norms['learned']:.2f} (KCs that fired: "
              f"{norms['learned_kcs_that_fired']:.2f}), BioHash {norms['biohash']:.2f}.",
              f"KCs active per digit: {record['kcs_active_per_digit']['first_tenth']:.1f} in the first tenth of training, "
              f"{record['kcs_active_per_digit']['last_tenth']:.1f} in the last; {record['kcs_that_ever_fired']} of "
              f"{spec.kc.n} KCs ever fired.",
              f"Build {result.build_seconds:.1f} s, simulation {result.run_seconds:.1f} s for "
              f"{record['biological_seconds']:.0f} s of biological time ({environment_info()['cpu_count']} cores)."]
    Path(f"{args.output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
