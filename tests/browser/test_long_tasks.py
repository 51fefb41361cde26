"""The page's main thread over whole runs: the start, the streaming and the finish of a heavy run
(3 series x 64 seeds x 3,000 steps: 192 rows drawn "many", 576k points), of the default run, and
a landscape change. The page's rule is that no task takes over 50 ms, whatever the run's size.

What is measured, in the page (installed before its scripts):
- every main-thread task over 50 ms (PerformanceObserver "longtask");
- every Plotly API call: its plot, its name, when and how long, how many points it was handed,
  and for the contour's whole figures whether they hold the landscape's grid.

Why the assertions are what they are. A task's length depends on the machine and on what else
runs on it (here: the server computing the run on the same cores, other tests, other jobs), so
a bare "no task over 50 ms" fails on a busy machine whatever the page does. Two kinds of checks:

1. Structure, exact on any machine: what made the start and the finish of a long run take
   300 ms and more does not come back. Then, the contour's figure carried the landscape's grid
   (a contour trace, recomputed by every redraw of the plot, each path's update included), a
   finish redrew the contour twice in one task (its figure, then a restyle of the fan's
   highlight), the 3-D view took the streaming rows (each update a software render) and its
   finished lines 20,000 points (about 10 us each to build). Now: no task makes two Plotly
   redraws; the contour's figures never carry the grid (the landscape is a picture, painted by
   a worker and placed as a layout image); no Plotly call gets more than MAX_CALL_POINTS
   points; the finish redraws each plot once; where the WebGL is software the 3-D view is
   redrawn only at the start and the finish of a run, with at most MAX_SOFTWARE_3D_POINTS
   points.
2. Time, against the machine as it is now, with a margin: a reference figure
   (REFERENCE_FIGURE, drawn in a div of the test's own before and after the runs) takes
   REFERENCE_QUIET_MS on the project's 2-core machine when quiet; `slowdown` is how much longer
   it takes now (at least 1). Every task must stay under TASK_LIMIT_MS x slowdown x CONTENTION,
   the page's 50 ms scaled by the machine's state and by the server's computing the run on the
   same cores meanwhile (the reference is measured while nothing runs): 150 ms on an idle
   machine, half of what the start and the finish took before. This bound catches a return of
   those redraws without failing on a busy machine; the figures against the 50 ms themselves
   are bench/page_stream.py's. The tasks in which the 3-D view renders get SURFACE_LIMIT_MS x
   slowdown instead: a software WebGL (SwiftShader, which headless chromium with --disable-gpu
   uses) holds the frame after each change of the 3-D view while it renders the surface on the
   CPU, 50-250 ms here whatever the grid's resolution or the canvas's pixel ratio (plot.js,
   liveViews).

These runs are watched at 1280 x 800 scrolled to the 3-D view, and driven by script so that
nothing scrolls it away: every view draws, the 3-D one included (the worst case; unscrolled,
the 3-D view is below the fold and draws only once scrolled to, which the last test checks).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from conftest import VIEWPORT, Watched
from page_helpers import REFERENCE_FIGURE, fragment, page_state, show_surface

from app.presets import get_preset

RUN_MS = 180_000
HEAVY_SEEDS = 64
HEAVY_STEPS = 3_000
# A run's start lasts until this long after its first chunk; tasks that start this long after a
# run is drawn still belong to its finish (a frame's rendering, a 3-D view's commit).
START_MS = 500
TAIL_MS = 1_000
# The page's rule.
TASK_LIMIT_MS = 50
# The server computes the run on the same cores while the page draws its start and streams it,
# and the same Plotly redraw then takes two to three times as long as on an idle machine
# (measured on this project's 2-core machine).
CONTENTION = 3.0
# A software WebGL rendering the 3-D surface (see the module's docstring).
SURFACE_LIMIT_MS = 300
# Points handed to one Plotly call, at most: the SVG budget of a "many" figure (10,000 per plot,
# drawn twice on the contour: outline and path) and its markers.
MAX_CALL_POINTS = 25_000
# ...and to the 3-D view where its WebGL is software: 3,000 path points, their gaps, the grid.
MAX_SOFTWARE_3D_POINTS = 5_000
# The reference figure's time on this project's 2-core machine, quiet (the median of 7 draws).
REFERENCE_QUIET_MS = 12.0

INSTRUMENT = """
window.__lt = { tasks: [], calls: [], finished: [], steps: [], paints: [] };
// When the page asks the landscape worker for a picture.
window.Worker = class extends window.Worker {
  constructor(url, options) {
    super(url, options);
    if (String(url).includes("landscape-worker")) {
      const post = this.postMessage.bind(this);
      this.postMessage = (...message) => {
        window.__lt.paints.push(performance.now());
        return post(...message);
      };
    }
  }
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__lt.tasks.push([entry.startTime, entry.duration]);
}).observe({ type: "longtask", buffered: true });
new MutationObserver(() => window.__lt.finished.push(performance.now()))
  .observe(document, { subtree: true, attributeFilter: ["data-runs-done"] });
addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector("[data-testid=status]");
  new MutationObserver(() => {
    if (status.textContent.startsWith("Step ")) window.__lt.steps.push(performance.now());
  }).observe(status, { childList: true, characterData: true, subtree: true });
});
const points = (data) => (data ?? []).reduce((n, t) => n + (t?.x?.length ?? 0), 0);
let plotly;
Object.defineProperty(window, "Plotly", { configurable: true, get() { return plotly; },
  set(value) {
    plotly = value;
    for (const name of ["react", "newPlot", "restyle", "relayout", "extendTraces", "update",
      "addTraces", "deleteTraces", "purge"]) {
      const call = value[name];
      value[name] = function (div, ...rest) {
        const plot = div?.dataset?.testid ?? "";
        const started = performance.now();
        const result = call.call(this, div, ...rest);
        const figure = name === "react" || name === "newPlot";
        const data = figure ? rest[0] : [];
        const landscape = figure && plot === "plot-contour"
          ? { grid: (rest[0]?.[0]?.z ?? []).flat().length,
              image: (rest[1]?.images ?? []).some((i) => /^data:image\\/png/.test(i.source)) }
          : null;
        window.__lt.calls.push({ plot, name, figure, start: started,
          duration: performance.now() - started,
          points: name === "extendTraces" ? (rest[0]?.x ?? []).reduce((n, a) => n + a.length, 0)
            : points(data), landscape });
        return result;
      };
    }
  } });
"""


def heavy_fragment() -> str:
    """The noise preset's three series at HEAVY_SEEDS seeds and HEAVY_STEPS steps."""
    spec = get_preset("noise-ano-adam-yogi").spec
    palette = ("#0072B2", "#D55E00", "#009E73")
    state = {
        "preset": None,
        "landscape": spec["landscape"],
        "noise": spec["noise"],
        "seeds": HEAVY_SEEDS,
        "start": None,
        "steps": HEAVY_STEPS,
        "clip": None,
        "series": [
            {**entry, "label": "", "color": palette[i], "sweep": None}
            for i, entry in enumerate(spec["series"])
        ],
        "gamma": None,
        "narration": False,
    }
    return "#state=" + quote(json.dumps(state), safe="")


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    """A fresh page, instrumented before its scripts run, and its errors."""
    context = browser.new_context(viewport=VIEWPORT)
    watched = Watched(context.new_page())
    watched.page.on("pageerror", lambda error: watched.errors.append(str(error)))
    watched.page.on(
        "console", lambda m: watched.errors.append(m.text) if m.type == "error" else None
    )
    watched.page.add_init_script(INSTRUMENT)
    yield watched
    context.close()


def now(page) -> float:
    return page.evaluate("() => performance.now()")


def wait_runs(page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.body.dataset.runsDone ?? 0) >= n", arg=count, timeout=RUN_MS
    )
    page.wait_for_timeout(TAIL_MS + 200)


def phases(page, began: float) -> dict:
    """The run that began at ``began``: its calls and long tasks by phase. The start lasts until
    START_MS after the first chunk (the views draw the new run's figures in the frames after
    the stream's first event, which comes just before it), the streaming until the last chunk,
    the finish until TAIL_MS after the finished run is drawn."""
    return page.evaluate(
        """([began, tail, startMs]) => {
            const lt = window.__lt;
            const finished = lt.finished.find((t) => t >= began);
            const steps = lt.steps.filter((t) => t >= began && t <= finished);
            const lastStep = steps.at(-1) ?? finished;
            const streamFrom = Math.min((steps[0] ?? finished) + startMs, lastStep);
            const bounds = { start: [began, streamFrom], streaming: [streamFrom, lastStep],
                finish: [lastStep, finished + tail] };
            const within = (list, key) => Object.fromEntries(Object.entries(bounds).map(
                ([name, [from, to]]) => [name, list.filter((x) => key(x) >= from && key(x) < to)]));
            return { tasks: within(lt.tasks, (t) => t[0]),
                calls: within(lt.calls, (c) => c.start) };
        }""",
        [began, TAIL_MS, START_MS],
    )


