// The only module that touches Plotly: the contour, the 3-D surface, loss and distance vs step,
// and final loss vs gamma. Full figures go through Plotly.react (uirevision keeps zoom and
// camera); streamed points through Plotly.extendTraces, batched once per animation frame.

/* global Plotly */

import { LANDSCAPE_COLORSCALE, VIRIDIS_COLORSCALE, viridis } from "./colors.js";
import { distancesToNearest, mapColumn, refreshIndices, seedBand } from "./run-data.js";
import {
  DISTANCE_AXIS_TITLE, displayLoss, floorDistances, isolateGroup, lossAxisTitle as lossTitle,
  roundToResolution, seriesSignature, shadingTitle, toggleGroup,
} from "./view.js";

export const GAMMA_RANGE = [-1, 2];

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13,
  color: "#1f2933" };
const BASE_LAYOUT = {
  font: FONT,
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "#ffffff",
  hoverlabel: { font: { family: FONT.family, size: 12 } },
  hovermode: "closest",
};
// The contour's traces, bottom to top: the landscape, one white outline per row, the rows'
// paths, end / divergence / refresh markers, the global minima (above the end markers), the
// start, the gamma highlight and the replay markers. Indices of the first outline and path.
const FIRST_OUTLINE = 1;
let firstPath = 1;
let startTrace = -1;
// Legend groups of rows start with this (other legend entries are Plotly's to toggle).
const GROUP_PREFIX = "rows:";

let divs = null;
// What is drawn: the landscape, the run and how to colour and name its rows.
let scene = null;
let run = null;
let look = null;
// Points of each row already on screen, and whether a frame is already queued.
let drawnPoints = [];
let frameQueued = false;
let highlightTrace = -1;
// The step the replay shows (null: the whole run).
let shownStep = null;
// The replay marker trace (each row's point at the scrubbed step), once a run is done.
let replayTrace = -1;
// Groups of rows (look.groupKey) the legend hides in every view, and for which series.
let hidden = new Set();
let hiddenSignature = "";
let legendTimer = 0;
let visibilityListener = null;

// `elements`: {contour, surface, loss, distance, gamma} divs.
export function initPlots(elements) {
  divs = elements;
}

function config(name) {
  return {
    responsive: true,
    displaylogo: false,
    // plotly.js 4 offers "Share chart" (an upload to Plotly's cloud): never from a classroom page.
    showSendToCloud: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", filename: `optiscope-${name}`, scale: 2 },
  };
}

// The landscape: `info` is its catalogue entry (or a typed function's stand-in), `surface` the
// answer of a surface endpoint.
export function setScene(info, surface, start) {
  const finite = surface.z.flat().filter((v) => v !== null);
  scene = {
    info, surface, start,
    // log_z adds δ to z - z_min: its lowest grid value is log10(δ).
    logOffset: surface.log ? 10 ** Math.min(...finite) : 0,
    fStar: info.global_minima.length ? Math.min(...info.global_minima.map((m) => m.value)) : null,
    revision: `${info.id ?? info.label}`,
  };
}

