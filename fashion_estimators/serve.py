"""Deprecated alias of :mod:`fashion_estimators.serving`, where the model
service moved; importing it warns, and it will be removed."""

import warnings

from .serving import (  # noqa: F401
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BATCH,
    MAX_IMAGES,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    SAMPLES,
    TOP,
    RequestError,
    create_app,
    listen,
    run,
)

warnings.warn(
    "fashion_estimators.serve is now fashion_estimators.serving; import from there",
    FutureWarning,
    stacklevel=2,
)
