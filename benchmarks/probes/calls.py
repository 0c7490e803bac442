"""How long single calls take: one-row prediction, and the MLP's training step.

``python -m benchmarks.probes.calls prediction`` trains the default CNN one
epoch on 2,000 real images and times, median of ``--repeats`` calls on single
test rows after a warm-up: ``predict``, ``predict_proba``, the network's
``predict_on_batch``, a ``tf.function`` of the network and the network called
eagerly; then a ``tf.function`` of the default network in each precision, with
and without test-time flips, with and without XLA, on one row and on 2,048;
and the best of 5 ``predict_proba`` calls on the 10,000 test images.

``python -m benchmarks.probes.calls mlp-step`` times ``train_on_batch`` of the
default MLP network on 512 images in each precision, with and without
dropout, and the matrix products of its two large layers.

Run each in a fresh process; the performance page quotes their tables.
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

from fashion_estimators import (
    CHANNEL_SHAPE,
    FashionCNNClassifier,
    FashionMLPClassifier,
    fetch_fashion_mnist,
)

from ..harness import median_seconds


def median_ms(call, repeats: int) -> float:
    """Median milliseconds of ``call()``, after two warm-up calls."""
    return 1e3 * median_seconds(call, repeats)


def _images(X) -> np.ndarray:
    return np.asarray(X, dtype="float32").reshape(-1, *CHANNEL_SHAPE)


def prediction(repeats: int, variants: tuple, best_of: int = 5) -> None:
    """The one-row table, the network variants' table (``variants``: the
    precisions, test-time flip settings and XLA settings to combine) and the
    best of ``best_of`` 10,000-image calls."""
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X_test, _ = fetch_fashion_mnist("test", return_X_y=True)
    clf = FashionCNNClassifier(epochs=1, random_state=0).fit(X[:2000], y[:2000])
    row, image = X_test[:1], _images(X_test[:1])
    network = clf.model_
    graph = tf.function(lambda x: network(x, training=False))
    print(f"default CNN ({clf.precision_}), median of {repeats} one-row calls\n")
    print("| call | ms |\n|---|---:|")
    for name, call in {
        "`clf.predict(row)`": lambda: clf.predict(row),
        "`clf.predict_proba(row)`": lambda: clf.predict_proba(row),
        "`model_.predict_on_batch(image)`": lambda: network.predict_on_batch(image),
        "a `tf.function` of `model_(x, training=False)`": lambda: graph(image),
        "the model called eagerly": lambda: network(image, training=False),
    }.items():
        print(f"| {name} | {median_ms(call, repeats):.2f} |")

    batch = _images(X_test[:2048])
    print("\n| `tf.function` of the network | one row, ms | 2,048 rows, ms |")
    print("|---|---:|---:|")
    precisions, flip_settings, xla_settings = variants
    for precision in precisions:
        for flips in flip_settings:
            for xla in xla_settings:
                model = FashionCNNClassifier(
                    precision=precision, test_time_flip=flips
                ).make_network(seed=0)
                run = tf.function(
                    lambda x, model=model: model(x, training=False), jit_compile=xla
                )
                one = median_ms(lambda run=run: run(image), repeats)
                many = median_ms(lambda run=run: run(batch), max(3, repeats // 30))
                name = f"{precision}, {'flips' if flips else 'no flips'}"
                print(f"| {name}{', XLA' if xla else ''} | {one:.2f} | {many:.0f} |")

    times = []
    for _ in range(best_of):
        start = time.perf_counter()
        clf.predict_proba(X_test)
        times.append(time.perf_counter() - start)
    print(
        f"\npredict_proba of the 10,000 test images, best of {best_of}: "
        f"{min(times):.3f} s"
    )


def mlp_step(repeats: int) -> None:
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    images, labels = _images(X[:512]), y[:512]
    print(f"the default MLP network, 512 images, median of {repeats} calls\n")
    print("| | float32 ms | bfloat16 ms |\n|---|---:|---:|")
    rows: dict[str, list[float]] = {}
    for precision in ("float32", "bfloat16"):
        for dropout, name in ((0.4, "`train_on_batch`"), (0.0, "without dropout")):
            model = FashionMLPClassifier(
                dropout=dropout, precision=precision
            ).make_network(seed=0)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            ms = median_ms(lambda m=model: m.train_on_batch(images, labels), repeats)
            rows.setdefault(name, []).append(ms)
        for m, k, n in ((512, 784, 1024), (512, 1024, 512), (784, 512, 1024)):
            a = tf.random.normal((m, k), dtype=precision)
            b = tf.random.normal((k, n), dtype=precision)
            product = tf.function(lambda a, b: tf.matmul(a, b))
            ms = median_ms(lambda a=a, b=b, p=product: p(a, b).numpy(), repeats)
            rows.setdefault(f"matmul {m}x{k} by {k}x{n}", []).append(ms)
    for name, (f32, bf16) in rows.items():
        print(f"| {name} | {f32:.2f} | {bf16:.2f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes.calls")
    parser.add_argument("what", choices=("prediction", "mlp-step"))
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument(
        "--no-xla", action="store_true", help="prediction: skip the XLA variants"
    )
    parser.add_argument(
        "--best-of", type=int, default=5, help="prediction: 10,000-image calls"
    )
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    if args.what == "prediction":
        xla = (False,) if args.no_xla else (False, True)
        variants = (("bfloat16", "float32"), (True, False), xla)
        prediction(args.repeats, variants, args.best_of)
    else:
        mlp_step(args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
