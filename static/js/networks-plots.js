// The Networks view's plots: training and held-out loss per row (log y), held-out accuracy,
// gradient norm, the decision boundary (or fitted curve) of one row at one snapshot, and the
// loss on a plane through its weights.
//
// While a run streams, its curves grow by appending: a few times a second Plotly gets only the
// points that arrived since the last time (extendTraces), one plot per task, so the page's main
// thread never holds a frame for all of them; a run of many rows or steps shows every k-th
// point (WebGL scattergl where the browser has a GPU, as the 2-D view decides; SVG thinned
// harder where it does not). The finished run is drawn once more whole, one plot per task.

import { SERIES_PALETTE } from "./colors.js";
import {
  blendedClassColors, classProbabilityRows, displayStride, floored, picked, planeAxisTitle,
  planeContour, planeSurfacePath, snapshotShape, snapshotsOf, strideIndices,
} from "./networks-data.js";
import { webglAvailable } from "./plot.js";

const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13,
  color: "#1f2933" };
// Plotly sizes text in pixels: these are the sizes at the page's base text size (14 px), scaled
// with the root font size as app.css grows it on wide screens.
const BASE_TEXT_PX = 14;
// Points per plot: WebGL draws a hundred thousand at once; an SVG redraw costs per point (about
// 3 µs on the project's 2-core machine), and while a run streams each append redraws the whole
// plot, so the streamed curves are thinner than the finished run's, drawn once.
const BUDGETS = { scattergl: { streaming: 100_000, finished: 200_000 },
  scatter: { streaming: 3_000, finished: 8_000 } };
// Displayed losses and gradient norms are floored here: an exact 0 has no place on a log axis.
const LOG_FLOOR = 1e-16;
// Streaming draws at most this often (each append redraws the plot's traces in Plotly).
const APPEND_INTERVAL_MS = 200;
// Class colours, colour-blind safe (Okabe-Ito, Tol), distinct from one another; the page's
// series colours without black, which a blend of probabilities would muddy.
export const CLASS_COLORS = SERIES_PALETTE.filter((color) => color !== "#000000");

let divs = null;
let run = null;
let look = null;
// Every `stride`-th point of a row is drawn while streaming (`finishedStride` once finished);
// `drawn[r]`: the points of row r already handed over.
let stride = 1;
let finishedStride = 1;
let drawn = [];
let appendQueued = false;
let lastAppend = 0;
// Bumped by every new figure (a run's start, its finish): appends queued before are dropped,
// or they would add their points a second time to curves drawn whole since.
let generation = 0;
// While a run's figures are being made (one per task) nothing is appended to them yet.
let starting = false;
// Counts runs drawn: a zoom stays while a run's points arrive and its snapshots change, not into
// the next run (Plotly's uirevision).
let runNumber = 0;
let traceType = "scatter";
// The boundary plot: which row and which of its snapshots it shows.
let shown = { row: 0, index: -1 };
// How the loss plane is drawn: "contour" (a map with the path) or "surface" (3-D, the path on it).
let planeView = "contour";
// The row whose curves stand out (a fan's slider picks it), or null: every row alike.
let highlighted = null;
// Resolves pending `settled()` waits once the queued appends have been drawn.
let settleWaiters = [];

function textScale() {
  const root = Number.parseFloat(getComputedStyle(document.documentElement).fontSize);
  return root > 0 ? root / BASE_TEXT_PX : 1;
}

function px(size) {
  return Math.round(size * textScale() * 10) / 10;
}

function config(name) {
  return {
    responsive: true,
    displaylogo: false,
    showSendToCloud: false,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", filename: `optiscope-network-${name}`, scale: 2 },
  };
}

function layout(title, extra = {}) {
  return {
    font: { ...FONT, size: px(FONT.size) },
    title: { text: title, x: 0.02, font: { size: px(15) } },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#ffffff",
    hovermode: "closest",
    hoverlabel: { font: { family: FONT.family, size: px(12) } },
    margin: { l: px(58), r: px(14), t: px(38), b: px(44) },
    ...extra,
  };
}

