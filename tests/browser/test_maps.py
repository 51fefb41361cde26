"""Maps, phase diagrams and tuned comparisons on the page, checked against the server's own
summaries, aggregated here in Python (medians over seeds; diverged rows count as +inf)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections import Counter

import pytest
from page_helpers import (
    RUN_SECONDS,
    fragment,
    is_run_request,
    page_state,
    server_result,
    show_surface,
    wait_for_runs,
)

from app.presets import get_preset

RUN_MS = RUN_SECONDS * 1000
GAP_FLOOR = 1e-16
# Where a cell of picture k at data (x, y) is on the screen (Plotly's axes convert data to
# pixels; the heat maps are laid out as subplots x, x2, x3, ...).
CELL_POSITION = """([k, x, y]) => {
    const gd = document.querySelector("[data-testid=plot-cells]");
    const layout = gd._fullLayout;
    const xa = layout[k === 0 ? "xaxis" : `xaxis${k + 1}`];
    const ya = layout[k === 0 ? "yaxis" : `yaxis${k + 1}`];
    const box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.d2p(x), y: box.top + ya._offset + ya.d2p(y)};
}"""
# The pictures' colour values as the page drew them (plot-cells' cellPictures: cell (j, i) at
# j * nx + i, NaN where grey), as lines by y with None for grey.
HEATMAPS = """() => (document.querySelector("[data-testid=plot-cells]").cellPictures ?? [])
    .map(p => ({label: p.label, stage: p.stage, x: Array.from(p.x), y: Array.from(p.y),
                z: Array.from({length: p.ny}, (_, j) => Array.from(
                    p.values.subarray(j * p.nx, (j + 1) * p.nx),
                    v => Number.isFinite(v) ? v : null))}))"""
# What is on screen for each picture: a map's layout images (where they sit on their axes,
# their size in pixels and which pixels are transparent, row 0 the top; and its colour bar's),
# a phase diagram's heat map traces (their z, null where grey).
DRAWN = """async () => {
    const gd = document.querySelector("[data-testid=plot-cells]");
    const images = await Promise.all((gd.layout.images ?? []).map(async (image) => {
        const bitmap = new Image();  // as the page loads it (the CSP allows blob: images)
        bitmap.src = image.source;
        await bitmap.decode();
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext("2d");
        context.drawImage(bitmap, 0, 0);
        const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
        const clear = [];
        for (let p = 0; p < bitmap.width * bitmap.height; p++) clear.push(pixels[4 * p + 3] === 0);
        return {name: image.name, xref: image.xref, yref: image.yref, x: image.x, y: image.y,
                sizex: image.sizex, sizey: image.sizey, width: bitmap.width,
                height: bitmap.height, clear};
    }));
    const heatmaps = gd.data.filter(t => t.type === "heatmap").map(t => ({
        label: t.meta.label, z: t.z.map(line => Array.from(line))}));
    return {images, heatmaps};
}"""


def run_spec(state: dict) -> dict:
    """The run the page asks for with ``state`` (as static/js/state.js builds it)."""
    spec = {
        "landscape": state["landscape"],
        "noise": None if state["noise"]["kind"] == "none" else state["noise"],
        "seeds": list(range(state["seeds"])),
        "start": state["start"],
        "steps": state["steps"],
        "clip_grad_norm": state["clip"],
        "series": [
            {"optimizer": s["optimizer"], "hparams": s["hparams"]}
            | ({"sweep": s["sweep"]} if s["sweep"] else {})
            for s in state["series"]
        ],
    }
    if state["map"]:
        spec["starts"] = {"grid": state["map"]}
    if state["tune"]:
        spec["tune"] = state["tune"]
    if state["map"] or any(isinstance(s["sweep"], list) for s in state["series"]):
        spec["record"] = "final"
    return spec


# ---- the cells, computed here from the server's rows ----


def final_loss(row: dict) -> float:
    return math.inf if row["diverged_at"] is not None else row["final_loss"]


def loss_colour(rows: list[dict], best: float) -> float | None:
    """log10 of the median final loss's gap to the minimum, floored; None: diverged (grey)."""
    median = statistics.median(final_loss(row) for row in rows)
    if not math.isfinite(median):
        return None
    return math.log10(max(median - best, GAP_FLOOR))


def steps_colour(rows: list[dict]) -> float | None:
    reached = [row["steps_to_tolerance"] for row in rows if row["steps_to_tolerance"] is not None]
    return statistics.median(reached) if reached else None


