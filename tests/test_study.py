"""Hypothesis studies (flymodel.study): study-file errors, the task store's resume, the same numbers on every
scheduler, the readouts and the statistics."""

from __future__ import annotations

import numpy as np
import pytest
from figures import assert_same_figures

import flymodel.study.tasks as study_tasks
from flymodel.circuit.spec import CircuitSpec
from flymodel.circuit.stimuli import circuit_stimuli
from flymodel.cli import main
from flymodel.io import read_json
from flymodel.study import StudySpecError, load_study, run_study
from flymodel.study.run import holm
from flymodel.study.tasks import _rate_readout, make_tasks, run_task

TINY = {"seeds": 2, "factors.kc.fan_in": [2, 6], "overrides": {"kc.n": 300}}


def write(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text('name = "s"\ncircuit = "drosophila_mb"\n' + text)
    return path


@pytest.mark.parametrize(("text", "match"), [
    ("colour = 3\n", r"unknown key 'colour'; expected keys: name, description, circuit"),
    ('[factors]\n"kc.claws" = [1, 2]\n', r"\[factors\] 'kc\.claws': .*unknown key 'kc\.claws'"),
    ('[factors]\n"kc.fan_in" = [6, 30]\n', r"\[factors\] 'kc\.fan_in': .*\[kc\] fan_in = 30: expected an integer in \[1, 24\]"),
    ('[factors]\n"kc.fan_in" = []\n', r"\[factors\] 'kc\.fan_in' = \[\]: expected a non-empty list of levels"),
    ("seeds = 0\n", r"seeds = 0: expected a number of seeds >= 1"),
    ('[measures]\nlist = ["dprime_similar"]\n', r"dprime_similar need noisy trials, but \[stimuli\] trials = 0"),
    ('seeds = 3\n[factors]\n"kc.fan_in" = [4, 6]\n[contrasts]\nreference = { "kc.fan_in" = 5 }\n',
     r"\[contrasts\] reference 'kc\.fan_in' = 5: expected one of its levels \[4, 6\]"),
    ('[readout]\nkind = "wta"\n', r"\[readout\] kind = 'wta': expected one of apl, top_k, coding_level"),
    ('engines = ["nest"]\n', r"engines = \['nest'\]: expected a non-empty list of distinct engines"),
    ('[stimuli]\npair_drive = "best"\n', r"\[stimuli\] pair_drive = 'best': expected one of circuit, blocked_wirings"),
    ('seeds = 2\n[factors]\n"kc.fan_in" = [4, 6]\n[contrasts]\nreference = { "kc.fan_in" = 6 }\nloss = ["dimension"]\n',
     r"\[contrasts\] loss = \['dimension'\]: expected two different measures of the study"),
])
def test_study_file_errors_name_the_key_and_the_expected_value(tmp_path, text, match):
    with pytest.raises(StudySpecError, match=match):
        load_study(write(tmp_path, text))


def test_unknown_study_name_lists_the_shipped_ones():
    with pytest.raises(StudySpecError, match=r"no_such\.toml does not exist; studies shipped in .*claws"):
        load_study("no_such")


def test_interrupted_study_resumes_with_only_the_missing_tasks(tmp_path, monkeypatch):
    study = load_study("claws", TINY)
    whole = run_study(study, tmp_path / "whole", scheduler="none", progress=False)
    calls = []

    def interrupted(task):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(task)
        return run_task(task)

    monkeypatch.setattr(study_tasks, "run_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_study(study, tmp_path / "resumed", scheduler="none", progress=False)
    assert len(list((tmp_path / "resumed" / "tasks").glob("*.json"))) == 2
    monkeypatch.setattr(study_tasks, "run_task", run_task)
    resumed = run_study(study, tmp_path / "resumed", scheduler="none", progress=False)
    assert resumed["tasks_run"] == 2 and resumed["tasks_total"] == 4
    assert resumed["records"] == whole["records"] and resumed["cells"] == whole["cells"]
    assert resumed["contrasts"] == whole["contrasts"]
    again = run_study(study, tmp_path / "resumed", scheduler="none", progress=False)
    assert again["tasks_run"] == 0


def test_the_same_seeds_give_the_same_numbers_on_every_scheduler(tmp_path):
    """In-process, on a LocalCluster, and through the address of a running scheduler."""
    from distributed import LocalCluster

    study = load_study("claws", TINY)
    serial = run_study(study, tmp_path / "none", scheduler="none", progress=False)["records"]
    local = run_study(study, tmp_path / "local", scheduler="local", workers=2, progress=False)["records"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_study(study, tmp_path / "address", scheduler=cluster.scheduler_address, progress=False)["records"]
    assert serial == local == remote


def test_contrasts_are_paired_over_seeds_with_holm_adjusted_p(tmp_path):
    study = load_study("claws", {**TINY, "seeds": 3})
    results = run_study(study, tmp_path, scheduler="none", progress=False)
    contrast = next(c for c in results["contrasts"] if c["measure"] == "dimension")
    values = {(r["cell"]["kc.fan_in"], r["seed"]): r["measures"]["dimension"] for r in results["records"]}
    differences = [values[(2, s)] - values[(6, s)] for s in range(3)]
    assert contrast["cell"] == {"kc.fan_in": 2} and contrast["reference"] == {"kc.fan_in": 6}
    assert contrast["mean_difference"] == pytest.approx(np.mean(differences))
    assert contrast["p_holm"] >= contrast["p_t_test"]


def test_holm_adjustment():
    """Holm 1979: sorted p times (m − i + 1), monotone, capped at 1."""
    assert holm([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_coding_level_readout_makes_each_kc_respond_to_a_fraction_f_of_stimuli(tmp_path):
    path = write(tmp_path, '[overrides]\n"kc.n" = 200\n[readout]\nkind = "coding_level"\nf = 0.1\n')
    task = make_tasks(load_study(path))[0]
    spec = CircuitSpec.from_dict(task.circuit)
    _, responding = _rate_readout(spec, task, circuit_stimuli(spec).rates_hz, None)
    per_kc = responding[0].mean(axis=0)
    assert np.all(np.abs(per_kc - 0.1) <= 1 / 110 + 1e-9)  # 11 of 110 odours, up to ties
    assert run_task(task)["fraction_responding"] == pytest.approx(0.1, abs=0.01)


def test_study_command_runs_and_resumes(tmp_path, capsys):
    args = ["study", "claws", "--scheduler", "none", "--set", "seeds=2", "--set", "factors.kc.fan_in=[3,6]",
            "--set", 'overrides={"kc.n": 300}', "--output", str(tmp_path), "--quiet"]
    assert main(args) == 0 and "4 of 4 tasks run" in capsys.readouterr().out
    assert main(args) == 0 and "0 of 4 tasks run" in capsys.readouterr().out
    assert read_json(tmp_path / "results.json")["settings"]["factors"] == {"kc.fan_in": [3, 6]}


def test_figures_are_drawn_from_the_json_and_redrawn_identically(tmp_path, capsys):
    study = load_study("claws", {**TINY, "seeds": 3})
    run_study(study, tmp_path / "run", scheduler="none", progress=False)
    assert {p.name for p in (tmp_path / "run").glob("*.png")} == {"study_measures.png", "study_contrasts.png"}
    assert main(["figure", "study", "--results", str(tmp_path / "run"), "--output", str(tmp_path / "again")]) == 0
    assert_same_figures(tmp_path / "run", tmp_path / "again")


# --- the inhibition analysis as a study ------------------------------------------------------------------------

def _inhibition_and_study(tmp_path, engine, kc_n, seeds, **config):
    """The inhibition analysis and the apl_gain study with the same circuit, seeds, pairs, trials and gains (intact
    and blocked): the analysis' per-seed measures by percent of the intact gain, and the study's results."""
    from analysis.inhibition import InhibitionConfig
    from analysis.inhibition import run as run_inhibition

    config = InhibitionConfig(models=(engine,), apl_fractions=(1.0, 0.0), seeds=seeds, kc_n=kc_n,
                              noise_levels_hz=(), **config)
    analysis = run_inhibition(config, tmp_path / "analysis", progress=False)
    intact = analysis["settings"]["intact_gain_mv"]
    study = load_study("apl_gain", {"engines": [engine], "seeds": list(seeds), "factors.apl.gain_mv": [intact, 0.0],
                                    "overrides": {"kc.n": kc_n}, "contrasts.reference": {"apl.gain_mv": intact},
                                    "stimuli.pairs": config.n_pairs, "stimuli.trials": config.n_trials,
                                    "spiking.presentation_ms": config.spiking_presentation_ms})
    return analysis, intact, run_study(study, tmp_path / "study", scheduler="none", progress=False)


#: Study measure → the inhibition analysis' key (code measures: its noise-free all_* measures of the 110 odours).
SAME_AS_INHIBITION = {"dprime_similar": "graded_d_prime_similar", "dprime_dissimilar": "graded_d_prime_dissimilar",
                      "dprime_binary_similar": "binary_d_prime_similar",
                      "dprime_binary_dissimilar": "binary_d_prime_dissimilar",
                      "accuracy_similar": "binary_accuracy_similar", "accuracy_dissimilar": "binary_accuracy_dissimilar"}
CODE_AS_INHIBITION = {m: f"all_{m}" for m in ("fraction_responding", "population_sparseness", "lifetime_sparseness",
                                              "mean_correlation")}


def _assert_same_numbers(analysis, intact, study, engine, names):
    for gain, percent in ((intact, "100"), (0.0, "0")):
        per_seed = analysis["models"][engine]["gains"][percent]["per_seed"]
        for measure, key in names.items():
            ours = [r["measures"][measure] for r in study["records"] if r["cell"]["apl.gain_mv"] == gain]
            assert ours == pytest.approx(per_seed[key], rel=1e-12, abs=1e-12), (gain, measure)


def test_apl_gain_study_gives_the_inhibition_analysis_numbers_in_the_rate_engine(tmp_path):
    """Same seeds, same numbers: sparseness of the 110 odours, d′ and accuracy of both readouts, and the Lin test's
    paired difference of the binary d′ losses."""
    analysis, intact, study = _inhibition_and_study(tmp_path, "rate", 2000, (0, 1, 2), n_pairs=4, n_trials=6)
    _assert_same_numbers(analysis, intact, study, "rate", {**SAME_AS_INHIBITION, **CODE_AS_INHIBITION})
    lin = analysis["models"]["rate"]["lin_test"]["binary"]
    (loss,) = study["loss_contrasts"]
    assert loss["cell"] == {"apl.gain_mv": 0.0} and loss["seeds"] == lin["seeds"]
    assert loss["mean_difference"] == pytest.approx(lin["loss_test"]["mean_difference"], rel=1e-12)
    assert loss["loss_dprime_binary_similar"]["mean"] == pytest.approx(lin["loss_similar_ci"]["mean"], rel=1e-12)


@pytest.mark.slow  # 45 s of Brian2 runs; the rate-engine twin above runs by default, benchmarks/study_vs_inhibition.py at scale
def test_apl_gain_study_gives_the_inhibition_analysis_numbers_in_the_spiking_engine(tmp_path):
    """The spiking trials come first in the study's run, so their spike trains are the analysis' own; the two gains of
    a seed share one build (the gain is a run_arg)."""
    builds = study_tasks._WORKER_BUILD.get("builds", 0)
    analysis, intact, study = _inhibition_and_study(tmp_path, "spiking", 300, (0, 1), n_pairs=2, n_trials=4,
                                                    spiking_presentation_ms=50.0)
    _assert_same_numbers(analysis, intact, study, "spiking", SAME_AS_INHIBITION)
    assert study_tasks._WORKER_BUILD["builds"] == builds + 2  # one per seed, for both gains


def test_loss_contrasts_compare_relative_losses_paired_over_seeds(tmp_path):
    study = load_study("apl_gain", {"engines": ["rate"], "seeds": 3, "factors.apl.gain_mv": [0.3, 0.075, 0.0],
                                    "stimuli.pairs": 3, "stimuli.trials": 4})
    results = run_study(study, tmp_path, scheduler="none", progress=False)
    value = {(r["cell"]["apl.gain_mv"], r["seed"], m): v for r in results["records"] for m, v in r["measures"].items()}
    contrasts = {c["cell"]["apl.gain_mv"]: c for c in results["loss_contrasts"]}
    assert sorted(contrasts) == [0.0, 0.075]
    for gain, contrast in contrasts.items():
        loss = {m: [1 - value[(gain, s, m)] / value[(0.3, s, m)] for s in range(3)] for m in study.loss}
        assert contrast["mean_difference"] == pytest.approx(np.mean(np.subtract(*loss.values())), rel=1e-12)
        assert contrast["p_holm"] >= contrast["p_t_test"]


def test_a_seed_draws_the_shuffle_of_shuffled_connectome_wiring_unless_it_is_fixed():
    study = load_study("connectome", {"seeds": 2})
    shuffled = {"kc.wiring": "shuffled", "kc.null": "uniform"}
    assert [study.cell_spec(shuffled, s).kc.shuffle_seed for s in (0, 1)] == [0, 1]
    assert study.cell_spec({"kc.wiring": "connectome", "kc.null": "uniform"}, 1).kc.wiring == "connectome"
    fixed = load_study("connectome", {"seeds": 2, "overrides": {"kc.shuffle_seed": 7}})
    assert [fixed.cell_spec(shuffled, s).kc.shuffle_seed for s in (0, 1)] == [7, 7]


def test_blocked_wiring_pairs_need_sparse_wiring():
    with pytest.raises(StudySpecError, match=r"\[stimuli\] pair_drive = 'blocked_wirings': expected 'circuit'"):
        load_study("connectome", {"stimuli.pair_drive": "blocked_wirings"})
