"""The gaussian input source: i.i.d. N(μ, σ²) PN rates with a count and a seed, rectified at 0 Hz, validated in the
spec, and presented by both engines."""

from __future__ import annotations

import re

import numpy as np
import pytest

from flymodel.circuit.rate import RateCircuit
from flymodel.circuit.spec import CircuitSpecError, load_circuit
from flymodel.circuit.stimuli import circuit_stimuli, feature_rates, gaussian_stimuli, olsen_pn_rates
from flymodel.spiking import simulate

GAUSSIAN = {"inputs.source": "gaussian", "inputs.count": 400, "inputs.mean_hz": 30.0, "inputs.std_hz": 10.0,
            "inputs.seed": 5}


def test_patterns_are_the_seeded_rectified_normal_draws():
    spec = load_circuit("drosophila_mb").replace(**GAUSSIAN)
    stimuli = gaussian_stimuli(spec)
    expected = np.maximum(np.random.default_rng(5).normal(30.0, 10.0, size=(400, 24)), 0.0)
    np.testing.assert_array_equal(stimuli.rates_hz, expected)
    assert stimuli.names[:2] == ("gaussian[0]", "gaussian[1]") and stimuli.labels is None
    assert abs(stimuli.rates_hz.mean() - 30.0) < 3 * 10.0 / np.sqrt(400 * 24)  # μ = 3σ: rectification is negligible
    np.testing.assert_array_equal(circuit_stimuli(spec, n=7).rates_hz, expected[:7])


def test_the_pattern_seed_is_independent_of_the_wiring_seed():
    spec = load_circuit("drosophila_mb").replace(**GAUSSIAN)
    other_wiring = spec.replace(**{"simulation.seed": 9})
    np.testing.assert_array_equal(gaussian_stimuli(spec).rates_hz, gaussian_stimuli(other_wiring).rates_hz)
    assert not np.array_equal(gaussian_stimuli(spec).rates_hz,
                              gaussian_stimuli(spec.replace(**{"inputs.seed": 6})).rates_hz)


def test_negative_draws_are_rectified():
    spec = load_circuit("drosophila_mb").replace(**{**GAUSSIAN, "inputs.mean_hz": 0.0})
    rates = gaussian_stimuli(spec).rates_hz
    assert rates.min() == 0.0 and 0.4 < (rates == 0).mean() < 0.6


@pytest.mark.parametrize("changes, match", [
    ({"inputs.count": 0}, "[inputs] count = 0: expected an integer >= 1: the number of gaussian patterns to draw"),
    ({"inputs.std_hz": -1.0}, "[inputs] std_hz = -1.0: expected a standard deviation >= 0 Hz"),
    ({"inputs.mean_hz": -5.0}, "[inputs] mean_hz = -5.0: expected a rate >= 0 Hz"),
])
def test_a_gaussian_source_needs_a_count_and_valid_moments(changes, match):
    with pytest.raises(CircuitSpecError, match=re.escape(match)):
        load_circuit("drosophila_mb").replace(**{**GAUSSIAN, **changes})


def test_the_default_count_is_no_count():
    with pytest.raises(CircuitSpecError, match=re.escape("[inputs] count = 0")):
        load_circuit("drosophila_mb").replace(**{"inputs.source": "gaussian"})


def test_both_engines_take_gaussian_patterns():
    """The rate model and the spiking network (numpy runtime) respond to the same gaussian patterns."""
    # μ = 80 Hz on 6 claws: a mean drive of 3 mV · 10 ms · 480 Hz = 14.4 mV, above the 10 mV threshold
    spec = load_circuit("drosophila_mb").replace(**{**GAUSSIAN, "inputs.count": 3, "inputs.mean_hz": 80.0,
                                                    "kc.n": 100, "simulation.presentation_ms": 50.0})
    stimuli = circuit_stimuli(spec)
    responding = RateCircuit(spec).responding(stimuli.rates_hz)
    assert responding.shape == (3, 100) and responding.any()
    result = simulate(spec, stimuli.rates_hz, device="numpy")
    assert result.counts.shape == (3, 100) and result.counts.sum() > 0


def test_feature_rates_read_features_as_the_source_does():
    """Images: intensity × max_rate_hz; odours: ORN rates through the spec's transform; gaussian: PN rates as given."""
    X = np.random.default_rng(0).uniform(0, 1, (5, 784))
    mnist = load_circuit("mnist_kc")
    np.testing.assert_allclose(feature_rates(mnist, X), mnist.inputs.max_rate_hz * X.astype(np.float32))
    odour = load_circuit("drosophila_mb").replace(**{"inputs.transform": "olsen2010"})
    orn = 100 * X[:, :24]
    i = odour.inputs
    np.testing.assert_allclose(feature_rates(odour, orn),
                               olsen_pn_rates(orn.astype(np.float32), i.max_rate_hz, i.olsen_sigma_hz, i.olsen_m))
    linear = odour.replace(**{"inputs.transform": "linear"})
    np.testing.assert_array_equal(feature_rates(linear, orn), orn.astype(np.float32))
    with pytest.raises(ValueError, match=r"Z has 23 features; circuit 'drosophila_mb' has \[inputs\] n = 24 PNs"):
        feature_rates(linear, orn[:, :23], name="Z")


@pytest.mark.parametrize("circuit", ["drosophila_mb", "mnist_kc"])
def test_no_stimuli_is_refused_for_every_source(circuit):
    """n=0 once gave odour circuits an empty set and image circuits the default 100 images."""
    with pytest.raises(ValueError, match="n=0 is too small; expected n >= 1"):
        circuit_stimuli(load_circuit(circuit), n=0)
