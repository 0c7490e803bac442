"""The Keras callbacks that ``fit`` makes itself: the learning-rate schedule
and the checkpoint writer. ``FashionClassifier`` assembles them, with early
stopping and the user's callbacks, in one place (``DEFAULT_CALLBACKS``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import keras

ONE_CYCLE_RISE = 0.25
"""The fraction of a one-cycle schedule's epochs that raise the learning rate."""


def _cosine(epoch: int, epochs: int) -> float:
    return 0.5 * (1 + math.cos(math.pi * epoch / epochs))


def _one_cycle(epoch: int, epochs: int) -> float:
    # up along the first quarter, down to 0 along the rest, taken at the
    # middle of each epoch so that neither the first nor the last one is 0
    t = (epoch + 0.5) / epochs
    return t / ONE_CYCLE_RISE if t < ONE_CYCLE_RISE else (1 - t) / (1 - ONE_CYCLE_RISE)


SCHEDULES = {"cosine": _cosine, "one-cycle": _one_cycle}
"""The learning-rate schedules by name: the fraction of the learning rate in
epoch ``epoch`` (from 0) of ``epochs``."""


def learning_rate_schedule(
    name: str, learning_rate: float, epochs: int, first_epoch: int = 0
) -> keras.callbacks.Callback:
    """Set the learning rate epoch by epoch along ``SCHEDULES[name]``, over
    the ``epochs`` epochs from ``first_epoch``.

    "cosine" lowers it along half a cosine from ``learning_rate`` at
    ``first_epoch`` towards 0; "one-cycle" raises it linearly to
    ``learning_rate`` along the first quarter of the epochs and lowers it
    linearly towards 0 along the rest, each epoch at its middle.
    """
    fraction = SCHEDULES[name]
    return keras.callbacks.LearningRateScheduler(
        lambda epoch: learning_rate * fraction(epoch - first_epoch, epochs)
    )


class CheckpointWriter(keras.callbacks.Callback):
    """Hand ``estimator`` to ``write`` at the end of every epoch.

    Parameters
    ----------
    estimator : FashionClassifier
        The estimator being fitted; its ``model_`` is the network in training.
    path : str or path-like
        The checkpoint file.
    history : dict of list
        The history before this fit (empty for a new network).
    schedule_from, last : int
        The epoch the fit's learning-rate schedule starts at, and the epoch
        it ends after.
    write : callable
        ``write(estimator, path, history, progress)`` writes the file; the
        estimator's class says which (its ``checkpoint_writer``).
    """

    def __init__(
        self,
        estimator,
        path: str | os.PathLike,
        history: dict,
        schedule_from: int,
        last: int,
        write: Callable,
    ):
        super().__init__()
        self.estimator = estimator
        self.path = path
        self.history = {key: list(values) for key, values in history.items()}
        self.progress = {"initial_epoch": schedule_from, "epochs": last}
        self.write = write

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.write(self.estimator, self.path, self.history, self.progress)

    def on_train_end(self, logs=None):
        # The fit finished: early stopping may have ended it before its last
        # epoch and put the best weights back. Record that, so that resuming
        # does not train on.
        self.progress["epochs"] = len(self.history.get("loss", []))
        self.write(self.estimator, self.path, self.history, self.progress)