// `elements`: {loss, accuracy, gradNorm, boundary, plane} divs.
export function initNetworkPlots(elements) {
  divs = elements;
}

function emptyFigure(div, title, message) {
  return Plotly.react(div, [], layout(title, {
    xaxis: { visible: false }, yaxis: { visible: false },
    annotations: message ? [{ text: message, showarrow: false, xref: "paper", yref: "paper",
      x: 0.5, y: 0.5, font: { size: px(13), color: "#52606d" } }] : [],
  }), config(div.dataset.testid));
}

// ---- the curves ----

// Line widths of a row's traces in each curve plot: training and held-out loss, or one.
const CURVE_WIDTHS = { loss: [1.8, 1.4], accuracy: [1.6], gradNorm: [1.6] };

// How a row's curves are drawn: the highlighted row wider and on top of the rest, faded.
function emphasis(row) {
  if (highlighted === null) return { width: 1, opacity: 1 };
  return row.row === highlighted ? { width: 1.8, opacity: 1 } : { width: 0.8, opacity: 0.3 };
}

// The curve plots' traces per row: the loss plot has two (training, held out), the others one.
function curveTraces(kind) {
  const traces = [];
  const [width, heldOutWidth] = CURVE_WIDTHS[kind];
  for (const row of run.rows) {
    const color = look.color(row);
    const { width: scale, opacity } = emphasis(row);
    // Typed from the start: Plotly extends a trace only with arrays of its own type.
    const base = { type: traceType, mode: "lines", x: new Float64Array(0), y: new Float64Array(0),
      legendgroup: look.group(row), opacity,
      hovertemplate: `${look.name(row)}<br>step %{x}<br>%{y:.4g}<extra></extra>` };
    if (kind === "loss") {
      // One legend entry per group (a series, or one value of its fan): it shows or hides
      // every seed's curves, training and held out.
      traces.push({ ...base, name: look.legendName(row), showlegend: look.inLegend(row),
        line: { color, width: width * scale } });
      traces.push({ ...base, name: `${look.name(row)} (held out)`, showlegend: false,
        line: { color, width: heldOutWidth * scale, dash: "dot" },
        hovertemplate: `${look.name(row)}, held out<br>step %{x}<br>%{y:.4g}<extra></extra>` });
    } else {
      traces.push({ ...base, name: look.name(row), showlegend: false,
        line: { color, width: width * scale } });
    }
  }
  return traces;
}

// The values of plot `kind` for a row's points at `indices`: {x, y} per trace of the row.
function curveValues(kind, row, indices) {
  const x = picked(row.steps, indices);
  if (kind === "loss") {
    return [{ x, y: floored(row.loss, indices, LOG_FLOOR) },
      { x, y: floored(row.held_out_loss, indices, LOG_FLOOR) }];
  }
  if (kind === "accuracy") return [{ x, y: picked(row.accuracy, indices) }];
  return [{ x, y: floored(row.grad_norm, indices, LOG_FLOOR) }];
}

const CURVE_PLOTS = {
  loss: { title: "(solid: training set, dotted: held out)", log: true, div: "loss" },
  accuracy: { title: "Held-out accuracy", log: false, div: "accuracy" },
  gradNorm: { title: "Gradient norm", log: true, div: "gradNorm" },
};

function curveLayout(kind) {
  const plot = CURVE_PLOTS[kind];
  const steps = run.meta.steps;
  // The loss is the task's own: cross-entropy for a classification, squared error otherwise.
  const title = kind !== "loss" ? plot.title
    : `${run.classification ? "Cross-entropy" : "Mean squared error"} ${plot.title}`;
  return layout(title, {
    showlegend: kind === "loss",
    legend: { font: { size: px(12) }, bgcolor: "rgba(255,255,255,0.8)" },
    xaxis: { title: { text: "step" }, range: [0, steps], zeroline: false },
    yaxis: plot.log ? { type: "log", exponentformat: "power" }
      : { range: [0, 1.02], tickformat: ".0%", zeroline: false },
    // The axes stay where the user zoomed them while points arrive.
    uirevision: runNumber,
  });
}

