"""The page's layout on a phone, a laptop and a big screen: nothing scrolls sideways at 360 px,
the plots come first on a phone with the gamma slider docked above the contour, plot text grows
with the page's text, and the 3-D view opens full width and keeps to the landscape's box.

Screenshots of the default run, a gamma fan and a noisy 64-seed run at 1280x800, 1920x1080 and
390x844 go to test-artifacts/layout-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from page_helpers import show_surface, state_fragment, wait_for_runs
from playwright.sync_api import Browser, Page

from app.presets import get_preset, list_presets

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONES = [(360, 740), (390, 844)]
LAPTOP = (1280, 800)
BIG_SCREEN = (1920, 1080)
GAMMA_PRESET = "anon-gamma-rosenbrock"
NOISE_PRESET = "noise-ano-adam-yogi"
NOISY_SEEDS = 64

# Every element whose box sticks out past the viewport's right edge, unless an ancestor that
# clips or scrolls its content (a plot div, the results' box) keeps it inside: what would make
# the page scroll sideways or cut something off at the screen's edge. (Plotly parks a text
# measuring SVG far to the left, where nothing scrolls: the left edge is not checked.)
OVERFLOWING = """() => {
    const width = document.documentElement.clientWidth;
    const outside = (r) => r.right > width + 0.5;
    const clipper = (el) => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== "visible") return a;
        }
        return null;
    };
    const found = [];
    for (const el of document.querySelectorAll("body *")) {
        const box = el.getBoundingClientRect();
        if ((box.width === 0 && box.height === 0) || !outside(box)) continue;
        const clip = clipper(el);
        if (clip && !outside(clip.getBoundingClientRect())) continue;
        found.push(`${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""}`
            + `[${el.dataset?.testid ?? ""}] ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
    return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: width,
        elements: found.slice(0, 20),
    };
}"""

# An element's box in the viewport: top, bottom, left, right, width, height.
BOX = """el => { const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
            width: r.width, height: r.height}; }"""

# The contour's axes (Plotly's drag layer covers exactly the plot area).
PLOT_AREA = "[data-testid=plot-contour] .nsewdrag"


@pytest.fixture
def open_at(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open the page at ``url`` in a fresh context of the given viewport; no page errors."""
    contexts = []
    errors: list[str] = []

    def open_(url: str, width: int, height: int) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == []


def settle(page: Page) -> None:
    """Two animation frames: Plotly's redraws and resizes after a run have landed."""
    for _ in range(2):
        page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")


def box_of(page: Page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(BOX)


def choose_preset(page: Page, preset: str, runs_before: int) -> None:
    page.get_by_test_id("preset").select_option(preset)
    wait_for_runs(page, runs_before + 1)
    settle(page)


def run_noisy_seeds(page: Page) -> None:
    """The noise preset, then 64 seeds of it (typed into the Seeds field): 192 noisy rows."""
    choose_preset(page, NOISE_PRESET, 1)
    seeds = page.get_by_test_id("seeds")
    seeds.fill(str(NOISY_SEEDS))
    seeds.press("Enter")
    wait_for_runs(page, 3)
    settle(page)


def assert_nothing_sticks_out(page: Page) -> None:
    found = page.evaluate(OVERFLOWING)
    assert found["scrollWidth"] <= found["clientWidth"], found
    assert found["elements"] == [], found
    # The results table fits its box too (the box would let it scroll sideways on its own).
    table = page.locator(".results-box").evaluate(
        "el => ({scroll: el.scrollWidth, client: el.clientWidth})"
    )
    assert table["scroll"] <= table["client"], table


def tick_font_sizes(page: Page) -> dict:
    show_surface(page)
    return page.evaluate(
        """() => Object.fromEntries(["plot-contour", "plot-loss", "plot-surface"].map(id => {
            const layout = document.querySelector(`[data-testid=${id}]`)._fullLayout;
            const axis = layout.xaxis ?? layout.scene.xaxis;
            return [id, {tick: axis.tickfont.size, title: layout.title.font.size}];
        }))"""
    )


# ---- a phone ----


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_nothing_scrolls_sideways_on_a_phone(base_url, open_at, width, height):
    page = open_at(base_url, width, height)
    wait_for_runs(page, 1)
    settle(page)
    assert_nothing_sticks_out(page)

    # A preset with the gamma panel and its narration open.
    choose_preset(page, GAMMA_PRESET, 1)
    assert page.get_by_test_id("gamma-panel").is_visible()
    assert page.get_by_test_id("narration-text").is_visible()
    assert_nothing_sticks_out(page)
    # The narration's title is whole, not cut to a letter by the buttons beside it.
    title = page.get_by_test_id("narration-title")
    assert title.inner_text() == get_preset(GAMMA_PRESET).title
    assert title.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    # The 3-D toggle and a wide surface still fit.
    page.get_by_test_id("surface-wide").click()
    settle(page)
    assert_nothing_sticks_out(page)


def test_a_map_on_a_phone_has_one_picture_a_line_in_the_boxs_shape(base_url, open_at):
    page = open_at(base_url, 390, 844)
    wait_for_runs(page, 1)
    choose_preset(page, "himmelblau-basins", 1)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=plot-cells]').dataset.stage === 'done'"
    )
    settle(page)
    pictures = page.evaluate(
        """() => { const l = document.querySelector('[data-testid=plot-cells]')._fullLayout;
            return [1, 2, 3].map((k) => {
                const xa = l[k === 1 ? 'xaxis' : `xaxis${k}`];
                const ya = l[k === 1 ? 'yaxis' : `yaxis${k}`];
                return {left: xa._offset, width: xa._length, top: ya._offset,
                        height: ya._length}; }); }"""
    )
    # SGD, Adam and Anon one under another, each as wide as it can be and square (Himmelblau's
    # box is), not three strips side by side.
    assert {p["left"] for p in pictures} == {pictures[0]["left"]}
    assert pictures[0]["top"] < pictures[1]["top"] < pictures[2]["top"]
    for picture in pictures:
        assert picture["width"] >= 150
        assert picture["height"] == pytest.approx(picture["width"], rel=0.02)
    assert_nothing_sticks_out(page)


def test_the_plots_come_first_on_a_phone(base_url, open_at):
    width, height = 390, 844
    page = open_at(base_url, width, height)
    wait_for_runs(page, 1)
    settle(page)
    contour = box_of(page, "[data-testid=plot-contour]")
    plot_area = box_of(page, PLOT_AREA)
    controls = box_of(page, "#controls")
    narration = box_of(page, "[data-testid=narration]")
    # The contour starts in the upper half of the first screen and its axes are on it.
    assert 0 <= contour["top"] < height / 2, contour
    assert plot_area["bottom"] <= height, plot_area
    # Above the controls and the narration, which follow the plots.
    assert contour["bottom"] <= controls["top"], (contour, controls)
    assert narration["top"] >= contour["bottom"], (contour, narration)
    # As wide as the screen allows.
    assert contour["width"] >= width - 40, contour


def test_the_gamma_slider_docks_above_the_contour_on_a_phone(base_url, open_at):
    width, height = 390, 844
    page = open_at(base_url, width, height)
    wait_for_runs(page, 1)
    choose_preset(page, GAMMA_PRESET, 1)
    slider = box_of(page, "[data-testid=gamma-slider]")
    contour = box_of(page, "[data-testid=plot-contour]")
    plot_area = box_of(page, PLOT_AREA)
    # Both on the first screen, whole: drag the slider and watch the path.
    for name, box in (("slider", slider), ("contour", contour), ("plot area", plot_area)):
        assert box["top"] >= 0, (name, box)
        assert box["bottom"] <= height, (name, box)
    # The slider sits right above the contour (only its readout and help text between).
    assert slider["bottom"] <= contour["top"], (slider, contour)
    assert contour["top"] - slider["bottom"] < 0.15 * height, (slider, contour)
    # Final loss vs gamma goes below the plots, the narration below that.
    gamma_plot = box_of(page, "[data-testid=plot-gamma]")
    assert gamma_plot["top"] >= contour["bottom"], gamma_plot


# ---- big screens ----


def test_plot_text_grows_with_the_page_on_a_big_screen(base_url, open_at):
    page = open_at(base_url, *LAPTOP)
    wait_for_runs(page, 1)
    settle(page)
    laptop = tick_font_sizes(page)
    root_px = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    laptop_root = page.evaluate(root_px)

    big = open_at(base_url, *BIG_SCREEN)
    wait_for_runs(big, 1)
    settle(big)
    big_sizes = tick_font_sizes(big)
    big_root = big.evaluate(root_px)
    assert big_root > laptop_root
    for plot, sizes in big_sizes.items():
        assert sizes["tick"] > laptop[plot]["tick"], (plot, sizes, laptop[plot])
        assert sizes["title"] > laptop[plot]["title"], (plot, sizes, laptop[plot])
        # In proportion to the page's text.
        ratio = sizes["tick"] / laptop[plot]["tick"]
        assert ratio == pytest.approx(big_root / laptop_root, rel=0.1)

    # A window resized from laptop to big screen catches up without a new run.
    page.set_viewport_size({"width": BIG_SCREEN[0], "height": BIG_SCREEN[1]})
    page.wait_for_function(
        """size => document.querySelector('[data-testid=plot-loss]')._fullLayout
            .xaxis.tickfont.size === size""",
        arg=big_sizes["plot-loss"]["tick"],
    )

    # The width is used: the plots take most of it, and no plot is stretched out of shape.
    plots = box_of(big, "[data-testid=plots]")
    assert plots["width"] >= 0.7 * BIG_SCREEN[0], plots
    for plot in ("plot-contour", "plot-loss", "plot-distance", "plot-surface"):
        box = box_of(big, f"[data-testid={plot}]")
        assert 0.5 <= box["width"] / box["height"] <= 2.5, (plot, box)


# ---- the 3-D view ----


def surface_fits_its_div(page: Page) -> None:
    """Until Plotly has drawn the surface at its div's current width."""
    page.wait_for_function(
        """() => { const div = document.querySelector('[data-testid=plot-surface]');
            return Math.abs(div._fullLayout.width - div.getBoundingClientRect().width) <= 1; }"""
    )


def test_the_3d_view_opens_full_width_and_back(base_url, open_at):
    page = open_at(base_url, *LAPTOP)
    wait_for_runs(page, 1)
    settle(page)
    show_surface(page)
    toggle = page.get_by_test_id("surface-wide")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert toggle.get_attribute("aria-controls") == "plot-surface"
    plots = box_of(page, "[data-testid=plots]")
    half = box_of(page, "[data-testid=plot-surface]")
    assert half["width"] < 0.6 * plots["width"], (half, plots)

    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    surface_fits_its_div(page)
    wide = box_of(page, "[data-testid=plot-surface]")
    assert wide["width"] >= plots["width"] - 2, (wide, plots)
    assert wide["height"] > half["height"], (wide, half)
    # The scene keeps the landscape's proportions in the wide box.
    aspect = page.evaluate(
        "() => document.querySelector('[data-testid=plot-surface]')._fullLayout.scene.aspectratio"
    )
    assert aspect["x"] == pytest.approx(aspect["y"])  # Rosenbrock's box is square
    assert 0.3 <= aspect["z"] <= 0.8

    # From the keyboard: focus it and press Space.
    toggle.focus()
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "false"
    surface_fits_its_div(page)
    back = box_of(page, "[data-testid=plot-surface]")
    assert back["width"] == pytest.approx(half["width"], abs=2)


def test_the_3d_axes_stay_on_the_landscape_box_when_a_path_escapes(base_url, open_at):
    # SGD at lr 0.01 leaves Rosenbrock's box in its first steps (the gradient at the start is
    # about 1600); Adam stays inside.
    series = [
        {"optimizer": "sgd", "hparams": {"lr": 0.01}},
        {"optimizer": "adam", "hparams": {"lr": 0.05}},
    ]
    page = open_at(base_url + state_fragment(series, steps=200), *LAPTOP)
    wait_for_runs(page, 1)
    settle(page)
    show_surface(page)
    landscapes = httpx.get(f"{base_url}/api/landscapes").json()
    (x_box, y_box) = next(entry for entry in landscapes if entry["id"] == "rosenbrock")["view_box"]
    drawn = page.evaluate(
        """() => {
            const div = document.querySelector('[data-testid=plot-surface]');
            const scene = div._fullLayout.scene;
            const grid = div.data[0].z.flat().filter(v => v !== null && Number.isFinite(v));
            const sgd = document.querySelector('[data-testid=plot-contour]').data
                .find(t => t.meta?.role === 'path' && t.name === 'SGD');
            return {
                x: scene.xaxis.range, y: scene.yaxis.range, z: scene.zaxis.range,
                aspect: scene.aspectratio,
                zGrid: [Math.min(...grid), Math.max(...grid)],
                contourX: Array.from(sgd.x),
                // The rows' lines (legend groups "rows:..."), NaN (a gap in a 3-D line) as null.
                paths: div.data.filter(t => t.type === 'scatter3d' && t.mode === 'lines'
                        && (t.legendgroup ?? '').startsWith('rows:')).map(t => ({name: t.name,
                    ...Object.fromEntries(["x", "y", "z"].map(axis => [axis,
                        Array.from(t[axis], v => Number.isNaN(v) ? null : v)]))})),
            };
        }"""
    )
    # The SGD path does escape the box.
    assert min(drawn["contourX"]) < x_box[0] or max(drawn["contourX"]) > x_box[1]
    # The scene's axes are the landscape's box and its surface's z range, not stretched.
    assert drawn["x"] == pytest.approx(x_box)
    assert drawn["y"] == pytest.approx(y_box)
    z_low, z_high = drawn["zGrid"]
    assert drawn["z"][0] <= z_low
    assert drawn["z"][1] >= z_high
    assert drawn["z"][1] - drawn["z"][0] <= 1.1 * (z_high - z_low)
    assert drawn["aspect"]["x"] == pytest.approx(drawn["aspect"]["y"])
    # Every point drawn lies in the box; the escaping path is cut (a gap where it leaves).
    for path in drawn["paths"]:
        points = [
            (x, y, z)
            for x, y, z in zip(path["x"], path["y"], path["z"], strict=True)
            if x is not None
        ]
        assert points, path["name"]
        for x, y, z in points:
            assert x_box[0] - 1e-9 <= x <= x_box[1] + 1e-9, (path["name"], x)
            assert y_box[0] - 1e-9 <= y <= y_box[1] + 1e-9, (path["name"], y)
            assert drawn["z"][0] - 1e-9 <= z <= drawn["z"][1] + 1e-9, (path["name"], z)
    sgd = next(path for path in drawn["paths"] if path["name"] == "SGD")
    assert None in sgd["x"], "the escaping path has no gap where it leaves the box"
    adam = next(path for path in drawn["paths"] if path["name"] == "Adam")
    assert None not in adam["x"]


# ---- screenshots ----

SIZES = [LAPTOP, BIG_SCREEN, (390, 844)]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_screenshots_of_three_runs(base_url, open_at, width, height):
    """The default run, the gamma fan and a noisy 64-seed run, saved to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    phone = width < 700

    def save(page: Page, name: str) -> None:
        # The first screen, whatever an input's focus scrolled to.
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / f"layout-{name}-{width}x{height}.png"))
        # And the whole page: the 3-D view (drawn once on screen), the table and what follows.
        show_surface(page)
        page.screenshot(
            path=str(ARTIFACTS / f"layout-{name}-{width}x{height}-full.png"), full_page=True
        )

    page = open_at(base_url, width, height)
    wait_for_runs(page, 1)
    settle(page)
    assert page.get_by_test_id("preset").input_value() == list_presets()[0].id
    save(page, "default")

    choose_preset(page, GAMMA_PRESET, 1)
    save(page, "gamma-fan")
    if phone:
        assert_nothing_sticks_out(page)

    # One page at a time: each holds WebGL contexts (the 3-D view, WebGL paths), and Chromium
    # drops the oldest when too many are alive.
    page.close()
    noisy = open_at(base_url, width, height)
    wait_for_runs(noisy, 1)
    run_noisy_seeds(noisy)
    rows = NOISY_SEEDS * len(get_preset(NOISE_PRESET).spec["series"])
    assert noisy.get_by_test_id("status").inner_text().startswith(f"{rows} trajectories")
    save(noisy, "noisy-64-seeds")
    if phone:
        assert_nothing_sticks_out(noisy)
