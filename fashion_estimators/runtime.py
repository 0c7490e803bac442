"""A fitted classifier in onnxruntime: probabilities and novelty scores.

The network is converted in memory once (a second or two), and then answers
without TensorFlow, several times faster for the few rows a request brings.
It computes in float32, as :func:`~fashion_estimators.export` does.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ._images import CHANNEL_SHAPE
from ._networks import with_features
from ._precision import with_precision


class OnnxClassifier:
    """``estimator``'s network (and penultimate features) in onnxruntime.

    Parameters
    ----------
    estimator : FashionCNNClassifier or FashionMLPClassifier
        Fitted.
    threads : int, default=1
        onnxruntime's threads for one call; one keeps a busy service from
        running more threads than cores.
    """

    def __init__(self, estimator, *, threads: int = 1):
        import onnxruntime

        network = with_precision(estimator.model_, "float32")
        found = with_features(network)
        novelty = getattr(estimator, "novelty_", None)
        if found is None or novelty is None:
            self._mirrored, self.novelty = False, None
        else:
            network, self._mirrored = found
            self.novelty = novelty
        # Keras exports only a model it has seen called
        network(np.zeros((1, *CHANNEL_SHAPE), dtype="float32"))
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            # tf2onnx's own use of a NumPy alias, not ours to act on
            warnings.simplefilter("ignore", FutureWarning)
            path = os.path.join(folder, "network.onnx")
            network.export(path, format="onnx", verbose=False)
            model = Path(path).read_bytes()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # an idle thread that spins takes a core from the server's event loop
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.classes_ = estimator.classes_

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Probabilities and novelty scores of raw 0-255 images.

        Parameters
        ----------
        images : ndarray of shape (n, 28, 28)
            Raw pixels.

        Returns
        -------
        proba : ndarray of shape (n, n_classes)
            In ``classes_`` order; rows sum to 1.
        novelty : ndarray of shape (n,) or None
            The novelty score (above 1: unlike the training data); None when
            the model has no novelty statistics.
        """
        pixels = np.asarray(images, np.float32).reshape(-1, *CHANNEL_SHAPE)
        n = len(pixels)
        if self._mirrored:
            pixels = np.concatenate([pixels, pixels[:, :, ::-1]])
        outputs = self._session.run(None, {self._input: pixels})
        proba = outputs[0].astype(np.float64)
        if self._mirrored:
            proba = (proba[:n] + proba[n:]) / 2
        proba /= proba.sum(axis=1, keepdims=True)
        if self.novelty is None:
            return proba, None
        return proba, self.novelty.score(outputs[1][:n], pixels[:n])
