"""Statistics over seeds: mean with a Student-t confidence interval, and a paired comparison of two conditions."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats


def _finite_vector(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty; expected at least one value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(arr)).sum())} NaN or infinite values; expected finite numbers")
    return arr


def mean_ci(values: Any, confidence: float = 0.95) -> dict[str, float | int]:
    """Mean, standard deviation and the two-sided Student-t confidence interval of the mean over independent seeds.

    With one value the interval collapses to the mean (no spread can be estimated); n says so in the record.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must lie strictly between 0 and 1")
    x = _finite_vector(values, "values")
    n, mean = x.size, float(x.mean())
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half, "confidence": confidence}


def paired_test(a: Any, b: Any, confidence: float = 0.95) -> dict[str, float | int | None]:
    """Compare condition a with condition b measured on the same seeds: a − b with its t interval, the paired t-test,
    the Wilcoxon signed-rank test (no normality assumed) and the effect size Cohen's d_z = mean(a − b) / sd(a − b)."""
    x, y = _finite_vector(a, "a"), _finite_vector(b, "b")
    if x.size != y.size:
        raise ValueError(f"a has {x.size} values and b has {y.size}; a paired test needs one pair per seed")
    if x.size < 2:
        raise ValueError(f"a paired test needs at least 2 seeds; got {x.size}")
    diff = x - y
    summary = mean_ci(diff, confidence)
    sd = summary["std"]
    if sd > 0:
        t_stat, p_t = stats.ttest_rel(x, y)
        t_stat, p_t, d_z = float(t_stat), float(p_t), float(summary["mean"] / sd)
    else:  # identical differences: no spread, the t statistic is undefined
        t_stat = p_t = d_z = None
    p_w = float(stats.wilcoxon(x, y).pvalue) if np.any(diff != 0) else None
    return {"n": int(x.size), "mean_difference": summary["mean"], "ci_low": summary["ci_low"],
            "ci_high": summary["ci_high"], "confidence": confidence, "t": t_stat, "p_t_test": p_t,
            "p_wilcoxon": p_w, "cohens_dz": d_z}
