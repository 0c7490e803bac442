"""The results tables of the README and the docs, written from the latest runs.

``python -m benchmarks.readme`` replaces the text between the
``results:start`` and ``results:end`` markers of the README and of the docs'
benchmarks page with a table made from
``docs/benchmark_results.json`` (``python -m benchmarks`` on all the data),
``docs/speed_results.json`` (``python -m benchmarks.speed``) and
``docs/accurate_results.json`` (``python -m benchmarks.speed --accurate``), so that the
README and the docs can only show figures that a run wrote. ``--check`` fails
instead when either differs from what it would write.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from .speed import ACCURATE_CNN, format_row

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _run_line(context: dict) -> str:
    host = context["machine"]
    cpu = host.get("cpu_model") or "CPU model not recorded"
    flags = " ".join(host.get("cpu_flags", [])) or "not recorded"
    commit = host.get("commit") or "not recorded"
    return (
        f"`{context['command']}`, {context['date']}, commit {commit}: "
        f"{host['cpus']} CPUs ({cpu}; flags {flags}), "
        f"tensorflow {host['tensorflow']}, keras {host['keras']}"
    )


def _speed_rows(title: str, report: dict) -> list[str]:
    context = {
        "command": report["command"].split(":")[0],
        "date": re.search(r"\d{4}-\d\d-\d\d", report["command"]).group(),
        "machine": report["machine"],
    }
    lines = [
        f"{title}, {_run_line(context)}:",
        "",
        "| what | measured | target | |",
        "|---|---:|---|---|",
    ]
    return lines + [format_row(row) for row in report["rows"]]


def results_table(benchmark: dict, speed: dict, accurate: dict) -> str:
    """The Markdown block: models compared, then the speed targets, then the
    accurate configuration."""
    lines = [
        f"Trained on {benchmark['n_train']:,} images, scored once on "
        f"{benchmark['n_test']:,}; {_run_line(benchmark)}.",
        "",
        "| model | test accuracy | macro F1 | fit s | predict s (10k) |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in benchmark["results"]:
        lines.append(
            f"| {row['description']} | {row['accuracy']:.4f} | "
            f"{row['macro_f1']:.4f} | {row['fit_seconds']:.0f} | "
            f"{row['predict_seconds']:.2f} |"
        )
    accurate_params = ", ".join(f"{k}={v!r}" for k, v in ACCURATE_CNN.items())
    lines += ["", *_speed_rows("Speed and accuracy targets", speed)]
    lines += [
        "",
        *_speed_rows(
            f"The accurate configuration, `FashionCNNClassifier({accurate_params})`",
            accurate,
        ),
    ]
    return "\n".join(lines)


def with_results(page: str, table: str) -> str:
    """``page`` with the text between the markers replaced by ``table``."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        raise ValueError(f"the page has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{table}\n{END}", page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.readme")
    parser.add_argument("--check", action="store_true", help="only compare")
    parser.add_argument(
        "--pages",
        type=Path,
        nargs="+",
        default=[ROOT / "README.md", ROOT / "docs" / "user_guide" / "benchmarks.md"],
        help="the files whose results block to write",
    )
    parser.add_argument(
        "--benchmark", type=Path, default=ROOT / "docs" / "benchmark_results.json"
    )
    parser.add_argument(
        "--speed", type=Path, default=ROOT / "docs" / "speed_results.json"
    )
    parser.add_argument(
        "--accurate", type=Path, default=ROOT / "docs" / "accurate_results.json"
    )
    args = parser.parse_args(argv)
    table = results_table(
        *(
            json.loads(path.read_text())
            for path in (args.benchmark, args.speed, args.accurate)
        )
    )
    stale = False
    for page in args.pages:
        text = page.read_text()
        new = with_results(text, table)
        if new == text:
            continue
        if args.check:
            print(f"{page} is stale: run python -m benchmarks.readme")
            stale = True
        else:
            page.write_text(new)
            print(f"wrote the results table into {page}")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
