"""BioConvHash (section 2.4): patch-normalised convolution against loops, channel inhibition, patches, features,
the estimator (codes, determinism, save/load, parameters), the sparse feature store, the feature cache, and
resuming an interrupted fit from its checkpoints."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
import torch

import flymodel
import flymodel.hashing.bioconvhash as bioconvhash
import flymodel.learning as learning
from flymodel.hashing import METHODS, BioConvHash, load_hasher, make_hasher
from flymodel.hashing.bioconvhash import (CentredFeatures, channel_inhibition, conv_features, patch_normalised_conv,
                                          resolve_image_shape, rows_to_images, sample_patches)
from flymodel.hashing.feature_store import SparseRows
from flymodel.learning import PlasticityRule, TrainingSchedule, train_synapses


def direct_conv(images: np.ndarray, filters: np.ndarray, stride: int, p: float) -> np.ndarray:
    """Section 2.4 written patch by patch: Σ_i |W_fi|^(p−2) W_fi P_i / ‖P‖₂, and 0 for an all-zero patch."""
    n, _, height, width = images.shape
    n_filters, _, size, _ = filters.shape
    out = np.zeros((n, n_filters, (height - size) // stride + 1, (width - size) // stride + 1))
    for i in range(n):
        for f in range(n_filters):
            for y in range(out.shape[2]):
                for x in range(out.shape[3]):
                    patch = images[i, :, y * stride:y * stride + size, x * stride:x * stride + size]
                    norm = np.sqrt((patch ** 2).sum())
                    weights = np.abs(filters[f]) ** (p - 2) * filters[f]
                    out[i, f, y, x] = (weights * patch).sum() / norm if norm > 0 else 0.0
    return out


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("p", [2.0, 3.0])
def test_patch_normalised_conv_equals_per_patch_computation(stride, p):
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 3, 7, 8))
    images[0, :, :3, :3] = 0.0  # the patch at (0, 0) of image 0 is all zero
    filters = rng.normal(size=(4, 3, 3, 3))
    got = patch_normalised_conv(torch.from_numpy(images), torch.from_numpy(filters), stride=stride, p=p).numpy()
    np.testing.assert_allclose(got, direct_conv(images, filters, stride, p), rtol=1e-10, atol=1e-12)
    assert got[0, :, 0, 0].tolist() == [0.0] * 4 and np.isfinite(got).all()


def test_patch_normalised_conv_is_invariant_to_patch_intensity():
    """Divisive normalisation: scaling an image does not change its activations."""
    images = torch.rand(2, 1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.1
    filters = torch.randn(3, 1, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(patch_normalised_conv(5 * images, filters), patch_normalised_conv(images, filters))


def test_channel_inhibition_keeps_the_k_ci_largest_channels_per_location():
    activations = torch.randn(3, 12, 4, 5, generator=torch.Generator().manual_seed(0))
    out = channel_inhibition(activations, 4)
    kept = out != 0
    assert (kept.sum(dim=1) == 4).all()
    top = torch.topk(activations, 4, dim=1).indices
    assert kept.gather(1, top).all()
    torch.testing.assert_close(out[kept], activations[kept], rtol=0, atol=0)
    torch.testing.assert_close(channel_inhibition(activations, 12), activations, rtol=0, atol=0)


def test_channel_inhibition_keeps_exactly_k_ci_values_among_ties():
    activations = torch.zeros(1, 5, 2, 2)
    activations[0, :, 0, 0] = torch.tensor([1.0, 2.0, 2.0, 2.0, 0.5])
    activations[0, :, 1, 1] = 1.0  # every channel tied
    out = channel_inhibition(activations, 2)
    assert sorted(out[0, :, 0, 0].tolist()) == [0.0, 0.0, 0.0, 2.0, 2.0]
    assert sorted(out[0, :, 1, 1].tolist()) == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert (out[0, :, 0, 1] == 0).all()  # all-zero location stays zero whichever channels are kept
    torch.testing.assert_close(channel_inhibition(activations, 2), out, rtol=0, atol=0)  # deterministic


@pytest.mark.parametrize("k_ci", [0, 6, 1.5])
def test_channel_inhibition_refuses_k_ci_outside_one_to_f(k_ci):
    with pytest.raises(ValueError, match=f"k_ci={k_ci}"):
        channel_inhibition(torch.zeros(1, 5, 2, 2), k_ci)


def test_conv_features_shape_for_mnist_sized_images_and_too_large_layers():
    images = torch.rand(2, 1, 28, 28)
    banks = [torch.randn(6, 1, 3, 3), torch.randn(6, 1, 4, 4)]
    assert conv_features(images, banks, k_ci=2).shape == (2, 2 * 6 * 10 * 10)  # 26×26 and 25×25 pool to 10×10
    with pytest.raises(ValueError, match="kernel size K=29 is larger than the 28×28 images"):
        conv_features(images, [torch.randn(6, 1, 29, 29)], k_ci=2)
    with pytest.raises(ValueError, match="pool_kernel=7 is larger than the 4×4 output of the K=25 convolution"):
        conv_features(images, [torch.randn(6, 1, 25, 25)], k_ci=2)


def test_conv_features_is_conv_inhibition_then_pooling_per_bank():
    images = torch.rand(3, 2, 9, 9, dtype=torch.float64)
    banks = [torch.randn(5, 2, 3, 3, dtype=torch.float64), torch.randn(5, 2, 2, 2, dtype=torch.float64)]
    expected = torch.cat([torch.nn.functional.max_pool2d(channel_inhibition(patch_normalised_conv(images, b), 2), 3, 2).flatten(1)
                          for b in banks], dim=1)
    torch.testing.assert_close(conv_features(images, banks, 2, pool_kernel=3, pool_stride=2), expected, rtol=0, atol=0)


def test_sample_patches_are_unit_seeded_and_drop_zero_patches():
    images = torch.rand(5, 2, 8, 8)
    images[:, :, :4, :] = 0.0  # the top half of every image is blank
    a = sample_patches(images, 3, 400, torch.Generator().manual_seed(0))
    b = sample_patches(images, 3, 400, torch.Generator().manual_seed(0))
    c = sample_patches(images, 3, 400, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not (a.shape == c.shape and torch.equal(a, c))
    assert a.shape[1] == 2 * 3 * 3 and 0 < a.shape[0] < 400  # some patches fall in the blank half and are dropped
    torch.testing.assert_close(a.norm(dim=1), torch.ones(a.shape[0]))


def test_sample_patches_follow_the_filters_channel_order():
    """A patch drawn from a one-image set of one possible position equals that image's (C, K, K) block, normalised."""
    image = torch.rand(1, 3, 4, 4) + 0.1
    patch = sample_patches(image, 4, 1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(patch[0], image.flatten() / image.norm())


def test_rows_to_images_reads_hwc_rows():
    images = np.random.default_rng(0).random((2, 5, 4, 3)).astype(np.float32)  # (N, H, W, C) as ImageDataset stores
    got = rows_to_images(torch.from_numpy(images.reshape(2, -1)), (5, 4, 3))
    np.testing.assert_array_equal(got.numpy(), images.transpose(0, 3, 1, 2))


def test_image_shape_is_inferred_or_checked():
    assert resolve_image_shape(None, 784) == (28, 28, 1) and resolve_image_shape(None, 3072) == (32, 32, 3)
    assert resolve_image_shape([6, 5, 2], 60) == (6, 5, 2)
    with pytest.raises(ValueError, match="image_shape=None cannot be inferred from d=100"):
        resolve_image_shape(None, 100)
    with pytest.raises(ValueError, match=r"image_shape=\(6, 5, 1\) holds H·W·C=30 values but X has d=60"):
        resolve_image_shape((6, 5, 1), 60)


# --- the estimator ---------------------------------------------------------------------------------------------
def tiny_images(n: int = 60, seed: int = 0) -> np.ndarray:
    """n 12×12 grey images (flattened rows): a random bright bar on a blank background, plus noise."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 12, 12), dtype=np.float32)
    for image in images:
        row, col = rng.integers(1, 9, 2)
        if rng.random() < 0.5:
            image[row:row + 3, 1:11] = 1.0
        else:
            image[1:11, col:col + 3] = 1.0
    images += 0.1 * rng.random(images.shape).astype(np.float32) * (rng.random(images.shape) < 0.3)
    return images.reshape(n, -1)


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    """The tiny image set shared by the estimator tests."""
    return tiny_images()


def small(**kw: object) -> BioConvHash:
    """A BioConvHash small enough to fit in a fraction of a second, with kw overriding its parameters."""
    return BioConvHash(**{"k": 2, "m": 20, "kernel_sizes": (3, 4), "n_filters": 6, "k_ci": 2, "pool_kernel": 3,
                          "pool_stride": 2, "image_shape": (12, 12, 1), "n_patches": 300, "max_epochs": 3,
                          "batch_size": 20, "device": "cpu", **kw})


@pytest.fixture(scope="module")
def fitted(X: np.ndarray) -> BioConvHash:
    """small() fitted once on X, shared by the tests that only read it."""
    return small().fit(X)


def test_codes_are_k_sparse_and_features_have_the_bank_shapes(fitted, X):
    codes = fitted.transform(X)
    assert codes.shape == (60, 20) and codes.dtype == bool and (codes.sum(axis=1) == 2).all()
    assert fitted.filters_k3_.shape == (6, 1, 3, 3) and fitted.filters_k4_.shape == (6, 1, 4, 4)
    assert fitted.feature_dim_ == 6 * 4 * 4 + 6 * 4 * 4 == fitted.weights_.shape[1]  # 10×10 and 9×9 pool (3, 2) to 4×4
    assert fitted.feature_mean_.shape == (fitted.feature_dim_,)
    assert len(fitted.filter_logs_) == 2 and all(0 < n <= 300 for n in fitted.n_patches_)
    assert fitted.n_units_ >= 6 * 10 * 10


def test_same_seed_same_codes_other_seed_other_codes(fitted, X):
    np.testing.assert_array_equal(small().fit(X).transform(X), fitted.transform(X))
    assert not np.array_equal(small(seed=1).fit(X).transform(X), fitted.transform(X))


def test_transform_in_blocks_equals_one_block(fitted, X):
    whole = fitted.transform(X)
    fitted.set_params(block_size=7)
    try:
        np.testing.assert_array_equal(fitted.transform(X), whole)
    finally:
        fitted.set_params(block_size=256)


def test_save_load_round_trip(fitted, X, tmp_path):
    fitted.save(tmp_path / "conv.npz")
    loaded = load_hasher(str(tmp_path / "conv.npz"))
    assert isinstance(loaded, BioConvHash)
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    for name in ("filters_k3_", "filters_k4_", "weights_", "feature_mean_"):
        torch.testing.assert_close(getattr(loaded, name), getattr(fitted, name), rtol=0, atol=0)
    assert loaded.training_log_ == fitted.training_log_ and loaded.filter_logs_ == fitted.filter_logs_


def test_without_mean_centring_no_mean_is_stored_and_save_load_still_round_trips(X, tmp_path):
    h = small(centering="none").fit(X)
    assert h.feature_mean_ is None
    h.save(tmp_path / "none.npz")
    loaded = load_hasher(str(tmp_path / "none.npz"))
    assert loaded.feature_mean_ is None
    np.testing.assert_array_equal(loaded.transform(X), h.transform(X))


def test_params_registry_and_make_hasher(X):
    h = make_hasher("bioconvhash", k=3, n_filters=8)
    assert isinstance(h, BioConvHash) and METHODS["bioconvhash"] is BioConvHash and flymodel.BioConvHash is BioConvHash
    assert h.get_params()["n_filters"] == 8 and h.set_params(k_ci=4).k_ci == 4
    with pytest.raises(ValueError, match="Invalid parameter 'kernel' for estimator BioConvHash"):
        h.set_params(kernel=3)
    h = make_hasher("bioconvhash", **small().get_params())
    np.testing.assert_array_equal(h.fit(X).transform(X[:5]), small().fit(X).transform(X[:5]))


def test_mnist_and_cifar_shapes_are_inferred():
    rng = np.random.default_rng(0)
    mnist = BioConvHash(k=2, m=10, n_filters=3, k_ci=1, n_patches=50, max_epochs=1, batch_size=5, device="cpu")
    assert mnist.fit(rng.random((10, 784), dtype=np.float32)).image_shape_ == (28, 28, 1)
    assert mnist.feature_dim_ == 2 * 3 * 10 * 10
    cifar = BioConvHash(k=2, m=10, kernel_sizes=(3,), n_filters=3, k_ci=1, n_patches=50, max_epochs=1, batch_size=5,
                        device="cpu").fit(rng.random((10, 3072), dtype=np.float32))
    assert cifar.image_shape_ == (32, 32, 3) and cifar.filters_k3_.shape == (3, 3, 3, 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"k_ci": 7}, r"k_ci=7 is outside its range; expected an integer 1 <= k_ci <= n_filters=6"),
    ({"k_ci": 0}, "k_ci=0 is outside its range"),
    ({"kernel_sizes": ()}, r"kernel_sizes=\(\) must be a non-empty tuple"),
    ({"kernel_sizes": (3, 0)}, r"kernel_sizes=\(3, 0\) must hold integer kernel sizes >= 1"),
    ({"kernel_sizes": (3, 3)}, "holds duplicates"),
    ({"kernel_sizes": (13,)}, "kernel size K=13 is larger than the 12×12 images"),
    ({"image_shape": (12, 12, 3)}, r"image_shape=\(12, 12, 3\) holds H·W·C=432 values but X has d=144"),
    ({"image_shape": None}, "image_shape=None cannot be inferred from d=144"),
    ({"pool_kernel": 10}, "pool_kernel=10 is larger than the 9×9 output of the K=4 convolution"),
    ({"k": 20}, "k=20 must be smaller than m=20"),
    ({"activity": 0.0, "m": None}, "activity=0.0"), ({"activity": 1.5, "m": None}, "activity=1.5"),
    ({"n_filters": 0}, "n_filters=0"), ({"stride": 0}, "stride=0"), ({"pool_stride": 0}, "pool_stride=0"),
    ({"n_patches": 10}, "n_patches=10 is smaller than batch_size=20"), ({"block_size": 0}, "block_size=0"),
    ({"batch_size": 61}, "batch_size=61 is too large"), ({"centering": "zscore"}, "centering='zscore'"),
    ({"p": 0.5}, "p=0.5"), ({"seed": -1}, "seed=-1"), ({"rank": 7, "delta": 0.3}, "rank=7 is too large"),
])
def test_bad_parameters_are_named(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        small(**kwargs).fit(X)


def test_too_few_non_blank_patches_is_explained(X):
    blank = np.zeros_like(X)
    blank[:, 0] = 1.0  # only the patches covering pixel (0, 0) are not all zero
    with pytest.raises(ValueError, match="patches of size K=3 are not all-zero, fewer than batch_size=20"):
        small().fit(blank)


def test_non_finite_input_is_refused(fitted, X):
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        small().fit(bad)
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        fitted.transform(bad)


# --- the feature store and training from it -------------------------------------------------------------------
def _feature_rows() -> np.ndarray:
    """120 rows of conv features of random 8×8 images (4 random 3×3 filters, k_ci 2, pool (3, 2)): sparse, 16 wide."""
    gen = torch.Generator().manual_seed(3)
    images = torch.rand(120, 1, 8, 8, generator=gen)
    return conv_features(images, [torch.randn(4, 1, 3, 3, generator=gen)], k_ci=2, pool_kernel=3, pool_stride=2).numpy()


def test_sparse_rows_round_trip_any_rows_and_sum_columns(tmp_path):
    dense = _feature_rows()
    dense[5] = 0  # an all-zero row
    store = SparseRows.build(tmp_path / "store", (dense[i:i + 7] for i in range(0, 120, 7)), 120, 16, "tag-a")
    assert store.shape == (120, 16) and store.tag == "tag-a" and 0 < store.density < 1
    rows = np.array([5, 0, 119, 5, 33])
    np.testing.assert_array_equal(store.dense(rows), dense[rows])
    np.testing.assert_array_equal(SparseRows(tmp_path / "store").dense(np.arange(120)), dense)
    np.testing.assert_allclose(store.column_sums(), dense.sum(axis=0, dtype=np.float64), rtol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_sparse_rows_build_that_fails_leaves_nothing_behind(tmp_path):
    dense = _feature_rows()
    with pytest.raises(ValueError, match="held 100 rows; expected n_rows=120"):
        SparseRows.build(tmp_path / "store", [dense[:100]], 120, 16, "t")
    with pytest.raises(ValueError, match=r"does not fit a \(120 × 15\) store"):
        SparseRows.build(tmp_path / "store", [dense], 120, 15, "t")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="not a feature store"):
        SparseRows(tmp_path)


def test_training_from_stored_features_equals_training_from_the_tensor(tmp_path):
    dense = _feature_rows()
    store = SparseRows.build(tmp_path / "store", [dense], 120, 16, "t")
    mean = torch.from_numpy(dense.mean(axis=0))
    schedule = TrainingSchedule(lr=0.05, max_epochs=4, batch_size=20, tol=0.0)
    stored, stored_log = train_synapses(CentredFeatures(store, "mean", mean, torch.device("cpu")), 10,
                                        PlasticityRule(delta=0.2), schedule, seed=5)
    direct, log = train_synapses(torch.from_numpy(dense) - mean, 10, PlasticityRule(delta=0.2), schedule, seed=5)
    torch.testing.assert_close(stored, direct, rtol=0, atol=0)
    assert [e["mean_norm"] for e in stored_log] == [e["mean_norm"] for e in log]


def test_training_from_a_store_resumes_and_refuses_another_store(tmp_path, monkeypatch):
    dense = _feature_rows()
    rows = CentredFeatures(SparseRows.build(tmp_path / "a", [dense], 120, 16, "a"), "none", None, torch.device("cpu"))
    other = CentredFeatures(SparseRows.build(tmp_path / "b", [2 * dense], 120, 16, "b"), "none", None, torch.device("cpu"))
    schedule = TrainingSchedule(lr=0.05, max_epochs=6, batch_size=20, tol=0.0)
    full, _ = train_synapses(rows, 10, PlasticityRule(), schedule, seed=1)
    ckpt = tmp_path / "train.pt"
    calls = {"n": 0}
    real_step = learning.update_

    def interrupting_step(*args: object, **kwargs: object) -> float:
        """update_, until it raises KeyboardInterrupt in epoch 4 as a Ctrl-C would."""
        calls["n"] += 1
        if calls["n"] > 3 * 6:  # 6 minibatches per epoch: interrupt in epoch 4
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(learning, "update_", interrupting_step)
    with pytest.raises(KeyboardInterrupt):
        train_synapses(rows, 10, PlasticityRule(), schedule, seed=1, checkpoint=ckpt)
    monkeypatch.setattr(learning, "update_", real_step)
    assert len(torch.load(ckpt, weights_only=True)["log"]) == 3
    with pytest.raises(ValueError, match="other data or settings"):
        train_synapses(other, 10, PlasticityRule(), schedule, seed=1, checkpoint=ckpt)
    resumed, _ = train_synapses(rows, 10, PlasticityRule(), schedule, seed=1, checkpoint=ckpt)
    torch.testing.assert_close(resumed, full, rtol=0, atol=0)


def test_feature_cache_is_shared_across_hash_lengths_and_serves_the_training_set(X, tmp_path, monkeypatch, fitted):
    cached = small(feature_cache=tmp_path).fit(X)
    np.testing.assert_array_equal(cached.transform(X), fitted.transform(X))
    assert cached.cache_hits_ == {"filters": False, "features": False} and fitted.cache_hits_["filters"] is False
    names = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert names == ["features", "filters", "filters"]
    calls = {"n": 0}
    real = bioconvhash.conv_features

    def counting(*args: object, **kwargs: object) -> torch.Tensor:
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(bioconvhash, "conv_features", counting)
    other_k = small(feature_cache=tmp_path, k=3).fit(X)
    codes = other_k.transform(X)
    assert calls["n"] == 0  # filters, features and the training set's codes all came from the cache
    assert other_k.cache_hits_ == {"filters": True, "features": True}
    assert codes.shape == (60, 20) and (codes.sum(axis=1) == 3).all()
    np.testing.assert_array_equal(codes, small(k=3).fit(X).transform(X))
    np.testing.assert_array_equal(other_k.transform(X[:10]), codes[:10])  # other inputs are convolved
    assert calls["n"] > 0


def test_estimator_checkpoints_resume_to_the_same_codes(X, tmp_path, fitted):
    prefix = tmp_path / "run"
    first = small(checkpoint=prefix).fit(X)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.filters-k3.pt", "run.filters-k4.pt", "run.hash.pt"]
    np.testing.assert_array_equal(first.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(small(checkpoint=prefix).fit(X).transform(X), fitted.transform(X))  # resumed: all epochs done


def test_hash_layer_can_have_its_own_shorter_schedule_and_stage_times_are_recorded(X):
    model = small(max_epochs=4, hash_max_epochs=2, tol=0.0).fit(X)
    assert len(model.training_log_) == 2 and all(len(log) == 4 for log in model.filter_logs_)
    assert model.training_log_[-1]["lr"] == pytest.approx(2e-2 * (1 - 1 / 2))  # T_max = 2 for the hash layer
    assert set(model.fit_seconds_) == {"filters", "features", "hash_layer"} and min(model.fit_seconds_.values()) >= 0
    with pytest.raises(ValueError, match="hash_max_epochs"):
        small(hash_max_epochs=0).fit(X)


# --- resuming an interrupted fit from its checkpoints ----------------------------------------------------------
def _without_seconds(log: list[dict[str, float]]) -> list[dict[str, float]]:
    """A training log less its wall-clock seconds (the only entry that differs between two identical fits)."""
    return [{key: value for key, value in entry.items() if key != "seconds"} for entry in log]


def _count_stage_steps(monkeypatch, strike=None) -> dict[str, int]:
    """Wrap the real train_synapses of BioConvHash (to learn which stage runs: its desc) and the real minibatch step
    (learning.update_), counting the steps of each stage; strike(stage, n) may raise KeyboardInterrupt before a stage's
    n-th step, as a Ctrl-C would. Returns the counts."""
    counts: dict[str, int] = {}
    stage = {"desc": ""}
    real_train, real_step = bioconvhash.train_synapses, learning.update_

    def train(*args: object, desc: str = "", **kwargs: object):
        stage["desc"] = desc
        counts.setdefault(desc, 0)
        return real_train(*args, desc=desc, **kwargs)

    def step(*args: object, **kwargs: object) -> float:
        counts[stage["desc"]] += 1
        if strike is not None:
            strike(stage["desc"], counts[stage["desc"]])
        return real_step(*args, **kwargs)

    monkeypatch.setattr(bioconvhash, "train_synapses", train)
    monkeypatch.setattr(learning, "update_", step)
    return counts


@pytest.mark.parametrize("where", ["filters K=4", "features", "hash layer"])
def test_interrupted_fit_resumes_to_the_uninterrupted_model(X, tmp_path, monkeypatch, where):
    """A BioConvHash fit interrupted in epoch 2 of the second filter bank, as the training features are computed, or in
    epoch 2 of the hash layer resumes from its checkpoints with only the remaining steps and ends with the same
    filters, hash layer, logs and codes as an uninterrupted fit."""
    settings = {"tol": 0.0, "seed": 2}  # every layer runs its 3 epochs
    totals = _count_stage_steps(monkeypatch)
    reference = small(**settings).fit(X)
    monkeypatch.undo()
    per_epoch = {stage: n // 3 for stage, n in totals.items()}
    assert set(totals) == {"filters K=3", "filters K=4", "hash layer"} and all(n == 3 * per_epoch[s] for s, n in totals.items())
    scratch = tmp_path / "scratch"  # the fit's temporary feature store goes here
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    if where == "features":
        def interrupted(*args: object, **kwargs: object) -> torch.Tensor:
            raise KeyboardInterrupt
        monkeypatch.setattr(bioconvhash, "conv_features", interrupted)
        saved = {"filters K=3": 3, "filters K=4": 3, "hash layer": 0}
    else:
        def strike(stage: str, n: int) -> None:
            if stage == where and n == per_epoch[stage] + 2:
                raise KeyboardInterrupt
        _count_stage_steps(monkeypatch, strike)
        saved = {"filters K=3": 3, "filters K=4": 1 if where == "filters K=4" else 3, "hash layer": int(where == "hash layer")}
    prefix = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        small(**settings, checkpoint=prefix).fit(X)
    monkeypatch.undo()
    assert list(scratch.iterdir()) == []
    files = {"filters K=3": "run.filters-k3.pt", "filters K=4": "run.filters-k4.pt", "hash layer": "run.hash.pt"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["scratch", *(files[s] for s, n in saved.items() if n)])
    for stage, epochs in saved.items():
        if epochs:
            assert len(torch.load(tmp_path / files[stage], weights_only=True)["log"]) == epochs, stage
    steps = _count_stage_steps(monkeypatch)
    resumed = small(**settings, checkpoint=prefix).fit(X)
    assert steps == {stage: totals[stage] - saved[stage] * per_epoch[stage] for stage in totals}  # only what was missing
    for name in ("filters_k3_", "filters_k4_", "weights_", "feature_mean_"):
        assert torch.equal(getattr(resumed, name), getattr(reference, name)), name
    assert _without_seconds(resumed.training_log_) == _without_seconds(reference.training_log_)
    assert [_without_seconds(log) for log in resumed.filter_logs_] == [_without_seconds(log) for log in reference.filter_logs_]
    np.testing.assert_array_equal(resumed.transform(X), reference.transform(X))
