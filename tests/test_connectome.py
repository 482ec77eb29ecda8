"""The hemibrain loader (the counts of shared/data/README.md, the synapse threshold, KC→APL counts, its errors) and the
wirings drawn from it: the connectome itself and its degree-preserving, KC-degree and uniform shuffles."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from flymodel.circuit.glomeruli import door_name, glomerulus_odours
from flymodel.circuit.spec import CircuitSpecError, load_circuit
from flymodel.circuit.stimuli import odour_stimuli
from flymodel.circuit.wiring import apl_weights, degree_preserving_shuffle, random_wiring, seeded_generator
from flymodel.data import DataFileError, load_hallem_carlson, load_hemibrain
from flymodel.data.connectome import KC_APL_FILE, PN_KC_FILE
from flymodel.data.files import data_path
from flymodel.io import read_json
from flymodel.spiking import SpikingCircuit


@pytest.fixture(scope="module")
def hemibrain():
    return load_hemibrain()


def test_counts_match_the_data_readme(hemibrain):
    """119 PNs of 60 glomerulus labels (61 PN types), 1,776 KCs, 175,274 synapses, 6.15 glomeruli per KC (median 6)."""
    assert hemibrain.pn_synapses.shape == (1776, 119) and len(hemibrain.glomeruli) == 60
    assert len(set(hemibrain.pn_types)) == 61 and int(hemibrain.pn_synapses.sum()) == 175_274
    assert int(hemibrain.glomerulus_synapses.sum()) == 175_274
    per_kc = hemibrain.glomeruli_per_kc
    assert round(float(per_kc.mean()), 2) == 6.15 and np.median(per_kc) == 6
    types = dict(zip(*np.unique(hemibrain.kc_types, return_counts=True)))
    assert types["KCg-m"] == 590 and types["KCab-m"] == 352 and types["KCab-p"] == 9 and types["KCg-s4"] == 1


def test_glomerulus_matrix_sums_the_pns_of_each_glomerulus(hemibrain):
    for g, name in enumerate(hemibrain.glomeruli):
        columns = [i for i, pn in enumerate(hemibrain.pn_glomeruli) if pn == name]
        np.testing.assert_array_equal(hemibrain.glomerulus_synapses[:, g], hemibrain.pn_synapses[:, columns].sum(axis=1))


def test_min_synapses_drops_weaker_pairs():
    """≥ 3 synapses: 5.44 glomeruli per KC over the KCs that keep an input (median 5), as the data README gives."""
    strong = load_hemibrain(min_synapses=3)
    per_kc = strong.glomeruli_per_kc
    assert round(float(per_kc[per_kc > 0].mean()), 2) == 5.44 and np.median(per_kc[per_kc > 0]) == 5
    assert strong.pn_synapses.shape == (1776, 119) and strong.pn_synapses[(strong.pn_synapses > 0)].min() == 3
    assert (per_kc == 0).sum() == 22


def test_kc_to_apl_counts(hemibrain):
    """Every KC of the PN→KC table has KC→APL synapses; the calyx holds a part of them."""
    assert (hemibrain.apl_synapses > 0).all()
    assert (hemibrain.apl_calyx_synapses <= hemibrain.apl_synapses).all() and 0 < hemibrain.apl_calyx_synapses.sum()
    assert int(hemibrain.apl_synapses.sum()) == 94_044  # of 101,457 over all 1,919 KCs of the APL table


def test_kc_subsets_by_type_or_class(hemibrain):
    assert hemibrain.kc_subset(["KCg-m"]).sum() == 590
    assert hemibrain.kc_subset(["KCab"]).sum() == 352 + 225 + 222 + 9
    with pytest.raises(ValueError, match=r"kc_types entry 'KCx' matches no hemibrain KC; expected a type or prefix"):
        hemibrain.kc_subset(["KCx"])


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_min_synapses_below_one_is_refused(value):
    with pytest.raises(ValueError, match=r"min_synapses=.*expected an integer >= 1"):
        load_hemibrain(min_synapses=value)


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(DataFileError, match=f"{PN_KC_FILE} not found"):
        load_hemibrain(root=tmp_path)
    for name in (PN_KC_FILE, KC_APL_FILE):
        shutil.copy(data_path(name), tmp_path / name)
    with open(tmp_path / KC_APL_FILE, "a") as fh:
        fh.write("1,KCg-m,2,CA(R),3\n")
    with pytest.raises(DataFileError, match=f"{KC_APL_FILE} fails its checksum"):
        load_hemibrain(root=tmp_path)


# --- wirings from the connectome and its nulls -------------------------------------------------------------------

CONNECTOME = {"inputs.n": 60, "inputs.channels": "glomeruli", "kc.n": 1776, "kc.wiring": "connectome"}


def connectome_spec(**changes):
    return load_circuit("drosophila_mb").replace(**{**CONNECTOME, **changes})


@pytest.fixture(scope="module")
def data_wiring():
    return random_wiring(connectome_spec())


def test_connectome_wiring_is_the_glomerulus_matrix(hemibrain, data_wiring):
    synapses = hemibrain.glomerulus_synapses
    np.testing.assert_allclose(data_wiring, synapses / synapses[synapses > 0].mean())
    binary = random_wiring(connectome_spec(**{"kc.weights": "binary"}))
    np.testing.assert_array_equal(binary, (synapses > 0).astype(float))
    gamma = random_wiring(connectome_spec(**{"kc.kc_types": ["KCg"], "kc.n": 632, "kc.weights": "binary"}))
    np.testing.assert_array_equal(gamma, binary[hemibrain.kc_subset(["KCg"])])


def shuffled(null, seed=0):
    return random_wiring(connectome_spec(**{"kc.wiring": "shuffled", "kc.null": null, "kc.shuffle_seed": seed}))


def test_degree_preserving_shuffle_keeps_both_margins_and_moves_weights_with_edges(data_wiring):
    s = shuffled("degree_preserving")
    np.testing.assert_array_equal((s > 0).sum(axis=1), (data_wiring > 0).sum(axis=1))
    np.testing.assert_array_equal((s > 0).sum(axis=0), (data_wiring > 0).sum(axis=0))
    for g in range(60):  # each glomerulus keeps the weights of its edges
        np.testing.assert_array_equal(np.sort(s[:, g][s[:, g] > 0]), np.sort(data_wiring[:, g][data_wiring[:, g] > 0]))


def test_degree_preserving_shuffle_mixes(data_wiring):
    """Run to mixing: a shuffle keeps as few of the data's edges as a second shuffle shares with it (within 1 %)."""
    a, b = shuffled("degree_preserving", 0), shuffled("degree_preserving", 1)
    kept = ((a > 0) & (data_wiring > 0)).sum() / (data_wiring > 0).sum()
    chance = ((a > 0) & (b > 0)).sum() / (a > 0).sum()
    assert abs(kept - chance) < 0.01 and kept < 0.25


