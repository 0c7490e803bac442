"""Saving models, and loading them without unpickling anything.

``joblib.load`` (pickle) runs whatever code a file tells it to, so a model
file from someone else is as dangerous as their script. :func:`save_model`
writes a zip archive that holds only data (``_model_file`` describes it):

* ``model.keras``: the network in Keras' native format, loaded in memory
  with ``safe_mode=True`` (no Python bytecode, no lambdas), after every class
  and function its config names has been checked against the package's
  allow-list (``_keras_archive``);
* ``estimator.json``: the estimator's class name, parameters, classes, input
  width and training history; the class is looked up in ``registry``, never
  imported by a name read from the file;
* ``manifest.json``: the format version, the package versions that wrote the
  file, and a SHA-256 of each member, so a corrupted or edited file is refused.

A file written under other versions of the package, TensorFlow, Keras,
scikit-learn, scikeras or NumPy still loads, with a :class:`ModelVersionWarning`.

A file is data, and bounded: every member is read up to a cap, the
description is checked value by value and against the network it comes with
before Keras builds that network, and whatever is wrong with a file, however
it was made, raises :class:`ModelFileError` naming it. No path stored in a file
is ever written to: the ``checkpoint`` parameter is not saved, and a loaded
estimator has ``checkpoint=None``.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from . import _params, registry
from ._base import FashionClassifier
from ._files import open_regular_file
from ._images import N_PIXELS, PIXEL_MAX
from ._keras_archive import WEIGHTS as _WEIGHTS
from ._keras_archive import (
    UnsafeNetworkError,
    check_directory,
    load_network,
    parse_json,
    read_members,
    read_network,
    shape_signature,
)
from ._model_file import (
    DESCRIPTION_KEYS,
    ESTIMATOR,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEMBER_BYTES,
    NETWORK,
    OPTIONAL_KEYS,
    UNSAVED_PARAMS,
    sha256,
    write_model_file,
)
from ._networks import feature_network
from ._novelty import Novelty
from ._versions import versions
from .augmentation import FashionAugmenter

logger = logging.getLogger(__name__)

_MAX_EPOCH = 10**7


class ModelFileError(ValueError):
    """The file is not a model written by :func:`save_model`, or was altered."""


class ModelVersionWarning(UserWarning):
    """The model file was written under other library versions than these."""


def _decode_param(value):
    if isinstance(value, dict):
        pairs = value.get("dict")
        if list(value) == ["dict"] and isinstance(pairs, list):
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise ModelFileError(f"unknown parameter value {value!r}")
            return {key: weight for key, weight in pairs}
        if list(value) != ["FashionAugmenter"] or not isinstance(
            value["FashionAugmenter"], dict
        ):
            raise ModelFileError(f"unknown parameter value {value!r}")
        return FashionAugmenter(**value["FashionAugmenter"])
    if isinstance(value, list):  # a block of several widths in filters, one level
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _decode_labels(labels: dict) -> np.ndarray:
    dtype, values = labels["dtype"], labels["values"]
    if (
        not isinstance(values, list)
        or len(values) < 2
        or len(set(values)) != len(values)
        or not all(isinstance(v, str | int | float) for v in values)
    ):
        raise ModelFileError(
            f"classes must be 2 or more distinct labels, not {values!r}"
        )
    if dtype in ("str", "object"):
        return np.asarray(values, dtype=str if dtype == "str" else object)
    if np.dtype(dtype).kind not in "biuf":
        raise ModelFileError(f"unexpected label dtype {dtype!r}")
    return np.asarray(values, dtype=dtype)


# ------------------------------------------------------------------- saving
def save_model(estimator: FashionClassifier, path: str | os.PathLike) -> Path:
    """Write a fitted classifier to ``path`` in a format that loads safely.

    Parameters
    ----------
    estimator : FashionCNNClassifier or FashionMLPClassifier
        A fitted classifier. Its parameters must be storable as JSON: a custom
        ``network`` callable is not (use joblib for those). ``checkpoint`` is
        not stored: a file never names a path to write.
    path : str or path-like
        The file to write. It is written under a new temporary name in the
        same folder, created exclusively, and then renamed over ``path``, so
        a reader never sees a half-written file, a symlink planted at the
        temporary name is never followed, and of concurrent saves to one
        path the last to finish wins, whole.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> save_model(clf, "cnn.fashion")  # doctest: +SKIP
    >>> load_model("cnn.fashion").predict(X_test[:3])  # doctest: +SKIP
    """
    if not isinstance(estimator, FashionClassifier) or (
        registry.class_named(type(estimator).__name__) is not type(estimator)
    ):
        raise TypeError(
            f"save_model saves the registered estimators "
            f"({', '.join(e.class_name for e in registry.ESTIMATORS.values())}), "
            f"not {type(estimator).__name__}; use joblib.dump for other objects."
        )
    check_is_fitted(estimator, "model_")
    path = Path(path)
    write_model_file(estimator, path, estimator.history_)
    logger.info("saved %s to %s", type(estimator).__name__, path)
    return path


# ------------------------------------------------------------------ loading
class _Refused(Exception):
    """Why a file is not a model this package loads; load_model adds the path."""


def _read_members(file) -> tuple[dict, dict[str, bytes]]:
    head = file.read(4)
    file.seek(0)
    if head[:1] == b"\x80":
        raise _Refused(
            "it looks like a pickle or joblib file; open it with joblib.load "
            "only if you trust whoever made it."
        )
    # a zip archive starts with a local file header; checking it also refuses
    # files that merely embed one, which zipfile would find from the end
    if head != b"PK\x03\x04":
        raise _Refused("it is not a zip archive.")
    try:
        check_directory(file, len(MEMBER_BYTES))
        with zipfile.ZipFile(file) as archive:
            members = read_members(archive, MEMBER_BYTES)
    except UnsafeNetworkError as error:
        raise _Refused(f"{error}.") from None
    except Exception as error:  # zipfile raises a dozen types on crafted input
        raise _Refused(f"{type(error).__name__}: {error}.") from None
    if MANIFEST not in members:
        raise _Refused(f"it has no {MANIFEST}.")
    manifest = parse_json(members.pop(MANIFEST), MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _Refused(f"its manifest names no {FORMAT!r} format.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _Refused(
            f"it is format version {manifest.get('format_version')!r}; this "
            f"fashion-estimators reads version {FORMAT_VERSION}."
        )
    checksums = manifest.get("sha256")
    for name in (ESTIMATOR, NETWORK):
        if name not in members:
            raise _Refused(f"it is incomplete: {name} is missing.")
        if not isinstance(checksums, dict) or sha256(members[name]) != checksums.get(
            name
        ):
            raise _Refused(
                f"it was altered or corrupted: the checksum of {name} does not "
                "match its manifest."
            )
    return manifest, members


def _warn_on_other_versions(path: Path, manifest: dict) -> None:
    written = manifest.get("versions")
    written = written if isinstance(written, dict) else {}
    current = versions()
    differ = [
        f"{name} {str(written.get(name))[:40]} (now {current[name]})"
        for name in current
        if written.get(name) != current[name]
    ]
    if differ:
        warnings.warn(
            f"{path} was written with {', '.join(differ)}; it loaded, but check its "
            "predictions before relying on them.",
            ModelVersionWarning,
            stacklevel=3,
        )


def _is_int(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _decoded(description) -> dict:
    """The checked contents of ``estimator.json``: each value of the type and
    range that saving writes, or _Refused."""
    if not isinstance(description, dict):
        raise _Refused(f"{ESTIMATOR} is not an object.")
    keys = set(description)
    if not DESCRIPTION_KEYS <= keys <= DESCRIPTION_KEYS | set(OPTIONAL_KEYS):
        raise _Refused(
            f"{ESTIMATOR} has the keys {sorted(map(str, keys))}; expected "
            f"{sorted(DESCRIPTION_KEYS)}."
        )
    decoded = {**OPTIONAL_KEYS, **description}
    cls = (
        registry.class_named(description["estimator"])
        if isinstance(description["estimator"], str)
        else None
    )
    if cls is None:
        raise _Refused(
            f"its {ESTIMATOR} does not describe an estimator of this package "
            f"({description['estimator']!r:.80})."
        )
    params = description["params"]
    if not isinstance(params, dict):
        raise _Refused("its params are not an object.")
    saved = {k: _decode_param(v) for k, v in params.items() if k not in UNSAVED_PARAMS}
    decoded["estimator"] = cls(**{**cls.absent_params, **saved})
    _params.check_params(decoded["estimator"])
    if not isinstance(description["classes"], dict) or set(description["classes"]) != {
        "dtype",
        "values",
    }:
        raise _Refused("its classes are not described by a dtype and values.")
    decoded["classes"] = _decode_labels(description["classes"])
    if not _is_int(description["n_features_in"], N_PIXELS, N_PIXELS):
        raise _Refused(
            f"n_features_in is {description['n_features_in']!r:.40}; the models "
            f"of this package take {N_PIXELS} pixels."
        )
    names = description["feature_names_in"]
    if names is not None and not (
        isinstance(names, list)
        and len(names) == N_PIXELS
        and all(isinstance(n, str) for n in names)
    ):
        raise _Refused(f"feature_names_in is not None or {N_PIXELS} strings.")
    history = description["history"]
    if not isinstance(history, dict) or not all(
        isinstance(values, list)
        and len(values) <= _MAX_EPOCH
        and all(type(v) in (int, float) for v in values)
        for values in history.values()
    ):
        raise _Refused("its history is not lists of numbers, one list per metric.")
    seed = description["seed"]
    if seed is not None and not _is_int(seed, 0, _params.SEED_MAX):
        raise _Refused(f"its seed is {seed!r:.40}, not None or an integer seed.")
    progress = description["progress"]
    if progress is not None:
        done = len(history.get("loss", []))
        first = progress.get("initial_epoch") if isinstance(progress, dict) else None
        last = progress.get("epochs") if isinstance(progress, dict) else None
        if not (
            isinstance(progress, dict)
            and set(progress) == {"initial_epoch", "epochs"}
            and _is_int(first, 0, _MAX_EPOCH)
            and _is_int(last, first + 1, _MAX_EPOCH)
            and first <= done
        ):
            raise _Refused(
                f"its progress {progress!r:.80} is not an epoch range the history "
                "has reached."
            )
        decoded["progress"] = (first, last)
    if decoded["pixel_max"] not in (1, PIXEL_MAX) or type(decoded["pixel_max"]) not in (
        int,
        float,
    ):
        raise _Refused(f"its pixel_max is {decoded['pixel_max']!r:.40}, not 1 or 255.")
    return decoded


def _check_against_network(decoded: dict, members: dict, config: dict) -> None:
    """Refuse a network other than the one the description's parameters and
    classes build: another kind, other layer sizes, another number of
    outputs. Checked on the configs, before Keras allocates any weight."""
    estimator, n_classes = decoded["estimator"], len(decoded["classes"])
    # a file must hold every float32 weight of the network it describes, so
    # building that network for the comparison allocates no more than the
    # file itself brought
    weights = estimator.weight_count(n_classes)
    if 4 * weights > len(members[_WEIGHTS]):
        raise _Refused(
            f"its description asks for a network of {weights} weights, which "
            f"its {len(members[_WEIGHTS])}-byte weights file cannot hold."
        )
    # in float32: the precision changes no size, and bfloat16 would build the
    # network twice (its layers are retyped on a copy)
    expected = clone(estimator).set_params(precision="float32").make_network(n_classes)
    # through JSON, as the file's config went: tuples become lists
    described = json.loads(json.dumps(keras.saving.serialize_keras_object(expected)))
    found = shape_signature(config)
    if shape_signature(described) != found:
        # Keras' own BatchNormalization: batch_norm=True before ConvBatchNorm
        former = any(layer[0] == "BatchNormalization" for layer in found)
        raise _Refused(
            f"its network is not the {type(decoded['estimator']).__name__} its "
            f"description gives ({len(decoded['classes'])} classes and these "
            "parameters)."
            + (
                " It holds Keras' BatchNormalization layers, which batch_norm=True "
                "no longer builds (each convolution now carries its BatchNorm); "
                "fit the model again with this version."
                if former
                else ""
            )
        )


def _novelty(decoded: dict, network) -> Novelty | None:
    """The description's novelty statistics, checked against its classes and
    the features of its network (after the network is checked itself)."""
    if decoded["novelty"] is None:
        return None
    try:
        novelty = Novelty.from_json(decoded["novelty"], len(decoded["classes"]))
    except ValueError as error:
        raise _Refused(str(error)) from None
    features = feature_network(network)
    width = None if features is None else features.output.shape[-1]
    if width != novelty.feature_mean.shape[0]:
        raise _Refused(
            f"its novelty statistics are of {novelty.feature_mean.shape[0]} "
            f"features; its network gives {width}."
        )
    return novelty


def load_model(path: str | os.PathLike) -> FashionClassifier:
    """Load a classifier written by :func:`save_model`, without unpickling.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.

    Returns
    -------
    FashionCNNClassifier or FashionMLPClassifier
        Fitted, predicting exactly as the saved one; ``fit`` and ``partial_fit``
        work on it as on any fitted estimator. Its ``checkpoint`` is None.

    Raises
    ------
    ModelFileError
        The file is not such a model (a joblib file, some other archive, a
        folder or a FIFO), is incomplete, too large, names anything outside
        the package's networks,
        contradicts itself, or was altered after it was written. The message
        starts with the path.
    FileNotFoundError, PermissionError
        ``path`` cannot be opened.

    Warns
    -----
    ModelVersionWarning
        The file was written under other library versions.
    """
    path = Path(path)
    try:
        with open_regular_file(path) as file:
            manifest, members = _read_members(file)
        try:
            decoded = _decoded(parse_json(members[ESTIMATOR], ESTIMATOR))
        except (ValueError, TypeError) as error:
            if isinstance(error, UnsafeNetworkError):  # invalid JSON: said already
                raise
            raise _Refused(
                f"its {ESTIMATOR} does not describe an estimator this package "
                f"can load ({type(error).__name__}: {error})"
            ) from None
        network_members, config = read_network(members[NETWORK])
        _check_against_network(decoded, network_members, config)
        network = load_network(network_members)
        decoded["novelty"] = _novelty(decoded, network)
    except OSError as error:
        if error.filename is not None:  # the path itself cannot be opened
            raise
        raise ModelFileError(f"{path}: {error}") from None
    except (_Refused, UnsafeNetworkError) as error:
        raise ModelFileError(
            f"{path} is not a fashion-estimators model file this package loads: {error}"
        ) from None
    except Exception as error:  # a value no check above foresaw
        raise ModelFileError(
            f"{path} is not a fashion-estimators model file this package "
            f"loads: {type(error).__name__}: {str(error)[:300]}"
        ) from None
    _warn_on_other_versions(path, manifest)
    estimator = decoded["estimator"]
    return estimator.restore_fitted(
        network,
        decoded["classes"],
        feature_names_in=decoded["feature_names_in"],
        history=decoded["history"],
        seed=decoded["seed"],
        progress=decoded["progress"],
        pixel_max=float(decoded["pixel_max"]),
        novelty=decoded["novelty"],
    )
