"""The estimators of this package, by name.

One place names each estimator: its command-line name and its class. The
command line takes its ``--model`` choices from :data:`ESTIMATORS`,
:func:`~fashion_estimators.load_model` finds a file's class here (never by
importing a name read from the file), and the benchmarks and docs list the
models from it.

A class is named by its import path and imported on first use, so that the
command line can offer the choices before TensorFlow loads. No module that
the classes import imports this one, so looking a class up here never closes
a circle.

To add a network, subclass ``FashionClassifier`` (see the design notes) and
:func:`register` it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

__all__ = ["DEFAULT", "ESTIMATORS", "Entry", "class_named", "register"]


@dataclass
class Entry:
    """One estimator: its command-line name and its class.

    Parameters
    ----------
    name : str
        The command-line name (``train --model NAME``).
    target : type or str
        The class, or its path ``"package.module:ClassName"``, imported on
        first use.
    """

    name: str
    target: type | str
    _class: type | None = field(default=None, init=False, repr=False)

    @property
    def class_name(self) -> str:
        """The class's ``__name__``, which model files record."""
        if isinstance(self.target, str):
            return self.target.rpartition(":")[2]
        return self.target.__name__

    def load(self) -> type:
        """The class, imported if it was named by its path."""
        if self._class is None:
            if isinstance(self.target, str):
                module, _, name = self.target.partition(":")
                self._class = getattr(importlib.import_module(module), name)
            else:
                self._class = self.target
        return self._class


ESTIMATORS: dict[str, Entry] = {
    entry.name: entry
    for entry in (
        Entry("mlp", "fashion_estimators.classifiers:FashionMLPClassifier"),
        Entry("cnn", "fashion_estimators.classifiers:FashionCNNClassifier"),
    )
}
"""Every estimator by its command-line name, simplest first (the order of the
benchmark tables)."""

DEFAULT = "cnn"
"""The command line's default ``--model``."""


def register(name: str, target: type | str) -> Entry:
    """Add an estimator under the command-line name ``name``.

    Parameters
    ----------
    name : str
        A new command-line name.
    target : type or str
        A ``FashionClassifier`` subclass, or its ``"module:ClassName"`` path.
        Its class name must be new as well: model files record it.

    Returns
    -------
    Entry
    """
    entry = Entry(name, target)
    if name in ESTIMATORS:
        raise ValueError(f"an estimator is registered as {name!r} already.")
    if any(e.class_name == entry.class_name for e in ESTIMATORS.values()):
        raise ValueError(f"a class named {entry.class_name} is registered already.")
    ESTIMATORS[name] = entry
    return entry


def class_named(class_name: str) -> type | None:
    """The registered class whose ``__name__`` is ``class_name``, or None."""
    for entry in ESTIMATORS.values():
        if entry.class_name == class_name:
            return entry.load()
    return None
