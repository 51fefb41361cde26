"""A fan from a series card: one request for the whole range of a tensor hyperparameter, and a
slider that moves one highlighted path through it on every plot without asking the server.

Between two computed members the highlighted path is their linear blend at every step, weighted
by where the slider sits between them in the parameter's scale (linear for gamma, log10 for lr):
static/js/fan.js.
"""

from __future__ import annotations

import math

import httpx
import pytest
from page_helpers import server_result, state_fragment, wait_for_runs

STEPS = 120
GAMMAS = [round(-1 + 0.05 * i, 10) for i in range(61)]


def registry(base_url: str) -> dict:
    return {entry["id"]: entry for entry in httpx.get(f"{base_url}/api/optimizers").json()}


def open_custom(open_page, base_url: str, optimizer: str, **hparams):
    """The page on a custom (non-preset) run of one ``optimizer`` series, and the bodies of the
    /api/runs requests it makes."""
    entry = registry(base_url)[optimizer]
    url = base_url + state_fragment(
        [{"optimizer": optimizer, "hparams": {**entry["defaults"], **hparams}}], steps=STEPS
    )
    watched = open_page(url)
    bodies: list[dict] = []
    watched.page.on(
        "request",
        lambda r: (
            bodies.append(r.post_data_json) if r.url.split("?")[0].endswith("/api/runs") else None
        ),
    )
    wait_for_runs(watched.page, 1)
    return watched, bodies


HIGHLIGHT = """() => {
    const data = (id) => document.querySelector(`[data-testid=${id}]`).data ?? [];
    const find = (id) => data(id).find(t => t.name === "highlighted");
    const arr = (t, k) => (t ? Array.from(t[k]) : null);
    const c = find("plot-contour"), l = find("plot-loss"), d = find("plot-distance");
    const m = data("plot-gamma")[1];
    // Where the contour's canvas draws a "many" fan's paths, it draws the highlight above them.
    const onCanvas = document.querySelector("[data-testid=plot-contour] canvas.live-marks")
        ?.liveMarks?.highlight;
    const contour = onCanvas ? {x: onCanvas.x, y: onCanvas.y} : {x: arr(c, "x"), y: arr(c, "y")};
    return {contour, source: onCanvas ? "canvas" : "plotly",
            loss: arr(l, "y"), lossSteps: arr(l, "x"),
            distance: arr(d, "y"), marker: m ? {x: arr(m, "x"), y: arr(m, "y")} : null,
            value: document.querySelector("[data-testid=gamma-value]").textContent,
            text: document.querySelector("[data-testid=gamma-path]").textContent,
            mode: document.querySelector("[data-testid=gamma-path]").dataset.mode,
            slider: Number(document.querySelector("[data-testid=gamma-slider]").value),
            count: Number(document.body.dataset.fanHighlights ?? 0)};
}"""


def highlight(page) -> dict:
    return page.evaluate(HIGHLIGHT)


def wait_for_highlight(page, after: int) -> dict:
    page.wait_for_function(
        "n => Number(document.body.dataset.fanHighlights ?? 0) > n", arg=after, timeout=10_000
    )
    # The frame's restyles have run by the next frame.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    return highlight(page)


def press(page, key: str, times: int = 1) -> dict:
    before = highlight(page)["count"]
    slider = page.get_by_test_id("gamma-slider")
    slider.focus()
    for _ in range(times):
        slider.press(key)
    return wait_for_highlight(page, before)


def set_slider(page, position: float) -> dict:
    """The slider at ``position`` (its own units: log10 for a log fan), as one input event."""
    before = highlight(page)["count"]
    page.get_by_test_id("gamma-slider").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", position
    )
    return wait_for_highlight(page, before)


def rows_by_value(base_url: str, body: dict, param: str) -> dict[float, dict]:
    return {row["hparams"][param]: row for row in server_result(base_url, body)["series"]}


