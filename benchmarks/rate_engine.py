"""Speed of the torch rate engine's APL steady state beside one plain matrix product of the same shape and the numpy
engine it replaced (the frozen copy in tests/frozen_numpy_rate.py), in one run.

Workloads:
- mnist: all 70,000 MNIST images through a 2,000-KC dense circuit (mnist_kc's constants, kc.n = 2,000);
- inhibition: the inhibition analysis's load, 110 odours × 10 trials × 6 APL gains × 10 wirings of drosophila_mb.
Each is timed best of `--repeats` (wall clock); the ratio to the matmul says how many matrix-product passes the steady
state costs (target: at most 4). Writes benchmarks/results/rate_engine_<device>.json (machine, versions, seeds, date).
Run: python benchmarks/rate_engine.py [--device cpu|cuda] [--repeats 3] [--dtype float32|float64]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import image_rates, odour_stimuli
from flymodel.data import load_mnist
from flymodel.io import environment_info, write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from frozen_numpy_rate import steady_state as numpy_steady_state  # noqa: E402

GAIN_FRACTIONS = (1.0, 0.5, 0.25, 0.125, 0.05, 0.0)  # the inhibition analysis's APL gains (analysis/inhibition.py)


def best_of(repeats: int, work: Callable[[], object], device: torch.device) -> float:
    """The shortest of `repeats` wall-clock times of work() (synchronising CUDA before each clock read)."""
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        work()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def mnist_workload(device: torch.device, dtype: torch.dtype, repeats: int) -> dict[str, float]:
    spec = load_circuit("mnist_kc").replace(**{"kc.n": 2000})
    rates = image_rates(spec, load_mnist().images)
    circuit = RateCircuit(spec, device=device, dtype=dtype)
    weights = torch.as_tensor(circuit.weights, dtype=dtype, device=device)
    x = torch.as_tensor(rates, dtype=dtype, device=device)
    return {"n_stimuli": len(rates), "n_kc": spec.kc.n, "n_pn": spec.inputs.n,
            "matmul_seconds": best_of(repeats, lambda: x @ weights.T, device),
            "steady_state_seconds": best_of(repeats, lambda: circuit.steady_state(rates), device),
            "numpy_seconds": best_of(repeats, lambda: numpy_steady_state(spec, circuit.weights, rates), device)}


def inhibition_workload(device: torch.device, dtype: torch.dtype, repeats: int) -> dict[str, float]:
    spec = load_circuit("drosophila_mb")
    odours = odour_stimuli(spec).rates_hz
    trials = np.maximum(odours[:, None, :] + 20.0 * np.random.default_rng(0).standard_normal((110, 10, 24)), 0.0)
    trials = trials.reshape(-1, 24)
    gains = [f * spec.apl.gain_mv for f in GAIN_FRACTIONS]
    circuits = [RateCircuit(spec.replace(**{"simulation.seed": seed}), device=device, dtype=dtype) for seed in range(10)]
    tensors = [torch.as_tensor(c.weights, dtype=dtype, device=device) for c in circuits]
    x = torch.as_tensor(trials, dtype=dtype, device=device)

    def engine() -> None:
        for circuit in circuits:
            for gain in gains:
                circuit.steady_state(trials, gain)

    def matmul() -> None:
        for weights in tensors:
            for _ in gains:
                x @ weights.T

    def numpy_engine() -> None:
        for circuit in circuits:
            for gain in gains:
                numpy_steady_state(circuit.spec, circuit.weights, trials, gain)

    return {"n_stimuli": len(trials), "n_kc": spec.kc.n, "n_pn": spec.inputs.n, "wirings": len(circuits),
            "gains": len(gains), "matmul_seconds": best_of(repeats, matmul, device),
            "steady_state_seconds": best_of(repeats, engine, device),
            "numpy_seconds": best_of(repeats, numpy_engine, device)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--dtype", default="float64", choices=("float32", "float64"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=None, help="output stem (default benchmarks/results/rate_engine_<device>)")
    args = parser.parse_args(argv)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    workloads = {"mnist": mnist_workload(device, dtype, args.repeats),
                 "inhibition": inhibition_workload(device, dtype, args.repeats)}
    for name, w in workloads.items():
        w["matmul_passes"] = w["steady_state_seconds"] / w["matmul_seconds"]
        w["speedup_over_numpy"] = w["numpy_seconds"] / w["steady_state_seconds"]
        print(f"{name}: steady state {w['steady_state_seconds']:.2f} s = {w['matmul_passes']:.1f} matmul passes "
              f"({w['matmul_seconds']:.3f} s); numpy engine {w['numpy_seconds']:.2f} s")
    output = args.output or str(Path(__file__).parent / "results" / f"rate_engine_{args.device}")
    write_json(f"{output}.json", {"benchmark": "rate_engine", "device": args.device, "dtype": args.dtype,
                                  "repeats": args.repeats, "timing": "best of repeats, wall-clock seconds",
                                  "seeds": {"wirings": list(range(10)), "trial_noise": 0},
                                  "torch_threads": torch.get_num_threads(), "environment": environment_info(),
                                  "workloads": workloads})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
