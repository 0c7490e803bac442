"""Hostile inputs made at test time: model files, zip bombs, gzip bombs.

Bombs are written by streaming zeros through a compressor, so a file that
unpacks to gigabytes takes a few megabytes on disk and is never kept in the
repository.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

_MIB = 1 << 20


def members(path) -> dict[str, bytes]:
    """Every member of a zip archive, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path, parts: dict[str, bytes], rehash: bool = True) -> None:
    """Write a model file with these members; ``rehash`` makes the manifest's
    checksums match them, as an attacker who knows the format would."""
    if rehash:
        manifest = json.loads(parts["manifest.json"])
        manifest["sha256"] = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in parts.items()
            if name != "manifest.json"
        }
        parts = {**parts, "manifest.json": json.dumps(manifest).encode()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def with_description(model_file, out, **changes) -> Path:
    """A copy of ``model_file`` at ``out`` whose ``estimator.json`` has
    ``changes`` (``params`` updates the parameters), with matching checksums."""
    parts = members(model_file)
    description = json.loads(parts["estimator.json"])
    for key, value in changes.items():
        if key == "params":
            description["params"].update(value)
        else:
            description[key] = value
    rewrite(out, {**parts, "estimator.json": json.dumps(description).encode()})
    return Path(out)


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    """An in-memory zip archive of ``parts``."""
    buffer = io.BytesIO()
    # the fastest deflate: the fuzz test builds thousands of these
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def network_parts(model_file) -> dict[str, bytes]:
    """The members of the Keras archive inside a model file."""
    return members(io.BytesIO(members(model_file)["model.keras"]))


def with_network(model_file, out, parts: dict[str, bytes]) -> Path:
    """A copy of ``model_file`` at ``out`` whose Keras archive holds ``parts``,
    with matching checksums."""
    rewrite(out, {**members(model_file), "model.keras": zip_bytes(parts)})
    return Path(out)


def add_zero_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Stream ``size`` zero bytes into ``archive`` as ``name``, deflated."""
    chunk = bytes(_MIB)
    with archive.open(name, "w", force_zip64=True) as member:
        for start in range(0, size, _MIB):
            member.write(chunk[: min(_MIB, size - start)])


def bomb_archive(path, real: dict[str, bytes], bombs: dict[str, int]):
    """A zip archive (a path or a file object) with the ``real`` members as
    they are and each of ``bombs`` as that many zero bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in real.items():
            if name not in bombs:
                out.writestr(name, data)
        for name, size in bombs.items():
            add_zero_member(out, name, size)
    return path


def gzip_bomb(path, size: int) -> Path:
    """A gzip file of ``size`` zero bytes."""
    chunk = bytes(_MIB)
    with gzip.open(path, "wb", compresslevel=1) as out:
        for start in range(0, size, _MIB):
            out.write(chunk[: min(_MIB, size - start)])
    return Path(path)


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_PROBE = """
import importlib, json, sys, warnings
sys.path.insert(0, sys.argv[1])
from crafted import peak_mib
module, name = sys.argv[2].split(":")
call = getattr(importlib.import_module(module), name)
warnings.simplefilter("ignore")
results = []
for path in sys.argv[3:]:
    try:
        call(path)
        outcome = ["ok", ""]
    except Exception as error:
        outcome = [type(error).__name__, str(error)[:300]]
    results.append([path, *outcome, peak_mib()])
print(json.dumps(results))
"""


def load_in_child(loader: str, paths, timeout: float = 300) -> list[list]:
    """Call ``loader`` ("module:function") on each path in turn in a fresh
    process; for each, ``[path, outcome, message, peak MiB so far]``, where
    outcome is "ok" or the exception's type name. The peak is cumulative, so
    a first harmless path measures the baseline."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(Path(__file__).parent), loader]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(path, width: int, height: int) -> Path:
    """A valid white grey PNG of ``width`` x ``height`` pixels, streamed row
    by row: a few hundred kilobytes that decode to ``width * height`` bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width  # filter type 0, then the pixels
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        )
        for _ in range(height):
            data = compressor.compress(row)
            if data:
                out.write(_png_chunk(b"IDAT", data))
        out.write(_png_chunk(b"IDAT", compressor.flush()))
        out.write(_png_chunk(b"IEND", b""))
    return Path(path)


def fetch_test_images(data_home) -> None:
    """The test split, looked for in ``data_home`` first, never downloaded:
    a ``load_in_child`` loader for data folders."""
    from fashion_estimators import fetch_fashion_mnist

    bunch = fetch_fashion_mnist("test", data_home=data_home, download_if_missing=False)
    assert bunch.data.shape == (10_000, 784)
