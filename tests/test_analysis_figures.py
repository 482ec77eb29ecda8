"""Tests for the sparsity (Figure 4), activity_tsne (Figure 5) and portraits experiments on tiny settings.

MNIST is cut to its first 4,000 images (about 400 per class) by patching the protocols' loader, so each BioHash
fit sees 2,000–3,000 images and every run takes seconds.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import flymodel.data.protocols as protocols
from analysis import activity_tsne, portraits, sparsity
from exact_reference import assert_maps_reproduce
from figures import assert_same_figures
from flymodel.data.images import ImageDataset, load_mnist
from flymodel.data.protocols import get_protocol
from flymodel.experiment import make_config, redraw, run_experiment
from flymodel.hashing import BioHash
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
from flymodel.reproduce import BIOHASH_PARAMS

N_IMAGES = 4000


@pytest.fixture(scope="module")
def small_mnist():
    """Make every protocol load the first N_IMAGES MNIST images (enough for queries and validation queries)."""
    full = load_mnist()
    small = ImageDataset("mnist", full.images[:N_IMAGES], full.labels[:N_IMAGES], N_IMAGES, full.class_names)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocols, "load_dataset", lambda name, root=None: small)
        yield small


def _run(experiment, tmp_path_factory, **overrides):
    """Run an experiment with overrides into a fresh folder; return (results read back, paths, folder)."""
    out = tmp_path_factory.mktemp(experiment.name)
    _, paths = run_experiment(experiment, make_config(experiment, overrides=overrides), out, progress=False)
    return json.loads((out / "results.json").read_text()), paths, out


def _check_redraw(experiment, out, names):
    """The figure files exist, and redrawing from results.json alone writes the same figures again, pixel for pixel."""
    files = sorted(f"{name}.{ext}" for name in names for ext in ("png", "pdf"))
    redrawn = redraw(experiment, out, out / "redrawn")
    assert sorted(p.name for p in redrawn.values()) == files
    assert_same_figures(out, out / "redrawn", files)


def _biohash_record(seed, value, **params):
    """A compare-style record of one BioHash mAP, so that exact_reference can refit it (device: CPU)."""
    return {"method": "biohash", "seed": seed, "map": value, "params": {**params, "seed": seed, "device": "cpu"}}


# --- sparsity -------------------------------------------------------------------------------------------------------

TINY_SPARSITY = {"datasets": ["mnist"], "mnist_ks": [2, 4], "mnist_activities": [5, 50, 80], "seeds": [0, 1],
                 "max_units": 60}


@pytest.fixture(scope="module")
def sparsity_run(small_mnist, tmp_path_factory):
    return _run(sparsity.EXPERIMENT, tmp_path_factory, **TINY_SPARSITY)


def test_sparsity_records_activity_map_and_skipped_runs(sparsity_run):
    results, _, out = sparsity_run
    record = results["datasets"]["mnist"]
    assert record["protocol"]["metric"] == "mAP@All" and record["paper_activity"] == 5.0
    # k=2: m = 40, 4 (80 % gives m = 2 < k+1); k=4: m = 8, 5 (5 % gives m = 80 > max_units)
    assert {(s["k"], s["requested_activity"]) for s in record["skipped"]} == {(2, 80), (4, 5)}
    assert {k: [p["m"] for p in c["points"]] for k, c in record["curves"].items()} == {"2": [40, 4], "4": [8, 5]}
    for k, curve in record["curves"].items():
        for point in curve["points"]:
            assert point["activity"] == pytest.approx(100 * int(k) / point["m"])
            assert point["seeds"] == [0, 1] and len(point["map"]) == 2
            assert point["map_percent"]["mean"] == pytest.approx(100 * np.mean(point["map"]))
            assert point["map_percent"]["ci_low"] <= point["map_percent"]["mean"] <= point["map_percent"]["ci_high"]
            assert all(s > 0 for s in point["fit_seconds"]) and all(e >= 1 for e in point["epochs"])
        best = max(curve["points"], key=lambda p: p["map_percent"]["mean"])
        assert curve["best"]["activity"] == best["activity"]
    assert not list(out.glob("*.resume.json")) and len(list((out / "tasks").iterdir())) > 0  # one task store


def test_sparsity_maps_equal_brute_force_maps_of_refitted_biohash(sparsity_run, small_mnist):
    """Each point's per-seed mAP is that of BioHash refitted (same k, activity, seed) on the seed's validation split,
    scored by the brute-force tie-aware mAP@All, to 1e-9."""
    record = sparsity_run[0]["datasets"]["mnist"]
    centering = BIOHASH_PARAMS["mnist"]["centering"]
    records = [_biohash_record(seed, value, k=int(k), activity=point["requested_activity"] / 100, centering=centering)
               for k, curve in record["curves"].items() for point in curve["points"]
               for seed, value in zip(point["seeds"], point["map"])]
    assert len(records) == 8
    assert_maps_reproduce(records, get_protocol("mnist"), evaluation="validation", dataset=small_mnist)


def test_redraw_check_fails_when_the_figure_is_drawn_from_other_numbers(sparsity_run, tmp_path):
    """The redraw comparison is not vacuous: the k = 2 and k = 4 curves swapped, or one mAP moved by 0.1 %, fail it."""
    results = json.loads((sparsity_run[2] / "results.json").read_text())
    swapped, nudged = copy.deepcopy(results), copy.deepcopy(results)
    curves = swapped["datasets"]["mnist"]["curves"]
    curves["2"]["points"], curves["4"]["points"] = curves["4"]["points"], curves["2"]["points"]
    point = nudged["datasets"]["mnist"]["curves"]["2"]["points"][0]
    point["map_percent"] = {**point["map_percent"], "mean": point["map_percent"]["mean"] + 0.1}
    for name, changed in (("swapped", swapped), ("nudged", nudged)):
        (tmp_path / name).mkdir()
        sparsity.EXPERIMENT.plot(changed, tmp_path / name)
        with pytest.raises(AssertionError, match="sparsity.png: [0-9]+ pixels differ"):
            assert_same_figures(sparsity_run[2], tmp_path / name)
    (tmp_path / "same").mkdir()
    sparsity.EXPERIMENT.plot(results, tmp_path / "same")
    assert_same_figures(sparsity_run[2], tmp_path / "same")


def test_sparsity_expansion_beats_no_expansion_at_k2(sparsity_run):
    """BioHash's point (section 2.3): at k = 2, a sparse expansion (5 %, m = 40) beats a dense one (50 %, m = 4)."""
    points = sparsity_run[0]["datasets"]["mnist"]["curves"]["2"]["points"]
    assert points[0]["map_percent"]["mean"] > points[1]["map_percent"]["mean"]


