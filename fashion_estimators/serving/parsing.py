"""Requests into images: the body read within bounds, then parsed.

A body is read chunk by chunk: refused with 413 once it passes the upload
limit, 408 if it arrives too slowly, and 503 if all the bodies being read
together would pass the service's buffer budget. A multipart body is parsed
as it arrives, so that only its files' bytes are kept, not the body besides;
a JSON body is counted before it is parsed, so that what parsing makes of it
is bounded by the number of images a request may send. Everything is parsed
in memory: nothing a request sends is written to disk.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from dataclasses import dataclass, field

import numpy as np
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .._images import IMAGE_SHAPE, N_PIXELS, PIXEL_MAX
from ..photos import photo_to_image
from .limits import Limits

INLINE_BYTES = 64 << 10
"""Uploads up to this size are decoded on the event loop; larger ones on the
decoding threads."""
_MAX_NAME = 255
_FIELDS = ("file", "files")
_MEDIA = ("multipart/form-data", "application/json")


class RequestError(Exception):
    """A request the service refuses: an HTTP status and a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def query_int(request, name: str, default: int, high: int) -> int:
    """The query parameter ``name``, an integer from 1 to ``high``."""
    text = request.query_params.get(name)
    if text is None:
        return default
    # str.isdigit() admits digits int() refuses, such as "²"
    if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= high:
        raise RequestError(400, f"?{name}= must be an integer from 1 to {high}")
    return int(text)


def query_flag(request, name: str) -> bool:
    """Whether the query asks ``?name=1`` or ``?name=true``."""
    return request.query_params.get(name, "").lower() in ("1", "true")


