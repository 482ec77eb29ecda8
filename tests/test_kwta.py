"""Tests for flymodel.circuit.kwta: exact k-winner-take-all with ties broken towards the lower index."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from flymodel.circuit.kwta import kwta


def reference_kwta(activations: np.ndarray, k: int) -> np.ndarray:
    """Brute force: a stable descending sort per row (lower index first among equals); the first k win."""
    n, units = activations.shape
    mask = np.zeros((n, units), dtype=bool)
    for i, row in enumerate(activations):
        order = sorted(range(units), key=lambda j: (-row[j], j))
        mask[i, order[:k]] = True
    return mask


@st.composite
def tied_activations(draw):
    """Small integer-valued matrices with few distinct values (so most rows hold ties) and a k in 1..units."""
    n = draw(st.integers(1, 6))
    units = draw(st.integers(1, 12))
    high = draw(st.integers(0, 4))
    values = draw(st.lists(st.integers(-high, high), min_size=n * units, max_size=n * units))
    k = draw(st.integers(1, units))
    return np.array(values, dtype=np.float64).reshape(n, units), k


@settings(max_examples=300, deadline=None)
@given(tied_activations(), st.sampled_from([torch.float32, torch.float64]))
def test_matches_brute_force_reference_with_ties(case, dtype):
    """kwta equals a stable-sort reference on tie-heavy inputs, for every valid k (1..units)."""
    acts, k = case
    mask = kwta(torch.tensor(acts, dtype=dtype), k)
    assert mask.dtype == torch.bool
    assert mask.shape == acts.shape
    np.testing.assert_array_equal(mask.numpy(), reference_kwta(acts, k))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 3, 7, 19])
def test_exactly_k_winners_per_row(dtype, k):
    """Random (tie-free) rows: exactly k winners per row, the same ones as the reference."""
    gen = torch.Generator().manual_seed(k)
    acts = torch.randn(50, 20, generator=gen, dtype=dtype)
    mask = kwta(acts, k)
    assert mask.dtype == torch.bool
    assert (mask.sum(dim=1) == k).all()
    np.testing.assert_array_equal(mask.numpy(), reference_kwta(acts.numpy(), k))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exactly_k_winners_with_all_equal_rows(dtype):
    """All-equal rows are the worst tie: still exactly k winners, the k lowest indices."""
    acts = torch.zeros(4, 10, dtype=dtype)
    mask = kwta(acts, 3)
    assert (mask.sum(dim=1) == 3).all()
    assert mask[:, :3].all() and not mask[:, 3:].any()  # lower indices win ties


def test_winners_are_the_largest():
    """A hand-checked row: the largest values win and the tie at 3.0 goes to the lower index."""
    acts = torch.tensor([[0.1, 5.0, -2.0, 3.0, 3.0, 4.0]])
    np.testing.assert_array_equal(kwta(acts, 2).numpy(), [[False, True, False, False, False, True]])
    # the tie at 3.0 between units 3 and 4 goes to unit 3
    np.testing.assert_array_equal(kwta(acts, 3).numpy(), [[False, True, False, True, False, True]])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_k_equal_to_n_units_makes_every_unit_win(dtype):
    """k = n_units is the top of the valid range: every unit is among the k largest."""
    acts = torch.randn(3, 5, dtype=dtype)
    mask = kwta(acts, 5)
    assert mask.dtype == torch.bool
    assert mask.shape == (3, 5)
    assert mask.all()


def test_does_not_modify_input():
    """kwta is a pure function: the activations are left unchanged."""
    acts = torch.tensor([[1.0, 1.0, 2.0, 0.0]])
    before = acts.clone()
    kwta(acts, 2)
    assert torch.equal(acts, before)


@pytest.mark.parametrize("k", [0, -1, 4, 100])
def test_k_outside_one_to_n_units_raises_naming_k_its_value_and_the_range(k):
    """k < 1 (empty codes) and k > n_units (k winners impossible) are caller mistakes: a ValueError, not a mask."""
    acts = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    expected = rf"^k={k} is outside the valid range; expected 1 <= k <= 3 \(the units per row\)$"
    with pytest.raises(ValueError, match=expected):
        kwta(acts, k)
