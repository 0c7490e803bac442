"""Small file-system checks shared by saving, checkpointing and reading."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO


def check_folder(path: str | os.PathLike) -> None:
    """Raise FileNotFoundError unless the folder that would hold ``path``
    exists, and PermissionError unless a file can be written in it.

    Checked before any work, so that a fit with a checkpoint in a missing
    folder fails at once rather than after its first epoch.
    """
    folder = Path(path).parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "no such folder to save the model in", str(folder)
        )
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise PermissionError(
            errno.EACCES, f"cannot write in this folder ({error.strerror})", str(folder)
        ) from None


def _kind(mode: int) -> str:
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def check_replaceable(path: str | os.PathLike) -> None:
    """Raise ValueError if ``path`` exists and is neither a regular file nor
    a symlink: writing a file there would replace a device node, or block on
    a FIFO until someone reads it.

    Checked before any work, as :func:`check_folder` is.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        raise ValueError(
            f"{os.fspath(path)} exists and is {_kind(mode)}; only a file is replaced."
        )


def open_regular_file(path: str | os.PathLike) -> BinaryIO:
    """Open ``path`` for reading in binary mode, if it is a regular file.

    The file is opened without blocking and checked on the open descriptor,
    so a FIFO or a device given as a file name can neither hang the reader
    nor be swapped in between the check and the read.

    Raises
    ------
    ValueError
        ``path`` is a folder, a FIFO, a device or a socket.
    OSError
        ``path`` cannot be opened (missing, not permitted).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{os.fspath(path)} is {_kind(mode)}; expected a file.")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
