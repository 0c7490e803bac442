"""The Keras networks, as pure functions of their hyper-parameters.

Every network takes raw pixels, ``(batch, 28, 28, 1)`` float32 in [0, 255],
applies the optional augmentation layers (active only in training), rescales
to [0, 1] itself, and ends in a softmax over the classes, so an estimator can
hand it the same X that a scikit-learn baseline receives.

Given a seed, every random layer gets its own seed drawn from a generator of
the network's own. Unseeded Keras layers draw theirs from Python's global
generator when they are built, which other threads of the process share: a
Dask worker's event loop draws from it while a fit builds its network, so the
same random_state would give another network now and then.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Sequence

import keras
from keras import layers, ops

from ._conv_batch_norm import ConvBatchNorm, DenseBatchNorm
from ._images import CHANNEL_SHAPE, PIXEL_MAX

OPTIMIZERS = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    # Nesterov's momentum of 0.9, as scikit-learn's MLPClassifier(solver="sgd")
    "sgd": functools.partial(keras.optimizers.SGD, momentum=0.9, nesterov=True),
}
"""Optimizer names accepted by the classifiers' ``optimizer`` parameter."""

VGG_FILTERS = (16, (32, 32), (64, 64))
"""The default CNN's filters: one convolution at full size, two in each
further block."""
RESNET_FILTERS = (16, 32, 64)
"""The stages' widths of ResNet-20 and its CIFAR family."""


