"""Grid searches on a Dask cluster, through joblib's own "dask" backend.

scikit-learn's ``GridSearchCV``, ``RandomizedSearchCV`` and ``cross_validate``
run their fits through joblib; joblib's "dask" backend hands them to a
``dask.distributed`` cluster. This module adds what our estimators need on
top of it, and nothing engine-specific reaches the estimators themselves:

* :func:`dask_cluster` owns an embedded ``LocalCluster`` (worker processes of
  one thread, on 127.0.0.1 only) or connects to a running scheduler, waits
  for its workers and checks them;
* :func:`fit_on_dask` runs a search there with the data and the
  cross-validation splits copied to every worker, so that the scheduler can
  re-run a lost worker's fits elsewhere.

Needs the ``[dask]`` extra: ``pip install "fashion-estimators[dask]"``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
from collections.abc import Iterator

import joblib
import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv

logger = logging.getLogger(__name__)

WORKER_START_TIMEOUT = 120.0
"""Seconds to wait for workers: each imports TensorFlow before it is ready,
far longer than joblib's 10 s default."""


def _distributed():
    try:
        import distributed
    except ImportError as error:
        raise ImportError(
            "Running on Dask needs the dask extra: "
            'pip install "fashion-estimators[dask]"'
        ) from error
    return distributed


def tf_thread_environment(tf_threads: int) -> dict[str, str]:
    """Environment variables that bound TensorFlow to ``tf_threads`` threads.

    TensorFlow reads them once, when it starts, and ignores
    ``OMP_NUM_THREADS``; a worker process must have them before it imports
    TensorFlow.

    Parameters
    ----------
    tf_threads : int
        Threads of TensorFlow's intra-op and inter-op pools.

    Returns
    -------
    dict of str to str
    """
    if tf_threads < 1:
        raise ValueError(f"tf_threads must be at least 1; got {tf_threads}.")
    return {
        "TF_NUM_INTRAOP_THREADS": str(tf_threads),
        "TF_NUM_INTEROP_THREADS": str(tf_threads),
        "OMP_NUM_THREADS": str(tf_threads),
    }


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})")


def reach_scheduler(scheduler: str, timeout: float) -> None:
    """Refuse an address that is not ``tcp://`` or ``tls://host:port``, one
    where nothing accepts a connection within ``timeout`` and, over plain
    TCP, one that does not greet as a Dask server does at once. Checked with
    a plain socket, because a ``Client`` retries a refused connection for its
    whole timeout, waits forever on a server that never answers its
    handshake, and then hangs again while it is collected.

    Parameters
    ----------
    scheduler : str
        "tcp://host:port" or "tls://host:port".
    timeout : float
        Seconds to wait for the connection and the greeting.

    Raises
    ------
    ValueError
        ``scheduler`` is not such an address.
    ConnectionError
        Nothing Dask-like answered in time.
    """
    match = _ADDRESS.fullmatch(scheduler) if isinstance(scheduler, str) else None
    if match is None or not 0 < int(match[3]) < 65536:
        raise ValueError(
            f"{scheduler!r} is not a Dask scheduler address; expected "
            "tcp://HOST:PORT or tls://HOST:PORT."
        )
    host = match[2].strip("[]")
    try:
        with socket.create_connection((host, int(match[3])), timeout=timeout) as peer:
            # a Dask server sends its handshake first; TLS waits for ours
            greeted = match[1] == "tls" or bool(peer.recv(1))
    except OSError as error:
        raise ConnectionError(
            f"No Dask scheduler answered at {scheduler!r} within {timeout:g} s: "
            f"{error.strerror or error}"
        ) from None
    if not greeted:
        raise ConnectionError(
            f"No Dask scheduler answered at {scheduler!r}: something listens "
            "there, but it closed the connection without a Dask handshake."
        )


def check_workers(client) -> None:
    """Refuse a cluster whose workers would not give repeatable fits.

    Raises
    ------
    ValueError
        If a worker runs more than one thread: a seeded fit seeds its whole
        process, so two fits at once in one process are not repeatable.
    RuntimeError
        If the client's, scheduler's and workers' package versions differ
        (from ``Client.get_versions(check=True)``).
    """
    threaded = {w: n for w, n in client.nthreads().items() if n != 1}
    if threaded:
        listing = ", ".join(f"{w} ({n} threads)" for w, n in sorted(threaded.items()))
        raise ValueError(
            f"Dask workers with more than one thread: {listing}. A seeded fit "
            "seeds its whole process, so two fits at once in one worker are not "
            "repeatable. Start workers with one thread each, for example with "
            "'fashion-estimators worker ADDRESS'."
        )
    client.get_versions(check=True)


