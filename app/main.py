"""The FastAPI application: ``create_app()`` wires settings, the run service, the API and the
static page. Run it with ``optiscope serve`` (or ``uvicorn app.main:create_app --factory
--no-server-header``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from app.api import router
from app.docs import install_docs
from app.errors import install_error_handlers
from app.run_service import RunService
from app.schemas import RunError
from app.security import SecurityHeaders, trusted_hosts
from app.settings import Settings, get_settings
from engine.network_record import NetworkChunk, NetworkDone, NetworkMeta, PlaneEvent, SnapshotEvent
from engine.record import Chunk, Done, Preview, RunMeta

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# Plotly.js as the plotly Python package ships it: the page never needs a CDN.
PLOTLY_JS = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application; ``settings`` defaults to the environment's."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runs = RunService(
            settings.max_concurrent_runs,
            settings.queue_timeout_s,
            settings.run_timeout_s,
            queue_pieces=settings.stream_queue_pieces,
            write_timeout_s=settings.write_timeout_s,
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
        # Our own /docs serves Swagger UI offline (app/docs.py); ReDoc is not served.
        docs_url=None,
        redoc_url=None,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    # Compresses the catalogue and Plotly.js (4.8 MB -> ~1.6 MB at level 1) for classroom
    # networks. Run results and streams compress themselves in their worker threads (the
    # middleware would do it on the event loop, and never does it for event streams).
    if settings.gzip_level:
        app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=settings.gzip_level)
    # Middleware added last runs first: the host check before anything else, and the security
    # headers around everything, the host check's 400 included.
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=trusted_hosts(settings.allowed_hosts, settings.host)
    )
    app.add_middleware(SecurityHeaders)
    app.include_router(router)

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    install_docs(app)
    install_error_handlers(app)
    app.openapi = lambda: _openapi(app)

    static_dir = settings.static_dir or STATIC_DIR
    if static_dir.is_dir():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="static")
    return app


# The stream's events are not a response model of any route, so their schemas are added by hand:
# clients (and the tests) check each event's data against these.
STREAM_EVENT_MODELS: tuple[type[BaseModel], ...] = (
    RunMeta,
    Preview,
    Chunk,
    Done,
    RunError,
    NetworkMeta,
    NetworkChunk,
    SnapshotEvent,
    PlaneEvent,
    NetworkDone,
)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in STREAM_EVENT_MODELS:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(model_schema.pop("$defs", {}))
            components[model.__name__] = model_schema
        app.openapi_schema = schema
    return app.openapi_schema
