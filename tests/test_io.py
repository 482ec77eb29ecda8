"""Tests for flymodel.io: atomic JSON writes, numpy conversion and the environment record."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import stat
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from flymodel.io import atomic_path, environment_info, package_versions, read_json, write_json


def test_write_and_read_json(tmp_path):
    data = {"a": 1, "b": [1.5, "x", None], "c": {"d": True}}
    path = write_json(tmp_path / "out.json", data)
    assert path == tmp_path / "out.json"
    assert read_json(path) == data
    assert path.read_text().endswith("\n")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_json_creates_parent_folders(tmp_path):
    path = tmp_path / "a" / "b" / "out.json"
    write_json(str(path), {"x": 1})
    assert read_json(path) == {"x": 1}


def test_numpy_values_are_written(tmp_path):
    data = {
        "f32": np.float32(1.5), "f64": np.float64(0.25), "i64": np.int64(7), "u8": np.uint8(255), "b": np.bool_(True),
        "vec": np.arange(3), "mat": np.array([[0.5, 1.0], [2.0, 3.0]], dtype=np.float32),
        "bools": np.array([True, False]), "path": Path("some/where"),
    }
    read = read_json(write_json(tmp_path / "np.json", data))
    assert read == {"f32": 1.5, "f64": 0.25, "i64": 7, "u8": 255, "b": True, "vec": [0, 1, 2],
                    "mat": [[0.5, 1.0], [2.0, 3.0]], "bools": [True, False], "path": str(Path("some/where"))}
    assert type(read["i64"]) is int and type(read["b"]) is bool


def test_failing_serialisation_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="cannot write object to JSON"):
        write_json(tmp_path / "out.json", {"ok": 1, "bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_failing_serialisation_keeps_existing_target(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    before = target.read_bytes()
    with pytest.raises(TypeError):
        write_json(target, {"version": 2, "bad": {1, 2}})
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_path_replaces_on_success_and_cleans_up_on_error(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"  # not replaced until the block ends
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_written_file_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "out.json", {"x": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_environment_info():
    info = environment_info()
    when = dt.datetime.fromisoformat(info["date"])
    assert when.tzinfo is not None
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 3600
    assert info["python"] == platform.python_version()
    versions = info["versions"]
    for name in ("flymodel", "numpy", "scipy", "torch", "matplotlib", "brian2"):
        assert name in versions
    assert versions["numpy"] == metadata.version("numpy")
    assert versions["torch"] == metadata.version("torch")
    assert versions["flymodel"] == metadata.version("flymodel")
    assert info["cpu_count"] == os.cpu_count()
    json.dumps(info)  # JSON-ready as it is


def test_package_versions_marks_missing():
    versions = package_versions(("numpy", "surely-not-a-package-xyz"))
    assert versions == {"numpy": np.__version__, "surely-not-a-package-xyz": "not installed"}
