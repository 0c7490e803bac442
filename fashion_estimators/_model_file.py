"""The model-file format: what a file written by ``save_model`` holds, and
writing one.

A zip archive of three members, the only ones a file may have:

* ``model.keras``: the network in Keras' native format;
* ``estimator.json``: the description, with the keys of
  :data:`DESCRIPTION_KEYS`: the estimator's class name, parameters (less
  :data:`UNSAVED_PARAMS`), classes, input width, training history, seed and,
  for a checkpoint, the epochs of the fit under way; and of
  :data:`OPTIONAL_KEYS`, the pixel scale and the novelty statistics;
* ``manifest.json``: the format and its version, the package versions that
  wrote the file, and a SHA-256 of each other member.

This module knows no estimator class: it reads what it writes from the
estimator's public attributes. ``persistence`` reads files back; the
classifiers write their checkpoints here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._files import check_folder, check_replaceable
from ._images import PIXEL_MAX
from ._versions import versions
from .augmentation import FashionAugmenter

logger = logging.getLogger(__name__)

FORMAT = "fashion-estimators-model"
FORMAT_VERSION = 1
MANIFEST, ESTIMATOR, NETWORK = "manifest.json", "estimator.json", "model.keras"
# The largest unpacked size of each member (and the only members there may
# be). The network's cap is the Keras archive's total; each of its members
# has its own cap as well.
MEMBER_BYTES = {
    MANIFEST: 64 << 10,
    ESTIMATOR: 4 << 20,
    NETWORK: 1 << 30,
}
DESCRIPTION_KEYS = {
    "estimator",
    "params",
    "classes",
    "n_features_in",
    "feature_names_in",
    "history",
    "seed",
    "progress",
}
# the scale of the pixels fit saw (files from before it was recorded had raw
# ones), and the novelty statistics (files from before them have none)
OPTIONAL_KEYS = {"pixel_max": PIXEL_MAX, "novelty": None}
UNSAVED_PARAMS = ("checkpoint",)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ encoding
def _encode_param(name: str, value, estimator):
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
        seed = getattr(estimator, "seed_", None)
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


def _file_mode() -> int:
    """The mode a new file gets from ``open``: 0o666 less the umask (mkstemp
    makes its files private, which a shared model file should not be)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


def write_model_file(
    estimator,
    path: str | os.PathLike,
    history: dict,
    progress: dict | None = None,
) -> None:
    """Write the fitted ``estimator`` with ``history`` to ``path``, atomically.

    Parameters
    ----------
    estimator : FashionClassifier
        Fitted; its parameters must be storable as JSON.
    path : str or path-like
        The file, replaced whole or not at all.
    history : dict of list
        The per-epoch metrics to record.
    progress : dict, optional
        For a checkpoint: the ``initial_epoch`` and ``epochs`` of the fit
        under way.
    """
    path = Path(path)
    check_folder(path)
    check_replaceable(path)
    feature_names = getattr(estimator, "feature_names_in_", None)
    novelty = getattr(estimator, "novelty_", None)
    params = estimator.get_params(deep=False)
    params.update(dict.fromkeys(UNSAVED_PARAMS))
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
        "seed": getattr(estimator, "seed_", None),
        "progress": progress,
        "pixel_max": float(getattr(estimator, "pixel_max_", PIXEL_MAX)),
        "novelty": None if novelty is None else novelty.to_json(),
    }
    members = {ESTIMATOR: json.dumps(description, indent=1).encode()}
    with tempfile.TemporaryDirectory() as folder:
        network = Path(folder, NETWORK)
        estimator.model_.save(network)
        members[NETWORK] = network.read_bytes()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": versions(),
        "sha256": {name: sha256(data) for name, data in members.items()},
    }
    # mkstemp creates the file exclusively (O_EXCL: never through a symlink)
    # under a name no other save shares
    fd, partial = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        with os.fdopen(fd, "wb") as file:
            with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
                for name, data in members.items():
                    # trained float weights barely compress, and deflating them
                    # costs ten times the save itself: a checkpoint per epoch
                    # must not double a short epoch
                    stored = zipfile.ZIP_STORED if name == NETWORK else None
                    archive.writestr(name, data, compress_type=stored)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(partial, _FILE_MODE)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
