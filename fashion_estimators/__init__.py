"""scikit-learn estimators for Fashion-MNIST: a CNN, an MLP and an augmenter.

The public names are imported on first use, so that ``import
fashion_estimators.cli`` (the command line) starts without TensorFlow and can
silence its start-up messages before loading it. For the same reason, importing
the package before TensorFlow asks TensorFlow for its oneDNN kernels on every
CPU (see ``_hardware.prefer_onednn``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._hardware import prefer_onednn

prefer_onednn()

_EXPORTS = {
    "CHANNEL_SHAPE": "_images",
    "IMAGE_SHAPE": "_images",
    "N_PIXELS": "_images",
    "PIXEL_MAX": "_images",
    "CLASS_NAMES": "datasets",
    "TRAIN_SIZE": "datasets",
    "fetch_fashion_mnist": "datasets",
    "stratified_subset": "datasets",
    "FashionAugmenter": "augmentation",
    "FashionCNNClassifier": "classifiers",
    "FashionMLPClassifier": "classifiers",
    "ModelFileError": "persistence",
    "ModelVersionWarning": "persistence",
    "load_model": "persistence",
    "save_model": "persistence",
    "resume": "checkpoints",
    "export": "export",
    "versions": "_versions",
    "cpu_flags": "_hardware",
}

__all__ = [
    "CHANNEL_SHAPE",
    "CLASS_NAMES",
    "FashionAugmenter",
    "FashionCNNClassifier",
    "FashionMLPClassifier",
    "IMAGE_SHAPE",
    "ModelFileError",
    "ModelVersionWarning",
    "N_PIXELS",
    "PIXEL_MAX",
    "TRAIN_SIZE",
    "cpu_flags",
    "export",
    "fetch_fashion_mnist",
    "load_model",
    "resume",
    "save_model",
    "stratified_subset",
    "versions",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._hardware import cpu_flags
    from ._images import CHANNEL_SHAPE, IMAGE_SHAPE, N_PIXELS, PIXEL_MAX
    from ._versions import versions
    from .augmentation import FashionAugmenter
    from .checkpoints import resume
    from .classifiers import FashionCNNClassifier, FashionMLPClassifier
    from .datasets import (
        CLASS_NAMES,
        TRAIN_SIZE,
        fetch_fashion_mnist,
        stratified_subset,
    )
    from .export import export
    from .persistence import ModelFileError, ModelVersionWarning, load_model, save_model


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
