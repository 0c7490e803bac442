"""Which oneDNN kernels one training step runs, and what each costs.

``python -m benchmarks.probes.kernels`` trains the default CNN network (or the one
``--params`` describes) on one batch of random images, ``--repeats`` times, in
a fresh process per precision with ``ONEDNN_VERBOSE=1``, and adds up the time
oneDNN reports for each kernel. With ``--predict`` it times prediction of the
batch instead (``predict_on_batch``, test-time flips included, as
``predict_proba`` runs it). A kernel is named by its primitive, its
direction (forward, backward to the data, backward to the weights) and its
shape, which tells the layer. What the kernels leave of the whole step is
TensorFlow's own work: its Eigen ops (ReLU, dropout, the optimizer's update)
and its executor. That remainder can come out negative in training, where
TensorFlow runs independent kernels side by side (a convolution's two
backward passes, say), so their times overlap. The whole step is timed in the
same process, so it includes the small cost of oneDNN's logging.

Complements ``benchmarks.probes.breakdown``, which times each layer's forward and
backward pass from outside.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable

from ..harness import child_output

BEGIN, END = "kernels: begin", "kernels: end"
"""Lines the child prints around the timed steps, so that the kernels of
building, compiling and warming up the network are left out."""

_DIRECTIONS = {
    "forward_training": "forward",
    "forward_inference": "forward",
    "backward_data": "backward, data",
    "backward_weights": "backward, weights",
    "backward": "backward",
}


def parse_verbose(lines: Iterable[str]) -> dict[tuple[str, str, str], dict]:
    """Milliseconds and calls per kernel, from ``ONEDNN_VERBOSE=1`` output.

    Only ``exec`` lines between the child's begin and end markers count.
    Returns ``{(primitive, direction, shape): {"ms", "calls", "impl"}}``.
    """
    kernels: dict[tuple[str, str, str], dict] = defaultdict(
        lambda: {"ms": 0.0, "calls": 0, "impl": ""}
    )
    timed = False
    for line in lines:
        line = line.strip()
        if line in (BEGIN, END):
            timed = line == BEGIN
            continue
        fields = line.split(",")
        if not timed or not line.startswith("onednn_verbose") or "exec" not in fields:
            continue
        # onednn_verbose,v1,primitive,exec,cpu,<primitive>,<impl>,<prop_kind>,
        # <memory descriptors>,<attributes>,<algorithm>,<shape>,<ms>
        at = fields.index("exec")
        primitive, impl, kind = fields[at + 2 : at + 5]
        key = (primitive, _DIRECTIONS.get(kind, ""), fields[-2])
        kernels[key]["ms"] += float(fields[-1])
        kernels[key]["calls"] += 1
        kernels[key]["impl"] = impl
    return dict(kernels)


def _child(
    params: dict, precision: str, batch_size: int, repeats: int, predict: bool
) -> None:
    """Time ``repeats`` training steps (or predictions) between the markers;
    print their mean in milliseconds as JSON last."""
    from fashion_estimators import CHANNEL_SHAPE, PIXEL_MAX, FashionCNNClassifier

    # isort: split
    import numpy as np

    rng = np.random.default_rng(0)
    shape = (batch_size, *CHANNEL_SHAPE)
    images = rng.integers(0, PIXEL_MAX + 1, shape).astype("float32")
    labels = rng.integers(0, 10, batch_size)
    model = FashionCNNClassifier(**params, precision=precision).make_network(seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def step():
        if predict:
            model.predict_on_batch(images)
        else:
            model.train_on_batch(images, labels)

    for _ in range(3):
        step()
    times = []
    print(BEGIN, flush=True)
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(END, flush=True)
    print(json.dumps({"step_ms": statistics.fmean(times) * 1e3}), flush=True)


def kernel_times(
    params: dict, precision: str, batch_size: int, repeats: int, predict: bool = False
) -> dict:
    """The kernels of one training step (or prediction) and the whole step, in
    milliseconds (means over ``repeats`` steps), measured in a fresh process."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    spec = json.dumps([params, precision, batch_size, repeats, predict])
    out = child_output("benchmarks.probes.kernels", [spec], env).splitlines()
    kernels = [
        {
            "primitive": primitive,
            "direction": direction,
            "shape": shape,
            "impl": value["impl"],
            "calls": value["calls"] / repeats,
            "ms": value["ms"] / repeats,
        }
        for (primitive, direction, shape), value in parse_verbose(out).items()
    ]
    kernels.sort(key=lambda kernel: -kernel["ms"])
    step_ms = json.loads(out[-1])["step_ms"]
    return {"precision": precision, "step_ms": step_ms, "kernels": kernels}


def _print_table(runs: list[dict]) -> None:
    by_kernel = defaultdict(dict)
    for run in runs:
        for kernel in run["kernels"]:
            key = (kernel["primitive"], kernel["direction"], kernel["shape"])
            by_kernel[key][run["precision"]] = kernel["ms"]
    names = [run["precision"] for run in runs]
    print("| kernel | shape | " + " | ".join(f"{n} ms" for n in names) + " |")
    print("|---|---|" + "---:|" * len(runs))
    order = sorted(by_kernel, key=lambda key: -max(by_kernel[key].values()))
    for primitive, direction, shape in order:
        ms = by_kernel[primitive, direction, shape]
        cells = " | ".join(f"{ms[n]:.2f}" if n in ms else "" for n in names)
        kind = f"{primitive}, {direction}" if direction else primitive
        print(f"| {kind} | {shape} | {cells} |")
    total = [sum(kernel["ms"] for kernel in run["kernels"]) for run in runs]
    rest = [run["step_ms"] - t for run, t in zip(runs, total, strict=True)]
    steps = [run["step_ms"] for run in runs]
    print("| **all oneDNN kernels** | | " + _cells(total, "**{:.2f}**"))
    print(
        "| the step less the kernels (TensorFlow's own ops) | | "
        + _cells(rest, "{:.2f}")
    )
    print("| **whole step** | | " + _cells(steps, "**{:.2f}**"))


def _cells(values: list[float], form: str) -> str:
    return " | ".join(form.format(value) for value in values) + " |"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(*json.loads(argv[1]))
        return 0
    from .breakdown import step_batch_size, step_parser

    parser = step_parser("python -m benchmarks.probes.kernels")
    parser.add_argument(
        "--predict", action="store_true", help="time prediction, not training"
    )
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    batch_size = step_batch_size(args, params)
    runs = [
        kernel_times(params, precision, batch_size, args.repeats, args.predict)
        for precision in args.precisions
    ]
    what = "prediction" if args.predict else "training step"
    print(
        f"oneDNN kernels of one {what} of FashionCNNClassifier({params}), "
        f"batch {batch_size}, mean of {args.repeats}\n"
    )
    _print_table(runs)
    if args.out:
        with open(args.out, "w") as f:
            figures = {"params": params, "batch_size": batch_size, "runs": runs}
            json.dump({**figures, "predict": args.predict}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
