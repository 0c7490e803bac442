"""Serving an exported model: onnxruntime against ``predict_proba``.

``python -m benchmarks.serving`` trains the default CNN one epoch on 2,000
real images (test-time flips included, as the default has them), exports it
to ONNX and times, on the real test set, the median one-row call and the best
of several 10,000-image calls of each side, alternated. It needs the
``[export]`` extra and onnxruntime (both in ``[test]``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402

from fashion_estimators import (  # noqa: E402
    CHANNEL_SHAPE,
    FashionCNNClassifier,
    export,
    fetch_fashion_mnist,
)

from .latency import one_row_latency  # noqa: E402


def measure(repeats: int, batches: int, precision: str) -> dict:
    X, y = fetch_fashion_mnist("train", return_X_y=True)
    X_test, _ = fetch_fashion_mnist("test", return_X_y=True)
    clf = FashionCNNClassifier(epochs=1, precision=precision, random_state=0)
    clf.fit(X[:2000], y[:2000])
    with tempfile.TemporaryDirectory() as folder:
        session = onnxruntime.InferenceSession(str(export(clf, Path(folder, "m.onnx"))))
    name = session.get_inputs()[0].name

    def onnx_proba(rows):
        images = np.asarray(rows, dtype="float32").reshape(-1, *CHANNEL_SHAPE)
        return session.run(None, {name: images})[0]

    sides = {"predict_proba": clf.predict_proba, "onnxruntime": onnx_proba}
    result: dict = {"precision": clf.precision_}
    for side, call in sides.items():
        times = one_row_latency(call, X_test[:200], repeats)
        result[f"{side}_one_row_ms"] = statistics.median(times) * 1e3
    runs: dict = {side: [] for side in sides}
    for _ in range(batches):  # alternated, best of each
        for side, call in sides.items():
            start = time.perf_counter()
            call(X_test)
            runs[side].append(time.perf_counter() - start)
    for side, seconds in runs.items():
        result[f"{side}_10k_s"] = min(seconds)
    onnx, ours = onnx_proba(X_test), clf.predict_proba(X_test)
    result["max_abs_difference"] = float(np.abs(onnx - ours).max())
    result["argmax_agreement"] = float(np.mean(onnx.argmax(1) == ours.argmax(1)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serving")
    parser.add_argument("--repeats", type=int, default=200, help="one-row calls")
    parser.add_argument("--batches", type=int, default=5, help="10k-image calls")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    result = measure(args.repeats, args.batches, args.precision)
    print(f"default CNN ({result['precision']}), {os.cpu_count()} CPUs")
    print("| | predict_proba | onnxruntime |\n|---|---:|---:|")
    for what, key, unit in (
        ("one row, median", "one_row_ms", "ms"),
        ("10,000 images, best", "10k_s", "s"),
    ):
        ours, onnx = result[f"predict_proba_{key}"], result[f"onnxruntime_{key}"]
        print(f"| {what} | {ours:.3g} {unit} | {onnx:.3g} {unit} |")
    print(
        f"largest probability difference {result['max_abs_difference']:.2g}, "
        f"argmax agreement {result['argmax_agreement']:.4f}"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
