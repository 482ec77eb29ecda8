"""Tests for flymodel.data: file lookup and checksums, image datasets, CIFAR-10 decode cache, olfaction tables."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from flymodel.data import (
    DATA_ENV_VAR,
    DATASETS,
    DataFileError,
    data_dirs,
    data_path,
    load_cifar10,
    load_dataset,
    load_door,
    load_fashion_mnist,
    load_hallem_carlson,
    load_mnist,
)
from flymodel.data import files, images, olfaction

# Class counts and array sha256 from shared/data/README.md.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
MNIST_X_SHA256 = (
    "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
)
FASHION_X_SHA256 = (
    "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
)
RECEPTORS_CSV = "hallem_carlson_2006_receptors.csv"


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).data).hexdigest()


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch):
    """Clear the verification and dataset memos around a test that changes the environment or files."""
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    files._clear_caches()
    images._clear_caches()
    yield monkeypatch
    files._clear_caches()
    images._clear_caches()


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def fashion():
    return load_fashion_mnist()


@pytest.fixture(scope="session")
def cifar_cache(tmp_path_factory: pytest.TempPathFactory):
    """Decode CIFAR-10 once into a temporary cache; return (cache dir, dataset)."""
    cache = tmp_path_factory.mktemp("flymodel_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(images.CACHE_ENV_VAR, str(cache))
        images._clear_caches()
        dataset = load_cifar10()
        images._clear_caches()
    return cache, dataset


# ---------------------------------------------------------------- files


def test_data_dirs_default_and_env(fresh, tmp_path):
    checkout = Path(files.__file__).resolve().parents[2]
    assert data_dirs()[0] == (checkout.parent / "shared" / "data").resolve()
    assert len(set(data_dirs())) == len(data_dirs())
    fresh.setenv(DATA_ENV_VAR, str(tmp_path))
    assert data_dirs() == [tmp_path.resolve()]


def test_missing_file_names_file_dirs_and_fix(fresh, tmp_path):
    fresh.setenv(DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError) as info:
        load_mnist()
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "mnist.npz" in message and str(tmp_path) in message and "FLYMODEL_DATA" in message


def test_missing_file_under_root_names_root(fresh, tmp_path):
    with pytest.raises(FileNotFoundError, match="hallem_carlson_2006.csv") as info:
        load_hallem_carlson(root=tmp_path)
    assert str(tmp_path) in str(info.value) and "root=" in str(info.value)


def test_unknown_filename_lists_known(fresh):
    with pytest.raises(ValueError, match="'nope.csv'.*mnist.npz"):
        data_path("nope.csv")


def _copy_receptors(tmp_path: Path) -> Path:
    source = data_path(RECEPTORS_CSV)
    shutil.copy(source, tmp_path / RECEPTORS_CSV)
    shutil.copy(source.parent / "SHA256SUMS", tmp_path / "SHA256SUMS")
    return tmp_path / RECEPTORS_CSV


def test_corrupt_file_reports_expected_and_actual(fresh, tmp_path):
    copy = _copy_receptors(tmp_path)
    assert data_path(RECEPTORS_CSV, root=tmp_path) == copy  # intact copy passes
    raw = bytearray(copy.read_bytes())
    raw[10] ^= 0x01
    copy.write_bytes(raw)
    os.utime(copy, ns=(0, 12345))  # a new mtime forces re-verification
    actual = hashlib.sha256(raw).hexdigest()
    fresh.setenv(DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError) as info:
        data_path(RECEPTORS_CSV)
    message = str(info.value)
    assert str(copy) in message and actual in message
    assert files.EXPECTED_SHA256[RECEPTORS_CSV] in message and "re-copy" in message


def test_tampered_sha256sums_does_not_hide_corruption(fresh, tmp_path):
    copy = _copy_receptors(tmp_path)
    copy.write_bytes(copy.read_bytes().replace(b"Or2a,DA4m,8", b"Or2a,DA4m,9"))
    actual = hashlib.sha256(copy.read_bytes()).hexdigest()
    sums = tmp_path / "SHA256SUMS"
    sums.write_text(sums.read_text().replace(files.EXPECTED_SHA256[RECEPTORS_CSV], actual))
    with pytest.raises(DataFileError, match="different version"):
        data_path(RECEPTORS_CSV, root=tmp_path)


def test_verification_is_memoised(fresh, tmp_path):
    copy = _copy_receptors(tmp_path)
    data_path(RECEPTORS_CSV, root=tmp_path)

    def fail(path):
        raise AssertionError("hashed again")

    fresh.setattr(files, "_sha256_file", fail)
    assert data_path(RECEPTORS_CSV, root=tmp_path) == copy
    os.utime(copy, ns=(0, 12345))
    with pytest.raises(AssertionError, match="hashed again"):
        data_path(RECEPTORS_CSV, root=tmp_path)


# ---------------------------------------------------------------- images


@pytest.mark.parametrize("name", ["mnist", "fashion"])
def test_mnist_like_shapes_and_merge_order(name, mnist, fashion):
    ds = {"mnist": mnist, "fashion": fashion}[name]
    x_sha = {"mnist": MNIST_X_SHA256, "fashion": FASHION_X_SHA256}[name]
    assert ds.images.shape == (70000, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.shape == (70000,) and ds.labels.dtype == np.int64
    assert ds.n_train == 60000 and len(ds) == 70000 and ds.n_classes == 10
    assert (_sha(ds.images[:60000]), _sha(ds.images[60000:])) == x_sha
    train_counts = np.bincount(ds.labels[:60000]).tolist()
    test_counts = np.bincount(ds.labels[60000:]).tolist()
    if name == "mnist":
        assert (train_counts, test_counts) == (MNIST_TRAIN_COUNTS, MNIST_TEST_COUNTS)
        assert ds.class_names == tuple("0123456789")
        assert ds.labels[:5].tolist() == [5, 0, 4, 1, 9] and ds.labels[60000:60005].tolist() == [7, 2, 1, 0, 4]
    else:
        assert (train_counts, test_counts) == ([6000] * 10, [1000] * 10)
        assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_datasets_are_read_only_and_memoised(mnist):
    assert load_mnist() is mnist and mnist in {mnist}  # identity equality and hashing (eq=False)
    assert not mnist.images.flags.writeable and not mnist.labels.flags.writeable
    with pytest.raises(ValueError):
        mnist.images[0, 0, 0] = 1


def test_features_scaling_and_indices(mnist):
    idx = np.array([3, 60000, 69999])
    f = mnist.features(idx)
    assert f.dtype == np.float32 and f.shape == (3, 784) and f.flags.writeable
    np.testing.assert_array_equal(f, mnist.images[idx].reshape(3, -1) / np.float32(255))
    np.testing.assert_array_equal(mnist.features(slice(3, 4)), f[:1])
    full = mnist.features()
    assert full.shape == (70000, 784) and full.min() == 0.0 and full.max() == 1.0
    with pytest.raises(ValueError, match="indices"):
        mnist.features(0)


def test_load_dataset_by_name(mnist):
    assert sorted(DATASETS) == ["cifar10", "fashion_mnist", "mnist"]
    assert load_dataset("mnist") is mnist
    with pytest.raises(ValueError, match=r"dataset='foo' is not known; expected one of: cifar10, fashion_mnist, mnist"):
        load_dataset("foo")


def test_cifar10_shapes_order_and_features(cifar_cache):
    _, ds = cifar_cache
    assert ds.images.shape == (60000, 32, 32, 3) and ds.images.dtype == np.uint8 and ds.n_train == 50000
    assert ds.class_names[0] == "airplane" and ds.class_names[9] == "truck"
    assert np.bincount(ds.labels[:50000]).tolist() == [5000] * 10
    assert np.bincount(ds.labels[50000:]).tolist() == [1000] * 10
    assert ds.labels[4999] == 0 and ds.labels[5000] == 1 and ds.labels[50000] == 0  # sorted by class per split
    f = ds.features([1])
    assert f.shape == (1, 3072)
    np.testing.assert_array_equal(f[0, :3], ds.images[1, 0, 0, :] / np.float32(255))  # HWC: first pixel's RGB
    means = ds.images[:50000].reshape(-1, 3).mean(axis=0, dtype=np.float64) / 255
    np.testing.assert_allclose(means, [0.4913, 0.4821, 0.4465], atol=1e-4)  # README's decoded train means


def test_cifar10_cache_written_atomically_and_reused(cifar_cache, fresh):
    cache, ds = cifar_cache
    assert [p.name for p in cache.iterdir()] == [f"cifar10_decoded_{files.EXPECTED_SHA256['cifar10_jpeg.npz']}.npz"]
    fresh.setenv(images.CACHE_ENV_VAR, str(cache))

    def no_decode(z):
        raise AssertionError("decoded despite a valid cache")

    fresh.setattr(images, "_decode_cifar10", no_decode)
    again = load_cifar10()
    assert again is not ds
    assert np.array_equal(again.images, ds.images) and np.array_equal(again.labels, ds.labels)


def _fake_decoder(ds, calls: list[int], change_pixel: bool = False):
    def decode(z):
        calls.append(1)
        x_train = ds.images[: ds.n_train].copy()
        if change_pixel:
            x_train[0, 0, 0, 0] ^= 1
        return {"x_train": x_train, "x_test": ds.images[ds.n_train :]}

    return decode


def test_cifar10_unreadable_cache_falls_back_and_is_rewritten(cifar_cache, fresh, tmp_path):
    _, ds = cifar_cache
    fresh.setenv(images.CACHE_ENV_VAR, str(tmp_path))
    name = f"cifar10_decoded_{files.EXPECTED_SHA256['cifar10_jpeg.npz']}.npz"
    (tmp_path / name).write_bytes(b"not an npz")
    calls: list[int] = []
    fresh.setattr(images, "_decode_cifar10", _fake_decoder(ds, calls))
    load_cifar10()
    assert calls == [1]
    images._clear_caches()
    load_cifar10()
    assert calls == [1]  # the rewritten cache was used
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_cifar10_decoder_mismatch_is_an_error(cifar_cache, fresh, tmp_path):
    _, ds = cifar_cache
    fresh.setenv(images.CACHE_ENV_VAR, str(tmp_path))
    fresh.setattr(images, "_decode_cifar10", _fake_decoder(ds, [], change_pixel=True))
    with pytest.raises(RuntimeError, match="different pixels for x_train.*bf3aabd5"):
        load_cifar10()
    assert list(tmp_path.iterdir()) == []


def test_cifar10_unwritable_cache_warns(cifar_cache, fresh, tmp_path):
    _, ds = cifar_cache
    blocker = tmp_path / "file"
    blocker.write_text("")
    fresh.setenv(images.CACHE_ENV_VAR, str(blocker))
    fresh.setattr(images, "_decode_cifar10", _fake_decoder(ds, []))
    with pytest.warns(UserWarning, match="could not write the CIFAR-10 decode cache"):
        assert len(load_cifar10()) == 60000


# ---------------------------------------------------------------- olfaction


def test_hallem_carlson():
    hc = load_hallem_carlson()
    assert hc.responses.shape == (110, 24) and hc.responses.dtype == np.float64
    assert len(hc.odours) == len(set(hc.odours)) == 110
    assert hc.receptors[:2] == ("Or2a", "Or7a") and len(hc.receptors) == 24
    cell = {(o, r): hc.responses[i, j] for i, o in enumerate(hc.odours) for j, r in enumerate(hc.receptors)}
    assert cell["cadaverine", "Or7a"] == -41
    assert cell["2,3-butanediol", "Or9a"] == 247  # quoted name containing a comma
    assert cell["ammonium hydroxide", "Or98a"] == 24
    assert hc.spontaneous_hz[hc.receptors.index("Or7a")] == 17
    assert hc.glomeruli[0] == "DA4m"
    assert hc.glomeruli[hc.receptors.index("Or33b")] is None and hc.glomeruli.count(None) == 2
    rates = hc.absolute_rates()
    assert rates.min() == 0.0
    assert int((hc.responses + hc.spontaneous_hz < 0).sum()) == 80  # clipped entries, see absolute_rates
    np.testing.assert_array_equal(rates[rates > 0], (hc.responses + hc.spontaneous_hz)[rates > 0])


def test_hallem_carlson_receptor_order_mismatch(tmp_path):
    matrix = tmp_path / "m.csv"
    receptors = tmp_path / "r.csv"
    matrix.write_text('odor,Or2a,Or7a\n"2,3-x",1,2\n')
    receptors.write_text("receptor,glomerulus,spontaneous_rate_hz\nOr7a,DL5,17\nOr2a,DA4m,8\n")
    with pytest.raises(ValueError, match="receptor order differs"):
        olfaction._parse_hallem_carlson(matrix, receptors)


def test_door():
    door = load_door()
    assert door.responses.shape == (690, 78) and door.sfr.shape == (78,)
    assert len(door.odour_keys) == len(set(door.odour_keys)) == 690 and len(door.units) == 78
    # README's 7379 measured entries include the SFR row: 7306 odour responses + 73 spontaneous rates.
    assert int(np.isfinite(door.responses).sum()) == 7306
    assert int(np.isfinite(door.sfr).sum()) == 73
    assert np.nanmin(door.responses) == 0.0 and np.nanmax(door.responses) == 1.0
    row = door.odour_keys.index("MLFHJEHSLIIPHL-UHFFFAOYSA-N")  # isoamyl acetate
    assert door.responses[row, door.units.index("Or22a")] == 0.563130817663099
    assert door.sfr[0] == 0.0627144154948233 and door.units[0] == "ac1A"
    assert not door.responses.flags.writeable
    assert len(door.odour_info) == 22 and all(len(v) == 691 for v in door.odour_info.values())
    assert door.odour_info["InChIKey"][1:] == door.odour_keys  # door_odor has the SFR row first, then the same order
    assert door.odour_info["Class"][0] is None
    assert door.odour_names()[:2] == ("water", "ammonium hydroxide")
    assert len(door.mappings) == 20 and all(len(v) == 96 for v in door.mappings.values())
    assert door.mappings["receptor"][1] == "Or42b" and door.mappings["glomerulus"][1] == "DM1"
