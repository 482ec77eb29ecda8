"""Reproduced numbers checked in the default run: on a fixed slice of MNIST (400 database images, the first 50 test
images as queries), FlyHash, LSH and BioHash codes and their tie-aware mAP equal literal implementations written
here from the documented definitions, and BioHash's training equals a literal Krotov–Hopfield loop.

Inputs are raw integer pixels where an exact comparison needs exact sums (FlyHash); elsewhere the tests first check
that the margins they rely on are far above float32 rounding, so that comparing codes exactly is honest.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from exact_reference import expected_ap, expected_aps, expected_map, hamming, ranking_ap
from flymodel.data.images import load_mnist
from flymodel.hashing import LSH, BioHash, FlyHash
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses
from flymodel.metrics import mean_average_precision

N_DB, N_Q = 400, 50
#: A float32 current or projection closer than this to a decision boundary could flip (float32 and float64 values
#: differ by at most 1.5e-5 on these data); the data keep farther from it (smallest margins: 6e-4 LSH, 3.7e-3 BioHash).
MARGIN = 1e-4


@pytest.fixture(scope="module")
def mnist():
    """(database pixels, query pixels, database labels, query labels): the first 400 MNIST training images and the
    first 50 test images, as raw uint8 values 0–255 flattened to 784 float64 columns."""
    data = load_mnist()
    pixels = data.images.reshape(len(data.images), -1).astype(np.float64)
    n_train = data.n_train
    return (pixels[:N_DB], pixels[n_train:n_train + N_Q], data.labels[:N_DB], data.labels[n_train:n_train + N_Q])


def top_k(activations: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest values per row, ties to the lower index (stable sort of the negated values)."""
    winners = np.argsort(-activations, axis=1, kind="stable")[:, :k]
    mask = np.zeros(activations.shape, dtype=bool)
    np.put_along_axis(mask, winners, True, axis=1)
    return mask


def kth_gap(activations: np.ndarray, k: int) -> float:
    """Smallest gap, over rows, between the k-th and (k+1)-th largest values (how far k-WTA is from a near-tie)."""
    ordered = -np.sort(-activations, axis=1)
    return float((ordered[:, k - 1] - ordered[:, k]).min())


# --- the brute-force mAP itself ------------------------------------------------------------------------------------

