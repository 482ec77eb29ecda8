"""Tests for flymodel.circuit.spec: the shipped circuit files, inheritance, replace() and errors naming file and key."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from flymodel.circuit.spec import (
    CIRCUITS_DIR,
    SECTIONS,
    APLSpec,
    CircuitSpec,
    CircuitSpecError,
    InputSpec,
    KCSpec,
    SimulationSpec,
    available_circuits,
    load_circuit,
)

SHIPPED = ["drosophila_mb", "drosophila_mb_apl_knockdown", "mnist_kc"]


def write(folder, name, text):
    """Write a small circuit file and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path, key):
    """Load path, expecting a CircuitSpecError whose message names the file and the key; return the message."""
    with pytest.raises(CircuitSpecError, match=re.escape(key)) as info:
        load_circuit(path)
    message = str(info.value)
    assert str(path) in message
    return message


# --- the shipped circuits ---------------------------------------------------------------------------------------


def test_available_circuits_lists_the_shipped_files():
    assert set(SHIPPED) <= set(available_circuits())
    assert available_circuits() == sorted(available_circuits())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_circuits_load(name):
    spec = load_circuit(name)
    assert isinstance(spec, CircuitSpec)
    assert spec.name == name
    assert spec.source == str(CIRCUITS_DIR / f"{name}.toml")
    assert spec.description


def test_drosophila_mb_values():
    spec = load_circuit("drosophila_mb")
    assert spec.inputs.n == 24
    assert spec.inputs.source == "hallem_carlson"
    assert spec.kc.n == 2000
    assert spec.kc.fan_in == 6
    assert spec.kc.wiring == "sparse"
    assert spec.apl.gain_mv == 0.3
    assert spec.simulation.min_spikes == 8


def test_mnist_kc_values():
    spec = load_circuit("mnist_kc")
    assert (spec.inputs.source, spec.inputs.n, spec.kc.n, spec.kc.wiring) == ("mnist", 784, 320, "dense")
    assert spec.plasticity.enabled is True


def test_knockdown_inherits_everything_but_the_apl_gain():
    base = load_circuit("drosophila_mb")
    knockdown = load_circuit("drosophila_mb_apl_knockdown")
    assert knockdown.name == "drosophila_mb_apl_knockdown"
    assert knockdown.apl.gain_mv == 0.0
    assert base.apl.gain_mv > 0
    for section in SECTIONS:
        for f in dataclasses.fields(SECTIONS[section]):
            if (section, f.name) == ("apl", "gain_mv"):
                continue
            assert getattr(getattr(knockdown, section), f.name) == getattr(getattr(base, section), f.name), \
                f"{section}.{f.name}"


def test_knockdown_equals_replace_on_the_base():
    knockdown = load_circuit("drosophila_mb_apl_knockdown")
    replaced = load_circuit("drosophila_mb").replace(**{"apl.gain_mv": 0.0})
    for section in SECTIONS:
        assert getattr(knockdown, section) == getattr(replaced, section)


def test_load_by_path_and_by_name_agree():
    by_name = load_circuit("drosophila_mb")
    path = CIRCUITS_DIR / "drosophila_mb.toml"
    assert load_circuit(path) == by_name
    assert load_circuit(str(path)) == by_name


def test_load_a_copy_from_another_folder(tmp_path):
    path = write(tmp_path, "copy.toml", (CIRCUITS_DIR / "drosophila_mb.toml").read_text())
    spec = load_circuit(path)
    assert spec.source == str(path)
    assert spec.to_dict() | {"source": ""} == load_circuit("drosophila_mb").to_dict() | {"source": ""}


@pytest.mark.parametrize("name", SHIPPED)
def test_to_dict_round_trips_through_json(name):
    spec = load_circuit(name)
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"name", "description", "source", *SECTIONS}
    assert CircuitSpec.from_dict(data) == spec


def test_defaults_construct_a_valid_spec():
    spec = CircuitSpec(name="t", inputs=InputSpec(n=24), kc=KCSpec(n=300), simulation=SimulationSpec(presentation_ms=100.0))
    assert spec.source == "<code>"
    assert spec.apl == APLSpec()


# --- errors: unreadable files ------------------------------------------------------------------------------------


def test_missing_file_lists_shipped_circuits(tmp_path):
    path = tmp_path / "absent.toml"
    message = load_error(path, "does not exist")
    for name in SHIPPED:
        assert name in message


def test_missing_bare_name_is_looked_up_in_circuits_folder():
    with pytest.raises(CircuitSpecError, match="no_such_circuit.toml does not exist") as info:
        load_circuit("no_such_circuit")
    assert "drosophila_mb" in str(info.value)


def test_invalid_toml(tmp_path):
    path = write(tmp_path, "bad.toml", "[kc\nn = 3\n")
    load_error(path, "not valid TOML")


