"""Tests of the inhibition experiment (analysis/inhibition.py) and its odour tools (flymodel/odours.py), on tiny
circuits (200 KCs, 2 pairs, 4 trials) that run in seconds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from analysis.inhibition import EXPERIMENT, InhibitionConfig, make_setup, min_spikes_for, run_rate
from flymodel.cli import main
from flymodel.experiment import make_config, redraw, run_experiment
from flymodel.io import read_json, to_json
from flymodel.odours import (centroid_accuracy, d_prime, drive_probability, noisy_trials, receptor_correlations,
                             select_pairs, sparseness_measures, treves_rolls)
from flymodel.rate import RateCircuit
from flymodel.spec import load_circuit
from flymodel.stimuli import odour_stimuli

TINY = {"seeds": (0, 1), "kc_n": 200, "n_pairs": 2, "n_trials": 4, "apl_fractions": (1.0, 0.25, 0.0),
        "noise_levels_hz": (5.0, 20.0), "learn_trials": 5, "learn_epochs": 5}


def clusters(separation: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two synthetic odours: 8 noisy trials each around random non-negative centres mixed by separation."""
    base, other = rng.random(50), rng.random(50)
    centre_b = (1 - separation) * base + separation * other
    return (np.maximum(base + 0.1 * rng.standard_normal((8, 50)), 0),
            np.maximum(centre_b + 0.1 * rng.standard_normal((8, 50)), 0))


def test_treves_rolls_is_zero_for_uniform_one_for_one_hot_and_in_range():
    assert treves_rolls(np.full(10, 3.0)) == pytest.approx(0.0)
    assert treves_rolls(np.eye(10)[3]) == pytest.approx(1.0)
    values = treves_rolls(np.random.default_rng(0).random((5, 20)), axis=1)
    assert np.all((values >= 0) & (values <= 1))
    assert np.isnan(treves_rolls(np.zeros(5)))
    with pytest.raises(ValueError, match="negative"):
        treves_rolls(np.array([1.0, -1.0]))


def test_d_prime_and_accuracy_grow_with_cluster_separation():
    rng = np.random.default_rng(1)
    near, far = clusters(0.1, rng), clusters(1.0, rng)
    assert d_prime(*far) > d_prime(*near) > 0
    assert centroid_accuracy(*far, n_splits=2, seed=0) >= centroid_accuracy(*near, n_splits=2, seed=0)
    assert centroid_accuracy(*far, n_splits=2, seed=0) == 1.0
    assert d_prime(np.zeros((3, 5)), np.zeros((3, 5))) == 0.0  # silent codes cannot be told apart


def test_pairs_are_distinct_odours_with_similar_r_above_dissimilar_r():
    spec = load_circuit("drosophila_mb")
    from flymodel.data import load_hallem_carlson

    r = receptor_correlations(load_hallem_carlson().responses)
    drive = drive_probability(odour_stimuli(spec).rates_hz, spec)
    assert drive.shape == (110,) and np.all((drive >= 0) & (drive <= 1))
    similar, dissimilar = select_pairs(r, 4, np.flatnonzero(drive >= 0.1))
    odours = [i for pair in similar + dissimilar for i in pair]
    assert len(odours) == len(set(odours)) == 16
    assert min(r[i, j] for i, j in similar) > max(r[i, j] for i, j in dissimilar)
    assert all(drive[i] >= 0.1 for i in odours)
    with pytest.raises(ValueError, match="n_pairs"):
        select_pairs(r, 30, np.arange(10))


def test_noisy_trials_are_non_negative_and_seeded():
    rates = np.array([[0.0, 50.0, 100.0]])
    a = noisy_trials(rates, 5, 20.0, np.random.default_rng(3))
    assert a.shape == (1, 5, 3) and a.min() >= 0
    np.testing.assert_array_equal(a, noisy_trials(rates, 5, 20.0, np.random.default_rng(3)))
    with pytest.raises(ValueError, match="noise_hz"):
        noisy_trials(rates, 5, -1.0, np.random.default_rng(3))


def test_rate_model_codes_get_denser_and_more_correlated_as_apl_gain_falls():
    config = InhibitionConfig(**TINY)
    setup, pairs = make_setup(config)
    assert len(pairs["similar"]) == len(pairs["dissimilar"]) == 2
    trials = noisy_trials(setup.odours.rates_hz[setup.pair_odours], 4, 20.0, np.random.default_rng(0))
    circuit = RateCircuit(setup.spec)
    per_gain = run_rate(circuit, setup, trials, config, seed=0)
    levels = [per_gain[k] for k in ("100", "25", "0")]
    for name in ("fraction_responding", "all_fraction_responding", "all_mean_correlation"):
        values = [level[name] for level in levels]
        assert values == sorted(values) and values[0] < values[-1], name
    for level in levels:
        for name in ("population_sparseness", "lifetime_sparseness", "all_population_sparseness"):
            assert 0 <= level[name] <= 1


