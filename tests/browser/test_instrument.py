"""The page as an instrument: series colours and the legend, the contour's layers and scales, an
honest results table, errors shown where they happen, and narration that stays with an edited
preset."""

from __future__ import annotations

import json
import statistics
from urllib.parse import unquote, urlsplit

import httpx
from page_helpers import (
    RUN_SECONDS,
    is_run_request,
    open_hyperparameters,
    server_result,
    show_surface,
    state_fragment,
    wait_for_runs,
)

from app.presets import get_preset, list_presets

RUN_MS = RUN_SECONDS * 1000
# Longer than the page's debounce (350 ms) before a run starts by itself.
SETTLE_MS = 1_200


def traces(page, plot: str) -> list[dict]:
    """Every trace of a plot: name, legend group, visibility, role, colour, point count."""
    return page.evaluate(
        """plot => document.querySelector(`[data-testid=${plot}]`).data.map((t, index) => ({
            index, name: t.name ?? null, type: t.type, group: t.legendgroup ?? null,
            visible: t.visible ?? true, role: t.meta?.role ?? null,
            color: t.line?.color ?? null, width: t.line?.width ?? null,
            points: t.x ? t.x.length : 0, legend: t.showlegend ?? true}))""",
        plot,
    )


def paths(page) -> list[dict]:
    return [trace for trace in traces(page, "plot-contour") if trace["role"] == "path"]


def place_of(locator) -> list[float]:
    """Where an element is on the page (not the viewport): top, left, width, height."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
            return [r.top + scrollY, r.left + scrollX, r.width, r.height]; }"""
    )


def idle(page) -> None:
    """Wait until no run is in flight (the Cancel button hides when one ends)."""
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cancel]').hidden", timeout=RUN_MS
    )


# ---- 1. colour and legend ----


def test_thirteen_series_get_thirteen_colours(base_url, open_page, screenshot):
    watched = open_page(
        base_url + state_fragment([{"optimizer": "adam", "hparams": {"lr": 0.05}}], narration=True)
    )
    page = watched.page
    wait_for_runs(page, 1)
    for _ in range(12):
        page.get_by_test_id("add-series").click()
    page.wait_for_function(
        """() => document.querySelector('[data-testid=cancel]').hidden
            && Number(document.body.dataset.runsDone) >= 2
            && document.querySelector('[data-testid=plot-contour]').data
                .filter(t => t.meta?.role === 'path').length === 13""",
        timeout=RUN_MS,
    )
    drawn = paths(page)
    assert len(drawn) == 13
    assert len({trace["color"].upper() for trace in drawn}) == 13, drawn
    inputs = page.locator('[data-testid^="series-color-"]')
    assert inputs.count() == 13
    assert len({inputs.nth(i).input_value().upper() for i in range(13)}) == 13
    swatches = page.locator("[data-testid=results] .swatch")
    assert swatches.count() == 13
    assert len({swatches.nth(i).get_attribute("style") for i in range(13)}) == 13
    # One legend entry per series on the contour.
    assert sum(1 for trace in drawn if trace["group"]) == 13
    # In the loss plot, each series also has a dash of its own among the first six: two
    # optimizers that draw the same curve (Adam and Yogi under noise) both stay visible.
    styles = page.evaluate(
        """() => document.querySelector('[data-testid=plot-loss]').data
            .map(t => [t.line.color, t.line.dash])"""
    )
    assert len(styles) == 13
    assert len({dash for _, dash in styles[:6]}) == 6
    assert len({(color.upper(), dash) for color, dash in styles}) == 13
    page.get_by_test_id("plot-contour").scroll_into_view_if_needed()
    screenshot(page, "thirteen-series")
    assert watched.errors == []


