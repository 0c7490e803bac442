"""The model service: a web page and a JSON API for one model file.

``fashion-estimators serve MODEL`` runs it; :func:`create_app` builds the same
ASGI application for a server of one's own. Routes:

* ``POST /predict``: images as multipart files (field ``file``, or ``files``
  for several) or JSON ``{"pixels": [[784 ints], ...]}``; for each, the top
  classes with their probabilities and whether it looks unlike the training
  data;
* ``GET /health`` (and the images answered, in how many network calls),
  ``GET /model`` (the model card), ``GET /openapi.json`` and
  ``GET /docs`` (the API), ``GET /`` (the page) and ``/static/`` (its files).

Every request is bounded before any work: the body's size (413 beyond it),
the number of images, the pixels an image may decode to. A bad request gets a
4xx answer in JSON, ``{"error": {"status": ..., "message": ...}}``; nothing a
request sends is written to disk (uploads are parsed in memory), and no
request can name a file on the server.

The network runs in onnxruntime, on one thread of its own: requests that
arrive while it is busy are batched into its next call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import io
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._images import IMAGE_SHAPE, N_PIXELS, PIXEL_MAX
from .model_card import model_card, read_card
from .options import (
    SERVE_HOST,
    SERVE_MAX_BATCH,
    SERVE_MAX_IMAGES,
    SERVE_MAX_UPLOAD_MB,
    SERVE_PORT,
)
from .photos import photo_to_image
from .reports import label_names

logger = logging.getLogger(__name__)

DEFAULT_HOST = SERVE_HOST
DEFAULT_PORT = SERVE_PORT
MAX_UPLOAD_BYTES = SERVE_MAX_UPLOAD_MB << 20
"""The largest request body, in bytes (413 beyond it)."""
MAX_IMAGES = SERVE_MAX_IMAGES
"""The most images one request may send."""
MAX_PIXELS = 16_000_000
"""The most pixels an uploaded photo may decode to (4,000 x 4,000)."""
MAX_BATCH = SERVE_MAX_BATCH
"""The most images the network is given in one call."""
TOP = 3
"""Classes answered per image, unless the request asks ``?top=k``."""
SAMPLES = {"ankle-boot.png": 0, "pullover.png": 1, "trouser.png": 2, "shirt.png": 4}
"""The page's sample images (``static/samples/``): test-set images, by index."""

_STATIC = Path(__file__).with_name("static")
_DECODE_THREADS = 2  # photos decoded at once: bounds their memory
_INLINE_BYTES = 64 << 10  # smaller uploads are decoded on the event loop
_MAX_NAME = 255
_FIELDS = ("file", "files")


