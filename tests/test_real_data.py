"""The default models trained on a real 4,000-image subset (a first try),
scored on the real test set; the full-data figures are the benchmarks'."""

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from fashion_estimators import (
    FashionCNNClassifier,
    FashionMLPClassifier,
    stratified_subset,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first_try(train_set):
    """A first try on a small subset: the default CNN, 2 epochs on 4,000 images."""
    X, y = stratified_subset(*train_set, 4_000, random_state=0)
    return X, y, FashionCNNClassifier(epochs=2, random_state=0).fit(X, y)


def test_two_epochs_on_4000_images_train_at_the_auto_batch(first_try, test_set):
    # With a fixed batch of 256 this is 32 gradient steps and scores below
    # 0.5; "auto" takes 100 steps an epoch.
    X, _, clf = first_try
    accuracy = clf.score(*test_set)
    print(f"CNN defaults, 2 epochs on 4k: test accuracy {accuracy:.4f}")
    assert clf.batch_size_for(len(X)) == 40
    # The project's bar for a first try. Measured 0.8259 (seed 0, AMD EPYC
    # with AVX512-BF16, bfloat16, 2026-12-05): 2.6 points of margin, where the
    # former default's first try differed by 0.7 points between machines
    # (0.8083 with AMX, 0.8016 without). Two epochs train without dropout and
    # Random Erasing (regularization_epochs), which cost it 3-4 points.
    assert accuracy >= 0.80


def test_the_default_mlp_learns_4000_images_in_five_epochs(first_try, test_set):
    X, y, _ = first_try
    clf = FashionMLPClassifier(epochs=5, random_state=0).fit(X, y)
    accuracy = clf.score(*test_set)
    print(f"MLP defaults, 5 epochs on 4k: test accuracy {accuracy:.4f}")
    assert clf.batch_size_for(len(X)) == 40 and len(clf.history_["loss"]) == 5
    # Set against 0.8340 with BatchNorm (seed 0, bfloat16, AMD EPYC with
    # AVX512-BF16, 2026-12-05) and 0.8273-0.8327 without (seeds 0 and 1,
    # float32 and bfloat16, 2026-12-04): the bar leaves 2.7 points under the
    # lowest
    assert accuracy >= 0.80


def test_the_cnn_trains_as_well_behind_minmaxscaler(first_try, test_set):
    # MinMaxScaler scales each pixel by its own training range, near 1/255,
    # so the network sees pixels in [0, 1] (on X / 255 it sees the very
    # network of raw pixels: test_pixel_scale.py). Set against 0.8216 behind
    # the scaler and 0.8259 raw (seed 0, AMD EPYC in bfloat16, 2026-12-05;
    # the former default: 0.8005 and 0.8016): 3 points of margin.
    X, y, raw = first_try
    scaled = make_pipeline(
        MinMaxScaler(), FashionCNNClassifier(epochs=2, random_state=0)
    ).fit(X, y)
    scores = raw.score(*test_set), scaled.score(*test_set)
    print(f"raw {scores[0]:.4f}, behind MinMaxScaler {scores[1]:.4f}")
    assert scaled[-1].pixel_max_ == 1.0 and raw.pixel_max_ == 255.0
    assert scores[1] >= scores[0] - 0.03
