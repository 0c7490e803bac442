"""The speed and accuracy targets, as one table that only reads results.

Each target names a figure of the summary that ``benchmarks.speed`` computes
from its measurements, a comparison and a limit. Nothing here measures.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

_COMPARE = {">=": operator.ge, "<=": operator.le}


@dataclass(frozen=True)
class Target:
    """``summary[key] <compare> limit``, shown as ``what``."""

    what: str
    key: str
    compare: str
    limit: float
    unit: str = ""

    def judge(self, summary: dict) -> dict:
        """The row of the result table: measured, target and pass/fail
        (None where the figure was not measured, or not reached)."""
        measured = summary.get(self.key)
        passed = (
            None if measured is None else _COMPARE[self.compare](measured, self.limit)
        )
        return {
            "what": self.what,
            "key": self.key,
            "measured": measured,
            "unit": self.unit,
            "target": f"{self.compare} {self.limit:g}",
            "passed": passed,
        }


TARGETS = (
    Target("default CNN test accuracy, mean of the seeds", "cnn_accuracy", ">=", 0.945),
    Target("...its fit, slowest seed", "cnn_fit_s", "<=", 600, "s"),
    Target(
        "time to 0.937: today's default CNN, float32 / the new default",
        "speedup_to_0937",
        ">=",
        5,
        "x",
    ),
    Target("time to 0.926, new default (its curve)", "seconds_to_0926", "<=", 45, "s"),
    Target(
        "training images/s of the default CNN: precision 'auto' / float32",
        "precision_speedup",
        ">=",
        2.5,
        "x",
    ),
    Target("default MLP test accuracy, mean of the seeds", "mlp_accuracy", ">=", 0.905),
    Target("...its fit, slowest seed", "mlp_fit_s", "<=", 60, "s"),
    Target(
        "default CNN on a stratified 5,000-image subset", "cnn_5k_accuracy", ">=", 0.895
    ),
    Target("epochs=2 on 4,000 images", "cnn_4k_2_epochs_accuracy", ">=", 0.80),
    Target("one-row predict latency, median", "latency_ms", "<=", 1, "ms"),
    Target("predict_proba on the 10,000 test images", "predict_10k_s", "<=", 0.4, "s"),
    Target(
        "fit overhead vs plain model.fit of make_network()",
        "overhead_pct",
        "<=",
        3,
        "%",
    ),
    Target(
        "peak resident memory of a default CNN fit", "peak_rss_mib", "<=", 3072, "MiB"
    ),
)
"""The targets of the default models, in the order they are reported."""

ACCURATE_TARGETS = (
    Target("accurate configuration, test accuracy", "accurate_accuracy", ">=", 0.952),
    Target("...its fit", "accurate_fit_s", "<=", 3600, "s"),
)
"""The targets of ``--accurate``, the documented accurate configuration."""


def judge(summary: dict, targets=TARGETS) -> list[dict]:
    """One result row per target."""
    return [target.judge(summary) for target in targets]
