"""Model files that load without unpickling anything.

``joblib.load`` (pickle) runs whatever code a file tells it to, so a model
file from someone else is as dangerous as their script. :func:`save_model`
writes a zip archive that holds only data:

* ``model.keras``: the network in Keras' native format, loaded in memory
  with ``safe_mode=True`` (no Python bytecode, no lambdas), after every class
  and function its config names has been checked against the package's
  allow-list (``_keras_archive``);
* ``estimator.json``: the estimator's class name, parameters, classes, input
  width and training history;
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

import hashlib
import json
import logging
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from . import _params
from ._base import FashionClassifier
from ._files import check_folder, check_replaceable, open_regular_file
from ._images import N_PIXELS, PIXEL_MAX
from ._keras_archive import (
    WEIGHTS as _WEIGHTS,
)
from ._keras_archive import (
    UnsafeNetworkError,
    check_directory,
    load_network,
    parse_json,
    read_members,
    read_network,
    shape_signature,
)
from ._versions import versions
from .augmentation import FashionAugmenter
from .classifiers import FashionCNNClassifier, FashionMLPClassifier

logger = logging.getLogger(__name__)

FORMAT = "fashion-estimators-model"
FORMAT_VERSION = 1
_MANIFEST, _ESTIMATOR, _NETWORK = "manifest.json", "estimator.json", "model.keras"
# The largest unpacked size of each member (and the only members there may
# be). The network's cap is the Keras archive's total; each of its members
# has its own cap as well.
_MEMBER_BYTES = {
    _MANIFEST: 64 << 10,
    _ESTIMATOR: 4 << 20,
    _NETWORK: 1 << 30,
}
_MAX_EPOCH = 10**7
_DESCRIPTION_KEYS = {
    "estimator",
    "params",
    "classes",
    "n_features_in",
    "feature_names_in",
    "history",
    "seed",
    "progress",
}
# the scale of the pixels fit saw; files from before it was recorded had raw ones
_OPTIONAL_KEYS = {"pixel_max": PIXEL_MAX}
_UNSAVED_PARAMS = ("checkpoint",)
# Loading looks classes up here, never by importing a name read from the file.
_ESTIMATORS = {
    cls.__name__: cls for cls in (FashionCNNClassifier, FashionMLPClassifier)
}


class ModelFileError(ValueError):
    """The file is not a model written by :func:`save_model`, or was altered."""


class ModelVersionWarning(UserWarning):
    """The model file was written under other library versions than these."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ encoding
def _encode_param(name: str, value, estimator: FashionClassifier):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if name == "callbacks" and value:
        # training-time hooks: they change nothing the saved model predicts
        logger.warning("save_model does not store callbacks; saving callbacks=None")
        return None
    if isinstance(value, FashionAugmenter):
        params = value.get_params()
        params["random_state"] = _encode_param(
            "random_state", value.random_state, value
        )
        return {"FashionAugmenter": params}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):  # class_weight: JSON keys would become strings
        items = [[_plain(k), _plain(v)] for k, v in value.items()]
        if all(isinstance(k, int | float | str) for k, _ in items):
            return {"dict": items}
    if name == "random_state" and isinstance(value, np.random.RandomState):
        seed = getattr(estimator, "_seed", None)
        logger.info("random_state is a RandomState; saving the seed it gave, %s", seed)
        return seed
    if value is None or isinstance(value, bool | int | float | str | list):
        return value
    raise ValueError(
        f"save_model stores parameters as JSON and cannot store {name}={value!r}; "
        "save this estimator with joblib.dump instead (and load that file only "
        "if you trust it)."
    )


def _plain(value):
    """A numpy scalar as the Python number it holds; anything else as is."""
    return value.item() if isinstance(value, np.generic) else value


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
    if isinstance(value, list):
        return tuple(value)
    return value


def _encode_labels(classes: np.ndarray) -> dict:
    kind = classes.dtype.kind
    if kind in "biuf":
        return {"dtype": classes.dtype.str, "values": classes.tolist()}
    if kind in "OU" and all(isinstance(c, str) for c in classes):
        return {"dtype": "str" if kind == "U" else "object", "values": classes.tolist()}
    raise ValueError(
        f"save_model can store numeric or string class labels, not {classes.dtype} "
        "labels of mixed types; use joblib.dump instead."
    )


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
    if type(estimator).__name__ not in _ESTIMATORS or not isinstance(
        estimator, FashionClassifier
    ):
        raise TypeError(
            f"save_model saves FashionCNNClassifier or FashionMLPClassifier, not "
            f"{type(estimator).__name__}; use joblib.dump for other objects."
        )
    check_is_fitted(estimator, "model_")
    path = Path(path)
    _write(estimator, path, estimator.history_)
    logger.info("saved %s to %s", type(estimator).__name__, path)
    return path


