"""Tests for the `flymodel` command line: compare end to end on MNIST (kept cheap), errors, help and entry point.

The mAP the command reports is checked against an independent computation: the same method refitted with the same
seed on the protocol's split, scored by the literal loops of tests/exact_reference.py.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flymodel.data.protocols as protocols
from flymodel.cli import main
from flymodel.data.images import ImageDataset
from flymodel.data.protocols import get_protocol
from flymodel.hashing import make_hasher
from exact_reference import expected_ap, expected_map, hamming, ranking_ap

COMPARE = ["compare", "--dataset", "mnist", "--methods", "lsh", "flyhash", "--k", "2", "4", "--seeds", "0",
           "--set", "flyhash.m=500", "--quiet"]


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    """Run the compare command once (about 5 s): return its status, printed output, output dir and results."""
    out = tmp_path_factory.mktemp("compare") / "out"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main([*COMPARE, "--output", str(out)])
    results = json.loads((out / "results.json").read_text())
    return status, stdout.getvalue(), out, results


@pytest.fixture(scope="module")
def mnist():
    """MNIST as the protocol uses it: (dataset, protocol)."""
    protocol = get_protocol("mnist")
    return protocol.load(), protocol


def refit_codes(method, k, seed, X_database, X_queries, **params):
    """Fit the method anew with this k and seed on X_database; return (query codes, database codes)."""
    hasher = make_hasher(method, k=k, seed=seed, device="cpu", **params).fit(X_database)
    return hasher.transform(X_queries), hasher.transform(X_database)


def test_reference_expected_ap_is_the_mean_over_every_order_of_ties():
    """tests/exact_reference.py's expected AP@All equals the plain mean of AP over all 7! orders of 7 tied-up items."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        distances, relevant = rng.integers(0, 3, 7), rng.random(7) < 0.4
        aps = [ranking_ap(relevant[np.lexsort((np.array(order), distances))])
               for order in itertools.permutations(range(7))]
        assert expected_ap(distances, relevant) == pytest.approx(np.mean(aps), abs=1e-12)
    codes = rng.random((5, 9)) < 0.5
    np.testing.assert_array_equal(hamming(codes[:2], codes), (codes[:2, None, :] != codes[None, :, :]).sum(axis=2))


def test_compare_returns_zero_and_writes_files(compare_run):
    status, _, out, _ = compare_run
    assert status == 0
    for name in ("results.json", "map_vs_k.png", "map_vs_k.pdf"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "map_vs_k.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "map_vs_k.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.iterdir()) == ["map_vs_k.pdf", "map_vs_k.png", "results.json"]  # no temp files


def test_compare_results_json(compare_run):
    _, _, _, results = compare_run
    for key in ("experiment", "config", "protocol", "tie_policy", "environment", "records", "summary"):
        assert key in results, key
    assert results["experiment"] == "compare"
    assert results["tie_policy"] == "expected"
    assert results["protocol"]["metric"] == "mAP@All" and results["protocol"]["dataset"] == "mnist"
    assert results["config"]["method_params"] == {"flyhash": {"m": 500}}
    assert results["config"]["ks"] == [2, 4] and results["config"]["seeds"] == [0]
    assert results["split_sizes"] == {"queries": 1000, "database": 69000}
    versions = results["environment"]["versions"]
    for pkg in ("flymodel", "numpy", "torch"):
        assert versions[pkg] and versions[pkg] != "not installed"
    assert {"date", "python"} <= set(results["environment"])


def test_compare_records(compare_run, mnist):
    """Each record's mAP equals a refit of its method and seed on the protocol's split scored by brute force; its
    precision@All is the share of same-label items in the database."""
    _, _, _, results = compare_run
    data, protocol = mnist
    split = protocol.split(data.labels, 0)
    X_db, X_q = data.features(split.database), data.features(split.queries)
    y_db, y_q = data.labels[split.database], data.labels[split.queries]
    records = results["records"]
    assert len(records) == 4
    assert {(r["method"], r["k"], r["seed"]) for r in records} == {(m, k, 0) for m in ("lsh", "flyhash") for k in (2, 4)}
    share = np.mean([(y_db == label).mean() for label in y_q])
    for r in records:
        params = {"m": 500} if r["method"] == "flyhash" else {}
        assert r["map"] == pytest.approx(expected_map(*refit_codes(r["method"], r["k"], 0, X_db, X_q, **params),
                                                         y_q, y_db), abs=1e-9), (r["method"], r["k"])
        assert r["precision"] == pytest.approx(share, abs=1e-9)
        if r["method"] == "flyhash":
            assert r["code_bits"] == 500 and r["params"]["m"] == 500
        else:
            assert r["code_bits"] == r["k"]
    # both hashers beat chance (about 10 % for ten balanced classes) on MNIST
    assert all(r["map"] > 0.1 for r in records)
    summary = results["summary"]
    assert set(summary) == {"lsh", "flyhash"}
    for method, per_k in summary.items():
        assert set(per_k) == {"2", "4"}
        for k, s in per_k.items():
            record = next(r for r in records if r["method"] == method and r["k"] == int(k))
            assert s["n"] == 1 and s["std"] == 0.0 and s["mean"] == pytest.approx(100 * record["map"], abs=1e-9)


