"""The documentation's generated parts follow the code: the circuit-file reference is read from the schema (a changed
default changes the page), the API reference covers each public module's ``__all__`` with a runnable example per
class and function, and every public docstring passes numpydoc's checks."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import flymodel_docs  # noqa: E402
from flymodel.circuit import spec as circuit_spec  # noqa: E402

SPEC_SOURCE = Path(circuit_spec.__file__).read_text(encoding="utf-8")


def reference_of(source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The circuit reference page generated from (edited) schema source, imported from a file as the real one is."""
    name = f"edited_circuit_spec_{len(list(tmp_path.glob('*.py')))}"  # a new file per source: no stale linecache
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses and inspect look the module up by name
    module.__spec__.loader.exec_module(module)
    return flymodel_docs.circuit_reference(module)


def _row(page: str, section: str, key: str) -> str:
    body = page.split(f"## `[{section}]`", 1)[1].split("\n## ", 1)[0]
    return next(line for line in body.splitlines() if line.startswith(f"| `{key}` |"))


def test_the_reference_lists_every_key_with_type_default_range_and_comment():
    page = flymodel_docs.circuit_reference(circuit_spec)
    for section, klass in circuit_spec.SECTIONS.items():
        for field in __import__("dataclasses").fields(klass):
            assert f"| `{field.name}` | `{field.type}` |" in _row(page, section, field.name)
    assert _row(page, "kc", "fan_in") == ("| `fan_in` | `int` | `6` | an integer in [1, inputs.n] (the number of PNs) "
                                          "(when `kc.wiring == 'sparse'`) | PNs per KC (claws) for sparse wiring |")
    assert "one of uniform, connectome" in _row(page, "apl", "weights")


def test_changing_a_default_changes_the_page(tmp_path, monkeypatch):
    edited = SPEC_SOURCE.replace("    fan_in: int = 6  #", "    fan_in: int = 7  #", 1)
    assert edited != SPEC_SOURCE
    before, after = reference_of(SPEC_SOURCE, tmp_path, monkeypatch), reference_of(edited, tmp_path, monkeypatch)
    assert before == flymodel_docs.circuit_reference(circuit_spec)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [(_row(before, "kc", "fan_in"), _row(before, "kc", "fan_in").replace("| `6` |", "| `7` |"))]


def test_changing_a_range_or_a_comment_changes_the_page(tmp_path, monkeypatch):
    before = reference_of(SPEC_SOURCE, tmp_path, monkeypatch)
    ranged = SPEC_SOURCE.replace('need(kc.n >= 2, "[kc] n", kc.n, "an integer >= 2")',
                                 'need(kc.n >= 3, "[kc] n", kc.n, "an integer >= 3")', 1)
    commented = SPEC_SOURCE.replace("# spike threshold above rest", "# spike threshold above the resting potential", 1)
    assert ranged != SPEC_SOURCE and commented != SPEC_SOURCE
    assert "an integer >= 3" in _row(reference_of(ranged, tmp_path, monkeypatch), "kc", "n")
    assert _row(reference_of(commented, tmp_path, monkeypatch), "kc", "threshold_mv").endswith(
        "| spike threshold above the resting potential |")
    assert "an integer >= 2" in _row(before, "kc", "n")


def test_a_check_of_a_key_outside_the_schema_is_refused(tmp_path, monkeypatch):
    stray = SPEC_SOURCE.replace('"[kc] tau_m_ms", kc.tau_m_ms', '"[kc] tau_membrane_ms", kc.tau_m_ms', 1)
    with pytest.raises(ValueError, match="tau_membrane_ms"):
        reference_of(stray, tmp_path, monkeypatch)


def test_every_api_module_declares_its_public_names():
    missing = [name for name, _ in flymodel_docs.API_MODULES if not hasattr(importlib.import_module(name), "__all__")]
    assert not missing, f"no __all__ in {missing}: an API page documents exactly its module's __all__"


def _api_objects():
    for module_name, _ in flymodel_docs.API_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj


API_OBJECTS = list(_api_objects())


def test_the_api_reference_covers_the_hashers_the_index_and_the_circuit():
    names = {name.rsplit(".", 1)[1] for name, _ in API_OBJECTS}
    assert {"BioHash", "FlyHash", "HammingIndex", "CircuitSpec", "RateCircuit", "SpikingCircuit", "run_study",
            "mean_average_precision", "load_hemibrain"} <= names


@pytest.mark.parametrize("name, obj", API_OBJECTS, ids=[name for name, _ in API_OBJECTS])
def test_every_api_object_has_a_runnable_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc and ">>> " in doc.split("\nExamples\n--------\n", 1)[1], \
        f"{name}: its docstring has no Examples section with a doctest (pytest --doctest-modules runs it)"


def test_every_public_docstring_passes_numpydoc_lint():
    files = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "flymodel").rglob("*.py"))
    done = subprocess.run([sys.executable, "-m", "numpydoc", "lint", *files], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"numpydoc lint (configured in pyproject.toml):\n{done.stdout[-6000:]}{done.stderr[-2000:]}"