def assert_between(path: list[float], a: list[float], b: list[float], weight: float) -> None:
    assert len(path) == min(len(a), len(b))
    for p, u, v in zip(path, a, b, strict=False):
        assert min(u, v) - 1e-9 * (1 + abs(u)) <= p <= max(u, v) + 1e-9 * (1 + abs(v))
        assert p == pytest.approx(u + weight * (v - u), rel=1e-9, abs=1e-12)


def contour_box(page) -> dict:
    """The highlighted path's bounding box on screen (the part inside the contour's axes)."""
    return page.evaluate(
        """() => {
        const div = document.querySelector("[data-testid=plot-contour]");
        const trace = div.data.find(t => t.name === "highlighted");
        const t = div.querySelector("canvas.live-marks")?.liveMarks?.highlight ?? trace;
        const {xaxis, yaxis} = div._fullLayout;
        const svg = div.querySelector(".main-svg").getBoundingClientRect();
        let [l, r, top, b] = [Infinity, -Infinity, Infinity, -Infinity];
        for (let i = 0; i < t.x.length; i++) {
            const px = xaxis._offset + xaxis.l2p(t.x[i]), py = yaxis._offset + yaxis.l2p(t.y[i]);
            const cx = Math.min(Math.max(px, xaxis._offset), xaxis._offset + xaxis._length);
            const cy = Math.min(Math.max(py, yaxis._offset), yaxis._offset + yaxis._length);
            l = Math.min(l, cx); r = Math.max(r, cx); top = Math.min(top, cy); b = Math.max(b, cy);
        }
        return {left: svg.left + l, right: svg.left + r, top: svg.top + top,
                bottom: svg.top + b};
    }"""
    )


def box_of(page, selector: str) -> dict:
    return page.evaluate(
        """s => { const r = document.querySelector(s).getBoundingClientRect();
                  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }""",
        selector,
    )


