"""Constants and functions that several test modules share (fixtures are in
conftest)."""

import subprocess
import sys

import numpy as np
from PIL import Image

# Settings that make a fit take well under a second; tests that need accuracy
# use the defaults instead. The CNN leaves out the default augmentation, which
# adds most of a second of graph tracing to every fit; tests of augmentation,
# test-time flips and of saving them ask for it. It trains with Adam, which
# takes a tiny network furthest in a few epochs (the default's one-cycle SGD
# spends a quarter of them warming up), and which the bars of the tests that
# fit it were measured with.
FAST_CNN = dict(
    filters=(8,),
    dense_units=16,
    optimizer="adam",
    learning_rate=2e-3,
    lr_schedule="cosine",
    weight_decay=None,
    epochs=2,
    batch_size=64,
    validation_fraction=0.0,
    augment=None,
    random_state=0,
)
FAST_MLP = dict(
    hidden_units=(32,),
    # BatchNorm's own tests (test_batch_norm.py, the export and allow-list
    # tests) fit it; the others keep the tiny fit's graph small
    batch_norm=False,
    epochs=3,
    batch_size=64,
    validation_fraction=0.0,
    random_state=0,
)


def product_photo(image: np.ndarray, rng, size=(300, 400)) -> Image.Image:
    """A dataset image as a shop photo: inverted (dark garment on white),
    enlarged 10x, tinted, placed off-centre on a white RGB canvas, with noise."""
    inverted = Image.fromarray((255 - image.reshape(28, 28)).astype(np.uint8))
    big = np.asarray(inverted.resize((280, 280), Image.Resampling.BICUBIC), float)
    tint = rng.uniform(0.6, 1.0, 3)
    garment = np.stack([big * t + 255 * (1 - t) for t in tint], axis=-1)
    canvas = np.full((size[1], size[0], 3), 255.0)
    top, left = rng.integers(0, size[1] - 280), rng.integers(0, size[0] - 280)
    canvas[top : top + 280, left : left + 280] = garment
    canvas += rng.normal(0, 3, canvas.shape)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))


_LOAD_AND_PREDICT = """
import importlib, sys, numpy as np
module, name = sys.argv[1].split(":")
load = getattr(importlib.import_module(module), name)
X = np.load(sys.argv[2])
for path in sys.argv[3:]:
    np.save(f"{path}.proba.npy", load(path).predict_proba(X))
"""


def probabilities_in_new_process(loader: str, X, paths, folder) -> list:
    """``predict_proba(X)`` of each model file in ``paths``, loaded with
    ``loader`` ("module:function") in a fresh Python process."""
    np.save(folder / "X.npy", X)
    subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, loader, str(folder / "X.npy")]
        + [str(path) for path in paths],
        check=True,
        timeout=300,
    )
    return [np.load(f"{path}.proba.npy") for path in paths]
