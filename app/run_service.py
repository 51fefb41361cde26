"""Runs off the event loop: a bounded pool of worker threads, a slot taken before anything is
answered (503 with Retry-After when none frees up in time), a per-run time limit, a bounded
hand-over to the client, and cancellation when the client goes away or reads too slowly.

A run's heavy work happens in its worker thread, the encoding and compression of its output
included: the event loop only hands over the bytes, so it stays free to answer other requests.
A slot is held from before the response starts until the worker has finished computing; what
the worker made waits in a queue of at most ``queue_pieces`` pieces, and a worker whose client
takes longer than ``write_timeout_s`` to make room stops (the client is too slow).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import ctypes.util
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Produces a run's output in the worker thread; stops early once the event is set.
Producer = Callable[[threading.Event], Iterator[bytes]]

_END = object()
# How often a waiting request checks whether its client is still there.
DISCONNECT_POLL_S = 0.25


class RunnerBusyError(Exception):
    """No slot freed up within the queue timeout."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("all run slots are busy")
        self.retry_after_s = retry_after_s


class RunTimeLimitError(Exception):
    """A run passed its time limit and was stopped."""


class SlowClientError(Exception):
    """The client did not read the run's output in time; the run was stopped."""


class Lease:
    """One held slot. Released exactly once: when the run's worker finishes, or by
    :meth:`release` if the run never starts (a response that was never sent)."""

    def __init__(self, service: RunService) -> None:
        self._service = service
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._service.in_progress -= 1
            self._service._slots.release()

    async def produce(
        self,
        producer: Producer,
        disconnected: Callable[[], Awaitable[bool]] | None = None,
    ) -> AsyncIterator[bytes]:
        """The pieces ``producer`` makes in a worker thread, as they come. Leaving the iteration
        early (a client that disconnected), ``disconnected()`` turning true, the time limit or a
        client too slow to make room cancels the work before its next step.

        Raises:
            RunTimeLimitError: the time limit stopped the run.
            SlowClientError: the client left the queue full for ``write_timeout_s``.
        """
        service = self._service
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        # Room for pieces of output in the queue (the end marker and errors need none).
        room = asyncio.Semaphore(service.queue_pieces)
        cancel, timed_out, too_slow = threading.Event(), threading.Event(), threading.Event()

        def hand_over(piece: bytes) -> None:
            """Queue ``piece`` from the worker once there is room, waiting while the run goes
            on; gives up when it is cancelled or after the write timeout."""
            future = asyncio.run_coroutine_threadsafe(room.acquire(), loop)
            waited = 0.0
            while True:
                try:
                    future.result(timeout=DISCONNECT_POLL_S)
                    break
                except concurrent.futures.TimeoutError:
                    waited += DISCONNECT_POLL_S
                    if cancel.is_set() or waited >= service.write_timeout_s:
                        future.cancel()
                        if not cancel.is_set():
                            too_slow.set()
                            cancel.set()
                        raise _AbandonedError from None
            loop.call_soon_threadsafe(queue.put_nowait, piece)

        def work() -> None:
            try:
                for piece in producer(cancel):
                    hand_over(piece)
            except _AbandonedError:
                pass
            except BaseException as error:  # handed to the request, which raises it
                loop.call_soon_threadsafe(queue.put_nowait, error)
            finally:
                give_back_freed_memory()
                loop.call_soon_threadsafe(self.release)
                loop.call_soon_threadsafe(queue.put_nowait, _END)

        timer = loop.call_later(service.run_timeout_s, lambda: (timed_out.set(), cancel.set()))
        future = loop.run_in_executor(service._executor, work)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), DISCONNECT_POLL_S)
                except TimeoutError:
                    if disconnected is not None and await disconnected():
                        cancel.set()
                        return
                    continue
                if item is _END:
                    break
                if isinstance(item, BaseException) and not timed_out.is_set():
                    raise item
                if isinstance(item, bytes):
                    room.release()
                    yield item
            if timed_out.is_set():  # whatever the cut-short producer said
                raise RunTimeLimitError(
                    f"the run passed its time limit of {service.run_timeout_s:g} s"
                )
            if too_slow.is_set():
                raise SlowClientError(
                    f"the client read too slowly (nothing taken for {service.write_timeout_s:g} s)"
                )
        finally:
            timer.cancel()
            cancel.set()
            # Let the worker reach its next cancellation check (it frees the slot then).
            await asyncio.shield(future)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: its allocator returns memory by itself
        return None


_MALLOC_TRIM = _malloc_trim()


def give_back_freed_memory() -> None:
    """Return the heap a finished run freed to the operating system. glibc keeps freed memory
    of worker threads' arenas for reuse, so without this the server's RSS stays at the peak of
    the largest run it has seen (hundreds of MB) instead of returning near its baseline."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class _AbandonedError(Exception):
    """The worker stops handing over: its run was cancelled or its client is too slow."""


class RunService:
    """Owns the worker threads; one per app (created in its lifespan)."""

    def __init__(
        self,
        max_concurrent: int,
        queue_timeout_s: float,
        run_timeout_s: float,
        *,
        queue_pieces: int = 4,
        write_timeout_s: float = 30.0,
    ) -> None:
        self.max_concurrent = max_concurrent
        self.queue_timeout_s = queue_timeout_s
        self.run_timeout_s = run_timeout_s
        self.queue_pieces = queue_pieces
        self.write_timeout_s = write_timeout_s
        self._executor = ThreadPoolExecutor(max_concurrent, thread_name_prefix="optiscope-run")
        self._slots = asyncio.Semaphore(max_concurrent)
        self.in_progress = 0

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def lease(self) -> Lease:
        """Take one of the ``max_concurrent`` slots, waiting up to ``queue_timeout_s``.

        Raises:
            RunnerBusyError: none freed up in time (answer 503 with Retry-After).
        """
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout_s)
        except TimeoutError:
            raise RunnerBusyError(max(1, round(self.queue_timeout_s))) from None
        self.in_progress += 1
        return Lease(self)