// Which curve plots this run has: accuracy only for a classification.
function curveKinds() {
  return run.classification ? ["loss", "accuracy", "gradNorm"] : ["loss", "gradNorm"];
}

// A new run: empty curves, one trace per row (two for the loss), and the task's points under
// row `shownRow`'s boundary, one plot per task. `style`: {color(row), name(row) (with its seed),
// legendName(row), inLegend(row), group(row)}.
export async function startNetworkRun(newRun, style, shownRow = 0) {
  run = newRun;
  look = style;
  const perRow = Math.min(run.meta.steps + 1, run.pointsPerRow ?? Infinity);
  traceType = webglAvailable() ? "scattergl" : "scatter";
  // The loss plot has two curves per row: its budget decides for all.
  stride = displayStride(run.rows.length * 2, perRow, BUDGETS[traceType].streaming);
  finishedStride = displayStride(run.rows.length * 2, perRow, BUDGETS[traceType].finished);
  drawn = run.rows.map(() => 0);
  lastAppend = 0;
  appendQueued = false;
  generation += 1;
  runNumber += 1;
  divs.accuracy.hidden = !run.classification;
  if (!run.classification) Plotly.purge(divs.accuracy);
  shown = { row: Math.min(shownRow, run.rows.length - 1), index: -1 };
  const started = generation;
  const steps = [...curveKinds().map((kind) => () => Plotly.react(divs[CURVE_PLOTS[kind].div],
    curveTraces(kind), curveLayout(kind), config(kind))), drawBoundary, drawPlane];
  starting = true;
  for (const step of steps) {
    if (started !== generation) return;
    step();
    await nextTask();
  }
  if (started === generation) starting = false;
}

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// New points arrived: they are drawn at the next frame (at most every APPEND_INTERVAL_MS).
export function appendNetworkPoints() {
  if (appendQueued || !run) return;
  appendQueued = true;
  const queuedFor = generation;
  // A task of its own (not an animation frame, which the boundary's redraw may share).
  const wait = Math.max(0, lastAppend + APPEND_INTERVAL_MS - performance.now());
  setTimeout(() => appendNow(queuedFor), wait);
}

function appendNow(queuedFor) {
  if (queuedFor !== generation) return;
  appendQueued = false;
  if (!run) return;
  if (starting) {
    appendNetworkPoints();
    return;
  }
  lastAppend = performance.now();
  const parts = {};
  for (const kind of curveKinds()) parts[kind] = { x: [], y: [], traces: [] };
  const until = [];
  run.rows.forEach((row, r) => {
    const available = row.steps.length;
    until[r] = available;
    const indices = strideIndices(drawn[r], available, stride);
    if (!indices.length) return;
    for (const kind of curveKinds()) {
      const perRow = kind === "loss" ? 2 : 1;
      curveValues(kind, row, indices).forEach((values, k) => {
        parts[kind].x.push(values.x);
        parts[kind].y.push(values.y);
        parts[kind].traces.push(r * perRow + k);
      });
    }
  });
  drawn = until;
  // One plot per task: the loss now, the others after (input and frames get in between).
  const kinds = curveKinds().filter((kind) => parts[kind].traces.length);
  const next = () => {
    if (queuedFor !== generation) return;
    const kind = kinds.shift();
    if (kind === undefined) {
      resolveSettled();
      return;
    }
    const { x, y, traces } = parts[kind];
    Plotly.extendTraces(divs[CURVE_PLOTS[kind].div], { x, y }, traces);
    setTimeout(next, 0);
  };
  next();
}

function resolveSettled() {
  if (appendQueued) return;
  const waiters = settleWaiters;
  settleWaiters = [];
  for (const resolve of waiters) resolve();
}

// Resolves once every queued append has been drawn.
export function networkPlotsSettled() {
  if (!appendQueued) return Promise.resolve();
  return new Promise((resolve) => settleWaiters.push(resolve));
}

