"""How errors answer: 422s that name the field, 503s that say when to come back."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.run_service import RunnerBusyError, RunTimeLimitError
from app.schemas import LANDSCAPE_RUN, NETWORK_RUN

# Validators that check several fields at once start their message with the field they mean,
# "sweep.values.2: Input should be ...": that path belongs in loc.
_NAMED_FIELD = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.+)$", re.DOTALL)


def problem(item: dict[str, Any]) -> dict[str, Any]:
    """One entry of a 422's ``detail`` (``loc``, ``msg``, ``type``, ...), the field named in full.

    FastAPI's own handler also echoes the offending ``input``, which can be NaN or Infinity and
    would make the 422 itself unencodable; loc, msg and type name the problem.
    """
    kept = {key: value for key, value in item.items() if key not in ("input", "ctx", "url")}
    loc, message = list(item["loc"]), str(item["msg"]).removeprefix("Value error, ")
    # The run endpoint's body is one of two kinds; pydantic puts the kind's tag in loc.
    loc = [part for part in loc if part not in (LANDSCAPE_RUN, NETWORK_RUN)]
    named = _NAMED_FIELD.match(message)
    if named:
        loc += [
            int(part) if part.isascii() and part.isdigit() else part for part in named[1].split(".")
        ]
        message = named[2]
    return {**kept, "loc": loc, "msg": message}


def busy_response(retry_after_s: int) -> JSONResponse:
    return JSONResponse(
        {"detail": "all run slots are busy; retry shortly"},
        status_code=503,
        headers={"Retry-After": str(retry_after_s)},
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [problem(item) for item in error.errors()]}, 422)

    @app.exception_handler(RunnerBusyError)
    async def _busy(_request: Request, error: RunnerBusyError) -> JSONResponse:
        return busy_response(error.retry_after_s)

    @app.exception_handler(RunTimeLimitError)
    async def _timed_out(_request: Request, error: RunTimeLimitError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        # Starlette logs the traceback; the client gets JSON that says what kind of failure it
        # was, never a bare "Internal Server Error".
        return JSONResponse(
            {"detail": f"the server failed ({type(error).__name__}); it was logged"},
            status_code=500,
        )
