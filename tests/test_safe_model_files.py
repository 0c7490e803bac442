"""save_model / load_model: exact round trips, and nothing in a file runs code."""

import json
import os
import warnings
import zipfile
from pathlib import Path

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from crafted import (
    members,
    network_parts,
    rewrite,
    with_description,
    with_network,
)
from helpers import FAST_CNN, FAST_MLP, probabilities_in_new_process
from sklearn.exceptions import NotFittedError

from fashion_estimators import (
    CLASS_NAMES,
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
    ModelFileError,
    ModelVersionWarning,
    load_model,
    save_model,
)


@pytest.fixture(scope="module")
def fitted(small):
    """A CNN with in-model augmentation on integer labels, an MLP on names."""
    X, y = small[0], small[1]
    cnn = FashionCNNClassifier(
        **dict(FAST_CNN, augment=FashionAugmenter(rotation=5, random_state=1))
    ).fit(X, y)
    mlp = FashionMLPClassifier(**FAST_MLP).fit(X, np.asarray(CLASS_NAMES)[y])
    return {"cnn": cnn, "mlp": mlp}


@pytest.fixture
def saved(fitted, tmp_path):
    return save_model(fitted["mlp"], tmp_path / "mlp.fashion")


def _keras_archive(model: keras.Model, folder) -> bytes:
    model.save(folder / "network.keras")
    return (folder / "network.keras").read_bytes()


@pytest.mark.slow
def test_round_trip_in_a_new_process_predicts_identically(fitted, small, tmp_path):
    X_test = small[2]
    paths = [save_model(m, tmp_path / f"{k}.fashion") for k, m in fitted.items()]
    loaded = probabilities_in_new_process(
        "fashion_estimators:load_model", X_test, paths, tmp_path
    )
    for proba, model in zip(loaded, fitted.values(), strict=True):
        np.testing.assert_array_equal(proba, model.predict_proba(X_test))


@pytest.mark.parametrize("name", ["cnn", "mlp"])
def test_loaded_estimator_is_the_fitted_one(fitted, small, tmp_path, name):
    model = fitted[name]
    loaded = load_model(save_model(model, tmp_path / "m.fashion"))
    assert type(loaded) is type(model)
    assert loaded.get_params().keys() == model.get_params().keys()
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.history_ == model.history_
    assert loaded.n_features_in_ == 784
    np.testing.assert_array_equal(loaded.predict(small[2]), model.predict(small[2]))
    labels = model.classes_[np.searchsorted(np.unique(small[3]), small[3])]
    assert loaded.score(small[2], labels) == model.score(small[2], labels)


def test_loaded_estimator_trains_on(saved, small):
    X, y = small[0], np.asarray(CLASS_NAMES)[small[1]]
    loaded = load_model(saved)
    before = loaded.predict_proba(X[:20])
    loaded.partial_fit(X, y)
    assert not np.array_equal(loaded.predict_proba(X[:20]), before)
    assert loaded.fit(X, y).score(X, y) > 0.5


def test_feature_names_survive(small, tmp_path):
    X = pd.DataFrame(small[0], columns=[f"pixel{i}" for i in range(784)])
    clf = FashionMLPClassifier(**FAST_MLP).fit(X, small[1])
    loaded = load_model(save_model(clf, tmp_path / "m.fashion"))
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X.rename(columns={"pixel0": "p0"}))


def test_save_replaces_atomically_and_leaves_no_partial_file(fitted, tmp_path):
    path = tmp_path / "m.fashion"
    path.write_bytes(b"an older file")
    save_model(fitted["mlp"], path)
    save_model(fitted["cnn"], path)
    assert isinstance(load_model(path), FashionCNNClassifier)
    assert os.listdir(tmp_path) == ["m.fashion"]


def test_save_refuses_what_it_cannot_store_safely(fitted, small, tmp_path):
    with pytest.raises(NotFittedError):
        save_model(FashionCNNClassifier(), tmp_path / "a")
    with pytest.raises(TypeError, match="joblib.dump"):
        save_model(FashionAugmenter(), tmp_path / "b")

    def network(n_classes):
        return keras.Sequential(
            [keras.layers.Flatten(), keras.layers.Dense(n_classes, "softmax")]
        )

    custom = FashionCNNClassifier(network=network, epochs=1, random_state=0)
    custom.fit(small[0][:100], small[1][:100])
    with pytest.raises(ValueError, match="network=.*joblib.dump"):
        save_model(custom, tmp_path / "c")
    assert not list(tmp_path.iterdir())


