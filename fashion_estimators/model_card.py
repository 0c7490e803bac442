"""The model card: what a model is, what it was trained on, how it scores.

``fashion-estimators evaluate`` writes one (``model_card.json``) next to its
report, and ``fashion-estimators serve`` answers it at ``GET /model``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

from ._files import open_regular_file
from ._versions import versions
from .novelty import DIGITS_DESCRIPTION
from .reports import classification_report_frame, label_names

CARD_FILE = "model_card.json"
MAX_CARD_BYTES = 1 << 20
_HASH_CHUNK = 1 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a regular file, read in chunks."""
    digest = hashlib.sha256()
    with open_regular_file(path) as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _plain(value):
    """A parameter as JSON: numbers, strings and lists as they are, anything
    else as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return repr(value)


def model_card(
    estimator,
    model_file: str | os.PathLike,
    *,
    evaluation: dict | None = None,
    novelty: dict | None = None,
) -> dict:
    """The card of the fitted ``estimator`` loaded from ``model_file``.

    Parameters
    ----------
    estimator : FashionCNNClassifier or FashionMLPClassifier
        Fitted, as loaded from ``model_file``.
    model_file : path
        The file it was loaded from; the card records its SHA-256.
    evaluation : dict, optional
        ``test_accuracy``, ``macro_f1``, ``per_class_f1`` and ``n_test``, from
        the test set.
    novelty : dict, optional
        :func:`~fashion_estimators.novelty.novelty_figures` on the test set
        against :func:`~fashion_estimators.novelty.upscaled_digits`.

    Returns
    -------
    dict
        JSON-ready.
    """
    history = getattr(estimator, "history_", {}) or {}
    params = estimator.get_params(deep=False)
    return {
        "model": {
            "estimator": type(estimator).__name__,
            "parameters": {name: _plain(value) for name, value in params.items()},
            "weights": int(estimator.model_.count_params()),
            "classes": label_names(estimator.classes_),
            "precision": getattr(estimator, "precision_", None),
            "pixel_scale": f"0-{estimator.pixel_max_:g}",
        },
        "training": {
            "data": "Fashion-MNIST's training set (or a subset of it)",
            "epochs": len(history.get("loss", [])),
            "final_loss": float(history["loss"][-1]) if history.get("loss") else None,
            "seed": getattr(estimator, "seed_", None),
        },
        "evaluation": evaluation,
        "novelty": None
        if novelty is None
        else {
            **novelty,
            "unlike_set": DIGITS_DESCRIPTION,
            "garments": "Fashion-MNIST's test set",
            "rule": "an image is flagged when its novelty score exceeds 1",
        },
        "versions": versions(),
        "model_file": {
            "name": Path(model_file).name,
            "sha256": file_sha256(model_file),
        },
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def evaluation_figures(y_true, y_pred) -> dict:
    """Test accuracy, macro F1 and the F1 of each class, for a card: the
    figures of :func:`~fashion_estimators.reports.classification_report_frame`."""
    frame = classification_report_frame(y_true, y_pred=y_pred)
    return {
        "test_accuracy": float(frame.loc["accuracy", "f1-score"]),
        "macro_f1": float(frame.loc["macro avg", "f1-score"]),
        "per_class_f1": {
            name: round(float(frame.loc[name, "f1-score"]), 4)
            for name in frame.index[:-3]
        },
        "n_test": len(y_true),
    }


def read_card(path: str | os.PathLike, model_file: str | os.PathLike) -> dict:
    """A card written by ``evaluate``, checked to be the card of ``model_file``.

    Raises
    ------
    ValueError
        If the file is larger than :data:`MAX_CARD_BYTES`, not JSON, or the
        card of another file (its SHA-256 differs).
    """
    with open_regular_file(path) as file:
        data = file.read(MAX_CARD_BYTES + 1)
    if len(data) > MAX_CARD_BYTES:
        raise ValueError(f"{path} is over {MAX_CARD_BYTES:,} bytes; not a model card")
    try:
        card = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a JSON model card ({error})") from None
    recorded = card.get("model_file", {}) if isinstance(card, dict) else None
    if not isinstance(recorded, dict) or "sha256" not in recorded:
        raise ValueError(f"{path} is not a model card: it names no model file")
    if recorded["sha256"] != file_sha256(model_file):
        raise ValueError(
            f"{path} is the card of another model file than {model_file} "
            "(their SHA-256 differ); run evaluate on this one"
        )
    return card
