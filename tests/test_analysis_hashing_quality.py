"""Tests for analysis/hashing_quality.py and its helpers: the precision–recall curve (flymodel.metrics), compare's
on_codes hook, and the experiment end to end on a small MNIST protocol (3,000 images, 20 queries per class)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import dataclass

import numpy as np
import pytest

import analysis.hashing_quality as hq
import flymodel.compare as compare
from exact_reference import assert_maps_reproduce
from figures import assert_same_figures
from flymodel.cli import main
from flymodel.compare import CompareConfig, run_compare
from flymodel.data.images import ImageDataset, load_dataset
from flymodel.data.protocols import Protocol
from flymodel.experiment import make_config, run_experiment
from flymodel.index import hamming_distances
from flymodel.io import read_json
from flymodel.metrics import precision_recall_curve, retrieval_precision_recall
from flymodel.reproduce import BIOHASH_PARAMS

FIGURES = ("hashing_quality_mnist", "precision_recall_mnist", "retrieval_grid_mnist")


@dataclass(frozen=True)
class SmallProtocol(Protocol):
    """The MNIST protocol on the first n_items images only, so that a whole comparison takes seconds."""

    n_items: int = 3000

    def load(self, root=None) -> ImageDataset:
        full = load_dataset(self.dataset, root)
        n = self.n_items
        return ImageDataset(full.name, full.images[:n], full.labels[:n], min(full.n_train, n), full.class_names)


SMALL = SmallProtocol("mnist", "mnist", queries_per_class=20, R=None)


@pytest.fixture(scope="module")
def small_protocol():
    """Make compare and the experiment use SMALL for every dataset name."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compare, "get_protocol", lambda name: SMALL)
        mp.setattr(hq, "get_protocol", lambda name: SMALL)
        yield SMALL


@pytest.fixture(scope="module")
def quick_run(small_protocol, tmp_path_factory):
    """The quick preset with a small FlyHash (m = 200), run once: (config, results, paths, output dir)."""
    out = tmp_path_factory.mktemp("hashing_quality")
    config = make_config(hq.EXPERIMENT, preset="quick", overrides={"method_params": {"flyhash": {"m": 200}}})
    results, paths = run_experiment(hq.EXPERIMENT, config, out, progress=False)
    return config, results, paths, out


# --- precision–recall curve --------------------------------------------------------------------------------------

def test_precision_recall_curve_hand_computed():
    """Query 1 retrieves 1, 3, 4 items at r = 0, 1, 2 (1, 2, 2 relevant of 2); query 2 retrieves 0, 2, 4 (0, 1, 1
    relevant of 1): precision averages only queries that retrieve something."""
    distances = np.array([[0, 1, 1, 2], [1, 1, 2, 2]])
    relevant = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
    curve = precision_recall_curve(distances, relevant)
    np.testing.assert_array_equal(curve["radius"], [0, 1, 2])
    np.testing.assert_allclose(curve["precision"], [1.0, (2 / 3 + 1 / 2) / 2, (1 / 2 + 1 / 4) / 2])
    np.testing.assert_allclose(curve["recall"], [1 / 4, 1.0, 1.0])
    np.testing.assert_allclose(curve["answered"], [0.5, 1.0, 1.0])
    shorter = precision_recall_curve(distances, relevant, max_radius=1)  # all relevant items still count for recall
    np.testing.assert_allclose(shorter["recall"], [1 / 4, 1.0])
    longer = precision_recall_curve(distances, relevant, max_radius=4)
    np.testing.assert_allclose(longer["precision"][2:], 3 / 8)


def test_precision_recall_of_nothing_retrieved_is_nan():
    curve = precision_recall_curve(np.array([[2, 3]]), np.array([[True, False]]))
    assert np.isnan(curve["precision"][:2]).all() and curve["answered"][0] == 0.0
    assert curve["precision"][2] == 1.0 and curve["recall"][-1] == 1.0


