"""Tests of the inhibition experiment (analysis/inhibition.py) and its odour tools (flymodel/circuit/odours.py), on tiny
circuits (200 KCs, 2 pairs, 4 trials) that run in seconds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from figures import assert_same_figures
from scipy import stats

from analysis import EXPERIMENTS, get_experiment
from analysis.inhibition import (
    EXPERIMENT,
    MATERIAL_LOSS,
    InhibitionConfig,
    lin_test,
    make_setup,
    run_rate,
)
from flymodel.circuit.measures import centroid_accuracy, d_prime, sparseness_measures, treves_rolls
from flymodel.circuit.odours import drive_probability, noisy_trials, receptor_correlations, select_pairs
from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import load_circuit
from flymodel.circuit.stimuli import odour_stimuli
from flymodel.cli import main
from flymodel.spiking.circuit import min_spikes_for
from flymodel.experiment import make_config, redraw, run_experiment
from flymodel.io import read_json, to_json

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


# --- the Lin et al. rule (lin_test, verdict) on hand-built per-seed d′ and accuracies -------------------------------


def lin_inputs(d_similar: tuple[list[float], list[float]],
               d_dissimilar: tuple[list[float], list[float]]) -> tuple[dict, dict]:
    """lin_test's intact and blocked per-seed dicts for the graded readout from (intact, blocked) d′ lists per group;
    accuracy 1.0 intact and 0.9 blocked in every seed and group."""
    n = len(d_similar[0])
    acc_intact, acc_blocked = [1.0] * n, [0.9] * n
    intact = {"graded_d_prime_similar": d_similar[0], "graded_d_prime_dissimilar": d_dissimilar[0],
              "graded_accuracy_similar": acc_intact, "graded_accuracy_dissimilar": acc_intact}
    blocked = {"graded_d_prime_similar": d_similar[1], "graded_d_prime_dissimilar": d_dissimilar[1],
               "graded_accuracy_similar": acc_blocked, "graded_accuracy_dissimilar": acc_blocked}
    return intact, blocked


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and two-sided 95 % Student-t interval, computed here (not with flymodel.stats) to check the record."""
    mean, half = values.mean(), stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def blocked_for(loss: list[float], d_intact: float) -> list[float]:
    """Blocked d′ that give the per-seed losses 1 − d_blocked / d_intact from one intact d′."""
    return [d_intact * (1 - value) for value in loss]


def check_losses(record: dict, intact: dict, blocked: dict, seeds: list[int]) -> None:
    """The record's kept seeds, per-seed losses, their CIs and the paired test equal values computed here."""
    d0 = {g: np.array(intact[f"graded_d_prime_{g}"]) for g in ("similar", "dissimilar")}
    d1 = {g: np.array(blocked[f"graded_d_prime_{g}"]) for g in ("similar", "dissimilar")}
    kept = (d0["similar"] > 0) & (d0["dissimilar"] > 0)
    assert record["seeds"] == [s for s, k in zip(seeds, kept) if k]
    assert record["excluded_seeds"] == [s for s, k in zip(seeds, kept) if not k]
    loss = {g: 1 - d1[g][kept] / d0[g][kept] for g in d0}
    for group in ("similar", "dissimilar"):
        np.testing.assert_allclose(record[f"loss_{group}"], loss[group], rtol=1e-12, atol=1e-15)
        mean, low, high = t_interval(loss[group])
        ci = record[f"loss_{group}_ci"]
        assert (ci["mean"], ci["ci_low"], ci["ci_high"]) == pytest.approx((mean, low, high), rel=1e-9, abs=1e-12)
    mean, low, high = t_interval(loss["similar"] - loss["dissimilar"])
    test = record["loss_test"]
    assert (test["mean_difference"], test["ci_low"], test["ci_high"]) == pytest.approx((mean, low, high), rel=1e-9,
                                                                                       abs=1e-12)
    assert test["n"] == kept.sum()


