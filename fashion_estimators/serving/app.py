"""The application: module-level endpoints that read the service from
``request.app.state.service``, which :func:`create_app` sets up and whose
lifespan starts the model loading and, at the end, stops its threads."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .batcher import Batcher
from .limits import (
    MAX_BATCH,
    MAX_IMAGES,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    TOP,
    Limits,
)
from .loading import ModelLoader, ServedModel
from .metrics import Metrics
from .openapi import docs_page, openapi
from .parsing import Budget, RequestError, query_flag, query_int, read_images

logger = logging.getLogger(__name__)

SAMPLES = {"ankle-boot.png": 0, "pullover.png": 1, "trouser.png": 2, "shirt.png": 4}
"""The page's sample images (``static/samples/``): test-set images, by index."""
MODEL_HEADER = "X-Model-SHA256"
"""The header that carries the served model file's SHA-256 on every answer."""

_STATIC = Path(__file__).parent.parent / "static"
_DECODE_THREADS = 2  # photos decoded at once: bounds their memory


@dataclass
class Service:
    """What the endpoints share: the bounds, the model and the machinery."""

    limits: Limits
    loader: ModelLoader
    metrics: Metrics
    budget: Budget
    batcher: Batcher
    decoder: concurrent.futures.ThreadPoolExecutor

    def close(self) -> None:
        self.batcher.close()
        self.decoder.shutdown(wait=True)


def _service(request) -> Service:
    service = request.app.state.service
    # loading starts with the lifespan; a server that runs none starts it here
    service.loader.start()
    return service


def error_response(status: int, message: str) -> JSONResponse:
    """The service's answer to a refused request: ``{"error": {...}}``."""
    headers = {"Retry-After": "1"} if status == 503 else None
    return JSONResponse(
        {"error": {"status": status, "message": message}},
        status_code=status,
        headers=headers,
    )


# --------------------------------------------------------------- endpoints
def _prediction(model: ServedModel, file, row, novelty, top: int) -> dict:
    best = np.argsort(-row, kind="stable")[:top]
    return {
        "file": file,
        "top": [
            {
                "class": model.names[j],
                "label": model.labels[j],
                "probability": round(float(row[j]), 4),
            }
            for j in best
        ],
        "unlike_training": None if novelty is None else bool(novelty > 1),
        "novelty_score": None if novelty is None else round(float(novelty), 3),
    }


async def predict(request):
    service = _service(request)
    images, files = await read_images(
        request, service.limits, service.budget, service.decoder
    )
    model = await service.loader.wait(service.limits.read_timeout)
    n_classes = len(model.names)
    top = query_int(request, "top", min(TOP, n_classes), n_classes)
    with_pixels = query_flag(request, "pixels")
    proba, novelty = await service.batcher(images)
    predictions = []
    for i, row in enumerate(proba):
        prediction = _prediction(
            model,
            files[i] if files else None,
            row,
            None if novelty is None else novelty[i],
            top,
        )
        if with_pixels:
            prediction["pixels"] = images[i].ravel().tolist()
        predictions.append(prediction)
    unlike = sum(bool(p["unlike_training"]) for p in predictions)
    service.metrics.answered(len(predictions), unlike)
    return JSONResponse({"predictions": predictions})


async def health(request):
    service = _service(request)
    return JSONResponse(
        {
            "status": "ok",
            "ready": service.loader.ready,
            "images": service.batcher.rows,
            "network_calls": service.batcher.calls,
        }
    )


async def ready(request):
    loader = _service(request).loader
    if not loader.ready:
        return error_response(503, loader.status())
    return JSONResponse({"status": "ready", "model_sha256": loader.sha256})


async def metrics(request):
    body, media_type = _service(request).metrics.exposition()
    return Response(body, media_type=media_type)


async def model(request):
    return JSONResponse(_service(request).loader.loaded().card)


async def openapi_document(request):
    service = _service(request)
    classes = service.loader.loaded().names if service.loader.ready else None
    return JSONResponse(openapi(service.limits, classes))


async def docs(request):
    return HTMLResponse(docs_page(openapi(_service(request).limits)))


async def page(request):
    return FileResponse(_STATIC / "index.html", media_type="text/html")


