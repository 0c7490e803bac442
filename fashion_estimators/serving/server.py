"""Running the application: a listening socket, and uvicorn on it."""

from __future__ import annotations

import socket

from .limits import DEFAULT_HOST, DEFAULT_PORT


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
    are finished first (for up to ``graceful_seconds``).

    For an application of :func:`~fashion_estimators.serving.create_app`
    whose model cannot be loaded, the server stops, and this raises what
    loading raised (:class:`~fashion_estimators.ModelFileError`, say).
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        # uvicorn's own logging set-up replaces the process's handlers (and
        # closes them): its loggers go wherever the process sends its logs
        log_config=None,
        log_level="warning",
        access_log=False,
        limit_concurrency=256,
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = uvicorn.Server(config)
    service = getattr(getattr(app, "state", None), "service", None)
    if service is not None:

        def stop_on_failure(done) -> None:
            if done.exception() is not None:
                server.should_exit = True

        service.loader.add_done_callback(stop_on_failure)
    server.run(sockets=[sock])
    failure = None if service is None else service.loader.failure()
    if failure is not None:
        raise failure