def basin_colour(rows: list[dict]) -> int | None:
    counts = Counter(
        row["nearest_minimum"]
        for row in rows
        if row["diverged_at"] is None and row["nearest_minimum"] is not None
    )
    return min(counts, key=lambda k: (-counts[k], k)) if counts else None


def map_cells(result: dict, grid: dict) -> dict[str, dict[tuple[int, int], list[dict]]]:
    """Rows by label and by (j, i) of their start: the start index is row % (nx * ny)."""
    nx, ny = grid["x"][2], grid["y"][2]
    cells: dict[str, dict[tuple[int, int], list[dict]]] = {}
    for row in result["series"]:
        j, i = divmod(row["row"] % (nx * ny), nx)
        cells.setdefault(row["label"], {}).setdefault((j, i), []).append(row)
    return cells


def assert_map_drawn(page, maps: list[dict]) -> None:
    """Each map picture is on screen as one image, one pixel per cell spanning its cells' edges,
    transparent (the grey background) exactly where its cell is grey."""
    drawn = page.evaluate(DRAWN)
    assert drawn["heatmaps"] == []
    pictures = [image for image in drawn["images"] if image["name"] != "colour bar"]
    bars = [image for image in drawn["images"] if image["name"] == "colour bar"]
    for k, (image, picture) in enumerate(zip(pictures, maps, strict=True)):
        xs, ys = picture["x"], picture["y"]
        nx, ny = len(xs), len(ys)
        assert (image["xref"], image["yref"]) == (
            ("x", "y") if k == 0 else (f"x{k + 1}", f"y{k + 1}")
        )
        assert (image["width"], image["height"]) == (nx, ny)
        half_x = (xs[-1] - xs[0]) / (nx - 1) / 2
        half_y = (ys[-1] - ys[0]) / (ny - 1) / 2
        assert image["x"] == pytest.approx(xs[0] - half_x)
        assert image["y"] == pytest.approx(ys[-1] + half_y)
        assert image["sizex"] == pytest.approx(xs[-1] - xs[0] + 2 * half_x)
        assert image["sizey"] == pytest.approx(ys[-1] - ys[0] + 2 * half_y)
        grey = [picture["z"][ny - 1 - line][i] is None for line in range(ny) for i in range(nx)]
        assert image["clear"] == grey, f"transparent pixels of {picture['label']}"
    # A colour bar beside them, unless every cell is grey; its scale spans the values.
    values = [v for m in maps for line in m["z"] for v in line if v is not None]
    assert len(bars) == (1 if values else 0)
    scale = page.evaluate("() => document.querySelector('[data-testid=plot-cells]').cellScale")
    assert scale["shown"] == bool(values)
    if values:
        assert scale["cmin"] <= min(values)
        assert max(values) <= scale["cmax"]
        assert (bars[0]["xref"], bars[0]["yref"], bars[0]["x"]) == (
            "paper",
            "paper",
            pytest.approx(1, abs=0.05),
        )
        assert bars[0]["width"] > 0
        assert bars[0]["height"] > 0


def assert_close(page_z: list[list], expected: list[list], what: str) -> None:
    assert len(page_z) == len(expected), what
    for j, (line, wanted) in enumerate(zip(page_z, expected, strict=True)):
        for i, (value, want) in enumerate(zip(line, wanted, strict=True)):
            if want is None:
                assert value is None, f"{what} [{j}][{i}]: {value} should be grey"
            else:
                assert value == pytest.approx(want, rel=1e-12, abs=1e-12), f"{what} [{j}][{i}]"


def shown(value: float) -> str:
    """A number as the page writes it (cells.js formatValue): 3 significant digits, JavaScript's
    exponent form below 1e-3 and from 1e5."""
    if math.isinf(value):
        return "diverged"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:.2e}")
    return f"{float(f'{value:.3g}'):g}"


def cell_position(page, picture: int, x: float, y: float) -> dict:
    return page.evaluate(CELL_POSITION, [picture, x, y])


def hover_cell(page, picture: int, x: float, y: float) -> dict:
    """Move the mouse onto a cell (from a pixel beside it: Plotly follows moves within the
    plot) and return where it is."""
    where = cell_position(page, picture, x, y)
    page.mouse.move(where["x"] + 2, where["y"] + 2)
    page.mouse.move(where["x"], where["y"])
    return where


