"""
Augmentation
============

``FashionAugmenter`` draws random shifts, rotations, zooms, mirrors and
erased rectangles. Seen here on a few training images; inside a classifier
(``augment=...``) the same transformations run afresh on every training
batch.
"""

import numpy as np
from matplotlib.figure import Figure

from fashion_estimators import (
    IMAGE_SHAPE,
    PIXEL_MAX,
    FashionAugmenter,
    fetch_fashion_mnist,
)
from fashion_estimators.options import AUGMENT_RECIPES

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
originals = X[:6]

recipes = {
    "original": None,
    # the recipe of the CNN's default, augment="flip+erase": erasing on half
    # the images
    "flip + erase (the CNN's default)": FashionAugmenter(
        **AUGMENT_RECIPES["flip+erase"], random_state=0
    ),
    "flip + erase on every image": FashionAugmenter(
        shift=0.0, horizontal_flip=True, erasing=1.0, random_state=0
    ),
    "shift 10 %": FashionAugmenter(shift=0.1, horizontal_flip=False, random_state=0),
    "rotation 15°, zoom 10 %": FashionAugmenter(
        shift=0.0, rotation=15, zoom=0.1, horizontal_flip=False, random_state=0
    ),
}

# %%
# Each row applies one recipe to the same six images.
fig = Figure(figsize=(9, 8), layout="constrained")
axes = fig.subplots(len(recipes), len(originals))
for row, (name, augmenter) in zip(axes, recipes.items(), strict=True):
    images = originals if augmenter is None else augmenter.fit_transform(originals)
    for ax, image in zip(row, images, strict=True):
        ax.imshow(np.reshape(image, IMAGE_SHAPE), cmap="gray", vmin=0, vmax=PIXEL_MAX)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
