"""Accuracy and speed targets of the default models, measured side by side.

``python -m benchmarks.speed`` measures, in one run on this machine:

* the default ``FashionCNNClassifier()`` and ``FashionMLPClassifier()`` on the
  full training set, one process per seed (test accuracy, fit wall time and
  peak resident memory of that process);
* the time to reach the tutorial CNN's 0.926 test accuracy with a documented
  fast configuration, from the test accuracy recorded after every epoch (the
  clock stops while the test set is scored);
* the fit overhead of our wrapper against the same network trained by plain
  ``model.fit`` on the same data and epochs;
* one-row ``predict`` latency, and batch ``predict_proba`` on the test set
  against Keras' ``model.predict`` at its best batch size.

Every measurement runs in a fresh Python process of its own, so that none is
skewed by the fits that ran before it. It prints each figure with its target
and pass/fail, and writes them to ``--out``/speed.json. ``--quick`` runs
everything on small subsets with few epochs to check the machinery; its figures
are not the targets' figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fashion_estimators import (  # noqa: E402
    FashionCNNClassifier,
    FashionMLPClassifier,
    fetch_fashion_mnist,
)
from fashion_estimators._base import AUGMENTATIONS, _cosine_decay  # noqa: E402
from fashion_estimators._images import to_images  # noqa: E402
from fashion_estimators._networks import build_cnn, make_optimizer  # noqa: E402

from .latency import one_row_latency  # noqa: E402
from .report import machine  # noqa: E402
from .run import stratified_subset  # noqa: E402

ESTIMATORS = {"cnn": FashionCNNClassifier, "mlp": FashionMLPClassifier}
TARGET_ACCURACY = 0.926
"""The most copied tutorial CNN's test accuracy (0.9258 after 28 epochs)."""
FAST_CNN = dict(dense_units=128, augment=None, epochs=12)
"""The configuration timed to TARGET_ACCURACY: the default convolutions with a
dense layer of 128, no augmentation, a 12-epoch cosine schedule, all 60,000
images. Chosen on validation data: trained on 54,000 training images, it scored
0.9348 on the other 6,000, against 0.9312 with flips (13 epochs) and 0.9310 for
the two-block network (32, 64) in 15 epochs."""


@dataclass
class Row:
    what: str
    measured: float | None
    unit: str
    target: str
    passed: bool | None
    detail: str = ""


# ------------------------------------------------------------- measurements
class _EpochSeconds(keras.callbacks.Callback):
    """Wall time of each epoch, to tell a slow recipe from a slow machine.

    The clock runs from the start of training, and each epoch ends where the
    previous one stopped, so the epochs add up to the training time.
    """

    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
        self.start = time.perf_counter()


class _TestAccuracyPerEpoch(_EpochSeconds):
    """Scores the test set after each epoch; its time is not training time."""

    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = images, labels
        self.epochs: list[tuple[float, float]] = []  # (train seconds, accuracy)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        proba = np.concatenate(
            [
                keras.ops.convert_to_numpy(self.model.predict_on_batch(chunk))
                for chunk in np.array_split(self.images, 5)
            ]
        )
        accuracy = float(np.mean(proba.argmax(axis=1) == self.labels))
        self.epochs.append((sum(self.seconds), accuracy))
        self.start = time.perf_counter()  # restart the clock after scoring