@pytest.mark.parametrize("null", ["kc_degree", "uniform"])
def test_kc_degree_and_uniform_nulls_keep_in_degrees_and_weights(null, data_wiring):
    s = shuffled(null)
    np.testing.assert_array_equal((s > 0).sum(axis=1), (data_wiring > 0).sum(axis=1))
    for r in range(0, 1776, 97):
        np.testing.assert_array_equal(np.sort(s[r][s[r] > 0]), np.sort(data_wiring[r][data_wiring[r] > 0]))
    assert not np.array_equal((s > 0).sum(axis=0), (data_wiring > 0).sum(axis=0))


def test_kc_degree_null_follows_glomerulus_frequency_and_uniform_does_not(data_wiring):
    """Over 5 shuffles, partners per glomerulus track the data's under kc_degree (r > 0.95) and not under uniform."""
    frequency = (data_wiring > 0).sum(axis=0)
    for null, low, high in (("kc_degree", 0.95, 1.0), ("uniform", -1.0, 0.5)):
        partners = np.mean([(shuffled(null, seed) > 0).sum(axis=0) for seed in range(5)], axis=0)
        assert low < np.corrcoef(partners, frequency)[0, 1] <= high, null


@pytest.mark.parametrize("null", ["degree_preserving", "kc_degree", "uniform"])
def test_a_seed_reproduces_its_shuffle_and_seeds_differ(null, data_wiring):
    a = shuffled(null, 3)
    np.testing.assert_array_equal(a, shuffled(null, 3))
    assert not np.array_equal(a, shuffled(null, 4)) and not np.array_equal(a, data_wiring)


