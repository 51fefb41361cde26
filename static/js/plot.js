// The only module that touches Plotly: the contour, the 3-D surface, loss and distance vs step,
// and final loss vs gamma. Full figures go through Plotly.react (uirevision keeps zoom and
// camera); what moves (a streaming run, a replay) is brought up to date once per animation
// frame, one Plotly update per task, with canvases over the axes for what Plotly cannot redraw
// every frame (live-layer.js).

/* global Plotly */

import { paintColourBar, roundTicks } from "./colour-bar.js";
import { LANDSCAPE_COLORSCALE } from "./colors.js";
import { GrowableColumn } from "./columns.js";
import { paintLandscape } from "./landscape-image.js";
import { LiveLayer } from "./live-layer.js";
import { measureTextScale } from "./text-scale.js";
import {
  displayStride, joinRows, paddedRange, pointsUpTo, rangeHolds,
} from "./playback.js";
import {
  COLUMNS, distancesToNearest, hasEnded, mapColumn, refreshIndices, seedBand,
} from "./run-data.js";
import {
  AXIS_TEMPLATE, clipPathToBox, DISTANCE_AXIS_TITLE, displayLoss, floorDistances, isolateGroup,
  lossAxisTitle as lossTitle, roundToResolution, seriesSignature, shadingTitle,
  shortLossAxisTitle, surfaceAspect, surfaceBox, toggleGroup,
} from "./view.js";

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13,
  color: "#1f2933" };
// Text sizes in pixels at the page's base text size (text-scale.js: they grow with it).
const TEXT_PX = { base: FONT.size, title: 15, legend: 12, hover: 12, colorbarTitle: 12,
  colorbarTicks: 11, label: 12 };
let textScale = 1;

// A size in pixels at the base text size, as it is at the page's text size now.
function scaled(px) {
  return Math.round(px * textScale * 10) / 10;
}

function scaledMargin({ l, r, t, b }) {
  return { l: scaled(l), r: scaled(r), t: scaled(t), b: scaled(b) };
}

function baseLayout() {
  return {
    font: { ...FONT, size: scaled(TEXT_PX.base) },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hoverlabel: { font: { family: FONT.family, size: scaled(TEXT_PX.hover) } },
    hovermode: "closest",
    template: AXIS_TEMPLATE,
  };
}

function plotTitle(text) {
  return { text, x: 0.02, font: { size: scaled(TEXT_PX.title) } };
}
// The contour's traces, bottom to top: one white outline under every row's path, the rows'
// paths (the first of each legend group carries its legend entry), end / divergence / refresh
// markers, the global minima (above the end markers), the start, the gamma highlight and the
// replay markers (the landscape and its colour bar are pictures). Indices of the outline and
// the first path.
const OUTLINE_TRACE = 0;
let firstPath = 0;
let startTrace = -1;
// Legend groups of rows start with this (other legend entries are Plotly's to toggle).
const GROUP_PREFIX = "rows:";

let divs = null;
// What is drawn: the landscape, the run and how to colour and name its rows.
let scene = null;
let run = null;
let look = null;
let highlightTrace = -1;
// The replay marker trace (each row's point at the scrubbed step), once a run is done, and the
// first of the end / divergence marker traces (-1 when the contour has none).
let replayTrace = -1;
let endTrace = -1;
// What the plots show: every point (step null), or each row up to `step`; `live` while a run
// streams in and its points are revealed (main.js paces the step).
let view = { step: null, live: false };
// Groups of rows (look.groupKey) the legend hides in every view, and for which series.
let hidden = new Set();
let hiddenSignature = "";
let legendTimer = 0;
let visibilityListener = null;

// `elements`: {contour, surface, loss, distance, gamma} divs.
export function initPlots(elements) {
  divs = elements;
  layers = { contour: new LiveLayer(divs.contour, { outline: true }),
    loss: new LiveLayer(divs.loss), distance: new LiveLayer(divs.distance) };
  // Which renderer "many" figures use here, and why (read by tests and bench/page_stream.py).
  document.body.dataset.renderer = webglAvailable() ? "webgl" : "svg";
  document.body.dataset.webgl = webglKind();
  watchPlotSizes();
  watchScreen();
}

// ---- the 3-D view draws when it comes on screen ----

// Views drawn only while at least ON_SCREEN_RATIO of them is on screen: the 3-D view, whose
// figure costs 100-500 ms of the main thread in a software WebGL (its first, which creates the
// scene, up to a second) and which sits below the fold at 1280 x 800, 1920 x 1080 and on a
// phone. Scrolled to, it draws what it was left to do (see displayed); off screen again, it
// stops following the run. A sliver showing at the bottom of the window does not count.
const ON_SCREEN_ONLY = ["surface"];
const ON_SCREEN_RATIO = 0.25;
const onScreen = new Set();
function watchScreen() {
  const observer = new IntersectionObserver((entries) => {
    for (const { target, isIntersecting, intersectionRatio } of entries) {
      const name = ON_SCREEN_ONLY.find((view) => divs[view] === target);
      if (!isIntersecting || intersectionRatio < ON_SCREEN_RATIO) {
        onScreen.delete(name);
        continue;
      }
      onScreen.add(name);
      if (pending.has(name)) requestWork();
    }
  }, { threshold: [0, ON_SCREEN_RATIO] });
  for (const name of ON_SCREEN_ONLY) observer.observe(divs[name]);
}

// ---- sizes: plot divs that change size, and text that follows the page's ----

// Plotly's `responsive` follows the window only; a div also changes size when the layout
// around it does (the 3-D view's full-width toggle, a phone turned sideways), so each is watched.
let textRescaleQueued = false;
// The plot divs that have a box on the page (not display: none, nor inside a hidden part), as
// their ResizeObserver last said: asking the page itself (getClientRects) in every frame made
// the browser lay the page out again there, a few milliseconds of each streaming frame.
const boxed = new Set();
function watchPlotSizes() {
  textScale = measureTextScale();
  const observer = new ResizeObserver((entries) => {
    for (const { target, contentRect } of entries) {
      if (contentRect.width > 0 || contentRect.height > 0) boxed.add(target);
      else boxed.delete(target);
      // A hidden div (display: none) has no size, and Plotly refuses to resize it.
      if (target._fullLayout && contentRect.width > 0 && contentRect.height > 0) {
        Plotly.Plots.resize(target);
      }
      // A view shown again draws what it was left to do while hidden (see displayed).
      if (contentRect.width > 0 && [...pending.keys()].some((name) => divs[name] === target)) {
        requestWork();
      }
    }
  });
  for (const div of Object.values(divs)) observer.observe(div);
  window.addEventListener("resize", () => {
    if (textRescaleQueued) return;
    textRescaleQueued = true;
    requestAnimationFrame(() => {
      textRescaleQueued = false;
      rescaleText();
    });
  });
}

// The page's text size follows the viewport width: when it changed, every plot's text and
// margins follow (the next full redraw builds them at the new size anyway).
function rescaleText() {
  const next = measureTextScale();
  if (Math.abs(next - textScale) < 0.01) return;
  const factor = next / textScale;
  textScale = next;
  for (const div of Object.values(divs)) {
    const layout = div.layout;
    if (!div._fullLayout || !layout) continue;
    const update = {
      "font.size": scaled(TEXT_PX.base),
      "hoverlabel.font.size": scaled(TEXT_PX.hover),
      "legend.font.size": scaled(TEXT_PX.legend),
    };
    if (layout.title?.font?.size) update["title.font.size"] = scaled(TEXT_PX.title);
    // The landscape's colour bar, painted at the new size.
    if (div === divs.contour) update.images = contourImages();
    for (const side of ["l", "r", "t", "b"]) {
      const margin = layout.margin?.[side];
      if (margin !== undefined) update[`margin.${side}`] = Math.round(margin * factor * 10) / 10;
    }
    Plotly.relayout(div, update);
  }
}

function config(name) {
  return {
    responsive: true,
    displaylogo: false,
    // plotly.js 4 offers "Share chart" (an upload to Plotly's cloud): never from a classroom page.
    showSendToCloud: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
    // The contour's camera is ours (downloadContourImage); the rest are Plotly's, as elsewhere.
    ...(name === "contour" ? { modeBarButtons: [[CONTOUR_IMAGE_BUTTON],
      ["zoom2d", "pan2d"], ["zoomIn2d", "zoomOut2d", "resetScale2d"]] } : {}),
    toImageButtonOptions: { format: "png", filename: `optiscope-${name}`, scale: 2 },
  };
}

const CONTOUR_IMAGE_BUTTON = {
  name: "downloadContourImage",
  title: "Download plot as a PNG",
  icon: Plotly.Icons.camera,
  click: (div) => {
    downloadContourImage(div).catch((error) => {
      const message = `The contour's picture could not be made: ${error?.message ?? error}`;
      if (errorListener) errorListener(message);
      else console.error(message);
    });
  },
};

// `callback(message)` when something the page asked of the plots failed (say, a PNG export).
let errorListener = null;
export function onPlotError(callback) {
  errorListener = callback;
}

