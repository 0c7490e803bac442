"""The service's bounds: what one request, and all of them together, may hold."""

from __future__ import annotations

from dataclasses import dataclass

from ..options import (
    SERVE_HOST,
    SERVE_MAX_BATCH,
    SERVE_MAX_IMAGES,
    SERVE_MAX_UPLOAD_MB,
    SERVE_PORT,
)

DEFAULT_HOST = SERVE_HOST
DEFAULT_PORT = SERVE_PORT
MAX_UPLOAD_BYTES = SERVE_MAX_UPLOAD_MB << 20
"""The largest request body, in bytes (413 beyond it)."""
MAX_IMAGES = SERVE_MAX_IMAGES
"""The most images one request may send."""
MAX_PIXELS = 16_000_000
"""The most pixels an uploaded photo may decode to (4,000 x 4,000)."""
MAX_BATCH = SERVE_MAX_BATCH
"""The most images the network is given in one call."""
TOP = 3
"""Classes answered per image, unless the request asks ``?top=k``."""


@dataclass(frozen=True)
class Limits:
    """The bounds :func:`~fashion_estimators.serving.create_app` takes, checked."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_images: int = MAX_IMAGES
    max_pixels: int = MAX_PIXELS
    max_batch: int = MAX_BATCH
    read_timeout: float = 60.0
    max_buffered_bytes: int = 256 << 20

    def __post_init__(self):
        for name in (
            "max_upload_bytes",
            "max_images",
            "max_pixels",
            "max_batch",
            "max_buffered_bytes",
        ):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        if not (
            isinstance(self.read_timeout, int | float)
            and 0 < self.read_timeout < float("inf")
        ):
            raise ValueError(
                f"read_timeout must be a positive number, not {self.read_timeout!r}"
            )
