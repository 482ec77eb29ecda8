"""The documentation's generated parts follow the code: the circuit-file reference is read from the schema (a changed
default changes the page), the API reference covers each public module's ``__all__`` with a runnable example per
class and function, and every public docstring passes numpydoc's checks."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import flymodel_docs  # noqa: E402
from flymodel.circuit import spec as circuit_spec  # noqa: E402

SPEC_SOURCE = Path(circuit_spec.__file__).read_text(encoding="utf-8")


def spec_module_from(source: str) -> types.ModuleType:
    """A circuit-spec module built from (edited) source text, as flymodel.circuit.spec is built from its file."""
    module = types.ModuleType("edited_circuit_spec")
    module.__file__ = circuit_spec.__file__
    sys.modules[module.__name__] = module  # dataclasses and inspect look the module up by name
    try:
        exec(compile(source, circuit_spec.__file__, "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    module.__dict__["__source__"] = source
    return module


def reference_of(source: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The circuit reference page generated from that source."""
    module = spec_module_from(source)
    monkeypatch.setattr(inspect, "getsource", _source_within(source, inspect.getsource))
    return flymodel_docs.circuit_reference(module)


def _source_within(source: str, original):
    """inspect.getsource for objects of the edited module: their text is taken from the edited source."""
    def getsource(obj):
        if isinstance(obj, types.ModuleType) and obj.__name__ == "edited_circuit_spec":
            return source
        if isinstance(obj, type) and obj.__module__ == "edited_circuit_spec":
            lines = source.splitlines(keepends=True)
            start = next(i for i, line in enumerate(lines) if line.startswith(f"class {obj.__name__}"))
            end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i][0].isspace()
                        and not lines[i].startswith(")")), len(lines))
            return "".join(lines[start:end])
        return original(obj)
    return getsource


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


def test_changing_a_default_changes_the_page(monkeypatch):
    edited = SPEC_SOURCE.replace("    fan_in: int = 6  #", "    fan_in: int = 7  #", 1)
    assert edited != SPEC_SOURCE
    before, after = reference_of(SPEC_SOURCE, monkeypatch), reference_of(edited, monkeypatch)
    assert before == flymodel_docs.circuit_reference(circuit_spec)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == [(_row(before, "kc", "fan_in"), _row(before, "kc", "fan_in").replace("| `6` |", "| `7` |"))]


def test_changing_a_range_or_a_comment_changes_the_page(monkeypatch):
    before = reference_of(SPEC_SOURCE, monkeypatch)
    ranged = SPEC_SOURCE.replace('need(kc.n >= 2, "[kc] n", kc.n, "an integer >= 2")',
                                 'need(kc.n >= 3, "[kc] n", kc.n, "an integer >= 3")', 1)
    commented = SPEC_SOURCE.replace("# spike threshold above rest", "# spike threshold above the resting potential", 1)
    assert ranged != SPEC_SOURCE and commented != SPEC_SOURCE
    assert "an integer >= 3" in _row(reference_of(ranged, monkeypatch), "kc", "n")
    assert _row(reference_of(commented, monkeypatch), "kc", "threshold_mv").endswith(
        "| spike threshold above the resting potential |")
    assert "an integer >= 2" in _row(before, "kc", "n")


def test_a_check_of_a_key_outside_the_schema_is_refused(monkeypatch):
    stray = SPEC_SOURCE.replace('"[kc] tau_m_ms", kc.tau_m_ms', '"[kc] tau_membrane_ms", kc.tau_m_ms', 1)
    with pytest.raises(ValueError, match="tau_membrane_ms"):
        reference_of(stray, monkeypatch)


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