export function setStart(start) {
  scene.start = start;
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

function landscapeTrace() {
  const { surface } = scene;
  return {
    type: "contour", uid: "landscape", x: surface.x, y: surface.y, z: surface.z,
    name: "landscape", showlegend: false,
    colorscale: LANDSCAPE_COLORSCALE, ncontours: 28,
    contours: { coloring: "heatmap" }, line: { width: 0.6, color: "rgba(40,60,90,0.35)" },
    showscale: true,
    colorbar: { title: { text: shadingTitle(surface.log), side: "right", font: { size: 12 } },
      thickness: 12, len: 0.9, outlinewidth: 0, tickfont: { size: 11 }, xpad: 6 },
    hovertemplate: "(%{x:.3f}, %{y:.3f})<br>click to start here<extra></extra>",
  };
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

function legendGroup(row) {
  return `${GROUP_PREFIX}${look.groupKey(row)}`;
}

// A white line under each path, wider than it: the path keeps its contrast on dark and light
// parts of the landscape alike.
function outlineTrace(row, index) {
  const faint = look.seeds > 1;
  return {
    type: "scatter", mode: "lines", name: `${look.name(row)} outline`, uid: `outline-${index}`,
    meta: { role: "outline", row: index },
    legendgroup: legendGroup(row), showlegend: false, visible: shown(row),
    x: row.x, y: row.y, customdata: hoverData(row), hoverinfo: "skip",
    line: { color: "#ffffff", width: faint ? 2.6 : 4.6 },
    opacity: faint ? 0.35 : 0.85,
  };
}

function pathTrace(row, index) {
  const faint = look.seeds > 1;
  return {
    type: "scatter", mode: "lines", name: look.name(row), uid: `path-${index}`,
    meta: { role: "path", row: index },
    legendgroup: legendGroup(row), showlegend: look.firstOfGroup(row),
    visible: shown(row) ? true : "legendonly",
    x: row.x, y: row.y, customdata: hoverData(row),
    line: { color: look.color(row), width: faint ? 1 : 2.2 },
    opacity: faint ? 0.55 : 1,
    hovertemplate: `<b>${look.name(row)}</b><br>step %{customdata[0]}<br>`
      + "x %{x:.4g}, y %{y:.4g}<br>loss %{customdata[1]:.4g}<extra></extra>",
  };
}

// End markers, divergence crosses and preconditioner refresh dots (rows whose optimizer the
// registry says refreshes at powers of two), each one trace for all rows.
function contourMarkers(rows) {
  const ends = rows.filter((row) => row.x.length);
  const diverged = ends.filter((row) => row.result?.diverged_at != null);
  const refreshed = ends.filter(look.refreshes);
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
      textposition: "top center", textfont: { size: 12, color: "#b00020" },
      marker: { symbol: "x-thin-open", size: 16, color: "#b00020", line: { width: 3 } },
      hovertemplate: "%{text}<extra></extra>",
    },
    {
      type: "scatter", mode: "markers", uid: "refresh", name: "preconditioner refresh (t = 1, 2, 4, …)",
      showlegend: refreshPoints.length > 0,
      x: refreshPoints.map(({ row, i }) => row.x[i]),
      y: refreshPoints.map(({ row, i }) => row.y[i]),
      customdata: refreshPoints.map(({ row, i }) => [look.name(row), row.steps[i]]),
      marker: { symbol: "circle", size: 6, color: refreshPoints.map(({ row }) => look.color(row)),
        line: { color: "#ffffff", width: 1 } },
      hovertemplate: "<b>%{customdata[0]}</b><br>preconditioner refresh after step "
        + "%{customdata[1]}<extra></extra>",
    },
  ];
}

function highlightTraces() {
  return [
    { type: "scatter", mode: "lines", uid: "highlight-casing", name: "highlight casing",
      showlegend: false,
      hoverinfo: "skip", x: [], y: [], line: { color: "#ffffff", width: 7 } },
    { type: "scatter", mode: "lines", uid: "highlighted", name: "highlighted", showlegend: false,
      hoverinfo: "skip", x: [], y: [], line: { color: "#000000", width: 3.5 } },
  ];
}

function contourLayout() {
  const [[xMin, xMax], [yMin, yMax]] = scene.info.view_box;
  return {
    ...BASE_LAYOUT,
    uirevision: scene.revision,
    margin: { l: 48, r: 12, t: 36, b: 40 },
    title: { text: `${scene.info.label}: trajectories`, x: 0.02, font: { size: 15 } },
    xaxis: { range: [xMin, xMax], title: { text: "x" }, zeroline: false, constrain: "domain" },
    yaxis: { range: [yMin, yMax], title: { text: "y" }, zeroline: false,
      scaleanchor: "x", constrain: "domain" },
    legend: { orientation: "h", x: 0, y: -0.1, yanchor: "top", font: { size: 12 } },
  };
}

