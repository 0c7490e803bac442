"""joblib round trips into a new Python process give identical predictions."""

import joblib
import numpy as np
import pytest
from helpers import FAST_CNN, FAST_MLP, probabilities_in_new_process
from sklearn.pipeline import make_pipeline

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)


@pytest.mark.slow
def test_joblib_round_trip_in_a_new_process(small, tmp_path):
    X, y, X_test = small[0], small[1], small[2]
    models = {
        "cnn": FashionCNNClassifier(**FAST_CNN).fit(X, y),
        "pipeline": make_pipeline(
            FashionAugmenter(random_state=0), FashionMLPClassifier(**FAST_MLP)
        ).fit(X, y),
    }
    paths = [tmp_path / f"{name}.joblib" for name in models]
    for path, model in zip(paths, models.values(), strict=True):
        joblib.dump(model, path)
    loaded = probabilities_in_new_process("joblib:load", X_test, paths, tmp_path)
    for proba, model in zip(loaded, models.values(), strict=True):
        np.testing.assert_array_equal(proba, model.predict_proba(X_test))


def test_loaded_model_keeps_its_attributes(small, tmp_path):
    clf = FashionMLPClassifier(**FAST_MLP).fit(small[0], small[1])
    joblib.dump(clf, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    assert loaded.get_params() == clf.get_params()
    assert loaded.history_ == clf.history_
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.n_features_in_ == 784