def wait_for_stage(page, stage: str) -> None:
    page.wait_for_function(
        "stage => document.querySelector('[data-testid=plot-cells]').dataset.stage === stage",
        arg=stage,
        timeout=RUN_MS,
    )


def choose_metric(page, metric: str) -> None:
    page.get_by_test_id("cells-metric").select_option(metric)
    page.wait_for_function(
        "metric => document.querySelector('[data-testid=plot-cells]').dataset.metric === metric",
        arg=metric,
    )


# ---- maps ----

MAP_SERIES = [
    {"optimizer": "sgd", "hparams": {"lr": 0.01}},
    {"optimizer": "adam", "hparams": {"lr": 0.1}},
]
MAP_STATE = page_state(
    # SGD at lr 0.03 under this noise diverges from some starts on some seeds: medians with
    # infinite members, and grey cells.
    [{"optimizer": "sgd", "hparams": {"lr": 0.03}}, MAP_SERIES[1]],
    noise={"kind": "gaussian", "sigma": 2.0},
    seeds=3,
    steps=80,
    map={"x": [-5.0, 5.0, 20], "y": [-4.0, 5.0, 18]},
)


def test_a_himmelblau_map_draws_the_servers_summaries_as_medians(base_url, open_page, screenshot):
    watched = open_page(base_url + fragment(MAP_STATE))
    page = watched.page
    wait_for_runs(page, 1)
    wait_for_stage(page, "done")
    result = server_result(base_url, run_spec(MAP_STATE))
    grid = MAP_STATE["map"]
    cells = map_cells(result, grid)
    best = min(m["value"] for m in result["landscape"]["global_minima"])
    nx, ny = grid["x"][2], grid["y"][2]

    def expected(colour) -> dict[str, list[list]]:
        return {
            label: [[colour(by_start[(j, i)]) for i in range(nx)] for j in range(ny)]
            for label, by_start in cells.items()
        }

    maps = page.evaluate(HEATMAPS)
    assert [m["label"] for m in maps] == ["SGD", "Adam"]
    xs = [-5 + 10 * i / (nx - 1) for i in range(nx)]
    ys = [-4 + 9 * j / (ny - 1) for j in range(ny)]
    for drawn in maps:
        assert drawn["x"] == pytest.approx(xs)
        assert drawn["y"] == pytest.approx(ys)
        assert drawn["stage"] == "done"
    wanted = expected(lambda rows: loss_colour(rows, best))
    for drawn in maps:
        assert_close(drawn["z"], wanted[drawn["label"]], f"final loss of {drawn['label']}")
    # Noise this strong makes some rows diverge: the test covers greyed cells too.
    assert any(v is None for drawn in maps for line in drawn["z"] for v in line)
    assert_map_drawn(page, maps)
    screenshot(page, "map-himmelblau-final-loss")

    choose_metric(page, "steps")
    wanted = expected(steps_colour)
    maps = page.evaluate(HEATMAPS)
    for drawn in maps:
        assert_close(drawn["z"], wanted[drawn["label"]], f"steps of {drawn['label']}")
    assert_map_drawn(page, maps)

    # Himmelblau has four global minima: the basin map is offered, categorical.
    choose_metric(page, "nearest")
    wanted = expected(basin_colour)
    maps = page.evaluate(HEATMAPS)
    for drawn in maps:
        assert_close(drawn["z"], wanted[drawn["label"]], f"basin of {drawn['label']}")
    assert_map_drawn(page, maps)
    scale = page.evaluate("() => document.querySelector('[data-testid=plot-cells]').cellScale")
    assert (scale["cmin"], scale["cmax"]) == (-0.5, 3.5)
    assert [tick["value"] for tick in scale["ticks"]] == [0, 1, 2, 3]
    minima = result["landscape"]["global_minima"]
    assert [tick["label"] for tick in scale["ticks"]] == [
        f"({m['point'][0]:.3g}, {m['point'][1]:.3g})" for m in minima
    ]
    screenshot(page, "map-himmelblau-basins")
    # The metric is part of the state: the URL keeps it.
    assert '"cellMetric":"nearest"' in page.evaluate("() => decodeURIComponent(location.hash)")
    assert_summary_exports(page, result, run_spec(MAP_STATE))
    assert watched.errors == []


SUMMARY_FIELDS = (
    "final_loss",
    "mean_loss",
    "distance_to_minimum",
    "nearest_minimum",
    "steps_to_tolerance",
    "diverged_at",
)