@pytest.mark.parametrize("readout", ["apl", "top_k"])
def test_compare_scores_a_circuit(readout, tmp_path, mnist):
    """`--methods circuit` encodes with a circuit spec: its record's mAP is that of a refit CircuitHash, scored by brute
    force, and its storage counts the mean number of active KCs (exactly k for top-k; varying for the APL readout)."""
    out = tmp_path / "out"
    sets = ["circuit.circuit=mnist_kc", f"circuit.readout={readout}", "circuit.max_train=1000"]
    assert main(["compare", "--dataset", "mnist", "--methods", "circuit", "--k", "16", "--seeds", "0",
                 *[item for s in sets for item in ("--set", s)], "--output", str(out), "--quiet"]) == 0
    record = json.loads((out / "results.json").read_text())["records"][0]
    data, protocol = mnist
    split = protocol.split(data.labels, 0)
    X_db, X_q = data.features(split.database), data.features(split.queries)
    hasher = make_hasher("circuit", k=16, seed=0, device="cpu", circuit="mnist_kc", readout=readout,
                         max_train=1000).fit(X_db)
    q, db = hasher.transform(X_q), hasher.transform(X_db)
    assert record["map"] == pytest.approx(expected_map(q, db, data.labels[split.queries], data.labels[split.database]),
                                          abs=1e-9)
    assert record["class"] == "CircuitHash" and record["code_bits"] == 320 and record["map"] > 0.1
    assert record["active_bits"] == pytest.approx(db.sum(axis=1).mean())
    assert record["storage_bits"] == pytest.approx(record["active_bits"] * np.log2(320))
    assert record["apl_gain_mv"] == hasher.apl_gain_mv_ and (readout == "apl") == (hasher.apl_gain_mv_ != 2.0)
    if readout == "top_k":
        assert record["active_bits"] == 16
    else:
        assert db.sum(axis=1).std() > 0 and abs(record["active_bits"] - 16) < 2


def test_compare_prints_table(compare_run):
    _, printed, out, _ = compare_run
    lines = printed.splitlines()
    assert lines[0].startswith("mAP@All (%)")
    assert "k=2" in lines[1] and "k=4" in lines[1]
    assert any(line.startswith("lsh") for line in lines)
    assert any(line.startswith("flyhash") for line in lines)
    assert str(out / "results.json") in printed


def test_compare_random_ties(tmp_path, capsys, mnist, monkeypatch):
    """--ties random scores one seeded order of tied items: the mAP of that order walked item by item (query i's ties
    ordered by uniform draws of SeedSequence([seed, i]), the order flymodel.metrics documents), on the first 3,000
    MNIST images."""
    full, protocol = mnist
    small = ImageDataset("mnist", full.images[:3000], full.labels[:3000], 3000, full.class_names)
    monkeypatch.setattr(protocols, "load_dataset", lambda name, root=None: small)
    out = tmp_path / "random"
    status = main(["compare", "--dataset", "mnist", "--methods", "lsh", "--k", "2", "--seeds", "0", "--ties", "random",
                   "--output", str(out), "--quiet"])
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    assert results["tie_policy"] == "random"
    assert len(results["records"]) == 1 and results["split_sizes"] == {"queries": 1000, "database": 2000}
    split = protocol.split(small.labels, 0)
    X_db, X_q = small.features(split.database), small.features(split.queries)
    y_db, y_q = small.labels[split.database], small.labels[split.queries]
    q_codes, db_codes = refit_codes("lsh", 2, 0, X_db, X_q)
    aps = []
    for i, distances in enumerate(hamming(q_codes, db_codes)):
        draws = np.random.default_rng(np.random.SeedSequence([0, i])).random(len(y_db))
        aps.append(ranking_ap((y_db == y_q[i])[np.lexsort((draws, distances))]))
    assert results["records"][0]["map"] == pytest.approx(np.mean(aps), abs=1e-9)
    assert results["records"][0]["map"] != pytest.approx(expected_map(q_codes, db_codes, y_q, y_db), abs=1e-6)
    assert "ties=random" in capsys.readouterr().out


