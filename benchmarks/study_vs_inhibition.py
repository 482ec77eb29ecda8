"""Does the apl_gain study give the inhibition analysis' committed numbers? Compares, seed by seed, every measure the
two share at every APL gain, and the Lin et al. test's paired difference, from their committed results.

Reads analysis/results/studies/apl_gain/results.json (flymodel study apl_gain) and
analysis/results/inhibition/results.json (flymodel analyze inhibition); writes
benchmarks/results/study_vs_inhibition.json with the largest absolute difference per engine and measure.
Run: python benchmarks/study_vs_inhibition.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flymodel.io import environment_info, read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
STUDY, ANALYSIS = ROOT / "analysis/results/studies/apl_gain/results.json", ROOT / "analysis/results/inhibition/results.json"
#: Study measure → the analysis' key, per engine (the analysis measures the 110 clean odours in the rate engine only).
TRIALS = {"dprime_similar": "graded_d_prime_similar", "dprime_dissimilar": "graded_d_prime_dissimilar",
          "dprime_binary_similar": "binary_d_prime_similar", "dprime_binary_dissimilar": "binary_d_prime_dissimilar",
          "accuracy_similar": "binary_accuracy_similar", "accuracy_dissimilar": "binary_accuracy_dissimilar"}
CODES = {m: f"all_{m}" for m in ("fraction_responding", "population_sparseness", "lifetime_sparseness", "mean_correlation")}
SHARED = {"rate": {**CODES, **TRIALS}, "spiking": TRIALS}


def main() -> None:
    study, analysis = read_json(STUDY), read_json(ANALYSIS)
    intact = analysis["settings"]["intact_gain_mv"]
    engines = {}
    for engine, names in SHARED.items():
        largest = {}
        for gain in study["settings"]["factors"]["apl.gain_mv"]:
            per_seed = analysis["models"][engine]["gains"][f"{100 * gain / intact:g}"]["per_seed"]
            for measure, key in names.items():
                ours = [next(r["measures"][measure] for r in study["records"]
                             if r["engine"] == engine and r["cell"] == {"apl.gain_mv": gain} and r["seed"] == s)
                        for s in analysis["seeds"]]
                largest[measure] = max(largest.get(measure, 0.0), float(np.max(np.abs(np.subtract(ours, per_seed[key])))))
        lin = next(c for c in study["loss_contrasts"] if c["engine"] == engine and c["cell"] == {"apl.gain_mv": 0.0})
        theirs = analysis["models"][engine]["lin_test"]["binary"]["loss_test"]
        engines[engine] = {"largest_absolute_difference": largest,
                           "lin_difference": {"study": [lin[k] for k in ("mean_difference", "ci_low", "ci_high")],
                                              "analysis": [theirs[k] for k in ("mean_difference", "ci_low", "ci_high")]}}
        print(engine, f"largest difference {max(largest.values()):.3g}", engines[engine]["lin_difference"])
    write_json(ROOT / "benchmarks/results/study_vs_inhibition.json",
               {"benchmark": "study_vs_inhibition", "seeds": analysis["seeds"], "gains_mv": study["settings"]["factors"]["apl.gain_mv"],
                "engines": engines, "environment": environment_info()})


if __name__ == "__main__":
    main()
