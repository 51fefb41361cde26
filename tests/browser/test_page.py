"""The page in a real browser: load, run, gamma slider, presets, permalink, exports, errors,
and the run's columns from the wire (typed) to the plots and exports."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from page_helpers import (
    is_run_request,
    open_hyperparameters,
    server_result,
    show_surface,
    state_fragment,
    wait_for_runs,
)

from app.presets import get_preset, list_presets

COLUMNS = ("steps", "x", "y", "loss", "grad_norm")
# Long enough to stream in several chunks (the server sends one about every 50 ms): two rows
# of 3,000 steps now compute in about that long; below 5,000 points a row the page draws
# every point (above, it thins what Plotly gets), which this test compares.
STREAMED_STEPS = 4900
# Wraps Plotly.extendTraces to record, per call, the plot, the rows whose traces it extended (a
# contour path's meta.row; on the loss and distance plots, row r's line is trace r), the
# inserted x and y, and their array types.
RECORD_EXTENDS = """() => {
    window.__extends = [];
    const extend = Plotly.extendTraces;
    Plotly.extendTraces = function (gd, update, indices, ...rest) {
        const contour = gd.dataset.testid === "plot-contour";
        const rows = indices.map((i, k) => [contour ? gd.data[i].meta?.row : i, k])
            .filter(([row], k) => !contour || gd.data[indices[k]].meta?.role === "path");
        window.__extends.push({
            plot: gd.dataset.testid,
            rows: rows.map(([row]) => row),
            x: rows.map(([, k]) => Array.from(update.x[k])),
            y: rows.map(([, k]) => Array.from(update.y[k])),
            types: [...update.x, ...update.y].map(a => a.constructor.name),
        });
        return extend.call(this, gd, update, indices, ...rest);
    };
}"""


def run_encodings(urls: list[str]) -> list[list[str] | None]:
    """The ``encoding`` query parameter of every run request among ``urls``."""
    return [
        parse_qs(urlsplit(url).query).get("encoding")
        for url in urls
        if urlsplit(url).path == "/api/runs"
    ]


def contour_trace(page, name: str) -> dict:
    """One trace of the contour by name, its arrays as lists."""
    return page.evaluate(
        """name => {
            const t = document.querySelector("[data-testid=plot-contour]").data
                .find(t => t.name === name);
            return {x: Array.from(t.x), y: Array.from(t.y)};
        }""",
        name,
    )


def path_traces(page, plot: str) -> list[dict]:
    """The contour's trajectory traces (or a metric plot's lines), as Plotly holds them: not the
    white outline under the contour's paths nor the gamma highlight."""
    return page.evaluate(
        """plot => document.querySelector(`[data-testid=${plot}]`).data
            .filter(t => t.mode === "lines" && !t.name.startsWith("highlight")
                         && t.name !== "highlighted"
                         && t.meta?.role !== "outline")
            .map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),
                        fill: t.fill ?? null}))""",
        plot,
    )


def highlighted_path(page) -> list[float]:
    return page.evaluate(
        """() => Array.from(document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "highlighted").x)"""
    )


def next_frame(page) -> None:
    page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")