def test_circuit_spec_error_is_a_value_error():
    assert issubclass(CircuitSpecError, ValueError)


# --- errors: unknown sections and keys ---------------------------------------------------------------------------


def test_unknown_section(tmp_path):
    path = write(tmp_path, "c.toml", "[neurons]\nn = 3\n")
    message = load_error(path, "'neurons'")
    assert "[kc]" in message and "[apl]" in message


def test_unknown_top_level_value(tmp_path):
    path = write(tmp_path, "c.toml", "gain = 3\n")
    load_error(path, "'gain'")


def test_unknown_key_in_section_lists_expected_keys(tmp_path):
    path = write(tmp_path, "c.toml", "[kc]\nfanin = 6\n")
    message = load_error(path, "[kc] has unknown key 'fanin'")
    assert "expected keys: n, wiring, fan_in" in message


def test_section_given_as_plain_value(tmp_path):
    path = write(tmp_path, "c.toml", "kc = 3\n")
    load_error(path, "'kc' must be a table")


def test_name_must_be_a_string(tmp_path):
    path = write(tmp_path, "c.toml", "name = 3\n")
    load_error(path, "name must be a string")


# --- errors: wrong types -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    ('[kc]\nthreshold_mv = "ten"\n', "[kc] threshold_mv = 'ten'"),  # string for a float
    ('[inputs]\nn = "24"\n', "[inputs] n = '24'"),  # string for an int
    ("[kc]\nn = true\n", "[kc] n = True"),  # bool for an int
    ("[kc]\nn = 2000.0\n", "[kc] n = 2000.0"),  # float for an int
    ("[apl]\ngain_mv = true\n", "[apl] gain_mv = True"),  # bool for a float
    ("[apl]\ngain_mv = nan\n", "[apl] gain_mv = nan"),  # non-finite float
    ("[plasticity]\nenabled = 1\n", "[plasticity] enabled = 1"),  # int for a bool
    ("[kc]\nwiring = 3\n", "[kc] wiring = 3"),  # int for a string
])
def test_wrong_type(tmp_path, text, key):
    path = write(tmp_path, "c.toml", text)
    message = load_error(path, key)
    assert "expected " in message


def test_int_is_accepted_for_a_float(tmp_path):
    spec = load_circuit(write(tmp_path, "c.toml", "[apl]\ngain_mv = 2\n"))
    assert spec.apl.gain_mv == 2.0 and type(spec.apl.gain_mv) is float


# --- errors: out of range ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    ("[kc]\nn = 1\n", "[kc] n = 1"),
    ("[kc]\nfan_in = 25\n", "[kc] fan_in = 25"),  # more claws than the 24 default PNs
    ("[inputs]\nn = 4\n", "[kc] fan_in = 6"),  # the default fan_in no longer fits
    ("[kc]\nfan_in = 0\n", "[kc] fan_in = 0"),
    ("[apl]\ngain_mv = -0.1\n", "[apl] gain_mv = -0.1"),
    ("[kc]\nreset_mv = 10.0\n", "[kc] reset_mv = 10.0"),  # equal to the threshold
    ("[kc]\nthreshold_mv = 5.0\nreset_mv = 6.0\n", "[kc] reset_mv = 6.0"),
    ("[simulation]\ndt_ms = 0.5\npresentation_ms = 4.5\n", "[simulation] presentation_ms = 4.5"),
    ('[inputs]\nsource = "cifar"\n', "[inputs] source = 'cifar'"),
    ('[kc]\nwiring = "random"\n', "[kc] wiring = 'random'"),
    ("[inputs]\nn = 0\n", "[inputs] n = 0"),
    ("[simulation]\nseed = -1\n", "[simulation] seed = -1"),
])
def test_out_of_range(tmp_path, text, key):
    path = write(tmp_path, "c.toml", text)
    load_error(path, key)


def test_presentation_of_exactly_ten_steps_is_accepted(tmp_path):
    spec = load_circuit(write(tmp_path, "c.toml", "[simulation]\ndt_ms = 0.5\npresentation_ms = 5.0\n"))
    assert spec.simulation.presentation_ms == 5.0


def test_allowed_values_are_listed(tmp_path):
    message = load_error(write(tmp_path, "c.toml", '[kc]\nwiring = "random"\n'), "[kc] wiring")
    assert "sparse" in message and "dense" in message


# --- inheritance -------------------------------------------------------------------------------------------------


def test_inheritance_merges_key_by_key(tmp_path):
    write(tmp_path, "parent.toml", 'name = "parent"\n[kc]\nn = 500\nfan_in = 4\n[apl]\ngain_mv = 2.0\n')
    child = load_circuit(write(tmp_path, "child.toml", 'inherits = "parent.toml"\n[kc]\nn = 100\n'))
    assert child.kc.n == 100
    assert child.kc.fan_in == 4
    assert child.apl.gain_mv == 2.0
    assert child.name == "child"  # the parent's name is not inherited
    assert child.source == str(tmp_path / "child.toml")


