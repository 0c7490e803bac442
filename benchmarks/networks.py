"""Networks the benchmarks build from Keras' own layers, beside the package's."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def keras_batch_norm_network(
    filters: Sequence[int | Sequence[int]], dense_units: int = 256, dropout: float = 0.3
) -> Callable:
    """``network(n_classes)`` for ``FashionCNNClassifier(network=...)``: the
    "vgg" network of ``filters`` with BatchNorm, built from Keras' own
    Conv2D and BatchNormalization layers (unfused, as the package built it
    before ``ConvBatchNorm``)."""
    import keras
    from keras import layers

    def network(n_classes):
        inputs = keras.Input((28, 28, 1))
        x = inputs
        for block in filters:
            for width in [block] if isinstance(block, int) else block:
                x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
                x = layers.BatchNormalization(momentum=0.9)(x)
                x = layers.ReLU()(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(dropout)(layers.Flatten()(x))
        x = layers.Dropout(dropout)(layers.Dense(dense_units, activation="relu")(x))
        return keras.Model(inputs, layers.Dense(n_classes, activation="softmax")(x))

    return network
