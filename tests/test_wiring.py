"""One sampler draws every wiring: a FlyHash and a circuit spec with the same (m, fan-in, seed) have the same PN→KC
weights, and a dense spec starts where BioHash's training starts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flymodel.circuit.spec import CircuitSpec, InputSpec, KCSpec, SimulationSpec
from flymodel.circuit.wiring import bernoulli_wiring, claw_wiring, gaussian_wiring, random_wiring, seeded_generator
from flymodel.hashing import LSH, FlyHash
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses


def spec(n_pn: int, n_kc: int, fan_in: int, seed: int, wiring: str = "sparse") -> CircuitSpec:
    return CircuitSpec(name="t", inputs=InputSpec(n=n_pn), kc=KCSpec(n=n_kc, fan_in=fan_in, wiring=wiring),
                       simulation=SimulationSpec(seed=seed))


@pytest.mark.parametrize(("m", "fan_in", "seed"), [(300, 6, 0), (2000, 6, 3), (500, 1, 7), (64, 24, 11)])
def test_flyhash_has_the_wiring_of_the_circuit_with_the_same_m_fan_in_and_seed(m, fan_in, seed):
    X = np.random.default_rng(0).uniform(0, 1, (20, 24))
    hasher = FlyHash(k=2, m=m, fan_in=fan_in, seed=seed, device="cpu").fit(X)
    circuit = random_wiring(spec(24, m, fan_in, seed))
    assert np.array_equal(hasher.weights_.numpy().astype(float), circuit)
    assert (circuit.sum(axis=1) == fan_in).all()


def test_flyhash_sampling_rate_is_the_fan_in_it_rounds_to():
    """FlyHash's default fan-in, round(0.1·d), is a fan_in like any other for the sampler."""
    X = np.zeros((5, 784))
    hasher = FlyHash(k=16, m=1000, seed=2, device="cpu").fit(X)
    assert np.array_equal(hasher.weights_.numpy().astype(float), random_wiring(spec(784, 1000, 78, 2)))


def test_dense_circuit_wiring_is_where_biohash_training_starts():
    """train_synapses draws its initial N(0, 1) weights with the same sampler and seed as a dense circuit spec: one
    training step at ε0 = 1e-6 moves every weight by at most ε0 (the normalised step), so W stays within ε0 of it."""
    dense = random_wiring(spec(30, 40, 6, 5, wiring="dense"))
    assert np.array_equal(dense, gaussian_wiring(40, 30, seeded_generator(5)).double().numpy())
    X = torch.from_numpy(np.random.default_rng(1).normal(size=(50, 30)).astype(np.float32))
    W, _ = train_synapses(X, 40, PlasticityRule(), TrainingSchedule(lr=1e-6, max_epochs=1, batch_size=50, tol=0), seed=5)
    assert np.abs(W.double().numpy() - dense).max() <= 1e-6 + 1e-7


def test_lsh_projections_are_the_dense_sampler_draw():
    X = np.random.default_rng(0).normal(size=(10, 12))
    assert torch.equal(LSH(k=8, seed=4, device="cpu").fit(X).projections_, gaussian_wiring(8, 12, seeded_generator(4)))


def test_bernoulli_wiring_connects_with_the_probability():
    w = bernoulli_wiring(2000, 100, 0.1, seeded_generator(0))
    assert set(torch.unique(w).tolist()) == {0.0, 1.0}
    assert abs(float(w.mean()) - 0.1) < 0.005
    assert w.sum(dim=1).std() > 0  # fan-in varies across KCs
    assert torch.equal(FlyHash(k=2, m=2000, sampling="bernoulli", seed=0, device="cpu").fit(np.zeros((3, 100))).weights_, w)


def test_samplers_reject_impossible_wirings():
    with pytest.raises(ValueError, match=r"fan_in=0 must lie in 1\.\.n_pn=5"):
        claw_wiring(3, 5, 0, seeded_generator(0))
    with pytest.raises(ValueError, match=r"fan_in=6 must lie in 1\.\.n_pn=5"):
        claw_wiring(3, 5, 6, seeded_generator(0))
    with pytest.raises(ValueError, match=r"probability=0 must lie in \(0, 1\]"):
        bernoulli_wiring(3, 5, 0, seeded_generator(0))