def assert_summary_exports(page, result: dict, spec: dict, varied: tuple[str, ...] = ()) -> None:
    """The page's CSV and JSON of a map or phase diagram: every row's identity and summary,
    equal to the server's whole result for the same spec, and in the CSV a column for each
    hyperparameter the spec varies (``varied``)."""
    rows = result["series"]
    with page.expect_download() as download_info:
        page.get_by_test_id("export-json").click()
    assert download_info.value.suggested_filename.endswith("-summaries.json")
    exported = json.loads(download_info.value.path().read_text())
    request = exported["reproducibility"]["request"]
    # The page also caps the points per row (max_points), which a summary never uses.
    assert {k: v for k, v in request.items() if k != "max_points"} == spec
    assert exported["record"] == "final"
    assert exported["rows"] == rows

    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    lines = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    assert len(lines) == len(rows)

    def number(text: str) -> float | None:
        return None if text == "" else float(text)

    for line, row in zip(lines, rows, strict=True):
        assert (int(line["row"]), line["label"], int(line["seed"])) == (
            row["row"],
            row["label"],
            row["seed"],
        )
        assert [number(line["start_x"]), number(line["start_y"])] == row["start"]
        assert [number(line["final_x"]), number(line["final_y"])] == row["final_point"]
        for name in SUMMARY_FIELDS:
            assert number(line[name]) == row[name], (name, line, row)
        for param in varied:
            assert number(line[param]) == row["hparams"][param], (param, line, row)


def test_the_coarse_preview_is_drawn_before_the_run_is_done_and_cancel_keeps_it(
    base_url, open_page
):
    # A long run (20,000 steps) over 32 x 32 starts: the preview (every 4th start, 8 x 8)
    # comes while the rest is still computing.
    state = page_state(
        [{"optimizer": "adam", "hparams": {"lr": 0.05}}],
        steps=20_000,
        map={"x": [-5.0, 5.0, 32], "y": [-5.0, 5.0, 32]},
    )
    watched = open_page(base_url + fragment(state))
    page = watched.page
    wait_for_stage(page, "preview")
    assert page.get_by_test_id("cancel").is_visible(), "the run is still going"
    assert page.evaluate("() => Number(document.body.dataset.runsDone ?? 0)") == 0
    [preview] = page.evaluate(HEATMAPS)
    assert preview["stage"] == "preview"
    assert preview["x"] == pytest.approx([-5 + 10 * i / 31 for i in range(0, 32, 4)])
    assert len(preview["z"]) == 8
    assert sum(v is not None for line in preview["z"] for v in line) > 32
    # Drawn over the whole box: one pixel per start of the 32 x 32 grid, each coarse cell
    # filling its 4 x 4 block (transparent where grey), on the finished map's axes.
    [image] = [i for i in page.evaluate(DRAWN)["images"] if i["name"] != "colour bar"]
    assert (image["width"], image["height"]) == (32, 32)
    assert image["x"] == pytest.approx(-5 - 10 / 31 / 2)
    assert image["clear"] == [
        preview["z"][(31 - line) // 4][i // 4] is None for line in range(32) for i in range(32)
    ]
    wait_for_runs(page, 1)
    [full] = page.evaluate(HEATMAPS)
    assert full["stage"] == "done"
    assert (len(full["z"]), len(full["z"][0])) == (32, 32)
    # The preview's cells are exact: the full map has the same values at those starts.
    for j in range(8):
        for i in range(8):
            assert full["z"][4 * j][4 * i] == preview["z"][j][i]

    # Again, cancelled once the preview is drawn: the preview stays, the status says so.
    page.get_by_test_id("run").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=plot-cells]').dataset.stage !== 'done'",
        timeout=RUN_MS,
    )
    wait_for_stage(page, "preview")
    page.get_by_test_id("cancel").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=status]').textContent.startsWith('Cancelled')",
        timeout=RUN_MS,
    )
    assert "coarse preview" in page.get_by_test_id("status").inner_text()
    assert page.get_by_test_id("cancel").is_hidden()
    assert page.evaluate(HEATMAPS)[0]["stage"] == "preview"
    assert watched.errors == []


