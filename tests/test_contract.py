"""The contracts of scikit-learn's estimator checks, run on images.

scikit-learn's checks use synthetic data of a few features, which our
estimators refuse (see test_common.py); these tests verify the same
properties on synthetic 28x28 pixels, so that they need no dataset.
"""

import joblib
import numpy as np
import pandas as pd
import pytest
from helpers import FAST_CNN, FAST_MLP
from sklearn.base import clone

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

CLASSIFIERS = [FashionCNNClassifier(**FAST_CNN), FashionMLPClassifier(**FAST_MLP)]
ALL = [*CLASSIFIERS, FashionAugmenter(random_state=0)]
IDS = ["cnn", "mlp", "augmenter"]


@pytest.fixture(scope="module")
def data(synthetic):
    return synthetic


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_fit_returns_self_and_leaves_params_and_input_alone(estimator, data):
    X, y, _ = data
    X_before = X.copy()
    estimator = clone(estimator)
    params_before = joblib.hash(estimator.get_params())
    assert estimator.fit(X, y) is estimator
    assert joblib.hash(estimator.get_params()) == params_before
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=IDS[:2])
@pytest.mark.slow
def test_fit_is_idempotent(estimator, data):
    X, y, X_test = data
    estimator = clone(estimator)
    first = estimator.fit(X, y).predict_proba(X_test)
    second = estimator.fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=IDS[:2])
def test_sample_order_and_subset_invariance(estimator, data):
    X, y, X_test = data
    estimator = clone(estimator).fit(X, y)
    whole = estimator.predict_proba(X_test)
    order = np.random.RandomState(0).permutation(len(X_test))
    # float32 tolerance: another batch composition can pick another kernel, and
    # 14 of 1,000 probabilities then differed in their last digit on an AMD
    # machine (0.06649987 against 0.06649988)
    np.testing.assert_allclose(
        estimator.predict_proba(X_test[order]), whole[order], atol=1e-6
    )
    batches = np.vstack(
        [estimator.predict_proba(X_test[i : i + 7]) for i in range(0, 100, 7)]
    )
    np.testing.assert_allclose(batches, whole, atol=1e-6)


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=IDS[:2])
@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_numeric_dtypes(estimator, data, dtype):
    X, y, X_test = data
    estimator = clone(estimator).fit(X.astype(dtype), y)
    assert estimator.predict(X_test.astype(dtype)).shape == (100,)


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_read_only_memmap_and_fortran_input(estimator, data, tmp_path):
    X, y, _ = data
    joblib.dump(np.asfortranarray(X), tmp_path / "X.joblib")
    X_mm = joblib.load(tmp_path / "X.joblib", mmap_mode="r")
    assert not X_mm.flags.writeable
    clone(estimator).fit(X_mm, y)


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_feature_names_are_recorded_and_checked(estimator, data):
    X, y, _ = data
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(1, 785)])
    estimator = clone(estimator).fit(frame, y)
    assert estimator.n_features_in_ == 784
    assert list(estimator.feature_names_in_[:2]) == ["pixel1", "pixel2"]
    renamed = frame.rename(columns={"pixel1": "p1"})
    method = "transform" if isinstance(estimator, FashionAugmenter) else "predict"
    with pytest.raises(ValueError, match="feature names"):
        getattr(estimator, method)(renamed)
