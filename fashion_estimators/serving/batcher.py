"""Batching: requests that arrive while the network is busy go together into
its next call."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable

import numpy as np


class Batcher:
    """Runs ``predict`` on one thread of its own; what queues meanwhile goes
    together, up to ``max_batch`` images a call.

    Parameters
    ----------
    predict : callable
        ``predict(images) -> (proba, novelty or None)``, row for row.
    max_batch : int
        The most images in one call; a request of more goes alone.
    observe : callable, optional
        Called with the number of images of each call that succeeded.
    """

    def __init__(
        self,
        predict: Callable,
        max_batch: int,
        observe: Callable[[int], None] | None = None,
    ):
        self._predict = predict
        self._max_batch = max_batch
        self._observe = observe
        self._pending: list = []
        self._running = False
        self._task = None
        self._thread = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="fashion-predict"
        )
        self.calls = 0
        self.rows = 0

    async def __call__(self, images: np.ndarray):
        """``predict(images)``, sharing a call with other requests."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((images, future))
        if not self._running:
            self._running = True
            # the loop holds tasks weakly: keep this one until it ends
            self._task = loop.create_task(self._drain())
        return await future

    def _next_batch(self) -> tuple[list, int]:
        batch, rows = [], 0
        while self._pending and (
            not batch or rows + len(self._pending[0][0]) <= self._max_batch
        ):
            batch.append(self._pending.pop(0))
            rows += len(batch[-1][0])
        return batch, rows

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, rows = self._next_batch()
                images = np.concatenate([images for images, _ in batch])
                try:
                    proba, novelty = await loop.run_in_executor(
                        self._thread, self._predict, images
                    )
                except Exception as error:  # the requests answer it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.calls += 1
                self.rows += rows
                if self._observe is not None:
                    self._observe(rows)
                start = 0
                for images, future in batch:
                    end = start + len(images)
                    if not future.done():
                        future.set_result(
                            (
                                proba[start:end],
                                None if novelty is None else novelty[start:end],
                            )
                        )
                    start = end
        finally:
            self._running = False

    def close(self) -> None:
        """Wait for the call under way, and stop the thread."""
        self._thread.shutdown(wait=True)
