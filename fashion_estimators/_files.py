"""Small file-system checks shared by saving and checkpointing."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


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