def test_contour_layers_scales_and_the_loss_floor(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    with page.expect_request(is_run_request) as request_info:
        page.get_by_test_id("run").click()
    wait_for_runs(page, 2)
    screenshot(page, "default-run")
    contour = traces(page, "plot-contour")
    names = [trace["name"] for trace in contour]
    # The global minimum is drawn above the end markers, the start above every path.
    assert names.index("global minimum") > names.index("end")
    assert names.index("start") > max(t["index"] for t in contour if t["role"] == "path")
    # Every path has a white outline under it, wider than the path: one trace for all of
    # them, each path's points and a gap.
    [outline] = [t for t in contour if t["role"] == "outline"]
    contour_paths = [t for t in contour if t["role"] == "path"]
    assert outline["color"] == "#ffffff"
    assert outline["points"] == sum(path["points"] + 1 for path in contour_paths)
    for path in contour_paths:
        assert outline["index"] < path["index"]
        assert outline["width"] > path["width"]
        assert outline["type"] == path["type"]  # no WebGL layer under SVG paths
    # The legend lists each series once, from its path.
    assert [t["name"] for t in contour_paths if t["legend"]] == [p["name"] for p in contour_paths]
    assert not [t for t in contour if t["legend"] and t["role"] not in ("path", None)]
    # A colour bar names the landscape's shading.
    landscapes = httpx.get(f"{base_url}/api/landscapes").json()
    rosenbrock = next(entry for entry in landscapes if entry["id"] == "rosenbrock")
    expected = "log₁₀(f − f_min + δ)" if rosenbrock["colour_scale"] == "log" else "f"
    # A picture beside the axes (no trace carries it: colour-bar.js), on the shading's scale.
    colorbar = page.evaluate(
        """() => { const div = document.querySelector('[data-testid=plot-contour]');
            const bars = div.layout.images.filter((i) => i.name === 'colour bar');
            return {bars: bars.length, png: bars[0].source.startsWith('data:image/png'),
                    ref: [bars[0].xref, bars[0].x > 1], shows: div.colourBar,
                    traces: div.data.filter((t) => t.type !== 'scatter').length}; }"""
    )
    assert colorbar["bars"] == 1
    assert colorbar["png"]
    assert colorbar["ref"] == ["paper", True]
    assert colorbar["traces"] == 0
    shows = colorbar["shows"]
    assert shows["title"] == expected
    ticks = [tick["value"] for tick in shows["ticks"]]
    assert len(ticks) >= 3
    assert shows["low"] <= min(ticks) < max(ticks) <= shows["high"]
    assert page.locator("[data-testid=plot-contour] .colorbar").count() == 0

    # The loss axis has a floor at 1e-16 and says so: an exact hit sits on it.
    title = page.evaluate(
        "() => document.querySelector('[data-testid=plot-loss]').layout.yaxis.title.text"
    )
    assert "floor 10⁻¹⁶" in title
    drawn = page.evaluate(
        """() => document.querySelector('[data-testid=plot-loss]').data
            .map(t => Array.from(t.y))"""
    )
    assert min(min(ys) for ys in drawn) >= 1e-16
    result = server_result(base_url, request_info.value.post_data_json)
    f_star = min(m["value"] for m in result["landscape"]["global_minima"])
    hits = 0
    for row, ys in zip(result["series"], drawn, strict=True):
        for loss, y in zip(row["loss"], ys, strict=True):
            if loss - f_star <= 1e-16:
                assert y == 1e-16
                hits += 1
            else:
                assert y == loss - f_star
    assert hits > 0, "the default run has a row that reaches the minimum (near) exactly"
    assert watched.errors == []


def legend_item(page, name: str):
    return (
        page.locator("[data-testid=plot-contour] .legend .traces")
        .filter(has_text=name)
        .locator(".legendtoggle")
    )


def hidden_in_every_view(page, group: str) -> dict:
    """Each plot's traces of legend group ``group``: their visibility."""
    return {
        plot: [t["visible"] for t in traces(page, plot) if t["group"] == group]
        for plot in ("plot-contour", "plot-surface", "plot-loss", "plot-distance")
    }


def test_a_legend_click_hides_a_series_in_every_view(base_url, open_page):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    preset = get_preset("noise-ano-adam-yogi")
    page.get_by_test_id("preset").select_option(preset.id)
    wait_for_runs(page, 2)
    show_surface(page)
    seeds = len(preset.spec["seeds"])
    adam = next(t for t in paths(page) if t["name"] == "Adam")["group"]
    others = {t["group"] for t in paths(page)} - {adam}
    assert len(others) == 2
    before = hidden_in_every_view(page, adam)
    # Every view has Adam's traces: contour and 3-D paths per seed (the first with the legend
    # entry; one outline under every path), band and median.
    assert len(before["plot-contour"]) == seeds
    assert len(before["plot-surface"]) == seeds
    assert len(before["plot-loss"]) == 3
    assert len(before["plot-distance"]) == 3
    assert all(v is True for views in before.values() for v in views)
    ends = len(
        page.evaluate(
            "() => document.querySelector('[data-testid=plot-contour]').data"
            ".find(t => t.name === 'end').x"
        )
    )
    assert ends == 3 * seeds

    legend_item(page, "Adam").click()
    show_surface(page)
    page.wait_for_function(
        """group => document.querySelector('[data-testid=plot-surface]').data
            .filter(t => t.legendgroup === group).every(t => t.visible === false)""",
        arg=adam,
    )

    def check_hidden():
        views = hidden_in_every_view(page, adam)
        contour = [t for t in traces(page, "plot-contour") if t["group"] == adam]
        greyed = [t["visible"] for t in contour if t["role"] == "path"]
        assert greyed == ["legendonly"] * seeds
        # The outline under the paths leaves Adam's rows out: it holds the others' points.
        everything = traces(page, "plot-contour")
        [outline] = [t for t in everything if t["role"] == "outline"]
        kept = [t for t in everything if t["role"] == "path" and t["group"] != adam]
        assert outline["points"] == sum(t["points"] + 1 for t in kept)
        for plot in ("plot-surface", "plot-loss", "plot-distance"):
            assert views[plot], plot
            assert all(v is False for v in views[plot]), (plot, views[plot])
        # The other series stay.
        for group in others:
            assert all(
                v is True for views in hidden_in_every_view(page, group).values() for v in views
            )
        # End markers of Adam's rows are gone; the legend greys its entry.
        end = page.evaluate(
            "() => document.querySelector('[data-testid=plot-contour]').data"
            ".find(t => t.name === 'end').x.length"
        )
        assert end == 2 * seeds
        opacity = (
            page.locator("[data-testid=plot-contour] .legend .traces")
            .filter(has_text="Adam")
            .evaluate("el => getComputedStyle(el).opacity")
        )
        assert float(opacity) < 1

    check_hidden()
    # A redraw of the same run (a colour change redraws every plot) keeps it hidden.
    page.get_by_test_id("series-color-0").fill("#8a2be2")
    page.wait_for_function(
        """() => document.querySelector('[data-testid=plot-contour]').data
            .some(t => t.meta?.role === 'path' && t.line.color === '#8a2be2')"""
    )
    show_surface(page)
    check_hidden()

    legend_item(page, "Adam").click()
    show_surface(page)
    page.wait_for_function(
        """group => document.querySelector('[data-testid=plot-surface]').data
            .filter(t => t.legendgroup === group).every(t => t.visible === true)""",
        arg=adam,
    )
    after = hidden_in_every_view(page, adam)
    assert all(v is True for views in after.values() for v in views), after
    assert (
        len(
            page.evaluate(
                "() => document.querySelector('[data-testid=plot-contour]').data"
                ".find(t => t.name === 'end').x"
            )
        )
        == 3 * seeds
    )

    # A double click shows that series alone (in every view), a second one shows them all.
    ano = next(t for t in paths(page) if t["name"] == "Ano")["group"]
    surface_visible = """groups => groups.map(g => document
        .querySelector('[data-testid=plot-surface]').data.filter(t => t.legendgroup === g)
        .every(t => t.visible === true))"""
    groups = [ano, *sorted(others - {ano}), adam]
    legend_item(page, "Ano").dblclick()
    show_surface(page)
    page.wait_for_function(
        f"groups => ({surface_visible})(groups).join() === 'true,false,false'", arg=groups
    )
    for group in groups[1:]:
        assert all(v is False for v in hidden_in_every_view(page, group)["plot-loss"])
    legend_item(page, "Ano").dblclick()
    show_surface(page)
    page.wait_for_function(f"groups => ({surface_visible})(groups).every(Boolean)", arg=groups)
    assert watched.errors == []


# ---- 2. an honest table ----


def test_steps_to_tolerance_says_how_many_seeds_reached_it(base_url, open_page):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    page.get_by_test_id("preset").select_option("noise-ano-adam-yogi")
    wait_for_runs(page, 2)
    # At sigma 0.5 some of Ano's eight seeds reach the tolerance and none of Adam's do.
    sigma = page.locator('[data-loc="noise.gaussian.sigma"]')
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        sigma.fill("0.5")
        sigma.press("Enter")
    wait_for_runs(page, 3)
    spec = request_info.value.post_data_json
    result = server_result(base_url, spec)

    header = page.get_by_test_id("tolerance-header").inner_text()
    assert header == f"(loss − f* ≤ {result['tolerance']:g})"
    cells = page.get_by_test_id("steps-to-tolerance").all_inner_texts()
    body = page.locator("[data-testid=results] tbody tr")
    expected = []
    for series, entry in enumerate(spec["series"]):
        rows = [row for row in result["series"] if row["series"] == series]
        reached = [row["steps_to_tolerance"] for row in rows]
        hits = [step for step in reached if step is not None]
        n = len(rows)
        if not hits:
            expected.append(f"0/{n} reached")
        else:
            middle = statistics.median(hits)
            shown = f"{middle:g}"
            prefix = f"{n}/{n}" if len(hits) == n else f"{len(hits)}/{n} reached"
            expected.append(f"{prefix}, median {shown}")
        # Final loss and distance are true medians (the mean of the middle two of eight).
        cols = body.nth(series).locator("td").all_inner_texts()
        for text, key in ((cols[0], "final_loss"), (cols[1], "distance_to_minimum")):
            median = statistics.median(row[key] for row in rows)
            assert abs(float(text) - median) <= 5e-4 * abs(median), (entry, key, text, median)
    assert cells == expected
    assert any(" reached, median " in cell and not cell.startswith("0/") for cell in cells), cells
    assert "0/8 reached" in cells
    assert watched.errors == []


# ---- 3. errors in place ----


def test_a_bad_sweep_entry_is_shown_next_to_its_field_and_runs_nothing(base_url, open_page):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    page.get_by_test_id("preset").select_option("anon-gamma-rosenbrock")
    wait_for_runs(page, 2)
    idle(page)
    requests = watched.run_requests()
    box = page.get_by_test_id("series-0-sweep")
    box.fill("0, 0.5, abc")
    box.press("Enter")
    message = page.get_by_test_id("series-0-sweep-error")
    message.wait_for(state="visible")
    assert '"abc"' in message.inner_text()
    assert "not a number" in message.inner_text()
    # Next to the field: in the same field block, right under the box.
    assert message.evaluate(
        "(el, box) => el.closest('.field') === box.closest('.field')", box.element_handle()
    )
    assert "invalid-entry" in box.get_attribute("class")
    page.wait_for_timeout(SETTLE_MS)
    assert watched.run_requests() == requests, "a bad entry must start no run"
    assert message.is_visible()

    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        box.fill("0, 0.5, 1")
        box.press("Enter")
    assert request_info.value.post_data_json["series"][0]["sweep"]["values"] == [0, 0.5, 1]
    assert not message.is_visible()
    wait_for_runs(page, 3)
    assert watched.errors == []


def stale_shown(page) -> bool:
    return page.evaluate(
        """() => document.querySelector('[data-testid=plots]').classList.contains('stale')
            && !document.querySelector('[data-testid=stale]').hidden"""
    )


def test_a_failed_run_leaves_the_old_plots_dimmed_and_labelled_stale(
    base_url, open_page, screenshot
):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    assert not stale_shown(page)
    drawn = len(paths(page))

    # A 422: the field says why, the plots of the last run stay, dimmed and labelled.
    open_hyperparameters(page, 0)
    lr = page.get_by_test_id("series-0-lr")
    lr.fill("0")
    lr.press("Enter")
    label = page.get_by_test_id("stale")
    label.wait_for(state="visible", timeout=RUN_MS)
    assert label.inner_text() == "stale: the last run failed"
    assert stale_shown(page)
    assert len(paths(page)) == drawn, "the old run stays on screen"
    opacity = page.get_by_test_id("plot-contour").evaluate("el => getComputedStyle(el).opacity")
    assert float(opacity) < 1
    page.get_by_test_id("plot-contour").scroll_into_view_if_needed()
    screenshot(page, "stale")

    # A run that succeeds clears it.
    lr.fill("0.1")
    lr.press("Enter")
    wait_for_runs(page, 2)
    assert not stale_shown(page)
    assert label.is_hidden()

    # A stream that ends with an error event: stale again, until the next run succeeds.
    def error_stream(route):
        body = 'event: error\ndata: {"detail": "boom at step 3", "step": 3, "series": 0}\n\n'
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    page.route("**/api/runs*", error_stream)
    page.get_by_test_id("run").click()
    label.wait_for(state="visible", timeout=RUN_MS)
    assert "boom at step 3" in page.get_by_test_id("error").inner_text()
    page.unroute("**/api/runs*")
    page.get_by_test_id("run").click()
    wait_for_runs(page, 3)
    assert not stale_shown(page)
    # The console shows the 422 of the refused run; no script error.
    assert [e for e in watched.errors if "422" not in e] == []


# Finds a pixel on a drawn path segment, 6 px from the segment's start point, with no other
# path point within 5 px: Plotly's click reports that path point, not the clicked position.
FIND_CLICK_ON_A_PATH = """() => {
    const gd = document.querySelector('[data-testid=plot-contour]');
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const area = gd.querySelector('.nsewdrag').getBoundingClientRect();
    const px = (x) => area.left + xa.l2p(x), py = (y) => area.top + ya.l2p(y);
    const paths = gd.data.filter(t => t.meta?.role === 'path');
    const points = paths.flatMap(t => Array.from(t.x, (x, i) => [px(x), py(t.y[i])]));
    let best = null;
    for (const t of paths) {
        for (let i = 1; i < t.x.length; i++) {
            const a = [px(t.x[i - 1]), py(t.y[i - 1])], b = [px(t.x[i]), py(t.y[i])];
            const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
            if (length < 14) continue;
            const at = [a[0] + (b[0] - a[0]) * 6 / length, a[1] + (b[1] - a[1]) * 6 / length];
            if (at[1] < area.top + 10 || at[1] > Math.min(area.bottom, innerHeight) - 10) continue;
            if (at[0] < area.left + 10 || at[0] > area.right - 10) continue;
            const d = points.map(p => Math.hypot(p[0] - at[0], p[1] - at[1])).sort((p, q) => p - q);
            if (d[0] > 5 && (!best || d[1] > best.second)) {
                best = {at, second: d[1], vertex: [t.x[i - 1], t.y[i - 1]]};
            }
        }
    }
    return {...best, area: [area.left, area.top, area.width, area.height],
            xrange: xa.range, yrange: ya.range};
}"""


def test_clicking_the_contour_starts_at_the_clicked_point_not_a_paths(base_url, open_page):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    idle(page)
    page.get_by_test_id("plot-contour").scroll_into_view_if_needed()
    target = page.evaluate(FIND_CLICK_ON_A_PATH)
    assert target["at"] is not None
    # What Plotly itself reports for this click: the nearby path point.
    page.evaluate(
        """() => document.querySelector('[data-testid=plot-contour]').on('plotly_click',
            e => { window.__reported = e.points.map(p => [p.data.meta?.role ?? null,
                                                         p.x, p.y]); })"""
    )
    with page.expect_request(is_run_request, timeout=RUN_MS) as request_info:
        page.mouse.click(*target["at"])
    reported = page.evaluate("() => window.__reported")
    left, top, width, height = target["area"]
    (x0, x1), (y0, y1) = target["xrange"], target["yrange"]
    pixel_x, pixel_y = (x1 - x0) / width, (y1 - y0) / height
    clicked = (
        x0 + (target["at"][0] - left) * pixel_x,
        y1 - (target["at"][1] - top) * pixel_y,
    )
    start = request_info.value.post_data_json["start"]
    assert abs(start[0] - clicked[0]) <= pixel_x, (start, clicked)
    assert abs(start[1] - clicked[1]) <= pixel_y, (start, clicked)
    # ... and not the path point 6 px away that Plotly's click names.
    assert reported[0][0] == "path", reported
    assert reported[0][1:] == target["vertex"]
    assert (
        abs(start[0] - target["vertex"][0]) / pixel_x
        + abs(start[1] - target["vertex"][1]) / pixel_y
        > 4
    )
    # The inputs and the start marker say the same.
    assert float(page.get_by_test_id("start-x").input_value()) == start[0]
    assert float(page.get_by_test_id("start-y").input_value()) == start[1]
    marker = page.evaluate(
        """() => { const t = document.querySelector('[data-testid=plot-contour]').data
            .find(t => t.name === 'start'); return [t.x[0], t.y[0]]; }"""
    )
    assert marker == start
    wait_for_runs(page, 2)
    assert watched.errors == []


# ---- 4. narration stays ----


def test_an_edited_preset_keeps_its_narration_and_the_way_back(base_url, open_page, screenshot):
    watched = open_page(base_url)
    page = watched.page
    wait_for_runs(page, 1)
    preset = list_presets()[0]
    box = page.get_by_test_id("narration")
    badge = page.get_by_test_id("narration-modified")
    restore = page.get_by_test_id("narration-restore")
    menu = page.get_by_test_id("preset")
    selected = "el => el.options[el.selectedIndex].textContent"
    assert box.is_visible()
    assert not badge.is_visible()
    assert not restore.is_visible()
    assert menu.evaluate(selected) == preset.title
    place = place_of(box)

    open_hyperparameters(page, 0)
    lr = page.get_by_test_id("series-0-lr")
    lr.fill("0.05")
    lr.press("Enter")
    wait_for_runs(page, 2)
    # The story stays, marked modified, with the way back; the box has not moved or grown.
    assert box.is_visible()
    assert page.get_by_test_id("narration-text").inner_text() == preset.narration
    assert badge.is_visible()
    assert badge.inner_text() == "modified"
    assert restore.is_visible()
    assert restore.is_enabled()
    assert menu.input_value() == preset.id
    assert menu.evaluate(selected) == f"{preset.title} (modified)"
    assert place_of(box) == place
    state = json.loads(unquote(urlsplit(page.url).fragment.removeprefix("state=")))
    assert state["preset"] == preset.id
    assert state["series"][0]["hparams"]["lr"] == 0.05
    screenshot(page, "preset-modified")

    # Only the user collapses it.
    page.get_by_test_id("narration-toggle").click()
    assert not page.get_by_test_id("narration-text").is_visible()
    assert box.is_visible()
    assert badge.is_visible()
    assert place_of(box)[3] < place[3]
    page.get_by_test_id("narration-toggle").click()
    assert place_of(box) == place

    # The way back: the preset as it was, and a run of it.
    restore.click()
    wait_for_runs(page, 3)
    open_hyperparameters(page, 0)
    assert (
        float(page.get_by_test_id("series-0-lr").input_value())
        == (preset.spec["series"][0]["hparams"]["lr"])
    )
    assert not badge.is_visible()
    assert not restore.is_visible()
    assert menu.evaluate(selected) == preset.title
    assert place_of(box) == place
    assert watched.errors == []
