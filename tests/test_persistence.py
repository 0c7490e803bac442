"""joblib round trips into a new Python process give identical predictions."""

import subprocess
import sys

import joblib
import numpy as np
from conftest import FAST_CNN, FAST_MLP
from sklearn.pipeline import make_pipeline

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
)

LOAD_AND_PREDICT = """
import sys, joblib, numpy as np
X = np.load(sys.argv[1])
for path in sys.argv[2:]:
    np.save(f"{path}.proba.npy", joblib.load(path).predict_proba(X))
"""


def test_joblib_round_trip_in_a_new_process(small, tmp_path):
    X, y, X_test = small[0], small[1], small[2]
    models = {
        "cnn": FashionCNNClassifier(**FAST_CNN).fit(X, y),
        "pipeline": make_pipeline(
            FashionAugmenter(random_state=0), FashionMLPClassifier(**FAST_MLP)
        ).fit(X, y),
    }
    np.save(tmp_path / "X.npy", X_test)
    paths = []
    for name, model in models.items():
        paths.append(str(tmp_path / f"{name}.joblib"))
        joblib.dump(model, paths[-1])
    subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path / "X.npy"), *paths],
        check=True,
        timeout=300,
    )
    for path, model in zip(paths, models.values(), strict=True):
        np.testing.assert_array_equal(
            np.load(f"{path}.proba.npy"), model.predict_proba(X_test)
        )


def test_loaded_model_keeps_its_attributes(small, tmp_path):
    clf = FashionMLPClassifier(**FAST_MLP).fit(small[0], small[1])
    joblib.dump(clf, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    assert loaded.get_params() == clf.get_params()
    assert loaded.history_ == clf.history_
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.n_features_in_ == 784