class Budget:
    """The bytes of request bodies held at once, across requests: past
    ``limit``, a request is answered 503 instead of growing the service.
    A request's bytes are held from their arrival until its images are
    parsed."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0

    def holding(self) -> _Hold:
        """A hold whose bytes are released when its ``with`` block ends."""
        return _Hold(self)


class _Hold:
    def __init__(self, budget: Budget):
        self._budget = budget
        self.bytes = 0

    def __enter__(self) -> _Hold:
        return self

    def __exit__(self, *exc) -> None:
        self._budget.held -= self.bytes

    def add(self, n: int) -> None:
        if self._budget.held + n > self._budget.limit:
            raise RequestError(
                503, "the service is reading too many uploads at once; try again"
            )
        self._budget.held += n
        self.bytes += n


# ------------------------------------------------------------------ bodies
@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


def _check_filename(filename: str) -> str:
    if len(filename) > _MAX_NAME:
        raise RequestError(400, f"a file name is over {_MAX_NAME} characters")
    if any(c in filename for c in "/\\\x00") or filename in (".", ".."):
        raise RequestError(
            400, f"file names may not hold a path: {filename[:80]!r}; send its name"
        )
    return filename


class _Multipart:
    """The file parts of a multipart body, parsed as its chunks arrive."""

    def __init__(self, content_type: str, max_images: int):
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise RequestError(400, "the multipart body names no boundary")
        self._max_images = max_images
        self.parts: list[_Part] = []
        self._header = [bytearray(), bytearray()]
        self._finished = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_part_data": self._part_data,
                "on_end": self._end,
            },
        )

    def _part_begin(self):
        if len(self.parts) == self._max_images:
            raise RequestError(
                400, f"too many parts: at most {self._max_images} images per request"
            )
        self.parts.append(_Part())

    def _header_field(self, data, start, end):
        self._header[0] += data[start:end]

    def _header_value(self, data, start, end):
        self._header[1] += data[start:end]

    def _header_end(self):
        field_, value = (bytes(h) for h in self._header)
        if field_.lower() == b"content-disposition":
            _, values = parse_options_header(value)
            part = self.parts[-1]
            part.name = values.get(b"name", b"").decode("utf-8", "replace")
            if b"filename" in values:
                # the parser keeps only what follows a backslash (old browsers
                # sent Windows paths): look for one in the header as sent
                name = values[b"filename"].decode("utf-8", "replace")
                part.filename = _check_filename(
                    value.decode("utf-8", "replace") if b"\\" in value else name
                )
        self._header[0].clear()
        self._header[1].clear()

    def _part_data(self, data, start, end):
        self.parts[-1].data += data[start:end]

    def _end(self):
        self._finished = True

    def write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise RequestError(
                400, f"the multipart body is malformed ({error})"
            ) from None

    def close(self) -> list[_Part]:
        try:
            self._parser.finalize()
        except MultipartParseError as error:
            raise RequestError(
                400, f"the multipart body is malformed ({error})"
            ) from None
        if not self._finished:
            raise RequestError(
                400, "the multipart body is incomplete (no final boundary)"
            )
        for part in self.parts:
            if part.name not in _FIELDS:
                raise RequestError(
                    400,
                    f"unknown field {part.name!r:.40}; send images as 'file' or "
                    "'files'",
                )
        if not self.parts:
            raise RequestError(400, "no image: send one as the multipart field 'file'")
        return self.parts


class _Json:
    """A JSON body, kept whole until it is parsed."""

    def __init__(self):
        self.body = bytearray()

    def write(self, chunk: bytes) -> None:
        self.body += chunk


def _json_pixels(body: bytes | bytearray, max_images: int) -> np.ndarray:
    """The images of a JSON body ``{"pixels": [[784 ints], ...]}``."""
    # Parsing makes an object of every value: a body of a million empty lists
    # would take twenty times its size. A body with twice the containers and
    # values that max_images images need is refused unparsed; one a little
    # over is parsed, to say exactly what is wrong with it.
    containers = body.count(b"[") + body.count(b"{")
    values = body.count(b",") + body.count(b":")
    if containers > 2 * (max_images + 2) or values > 2 * max_images * N_PIXELS + 2:
        raise RequestError(
            400,
            "the body is not valid JSON pixels: it holds more lists or values "
            f"than {max_images} images of {N_PIXELS} pixels need",
        )
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise RequestError(400, f"the body is not valid JSON ({error})") from None
    if not isinstance(document, dict) or set(document) != {"pixels"}:
        raise RequestError(
            400, 'the JSON body must be an object with one key, "pixels"'
        )
    rows = document["pixels"]
    if not isinstance(rows, list) or not rows:
        raise RequestError(400, '"pixels" must be a non-empty list of images')
    if len(rows) > max_images:
        raise RequestError(
            400, f"too many images: {len(rows)}; at most {max_images} per request"
        )
    if not all(isinstance(row, list) and len(row) == N_PIXELS for row in rows):
        raise RequestError(
            400, f"each image must be a list of {N_PIXELS} integers (28x28, row by row)"
        )
    if not all(type(v) is int for row in rows for v in row):
        raise RequestError(400, "pixels must be integers from 0 to 255")
    pixels = np.array(rows, dtype=np.int64)
    if pixels.min() < 0 or pixels.max() > PIXEL_MAX:
        raise RequestError(400, "pixels must be integers from 0 to 255")
    return pixels.astype(np.uint8).reshape(-1, *IMAGE_SHAPE)


def _decode(part: _Part, max_pixels: int) -> np.ndarray:
    name = part.filename or part.name
    if not part.data:
        raise RequestError(400, f"{name}: the file is empty")
    try:
        return photo_to_image(io.BytesIO(part.data), max_pixels=max_pixels)
    except ValueError as error:
        raise RequestError(422, f"{name}: {error}") from None


async def _receive(request, sink, hold: _Hold, max_bytes: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not re.fullmatch(r"[0-9]{1,19}", declared):
            raise RequestError(400, "the Content-Length header is not a number")
        if int(declared) > max_bytes:
            raise RequestError(
                413,
                f"the body is {int(declared):,} bytes; at most {max_bytes:,} are read",
            )
    received = 0
    async for chunk in request.stream():
        hold.add(len(chunk))
        received += len(chunk)
        if received > max_bytes:
            raise RequestError(413, f"the body is over the {max_bytes:,} bytes read")
        sink.write(chunk)


async def read_images(
    request, limits: Limits, budget: Budget, decoder
) -> tuple[np.ndarray, list[str | None]]:
    """The images a ``POST /predict`` sends, and their file names.

    Parameters
    ----------
    request : starlette.requests.Request
    limits : Limits
    budget : Budget
        The bytes held across requests.
    decoder : concurrent.futures.Executor
        Where photos larger than :data:`INLINE_BYTES` are decoded.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), uint8
    names : list
        The uploaded files' names; empty for JSON pixels.

    Raises
    ------
    RequestError
        400, 408, 413, 415, 422 or 503, with what was wrong.
    """
    kind = request.headers.get("content-type", "")
    media = kind.split(";")[0].strip().lower()
    if media not in _MEDIA:
        raise RequestError(
            415,
            f"the body is {media or 'untyped'!r:.60}; send images as "
            "multipart/form-data or pixels as application/json",
        )
    sink = (
        _Json() if media == "application/json" else _Multipart(kind, limits.max_images)
    )
    with budget.holding() as hold:
        try:
            await asyncio.wait_for(
                _receive(request, sink, hold, limits.max_upload_bytes),
                limits.read_timeout,
            )
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError since 3.11
            raise RequestError(
                408, f"the body took more than {limits.read_timeout:g} s to arrive"
            ) from None
        if isinstance(sink, _Json):
            return _json_pixels(sink.body, limits.max_images), []
        parts = sink.close()
        loop = asyncio.get_running_loop()
        decoded = []
        for part in parts:
            if len(part.data) <= INLINE_BYTES:
                decoded.append(_decode(part, limits.max_pixels))
            else:
                decoded.append(
                    await loop.run_in_executor(
                        decoder, _decode, part, limits.max_pixels
                    )
                )
        return np.stack(decoded), [part.filename for part in parts]