def test_hovering_a_cell_says_its_numbers_and_clicking_it_runs_its_trajectory(base_url, open_page):
    state = page_state(MAP_SERIES, steps=50, map={"x": [-5.0, 5.0, 16], "y": [-5.0, 5.0, 16]})
    watched = open_page(base_url + fragment(state))
    page = watched.page
    wait_for_runs(page, 1)
    result = server_result(base_url, run_spec(state))
    # Adam (picture 1) from the start at column 11, row 4.
    i, j = 11, 4
    x, y = -5 + 10 * i / 15, -5 + 10 * j / 15
    row = next(r for r in result["series"] if r["label"] == "Adam" and r["row"] % 256 == j * 16 + i)
    assert row["start"] == pytest.approx([x, y])
    where = hover_cell(page, 1, x, y)
    info = page.get_by_test_id("cell-info")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cell-info]').textContent.startsWith('Adam')"
    )
    text = info.inner_text()
    assert text.startswith(f"Adam, start ({shown(x)}, {shown(y)}): final loss ")
    assert f"final loss {shown(row['final_loss'])};" in text
    if row["steps_to_tolerance"] is not None:
        assert f"within tolerance at step {row['steps_to_tolerance']}" in text
    minimum = result["landscape"]["global_minima"][row["nearest_minimum"]]["point"]
    assert f"ends nearest the minimum ({shown(minimum[0])}, {shown(minimum[1])})" in text

    with page.expect_request(is_run_request) as request_info:
        page.mouse.click(where["x"], where["y"])
    request = request_info.value
    assert request.headers["accept"] == "application/json"
    sent = request.post_data_json
    assert sent["start"] == pytest.approx([x, y])
    assert sent["series"] == [{"optimizer": "adam", "hparams": row["hparams"], "label": "Adam"}]
    assert "starts" not in sent
    assert "record" not in sent
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=cell-trajectory]').dataset.drawn) >= 1",
        timeout=RUN_MS,
    )
    path = page.evaluate(
        """() => document.querySelector("[data-testid=plot-cell-path]").data
            .filter(t => t.meta?.role === "path")
            .map(t => ({x: Array.from(t.x), y: Array.from(t.y)}))"""
    )
    assert len(path) == 1
    # The trajectory starts at the cell's start and ends where the map's row ended.
    assert (path[0]["x"][0], path[0]["y"][0]) == pytest.approx((x, y))
    assert (path[0]["x"][-1], path[0]["y"][-1]) == pytest.approx(tuple(row["final_point"]))
    assert "Adam from" in page.get_by_test_id("cell-trajectory-title").inner_text()

    # The clicked start can become a trajectory run of every series.
    page.get_by_test_id("cell-open").click()
    wait_for_runs(page, 2)
    assert page.get_by_test_id("cells").is_hidden()
    assert page.get_by_test_id("plot-contour").is_visible()
    state_now = page.evaluate(
        "() => JSON.parse(decodeURIComponent(location.hash.slice('#state='.length)))"
    )
    assert state_now["map"] is None
    assert state_now["start"] == pytest.approx([x, y])
    assert watched.errors == []


# ---- phase diagrams ----

GAMMAS = [-0.5, 0.0, 0.5, 1.0]
LRS = [0.001, 0.01, 0.1]
PHASE_STATE = page_state(
    [
        {
            "optimizer": "anon",
            "hparams": {"lr": 0.01},
            "sweep": [{"param": "gamma", "values": GAMMAS}, {"param": "lr", "values": LRS}],
        }
    ],
    landscape={"id": "rosenbrock", "params": {}},
    noise={"kind": "gaussian", "sigma": 1.0},
    seeds=3,
    start=[-2.0, 2.0],
    steps=100,
)


