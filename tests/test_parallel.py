"""Searches on a Dask cluster: embedded and remote, all on 127.0.0.1."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

# the [test] extra installs distributed: without it these tests fail, not skip
import distributed
import numpy as np
import pytest
from helpers import FAST_MLP
from sklearn.model_selection import GridSearchCV

from benchmarks.harness import alive
from fashion_estimators import FashionMLPClassifier, stratified_subset
from fashion_estimators.cli import main
from fashion_estimators.parallel import (
    dask_cluster,
    fit_on_dask,
    tf_thread_environment,
)

pytestmark = pytest.mark.slow

TINY = dict(FAST_MLP, epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def data(train_set):
    return stratified_subset(*train_set, 400, random_state=1)


def _search():
    return GridSearchCV(
        FashionMLPClassifier(**TINY), {"dropout": [0.0, 0.2]}, cv=3, refit=False
    )


def _scores(search) -> np.ndarray:
    results = search.cv_results_
    return np.array([results[f"split{i}_test_score"] for i in range(3)])


@pytest.fixture(scope="module")
def serial(data):
    return _scores(_search().fit(*data))


@pytest.fixture(scope="module")
def client():
    with dask_cluster(n_workers=2) as client:
        yield client


# a lambda travels by value; a bound os.environ.get would carry our environment
_tf_threads = lambda: os.environ.get("TF_NUM_INTRAOP_THREADS")  # noqa: E731


def test_embedded_cluster_gives_the_serial_scores(client, data, serial):
    assert set(client.nthreads().values()) == {1}
    addresses = [client.scheduler.address, *client.nthreads()]
    assert all(a.startswith("tcp://127.0.0.1:") for a in addresses)
    threads = client.run(_tf_threads)
    assert set(threads.values()) == {"1"}
    search = _search()
    fit_on_dask(search, *data, client=client)
    np.testing.assert_array_equal(_scores(search), serial)
    assert search.cv == 3  # the explicit splits were only lent to the search


def test_a_killed_worker_is_survived(client, data, serial):
    pids = client.run(os.getpid)
    victim, pid = sorted(pids.items())[0]
    killed = threading.Event()
    done = threading.Event()

    def kill_mid_fit():
        while not done.is_set():
            if client.processing(workers=[victim])[victim]:
                time.sleep(0.3)  # into the fit
                os.kill(pid, signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_mid_fit)
    killer.start()
    search = _search()
    try:
        fit_on_dask(search, *data, client=client)
    finally:
        done.set()
        killer.join()
    assert killed.is_set(), "the search ended before a worker could be killed"
    np.testing.assert_array_equal(_scores(search), serial)
    client.wait_for_workers(2, timeout=60)  # the nanny started a new one
    assert pid not in client.run(os.getpid).values() and not alive(pid)


def test_no_worker_process_outlives_the_block_even_on_ctrl_c():
    with pytest.raises(KeyboardInterrupt):
        with dask_cluster(n_workers=1) as client:
            pids = list(client.run(os.getpid).values())
            raise KeyboardInterrupt
    deadline = time.monotonic() + 10
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(alive, pids))


def test_a_multi_threaded_worker_is_refused():
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        with pytest.raises(ValueError, match="more than one thread.*2 threads"):
            with dask_cluster(cluster.scheduler_address, timeout=30):
                pass


def test_a_bad_scheduler_address_fails_once_and_soon():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="No Dask scheduler answered"):
        with dask_cluster("tcp://127.0.0.1:9", timeout=3):
            pass
    assert time.monotonic() - start < 20


def test_tf_threads_must_be_positive():
    assert tf_thread_environment(2)["TF_NUM_INTEROP_THREADS"] == "2"
    with pytest.raises(ValueError, match="tf_threads"):
        tf_thread_environment(0)


def _descendants(pid: int) -> set[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _listening(pid: int) -> list[tuple[str, int]]:
    """The TCP addresses that process ``pid`` and its descendants listen on,
    read from /proc: (host, port) pairs, IPv6 ones with their host in
    brackets."""
    inodes = set()
    for process in _descendants(pid):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{process}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    addresses = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                host, port = fields[1].split(":")
                if width == 8:
                    host = socket.inet_ntoa(bytes.fromhex(host)[::-1])
                else:
                    host = f"[{host}]"
                addresses.append((host, int(port, 16)))
    return addresses


def _scheduler(tmp_path, *options):
    """A `dask scheduler` on 127.0.0.1 and its address, once it is up."""
    scheduler_file = tmp_path / "scheduler.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        return process, json.loads(scheduler_file.read_text())["address"]
    except BaseException:
        process.kill()
        raise


def _workers(address: str, n: int, *options) -> subprocess.Popen:
    """``fashion-estimators worker`` with ``n`` workers for ``address``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fashion_estimators",
            "worker",
            address,
            "--nworkers",
            str(n),
            *options,
        ],
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_remote_scheduler_with_workers_from_the_command_line(data, serial, tmp_path):
    scheduler, address = _scheduler(tmp_path)
    workers = None
    try:
        assert address.startswith("tcp://127.0.0.1:")
        workers = _workers(address, 2)
        with dask_cluster(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            threads = client.run(_tf_threads)
            assert set(threads.values()) == {"1"}
            # by default only on 127.0.0.1, and no HTTP server: each of the
            # two workers and their nannies listens on its comm port alone
            listening = _listening(workers.pid)
            assert {host for host, _ in listening} == {"127.0.0.1"}, listening
            assert len(listening) == 4, listening
            search = _search()
            fit_on_dask(search, *data, client=client)
        np.testing.assert_array_equal(_scores(search), serial)
    finally:
        for process in (workers, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_a_tls_cluster_from_the_cluster_guide(tmp_path):
    """The cluster guide's TLS commands: a scheduler and workers that speak
    only TLS with certificates of one authority, and a client with them."""
    from distributed.security import Security

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    tls = ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
    scheduler, address = _scheduler(tmp_path, "--protocol", "tls", *tls)
    workers = None
    try:
        assert address.startswith("tls://127.0.0.1:")
        workers = _workers(address, 1, *tls)
        security = Security(
            tls_ca_file=str(cert),
            tls_client_cert=str(cert),
            tls_client_key=str(key),
            require_encryption=True,
        )
        with dask_cluster(address, timeout=60, security=security) as client:
            assert client.submit(sum, [1, 2]).result(timeout=30) == 3
        with pytest.raises((ConnectionError, OSError, TimeoutError)):
            with dask_cluster(address.replace("tls", "tcp"), timeout=3):
                pass
    finally:
        for process in (workers, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


def test_search_command_end_to_end(tmp_path, capsys):
    out = tmp_path / "search"
    status = main(
        [
            "search",
            "--model",
            "mlp",
            "--param",
            "dropout=0.0,0.2",
            "--param",
            "hidden_units=(16,)",
            "--param",
            "epochs=2",
            "--cv",
            "2",
            "--n-train",
            "300",
            "--workers",
            "2",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert status == 0
    assert "Searching 4 fits of FashionMLPClassifier on 300 images" in printed
    assert printed.count("  fit dropout=") == 4
    assert "best: {" in printed
    import pandas as pd

    results = pd.read_csv(out / "cv_results.csv")
    assert len(results) == 2 and set(results["rank_test_score"]) <= {1, 2}
    assert (out / "cv_results.json").exists()
    from fashion_estimators import load_model

    best = load_model(out / "best")
    assert best.get_params()["hidden_units"] == (16,)


def _children_left(before: set[int]) -> dict[int, bytes]:
    """This process's descendants not in ``before``, with their command lines,
    less multiprocessing's resource tracker (started once, it lives with this
    process)."""
    left = {}
    for pid in _descendants(os.getpid()) - before:
        with contextlib.suppress(OSError):
            left[pid] = Path(f"/proc/{pid}/cmdline").read_bytes()
    return {pid: c for pid, c in left.items() if b"resource_tracker" not in c}


def test_without_a_client_fit_on_dask_makes_and_removes_its_own_cluster(data, serial):
    before = _descendants(os.getpid())
    search = fit_on_dask(_search(), *data, n_workers=1)
    np.testing.assert_array_equal(_scores(search), serial)
    deadline = time.monotonic() + 10
    while _children_left(before) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _children_left(before)  # no worker left behind
