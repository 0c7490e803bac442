"""Random image augmentation: the FashionAugmenter transformer.

One set of Keras random image layers serves two uses:

* ``FashionAugmenter.fit_transform`` returns an augmented copy of the training
  images (same rows, shape and dtype), while ``transform`` returns X unchanged,
  so inside a Pipeline only the data being fitted is augmented and the folds
  being scored never are;
* ``FashionCNNClassifier(augment=FashionAugmenter(...))`` puts the same layers
  at the front of its network, where Keras applies them afresh to every
  training batch of every epoch and skips them at prediction time.
"""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _params as P
from ._images import PIXEL_MAX, like_input, validate_pixels
from .datasets import FEATURE_NAMES
from .options import AUGMENT_RECIPES

_BATCH = 4096


class FashionAugmenter(TransformerMixin, BaseEstimator):
    """Random shifts, rotations, zooms, horizontal flips and erasing of images.

    ``fit_transform`` returns an augmented copy of X; ``transform`` returns X
    unchanged. Accepts every pixel layout the classifiers accept: ``(n, 784)``,
    ``(n, 28, 28)``, ``(n, 28, 28, 1)`` or a DataFrame of 784 columns, with
    values in [0, 255] or scaled to [0, 1] (returned on the same scale).
    ``set_output(transform="pandas")`` makes it return DataFrames of 784
    columns named by ``get_feature_names_out``; give it flat ``(n, 784)``
    pixels then.

    The CNN's own default augmentation is not this class's default: it is
    flips and Random Erasing, ``augment="flip+erase"`` (the user guide's
    augmentation page measures why).

    Parameters
    ----------
    shift : float, default=0.1
        Largest translation, as a fraction of the image size (0.1 is up to
        2.8 pixels in each direction). 0 disables shifts.
    rotation : float, default=0.0
        Largest rotation in degrees, either way. 0 disables rotations.
    zoom : float, default=0.0
        Largest zoom in or out, as a fraction of the image size. 0 disables
        zooming.
    horizontal_flip : bool, default=True
        Mirror half of the images left to right.
    erasing : float, default=0.0
        Probability that an image gets one random rectangle (each side 14% to
        57% of the image) replaced by random noise, as in Random Erasing
        (Zhong et al., 2017). 0 disables erasing.
    random_state : int, RandomState instance or None, default=None
        Makes ``fit_transform`` repeatable. Inside a classifier, the
        classifier's own ``random_state`` seeds the augmentation instead.

    Attributes
    ----------
    n_features_in_ : int
        784, the number of pixels per image.
    pixel_max_ : float
        255.0 for raw pixels, 1.0 for pixels scaled to [0, 1], as in the
        classifiers.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` received a DataFrame with string columns.

    Examples
    --------
    >>> import numpy as np
    >>> from fashion_estimators import FashionAugmenter
    >>> X = np.zeros((2, 784), dtype=np.uint8)
    >>> X[:, 400] = 255
    >>> Xa = FashionAugmenter(random_state=0).fit_transform(X)
    >>> Xa.shape, Xa.dtype.name
    ((2, 784), 'uint8')
    """

    _parameter_constraints = {
        "shift": P.real(0, 1, closed="left"),
        "rotation": P.real(0, 180),
        "zoom": P.real(0, 1, closed="left"),
        "horizontal_flip": P.Constraint(
            lambda v: isinstance(v, (bool, np.bool_)), "True or False"
        ),
        "erasing": P.real(0, 1),
        "random_state": P.random_state(),
    }

    def __init__(
        self,
        *,
        shift: float = 0.1,
        rotation: float = 0.0,
        zoom: float = 0.0,
        horizontal_flip: bool = True,
        erasing: float = 0.0,
        random_state=None,
    ):
        self.shift = shift
        self.rotation = rotation
        self.zoom = zoom
        self.horizontal_flip = horizontal_flip
        self.erasing = erasing
        self.random_state = random_state

    @P.validates_params
    def keras_layers(self, seed: int | None = None) -> list[keras.layers.Layer]:
        """The Keras random layers that perform this augmentation.

        They act only when called with ``training=True`` and take and return
        ``(batch, 28, 28, 1)`` images. Missing (disabled) transformations add
        no layer.

        Parameters
        ----------
        seed : int, optional
            Seed of the first layer; the others use ``seed + 1``, ``seed + 2``...

        Returns
        -------
        list of keras.layers.Layer
        """
        layers = []

        def next_seed():
            return None if seed is None else seed + len(layers)

        fill = {"fill_mode": "constant", "fill_value": 0.0}
        if self.horizontal_flip:
            layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed()))
        if self.shift > 0:
            layers.append(
                keras.layers.RandomTranslation(
                    self.shift, self.shift, seed=next_seed(), **fill
                )
            )
        if self.rotation > 0:
            layers.append(
                keras.layers.RandomRotation(
                    self.rotation / 360.0, seed=next_seed(), **fill
                )
            )
        if self.zoom > 0:
            layers.append(
                keras.layers.RandomZoom(self.zoom, self.zoom, seed=next_seed(), **fill)
            )
        if self.erasing > 0:
            layers.append(
                keras.layers.RandomErasing(
                    (self.erasing, self.erasing),
                    value_range=(0, PIXEL_MAX),
                    seed=next_seed(),
                )
            )
        return layers

    @P.validates_params
    def fit(self, X, y=None) -> FashionAugmenter:
        """Check the parameters and X; learns nothing else.

        Parameters
        ----------
        X : array-like or DataFrame
            Images in any accepted layout.
        y : ignored

        Returns
        -------
        self
        """
        validate_pixels(self, X, reset=True)
        return self

    @P.validates_params
    def fit_transform(self, X, y=None):
        """Fit, then return a randomly augmented copy of X.

        Parameters
        ----------
        X : array-like or DataFrame
            Images in any accepted layout.
        y : ignored

        Returns
        -------
        X_augmented : same type, shape and dtype as X
        """
        images = validate_pixels(self, X, reset=True)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        layers = self.keras_layers(seed)
        out = np.empty_like(images)
        for start in range(0, len(images), _BATCH):
            batch = images[start : start + _BATCH]
            for layer in layers:
                batch = layer(batch, training=True)
            out[start : start + _BATCH] = keras.ops.convert_to_numpy(batch)
        return like_input(out, X, self.pixel_max_)

    @P.validates_params
    def transform(self, X):
        """Return X unchanged: data that is predicted or scored is never
        augmented.

        Parameters
        ----------
        X : array-like or DataFrame
            Images in any accepted layout; checked, then returned as given.

        Returns
        -------
        X : the very object passed in
        """
        check_is_fitted(self, "n_features_in_")
        validate_pixels(self, X, reset=False)
        return X

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the 784 output pixels: those of the input.

        Parameters
        ----------
        input_features : array-like of str, optional
            The input's column names; they must match ``feature_names_in_``
            when ``fit`` saw names.

        Returns
        -------
        ndarray of str
            ``input_features``, else ``feature_names_in_``, else ``pixel1``
            to ``pixel784`` as in :func:`fetch_fashion_mnist`'s frames.
        """
        check_is_fitted(self, "n_features_in_")
        fitted = getattr(self, "feature_names_in_", None)
        if input_features is None:
            names = FEATURE_NAMES if fitted is None else fitted
        else:
            names = list(input_features)
            if len(names) != self.n_features_in_ or (
                fitted is not None and list(fitted) != names
            ):
                raise ValueError(
                    f"input_features has {len(names)} names; expected the "
                    f"{self.n_features_in_} column names fit saw."
                )
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags


def named_augmenter(name: str) -> FashionAugmenter:
    """A new augmenter made by the recipe ``name`` of
    :data:`~fashion_estimators.options.AUGMENT_RECIPES` ("flip", "flip+erase")."""
    return FashionAugmenter(**AUGMENT_RECIPES[name])
