"""Load on a running model service: a bounded HTTP/1.1 client, and the service
started as its users start it.

:func:`drive` sends a fixed number of requests from a fixed number of
concurrent clients, each on one keep-alive connection, with a deadline; it
counts every answer that is not the expected status as an error. The client
is plain asyncio on prepared request bytes, so that it takes little of the
cores the service needs. :class:`Service` runs ``fashion-estimators serve``
in a child process on a free port of 127.0.0.1 and reads its memory from
``/proc``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def multipart_request(path: str, files: list[tuple[str, bytes, str]]) -> bytes:
    """The bytes of a ``POST path`` with ``files`` (name, data, type) as the
    multipart field ``file`` (one) or ``files`` (several)."""
    boundary = uuid.uuid4().hex
    field_name = "file" if len(files) == 1 else "files"
    body = bytearray()
    for name, data, kind in files:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
            f'filename="{name}"\r\nContent-Type: {kind}\r\n\r\n'
        ).encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + bytes(body)


def json_request(path: str, body: bytes) -> bytes:
    """The bytes of a ``POST path`` with a JSON ``body``."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class LoadResult:
    """What :func:`drive` saw: one latency per answered request (seconds)."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    unanswered: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else 0.0


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return status, body


async def _drive(host, port, requests, n_requests, concurrency, deadline, expect):
    result = LoadResult()
    sent = 0
    start = time.perf_counter()

    async def client(index: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while sent < n_requests and time.perf_counter() < deadline:
                request = requests[sent % len(requests)]
                sent += 1
                began = time.perf_counter()
                writer.write(request)
                try:
                    status, _ = await asyncio.wait_for(
                        _read_answer(reader), deadline - began
                    )
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    result.unanswered += 1
                    result.errors += 1
                    return
                result.latencies.append(time.perf_counter() - began)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status != expect:
                    result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    result.seconds = time.perf_counter() - start
    result.unanswered += max(0, n_requests - sent)
    return result


def drive(
    url: str,
    requests: list[bytes],
    *,
    n_requests: int,
    concurrency: int,
    timeout: float,
    expect: int = 200,
) -> LoadResult:
    """Send ``n_requests`` of ``requests`` (in turn) from ``concurrency``
    clients, stopping at ``timeout`` seconds; requests not sent by then count
    as unanswered."""
    match = re.match(r"http://([^:/]+):(\d+)", url)
    host, port = match.group(1), int(match.group(2))
    deadline = time.perf_counter() + timeout
    return asyncio.run(
        _drive(host, port, requests, n_requests, concurrency, deadline, expect)
    )


class Service:
    """``fashion-estimators serve MODEL --port 0`` in a child process.

    Use as a context manager; ``url`` is where it listens, and leaving the
    block sends SIGTERM and waits for it to end. Entering waits until
    ``GET /ready`` answers 200, unless ``wait_ready`` is false;
    ``listen_seconds`` and ``start_seconds`` are the seconds to the service's
    first line and to readiness. ``checkout``, a checkout of another commit,
    runs that commit's service instead of this one's.
    """

    def __init__(
        self,
        model_file,
        *args: str,
        start_timeout: float = 120.0,
        wait_ready: bool = True,
        checkout: str | os.PathLike | None = None,
    ):
        self.args = [str(model_file), "--port", "0", *args]
        self.start_timeout = start_timeout
        self.wait_ready = wait_ready
        self.checkout = checkout
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.returncode: int | None = None

    def __enter__(self) -> Service:
        self.started = time.perf_counter()
        env = None
        if self.checkout is not None:
            # python -m looks in its working folder first, then PYTHONPATH
            env = {**os.environ, "PYTHONPATH": str(self.checkout)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fashion_estimators", "serve", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=self.checkout,
            env=env,
        )
        line = self._first_line()
        match = re.search(r"at (http://\S+/)", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"the service did not start: {line!r}")
        self.url = match.group(1)
        self.listen_seconds = time.perf_counter() - self.started
        if self.wait_ready:
            self.ready()
        self.start_seconds = time.perf_counter() - self.started
        return self

    def get(self, path: str) -> int:
        """The status of ``GET path``."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10):
                return 200
        except urllib.error.HTTPError as error:
            return error.code

    def ready(self) -> None:
        """Wait until ``GET /ready`` answers 200, or 404 from a service of
        before that route, which was ready once it listened (RuntimeError past
        the start timeout, or if the service ends)."""
        deadline = self.started + self.start_timeout
        while self.get("/ready") not in (200, 404):
            if self.process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError("the service did not become ready")
            time.sleep(0.05)

    def _first_line(self) -> str:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return ""
            line = self.process.stdout.readline()
            if line:
                return line
        return ""

    def rss_mib(self) -> float:
        """The service's resident memory now, in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
        self.process.stdout.close()
        return self.returncode

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.returncode is None:
            self.stop()
