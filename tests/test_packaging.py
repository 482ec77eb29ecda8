"""Tests that the package metadata agrees with itself: pyproject.toml, environment.yml and the installed entry point."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _norm(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


@pytest.fixture(scope="module")
def env_pip(environment) -> list[str]:
    pips = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(pips) == 1, "environment.yml should have exactly one pip: section"
    return pips[0]


@pytest.fixture(scope="module")
def env_conda(environment) -> list[str]:
    return [item for item in environment["dependencies"] if isinstance(item, str)]


def test_environment_yml_shape(environment, env_conda):
    assert environment["name"] == "flymodel"
    assert "conda-forge" in environment["channels"]
    assert "pip" in env_conda


def test_pip_list_is_the_dependencies_plus_the_test_and_docs_extras(pyproject, env_pip):
    deps = {_norm(r) for r in pyproject["project"]["dependencies"]}
    extras = pyproject["project"]["optional-dependencies"]
    test_extra = {_norm(r) for r in extras["test"] + extras["docs"]}
    pip = [_norm(r) for r in env_pip]
    assert len(pip) == len(set(pip)), "duplicate entries in environment.yml's pip list"
    # every runtime dependency is pinned identically in both files, and nothing else runtime is in environment.yml
    assert set(pip) - test_extra == deps
    assert deps <= set(pip)
    assert test_extra <= set(pip)


def test_requirements_parse(pyproject, env_pip):
    for req in [*pyproject["project"]["dependencies"], *env_pip]:
        Requirement(req)  # raises InvalidRequirement on a malformed string


def test_python_version_satisfies_requires_python(pyproject, env_conda):
    pythons = [item for item in env_conda if re.match(r"python\s*[=<>!]", item) or item == "python"]
    assert len(pythons) == 1, env_conda
    match = re.fullmatch(r"python\s*=+\s*([0-9][0-9.]*)\*?", pythons[0])
    assert match, f"python is not pinned to a version in environment.yml: {pythons[0]!r}"
    assert match.group(1) in SpecifierSet(pyproject["project"]["requires-python"])


def test_console_script(pyproject):
    assert pyproject["project"]["scripts"]["flymodel"] == "flymodel.cli:main"
    module_name, _, attr = pyproject["project"]["scripts"]["flymodel"].partition(":")
    assert callable(getattr(importlib.import_module(module_name), attr))


def test_installed_entry_point_matches(pyproject):
    eps = metadata.entry_points(group="console_scripts", name="flymodel")
    assert [ep.value for ep in eps] == [pyproject["project"]["scripts"]["flymodel"]]


def test_installed_version_matches(pyproject):
    import flymodel

    assert flymodel.__version__ == metadata.version("flymodel") == pyproject["project"]["version"]


def test_python_dash_m_flymodel_is_the_command_line():
    """`python -m flymodel` runs the same parser as the `flymodel` console script."""
    done = subprocess.run([sys.executable, "-m", "flymodel", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("usage: flymodel")
    listed = subprocess.run([sys.executable, "-m", "flymodel", "analyze", "--list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and "inhibition" in listed.stdout
