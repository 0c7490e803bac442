"""The ``precision`` parameter: float32, or mixed bfloat16 where it is native.

Mixed bfloat16 keeps the weights in float32 and computes each layer in
bfloat16, except the network's output layer (the softmax), so the
probabilities and the loss stay float32. The policy is set on each layer of
one model, never through Keras' global dtype policy, so a fit leaves the
user's other models as they were.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from ._hardware import cpu_has_native_bfloat16

PRECISIONS = ("auto", "float32", "bfloat16")
"""Values of the classifiers' ``precision`` parameter."""

_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
_MIN_GPU_CAPABILITY = (8, 0)  # Ampere: the first NVIDIA GPUs with bfloat16 units


def _gpu_has_native_bfloat16(gpus) -> bool:
    capabilities = [
        tf.config.experimental.get_device_details(gpu).get("compute_capability")
        for gpu in gpus
    ]
    return all(c is not None and tuple(c) >= _MIN_GPU_CAPABILITY for c in capabilities)


@functools.cache
def native_bfloat16() -> bool:
    """True when the device TensorFlow computes on has bfloat16 units: every
    visible GPU of compute capability 8.0 or more, or, with no GPU, a CPU with
    AMX or AVX512-BF16."""
    gpus = tf.config.list_physical_devices("GPU")
    return _gpu_has_native_bfloat16(gpus) if gpus else cpu_has_native_bfloat16()


def resolve_precision(precision: str) -> str:
    """``"float32"`` or ``"bfloat16"``: what ``precision`` means on this machine.

    ``"auto"`` is ``"bfloat16"`` only where the hardware computes it natively;
    emulated bfloat16 is several times slower than float32.
    """
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


def model_precision(model: keras.Model) -> str:
    """``"bfloat16"`` when any layer of ``model`` computes in bfloat16, else
    ``"float32"``."""
    computes = {layer.dtype_policy.compute_dtype for layer in _all_layers(model)}
    return "bfloat16" if "bfloat16" in computes else "float32"


def _all_layers(layer):
    inner = list(getattr(layer, "layers", []))
    if hasattr(layer, "network"):  # MirrorAverage holds its network
        inner.append(layer.network)
    for sublayer in inner:
        yield sublayer
        yield from _all_layers(sublayer)


def _output_layer(model: keras.Model) -> keras.layers.Layer:
    """The innermost last layer: the softmax of a network nested in a wrapper."""
    layer = model.layers[-1]
    while getattr(layer, "layers", None):
        layer = layer.layers[-1]
    return layer


def _retype_config(config, policy: dict, keep: str | None):
    """``config`` with every layer's dtype policy replaced by ``policy``, except
    the layer named ``keep``."""
    if isinstance(config, list):
        return [_retype_config(item, policy, keep) for item in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "DTypePolicy":
        return policy
    layer_config = config.get("config")
    if isinstance(layer_config, dict) and layer_config.get("name") == keep:
        return config
    return {key: _retype_config(value, policy, keep) for key, value in config.items()}


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """A copy of ``model``, with its weights, that computes in ``precision``.

    Parameters
    ----------
    model : keras.Model
        The network; the copy is not compiled.
    precision : {"float32", "bfloat16"}
        With "bfloat16", every layer but the last one computes in
        bfloat16 (weights stay float32); with "float32", every layer computes
        in float32.

    Returns
    -------
    keras.Model
        ``model`` itself when it already computes in ``precision``.
    """
    if model_precision(model) == precision:
        return model
    policy = keras.dtype_policies.serialize(keras.DTypePolicy(_POLICIES[precision]))
    keep = _output_layer(model).name if precision == "bfloat16" else None
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(_retype_config(config, policy, keep))
    copy.set_weights(model.get_weights())
    return copy
