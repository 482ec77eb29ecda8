"""Tests for flymodel.hashing: FlyHash and LSH codes, seeding, sklearn conventions, save/load and input errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import flymodel.hashing.base as base
from flymodel.hashing import FORMAT_VERSION, LSH, METHODS, BioHash, FlyHash, Hasher, NotFittedError, load_hasher, make_hasher

N, D = 200, 20


def re_shape(shape: tuple[int, ...]) -> str:
    return re.escape(str(shape))


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    return np.random.default_rng(0).random((N, D)).astype(np.float32)


@pytest.fixture(scope="module")
def Y() -> np.ndarray:
    """Other data with the same number of features (codes of unseen items)."""
    return np.random.default_rng(1).normal(size=(50, D)).astype(np.float32)


def reference_topk(acts: np.ndarray, k: int) -> np.ndarray:
    """k largest per row, ties to the lower index (stable sort of the negated activations)."""
    order = np.argsort(-acts, axis=1, kind="stable")[:, :k]
    mask = np.zeros(acts.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask


# --- FlyHash codes and wiring ----------------------------------------------------------------------
@pytest.mark.parametrize("k,m", [(1, None), (4, None), (16, 50), (49, 50)])
def test_flyhash_codes_are_k_sparse(X, k, m):
    codes = FlyHash(k=k, m=m, device="cpu").fit(X).transform(X)
    expected_m = 10 * D if m is None else m
    assert codes.shape == (N, expected_m)
    assert codes.dtype == np.bool_
    assert (codes.sum(axis=1) == k).all()


def test_flyhash_default_m_is_ten_times_d(X):
    h = FlyHash(k=4, device="cpu").fit(X)
    assert h.m is None  # the parameter is left untouched
    assert tuple(h.weights_.shape) == (10 * D, D)
    assert h.n_bits_ == 10 * D
    assert h.n_features_in_ == D


@pytest.mark.parametrize("d", [20, 50, 73])
def test_flyhash_fixed_sampling_fan_in(d):
    X = np.random.default_rng(d).random((30, d)).astype(np.float32)
    w = FlyHash(k=4, m=300, device="cpu").fit(X).weights_.numpy()
    assert set(np.unique(w)) <= {0.0, 1.0}
    assert (w.sum(axis=1) == round(0.1 * d)).all()


def test_flyhash_fixed_fan_in_six(X):
    w = FlyHash(k=4, fan_in=6, device="cpu").fit(X).weights_.numpy()
    assert set(np.unique(w)) <= {0.0, 1.0}
    assert (w.sum(axis=1) == 6).all()


def test_flyhash_sampling_rate_sets_fan_in(X):
    w = FlyHash(k=4, sampling_rate=0.25, device="cpu").fit(X).weights_.numpy()
    assert (w.sum(axis=1) == 5).all()


def test_flyhash_bernoulli_fan_in_varies_around_rate_times_d():
    d = 100
    X = np.random.default_rng(2).random((20, d)).astype(np.float32)
    w = FlyHash(k=4, sampling="bernoulli", sampling_rate=0.1, device="cpu").fit(X).weights_.numpy()
    assert w.shape == (10 * d, d)
    assert set(np.unique(w)) <= {0.0, 1.0}
    fan_in = w.sum(axis=1)
    assert fan_in.std() > 1.0  # binomial(100, 0.1): std 3
    assert abs(fan_in.mean() - 10.0) < 0.5  # standard error of the mean is about 0.1


@pytest.mark.parametrize("sampling, fan_in", [("fixed", 5), ("fixed", None), ("bernoulli", None)])
def test_flyhash_wiring_uses_every_input_equally_often(sampling, fan_in):
    """Each KC samples its inputs uniformly: over m = 20,000 KCs of d = 50 inputs at rate 0.1, each input's number of
    KCs is Binomial(20,000, 0.1) (mean 2,000, sd 42.4) and every count lies within 5 sd of the mean."""
    X = np.random.default_rng(8).random((10, 50)).astype(np.float32)
    w = FlyHash(k=4, m=20000, fan_in=fan_in, sampling=sampling, seed=9, device="cpu").fit(X).weights_.numpy()
    usage = w.sum(axis=0)
    sd = np.sqrt(20000 * 0.1 * 0.9)
    assert np.abs(usage - 2000).max() < 5 * sd, usage
    assert usage.std() > 0.5 * sd  # random, not a fixed round-robin pattern


def test_flyhash_codes_match_numpy_reference():
    """Integer-valued inputs make every sum exact, so the codes must equal the top-k of X @ W.T exactly, ties included."""
    X = np.random.default_rng(3).integers(0, 3, size=(100, D)).astype(np.float32)
    h = FlyHash(k=5, m=80, device="cpu").fit(X)
    acts = X.astype(np.float64) @ h.weights_.numpy().T.astype(np.float64)
    np.testing.assert_array_equal(h.transform(X), reference_topk(acts, 5))


def test_flyhash_sample_centering_equals_none_under_fixed_fan_in(X, Y):
    # subtracting a per-row constant c shifts every KC's input by c * fan_in: the same ranking, the same codes
    for seed in range(3):
        for fan_in in (None, 6):
            a = FlyHash(k=8, fan_in=fan_in, centering="sample", seed=seed, device="cpu").fit(X)
            b = FlyHash(k=8, fan_in=fan_in, centering="none", seed=seed, device="cpu").fit(X)
            np.testing.assert_array_equal(a.transform(X), b.transform(X))
            np.testing.assert_array_equal(a.transform(Y), b.transform(Y))


def test_flyhash_mean_centering_subtracts_training_mean(X, Y):
    h = FlyHash(k=8, centering="mean", device="cpu").fit(X)
    np.testing.assert_allclose(h.mean_.numpy(), X.mean(axis=0), rtol=1e-5, atol=1e-6)
    plain = FlyHash(k=8, centering="none", device="cpu").fit(X)
    np.testing.assert_array_equal(h.weights_.numpy(), plain.weights_.numpy())  # centring does not change wiring
    mean = h.mean_.numpy()
    np.testing.assert_array_equal(h.transform(Y), plain.transform(Y - mean))
    np.testing.assert_array_equal(h.transform(X), plain.transform(X - mean))


def test_flyhash_mean_centering_changes_codes():
    # features with very different means: subtracting them changes which KCs win
    rng = np.random.default_rng(4)
    X = (rng.random((200, D)) + np.linspace(0, 5, D)).astype(np.float32)
    a = FlyHash(k=8, centering="mean", device="cpu").fit(X).transform(X)
    b = FlyHash(k=8, centering="none", device="cpu").fit(X).transform(X)
    assert (a != b).any()


def test_flyhash_sample_centering_matters_for_bernoulli():
    # with varying fan-in the per-row shift c * fan_in differs across KCs, so 'sample' is not 'none'
    rng = np.random.default_rng(5)
    X = (rng.random((200, D)) + rng.random((200, 1)) * 10).astype(np.float32)
    kw = dict(k=8, sampling="bernoulli", sampling_rate=0.3, device="cpu")
    a = FlyHash(centering="sample", **kw).fit(X).transform(X)
    b = FlyHash(centering="none", **kw).fit(X).transform(X)
    assert (a != b).any()


def test_transform_in_blocks_gives_same_codes(X, monkeypatch):
    h = FlyHash(k=4, device="cpu").fit(X)
    whole = h.transform(X)
    monkeypatch.setattr(base, "TRANSFORM_BLOCK", 7 * h.n_units_)  # blocks of 7 rows
    np.testing.assert_array_equal(h.transform(X), whole)


# --- LSH ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 8, 64])
def test_lsh_codes_are_k_bits(X, k):
    h = LSH(k=k, device="cpu").fit(X)
    codes = h.transform(X)
    assert codes.shape == (N, k)
    assert codes.dtype == np.bool_
    assert tuple(h.projections_.shape) == (k, D)
    assert h.n_bits_ == k


def test_lsh_codes_are_signs_of_centred_projections(X, Y):
    h = LSH(k=16, device="cpu").fit(X)
    P, mean = h.projections_.numpy(), h.mean_.numpy()
    np.testing.assert_array_equal(h.transform(Y), (Y - mean) @ P.T > 0)
    # with the default centring every bit splits the training data, neither all True nor all False
    codes = h.transform(X)
    assert codes.any(axis=0).all() and (~codes).any(axis=0).all()


def test_lsh_none_centering(X):
    h = LSH(k=16, centering="none", device="cpu").fit(X)
    np.testing.assert_array_equal(h.transform(X), X @ h.projections_.numpy().T > 0)


# --- seeding and refitting ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_same_seed_same_codes(cls, X, Y):
    a = cls(k=8, seed=7, device="cpu").fit(X)
    b = cls(k=8, seed=7, device="cpu").fit(X)
    np.testing.assert_array_equal(a.transform(Y), b.transform(Y))


@pytest.mark.parametrize("cls,attr", [(FlyHash, "weights_"), (LSH, "projections_")])
def test_different_seed_different_weights(cls, attr, X):
    a = getattr(cls(k=8, seed=0, device="cpu").fit(X), attr)
    b = getattr(cls(k=8, seed=1, device="cpu").fit(X), attr)
    assert not torch.equal(a, b)


def test_bernoulli_same_seed_same_weights(X):
    a = FlyHash(k=8, sampling="bernoulli", seed=3, device="cpu").fit(X).weights_
    b = FlyHash(k=8, sampling="bernoulli", seed=3, device="cpu").fit(X).weights_
    assert torch.equal(a, b)


@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_refit_leaves_no_state(cls, X, Y):
    h = cls(k=8, seed=2, device="cpu")
    first = h.fit(X).transform(Y)
    second = h.fit(X).transform(Y)
    np.testing.assert_array_equal(first, second)
    # refitting on data of another width replaces every fitted attribute
    X30 = np.random.default_rng(9).random((40, 30)).astype(np.float32)
    h.fit(X30)
    assert h.n_features_in_ == 30
    fresh = cls(k=8, seed=2, device="cpu").fit(X30)
    np.testing.assert_array_equal(h.transform(X30), fresh.transform(X30))
    with pytest.raises(ValueError, match="has 20 features, but (FlyHash|LSH) is expecting 30 features as input"):
        h.transform(X)


def test_fit_transform_equals_fit_then_transform(X):
    a = FlyHash(k=4, device="cpu").fit_transform(X)
    b = FlyHash(k=4, device="cpu").fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


# --- save / load -------------------------------------------------------------------------------------
HASHERS = [
    FlyHash(k=5, device="cpu"),
    FlyHash(k=5, m=150, sampling="bernoulli", sampling_rate=0.2, centering="mean", seed=3, device="cpu"),
    FlyHash(k=3, fan_in=6, centering="sample", seed=4, device="cpu"),
    LSH(k=12, device="cpu"),
    LSH(k=7, centering="none", seed=5, device="cpu"),
]


@pytest.mark.parametrize("hasher", HASHERS, ids=repr)
@pytest.mark.parametrize("loader", ["load_hasher", "class", "Hasher"])
def test_save_load_round_trip(hasher, loader, X, Y, tmp_path):
    h = type(hasher)(**hasher.get_params()).fit(X)
    path = tmp_path / "model.npz"
    h.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind
    if loader == "load_hasher":
        g = load_hasher(str(path))
    elif loader == "class":
        g = type(h).load(path)
    else:
        g = Hasher.load(path)
    assert type(g) is type(h)
    assert g.get_params() == h.get_params()
    assert g.is_fitted()
    assert g.fitted_attributes() == h.fitted_attributes()
    assert g.n_features_in_ == h.n_features_in_
    np.testing.assert_array_equal(g.transform(X), h.transform(X))
    np.testing.assert_array_equal(g.transform(Y), h.transform(Y))


def test_load_device_override(X, tmp_path):
    h = FlyHash(k=4, device="auto").fit(X)
    h.save(tmp_path / "h.npz")
    g = FlyHash.load(tmp_path / "h.npz", device="cpu")
    assert g.device == "cpu"
    np.testing.assert_array_equal(g.transform(X), h.transform(X))


def test_load_flyhash_file_as_lsh_raises(X, tmp_path):
    FlyHash(k=4, device="cpu").fit(X).save(tmp_path / "fly.npz")
    with pytest.raises(ValueError, match="holds a FlyHash, not a LSH"):
        LSH.load(tmp_path / "fly.npz")


def test_load_file_without_meta_raises(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, weights_=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="no __meta__"):
        load_hasher(str(path))
    with pytest.raises(ValueError, match="no __meta__"):
        FlyHash.load(path)


def test_load_a_plain_npy_array_raises_a_clear_error(tmp_path):
    path = tmp_path / "codes.npy"
    np.save(path, np.zeros((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="codes.npy is not a flymodel hasher file: it holds one array"):
        Hasher.load(path)


def test_load_other_format_version_raises(X, tmp_path):
    path = tmp_path / "h.npz"
    LSH(k=4, device="cpu").fit(X).save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["format_version"] = FORMAT_VERSION + 1
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError, match=f"format_version={FORMAT_VERSION + 1}"):
        load_hasher(str(path))


@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_save_before_fit_raises(cls, tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        cls(k=4).save(tmp_path / "h.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_with_numpy_integer_params(X, tmp_path):
    h = FlyHash(k=np.int64(4), m=np.int64(100), device="cpu").fit(X)
    h.save(tmp_path / "h.npz")
    g = load_hasher(str(tmp_path / "h.npz"))
    np.testing.assert_array_equal(g.transform(X), h.transform(X))


# --- sklearn conventions -----------------------------------------------------------------------------
def test_get_params():
    assert FlyHash().get_params() == {"k": 16, "m": None, "sampling_rate": 0.1, "fan_in": None, "sampling": "fixed",
                                      "centering": "none", "seed": 0, "device": "auto"}
    assert LSH(k=3, seed=2).get_params() == {"k": 3, "centering": "mean", "seed": 2, "device": "auto"}


@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_set_params(cls, X):
    h = cls(k=4, device="cpu")
    assert h.set_params(k=6, seed=3) is h
    assert h.get_params()["k"] == 6 and h.get_params()["seed"] == 3
    codes = h.fit(X).transform(X)
    assert codes.shape[1] == 6 or (codes.sum(axis=1) == 6).all()
    with pytest.raises(ValueError, match="Invalid parameter 'bogus' for estimator " + cls.__name__):
        h.set_params(bogus=1)


def test_set_params_does_not_validate_until_fit(X):
    h = FlyHash(device="cpu").set_params(k=0)  # stored as given, like sklearn
    assert h.k == 0
    with pytest.raises(ValueError, match="k=0"):
        h.fit(X)


def test_clone_from_params(X):
    h = FlyHash(k=5, m=60, centering="mean", seed=8, device="cpu")
    clone = FlyHash(**h.get_params())
    np.testing.assert_array_equal(clone.fit(X).transform(X), h.fit(X).transform(X))


def test_repr_shows_params():
    # scikit-learn's repr: the parameters set away from their defaults
    assert repr(FlyHash(k=7, m=300, centering="mean")) == "FlyHash(centering='mean', k=7, m=300)"
    assert repr(LSH(k=9)) == "LSH(k=9)"


@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_fit_returns_self_and_sets_underscored_attributes(cls, X):
    h = cls(k=4, device="cpu")
    params = h.get_params()
    before = set(vars(h))
    assert not h.is_fitted()
    assert h.fit(X) is h
    assert h.is_fitted()
    added = set(vars(h)) - before
    assert added and all(name.endswith("_") for name in added)
    assert set(h.fitted_attributes()) == added
    assert h.get_params() == params  # fit does not change parameters


def test_registry_and_make_hasher():
    assert METHODS["flyhash"] is FlyHash and METHODS["lsh"] is LSH and METHODS["biohash"] is BioHash
    assert Hasher.registry["FlyHash"] is FlyHash and Hasher.registry["LSH"] is LSH
    h = make_hasher("flyhash", k=3, m=40)
    assert isinstance(h, FlyHash) and h.k == 3 and h.m == 40
    assert isinstance(make_hasher("lsh"), LSH)
    assert FlyHash.sparse is True and LSH.sparse is False


# --- torch input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [FlyHash, LSH])
def test_torch_tensor_input(cls, X):
    h = cls(k=4, device="cpu")
    codes = h.fit(torch.from_numpy(X)).transform(torch.from_numpy(X).double())
    assert isinstance(codes, np.ndarray) and codes.dtype == np.bool_
    np.testing.assert_array_equal(codes, cls(k=4, device="cpu").fit(X).transform(X))
    grad = torch.from_numpy(X).clone().requires_grad_(True)
    np.testing.assert_array_equal(h.transform(grad), codes)


def test_list_and_integer_input(X):
    h = FlyHash(k=2, m=30, device="cpu").fit(X)
    ints = np.random.default_rng(0).integers(0, 5, size=(4, D))
    np.testing.assert_array_equal(h.transform(ints.tolist()), h.transform(ints.astype(np.float32)))


# --- bad input ---------------------------------------------------------------------------------------
@pytest.fixture(params=[FlyHash, LSH], ids=["flyhash", "lsh"])
def hasher_cls(request):
    return request.param


@pytest.mark.parametrize("bad,match", [(np.nan, "X contains 1 NaN or infinite"), (np.inf, "X contains 1 NaN or infinite"),
                                        (-np.inf, "X contains 1 NaN or infinite")])
def test_non_finite_X(hasher_cls, X, bad, match):
    Z = X.copy()
    Z[3, 4] = bad
    with pytest.raises(ValueError, match=match):
        hasher_cls(k=4, device="cpu").fit(Z)
    h = hasher_cls(k=4, device="cpu").fit(X)
    with pytest.raises(ValueError, match=match):
        h.transform(Z)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_float64_overflow_to_inf_is_caught(X):
    Z = X.astype(np.float64)
    Z[0, 0] = 1e300  # finite in float64, infinite once cast to float32
    with pytest.raises(ValueError, match="NaN or infinite"):
        FlyHash(k=4, device="cpu").fit(Z)


@pytest.mark.parametrize("shape", [(D,), (2, 3, D)])
def test_wrong_ndim_X(hasher_cls, shape):
    with pytest.raises(ValueError, match=r"X must be 2-D \(n_samples, n_features\); got shape " + re_shape(shape)):
        hasher_cls(k=4, device="cpu").fit(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("shape", [(0, D), (5, 0)])
def test_empty_X(hasher_cls, shape):
    with pytest.raises(ValueError, match=r"X is empty: shape " + re_shape(shape)):
        hasher_cls(k=4, device="cpu").fit(np.zeros(shape, dtype=np.float32))


def test_empty_X_in_transform(hasher_cls, X):
    h = hasher_cls(k=4, device="cpu").fit(X)
    with pytest.raises(ValueError, match=r"X is empty"):
        h.transform(np.zeros((0, D), dtype=np.float32))


@pytest.mark.parametrize("bad,dtype", [(np.array([["a", "b"], ["c", "d"]]), "<U1"),
                                       (np.array([[b"x", b"y"]]), "|S1")])
def test_non_numeric_X(hasher_cls, bad, dtype):
    with pytest.raises(TypeError, match="X must be a numeric array; got dtype " + re.escape(dtype)):
        hasher_cls(k=1, device="cpu").fit(bad)


def test_object_X_holding_numbers_converts_and_anything_else_is_named(hasher_cls):
    numbers = np.array([[1.0, 2], [2.0, 3.5], [0.5, 1]], dtype=object)
    np.testing.assert_array_equal(hasher_cls(k=1, device="cpu").fit_transform(numbers),
                                  hasher_cls(k=1, device="cpu").fit_transform(numbers.astype(float)))
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):  # None is a missing value
        hasher_cls(k=1, device="cpu").fit(np.array([[1.0, None], [2.0, 3.0]], dtype=object))
    with pytest.raises(TypeError, match="X must be a numeric array; its dtype object holds a non-number: float"):
        hasher_cls(k=1, device="cpu").fit(np.array([[1.0, {"a": 1}], [2.0, 3.0]], dtype=object))


def test_ragged_X(hasher_cls):
    with pytest.raises(TypeError, match="X must be a 2-D numeric array"):
        hasher_cls(k=1, device="cpu").fit([[1.0, 2.0], [3.0]])


def test_flyhash_k_not_below_m(X):
    with pytest.raises(ValueError, match=r"k=10 must be smaller than m=10"):
        FlyHash(k=10, m=10, device="cpu").fit(X)
    with pytest.raises(ValueError, match=r"k=200 must be smaller than m=200"):
        FlyHash(k=200, device="cpu").fit(X)  # default m = 10 * 20


@pytest.mark.parametrize("k", [0, -3])
def test_k_below_one(hasher_cls, X, k):
    with pytest.raises(ValueError, match=rf"k={k} is too small; expected k >= 1"):
        hasher_cls(k=k, device="cpu").fit(X)


@pytest.mark.parametrize("k", [2.5, 4.0, "4", True, None])
def test_non_integer_k(hasher_cls, X, k):
    with pytest.raises(TypeError, match="k must be an integer"):
        hasher_cls(k=k, device="cpu").fit(X)


def test_numpy_integer_k_is_accepted(hasher_cls, X):
    codes = hasher_cls(k=np.int64(3), device="cpu").fit(X).transform(X)
    assert codes.shape[1] == 3 or (codes.sum(axis=1) == 3).all()


@pytest.mark.parametrize("m", [1, 0, 2.5])
def test_bad_m(X, m):
    with pytest.raises((ValueError, TypeError), match="m"):
        FlyHash(k=1, m=m, device="cpu").fit(X)


def test_transform_before_fit(hasher_cls, X):
    with pytest.raises(NotFittedError, match=f"this {hasher_cls.__name__} is not fitted yet; call fit"):
        hasher_cls(k=4).transform(X)


def test_transform_wrong_number_of_features(hasher_cls, X):
    h = hasher_cls(k=4, device="cpu").fit(X)
    with pytest.raises(ValueError, match=f"X has {D + 1} features, but {hasher_cls.__name__} is expecting {D} features as input"):
        h.transform(np.zeros((3, D + 1), dtype=np.float32))


def test_unknown_method():
    with pytest.raises(ValueError, match=r"method='biohash2' is not known; expected one of: bioconvhash, biohash, circuit, flyhash, itq, lsh, naivebiohash, pcahash, spectralhash"):
        make_hasher("biohash2")


def test_unknown_centering(hasher_cls, X):
    with pytest.raises(ValueError, match=r"centering='median' is not known; expected one of: mean, none, sample"):
        hasher_cls(k=4, centering="median", device="cpu").fit(X)


def test_unknown_sampling(X):
    with pytest.raises(ValueError, match=r"sampling='uniform' is not known; expected one of: bernoulli, fixed"):
        FlyHash(k=4, sampling="uniform", device="cpu").fit(X)


@pytest.mark.parametrize("rate", [0, 0.0, -0.1, 1.5, float("nan")])
def test_sampling_rate_outside_unit_interval(X, rate):
    with pytest.raises(ValueError, match=r"sampling_rate=.* is outside \(0, 1\]"):
        FlyHash(k=4, sampling_rate=rate, device="cpu").fit(X)


def test_sampling_rate_one_is_allowed(X):
    h = FlyHash(k=4, sampling_rate=1, device="cpu").fit(X)
    assert (h.weights_.sum(dim=1) == D).all()


def test_sampling_rate_not_a_number(X):
    with pytest.raises(TypeError, match="sampling_rate must be a number"):
        FlyHash(k=4, sampling_rate="0.1", device="cpu").fit(X)


def test_fan_in_larger_than_d(X):
    with pytest.raises(ValueError, match=rf"fan_in={D + 1} is too large; expected fan_in <= {D}"):
        FlyHash(k=4, fan_in=D + 1, device="cpu").fit(X)
    with pytest.raises(ValueError, match=r"fan_in=0 is too small"):
        FlyHash(k=4, fan_in=0, device="cpu").fit(X)


def test_fan_in_with_bernoulli(X):
    with pytest.raises(ValueError, match=r"fan_in=6 .*needs sampling='fixed', got 'bernoulli'"):
        FlyHash(k=4, fan_in=6, sampling="bernoulli", device="cpu").fit(X)


def test_negative_seed(hasher_cls, X):
    with pytest.raises(ValueError, match=r"seed=-1 is too small"):
        hasher_cls(k=4, seed=-1, device="cpu").fit(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_device_without_cuda(hasher_cls, X):
    with pytest.raises(ValueError, match=r"device='cuda' was requested but CUDA is not available"):
        hasher_cls(k=4, device="cuda").fit(X)


def test_nonsense_device(hasher_cls, X):
    with pytest.raises(ValueError, match=r"device='nonsense' is not a torch device"):
        hasher_cls(k=4, device="nonsense").fit(X)


def test_auto_device_works(hasher_cls, X):
    h = hasher_cls(k=4, device="auto").fit(X)
    assert h.torch_device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert h.transform(X).shape[0] == N


@pytest.mark.parametrize("method", sorted(METHODS))
def test_reading_a_fitted_property_before_fit_names_the_fix(method):
    """n_bits_ and code_size_ raise scikit-learn's NotFittedError (an AttributeError), not a missing-attribute error."""
    hasher = make_hasher(method)
    for name in ("n_bits_", "code_size_"):
        with pytest.raises(NotFittedError, match=f"is not fitted yet; call fit\\(X\\) before {name}"):
            getattr(hasher, name)
        assert not hasattr(hasher, name)
