"""The page while runs stream and replay: never frozen by a long run, Cancel at once, paths that
move as they are computed, and a replay at a chosen speed that pauses and steps.

Main-thread long tasks are measured with a PerformanceObserver installed before the page's own
scripts. The bounds here are generous (a busy machine lengthens every task); the figures against
the page's targets (50 ms, 200 ms) are bench/page_stream.py's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import httpx
import pytest
from conftest import VIEWPORT, Watched
from page_helpers import fragment, page_state, server_result, wait_for_runs

from app.presets import get_preset

# The long run: 3 series x 64 seeds x 20,000 steps with noise (192 rows; ~20 s of server time
# on a quiet 2-core machine, several times that on a busy one).
LONG_SEEDS = 64
LONG_STEPS = 20_000
LONG_RUN_MS = 300_000
# Generous bounds, for a machine whose cores are busy with other work too (which stretches every
# task several times over); a page that freezes (seconds-long frames, the main thread busy
# throughout) fails them all. While the long run streams no task may take this long, and the
# tasks' time over 50 ms may add up to at most this share of the streaming time...
STREAMING_TASK_MS = 1_000
STREAMING_BLOCKED_SHARE = 0.25
# ...no task at all (the start's and the finish's whole redraws included) this long...
ANY_TASK_MS = 3_000
# ...and Cancel takes effect within this long of the click.
CANCEL_MS = 2_000

# Before the page's scripts: long tasks, the times the status changed and the cancel clicks,
# each at its performance.now().
INSTRUMENT = """
window.__page = { longTasks: [], statuses: [], cancelClicks: [] };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__page.longTasks.push([entry.startTime, entry.duration]);
  }
}).observe({ type: "longtask", buffered: true });
addEventListener("click", (event) => {
  if (event.target.closest?.("[data-testid=cancel]")) {
    window.__page.cancelClicks.push(event.timeStamp);
  }
}, true);
addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector("[data-testid=status]");
  new MutationObserver(() => window.__page.statuses.push([performance.now(), status.textContent]))
    .observe(status, { childList: true, characterData: true, subtree: true });
});
// Every animation frame from then on: the contour's path points (Plotly's traces and the canvas
// over it), the loss plot's points, the contour's markers of the current step, the finished-run
// counter.
window.__sampleFrames = () => {
  window.__frames = [];
  const sample = () => {
    const contour = document.querySelector("[data-testid=plot-contour]");
    const traced = (contour?.data ?? []).filter((t) => t.meta?.role === "path")
      .reduce((n, t) => n + Array.from(t.x ?? []).filter((v) => v !== null).length, 0);
    const lossTraced = (document.querySelector("[data-testid=plot-loss]")?.data ?? [])
      .reduce((n, t) => n + (t.x?.length ?? 0), 0);
    const canvas = contour?.querySelector("canvas.live-lines");
    const marks = contour?.querySelector("canvas.live-marks")?.liveMarks;
    const area = (id) => {
      const size = document.querySelector(`[data-testid=${id}]`)?._fullLayout?._size;
      return size ? [size.l, size.t, size.w, size.h].join() : null;
    };
    window.__frames.push({ t: performance.now(), traced, lossTraced,
      canvas: canvas?.drawnPoints ?? 0,
      areas: [area("plot-contour"), area("plot-loss")],
      heads: marks?.heads.length ?? 0, head: marks?.heads[0] ?? null,
      done: Number(document.body.dataset.runsDone ?? 0) });
    if (window.__frames.length < 20000) requestAnimationFrame(sample);
  };
  requestAnimationFrame(sample);
};
"""
# Sampling from the page's first frame on (before its first run streams).
SAMPLE_FROM_THE_START = """
addEventListener("DOMContentLoaded", () => window.__sampleFrames());
"""


def noise_state(seeds: int, steps: int) -> dict:
    """The noise preset's three series (Ano, Adam, Yogi under gaussian noise) at ``seeds`` seeds
    and ``steps`` steps, as the page stores it."""
    spec = get_preset("noise-ano-adam-yogi").spec
    return page_state(
        spec["series"],
        landscape=spec["landscape"],
        noise=spec["noise"],
        seeds=seeds,
        start=None,
        steps=steps,
    )


# Rosenbrock from (-1.5, 2): Adam converges, SGD at this rate diverges at step 4 (its last point
# is step 3), so its end appears early in a replay.
REPLAY_STEPS = 200
REPLAY_STATE = page_state(
    [
        {"optimizer": "adam", "hparams": {"lr": 0.05}},
        {"optimizer": "sgd", "hparams": {"lr": 0.003}},
    ],
    landscape={"id": "rosenbrock", "params": {}},
    start=[-1.5, 2.0],
    steps=REPLAY_STEPS,
)


# Every view on screen, the 3-D view below the others included.
ALL_ON_SCREEN = {"width": VIEWPORT["width"], "height": 2400}


@pytest.fixture
def open_instrumented(browser) -> Iterator:
    """Open the page with INSTRUMENT installed before its scripts, in a fresh context whose
    window shows every view (at 1280 x 800 the 3-D view, below the fold, draws only once
    scrolled to: test_long_tasks.py checks that)."""
    contexts = []

    def open_(url: str, extra_script: str = "") -> Watched:
        context = browser.new_context(viewport=ALL_ON_SCREEN, accept_downloads=True)
        contexts.append(context)
        context.add_init_script(INSTRUMENT + extra_script)
        page = context.new_page()
        watched = Watched(page)
        page.on(
            "console",
            lambda message: (
                watched.errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: watched.errors.append(str(error)))
        page.on("request", lambda request: watched.requests.append(request.url))
        page.goto(url)
        return watched

    yield open_
    for context in contexts:
        context.close()


def canvas_points(page) -> int:
    return page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour] canvas.live-lines")
            ?.drawnPoints ?? 0"""
    )