// The finished run: every curve drawn whole (each row's last point included), one plot per task.
export async function finishNetworkPlots() {
  appendQueued = false;
  starting = false;
  generation += 1;
  const finishing = generation;
  drawn = run.rows.map((row) => row.steps.length);
  for (const kind of curveKinds()) {
    if (finishing !== generation) return;
    const traces = curveTraces(kind);
    const perRow = kind === "loss" ? 2 : 1;
    run.rows.forEach((row, r) => {
      const indices = strideIndices(0, row.steps.length, finishedStride, true);
      curveValues(kind, row, indices).forEach((values, k) => {
        Object.assign(traces[r * perRow + k], values);
      });
    });
    Plotly.react(divs[CURVE_PLOTS[kind].div], traces, curveLayout(kind), config(kind));
    await nextTask();
  }
  if (finishing !== generation) return;
  // A run shorter than its start may have finished before the boundary was first drawn.
  drawBoundary();
  resolveSettled();
}

// Colours and names changed (a series' colour): the same data, restyled.
export function restyleNetworkRun(style) {
  if (!run) return;
  look = style;
  for (const kind of curveKinds()) {
    const div = divs[CURVE_PLOTS[kind].div];
    if (!div.data) continue;
    const perRow = kind === "loss" ? 2 : 1;
    const colors = div.data.map((_, t) => look.color(run.rows[Math.floor(t / perRow)]));
    Plotly.restyle(div, { "line.color": colors });
  }
  drawBoundary();
}

// Make row `row`'s curves stand out in every curve plot (null: all rows alike): one restyle per
// plot, the data untouched.
export function highlightNetworkRow(row) {
  if (row === highlighted) return;
  highlighted = row;
  if (!run) return;
  for (const kind of curveKinds()) {
    const div = divs[CURVE_PLOTS[kind].div];
    if (!div.data) continue;
    // The styles a new figure's traces would have (no points: they are not copied).
    const styles = curveTraces(kind);
    if (styles.length === div.data.length) {
      Plotly.restyle(div, { "line.width": styles.map((trace) => trace.line.width),
        opacity: styles.map((trace) => trace.opacity) });
    }
  }
}

// ---- the decision boundary, or the fitted curve ----

function boundaryTitle(row, snapshot) {
  const what = run.classification ? "Decision boundary" : "Fitted curve";
  return snapshot ? `${what}: ${look.name(row)}, step ${snapshot.step}` : what;
}

function pointTraces(data) {
  const classification = data.kind === "classification";
  const colorsOf = (labels) => Array.from(labels, (c) => CLASS_COLORS[c % CLASS_COLORS.length]);
  if (!classification) {
    const x = (points) => points.map((p) => (Array.isArray(p) ? p[0] : p));
    return [
      { type: "scatter", mode: "markers", name: "training points", x: x(data.x_train),
        y: data.y_train, marker: { size: 5, color: "#52606d", opacity: 0.75 },
        hovertemplate: "x %{x:.3f}<br>y %{y:.3f}<extra>training</extra>" },
      { type: "scatter", mode: "markers", name: "held out", x: x(data.x_held_out),
        y: data.y_held_out, marker: { size: 6, color: "rgba(0,0,0,0)",
          line: { color: "#52606d", width: 1.2 } },
        hovertemplate: "x %{x:.3f}<br>y %{y:.3f}<extra>held out</extra>" },
    ];
  }
  return [
    { type: "scatter", mode: "markers", name: "training points",
      x: data.x_train.map((p) => p[0]), y: data.x_train.map((p) => p[1]),
      marker: { size: 6, color: colorsOf(data.y_train), line: { color: "#ffffff", width: 1 } },
      customdata: data.y_train,
      hovertemplate: "(%{x:.2f}, %{y:.2f})<br>class %{customdata}<extra>training</extra>" },
    { type: "scatter", mode: "markers", name: "held out",
      x: data.x_held_out.map((p) => p[0]), y: data.x_held_out.map((p) => p[1]),
      marker: { size: 7, symbol: "circle-open", color: colorsOf(data.y_held_out),
        line: { width: 1.6 } },
      customdata: data.y_held_out,
      hovertemplate: "(%{x:.2f}, %{y:.2f})<br>class %{customdata}<extra>held out</extra>" },
  ];
}

