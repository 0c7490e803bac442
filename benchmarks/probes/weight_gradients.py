"""Three ways to compute a convolution's weight gradient, timed side by side.

The weight gradients of the default CNN's convolutions are the slowest part of
its bfloat16 training step (``benchmarks.probes.kernels``). ``python -m
benchmarks.probes.weight_gradients`` takes each convolution of the default network
(or of the one ``--params`` describes), with a batch of random inputs and
output gradients, and times three computations of the same gradient:

- ``native``: TensorFlow's ``Conv2DBackpropFilter``, which ``model.fit`` runs
  (oneDNN's weight-gradient kernel);
- ``patches``: the 3x3 patches of every input pixel as the rows of a matrix
  (nine shifted slices side by side), times the output gradients, one matrix
  product;
- ``swapped``: a forward convolution with the roles swapped, the input's
  channels as the batch and the output gradients as the filters, so that
  oneDNN's forward kernel does the work.

Rounds alternate the three, and each is the median of ``--repeats`` calls,
so that a change of the machine's speed during the run touches all of them.
Each alternative's largest difference from ``native`` is reported relative to
the gradient's largest value.
"""

from __future__ import annotations

import json

# the package first: it asks TensorFlow for oneDNN before TensorFlow loads
from fashion_estimators import FashionCNNClassifier

# isort: split
import tensorflow as tf

from ..harness import median_seconds
from .breakdown import step_batch_size, step_parser, trained_network


def convolution_shapes(params: dict) -> list[tuple[int, int, int, int]]:
    """``(height, in_channels, out_channels, kernel)`` of each convolution of
    the network ``FashionCNNClassifier(**params)`` builds."""
    network = trained_network(FashionCNNClassifier(**params).make_network())
    shapes = []
    for layer in network.layers:
        # a Conv2D, or a convolution carrying its BatchNorm (batch_norm=True)
        if hasattr(layer, "filters") and hasattr(layer, "kernel_size"):
            height, _, in_channels = layer.input.shape[1:]
            kernel = layer.kernel_size
            kernel = kernel if isinstance(kernel, int) else kernel[0]
            shapes.append((height, in_channels, layer.filters, kernel))
    return shapes


def native(x: tf.Tensor, dy: tf.Tensor, kernel: int) -> tf.Tensor:
    """``Conv2DBackpropFilter``: the gradient ``model.fit`` computes."""
    return tf.raw_ops.Conv2DBackpropFilter(
        input=x,
        filter_sizes=[kernel, kernel, x.shape[-1], dy.shape[-1]],
        out_backprop=dy,
        strides=[1, 1, 1, 1],
        padding="SAME",
    )


def _padded(x: tf.Tensor, kernel: int) -> tf.Tensor:
    pad = kernel // 2
    return tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])


def patches(x: tf.Tensor, dy: tf.Tensor, kernel: int) -> tf.Tensor:
    """Patches (one row per output pixel) transposed, times the output
    gradients: one matrix product."""
    height, width, in_channels = x.shape[1:]
    padded = _padded(x, kernel)
    shifted = [
        padded[:, i : i + height, j : j + width, :]
        for i in range(kernel)
        for j in range(kernel)
    ]
    rows = tf.reshape(tf.concat(shifted, axis=-1), [-1, kernel * kernel * in_channels])
    product = tf.matmul(rows, tf.reshape(dy, [-1, dy.shape[-1]]), transpose_a=True)
    return tf.reshape(product, [kernel, kernel, in_channels, dy.shape[-1]])


def swapped(x: tf.Tensor, dy: tf.Tensor, kernel: int) -> tf.Tensor:
    """A forward convolution of the input's channels (as a batch) by the
    output gradients (as filters, the batch as their input channels)."""
    images = tf.transpose(_padded(x, kernel), [3, 1, 2, 0])
    filters = tf.transpose(dy, [1, 2, 0, 3])
    out = tf.nn.conv2d(images, filters, strides=1, padding="VALID")
    return tf.transpose(out, [1, 2, 0, 3])


METHODS = {"native": native, "patches": patches, "swapped": swapped}


def time_methods(
    shape: tuple[int, int, int, int],
    precision: str,
    batch_size: int,
    repeats: int,
    rounds: int = 2,
) -> dict:
    """Best-of-rounds median milliseconds of each method on one convolution,
    and each alternative's largest relative difference from ``native``."""
    height, in_channels, out_channels, kernel = shape
    rng = tf.random.Generator.from_seed(0)
    dtype = tf.as_dtype(precision)
    x = tf.cast(rng.normal([batch_size, height, height, in_channels]), dtype)
    dy = tf.cast(rng.normal([batch_size, height, height, out_channels]), dtype)
    compiled = {
        name: tf.function(lambda a, b, m=method: m(a, b, kernel))
        for name, method in METHODS.items()
    }
    results = {name: f(x, dy) for name, f in compiled.items()}
    reference = tf.cast(results["native"], tf.float32)
    scale = float(tf.reduce_max(tf.abs(reference)))
    ms = {name: [] for name in METHODS}
    for _ in range(rounds):
        for name, f in compiled.items():
            seconds = median_seconds(lambda f=f: f(x, dy).numpy(), repeats)
            ms[name].append(seconds * 1e3)
    return {
        "shape": f"{height}x{height}, {in_channels} to {out_channels} channels",
        "ms": {name: min(values) for name, values in ms.items()},
        "relative_error": {
            name: float(
                tf.reduce_max(tf.abs(tf.cast(results[name], tf.float32) - reference))
            )
            / scale
            for name in METHODS
            if name != "native"
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = step_parser("python -m benchmarks.probes.weight_gradients")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    batch_size = step_batch_size(args, params)
    runs = [
        {
            "precision": precision,
            **time_methods(shape, precision, batch_size, args.repeats),
        }
        for precision in args.precisions
        for shape in convolution_shapes(params)
    ]
    print(f"batch {batch_size}; median ms of {args.repeats} calls, best of 2 rounds")
    print("| precision | convolution | " + " | ".join(METHODS) + " |")
    print("|---|---|" + "---:|" * len(METHODS))
    for run in runs:
        cells = " | ".join(f"{run['ms'][name]:.2f}" for name in METHODS)
        print(f"| {run['precision']} | {run['shape']} | {cells} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"batch_size": batch_size, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
