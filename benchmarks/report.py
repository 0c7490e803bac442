"""Presenting results: a Markdown table and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from importlib.metadata import version

from .run import Result

_LIBRARIES = ("tensorflow", "keras", "scikeras", "scikit-learn", "numpy")


def machine() -> dict:
    """CPU count, platform and library versions."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{name: version(name) for name in _LIBRARIES},
    }


def markdown_table(results: list[Result]) -> str:
    """One row per model, in the order given."""
    header = (
        "| model | test accuracy | macro F1 | fit s | predict s | images/s "
        "| parameters |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    rows = [
        f"| {r.model} | {r.accuracy:.4f} | {r.macro_f1:.4f} | {r.fit_seconds:.1f} "
        f"| {r.predict_seconds:.2f} | {r.images_per_second:,.0f} "
        f"| {'' if r.parameters is None else f'{r.parameters:,}'} |"
        for r in results
    ]
    return "\n".join([header, *rows])
