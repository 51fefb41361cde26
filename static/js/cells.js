// Pictures of many rows at once, from their summaries (a `record: final` run): maps over a grid
// of starts and phase diagrams over two hyperparameters. DOM-free; the same semantics as the
// server's engine/maps.py (which `optiscope render` draws with), so the page and the CLI show
// the same cells:
//
// - a map has one cell per start of the grid, per label (a series, or one swept value of it),
//   the median over the run's seeds;
// - a phase diagram has one cell per pair of values of a series swept over two
//   hyperparameters (the second on x, the first on y), the median over seeds and starts;
// - a diverged row's final loss counts as +Infinity (a cell where most rows diverged has an
//   infinite median: drawn grey, "diverged");
// - steps to tolerance: the median first step among the rows that reached it (none: no value,
//   drawn grey), with the share that did;
// - nearest minimum: the one most non-diverged rows of the cell ended nearest, ties to the lower
//   index.

import { PLOTLY_CIVIDIS, PLOTLY_VIRIDIS, SERIES_PALETTE } from "./colors.js";
import { roundTicks } from "./colour-bar.js";

// Loss gaps are floored here on the log colour scale (an exact hit would be -Infinity), as the
// loss plot floors them (view.js).
export const GAP_FLOOR = 1e-16;

// The coordinates of a grid axis [lo, hi, n]: n evenly spaced values, ends included (as the
// server's StartGrid.points computes them).
export function gridAxis([lo, hi, n]) {
  if (n === 1) return [lo];
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

// The median of numbers (Infinity allowed: the mean of the two middle values of an even count,
// as numpy's median takes it); NaN for none.
export function medianOf(values) {
  if (!values.length) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function isDiverged(summary) {
  return summary.diverged_at !== null && summary.diverged_at !== undefined;
}

// A row's final loss for the cells: +Infinity once it diverged (or when it has none).
export function rowFinalLoss(summary) {
  if (isDiverged(summary) || summary.final_loss === null || summary.final_loss === undefined) {
    return Number.POSITIVE_INFINITY;
  }
  return summary.final_loss;
}

// The numbers of one cell from its rows' summaries; `best` is the landscape's global minimum
// value (null when none is known). Values without meaning are NaN. Written without temporary
// maps or closures: a 256 x 256 map of three series is 196,608 cells.
export function cellMetrics(summaries, best) {
  const count = summaries.length;
  const losses = new Float64Array(count);
  const reachedSteps = [];
  const basins = [];
  let diverged = 0;
  let lossMin = Infinity;
  let lossMax = -Infinity;
  for (let k = 0; k < count; k++) {
    const summary = summaries[k];
    const loss = rowFinalLoss(summary);
    losses[k] = loss;
    if (loss < lossMin) lossMin = loss;
    if (loss > lossMax) lossMax = loss;
    const steps = summary.steps_to_tolerance;
    if (steps !== null && steps !== undefined) reachedSteps.push(steps);
    if (isDiverged(summary)) {
      diverged += 1;
      continue;
    }
    const nearest = summary.nearest_minimum;
    if (nearest !== null && nearest !== undefined) basins[nearest] = (basins[nearest] ?? 0) + 1;
  }
  // The most common basin; ties go to the lower index (the first reached in index order).
  let nearestMinimum = Number.NaN;
  let most = 0;
  basins.forEach((times, index) => {
    if (times > most) [most, nearestMinimum] = [times, index];
  });
  const finalLoss = count === 1 ? losses[0] : medianOf(losses);
  return {
    finalLoss,
    gap: best === null || best === undefined ? Number.NaN : finalLoss - best,
    stepsToTolerance: medianOf(reachedSteps),
    reached: reachedSteps.length,
    rows: count,
    diverged,
    nearestMinimum,
    lossMin,
    lossMax,
  };
}

// The lowest global minimum value of a run's landscape (meta.landscape), null when none.
export function bestValue(landscape) {
  const minima = landscape?.global_minima ?? [];
  return minima.length ? Math.min(...minima.map((m) => m.value)) : null;
}

// One map per label (in the order of the run's rows) over a grid of starts `grid`
// ({x: [lo, hi, nx], y: [lo, hi, ny]}), from the run's row identities `infos` (meta.rows) and
// any subset of its rows' `summaries` (the preview's every 4th start, or all): a map's axes are
// the grid columns and rows present, so a preview is a coarser map of the same box. Each map:
// {label, series, xName, yName, x, y, cells}, cells[j][i] = {x, y, metrics, members} or null,
// members being [{info, summary}].
export function startMaps(infos, summaries, grid, best) {
  const nx = grid.x[2];
  const perStart = nx * grid.y[2];
  const xs = gridAxis(grid.x);
  const ys = gridAxis(grid.y);
  // Labels in the order of the run's rows, each with its rows by start (an array: a map's
  // starts are dense).
  const labels = [];
  const labelIndex = new Map();
  for (const info of infos) {
    if (!labelIndex.has(info.label)) {
      labelIndex.set(info.label, labels.length);
      labels.push({ label: info.label, series: info.series, starts: new Array(perStart) });
    }
  }
  const columnSeen = new Uint8Array(nx);
  const lineSeen = new Uint8Array(grid.y[2]);
  for (const summary of summaries) {
    const info = infos[summary.row];
    const start = summary.row % perStart;
    columnSeen[start % nx] = 1;
    lineSeen[Math.floor(start / nx)] = 1;
    const { starts } = labels[labelIndex.get(info.label)];
    (starts[start] ??= []).push({ info, summary });
  }
  const iAxis = [...columnSeen.keys()].filter((i) => columnSeen[i]);
  const jAxis = [...lineSeen.keys()].filter((j) => lineSeen[j]);
  return labels.map(({ label, series, starts }) => {
    const cells = jAxis.map((j) => iAxis.map((i) => {
      const members = starts[j * nx + i];
      if (!members) return null;
      return { x: xs[i], y: ys[j], members,
        metrics: cellMetrics(members.map((m) => m.summary), best) };
    }));
    return { label, series, xName: "x", yName: "y", x: iAxis.map((i) => xs[i]),
      y: jAxis.map((j) => ys[j]), cells };
  });
}

// The phase diagram of series `series` swept over two hyperparameters `sweeps` ([first, second],
// each {param, values}): the second on x, the first on y; each cell the median over the
// series' rows with that pair (seeds x starts).
export function phaseDiagram(infos, summaries, series, sweeps, best) {
  const [ySweep, xSweep] = sweeps;
  const cells = ySweep.values.map(() => xSweep.values.map(() => null));
  const groups = new Map();
  let label = null;
  for (const summary of summaries) {
    const info = infos[summary.row];
    if (info.series !== series) continue;
    label ??= info.label;
    const j = ySweep.values.indexOf(info.hparams[ySweep.param]);
    const i = xSweep.values.indexOf(info.hparams[xSweep.param]);
    if (i < 0 || j < 0) continue;
    const key = j * xSweep.values.length + i;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ info, summary });
  }
  for (const [key, members] of groups) {
    const [j, i] = [Math.floor(key / xSweep.values.length), key % xSweep.values.length];
    cells[j][i] = { x: xSweep.values[i], y: ySweep.values[j],
      metrics: cellMetrics(members.map((m) => m.summary), best), members };
  }
  return { label: label ?? `series ${series + 1}`, series, xName: xSweep.param,
    yName: ySweep.param, x: [...xSweep.values], y: [...ySweep.values], cells };
}

