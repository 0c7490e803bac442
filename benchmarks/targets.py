"""Every target of the benchmarks, in one table that only reads results.

Each target names a figure of the summary that ``benchmarks.speed`` or
``benchmarks.parallel`` computes from its measurements, a comparison and a
limit; a target without a comparison is reported only. Nothing here
measures. Each row is judged PASS or FAIL, in one vocabulary for every run.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

_COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


@dataclass(frozen=True)
class Target:
    """``summary[key] <compare> limit``, shown as ``what``; ``compare`` None
    reports the figure without judging it."""

    what: str
    key: str
    compare: str | None
    limit: float | bool | None = None
    unit: str = ""

    def judge(self, summary: dict) -> dict:
        """The row of the result table: measured, target and pass/fail
        (None where the figure was not measured, not reached, or is only
        reported)."""
        measured = summary.get(self.key)
        passed = (
            None
            if measured is None or self.compare is None
            else bool(_COMPARE[self.compare](measured, self.limit))
        )
        if self.compare is None:
            target = "(reported)"
        elif isinstance(self.limit, bool):
            target = f"{self.compare} {self.limit}"
        else:
            target = f"{self.compare} {self.limit:g}"
        return {
            "what": self.what,
            "key": self.key,
            "measured": measured,
            "unit": self.unit,
            "target": target,
            "passed": passed,
        }


def format_row(row: dict) -> str:
    """One judged target as a Markdown table row: what, measured, target,
    PASS/FAIL (or "-" when the figure was not reached or is reported only)."""
    measured, unit = row["measured"], row["unit"]
    if measured is None:
        value = "not reached"
    elif isinstance(measured, bool) or not isinstance(measured, float):
        value = f"{measured} {unit}"
    else:
        value = f"{measured:.4g} {unit}"
    target = (
        row["target"] if row["target"] == "(reported)" else f"{row['target']} {unit}"
    )
    verdict = {True: "PASS", False: "FAIL", None: "-"}[row["passed"]]
    return f"| {row['what']} | {value.strip()} | {target.strip()} | {verdict} |"


TABLE_HEAD = ("| what | measured | target | |", "|---|---:|---|---|")
"""The head of a table of judged targets, in Markdown."""


def table(rows: list[dict]) -> str:
    """Judged targets as a Markdown table, head included."""
    return "\n".join([*TABLE_HEAD, *(format_row(row) for row in rows)])


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
    Target(
        "accurate configuration, test accuracy, mean of the seeds",
        "accurate_accuracy",
        ">=",
        0.950,
    ),
    Target(
        "...its fit time / the default CNN's of 2026-12-04, side by side",
        "accurate_fit_ratio",
        "<=",
        4,
        "x",
    ),
    Target("...its fit, slowest seed", "accurate_fit_s", None, unit="s"),
)
"""The targets of ``--accurate``, the documented accurate configuration."""


def judge(summary: dict, targets=TARGETS) -> list[dict]:
    """One result row per target."""
    return [target.judge(summary) for target in targets]


PARALLEL_TARGETS = (
    Target(
        "2 one-thread workers vs serial at 1 TF thread",
        "scaling_vs_serial_1_thread",
        ">=",
        1.8,
        "x",
    ),
    Target(
        "same cluster vs serial, TF default threads",
        "speedup_vs_serial_default_threads",
        None,
        unit="x",
    ),
    Target("same cluster vs loky n_jobs=2", "speedup_vs_loky_2", None, unit="x"),
    Target(
        "per-split scores = serial at 1 TF thread",
        "identical_to_serial_1_thread",
        "==",
        True,
    ),
    Target("two cluster runs identical", "two_cluster_runs_identical", "==", True),
    Target(
        "a worker SIGKILLed mid-fit: same cv_results_, worker back",
        "killed_worker_survived",
        "==",
        True,
    ),
    Target(
        "worker RSS growth per fit (100 fits)",
        "max_growth_mib_per_fit",
        "<=",
        12,
        "MiB",
    ),
    Target("workers over their memory limit", "workers_over_limit", "==", 0),
    Target("worker processes left 10 s after", "processes_left", "==", 0),
    Target("CPU-s per wall-s of a worker, 1 TF thread", "max_cpu_per_wall", "<=", 1.15),
    Target(
        "largest per-split score difference, 1 vs default TF threads",
        "max_score_difference_vs_default_threads",
        None,
    ),
)
"""The targets of ``benchmarks.parallel``, the grid search on a Dask cluster."""

SERVING_TARGETS = (
    Target(
        "inference in the service's runtime (onnxruntime), one row",
        "inference_ms_per_row",
        "<=",
        1,
        "ms",
    ),
    Target(
        "...Keras predict_proba, one row, for comparison",
        "keras_ms_per_row",
        None,
        unit="ms",
    ),
    Target(
        "28x28 PNG uploads at 16 clients, batching on", "png_rps", ">=", 500, "req/s"
    ),
    Target("...p50 latency", "png_p50_ms", None, unit="ms"),
    Target("...p99 latency", "png_p99_ms", "<=", 100, "ms"),
    Target("...errors", "png_errors", "==", 0),
    Target("...requests answered", "png_requests", None),
    Target("...server memory growth over the run", "png_growth_mib", "<=", 50, "MiB"),
    Target("28x28 PNG uploads, batching off", "png_rps_unbatched", None, unit="req/s"),
    Target("...p99 latency", "png_p99_ms_unbatched", None, unit="ms"),
    Target("400x300 JPEG photos at 16 clients", "jpeg_rps", None, unit="req/s"),
    Target("...p50 latency", "jpeg_p50_ms", None, unit="ms"),
    Target("...p99 latency", "jpeg_p99_ms", None, unit="ms"),
    Target("...errors", "jpeg_errors", "==", 0),
    Target("...server memory growth", "jpeg_growth_mib", "<=", 50, "MiB"),
    Target("service start, until it listens", "listen_s", None, unit="s"),
    Target("...until GET /ready answers 200", "start_s", None, unit="s"),
    Target(
        "28x28 PNG uploads, the --baseline commit's service",
        "png_rps_baseline",
        None,
        unit="req/s",
    ),
    Target("...p99 latency", "png_p99_ms_baseline", None, unit="ms"),
    Target(
        "...this service against it, side by side (metrics cost <= 5 %)",
        "png_rps_vs_baseline",
        ">=",
        0.95,
        "x",
    ),
)
"""The targets of ``benchmarks.serving``, the model service under load."""
