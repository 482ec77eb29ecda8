"""BioHash estimator: codes, m from activity, determinism, save/load, and parameter errors."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.hashing import BioHash, load_hasher


def clustered(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """300 points around 5 random centres in 16-D, with their cluster labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 16))
    labels = rng.integers(0, 5, 300)
    return (centres[labels] + 0.3 * rng.normal(size=(300, 16))).astype(np.float32), labels


@pytest.fixture(scope="module")
def X():
    return clustered()[0]


def small(**kw):
    return BioHash(**{"k": 3, "activity": 0.1, "max_epochs": 20, "batch_size": 50, "device": "cpu", **kw})


def test_codes_are_k_sparse_over_m_from_activity(X):
    h = small().fit(X)
    codes = h.transform(X)
    assert codes.shape == (300, 30) and codes.dtype == bool
    assert (codes.sum(axis=1) == 3).all()
    assert h.training_log_[-1]["mean_norm"] < h.training_log_[0]["mean_norm"]
    assert small(m=40).fit(X).transform(X).shape == (300, 40)


def test_same_seed_same_codes_and_save_load_round_trip(X, tmp_path):
    a, b = small(seed=3).fit(X), small(seed=3).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    a.save(tmp_path / "bio.npz")
    loaded = load_hasher(str(tmp_path / "bio.npz"))
    np.testing.assert_array_equal(loaded.transform(X), a.transform(X))
    assert loaded.get_params() == a.get_params() and loaded.training_log_ == a.training_log_


def test_similar_inputs_share_more_units_than_dissimilar_ones():
    """Locality sensitivity on clustered data: codes of a cluster overlap more within than across clusters."""
    X, labels = clustered()
    codes = small(k=2, activity=0.1).fit(X).transform(X).astype(int)
    overlap = codes @ codes.T
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    assert overlap[same].mean() > 2 * overlap[~same & ~np.eye(300, dtype=bool)].mean()


@pytest.mark.parametrize("kwargs, match", [
    ({"activity": 0.0}, "activity=0.0"), ({"activity": 1.5}, "activity=1.5"), ({"k": 3, "m": 3}, "k=3 must be smaller than m=3"),
    ({"p": 0.5}, "p=0.5"), ({"delta": -1.0}, "delta=-1.0"), ({"rank": 1}, "rank=1"), ({"rank": 31}, "rank=31 is too large"),
    ({"batch_size": 301}, "batch_size=301 is too large"), ({"lr": -0.1}, "lr=-0.1"), ({"centering": "zscore"}, "centering='zscore'"),
])
def test_bad_parameters_are_named(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        small(**kwargs).fit(X)


def test_non_finite_input_is_refused(X):
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        small().fit(bad)