def default_fit(spec, X, y, X_test, y_test) -> dict:
    """Fit one default model; its test accuracy, time and peak memory."""
    params = {"random_state": spec["seed"], **spec["params"]}
    clf = ESTIMATORS[spec["model"]](**params)
    epochs = _EpochSeconds()
    start = time.perf_counter()
    clf.fit(X, y, callbacks=[epochs])
    fit_seconds = time.perf_counter() - start
    return {
        "accuracy": clf.score(X_test, y_test),
        "fit_seconds": fit_seconds,
        "epoch_seconds": epochs.seconds,
        "epochs_run": len(clf.history_["loss"]),
        # Linux reports kilobytes
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def time_to_accuracy(spec, X, y, X_test, y_test) -> dict:
    """Test accuracy after every epoch of the fast configuration."""
    record = _TestAccuracyPerEpoch(to_images(X_test), y_test)
    FashionCNNClassifier(random_state=0, **spec["params"]).fit(X, y, callbacks=[record])
    reached = [s for s, acc in record.epochs if acc >= TARGET_ACCURACY]
    return {
        "seconds": reached[0] if reached else None,
        "best_accuracy": max(acc for _, acc in record.epochs),
        "epochs": [{"seconds": s, "test_accuracy": a} for s, a in record.epochs],
    }


def fit_seconds(spec, X, y, X_test, y_test) -> dict:
    """Time one fit of the default CNN network: ours, or plain ``model.fit``
    with the same augmentation, optimizer, cosine schedule, batch size and
    epochs.

    Unseeded on both sides: a fixed random_state also turns on TensorFlow's op
    determinism, which is a choice of the user, not wrapper overhead.
    """
    epochs = spec["epochs"]
    defaults = FashionCNNClassifier()
    start = time.perf_counter()
    if spec["side"] == "ours":
        FashionCNNClassifier(epochs=epochs, validation_fraction=0).fit(X, y)
    else:
        model = build_cnn(
            10,
            filters=defaults.filters,
            dense_units=defaults.dense_units,
            dropout=defaults.dropout,
            augmentation=AUGMENTATIONS[defaults.augment].keras_layers(None),
        )
        model.compile(
            optimizer=make_optimizer(defaults.optimizer, defaults.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(
            to_images(X),
            y,
            epochs=epochs,
            batch_size=defaults.batch_size,
            callbacks=[_cosine_decay(defaults.learning_rate, epochs)],
            verbose=0,
        )
    return {"seconds": time.perf_counter() - start}


def prediction_speed(spec, X, y, X_test, y_test) -> dict:
    """One-row latency and batch ``predict_proba`` of a default CNN network
    (trained one epoch on 2,000 images), against ``model.predict`` at the
    batch size that suits it best."""
    repeats = spec["repeats"]
    clf = FashionCNNClassifier(epochs=1, validation_fraction=0, random_state=0)
    clf.fit(X[:2000], y[:2000])
    latency = one_row_latency(clf.predict, X_test[:200], 200)

    images = to_images(X_test)
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


TASKS = {
    f.__name__: f
    for f in (default_fit, time_to_accuracy, fit_seconds, prediction_speed)
}


# ------------------------------------------------------------ fresh processes
def _child(spec: dict) -> dict:
    """Run one measurement in this (fresh) process."""
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X_test, y_test = fetch_fashion_mnist("test", return_X_y=True)
    X, y = stratified_subset(X, y, spec["n_train"], seed=spec.get("seed", 0))
    return TASKS[spec["task"]](spec, X, y, X_test, y_test)


def in_fresh_process(task: str, **spec) -> dict:
    """Run ``TASKS[task]`` in a new Python process and return what it measured.

    Every measurement gets a process of its own, so none is skewed by what ran
    before it: TensorFlow keeps the graphs traced by earlier fits, and a
    process that has trained several networks predicts and trains measurably
    slower than a fresh one.
    """
    spec = {"task": task, **spec}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.speed", "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wrapper_overhead(n_train: int | None, epochs: int, repeats: int) -> dict:
    """Best-of-``repeats`` fit times, ours and plain ``model.fit``, alternated,
    each fit in a fresh process."""
    times = {"ours": [], "plain": []}
    for _ in range(repeats):
        for side in ("plain", "ours"):
            run = in_fresh_process(
                "fit_seconds", side=side, epochs=epochs, n_train=n_train
            )
            times[side].append(run["seconds"])
            print(f"    {side}: {run['seconds']:.1f} s", flush=True)
    return {**times, "ratio": min(times["ours"]) / min(times["plain"]) - 1}


# ----------------------------------------------------------------- the run
def _mean_std(values):
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0


def measure(args) -> list[Row]:
    quick = args.quick
    n_train = args.n_train or (5000 if quick else None)
    neural = {} if not quick else {"epochs": 2}
    seeds = range(args.seed, args.seed + args.seeds)
    rows: list[Row] = []

    runs = {}
    for model in ("cnn", "mlp"):
        runs[model] = []
        for seed in seeds:
            print(f"{model} defaults, seed {seed} ...", flush=True)
            runs[model].append(
                in_fresh_process(
                    "default_fit",
                    model=model,
                    seed=seed,
                    n_train=n_train,
                    params=neural,
                )
            )
            print(f"    {runs[model][-1]}", flush=True)
    for model, name, accuracy, minutes in (
        ("cnn", "FashionCNNClassifier()", 0.935, 15),
        ("mlp", "FashionMLPClassifier()", 0.900, 2),
    ):
        acc, acc_std = _mean_std([r["accuracy"] for r in runs[model]])
        fit = max(r["fit_seconds"] for r in runs[model])
        epochs = [r["epochs_run"] for r in runs[model]]
        epoch_seconds = [s for r in runs[model] for s in r["epoch_seconds"]]
        rows.append(
            Row(
                f"{name} test accuracy, mean of {len(runs[model])} seeds",
                acc,
                "",
                f">= {accuracy}",
                acc >= accuracy,
                f"std {acc_std:.4f}; epochs run {epochs}",
            )
        )
        rows.append(
            Row(
                f"{name} fit wall time, slowest seed",
                fit,
                "s",
                f"<= {minutes * 60}",
                fit <= minutes * 60,
                f"epoch median {statistics.median(epoch_seconds):.1f} s, "
                f"slowest {max(epoch_seconds):.1f} s",
            )
        )

    fast = {**FAST_CNN, **({"epochs": 2} if quick else {})}
    print(f"time to {TARGET_ACCURACY}: FashionCNNClassifier({fast}) ...", flush=True)
    reach = in_fresh_process("time_to_accuracy", n_train=n_train, params=fast)
    for epoch, run in enumerate(reach["epochs"], start=1):
        print(
            f"    epoch {epoch}: {run['seconds']:6.1f} s, "
            f"test acc {run['test_accuracy']:.4f}"
        )
    rows.append(
        Row(
            f"time to {TARGET_ACCURACY} test accuracy, FashionCNNClassifier({fast})",
            reach["seconds"],
            "s",
            "<= 300",
            reach["seconds"] is not None and reach["seconds"] <= 300,
            f"best {reach['best_accuracy']:.4f}",
        )
    )

    print("wrapper overhead ...", flush=True)
    # A fresh process trains these two epochs in anything from about 30 to 43 s,
    # whichever side it runs (measured 2026-11-24), so one pair can read +14 %
    # either way; the best of 5 per side all but always compares like with like.
    overhead = wrapper_overhead(
        n_train, epochs=1 if quick else 2, repeats=1 if quick else 5
    )
    rows.append(
        Row(
            "fit overhead vs plain model.fit, same network/data/epochs",
            overhead["ratio"] * 100,
            "%",
            "<= 3",
            overhead["ratio"] <= 0.03,
            f"best fit ours {min(overhead['ours']):.1f} s, "
            f"plain {min(overhead['plain']):.1f} s",
        )
    )

    print("prediction speed ...", flush=True)
    speed = in_fresh_process(
        "prediction_speed", n_train=n_train, repeats=2 if quick else 5
    )
    rows.append(
        Row(
            "one-row predict latency, median of 200",
            speed["latency_ms"],
            "ms",
            "<= 2",
            speed["latency_ms"] <= 2,
            f"p90 {speed['latency_p90_ms']:.2f} ms",
        )
    )
    rows.append(
        Row(
            "batch predict_proba on the 10,000 test images vs best model.predict",
            speed["batch_ratio"] * 100,
            "%",
            "<= 10",
            speed["batch_ratio"] <= 0.10,
            f"ours {speed['batch_ours_s']:.3f} s, model.predict "
            f"{speed['batch_keras_best_s']:.3f} s "
            f"(batch {speed['batch_keras_best_size']})",
        )
    )
    peak = max(r["peak_rss_mib"] for r in runs["cnn"])
    rows.append(
        Row(
            "peak resident memory of a default CNN fit",
            peak,
            "MiB",
            "<= 3072",
            peak <= 3072,
        )
    )
    args.details = {
        "fits": runs,
        "time_to_accuracy": reach,
        "overhead": overhead,
        "prediction": speed,
    }
    return rows


def _format(row: Row) -> str:
    value = "not reached" if row.measured is None else f"{row.measured:.4g} {row.unit}"
    verdict = {True: "PASS", False: "FAIL", None: "-"}[row.passed]
    return (
        f"| {row.what} | {value} | {row.target} {row.unit} | {verdict} | {row.detail} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument(
        "--n-train", type=int, help="training images (default: all; 5,000 if quick)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmark-results"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    start = time.perf_counter()
    rows = measure(args)
    took = time.perf_counter() - start
    host = machine()
    header = (
        f"python -m benchmarks.speed{' --quick' if args.quick else ''}: "
        f"{time.strftime('%Y-%m-%d')}, {host['cpus']} CPUs, "
        f"GPU {', '.join(host['gpus']) or 'none'}, {took / 60:.1f} min"
    )
    print(f"\n{header}\n")
    print("| what | measured | target | | detail |\n|---|---:|---|---|---|")
    for row in rows:
        print(_format(row))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(
        json.dumps(
            {
                "command": header,
                "machine": host,
                "rows": [asdict(row) for row in rows],
                "details": args.details,
            },
            indent=1,
        )
    )
    print(f"\nwrote {args.out / 'speed.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
