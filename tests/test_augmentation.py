"""FashionAugmenter: the transformer contract and what the transforms do."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from fashion_estimators import FashionAugmenter

OFF = dict(shift=0, rotation=0, zoom=0, horizontal_flip=False, erasing=0)


@pytest.fixture(scope="module")
def X(small):
    return small[0][:64]


@pytest.mark.parametrize("layout", ["flat", "images", "channel", "float", "frame"])
def test_fit_transform_keeps_rows_shape_dtype(X, layout):
    X_in = {
        "flat": X,
        "images": X.reshape(-1, 28, 28),
        "channel": X.reshape(-1, 28, 28, 1),
        "float": X.astype(np.float32),
        "frame": pd.DataFrame(X, index=np.arange(100, 164)),
    }[layout]
    out = FashionAugmenter(random_state=0).fit_transform(X_in)
    assert type(out) is type(X_in)
    values = np.asarray(out)
    assert out.shape == X_in.shape and values.dtype == np.asarray(X_in).dtype
    assert values.min() >= 0 and values.max() <= 255
    if layout == "frame":
        pd.testing.assert_index_equal(out.index, X_in.index)
    changed = (np.asarray(out).reshape(64, -1) != X).any(axis=1)
    assert changed.mean() > 0.9  # nearly every image is transformed


def test_transform_returns_x_unchanged(X):
    augmenter = FashionAugmenter(random_state=0).fit(X)
    assert augmenter.transform(X) is X
    assert augmenter.n_features_in_ == 784


def test_transform_before_fit_is_an_error(X):
    with pytest.raises(NotFittedError):
        FashionAugmenter().transform(X)


def test_random_state_repeats_and_differs(X):
    a = FashionAugmenter(random_state=1).fit_transform(X)
    b = FashionAugmenter(random_state=1).fit_transform(X)
    c = FashionAugmenter(random_state=2).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_everything_disabled_is_identity(X):
    np.testing.assert_array_equal(FashionAugmenter(**OFF).fit_transform(X), X)


def test_flip_only_mirrors_or_keeps_each_image(X):
    out = FashionAugmenter(**{**OFF, "horizontal_flip": True}, random_state=0)
    out = out.fit_transform(X).reshape(-1, 28, 28)
    images = X.reshape(-1, 28, 28)
    mirrored = np.all(out == images[:, :, ::-1], axis=(1, 2))
    same = np.all(out == images, axis=(1, 2))
    assert np.all(mirrored | same)
    assert 10 < mirrored.sum() < 54  # about half of 64


def test_shift_only_moves_the_ink(X):
    out = FashionAugmenter(**{**OFF, "shift": 0.2}, random_state=0).fit_transform(X)
    images, moved = X.reshape(-1, 28, 28), out.reshape(-1, 28, 28)

    def centre_of_mass(a):
        cols = a.sum(axis=1).astype(float)
        return (cols * np.arange(28)).sum(axis=1) / cols.sum(axis=1)

    shift = np.abs(centre_of_mass(moved) - centre_of_mass(images))
    assert shift.max() > 1.0 and shift.max() <= 0.2 * 28 + 1


def test_rotation_only_preserves_most_ink(X):
    out = FashionAugmenter(**{**OFF, "rotation": 15}, random_state=0).fit_transform(X)
    ratio = out.reshape(64, -1).sum(1) / X.reshape(64, -1).sum(1)
    assert np.all((ratio > 0.8) & (ratio < 1.2))
    assert (out != X).any()


def test_erasing_only_overwrites_one_rectangle_in_about_p_of_the_images(X):
    out = FashionAugmenter(**{**OFF, "erasing": 0.5}, random_state=0).fit_transform(X)
    changed = out.reshape(-1, 28, 28) != X.reshape(-1, 28, 28)
    erased = changed.any(axis=(1, 2))
    assert 16 <= erased.sum() <= 48  # about half of 64
    for mask in changed[erased]:
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        # changes stay inside one rectangle of 4 to 16 pixels a side (14% to
        # 57% of 28); noise equal to the old value leaves a few holes in it
        assert 4 <= len(box) <= 17 and 4 <= box.shape[1] <= 17
        assert box.mean() > 0.5
    all_erased = FashionAugmenter(**{**OFF, "erasing": 1.0}, random_state=0)
    assert (all_erased.fit_transform(X) != X).any(axis=1).all()


def test_clone_keeps_parameters():
    augmenter = FashionAugmenter(shift=0.05, rotation=3, zoom=0, random_state=4)
    assert clone(augmenter).get_params() == augmenter.get_params()


class _Recorder(ClassifierMixin, BaseEstimator):
    """Remembers what it was fitted on and what it was asked to predict."""

    def fit(self, X, y):
        self.fitted_on_ = np.array(X)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.predicted_on_ = np.array(X)
        return np.full(len(X), self.classes_[0])


def test_pipeline_augments_fit_data_only(X):
    y = np.arange(len(X)) % 2
    pipe = make_pipeline(FashionAugmenter(random_state=0), _Recorder()).fit(X, y)
    recorder = pipe[-1]
    assert recorder.fitted_on_.shape == X.shape and (recorder.fitted_on_ != X).any()
    pipe.predict(X)
    np.testing.assert_array_equal(recorder.predicted_on_, X)


def test_keras_layers_match_the_enabled_transforms():
    names = [
        type(layer).__name__
        for layer in FashionAugmenter(rotation=0, zoom=0.2, erasing=0.3).keras_layers(
            seed=0
        )
    ]
    assert names == ["RandomFlip", "RandomTranslation", "RandomZoom", "RandomErasing"]
    assert FashionAugmenter(**OFF).keras_layers() == []