def test_reference_ap_is_the_mean_over_all_tie_orders():
    """exact_reference.expected_ap (slot sums, hypergeometric cut-off) equals the mean of eq. 12 over every order of
    tied items, enumerated, and its closed form expected_aps equals it on larger cases."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 8))
        dist, rel = rng.integers(0, 3, n), rng.random(n) < 0.4
        groups = [np.flatnonzero(dist == d) for d in np.unique(dist)]
        orders = [np.concatenate(p) for p in itertools.product(*(itertools.permutations(g) for g in groups))]
        for R in (None, int(rng.integers(1, n + 1))):
            assert expected_ap(dist, rel, R) == pytest.approx(np.mean([ranking_ap(rel[o], R) for o in orders]),
                                                              abs=1e-12)
    dist, rel = rng.integers(0, 6, (40, 500)), rng.random((40, 500)) < 0.2
    for R in (None, 37, 250):
        np.testing.assert_allclose(expected_aps(dist, rel, R), [expected_ap(d, r, R) for d, r in zip(dist, rel)],
                                   rtol=0, atol=1e-12)


# --- FlyHash -------------------------------------------------------------------------------------------------------

def literal_flyhash_wiring(d: int, m: int, seed: int, sampling: str, rate: float, fan_in: int | None) -> np.ndarray:
    """FlyHash's documented sampler: a uniform draw u (m × d) from torch's CPU generator seeded with `seed`; 'fixed'
    connects each KC to the fan_in inputs of smallest u (a uniform subset of round(rate·d) distinct inputs),
    'bernoulli' connects input i to KC j iff u_ji < rate."""
    u = torch.rand(m, d, generator=torch.Generator().manual_seed(seed)).numpy()
    if sampling == "bernoulli":
        return (u < rate).astype(np.float64)
    chosen = np.argsort(u, axis=1, kind="stable")[:, :fan_in if fan_in is not None else round(rate * d)]
    weights = np.zeros((m, d))
    np.put_along_axis(weights, chosen, 1.0, axis=1)
    return weights


@pytest.mark.parametrize("params", [{}, {"sampling": "bernoulli", "sampling_rate": 0.2, "seed": 3},
                                    {"fan_in": 6, "m": 2000, "seed": 5}], ids=["fixed", "bernoulli", "fan_in_6"])
def test_flyhash_equals_literal_wiring_and_top_k(mnist, params):
    """Weights and codes equal the literal sampler and the top-k (ties to the lower index) of W x, exactly: integer
    pixels make every sum exact, ties included."""
    X_db, X_q, _, _ = mnist
    k = 8
    hasher = FlyHash(k=k, device="cpu", **params).fit(X_db)
    W = literal_flyhash_wiring(784, params.get("m", 7840), params.get("seed", 0), params.get("sampling", "fixed"),
                               params.get("sampling_rate", 0.1), params.get("fan_in"))
    np.testing.assert_array_equal(hasher.weights_.numpy(), W)
    for X in (X_db, X_q):
        np.testing.assert_array_equal(hasher.transform(X), top_k(X @ W.T, k))


# --- LSH -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("k, seed", [(16, 0), (48, 2)])
def test_lsh_equals_signs_of_literal_gaussian_projections(mnist, k, seed):
    """Codes equal sign(g_j · (x − training mean)) with g = torch.randn(k, d) from the seeded CPU generator."""
    X_db, X_q, _, _ = mnist
    X_db, X_q = X_db / 255, X_q / 255
    hasher = LSH(k=k, seed=seed, device="cpu").fit(X_db)
    G = torch.randn(k, 784, generator=torch.Generator().manual_seed(seed)).double().numpy()
    for X in (X_db, X_q):
        projections = (X - X_db.mean(axis=0)) @ G.T
        assert np.abs(projections).min() > MARGIN
        np.testing.assert_array_equal(hasher.transform(X), projections > 0)


# --- BioHash encoding ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def biohash(mnist):
    """BioHash (k = 4, m = 40, mean-centred, 3 epochs) fitted on the database images in [0, 1]."""
    return BioHash(k=4, m=40, max_epochs=3, batch_size=100, tol=0, centering="mean", seed=1,
                   device="cpu").fit(mnist[0] / 255)


def test_biohash_codes_are_the_top_k_currents_of_its_synapses(mnist, biohash):
    """Given the fitted W, each code is the top k of W (x − training mean) (p = 2), exactly (margins checked)."""
    X_db, X_q, _, _ = mnist
    mean = X_db.mean(axis=0) / 255
    np.testing.assert_allclose(biohash.mean_.numpy(), mean, rtol=0, atol=1e-6)
    W = biohash.weights_.double().numpy()
    for X in (X_db / 255, X_q / 255):
        currents = (X - mean) @ W.T
        assert kth_gap(currents, 4) > MARGIN
        np.testing.assert_array_equal(biohash.transform(X), top_k(currents, 4))


# --- the mAP of these codes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["flyhash", "lsh", "biohash"])
@pytest.mark.parametrize("R", [None, 100])
def test_map_of_these_codes_equals_the_brute_force_map(mnist, biohash, method, R):
    """flymodel's tie-aware mAP@R of the codes equals the brute-force one (popcount distances, slot sums over tie
    groups, hypergeometric average where R splits one) to 1e-9; the codes hold large tie groups."""
    X_db, X_q, y_db, y_q = mnist
    if method == "flyhash":
        hasher = FlyHash(k=8, device="cpu").fit(X_db)
    elif method == "lsh":
        hasher = LSH(k=16, device="cpu").fit(X_db / 255)
    else:
        hasher, X_db, X_q = biohash, X_db / 255, X_q / 255
    q_codes, db_codes = hasher.transform(X_q), hasher.transform(X_db)
    largest_tie = max(np.bincount(row).max() for row in hamming(q_codes, db_codes))
    assert largest_tie >= 20
    got = mean_average_precision(q_codes, db_codes, y_q, y_db, R=R)
    assert got == pytest.approx(expected_map(q_codes, db_codes, y_q, y_db, R=R), abs=1e-9)
    assert 0.1 < got < 1  # above chance (10 classes): the codes carry the digits


# --- BioHash training ----------------------------------------------------------------------------------------------

def literal_krotov_hopfield(X: np.ndarray, m: int, delta: float, rank: int, lr: float, epochs: int, batch: int,
                            seed: int) -> np.ndarray:
    """The DESIGN's rule, p = 2: W₀ ~ N(0, 1) (m × d) then, per epoch t, a random order, and per minibatch X_b:
    I = X_b Wᵀ; g = 1 for each sample's top unit, −Δ for its rank-r unit, 0 otherwise; dW = gᵀX_b − diag(Σ_b g I) W;
    W ← W + ε_t·dW / max|dW| with ε_t = ε₀(1 − t/T). Draws (W₀, then one permutation per epoch) come from one
    seeded torch CPU generator, as train_synapses documents."""
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(m, X.shape[1], generator=gen).double().numpy()
    for epoch in range(epochs):
        order = torch.randperm(len(X), generator=gen).numpy()
        for start in range(0, len(X), batch):
            B = X[order[start:start + batch]]
            I = B @ W.T
            ranked = np.argsort(-I, axis=1)
            g = np.zeros_like(I)
            g[np.arange(len(B)), ranked[:, 0]] = 1.0
            if delta:
                g[np.arange(len(B)), ranked[:, rank - 1]] = -delta
            dW = g.T @ B - (g * I).sum(axis=0)[:, None] * W
            W = W + lr * (1 - epoch / epochs) * dW / np.abs(dW).max()
    return W


@pytest.mark.parametrize("delta, rank", [(0.0, 2), (0.4, 3)])
def test_training_equals_a_literal_krotov_hopfield_loop(mnist, delta, rank):
    """Two epochs of two minibatches of train_synapses (float64) equal the literal loop to 1e-12; BioHash.fit on
    float32 pixels gets the same synapses from the centred data to float32 precision."""
    X = mnist[0][:200] / 255
    centred = X - X.mean(axis=0)
    expected = literal_krotov_hopfield(centred, 20, delta, rank, lr=0.05, epochs=2, batch=100, seed=4)
    W, log = train_synapses(torch.from_numpy(centred), 20, PlasticityRule(delta=delta, rank=rank),
                            TrainingSchedule(lr=0.05, max_epochs=2, batch_size=100, tol=0), seed=4)
    assert len(log) == 2 and W.dtype == torch.float64
    np.testing.assert_allclose(W.numpy(), expected, rtol=0, atol=1e-12)
    assert np.abs(expected - torch.randn(20, 784, generator=torch.Generator().manual_seed(4)).numpy()).max() > 0.01
    fitted = BioHash(k=2, m=20, delta=delta, rank=rank, lr=0.05, max_epochs=2, batch_size=100, tol=0, seed=4,
                     centering="mean", device="cpu").fit(X)
    np.testing.assert_allclose(fitted.weights_.double().numpy(), expected, rtol=0, atol=1e-5)