def test_lin_rule_reproduces_when_similar_pairs_lose_materially_more():
    """Similar loss ≈ 50 % (lower bound far above 10 %) against ≈ 1 %: reproduced; a seed with intact d′ = 0 is
    left out and its blocked d′ does not count."""
    seeds = [0, 1, 2, 3]
    similar = ([2.0, 2.0, 2.0, 2.0], blocked_for([0.5, 0.55, 0.45], 2.0) + [5.0])
    dissimilar = ([4.0, 4.0, 4.0, 0.0], blocked_for([0.01, 0.02, 0.0], 4.0) + [3.0])
    intact, blocked = lin_inputs(similar, dissimilar)
    record = lin_test(intact, blocked, seeds, "graded")
    check_losses(record, intact, blocked, seeds)
    assert record["seeds"] == [0, 1, 2] and record["excluded_seeds"] == [3]
    assert record["loss_similar"] == pytest.approx([0.5, 0.55, 0.45])
    assert record["loss_similar_ci"]["ci_low"] > MATERIAL_LOSS and record["loss_test"]["ci_low"] > 0
    assert record["reproduces"] is True
    assert record["verdict"].startswith("reproduces Lin et al. 2014: similar pairs lose more than dissimilar ones")
    mean, low, high = t_interval(np.array([0.5, 0.55, 0.45]))
    assert f"similar {100 * mean:.0f} % [{100 * low:.0f}, {100 * high:.0f}]" in record["verdict"]
    # the accuracy drops are per seed (every seed, excluded or not) and the paired accuracy test sees all four
    assert record["accuracy_drop_similar"] == pytest.approx([0.1] * 4)
    assert record["accuracy_test"]["n"] == 4 and record["accuracy_test"]["mean_difference"] == pytest.approx(0)


def test_lin_rule_rejects_a_significant_similar_loss_under_ten_percent():
    """Similar loss 5–7 % (lower bound ≈ 3.5 %: significant but not material) against none: not reproduced."""
    seeds = [0, 1, 2]
    intact, blocked = lin_inputs(([2.0] * 3, blocked_for([0.05, 0.06, 0.07], 2.0)), ([4.0] * 3, [4.0] * 3))
    record = lin_test(intact, blocked, seeds, "graded")
    check_losses(record, intact, blocked, seeds)
    assert 0 < record["loss_similar_ci"]["ci_low"] <= MATERIAL_LOSS
    assert record["loss_test"]["ci_low"] > 0  # the similar pairs do lose more: only the 10 % rule fails
    assert record["reproduces"] is False
    assert record["verdict"].startswith("does not reproduce Lin et al. 2014: similar pairs lose less than 10 % of "
                                        "their d′ (95 % CI)"), record["verdict"]


def test_lin_rule_rejects_a_similar_loss_that_is_not_significant():
    """Similar losses 30 %, −20 %, 10 % (95 % CI includes 0) against none: not reproduced, 'not significantly'."""
    seeds = [0, 1, 2]
    intact, blocked = lin_inputs(([2.0] * 3, blocked_for([0.3, -0.2, 0.1], 2.0)), ([4.0] * 3, [4.0] * 3))
    record = lin_test(intact, blocked, seeds, "graded")
    check_losses(record, intact, blocked, seeds)
    assert record["loss_similar_ci"]["ci_low"] <= 0
    assert record["reproduces"] is False
    assert record["verdict"].startswith("does not reproduce Lin et al. 2014: similar pairs do not lose discrimination "
                                        "significantly"), record["verdict"]


@pytest.mark.parametrize("dissimilar_loss", [[0.6, 0.7, 0.65], [0.45, 0.6, 0.5]],
                         ids=["dissimilar-lose-more", "difference-not-significant"])
def test_lin_rule_rejects_when_dissimilar_pairs_lose_as_much(dissimilar_loss):
    """Similar loss ≈ 50 % (material) but dissimilar pairs lose more, or not significantly less: not reproduced."""
    seeds = [0, 1, 2]
    intact, blocked = lin_inputs(([2.0] * 3, blocked_for([0.5, 0.55, 0.45], 2.0)),
                                 ([4.0] * 3, blocked_for(dissimilar_loss, 4.0)))
    record = lin_test(intact, blocked, seeds, "graded")
    check_losses(record, intact, blocked, seeds)
    assert record["loss_similar_ci"]["ci_low"] > MATERIAL_LOSS and record["loss_test"]["ci_low"] <= 0
    assert record["reproduces"] is False
    assert record["verdict"].startswith("does not reproduce Lin et al. 2014: similar pairs do not lose significantly "
                                        "more than dissimilar ones"), record["verdict"]


