"""Pixel input: the accepted layouts of X, their validation, and back again.

Every estimator in the package accepts the same X that a scikit-learn baseline
receives, a ``(n, 784)`` array or DataFrame of pixel intensities, as well as the
image layouts ``(n, 28, 28)`` and ``(n, 28, 28, 1)``. This module turns any of
those into one canonical array, ``(n, 28, 28, 1)`` float32 in [0, 255], with
errors that say what was received and what was expected.

Pixels may be raw intensities in [0, 255] or scaled to [0, 1], the way most
tutorials and ``MinMaxScaler`` scale them. ``fit`` records which in
``pixel_max_`` (255.0 or 1.0: data whose largest value is at most 1 is taken
as scaled), and every later call must give pixels on that scale: rows that
look like the other scale are an error, never a silent wrong answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

IMAGE_SHAPE: tuple[int, int] = (28, 28)
"""Height and width of a Fashion-MNIST image."""

N_PIXELS: int = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
"""Number of pixels, i.e. features, of one flattened image (784)."""

CHANNEL_SHAPE: tuple[int, int, int] = (*IMAGE_SHAPE, 1)
"""Shape of one image as the Keras networks take it (28, 28, 1)."""

PIXEL_MAX: int = 255
"""Largest pixel intensity; pixels are expected in [0, PIXEL_MAX]."""

_EXPECTED = (
    f"expected {N_PIXELS} features ({IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]} pixels) or "
    f"images of shape {IMAGE_SHAPE} or {CHANNEL_SHAPE}"
)


def _as_numeric_array(X) -> np.ndarray:
    """Return X as a numeric ndarray, refusing sparse, string and object data."""
    if sp.issparse(X):
        raise TypeError(
            f"X is a sparse {type(X).__name__}; dense pixel arrays are required "
            "(call X.toarray() first)."
        )
    if isinstance(X, pd.DataFrame):
        non_numeric = [
            c for c, t in X.dtypes.items() if not pd.api.types.is_numeric_dtype(t)
        ]
        if non_numeric:
            raise ValueError(
                f"X has {len(non_numeric)} non-numeric column(s), e.g. "
                f"{non_numeric[0]!r}; expected {N_PIXELS} numeric pixel columns."
            )
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype.kind == "O":
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "X has dtype object with non-numeric entries; expected numeric "
                "pixel intensities in [0, 255]."
            ) from None
    if X.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: X has dtype {X.dtype}; expected real "
            "pixel intensities in [0, 255]."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"X has dtype {X.dtype}; expected numeric pixel intensities in [0, 255]."
        )
    return X


def _check_shape(X: np.ndarray) -> None:
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError(
            f"X is empty (shape {X.shape}); at least one sample is required."
        )
    per_sample = X.shape[1:]
    if per_sample in ((N_PIXELS,), IMAGE_SHAPE, CHANNEL_SHAPE):
        return
    if X.ndim == 2 and X.shape[1] == 0:
        got = (
            f"X has 0 feature(s) (shape={X.shape}) while a minimum of {N_PIXELS} "
            "is required"
        )
    elif X.ndim == 2:
        got = f"X has {X.shape[1]} feature(s) per sample"
    elif X.ndim == 1:
        got = f"X is 1-D with shape {X.shape} (reshape a single image to (1, -1))"
    else:
        got = f"X has samples of shape {per_sample}"
    raise ValueError(f"{got}; {_EXPECTED}.")


def _check_values(X: np.ndarray) -> None:
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(
            f"X contains {bad} NaN or infinite value(s); expected finite pixel "
            f"intensities in [0, {PIXEL_MAX}]."
        )
    if X.dtype == np.uint8 or X.dtype.kind == "b" or X.size == 0:
        return
    low, high = X.min(), X.max()
    if low < 0 or high > PIXEL_MAX:
        what = "Negative values in data" if low < 0 else "Values above 255 in data"
        raise ValueError(
            f"{what}: X has values in [{low}, {high}]; expected pixel intensities "
            f"in [0, {PIXEL_MAX}] (pass raw pixels, not standardised ones)."
        )


def check_pixels(X) -> np.ndarray:
    """Validate pixel input of any accepted layout.

    Parameters
    ----------
    X : array-like or DataFrame
        ``(n, 784)``, ``(n, 28, 28)`` or ``(n, 28, 28, 1)`` pixel intensities
        in [0, 255], of any numeric dtype.

    Returns
    -------
    ndarray
        X as a numeric array in its original layout (not copied when possible).

    Raises
    ------
    TypeError
        If X is a sparse matrix.
    ValueError
        If X is empty, non-numeric, of the wrong shape, not finite or outside
        [0, 255]; the message names what was expected.
    """
    X = _as_numeric_array(X)
    _check_values(X)
    _check_shape(X)
    return X


def to_images(X) -> np.ndarray:
    """Validate X and return it as ``(n, 28, 28, 1)`` float32 in [0, 255]."""
    X = check_pixels(X)
    return X.reshape(-1, *CHANNEL_SHAPE).astype(np.float32, copy=False)


def _rows_on_other_scale(images: np.ndarray, pixel_max: float) -> np.ndarray:
    """For each image, whether it looks like pixels of the other scale than
    ``pixel_max``: under raw pixels, nothing above 1 and something strictly
    between 0 and 1; under [0, 1], most of its ink above 1 (a few values
    above 1 are what ``MinMaxScaler`` gives data brighter than its fit's)."""
    flat = images.reshape(len(images), -1)
    # only rows that could be off are looked at closely: none, in the usual case
    highest = flat.max(axis=1)
    off = np.zeros(len(flat), dtype=bool)
    if pixel_max == PIXEL_MAX:
        candidates = np.flatnonzero(highest <= 1)
        dim = flat[candidates]
        off[candidates] = np.any((dim > 0) & (dim < 1), axis=1)
    else:
        candidates = np.flatnonzero(highest > 1)
        bright = flat[candidates]
        ink = np.count_nonzero(bright, axis=1)
        off[candidates] = np.count_nonzero(bright > 1, axis=1) > 0.5 * ink
    return off


def _scale_error(name: str, pixel_max: float, off: np.ndarray, fitting: bool) -> str:
    rows = f"{np.count_nonzero(off)} of {len(off)} rows, e.g. row {np.argmax(off)}"
    if fitting:
        return (
            f"X mixes raw pixels in [0, {PIXEL_MAX}] with rows that look scaled to "
            f"[0, 1] ({rows}); give {name} every row on one scale."
        )
    if pixel_max == PIXEL_MAX:
        return (
            f"X looks scaled to [0, 1] ({rows}), but {name} was fitted on raw "
            f"pixels in [0, {PIXEL_MAX}]; pass pixels on the scale fit received "
            f"(multiply by {PIXEL_MAX})."
        )
    return (
        f"X looks like raw pixels in [0, {PIXEL_MAX}] ({rows}), but {name} was "
        f"fitted on pixels scaled to [0, 1]; scale X as for fit (divide by "
        f"{PIXEL_MAX})."
    )


def validate_pixels(estimator, X, *, reset: bool) -> np.ndarray:
    """Validate X for ``estimator`` and record or check what ``fit`` saw.

    Sets ``n_features_in_`` (784), ``pixel_max_`` (the scale of the pixels)
    and, for a DataFrame with string column names, ``feature_names_in_`` when
    ``reset`` is True; checks them otherwise.

    Returns
    -------
    ndarray
        ``(n, 28, 28, 1)`` float32 images in [0, 255], whatever the scale of X.

    Raises
    ------
    ValueError
        Besides :func:`check_pixels`' errors: rows on another pixel scale than
        the fitted one, or, in fit, rows of both scales.
    """
    images = to_images(X)
    flat_view = X if isinstance(X, pd.DataFrame) else images.reshape(len(images), -1)
    validate_data(estimator, flat_view, reset=reset, skip_check_array=True)
    if reset:
        high = images.max()
        estimator.pixel_max_ = 1.0 if 0 < high <= 1 else float(PIXEL_MAX)
    pixel_max = getattr(estimator, "pixel_max_", float(PIXEL_MAX))
    off = _rows_on_other_scale(images, pixel_max)
    if off.any():
        raise ValueError(_scale_error(type(estimator).__name__, pixel_max, off, reset))
    if pixel_max != PIXEL_MAX:
        images = images * np.float32(PIXEL_MAX / pixel_max)
    return images


def like_input(images: np.ndarray, X, pixel_max: float = PIXEL_MAX):
    """Return ``images`` in the layout, dtype, scale and container of X.

    Parameters
    ----------
    images : ndarray of shape (n, 28, 28, 1)
        Float images in [0, 255].
    X : array-like or DataFrame
        The input the images were made from.
    pixel_max : float, default=255
        The largest intensity of X's scale: 255, or 1 for pixels in [0, 1].
    """
    original = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
    if pixel_max != PIXEL_MAX:
        images = images * (pixel_max / PIXEL_MAX)
    if original.dtype.kind in "iub":
        images = np.clip(np.rint(images), 0, pixel_max)
    out = images.reshape(original.shape).astype(original.dtype, copy=False)
    if isinstance(X, pd.DataFrame):
        return pd.DataFrame(out, index=X.index, columns=X.columns)
    return out