// ---- the 3-D surface ----

function surfaceFigure(rows) {
  const { surface } = scene;
  const paths = rows.map((row) => ({
    type: "scatter3d", mode: "lines", name: look.name(row), showlegend: false,
    legendgroup: legendGroup(row), visible: shown(row),
    x: row.x, y: row.y, z: mapColumn(row.loss, lift),
    line: { color: look.color(row), width: look.seeds > 1 ? 2 : 5 },
    opacity: look.seeds > 1 ? 0.5 : 1,
    hovertemplate: `<b>${look.name(row)}</b><br>x %{x:.4g}, y %{y:.4g}<extra></extra>`,
  }));
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
      ...BASE_LAYOUT, uirevision: scene.revision,
      margin: { l: 0, r: 0, t: 36, b: 0 },
      title: { text: "Surface", x: 0.02, font: { size: 15 } },
      scene: {
        xaxis: { title: { text: "x" }, nticks: 5 }, yaxis: { title: { text: "y" }, nticks: 5 },
        zaxis: { title: { text: surface.log ? "log f" : "f" }, nticks: 4 },
        camera: { eye: { x: 1.05, y: -1.15, z: 0.75 } },
        aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.5 },
      },
    },
  };
}

// ---- loss and distance vs step ----

// One line per row while streaming; median and 10-90% band per series once several seeds ran.
function metricTraces(rows, values, unit) {
  if (look.seeds === 1 || !run?.done) {
    return rows.map((row) => ({
      type: "scatter", mode: "lines", name: look.name(row),
      legendgroup: legendGroup(row), showlegend: false, visible: shown(row),
      x: row.steps, y: values(row),
      line: { color: look.color(row), width: look.seeds > 1 ? 1 : 2 },
      opacity: look.seeds > 1 ? 0.4 : 1,
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
    const band = seedBand(group, values);
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
      { ...common, x: band.steps, y: band.median,
        name: `${name} median`, line: { color, width: 2.2 },
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
    ...BASE_LAYOUT, uirevision: scene.revision,
    margin: { l: 60, r: 12, t: 36, b: 40 },
    title: { text: title, x: 0.02, font: { size: 15 } },
    xaxis: { title: { text: "step" }, zeroline: false },
    yaxis: { title: { text: yTitle }, type: logY ? "log" : "linear", exponentformat: "power" },
    showlegend: false,
  };
}

function lossFigure(rows) {
  const values = (row) => mapColumn(row.loss, lossValue);
  return { data: metricTraces(rows, values, "loss"),
    layout: metricLayout("Loss vs step", lossAxisTitle(), scene.fStar !== null) };
}

function distanceFigure(rows) {
  const layout = metricLayout("Distance to the nearest minimum", DISTANCE_AXIS_TITLE, true);
  if (!scene.info.global_minima.length) {
    layout.annotations = [{ text: "This landscape has no known global minimum.",
      showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }];
    return { data: [], layout };
  }
  return { data: metricTraces(rows, distances, "distance"), layout };
}

// ---- whole redraws ----

// `style`: {color(row), name(row), groupKey(row), firstOfGroup(row), refreshes(row), seeds}.
export function drawRun(newRun, style) {
  run = newRun;
  look = style;
  const rows = run?.rows ?? [];
  // Groups hidden from the legend stay hidden while the runs keep the same series.
  const signature = seriesSignature(rows);
  if (rows.length && signature !== hiddenSignature) {
    hidden = new Set();
    hiddenSignature = signature;
  }
  shownStep = null;
  drawnPoints = rows.map((row) => row.steps.length);
  firstPath = FIRST_OUTLINE + rows.length;
  const contourData = [landscapeTrace(), ...rows.map(outlineTrace), ...rows.map(pathTrace)];
  if (run?.done) contourData.push(...contourMarkers(rows.filter(shown)));
  startTrace = contourData.length + 1;
  contourData.push(...contourPoints());
  highlightTrace = run?.done ? contourData.length + 1 : -1;
  if (run?.done) contourData.push(...highlightTraces());
  replayTrace = run?.done ? contourData.length : -1;
  if (run?.done) contourData.push(replayMarkerTrace());
  Plotly.react(divs.contour, contourData, contourLayout(), config("contour"));
  bindContourEvents();
  const surface = surfaceFigure(rows);
  Plotly.react(divs.surface, surface.data, surface.layout, config("surface"));
  const loss = lossFigure(rows);
  Plotly.react(divs.loss, loss.data, loss.layout, config("loss"));
  const distance = distanceFigure(rows);
  Plotly.react(divs.distance, distance.data, distance.layout, config("distance"));
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
    const step = shownStep;
    drawRun(run, look);
    if (step !== null) showStep(step);
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

// New points of the streaming run: drawn at the next animation frame, all plots at once.
export function queueStreamedPoints() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    extendPlots();
  });
}

// Hand Plotly only each row's points since the last frame (subarrays: no copies here).
function extendPlots() {
  if (!run || run.done) return;
  const fresh = run.rows.map((row, r) => ({ row, from: drawnPoints[r] }))
    .filter(({ row, from }) => row.steps.length > from);
  if (!fresh.length) return;
  const take = (fn) => fresh.map(({ row, from }) => fn(row, from));
  const column = (name) => take((row, from) => row[name].subarray(from));
  const lossFrom = (fn) => take((row, from) => mapColumn(row.loss.subarray(from), fn));
  const indices = fresh.map(({ row }) => row.row);
  // Each row's outline and path get the same points.
  const hover = take(hoverData);
  const twice = (arrays) => [...arrays, ...arrays];
  Plotly.extendTraces(divs.contour,
    { x: twice(column("x")), y: twice(column("y")), customdata: twice(hover) },
    [...indices.map((i) => i + FIRST_OUTLINE), ...indices.map((i) => i + firstPath)]);
  Plotly.extendTraces(divs.surface, { x: column("x"), y: column("y"), z: lossFrom(lift) },
    indices.map((i) => i + 1));
  Plotly.extendTraces(divs.loss, { x: column("steps"), y: lossFrom(lossValue) }, indices);
  if (scene.info.global_minima.length) {
    Plotly.extendTraces(divs.distance, { x: column("steps"), y: take(distances) }, indices);
  }
  for (const { row } of fresh) drawnPoints[row.row] = row.steps.length;
}

// ---- replay of a finished run ----

function replayMarkerTrace() {
  return { type: "scatter", mode: "markers", name: "at the shown step", showlegend: false,
    hoverinfo: "skip", x: [], y: [],
    marker: { size: 10, color: [], line: { color: "#ffffff", width: 2 } } };
}

// How many of `row`'s points lie at or before `step` (its steps are ascending).
function pointsUpTo(row, step) {
  let lo = 0;
  let hi = row.steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (row.steps[mid] <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Draw the finished run as it stood after `step` (null: the whole run): paths cut there, a
// marker at each row's point, a line at that step on the loss and distance plots. With
// `withSurface` false the 3-D view is left as it is (it redraws slowly; playback skips it).
export function showStep(step, withSurface = true) {
  if (!run?.done || replayTrace < 0) return;
  shownStep = step;
  const rows = run.rows;
  const counts = rows.map((row) => (step === null ? row.steps.length : pointsUpTo(row, step)));
  const xs = rows.map((row, i) => row.x.subarray(0, counts[i]));
  const ys = rows.map((row, i) => row.y.subarray(0, counts[i]));
  Plotly.restyle(divs.contour, { x: [...xs, ...xs], y: [...ys, ...ys] },
    [...rows.map((_, i) => FIRST_OUTLINE + i), ...rows.map((_, i) => firstPath + i)]);
  const marked = step === null ? [] : rows.filter((row, i) => counts[i] > 0 && shown(row));
  const tips = marked.map((row) => pointsUpTo(row, step) - 1);
  Plotly.restyle(divs.contour, { x: [tips.map((k, j) => marked[j].x[k])],
    y: [tips.map((k, j) => marked[j].y[k])],
    "marker.color": [marked.map(look.color)] }, [replayTrace]);
  if (withSurface) {
    Plotly.restyle(divs.surface, {
      x: xs, y: ys, z: rows.map((row, i) => mapColumn(row.loss.subarray(0, counts[i]), lift)),
    }, rows.map((_, i) => i + 1));
  }
  const shapes = step === null ? [] : [{ type: "line", xref: "x", yref: "paper", x0: step,
    x1: step, y0: 0, y1: 1, line: { color: "#1f2933", width: 1.5, dash: "dot" } }];
  for (const div of [divs.loss, divs.distance]) {
    if (div.data) Plotly.relayout(div, { shapes });
  }
}

// ---- the gamma fan ----

export function gammaColor(gamma) {
  return viridis((gamma - GAMMA_RANGE[0]) / (GAMMA_RANGE[1] - GAMMA_RANGE[0]));
}

// Thicken one path on the contour (the row whose gamma the slider names) and mark its gamma
// on the final-loss plot. Cheap enough for every animation frame: two restyles, one relayout.
export function highlightRow(row, gamma) {
  if (highlightTrace >= 0 && divs.contour.data) {
    const xs = row ? row.x : [];
    const ys = row ? row.y : [];
    Plotly.restyle(divs.contour, { x: [xs, xs], y: [ys, ys],
      "line.color": ["#ffffff", row ? look.color(row) : "#000000"] },
    [highlightTrace - 1, highlightTrace]);
  }
  if (divs.gamma.data) {
    Plotly.relayout(divs.gamma, { "shapes[0].x0": gamma, "shapes[0].x1": gamma });
  }
}

// Final loss vs gamma for the fan `rows` (one per value of their swept adaptivity exponent
// `param`; the first seed when several).
export function drawGammaPlot(rows, gamma, param) {
  const sorted = [...rows].sort((a, b) => a.hparams[param] - b.hparams[param]);
  const finalValue = (row) => lossValue(row.result?.final_loss ?? row.loss.at(-1));
  const layout = {
    ...BASE_LAYOUT,
    margin: { l: 60, r: 12, t: 36, b: 40 },
    title: { text: "Final loss vs gamma", x: 0.02, font: { size: 15 } },
    xaxis: { title: { text: "gamma" }, zeroline: false, range: [GAMMA_RANGE[0] - 0.1, GAMMA_RANGE[1] + 0.1] },
    yaxis: { title: { text: lossAxisTitle() }, type: scene.fStar !== null ? "log" : "linear",
      exponentformat: "power" },
    showlegend: false,
    shapes: [{ type: "line", xref: "x", yref: "paper", x0: gamma, x1: gamma, y0: 0, y1: 1,
      line: { color: "#1f2933", width: 1.5, dash: "dot" } }],
  };
  Plotly.react(divs.gamma, [{
    type: "scatter", mode: "lines+markers", name: "final loss",
    x: sorted.map((row) => row.hparams[param]), y: sorted.map(finalValue),
    customdata: sorted.map((row) => (row.result?.diverged_at != null
      ? `diverged at step ${row.result.diverged_at}` : "")),
    line: { color: "#9aa5b1", width: 1.5 },
    marker: { size: 11, color: sorted.map((row) => row.hparams[param]), cmin: GAMMA_RANGE[0],
      cmax: GAMMA_RANGE[1], colorscale: VIRIDIS_COLORSCALE, line: { color: "#fff", width: 1 },
      colorbar: { title: { text: "γ" }, thickness: 10, len: 0.8 } },
    hovertemplate: "gamma %{x}<br>final loss %{y:.4g}<br>%{customdata}<extra></extra>",
  }], layout, config("gamma"));
}

export function clearGammaPlot() {
  if (divs.gamma.data) Plotly.purge(divs.gamma);
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
