"""Tests for reproduce.py and `flymodel reproduce`: the tables' configs, the targets, the markdown table, the CLI.

The targets and the table are checked on hand-built results; the command runs once, cheaply (LSH and PCAHash,
one seed on MNIST: about 20 s), its mAP checked against refits scored by tests/exact_reference.py; resuming after an
interruption, --shadows and --channel-inhibition run on the first few thousand MNIST images.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

import flymodel.data.protocols as protocols
import flymodel.reproduce as reproduce
from flymodel.data.images import ImageDataset, load_mnist
from flymodel.data.protocols import Protocol, get_protocol
from flymodel.data.shadows import describe_shadow
from flymodel.cli import main
from flymodel.hashing import make_hasher
from flymodel.hashing.base import Hasher
from exact_reference import expected_map
from flymodel.paper import CHANNEL_INHIBITION_KS, PAPER_CHANNEL_INHIBITION, PAPER_KS, paper_map
from flymodel.reproduce import (BASELINES, BIOCONVHASH_PARAMS, BIOHASH_PARAMS, TABLE_METHODS, TARGETS,
                                channel_inhibition_table, check_targets, markdown_table, merge_results, shadow_table,
                                table_config)

CLASSES = {"lsh": "LSH", "pcahash": "PCAHash", "flyhash": "FlyHash", "spectralhash": "SpectralHash", "itq": "ITQ",
           "naivebiohash": "NaiveBioHash", "biohash": "BioHash", "bioconvhash": "BioConvHash"}


# --- table_config ------------------------------------------------------------------------------------------------

def test_table_config_mnist():
    """MNIST's table: every method, k = 2…64, BioHash stops at 32 and runs at activity 0.05."""
    config = table_config("mnist")
    assert config.methods == TABLE_METHODS
    assert config.ks == (2, 4, 8, 16, 32, 64)
    assert config.ks_of("biohash") == config.ks_of("bioconvhash") == (2, 4, 8, 16, 32)
    assert config.ks_of("itq") == (2, 4, 8, 16, 32, 64)
    assert config.method_params["biohash"]["activity"] == 0.05 == BIOHASH_PARAMS["mnist"]["activity"]
    assert config.method_params["bioconvhash"] == {"n_filters": 500, "kernel_sizes": (3, 4), "k_ci": 10, "activity": 0.05}
    assert not config.shadow_queries
    assert config.seeds == (0, 1, 2) and config.dataset == "mnist"


def test_table_config_cifar10_activity():
    """CIFAR-10's BioHash runs at activity 0.005."""
    config = table_config("cifar10", seeds=(4,), shadow_queries=True)
    assert config.method_params["biohash"]["activity"] == 0.005
    assert config.method_params["bioconvhash"] == dict(BIOCONVHASH_PARAMS["cifar10"])
    assert config.method_params["bioconvhash"]["k_ci"] == 1 and config.method_params["bioconvhash"]["n_filters"] == 400
    assert config.shadow_queries
    assert config.seeds == (4,) and config.dataset == "cifar10"


def test_table_config_without_biohash_has_no_biohash_settings():
    """A method subset without BioHash carries neither its activity nor its ks."""
    config = table_config("mnist", methods=("lsh", "itq"))
    assert config.method_params == {} and config.method_ks == {}


def test_table_config_unknown_dataset():
    with pytest.raises(ValueError, match="dataset='fashion_mnist' is not known"):
        table_config("fashion_mnist")


# --- check_targets and markdown_table on hand-built results ------------------------------------------------------

def _results(dataset: str, means: dict[str, dict[int, float]], seeds=(0, 1, 2)) -> dict:
    """A results record as run_table builds it, from the mean mAP (%) of each method at each k."""
    summary = {m: {str(k): {"mean": mean, "std": 0.5, "n": len(seeds), "paper": paper_map(dataset, CLASSES[m], k)}
                   for k, mean in per_k.items()} for m, per_k in means.items()}
    records = [{"method": m, "class": CLASSES[m], "k": k, "seed": 0, "map": mean / 100}
               for m, per_k in means.items() for k, mean in per_k.items()]
    return {"config": {"dataset": dataset, "seeds": list(seeds)},
            "protocol": {"metric": "mAP@All" if dataset == "mnist" else "mAP@1000"},
            "evaluation": "query", "tie_policy": "expected", "records": records, "summary": summary}