def test_other_versions_warn_but_load(saved):
    parts = members(saved)
    manifest = json.loads(parts["manifest.json"])
    manifest["versions"]["keras"] = "2.15.0"
    rewrite(saved, {**parts, "manifest.json": json.dumps(manifest).encode()})
    with pytest.warns(ModelVersionWarning, match=r"keras 2\.15\.0 \(now 3\."):
        loaded = load_model(saved)
    assert loaded.predict(np.zeros((1, 784))).shape == (1,)


def test_edited_file_is_refused(saved):
    parts = members(saved)
    edited = parts["estimator.json"].replace(b'"epochs": 3', b'"epochs": 9')
    assert edited != parts["estimator.json"]
    rewrite(saved, {**parts, "estimator.json": edited}, rehash=False)
    with pytest.raises(ModelFileError, match="altered or corrupted.*estimator.json"):
        load_model(saved)


def test_truncated_file_is_refused(saved):
    saved.write_bytes(saved.read_bytes()[:-500])
    with pytest.raises(ModelFileError, match="not a fashion-estimators model"):
        load_model(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"estimator": "os.system"}, "does not describe an estimator"),
        ({"params": {"no_such_parameter": 1}}, "does not describe an estimator"),
        ({"params": {"epochs": -3}}, "does not describe an estimator.*epochs"),
        ({"classes": {"dtype": "object", "values": None}}, "2 or more distinct"),
        ({"params": {"augment": {"Evil": {}}}}, "unknown parameter value"),
    ],
    ids=["class", "unknown-param", "bad-param", "classes", "augment"],
)
def test_description_that_is_not_ours_is_refused(saved, change, message):
    with_description(saved, saved, **change)
    with pytest.raises(ModelFileError, match=message):
        load_model(saved)


def test_foreign_files_are_refused(fitted, tmp_path):
    cases = {
        "text.fashion": b"hello",
        "other.zip": None,
        "model.joblib": None,
        "network.keras": None,
    }
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    (tmp_path / "text.fashion").write_bytes(cases["text.fashion"])
    joblib.dump(fitted["mlp"], tmp_path / "model.joblib")
    fitted["mlp"].model_.save(tmp_path / "network.keras")
    for name in cases:
        with pytest.raises(ModelFileError, match="not a fashion-estimators model"):
            load_model(tmp_path / name)
    with pytest.raises(ModelFileError, match="pickle or joblib file"):
        load_model(tmp_path / "model.joblib")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.fashion")