def test_inherits_a_shipped_circuit_by_absolute_path(tmp_path):
    parent = CIRCUITS_DIR / "drosophila_mb.toml"
    child = load_circuit(write(tmp_path, "small.toml", f'inherits = "{parent.as_posix()}"\n[kc]\nn = 100\n'))
    base = load_circuit("drosophila_mb")
    assert child.kc.n == 100
    assert child.kc == dataclasses.replace(base.kc, n=100)
    assert (child.inputs, child.apl, child.simulation) == (base.inputs, base.apl, base.simulation)
    assert child.description == ""  # nor its description


def test_inheritance_is_transitive(tmp_path):
    write(tmp_path, "a.toml", "[kc]\nn = 500\nfan_in = 4\n")
    write(tmp_path, "b.toml", 'inherits = "a.toml"\n[kc]\nn = 400\n')
    c = load_circuit(write(tmp_path, "c.toml", 'inherits = "b.toml"\n[apl]\ngain_mv = 0.0\n'))
    assert (c.kc.n, c.kc.fan_in, c.apl.gain_mv) == (400, 4, 0.0)


def test_inherits_cycle(tmp_path):
    a = write(tmp_path, "a.toml", 'inherits = "b.toml"\n')
    write(tmp_path, "b.toml", 'inherits = "a.toml"\n')
    message = load_error(a, "'inherits' forms a cycle")
    assert "b.toml" in message


def test_inherits_itself(tmp_path):
    path = write(tmp_path, "a.toml", 'inherits = "a.toml"\n')
    load_error(path, "'inherits' forms a cycle")


def test_inherits_missing_file(tmp_path):
    write(tmp_path, "child.toml", 'inherits = "absent.toml"\n')
    with pytest.raises(CircuitSpecError, match="does not exist") as info:
        load_circuit(tmp_path / "child.toml")
    assert str(tmp_path / "absent.toml") in str(info.value)


def test_inherits_missing_file_names_the_inheriting_file(tmp_path):
    child = write(tmp_path, "child.toml", 'inherits = "absent.toml"\n')
    load_error(child, "inherits")


@pytest.mark.parametrize("value", ["3", "true", '["a.toml"]'])
def test_inherits_must_be_a_string(tmp_path, value):
    path = write(tmp_path, "c.toml", f"inherits = {value}\n")
    load_error(path, "'inherits' must be a file name")


def test_section_replaced_by_plain_value_in_child(tmp_path):
    write(tmp_path, "parent.toml", "[kc]\nn = 500\n")
    path = write(tmp_path, "child.toml", 'inherits = "parent.toml"\nkc = 3\n')
    load_error(path, "'kc' must be a table")


# --- replace -----------------------------------------------------------------------------------------------------


def test_replace_returns_a_validated_copy():
    spec = load_circuit("drosophila_mb")
    changed = spec.replace(**{"apl.gain_mv": 0.0, "kc.n": 100})
    assert (changed.apl.gain_mv, changed.kc.n) == (0.0, 100)
    assert (spec.apl.gain_mv, spec.kc.n) == (0.3, 2000)
    assert changed.kc == dataclasses.replace(spec.kc, n=100)
    assert (changed.name, changed.source, changed.inputs) == (spec.name, spec.source, spec.inputs)


def test_replace_coerces_an_int_to_float():
    changed = load_circuit("drosophila_mb").replace(**{"apl.gain_mv": 1})
    assert type(changed.apl.gain_mv) is float


def test_replace_name():
    assert load_circuit("drosophila_mb").replace(name="other").name == "other"


def test_spec_is_frozen():
    spec = load_circuit("drosophila_mb")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.apl.gain_mv = 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "x"


@pytest.mark.parametrize("key, match", [
    ("apl.gain", "unknown key 'apl.gain'"),
    ("neurons.n", "unknown key 'neurons.n'"),
    ("seed", "cannot change 'seed'"),
])
def test_replace_unknown_key(key, match):
    spec = load_circuit("drosophila_mb")
    with pytest.raises(CircuitSpecError, match=re.escape(match)) as info:
        spec.replace(**{key: 1})
    assert spec.source in str(info.value)


@pytest.mark.parametrize("key, value, match", [
    ("apl.gain_mv", -1.0, "[apl] gain_mv = -1.0"),
    ("kc.n", 1, "[kc] n = 1"),
    ("kc.fan_in", 25, "[kc] fan_in = 25"),
    ("kc.n", 2.5, "[kc] n = 2.5"),
    ("kc.wiring", "random", "[kc] wiring = 'random'"),
])
def test_replace_invalid_value(key, value, match):
    spec = load_circuit("drosophila_mb")
    with pytest.raises(CircuitSpecError, match=re.escape(match)) as info:
        spec.replace(**{key: value})
    assert spec.source in str(info.value)
