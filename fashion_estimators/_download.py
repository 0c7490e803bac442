"""Downloading one file safely: bounded retries, verification, atomic rename.

The file is written to a temporary name beside its destination, verified, and
only then renamed into place, so the cache never holds a partial or corrupt
file, even when the download fails or two processes fetch at once.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException
from pathlib import Path

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be downloaded and verified."""


def _fetch_to(
    url: str, path: Path, timeout: float, max_bytes: int | None, deadline: float
) -> None:
    stop = time.monotonic() + deadline
    with urllib.request.urlopen(url, timeout=timeout) as response:
        expected = response.headers.get("Content-Length")
        if expected is not None and not expected.isdigit():
            raise DownloadError(f"the server sent Content-Length {expected[:40]!r}")
        if expected is not None and max_bytes is not None and int(expected) > max_bytes:
            raise DownloadError(
                f"the server announces {expected} bytes; the file is at most "
                f"{max_bytes}"
            )
        received = 0
        with open(path, "wb") as out:
            # read1 returns what one read brings, so the deadline is checked
            # between reads however slowly the bytes come
            while chunk := response.read1(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if max_bytes is not None and received > max_bytes:
                    raise DownloadError(
                        f"the server sent more than {max_bytes} bytes, the most "
                        "this file can take"
                    )
                if time.monotonic() > stop:
                    raise DownloadError(
                        f"the download took longer than its {deadline:g} s deadline"
                    )
    if expected is not None and received != int(expected):
        raise DownloadError(
            f"received {received} bytes, expected {expected} (connection cut short)"
        )


def download(
    url: str,
    destination: str | os.PathLike,
    *,
    verify: Callable[[Path], None],
    timeout: float = 30.0,
    attempts: int = 3,
    backoff: float = 1.0,
    max_bytes: int | None = None,
    deadline: float = 600.0,
) -> Path:
    """Download ``url`` to ``destination`` once ``verify`` accepts the bytes.

    Parameters
    ----------
    url : str
        What to download.
    destination : path
        Where the verified file ends up; its folder is created if needed.
    verify : callable
        Called with the path of the downloaded temporary file; raises
        ValueError when the content is wrong.
    timeout : float
        Seconds to wait for the server on each network operation.
    attempts : int
        How many times to try in all, the first included.
    backoff : float
        Seconds to wait before the second attempt, doubled after each failure.
    max_bytes : int, optional
        The largest the file can be: an attempt stops as soon as the server
        announces or sends more.
    deadline : float
        Seconds an attempt may take in all, however slowly data trickles in;
        checked between reads, so an attempt ends within ``deadline +
        timeout``.

    Returns
    -------
    Path
        ``destination``.

    Raises
    ------
    DownloadError
        When every attempt failed; the message gives the last reason.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(1, attempts + 1):
        fd, tmp_name = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
        )
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            logger.info("Downloading %s (attempt %d/%d)", url, attempt, attempts)
            _fetch_to(url, tmp, timeout, max_bytes, deadline)
            verify(tmp)
            os.replace(tmp, destination)
            return destination
        except (OSError, HTTPException, ValueError) as exc:
            last_error = exc
            logger.warning("Download of %s failed: %s", url, exc)
        finally:
            tmp.unlink(missing_ok=True)
        if isinstance(last_error, urllib.error.HTTPError) and last_error.code < 500:
            break
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    reason = (
        f"no data for {timeout} s (timed out)"
        if isinstance(last_error, TimeoutError)
        else str(last_error)
    )
    raise DownloadError(
        f"could not download {url} after {attempt} attempt(s): {reason}"
    ) from last_error
