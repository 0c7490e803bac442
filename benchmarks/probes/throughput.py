"""Training throughput of the CNN's network, oneDNN on and off, by variant.

``python -m benchmarks.probes.throughput`` trains, with plain ``model.fit``
on random images, the network of ``FashionCNNClassifier(...).make_network()``
with and without BatchNorm, in float32 and mixed bfloat16, and with XLA
(``jit_compile=True``), each in a fresh process with TensorFlow's oneDNN
kernels off (``TF_ENABLE_ONEDNN_OPTS=0``) and on, alternated over
``--rounds`` rounds. It prints training images per second of each, after a
warm-up epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ..harness import answer_child, run_child

VARIANTS = {
    "with BatchNormalization": {"batch_norm": True},
    "without (He init, biases)": {"batch_norm": False},
    "without, mixed bfloat16": {"batch_norm": False, "precision": "bfloat16"},
    "with BatchNorm, XLA": {"batch_norm": True, "jit_compile": True},
    "without, XLA": {"batch_norm": False, "jit_compile": True},
}


def _child(spec: dict) -> dict:
    import numpy as np

    from fashion_estimators import FashionCNNClassifier

    params = dict(spec["params"])
    jit = params.pop("jit_compile", False)
    model = FashionCNNClassifier(augment=None, **params).make_network(seed=0)
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit
    )
    rng = np.random.default_rng(0)
    n = spec["images"]
    X = rng.integers(0, 256, (n, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, n)
    model.fit(X, y, batch_size=256, epochs=1, verbose=0)  # traces the graph
    start = time.perf_counter()
    model.fit(X, y, batch_size=256, epochs=spec["epochs"], verbose=0)
    return {"images_per_s": n * spec["epochs"] / (time.perf_counter() - start)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes.throughput")
    parser.add_argument("--images", type=int, default=10_240)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return answer_child(_child(json.loads(args.child)))
    measured: dict = {}
    for _ in range(args.rounds):
        for name in args.variants:
            for onednn in ("0", "1"):
                spec = {
                    "params": VARIANTS[name],
                    "images": args.images,
                    "epochs": args.epochs,
                }
                env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
                run = run_child("benchmarks.probes.throughput", [json.dumps(spec)], env)
                measured.setdefault((name, onednn), []).append(run["images_per_s"])
    print(
        f"{args.images} random images, {args.epochs} epochs, batch 256; "
        f"{os.cpu_count()} CPUs, {sys.version.split()[0]}\n"
    )
    print("| network | oneDNN off, img/s | oneDNN on, img/s |\n|---|---:|---:|")
    for name in args.variants:
        cells = [
            ", ".join(f"{v:,.0f}" for v in measured[(name, onednn)])
            for onednn in ("0", "1")
        ]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