def test_sparsity_figure_redraws_from_json(sparsity_run):
    _, paths, out = sparsity_run
    assert paths["png"].name == "sparsity.png"
    _check_redraw(sparsity.EXPERIMENT, out, ["sparsity"])


def test_sparsity_skip_rule_and_units():
    assert sparsity.units_for(2, 1.0) == 200 and sparsity.units_for(32, 0.5) == 6400
    assert sparsity.skip_reason(2, 2, 100) == "m=2 < k+1=3: no expansion left"
    assert sparsity.skip_reason(2, 200, 100) == "m=200 > max_units=100"
    assert sparsity.skip_reason(2, 3, 100) is None


@pytest.mark.parametrize("overrides, match", [
    ({"mnist_activities": [0, 5]}, "mnist_activities=0 must be a percentage strictly between 0 and 100"),
    ({"cifar10_activities": [100]}, "cifar10_activities=100 must be a percentage"),
    ({"mnist_activities": [5, 5]}, r"mnist_activities=\[5, 5\] holds duplicates"),
    ({"datasets": ["imagenet"]}, "datasets='imagenet' is not known"),
    ({"datasets": []}, "datasets is empty"),
    ({"mnist_ks": [0]}, "mnist_ks=0 is too small"),
    ({"seeds": []}, "seeds is empty"),
    ({"max_units": 1}, "max_units=1 is too small"),
    ({"ties": "first"}, "ties='first' is not known"),
])
def test_sparsity_bad_settings_name_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        make_config(sparsity.EXPERIMENT, overrides=overrides)