def runs_in_progress(base_url: str) -> int:
    return httpx.get(f"{base_url}/api/health").json()["runs_in_progress"]


# ---- never frozen ----


def test_a_long_run_streams_without_freezing_the_page_and_cancels_at_once(
    base_url, open_instrumented
):
    watched = open_instrumented(base_url + fragment(noise_state(1, 10)))
    page = watched.page
    wait_for_runs(page, 1)
    began = page.evaluate(
        "hash => { location.hash = hash; return performance.now(); }",
        fragment(noise_state(LONG_SEEDS, LONG_STEPS)),
    )
    # Paths appear while the server computes: on the canvas over the contour (192 rows are too
    # many for Plotly to redraw each frame), and they grow.
    page.wait_for_function(
        """() => (document.querySelector("[data-testid=plot-contour] canvas.live-lines")
            ?.drawnPoints ?? 0) > 0""",
        timeout=LONG_RUN_MS,
    )
    first = canvas_points(page)
    assert page.get_by_test_id("status").text_content().startswith(("Step", "Starting"))
    drawing = page.evaluate(
        """() => ({ drawing: document.querySelector("[data-testid=plot-contour]").dataset.drawing,
            renderer: document.body.dataset.renderer, webgl: document.body.dataset.webgl })"""
    )
    assert drawing["drawing"] == "many"
    # WebGL only where a GPU draws it (this browser's is SwiftShader, software: the fallback).
    assert drawing["renderer"] == ("webgl" if drawing["webgl"] == "hardware" else "svg")
    page.wait_for_timeout(2_000)
    assert canvas_points(page) > first, "the paths grow as the run computes"
    assert page.evaluate("() => Number(document.body.dataset.runsDone)") == 1

    wait_for_runs_long(page, 2)
    measured = page.evaluate(
        """began => {
            const p = window.__page;
            const since = p.statuses.filter(([t]) => t >= began);
            const streaming = since.filter(([, text]) => text.startsWith("Step"));
            const finished = since.filter(([, text]) => text.includes("trajectories"));
            return { streamStart: streaming[0][0], streamEnd: streaming.at(-1)[0],
                finished: finished.at(-1)[0],
                tasks: p.longTasks.filter(([start]) => start >= began) };
        }""",
        began,
    )
    tasks = [
        (start, duration)
        for start, duration in measured["tasks"]
        if start <= measured["finished"] + 1_000
    ]
    during = [
        duration
        for start, duration in tasks
        if measured["streamStart"] <= start <= measured["streamEnd"]
    ]
    streamed_ms = measured["streamEnd"] - measured["streamStart"]
    blocked = sum(duration - 50 for duration in during)
    timeline = [
        (round(start - measured["streamStart"]), round(duration)) for start, duration in tasks
    ]
    assert max(during, default=0) < STREAMING_TASK_MS, timeline
    assert blocked < STREAMING_BLOCKED_SHARE * streamed_ms, (blocked, streamed_ms, timeline)
    assert max((duration for _, duration in tasks), default=0) < ANY_TASK_MS, timeline
    # The finished run: one Plotly trace per series (64 rows each), thinned for display, which
    # draws its paths in WebGL; in SVG the canvas keeps every point and the traces hold the
    # thinned points for hover only.
    traces = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => t.meta?.rows)
            .map(t => ({ role: t.meta.role, type: t.type, rows: t.meta.rows.length,
                         points: t.x.length }))"""
    )
    webgl = drawing["renderer"] == "webgl"
    drawn = [t for t in traces if t["role"] == ("path" if webgl else "hover")]
    assert [t["rows"] for t in drawn] == [LONG_SEEDS] * 3
    assert {t["type"] for t in drawn} == {"scattergl" if webgl else "scatter"}
    assert sum(t["points"] for t in drawn) <= 110_000
    if webgl:
        assert canvas_points(page) == 0, "the finished run's paths are Plotly's"
    else:
        # Every point the page holds (it asks for about 2,000 per row), not the thinned ones.
        assert canvas_points(page) > 3 * LONG_SEEDS * 2_000, "the canvas keeps them all"

    # The same run again, cancelled two seconds in.
    page.get_by_test_id("run").click()
    page.wait_for_function(
        """() => (document.querySelector("[data-testid=plot-contour] canvas.live-lines")
            ?.drawnPoints ?? 0) > 0""",
        timeout=LONG_RUN_MS,
    )
    page.wait_for_timeout(2_000)
    assert runs_in_progress(base_url) == 1
    page.get_by_test_id("cancel").click()
    page.wait_for_function("() => document.body.dataset.cancelledAt !== undefined", timeout=10_000)
    latency = page.evaluate(
        "() => Number(document.body.dataset.cancelledAt) - window.__page.cancelClicks.at(-1)"
    )
    assert 0 <= latency < CANCEL_MS
    status = page.get_by_test_id("status").text_content()
    assert status.startswith("Cancelled at step "), status
    assert int(status.removeprefix("Cancelled at step ").rstrip(".")) < LONG_STEPS
    assert page.get_by_test_id("cancel").is_hidden()
    deadline = time.monotonic() + 10
    while runs_in_progress(base_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runs_in_progress(base_url) == 0, "the server stopped the run"
    # Idle: what was drawn stays as it was, nothing moves on.
    drawn = canvas_points(page)
    page.wait_for_timeout(1_000)
    assert canvas_points(page) == drawn > 0
    assert page.evaluate("() => Number(document.body.dataset.runsDone)") == 2
    assert watched.errors == []


def wait_for_runs_long(page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.body.dataset.runsDone ?? 0) >= n", arg=count, timeout=LONG_RUN_MS
    )


# ---- animated ----


def test_paths_move_while_the_run_computes(base_url, open_instrumented):
    """The default run takes the server a fraction of a second: the page still draws it step by
    step (at most REVEAL_SECONDS behind what arrived), each row's current point marked and
    moving every frame. The contour's canvas draws the paths as they come and its figure takes
    them when the run is done; the loss plot's traces take the points over as often as they
    can redraw."""
    watched = open_instrumented(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    full = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => t.meta?.role === "path").reduce((n, t) => n + t.x.length, 0)"""
    )
    page.evaluate("() => window.__sampleFrames()")
    page.get_by_test_id("run").click()
    wait_for_runs(page, 2)
    frames = page.evaluate("() => window.__frames")
    streaming = [f for f in frames if f["done"] == 1 and f["heads"] > 0]
    assert streaming, "each row's current point is marked while the run streams"
    assert streaming[-1]["t"] - streaming[0]["t"] >= 300, "over a visible time"
    heads = [tuple(f["head"]) for f in streaming]
    assert len(set(heads)) >= 5, "the current points move from frame to frame"
    # While it streamed, the contour's figure held none of the new run's points (its canvas drew
    # them), and the loss plot's traces took points over (a few times a second at most).
    streamed = [f for f in frames if f["done"] == 1 and f["canvas"] > 0]
    assert streamed
    assert {f["traced"] for f in streamed} == {0}
    full_loss = frames[-1]["lossTraced"]
    assert any(0 < f["lossTraced"] < full_loss for f in streamed)
    # The contour's and the loss plot's axes stay where they were from the run's start to its
    # end: the legend has its entries from the start, the margins room for the usual ticks (a
    # move would also make Plotly lay the figure out twice).
    assert {tuple(f["areas"]) for f in frames} == {tuple(frames[0]["areas"])}
    assert any(f["done"] == 1 and f["canvas"] > 0 for f in frames)
    assert frames[-1]["traced"] == full
    assert frames[-1]["heads"] == 0, "the finished run shows its ends, not current points"
    assert watched.errors == []


