"""A Keras network from someone else's file: bounded, allow-listed, in memory.

``keras.saving.load_model(..., safe_mode=True)`` refuses Python lambdas, but
it still instantiates whatever class or function a config names that is
registered in the loading process, reads members of any size, and extracts
extra members to disk. Before Keras sees an archive, this module

* reads it from memory, with a cap on every member's unpacked size, and
  refuses any member but the three a Keras model has (Keras would extract
  others to disk);
* checks every place a Keras config can name a class or a function against
  :data:`ALLOWED_CLASSES` and :data:`ALLOWED_FUNCTIONS`, the pieces this
  package's networks are made of, and rewrites each named class to its
  canonical module and registered name, so that nothing else registered in
  the process can be reached;
* returns the config's *shape signature* (layer classes and the settings that
  size their weights), for the caller to compare with the network the
  estimator's own parameters describe before any weight is allocated.

Everything wrong with an archive is raised as :class:`UnsafeNetworkError`.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import keras

from ._conv_batch_norm import ConvBatchNorm, DenseBatchNorm
from ._networks import MirrorAverage

_CONFIG, _METADATA = "config.json", "metadata.json"
WEIGHTS = "model.weights.h5"
"""The member of a Keras archive that holds the weights."""
_WEIGHTS = WEIGHTS
_JSON_BYTES = 4 << 20
MEMBER_BYTES = {_CONFIG: _JSON_BYTES, _METADATA: 64 << 10, _WEIGHTS: 1 << 30}
"""The largest unpacked size of each member a Keras archive may hold; an
archive holding any other member is refused (Keras would extract it to disk)."""

_OWN = keras.saving.get_registered_name(MirrorAverage)

ALLOWED_CLASSES: dict[str, tuple[str, str | None]] = {
    **{
        name: ("keras.layers", None)
        for name in (
            "InputLayer",
            "Rescaling",
            "Conv2D",
            "BatchNormalization",
            "ReLU",
            "MaxPooling2D",
            "Flatten",
            "Dropout",
            "Dense",
            "RandomFlip",
            "RandomTranslation",
            "RandomRotation",
            "RandomZoom",
            "RandomErasing",
            "Add",
            "GlobalAveragePooling2D",
        )
    },
    **{
        name: ("keras.initializers", None)
        for name in ("GlorotUniform", "HeNormal", "Zeros", "Ones")
    },
    **{
        name: ("keras.optimizers", None) for name in ("Adam", "AdamW", "RMSprop", "SGD")
    },
    "DTypePolicy": ("keras", None),
    "Functional": ("keras.src.models.functional", "Functional"),
    "MirrorAverage": (MirrorAverage.__module__, _OWN),
    **{
        layer.__name__: (layer.__module__, keras.saving.get_registered_name(layer))
        for layer in (ConvBatchNorm, DenseBatchNorm)
    },
}
"""Every class a network of this package is made of: class name -> the
module and registered name Keras is told to find it under."""

ALLOWED_FUNCTIONS: dict[str, frozenset] = {
    "activation": frozenset({"linear", "relu", "softmax"}),
    "loss": frozenset({"sparse_categorical_crossentropy"}),
    "metrics": frozenset({"accuracy"}),
}
"""The config keys whose string values Keras looks up as functions, and the
names this package's networks use there."""

# keys whose values Keras deserializes as objects: None or an allowed class
_OBJECT_KEY_ENDINGS = ("_initializer", "_regularizer", "_constraint")
# a serialized reference to another layer's output, not an object to build
_TENSOR = "__keras_tensor__"
# the settings that decide how many weights a layer allocates
_SHAPE_KEYS = (
    "batch_shape",
    "units",
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "dilation_rate",
    "groups",
    "use_bias",
    "pool_size",
    "axis",
    "center",
    "scale",
    "data_format",
)


class UnsafeNetworkError(ValueError):
    """A Keras archive is malformed, too large, or names something outside
    the allow-list."""


