"""warm_start: fit continues a fitted network instead of starting afresh."""

import keras
import numpy as np
import pytest
from helpers import FAST_MLP
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from fashion_estimators import FashionCNNClassifier, FashionMLPClassifier


class _StopAfter(keras.callbacks.Callback):
    """Interrupt training at the end of epoch ``n`` (counted from 1)."""

    def __init__(self, n):
        super().__init__()
        self.n, self.seen = n, 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


def _optimizer_state(clf):
    return [v.numpy().copy() for v in clf.model_.optimizer.variables]


def test_warm_start_trains_the_same_network_more_epochs(small):
    X, y = small[0], small[1]
    clf = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X, y)
    network, weights = clf.model_, clf.model_.get_weights()
    iterations = int(clf.model_.optimizer.iterations.numpy())
    first_losses = list(clf.history_["loss"])

    clf.fit(X, y)

    assert clf.model_ is network
    after = network.get_weights()
    assert not all(np.array_equal(a, b) for a, b in zip(weights, after, strict=True))
    # the optimizer state carried on: Adam's step counter kept counting
    assert int(network.optimizer.iterations.numpy()) == 2 * iterations
    assert len(clf.history_["loss"]) == 2 * FAST_MLP["epochs"]
    assert clf.history_["loss"][:3] == first_losses
    # the continuation starts where the first fit ended, not from scratch
    assert clf.history_["loss"][3] < first_losses[0]
    # a fresh cosine over the new epochs: back to the full learning rate
    rates = clf.history_["learning_rate"]
    assert rates[0] == pytest.approx(rates[3]) == pytest.approx(clf.learning_rate)
    assert rates[2] < rates[0]


@pytest.mark.slow
def test_without_warm_start_fit_starts_afresh(small):
    X, y = small[0], small[1]
    clf = FashionMLPClassifier(**FAST_MLP).fit(X, y)
    first = clf.model_
    clf.fit(X, y)
    assert clf.model_ is not first
    assert len(clf.history_["loss"]) == FAST_MLP["epochs"]


@pytest.mark.slow
def test_warm_start_on_an_unfitted_estimator_is_a_plain_fit(small):
    X, y = small[0], small[1]
    warm = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X, y)
    cold = FashionMLPClassifier(**FAST_MLP).fit(X, y)
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))


@pytest.mark.slow
def test_warm_start_refuses_labels_it_does_not_know(small):
    X, y = small[0], small[1]
    keep = y < 5
    clf = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X[keep], y[keep])
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=r"does not know: \[5, 6, 7, 8, 9\]"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(5))
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    # a subset of the known labels is fine
    clf.fit(X[y < 3], y[y < 3])
    np.testing.assert_array_equal(clf.classes_, np.arange(5))


def test_an_interrupted_warm_fit_leaves_weights_and_optimizer_as_they_were(small):
    X, y = small[0], small[1]
    clf = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X, y)
    weights, state = clf.model_.get_weights(), _optimizer_state(clf)
    history = {k: list(v) for k, v in clf.history_.items()}
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, callbacks=[_StopAfter(2)])
    for saved, now in zip(weights, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, now)
    for saved, now in zip(state, _optimizer_state(clf), strict=True):
        np.testing.assert_array_equal(saved, now)
    assert clf.history_ == history


def test_partial_fit_still_trains_one_epoch(small):
    X, y = small[0], small[1]
    clf = FashionMLPClassifier(**FAST_MLP, warm_start=True).fit(X, y)
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == FAST_MLP["epochs"] + 1


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_epochs_are_a_parameter_not_a_fit_argument(small, method):
    clf = FashionMLPClassifier(**FAST_MLP)
    with pytest.raises(TypeError, match="epochs parameter"):
        getattr(clf, method)(small[0], small[1], epochs=5)


@pytest.mark.slow
def test_clone_and_grid_search_fit_every_candidate_afresh(small):
    X, y = small[0], small[1]
    fitted = FashionCNNClassifier(
        filters=(4,), dense_units=8, epochs=1, warm_start=True, random_state=0
    ).fit(X, y)
    assert not hasattr(clone(fitted), "model_")
    search = GridSearchCV(fitted, {"warm_start": [False, True]}, cv=2, refit=False).fit(
        X, y
    )
    scores = search.cv_results_["split0_test_score"]
    # every candidate is a clone, fitted once from scratch with the same seed
    assert scores[0] == scores[1]