def _paper(dataset: str, method: str, k: int) -> float:
    return paper_map(dataset, CLASSES[method], k)


def _by_target(targets: list[dict]) -> dict[tuple[int, str], dict]:
    return {(t["k"], t["target"]): t for t in targets}


def test_tolerances():
    assert TARGETS["biohash"]["mnist"].tolerance == {2: 4.0, None: 2.5}
    assert TARGETS["biohash"]["cifar10"].tolerance == {None: 2.0} and TARGETS["biohash"]["cifar10"].rivals == BASELINES
    assert TARGETS["bioconvhash"]["mnist"].tolerance == {None: 3.0} and TARGETS["bioconvhash"]["mnist"].rivals == ()
    assert TARGETS["bioconvhash"]["cifar10"].tolerance == {None: 2.0}
    assert TARGETS["bioconvhash"]["cifar10"].rivals == ("biohash",) and TARGETS["bioconvhash"]["cifar10"].strict


def test_bioconvhash_targets_paper_minus_3_on_mnist_and_above_biohash_on_cifar10():
    mnist = _by_target(check_targets(_results("mnist", {
        "biohash": {2: 50.0}, "bioconvhash": {2: _paper("mnist", "bioconvhash", 2) - 3.0, 4: 60.0}})))
    assert mnist[(2, "BioConvHash >= paper - 3")]["holds"] and not mnist[(4, "BioConvHash >= paper - 3")]["holds"]
    cifar = _by_target(check_targets(_results("cifar10", {
        "lsh": {2: 12.0}, "biohash": {2: 20.0}, "bioconvhash": {2: 19.0}})))
    assert not cifar[(2, "BioConvHash > biohash")]["holds"] and not cifar[(2, "BioConvHash >= paper - 2")]["holds"]
    assert cifar[(2, "BioHash > lsh")]["holds"]
    assert (2, "BioHash > bioconvhash") not in cifar  # BioHash is held against the baselines only


def test_mnist_targets_bounds_and_itq_only():
    """MNIST: BioHash ≥ paper − 4 at k=2, − 2.5 otherwise (the bound itself holds) and never below ITQ, the only rival."""
    biohash = {2: _paper("mnist", "biohash", 2) - 4.0,             # exactly at the bound: holds
               4: _paper("mnist", "biohash", 4) - 2.5,             # exactly at the bound: holds
               8: _paper("mnist", "biohash", 8) - 2.5 - 0.01}      # just below: fails
    results = _results("mnist", {"lsh": {2: 90.0, 4: 90.0, 8: 90.0}, "itq": {2: 30.0, 4: 60.0, 8: 30.0},
                                 "biohash": biohash})
    targets = _by_target(check_targets(results))
    assert set(targets) == {(2, "BioHash >= paper - 4"), (4, "BioHash >= paper - 2.5"), (8, "BioHash >= paper - 2.5"),
                            (2, "BioHash >= itq"), (4, "BioHash >= itq"), (8, "BioHash >= itq")}  # LSH is no rival
    assert targets[(2, "BioHash >= paper - 4")]["holds"]
    assert targets[(2, "BioHash >= paper - 4")]["bound"] == pytest.approx(44.38 - 4.0)
    assert targets[(4, "BioHash >= paper - 2.5")]["holds"]
    assert not targets[(8, "BioHash >= paper - 2.5")]["holds"]
    assert targets[(8, "BioHash >= paper - 2.5")]["ours"] == biohash[8]
    assert targets[(2, "BioHash >= itq")]["holds"] and targets[(2, "BioHash >= itq")]["bound"] == 30.0
    assert not targets[(4, "BioHash >= itq")]["holds"]  # 46.82 < 60


