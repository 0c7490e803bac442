"""Export a fitted classifier's network for serving without this package.

The exported model is the Keras network alone: it takes float32 pixels in
[0, 255] shaped ``(n, 28, 28, 1)`` (cast uint8 images with
``.astype("float32")``; reshape rows of 784 with ``.reshape(-1, 28, 28, 1)``)
and returns the probabilities of ``estimator.classes_``, in that order. The
test-time flips are part of the network, so they export too; augmentation
layers act only in training and export as nothing. It always computes in
float32: a network trained in bfloat16 exports as it would predict on a
machine without native bfloat16.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import FashionClassifier
from ._files import check_folder, check_replaceable
from ._images import CHANNEL_SHAPE
from ._precision import with_precision
from .options import EXPORT_FORMATS

logger = logging.getLogger(__name__)


def export(
    estimator: FashionClassifier, path: str | os.PathLike, format: str = "onnx"
) -> Path:
    """Write ``estimator``'s network to ``path`` in a serving format.

    Parameters
    ----------
    estimator : FashionCNNClassifier or FashionMLPClassifier
        A fitted classifier.
    path : str or path-like
        The file to write (a folder for "saved_model"). Its folder must exist.
    format : {"onnx", "saved_model", "litert"}, default="onnx"
        "onnx" needs the ``tf2onnx`` package (``pip install
        fashion-estimators[export]``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> export(clf, "cnn.onnx")  # doctest: +SKIP
    >>> import onnxruntime  # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("cnn.onnx")  # doctest: +SKIP
    >>> proba = session.run(None, {"pixels": X[:5].reshape(-1, 28, 28, 1)
    ...                            .astype("float32")})[0]  # doctest: +SKIP
    """
    if not isinstance(estimator, FashionClassifier):
        raise TypeError(
            f"export takes a FashionCNNClassifier or FashionMLPClassifier, not "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator, "model_")
    if format not in EXPORT_FORMATS:
        raise ValueError(
            f"export format {format!r} does not exist; use one of "
            f"{', '.join(map(repr, EXPORT_FORMATS))}."
        )
    path = Path(path)
    check_folder(path)
    if format != "saved_model" and path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; export {format} to a file")
    if format != "saved_model":
        check_replaceable(path)
    elif path.exists() and not path.is_dir():
        raise NotADirectoryError(
            f"{path} is a file; a saved_model is a folder, and the file is kept"
        )
    network = with_precision(estimator.model_, "float32")
    # Keras exports only a model it has seen called: a loaded or re-typed
    # network has not been yet
    network(np.zeros((1, *CHANNEL_SHAPE), dtype="float32"))
    network.export(str(path), format=EXPORT_FORMATS[format], verbose=False)
    logger.info("exported %s to %s (%s)", type(estimator).__name__, path, format)
    return path
