"""Tests for flymodel.stats: the t interval of a mean over seeds and the paired comparison of two conditions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from flymodel.stats import mean_ci, paired_test


def test_mean_ci_is_the_student_t_interval():
    values = [1.0, 2.0, 4.0, 7.0]
    out = mean_ci(values)
    half = sps.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert out["mean"] == pytest.approx(3.5)
    assert out["ci_low"] == pytest.approx(3.5 - half) and out["ci_high"] == pytest.approx(3.5 + half)
    assert out["n"] == 4 and out["confidence"] == 0.95


def test_mean_ci_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = [(s := mean_ci(rng.normal(1.0, 2.0, size=10)))["ci_low"] <= 1.0 <= s["ci_high"] for _ in range(2000)]
    assert 0.93 < np.mean(hits) < 0.97


def test_mean_ci_of_one_value_collapses_to_it():
    assert mean_ci([0.3]) == {"mean": 0.3, "std": 0.0, "n": 1, "ci_low": 0.3, "ci_high": 0.3, "confidence": 0.95}


@pytest.mark.parametrize("values, message", [([], "empty"), ([1.0, np.nan], "NaN")])
def test_mean_ci_rejects_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        mean_ci(values)


def test_mean_ci_rejects_a_confidence_outside_0_1():
    with pytest.raises(ValueError, match="confidence=1.5"):
        mean_ci([1.0, 2.0], confidence=1.5)


def test_paired_test_matches_scipy_and_reports_the_effect_size():
    rng = np.random.default_rng(1)
    a = rng.normal(size=12)
    b = a - 0.5 + rng.normal(scale=0.3, size=12)
    out = paired_test(a, b)
    ref = sps.ttest_rel(a, b)
    assert out["t"] == pytest.approx(ref.statistic) and out["p_t_test"] == pytest.approx(ref.pvalue)
    assert out["p_wilcoxon"] == pytest.approx(sps.wilcoxon(a, b).pvalue)
    diff = a - b
    assert out["cohens_dz"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert out["ci_low"] < out["mean_difference"] < out["ci_high"] and out["n"] == 12


def test_paired_test_of_constant_differences_has_no_t_statistic():
    out = paired_test([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert out["mean_difference"] == 1.0 and out["t"] is None and out["cohens_dz"] is None


@pytest.mark.parametrize("a, b, message", [([1.0, 2.0], [1.0], "paired"), ([1.0], [2.0], "at least 2")])
def test_paired_test_rejects_unpaired_or_too_few_values(a, b, message):
    with pytest.raises(ValueError, match=message):
        paired_test(a, b)