def test_curveball_on_a_small_matrix_keeps_margins_exactly():
    rng = np.random.default_rng(0)
    m = (rng.random((30, 12)) < 0.3) * rng.integers(1, 9, (30, 12)).astype(float)
    s = degree_preserving_shuffle(m, seeded_generator(0), trades_per_row=50)
    np.testing.assert_array_equal((s > 0).sum(axis=1), (m > 0).sum(axis=1))
    np.testing.assert_array_equal((s > 0).sum(axis=0), (m > 0).sum(axis=0))
    assert not np.array_equal(s, m)


@pytest.mark.parametrize(("changes", "error", "match"), [
    ({"kc.connectome": "flywire"}, CircuitSpecError, r"\[kc\] connectome = 'flywire': expected one of hemibrain"),
    ({"kc.min_synapses": 0}, CircuitSpecError, r"\[kc\] min_synapses = 0: expected an integer >= 1"),
    ({"kc.weights": "counts"}, CircuitSpecError, r"\[kc\] weights = 'counts': expected one of synapses, binary"),
    ({"kc.wiring": "shuffled", "kc.null": "swap"}, CircuitSpecError, r"\[kc\] null = 'swap': expected one of"),
    ({"kc.kc_types": "KCg"}, CircuitSpecError, r"\[kc\] kc_types = 'KCg': expected a list of strings"),
    ({"kc.kc_types": ["KCz"]}, ValueError, r"kc_types entry 'KCz' matches no hemibrain KC"),
    ({"inputs.n": 24}, ValueError, r"\[inputs\] n = 24 PN channels, but the hemibrain connectome's PN channels are its "
                                   r"60 glomeruli; expected n = 60"),
    ({"kc.n": 2000}, ValueError, r"\[kc\] n = 2000, but the hemibrain connectome has 1776 KCs; expected n = 1776"),
])
def test_bad_connectome_settings_are_named(changes, error, match):
    with pytest.raises(error, match=match):
        random_wiring(connectome_spec(**changes))


# --- odours on glomeruli -----------------------------------------------------------------------------------------


def test_hallem_carlson_receptors_drive_their_21_hemibrain_glomeruli(hemibrain):
    odours = glomerulus_odours(hemibrain.glomeruli, "hallem_carlson")
    hallem = load_hallem_carlson()
    assert odours.rates_hz.shape == (110, 60) and odours.origin.count("hallem_carlson") == 21
    assert "VC3" not in hemibrain.glomeruli  # Or35a's glomerulus: split into VC3l and VC3m in the hemibrain
    dm2 = hemibrain.glomeruli.index("DM2")
    np.testing.assert_array_equal(odours.rates_hz[:, dm2], hallem.absolute_rates()[:, hallem.receptors.index("Or22a")])
    rest = [g for g, o in enumerate(odours.origin) if o == "spontaneous"]
    np.testing.assert_array_equal(odours.rates_hz[:, rest], np.mean(hallem.spontaneous_hz))


def test_door_drives_27_more_glomeruli_through_a_linear_fit(hemibrain):
    plain = glomerulus_odours(hemibrain.glomeruli, "hallem_carlson")
    odours = glomerulus_odours(hemibrain.glomeruli, "hallem_carlson+door")
    assert odours.origin.count("door") == 27 and odours.origin.count("spontaneous") == 12
    kept = [g for g, o in enumerate(plain.origin) if o == "hallem_carlson"]
    np.testing.assert_array_equal(odours.rates_hz[:, kept], plain.rates_hz[:, kept])
    fit = odours.door_fit
    assert fit["r"] > 0.9 and 300 < fit["slope"] < 360 and fit["pairs"] > 2000
    dm1 = hemibrain.glomeruli.index("DM1")  # Or42b, not in Hallem & Carlson's 24: DoOR drives it
    assert odours.origin[dm1] == "door" and odours.rates_hz[:, dm1].std() > 10 and odours.rates_hz.min() >= 0