def make_optimizer(
    name: str, learning_rate: float, weight_decay: float | None = None
) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer from its name, learning rate and weight decay
    (None: the optimizer's own default, which is 0 but for AdamW's 0.004)."""
    decay = {} if weight_decay is None else {"weight_decay": weight_decay}
    return OPTIMIZERS[name](learning_rate=learning_rate, **decay)


@keras.saving.register_keras_serializable(package="fashion_estimators")
class MirrorAverage(layers.Layer):
    """Test-time flips: average a network's output on each image and its mirror.

    In training it is the wrapped network, unchanged; in inference it runs the
    network once on the batch and its left-right mirror stacked together and
    returns the mean of the two outputs.

    Parameters
    ----------
    network : keras.Model
        Takes ``(batch, 28, 28, 1)`` images and returns class probabilities.
    """

    def __init__(self, network: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.network = network

    def build(self, input_shape) -> None:
        self.network.build(input_shape)
        self.built = True

    def call(self, images, training=None):
        if training:
            return self.network(images, training=True)
        both = ops.concatenate([images, ops.flip(images, axis=2)], axis=0)
        plain, mirrored = ops.split(self.network(both, training=False), 2, axis=0)
        return (plain + mirrored) / 2

    def compute_output_shape(self, input_shape):
        return self.network.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        network = keras.saving.serialize_keras_object(self.network)
        return {**super().get_config(), "network": network}

    @classmethod
    def from_config(cls, config: dict) -> MirrorAverage:
        network = keras.saving.deserialize_keras_object(config.pop("network"))
        return cls(network, **config)


def with_test_time_flips(network: keras.Model) -> keras.Model:
    """``network`` whose predictions average each image and its mirror.

    Training is unchanged and costs the same; every prediction runs the
    network on twice the images.
    """
    inputs = keras.Input(shape=CHANNEL_SHAPE, name="pixels")
    outputs = MirrorAverage(network, name="mirror_average")(inputs)
    return keras.Model(inputs, outputs, name=network.name)


def _layer_seeds(seed: int | None) -> Callable[[], int | None]:
    """A source of distinct layer seeds derived from ``seed``; None (Keras'
    own choice) for every layer when ``seed`` is None."""
    if seed is None:
        return lambda: None
    draw = random.Random(seed).randrange
    return lambda: draw(1, 2**31 - 1)


def _pixels_in(augmentation: Sequence[layers.Layer]):
    inputs = keras.Input(shape=CHANNEL_SHAPE, name="pixels")
    x = inputs
    for layer in augmentation:
        x = layer(x)
    return inputs, layers.Rescaling(1.0 / PIXEL_MAX, name="rescale")(x)


def _classes_out(x, n_classes: int, seed: int | None):
    return layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed),
        name="proba",
    )(x)


def _dense(x, units: int, seed: int | None, name: str):
    initializer = keras.initializers.GlorotUniform(seed)
    return layers.Dense(
        units, activation="relu", kernel_initializer=initializer, name=name
    )(x)


def wrap_network(
    body: keras.Model, *, augmentation: Sequence[layers.Layer] = ()
) -> keras.Model:
    """Put a user's network behind the raw-pixel input and augmentation.

    Parameters
    ----------
    body : keras.Model
        Takes ``(batch, 28, 28, 1)`` images scaled to [0, 1] and returns class
        probabilities.
    augmentation : sequence of keras layers
        Random layers applied to the raw pixels first (training only).

    Returns
    -------
    keras.Model
        Not compiled.
    """
    inputs, x = _pixels_in(augmentation)
    return keras.Model(inputs, body(x), name=f"fashion_{body.name}")


def _conv(
    x, width: int, batch_norm: bool, seed: int | None, name: str, strides=1, side=3
):
    """A ``side`` x ``side`` convolution from He initialisation, with its batch
    normalisation in the same layer (``ConvBatchNorm``) when ``batch_norm``;
    no ReLU."""
    initializer = keras.initializers.HeNormal(seed)
    if batch_norm:
        return ConvBatchNorm(
            width,
            kernel_size=side,
            strides=strides,
            kernel_initializer=initializer,
            name=name,
        )(x)
    return layers.Conv2D(
        width,
        side,
        strides=strides,
        padding="same",
        kernel_initializer=initializer,
        name=name,
    )(x)


def build_cnn(
    n_classes: int,
    *,
    filters: Sequence[int | Sequence[int]] = VGG_FILTERS,
    dense_units: int = 256,
    dropout: float = 0.3,
    batch_norm: bool = True,
    augmentation: Sequence[layers.Layer] = (),
    seed: int | None = None,
) -> keras.Model:
    """A VGG-style CNN: one block per entry of ``filters``.

    Each block is Conv 3x3 (same) -> ReLU once per width it has, then
    MaxPool 2, with each convolution's BatchNorm folded into it
    (``ConvBatchNorm``) when ``batch_norm``; then Flatten -> Dropout -> Dense
    ``dense_units`` ReLU -> Dropout -> softmax.

    The convolutions start from He initialisation, which keeps the
    activations' scale through the ReLUs. BatchNorm has momentum 0.9, so that
    its moving statistics settle within a few hundred steps, which keeps
    short fits on small data usable.

    Parameters
    ----------
    n_classes : int
        Width of the softmax output.
    filters : sequence of int or of sequences of int
        Each block's convolution filters: an int for one convolution, a
        sequence for several, one after the other.
    dense_units : int
        Width of the hidden dense layer.
    dropout : float
        Dropout rate before and after the hidden dense layer.
    batch_norm : bool
        Normalise each convolution's output over the batch.
    augmentation : sequence of keras layers
        Random layers applied to the raw pixels first (training only).
    seed : int, optional
        Seeds the initial weights and the dropout masks.

    Returns
    -------
    keras.Model
        Not compiled.
    """
    next_seed = _layer_seeds(seed)
    inputs, x = _pixels_in(augmentation)
    for i, block in enumerate(filters, start=1):
        widths = block_widths(block)
        for j, width in enumerate(widths, start=1):
            # one convolution a block keeps the names of the first networks
            suffix = f"{i}" if len(widths) == 1 else f"{i}_{j}"
            x = _conv(x, width, batch_norm, next_seed(), name=f"conv{suffix}")
            x = layers.ReLU(name=f"relu{suffix}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, seed=next_seed(), name="dropout_in")(x)
    x = _dense(x, dense_units, next_seed(), name="dense")
    x = layers.Dropout(dropout, seed=next_seed(), name="dropout_out")(x)
    outputs = _classes_out(x, n_classes, next_seed())
    return keras.Model(inputs, outputs, name="fashion_cnn")


def build_resnet(
    n_classes: int,
    *,
    filters: Sequence[int] = RESNET_FILTERS,
    depth: int = 20,
    augmentation: Sequence[layers.Layer] = (),
    seed: int | None = None,
) -> keras.Model:
    """A ResNet of the CIFAR family (He et al. 2016, section 4.2).

    A Conv 3x3 of ``filters[0]``, then one stage per entry of ``filters`` of
    ``(depth - 2) // 6`` residual blocks (for three stages), each block two
    Conv 3x3 with BatchNorm around a shortcut; the first block of every
    stage after the first halves the image with strides of 2, its shortcut
    a 1x1 convolution. Global average pooling and softmax end it. Every
    convolution carries its BatchNorm (``ConvBatchNorm``).

    Parameters
    ----------
    n_classes : int
        Width of the softmax output.
    filters : sequence of int
        Width of each stage.
    depth : int
        Layers with weights: ``6 n + 2`` for ``n`` blocks a stage with
        three stages (20 is ResNet-20); in general ``2 n len(filters) + 2``.
    augmentation : sequence of keras layers
        Random layers applied to the raw pixels first (training only).
    seed : int, optional
        Seeds the initial weights.

    Returns
    -------
    keras.Model
        Not compiled.
    """
    next_seed = _layer_seeds(seed)
    blocks = resnet_blocks(depth, len(filters))
    inputs, x = _pixels_in(augmentation)
    x = _conv(x, filters[0], True, next_seed(), name="stem")
    x = layers.ReLU(name="stem_relu")(x)
    channels = filters[0]
    for i, width in enumerate(filters, start=1):
        for j in range(1, blocks + 1):
            strides = 2 if i > 1 and j == 1 else 1
            name = f"stage{i}_block{j}"
            y = _conv(x, width, True, next_seed(), f"{name}_conv1", strides)
            y = layers.ReLU(name=f"{name}_relu1")(y)
            y = _conv(y, width, True, next_seed(), f"{name}_conv2")
            if strides != 1 or channels != width:
                x = _conv(x, width, True, next_seed(), f"{name}_shortcut", strides, 1)
            x = layers.Add(name=f"{name}_add")([x, y])
            x = layers.ReLU(name=f"{name}_relu2")(x)
            channels = width
    x = layers.GlobalAveragePooling2D(name="average")(x)
    outputs = _classes_out(x, n_classes, next_seed())
    return keras.Model(inputs, outputs, name="fashion_resnet")


def block_widths(block: int | Sequence[int]) -> tuple[int, ...]:
    """The widths of a block's convolutions: one entry of ``filters``."""
    return (block,) if isinstance(block, int) else tuple(block)