def test_codes_version_matches_distances_and_chunking():
    """From codes (relevance = same label), in any chunking, it equals the curve of the distance matrix."""
    rng = np.random.default_rng(0)
    db, q = rng.random((60, 12)) < 0.4, rng.random((9, 12)) < 0.4
    y_db, y_q = rng.integers(0, 3, 60), rng.integers(0, 3, 9)
    expected = precision_recall_curve(hamming_distances(q, db), y_db[None, :] == y_q[:, None], max_radius=12)
    for chunk in (1, 4, None):
        got = retrieval_precision_recall(q, db, y_q, y_db, max_radius=12, chunk_size=chunk)
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], equal_nan=True)
    default = retrieval_precision_recall(q, db, y_q, y_db)
    assert len(default["radius"]) - 1 == min(12, q.sum(1).max() + db.sum(1).max())


def test_precision_recall_bad_input():
    with pytest.raises(ValueError, match="max_radius=-1 is too small"):
        precision_recall_curve(np.array([[0, 1]]), np.array([[True, False]]), max_radius=-1)
    with pytest.raises(ValueError, match="relevant has shape"):
        precision_recall_curve(np.array([[0, 1]]), np.array([[True]]))


# --- compare's on_codes hook -------------------------------------------------------------------------------------

def test_on_codes_adds_to_records_and_survives_resume(small_protocol, tmp_path, monkeypatch):
    """The hook sees the codes of each run and the split; what it returns is saved, and resumed runs keep it."""
    config = CompareConfig(dataset="mnist", methods=("lsh",), ks=(2, 4), seeds=(0,))
    seen = []

    def hook(record, query_codes, database_codes, split):
        seen.append(record["k"])
        assert query_codes.shape == (len(split.queries), record["k"])
        assert database_codes.shape == (len(split.database), record["k"])
        return {"ones": int(database_codes.sum())}

    store = tmp_path / "tasks"
    first = run_compare(config, progress=False, store=store, on_codes=hook, hook_settings={"hook": "ones"})
    assert seen == [2, 4] and all("ones" in r for r in first["records"])
    real_make_hasher = compare.make_hasher
    monkeypatch.setattr(compare, "make_hasher", lambda *a, **k: pytest.fail("a finished run was fitted again"))
    again = run_compare(config, progress=False, store=store, on_codes=hook, hook_settings={"hook": "ones"})
    assert [r["ones"] for r in again["records"]] == [r["ones"] for r in first["records"]]
    monkeypatch.setattr(compare, "make_hasher", real_make_hasher)  # other hook settings: the runs are computed again
    run_compare(config, progress=False, store=store, on_codes=hook, hook_settings={"hook": "other"})
    assert seen == [2, 4, 2, 4] and len(list(store.iterdir())) == 4


# --- the experiment ----------------------------------------------------------------------------------------------

def test_quick_run_scores_and_summaries(quick_run):
    config, results, _, _ = quick_run
    result = results["datasets"]["mnist"]
    records = result["records_equal_k"] + result["records_equal_storage"]
    assert {(r["method"], r["k"], r["seed"]) for r in result["records_equal_k"]} == {
        (m, k, s) for m in config.methods for k in config.ks for s in config.seeds}
    assert all("training_log" not in r for r in records)
    assert all(r["training"]["epochs"] >= 1 for r in records if r["method"] == "biohash")
    for method, per_k in result["summary_equal_k"].items():
        for s in per_k.values():
            assert s["n"] == len(config.seeds) and s["ci_low"] <= s["mean"] <= s["ci_high"] and 0 <= s["mean"] <= 100
    lsh = result["map_vs_storage"]["lsh"]
    assert lsh[-1]["mean"] > lsh[0]["mean"]  # more random hyperplanes, better ranking
    assert result["method_params"]["biohash"] == BIOHASH_PARAMS["mnist"]


def test_quick_run_maps_equal_brute_force_maps_of_refitted_hashers(quick_run, small_protocol):
    """Every record's mAP (equal k and equal storage) is that of its method refitted with the stored parameters on
    the seed's split, scored by the brute-force tie-aware mAP@All, to 1e-9."""
    result = quick_run[1]["datasets"]["mnist"]
    records = result["records_equal_k"] + result["records_equal_storage"]
    assert {r["method"] for r in records} == {"lsh", "flyhash", "biohash"}
    assert_maps_reproduce(records, small_protocol)


