"""Turn a photo of a garment into a Fashion-MNIST-like 28x28 image.

Fashion-MNIST was made from product photos on a white background (Xiao et
al., 2017): trimmed to the product, resized so the longer edge is 28 pixels,
centred on a 28x28 canvas, negated and stored as 8-bit grey. A user's photo
goes through the same steps here, with the background level measured on the
photo's border instead of assumed white, so a dark-on-light product shot
becomes the light-on-black image the models were trained on.

A photo may come from anyone, so it is decoded with a pixel budget: the size
in its header is checked before any pixel is decoded (a JPEG is first asked
for a reduced decode, which costs nothing), only the common photo formats
are read, and the image is shrunk to a working size before it becomes an
array. High-bit-depth and float images are scaled from their own range.
"""

from __future__ import annotations

import os
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ._files import open_regular_file
from ._images import IMAGE_SHAPE, PIXEL_MAX

MAX_PIXELS = 25_000_000
"""The most pixels a photo may have once decoded (5,000 x 5,000); a JPEG
counts at the reduced size it can be decoded at."""

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
"""The image formats photos are read in (Pillow knows others, some of which
run external programs)."""

_WORKING_SIDE = 1024  # ample for a 28x28 result, small enough to be cheap
_BORDER = 0.04  # the outer 4 % of each edge estimates the background
_OBJECT_CONTRAST = 0.15  # an object pixel differs from it by this share of the range
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_UINT16_MAX = 65535


def _wide_to_float(image: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float grey image as a float image in [0, 255],
    scaled from the range its values are in rather than clipped to 8 bits."""
    values = np.asarray(image.convert("F"), dtype=np.float32)
    if not np.isfinite(values).all():
        raise ValueError("the image has NaN or infinite pixel values")
    low, high = float(values.min()), float(values.max())
    if low < 0:  # no natural range: stretch what is there
        values = (values - low) * (PIXEL_MAX / max(high - low, 1e-12))
    elif image.mode == "F" and high <= 1:
        values = values * PIXEL_MAX
    elif image.mode.startswith("I;16") or PIXEL_MAX < high <= _UINT16_MAX:
        values = values * (PIXEL_MAX / _UINT16_MAX)
    elif high > _UINT16_MAX:
        values = values * (PIXEL_MAX / high)
    return Image.fromarray(values.astype(np.float32), mode="F")


def _greyscale(image: Image.Image) -> np.ndarray:
    """Grey float pixels in [0, 255], at most ``_WORKING_SIDE`` on a side;
    transparent areas become white, as on a product page."""
    image = ImageOps.exif_transpose(image)
    if image.mode in _WIDE_MODES:
        image = _wide_to_float(image)
    else:
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        image = image.convert("L")
    image.thumbnail((_WORKING_SIDE, _WORKING_SIDE), Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float64)


def _check_budget(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(
            f"the image is {width}x{height} pixels, more than the {max_pixels:,} "
            "this reads; scale it down first"
        )


def _decode(file, max_pixels: int) -> np.ndarray:
    """Grey pixels of the photo in ``file``, within the pixel budget."""
    with warnings.catch_warnings():
        # the budget below is ours; Pillow's own bomb check would only warn
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=FORMATS)
        except Image.DecompressionBombError:
            raise ValueError(
                f"the image has more than {max_pixels:,} pixels, the most this reads"
            ) from None
        with image:
            if image.format == "JPEG":
                image.draft(image.mode, (_WORKING_SIDE, _WORKING_SIDE))
            _check_budget(image, max_pixels)
            image.load()
            return _greyscale(image)


def _read_photo(photo, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    try:
        if isinstance(photo, Image.Image):
            _check_budget(photo, max_pixels)
            return _greyscale(photo)
        if hasattr(photo, "read"):
            return _decode(photo, max_pixels)
        with open_regular_file(photo) as file:
            return _decode(file, max_pixels)
    except UnidentifiedImageError:
        raise ValueError(
            f"the file is not an image in one of the formats {', '.join(FORMATS)}"
        ) from None
    except (ValueError, FileNotFoundError, PermissionError):
        raise
    except Exception as error:  # Pillow's decoders raise many types on bad data
        raise ValueError(
            f"the image could not be decoded ({type(error).__name__}: {error})"
        ) from None


def _border(grey: np.ndarray) -> np.ndarray:
    rows, cols = grey.shape
    width = max(1, round(_BORDER * min(rows, cols)))
    return np.concatenate(
        [
            grey[:width].ravel(),
            grey[-width:].ravel(),
            grey[:, :width].ravel(),
            grey[:, -width:].ravel(),
        ]
    )


def photo_to_image(
    photo: str | os.PathLike | BinaryIO | Image.Image, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """A Fashion-MNIST-style image from a photo of one garment.

    Steps: greyscale (transparency on white); invert when the border is lighter
    than mid-grey, so the garment is light on dark; subtract the background
    level; crop to the pixels that stand out from it; resize so the longer edge
    is 28 pixels, keeping the aspect ratio; centre on a black 28x28 canvas;
    stretch the intensities to 0-255.

    A photo of exactly 28x28 pixels is taken to be in Fashion-MNIST's format
    already: it is only made grey, and inverted if its border is light.

    Parameters
    ----------
    photo : path, binary file or PIL.Image.Image
        A regular file (or an open binary file, such as ``io.BytesIO``) in
        one of :data:`FORMATS`, of at most ``max_pixels`` pixels (JPEGs
        counted at an eighth of their side where that still leaves 1,024
        pixels); colour or grey, 8 or 16 bits or float.
    max_pixels : int, default=MAX_PIXELS
        The pixel budget.

    Returns
    -------
    ndarray of shape (28, 28), uint8

    Raises
    ------
    ValueError
        If the file is not a regular file, not an image of these formats,
        truncated, over the pixel budget, empty or uniform (nothing stands
        out to crop).
    FileNotFoundError, PermissionError
        If the file cannot be opened.
    """
    grey = _read_photo(photo, max_pixels)
    if grey.size == 0:
        raise ValueError("the image has no pixels")
    background = np.median(_border(grey))
    if background > PIXEL_MAX / 2:
        grey, background = PIXEL_MAX - grey, PIXEL_MAX - background
    if grey.shape == IMAGE_SHAPE:
        return np.clip(np.rint(grey), 0, PIXEL_MAX).astype(np.uint8)
    foreground = np.clip(grey - background, 0, None)
    peak = foreground.max()
    if peak < 8:
        raise ValueError("nothing in the image stands out from its background")
    rows, cols = np.nonzero(foreground > _OBJECT_CONTRAST * peak)
    crop = foreground[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    height, width = crop.shape
    scale = IMAGE_SHAPE[0] / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(
        size, Image.Resampling.LANCZOS
    )
    canvas = np.zeros(IMAGE_SHAPE, dtype=np.float64)
    top, left = (IMAGE_SHAPE[0] - size[1]) // 2, (IMAGE_SHAPE[1] - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = np.asarray(resized)
    canvas = np.clip(canvas, 0, None)
    return np.round(canvas * (PIXEL_MAX / canvas.max())).astype(np.uint8)
