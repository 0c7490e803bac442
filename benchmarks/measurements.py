"""Measurements of speed and accuracy: plain functions that return numbers.

Each takes its settings (a JSON-able ``spec``) and the data, measures in the
process it runs in, and returns a dict of numbers. None starts a process or
knows a target: ``benchmarks.speed`` runs each in a fresh process, and
``benchmarks.targets`` judges what they return.
"""

from __future__ import annotations

import statistics
import time

import keras
import numpy as np

from fashion_estimators import CHANNEL_SHAPE, FashionCNNClassifier, registry

from .harness import one_row_latency, peak_rss_mib
from .networks import keras_batch_norm_network

ESTIMATORS = {name: entry.load() for name, entry in registry.ESTIMATORS.items()}


def _images(X) -> np.ndarray:
    return np.asarray(X, dtype="float32").reshape(-1, *CHANNEL_SHAPE)


class EpochClock(keras.callbacks.Callback):
    """Training seconds after each epoch and, given a test set, the test
    accuracy after each epoch; the clock stops while the test set is scored."""

    def __init__(self, X_test=None, y_test=None):
        super().__init__()
        self.images = None if X_test is None else _images(X_test)
        self.labels = y_test

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []
        self.curve: list[tuple[float, float]] = []  # (training seconds, accuracy)
        self.scoring = 0.0
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.seconds.append(now - self.start)
        if self.images is not None:
            proba = np.concatenate(
                [
                    keras.ops.convert_to_numpy(self.model.predict_on_batch(chunk))
                    for chunk in np.array_split(self.images, 5)
                ]
            )
            accuracy = float(np.mean(proba.argmax(axis=1) == self.labels))
            self.curve.append((sum(self.seconds), accuracy))
        self.start = time.perf_counter()
        self.scoring += self.start - now


def fit_and_score(spec: dict, X, y, X_test, y_test) -> dict:
    """Fit ``ESTIMATORS[spec["model"]](**spec["params"])`` and score it.

    With ``spec["curve"]``, the test accuracy after every epoch too, its clock
    stopped while scoring; ``fit_seconds`` then counts training only. With
    ``spec["keras_batch_norm"]``, the CNN's network is built from Keras' own
    BatchNormalization layers (``benchmarks.networks``).
    """
    params = dict(spec["params"])
    if spec.get("keras_batch_norm"):
        vgg = FashionCNNClassifier(**params)
        params["network"] = keras_batch_norm_network(
            vgg.filters_for_architecture(), vgg.dense_units, vgg.dropout
        )
    clf = ESTIMATORS[spec["model"]](**params)
    clock = EpochClock(X_test, y_test) if spec.get("curve") else EpochClock()
    start = time.perf_counter()
    clf.fit(X, y, callbacks=[clock])
    fit_seconds = time.perf_counter() - start - clock.scoring
    return {
        "accuracy": clf.score(X_test, y_test),
        "fit_seconds": fit_seconds,
        "epoch_seconds": clock.seconds,
        "epochs_run": len(clf.history_["loss"]),
        "curve": [{"seconds": s, "accuracy": a} for s, a in clock.curve],
        "precision": clf.precision_,
        "layers": sorted(_layer_kinds(clf.model_)),
        # Linux reports kilobytes
        "peak_rss_mib": peak_rss_mib(),
    }


def _layer_kinds(model: keras.Model) -> set[str]:
    """The class names of a network's layers, with those of nested models and
    of the network that the test-time-flip layer wraps (its ``network``)."""
    kinds = set()
    for layer in model.layers:
        kinds.add(type(layer).__name__)
        inner = (
            layer if isinstance(layer, keras.Model) else getattr(layer, "network", None)
        )
        if isinstance(inner, keras.Model):
            kinds |= _layer_kinds(inner)
    return kinds


def training_throughput(spec: dict, X, y, X_test, y_test) -> dict:
    """Training images per second of a network in one precision: the median
    of epochs 2 and later (the first one traces the graph)."""
    params = {**spec["params"], "precision": spec["precision"]}
    clf = ESTIMATORS[spec["model"]](**params)
    clock = EpochClock()
    clf.fit(X, y, callbacks=[clock])
    return {
        "images_per_s": len(X) / statistics.median(clock.seconds[1:]),
        "precision": clf.precision_,
    }


def documented_optimizer(clf) -> keras.optimizers.Optimizer:
    """The optimizer a fit of ``clf`` trains with, as its ``optimizer``,
    ``learning_rate`` and ``weight_decay`` parameters document it ("sgd":
    Nesterov momentum 0.9), without the learning-rate schedule."""
    config: dict = {"learning_rate": clf.learning_rate}
    if clf.weight_decay is not None:
        config["weight_decay"] = clf.weight_decay
    if clf.optimizer == "sgd":
        config.update(momentum=0.9, nesterov=True)
    return keras.optimizers.get({"class_name": clf.optimizer, "config": config})


def fit_seconds(spec: dict, X, y, X_test, y_test) -> dict:
    """Time one fit of the default CNN: ours, or plain ``model.fit`` of
    ``make_network()`` with the same optimizer, batch size and epochs.

    Both sides keep the learning rate constant, so that neither needs a
    schedule of its own. Unseeded on both sides: a fixed random_state also
    turns on TensorFlow's op determinism, which is a choice of the user, not
    wrapper overhead.
    """
    clf = FashionCNNClassifier(epochs=spec["epochs"], lr_schedule="constant")
    start = time.perf_counter()
    if spec["side"] == "ours":
        clf.fit(X, y)
    else:
        model = clf.make_network()
        model.compile(
            optimizer=documented_optimizer(clf),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(
            _images(X),
            y,
            epochs=clf.epochs,
            batch_size=clf.batch_size_for(len(X)),
            verbose=0,
        )
    return {"seconds": time.perf_counter() - start}


def prediction_speed(spec: dict, X, y, X_test, y_test) -> dict:
    """One-row latency and batch ``predict_proba`` on the test set of a
    default CNN (trained one epoch on 2,000 images), against
    ``model.predict`` at the batch size that suits it best."""
    repeats = spec["repeats"]
    clf = FashionCNNClassifier(epochs=1, random_state=0).fit(X[:2000], y[:2000])
    latency = one_row_latency(clf.predict, X_test[:200], 200)

    images = _images(X_test)
    sides = {"ours": lambda: clf.predict_proba(X_test)}
    for size in (128, 256, 512, 1024, 2048, 4096):
        sides[size] = lambda s=size: clf.model_.predict(images, batch_size=s, verbose=0)
    # Round-robin, so that a slow spell of the machine costs every side a
    # repeat instead of all the repeats of one side; best of the repeats.
    runs = {side: [] for side in sides}
    for _ in range(repeats):
        for side, call in sides.items():
            start = time.perf_counter()
            call()
            runs[side].append(time.perf_counter() - start)
    ours = min(runs.pop("ours"))
    keras_times = {size: min(times) for size, times in runs.items()}
    best_size = min(keras_times, key=keras_times.get)
    return {
        "latency_ms": statistics.median(latency) * 1e3,
        "latency_p90_ms": float(np.percentile(latency, 90) * 1e3),
        "batch_ours_s": ours,
        "batch_keras_s": keras_times,
        "batch_keras_best_size": best_size,
        "batch_keras_best_s": keras_times[best_size],
        "batch_ratio": ours / keras_times[best_size] - 1,
    }


MEASUREMENTS = {
    f.__name__: f
    for f in (fit_and_score, training_throughput, fit_seconds, prediction_speed)
}
"""Every measurement by name, for the runner."""
