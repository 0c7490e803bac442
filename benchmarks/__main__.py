"""``python -m benchmarks``: fit every model on the same pixels and compare."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from fashion_estimators import fetch_fashion_mnist  # noqa: E402

from .models import MODELS  # noqa: E402
from .report import machine, markdown_table  # noqa: E402
from .run import class_counts, evaluate, stratified_subset  # noqa: E402

QUICK_TRAIN = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--full",
        action="store_true",
        help="train on all 60,000 images (default: a stratified 10,000-image subset)",
    )
    parser.add_argument("--n-train", type=int, help="training images to use")
    parser.add_argument(
        "--models", nargs="+", choices=list(MODELS), default=list(MODELS)
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # LogisticRegression keeps the usual max_iter=200 and may stop short of it
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    n_train = args.n_train or (None if args.full else QUICK_TRAIN)
    X_train, y_train = fetch_fashion_mnist("train", return_X_y=True)
    X_test, y_test = fetch_fashion_mnist("test", return_X_y=True)
    X_train, y_train = stratified_subset(X_train, y_train, n_train, args.seed)
    print(
        f"Training on {len(X_train):,} images ({class_counts(y_train)[0]:,} per "
        f"class), testing on the official {len(X_test):,}.",
        flush=True,
    )
    results = []
    start = time.perf_counter()
    for name in args.models:
        print(f"[{time.perf_counter() - start:6.0f}s] fitting {name} ...", flush=True)
        results.append(evaluate(name, X_train, y_train, X_test, y_test, args.seed))
        print(
            f"[{time.perf_counter() - start:6.0f}s] {name}: test accuracy "
            f"{results[-1].accuracy:.4f}",
            flush=True,
        )
    print()
    print(markdown_table(results))
    print()
    print("Machine:", ", ".join(f"{k} {v}" for k, v in machine().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