def test_dense_runs_at_the_storage_of_sparse_codes(quick_run):
    """Every sparse (method, k) has S = k·log2(m); LSH runs at round(S) bits, and the table pairs them."""
    config, results, _, _ = quick_run
    result = results["datasets"]["mnist"]
    storage_bits = {r["k"] for r in result["records_equal_storage"]}
    expected = set()
    for row in result["equal_storage"]:
        assert row["storage_bits"] == pytest.approx(row["k"] * np.log2(row["m"]))
        assert row["dense"]["lsh"]["bits"] == round(row["k"] * np.log2(row["m"]))
        assert row["dense"]["lsh"]["n"] == len(config.seeds)
        for name in ("vs_lsh_equal_storage", "vs_lsh_equal_k"):
            assert row[name]["n"] == len(config.seeds)
        expected.add(row["dense"]["lsh"]["bits"])
    assert {(r["method"], r["k"]) for r in result["equal_storage"]} == {(m, k) for m in ("flyhash", "biohash")
                                                                          for k in config.ks}
    assert storage_bits == expected - set(config.ks)
    assert all(r["method"] == "lsh" for r in result["records_equal_storage"])
    assert "| flyhash | 2 | 200 | 15.3 |" in result["equal_storage_table"]


def test_pr_curves_recall_rises_to_one(quick_run):
    config, results, _, _ = quick_run
    curves = results["datasets"]["mnist"]["pr_curves"]
    assert curves["k"] == config.curve_k
    assert set(curves["mean"]) == set(config.methods)
    assert len(curves["per_seed"]) == len(config.methods) * len(config.seeds)
    for method, curve in curves["mean"].items():
        recall = np.array(curve["recall"])
        assert np.all(np.diff(recall) >= -1e-12) and recall[-1] == pytest.approx(1.0), method
        assert len(curve["radius"]) == (2 * config.curve_k if method != "lsh" else config.curve_k) + 1
        precision = [p for p in curve["precision"] if p is not None]
        assert all(0.0 <= p <= 1.0 for p in precision) and precision[-1] == pytest.approx(0.1, abs=0.03)


def test_retrieval_grid_images_and_borders(quick_run, small_protocol):
    config, results, _, _ = quick_run
    grid = results["datasets"]["mnist"]["retrieval_grid"]
    labels = small_protocol.load().labels
    assert (grid["method"], grid["k"], grid["seed"]) == (config.grid_method, config.grid_k, config.seeds[0])
    assert len(grid["queries"]) == config.grid_queries
    assert [q["kind"] for q in grid["queries"]] == ["success"] * 4 + ["failure"] * 2
    for query in grid["queries"]:
        assert np.asarray(query["image"]).shape == (28, 28) and query["label"] == labels[query["row"]]
        assert len(query["retrievals"]) == hq.TOP
        assert [hit["same_class"] for hit in query["retrievals"]] == [
            bool(labels[hit["row"]] == labels[query["row"]]) for hit in query["retrievals"]]
        assert all(np.asarray(hit["image"]).shape == (28, 28) for hit in query["retrievals"])
        assert np.all(np.diff([hit["distance"] for hit in query["retrievals"]]) >= 0)
        assert query["precision_at_15"] == pytest.approx(np.mean([h["same_class"] for h in query["retrievals"]]))
    precisions = [q["precision_at_15"] for q in grid["queries"]]
    assert min(precisions[:4]) >= max(precisions[4:])


