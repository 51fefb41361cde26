"""``POST /api/runs``: validate the run (a landscape's trajectories, or, with a ``task``, networks
to train), check the budget, run it off the event loop, answer with the whole result (JSON) or
stream it (server-sent events), in either encoding."""

from __future__ import annotations

import logging
import math
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import zstandard
from fastapi import APIRouter, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse
from pydantic import Discriminator, Tag
from starlette.background import BackgroundTask

from app.deps import RunServiceDep, SettingsDep
from app.run_service import Lease, RunTimeLimitError, SlowClientError, give_back_freed_memory
from app.schemas import LANDSCAPE_RUN, NETWORK_RUN, STREAM_DESCRIPTION
from app.settings import Settings
from engine import BudgetError, Encoding, RunPlan, RunSpec, check_budget, dumps, plan_run
from engine.network_record import NetworkRunResult
from engine.network_spec import NetworkRunSpec, check_network_budget
from engine.record import RunResult, dump_result_pieces
from engine.stepping import CHUNK_SECONDS, RunFailedError, collect_result, run_events
from engine.training import (
    NetworkPlan,
    collect_training_result,
    plan_training,
    training_events,
)

logger = logging.getLogger(__name__)
router = APIRouter(tags=["runs"])

# A whole result goes out in pieces of about this many bytes (before compression).
RESULT_PIECE_BYTES = 4 << 20

ENCODING_DESCRIPTION = (
    "How numeric columns are written: 'plain' JSON numbers, or 'typed': Plotly's typed-array "
    'form {"dtype": "f8"|"f4"|"i4", "bdata": base64 of the little-endian bytes}. Both decode '
    "to identical numbers."
)


def _run_kind(body: Any) -> str:
    """Which run a body asks for: a ``task`` (a network to train) or a landscape."""
    if isinstance(body, dict):
        return NETWORK_RUN if "task" in body else LANDSCAPE_RUN
    return NETWORK_RUN if isinstance(body, NetworkRunSpec) else LANDSCAPE_RUN


RunBody = Annotated[
    Annotated[RunSpec, Tag(LANDSCAPE_RUN)] | Annotated[NetworkRunSpec, Tag(NETWORK_RUN)],
    Discriminator(_run_kind),
]


def _plan(spec: RunSpec | NetworkRunSpec, settings: Settings) -> RunPlan | NetworkPlan:
    try:
        if isinstance(spec, NetworkRunSpec):
            check_network_budget(spec, settings.network_limits)
        else:
            check_budget(spec, settings.limits)
    except BudgetError as error:
        raise RequestValidationError(
            [{"loc": ("body", *error.loc), "msg": str(error), "type": "budget_exceeded"}]
        ) from None
    try:
        if isinstance(spec, NetworkRunSpec):
            return plan_training(spec, settings.device)
        return plan_run(spec, settings.device)
    except ValueError as error:  # "device: 'cuda' was asked for but ..." names its field
        raise RequestValidationError(
            [{"loc": ("body",), "msg": str(error), "type": "value_error"}]
        ) from None


def _events(plan: RunPlan | NetworkPlan, cancel: threading.Event, chunk_seconds: float):
    """The run's events, whichever kind it is."""
    if isinstance(plan, NetworkPlan):
        return training_events(plan, cancel, chunk_seconds=chunk_seconds)
    return run_events(plan, cancel, chunk_seconds=chunk_seconds)


def _whole(plan: RunPlan | NetworkPlan, events) -> dict[str, Any]:
    if isinstance(plan, NetworkPlan):
        return collect_training_result(plan, events)
    return collect_result(plan, events)


