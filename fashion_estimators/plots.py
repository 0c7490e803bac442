"""Figures of a classifier and its data, built on matplotlib and scikit-learn.

Every function returns a :class:`matplotlib.figure.Figure` made without
pyplot, so nothing is shown or kept open behind the caller's back: display it
in a notebook, or ``fig.savefig("name.png")``.

Functions that need predictions take either ``y_pred`` (and ``proba``) or a
fitted ``estimator`` with the inputs ``X``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.utils import check_random_state

from ._images import IMAGE_SHAPE, PIXEL_MAX
from .reports import label_names, predicted_labels


def _images(X) -> np.ndarray:
    X = np.asarray(X)
    return X.reshape(len(X), *IMAGE_SHAPE)


def _grid(n: int, columns: int, title: str, cell: float = 1.3):
    rows = max(1, math.ceil(n / columns))
    figure = Figure(figsize=(columns * cell, rows * cell + 0.5), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    figure.suptitle(title)
    return figure, axes


def plot_confusion_matrix(
    y_true, *, estimator=None, X=None, y_pred=None, title: str | None = None
) -> Figure:
    """Confusion matrix as counts (left) and normalised by true class (right),
    rows and columns named.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True labels.
    estimator : fitted classifier, optional
        Predicts ``X`` when ``y_pred`` is not given.
    X : array-like, optional
        Inputs for ``estimator``.
    y_pred : array-like of shape (n,), optional
        Predicted labels.
    title : str, optional
        Figure title; by default the accuracy.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, titled "counts" and "share of each true class".
    """
    y_true = np.asarray(y_true)
    y_pred = predicted_labels(estimator, X, y_pred)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    names = label_names(labels)
    figure = Figure(figsize=(17, 7.5), layout="constrained")
    for ax, normalize, fmt, panel in zip(
        figure.subplots(1, 2),
        (None, "true"),
        ("d", ".2f"),
        ("counts", "share of each true class"),
        strict=True,
    ):
        ConfusionMatrixDisplay.from_predictions(
            y_true,
            y_pred,
            labels=labels,
            display_labels=names,
            normalize=normalize,
            values_format=fmt,
            xticks_rotation=45,
            cmap="Blues",
            colorbar=False,
            ax=ax,
        )
        ax.set_title(panel)
    accuracy = np.mean(y_true == y_pred)
    figure.suptitle(title or f"Confusion matrix: accuracy {accuracy:.4f}")
    return figure


def plot_misclassified(
    X,
    y_true,
    *,
    estimator=None,
    y_pred=None,
    proba=None,
    n: int = 25,
    columns: int = 5,
) -> Figure:
    """The misclassified images, most confident mistakes first, each titled
    "true / predicted (probability)".

    Parameters
    ----------
    X : array-like of shape (n_samples, 784) or (n_samples, 28, 28[, 1])
        The images.
    y_true : array-like of shape (n_samples,)
        True labels.
    estimator : fitted classifier, optional
        Gives ``proba`` (and so ``y_pred``) when they are not given.
    y_pred, proba : array-like, optional
        Predicted labels, and class probabilities in ``estimator.classes_``
        order (columns for the sorted labels without an estimator).
    n : int
        At most this many images.
    columns : int
        Images per row.

    Returns
    -------
    matplotlib.figure.Figure
        One titled axes per image shown.
    """
    y_true = np.asarray(y_true)
    if estimator is not None and proba is None:
        proba = estimator.predict_proba(X)
        y_pred = estimator.classes_[np.argmax(proba, axis=1)]
    y_pred = predicted_labels(None, None, y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    confidence = None if proba is None else np.max(np.asarray(proba), axis=1)
    if confidence is not None:
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
    wrong = wrong[:n]
    figure, axes = _grid(
        len(wrong), columns, f"{np.mean(y_true != y_pred):.1%} misclassified"
    )
    images = _images(X)
    true_names = label_names(y_true[wrong]) if len(wrong) else []
    pred_names = label_names(y_pred[wrong]) if len(wrong) else []
    for ax, i, true, pred in zip(axes, wrong, true_names, pred_names, strict=False):
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=PIXEL_MAX)
        score = "" if confidence is None else f" ({confidence[i]:.2f})"
        ax.set_title(f"{true} /\n{pred}{score}", fontsize=8)
    return figure


def plot_learning_curves(history) -> Figure:
    """Loss and accuracy per epoch, training and (when recorded) validation.

    Parameters
    ----------
    history : fitted classifier or mapping
        An estimator with ``history_``, or such a dict of per-epoch lists
        (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, titled "loss" and "accuracy".
    """
    if not isinstance(history, Mapping):
        history = history.history_
    figure = Figure(figsize=(10, 4), layout="constrained")
    for ax, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for key, label in ((metric, "training"), (f"val_{metric}", "validation")):
            if key in history:
                epochs = np.arange(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], marker="o", markersize=3, label=label)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle("Learning curves")
    return figure


def plot_class_samples(X, y, *, per_class: int = 8, random_state=0) -> Figure:
    """A row of randomly drawn images per class, labelled with its name.

    Parameters
    ----------
    X : array-like of shape (n_samples, 784) or (n_samples, 28, 28[, 1])
        The images.
    y : array-like of shape (n_samples,)
        Their labels.
    per_class : int
        Images per row.
    random_state : int, RandomState or None
        Which images are drawn.

    Returns
    -------
    matplotlib.figure.Figure
        ``per_class`` axes per class, the first of each row titled with the
        class name.
    """
    y = np.asarray(y)
    images, rng = _images(X), check_random_state(random_state)
    classes = np.unique(y)
    figure, axes = _grid(len(classes) * per_class, per_class, "Samples per class", 1.0)
    for row, (label, name) in enumerate(
        zip(classes, label_names(classes), strict=True)
    ):
        members = np.flatnonzero(y == label)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for col, i in enumerate(chosen):
            ax = axes[row * per_class + col]
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=PIXEL_MAX)
            if col == 0:
                ax.set_title(name, fontsize=9, loc="left")
    return figure