def test_a_many_row_run_draws_on_a_canvas_and_exports_every_point(base_url, open_instrumented):
    """42 rows are drawn "many": the canvas while they stream. With a WebGL that a GPU draws
    (simulated), the finished run's paths are then scattergl traces, one per series, thinned
    for display. Where the figures are SVG (this browser's software WebGL, or none at all) the
    canvas keeps every point of the finished paths, the figure holds them thinned for hover
    only, and the PNG export draws them as traces. The exports keep every point."""
    gpu = """
      const getParameter = WebGLRenderingContext.prototype.getParameter;
      WebGLRenderingContext.prototype.getParameter = function (name) {
        return name === 0x9246 ? "Test GPU" : getParameter.call(this, name);
      };"""
    no_webgl = """
      const getContext = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
        return /webgl/.test(kind) ? null : getContext.call(this, kind, ...rest);
      };"""
    all_points = 42 * 3001
    landscape = get_preset("noise-ano-adam-yogi").spec["landscape"]["id"]
    catalogue = httpx.get(f"{base_url}/api/landscapes").json()
    minima = next(e["global_minima"] for e in catalogue if e["id"] == landscape)
    minima = [m["point"] for m in minima]
    for script, webgl in (("", "software"), (gpu, "hardware"), (no_webgl, "none")):
        watched = open_instrumented(
            base_url + fragment(noise_state(14, 3000)), SAMPLE_FROM_THE_START + script
        )
        page = watched.page
        wait_for_runs(page, 1)
        page.wait_for_function(
            """() => !document.querySelector("[data-testid=plot-contour]").dataset.pending"""
        )
        assert page.evaluate("() => document.body.dataset.webgl") == webgl
        frames = page.evaluate("() => window.__frames")
        assert any(f["canvas"] > 0 and f["done"] == 0 for f in frames), "drawn while streaming"
        traces = contour_row_traces(page)
        paths = [trace for trace in traces if trace["role"] == "path"]
        assert [path["rows"] for path in paths] == [14, 14, 14]
        if webgl == "hardware":
            assert {path["type"] for path in paths} == {"scattergl"}
            assert {path["mode"] for path in paths} == {"lines"}
            # Thinned to the display's budget: 100k points in WebGL (and a gap a row).
            assert 3 * 3001 < sum(path["points"] for path in paths) <= 65_000
            assert canvas_points(page) == 0, "Plotly's traces hold the paths"
        else:
            assert [path["points"] for path in paths] == [1, 1, 1], "legend entries only"
            hover = [trace for trace in traces if trace["role"] == "hover"]
            described = [(t["rows"], t["mode"], t["type"]) for t in hover]
            assert described == [(14, "none", "scatter")] * 3
            # Thinned to the SVG budget (10k points, and a gap a row).
            assert 3 * 3001 < sum(t["points"] for t in hover) <= 10_500
            page.wait_for_function(f"() => {CANVAS_POINTS} === {all_points}")
            # Translucent seeds: one canvas per series, drawn opaque and made translucent as a
            # whole, so that strokes laid frame after frame do not build up to opaque.
            tiers = page.evaluate(
                """() => Array.from(document.querySelectorAll(
                    "[data-testid=plot-contour] canvas.live-lines, "
                    + "[data-testid=plot-contour] canvas.live-outline"))
                    .map(c => [c.className, getComputedStyle(c).opacity])"""
            )
            assert (
                tiers
                == [["live-outline", "0.35"], ["live-lines", "0.55"]]
                + [["live-lines live-tier", "0.55"]] * 2
            )
            marks = canvas_marks(page, "plot-contour")
            assert len(marks["ends"]) == 42
            assert marks["heads"] == []
            assert marks["minima"] == minima
            assert marks["start"] is not None
            assert_png_draws_the_paths(page)
        with page.expect_download() as download_info:
            page.get_by_test_id("export-csv").click()
        lines = download_info.value.path().read_text().splitlines()
        rows = [line for line in lines if line and not line.startswith("#")]
        assert len(rows) - 1 == all_points, "the export has every point of every row"
        if webgl == "software":
            replay_many_rows(page, all_points)
        assert watched.errors == []


