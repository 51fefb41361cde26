"""What the browser tests share: permalink fragments, the server's own answer, waiting for runs.

Functions passed to Playwright's wait_for_function are functions ("n => ..."), never bare
expressions: the page's Content-Security-Policy forbids the eval that an expression needs.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import httpx

RUN_SECONDS = 60
# The first colours of the page's palette (static/js/colors.js), for series in a fragment.
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73")


def state_fragment(
    series: list[dict],
    steps: int = 60,
    start=(-1.5, 2.0),
    *,
    preset: str | None = None,
    narration: bool = False,
) -> str:
    """A permalink fragment: Rosenbrock, no noise, one seed, ``series`` as the page stores them
    (an entry's own "color" wins over the palette's)."""
    state = page_state(
        series,
        preset=preset,
        landscape={"id": "rosenbrock", "params": {}},
        start=list(start),
        steps=steps,
        narration=narration,
    )
    return fragment(state)


def page_state(series: list[dict], **fields) -> dict:
    """A page state (the URL fragment's JSON): Himmelblau, no noise, one seed, ``series`` as
    the page stores them; ``fields`` replace any of its fields (a map's grid, say)."""
    state = {
        "preset": None,
        "landscape": {"id": "himmelblau", "params": {}},
        "noise": {"kind": "none"},
        "seeds": 1,
        "start": [-1.0, 0.0],
        "steps": 60,
        "clip": None,
        "series": [
            {"label": "", "color": SERIES_COLOURS[i % len(SERIES_COLOURS)], "sweep": None, **s}
            for i, s in enumerate(series)
        ],
        "gamma": None,
        "narration": False,
        "map": None,
        "tune": None,
    }
    return {**state, **fields}


def fragment(state: dict) -> str:
    """The permalink fragment of a page state."""
    return "#state=" + quote(json.dumps(state), safe="")


def server_result(base_url: str, spec: dict) -> dict:
    """The whole result of ``spec`` with plain JSON numbers, straight from the API."""
    response = httpx.post(
        f"{base_url}/api/runs",
        params={"encoding": "plain"},
        json=spec,
        headers={"Accept": "application/json"},
        timeout=RUN_SECONDS,
    )
    response.raise_for_status()
    return response.json()


def is_run_request(request) -> bool:
    return urlsplit(request.url).path == "/api/runs"


def runs_done(page) -> int:
    return int(page.evaluate("() => Number(document.body.dataset.runsDone ?? 0)"))


def wait_for_runs(page, count: int) -> None:
    """Until the page has finished ``count`` runs (it counts them in body[data-runs-done])."""
    page.wait_for_function(
        "n => Number(document.body.dataset.runsDone ?? 0) >= n",
        arg=count,
        timeout=RUN_SECONDS * 1000,
    )


def open_hyperparameters(page, series: int) -> None:
    details = page.get_by_test_id("series").nth(series).locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


# Drawn in a div of the test's own, off screen: eight lines of 500 points with axes and a
# legend, about what one plot of the page is. Its draw times (ms, the first left out) say how
# slow the machine is right now (tests/browser/test_long_tasks.py, test_networks.py).
REFERENCE_FIGURE = """async () => {
  const div = document.createElement("div");
  Object.assign(div.style, { position: "absolute", left: "-2000px", top: "0",
    width: "450px", height: "320px" });
  document.body.append(div);
  const times = [];
  for (let k = 0; k < 8; k++) {
    const data = Array.from({ length: 8 }, (_, r) => ({ type: "scatter", mode: "lines",
      name: `line ${r}`, x: Float64Array.from({ length: 500 }, (_, i) => i),
      y: Float64Array.from({ length: 500 }, (_, i) => Math.sin(i / 40 + r + k) + r) }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    const started = performance.now();
    Plotly.react(div, data, { title: { text: "reference" }, xaxis: { title: { text: "x" } },
      yaxis: { title: { text: "y" }, type: "linear" }, margin: { l: 50, r: 10, t: 30, b: 40 } });
    times.push(performance.now() - started);
  }
  // Plotly finishes a redraw's margins later: purged before, it throws.
  await new Promise((resolve) => setTimeout(resolve, 500));
  Plotly.purge(div);
  div.remove();
  return times.slice(1);  // the first draw builds what the others reuse
}"""


def show_surface(page) -> None:
    """Scroll the 3-D view on screen, where it draws (off screen it waits: see plot.js's
    watchScreen), and wait until it has drawn what it had waiting."""
    page.get_by_test_id("plot-surface").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=plot-surface]').dataset.pending",
        timeout=RUN_SECONDS * 1000,
    )