class RequestError(Exception):
    """A request the service refuses: an HTTP status and a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


# ------------------------------------------------------------------ parsing
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


def _multipart(body: bytes, content_type: str, max_images: int) -> list[_Part]:
    """The file parts of a multipart body, parsed in memory."""
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise RequestError(400, "the multipart body names no boundary")
    parts: list[_Part] = []
    header = [bytearray(), bytearray()]
    finished = []

    def on_part_begin():
        if len(parts) == max_images:
            raise RequestError(
                400, f"too many parts: at most {max_images} images per request"
            )
        parts.append(_Part())

    def on_header_field(data, start, end):
        header[0] += data[start:end]

    def on_header_value(data, start, end):
        header[1] += data[start:end]

    def on_header_end():
        if bytes(header[0]).lower() == b"content-disposition":
            _, values = parse_options_header(bytes(header[1]))
            part = parts[-1]
            part.name = values.get(b"name", b"").decode("utf-8", "replace")
            if b"filename" in values:
                # the parser keeps only what follows a backslash (old browsers
                # sent Windows paths): look for one in the header as sent
                raw = bytes(header[1])
                name = values[b"filename"].decode("utf-8", "replace")
                part.filename = _check_filename(
                    raw.decode("utf-8", "replace") if b"\\" in raw else name
                )
        header[0].clear()
        header[1].clear()

    def on_part_data(data, start, end):
        parts[-1].data += data[start:end]

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_end": lambda: finished.append(True),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except MultipartParseError as error:
        raise RequestError(400, f"the multipart body is malformed ({error})") from None
    if not finished:
        raise RequestError(400, "the multipart body is incomplete (no final boundary)")
    for part in parts:
        if part.name not in _FIELDS:
            raise RequestError(
                400,
                f"unknown field {part.name!r:.40}; send images as 'file' or 'files'",
            )
    if not parts:
        raise RequestError(400, "no image: send one as the multipart field 'file'")
    return parts


def _decode(part: _Part, max_pixels: int) -> np.ndarray:
    name = part.filename or part.name
    if not part.data:
        raise RequestError(400, f"{name}: the file is empty")
    try:
        return photo_to_image(io.BytesIO(bytes(part.data)), max_pixels=max_pixels)
    except ValueError as error:
        raise RequestError(422, f"{name}: {error}") from None


def _json_pixels(body: bytes, max_images: int) -> np.ndarray:
    """The images of a JSON body ``{"pixels": [[784 ints], ...]}``."""
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


# ------------------------------------------------------------------ batching
class _Batcher:
    """Runs ``predict`` on one thread; what queues meanwhile goes together."""

    def __init__(self, predict, max_batch: int):
        self._predict = predict
        self._max_batch = max_batch
        self._pending: list = []
        self._running = False
        self._task = None
        self._thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="fashion-predict"
        )
        self.calls = 0
        self.rows = 0

    async def __call__(self, images: np.ndarray):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((images, future))
        if not self._running:
            self._running = True
            # the loop holds tasks weakly: keep this one until it ends
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, rows = [], 0
                while self._pending and (
                    not batch or rows + len(self._pending[0][0]) <= self._max_batch
                ):
                    batch.append(self._pending.pop(0))
                    rows += len(batch[-1][0])
                images = np.concatenate([images for images, _ in batch])
                try:
                    proba, novelty = await loop.run_in_executor(
                        self._thread, self._predict, images
                    )
                except Exception as error:  # the requests answer it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.calls += 1
                self.rows += rows
                start = 0
                for images, future in batch:
                    end = start + len(images)
                    if not future.done():
                        future.set_result(
                            (
                                proba[start:end],
                                None if novelty is None else novelty[start:end],
                            )
                        )
                    start = end
        finally:
            self._running = False

    def close(self) -> None:
        self._thread.shutdown(wait=True)


# ---------------------------------------------------------------- answering
def _error(status: int, message: str):
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error": {"status": status, "message": message}}, status_code=status
    )


def _plain_label(label):
    return label.item() if isinstance(label, np.generic) else label


def _openapi(max_upload_bytes: int, max_images: int, classes: list[str]) -> dict:
    error = {"$ref": "#/components/schemas/Error"}

    def answer(description, schema=None):
        content = {"application/json": {"schema": schema or error}}
        return {"description": description, "content": content}

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fashion-estimators model service",
            "version": "1",
            "description": "Classifies photos of garments with one trained model. "
            f"Classes: {', '.join(classes)}.",
        },
        "paths": {
            "/predict": {
                "post": {
                    "summary": "Classify images",
                    "description": f"Up to {max_images} images in a body of at most "
                    f"{max_upload_bytes:,} bytes. A photo is cut to its garment "
                    "and made a 28x28 grey image; a 28x28 image is taken as it is.",
                    "parameters": [
                        {
                            "name": "top",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "default": TOP},
                            "description": "classes answered per image",
                        },
                        {
                            "name": "pixels",
                            "in": "query",
                            "schema": {"type": "boolean", "default": False},
                            "description": "also answer the 28x28 image the model saw",
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "files": {
                                            "type": "array",
                                            "items": {
                                                "type": "string",
                                                "format": "binary",
                                            },
                                        },
                                    },
                                }
                            },
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["pixels"],
                                    "properties": {
                                        "pixels": {
                                            "type": "array",
                                            "maxItems": max_images,
                                            "items": {
                                                "type": "array",
                                                "minItems": N_PIXELS,
                                                "maxItems": N_PIXELS,
                                                "items": {
                                                    "type": "integer",
                                                    "minimum": 0,
                                                    "maximum": PIXEL_MAX,
                                                },
                                            },
                                        }
                                    },
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": answer(
                            "one prediction per image, in order",
                            {"$ref": "#/components/schemas/Predictions"},
                        ),
                        "400": answer("a malformed request"),
                        "413": answer("a body over the size limit"),
                        "415": answer("neither multipart/form-data nor JSON"),
                        "422": answer("a file that is not a readable image"),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Liveness, and the images answered in how many "
                    "network calls",
                    "responses": {"200": answer("ok", {"type": "object"})},
                }
            },
            "/model": {
                "get": {
                    "summary": "The model card",
                    "responses": {"200": answer("the card", {"type": "object"})},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Predictions": {
                    "type": "object",
                    "properties": {
                        "predictions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": ["string", "null"]},
                                    "top": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "class": {"type": "string"},
                                                "label": {},
                                                "probability": {"type": "number"},
                                            },
                                        },
                                    },
                                    "unlike_training": {"type": ["boolean", "null"]},
                                    "novelty_score": {"type": ["number", "null"]},
                                    "pixels": {
                                        "type": "array",
                                        "items": {"type": "integer"},
                                    },
                                },
                            },
                        }
                    },
                },
            }
        },
    }


def _docs_page(spec: dict) -> str:
    """The API as a plain HTML page (no script, nothing from elsewhere)."""
    rows = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            rows.append(
                f"<h2>{method.upper()} {html.escape(path)}</h2>"
                f"<p>{html.escape(operation['summary'])}. "
                f"{html.escape(operation.get('description', ''))}</p>"
            )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(spec['info']['title'])}</title>"
        f"<h1>{html.escape(spec['info']['title'])}</h1>"
        f"<p>{html.escape(spec['info']['description'])}</p>"
        '<p>The full description: <a href="/openapi.json">openapi.json</a>.</p>'
        + "".join(rows)
        + "</html>"
    )


def _query_int(request, name: str, default: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise RequestError(400, f"?{name}= must be an integer from 1 to {high}")
    return int(text)


class _Budget:
    """The bytes of request bodies held at once, across requests: past
    ``limit``, a request is answered 503 instead of growing the service."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0

    async def read(self, request, max_bytes: int, seconds: float) -> bytes:
        """The body, refused with 413 as soon as it passes ``max_bytes`` and
        with 408 if it takes more than ``seconds`` to arrive."""
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise RequestError(400, "the Content-Length header is not a number")
            if int(declared) > max_bytes:
                raise RequestError(
                    413,
                    f"the body is {int(declared):,} bytes; at most {max_bytes:,} "
                    "are read",
                )
        body = bytearray()
        try:
            await asyncio.wait_for(self._fill(body, request, max_bytes), seconds)
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError since 3.11
            raise RequestError(
                408, f"the body took more than {seconds:g} s to arrive"
            ) from None
        finally:
            self.held -= len(body)
        return bytes(body)

    async def _fill(self, body: bytearray, request, max_bytes: int) -> None:
        async for chunk in request.stream():
            if self.held + len(chunk) > self.limit:
                raise RequestError(
                    503, "the service is reading too many uploads at once; try again"
                )
            body += chunk
            self.held += len(chunk)
            if len(body) > max_bytes:
                raise RequestError(
                    413, f"the body is over the {max_bytes:,} bytes read"
                )