def test_a_gamma_fan_from_a_custom_anon_card_moves_one_path_without_requests(
    base_url, open_page, screenshot
):
    watched, bodies = open_custom(open_page, base_url, "anon", lr=0.01)
    page = watched.page
    assert page.get_by_test_id("gamma-panel").is_hidden()
    requests = watched.run_requests()

    # The card's Fan control: one request for all 61 values of gamma.
    page.get_by_test_id("series-0-fan-gamma").click()
    wait_for_runs(page, 2)
    assert watched.run_requests() == requests + 1
    body = bodies[-1]
    sweep = body["series"][0]["sweep"]
    assert sweep["param"] == "gamma"
    assert len(sweep["values"]) == 61
    assert sweep["values"] == pytest.approx(GAMMAS, abs=1e-12)
    # The URL carries the fan; the card shows it as a range.
    assert "gamma" in page.evaluate("() => decodeURIComponent(location.hash)")
    assert page.get_by_test_id("series-0-fan-count").input_value() == "61"
    assert page.get_by_test_id("series-0-fan-step").input_value() == "0.05"
    assert page.get_by_test_id("gamma-panel").is_visible()
    # The final-loss curve's axis titles are whole, inside its box (a y title longer than the
    # short axis ran past both ends of the plot).
    curve = "[data-testid=plot-gamma]"
    div, slack = box_of(page, curve), 2  # px: a text's box holds its line's spacing
    for name in ("x", "y"):
        title = box_of(page, f"{curve} .{name}title")
        assert div["top"] - slack <= title["top"] < title["bottom"] <= div["bottom"] + slack, name
        assert div["left"] - slack <= title["left"] < title["right"] <= div["right"] + slack, name
    requests = watched.run_requests()

    # gamma = 1 to start with (a computed member), then the arrows: 1/10 of a member gap each.
    start = highlight(page)
    assert start["value"] == "1"
    assert start["mode"] == "computed"
    # 61 paths are drawn "many": where the figures are SVG (this browser: no GPU) the canvas
    # draws them and the highlight above them; a slider move redraws no Plotly figure there.
    svg = page.evaluate("() => document.body.dataset.renderer") == "svg"
    assert start["source"] == ("canvas" if svg else "plotly")
    members = rows_by_value(base_url, body, "gamma")
    assert start["contour"]["x"] == members[1.0]["x"]
    assert start["loss"] is not None
    assert start["distance"] is not None
    assert start["marker"]["x"] == [1]

    moved = press(page, "ArrowRight", 3)  # gamma 1.015: 70 % of 1.0, 30 % of 1.05
    assert moved["value"] == "1.01" or moved["value"] == "1.02"
    assert moved["mode"] == "interpolated"
    assert "interpolated" in moved["text"]
    assert "30%" in moved["text"]
    for key in ("loss", "distance"):
        assert moved[key] != start[key], key
    assert moved["contour"] != start["contour"]
    assert moved["marker"]["x"] == [pytest.approx(1.015)]
    a, b = members[1.0], members[1.05]
    assert_between(moved["contour"]["x"], a["x"], b["x"], 0.3)
    assert_between(moved["contour"]["y"], a["y"], b["y"], 0.3)
    # The loss as plotted (its gap to the minimum, floored) blends the same way.
    f_star = 0.0
    floor = 1e-16
    shown_a = [max(v - f_star, floor) for v in a["loss"]]
    shown_b = [max(v - f_star, floor) for v in b["loss"]]
    assert_between(moved["loss"], shown_a, shown_b, 0.3)
    assert min(shown_a[-1], shown_b[-1]) <= moved["marker"]["y"][0] <= max(shown_a[-1], shown_b[-1])

    # Keyboard across the whole fan, then the mouse: every plot follows, the marker moves.
    seen = {tuple(moved["contour"]["x"])}
    markers = {moved["marker"]["x"][0]}
    for _ in range(6):
        now = press(page, "PageDown")
        seen.add(tuple(now["contour"]["x"]))
        markers.add(now["marker"]["x"][0])
    slider = box_of(page, "[data-testid=gamma-slider]")
    y = (slider["top"] + slider["bottom"]) / 2
    before = highlight(page)
    page.mouse.move(slider["left"] + 4, y)
    page.mouse.down()
    for k in range(1, 21):
        page.mouse.move(slider["left"] + (slider["right"] - slider["left"]) * k / 21, y)
    page.mouse.up()
    dragged = wait_for_highlight(page, before["count"])
    seen.add(tuple(dragged["contour"]["x"]))
    markers.add(dragged["marker"]["x"][0])
    assert len(seen) >= 7, "the highlight moves through the fan"
    assert len(markers) >= 7, "the curve's marker moves along it"
    assert dragged["loss"] != before["loss"]
    assert dragged["distance"] != before["distance"]
    assert watched.run_requests() == requests, "moving the slider must not ask the server"

    # Snap: the nearest computed member instead of a blend.
    set_slider(page, 1.015)
    page.get_by_test_id("fan-snap").check()
    snapped = highlight(page)
    assert snapped["mode"] == "computed"
    assert snapped["contour"]["x"] == members[1.0]["x"]
    page.get_by_test_id("fan-snap").uncheck()

    # Mid-way, at 1280x800: the slider and the whole highlighted path are on screen together,
    # the path clear of the panel, which docks under the top bar when the page scrolls.
    set_slider(page, 0.5)
    panel = box_of(page, "[data-testid=gamma-panel]")
    path_box = contour_box(page)
    page.evaluate("dy => window.scrollBy(0, dy)", path_box["top"] - panel["bottom"] - 8)
    page.wait_for_timeout(300)
    path_box = contour_box(page)
    panel = box_of(page, "[data-testid=gamma-panel]")
    slider = box_of(page, "[data-testid=gamma-slider]")
    assert slider["top"] >= 0, slider
    assert slider["bottom"] <= 800, slider
    assert panel["bottom"] <= path_box["top"], (panel, path_box)
    assert path_box["bottom"] <= 800, path_box
    assert path_box["right"] - path_box["left"] > 20, path_box
    screenshot(page, "fan-gamma-61-midway")
    assert watched.run_requests() == requests
    assert watched.errors == []