def test_a_phase_diagram_has_its_axes_and_median_cells(base_url, open_page, screenshot):
    watched = open_page(base_url + fragment(PHASE_STATE))
    page = watched.page
    wait_for_runs(page, 1)
    result = server_result(base_url, run_spec(PHASE_STATE))
    [drawn] = page.evaluate(HEATMAPS)
    assert drawn["label"] == "Anon"
    # The second sweep across (log: positive, 100x), the first up (linear).
    assert drawn["x"] == LRS
    assert drawn["y"] == GAMMAS
    layout = page.evaluate(
        """() => { const l = document.querySelector("[data-testid=plot-cells]")._fullLayout;
            return {x: l.xaxis.type, y: l.yaxis.type, xTitle: l.xaxis.title.text,
                    yTitle: l.yaxis.title.text}; }"""
    )
    assert layout == {"x": "log", "y": "linear", "xTitle": "lr", "yTitle": "gamma"}
    groups: dict[tuple[int, int], list[dict]] = {}
    for row in result["series"]:
        key = (GAMMAS.index(row["hparams"]["gamma"]), LRS.index(row["hparams"]["lr"]))
        groups.setdefault(key, []).append(row)
    assert all(len(rows) == 3 for rows in groups.values())
    best = result["landscape"]["global_minima"][0]["value"]
    wanted = [[loss_colour(groups[(j, i)], best) for i in range(3)] for j in range(4)]
    assert_close(drawn["z"], wanted, "phase diagram")
    assert_summary_exports(page, result, run_spec(PHASE_STATE), varied=("gamma", "lr"))
    # On screen as a heat map over the swept values (no images), with the same cells.
    on_screen = page.evaluate(DRAWN)
    assert on_screen["images"] == []
    assert [h["z"] for h in on_screen["heatmaps"]] == [drawn["z"]]
    choose_metric(page, "steps")
    assert [
        o.get_attribute("value") for o in page.locator("[data-testid=cells-metric] option").all()
    ] == [
        "final_loss",
        "steps",
    ], "one minimum: no basin map"
    [steps] = page.evaluate(HEATMAPS)
    assert_close(
        steps["z"], [[steps_colour(groups[(j, i)]) for i in range(3)] for j in range(4)], "steps"
    )
    # An all-grey picture says why in words (Plotly draws no colour bar for it).
    empty = page.get_by_test_id("cells-empty")
    if all(v is None for line in steps["z"] for v in line):
        assert "no cell's runs got within tolerance" in empty.inner_text()
    else:
        assert empty.is_hidden()

    # Hover: the median with the spread over the seeds.
    j, i = 2, 1
    rows = groups[(j, i)]
    hover_cell(page, 0, LRS[i], GAMMAS[j])
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cell-info]').textContent.includes('gamma 0.5')"
    )
    text = page.get_by_test_id("cell-info").inner_text()
    losses = [final_loss(row) for row in rows]
    assert text.startswith("Anon, gamma 0.5, lr 0.01: final loss ")
    assert "median of 3 rows" in text
    median = statistics.median(losses)
    assert f"final loss {shown(median)} (median of 3 rows; min {shown(min(losses))}, " in text
    assert f"max {shown(max(losses))})" in text
    choose_metric(page, "final_loss")
    assert page.get_by_test_id("cells-empty").is_hidden()
    ticks = page.evaluate(
        "() => document.querySelector('[data-testid=plot-cells]')._fullLayout.xaxis.ticktext"
    )
    assert ticks == ["0.001", "0.01", "0.1"], "the columns are labelled with their values"
    screenshot(page, "phase-diagram")
    assert watched.errors == []


# ---- tuned comparisons ----

TUNED_STATE = page_state(
    [{"optimizer": "adam", "hparams": {}}, {"optimizer": "sgd", "hparams": {}}],
    landscape={"id": "rosenbrock", "params": {}},
    noise={"kind": "gaussian", "sigma": 1.0},
    seeds=2,
    start=[-2.0, 2.0],
    steps=100,
    tune={
        "param": "lr",
        "grid": [0.001, 1.0, 4],
        "objective": "final_loss",
        "seeds": [1_000_001, 1_000_002, 1_000_003],
    },
)