def test_sparsity_quick_preset_is_small():
    config = make_config(sparsity.EXPERIMENT, preset="quick")
    assert config.datasets == ("mnist",) and config.mnist_ks == (2, 4) and config.seeds == (0, 1)


# --- activity_tsne --------------------------------------------------------------------------------------------------

TINY_TSNE = {"activities": [5, 50], "m": 20, "n_points": 100, "perplexity": 10, "seeds": [0, 1]}


@pytest.fixture(scope="module")
def tsne_run(small_mnist, tmp_path_factory):
    return _run(activity_tsne.EXPERIMENT, tmp_path_factory, **TINY_TSNE)


def test_activity_tsne_embeddings_and_numbers(tsne_run):
    results, _, _ = tsne_run
    assert results["class_names"] == [str(d) for d in range(10)] and results["tsne"]["metric"] == "hamming"
    assert len(results["labels"]) == 2 and all(len(labels) == 100 for labels in results["labels"])
    assert all(0 <= c <= 9 for labels in results["labels"] for c in labels)
    assert len(set(results["labels"][0])) == 10  # stratified by class
    assert [(p["k"], p["m"]) for p in results["panels"]] == [(1, 20), (10, 20)]
    for panel in results["panels"]:
        assert panel["activity"] == pytest.approx(100 * panel["k"] / panel["m"])
        for xy in panel["embeddings"]:
            xy = np.asarray(xy)
            assert xy.shape == (100, 2) and np.isfinite(xy).all()
        assert panel["map_summary"]["n"] == 2
        assert all(-1 <= v <= 1 for v in panel["tsne_silhouette"] + panel["code_silhouette"])
        assert all(1 <= n <= 100 for n in panel["distinct_codes"])
    assert [f["seed"] for f in results["fits"]] == [0, 1] and all(f["epochs"] >= 1 for f in results["fits"])


def test_activity_tsne_maps_equal_brute_force_maps_of_refitted_biohash(tsne_run, small_mnist):
    """Each panel's per-seed mAP is that of BioHash refitted at the panel's k (m = 20, same seed) on the seed's query
    split, scored by the brute-force tie-aware mAP@All, to 1e-9."""
    results = tsne_run[0]
    centering = BIOHASH_PARAMS["mnist"]["centering"]
    records = [_biohash_record(seed, value, k=panel["k"], m=panel["m"], centering=centering)
               for panel in results["panels"] for seed, value in zip(results["seeds"], panel["map"])]
    assert len(records) == 4
    assert_maps_reproduce(records, get_protocol("mnist"), dataset=small_mnist)


def test_activity_tsne_figure_redraws_from_json(tsne_run):
    _check_redraw(activity_tsne.EXPERIMENT, tsne_run[2], ["activity_tsne"])


def test_biohash_synapses_do_not_depend_on_k():
    """The premise of fitting once per seed: W is the same for any k, and resetting k encodes as a fresh fit."""
    X = np.random.default_rng(0).random((300, 20)).astype(np.float32)
    settings = {"m": 12, "max_epochs": 5, "batch_size": 50, "centering": "none", "seed": 3, "device": "cpu"}
    a, b = BioHash(k=1, **settings).fit(X), BioHash(k=6, **settings).fit(X)
    torch.testing.assert_close(a.weights_, b.weights_)
    np.testing.assert_array_equal(a.set_params(k=6).transform(X), b.transform(X))


