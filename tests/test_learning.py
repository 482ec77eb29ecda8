"""The Krotov–Hopfield rule (eq. 1–3): batched update against a per-sample implementation, energy, norms."""

from __future__ import annotations

import pytest
import torch

import flymodel.learning as learning
from flymodel.learning import (PlasticityRule, TrainingSchedule, energy, sparse_weight_update, synapse_norms,
                               train_synapses, update_, weight_update)


def per_sample_update(W: torch.Tensor, X: torch.Tensor, rule: PlasticityRule) -> torch.Tensor:
    """Eq. 1 written sample by sample: g[Rank(⟨W_μ,x⟩_μ)] (x_i − ⟨W_μ,x⟩_μ W_μi), summed over the batch."""
    total = torch.zeros_like(W)
    for x in X:
        I = torch.stack([(W[mu].abs() ** (rule.p - 2) * W[mu] * x).sum() for mu in range(W.shape[0])])
        order = torch.argsort(I, descending=True)
        g = torch.zeros(W.shape[0], dtype=W.dtype)
        g[order[0]] = 1.0
        g[order[rule.rank - 1]] -= rule.delta
        total += g[:, None] * (x[None, :] - I[:, None] * W)
    return total


@pytest.mark.parametrize("rule", [PlasticityRule(), PlasticityRule(delta=0.4, rank=2), PlasticityRule(p=3.0),
                                  PlasticityRule(p=1.5, delta=0.2, rank=4)])
