"""A table of bad inputs: each raises a clear error naming what was expected."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers import FAST_MLP
from sklearn.exceptions import NotFittedError

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

rng = np.random.RandomState(0)
X = rng.randint(0, 256, size=(20, 784)).astype(np.uint8)
y = np.arange(20) % 2
PIXEL_NAMES = [f"pixel{i}" for i in range(1, 785)]


def _with(value, where=(0, 0)):
    bad = X.astype(np.float64)
    bad[where] = value
    return bad


@pytest.fixture(scope="module")
def fitted():
    return FashionMLPClassifier(**FAST_MLP).fit(X, y)


@pytest.fixture(scope="module")
def fitted_on_frame():
    return FashionMLPClassifier(**FAST_MLP).fit(pd.DataFrame(X, columns=PIXEL_NAMES), y)


# (case, method, X, y, error, message)
CASES = [
    ("nan pixel", "fit", _with(np.nan), y, ValueError, "NaN or infinite"),
    ("inf pixel", "fit", _with(np.inf), y, ValueError, "NaN or infinite"),
    ("negative pixel", "fit", _with(-1), y, ValueError, r"Negative .* \[0, 255\]"),
    ("pixel above 255", "fit", _with(256), y, ValueError, r"above 255 .* \[0, 255\]"),
    ("783 features", "fit", X[:, :783], y, ValueError, "783 feature.* expected 784"),
    ("1024 features", "fit", np.zeros((20, 1024)), y, ValueError, "1024 feature"),
    ("32x32 images", "fit", np.zeros((20, 32, 32)), y, ValueError, r"\(32, 32\)"),
    ("3 channels", "fit", np.zeros((20, 28, 28, 3)), y, ValueError, r"\(28, 28, 3\)"),
    ("empty X", "fit", np.zeros((0, 784)), y[:0], ValueError, "empty"),
    ("one sample", "fit", X[:1], y[:1], ValueError, "only one class"),
    ("one class", "fit", X, np.zeros(20), ValueError, "only one class"),
    ("len(y) != len(X)", "fit", X, y[:-1], ValueError, "20 samples but y has 19"),
    ("2-D y", "fit", X, np.c_[y, y], ValueError, r"1d array, got .* \(20, 2\)"),
    ("continuous y", "fit", X, np.linspace(0, 1, 20), ValueError, "Unknown label"),
    ("y is None", "fit", X, None, ValueError, "requires y"),
    ("string X", "fit", np.full((20, 784), "a"), y, ValueError, "dtype <U1"),
    (
        "object X of text",
        "fit",
        np.full((20, 784), "x", object),
        y,
        ValueError,
        "object",
    ),
    ("object X of None", "fit", np.full((20, 784), None), y, ValueError, "NaN"),
    ("sparse X", "fit", sp.csr_matrix(X), y, TypeError, "sparse"),
    (
        "frame of 10 columns",
        "fit",
        pd.DataFrame(X[:, :10]),
        y,
        ValueError,
        "10 feature",
    ),
    (
        "text column",
        "fit",
        pd.DataFrame({"a": ["x"] * 20}),
        y,
        ValueError,
        "non-numeric",
    ),
    ("nan at predict", "predict", _with(np.nan), None, ValueError, "NaN"),
    ("783 features at predict", "predict", X[:, :783], None, ValueError, "783"),
    (
        "32x32 at predict_proba",
        "predict_proba",
        np.zeros((2, 32, 32)),
        None,
        ValueError,
        r"\(32, 32\)",
    ),
    (
        "empty at predict_proba",
        "predict_proba",
        np.zeros((0, 784)),
        None,
        ValueError,
        "empty",
    ),
    (
        "unseen labels at score",
        "score",
        X,
        y + 5,
        ValueError,
        r"not seen in fit: \[5, 6\]",
    ),
    ("wrong shape at score", "score", X[:, :700], y, ValueError, "700 feature"),
]


@pytest.mark.parametrize(
    "case, method, X_bad, y_bad, error, message", CASES, ids=[c[0] for c in CASES]
)
def test_bad_input(fitted, case, method, X_bad, y_bad, error, message):
    if method == "fit":
        estimator = FashionMLPClassifier(**FAST_MLP)
        call = lambda: estimator.fit(X_bad, y_bad)  # noqa: E731
    elif method == "score":
        call = lambda: fitted.score(X_bad, y_bad)  # noqa: E731
    else:
        call = lambda: getattr(fitted, method)(X_bad)  # noqa: E731
    with pytest.raises(error, match=message):
        call()


def test_predicting_before_fit():
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(FashionCNNClassifier(), method)(X)
    with pytest.raises(NotFittedError):
        FashionCNNClassifier().score(X, y)
    with pytest.raises(NotFittedError):
        FashionAugmenter().transform(X)


def test_dataframe_with_other_columns_at_predict(fitted_on_frame):
    renamed = pd.DataFrame(X, columns=[f"p{i}" for i in range(784)])
    with pytest.raises(ValueError, match="feature names"):
        fitted_on_frame.predict(renamed)


@pytest.mark.parametrize(
    "X_bad, message",
    [
        (_with(np.nan), "NaN"),
        (np.zeros((2, 32, 32)), r"\(32, 32\)"),
        (X[:, :5], "5 feature"),
    ],
)
def test_augmenter_bad_input(X_bad, message):
    with pytest.raises(ValueError, match=message):
        FashionAugmenter().fit_transform(X_bad)
    augmenter = FashionAugmenter().fit(X)
    with pytest.raises(ValueError, match=message):
        augmenter.transform(X_bad)
