"""Training throughput of the CNN's network, oneDNN on and off, by variant.

``python -m benchmarks.probes.throughput`` trains, with plain ``model.fit``
on random images, the network of ``FashionCNNClassifier(...).make_network()``
for each variant (BatchNorm fused or Keras' own, two convolutions a block,
a ResNet; with XLA, ``jit_compile=True``), each in a fresh process with
TensorFlow's oneDNN kernels off (``TF_ENABLE_ONEDNN_OPTS=0``) and on
(``--onednn on`` skips the slow "off" runs), alternated over ``--rounds``
rounds, in ``--precision`` (the variant's own, else "auto"). It prints
training images per second of each, after a warm-up epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ..harness import answer_child, run_child
from ..networks import keras_batch_norm_network

_TWO_CONV = {"filters": [16, [32, 32], [64, 64]]}
VARIANTS = {
    "with BatchNormalization": {"batch_norm": True},
    "without (He init, biases)": {"batch_norm": False},
    "without, mixed bfloat16": {"batch_norm": False, "precision": "bfloat16"},
    "with BatchNorm, XLA": {"batch_norm": True, "jit_compile": True},
    "without, XLA": {"batch_norm": False, "jit_compile": True},
    "with Keras' BatchNormalization": {"batch_norm": True, "keras_batch_norm": True},
    "two-conv blocks, BatchNorm": {**_TWO_CONV, "batch_norm": True},
    "two-conv blocks, Keras' BatchNormalization": {
        **_TWO_CONV,
        "batch_norm": True,
        "keras_batch_norm": True,
    },
    "two-conv blocks, without": {**_TWO_CONV, "batch_norm": False},
    "ResNet-20": {"architecture": "resnet", "filters": [16, 32, 64], "depth": 20},
}
"""Each variant's parameters of FashionCNNClassifier; ``jit_compile`` compiles
with XLA, and ``keras_batch_norm`` builds the same network from Keras' own
Conv2D and BatchNormalization layers instead of the package's fused ones."""


def _child(spec: dict) -> dict:
    import numpy as np

    from fashion_estimators import FashionCNNClassifier

    params = dict(spec["params"])
    jit = params.pop("jit_compile", False)
    if params.pop("keras_batch_norm", False):
        params["network"] = keras_batch_norm_network(
            FashionCNNClassifier(**params).filters_for_architecture()
        )
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
    parser.add_argument("--onednn", choices=["both", "on"], default="both")
    parser.add_argument(
        "--precision", choices=["auto", "float32", "bfloat16"], default=None
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return answer_child(_child(json.loads(args.child)))
    measured: dict = {}
    settings = ("0", "1") if args.onednn == "both" else ("1",)
    chosen = {"precision": args.precision} if args.precision else {}
    for _ in range(args.rounds):
        for name in args.variants:
            for onednn in settings:
                spec = {
                    "params": {**VARIANTS[name], **chosen},
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
    heads = {"0": "oneDNN off, img/s", "1": "oneDNN on, img/s"}
    print(f"| network | {' | '.join(heads[o] for o in settings)} |")
    print(f"|---|{'---:|' * len(settings)}")
    for name in args.variants:
        cells = [
            ", ".join(f"{v:,.0f}" for v in measured[(name, onednn)])
            for onednn in settings
        ]
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