CANVAS_POINTS = """(document.querySelector("[data-testid=plot-contour] canvas.live-lines")
    ?.drawnPoints ?? 0)"""

# Where each of the page's live canvases is drawn: "worker" for one handed over to the layer
# worker (the page can no longer draw on it itself), "page" for one the page draws.
CANVAS_OWNERS = """() => Array.from(document.querySelectorAll("canvas[class^=live-]"))
    .map((canvas) => {
        try {
            canvas.getContext("2d");
            return "page";
        } catch (error) {
            return error.name === "InvalidStateError" ? "worker" : String(error);
        }
    })"""


def test_the_layer_worker_draws_the_canvases_as_the_page_would(base_url, open_instrumented):
    """The canvases over the plots are drawn by a worker that replays what the page recorded
    (canvas-ops.js): the same finished 'many' run, its paths on the canvas, looks pixel for
    pixel as it does where the page draws its canvases itself (a browser without
    transferControlToOffscreen)."""
    state = fragment(noise_state(14, 400))
    all_points = 42 * 401
    pictures = {}
    for owner, script in (
        ("worker", ""),
        ("page", "delete HTMLCanvasElement.prototype.transferControlToOffscreen;"),
    ):
        watched = open_instrumented(base_url + state, script)
        page = watched.page
        wait_for_runs(page, 1)
        page.wait_for_function(f"() => {CANVAS_POINTS} === {all_points}")
        page.wait_for_function(
            """() => !document.querySelector("[data-testid=plot-contour]").dataset.pending"""
        )
        owners = page.evaluate(CANVAS_OWNERS)
        assert len(owners) >= 6, owners
        assert set(owners) == {owner}, owners
        # Streamed, the paths were stroked a frame's points at a time, split wherever the frames
        # fell (their joins differ by a shade between any two runs): a zoom there and back
        # redraws each canvas whole, the same way every time.
        page.evaluate(
            """async () => {
                const div = document.querySelector("[data-testid=plot-contour]");
                const ranges = { "xaxis.range": [...div.layout.xaxis.range],
                    "yaxis.range": [...div.layout.yaxis.range] };
                await Plotly.relayout(div, { "xaxis.range": [0, 1], "yaxis.range": [0, 1] });
                await new Promise((resolve) => setTimeout(resolve, 300));
                await Plotly.relayout(div, ranges);
            }"""
        )
        page.wait_for_function(f"() => {CANVAS_POINTS} === {all_points}")
        pictures[owner] = settled_picture(page.get_by_test_id("plot-contour"))
        assert watched.errors == []
    difference = picture_difference(page.context.new_page(), pictures["worker"], pictures["page"])
    # Composited by another path (a worker's canvas), a translucent pixel may round a few
    # levels apart; a path drawn elsewhere or not at all is a difference of a hundred or more.
    width, height = difference["size"]
    assert min(width, height) > 300
    assert difference["largest"] <= PIXEL_LEVELS, difference