// The landscape: `info` is its catalogue entry (or a typed function's stand-in), `surface` the
// answer of a surface endpoint.
export function setScene(info, surface, start) {
  let low = Infinity;
  let high = -Infinity;
  for (const row of surface.z) {
    for (const value of row) {
      if (value === null || !Number.isFinite(value)) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  if (!(low <= high)) [low, high] = [0, 1];
  scene = {
    info, surface, start, zRange: [low, high],
    // log_z adds δ to z - z_min: its lowest grid value is log10(δ).
    logOffset: surface.log ? 10 ** low : 0,
    fStar: info.global_minima.length ? Math.min(...info.global_minima.map((m) => m.value)) : null,
    revision: `${info.id ?? info.label}`,
    // The landscape's picture (a data: URL) once the worker has painted it.
    image: null,
  };
  pictureWanted = scene;
  requestWork();
}

export function setStart(start) {
  scene.start = start;
  // A contour figure on its way draws the new start itself.
  if (pending.get("contour") === "figure") return;
  if (divs.contour.data && startTrace >= 0) {
    Plotly.restyle(divs.contour, { x: [[start[0]]], y: [[start[1]]] }, [startTrace]);
  }
}

// Height over the surface for the 3-D view, on the surface's own (possibly log) scale.
function lift(loss) {
  if (!scene.surface.log) return loss;
  return Math.log10(Math.max(loss - scene.surface.z_min, 0) + scene.logOffset);
}

// The loss plot's y: the gap to the global minimum on a log axis (floored: view.js), or the raw
// loss when no minimum is known.
function lossValue(loss) {
  return displayLoss(loss, scene.fStar);
}

function lossAxisTitle() {
  return lossTitle(scene.fStar);
}

// Whether the legend shows `row` (its group is not hidden).
function shown(row) {
  return !hidden.has(look.groupKey(row));
}

// Distance to the nearest minimum of each of `row`'s points from index `from` on (floored for
// the log axis: view.js).
function distances(row, from = 0) {
  return floorDistances(distancesToNearest(row.x.subarray(from), row.y.subarray(from),
    scene.info.global_minima));
}

// [step, loss] of each of `row`'s points from index `from` on: the contour's hover data.
function hoverData(row, from = 0) {
  return Array.from({ length: row.steps.length - from },
    (_, k) => [row.steps[from + k], row.loss[from + k]]);
}

// ---- the contour ----

// The landscape is a picture (a layout image, painted by a worker: landscapeImage) that Plotly
// places and never recomputes; a contour trace of the grid cost every redraw of the plot (each
// path's update included) tens of milliseconds. Its colour bar is a picture too (colour-bar.js
// says why), beside the axes, LANDSCAPE_BAR.len of the plot's height (sizes in pixels at the
// base text size).
const CONTOUR_LEVELS = 28;
const CONTOUR_LINE = { width: 0.6, color: "rgba(40,60,90,0.35)" };
const CONTOUR_MARGIN = { l: 60, r: 12, t: 36, b: 40 };
const LANDSCAPE_BAR = { gap: 4, width: 62, strip: 12, len: 0.9, ticks: 8 };
// The painted bar of the scene at its size, and what it shows (divs.contour.colourBar).
let landscapeBar = null;

function gridBox() {
  const { x, y } = scene.surface;
  return { x: [x[0], x[x.length - 1]], y: [y[0], y[y.length - 1]] };
}

function contourMargin() {
  const margin = scaledMargin(CONTOUR_MARGIN);
  margin.r += scaled(LANDSCAPE_BAR.gap + LANDSCAPE_BAR.width);
  return margin;
}

// The landscape's colour bar as a layout image, painted when the landscape, the plot's height
// or the text size changed: by settle(), once the views have drawn their figures (painting it
// took 5-15 ms of a new landscape's contour figure beside the server). A figure drawn before
// then goes without the bar, which takes its place by a relayout. Its height is the plot's as
// last laid out (or as it will be, before the first layout); "contain" keeps its shape if that
// moves a little. Null while the bar for the plot as it is now is not painted yet.
function landscapeBarImage({ paint = false } = {}) {
  const div = divs.contour;
  const margin = contourMargin();
  const size = div._fullLayout?._size;
  const paper = size ?? { w: div.clientWidth - margin.l - margin.r,
    h: div.clientHeight - margin.t - margin.b };
  const height = Math.max(40, Math.round(paper.h * LANDSCAPE_BAR.len));
  const [low, high] = scene.zRange;
  const key = [scene.revision, low, high, scene.surface.log, height, textScale].join();
  if (landscapeBar?.key !== key) {
    if (!paint) {
      barWanted = true;
      return null;
    }
    const title = shadingTitle(scene.surface.log);
    const top = high > low ? high : low + 1;
    // Numbers as Plotly writes them on the axes (a true minus sign).
    const ticks = roundTicks(low, top, LANDSCAPE_BAR.ticks)
      .map((value) => ({ value, label: String(value).replace("-", "−") }));
    const source = paintColourBar({ colorscale: LANDSCAPE_COLORSCALE, cmin: low, cmax: top,
      ticks, titles: [title], width: scaled(LANDSCAPE_BAR.width), height,
      strip: scaled(LANDSCAPE_BAR.strip), textPx: scaled(TEXT_PX.colorbarTicks),
      titlePx: scaled(TEXT_PX.colorbarTitle), family: FONT.family, color: FONT.color });
    landscapeBar = { key, source, shows: { title, low, high: top, ticks } };
  }
  // Read by the tests: what the bar shows.
  div.colourBar = landscapeBar.shows;
  return { source: landscapeBar.source, name: "colour bar", xref: "paper", yref: "paper",
    x: 1 + scaled(LANDSCAPE_BAR.gap) / Math.max(paper.w, 1), y: 0.5, sizex: 1,
    sizey: LANDSCAPE_BAR.len, xanchor: "left", yanchor: "middle", sizing: "contain",
    layer: "above" };
}

// A scene whose picture the worker paints once the views have drawn its figures (settle):
// painting beside their layout, on two cores, made a 20-30 ms layout a 50-100 ms task; the
// picture then takes its place by a relayout of 1-2 ms.
let pictureWanted = null;
// Whether a figure went without the colour bar (landscapeBarImage).
let barWanted = false;

// The landscape's picture: about as many pixels as the contour's axes have device pixels
// (more would only cost the worker time; a zoom shows the grid's 120 points a side anyway).
const IMAGE_MIN_PX = 400;
const IMAGE_MAX_PX = 1600;

function requestLandscapeImage(forScene) {
  const box = gridBox();
  const dx = box.x[1] - box.x[0];
  const dy = box.y[1] - box.y[0];
  if (!(dx > 0 && dy > 0)) return;
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  const side = Math.max(divs?.contour.clientWidth ?? 0, divs?.contour.clientHeight ?? 0);
  const longer = Math.round(Math.min(IMAGE_MAX_PX, Math.max(IMAGE_MIN_PX, side * ratio)));
  const width = Math.max(16, Math.round(dx >= dy ? longer : (longer * dx) / dy));
  const height = Math.max(16, Math.round(dy >= dx ? longer : (longer * dy) / dx));
  const [low, high] = forScene.zRange;
  paintLandscape({ surface: forScene.surface, zmin: low, zmax: high,
    colourscale: LANDSCAPE_COLORSCALE, levels: CONTOUR_LEVELS,
    line: { color: CONTOUR_LINE.color, width: CONTOUR_LINE.width * (width / Math.max(side, 1)) },
    width, height })
    .then((url) => {
      if (scene !== forScene) return;
      scene.image = url;
      // A contour figure on its way shows it; else the picture alone is placed (Plotly draws
      // layout images without redrawing the traces).
      if (pending.get("contour") === "figure" || !divs.contour.data) return;
      Plotly.relayout(divs.contour, { images: contourImages() });
    })
    .catch((error) => console.error(`The landscape could not be painted: ${error.message}`));
}

function contourImages() {
  const bar = landscapeBarImage();
  const images = bar ? [bar] : [];
  if (!scene.image) return images;
  const box = gridBox();
  return [{ source: scene.image, xref: "x", yref: "y", x: box.x[0], y: box.y[1],
    sizex: box.x[1] - box.x[0], sizey: box.y[1] - box.y[0], xanchor: "left", yanchor: "top",
    sizing: "stretch", layer: "below", name: "landscape" }, ...images];
}

// The global minima and the start: drawn above every path and end marker.
function contourPoints() {
  const { info } = scene;
  return [
    {
      type: "scatter", mode: "markers", uid: "global-minimum", name: "global minimum",
      x: info.global_minima.map((m) => m.point[0]), y: info.global_minima.map((m) => m.point[1]),
      marker: { symbol: "star", size: 16, color: "#ffffff", line: { color: "#1f2933", width: 1.5 } },
      hovertemplate: "global minimum<br>(%{x:.4g}, %{y:.4g})<extra></extra>",
    },
    {
      type: "scatter", mode: "markers", uid: "start", name: "start",
      x: [scene.start[0]], y: [scene.start[1]],
      marker: { symbol: "circle", size: 11, color: "#ffffff", line: { color: "#1f2933", width: 2 } },
      hovertemplate: "start (%{x:.4g}, %{y:.4g})<extra></extra>",
    },
  ];
}

// How a row's (or group's) path is drawn on the contour, by Plotly or on the canvas: faint when
// there are several seeds.
function pathLook(row) {
  const faint = look.seeds > 1;
  return { line: { color: look.color(row), width: faint ? 1 : 2.2 }, opacity: faint ? 0.55 : 1 };
}

// The white line under the contour's paths, wider than they are.
function outlineLook() {
  const faint = look.seeds > 1;
  return { line: { color: "#ffffff", width: faint ? 2.6 : 4.6 }, opacity: faint ? 0.35 : 0.85 };
}

// How a row's line is drawn on the loss and distance plots.
function metricLook(row) {
  const faint = look.seeds > 1;
  return { line: { color: look.color(row), width: faint ? 1 : 2, dash: look.dash(row) },
    opacity: faint ? 0.4 : 1 };
}

function legendGroup(row) {
  return `${GROUP_PREFIX}${look.groupKey(row)}`;
}

// A row's path, with the legend entry of its group when it is the group's first. A path with no
// points yet holds one gap: Plotly lists no trace without points, and an entry that came only
// when the points did would move the legend's margin (the plot jumping by the legend's height).
function pathTrace(row, index) {
  const empty = row.x.length === 0;
  return {
    type: "scatter", mode: "lines", name: look.name(row), uid: `path-${index}`,
    meta: { role: "path", row: index },
    legendgroup: legendGroup(row), showlegend: look.firstOfGroup(row) && inLegend(row),
    visible: shown(row) ? true : "legendonly",
    x: empty ? [null] : row.x, y: empty ? [null] : row.y,
    customdata: empty ? [null] : hoverData(row),
    ...pathLook(row),
    hovertemplate: `<b>${look.name(row)}</b><br>step %{customdata[0]}<br>`
      + "x %{x:.4g}, y %{y:.4g}<br>loss %{customdata[1]:.4g}<extra></extra>",
  };
}

// The legend entry of preconditioner refreshes while their dots are not drawn (contourMarkers).
function refreshLegendTrace(color) {
  return { type: "scatter", mode: "markers", uid: "refresh", name: REFRESH_NAME,
    showlegend: true, hoverinfo: "skip", x: [null], y: [null], marker: refreshMarker(color) };
}

function refreshMarker(color) {
  return { symbol: "circle", size: 6, color, line: { color: "#ffffff", width: 1 } };
}

const REFRESH_NAME = "preconditioner refresh (t = 1, 2, 4, …)";

// End markers and divergence crosses of the rows that have `ended` (by the step shown; all of
// them once the whole run is), and preconditioner refresh dots (rows whose optimizer the
// registry says refreshes at powers of two), each one trace for all rows.
function contourMarkers(rows, ended = rows) {
  const ends = ended.filter((row) => row.x.length);
  const diverged = ends.filter((row) => row.result?.diverged_at != null);
  const refreshed = rows.filter((row) => row.x.length).filter(look.refreshes);
  const refreshPoints = refreshed.flatMap((row) => refreshIndices(row.steps)
    .map((i) => ({ row, i })));
  return [
    {
      type: "scatter", mode: "markers", uid: "end", name: "end", showlegend: false,
      x: ends.map((row) => row.x.at(-1)), y: ends.map((row) => row.y.at(-1)),
      customdata: ends.map((row) => [look.name(row), row.steps.at(-1), row.loss.at(-1)]),
      marker: { symbol: "square", size: 9, color: ends.map(look.color),
        line: { color: "#ffffff", width: 1.5 } },
      hovertemplate: "<b>%{customdata[0]}</b> end<br>step %{customdata[1]}<br>"
        + "x %{x:.4g}, y %{y:.4g}<br>loss %{customdata[2]:.4g}<extra></extra>",
    },
    {
      type: "scatter", mode: "markers+text", uid: "diverged", name: "diverged", showlegend: false,
      x: diverged.map((row) => row.x.at(-1)), y: diverged.map((row) => row.y.at(-1)),
      text: diverged.map((row) => `diverged at step ${row.result.diverged_at}`),
      textposition: "top center", textfont: { size: scaled(TEXT_PX.label), color: "#b00020" },
      marker: { symbol: "x-thin-open", size: 16, color: "#b00020", line: { width: 3 } },
      hovertemplate: "%{text}<extra></extra>",
    },
    {
      type: "scatter", mode: "markers", uid: "refresh", name: REFRESH_NAME,
      showlegend: refreshPoints.length > 0,
      x: refreshPoints.map(({ row, i }) => row.x[i]),
      y: refreshPoints.map(({ row, i }) => row.y[i]),
      customdata: refreshPoints.map(({ row, i }) => [look.name(row), row.steps[i]]),
      marker: refreshMarker(refreshPoints.map(({ row }) => look.color(row))),
      hovertemplate: "<b>%{customdata[0]}</b><br>preconditioner refresh after step "
        + "%{customdata[1]}<extra></extra>",
    },
  ];
}

// A fan's highlighted path (highlightPath), on a dark casing.
function highlightTraces(highlight) {
  const path = highlight?.path;
  return [
    { type: "scatter", mode: "lines", uid: "highlight-casing", name: "highlight casing",
      showlegend: false, hoverinfo: "skip", x: path?.x ?? [], y: path?.y ?? [],
      line: { color: HIGHLIGHT_CASING, width: 8 } },
    { type: "scatter", mode: "lines", uid: "highlighted", name: "highlighted", showlegend: false,
      hoverinfo: "skip", x: path?.x ?? [], y: path?.y ?? [],
      line: { color: highlight?.color ?? "#000000", width: 4 } },
  ];
}

function contourLayout() {
  const [[xMin, xMax], [yMin, yMax]] = scene.info.view_box;
  return {
    ...baseLayout(),
    uirevision: scene.revision,
    margin: contourMargin(),
    title: plotTitle(`${scene.info.label}: trajectories`),
    // automargin: the axis titles keep clear of the tick labels whatever the text size.
    // No grid lines: the landscape's picture lies under them (the contour trace hid them).
    xaxis: { range: [xMin, xMax], title: { text: "x", standoff: scaled(4) }, zeroline: false,
      showgrid: false, constrain: "domain", automargin: true },
    yaxis: { range: [yMin, yMax], title: { text: "y", standoff: scaled(4) }, zeroline: false,
      showgrid: false, scaleanchor: "x", constrain: "domain", automargin: true },
    images: contourImages(),
    // At the figure's foot, whatever the plot's height (a legend a fixed fraction below the
    // axes ran into the x title on a phone).
    legend: { orientation: "h", xref: "container", x: 0.02, yref: "container", y: 0,
      yanchor: "bottom",
      font: { size: scaled(TEXT_PX.legend) } },
  };
}

// ---- the 3-D surface ----

// The scene's box: the landscape's view box and the surface grid's z range (view.js), once per
// landscape. The axes stay on it, so a path that escapes neither stretches them nor shrinks the
// surface to a patch.
function sceneBox() {
  scene.box3d ??= surfaceBox(scene.info.view_box, scene.surface.z);
  return scene.box3d;
}

// `row`'s 3-D path from point `from` up to (not including) point `to`, on the surface's own
// (possibly log) z scale, cut where it leaves the scene's box: NaN gaps, so Plotly draws no line
// outside (view.js clipPathToBox). With `from` > 0 it goes on from the point before, which is
// already on screen: the points to append to what is drawn.
export function surfacePath(row, to = row.x.length, from = 0) {
  const first = from > 0 ? from - 1 : 0;
  const path = { x: row.x.subarray(first, to), y: row.y.subarray(first, to),
    z: mapColumn(row.loss.subarray(first, to), lift) };
  return clipPathToBox(path, sceneBox(), from > 0);
}

function surfaceFigure(rows) {
  const { surface } = scene;
  const box = sceneBox();
  const paths = rows.map((row) => ({
    type: "scatter3d", mode: "lines", name: look.name(row), showlegend: false,
    legendgroup: legendGroup(row), visible: shown(row),
    ...surfacePath(row), connectgaps: false,
    line: { color: look.color(row), width: look.seeds > 1 ? 2 : 5 },
    opacity: look.seeds > 1 ? 0.5 : 1,
    hovertemplate: `<b>${look.name(row)}</b><br>x %{x:.4g}, y %{y:.4g}<extra></extra>`,
  }));
  const axis = (title, range, nticks) => ({ title: { text: title }, range, autorange: false,
    nticks });
  return {
    data: [
      { type: "surface", x: surface.x, y: surface.y, z: surface.z, name: "landscape",
        colorscale: LANDSCAPE_COLORSCALE, showscale: false, opacity: 0.92,
        contours: { z: { show: true, usecolormap: false, color: "rgba(40,60,90,0.3)",
          width: 1 } },
        hovertemplate: "(%{x:.3f}, %{y:.3f})<extra></extra>" },
      ...paths,
    ],
    layout: {
      ...baseLayout(), uirevision: scene.revision,
      margin: scaledMargin({ l: 0, r: 0, t: 36, b: 0 }),
      title: plotTitle("Surface"),
      scene: {
        xaxis: axis("x", box.x, 5), yaxis: axis("y", box.y, 5),
        zaxis: axis(surface.log ? "log f" : "f", box.z, 4),
        camera: { eye: { x: 1.05, y: -1.15, z: 0.75 } },
        // x:y as the landscape's box, the height a fixed share: the surface keeps its shape
        // whatever the div's size or the paths do.
        aspectmode: "manual", aspectratio: surfaceAspect(box),
      },
    },
  };
}

// ---- loss and distance vs step ----

// One line per row while streaming; median and 10-90% band per series once several seeds ran
// (every `every`-th step of it).
function metricTraces(rows, values, unit, every = 1) {
  if (look.seeds === 1 || !run?.done) {
    return rows.map((row) => ({
      type: "scatter", mode: "lines", name: look.name(row),
      legendgroup: legendGroup(row), showlegend: false, visible: shown(row),
      x: row.steps, y: values(row),
      ...metricLook(row),
      hovertemplate: `<b>${look.name(row)}</b><br>step %{x}<br>${unit} %{y:.4g}<extra></extra>`,
    }));
  }
  const groups = new Map();
  for (const row of rows) {
    const key = look.groupKey(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return [...groups.values()].flatMap((group) => {
    const band = seedBand(group, values, every);
    const color = look.color(group[0]);
    const name = look.name(group[0]);
    const common = { type: "scatter", mode: "lines", showlegend: false,
      legendgroup: legendGroup(group[0]), visible: shown(group[0]) };
    return [
      { ...common, x: band.steps, y: band.low,
        line: { width: 0, color }, hoverinfo: "skip", name: `${name} 10%` },
      { ...common, x: band.steps, y: band.high,
        fill: "tonexty", fillcolor: withAlpha(color, 0.18), line: { width: 0, color },
        hoverinfo: "skip", name: `${name} 90%` },
      { ...common, x: band.steps, y: band.median, meta: { role: "median" },
        name: `${name} median`, line: { color, width: 2.2, dash: look.dash(group[0]) },
        hovertemplate: `<b>${name}</b> median of ${group.length} seeds<br>step %{x}<br>`
          + `${unit} %{y:.4g}<extra></extra>` },
    ];
  });
}

function withAlpha(color, alpha) {
  if (color.startsWith("rgb(")) return color.replace("rgb(", "rgba(").replace(")", `,${alpha})`);
  const n = Number.parseInt(color.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function metricLayout(title, yTitle, logY) {
  return {
    ...baseLayout(), uirevision: scene.revision,
    // Room for the usual tick labels (10⁻¹⁶ on the left, the last step's half on the right), so
    // that automargin seldom moves the margins from one run to the next: each move makes Plotly
    // lay the figure out a second time.
    margin: scaledMargin({ l: 76, r: 28, t: 36, b: 40 }),
    title: plotTitle(title),
    // automargin: tick labels (the last step's, 10⁻¹⁵) and titles stay inside the div.
    xaxis: { title: { text: "step" }, zeroline: false, automargin: true },
    // No digits between the decades of a short log axis: at a large text size they pile up.
    yaxis: { title: { text: yTitle }, type: logY ? "log" : "linear", exponentformat: "power",
      minorloglabels: "none", automargin: true },
    showlegend: false,
  };
}

// ---- how rows are drawn: one trace each, or many at once ----

// A run with more rows or points than these is drawn "many": its Plotly figures hold one trace
// per group of rows (series x swept value, their rows joined with gaps), thinned to a budget of
// points, WebGL where the browser has it; while it streams or replays, canvases over the axes
// draw the paths, since Plotly would redraw a whole plot, the contour's landscape included, for
// each frame's few new points. Smaller runs keep one SVG trace per row, extended in place.
const ROWS_MODE_MAX_ROWS = 32;
const ROWS_MODE_MAX_ROW_POINTS = 5_000;
const ROWS_MODE_MAX_POINTS = 20_000;
// Points per plot of a "many" figure: WebGL draws a hundred thousand at once; SVG builds one
// path element per trace at a cost that grows with its points (the contour draws them twice:
// outline and path); 3-D lines are slow either way.
const GL_POINTS = 100_000;
const SVG_POINTS = 10_000;
const SURFACE_POINTS = 20_000;
// Where the WebGL is software, a 3-D redraw costs the page's main thread about 10 µs per point
// of its lines (building them) on top of rendering the surface: fewer points there.
const SOFTWARE_SURFACE_POINTS = 3_000;
// The loss and distance plots' seed bands (three curves per series), smooth at this many.
const BAND_POINTS = 3_000;
// A canvas redraws at most this many points at once (after a zoom, or a replay going back).
const LAYER_REDRAW_POINTS = 200_000;

let webgl = null;
// Whether "many" figures draw the rows, and how thinly (every `stride`-th point).
let many = false;
let stride = 1;
let surfaceStride = 1;
// The canvases over the contour, loss and distance plots (live-layer.js).
let layers = null;
// Whether each view's Plotly figure holds the rows' points (else its canvas draws them), and
// how many points of each row it holds (what streaming appends to).
const holdsRows = { contour: false, loss: false, distance: false };
const drawnCounts = { contour: [], loss: [], distance: [], surface: [] };
// The loss and distance plots' median traces (seed bands), where the replay's markers sit.
const bandMedians = { loss: [], distance: [] };
// The 3-D view's marker trace (each row's point at the shown step).
let surfaceMarker = -1;

// What WebGL this browser has: "hardware", "software" or "none". A software WebGL (SwiftShader,
// llvmpipe: headless chromium with --disable-gpu, a machine without a GPU driver) renders on the
// CPU, and the page then waits at every frame for the picture to be read back: slower than SVG.
export function webglKind() {
  if (webgl === null) {
    webgl = "none";
    try {
      const context = document.createElement("canvas").getContext("webgl",
        { failIfMajorPerformanceCaveat: true });
      if (context) {
        const info = context.getExtension("WEBGL_debug_renderer_info");
        const renderer = String(context.getParameter(info ? info.UNMASKED_RENDERER_WEBGL
          : context.RENDERER));
        webgl = /swiftshader|llvmpipe|softpipe|software/i.test(renderer) ? "software" : "hardware";
        context.getExtension("WEBGL_lose_context")?.loseContext(); // one context less held
      }
    } catch {
      webgl = "none";
    }
  }
  return webgl;
}

// Whether "many" figures are WebGL traces (scattergl): only where a GPU draws them. Elsewhere
// they are SVG traces (scatter) thinned to a smaller budget of points.
export function webglAvailable() {
  return webglKind() === "hardware";
}

function manyType() {
  return webglAvailable() ? "scattergl" : "scatter";
}

// Whether the contour's canvas keeps a "many" run's paths once it is done, as it drew them
// while they streamed: where the figures are SVG (no GPU), Plotly would build each path twice
// (outline and path) at the finish and again for each move of a fan's slider, a task of 50 to
// 120 ms for a long run, where the canvas has every point drawn already. The figure then holds
// each group's points for hover only (no line drawn), and the canvas marks the ends, the
// global minima, the start and a fan's highlighted path above the paths.
function pathsOnCanvas() {
  return many && !webglAvailable();
}

// Whether the views show the finished run whole (no replay step).
function wholeRunShown() {
  return Boolean(run?.done) && view.step === null;
}

function chooseDrawing(rows, pointsPerRow) {
  const perRow = pointsPerRow ?? rows.reduce((most, row) => Math.max(most, row.steps.length), 0);
  many = rows.length > ROWS_MODE_MAX_ROWS || perRow > ROWS_MODE_MAX_ROW_POINTS
    || rows.length * perRow > ROWS_MODE_MAX_POINTS;
  stride = displayStride(rows.length, perRow, webglAvailable() ? GL_POINTS : SVG_POINTS);
  surfaceStride = displayStride(rows.length, perRow,
    webglAvailable() ? SURFACE_POINTS : SOFTWARE_SURFACE_POINTS);
  divs.contour.dataset.drawing = many ? "many" : "rows";
}

// The loss and distance plots' values of each row (display loss, floored distance), computed
// once per point as points arrive, not again for every frame or redraw.
const derivedColumns = new WeakMap();

function derived(row) {
  const source = row.source ?? row;
  let entry = derivedColumns.get(source);
  if (!entry || entry.scene !== scene) {
    entry = { scene, loss: new GrowableColumn(Float64Array),
      distance: scene.info.global_minima.length ? new GrowableColumn(Float64Array) : null };
    derivedColumns.set(source, entry);
  }
  const have = entry.loss.length;
  const total = source.loss.length;
  if (total > have) {
    entry.loss.append(mapColumn(source.loss.subarray(have, total), lossValue));
    entry.distance?.append(distances(source, have));
  }
  const count = row.steps.length; // a cut row's own length
  // The same views while nothing changed (frames ask for them many times over).
  if (entry.views?.count !== count || entry.views.total !== total) {
    entry.views = { count, total, loss: entry.loss.view().subarray(0, count),
      distance: entry.distance ? entry.distance.view().subarray(0, count) : null };
  }
  return entry.views;
}

// `row` up to its first `count` points (views, no copies); `source` leads back to the row.
function cutRow(row, count) {
  if (count >= row.steps.length) return row;
  const cut = { ...row, source: row };
  for (const name of COLUMNS) cut[name] = row[name]?.subarray(0, count);
  return cut;
}

// How many points of each row the view shows.
function viewCounts(rows) {
  return rows.map((row) => (view.step === null ? row.steps.length
    : pointsUpTo(row.steps, view.step)));
}

// Whether `row` has ended by the step shown: it stopped before the run's last step (it
// diverged) and the view has reached its last point; the whole run shows every row's end.
function endedInView(row) {
  if (!row.steps.length) return false;
  if (view.step === null) return true;
  const last = row.steps[row.steps.length - 1];
  const stopped = run.done ? last < run.meta.steps : hasEnded(row.source ?? row);
  return stopped && last <= view.step;
}

// The rows of each legend group (series x swept value) as indices into `rows`, in order.
function groupsOf(rows) {
  const groups = new Map();
  rows.forEach((row, index) => {
    const key = look.groupKey(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(index);
  });
  return [...groups.values()];
}

// The columns a group's stand-in row can join: a row's own, and its loss and distance as the
// plots show them.
const GROUP_COLUMNS = {
  steps: (row) => row.steps, x: (row) => row.x, y: (row) => row.y, loss: (row) => row.loss,
  lossShown: (row) => derived(row).loss, distance: (row) => derived(row).distance,
};
// What each view draws of a group.
const PATH_COLUMNS = ["steps", "x", "y"];
const SURFACE_COLUMNS = ["x", "y", "loss"];

// One stand-in row per group for "many" figures: its first row's identity, and its rows' points
// (each cut at counts[i], every `every`-th kept) joined with gaps, in the columns `names`
// (GROUP_COLUMNS; the others are null). Only what the figure draws: the contour's paths at a
// long run's start need no loss nor distance, which take a pass over every point received.
function joinedGroups(rows, counts, every, names) {
  const wanted = scene.info.global_minima.length > 0 ? names
    : names.filter((name) => name !== "distance");
  return groupsOf(rows).map((members) => {
    const joined = joinRows(wanted.map((name) => members.map((i) => GROUP_COLUMNS[name](rows[i]))),
      members.map((i) => counts[i]), every);
    const group = { ...rows[members[0]], rows: members.map((i) => rows[i].row), result: null };
    delete group.source;
    for (const name of [...COLUMNS, ...Object.keys(GROUP_COLUMNS)]) group[name] = null;
    wanted.forEach((name, k) => { group[name] = joined[k]; });
    return group;
  });
}

// Whether a row (or group) gets a legend entry: not a fan's members (main.js), which the fan's
// curve and slider name.
function inLegend(row) {
  return look.inLegend?.(row) ?? true;
}

// A group's path on the contour ("many" figures), WebGL where the browser has it; its hover
// names the step (a [step, loss] pair per point would cost a frame's worth of allocations).
// While the canvas draws the paths the trace holds one gap, which keeps its legend entry (and
// the plot's size) as it will be.
function groupPathTrace(group) {
  const rows = group.rows.length;
  const empty = group.x.length === 0;
  return {
    type: manyType(), mode: "lines", name: look.name(group), uid: `path-${group.row}`,
    meta: { role: "path", row: group.row, rows: group.rows },
    legendgroup: legendGroup(group), showlegend: inLegend(group),
    visible: shown(group) ? true : "legendonly",
    x: empty ? [null] : group.x, y: empty ? [null] : group.y,
    customdata: empty ? [null] : group.steps,
    ...pathLook(group),
    hovertemplate: `<b>${look.name(group)}</b>${rows > 1 ? ` (${rows} rows)` : ""}<br>`
      + "step %{customdata}<br>x %{x:.4g}, y %{y:.4g}<extra></extra>",
  };
}

// A group's points for hover only ("many" figures whose paths the canvas draws): a trace with
// no line nor marker costs Plotly no drawing, and its hover names the step as the path's did.
function groupHoverTrace(group) {
  return { ...groupPathTrace(group), mode: "none", uid: `hover-${group.row}`, showlegend: false,
    meta: { role: "hover", row: group.row, rows: group.rows } };
}

// The white line under every shown row's path, wider than the paths, one trace for all: the
// paths keep their contrast on dark and light parts of the landscape alike. `rowStride`: the
// paths' own ("many" figures thin them; rows drawn one trace each are drawn whole).
function joinedOutlineTrace(rows, counts, rowStride = stride) {
  const picked = rows.flatMap((row, i) => (shown(row) ? [i] : []));
  const [x, y] = joinRows([picked.map((i) => rows[i].x), picked.map((i) => rows[i].y)],
    picked.map((i) => counts[i]), rowStride);
  return {
    // The paths' own kind: WebGL where "many" paths use it, SVG under SVG paths.
    type: many ? manyType() : "scatter", mode: "lines", name: "outline", uid: "outline-all",
    meta: { role: "outline", rows: picked.map((i) => rows[i].row) },
    showlegend: false, hoverinfo: "skip", x, y, ...outlineLook(),
  };
}

// Each shown row that is still going at the step shown, and its point there (a row that has
// ended shows its end marker instead).
function markedRows(rows, counts) {
  if (view.step === null) return [];
  return rows.flatMap((row, i) => (counts[i] > 0 && shown(row) && !endedInView(row)
    ? [{ row, k: counts[i] - 1 }] : []));
}

// The replay's markers on the contour when its rows are drawn one trace each (the canvas marks
// them otherwise).
function contourMarked(rows, counts) {
  if (view.live || many || !run?.done) return [];
  return markedRows(rows, counts);
}

function replayMarkerTrace(rows, counts) {
  const marked = contourMarked(rows, counts);
  return { type: "scatter", mode: "markers", name: "at the shown step", showlegend: false,
    hoverinfo: "skip", x: marked.map(({ row, k }) => row.x[k]),
    y: marked.map(({ row, k }) => row.y[k]),
    marker: { size: 10, color: marked.map(({ row }) => look.color(row)),
      line: { color: "#ffffff", width: 2 } } };
}

// ---- whole redraws ----

// `style`: {color(row), name(row), groupKey(row), firstOfGroup(row), refreshes(row), seeds}.
// `newRun.pointsPerRow` (points each row will have: its request's max_points) decides how its
// rows are drawn. A new run that is not done yet is shown live from step 0 (setLiveStep moves
// it). Every view follows at the next frames, one Plotly call per task (each a whole redraw of
// its plot): a task that redrew them all at once took hundreds of milliseconds.
export function drawRun(newRun, style) {
  const sameRun = Boolean(run && newRun && run.meta === newRun.meta);
  run = newRun;
  look = style;
  const rows = run?.rows ?? [];
  // Groups hidden from the legend stay hidden while the runs keep the same series.
  const signature = seriesSignature(rows);
  if (rows.length && signature !== hiddenSignature) {
    hidden = new Set();
    hiddenSignature = signature;
  }
  if (!sameRun) {
    view = run && !run.done ? { step: 0, live: true } : { step: null, live: false };
    chooseDrawing(rows, run?.pointsPerRow);
    for (const name of Object.keys(drawnCounts)) drawnCounts[name] = [];
    for (const layer of Object.values(layers)) {
      layer.clear();
      layer.shownView = null;
    }
  } else if (run.done && view.live) {
    view = { step: null, live: false };
  }
  lookKey = JSON.stringify([look.seeds, rows.map((row) => (shown(row) ? look.color(row) : null))]);
  for (const name of VIEWS) need(name, "figure");
}

// Whether the contour's figure was drawn for the finished run whole (wholeRunShown).
let contourWhole = false;

function drawContour() {
  const rows = run?.rows ?? [];
  // While rows stream one trace each, the figure holds none of their points: the canvas draws
  // them (liveViews), and the figure takes them whole once the run is done or stopped.
  const counts = view.live && !many ? rows.map(() => 0) : viewCounts(rows);
  holdsRows.contour = !many || (wholeRunShown() && !pathsOnCanvas());
  contourWhole = wholeRunShown();
  const figure = contourTraces(rows, counts, holdsRows.contour);
  ({ firstPath, endTrace, startTrace, highlightTrace, replayTrace } = figure);
  drawnCounts.contour = counts;
  Plotly.react(divs.contour, figure.data, contourLayout(), config("contour"));
  bindContourEvents();
  bindLandscapeHover();
  bindLayer(divs.contour);
  if (holdsRows.contour) layers.contour.clearLines();
}

// The contour's traces for `rows` cut at `counts`, with their paths (`withPaths`) or with the
// canvas drawing them, and the indices of the traces that later updates restyle.
function contourTraces(rows, counts, withPaths) {
  const data = [];
  const done = Boolean(run?.done);
  let firstPathIndex;
  if (many) {
    const held = withPaths ? counts : counts.map(() => 0);
    data.push(joinedOutlineTrace(rows, held));
    firstPathIndex = data.length;
    data.push(...joinedGroups(rows, held, stride, PATH_COLUMNS).map(groupPathTrace));
    if (!withPaths && wholeRunShown()) {
      data.push(...joinedGroups(rows, counts, stride, PATH_COLUMNS).map(groupHoverTrace));
    }
  } else {
    // One outline for all rows: a trace costs Plotly about a millisecond of every redraw.
    data.push(joinedOutlineTrace(rows, counts, 1));
    firstPathIndex = data.length;
    data.push(...rows.map((row, i) => pathTrace(cutRow(row, counts[i]), i)));
  }
  // End markers: every replayed step of rows drawn one trace each; the whole run otherwise
  // (in a replay of "many" rows the canvas marks the ends reached).
  let endIndex = -1;
  if (done && (!many || wholeRunShown())) {
    const shownRows = rows.filter(shown);
    endIndex = data.length;
    data.push(...contourMarkers(shownRows, shownRows.filter(endedInView)));
  } else {
    // The refreshes' legend entry from the start, as the groups' (pathTrace).
    const refreshing = rows.find((row) => shown(row) && look.refreshes(row));
    if (refreshing) data.push(refreshLegendTrace(look.color(refreshing)));
  }
  const startIndex = data.length + 1;
  data.push(...contourPoints());
  const highlightIndex = done ? data.length + 1 : -1;
  if (done) data.push(...highlightTraces(withPaths ? fanHighlight : null));
  const replayIndex = done ? data.length : -1;
  if (done) data.push(replayMarkerTrace(rows, counts));
  return { data, firstPath: firstPathIndex, endTrace: endIndex, startTrace: startIndex,
    highlightTrace: highlightIndex, replayTrace: replayIndex };
}

// The contour as a PNG (the modebar's camera). Where the canvas draws the paths, the image is
// Plotly's figure with them as traces (thinned as the display's budget says), drawn off the
// page by Plotly's toImage: a canvas over the plot is not part of Plotly's picture.
async function downloadContourImage(div) {
  const options = config("contour").toImageButtonOptions;
  if (holdsRows.contour || !run?.done) {
    await Plotly.downloadImage(div, options);
    return;
  }
  const rows = run.rows;
  const { data } = contourTraces(rows, viewCounts(rows), true);
  const { width, height } = div._fullLayout;
  const url = await Plotly.toImage({ data, layout: div.layout },
    { format: options.format, width, height, scale: options.scale });
  // Read by tests: the traces the picture was drawn from.
  div.imageFigure = data.map((trace) => ({ role: trace.meta?.role ?? trace.uid ?? trace.name,
    points: trace.x?.length ?? 0 }));
  const link = document.createElement("a");
  link.href = url;
  link.download = `${options.filename}.png`;
  link.click();
}

function drawMetric(name) {
  const isLoss = name === "loss";
  const rows = run?.rows ?? [];
  const unit = isLoss ? "loss" : "distance";
  const layout = isLoss
    ? metricLayout("Loss vs step", lossAxisTitle(), scene.fStar !== null)
    : metricLayout("Distance to the nearest minimum", DISTANCE_AXIS_TITLE, true);
  const values = (row) => (isLoss ? derived(row).loss : derived(row).distance);
  const groupValues = (group) => (isLoss ? group.lossShown : group.distance);
  const metricColumns = ["steps", isLoss ? "lossShown" : "distance"];
  let data = [];
  holdsRows[name] = true;
  if (!isLoss && !scene.info.global_minima.length) {
    layout.annotations = [{ text: "This landscape has no known global minimum.",
      showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }];
  } else if (!many) {
    // Streaming: the points shown so far (appended to as the run goes on); done: every point
    // (a replay marks its step on the whole curves).
    const counts = run?.done ? rows.map((row) => row.steps.length) : viewCounts(rows);
    data = metricTraces(rows.map((row, i) => cutRow(row, counts[i])), values, unit);
    drawnCounts[name] = counts;
  } else if (run?.done) {
    const counts = rows.map((row) => row.steps.length);
    const longest = Math.max(...counts);
    const bandEvery = displayStride(3 * groupsOf(rows).length, longest, BAND_POINTS);
    data = look.seeds > 1 ? metricTraces(rows, values, unit, bandEvery)
      : metricTraces(joinedGroups(rows, counts, stride, metricColumns), groupValues, unit)
        .map((trace) => ({ ...trace, type: manyType() }));
  } else {
    // The canvas draws the streaming rows: the axes hold the whole run's steps and the values
    // seen so far (keepLiveRange widens them).
    holdsRows[name] = false;
    data = metricTraces(joinedGroups(rows, rows.map(() => 0), 1, metricColumns), groupValues, unit)
      .map((trace) => ({ ...trace, type: manyType() }));
    layout.xaxis.range = [0, run?.meta.steps ?? 1];
    layout.xaxis.autorange = false;
    const extent = liveExtent(name);
    if (extent.range) {
      layout.yaxis.range = extent.range;
      layout.yaxis.autorange = false;
    }
  }
  bandMedians[name] = data.filter((trace) => trace.meta?.role === "median");
  // A fan's highlighted path (highlightPath), last: no other trace moves.
  metricHighlight[name] = run?.done && look.highlight ? data.length : -1;
  if (metricHighlight[name] >= 0) data.push(metricHighlightTrace(name));
  Plotly.react(divs[name], data, layout, config(name));
  bindLayer(divs[name]);
  if (holdsRows[name]) layers[name].clearLines();
}

function drawSurface() {
  const rows = run?.rows ?? [];
  const counts = viewCounts(rows);
  // "Many" rows reach the 3-D view once the run is done (a 3-D redraw per frame would freeze
  // the page), and so do all rows where the 3-D view does not follow the stream (liveViews).
  const held = !liveViews().includes("surface") && view.live ? counts.map(() => 0) : counts;
  const display = many ? joinedGroups(rows, held, surfaceStride, SURFACE_COLUMNS)
    : rows.map((row, i) => cutRow(row, held[i]));
  const surface = surfaceFigure(display);
  surfaceMarker = surface.data.length;
  surface.data.push(surfaceMarkerTrace(rows, counts));
  drawnCounts.surface = held;
  Plotly.react(divs.surface, surface.data, surface.layout, config("surface"));
}

// Each shown row's point at the replay's step on the 3-D view, where it lies inside the box.
function surfaceMarkerTrace(rows, counts) {
  const box = sceneBox();
  const inside = (value, [lo, hi]) => value >= lo && value <= hi;
  const marked = view.live || !run?.done ? []
    : markedRows(rows, counts).flatMap(({ row, k }) => {
      const z = lift(row.loss[k]);
      return inside(row.x[k], box.x) && inside(row.y[k], box.y) && inside(z, box.z)
        ? [{ row, k, z }] : [];
    });
  return { type: "scatter3d", mode: "markers", name: "at the shown step", showlegend: false,
    hoverinfo: "skip", x: marked.map(({ row, k }) => row.x[k]),
    y: marked.map(({ row, k }) => row.y[k]), z: marked.map(({ z }) => z),
    marker: { size: 5, color: marked.map(({ row }) => look.color(row)),
      line: { color: "#ffffff", width: 1 } } };
}

// ---- the legend: a group of rows hidden or shown in every view ----

// `callback()` after the legend hid or showed a group (the page redraws); without one the
// plots redraw themselves.
export function onVisibilityChange(callback) {
  visibilityListener = callback;
}

// The group keys of the rows on screen and which of them the legend hides.
export function legendState() {
  const keys = [...new Set((run?.rows ?? []).map((row) => look.groupKey(row)))];
  return { keys, hidden: keys.filter((key) => hidden.has(key)) };
}

function setHidden(next) {
  hidden = next;
  if (visibilityListener) {
    visibilityListener();
  } else if (run) {
    drawRun(run, look);
  }
}

function groupOfLegendEvent(event) {
  const group = event.group ?? event.fullData?.[event.curveNumber]?.legendgroup ?? "";
  return group.startsWith(GROUP_PREFIX) ? group.slice(GROUP_PREFIX.length) : null;
}

// A click toggles its group in every view after Plotly's double-click delay (a double click
// isolates the group instead); other legend entries (minima, start, refreshes) are Plotly's.
function onLegendClick(event) {
  const key = groupOfLegendEvent(event);
  if (key === null) return true;
  clearTimeout(legendTimer);
  const delay = divs.contour._context?.doubleClickDelay ?? 300;
  legendTimer = setTimeout(() => setHidden(toggleGroup(hidden, key)), delay);
  return false;
}

function onLegendDoubleClick(event) {
  const key = groupOfLegendEvent(event);
  if (key === null) return true;
  clearTimeout(legendTimer);
  setHidden(isolateGroup(hidden, key, legendState().keys));
  return false;
}

// ---- keeping every view up to date, one Plotly update per task ----

// Plotly redraws a whole plot for any change (the contour's landscape included), so while a run
// streams or a replay plays each task updates at most one plot, in turn; the canvases (cheap)
// follow every frame. While rows stream, a canvas draws what a plot's traces do not hold yet,
// so each plot takes the new points over only every LIVE_INTERVAL_MS; the 3-D view (no canvas,
// slowest to redraw) follows every SURFACE_INTERVAL_MS.
const VIEWS = ["contour", "loss", "distance", "surface"];
// Whole figures, in the order they are drawn: the views, then a fan's final-loss curve.
const FIGURES = [...VIEWS, "gamma"];
const LIVE_INTERVAL_MS = 250;
const SURFACE_INTERVAL_MS = 400;
// What each view still needs: "figure" (a whole Plotly.react) or "step" (its rows brought to
// the view's step: streamed points appended, paths cut and markers moved in a replay).
const pending = new Map();
let rotation = 0;
let lastStepWork = null;
let workQueued = false;
// What the canvases' paths depend on besides the step: the rows shown and their colours
// (drawRun sets it); a canvas drawn with another one is redrawn whole.
let lookKey = "";
// When each view last took a step update (performance.now()).
const lastStepUpdate = new Map();
let playing = false;
let settleWaiters = [];
// Work that runs in a task of its own, right after the frame that chose it.
const taskChannel = new MessageChannel();
const taskQueue = [];
taskChannel.port1.onmessage = () => taskQueue.shift()?.();

function runInTask(work) {
  taskQueue.push(work);
  taskChannel.port2.postMessage(null);
}

// Whether view `name` is on the page, not in a part of it that is hidden (the trajectories'
// views while a map or phase diagram shows, the 2-D view while the Networks view does), and,
// for the 3-D view, on screen (watchScreen), as the observers last said (frameWork checks a
// view it chose once more). Work for a view that is not waits until it is (watchPlotSizes and
// watchScreen see it come back): no figure is drawn only to be hidden or scrolled past, which
// for the 3-D view is up to a second of the main thread.
function displayed(name) {
  if (!boxed.has(divs[name])) return false;
  return !ON_SCREEN_ONLY.includes(name) || onScreen.has(name);
}

// Whether a view on the page has work left.
function workOnPage() {
  for (const name of pending.keys()) if (displayed(name)) return true;
  return false;
}

function need(name, what) {
  if (pending.get(name) !== "figure") pending.set(name, what);
  // Said on the div too (data-pending): scripts and tests see what a view waits to draw.
  divs[name].dataset.pending = pending.get(name);
  requestWork();
}

function requestWork() {
  if (workQueued) return;
  workQueued = true;
  requestAnimationFrame(frameWork);
}

function frameWork(now) {
  workQueued = false;
  if (!divs || !scene || !look) {
    settle();
    return;
  }
  drawLayers();
  const chosen = chooseWork(now);
  if (!chosen.length) {
    if (workOnPage()) requestWork(); // a view waits out its interval
    else settle();
    return;
  }
  runInTask(() => {
    try {
      for (const name of chosen) {
        // The observer speaks once a frame is laid out: a part hidden since (a map shown) is
        // found here, where the plot's redraw would lay the page out anyway, and its view
        // waits until the observer sees it back.
        if (divs[name].getClientRects().length) runWork(name);
        else boxed.delete(divs[name]);
      }
    } finally {
      if (workOnPage()) requestWork();
      else settle();
    }
  });
}

// Whole figures one per task, the contour first; step updates one per task, in turn, while a
// run streams or a replay plays, and all at once otherwise (a seek, a pause).
function chooseWork(now) {
  const interval = (name) => (name === "surface" ? SURFACE_INTERVAL_MS
    : view.live ? LIVE_INTERVAL_MS : 0);
  const ready = (name) => pending.has(name) && displayed(name) && (pending.get(name) === "figure"
    || now - (lastStepUpdate.get(name) ?? -Infinity) >= interval(name));
  const figure = FIGURES.find((name) => pending.get(name) === "figure" && displayed(name));
  if (figure) return [figure];
  if (!view.live && !playing) return VIEWS.filter(ready);
  // The contour (the view people watch) every other turn, the others in turn between.
  if (ready("contour") && lastStepWork !== "contour") {
    lastStepWork = "contour";
    return ["contour"];
  }
  const others = VIEWS.slice(1);
  for (let k = 0; k < others.length; k++) {
    const name = others[(rotation + k) % others.length];
    if (ready(name)) {
      rotation = (others.indexOf(name) + 1) % others.length;
      lastStepWork = name;
      return [name];
    }
  }
  if (ready("contour")) return ["contour"];
  return [];
}

function runWork(name) {
  const what = pending.get(name);
  pending.delete(name);
  delete divs[name].dataset.pending;
  if (what === "figure") {
    if (name === "contour") drawContour();
    else if (name === "surface") drawSurface();
    else if (name === "gamma") drawFanCurveNow();
    else drawMetric(name);
  } else if (run && (run.done || liveViews().includes(name))) {
    // A step asked for a finished run's replay can find a new run streaming by its turn: a
    // view that does not follow streams (the 3-D one in software WebGL) takes it whole at the
    // end instead.
    updateStep(name);
  }
  lastStepUpdate.set(name, performance.now());
}

function settle() {
  if (pictureWanted) {
    requestLandscapeImage(pictureWanted);
    pictureWanted = null;
  }
  if (barWanted && scene && divs?.contour.data) {
    // In a task of its own (the last figure's may have been long already); settled after it.
    barWanted = false;
    runInTask(() => {
      if (pending.get("contour") !== "figure") {
        landscapeBarImage({ paint: true });
        Plotly.relayout(divs.contour, { images: contourImages() });
      }
      if (workOnPage()) requestWork();
      else settle();
    });
    return;
  }
  const waiters = settleWaiters;
  settleWaiters = [];
  for (const resolve of waiters) resolve();
}

// Resolves once every view on the page shows what it should (the last redraw or step has
// reached it); a hidden view catches up when shown.
export function settled() {
  if (!workOnPage() && !workQueued) return Promise.resolve();
  return new Promise((resolve) => settleWaiters.push(resolve));
}

function updateStep(name) {
  if (many) {
    if (name === "contour" && contourWhole !== wholeRunShown()) {
      drawContour(); // into or out of a replay: the canvas takes over the paths, or gives back
    } else if (name === "surface" && run.done) {
      restyleSurfaceStep();
    } else if (name !== "contour" && name !== "surface" && !run.done) {
      keepLiveRange(name);
    }
    return;
  }
  if (!run.done) extendView(name);
  else if (name === "contour") restyleContourStep();
  else if (name === "surface") restyleSurfaceStep();
}

// ---- streaming: points appear as they are revealed ----

// The views whose Plotly figures follow a streaming run step by step: the loss and distance
// plots (their axes only, with "many" rows: canvases draw the paths), and, for rows drawn one
// trace each, the 3-D view where a GPU draws it. The contour's canvas draws every streaming
// run's paths, and its figure takes them when the run is done (or stopped): a contour redraw
// (its landscape, legend, and a path and an outline per row) took 20-35 ms on an idle machine,
// 40-90 ms beside the server, several times a second. A software WebGL (SwiftShader: headless
// chromium with --disable-gpu, machines without a GPU driver) holds the page's next frame for
// 50-250 ms after every change of the 3-D view while it renders the surface, whatever the
// grid's resolution or the canvas's pixel ratio (measured): there the 3-D view takes the paths
// once, when the run is done.
function liveViews() {
  if (many || !webglAvailable()) return ["loss", "distance"];
  return ["loss", "distance", "surface"];
}

// Show the streaming run up to `step` (main.js moves it at its pace as chunks arrive).
export function setLiveStep(step) {
  if (!run || run.done) return;
  view = { step, live: true };
  for (const name of liveViews()) need(name, "step");
  requestWork();
}

// The run stopped streaming (cancelled): what is shown stays, at the step it reached.
export function stopLive() {
  if (!view.live) return;
  view = { step: view.step, live: false };
  // A 3-D view that did not follow the stream shows what was drawn of it, and the contour's
  // figure takes the paths its canvas drew (their hover) where it holds rows.
  if (!liveViews().includes("surface")) need("surface", "figure");
  if (!many) need("contour", "figure");
  requestWork();
}

// Rows drawn one trace each: hand Plotly each row's points since the last update of this view
// (views of the row's columns: no copies, no history re-mapped). The views that follow a stream
// (liveViews): the contour's canvas draws its paths instead.
function extendView(name) {
  const div = divs[name];
  if (!div.data) return;
  const rows = run.rows;
  const counts = viewCounts(rows);
  const drawn = drawnCounts[name];
  const fresh = rows.flatMap((row, r) => (counts[r] > (drawn[r] ?? 0) ? [r] : []));
  if (!fresh.length) return;
  const from = (r) => drawn[r] ?? 0;
  const slice = (r, column) => column.subarray(from(r), counts[r]);
  if (name === "surface") {
    const parts = fresh.map((r) => surfacePath(rows[r], counts[r], from(r)));
    Plotly.extendTraces(div, { x: parts.map((part) => part.x), y: parts.map((part) => part.y),
      z: parts.map((part) => part.z) }, fresh.map((r) => r + 1));
  } else if (name === "loss" || scene.info.global_minima.length) {
    const values = (r) => (name === "loss" ? derived(rows[r]).loss : derived(rows[r]).distance);
    Plotly.extendTraces(div, { x: fresh.map((r) => slice(r, rows[r].steps)),
      y: fresh.map((r) => slice(r, values(r))) }, fresh);
  }
  for (const r of fresh) drawn[r] = counts[r];
}

// The y range of a "many" loss or distance plot while its canvas draws the streaming rows.
const liveExtents = { loss: null, distance: null };

function liveExtent(name) {
  if (liveExtents[name]?.meta !== run?.meta) {
    liveExtents[name] = { meta: run?.meta, min: Infinity, max: -Infinity, scanned: [],
      range: null };
  }
  return liveExtents[name];
}

// Widen the axis when the values shown leave it (rarely: the range has room to spare).
function keepLiveRange(name) {
  const isLoss = name === "loss";
  if (!isLoss && !scene.info.global_minima.length) return;
  const log = isLoss ? scene.fStar !== null : true;
  const extent = liveExtent(name);
  const counts = viewCounts(run.rows);
  run.rows.forEach((row, r) => {
    const values = isLoss ? derived(row).loss : derived(row).distance;
    for (let i = extent.scanned[r] ?? 0; i < counts[r]; i++) {
      const value = values[i];
      if (!Number.isFinite(value) || (log && value <= 0)) continue;
      if (value < extent.min) extent.min = value;
      if (value > extent.max) extent.max = value;
    }
    extent.scanned[r] = Math.max(extent.scanned[r] ?? 0, counts[r]);
  });
  if (extent.min > extent.max) return;
  if (extent.range && rangeHolds(extent.range, extent.min, extent.max, log)) return;
  extent.range = paddedRange(extent.min, extent.max, log);
  Plotly.relayout(divs[name], { "yaxis.range": extent.range, "yaxis.autorange": false });
}

// ---- the canvases over the contour, loss and distance plots ----

const boundLayers = new WeakSet();

// Plotly redrew `div` (a zoom, a pan, a new size): its canvas follows at the next frame.
function bindLayer(div) {
  if (boundLayers.has(div) || !div.on) return;
  boundLayers.add(div);
  div.on("plotly_afterplot", requestWork);
}

function drawLayers() {
  for (const name of ["contour", "loss", "distance"]) drawLayer(name);
}

// A row's points on `name`'s axes.
function layerColumns(name, row) {
  if (name === "contour") return { x: row.x, y: row.y };
  const values = derived(row);
  return { x: row.steps, y: name === "loss" ? values.loss : values.distance };
}

function drawLayer(name) {
  const layer = layers[name];
  // A whole figure on its way: the canvas stays as it is until the figure is drawn (a canvas
  // cleared now would leave the plot without paths for a frame).
  if (!divs[name].data || pending.get(name) === "figure") return;
  const { ready, changed } = layer.sync();
  if (!ready) return;
  const rows = run?.rows ?? [];
  if (!run || (name === "distance" && !scene.info.global_minima.length)) {
    layer.clear();
    return;
  }
  // Rows drawn one trace each while the run streams: the loss and distance plots take their
  // turn to append points (a few times a second where a redraw is slow), the contour's figure
  // none (liveViews); the canvas draws the stretch of each path a figure does not hold yet, so
  // the paths move on every frame.
  const bridging = !many && !run.done && name !== "surface";
  const held = bridging ? drawnCounts[name] : [];
  const heldPoints = bridging ? held.reduce((sum, count) => sum + count, 0) : 0;
  // Nothing moved since the canvas was last drawn: leave it (a canvas redrawn costs its
  // rasterisation at the frame's commit, even when it looks the same).
  const shownView = `${view.step}|${view.live}|${holdsRows[name]}|${heldPoints}`;
  if (!changed && layer.lookKey === lookKey && layer.shownView === shownView) return;
  layer.shownView = shownView;
  const counts = viewCounts(rows);
  if ((many && !holdsRows[name]) || bridging) {
    const faint = look.seeds > 1;
    const contour = name === "contour";
    // The canvas starts again from what the figure holds when that changed (the figure took
    // points over); else it goes on from its last points.
    let redraw = changed || layer.lookKey !== lookKey
      || (bridging && layer.heldPoints !== heldPoints);
    layer.heldPoints = heldPoints;
    // Translucent paths: each legend group on a canvas tier of its own (live-layer.js).
    const tiers = new Array(rows.length).fill(0);
    if (faint) groupsOf(rows).forEach((members, g) => members.forEach((i) => { tiers[i] = g; }));
    const paths = rows.flatMap((row, i) => {
      if (!shown(row)) return [];
      if (counts[i] < (layer.drawn.get(row.row) ?? 0)) redraw = true; // a replay went back
      const { x, y } = layerColumns(name, row);
      // As the figure's traces draw it (dashes aside).
      const { line, opacity } = contour ? pathLook(row) : metricLook(row);
      return [{ key: row.row, x, y, count: counts[i], color: line.color, width: line.width,
        opacity, tier: tiers[i], held: held[i] ?? 0 }];
    });
    if (redraw) {
      layer.clearLines();
      // Bridging: only what Plotly's traces do not hold yet, from their last point on.
      for (const path of paths) if (path.held) layer.drawn.set(path.key, path.held);
    }
    const total = paths.reduce((sum, path) => sum + path.count, 0);
    const outline = outlineLook();
    layer.extendLines(paths, {
      stride: displayStride(1, total, LAYER_REDRAW_POINTS),
      outlineWidth: outline.line.width, outlineOpacity: outline.opacity,
    });
  } else if (layer.linePoints) {
    layer.clearLines();
  }
  layer.lookKey = lookKey;
  layer.drawMarks(layerMarks(name, rows, counts));
}

// What a canvas marks at the shown step: on the contour, each row's current point and the end
// of each row that has ended (Plotly's traces do it for a replay of rows drawn one trace each),
// and where the canvas draws the paths, the start, the global minima and a fan's highlighted
// path above them (as the figure orders them); on the loss and distance plots, each row's (or
// each seed band's median) value and, in a replay, a line at the step.
function layerMarks(name, rows, counts) {
  const contour = name === "contour";
  if (view.step === null && !(contour && !holdsRows.contour)) return {};
  const heads = [];
  const ends = [];
  if (contour) {
    if (!many && run.done) return {};
    rows.forEach((row, i) => {
      if (!shown(row) || !counts[i]) return;
      const k = counts[i] - 1;
      const point = { x: row.x[k], y: row.y[k], color: look.color(row) };
      if (endedInView(row)) ends.push(point);
      else heads.push(point);
    });
    const path = run.done ? fanHighlight?.path : null;
    // The figure's divergence and refresh markers lie under the canvas: marked again above it.
    const shownRows = rows.filter(shown);
    const [, divergedTrace, refreshTrace] = run.done
      ? contourMarkers(shownRows, shownRows.filter(endedInView))
      : [null, { x: [] }, { x: [] }];
    return { heads, ends, start: { x: scene.start[0], y: scene.start[1] },
      diverged: divergedTrace.x.map((x, i) => ({ x, y: divergedTrace.y[i],
        text: divergedTrace.text[i] })),
      refreshes: refreshTrace.x.map((x, i) => ({ x, y: refreshTrace.y[i],
        color: refreshTrace.marker.color[i] })),
      font: `${scaled(TEXT_PX.label)}px ${FONT.family}`,
      minima: scene.info.global_minima.map((m) => ({ x: m.point[0], y: m.point[1] })),
      highlight: path ? { x: path.x, y: path.y, color: fanHighlight.color ?? "#000000",
        casing: HIGHLIGHT_CASING } : null };
  }
  const bands = run.done && look.seeds > 1 && holdsRows[name];
  const sources = bands
    ? bandMedians[name].filter((trace) => trace.visible !== false)
      .map((trace) => ({ x: trace.x, y: trace.y, color: trace.line.color }))
    : rows.flatMap((row) => (shown(row) && !endedInView(row)
      ? [{ ...layerColumns(name, row), color: look.color(row) }] : []));
  for (const source of sources) {
    const k = pointsUpTo(source.x, view.step) - 1;
    if (k >= 0 && Number.isFinite(source.y[k])) {
      heads.push({ x: source.x[k], y: source.y[k], color: source.color });
    }
  }
  return { heads, step: view.live ? null : view.step };
}

// ---- replay of a finished run ----

// Show the finished run as it stood after `step` (null: the whole run): paths cut there, a
// marker at each row's point on every view, the ends of rows that have ended. `playing`: the
// replay moves on by itself (the views then take turns, the 3-D view least often).
export function showStep(step, { playing: moving = false } = {}) {
  if (!run?.done) return;
  playing = moving;
  view = { step, live: false };
  need("contour", "step");
  need("surface", "step");
  requestWork();
}

// Rows drawn one trace each: cut the contour's paths at the step, move its markers, show the
// ends reached; one restyle (one redraw) for all of it.
function restyleContourStep() {
  const div = divs.contour;
  if (!div.data || replayTrace < 0) return;
  const rows = run.rows;
  const counts = viewCounts(rows);
  const column = (row, name, i) => (counts[i] ? row[name].subarray(0, counts[i]) : [null]);
  const xs = rows.map((row, i) => column(row, "x", i));
  const ys = rows.map((row, i) => column(row, "y", i));
  const outline = joinedOutlineTrace(rows, counts, 1);
  const marker = replayMarkerTrace(rows, counts);
  const indices = [OUTLINE_TRACE, ...rows.map((_, i) => firstPath + i), replayTrace];
  const skip = () => [undefined, ...rows.map(() => undefined)];
  const update = { x: [outline.x, ...xs, marker.x], y: [outline.y, ...ys, marker.y],
    "marker.color": [...skip(), marker.marker.color], customdata: [...skip(), undefined],
    text: [...skip(), undefined] };
  if (endTrace >= 0) {
    const shownRows = rows.filter(shown);
    const [end, diverged] = contourMarkers(shownRows, shownRows.filter(endedInView));
    indices.push(endTrace, endTrace + 1);
    update.x.push(end.x, diverged.x);
    update.y.push(end.y, diverged.y);
    update["marker.color"].push(end.marker.color, undefined);
    update.customdata.push(end.customdata, undefined);
    update.text.push(undefined, diverged.text);
  }
  Plotly.restyle(div, update, indices);
  drawnCounts.contour = counts;
}

// The 3-D view's paths cut at the step and its markers moved: one restyle.
function restyleSurfaceStep() {
  const div = divs.surface;
  if (!div.data || surfaceMarker < 0) return;
  const rows = run.rows;
  const counts = viewCounts(rows);
  const display = many ? joinedGroups(rows, counts, surfaceStride, SURFACE_COLUMNS)
    : rows.map((row, i) => cutRow(row, counts[i]));
  const paths = display.map((row) => surfacePath(row));
  const marker = surfaceMarkerTrace(rows, counts);
  Plotly.restyle(div, {
    x: [...paths.map((path) => path.x), marker.x],
    y: [...paths.map((path) => path.y), marker.y],
    z: [...paths.map((path) => path.z), marker.z],
    "marker.color": [...paths.map(() => undefined), marker.marker.color],
  }, [...paths.map((_, i) => i + 1), surfaceMarker]);
  drawnCounts.surface = counts;
}

// ---- the gamma fan ----

export function clearGammaPlot() {
  fanCurve = null;
  pending.delete("gamma");
  delete divs.gamma.dataset.pending;
  if (divs.gamma.data) Plotly.purge(divs.gamma);
}

// ---- a fan's highlighted path (fan.js computes it): one restyle per plot per frame ----

// The loss plot's and the distance plot's highlight trace (-1: none), and the path last shown.
const metricHighlight = { loss: -1, distance: -1 };
const HIGHLIGHT_CASING = "#111827";
let fanHighlight = null;

// A row's columns as the plots draw them: {x, y, steps, loss, distance (or null)}.
export function rowColumns(row) {
  const values = derived(row);
  return { x: row.x, y: row.y, steps: row.steps, loss: values.loss, distance: values.distance };
}

function metricHighlightTrace(name) {
  const path = fanHighlight?.path;
  const y = path ? (name === "loss" ? path.loss : path.distance ?? []) : [];
  return { type: "scatter", mode: "lines", uid: `highlighted-${name}`, name: "highlighted",
    showlegend: false, hoverinfo: "skip", x: path ? path.steps.slice(0, y.length) : [], y,
    line: { color: HIGHLIGHT_CASING, width: 3 } };
}

// Show `path` ({x, y, steps, loss, distance}, or null) in `color` on the contour, the loss and
// distance plots, and its final loss at `at` on the fan's curve (drawFanCurve's marker).
export function highlightPath(path, color, at) {
  // Nothing highlighted before or now: the plots already show no highlight.
  if (!path && !fanHighlight) return;
  fanHighlight = path ? { path, color, at } : null;
  const empty = [];
  // A figure on its way draws the highlight itself (a restyle now would redraw the plot twice).
  const drawing = (name) => pending.get(name) === "figure";
  if (!holdsRows.contour) {
    // The canvas draws the paths, and the highlight above them, at the next frame.
    layers.contour.shownView = null;
    requestWork();
  } else if (highlightTrace >= 0 && divs.contour.data && !drawing("contour")) {
    Plotly.restyle(divs.contour, { x: [path?.x ?? empty, path?.x ?? empty],
      // A dark casing: the path stands out of a fan of paths in neighbouring colours.
      y: [path?.y ?? empty, path?.y ?? empty], "line.color": [HIGHLIGHT_CASING, color ?? "#000000"],
      "line.width": [8, 4] },
    [highlightTrace - 1, highlightTrace]);
  }
  for (const name of ["loss", "distance"]) {
    const index = metricHighlight[name];
    if (index < 0 || !divs[name].data?.[index] || drawing(name)) continue;
    const trace = metricHighlightTrace(name);
    Plotly.restyle(divs[name], { x: [trace.x], y: [trace.y] }, [index]);
  }
  if (divs.gamma.data?.[1]?.name === "highlighted" && !drawing("gamma")) {
    const final = path?.final;
    const shown = path && Number.isFinite(final);
    Plotly.restyle(divs.gamma, { x: [shown ? [at] : []], y: [shown ? [final] : []],
      "marker.color": color ?? "#000000" }, [1]);
  }
}

// Final loss vs the fan's value (`rows`: one per value; `param`, its `scale`: linear or log;
// `colorOf(value)`), with a marker for the highlighted path moved by highlightPath. Drawn at
// the next frame, in a task of its own.
let fanCurve = null;
export function drawFanCurve(rows, options) {
  fanCurve = { rows, options };
  need("gamma", "figure");
}

function drawFanCurveNow() {
  if (!fanCurve) return;
  const { rows, options: { param, scale, colorOf } } = fanCurve;
  fanCurve = null;
  const sorted = [...rows].sort((a, b) => a.hparams[param] - b.hparams[param]);
  const finalValue = (row) => {
    const loss = derived(row).loss;
    return loss.length ? loss[loss.length - 1] : null;
  };
  const name = param === "gamma" ? "γ" : param;
  const layout = {
    ...baseLayout(),
    margin: scaledMargin({ l: 60, r: 12, t: 36, b: 40 }),
    // The axis is too short for the loss axis's whole title: the floor goes in the title.
    title: plotTitle(`Final loss vs ${param}${scene.fStar !== null ? " (floor 10⁻¹⁶)" : ""}`),
    xaxis: { title: { text: param }, zeroline: false, type: scale === "log" ? "log" : "linear",
      exponentformat: "power" },
    yaxis: { title: { text: shortLossAxisTitle(scene.fStar) },
      type: scene.fStar !== null ? "log" : "linear", exponentformat: "power" },
    showlegend: false,
  };
  const path = fanHighlight?.path;
  const final = path?.final;
  const marked = path && Number.isFinite(final);
  Plotly.react(divs.gamma, [{
    type: "scatter", mode: "lines+markers", name: "final loss",
    x: sorted.map((row) => row.hparams[param]), y: sorted.map(finalValue),
    customdata: sorted.map((row) => (row.result?.diverged_at != null
      ? `diverged at step ${row.result.diverged_at}` : "")),
    line: { color: "#9aa5b1", width: 1.5 },
    marker: { size: sorted.length > 30 ? 7 : 11,
      color: sorted.map((row) => colorOf(row.hparams[param])),
      line: { color: "#fff", width: 1 } },
    hovertemplate: `${name} %{x}<br>final loss %{y:.4g}<br>%{customdata}<extra></extra>`,
  }, {
    type: "scatter", mode: "markers", name: "highlighted", showlegend: false, hoverinfo: "skip",
    x: marked ? [fanHighlight.at] : [], y: marked ? [final] : [],
    marker: { size: 15, color: fanHighlight?.color ?? "#000000",
      line: { color: "#1f2933", width: 2.5 } },
  }], layout, config("gamma"));
}

// `callback([x, y])` when the contour is clicked: the data coordinates of the clicked pixel
// (rounded to what one pixel resolves), never the nearest point of a path that Plotly reports.
let contourClick = null;
let contourEventsBound = false;
export function onContourClick(callback) {
  contourClick = callback;
  bindContourEvents();
}

// The data coordinates under a mouse event on the contour, or null outside its axes.
export function contourPointAt(mouse) {
  const layout = divs.contour._fullLayout;
  const svg = divs.contour.querySelector(".main-svg");
  if (!layout?.xaxis || !layout?.yaxis || !svg || !mouse) return null;
  const { xaxis, yaxis } = layout;
  const box = svg.getBoundingClientRect();
  const px = mouse.clientX - box.left - xaxis._offset;
  const py = mouse.clientY - box.top - yaxis._offset;
  if (px < 0 || px > xaxis._length || py < 0 || py > yaxis._length) return null;
  const pixel = (axis) => Math.abs(axis.p2l(1) - axis.p2l(0));
  return [roundToResolution(xaxis.p2l(px), pixel(xaxis)),
    roundToResolution(yaxis.p2l(py), pixel(yaxis))];
}

// Over the landscape (a picture, with no hover of its own): where the mouse is, which a click
// would start from. Hidden while Plotly labels a path or a marker.
let landscapeHover = null;
let plotlyHovering = false;
function bindLandscapeHover() {
  if (landscapeHover) return;
  landscapeHover = document.createElement("div");
  landscapeHover.className = "landscape-hover";
  landscapeHover.dataset.testid = "landscape-hover";
  landscapeHover.setAttribute("aria-hidden", "true");
  landscapeHover.hidden = true;
  let latest = null;
  const show = () => {
    const event = latest;
    latest = null;
    const point = event && !plotlyHovering && event.buttons === 0 ? contourPointAt(event) : null;
    const container = divs.contour.querySelector(".svg-container");
    if (!point || !container) {
      landscapeHover.hidden = true;
      return;
    }
    if (landscapeHover.parentNode !== container) container.append(landscapeHover);
    const box = container.getBoundingClientRect();
    landscapeHover.textContent = `(${point[0].toFixed(3)}, ${point[1].toFixed(3)}) `
      + "click to start here";
    landscapeHover.style.left = `${event.clientX - box.left + 14}px`;
    landscapeHover.style.top = `${event.clientY - box.top + 14}px`;
    landscapeHover.hidden = false;
  };
  divs.contour.addEventListener("mousemove", (event) => {
    if (latest === null) requestAnimationFrame(show);
    latest = event;
  });
  divs.contour.addEventListener("mouseleave", () => {
    latest = null;
    landscapeHover.hidden = true;
  });
  divs.contour.on("plotly_hover", () => {
    plotlyHovering = true;
    landscapeHover.hidden = true;
  });
  divs.contour.on("plotly_unhover", () => {
    plotlyHovering = false;
  });
}

function bindContourEvents() {
  if (contourEventsBound || !divs.contour.on) return;
  contourEventsBound = true;
  // plotly_click (not a DOM click) so that a drag to zoom does not move the start.
  divs.contour.on("plotly_click", (event) => {
    const point = contourPointAt(event.event);
    if (point && contourClick) contourClick(point);
  });
  divs.contour.on("plotly_legendclick", onLegendClick);
  divs.contour.on("plotly_legenddoubleclick", onLegendDoubleClick);
}
