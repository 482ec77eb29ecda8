"""Shadowed queries (Appendix B, Table 6): the exact region and factor, errors, and their place in compare."""

from __future__ import annotations

import numpy as np
import pytest

from flymodel.compare import CompareConfig, run_compare
from flymodel.data.protocols import get_protocol
from flymodel.data.shadows import SHADOW_FACTOR, SHADOW_FRACTION, describe_shadow, shadow_rows, shadow_width
from flymodel.hashing import make_hasher
from flymodel.metrics import retrieval_scores


def test_paper_shadow_is_the_left_26_of_32_columns_times_0_3():
    """Appendix B's 80 % at 0.3 is the left 26 of CIFAR-10's 32 columns; the rest and the input stay unchanged."""
    assert (SHADOW_FRACTION, SHADOW_FACTOR) == (0.8, 0.3)
    assert shadow_width(32) == 26 and shadow_width(28) == 22 and shadow_width(1, 0.01) == 1
    X = np.random.default_rng(0).random((4, 32 * 32 * 3), dtype=np.float32)
    out = shadow_rows(X, (32, 32, 3)).reshape(4, 32, 32, 3)
    images = X.reshape(4, 32, 32, 3)
    np.testing.assert_allclose(out[:, :, :26], images[:, :, :26] * np.float32(0.3), rtol=0, atol=0)
    np.testing.assert_array_equal(out[:, :, 26:], images[:, :, 26:])
    assert out.dtype == np.float32 and shadow_rows(X, (32, 32, 3)) is not X
    np.testing.assert_array_equal(X.reshape(4, 32, 32, 3), images)  # the input is left as it was


def test_grey_images_and_other_settings():
    """Single-channel images and other fraction/factor settings shadow the expected columns."""
    X = np.ones((2, 28 * 28), dtype=np.float32)
    out = shadow_rows(X, (28, 28, 1), fraction=0.5, factor=0.0).reshape(2, 28, 28)
    assert (out[:, :, :14] == 0).all() and (out[:, :, 14:] == 1).all()


@pytest.mark.parametrize("kwargs, match", [
    ({"image_shape": (32, 32, 1)}, r"does not hold rows of 32×32×1 images; expected \(n, 1024\)"),
    ({"fraction": 0.0}, r"fraction=0.0 is outside \(0, 1\]"),
    ({"factor": -1.0}, r"factor=-1.0 must be a finite number >= 0"),
    ({"factor": float("nan")}, r"factor=nan must be a finite number >= 0"),
])
def test_bad_shadow_arguments_are_named(kwargs, match):
    """Each bad argument raises a ValueError naming it and its value."""
    X = np.zeros((2, 32 * 32 * 3), dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        shadow_rows(X, **{"image_shape": (32, 32, 3), **kwargs})


def test_the_recorded_shadow_is_checked_like_the_applied_one():
    with pytest.raises(ValueError, match="factor=-0.5 must be a finite number >= 0"):
        describe_shadow((28, 28, 1), factor=-0.5)


def test_integer_pixels_are_refused_rather_than_zeroed():
    """uint8 pixels times 0.3 would be cast back to 0, a black shadow instead of a dimmed one."""
    with pytest.raises(ValueError, match="X has dtype uint8; expected floating-point pixel intensities"):
        shadow_rows(np.full((2, 8), 200, dtype=np.uint8), (2, 4, 1), fraction=0.5)


#: Shadowed queries must lose at least this share of their clean mAP. Measured (MNIST, k = 4, seed 0): LSH
#: 0.137 → 0.121 (−12 %), PCAHash 0.216 → 0.151 (−30 %); at k = 16 −33 % and −45 %. Dimming 22 of 28 columns to
#: 30 % moves every query far from its clean code, so a loss under 5 % would mean the shadow barely reached the codes.
MIN_RELATIVE_SHADOW_LOSS = 0.05


def test_compare_scores_shadowed_queries_against_the_same_database():
    """Shadowed queries score lower than clean ones (Table 6's point) but above chance, and exactly as the shadowed
    queries' codes ranked against the unchanged database codes."""
    config = CompareConfig(dataset="mnist", methods=("lsh", "pcahash"), ks=(4,), seeds=(0,), shadow_queries=True)
    database = {}

    def keep_database(record, query_codes, database_codes, split):
        database[record["method"]] = (database_codes, split)
        return {}

    results = run_compare(config, progress=False, on_codes=keep_database)
    for record in results["records"]:
        assert 0 <= record["map_shadow"] <= 1 and 0 <= record["precision_shadow"] <= 1
        assert record["map_shadow"] < (1 - MIN_RELATIVE_SHADOW_LOSS) * record["map"], record
        assert record["map_shadow"] > 0.1, record  # MNIST's 10 balanced classes: random ranking gives mAP ≈ 0.1
    # recompute LSH's shadowed mAP here: the same fit, shadowed queries, the clean database codes of the run
    db_codes, split = database["lsh"]
    protocol = get_protocol("mnist")
    dataset = protocol.load()
    lsh = make_hasher("lsh", k=4, seed=0).fit(dataset.features(split.database))
    np.testing.assert_array_equal(lsh.transform(dataset.features(split.database)), db_codes)
    queries = shadow_rows(dataset.features(split.queries), dataset.image_shape)
    expected = retrieval_scores(lsh.transform(queries), db_codes, dataset.labels[split.queries],
                                dataset.labels[split.database], R=protocol.R, ties=config.ties, seed=0)
    lsh_record = next(r for r in results["records"] if r["method"] == "lsh")
    assert lsh_record["map_shadow"] == pytest.approx(float(expected["average_precision"].mean()), rel=1e-12)
    assert set(results["summary_shadow"]) == {"lsh", "pcahash"}
    assert results["shadow"] == {"columns": 22, "width": 28, "factor": 0.3, "share_of_pixels": 22 / 28}  # MNIST's 28 columns
    assert results["summary_shadow"]["lsh"]["4"]["paper"] is None  # Table 6 is CIFAR-10's
    plain = run_compare(CompareConfig(dataset="mnist", methods=("lsh",), ks=(4,), seeds=(0,)), progress=False)
    assert "summary_shadow" not in plain and "shadow" not in plain and "map_shadow" not in plain["records"][0]
    assert plain["records"][0]["map"] == results["records"][0]["map"]
    with pytest.raises(TypeError, match="shadow_queries=1 must be True or False"):
        CompareConfig(shadow_queries=1).validate()
