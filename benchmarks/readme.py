"""The results blocks of the README and the docs, written from the latest runs.

``python -m benchmarks.readme`` writes two blocks from the results files in
``docs/`` (``benchmark_results.json``: ``python -m benchmarks`` on all the
data; ``speed_results.json``: ``python -m benchmarks.speed``;
``accurate_results.json``: ``python -m benchmarks.speed --accurate``):

* the *results* block of the README and of the benchmarks page, for users:
  what each model scores and how long it takes, the speed figures a user
  meets, on which machine and when, and a plot of accuracy against fit time
  (``docs/benchmark_accuracy_vs_fit_time.png``);
* the *targets* block of the performance page: every target with what was
  measured, PASS or FAIL.

The pages can only show figures a run wrote. ``--check`` fails instead when a
block differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from .targets import table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PLOT = DOCS / "benchmark_accuracy_vs_fit_time.png"
RESULTS, TARGETS = "results", "targets"
PAGES = {
    ROOT / "README.md": RESULTS,
    DOCS / "user_guide" / "benchmarks.md": RESULTS,
    DOCS / "performance.md": TARGETS,
}
"""Each page with a generated block, and which block it holds; a page given
with ``--pages`` is taken for the one of its name (a copy elsewhere is checked
as its original)."""

# the figures of the speed run a user meets, in the README's words
USER_SPEED = {
    "cnn_fit_s": "fit of the default CNN on 60,000 images (slowest of 3 seeds)",
    "mlp_fit_s": "fit of the default MLP on 60,000 images (slowest of 3 seeds)",
    "latency_ms": "one-row `predict` of the default CNN (median)",
    "predict_10k_s": "`predict_proba` of the default CNN on 10,000 images, best of 5",
    "peak_rss_mib": "peak memory of a default CNN fit",
}


def _command(command: str) -> str:
    """A run's command as a user would type it: without ``--out``, whose
    folder was only where that run wrote."""
    command = command.split(":")[0]
    return re.sub(r"\s--out\s+\S+", "", command).strip()


def _machine(host: dict) -> str:
    cpu = host.get("cpu_model") or "CPU model unknown"
    flags = " ".join(host.get("cpu_flags", []))
    commit = host.get("commit")
    return (
        f"{host['cpus']} CPUs ({cpu}{'; flags ' + flags if flags else ''}), "
        f"tensorflow {host['tensorflow']}, keras {host['keras']}"
        + (f", commit {commit}" if commit else "")
    )


def _date(report: dict) -> str:
    return report.get("date") or re.search(r"\d{4}-\d\d-\d\d", report["command"]).group(
        0
    )


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.2f} s"


def _measured(row: dict) -> str:
    value, unit = row["measured"], row["unit"]
    return "not reached" if value is None else f"{value:.4g} {unit}".strip()


def results_block(benchmark: dict, speed: dict, plot: str) -> str:
    """For users: the models compared, the speed figures, the plot at the
    relative path ``plot``."""
    lines = [
        f"Trained on {benchmark['n_train']:,} images and scored once on the "
        f"{benchmark['n_test']:,} test images by `{_command(benchmark['command'])}`, "
        f"{_date(benchmark)}: {_machine(benchmark['machine'])}.",
        "",
        "| model | test accuracy | macro F1 | fit time "
        "| predict time (10,000 images, one call) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in benchmark["results"]:
        lines.append(
            f"| {row['description']} | {row['accuracy']:.4f} | "
            f"{row['macro_f1']:.4f} | {_seconds(row['fit_seconds'])} | "
            f"{_seconds(row['predict_seconds'])} |"
        )
    rows = {row["key"]: row for row in speed["rows"]}
    lines += [
        "",
        f"![Test accuracy against fit time of every model]({plot})",
        "",
        f"Speed of the default models, `{_command(speed['command'])}`, "
        f"{_date(speed)}: {_machine(speed['machine'])}.",
        "",
        "| what | measured |",
        "|---|---:|",
    ]
    lines += [
        f"| {what} | {_measured(rows[key])} |" for key, what in USER_SPEED.items()
    ]
    return "\n".join(lines)


def targets_block(speed: dict, accurate: dict) -> str:
    """For the team: every target, what was measured, PASS or FAIL."""
    params = accurate["results"].get("params")
    measured = (
        "The accurate configuration of its run (a run before 2026-12-05 did not "
        "record its parameters)"
        if params is None
        else "The accurate configuration, `FashionCNNClassifier("
        + ", ".join(f"{k}={v!r}" for k, v in params.items())
        + ")`"
    )
    lines = []
    for title, report in (
        ("Speed and accuracy targets", speed),
        (measured, accurate),
    ):
        lines += [
            f"{title}, `{_command(report['command'])}`, {_date(report)}: "
            f"{_machine(report['machine'])}:",
            "",
            table(report["rows"]),
            "",
        ]
    return "\n".join(lines).rstrip("\n")


def _markers(block: str) -> tuple[str, str]:
    return f"<!-- {block}:start -->", f"<!-- {block}:end -->"


def with_block(page: str, block: str, text: str) -> str:
    """``page`` with the text between ``block``'s markers replaced by ``text``."""
    start, end = _markers(block)
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(page):
        raise ValueError(f"the page has no {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{text}\n{end}", page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme")
    parser.add_argument("--check", action="store_true", help="only compare")
    parser.add_argument(
        "--pages",
        type=Path,
        nargs="+",
        default=list(PAGES),
        help="the files whose blocks to write (a page not named in PAGES holds "
        "the results block)",
    )
    for name in ("benchmark", "speed", "accurate"):
        parser.add_argument(
            f"--{name}", type=Path, default=DOCS / f"{name}_results.json"
        )
    args = parser.parse_args(argv)
    benchmark, speed, accurate = (
        json.loads(path.read_text())
        for path in (args.benchmark, args.speed, args.accurate)
    )
    stale = False
    originals = {path.name: path for path in PAGES}
    for page in args.pages:
        original = originals.get(page.name, page.resolve())
        block = PAGES.get(original, RESULTS)
        if block == RESULTS:
            plot = Path(os.path.relpath(PLOT, original.parent)).as_posix()
            text = results_block(benchmark, speed, plot)
        else:
            text = targets_block(speed, accurate)
        old = page.read_text()
        new = with_block(old, block, text)
        if new == old:
            continue
        if args.check:
            print(f"{page} is stale: run python -m benchmarks.readme")
            stale = True
        else:
            page.write_text(new)
            print(f"wrote the {block} block into {page}")
    if not args.check:
        from .report import plot_accuracy_vs_fit_time

        figure = plot_accuracy_vs_fit_time(
            benchmark["results"],
            f"{benchmark['n_train']:,} training images, {benchmark['n_test']:,} "
            f"test images, {_date(benchmark)}",
        )
        figure.savefig(PLOT, dpi=110)
        print(f"wrote {PLOT}")
    elif not PLOT.exists():
        print(f"{PLOT} is missing: run python -m benchmarks.readme")
        stale = True
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