def test_hallem_names_are_matched_to_door_spellings():
    assert door_name("g-hexalactone") == "gamma-hexalactone" and door_name("a -pinene") == "alpha-pinene"
    assert door_name("propionic acid") == "propanoic acid" and door_name("Ethyl acetate") == "ethyl acetate"


def test_glomerular_odour_stimuli_feed_a_connectome_circuit():
    spec = connectome_spec(**{"inputs.glomerulus_drive": "hallem_carlson+door"})
    stimuli = odour_stimuli(spec)
    assert stimuli.rates_hz.shape == (110, 60) and stimuli.names[0] == load_hallem_carlson().odours[0]


@pytest.mark.parametrize(("changes", "match"), [
    ({"inputs.channels": "receptors"}, r"\[inputs\] channels = 'receptors': expected 'glomeruli': a connectome wiring"),
    ({"inputs.glomerulus_drive": "door"}, r"\[inputs\] glomerulus_drive = 'door': expected one of"),
])
def test_odour_channels_that_do_not_match_the_connectome_are_refused(changes, match):
    with pytest.raises(CircuitSpecError, match=match):
        connectome_spec(**changes)


def test_glomerular_channels_need_a_connectome_wiring():
    with pytest.raises(CircuitSpecError, match=r"\[inputs\] channels = 'glomeruli': expected 'receptors' unless"):
        load_circuit("drosophila_mb").replace(**{"inputs.channels": "glomeruli"})


# --- the hemibrain circuit ---------------------------------------------------------------------------------------


def test_hemibrain_mb_is_the_connectome_with_its_odours(hemibrain):
    spec = load_circuit("hemibrain_mb")
    weights = random_wiring(spec)
    assert weights.shape == (1776, 60) and spec.inputs.channels == "glomeruli"
    np.testing.assert_array_equal(weights > 0, hemibrain.glomerulus_synapses > 0)
    shuffled_spec = load_circuit("hemibrain_mb_shuffled")
    assert shuffled_spec.kc.wiring == "shuffled" and shuffled_spec.kc.null == "degree_preserving"
    s = random_wiring(shuffled_spec)
    np.testing.assert_array_equal((s > 0).sum(axis=0), (weights > 0).sum(axis=0))
    assert not np.array_equal(s, weights)


def test_connectome_apl_weights_are_kc_to_apl_synapses_over_their_mean(hemibrain):
    spec = load_circuit("hemibrain_mb").replace(**{"apl.weights": "connectome"})
    w = apl_weights(spec)
    np.testing.assert_allclose(w, hemibrain.apl_synapses / hemibrain.apl_synapses.mean())
    assert apl_weights(load_circuit("hemibrain_mb")) is None
    with pytest.raises(CircuitSpecError, match=r"\[apl\] weights = 'connectome': expected 'uniform' unless"):
        load_circuit("drosophila_mb").replace(**{"apl.weights": "connectome"})


def test_spiking_apl_adds_each_kcs_weight_per_spike():
    """The spiking network's KC→APL synapses carry the connectome weights, and only PN→KC pairs of the data exist."""
    spec = load_circuit("hemibrain_mb").replace(**{"apl.weights": "connectome", "simulation.presentation_ms": 10.0})
    circuit = SpikingCircuit(spec, 2, device="numpy")
    np.testing.assert_allclose(np.asarray(circuit.network.net["kc_apl"].w_apl[:]), apl_weights(spec))
    assert len(circuit.network.pre) == int((random_wiring(spec) > 0).sum())


def test_hemibrain_gain_is_the_calibrated_one():
    """The circuit file's APL gain is the one benchmarks/hemibrain_calibration.py chose (its committed JSON)."""
    chosen = read_json(Path(__file__).parents[1] / "benchmarks/results/hemibrain_calibration.json")
    assert load_circuit("hemibrain_mb").apl.gain_mv == chosen["apl_weights"]["uniform"]["chosen"]["gain_mv"]
