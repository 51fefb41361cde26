"""The page in a real browser: load, run, gamma slider, presets, permalink, exports, errors."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import httpx

from app.presets import get_preset, list_presets

RUN_SECONDS = 60


def runs_done(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.runsDone ?? 0)"))


def wait_for_runs(page, count: int) -> None:
    page.wait_for_function(
        "n => Number(document.body.dataset.runsDone ?? 0) >= n",
        arg=count,
        timeout=RUN_SECONDS * 1000,
    )


def path_traces(page, plot: str) -> list[dict]:
    """The contour's trajectory traces (or a metric plot's lines), as Plotly holds them."""
    return page.evaluate(
        """plot => document.querySelector(`[data-testid=${plot}]`).data
            .filter(t => t.mode === "lines" && !t.name.startsWith("highlight")
                         && t.name !== "highlighted")
            .map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),
                        fill: t.fill ?? null}))""",
        plot,
    )


def highlighted_path(page) -> list[float]:
    return page.evaluate(
        """() => Array.from(document.querySelector("[data-testid=plot-contour]").data
            .find(t => t.name === "highlighted").x)"""
    )


def open_hyperparameters(page, series: int) -> None:
    details = page.get_by_test_id("series").nth(series).locator("details")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


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
    for plot in ("plot-contour", "plot-loss", "plot-distance", "plot-surface"):
        screenshot(page.get_by_test_id(plot), f"view-{plot}")

    page.get_by_test_id("run").click()
    wait_for_runs(page, 2)
    assert len(path_traces(page, "plot-contour")) == series
    assert watched.errors == []
    assert watched.foreign_requests() == []


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

    slider.evaluate(
        "el => { el.value = 0.25; el.dispatchEvent(new Event('input'));"
        " el.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function("document.body.dataset.gammaAdded === '0.25'", timeout=30_000)
    assert watched.run_requests() == requests_before + 1
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
