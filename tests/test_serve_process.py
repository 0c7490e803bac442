"""``fashion-estimators serve`` as users run it: a child process on
127.0.0.1 that starts, answers under bounded load without an error, and stops
cleanly on SIGTERM or Ctrl-C, finishing the request under way."""

import io
import json
import signal
import socket
import time

import numpy as np
import pytest
from helpers import FAST_CNN, product_photo
from PIL import Image

from benchmarks.harness import alive, children
from benchmarks.load import Service, drive, json_request, multipart_request
from fashion_estimators import FashionCNNClassifier, save_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_file(small, tmp_path_factory):
    clf = FashionCNNClassifier(**{**FAST_CNN, "filters": (8, 16)})
    clf.fit(small[0], small[1])
    path = tmp_path_factory.mktemp("served") / "cnn.fashion"
    save_model(clf, path)
    return path


def _png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8).reshape(28, 28)).save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image, rng) -> bytes:
    buffer = io.BytesIO()
    product_photo(image, rng).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_it_listens_on_localhost_and_finishes_a_request_under_way_on_sigterm(
    model_file, small
):
    png = _png(small[2][0])
    request = multipart_request("/predict", [("a.png", png, "image/png")])
    with Service(model_file) as service:
        assert service.url.startswith("http://127.0.0.1:")
        # a start took 6.6 s (the default CNN, 2026-12-01): the bound is 9 times it
        assert service.start_seconds < 60
        port = int(service.url.rsplit(":", 1)[1].strip("/"))
        spawned = children(service.process.pid)
        # a request whose body is still arriving when the signal comes
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            half = len(request) // 2
            sock.sendall(request[:half])
            time.sleep(0.5)
            service.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(request[half:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status = service.stop()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(body)["predictions"][0]["file"] == "a.png"
    # ended by the signal it was sent, after shutting down
    assert status in (0, -signal.SIGTERM)
    assert not any(alive(pid) for pid in [service.process.pid, *spawned])


def test_it_is_alive_at_once_and_ready_once_the_model_is_loaded(model_file):
    with Service(model_file, wait_ready=False) as service:
        # loading the file and converting its network take seconds (TensorFlow
        # is imported before the service listens); these requests come within
        # milliseconds of its first line
        assert service.get("/ready") == 503
        assert service.get("/health") == 200
        service.ready()
        ready = time.perf_counter() - service.started
        assert service.get("/ready") == service.get("/health") == 200
    assert ready > service.listen_seconds


def test_ctrl_c_stops_it(model_file):
    with Service(model_file) as service:
        status = service.stop(signal.SIGINT)
    assert status == 130  # the CLI's status for an interrupt


def test_a_bounded_load_of_good_and_bad_requests_gets_no_error(model_file, small):
    rng = np.random.default_rng(0)
    good = [
        multipart_request("/predict", [(f"{i}.png", _png(x), "image/png")])
        for i, x in enumerate(small[2][:20])
    ]
    good += [
        multipart_request("/predict", [(f"{i}.jpg", _jpeg(x, rng), "image/jpeg")])
        for i, x in enumerate(small[2][:4])
    ]
    good.append(
        json_request("/predict", json.dumps({"pixels": small[2][:4].tolist()}).encode())
    )
    bad = [
        multipart_request("/predict", [("x.png", b"not an image", "image/png")]),
        json_request("/predict", b'{"pixels": [[1, 2]]}'),
    ]
    with Service(model_file) as service:
        drive(service.url, good, n_requests=200, concurrency=8, timeout=60)
        before = service.rss_mib()
        first = drive(service.url, good, n_requests=2000, concurrency=16, timeout=120)
        refused = drive(
            service.url, bad[:1], n_requests=200, concurrency=8, timeout=60, expect=422
        )
        refused_json = drive(
            service.url, bad[1:], n_requests=200, concurrency=8, timeout=60, expect=400
        )
        again = drive(service.url, good, n_requests=2000, concurrency=16, timeout=120)
        growth = service.rss_mib() - before
    for result in (first, refused, refused_json, again):
        assert result.errors == 0 and result.unanswered == 0, result.statuses
    assert len(first.latencies) == len(again.latencies) == 2000
    assert growth < 50, f"the service grew {growth:.0f} MiB over 4,400 requests"
