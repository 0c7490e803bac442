"""The models compared, each built fresh for a seed.

Baselines are scikit-learn Pipelines (pixels scaled to [0, 1], then the model)
with the hyper-parameters of Zalando's published benchmark
(arXiv:1708.07747); no choice is made with the test set. The package's
models use their defaults, which train on all the training data given (no
validation split), augment the CNN's images (flips and Random Erasing) and
predict with test-time flips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from fashion_estimators import PIXEL_MAX, registry


def to_unit_interval(X):
    """Pixels 0-255 to floats in [0, 1]."""
    return np.asarray(X, dtype=np.float32) / PIXEL_MAX


def _scaled(model: BaseEstimator) -> Pipeline:
    return make_pipeline(
        FunctionTransformer(to_unit_interval, feature_names_out="one-to-one"), model
    )


@dataclass(frozen=True)
class ModelSpec:
    """A model of the benchmark: how to build it and how to describe it."""

    name: str
    description: str
    build: Callable[..., BaseEstimator]
    """Called as build(seed=..., verbose=..., epochs=...); epochs None keeps
    the model's own setting."""
    repeatable: bool
    """Trained once per seed with --repeats (the package's neural models)."""


def _fashion(cls, **fixed):
    def build(seed: int, verbose: int, epochs: int | None) -> BaseEstimator:
        extra = {} if epochs is None else {"epochs": epochs}
        return cls(random_state=seed, verbose=verbose, **{**fixed, **extra})

    return build


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "logistic-regression",
            "LogisticRegression(lbfgs, max_iter=200)",
            lambda seed, verbose, epochs: _scaled(
                LogisticRegression(max_iter=200, random_state=seed)
            ),
            repeatable=False,
        ),
        ModelSpec(
            "svc-rbf",
            "SVC(kernel='rbf', C=10)",
            lambda seed, verbose, epochs: _scaled(SVC(kernel="rbf", C=10)),
            repeatable=False,
        ),
        ModelSpec(
            "sklearn-mlp",
            "MLPClassifier(hidden_layer_sizes=(100,))",
            lambda seed, verbose, epochs: _scaled(
                MLPClassifier(
                    (100,),
                    random_state=seed,
                    **({} if epochs is None else {"max_iter": epochs}),
                )
            ),
            repeatable=False,
        ),
        # the package's models, as the registry lists them
        *(
            ModelSpec(
                f"fashion-{name}",
                f"{entry.class_name}() defaults",
                _fashion(entry.load()),
                repeatable=True,
            )
            for name, entry in registry.ESTIMATORS.items()
        ),
    )
}


def parameter_counts(model: BaseEstimator) -> tuple[int | None, int | None]:
    """(trainable, total) weights of a fitted model, where that is defined.

    They differ for Keras networks with BatchNorm, whose moving statistics are
    weights that are not trained. An SVM has no fixed parameter count.
    """
    final = model[-1] if isinstance(model, Pipeline) else model
    if hasattr(final, "model_"):
        network = final.model_
        trainable = sum(int(np.prod(w.shape)) for w in network.trainable_weights)
        return trainable, int(network.count_params())
    if hasattr(final, "coefs_"):
        count = int(sum(a.size for a in [*final.coefs_, *final.intercepts_]))
        return count, count
    if hasattr(final, "coef_") and not isinstance(final, SVC):
        count = int(final.coef_.size + final.intercept_.size)
        return count, count
    return None, None
