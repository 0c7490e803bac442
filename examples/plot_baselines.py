"""
Comparison with scikit-learn baselines
======================================

The same X for every model: raw ``(n, 784)`` uint8 pixels. Logistic
regression and scikit-learn's MLP get them scaled to [0, 1] in a pipeline;
the package's estimators rescale inside their networks. Trained on a
stratified 5,000-image subset, scored on the full test set.
"""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from fashion_estimators import (
    PIXEL_MAX,
    FashionCNNClassifier,
    FashionMLPClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 5000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore


def scaled(model):
    return make_pipeline(FunctionTransformer(lambda X: np.divide(X, PIXEL_MAX)), model)


models = {
    "LogisticRegression": scaled(LogisticRegression(max_iter=200)),
    "MLPClassifier((100,))": scaled(MLPClassifier((100,), max_iter=30, random_state=0)),
    "FashionMLPClassifier(epochs=10)": FashionMLPClassifier(epochs=10, random_state=0),
    "FashionCNNClassifier(epochs=5)": FashionCNNClassifier(epochs=5, random_state=0),
}

# %%
# Fit each on the subset and score on the 10,000 test images. The full-data
# comparison, with the defaults, is in the user guide's benchmarks page.
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_small, y_small)
    seconds = time.perf_counter() - start
    print(f"{name:34s} {model.score(X_test, y_test):.4f}  ({seconds:.0f} s)")
