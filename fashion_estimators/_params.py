"""Declarative parameter checks, run once at each public entry.

Each estimator declares ``_parameter_constraints = {name: Constraint, ...}``
(scikit-learn's name for it) and decorates its public entries (``fit``,
``partial_fit``, ``transform``...) with :func:`validates_params`, as
scikit-learn's ``_fit_context`` does; loading a model file runs the same
:func:`check_params`. Every invalid value is reported the same way: which
estimator, which parameter, what was expected, what was received.
"""

from __future__ import annotations

import contextvars
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Constraint:
    """A predicate on a parameter value and the words that describe it."""

    accepts: Callable[[Any], bool]
    description: str


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    """A finite real number: NaN and infinity are never a sensible setting
    (an integer is finite however large, where math.isfinite would overflow)."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return False
    return isinstance(value, Integral) or math.isfinite(value)


def integer(low: int, high: int | None = None) -> Constraint:
    """An integer in ``[low, high]`` (no upper bound when ``high`` is None)."""
    upper = "" if high is None else f" and <= {high}"
    return Constraint(
        lambda v: _is_int(v) and v >= low and (high is None or v <= high),
        f"an integer >= {low}{upper}",
    )


def real(low: float, high: float, *, closed: str = "both") -> Constraint:
    """A real number between ``low`` and ``high``; ``closed`` names the ends
    included: ``"both"``, ``"left"``, ``"right"`` or ``"neither"``."""
    left = closed in ("both", "left")
    right = closed in ("both", "right")

    def accepts(v) -> bool:
        return (
            _is_real(v)
            and (v >= low if left else v > low)
            and (v <= high if right else v < high)
        )

    interval = f"{'[' if left else '('}{low}, {high}{']' if right else ')'}"
    return Constraint(accepts, f"a number in {interval}")


def one_of(*options) -> Constraint:
    """One of the given values."""
    return Constraint(
        lambda v: any(v == o and type(v) is type(o) for o in options),
        "one of " + ", ".join(repr(o) for o in options),
    )


def int_sequence(low: int, high: int, max_length: int) -> Constraint:
    """A tuple or list of 1 to ``max_length`` integers in ``[low, high]``."""
    return Constraint(
        lambda v: (
            isinstance(v, (tuple, list))
            and 0 < len(v) <= max_length
            and all(_is_int(x) and low <= x <= high for x in v)
        ),
        f"a tuple of 1 to {max_length} integers in [{low}, {high}]",
    )


def int_blocks(low: int, high: int, max_length: int, max_block: int) -> Constraint:
    """A tuple or list of 1 to ``max_length`` blocks, each an integer in
    ``[low, high]`` or a tuple or list of 1 to ``max_block`` of them."""
    widths = int_sequence(low, high, max_block)
    return Constraint(
        lambda v: (
            isinstance(v, (tuple, list))
            and 0 < len(v) <= max_length
            and all(widths.accepts([b] if _is_int(b) else b) for b in v)
        ),
        f"a tuple of 1 to {max_length} blocks, each an integer in [{low}, {high}] "
        f"or a tuple of 1 to {max_block} of them",
    )


SEED_MAX = 2**32 - 1
"""The largest seed NumPy accepts."""


def random_state() -> Constraint:
    """None, an int seed in [0, 2**32 - 1], or a numpy RandomState."""
    return Constraint(
        lambda v: (
            v is None
            or (_is_int(v) and 0 <= v <= SEED_MAX)
            or isinstance(v, np.random.RandomState)
        ),
        f"None, an integer seed in [0, {SEED_MAX}] or a numpy.random.RandomState",
    )


def either(*constraints: Constraint) -> Constraint:
    """Accept what any of ``constraints`` accepts."""
    return Constraint(
        lambda v: any(c.accepts(v) for c in constraints),
        " or ".join(c.description for c in constraints),
    )


def check_params(estimator) -> None:
    """Raise ValueError for the first parameter of ``estimator`` that is
    invalid, its nested estimators' (a ``FashionAugmenter`` as ``augment``)
    included.

    Parameters
    ----------
    estimator : object
        Declares ``_parameter_constraints``, a mapping of parameter name to
        :class:`Constraint`, and may declare ``_parameter_relations``,
        functions of the estimator that return an error message or None.
    """
    for name, constraint in estimator._parameter_constraints.items():
        value = getattr(estimator, name)
        if not constraint.accepts(value):
            raise ValueError(
                f"The '{name}' parameter of {type(estimator).__name__} must be "
                f"{constraint.description}; got {value!r}."
            )
        if hasattr(value, "_parameter_constraints"):
            check_params(value)
    # checks of several parameters together: each returns an error or None
    for relation in getattr(estimator, "_parameter_relations", ()):
        error = relation(estimator)
        if error is not None:
            raise ValueError(f"{type(estimator).__name__}: {error}")


# the estimators whose validated entry is running: what such an entry calls on
# the same estimator (fit calls make_network) is not checked again
_validating: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "validating", default=frozenset()
)


def validates_params(method: Callable) -> Callable:
    """Decorate a public method to run :func:`check_params` on its estimator
    first, unless another validated method of the same estimator called it."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        running = _validating.get()
        if id(self) in running:
            return method(self, *args, **kwargs)
        check_params(self)
        token = _validating.set(running | {id(self)})
        try:
            return method(self, *args, **kwargs)
        finally:
            _validating.reset(token)

    return run