def test_page_loads_clean_and_draws_the_default_comparison(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    default = list_presets()[0]
    series = len(default.spec["series"])
    assert len(path_traces(page, "plot-contour")) == series
    assert len(path_traces(page, "plot-loss")) == series
    screenshot(page, "default-comparison")
    show_surface(page)  # the 3-D view draws once on screen
    for plot in ("plot-contour", "plot-loss", "plot-distance", "plot-surface"):
        screenshot(page.get_by_test_id(plot), f"view-{plot}")

    page.get_by_test_id("run").click()
    wait_for_runs(page, 2)
    assert len(path_traces(page, "plot-contour")) == series
    assert run_encodings(watched.requests) == [["typed"], ["typed"]]
    assert watched.errors == []
    assert watched.foreign_requests() == []


def test_runs_ask_for_typed_columns_and_draw_the_servers_numbers(base_url, open_page):
    fragment = state_fragment(
        [
            {"optimizer": "adam", "hparams": {"lr": 0.05}},
            {"optimizer": "anon", "hparams": {"lr": 0.02, "gamma": 0.5}},
        ],
        steps=STREAMED_STEPS,
    )
    watched = open_page(base_url + fragment)
    page = watched.page
    wait_for_runs(page, 1)
    # Record what the stream hands Plotly.extendTraces: only new points, typed.
    page.evaluate(RECORD_EXTENDS)
    with page.expect_request(is_run_request) as request_info:
        page.get_by_test_id("run").click()
    wait_for_runs(page, 2)
    request = request_info.value
    assert parse_qs(urlsplit(request.url).query) == {"encoding": ["typed"]}
    assert request.headers["accept"] == "text/event-stream"
    assert run_encodings(watched.requests) == [["typed"], ["typed"]]

    # The same run, fetched as plain JSON numbers: the page drew exactly these.
    spec = request.post_data_json
    expected = server_result(base_url, spec)["series"]
    assert [row["optimizer"] for row in expected] == ["adam", "anon"]
    assert all(len(row["x"]) == spec["steps"] + 1 for row in expected)
    paths = path_traces(page, "plot-contour")
    assert [path["x"] for path in paths] == [row["x"] for row in expected]
    assert [path["y"] for path in paths] == [row["y"] for row in expected]
    assert [path["x"] for path in path_traces(page, "plot-loss")] == [
        row["steps"] for row in expected
    ]
    assert [path["x"] for path in path_traces(page, "plot-distance")] == [
        row["steps"] for row in expected
    ]
    # Typed arrays all the way to Plotly (the paths and the outline under them).
    assert page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .filter(t => ["path", "outline"].includes(t.meta?.role))
            .map(t => [t.x.constructor.name, t.y.constructor.name])"""
    ) == [["Float64Array", "Float64Array"]] * (1 + len(expected))
    # While streaming, the loss plot took the points since its last update, and only those:
    # in order, with no point twice, they are a stretch of the server's steps and losses from
    # where its figure (drawn as the run began) left off (Rosenbrock's minimum is 0: the plot
    # shows the loss itself above its floor; step k is point k). The contour's
    # canvas drew the streaming paths; its figure took them whole when the run was done (the
    # last chunk may arrive with 'done', which redraws the whole run instead).
    extends = page.evaluate("() => window.__extends")
    assert [call for call in extends if call["plot"] == "plot-contour"] == []
    loss_extends = [call for call in extends if call["plot"] == "plot-loss"]
    assert len(loss_extends) >= 2, "the run streamed in several frames"
    for row, server in enumerate(expected):
        inserted = [call for call in loss_extends if row in call["rows"]]
        xs = [x for call in inserted for x in call["x"][call["rows"].index(row)]]
        ys = [y for call in inserted for y in call["y"][call["rows"].index(row)]]
        assert 0 < len(xs) <= len(server["steps"])
        first = xs[0]
        assert xs == server["steps"][first : first + len(xs)]
        assert ys == [max(loss, 1e-16) for loss in server["loss"][first : first + len(ys)]]
    # Typed arrays all the way (steps are whole numbers: Int32Array), never copied to lists.
    assert {kind for call in extends for kind in call["types"]} <= {"Float64Array", "Int32Array"}
    ends = contour_trace(page, "end")
    assert ends == {
        "x": [row["x"][-1] for row in expected],
        "y": [row["y"][-1] for row in expected],
    }

    # Refresh markers where the registry says the optimizer refreshes at powers of two: Anon's
    # points after steps 1, 2, 4, ... and nothing of Adam's.
    registry = {entry["id"]: entry for entry in httpx.get(f"{base_url}/api/optimizers").json()}
    assert registry["anon"]["capabilities"]["preconditioner_refreshes"] == "powers_of_two"
    assert registry["adam"]["capabilities"]["preconditioner_refreshes"] is None
    anon = expected[1]
    powers = [i for i, step in enumerate(anon["steps"]) if step >= 1 and step & (step - 1) == 0]
    assert len(powers) == STREAMED_STEPS.bit_length()  # steps 1, 2, 4, ..., up to the last
    refreshes = page.evaluate(
        """() => { const t = document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name.includes("refresh")); return {x: Array.from(t.x),
            y: Array.from(t.y)}; }"""
    )
    assert refreshes == {"x": [anon["x"][i] for i in powers], "y": [anon["y"][i] for i in powers]}

    # The JSON export: every row's columns under the API's names, as plain numbers.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-json").click()
    exported = json.loads(download_info.value.path().read_text())
    assert exported["reproducibility"]["request"] == spec
    for row, server in zip(exported["rows"], expected, strict=True):
        assert {name: row[name] for name in COLUMNS} == {name: server[name] for name in COLUMNS}
        for key in (
            "row",
            "series",
            "label",
            "optimizer",
            "hparams",
            "seed",
            "start",
            "final_point",
            "final_loss",
            "distance_to_minimum",
            "steps_to_tolerance",
            "diverged_at",
        ):
            assert row[key] == server[key], key
        assert not {"xy", "trajectory", "gradNorm"} & row.keys()
    assert watched.errors == []


def test_a_sweep_of_adabounds_gamma_is_no_gamma_fan(base_url, open_page):
    """AdaBound has a hyperparameter called gamma that is no adaptivity exponent (the registry
    says so): sweeping it draws the paths but opens no gamma panel and marks no refreshes."""
    fragment = state_fragment(
        [
            {
                "optimizer": "adabound",
                "hparams": {"lr": 0.01},
                "sweep": {"param": "gamma", "values": [0.001, 0.01]},
            },
        ],
        steps=40,
    )
    watched = open_page(base_url + fragment)
    page = watched.page
    wait_for_runs(page, 1)
    registry = {entry["id"]: entry for entry in httpx.get(f"{base_url}/api/optimizers").json()}
    assert "gamma" in registry["adabound"]["defaults"]
    assert registry["adabound"]["capabilities"]["adaptivity_exponent"] is None
    assert len(path_traces(page, "plot-contour")) == 2
    assert page.get_by_test_id("gamma-panel").is_hidden()
    refreshes = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name.includes("refresh")).x.length"""
    )
    assert refreshes == 0
    assert watched.errors == []


