"""The service's metrics, in Prometheus' text format at ``GET /metrics``.

Each application has a registry of its own, so that two services in one
process (or one test after another) never share a count. The series:

* ``fashion_requests_total{route, status}``: requests answered;
* ``fashion_request_duration_seconds{route}``: a histogram of the time from a
  request's arrival to the end of its answer;
* ``fashion_images_total``: images answered by ``POST /predict``;
* ``fashion_unlike_training_images_total``: those answered as unlike the
  training data;
* ``fashion_batch_size``: a histogram of the images in each network call;
* ``fashion_model_ready``: 1 once the model is loaded and warm, else 0;
* ``fashion_model_info{sha256, classes}``: the model file's SHA-256 and its
  number of classes, once it is loaded.

A route is one of the application's own paths, ``/static`` for its files, or
``other``: what a client sends never becomes a label, so no client can grow
the number of series.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""The request-latency histogram's bucket bounds, in seconds."""
STATIC = "/static"
OTHER = "other"


def _batch_buckets(max_batch: int) -> tuple[int, ...]:
    powers = [2**i for i in range(max_batch.bit_length()) if 2**i < max_batch]
    return (*powers, max_batch)


class Metrics:
    """The series of one service, in a registry of its own.

    Parameters
    ----------
    routes : iterable of str
        The application's paths: the only values of the ``route`` label,
        besides ``/static`` and ``other``.
    max_batch : int
        The most images in a network call: the batch histogram's top bucket.
    """

    def __init__(self, routes: Iterable[str], max_batch: int):
        self.registry = CollectorRegistry()
        self._routes = frozenset(routes)
        self._counters: dict = {}
        self._timers: dict = {}
        self.requests = Counter(
            "fashion_requests",
            "Requests answered, by route and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fashion_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.images = Counter(
            "fashion_images",
            "Images answered by POST /predict.",
            registry=self.registry,
        )
        self.unlike_training = Counter(
            "fashion_unlike_training_images",
            "Images answered as unlike the training data (novelty score above 1).",
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "fashion_batch_size",
            "Images in each call of the network.",
            buckets=_batch_buckets(max_batch),
            registry=self.registry,
        )
        self.ready = Gauge(
            "fashion_model_ready",
            "1 once the model is loaded and has made its warm-up prediction.",
            registry=self.registry,
        )
        self.model = Gauge(
            "fashion_model_info",
            "1 for the model served, once loaded: its file's SHA-256 and its "
            "number of classes.",
            ["sha256", "classes"],
            registry=self.registry,
        )

    def route(self, path: str) -> str:
        """The ``route`` label of a request path."""
        if path in self._routes:
            return path
        if path.startswith(STATIC + "/"):
            return STATIC
        return OTHER

    def request(self, path: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        route = self.route(path)
        # a series' child, looked up once: labels() validates on every call
        counter = self._counters.get((route, status))
        if counter is None:
            counter = self._counters.setdefault(
                (route, status), self.requests.labels(route, str(status))
            )
        counter.inc()
        timer = self._timers.get(route)
        if timer is None:
            timer = self._timers.setdefault(route, self.latency.labels(route))
        timer.observe(seconds)

    def model_loaded(self, sha256: str, n_classes: int) -> None:
        """Record the model, once it is loaded and warm."""
        self.model.labels(sha256, str(n_classes)).set(1)
        self.ready.set(1)

    def answered(self, n_images: int, n_unlike: int) -> None:
        """Record the images one ``POST /predict`` answered."""
        self.images.inc(n_images)
        if n_unlike:
            self.unlike_training.inc(n_unlike)

    def exposition(self) -> tuple[bytes, str]:
        """The series in Prometheus' text format, and its media type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
