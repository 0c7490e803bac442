"""How unlike the training data an image looks: a score with a threshold.

Two parts, each measured on the training images, so that nothing outside
training data chooses or thresholds them:

* the **relative Mahalanobis distance** (Ren et al., 2021) of the network's
  penultimate features: the distance to the nearest class centre under the
  classes' shared covariance, less the distance to the centre of all training
  features under their own covariance. Features are first projected on their
  :data:`MAX_DIMENSIONS` main directions, which bounds what a model file
  stores;
* the **pixel residual**: the squared error (log) of the image rebuilt from
  the :data:`PIXEL_COMPONENTS` main components of the training pixels. Noise
  and other non-images are far from every garment here, however the network
  maps them.

Each part is scaled so that 0 is its median on the training images and 1 its
threshold: the :data:`FEATURE_QUANTILE` quantile of the features' score and
the :data:`PIXEL_QUANTILE` quantile of the residual. The score is the larger
of the two; above 1, the image looks unlike the training data. How these were
chosen, and what they measure on images of digits, is in
docs/user_guide/serving.md.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields

import numpy as np
import scipy.linalg
from sklearn.covariance import LedoitWolf

MAX_IMAGES = 20_000
"""At most this many training images (a random subset) fit the statistics."""
FEW_IMAGES = 1_000
"""Statistics fitted on fewer images flag many garments as unlike them."""
MAX_DIMENSIONS = 128
PIXEL_COMPONENTS = 32
FEATURE_QUANTILE = 0.98
PIXEL_QUANTILE = 0.999
_FLOOR = 1e-6  # keeps the log of a perfectly rebuilt image finite
_FEW = 256  # below this many samples, an SVD of them is the cheaper


@dataclass(frozen=True)
class Novelty:
    """The fitted statistics; every array float32 (float64 for the scales)."""

    feature_mean: np.ndarray  # (d,)
    class_map: np.ndarray  # (d, k): features to whitened class space
    class_centres: np.ndarray  # (n_classes, k)
    global_map: np.ndarray  # (d, k): features to whitened global space
    global_centre: np.ndarray  # (k,)
    pixel_mean: np.ndarray  # (784,)
    pixel_components: np.ndarray  # (c, 784), orthonormal rows
    scales: np.ndarray  # (4,): feature median, threshold; pixel median, threshold

    def feature_distance(self, features: np.ndarray) -> np.ndarray:
        centred = np.asarray(features, np.float32) - self.feature_mean
        within = centred @ self.class_map
        nearest = _squared_distances(within, self.class_centres).min(axis=1)
        overall = ((centred @ self.global_map - self.global_centre) ** 2).sum(axis=1)
        return nearest - overall

    def pixel_residual(self, pixels: np.ndarray) -> np.ndarray:
        centred = np.asarray(pixels, np.float32).reshape(len(pixels), -1)
        centred = centred / 255.0 - self.pixel_mean
        rebuilt = (centred @ self.pixel_components.T) @ self.pixel_components
        return np.log(((centred - rebuilt) ** 2).sum(axis=1) + _FLOOR)

    def score(self, features: np.ndarray, pixels: np.ndarray) -> np.ndarray:
        """The score of each image: above 1, unlike the training data.

        ``features`` are the network's penultimate features, ``pixels`` the
        raw 0-255 images the network was given.
        """
        f_median, f_threshold, p_median, p_threshold = self.scales
        feature = (self.feature_distance(features) - f_median) / (
            f_threshold - f_median
        )
        pixel = (self.pixel_residual(pixels) - p_median) / (p_threshold - p_median)
        return np.maximum(feature, pixel).astype(np.float64)

    # --------------------------------------------------------------- storing
    def to_json(self) -> dict:
        """The statistics as JSON-ready values (arrays as base64 of float32)."""
        return {
            f.name: {
                "shape": list(getattr(self, f.name).shape),
                "float32": base64.b64encode(
                    np.ascontiguousarray(getattr(self, f.name), "<f4").tobytes()
                ).decode("ascii"),
            }
            for f in fields(self)
        }

    @classmethod
    def from_json(cls, data, n_classes: int) -> Novelty:
        """Statistics stored by :meth:`to_json`, checked; ValueError if not."""
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or sorted(data) != sorted(names):
            raise ValueError(f"novelty statistics must have exactly the keys {names}")
        arrays = {name: _decode_array(name, data[name]) for name in names}
        d, k = arrays["class_map"].shape if arrays["class_map"].ndim == 2 else (0, 0)
        expected = {
            "feature_mean": (d,),
            "class_map": (d, k),
            "class_centres": (n_classes, k),
            "global_map": (d, k),
            "global_centre": (k,),
            "pixel_mean": (784,),
            "pixel_components": (arrays["pixel_components"].shape[0], 784),
            "scales": (4,),
        }
        for name, shape in expected.items():
            if arrays[name].shape != shape or not 0 < d:
                raise ValueError(
                    f"novelty statistics: {name} has shape {arrays[name].shape}, "
                    f"not {shape}"
                )
        s = arrays["scales"]
        if not (s[1] > s[0] and s[3] > s[2]):
            raise ValueError(
                "novelty statistics: each threshold must exceed its median"
            )
        arrays["scales"] = s.astype(np.float64)
        return cls(**arrays)


_MAX_VALUES = 1 << 22


def _decode_array(name: str, value) -> np.ndarray:
    if not (
        isinstance(value, dict)
        and sorted(value) == ["float32", "shape"]
        and isinstance(value["shape"], list)
        and all(isinstance(n, int) and 0 <= n <= _MAX_VALUES for n in value["shape"])
        and isinstance(value["float32"], str)
    ):
        raise ValueError(f"novelty statistics: {name} is not a stored array")
    count = int(np.prod(value["shape"], dtype=np.int64))
    if count > _MAX_VALUES or len(value["float32"]) > 4 * ((4 * count + 2) // 3):
        raise ValueError(f"novelty statistics: {name} is too large")
    try:
        raw = base64.b64decode(value["float32"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"novelty statistics: {name} is not valid base64") from None
    if len(raw) != 4 * count:
        raise ValueError(f"novelty statistics: {name} does not match its shape")
    array = np.frombuffer(raw, "<f4").reshape(value["shape"]).astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"novelty statistics: {name} has NaN or infinite values")
    return array


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return (
        (points**2).sum(axis=1, keepdims=True)
        - 2 * points @ centres.T
        + (centres**2).sum(axis=1)
    )


def _main_directions(centred: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` main directions of centred samples, as columns: from an SVD of
    a few samples, else from the top ``k`` eigenvectors of their scatter
    matrix (several times cheaper than an SVD of many samples)."""
    samples = centred.astype(np.float32)
    n, d = samples.shape
    if n < min(d, _FEW):
        return np.linalg.svd(samples, full_matrices=False)[2][:k].T.astype(np.float64)
    scatter = (samples.T @ samples).astype(np.float64)
    _, vectors = scipy.linalg.eigh(scatter, subset_by_index=[d - k, d - 1])
    return vectors[:, ::-1]