def create_app(
    model_file: str | os.PathLike,
    *,
    card: str | os.PathLike | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    max_images: int = MAX_IMAGES,
    max_pixels: int = MAX_PIXELS,
    max_batch: int = MAX_BATCH,
    read_timeout: float = 60.0,
    max_buffered_bytes: int = 256 << 20,
):
    """The service for ``model_file``, as an ASGI application (Starlette).

    Loading the model and converting its network to onnxruntime takes a few
    seconds; the application is then ready.

    Parameters
    ----------
    model_file : path
        A file written by :func:`~fashion_estimators.save_model`.
    card : path, optional
        The ``model_card.json`` that ``fashion-estimators evaluate`` wrote for
        this file, served at ``GET /model``; without it, ``/model`` serves a
        card made from the model file alone (no test figures).
    max_upload_bytes : int, default=MAX_UPLOAD_BYTES
        The largest request body.
    max_images : int, default=MAX_IMAGES
        The most images in one request.
    max_pixels : int, default=MAX_PIXELS
        The most pixels a photo may decode to.
    max_batch : int, default=MAX_BATCH
        The most images in one call of the network; 1 turns batching off.
    read_timeout : float, default=60.0
        The longest a request's body may take to arrive (408 beyond it), so
        that a client that sends slowly cannot hold its memory for ever.
    max_buffered_bytes : int, default=256 MiB
        The most bytes of request bodies held at once, all requests
        together (503 beyond it), which bounds the memory of many uploads.

    Returns
    -------
    starlette.applications.Starlette

    Examples
    --------
    >>> app = create_app("cnn.fashion")  # doctest: +SKIP
    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import FileResponse, HTMLResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from .persistence import load_model
    from .runtime import OnnxClassifier

    for name, value in [
        ("max_upload_bytes", max_upload_bytes),
        ("max_images", max_images),
        ("max_pixels", max_pixels),
        ("max_batch", max_batch),
        ("max_buffered_bytes", max_buffered_bytes),
    ]:
        if type(value) is not int or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if not 0 < read_timeout < float("inf"):
        raise ValueError(
            f"read_timeout must be a positive number, not {read_timeout!r}"
        )
    estimator = load_model(model_file)
    runtime = OnnxClassifier(estimator)
    the_card = (
        read_card(card, model_file)
        if card is not None
        else model_card(estimator, model_file)
    )
    names = label_names(estimator.classes_)
    labels = [_plain_label(c) for c in estimator.classes_]
    spec = _openapi(max_upload_bytes, max_images, names)
    batcher = _Batcher(runtime.predict, max_batch)
    budget = _Budget(max_buffered_bytes)
    decoder = concurrent.futures.ThreadPoolExecutor(
        _DECODE_THREADS, thread_name_prefix="fashion-decode"
    )

    async def images_of(request) -> tuple[np.ndarray, list]:
        kind = request.headers.get("content-type", "")
        media = kind.split(";")[0].strip().lower()
        if media not in ("multipart/form-data", "application/json"):
            raise RequestError(
                415,
                f"the body is {media or 'untyped'!r:.60}; send images as "
                "multipart/form-data or pixels as application/json",
            )
        body = await budget.read(request, max_upload_bytes, read_timeout)
        if media == "application/json":
            return _json_pixels(body, max_images), []
        parts = _multipart(body, kind, max_images)
        loop = asyncio.get_running_loop()
        decoded = []
        for part in parts:
            if len(part.data) <= _INLINE_BYTES:
                decoded.append(_decode(part, max_pixels))
            else:
                decoded.append(
                    await loop.run_in_executor(decoder, _decode, part, max_pixels)
                )
        return np.stack(decoded), [part.filename for part in parts]

    async def predict(request):
        top = _query_int(request, "top", min(TOP, len(names)), len(names))
        with_pixels = request.query_params.get("pixels", "").lower() in ("1", "true")
        images, files = await images_of(request)
        proba, novelty = await batcher(images)
        predictions = []
        for i, row in enumerate(proba):
            best = np.argsort(-row, kind="stable")[:top]
            prediction = {
                "file": files[i] if files else None,
                "top": [
                    {
                        "class": names[j],
                        "label": labels[j],
                        "probability": round(float(row[j]), 4),
                    }
                    for j in best
                ],
                "unlike_training": None if novelty is None else bool(novelty[i] > 1),
                "novelty_score": None
                if novelty is None
                else round(float(novelty[i]), 3),
            }
            if with_pixels:
                prediction["pixels"] = images[i].ravel().tolist()
            predictions.append(prediction)
        return JSONResponse({"predictions": predictions})

    async def health(request):
        return JSONResponse(
            {"status": "ok", "images": batcher.rows, "network_calls": batcher.calls}
        )

    async def model(request):
        return JSONResponse(the_card)

    async def openapi(request):
        return JSONResponse(spec)

    async def docs(request):
        return HTMLResponse(_docs_page(spec))

    async def page(request):
        return FileResponse(_STATIC / "index.html", media_type="text/html")

    async def samples(request):
        return JSONResponse(
            [{"file": name, "url": f"/static/samples/{name}"} for name in SAMPLES]
        )

    async def refused(request, error: RequestError):
        return _error(error.status, error.message)

    async def http_error(request, error: HTTPException):
        return _error(error.status_code, str(error.detail))

    async def failed(request, error: Exception):
        logger.exception("the service failed on a request")
        return _error(500, "the service failed on this request; see its log")

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()
        decoder.shutdown(wait=True)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/predict", predict, methods=["POST"]),
            Route("/health", health),
            Route("/model", model),
            Route("/openapi.json", openapi),
            Route("/docs", docs),
            Route("/samples", samples),
            Mount("/static", StaticFiles(directory=_STATIC), name="static"),
        ],
        exception_handlers={
            RequestError: refused,
            HTTPException: http_error,
            Exception: failed,
        },
        lifespan=lifespan,
    )
    app.state.estimator = estimator
    app.state.batcher = batcher
    logger.info("serving %s (%s)", model_file, type(estimator).__name__)
    return app


def listen(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> socket.socket:
    """A socket bound to ``host``:``port`` (0: any free port), listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(app, sock: socket.socket, *, graceful_seconds: float = 10.0) -> None:
    """Serve ``app`` on ``sock`` until Ctrl-C or SIGTERM; requests under way
    are finished first (for up to ``graceful_seconds``)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        limit_concurrency=256,
        timeout_graceful_shutdown=graceful_seconds,
    )
    uvicorn.Server(config).run(sockets=[sock])
