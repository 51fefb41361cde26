"""``POST /api/runs``: validate the run, check the budget, run it off the event loop, answer
with the whole result (JSON) or stream it (server-sent events), in either encoding."""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response, StreamingResponse

from app.deps import RunServiceDep, SettingsDep
from app.run_service import RunService, RunTimeLimitError
from app.schemas import STREAM_DESCRIPTION
from app.settings import Settings
from engine import BudgetError, Encoding, RunPlan, RunSpec, check_budget, dumps, plan_run
from engine.record import RunResult
from engine.stepping import CHUNK_SECONDS, collect_result, run_events

router = APIRouter(tags=["runs"])

ENCODING_DESCRIPTION = (
    "How numeric columns are written: 'plain' JSON numbers, or 'typed': Plotly's typed-array "
    'form {"dtype": "f8"|"f4"|"i4", "bdata": base64 of the little-endian bytes}. Both decode '
    "to identical numbers."
)


def _plan(spec: RunSpec, settings: Settings) -> RunPlan:
    try:
        check_budget(spec, settings.limits)
    except BudgetError as error:
        raise RequestValidationError(
            [{"loc": ("body", *error.loc), "msg": str(error), "type": "budget_exceeded"}]
        ) from None
    try:
        return plan_run(spec, settings.device)
    except ValueError as error:  # "device: 'cuda' was asked for but ..." names its field
        raise RequestValidationError(
            [{"loc": ("body",), "msg": str(error), "type": "value_error"}]
        ) from None


class _Gzip:
    """A gzip stream written piece by piece: each piece is flushed whole (``Z_SYNC_FLUSH``), so a
    streamed event reaches the client as soon as it is compressed; level 0 passes bytes through.

    Runs compress in their worker thread (Starlette's GZipMiddleware would compress on the event
    loop, at level 9, and never compresses event streams)."""

    def __init__(self, level: int) -> None:
        self.level = level
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if level else None

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if self._zlib else {}

    def piece(self, data: bytes) -> bytes:
        if self._zlib is None:
            return data
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def end(self) -> bytes:
        return self._zlib.flush(zlib.Z_FINISH) if self._zlib else b""


def _gzip_level(settings: Settings, accept_encoding: str) -> int:
    accepted = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    return settings.gzip_level if "gzip" in accepted else 0


def _sse(kind: str, payload: bytes) -> bytes:
    # The compact JSON has no line breaks, so one data line carries it.
    return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"


@router.post(
    "/runs",
    response_model=RunResult,
    responses={
        200: {
            "description": "The whole result (JSON), or the stream (server-sent events).\n\n"
            + STREAM_DESCRIPTION,
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "string",
                        "description": "Events whose data follow RunMeta, Chunk, Done and "
                        "RunError.",
                    }
                }
            },
        },
        422: {"description": "Invalid run: the field is named in detail[].loc."},
        503: {"description": "All run slots are busy (see Retry-After), or the time limit passed."},
    },
)
async def create_run(
    spec: RunSpec,
    settings: SettingsDep,
    service: RunServiceDep,
    encoding: Annotated[Encoding, Query(description=ENCODING_DESCRIPTION)] = "plain",
    accept: Annotated[str, Header()] = "application/json",
    accept_encoding: Annotated[str, Header()] = "",
) -> Response:
    """Run every trajectory of ``spec`` in one batched computation."""
    plan = _plan(spec, settings)
    gzip = _Gzip(_gzip_level(settings, accept_encoding))
    if "text/event-stream" in accept:
        return StreamingResponse(
            _stream(service, plan, encoding, gzip),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **gzip.headers},
        )

    def whole_result(cancel: threading.Event) -> Iterator[bytes]:
        events = run_events(plan, cancel, chunk_seconds=math.inf)
        yield gzip.piece(dumps(collect_result(plan, events), encoding)) + gzip.end()

    async with service.slot():
        body = b"".join([piece async for piece in service.produce(whole_result)])
    return Response(body, media_type="application/json", headers=gzip.headers)


async def _stream(
    service: RunService, plan: RunPlan, encoding: Encoding, gzip: _Gzip
) -> AsyncIterator[bytes]:
    """The run as server-sent events; the slot is held while streaming. The worker thread
    encodes and compresses each event; only the small closing bytes are made here, once it has
    finished."""

    def events(cancel: threading.Event) -> Iterator[bytes]:
        for event in run_events(plan, cancel, chunk_seconds=CHUNK_SECONDS):
            yield gzip.piece(_sse(event.kind, dumps(event.data, encoding)))

    try:
        async with service.slot():
            async for piece in service.produce(events):
                yield piece
    except RunTimeLimitError as error:
        yield gzip.piece(_sse("error", dumps({"detail": str(error)})))
    yield gzip.end()
