"""Calibrate the APL gain of circuits/hemibrain_mb.toml: the fraction of responding KCs against the gain, in the rate
engine and the spiking engine (cpp_standalone, one build for every gain), on all 110 Hallem & Carlson odours without
trial noise, for uniform and connectome-weighted KC→APL synapses.

Criterion (written beside the value in the circuit file): the engines disagree (the spiking circuit, with Poisson
PNs, responds more than the rate model's mean-drive steady state, as for drosophila_mb), so the default sits between
them: the gain on the grid whose geometric mean of the two engines' mean responding fractions is closest to 7.5 %,
the middle of the 5–10 % of KCs that respond to an odour in vivo (Honegger, Campbell & Turner 2011; Lin et al. 2014).
Writes JSON (machine, versions, date) and a markdown table.
Run: python benchmarks/hemibrain_calibration.py [--gains 0 0.05 ...] [--output STEM]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.io import atomic_path, environment_info, write_json
from flymodel.spiking import SpikingCircuit

TARGET = 0.075
GAINS = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.75, 1.0]


def sweep(spec, rates: np.ndarray, gains: list[float]) -> dict[str, Any]:
    """Mean fraction of responding KCs per gain in both engines, and the build and run times of the spiking one."""
    rate = RateCircuit(spec)
    started = time.perf_counter()
    circuit = SpikingCircuit(spec, len(rates), device="cpp_standalone")
    spiking = [float(circuit.run(rates, apl_gain_mv=g).fraction_responding().mean()) for g in gains]
    return {"rate": [float(rate.responding(rates, g).mean()) for g in gains], "spiking": spiking,
            "build_seconds": circuit.build_seconds, "wall_seconds": time.perf_counter() - started}


def choose(gains: list[float], result: dict[str, Any]) -> dict[str, Any]:
    """The grid gain whose geometric mean of the engines' fractions is closest to TARGET, with both engines' numbers."""
    geometric = np.sqrt(np.array(result["rate"]) * np.array(result["spiking"]))
    i = int(np.argmin(np.abs(geometric[1:] - TARGET))) + 1  # gain 0 is the reference, not a candidate
    return {"gain_mv": gains[i], "rate": result["rate"][i], "spiking": result["spiking"][i],
            "geometric_mean": float(geometric[i]),
            "gain_zero_ratio": {"rate": result["rate"][0] / result["rate"][i],
                                "spiking": result["spiking"][0] / result["spiking"][i]}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gains", nargs="+", type=float, default=GAINS)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "hemibrain_calibration"))
    args = parser.parse_args(argv)
    if args.gains[0] != 0:
        parser.error("--gains must start with 0 (the reference for the ≥ 3× criterion)")
    spec = load_circuit("hemibrain_mb")
    rates = circuit_stimuli(spec).rates_hz
    record: dict[str, Any] = {"benchmark": "hemibrain_calibration", "environment": environment_info(),
                              "circuit": spec.to_dict(), "odours": len(rates), "gains_mv": args.gains,
                              "target_fraction": TARGET, "apl_weights": {}}
    for weights in ("uniform", "connectome"):
        result = sweep(spec.replace(**{"apl.weights": weights}), rates, args.gains)
        record["apl_weights"][weights] = {**result, "chosen": choose(args.gains, result)}
    write_json(f"{args.output}.json", record)
    lines = ["| APL gain (mV) | " + " | ".join(f"{w}: rate | {w}: spiking" for w in record["apl_weights"]) + " |",
             "|---:|" + "---:|---:|" * len(record["apl_weights"])]
    for i, gain in enumerate(args.gains):
        cells = [f"{100 * r['rate'][i]:.1f} % | {100 * r['spiking'][i]:.1f} %" for r in record["apl_weights"].values()]
        lines.append(f"| {gain:g} | " + " | ".join(cells) + " |")
    for weights, r in record["apl_weights"].items():
        c = r["chosen"]
        lines.append(f"\n{weights}: gain {c['gain_mv']:g} mV gives {100 * c['rate']:.1f} % (rate) and "
                     f"{100 * c['spiking']:.1f} % (spiking); gain 0 gives {c['gain_zero_ratio']['rate']:.1f}× and "
                     f"{c['gain_zero_ratio']['spiking']:.1f}× more.")
    with atomic_path(f"{args.output}.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
