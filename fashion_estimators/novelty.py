"""Measuring the novelty score: images unlike Fashion-MNIST, and the figures.

The classifiers' :meth:`~fashion_estimators.FashionCNNClassifier.novelty_score`
says how unlike its training images an image looks. This module holds an
offline set of such images, scikit-learn's handwritten digits, and the figures
that say how well the score tells them from garments.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

from ._images import IMAGE_SHAPE, N_PIXELS, PIXEL_MAX

DIGITS_DESCRIPTION = (
    "scikit-learn's load_digits (1,797 handwritten digits, 8x8, 0-16), "
    "upscaled to 28x28 (bilinear) and to 0-255"
)


def upscaled_digits() -> np.ndarray:
    """scikit-learn's 1,797 handwritten digits as 28x28 images of raw pixels.

    The 8x8 images of :func:`sklearn.datasets.load_digits` (light strokes on
    black, 0-16) are enlarged with bilinear interpolation and scaled to 0-255,
    so they look like Fashion-MNIST's format but not its content.

    Returns
    -------
    ndarray of shape (1797, 784), uint8
    """
    from sklearn.datasets import load_digits

    digits = load_digits().images * (PIXEL_MAX / 16)
    enlarged = [
        np.asarray(
            Image.fromarray(d.astype(np.float32), mode="F").resize(
                IMAGE_SHAPE, Image.Resampling.BILINEAR
            )
        )
        for d in digits
    ]
    images = np.clip(np.rint(np.stack(enlarged)), 0, PIXEL_MAX).astype(np.uint8)
    return images.reshape(len(images), N_PIXELS)


def novelty_figures(estimator, garments, unlike) -> dict:
    """How well ``estimator``'s novelty score tells ``unlike`` from ``garments``.

    Parameters
    ----------
    estimator : FashionCNNClassifier or FashionMLPClassifier
        Fitted.
    garments : array-like
        Images like the training data, never trained on (the test set).
    unlike : array-like
        Images unlike it, such as :func:`upscaled_digits`.

    Returns
    -------
    dict
        ``auroc`` (the area under the ROC curve of the score, 1 when every
        unlike image scores above every garment), ``false_alarm_rate`` (the
        share of garments flagged), ``detection_rate`` (the share of unlike
        images flagged), and the two counts.
    """
    inside = estimator.novelty_score(garments)
    outside = estimator.novelty_score(unlike)
    truth = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    return {
        "auroc": float(roc_auc_score(truth, np.r_[inside, outside])),
        "false_alarm_rate": float(np.mean(inside > 1)),
        "detection_rate": float(np.mean(outside > 1)),
        "n_garments": len(inside),
        "n_unlike": len(outside),
    }
