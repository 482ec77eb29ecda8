"""Tests for compare.py: per-method hash lengths, per-run parameters, resuming an interrupted run, training logs.

The runs are tiny (LSH and PCAHash, a few k, one seed on MNIST: about 2 s each).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace

import pytest

import flymodel.compare as compare
import flymodel.io
import flymodel.data.protocols as protocols
from flymodel.compare import CompareConfig, run_compare, run_key, run_params
from flymodel.data.images import ImageDataset, load_mnist
from flymodel.hashing.base import Hasher
from flymodel.io import read_json
from flymodel.tasks import TaskStore

TINY = CompareConfig(dataset="mnist", methods=("lsh", "pcahash"), ks=(2, 4), seeds=(0,), method_ks={"lsh": (8,)})
#: The canonical run order of TINY: seed → method → k.
TINY_RUNS = [("lsh", 8, 0), ("pcahash", 2, 0), ("pcahash", 4, 0)]


def _runs(results):
    return [(r["method"], r["k"], r["seed"]) for r in results["records"]]


def _maps(results):
    return [r["map"] for r in results["records"]]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Run TINY once, uninterrupted, with a task store: return the results and the store's folder."""
    store = tmp_path_factory.mktemp("store") / "tasks"
    return run_compare(TINY, progress=False, store=store), store


@pytest.fixture
def forbid_hashers(monkeypatch):
    """Make any attempt to build a hasher fail."""
    def refuse(method, **params):
        raise AssertionError(f"a hasher was built: {method} {params}")
    monkeypatch.setattr(compare, "make_hasher", refuse)


# --- per-method hash lengths -------------------------------------------------------------------------------------

def test_ks_of_uses_method_ks_else_ks():
    """ks_of gives a method its own hash lengths from method_ks and the shared ks otherwise."""
    assert TINY.ks_of("lsh") == (8,)
    assert TINY.ks_of("pcahash") == (2, 4)
    assert CompareConfig(ks=(2, 4)).ks_of("flyhash") == (2, 4)


def test_method_ks_decides_the_runs(tiny_run):
    """LSH runs only at its own k=8, PCAHash at the shared ks, in the canonical order."""
    results, _ = tiny_run
    assert _runs(results) == TINY_RUNS
    assert set(results["summary"]["lsh"]) == {"8"}
    assert set(results["summary"]["pcahash"]) == {"2", "4"}
    assert results["config"]["method_ks"] == {"lsh": (8,)}


@pytest.mark.parametrize("method_ks,match", [
    ({"flyhash": (2,)}, "method_ks key='flyhash'"),
    ({"bogus": (2,)}, "method_ks key='bogus'"),
    ({"lsh": ()}, "must each hold at least one value"),
    ({"lsh": (4, 0)}, "k=0 is too small"),
    ({"pcahash": (-3,)}, "k=-3 is too small"),
])
def test_bad_method_ks_raise(method_ks, match):
    with pytest.raises(ValueError, match=match):
        CompareConfig(methods=("lsh", "pcahash"), ks=(2,), seeds=(0,), method_ks=method_ks).validate()


def test_method_ks_can_make_up_for_empty_ks():
    """Empty shared ks are fine when every method has its own; a method left without any is not."""
    CompareConfig(methods=("lsh",), ks=(), method_ks={"lsh": (2,)}).validate()
    with pytest.raises(ValueError, match="at least one value"):
        CompareConfig(methods=("lsh", "pcahash"), ks=(), method_ks={"lsh": (2,)}).validate()


# --- per-run parameters ------------------------------------------------------------------------------------------

def test_run_params_drops_seed_for_deterministic_methods():
    """PCAHash and SpectralHash take no seed; the randomised methods do."""
    assert run_params("pcahash", k=2, seed=0, device="cpu") == {"k": 2, "device": "cpu"}
    assert "seed" not in run_params("spectralhash", k=2, seed=0, device="cpu")
    for method in ("itq", "lsh", "flyhash", "biohash", "naivebiohash"):
        params = run_params(method, k=2, seed=5, device="cpu")
        assert params["seed"] == 5 and params["k"] == 2, method


# --- resume ------------------------------------------------------------------------------------------------------

def test_store_holds_one_file_per_run(tiny_run):
    """After an uninterrupted run the store holds one record per run, under its run_key, and nothing else."""
    results, store = tiny_run
    keys = [run_key(TINY, r["seed"], r["method"], r["k"]) for r in results["records"]]
    assert sorted(p.name for p in store.iterdir()) == sorted(f"{key}.json" for key in keys)  # no temporary files
    assert [read_json(store / f"{key}.json")["map"] for key in keys] == _maps(results)


