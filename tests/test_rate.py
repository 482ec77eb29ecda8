"""Tests for flymodel.circuit.wiring, flymodel.circuit.stimuli and flymodel.circuit.rate: PN→KC weights, PN rates, the APL
steady state and dynamics of the torch engine, and its agreement with the numpy engine it replaced."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from frozen_numpy_rate import depolarisation as frozen_depolarisation
from frozen_numpy_rate import steady_state as frozen_steady_state
from frozen_numpy_rate import top_k as frozen_top_k

from flymodel.circuit.rate import RateCircuit, RateParameters, apl_dynamics, apl_steady_state
from flymodel.circuit.spec import CircuitSpec, InputSpec, KCSpec, SimulationSpec, load_circuit
from flymodel.circuit.stimuli import image_rates, odour_stimuli, olsen_pn_rates
from flymodel.circuit.wiring import check_weights, random_wiring

GAINS = [0.0, 0.1, 0.3, 1.0, 3.0, 10.0]


def small_spec(**changes) -> CircuitSpec:
    """24 PNs → 300 KCs with 3 mV claws (a 6-claw KC crosses threshold from ~56 Hz mean PN rate), dotted changes."""
    spec = CircuitSpec(name="t", inputs=InputSpec(n=24), kc=KCSpec(n=300, epsp_mv=3.0),
                       simulation=SimulationSpec(presentation_ms=100.0))
    return spec.replace(**changes) if changes else spec


def stimuli(n=8, seed=0, high=120.0) -> np.ndarray:
    """Random non-negative PN rates (Hz), exactly representable in float32 as the circuit reads them."""
    return np.random.default_rng(seed).uniform(0, high, (n, 24)).astype(np.float32).astype(float)


def constants(spec):
    """β (Hz per mV) and the APL factor τ_APL in seconds."""
    kc = spec.kc
    return 1e3 / (kc.tau_m_ms * (kc.threshold_mv - kc.reset_mv)), spec.apl.tau_ms * 1e-3


def bisect_activity(v, spec, gain, iterations=200):
    """Brute force: the root of a − τ_APL β Σ [V − θ − g a]_+ (increasing in a) for one stimulus, by bisection."""
    beta, tau = constants(spec)
    excess = v - spec.kc.threshold_mv
    lo, hi = 0.0, tau * beta * np.maximum(excess, 0).sum()
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if mid - tau * beta * np.maximum(excess - gain * mid, 0).sum() > 0:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


# --- wiring ------------------------------------------------------------------------------------------------------


def test_sparse_wiring_has_fan_in_ones_per_row():
    spec = small_spec()
    w = random_wiring(spec)
    assert w.shape == (300, 24) and w.dtype == np.float64
    assert set(np.unique(w)) == {0.0, 1.0}
    assert (w.sum(axis=1) == spec.kc.fan_in).all()


def test_sparse_wiring_other_fan_in():
    w = random_wiring(small_spec(**{"kc.fan_in": 24}))
    assert (w == 1).all()
    w = random_wiring(small_spec(**{"kc.fan_in": 1}))
    assert (w.sum(axis=1) == 1).all()


def test_sparse_wiring_uses_every_pn():
    w = random_wiring(small_spec())
    assert (w.sum(axis=0) > 0).all()


def test_wiring_is_seeded():
    spec = small_spec()
    assert np.array_equal(random_wiring(spec), random_wiring(spec))
    assert not np.array_equal(random_wiring(spec), random_wiring(spec.replace(**{"simulation.seed": 1})))


def test_dense_wiring_is_standard_normal():
    spec = small_spec(**{"inputs.n": 100, "kc.n": 200, "kc.wiring": "dense"})
    w = random_wiring(spec)
    assert w.shape == (200, 100)
    assert abs(w.mean()) < 0.05
    assert abs(w.std() - 1) < 0.05
    assert (w < 0).any()
    assert np.array_equal(w, random_wiring(spec))


def test_check_weights_accepts_and_converts():
    spec = small_spec()
    w = random_wiring(spec).astype(np.float32)
    out = check_weights(w, spec)
    assert out.dtype == np.float64 and np.array_equal(out, w)


def test_check_weights_wrong_shape():
    with pytest.raises(ValueError, match=r"shape \(24, 300\).*\(300, 24\)"):
        check_weights(np.zeros((24, 300)), small_spec())


def test_check_weights_nan():
    w = np.zeros((300, 24))
    w[3, 4] = np.nan
    w[5, 6] = np.inf
    with pytest.raises(ValueError, match="2 NaN or infinite"):
        check_weights(w, small_spec())


def test_rate_circuit_checks_given_weights():
    with pytest.raises(ValueError, match="shape"):
        RateCircuit(small_spec(), np.ones((10, 24)))


# --- Olsen normalisation ----------------------------------------------------------------------------------------


def test_olsen_matches_formula():
    orn = np.array([[10.0, 50.0, 0.0, 200.0], [1.0, 2.0, 3.0, 4.0]])
    r_max, sigma, m = 165.0, 12.0, 0.05
    expected = np.empty_like(orn)
    for i, row in enumerate(orn):
        for j, x in enumerate(row):
            expected[i, j] = r_max * x ** 1.5 / (sigma ** 1.5 + x ** 1.5 + (m * row.sum()) ** 1.5)
    np.testing.assert_allclose(olsen_pn_rates(orn, r_max, sigma, m), expected, rtol=1e-12)


def test_olsen_range_and_zero():
    orn = np.random.default_rng(0).uniform(0, 1000, (20, 24))
    pn = olsen_pn_rates(orn, 165.0, 12.0, 0.05)
    assert pn.shape == orn.shape
    assert (pn >= 0).all() and (pn < 165.0).all()
    assert (olsen_pn_rates(np.zeros((2, 24)), 165.0, 12.0, 0.05) == 0).all()


def test_olsen_clips_negative_rates():
    assert (olsen_pn_rates(np.array([[-5.0, 10.0]]), 165.0, 12.0, 0.05)[0, 0] == 0)


def test_olsen_increases_with_own_rate():
    orn = np.tile(np.full(24, 20.0), (50, 1))
    orn[:, 0] = np.linspace(0, 500, 50)
    pn = olsen_pn_rates(orn, 165.0, 12.0, 0.05)[:, 0]
    assert (np.diff(pn) > 0).all()


def test_olsen_lateral_suppression():
    orn = np.tile(np.full(24, 30.0), (50, 1))
    orn[:, 1:] = np.linspace(0, 300, 50)[:, None]
    pn = olsen_pn_rates(orn, 165.0, 12.0, 0.05)[:, 0]
    assert (np.diff(pn) < 0).all()
    no_lateral = olsen_pn_rates(orn, 165.0, 12.0, 0.0)[:, 0]  # m = 0: other glomeruli do not matter
    assert (no_lateral == no_lateral[0]).all() and no_lateral[0] > pn[0]


# --- stimuli -----------------------------------------------------------------------------------------------------


def test_odour_stimuli():
    stim = odour_stimuli(load_circuit("drosophila_mb"))
    assert stim.rates_hz.shape == (110, 24)
    assert len(stim) == 110 and len(stim.names) == 110
    assert (stim.rates_hz >= 0).all()
    assert stim.rates_hz.max() > 100
    first = stim.subset(slice(0, 3))
    assert first.names == stim.names[:3] and np.array_equal(first.rates_hz, stim.rates_hz[:3])


def test_odour_stimuli_olsen_transform():
    spec = load_circuit("drosophila_mb")
    linear = odour_stimuli(spec).rates_hz
    olsen = odour_stimuli(spec.replace(**{"inputs.transform": "olsen2010"})).rates_hz
    np.testing.assert_allclose(olsen, olsen_pn_rates(linear, 165.0, 12.0, 0.05))
    assert (olsen < 165.0).all()


def test_odour_stimuli_input_size_mismatch():
    spec = small_spec(**{"inputs.n": 10})
    with pytest.raises(ValueError, match=r"\[inputs\] n = 10.*24 receptors"):
        odour_stimuli(spec)


def image_spec():
    return small_spec(**{"inputs.source": "mnist", "inputs.n": 16, "inputs.max_rate_hz": 50.0})


def test_image_rates_uint8():
    images = np.zeros((3, 4, 4), np.uint8)
    images[0] = 255
    images[1, 0, 0] = 51
    rates = image_rates(image_spec(), images)
    assert rates.shape == (3, 16)
    assert (rates[0] == 50.0).all()
    assert rates[1, 0] == pytest.approx(10.0) and (rates[1, 1:] == 0).all()
    assert (rates[2] == 0).all()


def test_image_rates_floats():
    images = np.linspace(0, 1, 32).reshape(2, 16)
    np.testing.assert_allclose(image_rates(image_spec(), images), 50.0 * images, rtol=1e-6)


@pytest.mark.parametrize("bad", [1.5, -0.1, 255.0])
def test_image_rates_floats_out_of_range(bad):
    images = np.zeros((2, 16))
    images[1, 3] = bad
    with pytest.raises(ValueError, match=r"expected uint8 or floats in \[0, 1\]"):
        image_rates(image_spec(), images)


def test_image_rates_wrong_pixel_count():
    with pytest.raises(ValueError, match="9 features"):
        image_rates(image_spec(), np.zeros((2, 3, 3), np.uint8))


# --- steady state ------------------------------------------------------------------------------------------------


def test_depolarisation_formula():
    spec = small_spec()
    circuit = RateCircuit(spec)
    r = stimuli()
    v = circuit.depolarisation(r)
    assert v.shape == (8, 300)
    np.testing.assert_allclose(v, 3.0 * 10.0 * 1e-3 * r @ circuit.weights.T, rtol=1e-12)


@pytest.mark.parametrize("gain", GAINS)
def test_steady_state_solves_the_fixed_point(gain):
    spec = small_spec()
    circuit = RateCircuit(spec)
    r = stimuli(high=150.0)
    beta, tau = constants(spec)
    rates, a = circuit.steady_state(r, gain)
    v = circuit.depolarisation(r)
    assert rates.shape == (8, 300) and a.shape == (8,)
    assert (a > 0).all()
    np.testing.assert_allclose(a, tau * rates.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(rates, beta * np.maximum(v - spec.kc.threshold_mv - gain * a[:, None], 0),
                               rtol=1e-9, atol=1e-9)


def test_steady_state_uses_the_spec_gain_by_default():
    spec = small_spec(**{"apl.gain_mv": 2.0})
    circuit = RateCircuit(spec)
    r = stimuli()
    default = circuit.steady_state(r)
    explicit = circuit.steady_state(r, 2.0)
    assert np.array_equal(default[0], explicit[0]) and np.array_equal(default[1], explicit[1])


def test_zero_gain_gives_threshold_linear_rates():
    spec = small_spec()
    circuit = RateCircuit(spec)
    r = stimuli()
    beta, _ = constants(spec)
    rates, _ = circuit.steady_state(r, 0.0)
    np.testing.assert_allclose(rates, beta * np.maximum(circuit.depolarisation(r) - 10.0, 0), rtol=1e-12)


def test_silent_circuit():
    circuit = RateCircuit(small_spec())
    rates, a = circuit.steady_state(np.zeros((2, 24)), 1.0)
    assert (rates == 0).all() and (a == 0).all()
    assert not circuit.responding(np.zeros((2, 24))).any()


def test_responding_fraction_falls_with_gain():
    circuit = RateCircuit(small_spec())
    r = stimuli(n=4, high=200.0)
    fractions = np.array([circuit.responding(r, g).mean(axis=1) for g in GAINS])
    assert (fractions[0] > 0.3).all()  # a stimulus that drives many KCs
    assert (np.diff(fractions, axis=0) <= 0).all()
    assert (fractions[-1] < fractions[0]).all()
    assert (fractions[-1] > 0).all()  # the most driven KC always fires


def test_responding_matches_steady_state():
    circuit = RateCircuit(small_spec())
    r = stimuli()
    assert np.array_equal(circuit.responding(r, 0.3), circuit.steady_state(r, 0.3)[0] > 0)


@pytest.mark.parametrize("gain", [0.0, 0.3, 2.0, 50.0])
def test_steady_state_matches_bisection(gain):
    spec = small_spec()
    circuit = RateCircuit(spec)
    r = stimuli(n=5, seed=3, high=150.0)
    _, a = circuit.steady_state(r, gain)
    v = circuit.depolarisation(r)
    expected = [bisect_activity(v[i], spec, gain) for i in range(len(r))]
    np.testing.assert_allclose(a, expected, rtol=1e-9)


def test_steady_state_with_other_constants():
    spec = small_spec(**{"kc.tau_m_ms": 20.0, "kc.reset_mv": -5.0, "apl.tau_ms": 12.0, "kc.threshold_mv": 8.0})
    circuit = RateCircuit(spec)
    r = stimuli(n=4, seed=5)
    beta, tau = constants(spec)
    assert beta == pytest.approx(1e3 / (20.0 * 13.0))
    rates, a = circuit.steady_state(r, 0.7)
    np.testing.assert_allclose(a, tau * rates.sum(axis=1), rtol=1e-9)
    v = circuit.depolarisation(r)
    np.testing.assert_allclose(a, [bisect_activity(v[i], spec, 0.7) for i in range(4)], rtol=1e-9)


@pytest.mark.parametrize("gain", [-0.1, float("nan"), float("inf")])
def test_invalid_gain(gain):
    with pytest.raises(ValueError, match="apl_gain_mv"):
        RateCircuit(small_spec()).steady_state(stimuli(n=2), gain)


@pytest.mark.parametrize("gain", GAINS)
def test_responding_kcs_are_a_top_set(gain):
    circuit = RateCircuit(small_spec())
    r = stimuli(n=6, seed=1, high=150.0)
    v = circuit.depolarisation(r)
    on = circuit.responding(r, gain)
    for row, mask in zip(v, on):
        if mask.any() and not mask.all():
            assert row[mask].min() > row[~mask].max()


def test_steady_state_with_tied_depolarisations():
    """Integer rates and 0/1 weights give many equal depolarisations; the fixed point still holds."""
    spec = small_spec()
    circuit = RateCircuit(spec)
    r = np.random.default_rng(2).integers(0, 12, (10, 24)) * 10.0
    beta, tau = constants(spec)
    for gain in [0.5, 4.0]:
        rates, a = circuit.steady_state(r, gain)
        np.testing.assert_allclose(a, tau * rates.sum(axis=1), rtol=1e-9)


def test_steady_state_at_the_boundary_of_the_active_set():
    """V = [22.3, 12.05] mV, gain 4: only KC 0 is active, a = 0.05 · 12.3 / 1.2 = 0.5125 and KC 1 sits at threshold."""
    spec = small_spec(**{"inputs.n": 1, "kc.n": 2, "kc.fan_in": 1, "kc.epsp_mv": 100.0})
    circuit = RateCircuit(spec, [[22.3], [12.05]])  # epsp · τ_m = 1 mV per Hz · weight
    rates, a = circuit.steady_state([[1.0]], 4.0)
    assert a[0] == pytest.approx(0.5125)
    assert rates[0, 1] == pytest.approx(0.0, abs=1e-6)


# --- top-k -------------------------------------------------------------------------------------------------------


def test_top_k_counts():
    circuit = RateCircuit(small_spec())
    codes = circuit.top_k(stimuli(), 15)
    assert codes.shape == (8, 300) and codes.dtype == bool
    assert (codes.sum(axis=1) == 15).all()


def test_top_k_per_row():
    circuit = RateCircuit(small_spec())
    ks = np.array([0, 1, 5, 20, 300, 7])
    codes = circuit.top_k(stimuli(n=6), ks)
    assert list(codes.sum(axis=1)) == list(ks)
    assert not codes[0].any() and codes[4].all()


def test_top_k_zero():
    codes = RateCircuit(small_spec()).top_k(stimuli(n=3), 0)
    assert codes.shape == (3, 300) and not codes.any()


def test_top_k_agrees_with_argsort():
    spec = small_spec(**{"kc.wiring": "dense"})  # continuous weights: no tied depolarisations
    circuit = RateCircuit(spec)
    r = stimuli()
    v = circuit.depolarisation(r)
    assert all(len(np.unique(row)) == row.size for row in v)
    for k in [1, 10, 60]:
        codes = circuit.top_k(r, k)
        expected = np.zeros_like(codes)
        np.put_along_axis(expected, np.argsort(-v, axis=1)[:, :k], True, axis=1)
        assert np.array_equal(codes, expected)


def test_top_k_contains_the_responding_set_of_the_same_size():
    spec = small_spec(**{"kc.wiring": "dense"})
    circuit = RateCircuit(spec)
    r = stimuli()
    on = circuit.responding(r, 1.0)
    assert np.array_equal(circuit.top_k(r, on.sum(axis=1)), on)


# --- the torch engine against the frozen numpy implementation it replaced ------------------------------------------

REFERENCE_GAINS = [0.0, 0.05, 0.3, 1.0, 30.0, 1e6]


def reference_cases():
    """drosophila_mb on all 110 odours plus zero-drive and tied stimuli; mnist_kc on 40 images (dense wiring)."""
    fly = load_circuit("drosophila_mb")
    odours = odour_stimuli(fly).rates_hz
    tied = np.repeat(odours[:1], 3, axis=0)  # identical stimuli: identical rows
    fly_rates = np.concatenate([odours, np.zeros((2, 24)), tied])
    fly_weights = random_wiring(fly)
    mnist = load_circuit("mnist_kc")
    images = np.random.default_rng(0).integers(0, 256, (40, 784)).astype(np.uint8)
    return [("drosophila_mb", fly, fly_weights, fly_rates),
            ("mnist_kc", mnist, random_wiring(mnist), image_rates(mnist, images))]


@pytest.mark.parametrize("case", reference_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize("gain", REFERENCE_GAINS)
def test_torch_engine_equals_the_frozen_numpy_engine(case, gain):
    """Rates, APL activity and responding KCs to 1e-6 relative, for gain 0, the fly's gain and very large gains."""
    _, spec, weights, rates = case
    circuit = RateCircuit(spec, weights)
    kc_rates, activity = circuit.steady_state(rates, gain)
    want_rates, want_activity = frozen_steady_state(spec, weights, rates, gain)
    np.testing.assert_allclose(kc_rates, want_rates, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(want_rates).max()))
    np.testing.assert_allclose(activity, want_activity, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(circuit.responding(rates, gain), want_rates > 0)
    want_v = frozen_depolarisation(spec, weights, rates)
    np.testing.assert_allclose(circuit.depolarisation(rates), want_v, rtol=1e-12, atol=1e-12 * np.abs(want_v).max())


@pytest.mark.parametrize("case", reference_cases(), ids=lambda c: c[0])
def test_torch_top_k_equals_the_frozen_stable_sort_including_ties_and_zero_k(case):
    """Per-stimulus k from 0 to 6 and a common k; equal drives (zero stimuli, repeated odours) go to the lower index."""
    _, spec, weights, rates = case
    circuit = RateCircuit(spec, weights)
    ks = np.arange(len(rates)) % 7  # 0 to 6 winners, differing per stimulus
    np.testing.assert_array_equal(circuit.top_k(rates, ks), frozen_top_k(spec, weights, rates, ks))
    np.testing.assert_array_equal(circuit.top_k(rates, 5), frozen_top_k(spec, weights, rates, 5))
    sparse_ties = circuit.top_k(np.zeros((2, spec.inputs.n)), np.array([3, 0]))  # all drives equal: lowest indices
    assert sparse_ties[0, :3].all() and sparse_ties.sum() == 3


def test_float32_and_tensors_in_and_out():
    """float32 agrees with float64 to float32 precision; tensors in give tensors out with as_tensor=True."""
    spec = load_circuit("drosophila_mb")
    odours = odour_stimuli(spec).rates_hz
    exact = RateCircuit(spec).steady_state(odours)[0]
    single = RateCircuit(spec, dtype=torch.float32).steady_state(odours)[0]
    np.testing.assert_allclose(single, exact, rtol=1e-4, atol=1e-3 * exact.max())
    tensor = RateCircuit(spec, as_tensor=True).steady_state(torch.as_tensor(odours))[0]
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64
    np.testing.assert_allclose(tensor.numpy(), exact, rtol=1e-12)


def test_chunks_give_the_same_numbers(monkeypatch):
    """Stimuli processed 7 at a time give the numbers of one pass over all 110."""
    import flymodel.circuit.rate as rate

    spec = load_circuit("drosophila_mb")
    odours = odour_stimuli(spec).rates_hz
    whole = RateCircuit(spec).steady_state(odours)
    monkeypatch.setattr(rate, "CHUNK_ELEMENTS", 7 * spec.kc.n)  # chunks of 7 stimuli
    chunked = RateCircuit(spec).steady_state(odours)
    # the matrix product may block a chunk differently from the whole: equal to rounding, the same KCs responding
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-12, atol=1e-12 * whole[0].max())
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-12)
    np.testing.assert_array_equal(chunked[0] > 0, whole[0] > 0)