def whole(page, began: float) -> dict:
    """Calls and long tasks from ``began`` to TAIL_MS after the next finished run."""
    return page.evaluate(
        """([began, tail]) => {
            const lt = window.__lt;
            const finished = lt.finished.find((t) => t >= began);
            const inside = (t) => t >= began && t < finished + tail;
            return { tasks: lt.tasks.filter((t) => inside(t[0])),
                calls: lt.calls.filter((c) => inside(c.start)),
                paints: lt.paints.filter(inside) };
        }""",
        [began, TAIL_MS],
    )


CHOOSE_RASTRIGIN = """() => {
    const select = document.querySelector('[data-testid=landscape]');
    select.value = 'rastrigin';
    for (const kind of ['input', 'change']) select.dispatchEvent(new Event(kind, {bubbles: true}));
}"""


def surface_tasks(tasks: list, calls: list) -> list:
    """The long tasks in which the 3-D view renders: those that call Plotly on it, and those
    without any Plotly call that start within 250 ms after such a call (its next frames, whose
    commit waits for the software renderer)."""
    surface = [
        (c["start"], c["start"] + c["duration"]) for c in calls if c["plot"] == "plot-surface"
    ]

    def calls_in(task: list) -> list:
        return [c for c in calls if task[0] <= c["start"] <= task[0] + task[1]]

    return [
        task
        for task in tasks
        if any(c["plot"] == "plot-surface" for c in calls_in(task))
        or (not calls_in(task) and any(start <= task[0] <= end + 250 for start, end in surface))
    ]


def test_no_long_task_at_the_start_the_streaming_the_finish_or_a_landscape_change(
    base_url, watched
):
    page = watched.page
    page.goto(base_url)
    wait_runs(page, 1)
    show_surface(page)
    assert page.evaluate("() => document.body.dataset.webgl") in ("software", "none", "hardware")
    software = page.evaluate("() => document.body.dataset.webgl") != "hardware"
    reference = page.evaluate(REFERENCE_FIGURE)

    # The default run again, a landscape change (its picture, then its run), the heavy run;
    # by script, which scrolls nothing: the 3-D view stays on screen.
    began = now(page)
    page.evaluate("() => document.querySelector('[data-testid=run]').click()")
    wait_runs(page, 2)
    default_run = phases(page, began)
    began = now(page)
    page.evaluate(CHOOSE_RASTRIGIN)
    wait_runs(page, 3)
    landscape = whole(page, began)
    began = now(page)
    page.evaluate("hash => { location.hash = hash; }", heavy_fragment())
    wait_runs(page, 4)
    heavy = phases(page, began)
    reference += page.evaluate(REFERENCE_FIGURE)
    assert (
        page.evaluate("() => document.querySelector('[data-testid=plot-contour]').dataset.drawing")
        == "many"
    )

    runs = {"default run": default_run, "heavy run": heavy}
    every_call = [c for run in runs.values() for calls in run["calls"].values() for c in calls]
    every_call += landscape["calls"]
    every_task = [t for run in runs.values() for tasks in run["tasks"].values() for t in tasks]
    every_task += landscape["tasks"]

    # 1. Structure.
    # Each Plotly call but purge redraws a whole plot (a restyle too): one per task.
    for task_start, duration in every_task:
        redraws = [
            c
            for c in every_call
            if c["name"] != "purge" and task_start <= c["start"] <= task_start + duration
        ]
        assert len(redraws) <= 1, ("one Plotly redraw per task", redraws)
    contour_figures = [c for c in every_call if c["landscape"] is not None]
    assert contour_figures
    assert all(c["landscape"]["grid"] <= 4 for c in contour_figures), "no landscape grid"
    assert any(c["landscape"]["image"] for c in landscape["calls"] if c["landscape"]) or any(
        c["name"] == "relayout" and c["plot"] == "plot-contour" for c in landscape["calls"]
    ), "the landscape's picture is placed"
    assert page.evaluate(
        """() => document.querySelector('[data-testid=plot-contour]').layout.images
            .some((image) => image.source.startsWith('data:image/png'))"""
    )
    # ...painted once the views have drawn the new landscape's figures: painted beside their
    # layout, the worker's work made it two to three times as long.
    [paint] = landscape["paints"]
    drawn_before = {
        c["plot"] for c in landscape["calls"] if c["figure"] and c["start"] + c["duration"] <= paint
    }
    assert {"plot-contour", "plot-loss", "plot-distance"} <= drawn_before, landscape["calls"]
    biggest = max(every_call, key=lambda c: c["points"])
    assert biggest["points"] <= MAX_CALL_POINTS, biggest
    if software:
        surface = [c["points"] for c in every_call if c["plot"] == "plot-surface"]
        assert max(surface) <= MAX_SOFTWARE_3D_POINTS, surface
    for name, run in runs.items():
        finish = [c for c in run["calls"]["finish"] if c["figure"]]
        # Each plot's finished figure once; a run that computes faster than its start figures
        # are drawn (the default run, on a quiet machine) has those land in the finish window
        # too, so one more is allowed there, never a third.
        for plot in ("plot-contour", "plot-loss", "plot-distance", "plot-surface"):
            redrawn = sum(c["plot"] == plot for c in finish)
            assert 1 <= redrawn <= 2, (name, plot, finish)
        if software:
            # At most its start figure, when that frame falls after the stream began: the
            # paths come to the 3-D view only at the finish.
            streamed = [c for c in run["calls"]["streaming"] if c["plot"] == "plot-surface"]
            assert len(streamed) <= 1, (name, streamed)

    # 2. Time.
    slowdown = max(1.0, statistics.median(reference) / REFERENCE_QUIET_MS)
    three_d = surface_tasks(every_task, every_call)
    flat = [t for t in every_task if t not in three_d]
    limit = TASK_LIMIT_MS * slowdown * CONTENTION
    report = {
        "slowdown": round(slowdown, 2),
        "limit": round(limit),
        "reference": [round(t) for t in reference],
        "tasks": {
            name: {phase: [round(d) for _, d in tasks] for phase, tasks in run["tasks"].items()}
            for name, run in runs.items()
        },
        "landscape": [round(d) for _, d in landscape["tasks"]],
        "3-D": [round(d) for _, d in three_d],
    }
    print(json.dumps(report))
    assert max((d for _, d in flat), default=0) <= limit, report
    assert max((d for _, d in three_d), default=0) <= SURFACE_LIMIT_MS * slowdown, report
    assert watched.errors == []


