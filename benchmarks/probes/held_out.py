"""Held-out accuracy of one configuration, the way the defaults were chosen.

``python -m benchmarks.probes.held_out --model cnn --params '{"epochs": 30}'``
holds out a stratified 6,000 of the 60,000 training images
(``train_test_split(..., test_size=6000, stratify=y, random_state=0)``), fits
the estimator with those parameters on the other 54,000 (or on a stratified
``--n-train`` of them) and prints its accuracy on the 6,000 after every epoch
(``--curve``) and at the end. An ``augment`` given as an object is a
FashionAugmenter's parameters. ``--label-smoothing`` trains against smoothed
labels, a lever the estimators have no parameter for. The test set is never
read.
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np
from keras import ops
from sklearn.model_selection import train_test_split

from fashion_estimators import (
    FashionAugmenter,
    fetch_fashion_mnist,
    registry,
    stratified_subset,
)

HELD_OUT = 6_000


class SmoothedCrossentropy(keras.losses.Loss):
    """Cross-entropy against labels smoothed by ``smoothing``: the true class
    weighs ``1 - smoothing + smoothing / k``, each other ``smoothing / k``
    (what Keras' CategoricalCrossentropy does, for integer labels)."""

    def __init__(self, smoothing: float):
        super().__init__(name="smoothed_crossentropy")
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        y_pred = ops.clip(y_pred, keras.config.epsilon(), 1.0)
        true = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        uniform = -ops.mean(ops.log(y_pred), axis=-1)
        return (1 - self.smoothing) * true + self.smoothing * uniform


class _HeldOutCurve(keras.callbacks.Callback):
    def __init__(self, estimator, X, y):
        super().__init__()
        self.estimator, self.X, self.y = estimator, X, y

    def on_epoch_end(self, epoch, logs=None):
        # the network in training, as predict would call it
        proba = self.model.predict_on_batch(
            np.asarray(self.X, "float32").reshape(-1, 28, 28, 1)
        )
        accuracy = np.mean(self.estimator.classes_[proba.argmax(1)] == self.y)
        print(f"  epoch {epoch + 1}: held-out accuracy {accuracy:.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes.held_out")
    parser.add_argument("--model", choices=list(registry.ESTIMATORS), default="cnn")
    parser.add_argument("--params", default="{}", help="parameters, as JSON")
    parser.add_argument("--n-train", type=int, help="a stratified subset of the 54,000")
    parser.add_argument("--seed", type=int, default=0, help="the estimator's seed")
    parser.add_argument("--curve", action="store_true", help="score every epoch")
    parser.add_argument(
        "--label-smoothing", type=float, default=0.0, help="e.g. 0.1; default none"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.label_smoothing < 1:
        parser.error(f"--label-smoothing must be in [0, 1), not {args.label_smoothing}")
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X_fit, X_val, y_fit, y_val = train_test_split(
        X, y, test_size=HELD_OUT, stratify=y, random_state=0
    )
    X_fit, y_fit = stratified_subset(X_fit, y_fit, args.n_train, random_state=0)
    params = {"random_state": args.seed, **json.loads(args.params)}
    if isinstance(params.get("augment"), dict):  # a FashionAugmenter's parameters
        params["augment"] = FashionAugmenter(**params["augment"])
    clf = registry.ESTIMATORS[args.model].load()(**params)
    if args.label_smoothing:
        # the loss fit compiles is a class attribute; this instance's shadows it
        clf.loss = SmoothedCrossentropy(args.label_smoothing)
        print(f"label smoothing {args.label_smoothing}")
    print(f"{clf!r} on {len(X_fit):,} images, scored on {HELD_OUT:,} held out")
    callbacks = [_HeldOutCurve(clf, X_val, y_val)] if args.curve else []
    start = time.perf_counter()
    clf.fit(X_fit, y_fit, callbacks=callbacks)
    seconds = time.perf_counter() - start
    if args.label_smoothing:
        print(f"trained with the loss {clf.model_.loss.name}")
    print(f"held-out accuracy {clf.score(X_val, y_val):.4f}; fit {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