def test_batched_update_equals_per_sample_eq1(rule):
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(12, 7, generator=gen, dtype=torch.float64)
    X = torch.randn(25, 7, generator=gen, dtype=torch.float64)
    dW = weight_update(W, X, rule)
    torch.testing.assert_close(dW, per_sample_update(W, X, rule), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_energy_does_not_increase_without_anti_hebbian_term(p):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(200, 10, generator=gen, dtype=torch.float64)
    W = torch.randn(6, 10, generator=gen, dtype=torch.float64)
    rule = PlasticityRule(p=p, delta=0.0)
    energies = [energy(W, X, rule)]
    for _ in range(300):
        update_(W, X, rule, lr=1e-3)
        energies.append(energy(W, X, rule))
    diffs = torch.tensor(energies).diff()
    assert (diffs <= 1e-9 * abs(energies[0])).all(), f"energy rose by up to {diffs.max():.3g}"
    assert energies[-1] < energies[0]


@pytest.mark.parametrize("p", [2.0, 3.0])
def test_synapse_norms_converge_towards_one(p):
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(500, 8, generator=gen, dtype=torch.float64)
    W = torch.randn(5, 8, generator=gen, dtype=torch.float64)
    rule = PlasticityRule(p=p)
    start = (synapse_norms(W, p) - 1).abs().mean()
    for i in range(2000):
        batch = X[(i * 50) % 500:(i * 50) % 500 + 50]
        update_(W, batch, rule, lr=0.02 * (1 - i / 2000))
    end = (synapse_norms(W, p) - 1).abs().mean()
    assert end < 0.1 * start and end < 0.1


def test_step_reports_the_batch_energy_under_the_old_weights():
    gen = torch.Generator().manual_seed(3)
    X, W = torch.randn(30, 5, generator=gen), torch.randn(4, 5, generator=gen)
    rule = PlasticityRule(delta=0.3)
    expected = energy(W, X, rule)
    assert update_(W, X, rule, lr=0.01) == pytest.approx(expected)


@pytest.mark.parametrize("delta", [0.0, 0.4])
def test_sparse_update_touches_only_the_active_units_and_steps_by_lr(delta):
    """dW is zero outside the units with g ≠ 0; the in-place step moves the largest synapse by exactly ε."""
    gen = torch.Generator().manual_seed(4)
    X, W = torch.randn(20, 7, generator=gen, dtype=torch.float64), torch.randn(50, 7, generator=gen, dtype=torch.float64)
    rule = PlasticityRule(delta=delta, rank=3)
    units, dW_units, _ = sparse_weight_update(W, X, rule)
    dW = weight_update(W, X, rule)
    top = torch.topk(X @ W.T, 3, dim=1).indices
    assert set(units.tolist()) == set(top[:, 0].tolist()) | (set(top[:, 2].tolist()) if delta > 0 else set())
    outside = torch.ones(50, dtype=torch.bool)
    outside[units] = False
    assert (dW[outside] == 0).all() and units.numel() < 50
    torch.testing.assert_close(dW[units], dW_units, rtol=0, atol=0)
    W_new = W.clone()
    update_(W_new, X, rule, lr=0.05)
    torch.testing.assert_close(W_new, W + 0.05 * dW / dW.abs().max(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, match", [({"p": 0.5}, "p=0.5"), ({"delta": -0.1}, "delta=-0.1"),
                                           ({"rank": 1}, "rank=1 is too small"), ({"rank": 11, "delta": 0.4}, "rank=11 is too large")])
def test_rule_validation_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PlasticityRule(**kwargs).validate(n_units=10)


def _data(n=400, d=12, seed=4):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_training_is_seeded_and_converges():
    X = _data()
    schedule = TrainingSchedule(lr=0.05, max_epochs=60, batch_size=40, tol=1.06)
    W1, log1 = train_synapses(X, 8, PlasticityRule(), schedule, seed=7)
    W2, log2 = train_synapses(X, 8, PlasticityRule(), schedule, seed=7)
    torch.testing.assert_close(W1, W2, rtol=0, atol=0)
    assert log1[-1]["mean_norm"] < 1.06 <= log1[0]["mean_norm"] and len(log1) < 60
    assert [e["epoch"] for e in log1] == list(range(1, len(log1) + 1))
    W3, _ = train_synapses(X, 8, PlasticityRule(), schedule, seed=8)
    assert not torch.equal(W1, W3)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    X = _data()
    schedule = TrainingSchedule(lr=0.05, max_epochs=12, batch_size=40, tol=0.5)  # tol never reached: all epochs run
    full, full_log = train_synapses(X, 6, PlasticityRule(delta=0.2), schedule, seed=1)
    # Interrupt (Ctrl-C) in epoch 6, after 5 epochs were checkpointed, then run again with the same arguments.
    partial = tmp_path / "partial.pt"

    calls = {"n": 0}
    real_step = learning.update_

    def interrupting_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 5 * 10:  # 10 minibatches per epoch
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    learning.update_ = interrupting_step
    try:
        with pytest.raises(KeyboardInterrupt):
            train_synapses(X, 6, PlasticityRule(delta=0.2), schedule, seed=1, checkpoint=partial)
    finally:
        learning.update_ = real_step
    assert len(torch.load(partial, weights_only=True)["log"]) == 5
    resumed, resumed_log = train_synapses(X, 6, PlasticityRule(delta=0.2), schedule, seed=1, checkpoint=partial)
    torch.testing.assert_close(resumed, full, rtol=0, atol=0)
    assert [e["mean_norm"] for e in resumed_log] == [e["mean_norm"] for e in full_log]


def test_checkpoint_for_other_settings_is_refused(tmp_path):
    X = _data()
    ckpt = tmp_path / "train.pt"
    train_synapses(X, 6, PlasticityRule(), TrainingSchedule(0.05, 2, 40, 0.5), seed=1, checkpoint=ckpt)
    with pytest.raises(ValueError, match="other data or settings"):
        train_synapses(X, 7, PlasticityRule(), TrainingSchedule(0.05, 2, 40, 0.5), seed=1, checkpoint=ckpt)


@pytest.mark.parametrize("kwargs, match", [({"lr": 0}, "lr=0"), ({"max_epochs": 0}, "max_epochs=0"),
                                           ({"batch_size": 401}, "batch_size=401 is too large"), ({"tol": -1}, "tol=-1")])
def test_schedule_validation_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_synapses(_data(), 4, PlasticityRule(), TrainingSchedule(**kwargs), seed=0)


@pytest.mark.parametrize("X, n_units, error, match", [
    ("numpy", 4, TypeError, r"X must be a torch.Tensor of shape \(n, d\) or a RowSource; got ndarray"),
    ("tensor", 0, ValueError, r"n_units=0 is too small; expected n_units >= 1"),
    ("tensor", 2.5, TypeError, r"n_units must be an integer; got 2.5"),
])
def test_train_synapses_names_a_bad_input(X, n_units, error, match):
    import numpy as np

    data = np.zeros((20, 3)) if X == "numpy" else torch.zeros(20, 3, dtype=torch.float64)
    with pytest.raises(error, match=match):
        train_synapses(data, n_units, PlasticityRule(), TrainingSchedule(max_epochs=1, batch_size=10))