def _file_mode() -> int:
    """The mode a new file gets from ``open``: 0o666 less the umask (mkstemp
    makes its files private, which a shared model file should not be)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def _write(
    estimator: FashionClassifier,
    path: Path,
    history: dict,
    progress: dict | None = None,
) -> None:
    """Write ``estimator`` with ``history`` to ``path``, atomically; a
    checkpoint also records ``progress``, the epochs of the fit under way."""
    check_folder(path)
    check_replaceable(path)
    feature_names = getattr(estimator, "feature_names_in_", None)
    params = estimator.get_params(deep=False)
    params.update(dict.fromkeys(_UNSAVED_PARAMS))
    description = {
        "estimator": type(estimator).__name__,
        "params": {
            name: _encode_param(name, value, estimator)
            for name, value in params.items()
        },
        "classes": _encode_labels(np.asarray(estimator.classes_)),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if feature_names is None else list(feature_names),
        "history": {key: [float(v) for v in values] for key, values in history.items()},
        "seed": getattr(estimator, "_seed", None),
        "progress": progress,
        "pixel_max": float(getattr(estimator, "pixel_max_", PIXEL_MAX)),
    }
    members = {_ESTIMATOR: json.dumps(description, indent=1).encode()}
    with tempfile.TemporaryDirectory() as folder:
        network = Path(folder, _NETWORK)
        estimator.model_.save(network)
        members[_NETWORK] = network.read_bytes()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": versions(),
        "sha256": {name: _sha256(data) for name, data in members.items()},
    }
    # mkstemp creates the file exclusively (O_EXCL: never through a symlink)
    # under a name no other save shares
    fd, partial = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
                for name, data in members.items():
                    # trained float weights barely compress, and deflating them
                    # costs ten times the save itself: a checkpoint per epoch
                    # must not double a short epoch
                    stored = zipfile.ZIP_STORED if name == _NETWORK else None
                    archive.writestr(name, data, compress_type=stored)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(partial, _FILE_MODE)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


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
        check_directory(file, len(_MEMBER_BYTES))
        with zipfile.ZipFile(file) as archive:
            members = read_members(archive, _MEMBER_BYTES)
    except UnsafeNetworkError as error:
        raise _Refused(f"{error}.") from None
    except Exception as error:  # zipfile raises a dozen types on crafted input
        raise _Refused(f"{type(error).__name__}: {error}.") from None
    if _MANIFEST not in members:
        raise _Refused(f"it has no {_MANIFEST}.")
    manifest = parse_json(members.pop(_MANIFEST), _MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _Refused(f"its manifest names no {FORMAT!r} format.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _Refused(
            f"it is format version {manifest.get('format_version')!r}; this "
            f"fashion-estimators reads version {FORMAT_VERSION}."
        )
    checksums = manifest.get("sha256")
    for name in (_ESTIMATOR, _NETWORK):
        if name not in members:
            raise _Refused(f"it is incomplete: {name} is missing.")
        if not isinstance(checksums, dict) or _sha256(members[name]) != checksums.get(
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
        raise _Refused(f"{_ESTIMATOR} is not an object.")
    keys = set(description)
    if not _DESCRIPTION_KEYS <= keys <= _DESCRIPTION_KEYS | set(_OPTIONAL_KEYS):
        raise _Refused(
            f"{_ESTIMATOR} has the keys {sorted(map(str, keys))}; expected "
            f"{sorted(_DESCRIPTION_KEYS)}."
        )
    decoded = {**_OPTIONAL_KEYS, **description}
    cls = (
        _ESTIMATORS.get(description["estimator"])
        if isinstance(description["estimator"], str)
        else None
    )
    if cls is None:
        raise _Refused(
            f"its {_ESTIMATOR} does not describe an estimator of this package "
            f"({description['estimator']!r:.80})."
        )
    params = description["params"]
    if not isinstance(params, dict):
        raise _Refused("its params are not an object.")
    decoded["estimator"] = cls(
        **{k: _decode_param(v) for k, v in params.items() if k not in _UNSAVED_PARAMS}
    )
    _params.check_params(decoded["estimator"])
    augment = decoded["estimator"].augment
    if hasattr(augment, "_parameter_constraints"):
        _params.check_params(augment)
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
    weights = estimator._weight_count(n_classes)
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
    if shape_signature(described) != shape_signature(config):
        raise _Refused(
            f"its network is not the {type(decoded['estimator']).__name__} its "
            f"description gives ({len(decoded['classes'])} classes and these "
            "parameters)."
        )


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
            decoded = _decoded(parse_json(members[_ESTIMATOR], _ESTIMATOR))
        except (ValueError, TypeError) as error:
            if isinstance(error, UnsafeNetworkError):  # invalid JSON: said already
                raise
            raise _Refused(
                f"its {_ESTIMATOR} does not describe an estimator this package "
                f"can load ({type(error).__name__}: {error})"
            ) from None
        network_members, config = read_network(members[_NETWORK])
        _check_against_network(decoded, network_members, config)
        network = load_network(network_members)
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
    return estimator._restore_fitted(
        network,
        decoded["classes"],
        N_PIXELS,
        decoded["feature_names_in"],
        decoded["history"],
        decoded["seed"],
        decoded["progress"],
        pixel_max=float(decoded["pixel_max"]),
    )
