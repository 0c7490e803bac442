"""Fit and evaluate models on the same data, timing both, over seeds."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, f1_score

from .models import ModelSpec, parameter_counts

METRICS = (
    "accuracy",
    "macro_f1",
    "fit_seconds",
    "predict_seconds",
    "images_per_second",
)


@dataclass
class Result:
    """What one model measured, one value per seed for each metric."""

    model: str
    description: str
    seeds: list[int] = field(default_factory=list)
    runs: dict[str, list[float]] = field(
        default_factory=lambda: {m: [] for m in METRICS}
    )
    parameters: int | None = None
    """Trainable weights."""
    total_parameters: int | None = None
    """All weights, BatchNorm statistics included."""
    predictions: np.ndarray | None = None
    """Test-set predictions of the first seed (for the confusion matrix)."""

    def mean(self, metric: str) -> float:
        return statistics.fmean(self.runs[metric])

    def std(self, metric: str) -> float:
        values = self.runs[metric]
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def summary(self) -> dict:
        """Means, standard deviations and per-seed values, JSON-ready."""
        row = {"model": self.model, "description": self.description}
        for metric in METRICS:
            row[metric] = self.mean(metric)
            row[f"{metric}_std"] = self.std(metric)
        row["parameters"] = self.parameters
        row["total_parameters"] = self.total_parameters
        row["seeds"] = list(self.seeds)
        row["runs"] = {m: list(v) for m, v in self.runs.items()}
        return row


def fit_and_score(model: BaseEstimator, X_train, y_train, X_test, y_test) -> dict:
    """Fit ``model``, predict the test set, and return the metrics and predictions."""
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(X_test)
    predict_seconds = time.perf_counter() - start
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(f1_score(y_test, predicted, average="macro")),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "images_per_second": len(X_test) / predict_seconds,
        "predictions": predicted,
    }


def benchmark(
    spec: ModelSpec,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    seeds: list[int],
    verbose: int = 0,
    epochs: int | None = None,
) -> Result:
    """Fit and score ``spec`` once per seed (once only if it is not repeatable)."""
    result = Result(spec.name, spec.description)
    for seed in seeds if spec.repeatable else seeds[:1]:
        model = spec.build(seed=seed, verbose=verbose, epochs=epochs)
        scores = fit_and_score(model, X_train, y_train, X_test, y_test)
        predictions = scores.pop("predictions")
        if result.predictions is None:
            result.predictions = predictions
            result.parameters, result.total_parameters = parameter_counts(model)
        result.seeds.append(seed)
        for metric, value in scores.items():
            result.runs[metric].append(value)
    return result
