"""One-row predict latency: our classifier against plain scikeras.

``python -m benchmarks.latency`` fits the default CNN network twice on the same
1,000 real images, once through ``FashionCNNClassifier`` and once through a
plain scikeras ``KerasClassifier`` (whose predict goes through
``model.predict``), then times ``predict`` on one row, many times over.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402

from fashion_estimators import (  # noqa: E402
    CHANNEL_SHAPE,
    FashionCNNClassifier,
    fetch_fashion_mnist,
)


def _plain_scikeras() -> KerasClassifier:
    def model():
        network = FashionCNNClassifier().make_network()
        network.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return network

    return KerasClassifier(model=model, epochs=1, batch_size=128, verbose=0)


def one_row_latency(predict, rows: np.ndarray, repeats: int) -> list[float]:
    """Seconds per call of ``predict`` on one row, after two warm-up calls."""
    predict(rows[:1])
    predict(rows[1:2])
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        predict(rows[i % len(rows)][None])
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X_test, _ = fetch_fashion_mnist("test", return_X_y=True)
    X, y = X[:1000], y[:1000]
    ours = FashionCNNClassifier(epochs=1, validation_fraction=0, random_state=0)
    ours.fit(X, y)
    plain = _plain_scikeras()
    plain.fit(X.reshape(-1, *CHANNEL_SHAPE).astype("float32"), y)

    rows = X_test[:100]
    plain_rows = rows.reshape(-1, *CHANNEL_SHAPE).astype("float32")
    print(f"Median one-row predict latency over {args.repeats} calls:")
    for name, predict, data in (
        ("FashionCNNClassifier", ours.predict, rows),
        ("plain scikeras KerasClassifier", plain.predict, plain_rows),
    ):
        times = one_row_latency(predict, data, args.repeats)
        print(
            f"  {name:32s} {statistics.median(times) * 1e3:7.2f} ms"
            f"  (p90 {np.percentile(times, 90) * 1e3:.2f} ms)"
        )
    print(f"keras {keras.__version__}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
