"""Presenting results: Markdown, JSON, CSV, a confusion matrix and the machine."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

from fashion_estimators import CLASS_NAMES

from .run import Result


def _cell(result: Result, metric: str, fmt: str) -> str:
    text = format(result.mean(metric), fmt)
    if len(result.seeds) > 1:
        text += " ± " + format(result.std(metric), fmt)
    return text


def markdown_table(results: list[Result]) -> str:
    """One row per model; mean ± std over seeds where a model ran several."""
    lines = [
        "| model | test accuracy | macro F1 | fit s | predict s | predict images/s "
        "| trainable parameters | seeds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        params = "n/a" if r.parameters is None else f"{r.parameters:,}"
        lines.append(
            f"| {r.model} | {_cell(r, 'accuracy', '.4f')} "
            f"| {_cell(r, 'macro_f1', '.4f')} | {_cell(r, 'fit_seconds', '.1f')} "
            f"| {_cell(r, 'predict_seconds', '.2f')} "
            f"| {_cell(r, 'images_per_second', ',.0f')} | {params} "
            f"| {len(r.seeds)} |"
        )
    return "\n".join(lines)


def best(results: list[Result]) -> Result:
    """The model with the highest mean test accuracy."""
    return max(results, key=lambda r: r.mean("accuracy"))


def plot_accuracy_vs_fit_time(summaries: list[dict], title: str):
    """Test accuracy against fit time, one labelled point per model, from the
    rows of a results file (``Result.summary()``)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(8, 5))
    below = None  # a label goes under its point when another sits just above
    for row in sorted(summaries, key=lambda r: -r["accuracy"]):
        x, y = row["fit_seconds"], row["accuracy"]
        below = below is not None and below[0] - y < 0.01 and not below[1]
        ax.scatter(x, y, s=40)
        ax.annotate(
            row["description"].split("(")[0],
            (x, y),
            textcoords="offset points",
            xytext=(0, -13 if below else 7),
            ha="center",
            fontsize=9,
        )
        below = (y, below)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.margins(x=0.15, y=0.12)
    ax.set_xlabel("fit time, seconds (log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_outputs(out: Path, results: list[Result], y_test, context: dict) -> dict:
    """Write results.json, results.csv, the best model's confusion matrix (PNG),
    test accuracy against fit time (PNG) and the best model's per-class report;
    return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    summaries = [r.summary() for r in results]
    paths = {
        "json": out / "results.json",
        "csv": out / "results.csv",
        "confusion_matrix": out / "confusion_matrix.png",
        "accuracy_vs_fit_time": out / "accuracy_vs_fit_time.png",
        "classification_report": out / "classification_report.txt",
    }
    paths["json"].write_text(
        json.dumps({**context, "results": summaries}, indent=2) + "\n"
    )
    table = pd.DataFrame(
        [{k: v for k, v in s.items() if k != "runs"} for s in summaries]
    )
    table["seeds"] = table["seeds"].map(lambda s: " ".join(map(str, s)))
    for column in ("parameters", "total_parameters"):
        table[column] = table[column].astype("Int64")  # n/a stays empty
    table.to_csv(paths["csv"], index=False)

    winner = best(results)
    fig, ax = plt.subplots(figsize=(9, 8))
    ConfusionMatrixDisplay.from_predictions(
        y_test,
        winner.predictions,
        display_labels=list(CLASS_NAMES),
        xticks_rotation=45,
        ax=ax,
        colorbar=False,
    )
    ax.set_title(f"{winner.model}: test accuracy {winner.mean('accuracy'):.4f}")
    fig.tight_layout()
    fig.savefig(paths["confusion_matrix"], dpi=110)
    plt.close(fig)
    fig = plot_accuracy_vs_fit_time(
        summaries,
        f"{context['n_train']:,} training images, {context['n_test']:,} test images",
    )
    fig.savefig(paths["accuracy_vs_fit_time"], dpi=110)
    plt.close(fig)
    paths["classification_report"].write_text(
        f"{winner.model} ({winner.description}), first seed\n\n"
        + classification_report(
            y_test, winner.predictions, target_names=list(CLASS_NAMES), digits=4
        )
    )
    return paths
