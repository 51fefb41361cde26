"""Swagger UI at ``/docs``, its JavaScript and CSS served by the app itself, so the API docs
work offline like the page (FastAPI's own ``/docs`` loads them from a CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.security import content_security_policy, inline_script_hashes

# Swagger UI's dist files as the fastapi-offline wheel ships them (Swagger UI 5: FastAPI writes
# OpenAPI 3.1, which Swagger UI 4 cannot render). Only this folder of the package is used.
SWAGGER_UI_DIR = Path(str(resources.files("fastapi_offline") / "static"))
SWAGGER_UI_URL = "/vendor/swagger-ui"


def install_docs(app: FastAPI) -> None:
    """Add ``/docs`` and mount Swagger UI's files; ``app`` was made with ``docs_url=None``.
    Call before the page's catch-all mount at ``/``."""
    app.mount(SWAGGER_UI_URL, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        assets = f"{root}{SWAGGER_UI_URL}"
        response = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            # No badge from the public validator: it is a foreign request that sends it the
            # schema's URL, and offline it is a broken image.
            swagger_ui_parameters={"validatorUrl": None},
        )
        # Swagger UI starts from one inline script: allowed by its hash, never 'unsafe-inline'.
        hashes = inline_script_hashes(bytes(response.body).decode())
        response.headers["Content-Security-Policy"] = content_security_policy(hashes)
        return response
