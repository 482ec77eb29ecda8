"""Tests for the data-driven baselines PCAHash, ITQ and SpectralHash, and the shared PCA helper, against numpy
references (including literal ports of the authors' MATLAB code) and the Hasher conventions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flymodel.hashing.base as base
import flymodel.hashing.pca as pca
from flymodel.hashing import ITQ, METHODS, Hasher, NotFittedError, PCAHash, SpectralHash, load_hasher, make_hasher
from flymodel.hashing.itq import random_rotation
from flymodel.hashing.pca import principal_components
from flymodel.hashing.spectral import spectral_modes

N, D = 300, 30
CLASSES = [PCAHash, ITQ, SpectralHash]
MATLAB_EPS = 2.220446049250313e-16


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    """Anisotropic Gaussian data with an offset: well-separated principal variances, so PCA is well defined."""
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.normal(size=(D, D)))
    scales = np.geomspace(5.0, 0.2, D)
    return ((rng.normal(size=(N, D)) * scales) @ rotation + 3.0).astype(np.float32)


@pytest.fixture(scope="module")
def Y(X) -> np.ndarray:
    """Unseen items with the same distribution as X."""
    rng = np.random.default_rng(1)
    return (X[rng.integers(0, N, 80)] + rng.normal(scale=0.5, size=(80, D))).astype(np.float32)


def numpy_pcs(X: np.ndarray, n: int) -> np.ndarray:
    """Reference PCA: the top-n eigenvectors (rows) of np.cov, largest-|.| entry made positive."""
    values, vectors = np.linalg.eigh(np.cov(X.astype(np.float64), rowvar=False))
    top = vectors[:, np.argsort(values)[::-1][:n]].T
    return top * np.sign(top[np.arange(n), np.abs(top).argmax(axis=1)])[:, None]


# --- every baseline ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("k", [1, 4, D])
def test_codes_are_k_dense_bits(cls, k, X, Y):
    h = cls(k=k, device="cpu").fit(X)
    for data in (X, Y):
        codes = h.transform(data)
        assert codes.dtype == np.bool_
        assert codes.shape == (data.shape[0], k)
    assert h.n_bits_ == k and cls.sparse is False


@pytest.mark.parametrize("cls", CLASSES)
def test_save_load_round_trip(cls, X, Y, tmp_path):
    h = cls(k=6, device="cpu").fit(X)
    h.save(tmp_path / "h.npz")
    for g in (load_hasher(str(tmp_path / "h.npz")), cls.load(tmp_path / "h.npz"), Hasher.load(tmp_path / "h.npz")):
        assert type(g) is cls and g.get_params() == h.get_params()
        assert g.fitted_attributes() == h.fitted_attributes()
        np.testing.assert_array_equal(g.transform(X), h.transform(X))
        np.testing.assert_array_equal(g.transform(Y), h.transform(Y))


@pytest.mark.parametrize("name,cls", [("pcahash", PCAHash), ("itq", ITQ), ("spectralhash", SpectralHash)])
def test_make_hasher(name, cls, X):
    assert METHODS[name] is cls
    h = make_hasher(name, k=5, device="cpu")
    assert isinstance(h, cls) and h.k == 5
    assert h.fit(X).transform(X).shape == (N, 5)


def test_unknown_method_lists_the_baselines():
    with pytest.raises(ValueError, match=r"method='pca' is not known; expected one of: .*\bitq, .*\bpcahash, spectralhash"):
        make_hasher("pca")


def test_params_deterministic_methods_have_no_seed():
    assert PCAHash().get_params() == {"k": 16, "device": "auto"}
    assert SpectralHash().get_params() == {"k": 16, "device": "auto"}
    assert ITQ().get_params() == {"k": 16, "n_iter": 50, "seed": 0, "device": "auto"}


@pytest.mark.parametrize("cls", CLASSES)
def test_refit_leaves_no_state(cls, X):
    h = cls(k=4, device="cpu").fit(X)
    X12 = np.random.default_rng(5).normal(size=(60, 12)).astype(np.float32)
    np.testing.assert_array_equal(h.fit(X12).transform(X12), cls(k=4, device="cpu").fit(X12).transform(X12))
    assert h.n_features_in_ == 12 and tuple(h.components_.shape) == (4, 12)


@pytest.mark.parametrize("cls", CLASSES)
def test_transform_in_blocks_gives_same_codes(cls, X, monkeypatch):
    h = cls(k=8, device="cpu").fit(X)
    whole = h.transform(X)
    monkeypatch.setattr(base, "TRANSFORM_BLOCK", 7 * h.n_units_)  # blocks of 7 rows
    np.testing.assert_array_equal(h.transform(X), whole)


# --- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES)
def test_k_larger_than_d_raises(cls, X):
    with pytest.raises(ValueError, match=f"k={D + 1} must be <= n_features={D} .*at most d principal directions"):
        cls(k=D + 1, device="cpu").fit(X)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("k", [0, -2])
def test_k_below_one_raises(cls, k, X):
    with pytest.raises(ValueError, match=f"k={k} is too small; expected k >= 1"):
        cls(k=k, device="cpu").fit(X)


@pytest.mark.parametrize("cls", CLASSES)
def test_k_not_an_integer_raises(cls, X):
    with pytest.raises(TypeError, match="k must be an integer; got 2.5"):
        cls(k=2.5, device="cpu").fit(X)


def test_itq_bad_n_iter_and_seed_raise(X):
    with pytest.raises(ValueError, match="n_iter=0 is too small; expected n_iter >= 1"):
        ITQ(k=4, n_iter=0, device="cpu").fit(X)
    with pytest.raises(ValueError, match="seed=-1 is too small; expected seed >= 0"):
        ITQ(k=4, seed=-1, device="cpu").fit(X)


@pytest.mark.parametrize("cls", CLASSES)
def test_nan_input_raises(cls, X):
    Z = X.copy()
    Z[3, 4] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        cls(k=4, device="cpu").fit(Z)
    h = cls(k=4, device="cpu").fit(X)
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        h.transform(Z)


@pytest.mark.parametrize("cls", CLASSES)
def test_transform_before_fit_raises(cls, X):
    with pytest.raises(NotFittedError, match=f"this {cls.__name__} is not fitted yet"):
        cls(k=4).transform(X)


# --- the PCA helper and PCAHash ----------------------------------------------------------------------
def test_principal_components_match_numpy(X):
    mean, comps = principal_components(torch.from_numpy(X), 10)
    assert mean.dtype == comps.dtype == torch.float32
    assert tuple(mean.shape) == (D,) and tuple(comps.shape) == (10, D)
    np.testing.assert_allclose(mean.numpy(), X.astype(np.float64).mean(axis=0), rtol=1e-6, atol=1e-6)
    ref = numpy_pcs(X, 10)
    # equal up to sign (the absolute cosine is 1), and the sign convention makes them equal outright
    np.testing.assert_allclose(np.abs((comps.numpy().astype(np.float64) * ref).sum(axis=1)), 1.0, atol=1e-5)
    np.testing.assert_allclose(comps.numpy(), ref, atol=1e-5)
    np.testing.assert_allclose(comps.numpy() @ comps.numpy().T, np.eye(10), atol=1e-5)
    # ordered by decreasing variance, and each direction's largest-magnitude entry is positive
    variances = ((X - X.mean(axis=0)) @ comps.numpy().T).var(axis=0)
    assert (np.diff(variances) < 0).all()
    c = comps.numpy()
    assert (c[np.arange(10), np.abs(c).argmax(axis=1)] > 0).all()


def test_principal_components_in_row_blocks(X, monkeypatch):
    whole = principal_components(torch.from_numpy(X), 5)
    monkeypatch.setattr(pca, "COVARIANCE_BLOCK", 7 * D)  # blocks of 7 rows, the last one short
    blocked = principal_components(torch.from_numpy(X), 5)
    for a, b in zip(whole, blocked):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_principal_components_sign_is_deterministic(X):
    _, a = principal_components(torch.from_numpy(X), 5)
    _, b = principal_components(torch.from_numpy(-X), 5)  # negating X leaves the covariance unchanged
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_principal_components_too_many_raises(X):
    with pytest.raises(ValueError, match=f"n_components={D + 1} must be <= n_features={D}"):
        principal_components(torch.from_numpy(X), D + 1)


def test_pcahash_codes_match_numpy_reference(X, Y):
    h = PCAHash(k=8, device="cpu").fit(X)
    mean, V = X.astype(np.float64).mean(axis=0), numpy_pcs(X, 8)
    for data in (X, Y):
        np.testing.assert_array_equal(h.transform(data), (data.astype(np.float64) - mean) @ V.T > 0)
    codes = h.transform(X)  # every bit splits the (centred) training data
    assert codes.any(axis=0).all() and (~codes).any(axis=0).all()


# --- ITQ ---------------------------------------------------------------------------------------------
def itq_projection(h: ITQ, X: np.ndarray) -> np.ndarray:
    """V = (X − mean) Pᵀ in float64 from the fitted PCA of an ITQ model."""
    return (X.astype(np.float64) - h.mean_.numpy()) @ h.components_.numpy().astype(np.float64).T


def quantization_loss(V: np.ndarray, R: np.ndarray) -> float:
    """min over B of ||B − V R||_F², reached at B = sgn(V R) (Gong & Lazebnik 2011, eq. 2)."""
    VR = V @ R
    return float(((np.where(VR >= 0, 1.0, -1.0) - VR) ** 2).sum())


def test_random_rotation_is_orthogonal_and_seeded():
    R = random_rotation(7, 3)
    assert R.dtype == torch.float64
    np.testing.assert_allclose(R.numpy().T @ R.numpy(), np.eye(7), atol=1e-12)
    assert torch.equal(R, random_rotation(7, 3)) and not torch.equal(R, random_rotation(7, 4))


def test_itq_rotation_is_orthogonal(X):
    R = ITQ(k=10, device="cpu").fit(X).rotation_.numpy()
    assert R.shape == (10, 10)
    np.testing.assert_allclose(R.T @ R, np.eye(10), atol=1e-5)


def test_itq_default_is_fifty_iterations():
    assert ITQ().n_iter == 50


def test_itq_quantization_loss_is_non_increasing(X):
    k, seed = 8, 2
    V = itq_projection(ITQ(k=k, n_iter=1, seed=seed, device="cpu").fit(X), X)
    losses = [quantization_loss(V, random_rotation(k, seed).numpy())]
    for n_iter in (1, 2, 3, 5, 10, 50):
        R = ITQ(k=k, n_iter=n_iter, seed=seed, device="cpu").fit(X).rotation_.numpy().astype(np.float64)
        losses.append(quantization_loss(V, R))
    assert all(b <= a * (1 + 1e-6) for a, b in zip(losses, losses[1:])), losses
    assert losses[-1] < losses[0]


def test_itq_matches_reference_iterations(X, Y):
    """A numpy port of ITQ.m's loop (UX = sgn(V R); [UB, sigma, UA] = svd(UX' V); R = UA UB'), same R0."""
    k, n_iter, seed = 6, 20, 1
    h = ITQ(k=k, n_iter=n_iter, seed=seed, device="cpu").fit(X)
    V = itq_projection(h, X)
    R = random_rotation(k, seed).numpy()
    for _ in range(n_iter):
        UX = np.where(V @ R >= 0, 1.0, -1.0)
        UB, _, UAt = np.linalg.svd(UX.T @ V)
        R = UAt.T @ UB.T
    np.testing.assert_allclose(h.rotation_.numpy(), R, atol=1e-5)
    for data in (X, Y):
        np.testing.assert_array_equal(h.transform(data), itq_projection(h, data) @ R > 0)


