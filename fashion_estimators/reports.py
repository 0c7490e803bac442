"""Per-class reports of a classifier's predictions, as text and as a table.

Both are scikit-learn's ``classification_report`` with the labels named:
integer labels 0-9 are shown as Fashion-MNIST's class names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report

from .datasets import CLASS_NAMES


def label_names(labels) -> list[str]:
    """Display names of ``labels``: Fashion-MNIST's class names for the
    integers 0-9, the labels themselves as text otherwise."""
    labels = np.asarray(labels)
    if (
        labels.dtype.kind in "iu"
        and labels.min() >= 0
        and labels.max() < len(CLASS_NAMES)
    ):
        return [CLASS_NAMES[int(label)] for label in labels]
    return [str(label) for label in labels]


def predicted_labels(estimator, X, y_pred) -> np.ndarray:
    """``y_pred`` if given, else ``estimator.predict(X)``: the predictions a
    report or a plot of this package is about.

    Parameters
    ----------
    estimator : fitted classifier or None
    X : array-like or None
    y_pred : array-like or None

    Returns
    -------
    ndarray of shape (n,)
    """
    if y_pred is not None:
        return np.asarray(y_pred)
    if estimator is None or X is None:
        raise ValueError("pass either y_pred, or a fitted estimator and X")
    return estimator.predict(X)


def _report(y_true, y_pred, output_dict: bool):
    labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    return classification_report(
        y_true,
        y_pred,
        labels=labels,
        target_names=label_names(labels),
        digits=4,
        output_dict=output_dict,
        zero_division=0,
    )


def classification_report_text(y_true, *, estimator=None, X=None, y_pred=None) -> str:
    """Precision, recall, F1 and support per class, as printable text.

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

    Returns
    -------
    str
    """
    return _report(y_true, predicted_labels(estimator, X, y_pred), output_dict=False)


def classification_report_frame(
    y_true, *, estimator=None, X=None, y_pred=None
) -> pd.DataFrame:
    """The same report as a DataFrame: one row per class, then ``accuracy``,
    ``macro avg`` and ``weighted avg``; columns precision, recall, f1-score,
    support.

    Parameters are those of :func:`classification_report_text`.

    Returns
    -------
    pandas.DataFrame
    """
    report = _report(y_true, predicted_labels(estimator, X, y_pred), output_dict=True)
    accuracy = report.pop("accuracy")
    frame = pd.DataFrame(report).T
    support = frame.loc["macro avg", "support"]
    frame.loc["accuracy"] = [np.nan, np.nan, accuracy, support]
    order = [name for name in frame.index if name != "accuracy"]
    frame = frame.loc[order[:-2] + ["accuracy"] + order[-2:]]
    return frame.astype({"support": "int64"})
