"""Reading the IDX format of the original (Fashion-)MNIST files.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the data. The
Fashion-MNIST files hold unsigned bytes (type code 0x08): images have three
dimensions (n, 28, 28), labels one (n,).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib

import numpy as np

_UBYTE = 0x08


def read_gzip(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """Return the decompressed bytes of a ``.gz`` file.

    Parameters
    ----------
    path : path
        The file.
    max_bytes : int, optional
        The most it may decompress to: at most one byte more is ever
        decompressed, so a small file that unpacks to gigabytes costs nothing.

    Raises
    ------
    ValueError
        If the file is not a complete gzip stream, or decompresses to more
        than ``max_bytes``.
    """
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(-1 if max_bytes is None else max_bytes + 1)
            if max_bytes is None or len(data) <= max_bytes:
                f.read(1)  # reach the end: the CRC and length are checked there
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{os.fspath(path)} is not a valid gzip file: {exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:
        raise ValueError(
            f"{os.fspath(path)} decompresses to more than {max_bytes} bytes, the "
            "size of the file it should hold."
        )
    return data


def md5(data: bytes) -> str:
    """Hex MD5 digest of ``data``."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_idx(data: bytes, *, ndim: int, name: str = "IDX data") -> np.ndarray:
    """Parse an unsigned-byte IDX payload into an array.

    Parameters
    ----------
    data : bytes
        The decompressed file content.
    ndim : int
        The number of dimensions expected: 3 for images, 1 for labels.
    name : str
        What to call the data in error messages (usually its file name).

    Returns
    -------
    ndarray of uint8
        A read-only array of the shape the header declares.

    Raises
    ------
    ValueError
        If the magic number, the header or the data size is wrong.
    """
    expected_magic = (_UBYTE << 8) | ndim
    if len(data) < 4:
        raise ValueError(f"{name} is too short ({len(data)} bytes) to be IDX.")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{name} has magic number 0x{magic:08x}; expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim} dimension(s))."
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"{name} is truncated inside its header.")
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    expected = int(np.prod(shape))
    actual = len(data) - header_size
    if actual != expected:
        raise ValueError(
            f"{name} has {actual} bytes of data; its header declares shape "
            f"{shape}, i.e. {expected} bytes (truncated or corrupt file)."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
