"""The models compared, each built fresh by a factory of the seed."""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from fashion_estimators import FashionCNNClassifier, FashionMLPClassifier

MODELS: dict[str, Callable[[int], BaseEstimator]] = {
    "logistic": lambda seed: make_pipeline(
        MinMaxScaler(), LogisticRegression(max_iter=200, random_state=seed)
    ),
    "fashion-mlp": lambda seed: FashionMLPClassifier(random_state=seed),
    "fashion-cnn": lambda seed: FashionCNNClassifier(random_state=seed),
}
"""Model name -> factory taking a random seed."""


def trainable_parameters(model: BaseEstimator) -> int | None:
    """Number of trainable weights of a fitted model, where that is defined."""
    final = model[-1] if hasattr(model, "steps") else model
    if hasattr(final, "model_"):
        return int(sum(w.numpy().size for w in final.model_.trainable_weights))
    if hasattr(final, "coef_"):
        return int(final.coef_.size + final.intercept_.size)
    return None
