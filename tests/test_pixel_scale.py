"""Pixels scaled to [0, 1], the way tutorials and MinMaxScaler scale them,
train as well as raw ones, and a scale that contradicts fit's is an error."""

import json

import numpy as np
import pandas as pd
import pytest
from crafted import members, rewrite
from helpers import FAST_CNN

from fashion_estimators import (
    FashionAugmenter,
    FashionCNNClassifier,
    FashionMLPClassifier,
    load_model,
    save_model,
    stratified_subset,
)

MLP = dict(hidden_units=(64,), epochs=4, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def subset(train_set, test_set):
    X, y = stratified_subset(*train_set, 4000, random_state=0)
    X_test, y_test = stratified_subset(*test_set, 2000, random_state=0)
    return X, y, X_test, y_test


@pytest.mark.slow
def test_the_cnn_fits_the_very_same_network_on_either_scale(subset):
    # Every pixel value v in 0..255 comes back exactly from float32(v / 255) *
    # 255, so a fit on X / 255 sees the very images a fit on X sees: the same
    # network, to the last bit, on any machine. Its accuracy on real data, and
    # behind MinMaxScaler, is in test_real_data.py.
    X, y, X_test = subset[0][:600], subset[1][:600], subset[2][:300]
    raw = FashionCNNClassifier(**FAST_CNN).fit(X, y)
    unit = FashionCNNClassifier(**FAST_CNN).fit(X / 255, y)
    assert (raw.pixel_max_, unit.pixel_max_) == (255.0, 1.0)
    np.testing.assert_array_equal(
        unit.predict_proba(X_test / 255), raw.predict_proba(X_test)
    )


@pytest.mark.slow
def test_the_mlp_trains_as_well_on_either_scale(subset):
    X, y, X_test, y_test = subset
    raw = FashionMLPClassifier(**MLP).fit(X, y).score(X_test, y_test)
    unit = FashionMLPClassifier(**MLP).fit(X / 255, y).score(X_test / 255, y_test)
    # the issue measured a 7-point loss on X / 255 before. Set against 0.7805
    # on both scales here (seed 0): the bar leaves 4 points for machine spread
    assert raw >= 0.74 and abs(unit - raw) <= 0.01


@pytest.fixture(scope="module")
def fitted(subset):
    X, y = subset[0][:600], subset[1][:600]
    return {
        "raw": FashionMLPClassifier(**MLP).fit(X, y),
        "unit": FashionMLPClassifier(**MLP).fit(X / 255.0, y),
    }


def test_pixels_on_the_other_scale_are_refused_at_predict(fitted, subset):
    X = subset[2][:50]
    with pytest.raises(ValueError, match=r"X looks scaled to \[0, 1\] \(50 of 50 rows"):
        fitted["raw"].predict(X / 255)
    with pytest.raises(ValueError, match=r"raw pixels in \[0, 255\] \(50 of 50 rows"):
        fitted["unit"].predict_proba(X)
    mixed = np.vstack([X[:49] / 255, X[49:]])
    with pytest.raises(ValueError, match=r"1 of 50 rows, e.g. row 49"):
        fitted["unit"].score(mixed, subset[3][:50])
    # what a model accepts besides its own scale: blank rows, binary rows,
    # a few values above 1 (MinMaxScaler on brighter data than its fit's)
    # (the two models are the same network: see the CNN's test above)
    blank = np.zeros((2, 784))
    np.testing.assert_array_equal(
        fitted["raw"].predict_proba(blank), fitted["unit"].predict_proba(blank)
    )
    outliers = X[:5] / 255
    outliers[:, :3] = 1.4
    proba = fitted["unit"].predict_proba(outliers)  # taken, not refused
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    # the pixels that are in range still count: not the answer for a blank
    assert not np.allclose(proba, fitted["unit"].predict_proba(blank[:1]))


def test_fit_refuses_rows_of_both_scales(subset):
    X, y = subset[0][:200].astype(float), subset[1][:200]
    X[:20] /= 255
    with pytest.raises(ValueError, match=r"X mixes raw pixels .* \(20 of 200 rows"):
        FashionMLPClassifier(**MLP).fit(X, y)


def test_further_fits_keep_the_scale(fitted, subset):
    X, y = subset[0][:200], subset[1][:200]
    unit = fitted["unit"]
    with pytest.raises(ValueError, match="fitted on pixels scaled to"):
        unit.partial_fit(X, y)
    unit.partial_fit(X / 255, y)
    assert unit.pixel_max_ == 1.0


def test_the_scale_is_saved_and_old_files_mean_raw_pixels(fitted, subset, tmp_path):
    X = subset[2][:20] / 255
    path = save_model(fitted["unit"], tmp_path / "unit.fashion")
    loaded = load_model(path)
    assert loaded.pixel_max_ == 1.0
    np.testing.assert_array_equal(
        loaded.predict_proba(X), fitted["unit"].predict_proba(X)
    )
    parts = members(save_model(fitted["raw"], tmp_path / "raw.fashion"))
    description = json.loads(parts["estimator.json"])
    del description["pixel_max"]  # as files written before the scale was recorded
    rewrite(
        tmp_path / "old.fashion",
        {**parts, "estimator.json": json.dumps(description).encode()},
    )
    assert load_model(tmp_path / "old.fashion").pixel_max_ == 255.0


def test_binary_images_are_pixels_in_zero_one(subset):
    X, y = (subset[0][:300] > 127), subset[1][:300]
    clf = FashionMLPClassifier(**MLP).fit(X, y)
    assert clf.pixel_max_ == 1.0 and clf.score(X, y) > 0.5


def test_the_augmenter_returns_pixels_on_their_own_scale(subset):
    X = subset[0][:64] / 255
    out = FashionAugmenter(erasing=1.0, random_state=0).fit_transform(X)
    assert out.dtype == X.dtype and out.max() <= 1 and out.min() >= 0
    assert not np.array_equal(out, X) and out.max() > 0.5


def test_the_augmenter_speaks_sklearn_output_names(subset):
    X = subset[0][:10]
    augmenter = FashionAugmenter(random_state=0).fit(X)
    names = augmenter.get_feature_names_out()
    assert names.tolist()[:2] == ["pixel1", "pixel2"] and len(names) == 784
    frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(784)])
    augmenter.set_output(transform="pandas")
    out = augmenter.fit_transform(frame)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(frame.columns)
    plain = FashionAugmenter(random_state=0).set_output(transform="pandas").fit(X)
    transformed = plain.transform(X)
    assert isinstance(transformed, pd.DataFrame)
    assert transformed.columns[-1] == "pixel784"
    with pytest.raises(ValueError, match="expected the 784 column names"):
        plain.get_feature_names_out(["a", "b"])
