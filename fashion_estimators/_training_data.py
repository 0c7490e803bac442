"""What one fit trains on: the weight of each sample, and the validation split.

Plain functions of arrays and parameters, so that ``_base`` keeps only the
training loop; each returns new arrays and never changes the caller's.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import column_or_1d


def _check_weights(name: str, weights: np.ndarray) -> None:
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"{name} has NaN or infinite values; weights must be finite.")
    if np.any(weights < 0):
        raise ValueError(f"{name} has negative values; weights must be >= 0.")


def sample_weights(y, sample_weight, class_weight, classes) -> np.ndarray | None:
    """``sample_weight`` times the ``class_weight`` of each label of ``y``;
    None when both are None.

    Parameters
    ----------
    y : array-like of shape (n,) or None
        The labels; None (no labels) returns ``sample_weight`` as given.
    sample_weight : array-like of shape (n,) or None
        Weights >= 0, finite.
    class_weight : dict, "balanced" or None
        As the estimators' parameter.
    classes : ndarray or None
        The classes a dict's labels must be among; None: those of ``y``.

    Returns
    -------
    ndarray of shape (n,) or None
    """
    if y is None:
        return sample_weight
    y = column_or_1d(y)
    weights = None
    if sample_weight is not None:
        weights = np.array(sample_weight, dtype=np.float64)
        if weights.ndim != 1 or len(weights) != len(y):
            raise ValueError(
                f"sample_weight has shape {weights.shape}; expected one weight "
                f"per sample, shape ({len(y)},)."
            )
        _check_weights("sample_weight", weights)
    if class_weight is None:
        return weights
    if isinstance(class_weight, dict):
        _check_weights("class_weight", np.array(list(class_weight.values()), float))
        known = np.unique(y) if classes is None else classes
        unknown = [k for k in class_weight if k not in set(known.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight has labels that are not classes of y: "
                f"{unknown[:5]}; the classes are {known.tolist()}."
            )
        per_sample = np.array(
            [class_weight.get(label, 1.0) for label in y.tolist()], float
        )
    else:
        per_sample = compute_sample_weight("balanced", y)
    return per_sample if weights is None else weights * per_sample


def split_validation(X, y, sample_weight, fraction: float, seed: int | None):
    """Hold out a stratified ``fraction`` of ``(X, y, sample_weight)``.

    Returns
    -------
    X_train, y_train, sample_weight_train, validation_data
        ``validation_data`` is ``(X_val, y_val)``, with the validation weights
        as a third item where ``sample_weight`` is given: Keras' form.
    """
    index = np.arange(len(X))
    rng = check_random_state(seed)
    try:
        train, val = train_test_split(
            index, test_size=fraction, stratify=y, random_state=rng
        )
    except ValueError:  # too few samples of some class to stratify
        train, val = train_test_split(index, test_size=fraction, random_state=rng)
    if len(train) == 0 or len(val) == 0:
        raise ValueError(
            f"validation_fraction={fraction} leaves no "
            f"{'training' if len(train) == 0 else 'validation'} sample out of "
            f"{len(X)}; use more samples or validation_fraction=0."
        )
    held_out = (X[val], y[val])
    if sample_weight is not None:
        held_out += (sample_weight[val],)
        sample_weight = sample_weight[train]
    return X[train], y[train], sample_weight, held_out
