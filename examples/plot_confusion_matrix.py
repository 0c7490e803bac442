"""
Confusion matrix and misclassified images
=========================================

Which classes does a network confuse, and on which images? A CNN trained
briefly on a subset, then scikit-learn's confusion matrix and classification
report, with class names.
"""

from fashion_estimators import (
    FashionCNNClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)
from fashion_estimators.plots import plot_confusion_matrix, plot_misclassified
from fashion_estimators.reports import classification_report_text

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 5000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore
clf = FashionCNNClassifier(epochs=4, random_state=0).fit(X_small, y_small)
y_pred = clf.predict(X_test)

# %%
# Precision, recall and F1 per class: shirts are the hard class.
print(classification_report_text(y_test, y_pred=y_pred))

# %%
# Counts, and the same normalised by true class.
matrix = plot_confusion_matrix(y_test, y_pred=y_pred)

# %%
# The most confident mistakes first.
mistakes = plot_misclassified(X_test, y_test, estimator=clf)
