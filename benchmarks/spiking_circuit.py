"""The fly-scale spiking circuit (circuits/drosophila_mb.toml) on all 110 Hallem & Carlson odours, cpp_standalone.

Three measurements in one run, written to JSON (machine, versions, seeds, date), markdown and figures (the
measurements; the raster and per-odour sparseness of the default run):
  1. speed: a clean build plus all 110 odours (wall time), then a sweep of APL gains that reuses that build;
  2. APL creates sparseness: mean fraction of responding KCs against the APL gain (spiking, and the rate
     model's steady state on the same wiring), the gain-0 / default ratio and monotonicity;
  3. k-WTA: Jaccard overlap of the KCs that fire with the rate model's top-k (k = number that fire) against
     presentation time, beside the ceiling set by PN Poisson noise alone (top-k of the PN spike counts).
Run: python benchmarks/spiking_circuit.py [--gains ...] [--presentations-ms ...] [--output STEM]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.io import environment_info, write_json
from flymodel.plots import plot_kc_raster, plot_sparseness, plt, save_figure
from flymodel.spiking import SpikingCircuit


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Jaccard index of two boolean matrices (1 where both rows are empty)."""
    union = (a | b).sum(axis=1)
    return np.where(union > 0, (a & b).sum(axis=1) / np.maximum(union, 1), 1.0)


