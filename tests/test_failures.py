"""A fit that fails part-way leaves the estimator exactly as it was."""

import keras
import numpy as np
import pytest
from helpers import FAST_CNN, FAST_MLP
from sklearn.exceptions import NotFittedError

from fashion_estimators import FashionCNNClassifier, FashionMLPClassifier


def _fail_in_second_epoch(monkeypatch, exception):
    """Make the learning-rate callback raise when the second epoch begins."""
    original = keras.callbacks.LearningRateScheduler.on_epoch_begin

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise exception
        return original(self, epoch, logs)

    monkeypatch.setattr(
        keras.callbacks.LearningRateScheduler, "on_epoch_begin", on_epoch_begin
    )


@pytest.mark.parametrize("exception", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(
    small, monkeypatch, exception
):
    clf = FashionMLPClassifier(**FAST_MLP)
    before = dict(vars(clf))
    _fail_in_second_epoch(monkeypatch, exception)
    with pytest.raises(type(exception)):
        clf.fit(small[0], small[1])
    assert vars(clf) == before
    with pytest.raises(NotFittedError):
        clf.predict(small[2])


@pytest.mark.parametrize("exception", [MemoryError(), KeyboardInterrupt()])
@pytest.mark.slow
def test_failed_refit_keeps_the_previous_model(small, monkeypatch, exception):
    clf = FashionCNNClassifier(**FAST_CNN).fit(small[0], small[1])
    proba, model, history = clf.predict_proba(small[2]), clf.model_, clf.history_
    _fail_in_second_epoch(monkeypatch, exception)
    with pytest.raises(type(exception)):
        clf.fit(small[0][:300], small[1][:300])
    assert clf.model_ is model and clf.history_ is history
    np.testing.assert_array_equal(clf.predict_proba(small[2]), proba)


def test_failed_partial_fit_restores_the_weights(small, monkeypatch):
    clf = FashionMLPClassifier(**FAST_MLP)
    clf.partial_fit(small[0], small[1], classes=np.arange(10))
    proba = clf.predict_proba(small[2])

    def explode(*args, **kwargs):
        raise RuntimeError("interrupted")

    original_fit = clf.model_.fit

    def fit_one_batch_then_fail(*args, **kwargs):
        original_fit(*args, **{**kwargs, "epochs": kwargs["initial_epoch"] + 1})
        explode()

    monkeypatch.setattr(clf.model_, "fit", fit_one_batch_then_fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        clf.partial_fit(small[0], small[1])
    np.testing.assert_array_equal(clf.predict_proba(small[2]), proba)
    assert len(clf.history_["loss"]) == 1
