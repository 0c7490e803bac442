"""Fit every model on the same Fashion-MNIST pixels and compare them.

All models receive the same X, the (n, 784) uint8 pixels of
fetch_fashion_mnist, and are scored once on the official 10,000 test images.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning

from fashion_estimators import fetch_fashion_mnist, stratified_subset

from .harness import machine
from .models import MODELS, ModelSpec
from .report import best, markdown_table, write_outputs
from .reproductions import REPRODUCTIONS
from .run import benchmark

QUICK_TRAIN = 5_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"train on a stratified {QUICK_TRAIN:,}-image subset (a few minutes)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=list(MODELS),
        default=list(MODELS),
        help="models to run (default: all)",
    )
    parser.add_argument("--n-train", type=int, help="training images (stratified)")
    parser.add_argument("--n-test", type=int, help="test images (stratified)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="seeds for the package's neural models (mean and std are reported)",
    )
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument(
        "--epochs", type=int, help="override every neural model's epochs (smoke runs)"
    )
    parser.add_argument(
        "--reproduce",
        action="store_true",
        help="also train the three tutorial CNNs and compare with their reports",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("benchmark-results"), help="output folder"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


class _Clock:
    def __init__(self):
        self.start = time.perf_counter()

    def say(self, message: str, end: str = "\n") -> None:
        elapsed = time.perf_counter() - self.start
        print(f"[{elapsed:7.1f}s] {message}", end=end, flush=True)


def _reproduction_spec(reproduction) -> ModelSpec:
    return ModelSpec(
        name=f"reproduce-{reproduction.name}",
        description=reproduction.recipe,
        build=reproduction.estimator,
        repeatable=True,
    )


def _reproduction_table(reproductions, results) -> str:
    lines = [
        "| tutorial CNN | our test accuracy | reported | gap (points) "
        "| parameters (ours / reported) | fit s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for reproduction, result in zip(reproductions, results, strict=True):
        gap = 100 * (result.mean("accuracy") - reproduction.reported_accuracy)
        reported = reproduction.reported_parameters
        lines.append(
            f"| {reproduction.name} | {result.mean('accuracy'):.4f} "
            f"| {reproduction.reported_accuracy:.4f} | {gap:+.2f} "
            f"| {result.total_parameters:,} / "
            f"{'n/a' if reported is None else f'{reported:,}'} "
            f"| {result.mean('fit_seconds'):.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import tensorflow as tf

    # building dozens of models retraces tf.functions by design; not news here
    tf.get_logger().setLevel("ERROR")
    # TensorFlow logs its device probe (CUDA, on a machine without a GPU) when
    # it first looks for devices: let it do so now, before the progress lines
    tf.config.list_physical_devices("GPU")
    # LogisticRegression keeps the usual max_iter=200 and may stop short of it
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    clock = _Clock()
    seeds = [args.seed + i for i in range(args.repeats)]

    X_train, y_train = fetch_fashion_mnist("train", return_X_y=True)
    X_test, y_test = fetch_fashion_mnist("test", return_X_y=True)
    n_train = args.n_train or (QUICK_TRAIN if args.quick else None)
    X_train, y_train = stratified_subset(
        X_train, y_train, n_train, random_state=args.seed
    )
    X_test, y_test = stratified_subset(
        X_test, y_test, args.n_test, random_state=args.seed
    )
    clock.say(
        f"{len(X_train):,} training and {len(X_test):,} test images; "
        f"models: {', '.join(args.models)}; seeds {seeds}"
    )

    def run(spec: ModelSpec):
        # one line per model: its name now, its result when it is done (Keras
        # is kept silent)
        clock.say(f"{spec.name}: {spec.description} ...", end=" ")
        result = benchmark(
            spec,
            X_train,
            y_train,
            X_test,
            y_test,
            seeds=seeds,
            verbose=0,
            epochs=args.epochs,
        )
        print(
            f"test accuracy {result.mean('accuracy'):.4f}, "
            f"fit {result.mean('fit_seconds'):.1f} s",
            flush=True,
        )
        return result

    results = [run(MODELS[name]) for name in args.models]

    context = {
        "command": "python -m benchmarks " + " ".join(argv or sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "n_train": len(X_train),
        "n_test": len(X_test),
        "machine": machine(),
    }
    reproduced = []
    if args.reproduce:
        reproduced = [run(_reproduction_spec(r)) for r in REPRODUCTIONS]
        context["reproductions"] = [
            {
                **r.summary(),
                "reported_accuracy": p.reported_accuracy,
                "reported_parameters": p.reported_parameters,
            }
            for p, r in zip(REPRODUCTIONS, reproduced, strict=True)
        ]

    paths = write_outputs(args.out, results, y_test, context)
    print()
    print(markdown_table(results))
    if reproduced:
        print()
        print(_reproduction_table(REPRODUCTIONS, reproduced))
    print()
    print(f"Best: {best(results).model}. Wrote " + ", ".join(map(str, paths.values())))
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in context["machine"].items()))
    clock.say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
