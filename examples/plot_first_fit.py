"""
First fit
=========

Train the default convolutional network on a stratified 5,000-image subset
of the training set for a few epochs, score it on the test set and plot its
learning curves.
"""

from fashion_estimators import (
    FashionCNNClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)
from fashion_estimators.plots import plot_learning_curves

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)  # (60000, 784) uint8
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 5000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore

# %%
# The estimator takes raw pixels, as any scikit-learn classifier does; it
# rescales and reshapes them inside its network. ``epochs=4`` keeps this
# example short; the default, 48 epochs on all 60,000 images, scores about
# 0.940.
clf = FashionCNNClassifier(epochs=4, random_state=0).fit(X_small, y_small)
print(f"test accuracy: {clf.score(X_test, y_test):.4f}")
print(f"trained in {clf.precision_} at batch {clf.batch_size_for(len(X_small))}")

# %%
# ``history_`` holds the per-epoch loss, accuracy and learning rate.
fig = plot_learning_curves(clf)
