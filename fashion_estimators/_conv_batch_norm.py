"""A convolution or a dense layer and its batch normalisation as one Keras layer.

Keras 3's ``BatchNormalization`` computes the batch moments and the
normalisation as separate element-wise operations, and so do their
gradients: on a CPU it costs more than the convolution in front of it. These
layers train with TensorFlow's fused kernel (``FusedBatchNormV3``: one pass
for the moments and the normalisation, one for their gradients) and, in
inference, fold the normalisation into the linear map: a kernel scaled per
output channel and a bias, so that a prediction, an ONNX export and the
service run one convolution (or matrix product) with a bias and nothing else.

Their weights are those of ``Conv2D(use_bias=False)`` or
``Dense(use_bias=False)`` followed by ``BatchNormalization``: kernel, gamma,
beta, moving mean, moving variance.

The module keeps the name it had when it held the convolution alone: model
files name it as the home of ``ConvBatchNorm``, and the loader accepts a
class only from its own module.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers


class _FoldedBatchNorm(layers.Layer):
    """A linear map without bias, then BatchNorm over its output channels
    (the last axis): fused in training, folded into the map in inference.
    Subclasses give the kernel's shape, the map and the output shape."""

    def __init__(
        self,
        momentum: float = 0.9,
        epsilon: float = 1e-3,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        raise NotImplementedError

    def _linear(self, x, kernel):
        raise NotImplementedError

    def build(self, input_shape) -> None:
        # Every weight stays float32 where the layer computes in bfloat16: the
        # fused kernel takes its scale, offset and statistics in float32, and
        # the folding is done in float32 before the one cast to the compute type
        def weight(name, shape, initializer, trainable=True):
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=initializer,
                trainable=trainable,
                autocast=False,
            )

        kernel_shape = self._kernel_shape(input_shape)
        channels = (kernel_shape[-1],)
        self.kernel = weight("kernel", kernel_shape, self.kernel_initializer)
        self.gamma = weight("gamma", channels, "ones")
        self.beta = weight("beta", channels, "zeros")
        self.moving_mean = weight("moving_mean", channels, "zeros", False)
        self.moving_variance = weight("moving_variance", channels, "ones", False)

    def call(self, inputs, training=None):
        if not training:
            scale = self.gamma * tf.math.rsqrt(self.moving_variance + self.epsilon)
            shift = self.beta - self.moving_mean * scale
            folded = self._linear(inputs, self.kernel * scale)
            return tf.nn.bias_add(folded, tf.cast(shift, folded.dtype))
        mapped = self._linear(inputs, self.kernel)
        # the fused kernel takes images: a matrix's rows become 1x1 images
        matrix = mapped.shape.rank == 2
        images = tf.reshape(mapped, [-1, 1, 1, mapped.shape[-1]]) if matrix else mapped
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            images,
            self.gamma,
            self.beta,
            mean=self.moving_mean,
            variance=self.moving_variance,
            epsilon=self.epsilon,
            is_training=True,
            # the kernel returns the updated moving statistics themselves
            exponential_avg_factor=1.0 - self.momentum,
        )
        self.moving_mean.assign(mean)
        self.moving_variance.assign(variance)
        return tf.reshape(outputs, tf.shape(mapped)) if matrix else outputs

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


_SHARED_PARAMETERS = """momentum : float, default=0.9
        Weight of the old moving statistics in each update, as in
        ``keras.layers.BatchNormalization``.
    epsilon : float, default=1e-3
        Added to the variance before its square root.
    kernel_initializer : initializer, default="he_normal"
        The kernel's initial values."""


def _shared_docs(cls):
    """Fill the ``%(shared)s`` place of ``cls``'s docstring with the
    parameters every folded layer takes."""
    if cls.__doc__:  # python -OO strips docstrings
        cls.__doc__ = cls.__doc__.replace("%(shared)s", _SHARED_PARAMETERS)
    return cls


@keras.saving.register_keras_serializable(package="fashion_estimators")
@_shared_docs
class ConvBatchNorm(_FoldedBatchNorm):
    """Conv2D (no bias, ``same`` padding) followed by BatchNormalization.

    Parameters
    ----------
    filters : int
        Output channels.
    kernel_size : int, default=3
        Side of the square kernel.
    strides : int, default=1
        Step of the convolution in both directions.
    %(shared)s
    """

    def __init__(self, filters: int, kernel_size: int = 3, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        side = self.kernel_size
        return (side, side, input_shape[-1], self.filters)

    def _linear(self, x, kernel):
        return tf.nn.conv2d(x, tf.cast(kernel, x.dtype), self.strides, "SAME")

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape

        def out(side):
            return None if side is None else -(-side // self.strides)

        return (batch, out(height), out(width), self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
        }


@keras.saving.register_keras_serializable(package="fashion_estimators")
@_shared_docs
class DenseBatchNorm(_FoldedBatchNorm):
    """Dense (no bias) followed by BatchNormalization.

    Parameters
    ----------
    units : int
        Output features.
    %(shared)s
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def _kernel_shape(self, input_shape) -> tuple[int, ...]:
        return (input_shape[-1], self.units)

    def _linear(self, x, kernel):
        return tf.matmul(x, tf.cast(kernel, x.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}
