"""Tests of the connectome experiment (analysis/connectome.py): its statistics against direct computations, the
co-occurrence test on planted structure, its settings' errors, and a small run end to end with figures redrawn."""

from __future__ import annotations

import numpy as np
import pytest
from figures import assert_same_figures

from analysis import get_experiment
from analysis.connectome import EXPERIMENT, MEASURES, cooccurrence, cooccurrence_test, place_in_null
from flymodel.experiment import make_config, redraw, run_experiment

SMALL = {"n_shuffles": 3, "n_pairs": 3, "n_trials": 4, "spiking_shuffles": 2, "spiking_presentation_ms": 20.0,
         "cooccurrence_shuffles": 4, "nulls": ["degree_preserving", "uniform"]}


def test_place_in_null_is_z_and_two_sided_empirical_p():
    null = [1.0, 2.0, 3.0, 2.0, 1.0]
    out = place_in_null(3.0, null)
    assert out["z"] == pytest.approx((3.0 - 1.8) / np.std(null, ddof=1))
    assert out["p"] == pytest.approx(2 / 6) and out["relative"] == pytest.approx(3.0 / 1.8 - 1)
    assert out["null_95"] == pytest.approx(list(np.percentile(null, [2.5, 97.5])))
    assert place_in_null(1.8, null)["p"] == 1.0  # at the null's mean every shuffle is as extreme


def test_cooccurrence_counts_shared_kcs_of_every_glomerulus_pair():
    rng = np.random.default_rng(0)
    binary = rng.random((40, 6)) < 0.4
    expected = [int((binary[:, i] & binary[:, j]).sum()) for i in range(6) for j in range(i + 1, 6)]
    np.testing.assert_array_equal(cooccurrence(binary), expected)


def test_planted_convergence_is_found_above_chance():
    """Glomeruli 0 and 1 always reach the same KCs: against degree-preserving shuffles that pair is above chance."""
    rng = np.random.default_rng(1)
    binary = rng.random((300, 12)) < 0.2
    binary[:, 1] = binary[:, 0]
    test = cooccurrence_test(binary, tuple(f"g{i}" for i in range(12)), "degree_preserving", 30, 0.05)
    assert test["top_above"][0]["glomeruli"] == ["g0", "g1"] and test["top_above"][0]["z"] > 5
    assert test["above"] >= 1 and test["pairs"] == 66


@pytest.mark.parametrize(("overrides", "match"), [
    ({"nulls": ["swap"]}, r"nulls='swap' is not known"),
    ({"n_shuffles": 1}, r"n_shuffles=1 is too small"),
    ({"spiking_null": "x"}, r"spiking_null='x' is not known"),
    ({"fdr": 1.5}, r"fdr=1.5 must be a false discovery rate in \(0, 1\)"),
    ({"min_fraction": 1.0}, r"min_fraction=1.0 must be a fraction of KCs"),
    ({"spiking_shuffles": 1}, r"spiking_shuffles=1: expected 0 \(rate engine only\) or >= 2"),
])
def test_bad_settings_are_named(overrides, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_config(EXPERIMENT, overrides=overrides)


def test_small_run_end_to_end(tmp_path):
    """A small run: every wiring measured in the rate engine, the data and one shuffle in the spiking engine,
    co-occurrence against each null, figures drawn from the JSON and redrawn identically."""
    assert get_experiment("connectome") is EXPERIMENT
    config = make_config(EXPERIMENT, overrides=SMALL)
    results, paths = run_experiment(EXPERIMENT, config, tmp_path, progress=False)
    rate = results["rate"]
    assert len(rate["per_wiring"]["data"]) == 1 and len(rate["per_wiring"]["uniform"]) == 3
    assert set(rate["tests"]) == {"degree_preserving", "uniform"} and set(rate["tests"]["uniform"]) == set(MEASURES)
    data = rate["per_wiring"]["data"][0]
    assert 0.05 <= data["fraction_responding"] <= 0.15
    spiking = results["spiking"]
    assert len(spiking["per_wiring"]["data"]) == 1 and len(spiking["per_wiring"]["degree_preserving"]) == 2
    assert set(results["cooccurrence"]) == {"degree_preserving", "uniform"}
    for kc_degrees in (results["degrees"]["degree_preserving"][0]["kc_in_degree"],
                       results["degrees"]["uniform"][0]["kc_in_degree"]):
        assert kc_degrees == results["degrees"]["data"]["kc_in_degree"]
    assert results["degrees"]["degree_preserving"][0]["glomerulus_partners"] == \
        results["degrees"]["data"]["glomerulus_partners"]
    assert {"matrix_png", "degrees_png", "nulls_png", "cooccurrence_png"} <= set(paths)
    redraw(EXPERIMENT, tmp_path, tmp_path / "again")
    assert_same_figures(tmp_path, tmp_path / "again")
