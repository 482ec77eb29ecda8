"""flymodel.circuit.measures.dimension: the participation ratio of Litwin-Kumar et al. 2017, against the eigenvalues of
the sample covariance, its limits and its finite-sample ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.circuit.measures import dimension


def literal_participation_ratio(responses: np.ndarray) -> float:
    """(Σλ)² / Σλ² from the eigenvalues of np.cov, written out as in the paper."""
    eigenvalues = np.linalg.eigvalsh(np.cov(responses, rowvar=False))
    return float(eigenvalues.sum() ** 2 / (eigenvalues ** 2).sum())


@pytest.mark.parametrize("shape", [(50, 8), (8, 50), (300, 300)])
def test_equals_the_covariance_eigenvalue_formula(shape):
    rng = np.random.default_rng(shape[0])
    responses = rng.standard_normal(shape) @ rng.standard_normal((shape[1], shape[1]))
    assert dimension(responses) == pytest.approx(literal_participation_ratio(responses), rel=1e-10)


def test_isotropic_responses_fill_every_dimension_and_rank_one_responses_one():
    rng = np.random.default_rng(0)
    assert dimension(rng.standard_normal((20_000, 10))) == pytest.approx(10, rel=0.01)
    assert dimension(np.outer(rng.random(40), rng.random(6)) + 3.0) == pytest.approx(1.0)


def test_few_stimuli_cap_the_estimate_below_their_number():
    """The sample covariance of n stimuli has rank n − 1, so 5 stimuli of 1,000 independent units give at most 4."""
    estimate = dimension(np.random.default_rng(1).standard_normal((5, 1000)))
    assert 3.0 < estimate <= 4.0 + 1e-12


def test_invariant_to_offsets_and_a_common_scale():
    responses = np.random.default_rng(2).random((30, 12))
    assert dimension(7.0 * responses + np.arange(12)) == pytest.approx(dimension(responses), rel=1e-12)


def test_constant_responses_have_no_dimension():
    assert np.isnan(dimension(np.ones((4, 3))))


@pytest.mark.parametrize("responses, match", [
    (np.zeros(5), r"shape \(5,\); expected \(n_stimuli >= 2, n_units >= 1\)"),
    (np.zeros((1, 4)), r"shape \(1, 4\)"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), "1 NaN or infinite values"),
])
def test_bad_responses_are_named(responses, match):
    with pytest.raises(ValueError, match=match):
        dimension(responses)
