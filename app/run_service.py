"""Runs off the event loop: a bounded pool of worker threads, a wait for a free slot (503 with
Retry-After when none frees up in time), a per-run time limit, and cancellation when the client
goes away.

A run's heavy work happens in its worker thread, the encoding of its output included: the event
loop only hands over the bytes, so it stays free to answer other requests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

_END = object()

# Produces a run's output in the worker thread; stops early once the event is set.
Producer = Callable[[threading.Event], Iterator[bytes]]


class RunnerBusyError(Exception):
    """No slot freed up within the queue timeout."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("all run slots are busy")
        self.retry_after_s = retry_after_s


class RunTimeLimitError(Exception):
    """A run passed its time limit and was stopped."""


class RunService:
    """Owns the worker threads; one per app (created in its lifespan)."""

    def __init__(self, max_concurrent: int, queue_timeout_s: float, run_timeout_s: float):
        self.max_concurrent = max_concurrent
        self.queue_timeout_s = queue_timeout_s
        self.run_timeout_s = run_timeout_s
        self._executor = ThreadPoolExecutor(max_concurrent, thread_name_prefix="optiscope-run")
        self._slots = asyncio.Semaphore(max_concurrent)
        self.in_progress = 0

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``max_concurrent`` slots; RunnerBusyError if none frees up in time."""
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout_s)
        except TimeoutError:
            raise RunnerBusyError(max(1, round(self.queue_timeout_s))) from None
        self.in_progress += 1
        try:
            yield
        finally:
            self.in_progress -= 1
            self._slots.release()

    async def produce(self, producer: Producer) -> AsyncIterator[bytes]:
        """The pieces ``producer`` makes in a worker thread, as they come. Leaving the iteration
        early (a client that disconnected) or the time limit cancels the work before its next
        step.

        Raises:
            RunTimeLimitError: the time limit stopped the run.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel, timed_out = threading.Event(), threading.Event()

        def work() -> None:
            try:
                for piece in producer(cancel):
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
            except BaseException as error:  # handed to the request, which raises it
                loop.call_soon_threadsafe(queue.put_nowait, error)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        def expire() -> None:
            timed_out.set()
            cancel.set()

        timer = loop.call_later(self.run_timeout_s, expire)
        future = loop.run_in_executor(self._executor, work)
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, BaseException) and not timed_out.is_set():
                    raise item
                if isinstance(item, bytes):
                    yield item
            if timed_out.is_set():  # whatever the cut-short producer said
                raise RunTimeLimitError(
                    f"the run passed its time limit of {self.run_timeout_s:g} s"
                )
        finally:
            timer.cancel()
            cancel.set()
            # Let the worker reach its next cancellation check before the slot is given back.
            await asyncio.shield(future)