// How to draw an axis of swept values: log when they are all positive and span more than 20x.
export function axisType(values) {
  const positive = values.length > 1 && values.every((v) => v > 0);
  return positive && Math.max(...values) / Math.min(...values) > 20 ? "log" : "linear";
}

// The metrics a picture can be coloured by: the final loss always, the steps to tolerance, and,
// on a map of a landscape with several global minima, which one each start ends nearest.
export function availableMetrics(kind, minimaCount) {
  const metrics = ["final_loss", "steps"];
  if (kind === "map" && minimaCount > 1) metrics.push("nearest");
  return metrics;
}

// The colour value of a cell for `metric`, null where the cell is greyed: the final loss as
// log10 of its gap to the minimum (floored at GAP_FLOOR; of the loss itself when no minimum is
// known), null when it diverged; the median steps to tolerance, null when no row reached it;
// the index of the nearest minimum, null when the rows diverged.
export function cellValue(cell, metric, best) {
  if (!cell) return null;
  const m = cell.metrics;
  const value = metricValue(metric, m.finalLoss, m.gap, m.stepsToTolerance, m.nearestMinimum,
    best);
  return Number.isFinite(value) ? value : null;
}

// cellValue's number from a cell's metrics, NaN where greyed: one definition for the cells as
// objects and as flat columns.
function metricValue(metric, finalLoss, gap, stepsToTolerance, nearestMinimum, best) {
  if (metric === "final_loss") {
    const shown = best === null || best === undefined ? finalLoss : gap;
    return Number.isFinite(shown) ? Math.log10(Math.max(shown, GAP_FLOOR)) : Number.NaN;
  }
  return metric === "steps" ? stepsToTolerance : nearestMinimum;
}

// ---- pictures as flat columns ----
//
// What the summary worker (summary-worker.js) hands the page: every per-cell number of a
// picture as a typed array, cell (j, i) at index j * nx + i, transferred rather than copied and
// read by hover and drawing without an object per cell (a 256 x 256 map of three series is
// 196,608 cells). NaN where a number has no meaning; `firstRow` is the row index of the cell's
// first member, -1 where the picture has no cell.

