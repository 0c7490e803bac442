"""The model service: a web page and a JSON API for one model file.

``fashion-estimators serve MODEL`` runs it; :func:`create_app` builds the same
ASGI application for a server of one's own. Routes:

* ``POST /predict``: images as multipart files (field ``file``, or ``files``
  for several) or JSON ``{"pixels": [[784 ints], ...]}``; for each, the top
  classes with their probabilities and whether it looks unlike the training
  data;
* ``GET /health`` (liveness, and the images answered, in how many network
  calls), ``GET /ready`` (readiness: 503 until the model is loaded and warm),
  ``GET /metrics`` (Prometheus), ``GET /model`` (the model card),
  ``GET /openapi.json`` and ``GET /docs`` (the API), ``GET /samples``,
  ``GET /`` (the page) and ``/static/`` (its files).

Every answer carries the model file's SHA-256 in the header
``X-Model-SHA256``. Every request is bounded before any work: the body's size
(413 beyond it), the number of images, the pixels an image may decode to. A
bad request gets a 4xx answer in JSON, ``{"error": {"status": ...,
"message": ...}}``; nothing a request sends is written to disk (uploads are
parsed in memory), and no request can name a file on the server.

The network runs in onnxruntime, on one thread of its own: requests that
arrive while it is busy are batched into its next call.

Modules: :mod:`~.app` (the routes), :mod:`~.parsing` (requests into images),
:mod:`~.batcher`, :mod:`~.loading` (the model, loaded on a thread),
:mod:`~.metrics`, :mod:`~.openapi`, :mod:`~.limits` and :mod:`~.server`.
"""

try:
    import prometheus_client  # noqa: F401
    import python_multipart  # noqa: F401
    import starlette  # noqa: F401
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"the model service needs {error.name}: pip install "
        "'fashion-estimators[serve]'",
        name=error.name,
    ) from None

from .app import MODEL_HEADER, SAMPLES, create_app
from .limits import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BATCH,
    MAX_IMAGES,
    MAX_PIXELS,
    MAX_UPLOAD_BYTES,
    TOP,
)
from .parsing import RequestError
from .server import listen, run

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_BATCH",
    "MAX_IMAGES",
    "MAX_PIXELS",
    "MAX_UPLOAD_BYTES",
    "MODEL_HEADER",
    "SAMPLES",
    "TOP",
    "RequestError",
    "create_app",
    "listen",
    "run",
]