def poisson_ceiling(rate_model: RateCircuit, rates: np.ndarray, k: np.ndarray, seconds: float, seed: int) -> float:
    """Mean Jaccard of top-k by mean drive against top-k by the PN spike counts of one Poisson presentation."""
    counts = np.random.default_rng(seed).poisson(rates * seconds).astype(float)
    noisy = rate_model.top_k(counts / seconds, k)
    return float(jaccard(noisy, rate_model.top_k(rates, k)).mean())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gains", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0])
    parser.add_argument("--presentations-ms", type=float, nargs="+", default=[100.0, 200.0, 500.0, 1000.0, 2000.0])
    parser.add_argument("--output", default="benchmarks/results/spiking_circuit")
    args = parser.parse_args(argv)
    spec = load_circuit("drosophila_mb")
    stimuli = circuit_stimuli(spec)
    rate_model = RateCircuit(spec)
    workdir = Path(tempfile.mkdtemp(prefix="flymodel_bench_"))
    try:
        # 1. a clean build and all 110 odours, then the gain sweep on the same binary
        started = time.perf_counter()
        circuit = SpikingCircuit(spec, len(stimuli), device="cpp_standalone", directory=workdir / "fly")
        default = circuit.run(stimuli.rates_hz, names=stimuli.names, progress=True)
        first_wall = time.perf_counter() - started
        sweep = []
        for gain in args.gains:
            result = circuit.run(stimuli.rates_hz, apl_gain_mv=gain)
            fractions = result.fraction_responding()
            sweep.append({"apl_gain_mv": gain, "mean_fraction": float(fractions.mean()),
                          "std_fraction": float(fractions.std()), "run_seconds": result.run_seconds,
                          "rate_model_fraction": float(rate_model.responding(stimuli.rates_hz, gain).mean())})
            print(f"gain {gain:5.2f} mV: {fractions.mean():6.1%} KCs respond (rate model "
                  f"{sweep[-1]['rate_model_fraction']:.1%}), {result.run_seconds:.1f} s")
        sweep_wall = time.perf_counter() - started - first_wall
        # 3. agreement with the rate model's top-k against presentation time (one build per duration)
        agreement = []
        for ms in args.presentations_ms:
            min_spikes = max(1, round(spec.simulation.min_spikes * ms / spec.simulation.presentation_ms))
            timed = spec.replace(**{"simulation.presentation_ms": ms, "simulation.min_spikes": min_spikes})
            result = SpikingCircuit(timed, len(stimuli), device="cpp_standalone",
                                    directory=workdir / f"t{ms:g}").run(stimuli.rates_hz)
            codes = result.codes
            k = codes.sum(axis=1)
            top = rate_model.top_k(stimuli.rates_hz, k)
            agreement.append({"presentation_ms": ms, "min_spikes": min_spikes,
                              "mean_fraction": float(codes.mean()),
                              "mean_jaccard": float(jaccard(codes, top).mean()),
                              "poisson_ceiling": poisson_ceiling(rate_model, stimuli.rates_hz, k, ms / 1e3, seed=0)})
            print(f"{ms:6.0f} ms (>= {min_spikes} spikes): Jaccard {agreement[-1]['mean_jaccard']:.3f} "
                  f"(PN Poisson ceiling {agreement[-1]['poisson_ceiling']:.3f}), {codes.mean():.1%} respond")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    fractions = [s["mean_fraction"] for s in sweep]
    default_fraction = float(default.fraction_responding().mean())
    zero = next((s["mean_fraction"] for s in sweep if s["apl_gain_mv"] == 0), None)
    record = {
        "benchmark": "spiking_circuit", "environment": environment_info(), "circuit": spec.to_dict(),
        "n_odours": len(stimuli), "seed": spec.simulation.seed,
        "speed": {"build_seconds": default.build_seconds, "run_seconds": default.run_seconds,
                  "build_and_110_odours_wall_seconds": first_wall, "gain_sweep_wall_seconds": sweep_wall,
                  "gain_sweep_runs": len(args.gains), "builds_in_sweep": 0},
        "default": {"apl_gain_mv": spec.apl.gain_mv, "mean_fraction": default_fraction,
                    "per_odour_fraction": default.fraction_responding().tolist()},
        "gain_sweep": sweep,
        "checks": {"default_within_5_10_percent": 0.05 <= default_fraction <= 0.10,
                   "gain0_over_default": None if zero is None else zero / default_fraction,
                   "monotonic_non_increasing": bool(np.all(np.diff(fractions) <= 0))},
        "kwta_agreement": agreement,
    }
    write_json(f"{args.output}.json", record)
    summary = default.summary()
    plot_kc_raster(summary, f"{args.output}_raster")
    plot_sparseness(summary, f"{args.output}_sparseness")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    gains = [s["apl_gain_mv"] for s in sweep]
    shown = [max(g, 0.02) for g in gains]  # gain 0 drawn at the left edge of the log axis
    left.errorbar(shown, [100 * f for f in fractions], yerr=[100 * s["std_fraction"] for s in sweep], marker="o",
                  capsize=3, label="spiking (mean ± sd over odours)")
    left.plot(shown, [100 * s["rate_model_fraction"] for s in sweep], marker="s", ls="--", label="rate model")
    left.axhspan(5, 10, color="tab:green", alpha=0.15, label="5–10 % (in vivo)")
    left.set_xscale("log")
    left.set_xticks(shown, ["0" if g == 0 else f"{g:g}" for g in gains], fontsize=8)
    left.set_xlabel("APL gain (mV per unit APL activity)")
    left.set_ylabel("responding KCs (%)")
    left.set_title("APL feedback creates sparseness (110 odours)", fontsize=10)
    left.legend(fontsize=8, frameon=False, loc="upper right")
    times = [a["presentation_ms"] for a in agreement]
    right.plot(times, [a["mean_jaccard"] for a in agreement], marker="o", label="spiking KCs vs rate top-k")
    right.plot(times, [a["poisson_ceiling"] for a in agreement], marker="s", ls="--",
               label="ceiling: top-k of PN spike counts")
    right.axhline(0.7, color="grey", lw=0.8, ls=":")
    right.set_xscale("log")
    right.set_xticks(times, [f"{t:g}" for t in times], fontsize=8)
    right.set_xlabel("presentation time (ms)")
    right.set_ylabel("mean Jaccard index")
    right.set_ylim(0, 1)
    right.set_title("spiking circuit computes k-WTA", fontsize=10)
    right.legend(fontsize=8, frameon=False, loc="lower right")
    save_figure(fig, args.output)
    lines = [f"# drosophila_mb on {len(stimuli)} odours (cpp_standalone, {environment_info()['cpu_count']} cores)", "",
             f"Clean build {default.build_seconds:.1f} s + 110 odours {default.run_seconds:.1f} s = "
             f"{first_wall:.1f} s wall; {len(args.gains)} APL gains on the same build in {sweep_wall:.1f} s.", "",
             "| APL gain (mV) | responding KCs, spiking | rate model |", "|---:|---:|---:|"]
    lines += [f"| {s['apl_gain_mv']:g} | {100 * s['mean_fraction']:.1f} ± {100 * s['std_fraction']:.1f} % | "
              f"{100 * s['rate_model_fraction']:.1f} % |" for s in sweep]
    lines += ["", f"Default gain {spec.apl.gain_mv:g} mV: {100 * default_fraction:.1f} %; gain 0 / default = "
              f"{record['checks']['gain0_over_default']:.1f}; monotonic: {record['checks']['monotonic_non_increasing']}.",
              "", "| presentation (ms) | min spikes | responding | Jaccard vs rate top-k | PN Poisson ceiling |",
              "|---:|---:|---:|---:|---:|"]
    lines += [f"| {a['presentation_ms']:g} | {a['min_spikes']} | {100 * a['mean_fraction']:.1f} % | "
              f"{a['mean_jaccard']:.3f} | {a['poisson_ceiling']:.3f} |" for a in agreement]
    Path(f"{args.output}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return record


if __name__ == "__main__":
    main()