const FLAT_FLOATS = ["finalLoss", "gap", "stepsToTolerance", "nearestMinimum", "lossMin",
  "lossMax"];
const FLAT_COUNTS = ["reached", "rows", "diverged", "firstRow"];

// `picture` (startMaps' or phaseDiagram's) as flat columns.
export function flatPicture(picture) {
  const nx = picture.x.length;
  const ny = picture.y.length;
  const flat = { label: picture.label, series: picture.series, xName: picture.xName,
    yName: picture.yName, x: Float64Array.from(picture.x), y: Float64Array.from(picture.y), nx,
    ny };
  for (const name of FLAT_FLOATS) flat[name] = new Float64Array(nx * ny).fill(Number.NaN);
  for (const name of FLAT_COUNTS) flat[name] = new Int32Array(nx * ny);
  flat.firstRow.fill(-1);
  picture.cells.forEach((line, j) => line.forEach((cell, i) => {
    if (!cell) return;
    const k = j * nx + i;
    for (const name of FLAT_FLOATS) flat[name][k] = cell.metrics[name];
    flat.reached[k] = cell.metrics.reached;
    flat.rows[k] = cell.metrics.rows;
    flat.diverged[k] = cell.metrics.diverged;
    flat.firstRow[k] = cell.members[0].summary.row;
  }));
  return flat;
}

// The buffers of a flat picture's columns: what postMessage transfers.
export function flatBuffers(flat) {
  return [flat.x, flat.y, ...FLAT_FLOATS.map((n) => flat[n]), ...FLAT_COUNTS.map((n) => flat[n])]
    .map((column) => column.buffer);
}

// Cell (j, i) of a flat picture as describeCell and cellValue take a cell ({x, y, metrics}),
// with `row`, its first member's row; null where there is none.
export function flatCell(flat, j, i) {
  if (i < 0 || j < 0 || i >= flat.nx || j >= flat.ny) return null;
  const k = j * flat.nx + i;
  if (flat.firstRow[k] < 0) return null;
  const metrics = {};
  for (const name of FLAT_FLOATS) metrics[name] = flat[name][k];
  metrics.reached = flat.reached[k];
  metrics.rows = flat.rows[k];
  metrics.diverged = flat.diverged[k];
  return { x: flat.x[i], y: flat.y[j], row: flat.firstRow[k], metrics };
}

// The colour values of a flat picture for `metric` (cellValue's, NaN where greyed), by cell.
export function flatValues(flat, metric, best) {
  const values = new Float64Array(flat.nx * flat.ny).fill(Number.NaN);
  for (let k = 0; k < values.length; k++) {
    if (flat.firstRow[k] < 0) continue;
    values[k] = metricValue(metric, flat.finalLoss[k], flat.gap[k], flat.stepsToTolerance[k],
      flat.nearestMinimum[k], best);
  }
  return values;
}

// Flat values as Plotly's heat map takes z: lines by y, null where greyed.
export function valueGrid(values, nx, ny) {
  return Array.from({ length: ny }, (_, j) => Array.from(values.subarray(j * nx, (j + 1) * nx),
    (value) => (Number.isFinite(value) ? value : null)));
}

