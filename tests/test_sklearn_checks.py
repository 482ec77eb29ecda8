"""scikit-learn's own estimator checks over every registered hasher, and the hashers inside Pipeline, clone and
GridSearchCV with the retrieval scorer (mAP on the validation split)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from flymodel.hashing import (LSH, METHODS, BioConvHash, BioHash, CircuitHash, FlyHash, Hasher, ITQ, NaiveBioHash,
                              NotFittedError, PCAHash, SpectralHash)
from flymodel.metrics import mean_average_precision, retrieval_map_score, retrieval_scorer

#: One small instance of every registered hasher (the checks fit each dozens of times).
SMALL: list[Hasher] = [
    LSH(k=4, device="cpu"),
    FlyHash(k=2, m=16, device="cpu"),
    BioHash(k=2, m=8, max_epochs=2, batch_size=1, device="cpu"),
    NaiveBioHash(k=2, max_epochs=2, batch_size=1, device="cpu"),
    PCAHash(k=1, device="cpu"),
    ITQ(k=1, n_iter=3, device="cpu"),
    SpectralHash(k=1, device="cpu"),
    BioConvHash(k=2, m=20, kernel_sizes=(2,), n_filters=4, k_ci=2, pool_kernel=2, pool_stride=1, image_shape=(4, 4, 1),
                n_patches=50, max_epochs=2, batch_size=1, device="cpu"),
    CircuitHash("drosophila_mb", k=4, overrides={"kc.n": 50}, device="cpu"),
]

#: Checks that fit on the check's own data, 1 to 10 features wide: BioConvHash reads a row as an H×W×C image and
#: CircuitHash as one input per PN, so both accept only their fixed input width ([inputs] n, or H·W·C).
FIXED_INPUT_WIDTH = (
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object", "check_estimators_dtypes",
    "check_estimators_fit_returns_self", "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample",
    "check_fit2d_predict1d", "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_transformer_data_not_an_array", "check_transformer_general",
)


def expected_failed_checks(estimator: Hasher) -> dict[str, str]:
    """The checks that cannot apply to a hasher, with the reason (none for the hashers of free input width)."""
    if isinstance(estimator, BioConvHash):
        reason = "fits only rows of image_shape's H·W·C pixels; the check's data has 1-10 features"
    elif isinstance(estimator, CircuitHash):
        reason = "fits only rows of the circuit's [inputs] n PN rates; the check's data has 1-10 features"
    else:
        return {}
    return dict.fromkeys(FIXED_INPUT_WIDTH, reason)


def test_every_registered_hasher_is_checked():
    assert {type(h) for h in SMALL} == set(METHODS.values())


# strict: a listed check that starts to pass fails, so the list stays as short as it can be
@parametrize_with_checks(SMALL, expected_failed_checks=expected_failed_checks, xfail_strict=True)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_not_fitted_error_is_sklearns():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted

    h = LSH(k=4)
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(h)
    with pytest.raises(SklearnNotFittedError, match="this LSH is not fitted yet"):  # ours is scikit-learn's
        h.transform(np.zeros((2, 3)))
    assert issubclass(NotFittedError, SklearnNotFittedError)
    check_is_fitted(h.fit(np.random.default_rng(0).normal(size=(5, 3))))


def image_data(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 4×4 images (a bright top half or a bright left half) with noise, and their labels."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = rng.uniform(0, 0.3, size=(n, 4, 4))
    X[y == 0, :2, :] += 0.7
    X[y == 1, :, :2] += 0.7
    return X.reshape(n, 16), y


@pytest.mark.parametrize("hasher", [h for h in SMALL if not isinstance(h, CircuitHash)], ids=lambda h: type(h).__name__)
def test_hashers_in_a_pipeline_equal_the_steps_by_hand(hasher):
    X, _ = image_data()
    pipe = make_pipeline(MinMaxScaler(), clone(hasher)).fit(X)
    by_hand = clone(hasher).fit(MinMaxScaler().fit_transform(X))
    np.testing.assert_array_equal(pipe.transform(X), by_hand.transform(MinMaxScaler().fit(X).transform(X)))


def test_circuit_hash_in_a_pipeline_and_cloned():
    X = np.random.default_rng(1).uniform(0, 200, size=(30, 24))
    hasher = CircuitHash("drosophila_mb", k=4, overrides={"kc.n": 50}, device="cpu")
    pipe = make_pipeline(MinMaxScaler(feature_range=(0, 200)), hasher).fit(X)
    twin = clone(pipe).fit(X)
    np.testing.assert_array_equal(pipe.transform(X), twin.transform(X))
    assert pipe.transform(X).sum(axis=1).tolist() == [4] * 30


def test_retrieval_map_score_is_map_of_a_seeded_query_split():
    rng = np.random.default_rng(0)
    codes, labels = rng.random((50, 12)) < 0.3, rng.integers(0, 3, 50)
    order = np.random.default_rng(5).permutation(50)
    q, db = order[:10], order[10:]
    expected = mean_average_precision(codes[q], codes[db], labels[q], labels[db])
    assert retrieval_map_score(labels, codes, query_fraction=0.2, seed=5) == expected
    with pytest.raises(ValueError, match="query_fraction=1.5 must lie in"):
        retrieval_map_score(labels, codes, query_fraction=1.5)


def test_grid_search_picks_the_hash_length_with_the_retrieval_scorer():
    X, y = image_data(80)
    search = GridSearchCV(make_pipeline(MinMaxScaler(), LSH(device="cpu")), {"lsh__k": [1, 16]},
                          scoring=retrieval_scorer(query_fraction=0.25), cv=2).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"lsh__k": 16} and scores[1] > scores[0]
    assert search.score(X, y) == retrieval_map_score(y, search.best_estimator_.transform(X), query_fraction=0.25)