def test_compare_on_validation_queries(tmp_path, capsys, mnist):
    """--evaluation validation scores 100 queries per class carved from the training set (none of the protocol's
    queries): the results and the table say so, and the mAP equals a refit on that split scored by brute force."""
    out = tmp_path / "validation"
    assert main(["compare", "--dataset", "mnist", "--methods", "lsh", "--k", "4", "--seeds", "1",
                 "--evaluation", "validation", "--output", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["evaluation"] == "validation" and results["config"]["evaluation"] == "validation"
    assert "validation set" in capsys.readouterr().out.splitlines()[0]
    data, protocol = mnist
    split = protocol.split(data.labels, 1)
    validation = protocol.validation_split(data.labels, split)
    assert not set(validation.queries) & set(split.queries) and not set(validation.database) & set(split.queries)
    assert set(validation.queries) | set(validation.database) == set(split.database)
    assert results["split_sizes"] == {"queries": len(validation.queries), "database": len(validation.database)} \
        == {"queries": 1000, "database": 68000}
    X_db, X_q = data.features(validation.database), data.features(validation.queries)
    expected = expected_map(*refit_codes("lsh", 4, 1, X_db, X_q), data.labels[validation.queries],
                               data.labels[validation.database])
    assert results["records"][0]["map"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("args,match", [
    (["--dataset", "svhn"], "dataset='svhn' is not known"),
    (["--methods", "biohash2"], "method='biohash2' is not known"),
    (["--set", "flyhash.m"], "--set 'flyhash.m' is not of the form METHOD.PARAM=VALUE"),
    (["--set", "m=500"], "--set 'm=500' is not of the form METHOD.PARAM=VALUE"),
    (["--set", "flyhash.=3"], "is not of the form METHOD.PARAM=VALUE"),
    (["--k", "0"], "k=0 is too small"),
    (["--k", "2", "-1"], "k=-1 is too small"),
    (["--seeds", "-1"], "seed=-1 is too small"),
])
def test_compare_errors_exit_2_with_one_line(args, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compare", "--k", "2", "--seeds", "0", *args, "--output", str(tmp_path / "o"), "--quiet"])
    assert info.value.code == 2
    captured = capsys.readouterr()
    err_lines = captured.err.strip().splitlines()
    assert len(err_lines) == 1, captured.err
    assert err_lines[0].startswith("flymodel: error: ")
    assert match in err_lines[0]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["compare", "--k", "two"], ["compare", "--ties", "first"]])
def test_argparse_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("argv,expected", [
    (["--help"], ["compare", "reproduce", "data", "flymodel compare --dataset mnist"]),
    (["compare", "--help"], ["--dataset", "--methods", "--k", "--seeds", "--ties", "--evaluation", "--device",
                             "--set", "--output", "--quiet", "flyhash", "lsh"]),
    (["data", "--help"], ["sha256"]),
])
def test_help_exits_zero(argv, expected, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: flymodel")
    for word in expected:
        assert word in text, word


def test_data_command(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "data directories searched" in out
    assert "PROBLEM" not in out
    assert "mnist.npz" in out


def _console_script() -> str:
    candidate = Path(sys.executable).parent / "flymodel"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("flymodel")
    if found is None:
        pytest.fail("the flymodel console script is not installed (not beside the interpreter nor on PATH)")
    return found


def test_console_script_entry_point():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([_console_script(), "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: flymodel")
    assert "compare" in proc.stdout and "data" in proc.stdout


@pytest.mark.parametrize("setting, match", [("flyhash.bogus=1", "flyhash parameter='bogus'"), ("flyhash.k=3", "set per run")])
def test_bad_method_parameter_fails_before_any_work(setting, match, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--methods", "lsh", "flyhash", "--k", "2", "--seeds", "0", "--set", setting,
              "--output", str(tmp_path / "out"), "--quiet"])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