// The probability picture of a classification snapshot: a heat map of P(class 1) for two
// classes (white where the network cannot tell), the classes' colours mixed by probability for
// more (Plotly's image trace).
function probabilityTrace(values, shape, grid) {
  const classes = shape[0];
  const [x0, x1] = [grid.x[0], grid.x.at(-1)];
  const [y0, y1] = [grid.y[0], grid.y.at(-1)];
  if (classes === 2) {
    const [c0, c1] = CLASS_COLORS;
    return { type: "heatmap", x: grid.x, y: grid.y, z: classProbabilityRows(values, shape, 1),
      zmin: 0, zmax: 1, colorscale: [[0, c0], [0.5, "#ffffff"], [1, c1]], opacity: 0.8,
      colorbar: { title: { text: "P(class 1)", side: "right" }, thickness: 12, len: 0.8 },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<br>P(class 1) %{z:.3f}<extra></extra>",
      // The browser smooths the 48 x 48 picture: "best" would interpolate every screen pixel
      // in JavaScript, tens of milliseconds a snapshot.
      showlegend: false, zsmooth: "fast" };
  }
  return { type: "image", z: blendedClassColors(values, shape, CLASS_COLORS),
    x0, y0, dx: (x1 - x0) / (shape[2] - 1), dy: (y1 - y0) / (shape[1] - 1),
    hoverinfo: "skip", opacity: 0.85 };
}

function drawBoundary() {
  const div = divs.boundary;
  if (!run) return;
  const row = run.rows[shown.row];
  const snapshots = snapshotsOf(run, shown.row);
  const index = shown.index < 0 || shown.index >= snapshots.length ? snapshots.length - 1
    : shown.index;
  const snapshot = snapshots[index] ?? null;
  const data = run.meta.task.data;
  const grid = run.meta.snapshots.grid;
  const points = pointTraces(data);
  const [xRange, yRange] = data.view_box;
  let traces;
  let axes;
  if (run.classification) {
    traces = snapshot
      ? [probabilityTrace(snapshot.byRow.get(shown.row), snapshotShape(run.meta), grid), ...points]
      : points;
    axes = { xaxis: { range: xRange, title: { text: "x₁" }, zeroline: false,
      constrain: "domain" },
      yaxis: { range: yRange, title: { text: "x₂" }, zeroline: false, scaleanchor: "x",
        autorange: false } };
  } else {
    const curve = snapshot ? [{ type: "scatter", mode: "lines", name: "network",
      x: grid.x, y: Array.from(snapshot.byRow.get(shown.row)),
      line: { color: look.color(row), width: 2.2 },
      hovertemplate: "x %{x:.3f}<br>prediction %{y:.3f}<extra></extra>" }] : [];
    traces = [...curve, ...points];
    axes = { xaxis: { range: xRange, title: { text: "x" }, zeroline: false },
      yaxis: { title: { text: "y" }, zeroline: false } };
  }
  const title = boundaryTitle(row, snapshot);
  Plotly.react(div, traces, layout(title, {
    ...axes, showlegend: true, uirevision: runNumber,
    // The title at the top of the margin and the legend at its foot, right above the axes:
    // beside each other on a wide plot, one over the other on a phone's (never on each other).
    title: { text: title, x: 0.02, xanchor: "left", yref: "container",
      y: 1, yanchor: "top", pad: { t: px(8) }, font: { size: px(15) } },
    legend: { orientation: "h", x: 1, xanchor: "right", y: 1.0, yanchor: "bottom",
      font: { size: px(12) }, bgcolor: "rgba(255,255,255,0)" },
    margin: { l: px(48), r: px(14), t: px(62), b: px(44) },
  }), config("boundary"));
  div.dataset.step = snapshot ? String(snapshot.step) : "";
  div.dataset.row = String(shown.row);
  updateSlider(snapshots, index);
}

