"""Tests for the `flymodel` command line: compare end to end on MNIST (kept cheap), errors, help and entry point."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flymodel.cli import main

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


def test_compare_records(compare_run):
    _, _, _, results = compare_run
    records = results["records"]
    assert len(records) == 4
    assert {(r["method"], r["k"], r["seed"]) for r in records} == {(m, k, 0) for m in ("lsh", "flyhash") for k in (2, 4)}
    for r in records:
        assert 0.0 <= r["map"] <= 1.0
        assert 0.0 <= r["precision"] <= 1.0
        if r["method"] == "flyhash":
            assert r["code_bits"] == 500 and r["params"]["m"] == 500
        else:
            assert r["code_bits"] == r["k"]
    # both hashers beat chance (about 10 % for ten balanced classes) on MNIST
    assert all(r["map"] > 0.1 for r in records)
    summary = results["summary"]
    assert set(summary) == {"lsh", "flyhash"}
    for per_k in summary.values():
        assert set(per_k) == {"2", "4"}
        for s in per_k.values():
            assert s["n"] == 1 and s["std"] == 0.0 and 0.0 <= s["mean"] <= 100.0


def test_compare_prints_table(compare_run):
    _, printed, out, _ = compare_run
    lines = printed.splitlines()
    assert lines[0].startswith("mAP@All (%)")
    assert "k=2" in lines[1] and "k=4" in lines[1]
    assert any(line.startswith("lsh") for line in lines)
    assert any(line.startswith("flyhash") for line in lines)
    assert str(out / "results.json") in printed


def test_compare_random_ties(tmp_path, capsys):
    out = tmp_path / "random"
    status = main(["compare", "--dataset", "mnist", "--methods", "lsh", "--k", "2", "--seeds", "0", "--ties", "random",
                   "--output", str(out), "--quiet"])
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    assert results["tie_policy"] == "random"
    assert len(results["records"]) == 1
    assert 0.0 <= results["records"][0]["map"] <= 1.0
    assert "ties=random" in capsys.readouterr().out


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
