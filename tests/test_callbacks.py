"""The callbacks parameter: Keras callbacks that survive clone and CV."""

import keras
import numpy as np
import pytest
from helpers import FAST_MLP
from sklearn.model_selection import GridSearchCV

from fashion_estimators import FashionMLPClassifier, load_model, save_model


class EpochCounter(keras.callbacks.Callback):
    """Counts the epochs it sees and remembers the model it was set on."""

    def __init__(self):
        super().__init__()
        self.epochs = 0
        self.models = []

    def on_train_begin(self, logs=None):
        self.models.append(self.model)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


class Recorder(keras.callbacks.Callback):
    """Records which object ran each fit, in a list all its copies share, and
    the epochs each one saw."""

    runs: list = []

    def on_train_begin(self, logs=None):
        self.epochs = 0
        Recorder.runs.append(self)  # a reference, so that no id is reused

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


@pytest.mark.slow
def test_each_fit_runs_its_own_copy(small):
    counter, template = EpochCounter(), Recorder()
    Recorder.runs.clear()
    clf = FashionMLPClassifier(**FAST_MLP, callbacks=[counter, template])
    clf.fit(small[0], small[1])
    assert counter.epochs == 0 and counter.models == []  # the template is never run
    assert [run.epochs for run in Recorder.runs] == [FAST_MLP["epochs"]]  # a copy is
    clf.fit(small[0], small[1])
    assert counter.epochs == 0
    assert [run.epochs for run in Recorder.runs] == [FAST_MLP["epochs"]] * 2
    assert Recorder.runs[0] is not Recorder.runs[1]
    assert template not in Recorder.runs


@pytest.mark.slow
def test_callbacks_run_inside_a_grid_search_without_sharing_state(small):
    X, y = small[0], small[1]
    template = Recorder()
    Recorder.runs.clear()
    clf = FashionMLPClassifier(**FAST_MLP, callbacks=[template])
    GridSearchCV(clf, {"learning_rate": [1e-3, 2e-3]}, cv=2).fit(X, y)
    # 2 candidates x 2 folds, then the refit: five fits, five distinct copies
    assert len(Recorder.runs) == 5
    assert len({id(run) for run in Recorder.runs}) == 5
    assert all(run is not template for run in Recorder.runs)


def test_fit_argument_callbacks_run_as_given(small):
    counter = EpochCounter()
    FashionMLPClassifier(**FAST_MLP).fit(small[0], small[1], callbacks=[counter])
    assert counter.epochs == FAST_MLP["epochs"]


def test_save_model_leaves_callbacks_out(tmp_path, small, caplog):
    clf = FashionMLPClassifier(**FAST_MLP, callbacks=[EpochCounter()])
    clf.fit(small[0], small[1])
    save_model(clf, tmp_path / "m.zip")
    assert "does not store callbacks" in caplog.text
    loaded = load_model(tmp_path / "m.zip")
    assert loaded.callbacks is None
    np.testing.assert_array_equal(
        loaded.predict_proba(small[0]), clf.predict_proba(small[0])
    )


def test_a_callbacks_value_that_is_not_callbacks_is_refused(small):
    with pytest.raises(ValueError, match="'callbacks' parameter"):
        FashionMLPClassifier(**FAST_MLP, callbacks=["early"]).fit(small[0], small[1])
