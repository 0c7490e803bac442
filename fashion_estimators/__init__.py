"""scikit-learn estimators for Fashion-MNIST: a CNN, an MLP and an augmenter."""

from .augmentation import FashionAugmenter
from .classifiers import FashionCNNClassifier, FashionMLPClassifier
from .datasets import CLASS_NAMES, fetch_fashion_mnist

__all__ = [
    "CLASS_NAMES",
    "FashionAugmenter",
    "FashionCNNClassifier",
    "FashionMLPClassifier",
    "fetch_fashion_mnist",
]
__version__ = "0.1.0"
