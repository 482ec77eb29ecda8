"""BioHash and NaiveBioHash estimators: codes, m from activity, determinism, save/load, parameter errors, and
resuming an interrupted fit from its checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import flymodel.learning as learning
from flymodel.hashing import BioHash, NaiveBioHash, load_hasher
from flymodel.learning import currents


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
    ({"p": 0.5}, "p=0.5"), ({"delta": -1.0}, "delta=-1.0"), ({"rank": 1}, "rank=1"),
    ({"rank": 31, "delta": 0.4}, "rank=31 is too large"), ({"max_epochs": 0}, "max_epochs=0"), ({"tol": -1.0}, "tol=-1.0"),
    ({"k": 0}, "k=0"), ({"seed": -1}, "seed=-1"),
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
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        small().fit(X).transform(bad)


def test_rank_beyond_m_is_allowed_without_anti_hebbian_term(X):
    """With Δ = 0 the rank-r unit is never updated, so r is not checked against m."""
    np.testing.assert_array_equal(small(rank=31).fit(X).transform(X), small().fit(X).transform(X))


def test_anti_hebbian_term_changes_the_synapses(X):
    assert not np.array_equal(small(delta=0.4).fit(X).weights_.numpy(), small().fit(X).weights_.numpy())


def test_tol_zero_runs_every_epoch(X):
    assert len(small(tol=0.0, max_epochs=7).fit(X).training_log_) == 7


def naive(**kw):
    return NaiveBioHash(**{"k": 4, "max_epochs": 20, "batch_size": 50, "device": "cpu", **kw})


def test_naive_biohash_codes_are_signs_of_k_learned_units(X):
    h = naive().fit(X)
    codes = h.transform(X)
    assert codes.shape == (300, 4) and codes.dtype == bool and h.weights_.shape == (4, 16)
    expected = currents(h.weights_, torch.from_numpy(X) - h.mean_, 2.0) > 0
    np.testing.assert_array_equal(codes, expected.numpy())


def test_naive_biohash_learns_what_biohash_learns_with_m_equal_k(X):
    """Same rule, seed and schedule: NaiveBioHash's synapses are BioHash's with m = k hidden units."""
    b = BioHash(k=1, m=4, max_epochs=20, batch_size=50, device="cpu").fit(X)
    np.testing.assert_array_equal(naive().fit(X).weights_.numpy(), b.weights_.numpy())


def test_naive_biohash_same_seed_same_codes_and_save_load(X, tmp_path):
    a = naive(seed=5).fit(X)
    np.testing.assert_array_equal(a.transform(X), naive(seed=5).fit(X).transform(X))
    a.save(tmp_path / "naive.npz")
    np.testing.assert_array_equal(load_hasher(str(tmp_path / "naive.npz")).transform(X), a.transform(X))


@pytest.mark.parametrize("kwargs, match", [({"k": 0}, "k=0"), ({"p": 0.9}, "p=0.9"), ({"delta": -0.1}, "delta=-0.1"),
                                           ({"rank": 5, "delta": 0.4}, "rank=5 is too large"), ({"batch_size": 400}, "batch_size=400")])
def test_naive_biohash_bad_parameters_are_named(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        naive(**kwargs).fit(X)


# --- resuming an interrupted fit from its checkpoint ------------------------------------------------------------
def _without_seconds(log):
    """A training log less its wall-clock seconds (the only entry that differs between two identical fits)."""
    return [{key: value for key, value in entry.items() if key != "seconds"} for entry in log]


def _count_steps(monkeypatch, strike=None):
    """Wrap the real minibatch step (learning.update_) and count its calls; strike(n) may raise KeyboardInterrupt
    before the n-th call, as a Ctrl-C would. Returns the counter."""
    calls = {"n": 0}
    real_step = learning.update_

    def step(*args, **kwargs):
        calls["n"] += 1
        if strike is not None:
            strike(calls["n"])
        return real_step(*args, **kwargs)

    monkeypatch.setattr(learning, "update_", step)
    return calls


def _interrupt(monkeypatch, where):
    """Arrange a KeyboardInterrupt in a real BioHash fit of 6 epochs × 6 minibatches: in epoch 4 (after 3 checkpoints),
    right after epoch 3's checkpoint was written, or while epoch 3's checkpoint is being written (after 2)."""
    if where == "during epoch 4":
        def strike(n):
            if n == 3 * 6 + 2:
                raise KeyboardInterrupt
        _count_steps(monkeypatch, strike)
        return 3
    real_save, saves = learning._save_checkpoint, {"n": 0}
    real_torch_save = torch.save

    def save(*args, **kwargs):
        saves["n"] += 1
        if where == "after epoch 3" or saves["n"] < 3:
            real_save(*args, **kwargs)
        if saves["n"] == 3:
            if where == "while saving epoch 3":
                def failing(obj, path, *a, **k):  # torch.save interrupted after the temporary file was created
                    raise KeyboardInterrupt
                monkeypatch.setattr(torch, "save", failing)
                try:
                    real_save(*args, **kwargs)
                finally:
                    monkeypatch.setattr(torch, "save", real_torch_save)
            raise KeyboardInterrupt

    monkeypatch.setattr(learning, "_save_checkpoint", save)
    return 3 if where == "after epoch 3" else 2


@pytest.mark.parametrize("where", ["during epoch 4", "after epoch 3", "while saving epoch 3"])
def test_interrupted_fit_resumes_to_the_uninterrupted_weights_and_log(X, tmp_path, monkeypatch, where):
    """A BioHash fit interrupted mid-training resumes from its checkpoint with only the remaining minibatch steps and
    ends bit-identical (weights, mean, training log, codes) to an uninterrupted fit."""
    settings = {"tol": 0.0, "max_epochs": 6, "batch_size": 50, "delta": 0.3, "seed": 4}  # 300 samples: 6 steps per epoch
    reference = small(**settings).fit(X)
    checkpoint = tmp_path / "biohash.pt"
    saved_epochs = _interrupt(monkeypatch, where)
    with pytest.raises(KeyboardInterrupt):
        small(**settings, checkpoint=checkpoint).fit(X)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["biohash.pt"]  # the checkpoint is written atomically
    assert len(torch.load(checkpoint, weights_only=True)["log"]) == saved_epochs
    steps = _count_steps(monkeypatch)
    resumed = small(**settings, checkpoint=checkpoint).fit(X)
    assert steps["n"] == (6 - saved_epochs) * 6  # resumed after the saved epochs, not from the start
    assert torch.equal(resumed.weights_, reference.weights_) and torch.equal(resumed.mean_, reference.mean_)
    assert _without_seconds(resumed.training_log_) == _without_seconds(reference.training_log_)
    np.testing.assert_array_equal(resumed.transform(X), reference.transform(X))
    assert len(torch.load(checkpoint, weights_only=True)["log"]) == 6


def test_checkpoint_of_a_finished_fit_is_reused_without_training(X, tmp_path, monkeypatch):
    """Fitting again with the checkpoint of a finished fit runs no minibatch step and gives the same weights."""
    first = small(tol=0.0, max_epochs=3, checkpoint=tmp_path / "done.pt").fit(X)
    steps = _count_steps(monkeypatch)
    again = small(tol=0.0, max_epochs=3, checkpoint=tmp_path / "done.pt").fit(X)
    assert steps["n"] == 0
    assert torch.equal(again.weights_, first.weights_)
    assert again.training_log_ == first.training_log_
