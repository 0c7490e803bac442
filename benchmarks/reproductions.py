"""Faithful reproductions of three widely copied tutorial CNNs.

Each is a Keras model-building function handed to ``FashionCNNClassifier``
(``network=...``) with the tutorial's optimizer, batch size, epochs and a
constant learning rate, and is printed beside the accuracy its authors
reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

from fashion_estimators import CHANNEL_SHAPE, FashionCNNClassifier


def compact(n_classes: int) -> keras.Model:
    """Conv16 5x5 -> BN -> ReLU -> Pool -> Drop, Conv32 5x5 -> ..., Dense 256.

    The published count of 417,650 parameters holds only with
    ``BatchNormalization(axis=1)``, i.e. normalising image rows (a channels-first
    setting copied into a channels-last model); it is reproduced as published.
    """
    inputs = keras.Input(CHANNEL_SHAPE)
    x = inputs
    for width in (16, 32):
        x = layers.Conv2D(width, 5, padding="same")(x)
        x = layers.BatchNormalization(axis=1)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="compact")


def tiny(n_classes: int) -> keras.Model:
    """Conv32 3x3 valid ReLU -> MaxPool 2 -> Flatten -> Dense 128 ReLU."""
    return keras.Sequential(
        [
            keras.Input(CHANNEL_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(n_classes, activation="softmax"),
        ],
        name="tiny",
    )


def three_conv(n_classes: int) -> keras.Model:
    """Conv32 -> Pool -> Conv64 -> Pool -> Conv64 -> Dense 64 (all 3x3, ReLU)."""
    return keras.Sequential(
        [
            keras.Input(CHANNEL_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(n_classes, activation="softmax"),
        ],
        name="three_conv",
    )


@dataclass(frozen=True)
class Reproduction:
    """A tutorial CNN: its estimator configuration and what its authors reported."""

    name: str
    recipe: str
    params: dict
    reported_accuracy: float
    reported_parameters: int | None

    def estimator(self, seed: int, verbose: int, epochs: int | None = None):
        extra = {} if epochs is None else {"epochs": epochs}
        # the tutorials train on the images as they are, at a fixed rate
        return FashionCNNClassifier(
            random_state=seed,
            verbose=verbose,
            lr_schedule="constant",
            augment=None,
            **{**self.params, **extra},
        )


REPRODUCTIONS = (
    Reproduction(
        "compact",
        "Adam 1e-3, batch 128, early stopping on a 10% validation split "
        "(patience 5, at most 40 epochs)",
        dict(
            network=compact,
            optimizer="adam",
            learning_rate=1e-3,
            batch_size=128,
            epochs=40,
            validation_fraction=0.1,
            n_iter_no_change=5,
        ),
        reported_accuracy=0.9258,
        reported_parameters=417_650,
    ),
    Reproduction(
        "tiny",
        "Adam 1e-3, batch 512, 10 epochs, 80/20 train/validation split",
        dict(
            network=tiny,
            optimizer="adam",
            learning_rate=1e-3,
            batch_size=512,
            epochs=10,
            validation_fraction=0.2,
            n_iter_no_change=10,
        ),
        reported_accuracy=0.91,
        reported_parameters=None,
    ),
    Reproduction(
        "three-conv",
        "RMSprop 1e-4, batch 512, 10 epochs, all 60k images",
        dict(
            network=three_conv,
            optimizer="rmsprop",
            learning_rate=1e-4,
            batch_size=512,
            epochs=10,
            validation_fraction=0.0,
        ),
        reported_accuracy=0.85,
        reported_parameters=None,
    ),
)