# A member larger than this may not inflate more than _MAX_RATIO times: float
# weights barely compress, a zip bomb's zeros a thousandfold, so a large
# allocation needs a file of comparable size.
_SMALL_MEMBER = 64 << 20
_MAX_RATIO = 4
# the most bytes the central directory of a few short-named members takes
_MAX_DIRECTORY = 64 << 10
_END_RECORD = b"PK\x05\x06"


def check_directory(file, max_members: int) -> None:
    """Refuse a zip archive whose central directory lists more than
    ``max_members`` members or takes more than 64 KiB, read from its end
    record before ``zipfile`` builds an object for every entry. Archives this
    package reads never need zip64, which is refused too.

    Parameters
    ----------
    file : binary file object
        Seekable; left at its start.
    max_members : int
    """
    file.seek(0, 2)
    size = file.tell()
    file.seek(max(0, size - (22 + 0xFFFF)))
    tail = file.read()
    file.seek(0)
    at = tail.rfind(_END_RECORD)
    if at < 0 or len(tail) < at + 22:
        raise UnsafeNetworkError("it has no zip end record")
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        raise UnsafeNetworkError("it is a zip64 archive, which this format never is")
    if entries > max_members or directory > _MAX_DIRECTORY:
        raise UnsafeNetworkError(
            f"its zip directory lists {entries} members in {directory} bytes; "
            f"expected at most {max_members}"
        )


def read_members(archive: zipfile.ZipFile, caps: dict[str, int]) -> dict[str, bytes]:
    """Every member of ``archive``, each read up to its cap in ``caps``.

    A member of more than 64 MiB is further capped at four times its
    compressed size.

    Raises
    ------
    UnsafeNetworkError
        For a member not in ``caps``, a repeated name, or one that unpacks
        to more than its cap (checked on the bytes, not only the header).
    """
    infos = archive.infolist()
    names = [info.filename for info in infos]
    unknown = sorted(set(names) - set(caps))
    if unknown or len(names) != len(set(names)):
        raise UnsafeNetworkError(
            f"unexpected members {unknown or names}; expected only "
            f"{', '.join(sorted(caps))}"
        )
    members = {}
    for info in infos:
        cap = caps[info.filename]
        if info.file_size > _SMALL_MEMBER:
            cap = min(cap, max(_SMALL_MEMBER, _MAX_RATIO * info.compress_size))
        if info.file_size > cap:
            raise UnsafeNetworkError(
                f"{info.filename} unpacks to {info.file_size} bytes, more than "
                f"the {cap} this format allows"
            )
        with archive.open(info) as member:
            data = member.read(cap + 1)
        if len(data) > cap:
            raise UnsafeNetworkError(
                f"{info.filename} unpacks to more than {cap} bytes"
            )
        members[info.filename] = data
    return members


