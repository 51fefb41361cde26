// The page's pictures of `record: final` runs: maps over a grid of starts (one heat map per
// series, side by side, one shared colour scale) and phase diagrams over two hyperparameters.
// A map draws the server's coarse preview at once and the full map when the run is done;
// hovering a cell says its numbers, clicking it runs that cell's trajectories (one per seed,
// a normal full-record run) and draws them under the maps, so the map stays in view. The cells
// themselves are computed by cells.js, with the server's semantics.

import * as api from "./api.js";
import {
  availableMetrics, axisType, bestValue, describeCell, formatValue, metricGrid, phaseDiagram,
  sharedRange, startMaps,
} from "./cells.js";
import { LANDSCAPE_COLORSCALE, SERIES_PALETTE, seriesColor } from "./colors.js";
import { h } from "./controls.js";
import { rowsFromResult } from "./run-data.js";
import { seedList, sweepList, tuningProgressText } from "./run-kinds.js";
import { showTuning } from "./tune.js";
import { displayLoss, lossAxisTitle } from "./view.js";

// Where a cell has no value: darker than any colour of the scales (engine/render's grey too).
const NO_VALUE_GREY = "#9e9e9e";
// What an all-grey picture means, said in words (Plotly then draws no colour bar).
const EMPTY_NOTES = {
  final_loss: "Every cell is grey: every cell's median run diverged.",
  steps: "Every cell is grey: no cell's runs got within tolerance in this many steps.",
  nearest: "Every cell is grey: every cell's runs diverged.",
};
const METRIC_LABELS = {
  final_loss: "final loss",
  steps: "steps to tolerance",
  nearest: "nearest minimum",
};
// The plots' pixel geometry: margins around the grid of pictures and the gaps between them.
const MARGIN = { l: 58, r: 120, t: 34, b: 48 };
const GAP_X = 34;
const GAP_Y = 62;
const MOST_COLUMNS = 4;

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

let panel = null;
// The picture on screen: its run (spec, meta, kind), pictures, and the cell clicked.
let shown = null;
let hooks = null;
let trajectoryController = null;
const surfaces = new Map();

// Build the panel's parts inside section[data-testid=cells]. `options`: state() and writeUrl()
// (the colour metric is part of the state), landscapeInfo() (the catalogue's entry),
// optimizerLabel(id), and openTrajectories(edit), which turns the page into a trajectory run
// (`edit(state)` sets what the clicked cell shows).
export function initCells(options) {
  hooks = options;
  const section = $("cells");
  const metric = h("select", { id: "cells-metric", "data-testid": "cells-metric",
    onchange: (event) => {
      hooks.state().cellMetric = event.target.value;
      hooks.writeUrl();
      if (shown) draw();
    } });
  panel = {
    section,
    title: h("strong", { "data-testid": "cells-title" }),
    metric,
    note: h("p", { class: "help", "data-testid": "cells-note" }),
    empty: h("p", { class: "cells-empty", "data-testid": "cells-empty", role: "status" }),
    plot: h("div", { class: "plot plot-cells", "data-testid": "plot-cells" }),
    info: h("p", { class: "cell-info", "data-testid": "cell-info", "aria-live": "polite" }),
    trajectory: h("section", { class: "cell-trajectory", "data-testid": "cell-trajectory",
      hidden: true, "aria-label": "Trajectories of the clicked cell" }),
  };
  panel.trajectoryTitle = h("span", { "data-testid": "cell-trajectory-title" });
  panel.open = h("button", { type: "button", "data-testid": "cell-open",
    title: "Leave the map: run every series from this start (or with these values) as trajectories",
    onclick: () => shown?.openEdit && hooks.openTrajectories(shown.openEdit) },
  "Open as a trajectory run");
  panel.pathPlot = h("div", { class: "plot", "data-testid": "plot-cell-path" });
  panel.lossPlot = h("div", { class: "plot", "data-testid": "plot-cell-loss" });
  panel.trajectory.append(
    h("div", { class: "cell-trajectory-head" }, panel.trajectoryTitle, panel.open),
    h("div", { class: "cell-trajectory-plots" }, panel.pathPlot, panel.lossPlot));
  section.replaceChildren(
    h("div", { class: "cells-head" }, panel.title,
      h("label", { for: "cells-metric" }, "Colour by ", metric)),
    panel.note, panel.empty, panel.plot, panel.info, panel.trajectory);
  listenToPointer();
}

