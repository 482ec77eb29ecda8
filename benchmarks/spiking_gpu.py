"""brian2cuda against cpp_standalone on the same circuit and inputs: fly scale and scaled-up mushroom bodies.

For each size (drosophila_mb with 2,000 KCs on all 110 odours; then 100,000 and 1,000,000 KCs on 10 odours,
10 s of biological time like brian2cuda's own mushroom-body benchmark), the circuit is built and run on
cpp_standalone and on cuda_standalone with the same spec, wiring and stimuli, and the build and run wall
times are written to JSON (machine, GPU, versions, seed, date) and markdown. Spike trains differ between
the devices (cuRAND against the CPU generator), so the mean fraction of responding KCs is recorded as a check.
Needs a CUDA GPU with nvcc; on a machine without one it says so and writes nothing.
Run: python benchmarks/spiking_gpu.py [--sizes 2000 100000 1000000] [--skip-cpp-above 100000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.io import environment_info, write_json
from flymodel.spiking import SpikingCircuit

#: brian2cuda's mushroom-body benchmark, 10 s biological time (notes/stack.md): KCs → (C++ 1 thread, CUDA) seconds.
BRIAN2CUDA_REFERENCE = {1_000: (23, 22), 100_000: (1907, "39-45"), 1_000_000: (19056, "285-347")}


def timed_run(spec: Any, rates: Any, device: str, directory: Path) -> dict[str, Any]:
    """Build and run once on a device; wall times and the mean fraction of responding KCs."""
    started = time.perf_counter()
    circuit = SpikingCircuit(spec, rates.shape[0], device=device, directory=directory)
    result = circuit.run(rates, progress=True)
    return {"device": device, "build_seconds": result.build_seconds, "run_seconds": result.run_seconds,
            "wall_seconds": time.perf_counter() - started,
            "mean_fraction_responding": float(result.fraction_responding().mean())}


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 100_000, 1_000_000])
    parser.add_argument("--skip-cpp-above", type=int, default=100_000,
                        help="do not run cpp_standalone above this many KCs (hours on a CPU)")
    parser.add_argument("--output", default="benchmarks/results/spiking_gpu")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available() or shutil.which("nvcc") is None:
        print("spiking_gpu: no CUDA GPU with nvcc here; nothing measured, nothing written", file=sys.stderr)
        return None
    base = load_circuit("drosophila_mb")
    stimuli = circuit_stimuli(base)
    rows = []
    workdir = Path(tempfile.mkdtemp(prefix="flymodel_gpu_"))
    try:
        for n_kc in args.sizes:
            spec = base.replace(**{"kc.n": n_kc})
            chosen = stimuli if n_kc <= 2000 else stimuli.subset(slice(0, 10))
            devices = ["cuda_standalone"] + (["cpp_standalone"] if n_kc <= args.skip_cpp_above else [])
            for device in devices:
                row = {"n_kc": n_kc, "n_stimuli": len(chosen),
                       "biological_seconds": len(chosen) * spec.simulation.presentation_ms / 1e3,
                       **timed_run(spec, chosen.rates_hz, device, workdir / f"{device}_{n_kc}")}
                rows.append(row)
                print(row)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    record = {"benchmark": "spiking_gpu", "environment": environment_info(), "gpu": torch.cuda.get_device_name(0),
              "seed": base.simulation.seed, "runs": rows, "brian2cuda_reference_10s": BRIAN2CUDA_REFERENCE}
    write_json(f"{args.output}.json", record)
    lines = [f"# Spiking circuit: cuda_standalone against cpp_standalone ({record['gpu']})", "",
             "| KCs | stimuli | biological s | device | build s | run s | responding |", "|---:|---:|---:|---|---:|---:|---:|"]
    lines += [f"| {r['n_kc']:,} | {r['n_stimuli']} | {r['biological_seconds']:g} | {r['device']} | "
              f"{r['build_seconds']:.1f} | {r['run_seconds']:.1f} | {100 * r['mean_fraction_responding']:.1f} % |" for r in rows]
    lines += ["", "brian2cuda's own mushroom-body benchmark (10 s biological): 1,000,000 KCs in 285–347 s on its GPU."]
    Path(f"{args.output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
