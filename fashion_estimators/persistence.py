"""Model files that load without unpickling anything.

``joblib.load`` (pickle) runs whatever code a file tells it to, so a model
file from someone else is as dangerous as their script. :func:`save_model`
writes a zip archive that holds only data:

* ``model.keras``: the network in Keras' native format, loaded with
  ``safe_mode=True`` (no Python bytecode, no lambdas) and only Keras' own layer
  classes and this package's ``MirrorAverage`` allowed;
* ``estimator.json``: the estimator's class name, parameters, classes, input
  width and training history;
* ``manifest.json``: the format version, the package versions that wrote the
  file, and a SHA-256 of each member, so a corrupted or edited file is refused.

A file written under other versions of the package, TensorFlow, Keras,
scikit-learn, scikeras or NumPy still loads, with a :class:`ModelVersionWarning`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from . import _params
from ._base import FashionClassifier
from ._files import check_folder
from ._networks import MirrorAverage
from ._versions import versions
from .augmentation import FashionAugmenter
from .classifiers import FashionCNNClassifier, FashionMLPClassifier

logger = logging.getLogger(__name__)

FORMAT = "fashion-estimators-model"
FORMAT_VERSION = 1
_MANIFEST, _ESTIMATOR, _NETWORK = "manifest.json", "estimator.json", "model.keras"
_MEMBERS = (_ESTIMATOR, _NETWORK)
_MAX_MEMBER_BYTES = 1 << 30  # refuse zip bombs before reading them

# Layers of this package that a network may contain, by their Keras-registered name.
_OWN_LAYERS = {keras.saving.get_registered_name(MirrorAverage)}
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
        ``network`` callable is not (use joblib for those).
    path : str or path-like
        The file to write; it is replaced atomically, so a reader never sees a
        half-written file.

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


def _write(
    estimator: FashionClassifier,
    path: Path,
    history: dict,
    progress: dict | None = None,
) -> None:
    """Write ``estimator`` with ``history`` to ``path``, atomically; a
    checkpoint also records ``progress``, the epochs of the fit under way."""
    check_folder(path)
    feature_names = getattr(estimator, "feature_names_in_", None)
    description = {
        "estimator": type(estimator).__name__,
        "params": {
            name: _encode_param(name, value, estimator)
            for name, value in estimator.get_params(deep=False).items()
        },
        "classes": _encode_labels(np.asarray(estimator.classes_)),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if feature_names is None else list(feature_names),
        "history": {key: [float(v) for v in values] for key, values in history.items()},
        "seed": getattr(estimator, "_seed", None),
        "progress": progress,
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
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=1))
            for name, data in members.items():
                # trained float weights barely compress, and deflating them
                # costs ten times the save itself: a checkpoint per epoch
                # must not double a short epoch
                stored = zipfile.ZIP_STORED if name == _NETWORK else None
                archive.writestr(name, data, compress_type=stored)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# ------------------------------------------------------------------ loading
def _read_members(path: Path) -> tuple[dict, dict[str, bytes]]:
    what = f"{path} is not a fashion-estimators model file"
    with open(path, "rb") as file:
        head = file.read(4)
    if head[:1] == b"\x80":
        raise ModelFileError(
            f"{what}: it looks like a pickle or joblib file; open it with "
            "joblib.load only if you trust whoever made it."
        )
    # a zip archive starts with a local file header; checking it also refuses
    # files that merely embed one, which zipfile would find from the end
    if head != b"PK\x03\x04":
        raise ModelFileError(f"{what}: it is not a zip archive.")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ModelFileError(f"{what}: {error}") from None
    with archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
        if _MANIFEST not in sizes:
            raise ModelFileError(f"{what}: it has no {_MANIFEST}.")
        try:
            manifest = json.loads(archive.read(_MANIFEST))
        except (ValueError, zipfile.BadZipFile, zlib.error) as error:
            raise ModelFileError(f"{what}: unreadable {_MANIFEST} ({error}).") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ModelFileError(f"{what}: its manifest names no {FORMAT!r} format.")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ModelFileError(
                f"{path} is format version {manifest.get('format_version')!r}; this "
                f"fashion-estimators reads version {FORMAT_VERSION}."
            )
        members = {}
        for name in _MEMBERS:
            if name not in sizes:
                raise ModelFileError(f"{path} is incomplete: {name} is missing.")
            if sizes[name] > _MAX_MEMBER_BYTES:
                raise ModelFileError(f"{path}: {name} is implausibly large.")
            try:
                members[name] = archive.read(name)
            except (zipfile.BadZipFile, zlib.error) as error:  # a CRC or inflate error
                raise ModelFileError(
                    f"{path} was altered or corrupted: {name} is unreadable ({error})."
                ) from None
            if _sha256(members[name]) != manifest.get("sha256", {}).get(name):
                raise ModelFileError(
                    f"{path} was altered or corrupted: the checksum of {name} does "
                    "not match its manifest."
                )
    return manifest, members


def _warn_on_other_versions(path: Path, manifest: dict) -> None:
    written = manifest.get("versions", {})
    current = versions()
    differ = [
        f"{name} {written.get(name)} (now {current[name]})"
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


def _only_keras_classes(config) -> None:
    """Refuse a network config that names anything outside Keras itself and
    this package's own layers."""
    if isinstance(config, dict):
        module = config.get("module")
        own = config.get("registered_name") in _OWN_LAYERS
        if isinstance(module, str) and module.split(".")[0] != "keras" and not own:
            raise ModelFileError(
                f"the network uses {module}.{config.get('class_name')}; only Keras' "
                "own layers are loaded."
            )
        # scikeras registers a pickled model's class under ">ClassName" (an
        # empty package) for the rest of the process; that name is Keras' own
        name = config.get("class_name")
        if config.get("registered_name") not in (None, name, f">{name}") and not own:
            raise ModelFileError(
                f"the network uses the custom object {config['registered_name']!r}; "
                "only Keras' own layers are loaded."
            )
        for value in config.values():
            _only_keras_classes(value)
    elif isinstance(config, list):
        for value in config:
            _only_keras_classes(value)


