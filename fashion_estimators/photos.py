"""Turn a photo of a garment into a Fashion-MNIST-like 28x28 image.

Fashion-MNIST was made from product photos on a white background (Xiao et
al., 2017): trimmed to the product, resized so the longer edge is 28 pixels,
centred on a 28x28 canvas, negated and stored as 8-bit grey. A user's photo
goes through the same steps here, with the background level measured on the
photo's border instead of assumed white, so a dark-on-light product shot
becomes the light-on-black image the models were trained on.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps

from ._images import IMAGE_SHAPE, PIXEL_MAX

_BORDER = 0.04  # the outer 4 % of each edge estimates the background
_OBJECT_CONTRAST = 0.15  # an object pixel differs from it by this share of the range


def _greyscale(image: Image.Image) -> np.ndarray:
    """Grey float pixels; transparent areas become white, as on a product page."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.asarray(image.convert("L"), dtype=np.float64)


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


def photo_to_image(photo: str | os.PathLike | Image.Image) -> np.ndarray:
    """A Fashion-MNIST-style image from a photo of one garment.

    Steps: greyscale (transparency on white); invert when the border is lighter
    than mid-grey, so the garment is light on dark; subtract the background
    level; crop to the pixels that stand out from it; resize so the longer edge
    is 28 pixels, keeping the aspect ratio; centre on a black 28x28 canvas;
    stretch the intensities to 0-255.

    Parameters
    ----------
    photo : path or PIL.Image.Image
        PNG, JPEG or any format Pillow reads; any size, colour or grey.

    Returns
    -------
    ndarray of shape (28, 28), uint8

    Raises
    ------
    ValueError
        If the image is empty or uniform (nothing stands out to crop).
    """
    if isinstance(photo, Image.Image):
        grey = _greyscale(photo)
    else:
        with Image.open(photo) as image:
            grey = _greyscale(image)
    if grey.size == 0:
        raise ValueError("the image has no pixels")
    background = np.median(_border(grey))
    if background > PIXEL_MAX / 2:
        grey, background = PIXEL_MAX - grey, PIXEL_MAX - background
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