def parse_json(data: bytes, what: str):
    """JSON from ``data``; UnsafeNetworkError for anything that is not."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise UnsafeNetworkError(f"{what} is not valid JSON ({error})") from None


def _allowed(name, module, registered) -> bool:
    """Whether a config may name this class: an allowed one, from its own
    module (any of Keras' spellings for Keras' classes), registered under its
    own name, none, or the ">Name" that scikeras registers Keras' own
    classes under."""
    if not isinstance(name, str) or name not in ALLOWED_CLASSES:
        return False
    canonical_module, canonical_name = ALLOWED_CLASSES[name]
    own_module = module is None or module == canonical_module
    if canonical_module.split(".")[0] == "keras":
        own_module = module is None or (
            isinstance(module, str) and module.split(".")[0] == "keras"
        )
    return own_module and registered in (None, name, f">{name}", canonical_name)


def _check_names(config, key: str = "") -> None:
    """Refuse any class, function or registered name outside the allow-list,
    and give each allowed class its canonical module and registered name."""
    if isinstance(config, list):
        for item in config:
            _check_names(item, key)
        return
    if isinstance(config, str):
        if key in ALLOWED_FUNCTIONS and config not in ALLOWED_FUNCTIONS[key]:
            raise UnsafeNetworkError(f"the network names the function {config!r}")
        if ">" in config:
            raise UnsafeNetworkError(f"the network names the custom object {config!r}")
        return
    if not isinstance(config, dict):
        if key in ALLOWED_FUNCTIONS or key.endswith(_OBJECT_KEY_ENDINGS):
            if config is not None:
                raise UnsafeNetworkError(f"the network's {key} is {config!r}")
        return
    if key in ALLOWED_FUNCTIONS:
        raise UnsafeNetworkError(f"the network's {key} is an object, not a name")
    # the innermost offender first: the function inside a layer, say. An
    # object's own module and registered name are checked with its class.
    named = ("module", "registered_name") if "class_name" in config else ()
    for inner_key, value in config.items():
        if inner_key not in named:
            _check_names(value, inner_key if isinstance(inner_key, str) else "")
    if "class_name" in config:
        name = config["class_name"]
        if name == _TENSOR:
            if config.get("module") is not None or config.get("registered_name"):
                raise UnsafeNetworkError("the network names a module for a tensor")
        elif not _allowed(name, config.get("module"), config.get("registered_name")):
            raise UnsafeNetworkError(
                f"the network uses {config.get('module')}.{name}; only Keras "
                "classes of this package's networks are loaded (it is "
                f"registered as {config.get('registered_name')!r})"
            )
        else:
            config["module"], config["registered_name"] = ALLOWED_CLASSES[name]
    elif key.endswith(_OBJECT_KEY_ENDINGS):
        raise UnsafeNetworkError(f"the network's {key} is not a Keras object")


def shape_signature(config) -> list:
    """The layer classes of a serialized network, in order, each with the
    settings that size its weights."""
    signature = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            name = node.get("class_name")
            inner = node.get("config")
            if name in ALLOWED_CLASSES and name != "DTypePolicy":
                settings = inner if isinstance(inner, dict) else {}
                build = node.get("build_config")
                signature.append(
                    [
                        name,
                        [[k, settings[k]] for k in _SHAPE_KEYS if k in settings],
                        build.get("input_shape") if isinstance(build, dict) else None,
                    ]
                )
            for key, value in node.items():
                if key not in ("compile_config", "inbound_nodes"):
                    walk(value)

    walk(config.get("config") if isinstance(config, dict) else config)
    return signature


def read_network(data: bytes) -> tuple[dict[str, bytes], dict]:
    """Open a Keras archive held in ``data`` and check it.

    Returns
    -------
    members : dict of str to bytes
        Its members, with the config rewritten to canonical class names.
    config : dict
        The parsed config.

    Raises
    ------
    UnsafeNetworkError
    """
    try:
        buffer = io.BytesIO(data)
        check_directory(buffer, len(MEMBER_BYTES))
        with zipfile.ZipFile(buffer) as archive:
            members = read_members(archive, MEMBER_BYTES)
    except UnsafeNetworkError:
        raise
    except Exception as error:  # zipfile raises many types on crafted input
        raise UnsafeNetworkError(
            f"it is not a Keras archive ({type(error).__name__}: {error})"
        ) from None
    for name in (_CONFIG, _WEIGHTS):
        if name not in members:
            raise UnsafeNetworkError(f"the Keras archive has no {name}")
    config = parse_json(members[_CONFIG], _CONFIG)
    if not isinstance(config, dict):
        raise UnsafeNetworkError("its config describes no Keras model")
    _check_names(config)
    if config.get("class_name") != "Functional":
        raise UnsafeNetworkError("its config describes no Keras Functional model")
    members[_CONFIG] = json.dumps(config).encode()
    return members, config


def load_network(members: dict[str, bytes]) -> keras.Model:
    """The Keras model of an archive that :func:`read_network` accepted,
    loaded in Keras' safe mode from a private temporary folder (Keras' public
    loader takes only a path), which holds no more than those members."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder, "network.keras")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:
        raise UnsafeNetworkError(
            f"Keras refused its network in safe mode ({type(error).__name__}: {error})"
        ) from None
