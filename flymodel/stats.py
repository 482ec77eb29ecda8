"""Statistics over seeds: the mean with a Student-t interval, and a paired comparison of two conditions.

`mean_ci` summarises one condition measured on independent seeds; `paired_test` compares two conditions measured
on the same seeds. Both return JSON-ready dicts, as stored in results files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["mean_ci", "paired_test"]


def _finite_vector(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty; expected at least one value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(arr)).sum())} NaN or infinite values; expected finite numbers")
    return arr


def mean_ci(values: Any, confidence: float = 0.95) -> dict[str, float | int]:
    """Mean, standard deviation and the two-sided Student-t confidence interval of the mean over seeds.

    The values are measurements on independent seeds. The interval is ``mean ± t_(n−1) · std / √n``, with
    ``t_(n−1)`` the ``(1 + confidence) / 2`` quantile of Student's t with n − 1 degrees of freedom and std the
    sample standard deviation (ddof = 1). With one value the interval collapses to the mean (no spread can be
    estimated); n says so in the record.

    Parameters
    ----------
    values : array-like of float
        One measurement per seed; flattened, so any shape is accepted.
    confidence : float, default 0.95
        Confidence level of the interval, strictly between 0 and 1.

    Returns
    -------
    dict
        ``mean``, ``std`` (sample standard deviation, 0.0 for one value), ``n`` (the number of values, an int),
        ``ci_low``, ``ci_high`` and ``confidence``: a JSON-ready record of Python floats.

    Raises
    ------
    ValueError
        If `confidence` is not strictly between 0 and 1, or if `values` is empty or holds NaN or infinite values.

    See Also
    --------
    paired_test : Compare two conditions measured on the same seeds.

    Examples
    --------
    >>> from flymodel.stats import mean_ci
    >>> summary = mean_ci([0.61, 0.64, 0.58, 0.63, 0.60])  # e.g. the mAP of five seeds
    >>> summary["n"], round(summary["mean"], 3), round(summary["std"], 4)
    (5, 0.612, 0.0239)
    >>> round(summary["ci_low"], 3), round(summary["ci_high"], 3)
    (0.582, 0.642)
    >>> mean_ci([0.5])  # one seed: no spread, the interval is the mean
    {'mean': 0.5, 'std': 0.0, 'n': 1, 'ci_low': 0.5, 'ci_high': 0.5, 'confidence': 0.95}
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} must lie strictly between 0 and 1")
    x = _finite_vector(values, "values")
    n, mean = x.size, float(x.mean())
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half, "confidence": confidence}


def paired_test(a: Any, b: Any, confidence: float = 0.95) -> dict[str, float | int | None]:
    """Compare condition a with condition b measured on the same seeds.

    Reports the mean difference a − b with its Student-t interval (as `mean_ci`), the paired t-test, the
    Wilcoxon signed-rank test (no normality assumed) and the effect size Cohen's
    ``d_z = mean(a − b) / sd(a − b)``. Both tests are two-sided.

    Parameters
    ----------
    a : array-like of float
        One measurement per seed of the first condition; flattened.
    b : array-like of float
        The second condition on the same seeds, in the same order as `a`.
    confidence : float, default 0.95
        Confidence level of the interval of the difference, strictly between 0 and 1.

    Returns
    -------
    dict
        ``n`` (pairs), ``mean_difference``, ``ci_low``, ``ci_high``, ``confidence``, ``t`` (the paired t
        statistic), ``p_t_test``, ``p_wilcoxon`` and ``cohens_dz``. ``t``, ``p_t_test`` and ``cohens_dz`` are None
        when every difference is the same (no spread); ``p_wilcoxon`` is None when every difference is zero.

    Raises
    ------
    ValueError
        If `a` or `b` is empty or holds NaN or infinite values, if they differ in length, if there are fewer
        than 2 pairs, or if `confidence` is not strictly between 0 and 1.

    See Also
    --------
    mean_ci : The interval of one condition.

    Examples
    --------
    >>> from flymodel.stats import paired_test
    >>> biohash = [0.61, 0.64, 0.58, 0.63, 0.60]  # mAP of two methods on seeds 0 to 4
    >>> flyhash = [0.55, 0.60, 0.56, 0.57, 0.55]
    >>> result = paired_test(biohash, flyhash)
    >>> result["n"], round(result["mean_difference"], 3)
    (5, 0.046)
    >>> round(result["ci_low"], 3), round(result["ci_high"], 3)
    (0.025, 0.067)
    >>> round(result["t"], 2), round(result["p_t_test"], 4), result["p_wilcoxon"], round(result["cohens_dz"], 2)
    (6.15, 0.0036, 0.0625, 2.75)
    """
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