def test_sparseness_measures_count_lifetime_kcs():
    responses = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    values = sparseness_measures(responses, responses > 0)
    assert values["lifetime_kcs"] == 2 and values["fraction_responding"] == pytest.approx(1 / 3)
    assert values["population_sparseness"] == pytest.approx(1.0)


def test_min_spikes_keeps_eight_spikes_per_second():
    assert [min_spikes_for(ms) for ms in (50.0, 100.0, 200.0, 1000.0)] == [1, 1, 2, 8]


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    """One tiny run of every model (spiking on Brian2's numpy runtime: no compilation), written and redrawn."""
    config = make_config(EXPERIMENT, overrides={**{k: list(v) if isinstance(v, tuple) else v for k, v in TINY.items()},
                                                "spiking_presentation_ms": 100.0, "spiking_device": "numpy"})
    output = tmp_path_factory.mktemp("inhibition")
    results, paths = run_experiment(EXPERIMENT, config, output, progress=False)
    return results, paths, output


def test_spiking_codes_get_denser_and_more_correlated_as_apl_gain_falls(tiny_results):
    results, _, _ = tiny_results
    gains = results["models"]["spiking"]["gains"]
    for name in ("fraction_responding", "mean_correlation"):
        means = [gains[k]["summary"][name]["mean"] for k in ("100", "25", "0")]
        assert means == sorted(means) and means[0] < means[-1], name


def test_results_hold_every_model_test_and_sweep(tiny_results):
    results, _, _ = tiny_results
    assert set(results["models"]) == {"rate", "spiking", "learned"}
    for model in results["models"].values():
        assert set(model["gains"]) == {"100", "25", "0"}
        for readout in ("graded", "binary"):
            test = model["lin_test"][readout]
            assert test["reproduces"] in (True, False, None) and isinstance(test["verdict"], str)
        summary = model["gains"]["0"]["summary"]
        assert 0 <= summary["graded_accuracy_similar"]["mean"] <= 1
        assert len(model["gains"]["0"]["per_seed"]["graded_d_prime_similar_pairs"]) == 2
    for learning in results["learning"]:
        assert learning["learned_fraction_responding"] == pytest.approx(learning["target_fraction_responding"],
                                                                        abs=2e-3)
    assert len(results["noise_sweep"]["graded"]) == 2
    assert results["learned_vs_random"]["losses"]["graded"]["similar"]["n"] >= 1
    assert [p["r"] for p in results["pairs"]["similar"]] > [p["r"] for p in results["pairs"]["dissimilar"]]


def test_json_round_trip_and_redraw_make_the_same_figures(tiny_results, tmp_path):
    results, paths, output = tiny_results
    stored = read_json(output / "results.json")
    assert stored["models"] == json.loads(to_json(results))["models"]
    names = {p.name for key, p in paths.items() if key != "json"}
    assert names == {f"inhibition_{f}.{ext}" for f in ("measures", "lin2014", "noise") for ext in ("png", "pdf")}
    again = redraw(EXPERIMENT, output, tmp_path)
    assert {p.name for p in again.values()} == names
    assert main(["figure", "inhibition", "--results", str(output)]) == 0


def test_same_seed_gives_the_same_rate_results(tmp_path):
    overrides = {**TINY, "models": ("rate",), "noise_levels_hz": ()}
    config = dataclasses.replace(InhibitionConfig(), **overrides)
    first = EXPERIMENT.run(config, tmp_path, False)
    second = EXPERIMENT.run(config, tmp_path, False)
    assert first["models"] == second["models"]


@pytest.mark.parametrize("overrides, field", [
    ({"seeds": [0]}, "seeds"),
    ({"apl_fractions": [1.0, 0.5]}, "apl_fractions"),
    ({"apl_fractions": [0.5, 0.0]}, "apl_fractions"),
    ({"apl_fractions": [1.0, 1.5, 0.0]}, "apl_fractions"),
    ({"models": ["rate", "ratee"]}, "models"),
    ({"n_trials": 3, "cv_folds": 4}, "n_trials"),
    ({"pn_noise_hz": 0.0}, "pn_noise_hz"),
    ({"spiking_device": "gpu"}, "spiking_device"),
    ({"noise_levels_hz": [5.0, 5.0]}, "noise_levels_hz"),
])
def test_bad_settings_raise_value_errors_naming_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        make_config(EXPERIMENT, overrides=overrides)