async def samples(request):
    return JSONResponse(
        [{"file": name, "url": f"/static/samples/{name}"} for name in SAMPLES]
    )


ROUTES = [
    Route("/", page),
    Route("/predict", predict, methods=["POST"]),
    Route("/health", health),
    Route("/ready", ready),
    Route("/metrics", metrics),
    Route("/model", model),
    Route("/openapi.json", openapi_document),
    Route("/docs", docs),
    Route("/samples", samples),
]


# ------------------------------------------------------- errors and headers
async def _refused(request, error: RequestError):
    return error_response(error.status, error.message)


async def _http_error(request, error: HTTPException):
    return error_response(error.status_code, str(error.detail))


class _Answers:
    """ASGI middleware around every HTTP request: its answer carries the
    model file's SHA-256, a handler that failed gets a 500 in JSON (and the
    failure goes to the log), and the metrics count and time it. A client
    that went away before any answer counts with the status 499, as nginx
    logs it."""

    def __init__(self, app, sha256: str, metrics: Metrics):
        self.app = app
        self.header = (MODEL_HEADER.lower().encode("latin-1"), sha256.encode())
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 499

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if status != 499:  # the answer had begun: nothing to mend
                raise
            logger.exception("the service failed on a request")
            answer = error_response(
                500, "the service failed on this request; see its log"
            )
            await answer(scope, receive, sending)
        finally:
            self.metrics.request(scope["path"], status, time.perf_counter() - began)


@contextlib.asynccontextmanager
async def _lifespan(app):
    service = app.state.service
    service.loader.start()
    try:
        yield
    finally:
        service.close()


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
) -> Starlette:
    """The service for ``model_file``, as an ASGI application (Starlette).

    It returns at once, having checked the settings, that ``model_file`` is a
    file and that ``card`` is its card. The model loads on a thread of its
    own when the application starts (its lifespan) or on its first request:
    ``GET /health`` answers meanwhile, ``GET /ready`` answers 503 until the
    model is loaded, converted to onnxruntime and has made a warm-up
    prediction (a few seconds), and requests for predictions wait for it (up
    to ``read_timeout``).

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
        together, each from its first byte until its images are parsed (503
        beyond it), which bounds the memory of many uploads.

    Returns
    -------
    starlette.applications.Starlette

    Raises
    ------
    ValueError
        A setting out of range, ``model_file`` not a file, or ``card`` the
        card of another file.
    OSError
        ``model_file`` or ``card`` cannot be read.

    Examples
    --------
    >>> app = create_app("cnn.fashion")  # doctest: +SKIP
    >>> import uvicorn  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    limits = Limits(
        max_upload_bytes=max_upload_bytes,
        max_images=max_images,
        max_pixels=max_pixels,
        max_batch=max_batch,
        read_timeout=read_timeout,
        max_buffered_bytes=max_buffered_bytes,
    )
    loader = ModelLoader(model_file, card)
    metrics_ = Metrics([route.path for route in ROUTES], limits.max_batch)

    def loaded(done) -> None:
        if done.exception() is None:
            metrics_.model_loaded(loader.sha256, len(done.result().names))

    loader.add_done_callback(loaded)
    app = Starlette(
        routes=[*ROUTES, Mount("/static", StaticFiles(directory=_STATIC))],
        middleware=[Middleware(_Answers, sha256=loader.sha256, metrics=metrics_)],
        exception_handlers={RequestError: _refused, HTTPException: _http_error},
        lifespan=_lifespan,
    )
    service = Service(
        limits=limits,
        loader=loader,
        metrics=metrics_,
        budget=Budget(limits.max_buffered_bytes),
        # the batcher calls the network only once the model is loaded
        batcher=Batcher(
            lambda images: loader.loaded().runtime.predict(images),
            limits.max_batch,
            metrics_.batch_size.observe,
        ),
        decoder=concurrent.futures.ThreadPoolExecutor(
            _DECODE_THREADS, thread_name_prefix="fashion-decode"
        ),
    )
    app.state.service = service
    app.state.batcher = service.batcher
    logger.info("serving %s (sha256 %s)", model_file, loader.sha256)
    return app
