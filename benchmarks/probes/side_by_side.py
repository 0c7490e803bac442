"""Test accuracy and fit time of two configurations, fitted in turn.

``python -m benchmarks.probes.side_by_side --a '{"epochs": 36}' --b '{}'``
fits configuration A and then B for each seed (0, 1, 2 by default), each in
a fresh process, on the full training set, and scores each once on the test
set. It prints every fit's accuracy and seconds, and B's fit time over A's
pair by pair: on a machine whose speed wanders, only a ratio of neighbouring
fits means much. Run it only for final configurations; choose them on
held-out images (``benchmarks.probes.held_out``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from fashion_estimators import registry

from ..harness import machine
from ..speed import in_fresh_process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probes.side_by_side")
    parser.add_argument("--model", choices=list(registry.ESTIMATORS), default="cnn")
    parser.add_argument("--a", default="{}", help="configuration A, as JSON")
    parser.add_argument("--b", default="{}", help="configuration B, as JSON")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, help="training images (default: all)")
    parser.add_argument("--out", type=Path, help="write every figure here, as JSON")
    args = parser.parse_args(argv)
    sides = {"a": json.loads(args.a), "b": json.loads(args.b)}
    runs: dict[str, list[dict]] = {"a": [], "b": []}
    for seed in range(args.seeds):
        for side, params in sides.items():
            run = in_fresh_process(
                "fit_and_score",
                model=args.model,
                params={**params, "random_state": seed},
                n_train=args.n_train,
            )
            runs[side].append(run)
    ratios = [
        b["fit_seconds"] / a["fit_seconds"] for a, b in zip(*runs.values(), strict=True)
    ]
    print(f"\n{'seed':>4} {'A acc':>7} {'A s':>7} {'B acc':>7} {'B s':>7} {'B/A':>6}")
    for seed, (a, b, ratio) in enumerate(
        zip(runs["a"], runs["b"], ratios, strict=True)
    ):
        print(
            f"{seed:>4} {a['accuracy']:7.4f} {a['fit_seconds']:7.0f} "
            f"{b['accuracy']:7.4f} {b['fit_seconds']:7.0f} {ratio:6.2f}"
        )
    means = {side: statistics.fmean(r["accuracy"] for r in runs[side]) for side in runs}
    print(
        f"mean accuracy A {means['a']:.4f}, B {means['b']:.4f}; "
        f"fit time B/A, median of the pairs {statistics.median(ratios):.2f}"
    )
    if args.out:
        report = {
            "command": " ".join(
                ["python -m benchmarks.probes.side_by_side", *(argv or sys.argv[1:])]
            ),
            "machine": machine(),
            "sides": sides,
            "runs": runs,
            "ratios": ratios,
        }
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