def test_a_tuned_run_shows_the_chosen_values_and_the_same_budget(base_url, open_page, screenshot):
    watched = open_page(base_url + fragment(TUNED_STATE))
    page = watched.page
    wait_for_runs(page, 1)
    result = server_result(base_url, run_spec(TUNED_STATE))
    tuning = result["tuning"]
    panel = page.get_by_test_id("tuning")
    assert panel.is_visible()
    budget = page.get_by_test_id("tuning-budget").inner_text()
    assert budget.startswith("Every optimizer had the same budget: 4 candidates of lr × ")
    assert "3 tuning seeds × 1 start = 12 tuning runs each" in budget
    assert "chosen by the median final loss" in budget
    assert "held-out seeds (0, 1)" in budget
    chosen = [v.inner_text() for v in page.get_by_test_id("tuning-value").all()]
    assert chosen == [shown(entry["value"]) for entry in tuning["series"]]
    edges = [e.inner_text() for e in page.get_by_test_id("tuning-edge").all()]
    assert [bool(text) for text in edges] == [entry["at_edge"] for entry in tuning["series"]]
    # Every candidate's score, one line per series, and the choice ringed.
    scores = page.evaluate(
        """() => document.querySelector("[data-testid=plot-tuning]").data
            .map(t => ({role: t.meta.role, x: Array.from(t.x), y: Array.from(t.y)}))"""
    )
    lines = [t for t in scores if t["role"] == "scores"]
    assert [line["y"] for line in lines] == [entry["scores"] for entry in tuning["series"]]
    assert [t["x"] for t in scores if t["role"] == "chosen"] == [
        [entry["value"]] for entry in tuning["series"]
    ]
    # The held-out run draws as any run: one path per row, labelled with the tuned value.
    names = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => t.meta?.role === "path").map(t => t.name)"""
    )
    labels = {row["label"] for row in result["series"]}
    assert names
    assert set(names) <= labels
    assert all(label.endswith("tuned)") for label in labels)
    screenshot(page, "tuned-comparison")
    assert watched.errors == []


# ---- controls and the URL ----


def test_a_map_page_draws_no_hidden_trajectory_views_until_they_are_shown(base_url, open_page):
    """The trajectories' views are hidden while a map shows: opened on a map, the page never
    draws them (the 3-D view alone is up to a second of the main thread in software WebGL);
    once the map is turned off, they draw the trajectory run."""
    watched = open_page(base_url + fragment(MAP_STATE))
    page = watched.page
    wait_for_runs(page, 1)
    drawn = """() => ["plot-contour", "plot-loss", "plot-distance", "plot-surface"].map(id => {
        const div = document.querySelector(`[data-testid=${id}]`);
        return [id, div.getClientRects().length > 0, (div.data ?? []).length]; })"""
    assert page.evaluate(drawn) == [
        ["plot-contour", False, 0], ["plot-loss", False, 0], ["plot-distance", False, 0],
        ["plot-surface", False, 0],
    ]  # fmt: skip
    assert page.get_by_test_id("plot-cells").is_visible()

    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        page.get_by_test_id("map-toggle").uncheck()
    assert "starts" not in request_info.value.post_data_json
    wait_for_runs(page, 2)
    show_surface(page)  # the 3-D view draws once on screen
    views = page.evaluate(drawn)
    assert all(shown and traces > 0 for _, shown, traces in views), views
    assert not page.get_by_test_id("plot-cells").is_visible()
    assert watched.errors == []


def test_the_page_turns_a_run_into_a_map_a_phase_diagram_and_a_tuned_run(base_url, open_page):
    state = page_state(
        [{"optimizer": "adam", "hparams": {"lr": 0.1}}],
        landscape={"id": "rosenbrock", "params": {}},
        start=[-2.0, 2.0],
        steps=40,
    )
    watched = open_page(base_url + fragment(state))
    page = watched.page
    wait_for_runs(page, 1)

    # A map over the landscape's view box, 64 x 64 by default; 16 x 20 typed in.
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        page.get_by_test_id("map-toggle").check()
    assert request_info.value.post_data_json["starts"] == {
        "grid": {"x": [-2, 2, 64], "y": [-1, 3, 64]}
    }
    wait_for_runs(page, 2)
    for field, value in (("map-nx", "16"), ("map-ny", "20")):
        page.get_by_test_id(field).fill(value)
        with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
            page.get_by_test_id(field).press("Enter")
        wait_for_runs(page, 3 if field == "map-nx" else 4)
    sent = request_info.value.post_data_json
    assert sent["starts"] == {"grid": {"x": [-2, 2, 16], "y": [-1, 3, 20]}}
    assert sent["record"] == "final"
    [drawn] = page.evaluate(HEATMAPS)
    assert (len(drawn["z"]), len(drawn["z"][0])) == (20, 16)

    # The URL holds the map: a fresh page opens it as a map.
    url = page.url
    again = open_page(url)
    wait_for_runs(again.page, 1)
    assert again.page.get_by_test_id("map-toggle").is_checked()
    [reopened] = again.page.evaluate(HEATMAPS)
    assert (len(reopened["z"]), len(reopened["z"][0])) == (20, 16)

    # Back to one start; then a sweep of lr, and a second hyperparameter: a phase diagram.
    page.get_by_test_id("map-toggle").uncheck()
    wait_for_runs(page, 5)
    page.get_by_test_id("series-0-sweep-add").click()
    wait_for_runs(page, 6)
    page.get_by_test_id("series-0-sweep-param").select_option("beta1")
    wait_for_runs(page, 7)
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        page.get_by_test_id("series-0-sweep-add").click()
    sweep = request_info.value.post_data_json["series"][0]["sweep"]
    assert [s["param"] for s in sweep] == ["beta1", "lr"]
    assert sweep[1]["values"] == [0.01, 0.0316, 0.1, 0.316, 1]
    assert request_info.value.post_data_json["record"] == "final"
    wait_for_runs(page, 8)
    # A range typed for the second one is shown as its values.
    box = page.get_by_test_id("series-0-sweep-1")
    box.fill("1e-3:1:4:log")
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        box.press("Enter")
    assert request_info.value.post_data_json["series"][0]["sweep"][1]["values"] == [
        0.001,
        0.01,
        0.1,
        1,
    ]
    wait_for_runs(page, 9)
    assert box.input_value() == "0.001, 0.01, 0.1, 1"
    [phase] = page.evaluate(HEATMAPS)
    assert (phase["x"], len(phase["y"])) == ([0.001, 0.01, 0.1, 1], 5)

    # A tuned comparison: no sweeps (the server refuses a tuned series that sweeps).
    page.get_by_test_id("series-0-sweep-remove").click()
    wait_for_runs(page, 10)
    page.get_by_test_id("series-0-sweep-remove").click()
    wait_for_runs(page, 11)
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        page.get_by_test_id("tune-toggle").check()
    assert request_info.value.post_data_json["tune"] == {
        "param": "lr",
        "grid": [1e-4, 1, 9],
        "objective": "final_loss",
        "seeds": [1_000_001, 1_000_002, 1_000_003, 1_000_004],
    }
    wait_for_runs(page, 12)
    assert page.get_by_test_id("tuning").is_visible()
    assert '"tune":{"param":"lr"' in page.evaluate("() => decodeURIComponent(location.hash)")
    assert watched.errors == []
    assert again.errors == []


# ---- presets ----


@pytest.mark.parametrize(
    ("preset_id", "shows"),
    [
        ("himmelblau-basins", "cells"),
        ("anon-phase-rosenbrock", "cells"),
        ("anon-phase-rastrigin", "cells"),
        ("anon-paper-rosenbrock-tuned", "tuning"),
    ],
)
def test_the_map_phase_and_tuned_presets_load_clean(
    base_url, open_page, screenshot, preset_id, shows
):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    page.get_by_test_id("preset").select_option(preset_id)
    wait_for_runs(page, 2)
    preset = get_preset(preset_id)
    assert page.get_by_test_id("narration-text").inner_text() == preset.narration
    assert page.get_by_test_id(shows).is_visible()
    if shows == "cells":
        assert page.get_by_test_id("plots").is_hidden()
        maps = page.evaluate(HEATMAPS)
        assert len(maps) == (3 if preset_id == "himmelblau-basins" else 1)
        assert all(m["stage"] == "done" for m in maps)
    else:
        rows = page.get_by_test_id("tuning-row").all()
        assert len(rows) == len(preset.spec["series"])
        assert page.get_by_test_id("plot-contour").is_visible()
    screenshot(page, f"preset-{preset_id}")
    assert watched.errors == []


def test_leaving_a_map_while_it_streams_leaves_no_error_behind(base_url, open_page):
    """The map's panel is filled in steps (its figure a frame after the run's first event, its
    colours as they come, a clicked cell's row from the worker): leaving for a trajectory run
    at any of those moments drops the rest, with no error and no map left on screen. The first
    time, the page leaves the moment the panel appears (the run's first event is in, its
    figure not yet drawn); then after a while."""
    state = page_state(MAP_SERIES, steps=2_000, map={"x": [-5.0, 5.0, 64], "y": [-5.0, 5.0, 64]})
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    default_state = page.evaluate("() => location.hash")
    page.evaluate(
        """back => { const cells = document.querySelector('[data-testid=cells]');
            const observer = new MutationObserver(() => {
                if (cells.hidden) return;
                observer.disconnect();
                location.hash = back;
            });
            observer.observe(cells, { attributes: true, attributeFilter: ['hidden'] }); }""",
        default_state,
    )
    page.evaluate("hash => { location.hash = hash; }", fragment(state))
    wait_for_runs(page, 2)
    for wait in (100, 400):
        page.evaluate("hash => { location.hash = hash; }", fragment(state))
        page.wait_for_function("() => document.body.classList.contains('summary-view')")
        page.wait_for_timeout(wait)
        page.evaluate("hash => { location.hash = hash; }", default_state)
        page.wait_for_function("() => !document.body.classList.contains('summary-view')")
    wait_for_runs(page, 3)
    assert page.get_by_test_id("cells").is_hidden()
    assert page.get_by_test_id("plot-contour").is_visible()
    page.wait_for_timeout(500)
    assert watched.errors == []