def test_gamma_slider_highlights_without_requests_and_computes_new_values(
    base_url, open_page, screenshot
):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    page.get_by_test_id("preset").select_option("anon-gamma-rosenbrock")
    wait_for_runs(page, 2)
    assert page.get_by_test_id("gamma-panel").is_visible()
    assert len(path_traces(page, "plot-contour")) == 5
    screenshot(page, "gamma-fan")

    requests_before = watched.run_requests()
    slider = page.get_by_test_id("gamma-slider")
    paths = []
    for gamma in (-0.5, 0, 0.5, 1, 1.5):
        slider.evaluate("(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", gamma)
        next_frame(page)
        next_frame(page)
        paths.append(highlighted_path(page))
    assert len({tuple(path) for path in paths}) == 5, "each gamma highlights its own path"
    assert watched.run_requests() == requests_before, "dragging must not ask the server"

    # Released between two swept values: an interpolated path, still no request; the button
    # computes that gamma exactly.
    slider.evaluate(
        "el => { el.value = 0.25; el.dispatchEvent(new Event('input'));"
        " el.dispatchEvent(new Event('change')); }"
    )
    page.get_by_test_id("fan-compute").wait_for(state="visible")
    assert watched.run_requests() == requests_before
    with page.expect_request(is_run_request, timeout=30_000) as request_info:
        page.get_by_test_id("fan-compute").click()
    # A function, not an expression: Playwright evals expressions, which the page's CSP forbids.
    page.wait_for_function("() => document.body.dataset.gammaAdded === '0.25'", timeout=30_000)
    assert watched.run_requests() == requests_before + 1
    # The added gamma is a whole (typed) result; its path is the server's numbers.
    request = request_info.value
    assert parse_qs(urlsplit(request.url).query) == {"encoding": ["typed"]}
    assert request.headers["accept"] == "application/json"
    added = server_result(base_url, request.post_data_json)["series"]
    assert [row["hparams"]["gamma"] for row in added] == [0.25]
    assert highlighted_path(page) == added[0]["x"]
    gammas = page.evaluate(
        "Array.from(document.querySelector('[data-testid=plot-gamma]').data[0].x)"
    )
    assert 0.25 in gammas
    assert "gamma=0.25" in page.get_by_test_id("gamma-path").inner_text()
    assert watched.errors == []