def test_mnist_k2_at_the_default_tolerance_would_fail():
    """At k=2 a BioHash 3 points below the paper still holds (tolerance 4), 4.01 below does not."""
    ok = check_targets(_results("mnist", {"biohash": {2: _paper("mnist", "biohash", 2) - 3.0}}))
    bad = check_targets(_results("mnist", {"biohash": {2: _paper("mnist", "biohash", 2) - 4.01}}))
    assert [t["holds"] for t in ok] == [True]
    assert [t["holds"] for t in bad] == [False]


def test_cifar10_targets_against_every_baseline():
    """CIFAR-10: BioHash ≥ paper − 2 and above every baseline in the summary at the same k."""
    biohash = {2: _paper("cifar10", "biohash", 2) - 2.0, 4: _paper("cifar10", "biohash", 4) - 2.01}
    means = {"lsh": {2: 10.0, 4: 10.0}, "itq": {2: 12.0, 4: 25.0}, "flyhash": {2: 15.0}, "biohash": biohash}
    targets = _by_target(check_targets(_results("cifar10", means)))
    assert set(targets) == {(2, "BioHash >= paper - 2"), (4, "BioHash >= paper - 2"),
                            (2, "BioHash > lsh"), (2, "BioHash > itq"), (2, "BioHash > flyhash"),
                            (4, "BioHash > lsh"), (4, "BioHash > itq")}  # FlyHash has no k=4
    assert targets[(2, "BioHash >= paper - 2")]["holds"]
    assert not targets[(4, "BioHash >= paper - 2")]["holds"]
    assert targets[(4, "BioHash > lsh")]["holds"] and not targets[(4, "BioHash > itq")]["holds"]
    assert all(targets[(2, f"BioHash > {m}")]["holds"] for m in ("lsh", "itq", "flyhash"))


def test_no_paper_value_no_paper_target():
    """A k the paper does not report for BioHash (64) has rival targets only."""
    targets = check_targets(_results("cifar10", {"lsh": {64: 1.0}, "biohash": {64: 30.0}}))
    assert [(t["k"], t["target"], t["holds"]) for t in targets] == [(64, "BioHash > lsh", True)]


def test_no_biohash_no_targets():
    assert check_targets(_results("mnist", {"lsh": {2: 12.0}, "itq": {2: 22.0}})) == []
    assert check_targets(_results("cifar10", {"lsh": {2: 12.0}})) == []


def test_markdown_table_cells_and_targets():
    """Cells read 'ours ± std (paper)', a missing k reads '—', rows are named by class, failing targets listed."""
    biohash = {2: 50.0, 4: 40.0}  # k=2 holds (≥ 40.38), k=4 fails (< 46.82); both beat ITQ
    results = _results("mnist", {"lsh": {2: 12.0, 4: 13.0, 64: 30.0}, "itq": {2: 20.0, 4: 25.0}, "biohash": biohash})
    results["targets"] = check_targets(results)
    text = markdown_table(results)
    lines = text.splitlines()
    assert lines[0].startswith("mAP@All (%) on mnist, query set, mean ± std over 3 seeds (paper, Table 1)")
    assert "ties: expected" in lines[0]
    assert "| method | k=2 | k=4 | k=64 |" in lines
    assert "| LSH | 12.00 ± 0.50 (12.45) | 13.00 ± 0.50 (13.77) | 30.00 ± 0.50 (32.30) |" in lines
    assert "| ITQ | 20.00 ± 0.50 (21.94) | 25.00 ± 0.50 (28.45) | — |" in lines
    assert "| BioHash | 50.00 ± 0.50 (44.38) | 40.00 ± 0.50 (49.32) | — |" in lines
    assert "Targets: 3 of 4 hold." in lines
    not_held = [line for line in lines if line.startswith("- not held")]
    assert not_held == ["- not held: k=4: BioHash >= paper - 2.5 (40.00 vs 46.82)"]
    assert text.endswith("\n")