def test_resume_of_finished_run_builds_no_hasher(tiny_run, tmp_path, forbid_hashers):
    """A second call with a complete store computes nothing and returns the same records."""
    results, store = tiny_run
    copy = shutil.copytree(store, tmp_path / "tasks")
    again = run_compare(TINY, progress=False, store=copy)
    assert _runs(again) == _runs(results)
    assert _maps(again) == _maps(results)
    assert again["summary"] == json.loads(json.dumps(results["summary"]))


#: A comparison over two seeds on the first SMALL_N MNIST images (the real protocol: 100 queries per class).
SMALL = CompareConfig(dataset="mnist", methods=("lsh", "flyhash"), ks=(2,), seeds=(0, 1), method_ks={"lsh": (2, 4)},
                      method_params={"flyhash": {"m": 100}})
SMALL_RUNS = [(0, "lsh", 2), (0, "lsh", 4), (0, "flyhash", 2), (1, "lsh", 2), (1, "lsh", 4), (1, "flyhash", 2)]
SMALL_N = 3000


@pytest.fixture(scope="module")
def small_mnist():
    """The first SMALL_N MNIST images as the protocol's dataset (about 300 per class)."""
    full = load_mnist()
    return ImageDataset("mnist", full.images[:SMALL_N], full.labels[:SMALL_N], SMALL_N, full.class_names)


@pytest.fixture
def use_small_mnist(small_mnist, monkeypatch):
    """Make the protocols load small_mnist for this test only."""
    monkeypatch.setattr(protocols, "load_dataset", lambda name, root=None: small_mnist)


def _interrupt_at(monkeypatch, target, n):
    """Wrap the real target ('fit': Hasher.fit, 'write': the JSON text of flymodel.io.write_json) so that its n-th
    call raises KeyboardInterrupt, as a Ctrl-C there would (n=0: never); return the (seed, class, k) of every fit."""
    fits, calls = [], {"n": 0}
    real_fit, real_to_json = Hasher.fit, flymodel.io.to_json

    def strike():
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt

    def fit(self, X, y=None):
        fits.append((getattr(self, "seed", None), type(self).__name__, self.k))
        if target == "fit":
            strike()
        return real_fit(self, X, y)

    def to_json(data):
        if target == "write":
            strike()  # inside write_json's atomic_path: the temporary file already exists
        return real_to_json(data)

    monkeypatch.setattr(Hasher, "fit", fit)
    monkeypatch.setattr(flymodel.io, "to_json", to_json)
    return fits


@pytest.mark.parametrize("target, n, finished", [
    ("fit", 2, 1),    # Ctrl-C at the start of the second fit
    ("fit", 4, 3),    # Ctrl-C at the first fit of the second seed
    ("write", 2, 1),  # Ctrl-C while the second run's record is being written to the store
])
def test_resume_after_a_real_interruption_computes_only_missing_runs(use_small_mnist, tmp_path, monkeypatch, target,
                                                                     n, finished):
    """An interrupted run leaves the store holding exactly its finished runs (written atomically: no temporary
    files); the rerun fits only the missing runs and ends with an uninterrupted run's records."""
    uninterrupted = run_compare(SMALL, progress=False)
    assert [(r["seed"], r["method"], r["k"]) for r in uninterrupted["records"]] == SMALL_RUNS
    scratch = tmp_path / "scratch"  # compare's per-seed scratch directories go here
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    store = tmp_path / "out" / "tasks"
    fits = _interrupt_at(monkeypatch, target, n)
    with pytest.raises(KeyboardInterrupt):
        run_compare(SMALL, progress=False, store=store)
    assert len(fits) == n  # the n-th run was interrupted at the start of its fit, or while its record was saved
    keys = [run_key(SMALL, *run) for run in SMALL_RUNS]
    assert sorted(p.name for p in store.iterdir()) == sorted(f"{key}.json" for key in keys[:finished])
    assert list(scratch.iterdir()) == []
    assert [read_json(store / f"{key}.json")["map"] for key in keys[:finished]] == _maps(uninterrupted)[:finished]
    fits = _interrupt_at(monkeypatch, None, 0)  # records the fits, interrupts nothing
    resumed = run_compare(SMALL, progress=False, store=store)
    classes = {"lsh": "LSH", "flyhash": "FlyHash"}
    assert fits == [(seed, classes[method], k) for seed, method, k in SMALL_RUNS[finished:]]
    assert [(r["seed"], r["method"], r["k"]) for r in resumed["records"]] == SMALL_RUNS
    assert _maps(resumed) == _maps(uninterrupted)
    assert [r["precision"] for r in resumed["records"]] == [r["precision"] for r in uninterrupted["records"]]
    assert [read_json(store / f"{key}.json")["map"] for key in keys] == _maps(uninterrupted)
    assert resumed["summary"] == uninterrupted["summary"]