@contextlib.contextmanager
def dask_cluster(
    scheduler: str | None = None,
    *,
    n_workers: int | None = None,
    tf_threads: int = 1,
    timeout: float = WORKER_START_TIMEOUT,
    connect_timeout: float | None = None,
    security=None,
) -> Iterator:
    """A Dask client for the block, on an embedded or a running cluster.

    Without ``scheduler`` it starts and owns a ``LocalCluster`` of worker
    processes with one thread each, listening on 127.0.0.1 only, and closes
    it when the block ends, also on Ctrl-C. With ``scheduler`` it connects to
    that scheduler and leaves the cluster running.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, "tcp://host:port" or "tls://...".
    n_workers : int, optional
        Workers of the embedded cluster; by default usable cores //
        ``tf_threads``. Ignored with ``scheduler``.
    tf_threads : int, default=1
        TensorFlow threads of each embedded worker. Workers of a running
        cluster get theirs where they start (``fashion-estimators worker``).
    timeout : float, default=120
        Seconds to wait for the first worker(s), and for the scheduler
        unless ``connect_timeout`` is given.
    connect_timeout : float, optional
        Seconds to wait for the scheduler at ``scheduler`` to accept a
        connection and answer.
    security : distributed.Security, optional
        TLS certificates for a "tls://" scheduler (see the cluster guide);
        by default Dask's configuration.

    Yields
    ------
    distributed.Client

    Raises
    ------
    ValueError
        If ``scheduler`` is not a ``tcp://`` or ``tls://`` address.
    ConnectionError
        If no scheduler answers at ``scheduler`` in time.
    ValueError, RuntimeError
        From :func:`check_workers`.
    """
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            env = tf_thread_environment(tf_threads)
            n_workers = n_workers or max(1, usable_cores() // tf_threads)
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    # the HTTP servers too: a scheduler runs what it is sent
                    dashboard_address="127.0.0.1:0",
                    worker_dashboard_address="127.0.0.1:0",
                    env=env,
                    silence_logs=logging.WARNING,
                )
            )
            client = stack.enter_context(
                distributed.Client(cluster, set_as_default=False)
            )
            wanted = n_workers
        else:
            connect_timeout = timeout if connect_timeout is None else connect_timeout
            reach_scheduler(scheduler, connect_timeout)
            try:
                client = distributed.Client(
                    scheduler,
                    timeout=connect_timeout,
                    set_as_default=False,
                    security=security,
                )
            except OSError as error:
                raise ConnectionError(
                    f"No Dask scheduler answered at {scheduler!r} within "
                    f"{connect_timeout:g} s: {error}"
                ) from error
            stack.enter_context(client)
            wanted = 1
        try:
            client.wait_for_workers(wanted, timeout=timeout)
        except TimeoutError as error:
            raise TimeoutError(
                f"Fewer than {wanted} Dask worker(s) joined within {timeout:g} s."
            ) from error
        check_workers(client)
        logger.info("Dask cluster %s: %d workers", client.scheduler.address, wanted)
        yield client


def _explicit_splits(search, X, y, groups) -> list[tuple[np.ndarray, np.ndarray]]:
    cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
    return list(cv.split(X, y, groups))


def fit_on_dask(
    search,
    X,
    y,
    *,
    client=None,
    groups=None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    tf_threads: int = 1,
    timeout: float = WORKER_START_TIMEOUT,
    **fit_params,
):
    """Fit a scikit-learn search (or any estimator that fits through joblib)
    on a Dask cluster.

    ``X``, ``y`` and every train and test index array are copied to all
    workers before the fits start. joblib would otherwise put each of them on
    one worker only, and a search whose worker dies would then fail instead of
    re-running that worker's fits elsewhere. The splits are the ones
    ``search.cv`` gives; ``search.cv`` is the same after the call. The
    scheduler's Active Memory Manager, which would remove the copies, is
    paused during the search (on a shared cluster, for everyone).

    Parameters
    ----------
    search : GridSearchCV, RandomizedSearchCV or similar
        Has ``cv`` and ``estimator`` parameters and fits with joblib.
    X, y : array-like
        Training data.
    client : distributed.Client, optional
        A client from :func:`dask_cluster`; without one, a cluster is made
        from ``scheduler``, ``n_workers``, ``tf_threads`` and ``timeout``, as
        in :func:`dask_cluster`, for this fit only.
    groups : array-like, optional
        Group labels for a group-aware ``cv``.
    **fit_params
        Passed on to ``search.fit``.

    Returns
    -------
    search
        Fitted; its refit, if any, ran in this process.
    """
    if client is None:
        with dask_cluster(
            scheduler, n_workers=n_workers, tf_threads=tf_threads, timeout=timeout
        ) as client:
            return fit_on_dask(
                search,
                X,
                y,
                client=client,
                groups=groups,
                timeout=timeout,
                **fit_params,
            )
    if isinstance(X, list):
        X = np.asarray(X)
    if isinstance(y, list):
        y = np.asarray(y)
    splits = _explicit_splits(search, X, y, groups)
    broadcast = [X, y, *(part for split in splits for part in split)]
    cv = search.cv
    search.set_params(cv=splits)
    # The scheduler's Active Memory Manager drops "redundant" replicas, the
    # copies this function puts on every worker; pause it during the search.
    replicas_policed = client.amm.running()
    if replicas_policed:
        client.amm.stop()
    try:
        with joblib.parallel_config(
            backend="dask",
            client=client,
            scatter=broadcast,
            wait_for_workers_timeout=timeout,
        ):
            search.fit(X, y, **fit_params)
    finally:
        search.set_params(cv=cv)
        if replicas_policed:
            client.amm.start()
    return search