def test_markdown_table_every_failing_target_has_a_line():
    """Two failing targets give two 'not held' lines."""
    results = _results("cifar10", {"lsh": {2: 30.0}, "biohash": {2: 10.0}})
    results["targets"] = check_targets(results)
    text = markdown_table(results)
    assert "Table 2" in text.splitlines()[0] and "mAP@1000" in text.splitlines()[0]
    assert "Targets: 0 of 2 hold." in text
    assert text.count("- not held:") == 2
    assert "- not held: k=2: BioHash > lsh (10.00 vs 30.00)" in text


def test_markdown_table_paper_value_missing():
    """A cell whose k the paper does not report has no parenthesis; no targets read 0 of 0."""
    results = _results("mnist", {"biohash": {64: 50.0}})
    results["targets"] = []
    text = markdown_table(results)
    assert "| BioHash | 50.00 ± 0.50 |" in text
    assert "Targets: 0 of 0 hold." in text


# --- the command -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reproduce_run(tmp_path_factory):
    """Run `flymodel reproduce mnist` for LSH and PCAHash on one seed (about 20 s): status, printed text, dir."""
    out = tmp_path_factory.mktemp("reproduce") / "out"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["reproduce", "mnist", "--methods", "lsh", "pcahash", "--seeds", "0", "--output", str(out),
                       "--quiet"])
    return status, stdout.getvalue(), out