// The step slider's range follows the snapshots received for the row shown.
let slider = null;
export function initSnapshotSlider(elements) {
  slider = elements;
  slider.input.addEventListener("input", () => {
    const snapshots = run ? snapshotsOf(run, shown.row) : [];
    const index = Number(slider.input.value);
    // At the right end the slider follows new snapshots as they arrive.
    shown.index = index >= snapshots.length - 1 ? -1 : index;
    queueBoundary();
  });
}

function updateSlider(snapshots, index) {
  if (!slider) return;
  slider.input.max = String(Math.max(0, snapshots.length - 1));
  slider.input.value = String(Math.max(0, index));
  slider.input.disabled = snapshots.length < 2;
  slider.output.textContent = snapshots.length
    ? `step ${snapshots[index].step} (${index + 1} of ${snapshots.length} snapshots)`
    : "no snapshot yet";
}

// Redraws of the boundary (slider drags, snapshots arriving) at most once per frame.
let boundaryQueued = false;
function queueBoundary() {
  if (boundaryQueued) return;
  boundaryQueued = true;
  requestAnimationFrame(() => {
    boundaryQueued = false;
    drawBoundary();
  });
}

// A snapshot arrived: redrawn if it is the shown row's newest and the slider follows the newest.
export function snapshotArrived(snapshot) {
  if (!run || !snapshot.byRow.has(shown.row)) return;
  if (shown.index < 0) queueBoundary();
  else updateSlider(snapshotsOf(run, shown.row), shown.index);
}

// Show row `row`'s boundary and plane (the newest snapshot).
export function showNetworkRow(row) {
  shown = { row, index: -1 };
  if (!run) return;
  queueBoundary();
  drawPlane();
}

// ---- the loss plane ----

// Draw the plane as `view` ("contour" or "surface") from now on.
export function setPlaneView(view) {
  planeView = view === "surface" ? "surface" : "contour";
  if (run) drawPlane();
}

function planeContourFigure(plane, contour, row, title) {
  const path = plane.path ?? [];
  const data = [
    { type: "contour", x: contour.x, y: contour.y, z: contour.z, ncontours: 24,
      colorscale: "Viridis", reversescale: false, connectgaps: false,
      contours: { coloring: "heatmap", showlines: true },
      line: { width: 0.5, color: "rgba(255,255,255,0.5)" },
      colorbar: { title: { text: contour.log ? "log₁₀ loss" : "loss", side: "right" },
        thickness: 12, len: 0.8 },
      hovertemplate: `α %{x:.3g}<br>β %{y:.3g}<br>${contour.log ? "log₁₀ loss" : "loss"} `
        + "%{z:.3f}<extra></extra>" },
    { type: "scatter", mode: "lines+markers", name: "path", x: path.map((p) => p[0]),
      y: path.map((p) => p[1]), line: { color: "#ffffff", width: 3.5 }, marker: { size: 0 },
      hoverinfo: "skip", showlegend: false },
    { type: "scatter", mode: "lines+markers", name: look.name(row), x: path.map((p) => p[0]),
      y: path.map((p) => p[1]), line: { color: look.color(row), width: 2 },
      marker: { size: 4, color: look.color(row) },
      hovertemplate: "α %{x:.3g}<br>β %{y:.3g}<extra>path</extra>" },
  ];
  if (path.length) {
    data.push({ type: "scatter", mode: "markers", name: "start", x: [path[0][0]],
      y: [path[0][1]], marker: { size: 10, symbol: "circle", color: "#ffffff",
        line: { color: "#1f2933", width: 2 } }, hovertemplate: "start<extra></extra>" });
    data.push({ type: "scatter", mode: "markers", name: "end", x: [path.at(-1)[0]],
      y: [path.at(-1)[1]], marker: { size: 11, symbol: "star", color: "#ffffff",
        line: { color: "#1f2933", width: 1.5 } }, hovertemplate: "end<extra></extra>" });
  }
  return { data, layout: layout(title, {
    xaxis: { title: { text: planeAxisTitle(plane, 0) }, zeroline: false },
    yaxis: { title: { text: planeAxisTitle(plane, 1) }, zeroline: false },
    showlegend: false, margin: { l: px(64), r: px(14), t: px(38), b: px(50) },
  }) };
}

