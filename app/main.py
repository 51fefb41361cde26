"""The FastAPI application: ``create_app()`` wires settings, the run service, the API and the
static page. Run it with ``optiscope serve`` (or ``uvicorn app.main:create_app --factory``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata, resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from app.api import router
from app.api.runs import busy_response
from app.runs import RunnerBusyError, RunService, RunTimeLimitError
from app.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Plotly.js as the plotly Python package ships it: the page never needs a CDN.
PLOTLY_JS = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application; ``settings`` defaults to the environment's."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runs = RunService(
            settings.max_concurrent_runs, settings.queue_timeout_s, settings.run_timeout_s
        )
        try:
            yield
        finally:
            app.state.runs.shutdown()

    app = FastAPI(
        title="Optiscope",
        version=metadata.version("optiscope"),
        summary="Real PyTorch optimizers on 2-D landscapes, streamed to the browser.",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    # Compresses JSON and Plotly.js (4.8 MB -> ~1.4 MB) for classroom networks; server-sent
    # events are excluded by the middleware, so streaming stays incremental.
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.include_router(router)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the offending input, which can be NaN or Infinity and
        # would make the 422 itself unencodable; loc, msg and type name the problem.
        detail = [
            {key: value for key, value in item.items() if key not in ("input", "ctx", "url")}
            for item in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RunnerBusyError)
    async def _busy(_request: Request, error: RunnerBusyError) -> JSONResponse:
        return busy_response(error.retry_after_s)

    @app.exception_handler(RunTimeLimitError)
    async def _timed_out(_request: Request, error: RunTimeLimitError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    static_dir = settings.static_dir or STATIC_DIR
    if static_dir.is_dir():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="static")
    return app