def test_an_lr_fan_is_log_spaced_and_interpolates_in_log_scale(base_url, open_page):
    watched, bodies = open_custom(open_page, base_url, "yogi")
    page = watched.page
    requests = watched.run_requests()
    page.get_by_test_id("series-0-fan-lr").click()
    wait_for_runs(page, 2)
    assert watched.run_requests() == requests + 1
    sweep = bodies[-1]["series"][0]["sweep"]
    assert sweep["param"] == "lr"
    values = sweep["values"]
    assert len(values) == 25
    assert values[0] == pytest.approx(1e-4)
    assert values[-1] == pytest.approx(1)
    ratios = [values[i + 1] / values[i] for i in range(24)]
    assert ratios == pytest.approx([10 ** (1 / 6)] * 24, rel=1e-9)
    assert page.get_by_test_id("gamma-panel").is_visible()
    requests = watched.run_requests()
    members = rows_by_value(base_url, bodies[-1], "lr")
    lrs = sorted(members)

    # On a member, then 40 % of the way (in log10) to the next one.
    low, high = lrs[12], lrs[13]
    at = set_slider(page, math.log10(low))
    assert at["mode"] == "computed"
    assert at["contour"]["x"] == members[low]["x"]
    between = press(page, "ArrowRight", 4)
    assert between["mode"] == "interpolated"
    assert between["marker"]["x"][0] == pytest.approx(10 ** (math.log10(low) + 0.4 / 6), rel=1e-9)
    assert_between(between["contour"]["x"], members[low]["x"], members[high]["x"], 0.4)
    assert_between(between["contour"]["y"], members[low]["y"], members[high]["y"], 0.4)
    assert between["loss"] != at["loss"]
    assert between["distance"] != at["distance"]
    curve = page.evaluate(
        "() => document.querySelector('[data-testid=plot-gamma]').layout.xaxis.type"
    )
    assert curve == "log"
    for _ in range(4):
        press(page, "PageUp")
    assert watched.run_requests() == requests
    assert watched.errors == []


def test_changing_the_optimizer_keeps_an_lr_fan_and_old_urls_still_open(base_url, open_page):
    """A fan of a hyperparameter the new optimizer also takes as a tensor survives the change;
    a permalink with the old gamma slider field (and no fan fields) still opens its fan."""
    url = base_url + state_fragment(
        [
            {
                "optimizer": "anon",
                "hparams": registry(base_url)["anon"]["defaults"],
                "sweep": {"param": "gamma", "values": [-0.5, 0, 0.5, 1, 1.5]},
            }
        ],
        steps=STEPS,
    ).replace("%22gamma%22%3A%20null", "%22gamma%22%3A%200.5")
    watched = open_page(url)
    page = watched.page
    wait_for_runs(page, 1)
    assert highlight(page)["value"] == "0.5"
    page.get_by_test_id("series-0-fan-gamma").wait_for(state="detached")
    # Fan over lr instead: stop the gamma sweep, fan lr, switch to Adam: the lr fan stays.
    page.get_by_test_id("series-0-sweep-remove").click()
    wait_for_runs(page, 2)
    page.get_by_test_id("series-0-fan-lr").click()
    wait_for_runs(page, 3)
    page.get_by_test_id("series-optimizer-0").select_option("yogi")
    wait_for_runs(page, 4)
    state = page.evaluate("() => JSON.parse(decodeURIComponent(location.hash.slice(7)))")
    assert state["series"][0]["optimizer"] == "yogi"
    assert state["series"][0]["sweep"]["param"] == "lr"
    assert len(state["series"][0]["sweep"]["values"]) == 25
    assert page.get_by_test_id("gamma-panel").is_visible()
    assert watched.errors == []
