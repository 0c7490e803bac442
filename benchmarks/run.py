"""Fit and evaluate each model on the same data, timing both."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from .models import MODELS, trainable_parameters


@dataclass
class Result:
    """What one model measured."""

    model: str
    accuracy: float
    macro_f1: float
    fit_seconds: float
    predict_seconds: float
    images_per_second: float
    parameters: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(name: str, X_train, y_train, X_test, y_test, seed: int = 0) -> Result:
    """Fit model ``name`` on the training data and score it on the test data."""
    model = MODELS[name](seed)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(X_test)
    predict_seconds = time.perf_counter() - start
    return Result(
        model=name,
        accuracy=float(accuracy_score(y_test, predicted)),
        macro_f1=float(f1_score(y_test, predicted, average="macro")),
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        images_per_second=len(X_test) / predict_seconds,
        parameters=trainable_parameters(model),
    )


def stratified_subset(X, y, n: int | None, seed: int = 0):
    """The first ``n`` images of a seeded stratified shuffle (all if None)."""
    if n is None or n >= len(X):
        return X, y
    from sklearn.model_selection import train_test_split

    X_sub, _, y_sub, _ = train_test_split(
        X, y, train_size=n, stratify=y, random_state=seed
    )
    return X_sub, y_sub


def class_counts(y) -> list[int]:
    """Images per class, for the run's description."""
    return np.bincount(np.asarray(y)).tolist()
