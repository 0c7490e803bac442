"""Resident memory over many fits in one process: ours against plain Keras.

``python -m benchmarks.memory`` fits a small CNN ``--fits`` times on 600 real
images through ``FashionCNNClassifier`` (with ``--plain-keras``: the same
network, from ``make_network``, with plain ``model.fit``) and prints the
resident set size after fit 5 and after the last. Run it both ways, each in
its own process, to compare.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fashion_estimators import (  # noqa: E402
    CHANNEL_SHAPE,
    FashionCNNClassifier,
    fetch_fashion_mnist,
    stratified_subset,
)

SMALL = dict(filters=(8,), dense_units=16)

_SETTLED = 5
"""Fits after which TensorFlow's one-off allocations are done; growth is
counted from there."""


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _ours(X, y):
    FashionCNNClassifier(
        **SMALL, epochs=2, batch_size=64, validation_fraction=0, random_state=0
    ).fit(X, y).predict(X)


def _plain_keras(X, y):
    model = FashionCNNClassifier(**SMALL).make_network()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    images = X.reshape(-1, *CHANNEL_SHAPE).astype("float32")
    model.fit(images, y, epochs=2, batch_size=64, verbose=0)
    model.predict_on_batch(images)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--fits", type=int, default=25)
    parser.add_argument("--plain-keras", action="store_true", help="no wrapper")
    args = parser.parse_args(argv)
    if args.fits <= _SETTLED:
        parser.error(
            f"--fits must be above {_SETTLED}: the growth per fit is measured "
            f"from fit {_SETTLED} to the last"
        )
    X, y = fetch_fashion_mnist("test", return_X_y=True)
    X, y = stratified_subset(X, y, 600)
    fit = _plain_keras if args.plain_keras else _ours
    first = None
    for i in range(1, args.fits + 1):
        fit(X, y)
        if i == _SETTLED:
            first = rss_mb()
    last = rss_mb()
    name = "plain Keras" if args.plain_keras else "FashionCNNClassifier"
    print(
        f"{name}: RSS after fit {_SETTLED} {first:.0f} MiB, after fit {args.fits} "
        f"{last:.0f} MiB, {(last - first) / (args.fits - _SETTLED):.1f} MiB per fit"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