def test_an_extended_config_computes_only_its_new_runs(tiny_run, tmp_path, monkeypatch):
    """More ks or seeds on a store: only the new runs are fitted, the old ones come back unchanged, in run order."""
    results, store = tiny_run
    copy = shutil.copytree(store, tmp_path / "tasks")
    fits = _interrupt_at(monkeypatch, None, 0)
    extended = replace(TINY, ks=(*TINY.ks, 8))
    again = run_compare(extended, progress=False, store=copy)
    assert [(cls, k) for _, cls, k in fits] == [("PCAHash", 8)]  # the one run TINY lacks (lsh has its own ks)
    assert _runs(again) == [(m, k, s) for s, m, k in extended.runs()]
    old = {(r["method"], r["k"], r["seed"]): r["map"] for r in results["records"]}
    assert all(r["map"] == old[(r["method"], r["k"], r["seed"])] for r in again["records"] if r["k"] != 8)


def test_run_keys_differ_by_every_setting_that_decides_a_run():
    """A run's key changes with its dataset, evaluation, ties, device, shadows, method, parameters, seed and k, and not
    with the other methods of the config."""
    base = CompareConfig(dataset="mnist", methods=("lsh", "flyhash"), ks=(2,), seeds=(0,))
    key = run_key(base, 0, "lsh", 2)
    assert run_key(replace(base, methods=("lsh",)), 0, "lsh", 2) == key
    others = [run_key(replace(base, dataset="cifar10"), 0, "lsh", 2), run_key(replace(base, evaluation="validation"), 0, "lsh", 2),
              run_key(replace(base, ties="random"), 0, "lsh", 2), run_key(replace(base, device="cuda"), 0, "lsh", 2),
              run_key(replace(base, shadow_queries=True), 0, "lsh", 2), run_key(base, 0, "flyhash", 2),
              run_key(replace(base, method_params={"lsh": {"centering": "mean"}}), 0, "lsh", 2),
              run_key(base, 1, "lsh", 2), run_key(base, 0, "lsh", 4), run_key(base, 0, "lsh", 2, {"hook": 1})]
    assert len({key, *others}) == 1 + len(others)


def test_without_a_store_no_file_is_written(tmp_path, monkeypatch):
    """store=None never writes a task file (TaskStore.put is not called)."""
    monkeypatch.setattr(TaskStore, "put", lambda *a, **k: pytest.fail("TaskStore.put called"))
    results = run_compare(CompareConfig(methods=("lsh",), ks=(2,), seeds=(0,)), progress=False)
    assert _runs(results) == [("lsh", 2, 0)]


# --- training logs -----------------------------------------------------------------------------------------------

def test_learned_hasher_records_carry_training_log():
    """NaiveBioHash's record has a training_log list; LSH's record has none."""
    config = CompareConfig(methods=("naivebiohash", "lsh"), ks=(2,), seeds=(0,),
                           method_params={"naivebiohash": {"max_epochs": 2}})
    records = {r["method"]: r for r in run_compare(config, progress=False)["records"]}
    log = records["naivebiohash"]["training_log"]
    assert isinstance(log, list) and 1 <= len(log) <= 2
    assert all("epoch" in entry for entry in log)
    assert records["naivebiohash"]["params"]["max_epochs"] == 2
    assert "training_log" not in records["lsh"]


@pytest.mark.parametrize("kwargs, match", [
    ({"methods": ("lsh", "lsh")}, r"methods=\['lsh', 'lsh'\] holds duplicates"),
    ({"seeds": (0, 0)}, r"seeds=\[0, 0\] holds duplicates"),
    ({"ks": (2, 2)}, r"ks of lsh=\[2, 2\] holds duplicates"),
])
def test_duplicates_are_refused(kwargs, match):
    """A duplicated method, seed or k would be counted twice in a summary (and once after a resume): refused."""
    with pytest.raises(ValueError, match=match):
        CompareConfig(**{"methods": ("lsh",), "ks": (2,), "seeds": (0,), **kwargs}).validate()


def test_bare_int_method_ks_is_named():
    with pytest.raises(TypeError, match=r"method_ks\['lsh'\]=8 must be a tuple"):
        CompareConfig(methods=("lsh",), method_ks={"lsh": 8}).validate()
