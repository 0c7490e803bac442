"""Where the time of one training step goes, layer by layer.

``python -m benchmarks.probes.breakdown`` times, for the default CNN network (or the
``--params`` given), what each layer adds to the forward and backward pass of
a training batch, in float32 and in mixed bfloat16, and one whole training
step (``train_on_batch``: forward, backward, loss and the optimizer update).
What the layers do not account for is the loss, the optimizer and Keras' own
work. Each time is the median of ``--repeats`` calls of a compiled function,
after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os

# the package first: it asks TensorFlow for oneDNN before TensorFlow loads
from fashion_estimators import (
    CHANNEL_SHAPE,
    PIXEL_MAX,
    TRAIN_SIZE,
    FashionCNNClassifier,
)

# isort: split
import keras
import numpy as np
import tensorflow as tf

from ..harness import median_seconds


def trained_network(model: keras.Model) -> keras.Model:
    """The network a training batch passes through: the one inside test-time
    flips, which training runs as it is."""
    inner = getattr(model.layers[-1], "network", None)
    return model if inner is None else inner


def layer_times(model: keras.Model, images: np.ndarray, repeats: int) -> list[dict]:
    """Milliseconds each layer adds to the forward and backward pass.

    The network is timed up to each layer in turn (forward, and the gradient
    of the weights where there are any, as training computes them); a layer's
    time is what it adds to the time of the layers before it.
    """
    network = trained_network(model)
    x = tf.constant(images)
    rows, before = [], 0.0
    for layer in network.layers[1:]:
        prefix = keras.Model(network.inputs, layer.output)

        @tf.function
        def step(inputs, prefix=prefix):
            with tf.GradientTape() as tape:
                out = prefix(inputs, training=True)
                total = tf.reduce_sum(tf.cast(out, tf.float32))
            # returned, or tf.function would prune the unused gradients away
            return out, tape.gradient(total, prefix.trainable_weights)

        seconds = median_seconds(lambda s=step: s(x), repeats)
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "output": "x".join(str(d) for d in layer.output.shape[1:]),
                "dtype": layer.dtype_policy.compute_dtype,
                "ms": (seconds - before) * 1e3,
            }
        )
        before = seconds
    return rows


def step_time(model: keras.Model, images, labels, repeats: int) -> float:
    """Median milliseconds of one ``train_on_batch``."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return median_seconds(lambda: model.train_on_batch(images, labels), repeats) * 1e3


def breakdown(params: dict, precision: str, batch_size: int, repeats: int) -> dict:
    """The per-layer table and the whole step of one network and precision."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, PIXEL_MAX + 1, (batch_size, *CHANNEL_SHAPE)).astype(
        "float32"
    )
    labels = rng.integers(0, 10, batch_size)
    estimator = FashionCNNClassifier(**params, precision=precision)
    layers = layer_times(estimator.make_network(seed=0), images, repeats)
    step = step_time(estimator.make_network(seed=0), images, labels, repeats)
    return {
        "precision": precision,
        "layers": layers,
        "step_ms": step,
        "images_per_s": batch_size / step * 1e3,
    }


def _print_table(runs: list[dict]) -> None:
    names = [run["precision"] for run in runs]
    print("| layer | output | " + " | ".join(f"{n} ms | share" for n in names) + " |")
    print("|---|---|" + "---:|---:|" * len(runs))
    for i, row in enumerate(runs[0]["layers"]):
        cells = []
        for run in runs:
            ms = run["layers"][i]["ms"]
            cells.append(f"{ms:.2f} | {ms / run['step_ms']:.0%}")
        print(f"| {row['layer']} | {row['output']} | " + " | ".join(cells) + " |")
    rest = []
    for run in runs:
        ms = run["step_ms"] - sum(r["ms"] for r in run["layers"])
        rest.append(f"{ms:.2f} | {ms / run['step_ms']:.0%}")
    print("| loss, optimizer, Keras | | " + " | ".join(rest) + " |")
    print(
        "| **whole step** | | "
        + " | ".join(f"**{run['step_ms']:.2f}** | 100%" for run in runs)
        + " |"
    )
    print(
        "| images/s | | "
        + " | ".join(f"{run['images_per_s']:,.0f} |" for run in runs)
        + " |"
    )


def step_parser(prog: str) -> argparse.ArgumentParser:
    """The options that say which training step to measure; shared with
    ``benchmarks.probes.kernels``, so that its table describes the same step."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument(
        "--params",
        default="{}",
        help="FashionCNNClassifier parameters as JSON, e.g. '{\"filters\": [32, 64]}'",
    )
    parser.add_argument(
        "--batch-size", type=int, help="default: the full training set's"
    )
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--precisions", nargs="+", default=["float32", "bfloat16"], metavar="P"
    )
    parser.add_argument("--out", help="write the figures to this JSON file")
    return parser


def step_batch_size(args: argparse.Namespace, params: dict) -> int:
    """``--batch-size``, or the one a fit on the full training set takes."""
    return args.batch_size or FashionCNNClassifier(**params).batch_size_for(TRAIN_SIZE)


def main(argv: list[str] | None = None) -> int:
    args = step_parser("python -m benchmarks.probes.breakdown").parse_args(argv)
    params = json.loads(args.params)
    batch_size = step_batch_size(args, params)
    runs = [
        breakdown(params, precision, batch_size, args.repeats)
        for precision in args.precisions
    ]
    print(
        f"One training step of FashionCNNClassifier({params}), batch {batch_size}, "
        f"median of {args.repeats}; oneDNN "
        f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'TensorFlow default')}\n"
    )
    _print_table(runs)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"params": params, "batch_size": batch_size, "runs": runs}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
