"""Checkpoints of a fit under way, and resuming from one.

With ``checkpoint=PATH``, ``fit`` writes the estimator to ``PATH`` after every
epoch, in :func:`~fashion_estimators.save_model`'s format: the network with
its optimizer state, the history so far, the seed, and which epochs the fit
was to train. Each write replaces the file atomically, so a fit killed at any
moment (Ctrl-C, SIGTERM, SIGKILL, a lost machine) leaves the checkpoint of its
last finished epoch. :func:`resume` trains the epochs that were left.

The estimators write the checkpoint themselves (their ``checkpoint_writer``,
called by the callback ``fit`` adds); this module reads one back.

A checkpoint never records its own path: a model file that named a path would
let whoever made it overwrite a file of whoever loads it. ``load_model`` gives
``checkpoint=None``; :func:`resume` goes on writing the file it resumes, where
it is now, so a checkpoint moved or copied to another machine resumes there.
"""

from __future__ import annotations

import os

from . import persistence
from ._base import FashionClassifier


def resume(path: str | os.PathLike, X, y, *, sample_weight=None) -> FashionClassifier:
    """Finish the fit that wrote the checkpoint ``path``.

    Loads the checkpoint (safely, as :func:`~fashion_estimators.load_model`
    does) and trains the epochs the fit had left on ``(X, y)``, which should be
    the data that fit was given, along the rest of its learning-rate schedule.
    It goes on writing the same checkpoint. The result is not bit-identical to
    an uninterrupted fit: the order of the batches and the random masks after
    the resumed epoch are drawn afresh. A validation split is drawn again from
    the same seed, but early stopping's patience starts over. The fit goes on
    writing ``path``, wherever the checkpoint was first written.

    Parameters
    ----------
    path : str or path-like
        A checkpoint written by a fit with ``checkpoint=path``.
    X, y : array-like
        The training data, as given to ``fit``.
    sample_weight : array-like of shape (n,), optional
        As given to ``fit``.

    Returns
    -------
    FashionCNNClassifier or FashionMLPClassifier
        Fitted. A checkpoint of a finished fit is returned as loaded.

    Examples
    --------
    >>> clf = FashionCNNClassifier(checkpoint="cnn.ckpt").fit(X, y)  # doctest: +SKIP
    >>> # ...killed at epoch 20 of 48; later, or on another machine:
    >>> clf = resume("cnn.ckpt", X, y)  # doctest: +SKIP
    """
    return load_checkpoint(path).resume_fit(X, y, sample_weight)


def load_checkpoint(path: str | os.PathLike) -> FashionClassifier:
    """The estimator in the checkpoint ``path``, set to go on checkpointing
    to ``path`` itself (``load_model`` leaves ``checkpoint`` None)."""
    return persistence.load_model(path).set_params(checkpoint=path)
