"""``POST /api/runs``: validate the run, check the budget, run it off the event loop, answer
with the whole result (JSON) or stream it (server-sent events)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.sse import format_sse_event

from app.runs import RunService, RunTimeLimitError
from app.schemas import STREAM_DESCRIPTION, RunResult
from app.settings import Settings, get_settings
from engine import BudgetError, RunSpec, check_budget, collect_result, plan_run
from engine.runner import RunPlan

router = APIRouter(tags=["runs"])

# Streamed chunks at most this often: smooth drawing without flooding the page.
CHUNK_SECONDS = 0.05


def _dumps(data: Any) -> str:
    # allow_nan=False: a NaN or Infinity must never reach a client (the engine reports
    # divergence as data instead).
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


def _plan(spec: RunSpec, settings: Settings) -> RunPlan:
    try:
        check_budget(spec, settings.limits)
    except BudgetError as error:
        raise RequestValidationError(
            [{"loc": ("body", *error.loc), "msg": str(error), "type": "budget_exceeded"}]
        ) from None
    device = settings.device if spec.device == "auto" else spec.device
    try:
        return plan_run(spec, device=device)
    except ValueError as error:  # e.g. CUDA asked for but absent
        raise RequestValidationError(
            [{"loc": ("body", "device"), "msg": str(error), "type": "value_error"}]
        ) from None


@router.post(
    "/runs",
    response_model=RunResult,
    responses={
        200: {
            "description": "The whole result (JSON), or the stream (server-sent events).\n\n"
            + STREAM_DESCRIPTION,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        422: {"description": "Invalid run: the field is named in detail[].loc."},
        503: {"description": "All run slots busy (see Retry-After), or the time limit passed."},
    },
)
async def create_run(
    spec: RunSpec,
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    accept: Annotated[str, Header()] = "application/json",
) -> Response:
    """Run every trajectory of ``spec`` in one batched computation."""
    plan = _plan(spec, settings)
    service: RunService = request.app.state.runs
    if "text/event-stream" in accept:
        return StreamingResponse(
            _stream(service, plan),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    async with service.slot():
        events = [
            event async for event in service.events(plan, stream=True, chunk_seconds=math.inf)
        ]
    return Response(_dumps(collect_result(plan, events)), media_type="application/json")


async def _stream(service: RunService, plan: RunPlan) -> AsyncIterator[bytes]:
    """The run as server-sent events; the slot is held while streaming."""
    try:
        async with service.slot():
            async for event in service.events(plan, stream=True, chunk_seconds=CHUNK_SECONDS):
                yield format_sse_event(data_str=_dumps(event.data), event=event.kind)
    except RunTimeLimitError as error:
        yield format_sse_event(data_str=_dumps({"detail": str(error)}), event="error")


def busy_response(retry_after_s: int) -> JSONResponse:
    return JSONResponse(
        {"detail": "all run slots are busy; retry shortly"},
        status_code=503,
        headers={"Retry-After": str(retry_after_s)},
    )