// The shared colour range of several pictures' values: [lowest, highest] of their finite
// numbers, or null when none has one (every cell greyed).
export function sharedRange(valueLists) {
  let low = Infinity;
  let high = -Infinity;
  for (const values of valueLists) {
    for (const value of values) {
      if (!Number.isFinite(value)) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  return low <= high ? [low, high] : null;
}

// The colour scale of `metric` and its ends, as Plotly's colour axis takes them (explicit
// stops: the worker paints map pictures with the same): the final loss on Viridis over the
// pictures' shared `range`; the steps to tolerance on Cividis from 0 to the run's `steps`; the
// nearest minimum categorical, minimum k the k-th series colour, flat over [k - 1/2, k + 1/2).
export function metricScale(metric, { range, steps, minimaCount }) {
  if (metric === "nearest") {
    const colorscale = [];
    for (let k = 0; k < minimaCount; k++) {
      const colour = SERIES_PALETTE[k % SERIES_PALETTE.length];
      colorscale.push([k / minimaCount, colour], [(k + 1) / minimaCount, colour]);
    }
    return { colorscale, cmin: -0.5, cmax: minimaCount - 0.5 };
  }
  if (metric === "steps") return { colorscale: PLOTLY_CIVIDIS, cmin: 0, cmax: steps };
  const [low, high] = range ?? [0, 1];
  return { colorscale: PLOTLY_VIRIDIS, cmin: low, cmax: high > low ? high : low + 1 };
}

// What a colour bar marks on `scale` (metricScale's): a categorical scale each category
// (`minima`: the run's global minima, labelled by their points), a continuous one about
// `count` round values (1, 2, 2.5 or 5 times a power of ten apart), its ends included when
// round. [{value, label}].
export function scaleTicks(metric, scale, minima, count = 6) {
  if (metric === "nearest") {
    return minima.map((minimum, k) => ({ value: k,
      label: `(${formatValue(minimum.point[0])}, ${formatValue(minimum.point[1])})` }));
  }
  return roundTicks(scale.cmin, scale.cmax, count)
    .map((value) => ({ value, label: formatValue(value) }));
}

// Where the coordinates `coords` of a picture's columns (or lines) sit on the grid axis
// [lo, hi, n]: their indices among its n values.
export function gridIndices(coords, [lo, hi, n]) {
  return Int32Array.from(coords, (c) => (n === 1 ? 0 : Math.round(((c - lo) / (hi - lo)) * (n - 1))));
}

// The values of a coarse picture (columns `columns` and lines `lines` of a grid of
// `nx` x `ny` starts, by their indices: the preview's every 4th) spread over the whole grid:
// each coarse cell fills its block, up to the next coarse column and line. Painted so, the
// preview covers the same box as the finished map, on the same axes.
export function blockValues(values, columns, lines, nx, ny) {
  const spread = new Float64Array(nx * ny);
  const columnOf = new Int32Array(nx);
  for (let a = 0, i = 0; i < nx; i++) {
    while (a + 1 < columns.length && columns[a + 1] <= i) a++;
    columnOf[i] = a;
  }
  for (let b = 0, j = 0; j < ny; j++) {
    while (b + 1 < lines.length && lines[b + 1] <= j) b++;
    const from = b * columns.length;
    for (let i = 0; i < nx; i++) spread[j * nx + i] = values[from + columnOf[i]];
  }
  return spread;
}

// A map picture's pixels (RGBA, one per cell, the top line the highest y, as an image is
// drawn): each value's colour from `table` (colourTable's 256 entries) between `cmin` and
// `cmax`, transparent where greyed (the plot's grey background shows through).
export function cellPixels(values, nx, ny, table, cmin, cmax) {
  const pixels = new Uint8ClampedArray(nx * ny * 4);
  const scale = cmax > cmin ? 255 / (cmax - cmin) : 0;
  for (let j = 0; j < ny; j++) {
    const line = (ny - 1 - j) * nx;
    for (let i = 0; i < nx; i++) {
      const value = values[j * nx + i];
      if (!Number.isFinite(value)) continue;
      const entry = 3 * Math.min(255, Math.max(0, Math.round((value - cmin) * scale)));
      const p = 4 * (line + i);
      pixels[p] = table[entry];
      pixels[p + 1] = table[entry + 1];
      pixels[p + 2] = table[entry + 2];
      pixels[p + 3] = 255;
    }
  }
  return pixels;
}

// A number for reading: 3 significant digits, "diverged" for +Infinity.
export function formatValue(value) {
  if (value === Number.POSITIVE_INFINITY) return "diverged";
  if (!Number.isFinite(value)) return "—";
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) {
    return value.toExponential(2);
  }
  return String(Number(value.toPrecision(3)));
}

function pointText([x, y]) {
  return `(${formatValue(x)}, ${formatValue(y)})`;
}

// What hovering a cell says: where it is, its median final loss with the spread, the steps to
// tolerance, the basin (maps of landscapes with several minima) and how many rows diverged.
// `minima`: the run's landscape.global_minima.
export function describeCell(picture, cell, minima) {
  const m = cell.metrics;
  const where = picture.xName === "x"
    ? `${picture.label}, start ${pointText([cell.x, cell.y])}`
    : `${picture.label}, ${picture.yName} ${formatValue(cell.y)}, `
      + `${picture.xName} ${formatValue(cell.x)}`;
  const parts = [];
  if (m.rows === 1) {
    parts.push(`final loss ${formatValue(m.finalLoss)}`);
    parts.push(m.reached ? `within tolerance at step ${m.stepsToTolerance}`
      : "never within tolerance");
  } else {
    parts.push(`final loss ${formatValue(m.finalLoss)} (median of ${m.rows} rows; `
      + `min ${formatValue(m.lossMin)}, max ${formatValue(m.lossMax)})`);
    parts.push(m.reached
      ? `within tolerance for ${m.reached}/${m.rows}, median step ${formatValue(m.stepsToTolerance)}`
      : `never within tolerance (0/${m.rows})`);
  }
  if (minima.length > 1 && Number.isFinite(m.nearestMinimum)) {
    parts.push(`ends nearest the minimum ${pointText(minima[m.nearestMinimum].point)}`);
  }
  if (m.diverged) parts.push(`diverged: ${m.diverged} of ${m.rows}`);
  return `${where}: ${parts.join("; ")}.`;
}
