"""Report and figure helpers: the right layout, names and numbers, saved as PNG."""

import numpy as np
import pandas as pd
import pytest
from helpers import FAST_CNN
from matplotlib.figure import Figure

from fashion_estimators import CLASS_NAMES, FashionCNNClassifier
from fashion_estimators.plots import (
    plot_class_samples,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
)
from fashion_estimators.reports import (
    classification_report_frame,
    classification_report_text,
    label_names,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model(small):
    params = {**FAST_CNN, "validation_fraction": 0.2}
    return FashionCNNClassifier(**params).fit(small[0], small[1])


def _saved_png(figure: Figure, path) -> bytes:
    figure.savefig(path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5_000
    return data


def test_label_names():
    assert label_names(np.array([0, 9])) == ["T-shirt/top", "Ankle boot"]
    assert label_names(np.array(["cat", "dog"])) == ["cat", "dog"]
    assert label_names(np.array([3, 12])) == ["3", "12"]


def test_report_text_and_frame_agree_with_predictions(model, small):
    X, y = small[2], small[3]
    y_pred = model.predict(X)
    text = classification_report_text(y, estimator=model, X=X)
    assert text == classification_report_text(y, y_pred=y_pred)
    assert all(name in text for name in CLASS_NAMES)
    frame = classification_report_frame(y, y_pred=y_pred)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.index) == [*CLASS_NAMES, "accuracy", "macro avg", "weighted avg"]
    assert list(frame.columns) == ["precision", "recall", "f1-score", "support"]
    assert frame.loc["accuracy", "f1-score"] == pytest.approx(np.mean(y_pred == y))
    assert frame.loc["Trouser", "support"] == np.sum(y == 1)
    assert frame.loc["Trouser", "recall"] == pytest.approx(np.mean(y_pred[y == 1] == 1))
    assert frame["support"].dtype == np.int64
    with pytest.raises(ValueError, match="either y_pred, or a fitted estimator"):
        classification_report_text(y)


def test_confusion_matrix_counts_and_normalised(model, small, tmp_path):
    X, y = small[2], small[3]
    figure = plot_confusion_matrix(y, estimator=model, X=X)
    counts, shares = figure.axes[:2]
    assert [counts.get_title(), shares.get_title()] == [
        "counts",
        "share of each true class",
    ]
    assert [t.get_text() for t in counts.get_yticklabels()] == list(CLASS_NAMES)
    assert [t.get_text() for t in shares.get_xticklabels()] == list(CLASS_NAMES)
    cells = np.array([float(t.get_text()) for t in counts.texts]).reshape(10, 10)
    assert cells.sum() == len(y)
    np.testing.assert_array_equal(cells.sum(axis=1), np.bincount(y, minlength=10))
    rows = np.array([float(t.get_text()) for t in shares.texts]).reshape(10, 10)
    np.testing.assert_allclose(rows.sum(axis=1), 1, atol=0.06)  # 2-decimal cells
    accuracy = model.score(X, y)
    assert figure.get_suptitle() == f"Confusion matrix: accuracy {accuracy:.4f}"
    _saved_png(figure, tmp_path / "cm.png")


def test_misclassified_grid(model, small, tmp_path):
    X, y = small[2], small[3]
    proba = model.predict_proba(X)
    y_pred = model.classes_[proba.argmax(axis=1)]
    wrong = np.flatnonzero(y_pred != y)
    figure = plot_misclassified(X, y, estimator=model, n=12, columns=4)
    titled = [ax for ax in figure.axes if ax.get_title()]
    assert len(titled) == min(12, len(wrong)) and len(figure.axes) == 12
    # most confident mistakes first, "true / predicted (probability)"
    first = wrong[np.argmax(proba[wrong].max(axis=1))]
    assert titled[0].get_title() == (
        f"{CLASS_NAMES[y[first]]} /\n{CLASS_NAMES[y_pred[first]]} "
        f"({proba[first].max():.2f})"
    )
    np.testing.assert_array_equal(
        titled[0].images[0].get_array(), X[first].reshape(28, 28)
    )
    same = plot_misclassified(X, y, y_pred=y_pred, proba=proba, n=12, columns=4)
    assert [a.get_title() for a in same.axes] == [a.get_title() for a in figure.axes]
    _saved_png(figure, tmp_path / "wrong.png")


def test_learning_curves(model, tmp_path):
    figure = plot_learning_curves(model)
    loss, accuracy = figure.axes
    assert [loss.get_title(), accuracy.get_title()] == ["loss", "accuracy"]
    for ax, key in ((loss, "loss"), (accuracy, "accuracy")):
        assert [line.get_label() for line in ax.get_lines()] == [
            "training",
            "validation",
        ]
        np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), model.history_[key])
        np.testing.assert_allclose(
            ax.get_lines()[1].get_ydata(), model.history_[f"val_{key}"]
        )
    only_training = plot_learning_curves({"loss": [2.0, 1.0], "accuracy": [0.5, 0.7]})
    assert len(only_training.axes[0].get_lines()) == 1
    _saved_png(figure, tmp_path / "curves.png")


def test_samples_per_class(small, tmp_path):
    X, y = small[0], small[1]
    figure = plot_class_samples(X, y, per_class=6)
    assert len(figure.axes) == 60
    titles = [
        ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")
    ]
    assert titles == list(CLASS_NAMES)
    for row, label in enumerate(range(10)):
        shown = figure.axes[row * 6].images[0].get_array()
        matches = (X.reshape(-1, 28, 28) == shown).all(axis=(1, 2))
        assert set(y[matches]) == {label}
    _saved_png(figure, tmp_path / "samples.png")
