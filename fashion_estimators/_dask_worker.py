"""The Dask worker that ``fashion-estimators worker`` starts.

A ``distributed.Worker`` starts an HTTP server (health, metrics and, with the
dashboard, the dashboard's pages) even when the dashboard is off. A worker
runs whatever code reaches it, so it should open no port it does not need:
this one starts the HTTP server only with the dashboard on.
"""

from __future__ import annotations

import distributed


class Worker(distributed.Worker):
    """A ``distributed.Worker`` without an HTTP server unless its dashboard
    is on."""

    def start_http_server(self, routes, dashboard_address, **kwargs) -> None:
        if self._dashboard:
            super().start_http_server(routes, dashboard_address, **kwargs)