def _load_network(path: Path, data: bytes) -> keras.Model:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as network:
            _only_keras_classes(json.loads(network.read("config.json")))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise ModelFileError(f"{path}: {error}") from None
        raise ModelFileError(
            f"{path}: {_NETWORK} is not a Keras archive ({error})."
        ) from None
    with tempfile.TemporaryDirectory() as folder:
        network = Path(folder, _NETWORK)
        network.write_bytes(data)
        try:
            return keras.saving.load_model(network, safe_mode=True)
        except Exception as error:
            raise ModelFileError(
                f"{path}: Keras refused its network in safe mode: {error}"
            ) from None


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
        work on it as on any fitted estimator.

    Raises
    ------
    ModelFileError
        The file is not such a model (a joblib file, some other archive), is
        incomplete, or was altered after it was written.

    Warns
    -----
    ModelVersionWarning
        The file was written under other library versions.
    """
    path = Path(path)
    manifest, members = _read_members(path)
    _warn_on_other_versions(path, manifest)
    try:
        description = json.loads(members[_ESTIMATOR])
        cls = _ESTIMATORS[description["estimator"]]
        estimator = cls(
            **{k: _decode_param(v) for k, v in description["params"].items()}
        )
        _params.check_params(estimator)
        classes = _decode_labels(description["classes"])
        n_features_in = int(description["n_features_in"])
        feature_names, history = description["feature_names_in"], description["history"]
        seed = description["seed"]
        progress = description.get("progress")
        if progress is not None:
            progress = (int(progress["initial_epoch"]), int(progress["epochs"]))
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ModelFileError(
            f"{path}: {_ESTIMATOR} does not describe an estimator this package "
            f"can load ({type(error).__name__}: {error})."
        ) from None
    network = _load_network(path, members[_NETWORK])
    return estimator._restore_fitted(
        network, classes, n_features_in, feature_names, history, seed, progress
    )