// The trajectory views are back: the pictures' panel goes.
export function hideCells() {
  trajectoryController?.abort();
  document.body.classList.remove("summary-view");
  if (panel) panel.section.hidden = true;
  shown = null;
}

function showPanel() {
  document.body.classList.add("summary-view");
  panel.section.hidden = false;
}

// What a `record: final` spec draws: phase diagrams when a series sweeps two hyperparameters,
// else maps over its grid of starts (null: neither, nothing to draw).
export function summaryKind(spec) {
  if (spec.series.some((series) => sweepList(series.sweep).length === 2)) return "phase";
  return spec.starts?.grid ? "map" : null;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

// Stream the `record: final` run `spec` and draw it: the preview when one comes, then every
// cell. Resolves true once drawn, false when cancelled (`signal`); throws the API's errors.
// `progress`: what main.js gives: setStatus, setProgress, and isCurrent() (whether this is still
// the page's run).
export async function runSummaries(spec, signal, progress) {
  const began = performance.now();
  const kind = summaryKind(spec);
  let meta = null;
  let done = null;
  let reached = 0;
  // A tuned run streams nothing until it has tuned.
  if (spec.tune) progress.setStatus(tuningProgressText(spec.tune, spec.series.length));
  try {
    await api.streamRun(spec, {
      meta: (data) => {
        meta = data;
        trajectoryController?.abort();
        shown = { spec, meta, kind, stage: "waiting", summaries: [], clicked: null };
        showPanel();
        panel.trajectory.hidden = true;
        panel.info.textContent = "";
        showTuning(meta.tuning ?? null, spec.seeds, hooks.state().series.map((s) => s.color));
        describeRun();
        Plotly.purge(panel.plot);
        delete panel.plot.dataset.stage;
      },
      preview: (data) => {
        shown.summaries = data.rows;
        shown.stage = "preview";
        draw();
        progress.setStatus(`Coarse map drawn (every 4th start); computing the rest…`);
      },
      chunk: (chunk) => {
        reached = chunk.to_step - 1;
        progress.setProgress(reached, meta.steps);
      },
      done: (data) => {
        done = data;
      },
    }, signal);
  } catch (error) {
    if (error.name !== "AbortError") throw error;
    // Cancelled by the user (a new run says its own status instead).
    if (progress.isCurrent()) {
      progress.setStatus(`Cancelled at step ${reached}`
        + (shown?.stage === "preview" ? "; the map shows the coarse preview." : "."));
      document.body.dataset.cancelledAt = String(performance.now());
    }
    return false;
  }
  if (!done) throw new Error("the run's stream ended before the run did");
  // Let the status and progress paint before the cells are aggregated.
  await nextFrame();
  signal.throwIfAborted();
  shown.summaries = done.rows;
  shown.stage = "done";
  await draw();
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  progress.setStatus(`${done.rows.length} rows × ${meta.steps} steps in ${seconds} s `
    + `(${meta.device}, ${meta.dtype}), summaries only.`);
  return true;
}

function rowsPerCell(spec) {
  return spec.seeds.length;
}

// The panel's title and note: what each cell is and what grey means.
function describeRun() {
  const { spec, meta, kind } = shown;
  const landscape = meta.landscape.label;
  const seeds = rowsPerCell(spec);
  const seedText = seeds === 1 ? "one seed" : `the median over ${seeds} seeds`;
  if (kind === "map") {
    const grid = spec.starts.grid;
    panel.title.textContent = `Where each start ends: ${landscape}, ${grid.x[2]} × ${grid.y[2]} `
      + `starts, ${meta.steps} steps`;
    panel.note.textContent = `Each cell is one start (${seedText}). Grey: diverged (final loss, `
      + `nearest minimum) or never within tolerance ${formatValue(meta.tolerance)} (steps). `
      + "Hover a cell for its numbers; click it to run its trajectories.";
  } else {
    const starts = spec.starts?.grid ? spec.starts.grid.x[2] * spec.starts.grid.y[2] : 1;
    const rows = seeds * starts;
    panel.title.textContent = `Phase diagram: ${landscape}, ${meta.steps} steps`;
    panel.note.textContent = `Each cell is one pair of values: the median over ${rows} `
      + `row${rows === 1 ? "" : "s"} (${seeds} seed${seeds === 1 ? "" : "s"} × ${starts} `
      + `start${starts === 1 ? "" : "s"}); hover for the spread (min to max). Grey: diverged `
      + `(final loss) or never within tolerance ${formatValue(meta.tolerance)} (steps). `
      + "Click a cell to run its trajectories.";
  }
  const metrics = availableMetrics(kind, meta.landscape.global_minima.length);
  panel.metric.replaceChildren(...metrics.map((metric) => h("option", { value: metric },
    METRIC_LABELS[metric])));
  panel.metric.value = currentMetric();
}

function currentMetric() {
  const metrics = availableMetrics(shown.kind, shown.meta.landscape.global_minima.length);
  const wanted = hooks.state().cellMetric;
  return metrics.includes(wanted) ? wanted : metrics[0];
}

function computePictures() {
  const { spec, meta, kind, summaries } = shown;
  const best = bestValue(meta.landscape);
  if (kind === "map") return startMaps(meta.rows, summaries, spec.starts.grid, best);
  return spec.series.flatMap((series, index) => {
    if (sweepList(series.sweep).length !== 2) return [];
    // Named as its series, not as its first row (whose label names that row's two values).
    const label = series.label || hooks.optimizerLabel(series.optimizer);
    return [{ ...phaseDiagram(meta.rows, summaries, index, sweepList(series.sweep), best), label }];
  });
}

// The pictures' places: columns and rows of equal cells, in pixels and in paper fractions.
function geometry(count, aspect, tallest) {
  const width = Math.max(panel.plot.clientWidth, 320);
  const columns = count <= MOST_COLUMNS ? count : Math.ceil(count / Math.ceil(count / MOST_COLUMNS));
  const lines = Math.ceil(count / columns);
  const plotWidth = width - MARGIN.l - MARGIN.r;
  const cellWidth = (plotWidth - GAP_X * (columns - 1)) / columns;
  const cellHeight = Math.min(tallest, Math.max(150, cellWidth * aspect));
  const plotHeight = lines * cellHeight + GAP_Y * (lines - 1);
  const places = Array.from({ length: count }, (_, k) => {
    const [line, column] = [Math.floor(k / columns), k % columns];
    const x0 = (column * (cellWidth + GAP_X)) / plotWidth;
    const y1 = 1 - (line * (cellHeight + GAP_Y)) / plotHeight;
    return { line, column, x: [x0, x0 + cellWidth / plotWidth],
      y: [y1 - cellHeight / plotHeight, y1] };
  });
  return { height: plotHeight + MARGIN.t + MARGIN.b, places, lines };
}

function colourAxis(metric, grids, minima, steps, best) {
  if (metric === "nearest") {
    const count = minima.length;
    // Categorical: minimum k is the k-th colour, flat over [k - 1/2, k + 1/2).
    const colorscale = [];
    for (let k = 0; k < count; k++) {
      colorscale.push([k / count, SERIES_PALETTE[k]], [(k + 1) / count, SERIES_PALETTE[k]]);
    }
    return { colorscale, cmin: -0.5, cmax: count - 0.5,
      colorbar: { title: { text: "nearest minimum", side: "right" }, thickness: 12,
        tickvals: minima.map((_, k) => k),
        ticktext: minima.map((m) => `(${formatValue(m.point[0])}, ${formatValue(m.point[1])})`) } };
  }
  if (metric === "steps") {
    return { colorscale: "Cividis", cmin: 0, cmax: steps,
      colorbar: { title: { text: "steps to tolerance", side: "right" }, thickness: 12 } };
  }
  const range = sharedRange(grids) ?? [0, 1];
  const title = best === null ? "log₁₀(final loss)" : "log₁₀(final loss − f*), floor 10⁻¹⁶";
  return { colorscale: "Viridis", cmin: range[0], cmax: range[1] > range[0] ? range[1] : range[0] + 1,
    colorbar: { title: { text: title, side: "right" }, thickness: 12 } };
}

// A phase diagram's axis ticks at its swept values (every few when there are many): its
// columns are those values, not a continuous scale.
function valueTicks(values) {
  const every = Math.ceil(values.length / 9);
  const shown = values.filter((_, k) => k % every === 0);
  return { tickmode: "array", tickvals: shown, ticktext: shown.map(formatValue) };
}

function axisNames(k) {
  return k === 0 ? ["x", "y"] : [`x${k + 1}`, `y${k + 1}`];
}

// Draw the pictures of the rows received so far, coloured by the chosen metric.
async function draw() {
  const { meta, kind, spec } = shown;
  const pictures = computePictures();
  shown.pictures = pictures;
  const metric = currentMetric();
  const best = bestValue(meta.landscape);
  const minima = meta.landscape.global_minima;
  const grids = pictures.map((picture) => metricGrid(picture, metric, best));
  panel.empty.textContent = sharedRange(grids) ? "" : EMPTY_NOTES[metric];
  // A map keeps the box's shape; a phase diagram is wider than tall and stays on one screen.
  let [aspect, tallest] = [0.6, 420];
  if (kind === "map") {
    const { x, y } = spec.starts.grid;
    aspect = Math.abs(y[1] - y[0]) / Math.max(Math.abs(x[1] - x[0]), 1e-12);
    tallest = 520;
  }
  const { height, places, lines } = geometry(pictures.length, aspect, tallest);
  const layout = {
    height, margin: MARGIN, showlegend: false, plot_bgcolor: NO_VALUE_GREY,
    paper_bgcolor: "rgba(0,0,0,0)", font: { size: 12 },
    coloraxis: colourAxis(metric, grids, minima, meta.steps, best),
    annotations: [], hovermode: "closest", uirevision: shown.spec,
  };
  const traces = [];
  pictures.forEach((picture, k) => {
    const [xName, yName] = axisNames(k);
    const place = places[k];
    const common = { showgrid: false, zeroline: false, ticks: "outside", automargin: false };
    layout[axisLayoutKey(xName)] = { ...common, domain: place.x, anchor: yName,
      type: kind === "phase" ? axisType(picture.x) : "linear",
      title: { text: place.line === lines - 1 ? picture.xName : "" },
      ...(kind === "phase" ? valueTicks(picture.x) : {}) };
    layout[axisLayoutKey(yName)] = { ...common, domain: place.y, anchor: xName,
      type: kind === "phase" ? axisType(picture.y) : "linear",
      title: { text: place.column === 0 ? picture.yName : "" },
      ...(kind === "phase" ? valueTicks(picture.y) : {}) };
    layout.annotations.push({ text: picture.label, showarrow: false, xref: "paper",
      yref: "paper", x: (place.x[0] + place.x[1]) / 2, y: place.y[1], yanchor: "bottom",
      xanchor: "center", font: { size: 13 } });
    traces.push({ type: "heatmap", x: picture.x, y: picture.y, z: grids[k], coloraxis: "coloraxis",
      xaxis: xName, yaxis: yName, name: picture.label, hoverinfo: "none",
      meta: { picture: k, label: picture.label, stage: shown.stage } });
  });
  if (shown.clicked) traces.push(...clickedMarkers(pictures));
  await Plotly.react(panel.plot, traces, layout, { responsive: true, displaylogo: false,
    showSendToCloud: false, modeBarButtonsToRemove: ["lasso2d", "select2d"],
    toImageButtonOptions: { format: "png", filename: `optiscope-${kind}`, scale: 2 } });
  // Read by the tests: which stage of the run the cells show, coloured by what.
  panel.plot.dataset.stage = shown.stage;
  panel.plot.dataset.metric = metric;
}

function axisLayoutKey(name) {
  return `${name[0]}axis${name.slice(1)}`;
}

function nearestIndex(pixels, pixel) {
  let best = 0;
  for (let k = 1; k < pixels.length; k++) {
    if (Math.abs(pixels[k] - pixel) < Math.abs(pixels[best] - pixel)) best = k;
  }
  return best;
}

// The cell under the mouse, with its picture (null: none). Plotly's own hover and click events
// skip grey cells (no value) and a picture with no value at all, so the pointer is mapped to a
// cell through the axes instead.
function cellAt(mouse) {
  const layout = panel.plot._fullLayout;
  const svg = panel.plot.querySelector(".main-svg");
  if (!layout || !svg || !shown?.pictures) return null;
  const box = svg.getBoundingClientRect();
  for (const [k, picture] of shown.pictures.entries()) {
    const [xName, yName] = axisNames(k);
    const xa = layout[axisLayoutKey(xName)];
    const ya = layout[axisLayoutKey(yName)];
    if (!xa || !ya) continue;
    const px = mouse.clientX - box.left - xa._offset;
    const py = mouse.clientY - box.top - ya._offset;
    if (px < 0 || px > xa._length || py < 0 || py > ya._length) continue;
    const i = nearestIndex(picture.x.map((v) => xa.d2p(v)), px);
    const j = nearestIndex(picture.y.map((v) => ya.d2p(v)), py);
    const cell = picture.cells[j]?.[i];
    return cell ? { picture, cell } : null;
  }
  return null;
}

function onHover(mouse) {
  const hit = cellAt(mouse);
  if (!hit) return;
  panel.info.textContent = describeCell(hit.picture, hit.cell, shown.meta.landscape.global_minima);
}

// Hover at most once a frame; a click is a press and release within a few pixels (a drag
// zooms, as in every Plotly view). Capturing listeners: Plotly's drag layer handles the events
// underneath, and its cover takes the release when the mouse moved.
function listenToPointer() {
  let pending = null;
  let pressed = null;
  panel.plot.addEventListener("mousemove", (event) => {
    const queued = pending !== null;
    pending = event;
    if (queued) return;
    requestAnimationFrame(() => {
      const mouse = pending;
      pending = null;
      onHover(mouse);
    });
  }, true);
  panel.plot.addEventListener("mousedown", (event) => {
    pressed = event.button === 0 ? { x: event.clientX, y: event.clientY } : null;
  }, true);
  window.addEventListener("mouseup", (event) => {
    const press = pressed;
    pressed = null;
    if (press && Math.hypot(event.clientX - press.x, event.clientY - press.y) < 4) onClick(event);
  }, true);
}

function clickedMarkers(pictures) {
  const { x, y } = shown.clicked;
  return pictures.map((_, k) => {
    const [xName, yName] = axisNames(k);
    return { type: "scatter", mode: "markers", x: [x], y: [y], xaxis: xName, yaxis: yName,
      hoverinfo: "skip", name: "clicked", meta: { role: "clicked" },
      marker: { symbol: "square-open", size: 14, color: "#ffffff", line: { width: 2.5 } } };
  });
}

function onClick(mouse) {
  const hit = cellAt(mouse);
  if (!hit) return;
  shown.clicked = { x: hit.cell.x, y: hit.cell.y };
  panel.info.textContent = describeCell(hit.picture, hit.cell, shown.meta.landscape.global_minima);
  const markers = clickedMarkers(shown.pictures);
  const old = panel.plot.data.map((trace, index) => (trace.meta?.role === "clicked" ? index : -1))
    .filter((index) => index >= 0);
  if (old.length) Plotly.deleteTraces(panel.plot, old);
  Plotly.addTraces(panel.plot, markers);
  runCellTrajectories(hit.picture, hit.cell);
}

// ---- the clicked cell's trajectories ----

// The spec of a cell's trajectories: its series with the cell's hyperparameters (the tuned or
// swept values included, as its rows ran), from its start, on the run's seeds, every point.
export function cellTrajectorySpec(spec, info) {
  const { starts: _starts, tune: _tune, record: _record, max_points: _points, ...rest } = spec;
  return { ...rest, start: [...info.start], seeds: [...spec.seeds],
    series: [{ optimizer: info.optimizer, hparams: { ...info.hparams }, label: info.label }] };
}

async function runCellTrajectories(picture, cell) {
  trajectoryController?.abort();
  const controller = new AbortController();
  trajectoryController = controller;
  const info = cell.members[0].info;
  const spec = cellTrajectorySpec(shown.spec, info);
  const color = hooks.state().series[info.series]?.color ?? seriesColor(info.series);
  const where = `from (${formatValue(info.start[0])}, ${formatValue(info.start[1])})`;
  const values = picture.xName === "x" ? ""
    : `, ${picture.yName} = ${formatValue(cell.y)}, ${picture.xName} = ${formatValue(cell.x)}`;
  shown.openEdit = (state) => {
    state.map = null;
    state.start = [...info.start];
    if (picture.xName !== "x") {
      const series = state.series[info.series];
      series.hparams = { ...series.hparams, [picture.xName]: cell.x, [picture.yName]: cell.y };
      series.sweep = null;
    }
  };
  panel.trajectory.hidden = false;
  panel.trajectoryTitle.textContent = `${picture.label}${values} ${where}: running…`;
  try {
    const [result, surface] = await Promise.all([
      api.runWhole(spec, controller.signal),
      landscapeSurface(controller.signal),
    ]);
    if (trajectoryController !== controller) return;
    const rows = rowsFromResult(result);
    await drawCellTrajectories(rows, surface, result, color);
    const seeds = spec.seeds.length;
    panel.trajectoryTitle.textContent = `${picture.label}${values} ${where}: `
      + `${seeds === 1 ? "seed" : "seeds"} ${seedList(spec.seeds)}, ${result.steps} steps`;
    // A counter of drawn cell trajectories: lets tests wait for the next one.
    panel.trajectory.dataset.drawn = String(Number(panel.trajectory.dataset.drawn ?? 0) + 1);
  } catch (error) {
    if (error.name === "AbortError") return;
    panel.trajectoryTitle.textContent = `${picture.label} ${where}: the run failed: ${error.message}`;
  }
}

function landscapeSurface(signal) {
  const { spec } = shown;
  const landscape = spec.landscape.expression !== undefined
    ? { expression: spec.landscape.expression, viewBox: [[-3, 3], [-3, 3]] } : spec.landscape;
  const info = hooks.landscapeInfo();
  const log = info?.colour_scale === "log";
  const url = api.landscapeSurfaceUrl(landscape, 100, log);
  if (!surfaces.has(url)) {
    surfaces.set(url, api.getJSON(url, signal).catch((error) => {
      surfaces.delete(url);
      throw error;
    }));
  }
  return surfaces.get(url);
}

function drawCellTrajectories(rows, surface, result, color) {
  const minima = result.landscape.global_minima;
  const fStar = minima.length ? Math.min(...minima.map((m) => m.value)) : null;
  const dashes = ["solid", "dot", "dash", "longdash", "dashdot"];
  const paths = rows.map((row, k) => ({ type: "scatter", mode: "lines", x: row.x, y: row.y,
    name: `seed ${row.seed}`, line: { color, width: 2, dash: dashes[k % dashes.length] },
    meta: { role: "path", row: row.row, seed: row.seed },
    hovertemplate: `seed ${row.seed}: (%{x:.4g}, %{y:.4g})<extra></extra>` }));
  const start = rows[0].start;
  const base = { margin: { l: 50, r: 10, t: 30, b: 40 }, showlegend: rows.length > 1,
    legend: { orientation: "h", y: -0.18 }, paper_bgcolor: "rgba(0,0,0,0)", font: { size: 12 } };
  const pathPlot = Plotly.react(panel.pathPlot, [
    { type: "contour", x: surface.x, y: surface.y, z: surface.z, colorscale: LANDSCAPE_COLORSCALE,
      showscale: false, ncontours: 24, contours: { coloring: "heatmap" },
      line: { width: 0.5, color: "rgba(40,60,90,0.35)" }, hoverinfo: "skip", name: "landscape" },
    ...paths,
    { type: "scatter", mode: "markers", x: minima.map((m) => m.point[0]),
      y: minima.map((m) => m.point[1]), name: "global minima", showlegend: false,
      marker: { symbol: "star", size: 11, color: "#ffd400", line: { color: "#333", width: 1 } },
      hovertemplate: "global minimum (%{x:.4g}, %{y:.4g})<extra></extra>" },
    { type: "scatter", mode: "markers", x: [start[0]], y: [start[1]], name: "start",
      showlegend: false, marker: { symbol: "circle", size: 10, color: "#fff",
        line: { color: "#111", width: 2 } },
      hovertemplate: "start (%{x:.4g}, %{y:.4g})<extra></extra>" },
  ], { ...base, title: { text: "Path", x: 0.02, font: { size: 14 } },
    xaxis: { title: { text: "x" } }, yaxis: { title: { text: "y" } } },
  { responsive: true, displaylogo: false, showSendToCloud: false });
  const lossPlot = Plotly.react(panel.lossPlot, rows.map((row, k) => ({ type: "scatter",
    mode: "lines", x: row.steps, y: Array.from(row.loss, (loss) => displayLoss(loss, fStar)),
    name: `seed ${row.seed}`, line: { color, width: 2, dash: dashes[k % dashes.length] },
    meta: { role: "loss", row: row.row } })),
  { ...base, title: { text: "Loss", x: 0.02, font: { size: 14 } },
    xaxis: { title: { text: "step" } },
    yaxis: { title: { text: lossAxisTitle(fStar) }, type: fStar === null ? "linear" : "log",
      exponentformat: "power" } },
  { responsive: true, displaylogo: false, showSendToCloud: false });
  return Promise.all([pathPlot, lossPlot]);
}
