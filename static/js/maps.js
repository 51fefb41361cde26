// The page's pictures of `record: final` runs: maps over a grid of starts (one picture per
// series, side by side, one shared colour scale) and phase diagrams over two hyperparameters.
// A map draws the server's coarse preview at once and the full map when the run is done;
// hovering a cell says its numbers, clicking it runs that cell's trajectories (one per seed,
// a normal full-record run) and draws them under the maps, so the map stays in view.
//
// The run is streamed, parsed and aggregated by a worker (summary-worker.js, with cells.js's
// semantics, the server's), which hands over each picture as flat typed columns and a map's
// colours as images, one pixel per cell: the page's main thread never parses the rows (tens
// of MB for a big map) nor colours a cell. A map is drawn as those images on its axes (Plotly's
// heat map of 65,536 cells took 100-300 ms of main thread per picture); a phase diagram, whose
// axes are its swept values (log, or unevenly spaced), as a heat map.

import * as api from "./api.js";
import {
  availableMetrics, axisType, bestValue, describeCell, flatCell, flatValues, formatValue,
  gridAxis, metricScale, scaleTicks, sharedRange, valueGrid,
} from "./cells.js";
import { paintColourBar } from "./colour-bar.js";
import { LANDSCAPE_COLORSCALE, seriesColor } from "./colors.js";
import { h } from "./controls.js";
import { rowsFromResult } from "./run-data.js";
import { seedList, sweepList, tuningProgressText } from "./run-kinds.js";
import { measureTextScale } from "./text-scale.js";
import { showTuning } from "./tune.js";
import { AXIS_TEMPLATE, displayLoss, lossAxisTitle } from "./view.js";

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
// (At the page's base text size: they grow with it, see px.)
const MARGIN = { l: 58, r: 132, t: 34, b: 48 };
const GAP_X = 34;
const GAP_Y = 62;
// Plot text and the room it takes grow with the page's root font size, as the trajectory
// views' do (text-scale.js): `px` is a size at the base text size as it is now, measured
// whenever a figure is laid out.
let textScale = 1;

function px(size) {
  return Math.round(size * textScale * 10) / 10;
}
const MOST_COLUMNS = 4;
// Narrower than this, pictures go on more lines (a phone shows them one under another).
const LEAST_PICTURE_WIDTH = 150;

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
      if (shown) redrawCells();
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
  revokeImages();
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

// Resolves once the next frame is drawn (the page's own layout done, not forced by a plot).
function afterFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

// ---- the summary worker ----

let worker = null;
let nextId = 1;
// Per run id, what its messages go to; per question id, the answer's promise.
const listeners = new Map();
const questions = new Map();

function summaryWorker() {
  if (!worker) {
    worker = new Worker(new URL("./summary-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      if (data.type === "row" || data.type === "export") {
        questions.get(data.ask)?.(data);
        questions.delete(data.ask);
      } else {
        listeners.get(data.id)?.(data);
      }
    };
    // A worker that failed to load or threw outside a run: every waiting run and question
    // fails with it.
    worker.onerror = (event) => {
      for (const listener of listeners.values()) {
        listener({ type: "error", error: { name: "Error", message: event.message } });
      }
      for (const answer of questions.values()) answer({ error: event.message });
      questions.clear();
    };
  }
  return worker;
}

// Ask the worker about run `id` (`question`: {type, ...}); resolves with its answer (the
// worker's message: `error` says why there is none).
function ask(id, question) {
  const asked = nextId++;
  return new Promise((resolve) => {
    questions.set(asked, resolve);
    summaryWorker().postMessage({ ...question, id, ask: asked });
  });
}

// The identity of row `row` of run `id` (meta.rows[row], which stays in the worker).
async function rowInfo(id, row) {
  return (await ask(id, { type: "row", row })).info ?? null;
}

// Whether a finished map or phase diagram is shown (its rows can be exported).
export function summariesShown() {
  return shown?.stage === "done";
}

// The shown finished run's rows, each its identity and summary, as a CSV or JSON file (a
// Blob, built by the worker, which holds the rows); null when none is shown. Throws when the
// worker could not write it.
export async function exportSummaries(format, permalink) {
  if (!summariesShown()) return null;
  const answer = await ask(shown.id, { type: "export", format, permalink });
  if (answer.error) throw new Error(`the ${format.toUpperCase()} export failed: ${answer.error}`);
  return answer.blob;
}

