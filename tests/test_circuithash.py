"""CircuitHash: a circuit spec as a hasher. Its codes are the rate and spiking engines' own readouts of the fitted
synapses; a sparse circuit's top-k codes are FlyHash's; APL codes vary in size and the APL gain can be set to a mean
code size; bad parameters and data are refused with errors that name them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flymodel.hashing.circuithash as circuithash
from flymodel.circuit.kwta import kwta
from flymodel.circuit.rate import RateCircuit, apl_steady_state
from flymodel.circuit.spec import CircuitSpec, CircuitSpecError, load_circuit
from flymodel.circuit.stimuli import circuit_stimuli, feature_rates
from flymodel.circuit.wiring import random_wiring
from flymodel.data.images import load_mnist
from flymodel.hashing import CircuitHash, FlyHash, Hasher, NotFittedError, make_hasher
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
from flymodel.spiking.circuit import SpikingCircuit, run_block_size, run_memory_bytes

#: 24 gaussian PNs → 200 KCs with 6 claws; epsp · τ_m = 1 mV/Hz, so depolarisations are the exact integer sums of
#: integer PN rates, as FlyHash's (float32) sums of the same integers.
GAUSSIAN = {"inputs.source": "gaussian", "inputs.count": 1, "inputs.n": 24, "kc.n": 200, "kc.epsp_mv": 100.0,
            "kc.tau_m_ms": 10.0, "kc.threshold_mv": 300.0, "apl.gain_mv": 0.5}


def gaussian_spec(**changes) -> CircuitSpec:
    return load_circuit("drosophila_mb").replace(**{**GAUSSIAN, **changes})


def integer_rates(n: int, seed: int = 0) -> np.ndarray:
    """Integer PN rates 0..80 Hz: exact in float32 and float64, with many ties between KC sums."""
    return np.random.default_rng(seed).integers(0, 81, (n, 24)).astype(np.float64)


@pytest.fixture(scope="module")
def digits():
    """The first 600 MNIST training images as features in [0, 1]."""
    data = load_mnist()
    return data.images[:600].reshape(600, -1).astype(np.float32) / 255


# --- the rate engine -------------------------------------------------------------------------------------------

def test_top_k_codes_of_a_sparse_circuit_are_flyhash_codes():
    """FlyHash is a circuit: same (m, fan_in, seed) → same wiring, and top-k of the drive is k-WTA of W x."""
    X = integer_rates(300)
    for seed in (0, 5):
        circuit = CircuitHash(gaussian_spec(), readout="top_k", k=10, seed=seed, device="cpu").fit(X)
        fly = FlyHash(k=10, m=200, fan_in=6, seed=seed, device="cpu").fit(X)
        codes = circuit.transform(X)
        assert codes.dtype == bool and codes.shape == (300, 200) and (codes.sum(axis=1) == 10).all()
        np.testing.assert_array_equal(codes, fly.transform(X))


def test_apl_codes_are_the_steady_state_responders_and_vary_in_size():
    spec = gaussian_spec()
    X = integer_rates(300)
    hasher = CircuitHash(spec, readout="apl", seed=3, device="cpu").fit(X)
    wiring = random_wiring(spec.replace(**{"simulation.seed": 3}))
    expected = RateCircuit(spec, wiring).responding(X)
    codes = hasher.transform(X)
    np.testing.assert_array_equal(codes, expected)
    assert hasher.apl_gain_mv_ == spec.apl.gain_mv
    assert len(np.unique(codes.sum(axis=1))) > 3  # the APL readout's code size varies per stimulus


def test_apl_gain_is_set_to_the_smallest_giving_k_responders_on_average():
    spec = gaussian_spec(**{"apl.gain_mv": 0.0})
    X = integer_rates(400)
    hasher = CircuitHash(spec, readout="apl", k=12, device="cpu").fit(X)
    gain = hasher.apl_gain_mv_
    circuit = RateCircuit(spec, hasher.weights_, as_tensor=True)
    v = circuit.depolarisation(feature_rates(spec, X))

    def mean(g):
        return float((apl_steady_state(v, circuit.params, g)[0] > 0).sum(dim=1).double().mean())

    assert mean(gain) <= 12 < mean(0.999 * gain)
    np.testing.assert_array_equal(hasher.transform(X), circuit.responding(X, gain).numpy())


def test_rate_engine_learns_by_the_krotov_hopfield_rule_from_the_spec_wiring(digits):
    """mnist_kc is plastic: fit runs train_synapses on the PN rates from the N(0, 1) wiring of the seed."""
    spec = load_circuit("mnist_kc").replace(**{"kc.n": 40})
    hasher = CircuitHash(spec, readout="top_k", k=4, seed=2, device="cpu").fit(digits)
    rates = torch.from_numpy(feature_rates(spec, digits)).float()
    W, log = train_synapses(rates, 40, PlasticityRule(p=2.0, delta=0.0, rank=2), TrainingSchedule(), seed=2)
    np.testing.assert_array_equal(hasher.weights_.numpy(), W.double().numpy())
    assert [e["mean_norm"] for e in hasher.training_log_] == [e["mean_norm"] for e in log]
    assert log[-1]["mean_norm"] < log[0]["mean_norm"] / 2  # synapses move towards the unit sphere
    drive = torch.from_numpy(feature_rates(spec, digits[:50])) @ hasher.weights_.T
    np.testing.assert_array_equal(hasher.transform(digits[:50]), kwta(drive, 4).numpy())


def test_max_train_learns_from_a_seeded_subset(digits):
    spec = load_circuit("mnist_kc").replace(**{"kc.n": 30})
    a = CircuitHash(spec, k=3, max_train=200, seed=1, device="cpu").fit(digits)
    b = CircuitHash(spec, k=3, max_train=200, seed=1, device="cpu").fit(digits)
    rows = np.sort(np.random.default_rng(1).choice(600, size=200, replace=False))
    c = CircuitHash(spec, k=3, seed=1, device="cpu").fit(digits[rows])
    assert torch.equal(a.weights_, b.weights_) and torch.equal(a.weights_, c.weights_)


def test_save_and_load_give_the_same_codes(tmp_path):
    X = integer_rates(100)
    hasher = CircuitHash(gaussian_spec(), readout="apl", k=15, device="cpu").fit(X)
    hasher.save(tmp_path / "circuit.npz")
    loaded = Hasher.load(tmp_path / "circuit.npz")
    assert isinstance(loaded, CircuitHash) and loaded.apl_gain_mv_ == hasher.apl_gain_mv_
    np.testing.assert_array_equal(loaded.transform(X), hasher.transform(X))


def test_registered_as_the_circuit_method():
    hasher = make_hasher("circuit", circuit="mnist_kc", readout="apl")
    assert isinstance(hasher, CircuitHash) and hasher.get_params()["readout"] == "apl"


# --- the spiking engine ----------------------------------------------------------------------------------------

SPIKING = {**GAUSSIAN, "kc.n": 40, "kc.epsp_mv": 2.0, "kc.threshold_mv": 10.0, "apl.gain_mv": 1.0,
           "simulation.presentation_ms": 20.0, "simulation.min_spikes": 1}


def test_spiking_codes_are_a_built_circuits_counts_and_one_build_serves_many_transforms():
    spec = load_circuit("drosophila_mb").replace(**SPIKING)
    X = np.random.default_rng(0).uniform(20, 120, (7, 24))
    hasher = CircuitHash(spec, engine="spiking", readout="apl", device="numpy").fit(X)
    codes = hasher.transform(X)
    encoder = hasher._encoder
    again = hasher.transform(X)
    assert hasher._encoder is encoder  # the same build, run again
    np.testing.assert_array_equal(codes, again)  # each run restarts from the same seed
    expected = SpikingCircuit(spec, 7, device="numpy").run(X).codes
    np.testing.assert_array_equal(codes, expected)
    assert 0 < codes.sum() < codes.size
    top = CircuitHash(spec, engine="spiking", readout="top_k", k=5, device="numpy").fit(X).transform(X[:3])
    assert (top.sum(axis=1) == 5).all()


def test_spiking_fit_learns_by_the_spiking_rule():
    spec = load_circuit("mnist_kc").replace(**{"kc.n": 20, "simulation.presentation_ms": 20.0})
    X = np.random.default_rng(1).uniform(0, 1, (4, 784))
    hasher = CircuitHash(spec, engine="spiking", k=3, device="numpy").fit(X)
    result = SpikingCircuit(spec, 4, device="numpy").run(feature_rates(spec, X))
    np.testing.assert_array_equal(hasher.weights_.numpy(), result.weights)
    assert not np.array_equal(result.weights, random_wiring(spec))


def test_spiking_run_too_large_for_memory_is_refused(monkeypatch):
    spec = load_circuit("drosophila_mb")
    per_run = run_memory_bytes(spec, 1)
    block = run_block_size(spec, 10_000, 50 * per_run)
    assert run_memory_bytes(spec, block) <= 50 * per_run < run_memory_bytes(spec, block + 1)
    assert run_block_size(spec, 10_000, 10**15) == 1000 and run_block_size(spec, 7, 10**15) == 7
    with pytest.raises(MemoryError, match=r"kc\.n = 2000.*presentation_ms = 1000\.0.*GiB are available"):
        run_block_size(spec, 10, per_run // 2)
    hasher = CircuitHash(spec, engine="spiking", readout="apl", device="numpy").fit(np.full((3, 24), 50.0))
    monkeypatch.setattr(circuithash, "available_memory_bytes", lambda: per_run // 2)
    with pytest.raises(MemoryError, match="may need"):
        hasher.transform(np.full((3, 24), 50.0))


# --- errors ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("params", "X", "error", "match"), [
    ({"engine": "nest"}, None, ValueError, r"engine='nest' is not known; expected one of: rate, spiking"),
    ({"readout": "wta"}, None, ValueError, r"readout='wta' is not known; expected one of: apl, top_k"),
    ({"k": None}, None, ValueError, r"k=None: readout='top_k' needs k"),
    ({"k": 200}, None, ValueError, r"k=200 must be smaller than kc\.n=200"),
    ({"readout": "apl", "engine": "spiking", "k": 4}, None, ValueError, r"k=4 would set the APL gain"),
    ({"overrides": {"apl.gain_mv": -1.0}}, None, CircuitSpecError, r"\[apl\] gain_mv = -1\.0: expected a gain >= 0"),
    ({"overrides": {"kc.fan": 3}}, None, CircuitSpecError, r"unknown key 'kc\.fan'"),
    ({"circuit": "no_such_circuit"}, None, CircuitSpecError, r"no_such_circuit\.toml does not exist"),
    ({}, np.ones((5, 30)), ValueError, r"X has 30 features; circuit 'drosophila_mb' has \[inputs\] n = 24"),
    ({}, np.full((5, 24), np.nan), ValueError, r"X contains 120 NaN or infinite values"),
    ({}, -np.ones((5, 24)), ValueError, r"X holds a negative value \(-1\.0\); gaussian inputs are firing rates"),
    ({"readout": "apl", "k": 150}, None, ValueError, r"k=150 KCs cannot respond on average"),
    ({"engine": "spiking", "device": "gpu"}, None, ValueError, r"device \(spiking engine\)='gpu' is not known"),
])
def test_bad_parameters_and_data_are_named(params, X, error, match):
    params = {"circuit": gaussian_spec(), "k": 10, "device": "cpu", **params}
    with pytest.raises(error, match=match):
        CircuitHash(**params).fit(integer_rates(50) if X is None else X)


def test_plastic_sparse_wiring_is_refused_by_the_rate_engine():
    spec = gaussian_spec(**{"plasticity.enabled": True})
    with pytest.raises(ValueError, match=r"plastic sparse wiring; the rate engine's Krotov–Hopfield rule learns dense"):
        CircuitHash(spec, k=5, device="cpu").fit(integer_rates(20))


def test_images_outside_unit_range_are_refused():
    with pytest.raises(ValueError, match=r"images hold intensities in \[255\.0, 255\.0\]; expected uint8 or floats"):
        CircuitHash("mnist_kc", k=16, device="cpu").fit(np.full((3, 784), 255.0))


def test_transform_before_fit_and_calibration_limit(monkeypatch):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        CircuitHash(gaussian_spec(), k=3).transform(integer_rates(2))
    monkeypatch.setattr(circuithash, "CALIBRATION_STEPS", 1)
    with pytest.raises(ValueError, match=r"k=1 cannot be reached"):
        CircuitHash(gaussian_spec(**{"apl.gain_mv": 0.0}), readout="apl", k=1, device="cpu").fit(integer_rates(50))


def test_a_circuit_is_resolved_from_any_path_like():
    """Any os.PathLike names a circuit file, not only pathlib.Path."""
    import os

    from flymodel.circuit.spec import CIRCUITS_DIR
    from flymodel.hashing.circuithash import resolve_circuit

    class CircuitFile(os.PathLike):
        def __fspath__(self) -> str:
            return str(CIRCUITS_DIR / "drosophila_mb.toml")

    assert resolve_circuit(CircuitFile()).name == "drosophila_mb"


def test_apl_gain_is_calibrated_with_the_circuits_kc_to_apl_weights():
    """With [apl] weights = "connectome" the calibration weighs each KC's spikes as the encoder does: the codes that
    transform returns have at most k active KCs on average, and just below the gain more than k."""
    spec = load_circuit("hemibrain_mb").replace(**{"apl.gain_mv": 0.0, "apl.weights": "connectome"})
    X = circuit_stimuli(spec).rates_hz
    hasher = CircuitHash(spec, readout="apl", k=40, device="cpu").fit(X)
    gain = hasher.apl_gain_mv_
    circuit = RateCircuit(spec, hasher.weights_)
    assert hasher.transform(X).sum(axis=1).mean() <= 40 < circuit.responding(X, 0.999 * gain).sum(axis=1).mean()