@pytest.mark.parametrize("gain", [0.0, 0.3, 1.0])
def test_apl_dynamics_converge_to_the_fixed_point(gain):
    """200 ms of the APL loop from rest end at the exact steady state, for blocked, intact and strong inhibition."""
    spec = load_circuit("drosophila_mb")
    odours = odour_stimuli(spec).rates_hz
    circuit = RateCircuit(spec)
    rates, trace = circuit.dynamics(odours, duration_ms=200.0, apl_gain_mv=gain, dt_ms=0.05)
    fixed_rates, fixed_activity = circuit.steady_state(odours, gain)
    assert trace.shape == (4001, 110) and np.all(trace[0] == 0)
    np.testing.assert_allclose(trace[-1], fixed_activity, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rates, fixed_rates, rtol=1e-6, atol=1e-6)


def test_apl_dynamics_refuse_an_unstable_step():
    """A forward-Euler step beyond the stability bound is an error naming dt_ms, not a diverging trace."""
    spec = load_circuit("drosophila_mb")
    with pytest.raises(ValueError, match="dt_ms=5.0 is too large for gain_mv=1.0"):
        RateCircuit(spec).dynamics(odour_stimuli(spec).rates_hz, duration_ms=50.0, apl_gain_mv=1.0, dt_ms=5.0)