def _whitening(samples: np.ndarray) -> np.ndarray:
    """The matrix W with ``x @ W`` of identity covariance (shrunk estimate)."""
    covariance = LedoitWolf().fit(samples).covariance_
    values, vectors = np.linalg.eigh(covariance)
    return vectors / np.sqrt(np.maximum(values, 1e-12 * max(values.max(), 1.0)))


def training_subset(n: int, seed: int | None) -> np.ndarray:
    """The indices of the (at most :data:`MAX_IMAGES`) training images that
    fit the statistics, in order."""
    if n <= MAX_IMAGES:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_IMAGES, replace=False))


def fit_novelty(
    features: np.ndarray,
    labels: np.ndarray,
    pixels: np.ndarray,
    n_classes: int,
) -> Novelty:
    """Fit the statistics on training images (see :func:`training_subset`).

    Parameters
    ----------
    features : ndarray of shape (n, d)
        The network's penultimate features of the training images.
    labels : ndarray of shape (n,)
        Their class indices, in ``range(n_classes)``.
    pixels : ndarray of shape (n, 28, 28) or (n, 784)
        The raw 0-255 images.
    n_classes : int
        A class with no image here gets the overall centre.
    """
    features = np.asarray(features, np.float64)
    raw = np.asarray(pixels, np.float32).reshape(len(pixels), -1)
    mean = features.mean(axis=0)
    centred = features - mean
    k = min(MAX_DIMENSIONS, centred.shape[1], max(1, len(centred) - 1))
    directions = _main_directions(centred, k)  # (d, k)
    projected = centred @ directions
    present = np.unique(labels)
    centres = np.tile(projected.mean(axis=0), (n_classes, 1))
    for c in present:
        centres[c] = projected[labels == c].mean(axis=0)
    class_whitening = _whitening(projected - centres[labels])
    global_centre = projected.mean(axis=0)
    global_whitening = _whitening(projected - global_centre)
    pixel_mean = raw.mean(axis=0, dtype=np.float64) / 255.0
    c = min(PIXEL_COMPONENTS, max(1, len(raw) - 1))
    components = _main_directions(
        raw / np.float32(255) - pixel_mean.astype(np.float32), c
    ).T
    novelty = Novelty(
        feature_mean=mean.astype(np.float32),
        class_map=(directions @ class_whitening).astype(np.float32),
        class_centres=(centres @ class_whitening).astype(np.float32),
        global_map=(directions @ global_whitening).astype(np.float32),
        global_centre=(global_centre @ global_whitening).astype(np.float32),
        pixel_mean=pixel_mean.astype(np.float32),
        pixel_components=components.astype(np.float32),
        scales=np.array([0.0, 1.0, 0.0, 1.0]),
    )
    feature = novelty.feature_distance(features)
    pixel = novelty.pixel_residual(raw)
    scales = [
        np.median(feature),
        np.quantile(feature, FEATURE_QUANTILE),
        np.median(pixel),
        np.quantile(pixel, PIXEL_QUANTILE),
    ]
    # a degenerate fit (identical images) still gets a usable scale
    scales[1] = max(scales[1], scales[0] + 1e-6)
    scales[3] = max(scales[3], scales[2] + 1e-6)
    return Novelty(
        **{f.name: getattr(novelty, f.name) for f in fields(Novelty)[:-1]},
        scales=np.asarray(scales, dtype=np.float64),
    )
