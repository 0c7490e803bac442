"""Shared fixtures: small real Fashion-MNIST samples and fast model settings."""

import functools
import http.server
import os
import subprocess
import sys
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fashion_estimators import (  # noqa: E402
    N_PIXELS,
    PIXEL_MAX,
    fetch_fashion_mnist,
    stratified_subset,
)

# Settings that make a fit take well under a second; tests that need accuracy
# use the defaults instead. The CNN leaves out the default augmentation, which
# adds most of a second of graph tracing to every fit; tests of augmentation,
# test-time flips and of saving them ask for it.
FAST_CNN = dict(
    filters=(8,),
    dense_units=16,
    epochs=2,
    batch_size=64,
    validation_fraction=0.0,
    augment=None,
    random_state=0,
)
FAST_MLP = dict(
    hidden_units=(32,),
    epochs=3,
    batch_size=64,
    validation_fraction=0.0,
    random_state=0,
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


_LOAD_AND_PREDICT = """
import importlib, sys, numpy as np
module, name = sys.argv[1].split(":")
load = getattr(importlib.import_module(module), name)
X = np.load(sys.argv[2])
for path in sys.argv[3:]:
    np.save(f"{path}.proba.npy", load(path).predict_proba(X))
"""


def probabilities_in_new_process(loader: str, X, paths, folder) -> list:
    """``predict_proba(X)`` of each model file in ``paths``, loaded with
    ``loader`` ("module:function") in a fresh Python process."""
    np.save(folder / "X.npy", X)
    subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, loader, str(folder / "X.npy")]
        + [str(path) for path in paths],
        check=True,
        timeout=300,
    )
    return [np.load(f"{path}.proba.npy") for path in paths]
