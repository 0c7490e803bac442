"""
Your own photo
==============

``photo_to_image`` turns a photo of any size and colour into a 28x28 image
made the way the dataset's were: grey, inverted when the background is
light, cropped to the garment, resized and centred. Here the "photo" is a
test image dressed up as a shop photo: dark on white, enlarged, tinted and
off-centre on a larger canvas.
"""

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from fashion_estimators import (
    CLASS_NAMES,
    IMAGE_SHAPE,
    PIXEL_MAX,
    FashionCNNClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)
from fashion_estimators.photos import photo_to_image

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 3000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore
clf = FashionCNNClassifier(epochs=4, batch_size=64, random_state=0)
clf.fit(X_small, y_small)

# %%
# A shop photo of test image 0: 300x400 pixels, RGB, a white background.
rng = np.random.default_rng(0)
garment = (PIXEL_MAX - X_test[0]).reshape(IMAGE_SHAPE).astype(np.uint8)
big = np.asarray(Image.fromarray(garment).resize((280, 280)), dtype=float)
canvas = np.full((400, 300, 3), 255.0)
canvas[60:340, 10:290] = np.stack([big * t + 255 * (1 - t) for t in (1, 0.8, 0.6)], -1)
photo = Image.fromarray(
    np.clip(canvas + rng.normal(0, 3, canvas.shape), 0, 255).astype(np.uint8)
)

image = photo_to_image(photo)  # (28, 28) uint8, as the dataset's images
proba = clf.predict_proba(image[None])[0]
best = np.argsort(proba)[::-1][:3]
for label in best:
    print(f"{CLASS_NAMES[clf.classes_[label]]:12s} {proba[label]:.3f}")
print(f"the original is a {CLASS_NAMES[y_test[0]]}")

# %%
# The photo, and the image the model saw.
fig = Figure(figsize=(6, 3), layout="constrained")
left, right = fig.subplots(1, 2)
left.imshow(photo)
left.set_title("photo")
right.imshow(image, cmap="gray", vmin=0, vmax=PIXEL_MAX)
right.set_title("what the model saw")
for ax in (left, right):
    ax.set_axis_off()
