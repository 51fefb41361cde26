"""The page under the server's Content-Security-Policy: everything it does (runs, the 3-D
surface, Plotly's PNG export, CSV and JSON exports) is allowed, and nothing is blocked."""

from __future__ import annotations

import httpx
from page_helpers import show_surface

RUN_MS = 60_000
# Records what the policy blocks from now on (console errors tell of earlier blocks too).
WATCH_VIOLATIONS = """() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
        window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
}"""


def wait_for_runs(page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.body.dataset.runsDone ?? 0) >= n", arg=count, timeout=RUN_MS
    )


def test_the_page_works_under_its_content_security_policy(base_url, open_page):
    policy = httpx.get(base_url).headers["content-security-policy"]
    assert "script-src 'self';" in policy
    watched = open_page(base_url)
    page = watched.page
    page.evaluate(WATCH_VIOLATIONS)
    wait_for_runs(page, 1)
    page.get_by_test_id("preset").select_option("anon-gamma-rosenbrock")
    wait_for_runs(page, 2)

    # Plotly's PNG export of a 2-D plot and of the WebGL surface.
    for plot in ("plot-contour", "plot-surface"):
        div = page.get_by_test_id(plot)
        div.scroll_into_view_if_needed()
        if plot == "plot-surface":
            show_surface(page)
        div.hover()
        with page.expect_download(timeout=20_000) as download:
            div.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
        assert download.value.suggested_filename.endswith(".png")
        assert download.value.path().read_bytes().startswith(b"\x89PNG")
    for export in ("export-csv", "export-json"):
        with page.expect_download() as download:
            page.get_by_test_id(export).click()
        assert download.value.path().stat().st_size > 0

    assert page.evaluate("window.__violations") == []
    assert [error for error in watched.errors if "Content Security Policy" in error] == []
    assert watched.errors == []
    assert watched.foreign_requests() == []
