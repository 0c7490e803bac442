"""Deprecated alias of :mod:`fashion_estimators.serving`, where the model
service moved; importing it warns, and it will be removed."""

import warnings

from .serving import *  # noqa: F403  (the names serving.__all__ lists)
from .serving import __all__  # noqa: F401

warnings.warn(
    "fashion_estimators.serve is now fashion_estimators.serving; import from there",
    FutureWarning,
    stacklevel=2,
)
