"""Shared fixtures: small real Fashion-MNIST samples, synthetic pixels and a
local HTTP server. Shared constants and functions are in ``helpers``."""

import functools
import http.server
import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import FAST_CNN  # noqa: E402

from fashion_estimators import (  # noqa: E402
    N_PIXELS,
    PIXEL_MAX,
    FashionCNNClassifier,
    fetch_fashion_mnist,
    save_model,
    stratified_subset,
)


@pytest.fixture(scope="session")
def train_set():
    """The real training set, (60000, 784) uint8 and labels."""
    return fetch_fashion_mnist(subset="train", return_X_y=True)


@pytest.fixture(scope="session")
def test_set():
    """The real test set, (10000, 784) uint8 and labels."""
    return fetch_fashion_mnist(subset="test", return_X_y=True)


@pytest.fixture(scope="session")
def small(train_set, test_set):
    """600 training and 300 test images, stratified: enough for API tests."""
    X_train, y_train = stratified_subset(*train_set, 600)
    X_test, y_test = stratified_subset(*test_set, 300)
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="session")
def served_cnn(small, tmp_path_factory):
    """A small CNN fitted on ``small`` and its model file, for the service."""
    # float32, so that onnxruntime (always float32) and Keras agree closely
    params = {**FAST_CNN, "filters": (8, 16), "epochs": 3, "precision": "float32"}
    clf = FashionCNNClassifier(**params).fit(small[0], small[1])
    path = tmp_path_factory.mktemp("served") / "cnn.fashion"
    save_model(clf, path)
    return clf, path


@pytest.fixture(scope="session")
def synthetic():
    """Pixels that need no dataset, for the contract tests: ten classes, each a
    fixed random 28x28 pattern plus noise, uint8; 300 training images with
    their labels and 100 more to predict."""
    rng = np.random.default_rng(0)
    patterns = rng.integers(0, PIXEL_MAX + 1, (10, N_PIXELS))

    def draw(n):
        y = np.arange(n) % len(patterns)
        noisy = patterns[y] + rng.normal(0, 40, (n, N_PIXELS))
        return np.clip(noisy, 0, PIXEL_MAX).astype(np.uint8), y

    (X, y), (X_new, _) = draw(300), draw(100)
    return X, y, X_new


@pytest.fixture(scope="session")
def tiny(small):
    """150 training images of three classes, for the many-fit integration tests."""
    X, y = small[0], small[1]
    keep = np.isin(y, [0, 1, 7])
    return X[keep][:150], y[keep][:150]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """``serve(folder)`` serves a folder on 127.0.0.1 and returns its URL; the
    servers stop when the test ends."""
    servers = []

    def start(folder) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()
