"""The served model, loaded in a thread of its own while the service already
answers: ``GET /health`` at once, ``GET /ready`` once it is loaded.

What can be checked cheaply is checked before any work: the file is a
regular file, and a card given with it is the card of this file (their
SHA-256 agree). Loading the file, converting its network to onnxruntime and
one warm-up prediction then run on the loading thread; the file's SHA-256 is
checked again afterwards, so that the version the service reports is the
version it loaded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from .._images import IMAGE_SHAPE
from ..model_card import file_sha256, model_card, read_card
from ..reports import label_names
from .parsing import RequestError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    """A loaded model: the estimator, its onnxruntime network and its card."""

    estimator: object
    runtime: object
    card: dict
    names: list[str]
    labels: list


def _plain_label(label):
    return label.item() if isinstance(label, np.generic) else label


class ModelLoader:
    """Loads ``model_file`` once, on a thread, when :meth:`start` is called.

    Parameters
    ----------
    model_file : path
        A file written by :func:`~fashion_estimators.save_model`.
    card : path, optional
        Its ``model_card.json``, read and checked here.

    Raises
    ------
    OSError, ValueError
        ``model_file`` cannot be read or is not a file, or ``card`` is not
        the card of this file.
    """

    def __init__(self, model_file: str | os.PathLike, card=None):
        self.model_file = model_file
        self.sha256 = file_sha256(model_file)
        self._card = None if card is None else read_card(card, model_file)
        self._future: concurrent.futures.Future = concurrent.futures.Future()
        # the model once ready: what every request reads, without the
        # future's lock
        self._model: ServedModel | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start loading, unless it has started."""
        if self._thread is not None:  # every request asks: spare it the lock
            return
        with self._lock:
            if self._thread is not None:
                return
            # a daemon: a service stopped while it loads need not wait for it
            self._thread = threading.Thread(
                target=self._load, name="fashion-load", daemon=True
            )
        self._thread.start()

    def _load(self) -> None:
        if not self._future.set_running_or_notify_cancel():
            return
        try:
            model = self._loaded()
        except BaseException as error:
            self._future.set_exception(error)
        else:
            self._model = model
            self._future.set_result(model)
            logger.info("ready: %s (sha256 %s)", self.model_file, self.sha256)

    def _loaded(self) -> ServedModel:
        from ..persistence import load_model
        from ..runtime import OnnxClassifier

        estimator = load_model(self.model_file)
        runtime = OnnxClassifier(estimator)
        runtime.predict(np.zeros((1, *IMAGE_SHAPE), np.uint8))  # the warm-up
        if file_sha256(self.model_file) != self.sha256:
            raise ValueError(
                f"{self.model_file} changed while the service loaded it; start "
                "the service again"
            )
        card = self._card or model_card(estimator, self.model_file)
        return ServedModel(
            estimator=estimator,
            runtime=runtime,
            card=card,
            names=label_names(estimator.classes_),
            labels=[_plain_label(c) for c in estimator.classes_],
        )

    def add_done_callback(self, callback) -> None:
        """Call ``callback(future)`` once loading has ended, either way."""
        self._future.add_done_callback(callback)

    @property
    def ready(self) -> bool:
        """Whether the model is loaded and has made its warm-up prediction."""
        return self._model is not None

    def failure(self) -> BaseException | None:
        """Why loading failed, or None (loaded, or still loading)."""
        return self._future.exception() if self._future.done() else None

    def status(self) -> str:
        """Why the model is not ready, in a sentence; "ready" when it is."""
        if not self._future.done():
            return "the model is loading"
        error = self._future.exception()
        if error is None:
            return "ready"
        return f"the model could not be loaded: {str(error)[:300]}"

    def loaded(self) -> ServedModel:
        """The loaded model; RequestError 503 when it is not ready."""
        model = self._model
        if model is None:
            raise RequestError(503, f"{self.status()}; GET /ready says when it is")
        return model

    async def wait(self, seconds: float) -> ServedModel:
        """The loaded model, waiting up to ``seconds`` for it (then 503)."""
        if self._model is not None:
            return self._model
        self.start()
        if not self._future.done():
            # a timeout, or the loading's own error: loaded() says which
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    asyncio.shield(asyncio.wrap_future(self._future)), seconds
                )
        return self.loaded()
