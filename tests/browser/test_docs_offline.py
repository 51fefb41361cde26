"""The API docs in a real browser: Swagger UI renders every operation from the server's own
files, under the server's Content-Security-Policy, and never asks another host."""

from __future__ import annotations

import httpx

SWAGGER_UI = "/vendor/swagger-ui/"
RENDER_MS = 20_000


def test_swagger_ui_renders_offline_and_tries_a_request(base_url, open_page, screenshot):
    watched = open_page(f"{base_url}/docs")
    page = watched.page
    runs = page.locator('.opblock-summary-path[data-path="/api/runs"]')
    runs.wait_for(timeout=RENDER_MS)
    schema = httpx.get(f"{base_url}/openapi.json").json()
    shown = page.locator(".opblock-summary-path").evaluate_all(
        "paths => paths.map(p => p.dataset.path)"
    )
    assert sorted(set(shown)) == sorted(schema["paths"])
    screenshot(page, "docs")

    # "Try it out" on /api/health: Swagger UI's own request, under the same policy.
    page.locator("#operations-system-health_api_health_get .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table .response .response-col_status")
    status.wait_for(timeout=RENDER_MS)
    assert status.inner_text().strip() == "200"

    loaded = {url.removeprefix(base_url) for url in watched.requests}
    assert {f"{SWAGGER_UI}swagger-ui-bundle.js", f"{SWAGGER_UI}swagger-ui.css"} <= loaded
    assert "/api/health" in loaded
    assert watched.foreign_requests() == []
    # A blocked script, style or image (CSP) is a console error too.
    assert watched.errors == []