@pytest.mark.parametrize("seeds, d_similar, d_dissimilar, excluded", [
    ([7], [2.0], [4.0], []),  # one seed: no spread, no test
    ([3, 5, 7], [2.0, 0.0, 2.0], [4.0, 4.0, 0.0], [5, 7]),  # intact d′ = 0 in one group leaves one seed
    ([3, 5, 7], [2.0, -0.5, 2.0], [4.0, 4.0, -1.0], [5, 7]),  # negative intact d′ has no defined loss either
])
def test_lin_rule_gives_no_verdict_with_fewer_than_two_usable_seeds(seeds, d_similar, d_dissimilar, excluded):
    """Fewer than 2 seeds with positive intact d′ in both groups: reproduces None, no loss test, excluded listed."""
    intact, blocked = lin_inputs((d_similar, [1.0] * len(seeds)), (d_dissimilar, [3.0] * len(seeds)))
    record = lin_test(intact, blocked, seeds, "graded")
    assert record["excluded_seeds"] == excluded and record["seeds"] == [s for s in seeds if s not in excluded]
    assert record["loss_similar"] == pytest.approx([1 - 1.0 / 2.0])  # the one kept seed
    assert record["loss_dissimilar"] == pytest.approx([1 - 3.0 / 4.0])
    assert record["reproduces"] is None and record["loss_test"] is None
    assert "loss_similar_ci" not in record
    assert record["verdict"] == "fewer than 2 seeds with a positive intact d′: no test"
    assert (record["accuracy_test"] is None) == (len(seeds) < 2)  # accuracies need no positive d′


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
    """Every model's Lin test is the rule applied to its own per-seed d′ (losses, CI, verdict agree), and the
    learning, noise sweep and pairs are recorded."""
    results, _, _ = tiny_results
    assert set(results["models"]) == {"rate", "spiking", "learned"}
    for model in results["models"].values():
        assert set(model["gains"]) == {"100", "25", "0"}
        intact, blocked = model["gains"]["100"]["per_seed"], model["gains"]["0"]["per_seed"]
        for readout in ("graded", "binary"):
            test = model["lin_test"][readout]
            kept = np.ones(len(results["seeds"]), dtype=bool)
            for group in ("similar", "dissimilar"):
                kept &= np.array(intact[f"{readout}_d_prime_{group}"]) > 0
            for group in ("similar", "dissimilar"):
                d0 = np.array(intact[f"{readout}_d_prime_{group}"])[kept]
                d1 = np.array(blocked[f"{readout}_d_prime_{group}"])[kept]
                np.testing.assert_allclose(test[f"loss_{group}"], 1 - d1 / d0, rtol=1e-12)
            assert test["seeds"] == [s for s, k in zip(results["seeds"], kept) if k]
            if test["reproduces"] is None:
                assert sum(kept) < 2 and test["loss_test"] is None
                continue
            expected = test["loss_similar_ci"]["ci_low"] > MATERIAL_LOSS and test["loss_test"]["ci_low"] > 0
            assert test["reproduces"] is expected, (readout, test["verdict"])
            assert test["verdict"].startswith("reproduces" if expected else "does not reproduce"), test["verdict"]
        summary = model["gains"]["0"]["summary"]
        assert 0 <= summary["graded_accuracy_similar"]["mean"] <= 1
        assert len(model["gains"]["0"]["per_seed"]["graded_d_prime_similar_pairs"]) == 2
    for learning in results["learning"]:
        assert learning["learned_fraction_responding"] == pytest.approx(learning["target_fraction_responding"],
                                                                        abs=2e-3)
    assert len(results["noise_sweep"]["graded"]) == 2
    assert results["learned_vs_random"]["losses"]["graded"]["similar"]["n"] >= 1
    assert min(p["r"] for p in results["pairs"]["similar"]) > max(p["r"] for p in results["pairs"]["dissimilar"])


def test_json_round_trip_and_redraw_make_the_same_figures(tiny_results, tmp_path):
    results, paths, output = tiny_results
    stored = read_json(output / "results.json")
    assert stored["models"] == json.loads(to_json(results))["models"]
    names = {p.name for key, p in paths.items() if key != "json"}
    assert names == {f"inhibition_{f}.{ext}" for f in ("measures", "lin2014", "noise") for ext in ("png", "pdf")}
    redraw(EXPERIMENT, output, tmp_path)
    assert_same_figures(output, tmp_path, names)  # the same files, pixel for pixel
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


def test_analyze_list_prints_every_registered_experiment_and_its_presets(capsys):
    """`flymodel analyze --list` shows each experiment of analysis.EXPERIMENTS once, in order, with its presets."""
    assert main(["analyze", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.partition(":")[0] for line in lines] == list(EXPERIMENTS)
    for name, line in zip(EXPERIMENTS, lines):
        experiment = get_experiment(name)
        assert experiment.name == name  # the registry key is the experiment's own name
        presets = f" (presets: {', '.join(experiment.presets)})" if experiment.presets else ""
        assert line == f"{name}: {experiment.description}{presets}"
    assert lines[list(EXPERIMENTS).index("inhibition")].endswith("(presets: quick, main)")  # a known case