def test_itq_same_seed_same_codes(X, Y):
    a = ITQ(k=8, seed=7, device="cpu").fit(X)
    b = ITQ(k=8, seed=7, device="cpu").fit(X)
    assert torch.equal(a.rotation_, b.rotation_)
    np.testing.assert_array_equal(a.transform(Y), b.transform(Y))


def test_itq_different_seeds_different_rotations(X):
    a = ITQ(k=8, seed=0, device="cpu").fit(X).rotation_
    b = ITQ(k=8, seed=1, device="cpu").fit(X).rotation_
    assert not torch.allclose(a, b, atol=1e-3)


# --- Spectral Hashing --------------------------------------------------------------------------------
def train_sh(X: np.ndarray, nbits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Literal port of trainSH.m (1-based MATLAB indices kept in the loop), with pc from numpy's eigh."""
    Nsamples, Ndim = X.shape
    npca = min(nbits, Ndim)
    pc = numpy_pcs(X, npca).T  # [pc, l] = eigs(cov(X), npca)
    X = X.astype(np.float64) @ pc  # no need to remove the mean
    mn = X.min(axis=0) - MATLAB_EPS
    mx = X.max(axis=0) + MATLAB_EPS
    R = mx - mn
    maxMode = np.ceil((nbits + 1) * R / R.max()).astype(int)
    nModes = maxMode.sum() - len(maxMode) + 1
    modes = np.ones((nModes, npca))
    m = 1
    for i in range(1, npca + 1):
        for row, value in zip(range(m + 1, m + maxMode[i - 1]), range(2, maxMode[i - 1] + 1)):
            modes[row - 1, i - 1] = value  # modes(m+1:m+maxMode(i)-1, i) = 2:maxMode(i)
        m = m + maxMode[i - 1] - 1
    modes = modes - 1
    omega0 = np.pi / R
    omegas = modes * np.tile(omega0, (nModes, 1))
    eigVal = -(omegas ** 2).sum(axis=1)
    ii = np.argsort(-eigVal, kind="stable")  # MATLAB's sort is stable
    modes = modes[ii[1:nbits + 1], :]
    return pc, mn, mx, modes


def compress_sh(X: np.ndarray, pc: np.ndarray, mn: np.ndarray, mx: np.ndarray, modes: np.ndarray) -> np.ndarray:
    """Literal port of compressSH.m, returning U > 0."""
    Nsamples = X.shape[0]
    nbits = modes.shape[0]
    X = X.astype(np.float64) @ pc
    X = X - np.tile(mn, (Nsamples, 1))
    omega0 = np.pi / (mx - mn)
    omegas = modes * np.tile(omega0, (nbits, 1))
    U = np.zeros((Nsamples, nbits))
    for i in range(nbits):
        omegai = np.tile(omegas[i, :], (Nsamples, 1))
        ys = np.sin(X * omegai + np.pi / 2)
        U[:, i] = np.prod(ys, axis=1)
    return U > 0


@pytest.mark.parametrize("k", [1, 5, 12, D])
def test_spectralhash_matches_matlab_port(k, X, Y):
    h = SpectralHash(k=k, device="cpu").fit(X)
    pc, mn, mx, modes = train_sh(X, k)
    np.testing.assert_array_equal(h.modes_.numpy(), modes)
    np.testing.assert_allclose(h.mn_.numpy(), mn, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.mx_.numpy(), mx, rtol=1e-5, atol=1e-5)
    for data in (X, Y):
        np.testing.assert_array_equal(h.transform(data), compress_sh(data, pc, mn, mx, modes))


def test_spectralhash_first_bit_splits_top_pc_range_in_the_middle():
    """On nearly 1-D data every bit is a mode of the top direction; the first, cos(π (p − mn)/R), is p < midpoint."""
    rng = np.random.default_rng(3)
    direction = rng.normal(size=D)
    X = (rng.uniform(-4, 6, size=(N, 1)) * direction / np.linalg.norm(direction)
         + rng.normal(scale=0.01, size=(N, D))).astype(np.float32)
    h = SpectralHash(k=4, device="cpu").fit(X)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[:, 0] = [1, 2, 3, 4]
    np.testing.assert_array_equal(h.modes_.numpy(), expected)
    p = X.astype(np.float64) @ h.components_.numpy()[0].astype(np.float64)
    middle = (h.mn_[0].item() + h.mx_[0].item()) / 2
    np.testing.assert_array_equal(h.transform(X)[:, 0], p < middle)
    assert 0.3 < (p < middle).mean() < 0.7


def test_spectral_modes_have_smallest_eigenvalues():
    ranges = np.array([3.0, 2.2, 1.3, 0.4])
    nbits = 6
    chosen = spectral_modes(ranges, nbits)
    assert chosen.shape == (nbits, 4)
    assert ((chosen > 0).sum(axis=1) == 1).all()  # one-dimensional eigenfunctions only
    omega2 = lambda mode: float((((mode * np.pi) / ranges) ** 2).sum())  # noqa: E731
    # all candidate one-dimensional modes m = 1 .. nbits on each direction
    candidates = [np.eye(4, dtype=np.int64)[j] * m for j in range(4) for m in range(1, nbits + 1)]
    chosen_set = {tuple(c) for c in chosen}
    chosen_values = sorted(omega2(c) for c in chosen)
    assert chosen_values == [omega2(c) for c in chosen]  # in increasing eigenvalue order
    rest = [omega2(c) for c in candidates if tuple(c) not in chosen_set]
    assert max(chosen_values) <= min(rest)
    np.testing.assert_array_equal(chosen, sorted(candidates, key=omega2)[:nbits])


def test_spectral_modes_ties_resolve_in_enumeration_order():
    # ω² ties: mode 2 on a range-2 direction equals mode 1 on a range-1 direction; the stable sort keeps the
    # first direction's modes first, as MATLAB's sort does
    chosen = spectral_modes(np.array([2.0, 1.0, 1.0]), 3)
    np.testing.assert_array_equal(chosen, [[1, 0, 0], [2, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(spectral_modes(np.array([1.0, 1.0, 1.0]), 3), np.eye(3, dtype=np.int64))


def test_spectralhash_constant_data_raises():
    with pytest.raises(ValueError, match="does not vary along principal direction 0"):
        SpectralHash(k=2, device="cpu").fit(np.full((10, 5), 3.0, dtype=np.float32))