def test_noise_preset_narrates_and_shows_seed_bands(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    preset = get_preset("noise-ano-adam-yogi")
    page.get_by_test_id("preset").select_option(preset.id)
    wait_for_runs(page, 2)
    assert page.get_by_test_id("narration-text").inner_text() == preset.narration
    seeds = len(preset.spec["seeds"])
    series = len(preset.spec["series"])
    assert len(path_traces(page, "plot-contour")) == seeds * series  # each seed, faintly
    bands = [trace for trace in path_traces(page, "plot-loss") if trace["fill"] == "tonexty"]
    assert len(bands) == series
    screenshot(page, "noise-seeds")

    page.get_by_test_id("narration-toggle").click()
    assert not page.get_by_test_id("narration-text").is_visible()
    assert watched.errors == []


def test_permalink_reproduces_the_run_in_a_fresh_page(base_url, open_page):
    first = open_page(base_url)
    wait_for_runs(first.page, 1)
    first.page.get_by_test_id("preset").select_option("anolog-momentum")
    wait_for_runs(first.page, 2)
    open_hyperparameters(first.page, 0)
    first.page.get_by_test_id("series-0-lr").fill("0.05")
    first.page.get_by_test_id("series-0-lr").press("Enter")
    wait_for_runs(first.page, 3)
    first.page.get_by_test_id("permalink").click()
    link = first.page.url
    assert "#state=" in link

    second = open_page(link)
    wait_for_runs(second.page, 1)
    open_hyperparameters(second.page, 0)
    assert path_traces(second.page, "plot-contour") == path_traces(first.page, "plot-contour")
    assert second.page.get_by_test_id("series-0-lr").input_value() == "0.05"
    assert second.errors == []


def test_csv_export_downloads_every_point_of_every_row(base_url, open_page):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    text = download_info.value.path().read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    spec = list_presets()[0].spec
    assert len(rows) == len(spec["series"]) * (spec["steps"] + 1)
    assert {row["row"] for row in rows} == {str(i) for i in range(len(spec["series"]))}
    assert rows[0]["step"] == "0"
    assert (float(rows[0]["x"]), float(rows[0]["y"])) == tuple(spec["start"])

    with page.expect_download() as download_info:
        page.get_by_test_id("export-json").click()
    record = download_info.value.path().read_text()
    assert '"reproducibility"' in record
    assert '"torch"' in record
    exported = json.loads(record)["rows"]
    assert len(exported) == len(spec["series"])
    by_row = {int(row["row"]): [] for row in rows}
    for row in rows:
        by_row[int(row["row"])].append(row)
    for entry in exported:
        lines = by_row[entry["row"]]
        assert entry["steps"] == [int(line["step"]) for line in lines]
        for name in ("x", "y", "loss", "grad_norm"):
            assert entry[name] == [float(line[name]) for line in lines], name


def test_a_broken_typed_function_shows_the_parsers_message(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    page.get_by_test_id("landscape").select_option("__expression__")
    broken = "x**2 + * y"
    page.get_by_test_id("expression").fill(broken)
    error = page.get_by_test_id("expression-error")
    error.wait_for(state="visible")
    expected = httpx.get(
        f"{base_url}/api/expression/surface", params={"expression": broken, "resolution": 3}
    ).json()["detail"][0]["msg"]
    assert error.inner_text() == expected
    screenshot(page, "expression-error")
    # The console shows the 422 of the surface request; no script error.
    assert [e for e in watched.errors if "422" not in e] == []


def test_an_invalid_hyperparameter_is_shown_next_to_its_field(base_url, open_page):
    watched = open_page(base_url + "#state=" + quote("{}"))  # not a state: the default run
    page = watched.page
    wait_for_runs(page, 1)
    open_hyperparameters(page, 0)
    page.get_by_test_id("series-0-lr").fill("0")
    page.get_by_test_id("series-0-lr").press("Enter")
    slot = page.locator('[data-error-for="series.0.hparams.lr"]')
    slot.wait_for(state="visible", timeout=10_000)
    assert "greater than 0" in slot.inner_text()


def test_scrubber_and_play_replay_a_finished_run(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    steps = list_presets()[0].spec["steps"]
    full = [len(trace["x"]) for trace in path_traces(page, "plot-contour")]
    assert all(n == steps + 1 for n in full)
    assert page.get_by_test_id("scrubber").get_attribute("max") == str(steps)

    page.get_by_test_id("scrubber").fill("100")  # what dragging to step 100 does
    next_frame(page)
    next_frame(page)
    cut = [len(trace["x"]) for trace in path_traces(page, "plot-contour")]
    assert cut == [101] * len(full)  # points of steps 0..100
    outline = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.meta?.role === "outline").x.length"""
    )
    assert outline == sum(n + 1 for n in cut)  # the outline is cut with the paths
    assert page.get_by_test_id("scrubber-step").text_content() == f"step 100 of {steps}"
    marker_count = page.evaluate(
        """() => document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "at the shown step").x.length"""
    )
    assert marker_count == len(full)
    screenshot(page, "replay-step-100")

    requests_before = len(watched.requests)
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "n => Number(document.querySelector('[data-testid=scrubber]').value) >= n",
        arg=steps,
        timeout=20_000,
    )
    next_frame(page)
    next_frame(page)
    assert [len(trace["x"]) for trace in path_traces(page, "plot-contour")] == full
    assert page.get_by_test_id("play").text_content() == "▶ Play"
    assert len(watched.requests) == requests_before  # replay never asks the server
    assert watched.errors == []