def test_activity_tsne_default_ks_round_the_activity():
    assert activity_tsne.ActivityTsneConfig().ks() == (2, 8, 32, 112)


@pytest.mark.parametrize("overrides, match", [
    ({"activities": [0]}, "activities=0 must be a percentage"),
    ({"activities": [100]}, "activities=100 must be a percentage"),
    ({"activities": [1.0, 1.2]}, r"give the same k twice at m=160 \(ks \[2, 2\]\)"),
    ({"m": 10, "activities": [99]}, "activities=99 gives k=10 active units of m=10"),
    ({"n_points": 5}, "n_points=5 is too small"),
    ({"perplexity": 3000}, "perplexity=3000.0 must lie between 0 and n_points=2000"),
    ({"seeds": [1, 1]}, "seeds=.* holds duplicates"),
])
def test_activity_tsne_bad_settings_name_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        make_config(activity_tsne.EXPERIMENT, overrides=overrides)


# --- portraits ------------------------------------------------------------------------------------------------------

TINY_PORTRAITS = {"k": 2, "activity": 10, "n_shown": 9}


@pytest.fixture(scope="module")
def portraits_run(small_mnist, tmp_path_factory):
    return _run(portraits.EXPERIMENT, tmp_path_factory, **TINY_PORTRAITS)


def test_portraits_synapses_usage_and_logs(portraits_run):
    results, _, _ = portraits_run
    assert (results["k"], results["m"], results["activity"]) == (2, 20, 10.0)
    for key in ("synapses", "initial_synapses"):
        assert np.asarray(results[key]).shape == (9, 28, 28)
    usage = np.asarray(results["usage"])
    assert usage.shape == (20,) and usage.sum() == 2 * results["n_training"]  # k active units per image
    assert list(usage[results["units"]]) == sorted(usage, reverse=True)[:9]
    assert results["unused_units"] == int((usage == 0).sum())
    for key in ("training_log", "naive_training_log"):
        log = results[key]
        assert [e["epoch"] for e in log] == list(range(1, len(log) + 1))
        converged = log[-1]["mean_norm"] < results["tol"]
        assert converged or len(log) == results["params"]["max_epochs"]  # the energy log has one entry per epoch run
        assert all(np.isfinite(e["energy"]) and e["energy"] < 0 for e in log)
    assert results["training_log"][-1]["mean_norm"] < results["training_log"][0]["mean_norm"]


def test_portraits_figures_redraw_from_json(portraits_run):
    _, paths, out = portraits_run
    assert {p.name for p in paths.values()} >= {"portraits_synapses.png", "portraits_learning.pdf"}
    _check_redraw(portraits.EXPERIMENT, out, ["portraits_learning", "portraits_synapses"])


def test_initial_weights_are_where_training_starts():
    """initial_weights redraws train_synapses' N(0, 1) start: one epoch at a negligible rate stays on it."""
    X = torch.from_numpy(np.random.default_rng(1).random((40, 6)).astype(np.float32))
    W, _ = train_synapses(X, 5, PlasticityRule(), TrainingSchedule(lr=1e-9, max_epochs=1, batch_size=20, tol=0), seed=7)
    np.testing.assert_allclose(W.numpy(), portraits.initial_weights(5, 6, 7), atol=1e-6)


@pytest.mark.parametrize("overrides, match", [
    ({"activity": 0}, "activity=0.0 must be a percentage"),
    ({"activity": 100}, "activity=100.0 must be a percentage"),
    ({"k": 4, "activity": 90}, "activity=90.0 gives m=4 units for k=4; expected m > k"),
    ({"n_shown": 400}, "n_shown=400 is too large; expected n_shown <= 320"),
    ({"k": 0}, "k=0 is too small"),
])
def test_portraits_bad_settings_name_the_field(overrides, match):
    with pytest.raises(ValueError, match=match):
        make_config(portraits.EXPERIMENT, overrides=overrides)