// The plane as a 3-D surface, the path lying on it: its heights are the loss on the plane under
// each kept step (where the path leaves the plane, `path_residual` says how far).
function planeSurfaceFigure(plane, contour, row, title) {
  const path = planeSurfacePath(plane, contour.log);
  const height = contour.log ? "log₁₀ loss" : "loss";
  const hover = `α %{x:.3g}<br>β %{y:.3g}<br>${height} %{z:.3f}`;
  const data = [
    { type: "surface", x: contour.x, y: contour.y, z: contour.z, colorscale: "Viridis",
      opacity: 0.92, name: "loss", connectgaps: false,
      colorbar: { title: { text: height, side: "right" }, thickness: 12, len: 0.8 },
      contours: { z: { show: true, usecolormap: false, color: "rgba(255,255,255,0.35)",
        width: 1 } },
      hovertemplate: `${hover}<extra></extra>` },
    // A white halo under the path: it reads on every colour of the surface.
    { type: "scatter3d", mode: "lines", name: "path", ...path, connectgaps: false,
      line: { color: "#ffffff", width: 9 }, hoverinfo: "skip" },
    { type: "scatter3d", mode: "lines+markers", name: look.name(row), ...path,
      connectgaps: false, line: { color: look.color(row), width: 5 },
      marker: { size: 2.5, color: look.color(row) }, hovertemplate: `${hover}<extra>path</extra>` },
  ];
  const last = path.x.length - 1;
  const ends = last > 0 ? [0, last] : last === 0 ? [0] : [];
  if (ends.length) {
    data.push({ type: "scatter3d", mode: "markers", name: "start and end",
      x: ends.map((t) => path.x[t]), y: ends.map((t) => path.y[t]), z: ends.map((t) => path.z[t]),
      marker: { size: ends.map((_, k) => (k === 0 ? 5 : 7)),
        symbol: ends.map((_, k) => (k === 0 ? "circle" : "diamond")), color: "#ffffff",
        line: { color: "#1f2933", width: 2 } },
      text: ends.map((_, k) => (k === 0 ? "start" : "end")),
      hovertemplate: "%{text}<extra></extra>" });
  }
  const axis = (text) => ({ title: { text } });
  return { data, layout: layout(title, {
    showlegend: false, margin: { l: 0, r: 0, t: px(38), b: 0 },
    scene: {
      xaxis: axis(planeAxisTitle(plane, 0, { short: true })),
      yaxis: axis(planeAxisTitle(plane, 1, { short: true })),
      zaxis: axis(height),
      camera: { eye: { x: 1.55, y: -1.65, z: 1.0 } },
      // The plane's own proportions across, a fixed share up: the picture keeps its shape.
      aspectmode: "manual", aspectratio: { x: 1.4, y: 1.4, z: 0.75 },
    },
  }) };
}

export function drawPlane() {
  const div = divs.plane;
  const plane = run?.rows[shown.row]?.plane ?? null;
  // The plot takes room only in runs that asked for a plane.
  div.closest("[data-plane-box]")?.toggleAttribute("hidden", !plane && !run?.planeAsked);
  if (!plane?.loss) {
    // A row that never moved has no plane: the server says why.
    const text = plane?.reason ? `No plane for this network: ${plane.reason}`
      : run?.planeAsked ? "The loss landscape is computed after training." : "";
    emptyFigure(div, "Loss landscape", text);
    div.dataset.kind = "";
    return;
  }
  const contour = planeContour(plane);
  const row = run.rows[shown.row];
  const title = `Loss landscape: ${look.name(row)}`
    + (plane.kind === "pca" ? " (PCA plane)" : " (filter-normalised plane)");
  const figure = planeView === "surface" ? planeSurfaceFigure(plane, contour, row, title)
    : planeContourFigure(plane, contour, row, title);
  div.dataset.view = planeView;
  div.closest("[data-plane-box]")?.setAttribute("data-view", planeView);
  Plotly.react(div, figure.data, figure.layout, config("plane"));
  div.dataset.kind = plane.kind;
}