# The most two pictures of the same drawing may differ by, in any channel of any pixel (0-255).
PIXEL_LEVELS = 8


def settled_picture(element, tries: int = 20) -> bytes:
    """A screenshot of ``element`` once two taken 300 ms apart agree: Plotly's resize and the
    canvases' redraw (the worker's a frame or more after the page's task) are done."""
    last = element.screenshot()
    for _ in range(tries):
        element.page.wait_for_timeout(300)
        picture = element.screenshot()
        if picture == last:
            return picture
        last = picture
    raise AssertionError(f"{element} kept changing for {tries * 0.3:.0f} s")


def picture_difference(page, first: bytes, second: bytes) -> dict:
    """How two PNG pictures of one size differ, decoded by the browser in ``page`` (a blank one:
    the app's pages allow no data: fetch): their size, the number of pixels that differ and the
    largest difference in any channel."""
    return page.evaluate(
        """async ([first, second]) => {
            const pixels = async (base64) => {
                const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
                const bitmap = await createImageBitmap(blob);
                const context = new OffscreenCanvas(bitmap.width, bitmap.height)
                    .getContext("2d");
                context.drawImage(bitmap, 0, 0);
                return context.getImageData(0, 0, bitmap.width, bitmap.height);
            };
            const [a, b] = await Promise.all([pixels(first), pixels(second)]);
            if (a.width !== b.width || a.height !== b.height) return { size: null };
            let differing = 0;
            let largest = 0;
            for (let i = 0; i < a.data.length; i += 4) {
                let most = 0;
                for (let k = 0; k < 4; k++) {
                    most = Math.max(most, Math.abs(a.data[i + k] - b.data[i + k]));
                }
                if (most) differing += 1;
                largest = Math.max(largest, most);
            }
            return { size: [a.width, a.height], differing, largest };
        }""",
        [base64.b64encode(first).decode(), base64.b64encode(second).decode()],
    )


