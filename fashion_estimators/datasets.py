"""The Fashion-MNIST loader: find the original files, verify them, parse them.

The four original IDX ``.gz`` files are looked for, in this order, in

1. ``data_home`` (and its ``fashion-mnist`` sub-folder), when given;
2. scikit-learn's data home, ``get_data_home()/fashion-mnist`` (it honours the
   ``SCIKIT_LEARN_DATA`` environment variable);
3. Keras' cache, ``~/.keras/datasets/fashion-mnist`` (honours ``KERAS_HOME``);
4. the Debian package's folder ``/usr/share/datasets/fashion-mnist``
   (``apt-get install dataset-fashion-mnist``);

and otherwise downloaded from the official mirror (or ``$FASHION_MNIST_MIRROR``)
into the first writable data home. Every file is verified by the MD5 of its
*decompressed* content, so recompressed copies (Debian's) are accepted and
corrupt or truncated ones are skipped.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import get_data_home
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ._download import DownloadError, download
from ._idx import md5, parse_idx, read_gzip
from ._images import IMAGE_SHAPE, N_PIXELS

logger = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten class names, indexed by label."""

TRAIN_SIZE = 60_000
"""Images in Fashion-MNIST's training split."""

FEATURE_NAMES: tuple[str, ...] = tuple(f"pixel{i}" for i in range(1, N_PIXELS + 1))
"""Column names of the flattened pixels, as in the widely used CSV copies."""

OFFICIAL_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
MIRROR_ENV = "FASHION_MNIST_MIRROR"
SUBFOLDER = "fashion-mnist"
SYSTEM_DIR = Path("/usr/share/datasets") / SUBFOLDER

# file name -> MD5 of the decompressed IDX content
CHECKSUMS: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
}
# file name -> size of the decompressed IDX content: nothing is decompressed or
# downloaded past it (a download may be a little larger: gzip's framing)
SIZES: dict[str, int] = {
    "train-images-idx3-ubyte.gz": 16 + TRAIN_SIZE * N_PIXELS,
    "train-labels-idx1-ubyte.gz": 8 + TRAIN_SIZE,
    "t10k-images-idx3-ubyte.gz": 16 + 10_000 * N_PIXELS,
    "t10k-labels-idx1-ubyte.gz": 8 + 10_000,
}
DOWNLOAD_DEADLINE = 600.0
"""Seconds a download attempt of one file may take in all."""
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
"""The images file and the labels file of each split."""
_SUBSETS = {"train": ("train",), "test": ("test",), "all": ("train", "test")}

DESCR = """\
Fashion-MNIST
=============

Zalando's article images: 70,000 grey-scale 28x28 images of clothing in 10
classes, 60,000 for training (subset="train") and 10,000 for testing
(subset="test"), 7,000 images per class. Pixels are uint8 intensities, 0 is the
background (black) and 255 the brightest ink.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot.

Source: https://github.com/zalandoresearch/fashion-mnist (MIT licence).
Reference: Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.
"""


def _keras_cache() -> Path:
    keras_home = os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))
    return Path(keras_home).expanduser() / "datasets" / SUBFOLDER


def _download_dir(data_home) -> Path:
    home = Path(data_home) if data_home is not None else Path(get_data_home())
    return home / SUBFOLDER


