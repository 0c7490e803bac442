"""Small file-system checks shared by saving and checkpointing."""

from __future__ import annotations

import errno
import os
from pathlib import Path


def check_folder(path: str | os.PathLike) -> None:
    """Raise FileNotFoundError unless the folder that would hold ``path`` exists.

    Checked before any work, so that a fit with a checkpoint in a missing
    folder fails at once rather than after its first epoch.
    """
    folder = Path(path).parent
    if not folder.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, "no such folder to save the model in", str(folder)
        )