@pytest.mark.parametrize("rates, match", [
    (np.full((2, 24), np.nan), "NaN"),
    (np.zeros((0, 24)), "rates_hz"),
    (np.zeros((2, 23)), "23"),
])
def test_bad_rates_are_named(rates, match):
    """Non-finite rates, no stimuli or the wrong number of PNs are errors naming rates_hz."""
    with pytest.raises(ValueError, match=match):
        RateCircuit(load_circuit("drosophila_mb")).steady_state(rates)


# --- KC→APL weights ----------------------------------------------------------------------------------------------

def weighted_bisection(v, params, gain, w, iterations=200):
    """Brute force: the root of a − τ_APL β Σ w [V − θ − g a]_+ for one stimulus."""
    c, excess = params.apl_tau_s * params.slope_hz_per_mv, v - params.threshold_mv
    lo, hi = 0.0, c * (w * np.maximum(excess, 0)).sum()
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if mid - c * (w * np.maximum(excess - gain * mid, 0)).sum() > 0 else (mid, hi)
    return (lo + hi) / 2


@pytest.mark.parametrize("gain", [0.0, 0.3, 5.0])
def test_weighted_apl_steady_state_matches_bisection_and_dynamics(gain):
    """With a weight per KC in the APL, the exact fixed point equals brute force and the dynamics converge to it;
    unit weights give the unweighted result."""
    spec = small_spec()
    params = RateParameters.from_spec(spec)
    v = torch.as_tensor(RateCircuit(spec).depolarisation(stimuli(n=6, seed=2, high=150.0)))
    w = torch.as_tensor(np.random.default_rng(0).uniform(0.2, 3.0, 300))
    rates, a = apl_steady_state(v, params, gain, w)
    expected = [weighted_bisection(v[i].numpy(), params, gain, w.numpy()) for i in range(6)]
    np.testing.assert_allclose(a.numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(rates.numpy(), params.slope_hz_per_mv * np.maximum(
        v.numpy() - params.threshold_mv - gain * a.numpy()[:, None], 0), rtol=1e-12)
    _, trace = apl_dynamics(v, params, gain, duration_ms=300.0, dt_ms=0.02, apl_weights=w)
    np.testing.assert_allclose(trace[-1].numpy(), a.numpy(), rtol=1e-6)
    ones = apl_steady_state(v, params, gain, torch.ones(300, dtype=v.dtype))
    plain = apl_steady_state(v, params, gain)
    np.testing.assert_allclose(ones[1].numpy(), plain[1].numpy(), rtol=1e-12)
