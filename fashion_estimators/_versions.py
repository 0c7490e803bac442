"""The versions of this package and of the libraries its models run on."""

from __future__ import annotations

from importlib import metadata

_DISTRIBUTIONS = (
    "fashion-estimators",
    "tensorflow",
    "keras",
    "scikeras",
    "scikit-learn",
    "numpy",
)


def versions() -> dict[str, str | None]:
    """Installed versions of this package and of the libraries its models run on.

    Model files record them and loading compares them; benchmark reports
    print them beside their figures.

    Returns
    -------
    dict
        Distribution name to version, None for one that is not installed.

    Examples
    --------
    >>> from fashion_estimators import versions
    >>> sorted(versions())[:2]
    ['fashion-estimators', 'keras']
    """
    found = {}
    for name in _DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found