function errorOf({ name, message, status, problems }) {
  if (status !== null && status !== undefined) return new api.ApiError(status, problems);
  const error = new Error(message);
  error.name = name;
  return error;
}

// The phase diagrams a spec asks for: each series swept over two hyperparameters, named as its
// series (not as its first row, whose label names that row's two values).
function phasesOf(spec) {
  return spec.series.flatMap((series, index) => (sweepList(series.sweep).length === 2
    ? [{ series: index, sweeps: sweepList(series.sweep),
      label: series.label || hooks.optimizerLabel(series.optimizer) }]
    : []));
}

// Stream the `record: final` run `spec` and draw it: the preview when one comes, then every
// cell. Resolves true once drawn, false when cancelled (`signal`); throws the API's errors.
// `progress`: what main.js gives: setStatus, setProgress, and isCurrent() (whether this is still
// the page's run).
export async function runSummaries(spec, signal, progress) {
  const began = performance.now();
  const kind = summaryKind(spec);
  const id = nextId++;
  let reached = 0;
  let rowCount = 0;
  // A tuned run streams nothing until it has tuned.
  if (spec.tune) progress.setStatus(tuningProgressText(spec.tune, spec.series.length));
  try {
    await new Promise((resolve, reject) => {
      signal.throwIfAborted();
      signal.addEventListener("abort", () => {
        summaryWorker().postMessage({ type: "cancel", id });
        reject(signal.reason);
      }, { once: true });
      listeners.set(id, (message) => {
        if (signal.aborted) return;
        if (message.type === "meta") {
          trajectoryController?.abort();
          revokeImages();
          shown = { id, spec, meta: message.meta, kind, stage: "waiting", pictures: [],
            clicked: null, drawing: null };
          showPanel();
          panel.trajectory.hidden = true;
          panel.info.textContent = "";
          showTuning(message.meta.tuning ?? null, spec.seeds,
            hooks.state().series.map((s) => s.color));
          describeRun();
          Plotly.purge(panel.plot);
          delete panel.plot.dataset.stage;
          // A map's axes are known from its grid: laid out now, in a frame of their own, so
          // that its cells need only be coloured when they come.
          if (kind === "map") {
            const run = shown;
            // Unless another run, or the trajectories' views, took the panel meanwhile.
            shown.drawing = afterFrame()
              .then(() => (shown === run ? drawMapFigure() : undefined))
              // The worker holds the stream until then (its parsing would slow the layout).
              .finally(() => summaryWorker().postMessage({ type: "laid-out", id }));
          }
        } else if (message.type === "progress") {
          reached = message.toStep - 1;
          progress.setProgress(reached, shown.meta.steps);
        } else if (message.type === "pictures") {
          revokeImages();
          Object.assign(shown, { stage: message.stage, pictures: message.pictures,
            paints: message.paints, urls: {} });
          redrawCells();
          if (message.stage === "preview") {
            progress.setStatus("Coarse map drawn (every 4th start); computing the rest…");
          }
        } else if (message.type === "done") {
          rowCount = message.rowCount;
          resolve(shown.drawing);
        } else if (message.type === "error") {
          reject(errorOf(message.error));
        }
      });
      summaryWorker().postMessage({ type: "run", id, spec, kind, phases: phasesOf(spec) });
    });
  } catch (error) {
    if (error.name !== "AbortError") throw error;
    // Cancelled by the user (a new run says its own status instead).
    if (progress.isCurrent()) {
      progress.setStatus(`Cancelled at step ${reached}`
        + (shown?.stage === "preview" ? "; the map shows the coarse preview." : "."));
      document.body.dataset.cancelledAt = String(performance.now());
    }
    return false;
  } finally {
    listeners.delete(id);
  }
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  progress.setStatus(`${rowCount} rows × ${shown.meta.steps} steps in ${seconds} s `
    + `(${shown.meta.device}, ${shown.meta.dtype}), summaries only.`);
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

// The pictures' places: columns and rows of equal cells, in pixels and in paper fractions.
function geometry(count, aspect, tallest) {
  const width = Math.max(panel.plot.clientWidth, 320);
  const fits = Math.max(1, Math.floor((width - px(MARGIN.l) - px(MARGIN.r) + px(GAP_X))
    / (LEAST_PICTURE_WIDTH + px(GAP_X))));
  const most = Math.min(MOST_COLUMNS, fits);
  // As many lines as needed, the pictures spread evenly over them.
  const columns = count <= most ? count : Math.ceil(count / Math.ceil(count / most));
  const lines = Math.ceil(count / columns);
  const plotWidth = width - px(MARGIN.l) - px(MARGIN.r);
  const cellWidth = (plotWidth - px(GAP_X) * (columns - 1)) / columns;
  const cellHeight = Math.min(tallest, Math.max(150, cellWidth * aspect));
  const plotHeight = lines * cellHeight + px(GAP_Y) * (lines - 1);
  const places = Array.from({ length: count }, (_, k) => {
    const [line, column] = [Math.floor(k / columns), k % columns];
    const x0 = (column * (cellWidth + px(GAP_X))) / plotWidth;
    const y1 = 1 - (line * (cellHeight + px(GAP_Y))) / plotHeight;
    return { line, column, x: [x0, x0 + cellWidth / plotWidth],
      y: [y1 - cellHeight / plotHeight, y1] };
  });
  return { height: plotHeight + px(MARGIN.t) + px(MARGIN.b), places, lines, plotWidth,
    plotHeight };
}

// What a colour bar of `metric` says it shows.
function scaleTitle(metric, best) {
  if (metric === "nearest") return "nearest minimum";
  if (metric === "steps") return "steps to tolerance";
  return best === null ? "log₁₀(final loss)" : "log₁₀(final loss − f*), floor 10⁻¹⁶";
}

// The same, shorter, for a colour bar too short for it (a phone's).
function shortScaleTitle(metric, best) {
  if (metric === "final_loss") return best === null ? "log₁₀ loss" : "log₁₀(loss − f*)";
  return metric === "steps" ? "steps" : "minimum";
}

// The colour axis of `metric` on `scale` (cells.js metricScale), with its colour bar's words
// (a phase diagram's: its heat maps are traces on it).
function colourAxis(metric, scale, minima, best) {
  const colorbar = { thickness: 12, title: { side: "right", text: scaleTitle(metric, best) } };
  if (metric === "nearest") {
    const ticks = scaleTicks(metric, scale, minima);
    Object.assign(colorbar, { tickvals: ticks.map((t) => t.value),
      ticktext: ticks.map((t) => t.label) });
  }
  return { ...scale, colorbar };
}

// A map's colour bar (a picture: colour-bar.js says why), in pixels at the base text size.
const BAR = { gap: 14, width: 118, strip: 14 };

function colourBarSource(scale, ticks, titles, height) {
  return paintColourBar({ ...scale, ticks, titles, height, width: px(BAR.width),
    strip: px(BAR.strip), textPx: px(11), titlePx: px(12),
    family: getComputedStyle(panel.plot).fontFamily });
}

// The edges of the cells centred on evenly spaced `centres`: [first - step/2, last + step/2].
function cellEdges(centres) {
  const first = centres[0];
  const last = centres[centres.length - 1];
  const half = centres.length > 1 ? (last - first) / (centres.length - 1) / 2 : 0.5;
  return [first - half, last + half];
}

// The box a map's pictures span, [[x0, x1], [y0, y1]]: its grid's cells, edge to edge, as a
// heat map's bricks would (its axes' ranges and its images' places).
function mapBox(spec) {
  return [cellEdges(gridAxis(spec.starts.grid.x)), cellEdges(gridAxis(spec.starts.grid.y))];
}

// The image URLs of the map's pictures coloured by `metric`, made once per metric.
function imageUrls(metric) {
  shown.urls[metric] ??= shown.paints[metric].images.map((blob) => URL.createObjectURL(blob));
  return shown.urls[metric];
}

function revokeImages() {
  for (const urls of Object.values(shown?.urls ?? {})) urls.forEach((url) => URL.revokeObjectURL(url));
  if (shown) shown.urls = {};
}

// A phase diagram's axis ticks at its swept values (every few when there are many): its
// columns are those values, not a continuous scale.
function valueTicks(values) {
  const every = Math.ceil(values.length / 9);
  const shown = Array.from(values).filter((_, k) => k % every === 0);
  return { tickmode: "array", tickvals: shown, ticktext: shown.map(formatValue) };
}

function axisNames(k) {
  return k === 0 ? ["x", "y"] : [`x${k + 1}`, `y${k + 1}`];
}

const PLOT_CONFIG = { responsive: true, displaylogo: false, showSendToCloud: false,
  modeBarButtonsToRemove: ["lasso2d", "select2d"] };

// The figure's layout without colours: one pair of axes per picture (`pictures`: [{label,
// xName, yName, x, y}], x and y a phase diagram's swept values; a map's axes span its grid's
// cells), its title above it.
function figureLayout(pictures) {
  const { kind, spec } = shown;
  textScale = measureTextScale();
  // A map keeps the box's shape; a phase diagram is wider than tall and stays on one screen.
  let [aspect, tallest] = [0.6, 420];
  if (kind === "map") {
    const { x, y } = spec.starts.grid;
    aspect = Math.abs(y[1] - y[0]) / Math.max(Math.abs(x[1] - x[0]), 1e-12);
    tallest = 520;
  }
  const { height, places, lines, plotWidth, plotHeight } = geometry(pictures.length, aspect,
    tallest);
  shown.plotSize = { width: plotWidth, height: plotHeight };
  const layout = {
    height, margin: Object.fromEntries(Object.entries(MARGIN).map(([k, v]) => [k, px(v)])),
    showlegend: false, plot_bgcolor: NO_VALUE_GREY, paper_bgcolor: "rgba(0,0,0,0)",
    font: { size: px(12) }, annotations: [], images: [],
    hovermode: "closest", uirevision: shown.spec, template: AXIS_TEMPLATE,
  };
  pictures.forEach((picture, k) => {
    const [xName, yName] = axisNames(k);
    const place = places[k];
    const common = { showgrid: false, zeroline: false, ticks: "outside", automargin: false };
    const axes = kind === "phase"
      ? [{ type: axisType(picture.x), ...valueTicks(picture.x) },
        { type: axisType(picture.y), ...valueTicks(picture.y) }]
      : mapBox(spec).map((range) => ({ type: "linear", range }));
    layout[axisLayoutKey(xName)] = { ...common, domain: place.x, anchor: yName,
      title: { text: place.line === lines - 1 ? picture.xName : "" }, ...axes[0] };
    layout[axisLayoutKey(yName)] = { ...common, domain: place.y, anchor: xName,
      title: { text: place.column === 0 ? picture.yName : "" }, ...axes[1],
      // A map's pictures share the grid's y: its numbers once per line of pictures (fewer
      // labels for Plotly to measure when it lays the figure out).
      ...(kind === "map" && place.column > 0 ? { showticklabels: false } : {}) };
    layout.annotations.push({ text: picture.label, showarrow: false, xref: "paper",
      yref: "paper", x: (place.x[0] + place.x[1]) / 2, y: place.y[1], yanchor: "bottom",
      xanchor: "center", font: { size: px(13) } });
  });
  return layout;
}

// Draw a phase diagram's pictures, coloured by the chosen metric: the whole figure, heat maps
// over the swept values (a few thousand cells).
async function drawPhase() {
  const run = shown;
  const { meta, pictures } = run;
  const metric = currentMetric();
  const best = bestValue(meta.landscape);
  const minima = meta.landscape.global_minima;
  const values = pictures.map((picture) => flatValues(picture, metric, best));
  const range = sharedRange(values);
  const scale = metricScale(metric, { range, steps: meta.steps, minimaCount: minima.length });
  const layout = { ...figureLayout(pictures), coloraxis: colourAxis(metric, scale, minima, best) };
  const traces = pictures.map((picture, k) => {
    const [xName, yName] = axisNames(k);
    return { type: "heatmap", x: Array.from(picture.x), y: Array.from(picture.y),
      z: valueGrid(values[k], picture.nx, picture.ny), coloraxis: "coloraxis", xaxis: xName,
      yaxis: yName, name: picture.label, hoverinfo: "none",
      meta: { picture: k, label: picture.label, stage: shown.stage } };
  });
  traces.push(...clickedMarkers(pictures.length));
  await Plotly.react(panel.plot, traces, layout, { ...PLOT_CONFIG,
    toImageButtonOptions: { format: "png", filename: "optiscope-phase", scale: 2 } });
  if (shown === run) drawn(metric, values, range);
}

// A map's figure before its colours come: the axes over the grid, one per series. Drawn once
// per run: its pictures and colour bar then come as images (recolourMap), which Plotly swaps
// without laying out the figure again.
async function drawMapFigure() {
  const pictures = shown.meta.labels.map(({ label }) => ({ label, xName: "x", yName: "y" }));
  await Plotly.react(panel.plot, clickedMarkers(pictures.length), figureLayout(pictures), {
    ...PLOT_CONFIG,
    toImageButtonOptions: { format: "png", filename: "optiscope-map", scale: 2 } });
}

// Colour a map's pictures by the chosen metric: their images (painted by the worker, one
// pixel per start) and the colour bar (none when every cell is grey).
async function recolourMap() {
  const run = shown;
  const { meta, pictures } = run;
  const metric = currentMetric();
  const paint = run.paints[metric];
  const urls = imageUrls(metric);
  const best = bestValue(meta.landscape);
  const [[x0, x1], [y0, y1]] = mapBox(run.spec);
  const images = pictures.map((picture, k) => {
    const [xName, yName] = axisNames(k);
    return { source: urls[k], xref: xName, yref: yName, x: x0, y: y1, sizex: x1 - x0,
      sizey: y1 - y0, sizing: "stretch", xanchor: "left", yanchor: "top", layer: "below",
      name: picture.label };
  });
  const ticks = scaleTicks(metric, paint.scale, meta.landscape.global_minima);
  const title = scaleTitle(metric, best);
  if (paint.range !== null) {
    const { width, height } = shown.plotSize;
    const titles = [title, shortScaleTitle(metric, best)];
    images.push({ source: colourBarSource(paint.scale, ticks, titles, height), xref: "paper",
      yref: "paper", x: 1 + px(BAR.gap) / width, y: 1, sizex: px(BAR.width) / width, sizey: 1,
      sizing: "stretch", xanchor: "left", yanchor: "top", layer: "above", name: "colour bar" });
  }
  await Plotly.relayout(panel.plot, { images });
  if (shown !== run) return;
  // Read by the tests: the colour scale the pictures and their bar are painted on.
  panel.plot.cellScale = { metric, cmin: paint.scale.cmin, cmax: paint.scale.cmax,
    colorscale: paint.scale.colorscale, ticks, title, shown: paint.range !== null };
  drawn(metric, paint.values, paint.range);
}

// What a drawing leaves for the reader and the tests: the note when every cell is grey, and
// which stage of the run the cells show, coloured by what, with which values (cell (j, i) at
// j * nx + i, NaN where grey).
function drawn(metric, values, range) {
  panel.empty.textContent = range ? "" : EMPTY_NOTES[metric];
  panel.plot.dataset.stage = shown.stage;
  panel.plot.dataset.metric = metric;
  panel.plot.cellPictures = shown.pictures.map((picture, k) => ({ label: picture.label,
    stage: shown.stage, x: picture.x, y: picture.y, nx: picture.nx, ny: picture.ny,
    values: values[k] }));
}

// Draw the cells received so far again (new cells, or another metric), after any drawing
// under way.
function redrawCells() {
  const redraw = shown.kind === "map" ? recolourMap : drawPhase;
  const run = shown;
  shown.drawing = (shown.drawing ?? Promise.resolve()).then(() => {
    if (shown === run && run.pictures.length) return redraw();
    return undefined;
  });
  return shown.drawing;
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
    const i = nearestIndex(Array.from(picture.x, (v) => xa.d2p(v)), px);
    const j = nearestIndex(Array.from(picture.y, (v) => ya.d2p(v)), py);
    const cell = flatCell(picture, j, i);
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

// The clicked cell's marker on each of `count` pictures, off screen until a cell is clicked.
// Always there: they are also the traces that make Plotly lay out a map's axes (its pictures
// are images, not traces).
function clickedMarkers(count) {
  const { x, y } = shown.clicked ?? { x: null, y: null };
  return Array.from({ length: count }, (_, k) => {
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
  const markers = panel.plot.data.map((trace, index) => (trace.meta?.role === "clicked"
    ? index : -1)).filter((index) => index >= 0);
  Plotly.restyle(panel.plot, { x: markers.map(() => [shown.clicked.x]),
    y: markers.map(() => [shown.clicked.y]) }, markers);
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
  const info = await rowInfo(shown.id, cell.row);
  // Another cell was clicked, or the map left the page, meanwhile.
  if (trajectoryController !== controller || controller.signal.aborted || !info) return;
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
