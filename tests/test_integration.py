"""The classifiers inside scikit-learn's meta-estimators and model selection."""

import numpy as np
import pytest
from helpers import FAST_CNN, FAST_MLP
from scipy.stats import uniform
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

# each test fits many models: searches, cross-validation, ensembles
pytestmark = pytest.mark.slow

# One epoch and the smallest networks: these tests check wiring, not accuracy.
CNN = dict(FAST_CNN, epochs=1, filters=(4,), dense_units=8)
MLP = dict(FAST_MLP, epochs=2, hidden_units=(16,))


def _logistic():
    return make_pipeline(
        FunctionTransformer(lambda X: X / 255.0), LogisticRegression(max_iter=200)
    )


def test_cross_val_score_uses_stratified_folds(tiny):
    X, y = tiny
    order = np.argsort(y, kind="stable")  # sorted labels: KFold would break
    scores = cross_val_score(FashionMLPClassifier(**MLP), X[order], y[order], cv=5)
    assert scores.shape == (5,) and scores.min() > 0.5


def test_cross_validate_reports_every_metric(tiny):
    result = cross_validate(
        FashionCNNClassifier(**CNN),
        *tiny,
        cv=3,
        scoring=["accuracy", "neg_log_loss"],
        return_train_score=True,
    )
    assert len(result["test_accuracy"]) == 3
    assert np.all(result["test_neg_log_loss"] < 0)


def test_pipeline_with_augmenter(tiny):
    pipe = make_pipeline(FashionAugmenter(random_state=0), FashionCNNClassifier(**CNN))
    pipe.fit(*tiny)
    assert pipe.score(*tiny) > 0.5
    assert pipe.predict_proba(tiny[0][:5]).shape == (5, 3)


def test_grid_search(tiny):
    # one epoch trains with its dropout only with regularization_epochs=1
    search = GridSearchCV(
        FashionCNNClassifier(**CNN, regularization_epochs=1),
        {"dropout": [0.25, 0.5]},
        cv=3,
    ).fit(*tiny)
    scores = search.cv_results_["mean_test_score"]
    # the same seed, other dropout masks: each candidate's own fits were scored
    assert len(scores) == 2 and scores[0] != scores[1]
    assert search.best_estimator_.dropout == search.best_params_["dropout"]


def test_grid_search_finds_the_learning_rate_that_learns(tiny):
    # a learning rate of 1e-9 leaves the network where it started; the search
    # must rank the one that learns first
    search = GridSearchCV(
        FashionMLPClassifier(**dict(MLP, batch_size=16)),
        {"learning_rate": [1e-9, 1e-2]},
        cv=2,
    ).fit(*tiny)
    still, learns = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"learning_rate": 1e-2}
    assert learns > still + 0.2, (still, learns)


def test_randomized_search_over_nested_augmenter(tiny):
    template = FashionAugmenter()
    search = RandomizedSearchCV(
        FashionMLPClassifier(**MLP, augment=template),
        {"learning_rate": uniform(1e-3, 1e-2), "augment__rotation": [0, 10]},
        n_iter=3,
        cv=2,
        random_state=0,
    ).fit(*tiny)
    # each candidate's nested value reached the augmenter of its own clone
    tried = [p["augment__rotation"] for p in search.cv_results_["params"]]
    assert sorted(set(tried)) == [0, 10]
    best = search.best_estimator_.augment
    assert best.rotation == search.best_params_["augment__rotation"]
    assert best is not template and template.rotation == 0.0


def test_soft_voting(tiny):
    voting = VotingClassifier(
        [("cnn", FashionCNNClassifier(**CNN)), ("logistic", _logistic())],
        voting="soft",
    ).fit(*tiny)
    proba = voting.predict_proba(tiny[0])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert voting.score(*tiny) > 0.5


def test_stacking(tiny):
    stack = StackingClassifier(
        [("mlp", FashionMLPClassifier(**MLP)), ("cnn", FashionCNNClassifier(**CNN))],
        final_estimator=LogisticRegression(),
        cv=2,
    ).fit(*tiny)
    assert stack.score(*tiny) > 0.5


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration(tiny, method):
    calibrated = CalibratedClassifierCV(
        FashionMLPClassifier(**MLP), method=method, cv=2
    ).fit(*tiny)
    proba = calibrated.predict_proba(tiny[0])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
