"""
Pipeline and GridSearchCV
=========================

The classifiers are ordinary scikit-learn estimators: they go into a
``Pipeline``, and ``GridSearchCV`` tunes them with stratified folds like any
other. Here a multi-layer perceptron, cheap enough to fit seven times in
well under a minute, on a 3,000-image subset.
"""

import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from fashion_estimators import (
    FashionAugmenter,
    FashionMLPClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 3000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore

# %%
# Search over the width of the network, three folds each, then refit the best
# on all 3,000 images.
search = GridSearchCV(
    FashionMLPClassifier(epochs=5, random_state=0),
    {"hidden_units": [(256,), (512, 256)]},
    cv=3,
).fit(X_small, y_small)
results = pd.DataFrame(search.cv_results_)
print(results[["params", "mean_test_score", "mean_fit_time"]].to_string())
print("best:", search.best_params_, f"test accuracy {search.score(X_test, y_test):.4f}")

# %%
# A pipeline step that augments: ``FashionAugmenter`` changes only the data a
# pipeline is fitted on, never the data it predicts or scores.
pipe = make_pipeline(
    FashionAugmenter(shift=0.0, horizontal_flip=True, random_state=0),
    FashionMLPClassifier(epochs=5, random_state=0),
)
pipe.fit(X_small, y_small)
print(f"pipeline test accuracy: {pipe.score(X_test, y_test):.4f}")