def test_the_landscape_is_a_picture_with_a_colour_bar_and_a_hover_that_says_where_to_start(
    base_url, watched
):
    """The landscape that the contour trace drew is a layout image now (painted off the main
    thread): it covers the surface grid's box under the paths, its colour bar is a picture
    beside it, and the mouse over it says the point a click starts from."""
    page = watched.page
    page.goto(base_url)
    wait_runs(page, 1)
    drawn = page.evaluate(
        """() => { const div = document.querySelector('[data-testid=plot-contour]');
            const [image, bar] = div.layout.images;
            const box = [image.x, image.x + image.sizex, image.y - image.sizey, image.y];
            const axes = [...div.layout.xaxis.range, ...div.layout.yaxis.range];
            return { image: { box, axes, layer: image.layer,
                png: image.source.startsWith('data:image/png;base64,') },
                bar: { name: bar.name, png: bar.source.startsWith('data:image/png;base64,') },
                traces: [...new Set(div.data.map((t) => t.type))] };
        }"""
    )
    assert drawn["image"]["png"]
    assert drawn["image"]["layer"] == "below"
    # The default landscape's grid spans its view box, which the axes show.
    assert drawn["image"]["box"] == pytest.approx(drawn["image"]["axes"])
    # Its colour bar is a picture too: no trace of the contour draws the landscape.
    assert drawn["bar"] == {"name": "colour bar", "png": True}
    assert drawn["traces"] == ["scatter"]
    # Over the picture, away from every path: the point a click would start from.
    box = page.evaluate(
        """() => { const xa = document.querySelector('[data-testid=plot-contour]')
            ._fullLayout.xaxis; const ya = document.querySelector('[data-testid=plot-contour]')
            ._fullLayout.yaxis; const svg = document.querySelector(
            '[data-testid=plot-contour] .main-svg').getBoundingClientRect();
            return { x: svg.left + xa._offset + xa.c2p(-1.8), y: svg.top + ya._offset
                + ya.c2p(-0.8) }; }"""
    )
    page.mouse.move(box["x"], box["y"])
    label = page.get_by_test_id("landscape-hover")
    label.wait_for(state="visible")
    text = label.text_content()
    assert text.endswith("click to start here"), text
    x, y = (float(v) for v in text.split(")")[0].strip("(").split(","))
    assert x == pytest.approx(-1.8, abs=0.02), text
    assert y == pytest.approx(-0.8, abs=0.02), text
    page.mouse.move(1, 1)
    label.wait_for(state="hidden")
    assert watched.errors == []