def contour_row_traces(page) -> list[dict]:
    """The contour's traces that draw or describe rows: role, type, mode, rows, points."""
    return page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => t.meta?.rows)
            .map(t => ({ role: t.meta.role, type: t.type, mode: t.mode,
                         rows: t.meta.rows.length, points: t.x.length }))"""
    )


def assert_png_draws_the_paths(page) -> None:
    """The contour's camera downloads a PNG drawn from the figure with its paths as traces."""
    div = page.get_by_test_id("plot-contour")
    div.scroll_into_view_if_needed()
    div.hover()
    with page.expect_download(timeout=20_000) as download:
        div.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    assert download.value.suggested_filename == "optiscope-contour.png"
    assert download.value.path().read_bytes().startswith(b"\x89PNG")
    figure = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").imageFigure"""
    )
    drawn: dict[str, int] = {}
    for entry in figure:
        drawn[entry["role"]] = drawn.get(entry["role"], 0) + entry["points"]
    assert drawn["outline"] > 3 * 3001, figure
    assert drawn["path"] == drawn["outline"], "every path, outlined"
    assert "hover" not in drawn
    assert drawn["end"] == 42


def test_a_contour_picture_that_cannot_be_made_says_so(base_url, open_instrumented):
    """The contour's camera, where the canvas draws the paths (42 rows, SVG): a PNG that Plotly
    cannot draw is reported in the error banner, not lost in the console."""
    watched = open_instrumented(base_url + fragment(noise_state(14, 300)))
    page = watched.page
    wait_for_runs(page, 1)
    assert page.evaluate("() => document.body.dataset.renderer") == "svg"
    page.evaluate("() => { Plotly.toImage = () => Promise.reject(new Error('no picture')); }")
    div = page.get_by_test_id("plot-contour")
    div.scroll_into_view_if_needed()
    div.hover()
    div.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    banner = page.get_by_test_id("error")
    banner.wait_for(state="visible", timeout=10_000)
    assert banner.inner_text() == "The contour's picture could not be made: no picture"
    assert watched.errors == []