def search_dirs(data_home: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for the files, in order.

    Parameters
    ----------
    data_home : path, optional
        An explicit folder, searched first (it and its ``fashion-mnist``
        sub-folder).

    Returns
    -------
    list of Path
    """
    dirs = []
    if data_home is not None:
        dirs += [Path(data_home), Path(data_home) / SUBFOLDER]
    dirs += [Path(get_data_home()) / SUBFOLDER, _keras_cache(), SYSTEM_DIR]
    return list(dict.fromkeys(dirs))


def _largest_download(name: str) -> int:
    """The most bytes a gzip of ``name``'s content can take: incompressible
    data in stored deflate blocks costs 5 bytes per 64 KiB, plus headers."""
    return SIZES[name] + SIZES[name] // 1000 + 4096


def _verified(path: Path, name: str, expected_md5: str) -> bytes:
    """Decompressed content of ``path``; ValueError if it fails its checksum.
    No more than the file's expected size plus one byte is decompressed."""
    data = read_gzip(path, max_bytes=SIZES[name])
    digest = md5(data)
    if digest != expected_md5:
        raise ValueError(
            f"{path} fails its checksum: the MD5 of its decompressed content is "
            f"{digest}, expected {expected_md5}."
        )
    return data


def _not_found(name: str, dirs: list[Path], problems: list[str]) -> str:
    looked = "\n".join(f"  - {d / name}" for d in dirs)
    found = "".join(f"\n  {p}" for p in problems)
    return (
        f"Fashion-MNIST file {name} was not found. Looked in:\n{looked}"
        + (f"\nFiles found but rejected:{found}" if found else "")
        + "\nProvide the files in one of three ways:\n"
        "  1. on Debian/Ubuntu: apt-get install dataset-fashion-mnist\n"
        "  2. copy the four original .gz files into a folder and pass it as "
        "data_home= (or set SCIKIT_LEARN_DATA and use its fashion-mnist folder)\n"
        "  3. allow the download (download_if_missing=True) from a machine with "
        f"network access, optionally from your own mirror via ${MIRROR_ENV}"
    )


def _load_file(name: str, data_home, download_if_missing: bool) -> bytes:
    dirs = search_dirs(data_home)
    expected_md5 = CHECKSUMS[name]
    problems = []
    for folder in dirs:
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = _verified(path, name, expected_md5)
        except (OSError, ValueError) as exc:
            logger.warning("Skipping %s: %s", path, exc)
            problems.append(str(exc))
            continue
        logger.debug("Using %s", path)
        return data
    if not download_if_missing:
        raise FileNotFoundError(_not_found(name, dirs, problems))
    mirror = os.environ.get(MIRROR_ENV, OFFICIAL_MIRROR)
    url = mirror.rstrip("/") + "/" + name
    verified = []  # the content checked by the download, so it is read once
    try:
        download(
            url,
            _download_dir(data_home) / name,
            verify=lambda tmp: verified.append(_verified(tmp, name, expected_md5)),
            max_bytes=_largest_download(name),
            deadline=DOWNLOAD_DEADLINE,
        )
    except DownloadError as exc:
        raise DownloadError(f"{exc}\n{_not_found(name, dirs, problems)}") from exc
    return verified[-1]


def _load_split(split: str, data_home, download_if_missing: bool):
    images_name, labels_name = SPLIT_FILES[split]
    images = parse_idx(
        _load_file(images_name, data_home, download_if_missing),
        ndim=3,
        name=images_name,
    )
    labels = parse_idx(
        _load_file(labels_name, data_home, download_if_missing),
        ndim=1,
        name=labels_name,
    )
    if images.shape[1:] != IMAGE_SHAPE or len(images) != len(labels):
        raise ValueError(
            f"{images_name} holds images of shape {images.shape}, {labels_name} "
            f"{len(labels)} labels; expected (n, 28, 28) images and n labels."
        )
    return images, labels


def fetch_fashion_mnist(
    subset: str = "train",
    *,
    data_home: str | os.PathLike | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
    as_frame: bool = False,
):
    """Load the Fashion-MNIST dataset (classification, 10 classes).

    =================  ==============================
    Classes                                        10
    Samples total                              70,000
    Samples per split       60,000 train, 10,000 test
    Features                   784 pixels, uint8 0-255
    =================  ==============================

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which split to load; "all" is the training set followed by the test set.
    data_home : path, optional
        A folder searched first for the four original ``.gz`` files and into
        which missing files are downloaded. By default scikit-learn's data home.
    download_if_missing : bool, default=True
        Download the files from the official mirror when no verified copy is
        found. If False, a missing file raises FileNotFoundError.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a DataFrame with columns ``pixel1``..``pixel784``,
        ``target`` as a Series named ``label``, and the Bunch's ``frame`` with both.

    Returns
    -------
    Bunch
        ``data`` (n, 784) uint8, ``images`` (n, 28, 28) uint8, ``target`` (n,)
        int labels 0-9, ``target_names`` (the ten class names),
        ``feature_names``, ``frame`` (a DataFrame when ``as_frame``, else
        None) and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        No verified copy was found and ``download_if_missing`` is False; the
        message lists the folders searched and how to provide the files.
    DownloadError
        The download failed (no network, server error, checksum mismatch).

    Examples
    --------
    >>> from fashion_estimators import fetch_fashion_mnist
    >>> X, y = fetch_fashion_mnist(subset="test", return_X_y=True)
    >>> X.shape, X.dtype.name, y[:3].tolist()
    ((10000, 784), 'uint8', [9, 2, 1])
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {sorted(_SUBSETS)}; got {subset!r}.")
    parts = [
        _load_split(split, data_home, download_if_missing) for split in _SUBSETS[subset]
    ]
    images = np.concatenate([p[0] for p in parts])
    target = np.concatenate([p[1] for p in parts]).astype(np.int64)
    data = images.reshape(len(images), N_PIXELS)

    frame = None
    if as_frame:
        frame = pd.DataFrame(data, columns=list(FEATURE_NAMES))
        frame["label"] = target
        data, target = frame[list(FEATURE_NAMES)], frame["label"]
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=images,
        target=target,
        target_names=list(CLASS_NAMES),
        feature_names=list(FEATURE_NAMES),
        frame=frame,
        DESCR=DESCR,
    )


def stratified_subset(X, y, n_samples: int | None, *, random_state=0):
    """A random subset of ``n_samples`` rows in which each class keeps its share.

    A few thousand stratified images make a fair small training set for a
    quick fit or a test.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n, ...)
        Samples.
    y : array-like of shape (n,)
        Their labels.
    n_samples : int or None
        Rows to keep. None, or at least ``len(X)``, returns ``X`` and ``y``
        unchanged.
    random_state : int, RandomState instance or None, default=0
        Seeds the draw.

    Returns
    -------
    X_subset, y_subset
        The same types as ``X`` and ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from fashion_estimators import stratified_subset
    >>> X, y = np.zeros((100, 784)), np.repeat([0, 1], [80, 20])
    >>> X_small, y_small = stratified_subset(X, y, 10)
    >>> np.bincount(y_small).tolist()
    [8, 2]
    """
    if n_samples is None or n_samples >= len(X):
        return X, y
    X_subset, _, y_subset, _ = train_test_split(
        X, y, train_size=n_samples, stratify=y, random_state=random_state
    )
    return X_subset, y_subset