class _Payload:
    """Pickling this object records a call that creates ``marker`` on load."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_payload_never_runs(saved, tmp_path):
    marker = tmp_path / "pwned"
    joblib.dump(_Payload(marker), tmp_path / "evil.joblib")
    # as a whole file, and in place of each member of a genuine archive
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "evil.joblib")
    parts = members(saved)
    evil = (tmp_path / "evil.joblib").read_bytes()
    for name in ("estimator.json", "model.keras"):
        rewrite(saved, {**parts, name: evil})
        with pytest.raises(ModelFileError):
            load_model(saved)
    assert not marker.exists()
    joblib.load(tmp_path / "evil.joblib")  # the same file under pickle does run
    assert marker.exists()


def test_code_in_the_network_never_runs(saved, tmp_path):
    marker = tmp_path / "pwned"

    def payload(x, marker=str(marker)):
        open(marker, "w").close()
        return x

    evil = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Lambda(payload), keras.layers.Flatten()]
    )
    evil.add(keras.layers.Dense(10, activation="softmax"))
    marker.unlink(missing_ok=True)  # building the layer above called it once
    parts = members(saved)
    rewrite(saved, {**parts, "model.keras": _keras_archive(evil, tmp_path)})
    with pytest.raises(ModelFileError, match="builtins.function; only Keras"):
        load_model(saved)
    assert not marker.exists()


def test_network_naming_other_modules_is_refused(saved, tmp_path):
    parts = network_parts(saved)
    config = json.loads(parts["config.json"])
    config["config"]["layers"][1]["module"] = "os"
    with_network(saved, saved, {**parts, "config.json": json.dumps(config).encode()})
    with pytest.raises(ModelFileError, match="uses os\\..*only Keras"):
        load_model(saved)


def test_saving_after_joblib_still_loads(fitted, tmp_path):
    # pickling through scikeras registers Keras' Functional class as a custom
    # object for the rest of the process, which changes what model.save writes
    joblib.dump(fitted["cnn"], tmp_path / "m.joblib")
    loaded = load_model(save_model(fitted["cnn"], tmp_path / "m.fashion"))
    np.testing.assert_array_equal(
        loaded.predict_proba(np.zeros((2, 784))),
        fitted["cnn"].predict_proba(np.zeros((2, 784))),
    )


DATA = Path(__file__).parent / "data"


def test_a_model_file_written_before_the_redesign_still_loads(test_set):
    """tests/data/mlp-0.1.0.fashion was written by commit bbfa0e9, the code
    before the package was reorganised: FashionMLPClassifier(hidden_units=(32,),
    epochs=3, random_state=0, precision="float32") fitted on
    stratified_subset(train, 2000, random_state=0). It scored 0.7292 on the
    test set, and its probabilities of the first 20 test images are stored
    beside it."""
    clf = _old_file("mlp-0.1.0", test_set, 0.7292)
    assert type(clf) is FashionMLPClassifier
    assert clf.hidden_units == (32,) and clf.epochs == 3 and clf.checkpoint is None
    assert clf.batch_norm is False  # a parameter it lacks, as it was fitted


def test_a_cnn_file_written_before_the_new_networks_still_loads(test_set):
    """tests/data/cnn-0.1.0.fashion was written by commit 1532a92, the last
    before the CNN's parameters grew (architecture, depth, weight_decay):
    FashionCNNClassifier(filters=(8, 16), dense_units=16, epochs=3,
    random_state=0, precision="float32") with that code's defaults (flips and
    erasing, test-time flips, Adam, no BatchNorm) fitted on
    stratified_subset(train, 2000, random_state=0). It scored 0.589 on the
    test set. The parameters it lacks take the values it was fitted with."""
    clf = _old_file("cnn-0.1.0", test_set, 0.589)
    assert type(clf) is FashionCNNClassifier
    assert clf.filters == (8, 16) and clf.architecture == "vgg"
    assert clf.optimizer == "adam" and clf.weight_decay is None
    with zipfile.ZipFile(DATA / "cnn-0.1.0.fashion") as archive:
        saved = json.loads(archive.read("estimator.json"))["params"]
    assert not {"architecture", "depth", "weight_decay"} & set(saved)


def test_a_cnn_file_with_keras_batch_norm_layers_is_refused_with_its_reason():
    """tests/data/cnn-bn-0.1.0.fashion was written by commit 1532a92:
    FashionCNNClassifier(filters=(8, 16), dense_units=16, batch_norm=True,
    epochs=3, random_state=0, precision="float32") on the 2,000 images above.
    Its network holds Keras' BatchNormalization layers, which batch_norm=True
    no longer builds."""
    with pytest.raises(ModelFileError, match="Keras' BatchNormalization.*fit the"):
        load_model(DATA / "cnn-bn-0.1.0.fashion")


def _old_file(name, test_set, score):
    """The estimator in DATA / name.fashion, checked against the
    probabilities of the first 20 test images stored beside it and its test
    score, after it trains one more epoch."""
    with warnings.catch_warnings():
        # a later TensorFlow or scikit-learn makes the file an older one
        warnings.simplefilter("ignore", ModelVersionWarning)
        clf = load_model(DATA / f"{name}.fashion")
    np.testing.assert_allclose(
        clf.predict_proba(test_set[0][:20]),
        np.load(DATA / f"{name}.proba.npy"),
        atol=1e-5,  # float32 kernels differ in the last bits across CPUs
    )
    # 0.002 is 20 of 10,000 images changing side on a near tie
    assert clf.score(*test_set) == pytest.approx(score, abs=0.002)
    clf.partial_fit(test_set[0][:100], test_set[1][:100])  # and it trains on
    assert len(clf.history_["loss"]) == 4
    return clf