def replay_many_rows(page, all_points: int) -> None:
    """A replay of "many" rows: the canvas draws the paths cut at the step and marks each row's
    point on the contour, loss and distance plots; the 3-D view marks them too; back at the
    end, the canvas draws every point again and marks the ends."""
    page.get_by_test_id("scrubber").fill("1500")
    page.wait_for_function(
        """() => {
            const marks = (id) => document.querySelector(`[data-testid=${id}] canvas.live-marks`)
                ?.liveMarks;
            const surface = document.querySelector("[data-testid=plot-surface]").data
                .find(t => t.name === "at the shown step");
            return ["plot-contour", "plot-loss", "plot-distance"]
                .every(id => marks(id)?.heads.length > 0) && surface.x.length > 0;
        }""",
        timeout=10_000,
    )
    assert [t["role"] for t in contour_row_traces(page)].count("hover") == 0
    assert 0 < canvas_points(page) < all_points
    assert len(canvas_marks(page, "plot-contour")["heads"]) == 42
    assert canvas_marks(page, "plot-loss")["step"] == 1500
    page.get_by_test_id("scrubber").fill("3000")
    page.wait_for_function(
        f"""() => {CANVAS_POINTS} === {all_points} && document.querySelector(
            "[data-testid=plot-contour] canvas.live-marks")?.liveMarks?.ends.length === 42""",
        timeout=10_000,
    )
    page.wait_for_function(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => t.meta?.role === "hover").length === 3""",
        timeout=10_000,
    )


# ---- replay ----


def contour_marker(page) -> dict:
    return page.evaluate(
        """() => { const t = document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "at the shown step"); return { x: Array.from(t.x),
            y: Array.from(t.y) }; }"""
    )


def contour_ends(page) -> list[float]:
    return page.evaluate(
        """() => Array.from(document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "end").x)"""
    )


def canvas_marks(page, plot: str) -> dict | None:
    return page.evaluate(
        """plot => document.querySelector(`[data-testid=${plot}] canvas.live-marks`)
            ?.liveMarks ?? null""",
        plot,
    )


def surface_marker(page) -> list[float]:
    return page.evaluate(
        """() => Array.from(document.querySelector("[data-testid=plot-surface]").data
            .find(t => t.name === "at the shown step").x)"""
    )


def scrubber(page) -> int:
    return int(page.get_by_test_id("scrubber").input_value())


def wait_views_at(page, step: int, adam_x: float) -> None:
    """Until every view marks ``step``: the contour's and the 3-D view's markers at Adam's
    point, the loss and distance plots' marks at that step."""
    page.wait_for_function(
        """([step, x]) => {
            const data = (id) => document.querySelector(`[data-testid=${id}]`).data;
            const marks = (id) => document.querySelector(`[data-testid=${id}] canvas.live-marks`)
                ?.liveMarks;
            const contour = data("plot-contour").find(t => t.name === "at the shown step");
            const surface = data("plot-surface").find(t => t.name === "at the shown step");
            return contour.x.length === 1 && contour.x[0] === x
                && surface.x.length === 1 && surface.x[0] === x
                && ["plot-loss", "plot-distance"].every(id => marks(id)?.step === step
                    && marks(id).heads.length === 1 && marks(id).heads[0][0] === step);
        }""",
        arg=[step, adam_x],
        timeout=10_000,
    )