def test_files_round_trip_and_redraw(quick_run, tmp_path):
    """results.json reads back; the finished runs are in tasks/; `flymodel figure` redraws the same figures, pixel for
    pixel, and the same table."""
    _, results, paths, out = quick_run
    assert json.loads((out / "results.json").read_text())["datasets"].keys() == results["datasets"].keys()
    names = sorted(p.name for p in out.iterdir() if p.name != "tasks")
    assert (out / "tasks").is_dir() and names == sorted(["results.json", "equal_storage_mnist.md"]
                           + [f"{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")])
    table = (out / "equal_storage_mnist.md").read_text()
    assert table == read_json(out / "results.json")["datasets"]["mnist"]["equal_storage_table"]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(out / "results.json", copy / "results.json")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["figure", "hashing_quality", "--results", str(copy)]) == 0
    assert sorted(p.name for p in copy.iterdir()) == names
    assert (copy / "equal_storage_mnist.md").read_text() == table
    assert_same_figures(out, copy, [f"{f}.{ext}" for f in FIGURES for ext in ("png", "pdf")])


# --- settings and helpers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, match", [
    ({"datasets": ("imagenet",)}, "datasets='imagenet'"),
    ({"datasets": ()}, "datasets is empty"),
    ({"methods": ("lsh", "bogus")}, "methods='bogus'"),
    ({"curve_k": 8}, "curve_k=8 is not in ks"),
    ({"grid_k": 16}, "grid_k=16 is not in ks"),
    ({"grid_method": "itq"}, "grid_method='itq' is not in methods"),
    ({"grid_queries": 0}, "grid_queries=0 is too small"),
    ({"method_params": {"flyhash": {"bogus": 1}}}, "flyhash parameter='bogus'"),
])
def test_bad_settings_raise(overrides, match):
    with pytest.raises(ValueError, match=match):
        make_config(hq.EXPERIMENT, preset="quick", overrides=overrides)


def test_defaults_are_the_full_science_settings():
    config = make_config(hq.EXPERIMENT)
    assert config.methods == ("lsh", "pcahash", "spectralhash", "itq", "flyhash", "naivebiohash", "biohash")
    assert (config.ks, config.seeds, config.datasets) == ((2, 4, 8, 16, 32), (0, 1, 2), ("mnist", "fashion_mnist"))
    assert (config.curve_k, config.grid_method, config.grid_k, config.grid_queries) == (16, "biohash", 16, 6)


def test_fashion_mnist_borrows_mnist_settings_and_overrides_win():
    config = hq.HashingQualityConfig(method_params={"biohash": {"centering": "mean"}})
    assert hq.dataset_params(hq.HashingQualityConfig(), "fashion_mnist")["biohash"] == BIOHASH_PARAMS["mnist"]
    assert hq.dataset_params(config, "fashion_mnist")["biohash"] == {**BIOHASH_PARAMS["mnist"], "centering": "mean"}


def test_pca_hashers_are_capped_at_the_input_dimension():
    config = hq.HashingQualityConfig(methods=("lsh", "pcahash", "itq", "flyhash"), ks=(2,), datasets=("mnist",))
    storage = {("flyhash", 2): 25.9, ("flyhash", 64): 1000.2}
    compare_config = hq.equal_storage_config(config, "mnist", storage, n_features=784)
    assert compare_config.method_ks == {"lsh": (26, 1000), "pcahash": (26, 784), "itq": (26, 784)}


def test_grid_selection_is_seeded():
    """Ties in distance and between equally good queries are broken the same way for the same seed."""
    rng = np.random.default_rng(1)
    db, q = rng.random((40, 3)) < 0.5, rng.random((5, 3)) < 0.5
    rows, dists = hq.top_retrievals(q, db, 15, seed=3)
    again, _ = hq.top_retrievals(q, db, 15, seed=3)
    np.testing.assert_array_equal(rows, again)
    np.testing.assert_array_equal(dists, np.sort(hamming_distances(q, db), axis=1)[:, :15])
    best, worst = hq.select_queries(np.array([1.0, 0.2, 1.0, 0.0, 1.0, 0.5]), 3, seed=0)
    assert set(best) <= {0, 2, 4} and len(best) == 2 and list(worst) == [3]
    assert np.array_equal(best, hq.select_queries(np.array([1.0, 0.2, 1.0, 0.0, 1.0, 0.5]), 3, seed=0)[0])