def test_the_3d_view_draws_when_it_comes_on_screen(base_url, browser):
    """At 1280 x 800 the 3-D view is below the fold: a run draws the other views and not it
    (no Plotly call, its work waits, data-pending says what); scrolled to, it draws the run,
    once; scrolled away, the next run leaves it waiting again."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(INSTRUMENT)
    page.goto(base_url)
    wait_runs(page, 1)
    surface_calls = """() => window.__lt.calls.filter((c) => c.plot === 'plot-surface')
        .map((c) => c.name)"""
    pending = "() => document.querySelector('[data-testid=plot-surface]').dataset.pending ?? null"
    assert page.evaluate(surface_calls) == []
    assert page.evaluate(pending) == "figure"
    assert page.evaluate(
        "() => window.__lt.calls.some((c) => c.plot === 'plot-contour' && c.figure)"
    )

    page.get_by_test_id("plot-surface").scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({pending})() === null", timeout=RUN_MS)
    assert page.evaluate(surface_calls) == ["react"]
    series = page.evaluate(
        """() => new Set(document.querySelector('[data-testid=plot-surface]').data
            .filter((t) => t.type === 'scatter3d' && t.mode === 'lines')
            .map((t) => t.name)).size"""
    )
    assert series == page.get_by_test_id("series").count()

    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_test_id("run").click()
    wait_runs(page, 2)
    assert page.evaluate(surface_calls) == ["react"]
    assert page.evaluate(pending) == "figure"
    assert errors == []
    context.close()


# A map big enough that its rows' JSON (some 20 MB in its first event and as much in its last)
# froze the page for 300-400 ms a time when parsed there.
BIG_MAP_SIDE = 192


def big_map_fragment() -> str:
    """SGD, Adam and Anon over a BIG_MAP_SIDE x BIG_MAP_SIDE grid of starts on Himmelblau."""
    series = [
        {"optimizer": name, "hparams": {"lr": lr}}
        for name, lr in (("sgd", 0.01), ("adam", 0.1), ("anon", 0.1))
    ]
    side = BIG_MAP_SIDE
    return fragment(
        page_state(series, steps=100, map={"x": [-5.0, 5.0, side], "y": [-5.0, 5.0, side]})
    )


def test_a_big_map_is_read_and_painted_off_the_main_thread(base_url, watched):
    page = watched.page
    page.goto(base_url)
    wait_runs(page, 1)
    reference = page.evaluate(REFERENCE_FIGURE)
    began = now(page)
    page.evaluate("hash => { location.hash = hash; }", big_map_fragment())
    wait_runs(page, 2)
    run = whole(page, began)
    reference += page.evaluate(REFERENCE_FIGURE)

    # Structure: the map's figure is laid out once, its axes only; its cells come as images
    # (the preview's, then the finished map's), swapped in by relayouts that draw no points.
    cells = [c for c in run["calls"] if c["plot"] == "plot-cells"]
    assert [c["name"] for c in cells if c["figure"]] == ["react"], cells
    assert all(c["name"] in ("react", "relayout", "purge") for c in cells), cells
    assert max(c["points"] for c in cells) <= 3, "one clicked-cell marker per picture, unset"
    drawn = page.evaluate(
        """() => { const gd = document.querySelector('[data-testid=plot-cells]');
            return { stage: gd.dataset.stage, images: gd.layout.images.map((i) => i.name),
                     traces: gd.data.map((t) => t.type) }; }"""
    )
    assert drawn == {
        "stage": "done",
        "images": ["SGD", "Adam", "Anon", "colour bar"],
        "traces": ["scatter"] * 3,
    }

    # Time: no task near what parsing the rows on the page took.
    slowdown = max(1.0, statistics.median(reference) / REFERENCE_QUIET_MS)
    limit = TASK_LIMIT_MS * slowdown * CONTENTION
    report = {
        "slowdown": round(slowdown, 2),
        "limit": round(limit),
        "tasks": [round(d) for _, d in run["tasks"]],
    }
    print(json.dumps(report))
    assert max((d for _, d in run["tasks"]), default=0) <= limit, report
    assert watched.errors == []
