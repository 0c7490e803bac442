"""Pixel input validation shared by every estimator.

Its subject is the private unit ``_images`` (``check_pixels``, ``to_images``,
``like_input``), which every public entry calls.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from fashion_estimators._images import check_pixels, like_input, to_images

rng = np.random.RandomState(0)
FLAT = rng.randint(0, 256, size=(5, 784)).astype(np.uint8)


@pytest.mark.parametrize(
    "X",
    [
        FLAT,
        FLAT.reshape(5, 28, 28),
        FLAT.reshape(5, 28, 28, 1),
        FLAT.astype(np.float64),
        FLAT.astype(np.int64).tolist(),
        pd.DataFrame(FLAT, columns=[f"pixel{i}" for i in range(1, 785)]),
        np.asfortranarray(FLAT.astype(np.float32)),
    ],
    ids=["flat", "images", "channel", "float64", "list", "frame", "fortran"],
)
def test_every_layout_gives_the_same_images(X):
    images = to_images(X)
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_array_equal(images.reshape(5, -1), FLAT)


BAD_INPUTS = [
    (np.full((2, 784), np.nan), ValueError, "NaN or infinite"),
    (np.full((2, 784), np.inf), ValueError, "NaN or infinite"),
    (-FLAT.astype(float) - 1, ValueError, "Negative values .* expected pixel"),
    (FLAT.astype(float) + 300, ValueError, r"above 255 .* \[0, 255\]"),
    (FLAT[:, :783], ValueError, "783 feature.* expected 784"),
    (np.zeros((2, 1024)), ValueError, "1024 feature.* expected 784"),
    (np.zeros((2, 32, 32)), ValueError, r"samples of shape \(32, 32\)"),
    (np.zeros((2, 28, 28, 3)), ValueError, r"samples of shape \(28, 28, 3\)"),
    (np.zeros((0, 784)), ValueError, "empty"),
    (np.zeros(784), ValueError, "1-D"),
    (np.full((2, 784), "a"), ValueError, "dtype <U1"),
    (np.array([["x"] * 784] * 2, dtype=object), ValueError, "object"),
    (np.zeros((2, 784), dtype=complex), ValueError, "Complex data not supported"),
    (sp.csr_matrix(np.zeros((2, 784))), TypeError, "sparse"),
    (pd.DataFrame({"a": ["x", "y"]}), ValueError, "non-numeric column"),
]


@pytest.mark.parametrize("X, error, message", BAD_INPUTS)
def test_bad_input_is_named(X, error, message):
    with pytest.raises(error, match=message):
        check_pixels(X)


@pytest.mark.parametrize(
    "X",
    [FLAT, FLAT.reshape(5, 28, 28), FLAT.astype(np.float32).reshape(5, 28, 28, 1)],
)
def test_like_input_restores_layout_and_dtype(X):
    back = like_input(to_images(X) + 0.4, X)
    assert back.shape == X.shape and back.dtype == X.dtype
    if X.dtype == np.uint8:
        np.testing.assert_array_equal(back, X)  # rounded back to the same pixels


def test_like_input_keeps_a_dataframe():
    frame = pd.DataFrame(FLAT, index=range(10, 15))
    back = like_input(to_images(frame), frame)
    pd.testing.assert_frame_equal(back, frame)