def test_replay_at_a_chosen_speed_pauses_and_steps_with_markers_on_every_view(
    base_url, open_instrumented, screenshot
):
    watched = open_instrumented(base_url + fragment(REPLAY_STATE))
    page = watched.page
    wait_for_runs(page, 1)
    expected = server_result(
        base_url,
        {
            "landscape": {"id": "rosenbrock", "params": {}},
            "start": [-1.5, 2.0],
            "steps": REPLAY_STEPS,
            "seeds": [0],
            "series": [
                {"optimizer": "adam", "hparams": {"lr": 0.05}},
                {"optimizer": "sgd", "hparams": {"lr": 0.003}},
            ],
        },
    )["series"]
    adam, sgd = expected
    assert adam["diverged_at"] is None
    assert sgd["diverged_at"] == 4
    assert sgd["steps"][-1] == 3

    # Labelled, keyboard-reachable controls.
    replay = page.get_by_test_id("replay")
    assert replay.is_visible()
    for name in ("▶ Play", "Step back", "Step forward"):
        assert replay.get_by_role("button", name=name).is_visible(), name
    assert replay.get_by_role("slider", name="Step shown").is_visible()
    assert replay.get_by_label("Speed").is_visible()
    assert page.get_by_test_id("replay-speed").evaluate(
        "el => Array.from(el.options, o => o.value)"
    ) == ["0.25", "0.5", "1", "2", "4", "8"]
    # The whole run: every row's end, no current-step markers.
    assert len(contour_ends(page)) == 2
    assert contour_marker(page)["x"] == []

    # Scrub to step 2: SGD has not ended yet, both rows are marked on every view.
    page.get_by_test_id("scrubber").fill("2")
    page.wait_for_function(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "at the shown step").x.length === 2"""
    )
    assert contour_ends(page) == []
    assert sorted(contour_marker(page)["x"]) == sorted([adam["x"][2], sgd["x"][2]])

    # Step 100: SGD ended at step 3 (its end marker shows, no current point); Adam is marked on
    # the contour, the 3-D view, the loss and the distance plots.
    page.get_by_test_id("scrubber").fill("100")
    wait_views_at(page, 100, adam["x"][100])
    assert contour_ends(page) == [sgd["x"][-1]]
    assert contour_marker(page)["y"] == [adam["y"][100]]
    loss_mark = canvas_marks(page, "plot-loss")["heads"][0]
    assert loss_mark[1] == pytest.approx(adam["loss"][100], rel=1e-9, abs=1e-16)
    screenshot(page, "replay-markers-step-100")

    # One step forward and back, by mouse and by keyboard: exactly one step, and every view's
    # marker moves with it.
    page.get_by_test_id("step-forward").click()
    assert scrubber(page) == 101
    assert page.get_by_test_id("scrubber-step").text_content() == f"step 101 of {REPLAY_STEPS}"
    wait_views_at(page, 101, adam["x"][101])
    page.get_by_test_id("step-back").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert scrubber(page) == 99
    wait_views_at(page, 99, adam["x"][99])

    # Play at x0.25, then at x2: the second moves eight times as fast (x1 crosses the run in 4 s).
    page.get_by_test_id("replay-speed").select_option("0.25")
    assert (
        json.loads(unquote(urlsplit(page.url).fragment.removeprefix("state=")))["replaySpeed"]
        == 0.25
    )
    page.get_by_test_id("scrubber").fill("0")
    slow = play_for(page, 1.5)
    page.get_by_test_id("replay-speed").select_option("2")
    page.get_by_test_id("scrubber").fill("0")
    fast = play_for(page, 0.5)
    assert 0 < slow < fast
    assert 4 < fast / slow < 16, (slow, fast)

    # Paused (Space on the focused Play button): the step and the markers stay where they are.
    page.get_by_test_id("scrubber").fill("20")
    page.get_by_test_id("play").focus()
    page.keyboard.press("Space")
    page.wait_for_timeout(300)
    page.keyboard.press("Space")
    assert page.get_by_test_id("play").text_content() == "▶ Play"
    paused = scrubber(page)
    assert paused > 20
    wait_views_at(page, paused, adam["x"][paused])
    before = (contour_marker(page), surface_marker(page), canvas_marks(page, "plot-loss"))
    page.wait_for_timeout(700)
    assert scrubber(page) == paused
    assert (contour_marker(page), surface_marker(page), canvas_marks(page, "plot-loss")) == before

    # Played to the end: the whole run again, every end marker, no current-step markers.
    page.get_by_test_id("replay-speed").select_option("8")
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=scrubber]').value) >= n",
        arg=REPLAY_STEPS,
        timeout=10_000,
    )
    page.wait_for_function(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "end").x.length === 2"""
    )
    assert contour_marker(page)["x"] == []
    assert canvas_marks(page, "plot-loss")["heads"] == []

    # The speed is part of the permalink: a fresh page opens with it.
    fresh = open_instrumented(page.url)
    wait_for_runs(fresh.page, 1)
    assert fresh.page.get_by_test_id("replay-speed").input_value() == "8"
    assert watched.errors == []
    assert fresh.errors == []


def play_for(page, seconds: float) -> float:
    """Play from the scrubber's step for about ``seconds`` and pause: steps per second."""
    start = scrubber(page)
    began = time.monotonic()
    page.get_by_test_id("play").click()
    page.wait_for_timeout(seconds * 1000)
    page.get_by_test_id("play").click()
    elapsed = time.monotonic() - began
    return (scrubber(page) - start) / elapsed