class _Compression:
    """A run's answer compressed piece by piece, in the encoding the client prefers: zstd, else
    gzip, else none. Each piece is flushed whole (a zstd block, a zlib ``Z_SYNC_FLUSH``), so a
    streamed event reaches the client as soon as it is compressed.

    Runs compress in their worker thread (Starlette's GZipMiddleware would compress on the event
    loop, at level 9, and never compresses event streams). zstd first: on a 4096 x 1000 run's
    typed stream (205 MB), level 1 takes 0.26 s against gzip level 1's 3.9 s, for 1 % more
    bytes (131 against 130 MB), and browsers ask for it."""

    def __init__(self, settings: Settings, accept_encoding: str) -> None:
        accepted = _accepted_codings(accept_encoding)
        self.name: str | None = None
        if settings.zstd_level and "zstd" in accepted:
            self.name = "zstd"
            self._stream = zstandard.ZstdCompressor(level=settings.zstd_level).compressobj()
        elif settings.gzip_level and "gzip" in accepted:
            self.name = "gzip"
            self._stream = zlib.compressobj(settings.gzip_level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Encoding": self.name, "Vary": "Accept-Encoding"} if self.name else {}

    def piece(self, data: bytes) -> bytes:
        """``data`` compressed and flushed: the client can read all of it at once."""
        if self.name is None:
            return data
        flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK if self.name == "zstd" else zlib.Z_SYNC_FLUSH
        return self._stream.compress(data) + self._stream.flush(flush)

    def piece_unflushed(self, data: bytes) -> bytes:
        """``data`` compressed as far as the compressor likes (the rest comes with later
        pieces)."""
        return self._stream.compress(data) if self.name else data

    def end(self) -> bytes:
        if self.name is None:
            return b""
        return self._stream.flush() if self.name == "zstd" else self._stream.flush(zlib.Z_FINISH)


def _accepted_codings(accept_encoding: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header accepts (``q=0`` refuses one)."""
    accepted = set()
    for part in accept_encoding.split(","):
        name, _, parameters = part.partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            accepted.add(name.strip().lower())
    return accepted


def _sse(kind: str, payload: bytes) -> bytes:
    # The compact JSON has no line breaks, so one data line carries it.
    return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"


@router.post(
    "/runs",
    response_model=RunResult | NetworkRunResult,
    responses={
        200: {
            "description": "The whole result (JSON), or the stream (server-sent events).\n\n"
            + STREAM_DESCRIPTION,
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "Events whose data follow RunMeta, Preview, Chunk, "
                        "Done and RunError; for a network run (a 'task' in place of the "
                        "landscape), NetworkMeta, NetworkChunk, SnapshotEvent, PlaneEvent, "
                        "NetworkDone and RunError.",
                    }
                }
            },
        },
        422: {
            "description": "Invalid run: the field is named in detail[].loc (also a run that "
            "failed inside, naming the series whose optimizer failed and the step)."
        },
        503: {"description": "All run slots are busy (see Retry-After), or the time limit passed."},
    },
)
async def create_run(
    spec: RunBody,
    settings: SettingsDep,
    service: RunServiceDep,
    request: Request,
    encoding: Annotated[Encoding, Query(description=ENCODING_DESCRIPTION)] = "plain",
    accept: Annotated[str, Header()] = "application/json",
    accept_encoding: Annotated[str, Header()] = "",
) -> Response:
    """Run every trajectory of ``spec`` in one batched computation, or, with a ``task`` in
    place of the landscape, train every network of it."""
    plan = _plan(spec, settings)
    compression = _Compression(settings, accept_encoding)
    # The slot is taken before anything is answered, so a full server answers 503 to streams
    # too; it is freed when the run's worker finishes.
    lease = await service.lease()
    if "text/event-stream" in accept:
        return StreamingResponse(
            _stream(lease, plan, encoding, compression),
            media_type="text/event-stream",
            headers={
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
                **compression.headers,
            },
            # Frees the slot of a stream that never started (the client left at once).
            background=BackgroundTask(lease.release),
        )

    def whole_result(cancel: threading.Event) -> Iterator[bytes]:
        events = _events(plan, cancel, chunk_seconds=math.inf)
        batch: list[bytes] = []
        size = 0
        for piece in dump_result_pieces(_whole(plan, events), encoding):
            batch.append(compression.piece_unflushed(piece))
            size += len(piece)
            if size >= RESULT_PIECE_BYTES:
                yield b"".join(batch)
                batch, size = [], 0
        yield b"".join(batch) + compression.end()

    produced = lease.produce(whole_result, disconnected=request.is_disconnected)
    try:
        # The first piece comes once the run is computed: a failure is still a 422.
        first = await anext(produced)
    except StopAsyncIteration:  # the client left: nobody reads an answer
        lease.release()
        return Response(status_code=499)
    except RunFailedError as error:
        lease.release()
        raise _failure(error, plan) from None
    except BaseException:
        lease.release()
        raise

    async def body() -> AsyncIterator[bytes]:
        # Sent piece by piece as the worker writes it: the event loop never copies or holds
        # the whole answer, and memory holds a few pieces, not hundreds of MB.
        try:
            yield first
            async for piece in produced:
                yield piece
        finally:
            lease.release()
            with anyio.CancelScope(shield=True):  # stop the worker even when cancelled
                await produced.aclose()

    # Once sent, the freed memory goes back to the system (a sync task: run in a thread).
    return StreamingResponse(
        body(),
        media_type="application/json",
        headers=compression.headers,
        background=BackgroundTask(give_back_freed_memory),
    )


def _failure(error: RunFailedError, plan: RunPlan | NetworkPlan) -> RequestValidationError:
    """A run that failed inside, as a 422 naming the series (or the landscape or task) to
    change."""
    where = "task" if isinstance(plan, NetworkPlan) else "landscape"
    loc = ("body", "series", error.series) if error.series is not None else ("body", where)
    return RequestValidationError([{"loc": loc, "msg": str(error), "type": "run_failed"}])


def _error_event(error: Exception) -> dict:
    """The stream's ``error`` event for ``error``: what happened, where it could be said."""
    if isinstance(error, RunFailedError):
        return {"detail": str(error), "step": error.step, "series": error.series}
    if isinstance(error, RunTimeLimitError | SlowClientError):
        return {"detail": str(error)}
    logger.exception("a streamed run failed", exc_info=error)
    return {"detail": f"the run failed on the server ({type(error).__name__}); it was logged"}


async def _stream(
    lease: Lease, plan: RunPlan | NetworkPlan, encoding: Encoding, compression: _Compression
) -> AsyncIterator[bytes]:
    """The run as server-sent events. The worker thread encodes and compresses each event; only
    the small closing bytes are made here, once it has finished. Whatever goes wrong ends the
    stream with an ``error`` event, never a cut connection."""

    def events(cancel: threading.Event) -> Iterator[bytes]:
        for event in _events(plan, cancel, chunk_seconds=CHUNK_SECONDS):
            yield compression.piece(_sse(event.kind, dumps(event.data, encoding)))

    try:
        async for piece in lease.produce(events):
            yield piece
    except Exception as error:  # every failure becomes the stream's last event
        yield compression.piece(_sse("error", dumps(_error_event(error))))
    finally:
        lease.release()
    yield compression.end()