def test_reproduce_writes_files_and_its_task_store(reproduce_run):
    status, _, out = reproduce_run
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["map_vs_k.pdf", "map_vs_k.png", "results.json", "table.md", "tasks"]
    assert len(list((out / "tasks").iterdir())) == 12  # LSH and PCAHash at 6 ks each, one file per run
    for name in ("map_vs_k.pdf", "map_vs_k.png", "results.json", "table.md"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "map_vs_k.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "map_vs_k.pdf").read_bytes().startswith(b"%PDF")


def refit_map(method, k, seed, data, split, queries=None):
    """mAP@All of the method fitted anew with k and seed on split's database, by brute force (tests/exact_reference.py);
    queries replaces the split's query rows (e.g. shadowed ones)."""
    X_db = data.features(split.database)
    hasher = make_hasher(method, k=k, device="cpu", **({"seed": seed} if method != "pcahash" else {})).fit(X_db)
    X_q = data.features(split.queries) if queries is None else queries
    return expected_map(hasher.transform(X_q), hasher.transform(X_db), data.labels[split.queries],
                           data.labels[split.database])


def test_reproduce_results_json(reproduce_run):
    """results.json holds the table's config and one record per method and k; LSH's mAP at k=2 and PCAHash's at k=64
    equal refits on the protocol's split scored by brute force, and the summary holds every record's mAP."""
    _, _, out = reproduce_run
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == "reproduce Table 1"
    assert results["targets"] == []
    assert results["config"]["methods"] == ["lsh", "pcahash"] and results["config"]["seeds"] == [0]
    assert results["config"]["ks"] == list(PAPER_KS)
    assert [(r["method"], r["k"]) for r in results["records"]] == [(m, k) for m in ("lsh", "pcahash") for k in PAPER_KS]
    protocol = get_protocol("mnist")
    data = protocol.load()
    split = protocol.split(data.labels, 0)
    for r in results["records"]:
        if (r["method"], r["k"]) in (("lsh", 2), ("pcahash", 64)):
            assert r["map"] == pytest.approx(refit_map(r["method"], r["k"], 0, data, split), abs=1e-9), (r["method"], r["k"])
        assert results["summary"][r["method"]][str(r["k"])]["mean"] == pytest.approx(100 * r["map"], abs=1e-9)


def test_reproduce_table_md(reproduce_run):
    """table.md has LSH and PCAHash rows for k = 2…64 with the paper's Table 1 values in parentheses."""
    _, printed, out = reproduce_run
    table = (out / "table.md").read_text()
    lines = table.splitlines()
    assert "| method | k=2 | k=4 | k=8 | k=16 | k=32 | k=64 |" in lines
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ") and "±" in line}
    assert set(rows) == {"LSH", "PCAHash"}
    assert rows["LSH"].count("±") == 6 and rows["PCAHash"].count("±") == 6
    for value in ("(12.45)", "(13.77)", "(18.07)", "(20.30)", "(26.20)", "(32.30)"):
        assert value in rows["LSH"], value
    assert "(19.59)" in rows["PCAHash"] and "(21.04)" in rows["PCAHash"]
    assert "Targets: 0 of 0 hold." in lines
    assert table in printed
    assert "Table 1: 12 runs in" in printed


@pytest.mark.parametrize("args,match", [
    (["mnist", "--methods", "bogus"], "method='bogus' is not known"),
    (["mnist", "--methods", "lsh", "--seeds", "-1"], "seed=-1 is too small"),
])
def test_reproduce_errors_exit_2_with_one_line(args, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", *args, "--output", str(tmp_path / "o"), "--quiet"])
    assert info.value.code == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1, err_lines
    assert err_lines[0].startswith("flymodel: error: ")
    assert match in err_lines[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [["reproduce"], ["reproduce", "svhn"], ["reproduce", "mnist", "--seeds", "one"]])
def test_reproduce_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_reproduce_help_lists_datasets_and_the_task_store(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: flymodel reproduce")
    for word in ("{cifar10,mnist}", "OUTPUT/tasks/", "--methods", "--seeds", "--device", "--output", "--quiet",
                 "Table 1", "Table 2"):
        assert word in text, word


def test_partial_results_report_a_table_in_progress(tmp_path):
    """The finished runs in a task store give a table whose header says that seeds are missing; runs of other
    tables in the same store are not counted."""
    from flymodel.compare import run_key
    from flymodel.reproduce import partial_results
    from flymodel.tasks import TaskStore

    config = table_config("mnist", seeds=(0, 1), methods=("lsh", "biohash"))
    records = [{"method": "lsh", "class": "LSH", "k": 2, "seed": 0, "map": 0.12},
               {"method": "lsh", "class": "LSH", "k": 2, "seed": 1, "map": 0.13},
               {"method": "biohash", "class": "BioHash", "k": 2, "seed": 0, "map": 0.43}]
    store = TaskStore(tmp_path / "tasks")
    for r in records:
        store.put(run_key(config, r["seed"], r["method"], r["k"]), r)
    other = table_config("mnist", seeds=(0,), methods=("lsh",), device="cuda")
    store.put(run_key(other, 0, "lsh", 4), {**records[0], "k": 4})
    results = partial_results(config, tmp_path / "tasks")
    assert results["summary"]["lsh"]["2"]["n"] == 2 and results["summary"]["biohash"]["2"]["n"] == 1
    assert results["summary"]["lsh"]["2"]["mean"] == pytest.approx(12.5)
    assert "over 1 to 2 (not every run has finished) seeds" in markdown_table(results)
    assert {t["target"] for t in results["targets"]} == {"BioHash >= paper - 4"}  # no ITQ run to compare with


# --- Table 6 (shadows), Table 3 (channel inhibition) and merged tables on hand-built results ----------------------

def test_shadow_table_shows_paper_values_and_the_share_kept():
    results = _results("cifar10", {"lsh": {2: 12.0}, "bioconvhash": {2: 27.0}})
    results["shadow"] = describe_shadow((32, 32, 3))
    results["summary_shadow"] = {m: {"2": {"mean": mean, "std": 0.1, "n": 3, "paper": paper_map("cifar10", CLASSES[m], 2, shadow=True)}}
                                 for m, mean in (("lsh", 6.0), ("bioconvhash", 26.0))}
    text = shadow_table(results)
    assert "left 26 of 32 columns × 0.3" in text
    assert "| LSH | 6.00 ± 0.10 (10.62) |" in text and "| BioConvHash | 26.00 ± 0.10 (26.84) |" in text
    assert "| LSH | 50.00 |" in text and "| BioConvHash | 96.30 |" in text  # share of the clean mAP kept
    assert "Table 6" in markdown_table({**results, "targets": []})


def test_merge_replaces_the_methods_of_the_extra_run_and_rechecks_targets():
    base = _results("mnist", {"lsh": {2: 12.0}, "biohash": {2: 45.0}, "bioconvhash": {2: 1.0}})
    extra = _results("mnist", {"bioconvhash": {2: 63.0, 4: 70.0}})
    for run, methods in ((base, ["lsh", "biohash"]), (extra, ["bioconvhash"])):
        run["config"].update({"methods": methods, "method_params": {}, "method_ks": {}})
        run["total_seconds"] = 10.0
    merged = merge_results(base, extra)
    assert [r["method"] for r in merged["records"]] == ["lsh", "biohash", "bioconvhash", "bioconvhash"]
    assert merged["summary"]["bioconvhash"]["2"]["mean"] == pytest.approx(63.0)
    assert merged["config"]["methods"] == ["lsh", "biohash", "bioconvhash"] and merged["total_seconds"] == 20.0
    assert {t["target"] for t in merged["targets"]} >= {"BioConvHash >= paper - 3", "BioHash >= paper - 4"}
    with pytest.raises(ValueError, match="cannot merge a cifar10 run into a mnist table"):
        merge_results(base, _results("cifar10", {"lsh": {2: 1.0}}))


def test_channel_inhibition_table_rows_are_k_ci_with_the_papers_values():
    summary = {str(k_ci): {str(k): {"mean": 50.0 + k, "std": 1.0, "n": 1,
                                    "paper": PAPER_CHANNEL_INHIBITION["mnist"][k_ci][CHANNEL_INHIBITION_KS.index(k)]}
                           for k in CHANNEL_INHIBITION_KS} for k_ci in (1, 10)}
    text = channel_inhibition_table({"dataset": "mnist", "protocol": {"metric": "mAP@All"}, "seeds": [0],
                                     "settings": BIOCONVHASH_PARAMS["mnist"], "summary": summary})
    assert "| k_CI=10 | 52.00 ± 1.00 (64.49) | 54.00 ± 1.00 (70.54) | 58.00 ± 1.00 (77.25) | 66.00 ± 1.00 (80.34) |" in text
    assert "of 500" in text and "| k_CI=1 |" in text


def test_run_channel_inhibition_runs_one_compare_per_k_ci_and_summarises(monkeypatch, tmp_path):
    seen = []

    def fake_compare(config, progress=True, store=None):
        k_ci = config.method_params["bioconvhash"]["k_ci"]
        seen.append((k_ci, config.ks, config.seeds, store))
        assert config.method_params["bioconvhash"]["n_filters"] == 400 and config.methods == ("bioconvhash",)
        return {"records": [{"method": "bioconvhash", "class": "BioConvHash", "k": k, "seed": s, "map": (k_ci + k) / 1000}
                            for s in config.seeds for k in config.ks]}

    monkeypatch.setattr(reproduce, "run_compare", fake_compare)
    results = reproduce.run_channel_inhibition("cifar10", k_cis=(1, 25), ks=(2, 4), seeds=(0, 1), store=tmp_path,
                                               progress=False)
    assert seen == [(1, (2, 4), (0, 1), tmp_path), (25, (2, 4), (0, 1), tmp_path)]  # one store for every k_CI
    assert results["summary"]["25"]["4"]["mean"] == pytest.approx(2.9) and results["summary"]["25"]["4"]["n"] == 2
    assert results["summary"]["1"]["2"]["paper"] == 26.94 and results["summary"]["25"]["4"]["paper"] == 22.73
    assert {r["k_ci"] for r in results["records"]} == {1, 25} and len(results["records"]) == 8


# --- the command on a few thousand MNIST images: resuming after an interruption, --shadows, --channel-inhibition ----

@pytest.fixture(scope="module")
def mnist_head():
    """The first images of MNIST, from which the tests below take their small datasets."""
    return load_mnist()


def _use_first(monkeypatch, full, n):
    """Make the protocols load only the first n MNIST images; return that dataset."""
    small = ImageDataset("mnist", full.images[:n], full.labels[:n], n, full.class_names)
    monkeypatch.setattr(protocols, "load_dataset", lambda name, root=None: small)
    return small


def _reproduce(args, out):
    """Run `flymodel reproduce mnist ARGS --output OUT --quiet` with its printed output captured; return the status."""
    with contextlib.redirect_stdout(io.StringIO()):
        return main(["reproduce", "mnist", *args, "--output", str(out), "--quiet"])


def _recording_fits(monkeypatch, interrupt_at=0):
    """Wrap the real Hasher.fit: record the k of every fit; the interrupt_at-th raises KeyboardInterrupt at its start, as
    a Ctrl-C would (0: none)."""
    fits = []
    real_fit = Hasher.fit

    def fit(self, X, y=None):
        fits.append(self.k)
        if len(fits) == interrupt_at:
            raise KeyboardInterrupt
        return real_fit(self, X, y)

    monkeypatch.setattr(Hasher, "fit", fit)
    return fits


def test_reproduce_resumes_from_its_task_store_after_an_interruption(mnist_head, tmp_path, monkeypatch, capsys):
    """Ctrl-C in the third fit exits 130 leaving OUTPUT/tasks/ with exactly the two finished runs and no temporary
    file; the same command then fits only the four missing runs and writes the uninterrupted run's records and table;
    a third run with another seed added fits only that seed's runs."""
    _use_first(monkeypatch, mnist_head, 3000)
    args = ["--methods", "lsh", "--seeds", "0"]
    assert _reproduce(args, tmp_path / "uninterrupted") == 0
    uninterrupted = json.loads((tmp_path / "uninterrupted" / "results.json").read_text())
    out = tmp_path / "out"
    fits = _recording_fits(monkeypatch, interrupt_at=3)
    with pytest.raises(SystemExit) as info:
        _reproduce(args, out)
    assert info.value.code == 130 and "flymodel: interrupted" in capsys.readouterr().err
    assert fits == [2, 4, 8] and [p.name for p in out.iterdir()] == ["tasks"]
    stored = [json.loads(p.read_text()) for p in (out / "tasks").iterdir()]
    assert all(p.suffix == ".json" for p in (out / "tasks").iterdir())
    assert sorted((r["method"], r["k"], r["map"]) for r in stored) == \
        [("lsh", r["k"], r["map"]) for r in uninterrupted["records"][:2]]
    fits = _recording_fits(monkeypatch)
    assert _reproduce(args, out) == 0
    assert fits == [8, 16, 32, 64]
    assert sorted(p.name for p in out.iterdir()) == ["map_vs_k.pdf", "map_vs_k.png", "results.json", "table.md", "tasks"]
    results = json.loads((out / "results.json").read_text())
    assert [(r["k"], r["map"], r["precision"]) for r in results["records"]] == \
        [(r["k"], r["map"], r["precision"]) for r in uninterrupted["records"]]
    assert (out / "table.md").read_text() == (tmp_path / "uninterrupted" / "table.md").read_text()
    fits = _recording_fits(monkeypatch)
    assert _reproduce(["--methods", "lsh", "--seeds", "0", "1"], out) == 0
    assert fits == [2, 4, 8, 16, 32, 64]  # seed 1 only


def test_reproduce_shadows_scores_shadowed_queries_against_the_same_fits(mnist_head, tmp_path, monkeypatch):
    """--shadows adds Table 6: every record's shadow mAP differs from and is below its clean mAP, and equals a refit
    scored by brute force on queries whose left 22 of 28 columns are multiplied by 0.3 (written out here)."""
    data = _use_first(monkeypatch, mnist_head, 3000)
    out = tmp_path / "shadows"
    assert _reproduce(["--methods", "lsh", "--seeds", "0", "--shadows"], out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["map_vs_k.pdf", "map_vs_k.png", "results.json", "table.md", "tasks"]
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["shadow_queries"] is True
    assert results["shadow"] == {"columns": 22, "width": 28, "factor": 0.3, "share_of_pixels": 22 / 28}
    assert [r["k"] for r in results["records"]] == list(PAPER_KS)
    for r in results["records"]:
        assert r["map_shadow"] < r["map"] and r["precision_shadow"] == pytest.approx(r["precision"], abs=1e-12)
        summary = results["summary_shadow"]["lsh"][str(r["k"])]
        assert summary["mean"] == pytest.approx(100 * r["map_shadow"], abs=1e-9) and summary["paper"] is None
    split = get_protocol("mnist").split(data.labels, 0)
    images = data.features(split.queries).reshape(-1, 28, 28).copy()
    images[:, :, :22] *= np.float32(0.3)
    shadowed = images.reshape(len(split.queries), -1)
    for r in results["records"][::5]:  # k = 2 and 64
        assert r["map"] == pytest.approx(refit_map("lsh", r["k"], 0, data, split), abs=1e-9)
        assert r["map_shadow"] == pytest.approx(refit_map("lsh", r["k"], 0, data, split, queries=shadowed), abs=1e-9)
    table = (out / "table.md").read_text()
    assert "Table 6: mAP@All (%) on mnist with shadowed queries (left 22 of 28 columns × 0.3" in table
    kept = [line for line in table.splitlines() if line.startswith("| LSH |")]
    assert len(kept) == 3  # clean, shadowed, share kept
    shares = [float(cell) for cell in kept[2].strip("| ").split(" | ")[1:]]
    assert shares == pytest.approx([100 * r["map_shadow"] / r["map"] for r in results["records"]], abs=0.006)


#: BioConvHash at sizes that fit in seconds (100 filters: k_CI goes up to 100), Table 3's other settings kept.
TINY_CONV = {"n_filters": 100, "kernel_sizes": (20,), "k_ci": 10, "activity": 0.05, "n_patches": 400, "max_epochs": 1,
             "batch_size": 100}


def test_reproduce_channel_inhibition_runs_one_model_per_k_ci(mnist_head, tmp_path, monkeypatch):
    """--channel-inhibition writes Table 3: one BioConvHash per k_CI and k, built with that k_CI, their mAP summarised
    per k_CI (one model's equal to a refit scored by brute force), and one task file per run (k_CI × k)."""
    data = _use_first(monkeypatch, mnist_head, 600)
    monkeypatch.setitem(protocols.PROTOCOLS, "mnist", Protocol("mnist", "mnist", queries_per_class=10, R=None))
    monkeypatch.setitem(reproduce.BIOCONVHASH_PARAMS, "mnist", TINY_CONV)
    out = tmp_path / "table3"
    assert _reproduce(["--channel-inhibition", "--seeds", "0"], out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "table.md", "tasks"]
    assert len(list((out / "tasks").iterdir())) == 5 * len(CHANNEL_INHIBITION_KS)
    results = json.loads((out / "results.json").read_text())
    assert results["experiment"] == "reproduce Table 3" and results["k_cis"] == [1, 5, 10, 25, 100]
    assert results["ks"] == list(CHANNEL_INHIBITION_KS) and results["seeds"] == [0]
    runs = [(r["k_ci"], r["k"]) for r in results["records"]]
    assert runs == [(k_ci, k) for k_ci in (1, 5, 10, 25, 100) for k in CHANNEL_INHIBITION_KS]
    for r in results["records"]:
        assert r["method"] == "bioconvhash" and r["params"]["k_ci"] == r["k_ci"] and r["params"]["n_filters"] == 100
        assert results["summary"][str(r["k_ci"])][str(r["k"])]["mean"] == pytest.approx(100 * r["map"], abs=1e-9)
    assert len({r["map"] for r in results["records"] if r["k"] == 16}) == 5  # five different models at each k
    assert results["summary"]["10"]["2"]["paper"] == 64.49
    record = results["records"][-1]  # k_CI = 100, k = 16
    split = get_protocol("mnist").split(data.labels, 0)
    X_db = data.features(split.database)
    hasher = make_hasher("bioconvhash", **{**TINY_CONV, "k_ci": 100}, k=16, seed=0, device="cpu").fit(X_db)
    expected = expected_map(hasher.transform(data.features(split.queries)), hasher.transform(X_db),
                               data.labels[split.queries], data.labels[split.database])
    assert record["map"] == pytest.approx(expected, abs=1e-9)
    table = (out / "table.md").read_text()
    assert table.count("| k_CI=") == 5 and "of 100), mean ± std over 1 seed(s)" in table
