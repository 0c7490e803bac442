"""class_weight and sample_weight, on real images."""

import numpy as np
import pytest
from helpers import FAST_MLP
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils.class_weight import compute_sample_weight

from fashion_estimators import (
    FashionMLPClassifier,
    load_model,
    save_model,
    stratified_subset,
)

SHIRT = 6  # the hardest class: confused with T-shirts, pullovers and coats


def _proba(X, y, X_eval, sample_weight=None, **params):
    clf = FashionMLPClassifier(**{**FAST_MLP, **params})
    return clf.fit(X, y, sample_weight=sample_weight).predict_proba(X_eval)


@pytest.mark.slow
def test_up_weighting_shirts_raises_their_recall_on_the_test_set(train_set, test_set):
    X, y = stratified_subset(*train_set, 5_000, random_state=0)
    X_test, y_test = test_set
    params = dict(hidden_units=(256,), epochs=8, random_state=0)
    recalls = {}
    for weight in (1.0, 4.0):
        clf = FashionMLPClassifier(**params, class_weight={SHIRT: weight}).fit(X, y)
        recalls[weight] = recall_score(
            y_test, clf.predict(X_test), labels=[SHIRT], average=None
        )[0]
    print(f"Shirt recall on the test set: {recalls}")
    assert recalls[4.0] >= recalls[1.0] + 0.10


@pytest.mark.slow
def test_class_weight_is_a_per_sample_weight_of_each_label(small):
    X, y = small[0], small[1]
    weights = {SHIRT: 3.0, 0: 0.5}
    as_samples = np.array([weights.get(label, 1.0) for label in y])
    np.testing.assert_array_equal(
        _proba(X, y, X, class_weight=weights), _proba(X, y, X, as_samples)
    )
    np.testing.assert_array_equal(
        _proba(X, y, X, class_weight="balanced"),
        _proba(X, y, X, compute_sample_weight("balanced", y)),
    )


@pytest.mark.slow
def test_class_weight_and_sample_weight_multiply(small):
    X, y = small[0], small[1]
    sample_weight = np.linspace(0.5, 2.0, len(y))
    both = _proba(X, y, X, sample_weight, class_weight={SHIRT: 3.0})
    product = sample_weight * np.where(y == SHIRT, 3.0, 1.0)
    np.testing.assert_array_equal(both, _proba(X, y, X, product))


def test_the_callers_sample_weight_is_not_changed(small):
    X, y = small[0], small[1]
    sample_weight = np.ones(len(y))
    _proba(X, y, X[:5], sample_weight, class_weight="balanced")
    np.testing.assert_array_equal(sample_weight, np.ones(len(y)))


@pytest.mark.slow
def test_zero_weights_train_as_if_those_rows_were_dropped(small):
    # The wrapper drops rows of weight 0 before training, and a weight of 1
    # multiplies the loss exactly, so the two fits see the same batches: the
    # tolerance only allows for the order of floating-point sums.
    X, y, X_test = small[0], small[1], small[2]
    keep = np.arange(len(y)) % 3 != 0
    zeroed = _proba(X, y, X_test, keep.astype(float))
    dropped = _proba(X[keep], y[keep], X_test)
    np.testing.assert_allclose(zeroed, dropped, atol=1e-5)


@pytest.mark.slow
def test_class_weight_can_be_grid_searched(small):
    X, y = small[0], small[1]
    grid = {"class_weight": [None, "balanced", {SHIRT: 2.0}]}
    search = GridSearchCV(FashionMLPClassifier(**FAST_MLP), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 3


@pytest.mark.parametrize("labels", [[0, 1, 2], ["a", "b", "c"]])
def test_class_weight_survives_save_model(tmp_path, small, labels):
    X, y = small[0][:90], np.repeat(labels, 30)
    weights = {labels[1]: 2.5}
    clf = FashionMLPClassifier(**FAST_MLP, class_weight=weights).fit(X, y)
    save_model(clf, tmp_path / "model.zip")
    loaded = load_model(tmp_path / "model.zip")
    assert loaded.class_weight == weights
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# (case, class_weight, sample_weight, message)
BAD = [
    ("unknown label", {42: 2.0}, None, r"not classes of y: \[42\]"),
    ("negative class weight", {0: -1.0}, None, "class_weight has negative"),
    ("NaN class weight", {0: np.nan}, None, "class_weight has NaN"),
    ("unknown string", "balance", None, "'class_weight' parameter"),
    ("a list", [1.0] * 10, None, "'class_weight' parameter"),
    ("negative sample weight", None, -np.ones(600), "sample_weight has negative"),
    ("NaN sample weight", None, np.full(600, np.nan), "sample_weight has NaN"),
    ("wrong length", None, np.ones(599), r"shape \(599,\); expected .* \(600,\)"),
]


@pytest.mark.parametrize(
    "class_weight, sample_weight, message",
    [case[1:] for case in BAD],
    ids=[case[0] for case in BAD],
)
def test_bad_weights_are_refused_clearly(small, class_weight, sample_weight, message):
    clf = FashionMLPClassifier(**FAST_MLP, class_weight=class_weight)
    with pytest.raises(ValueError, match=message):
        clf.fit(small[0], small[1], sample_weight=sample_weight)
    assert not hasattr(clf, "model_")