def resnet_blocks(depth: int, stages: int) -> int:
    """Residual blocks per stage of a ResNet of ``depth`` weight layers and
    ``stages`` stages; ValueError when no whole number of blocks gives it."""
    blocks, rest = divmod(depth - 2, 2 * stages)
    if blocks < 1 or rest:
        raise ValueError(
            f"depth={depth} is not 2 * blocks * {stages} stages + 2 for a whole "
            f"number of blocks (with {stages} stages: "
            f"{', '.join(str(2 * n * stages + 2) for n in (1, 2, 3))}, ...)."
        )
    return blocks


def build_mlp(
    n_classes: int,
    *,
    hidden_units: Sequence[int] = (1024, 512),
    dropout: float = 0.4,
    batch_norm: bool = False,
    augmentation: Sequence[layers.Layer] = (),
    seed: int | None = None,
) -> keras.Model:
    """A multi-layer perceptron on the flattened pixels.

    Flatten, then per entry of ``hidden_units``: Dense ReLU -> Dropout, each
    Dense carrying its batch normalisation (``DenseBatchNorm``) when
    ``batch_norm``; then softmax.

    Parameters
    ----------
    n_classes : int
        Width of the softmax output.
    hidden_units : sequence of int
        Width of each hidden layer.
    dropout : float
        Dropout rate after each hidden layer.
    batch_norm : bool
        Normalise each hidden layer's output over the batch.
    augmentation : sequence of keras layers
        Random layers applied to the raw pixels first (training only).
    seed : int, optional
        Seeds the initial weights and the dropout masks.

    Returns
    -------
    keras.Model
        Not compiled.
    """
    next_seed = _layer_seeds(seed)
    inputs, x = _pixels_in(augmentation)
    x = layers.Flatten(name="flatten")(x)
    for i, width in enumerate(hidden_units, start=1):
        if batch_norm:
            initializer = keras.initializers.GlorotUniform(next_seed())
            x = DenseBatchNorm(width, kernel_initializer=initializer, name=f"dense{i}")(
                x
            )
            x = layers.ReLU(name=f"relu{i}")(x)
        else:
            x = _dense(x, width, next_seed(), name=f"dense{i}")
        x = layers.Dropout(dropout, seed=next_seed(), name=f"dropout{i}")(x)
    outputs = _classes_out(x, n_classes, next_seed())
    return keras.Model(inputs, outputs, name="fashion_mlp")


def with_features(model: keras.Model) -> tuple[keras.Model, bool] | None:
    """``model``'s network with two outputs, its probabilities and the
    features its final Dense layer classifies (the penultimate activations),
    and whether the probabilities must be averaged over each image and its
    mirror (test-time flips, which the returned network leaves out). None if
    the network does not end in a Dense layer of its own graph.

    A user's network nested behind the pixel input has been called twice (in
    its own graph and in the wrapper's), so Keras cannot cut it at its last
    layer: it gets None.
    """
    last = model.layers[-1]
    mirrored = isinstance(last, MirrorAverage)
    network = last.network if mirrored else model
    final = network.layers[-1]
    if not isinstance(final, layers.Dense):
        return None
    try:
        both = keras.Model(network.inputs, [network.outputs[0], final.input])
    except ValueError:
        return None
    # Keras' random layers default to training mode when called without a
    # flag, as an export calls them: run the network in inference explicitly
    inputs = keras.Input(shape=CHANNEL_SHAPE, name="pixels")
    return keras.Model(inputs, _Inference(both, name="inference")(inputs)), mirrored


class _Inference(layers.Layer):
    """``network`` called in inference mode whatever the caller says."""

    def __init__(self, network: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.network = network

    def call(self, images):
        return self.network(images, training=False)


def feature_network(model: keras.Model) -> keras.Model | None:
    """The part of ``model`` that maps its raw pixels to its penultimate
    features (see :func:`with_features`); None where there is none."""
    found = with_features(model)
    if found is None:
        return None
    both = found[0]
    return keras.Model(both.inputs, both.outputs[1])
