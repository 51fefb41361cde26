// A run as it arrives (meta, chunks, done) and the numbers drawn from it. DOM-free.

import { columnType, decodeColumn, GrowableColumn, toTypedColumn } from "./columns.js";

// A row's columns, in the API's names and order (engine/record.py COLUMNS).
export const COLUMNS = ["steps", "x", "y", "loss", "grad_norm"];
const SUMMARY = ["row", "final_point", "final_loss", "distance_to_minimum", "steps_to_tolerance",
  "diverged_at"];

// The growable buffers behind each streamed row's columns (kept off the row, which holds only
// the filled views).
const buffers = new WeakMap();

// A new run from the stream's `meta` event: one row per trajectory, filled by `addChunk`. Each
// row's columns are typed arrays (steps Int32Array; the others Float64Array, or Float32Array for
// a float32 run), views of the points received so far.
export function newRun(meta) {
  return {
    meta,
    rows: meta.rows.map((info) => {
      const row = { ...info };
      const columns = {};
      for (const name of COLUMNS) {
        columns[name] = new GrowableColumn(columnType(name, meta.dtype));
        row[name] = columns[name].view();
      }
      row.result = null;
      buffers.set(row, columns);
      return row;
    }),
    lastStep: 0,
    done: false,
  };
}

// Append a `chunk` event's points (plain or typed columns, each decoded once) to its rows.
export function addChunk(run, chunk) {
  for (const part of chunk.rows) {
    const row = run.rows[part.row];
    const columns = buffers.get(row);
    for (const name of COLUMNS) {
      const values = decodeColumn(part[name]);
      if (values === null || values === undefined) continue;
      columns[name].append(values);
      row[name] = columns[name].view();
    }
  }
  run.lastStep = Math.max(run.lastStep, chunk.to_step - 1);
  // A row that has stopped (diverged) gets no points from then on, while every running row gets
  // the same recorded steps: a row left out of a chunk that has points has ended.
  if (chunk.rows.length) {
    const present = new Set(chunk.rows.map((part) => part.row));
    for (const row of run.rows) {
      if (!present.has(row.row) && row.steps.length) endedRows.add(row);
    }
  }
}

// Streamed rows known to have ended before the run has (kept off the rows, which hold only the
// API's fields).
const endedRows = new WeakSet();

// Whether the streamed `row` has stopped (diverged) while its run goes on.
export function hasEnded(row) {
  return endedRows.has(row);
}

export function finishRun(run, done) {
  for (const result of done.rows) run.rows[result.row].result = result;
  run.done = true;
}

// The rows of a whole result (POST /api/runs with Accept: application/json, either encoding),
// in the shape of a streamed run's rows.
export function rowsFromResult(result) {
  return result.series.map((entry) => {
    const row = {
      row: entry.row, series: entry.series, label: entry.label, optimizer: entry.optimizer,
      hparams: entry.hparams, seed: entry.seed, start: entry.start,
    };
    for (const name of COLUMNS) {
      row[name] = toTypedColumn(entry[name], columnType(name, result.dtype));
    }
    row.result = Object.fromEntries(SUMMARY.map((key) => [key, entry[key]]));
    return row;
  });
}

// `fn` of each value of `column`, as a Float64Array; a null result becomes NaN (a gap, as
// Plotly draws null).
export function mapColumn(column, fn) {
  const values = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) values[i] = fn(column[i]) ?? Number.NaN;
  return values;
}

// Distance of every point (x[i], y[i]) to the nearest global minimum, as a Float64Array; null
// when no minimum is known.
export function distancesToNearest(x, y, minima) {
  if (!minima.length) return null;
  const distances = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    let nearest = Infinity;
    for (const { point } of minima) {
      nearest = Math.min(nearest, Math.hypot(x[i] - point[0], y[i] - point[1]));
    }
    distances[i] = nearest;
  }
  return distances;
}

// The q-quantile of ascending `sorted` values, linearly interpolated.
export function quantile(sorted, q) {
  if (!sorted.length) return null;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}

// Median and the 10-90% band of `values(row)` across `rows` (the seeds of one series), at
// every step any of them reached (every `every`-th of those steps and the last, for a plot
// that shows fewer). Rows that diverged drop out after their last point.
export function seedBand(rows, values, every = 1) {
  const aligned = sharedSteps(rows);
  if (aligned) return alignedBand(rows, values, aligned, every);
  const byStep = new Map();
  for (const row of rows) {
    const series = values(row);
    row.steps.forEach((step, i) => {
      if (series[i] === null || !Number.isFinite(series[i])) return;
      if (!byStep.has(step)) byStep.set(step, []);
      byStep.get(step).push(series[i]);
    });
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b)
    .filter((_, i, all) => i % every === 0 || i === all.length - 1);
  const band = { steps, median: [], low: [], high: [] };
  for (const step of steps) {
    const sorted = byStep.get(step).sort((a, b) => a - b);
    band.median.push(quantile(sorted, 0.5));
    band.low.push(quantile(sorted, 0.1));
    band.high.push(quantile(sorted, 0.9));
  }
  return band;
}

// The steps every row of `rows` shares: the longest row's, when each row's steps are the start of
// them (seeds of one series record the same steps; a row that stopped has fewer); else null.
function sharedSteps(rows) {
  let longest = null;
  for (const row of rows) if (!longest || row.steps.length > longest.length) longest = row.steps;
  if (!longest) return null;
  for (const row of rows) {
    const { steps } = row;
    for (let i = 0; i < steps.length; i++) if (steps[i] !== longest[i]) return null;
  }
  return longest;
}

// seedBand for rows that share their steps: one pass per step over a scratch array, no map (a
// 64-seed run of 2,000 points per row takes milliseconds instead of a frame's worth).
function alignedBand(rows, values, steps, every) {
  const columns = rows.map(values);
  const scratch = new Float64Array(rows.length);
  const band = { steps: [], median: [], low: [], high: [] };
  const last = steps.length - 1;
  for (let i = 0; i <= last; i++) {
    if (i % every !== 0 && i !== last) continue;
    let n = 0;
    for (let r = 0; r < rows.length; r++) {
      const value = i < rows[r].steps.length ? columns[r][i] : null;
      if (value !== null && Number.isFinite(value)) scratch[n++] = value;
    }
    if (!n) continue;
    const sorted = scratch.subarray(0, n).sort();
    band.steps.push(steps[i]);
    band.median.push(quantile(sorted, 0.5));
    band.low.push(quantile(sorted, 0.1));
    band.high.push(quantile(sorted, 0.9));
  }
  return band;
}

// Indices of the points right after preconditioner refreshes at powers of two (steps 1, 2, 4,
// 8, ...: an optimizer whose capabilities.preconditioner_refreshes is "powers_of_two").
export function refreshIndices(steps) {
  const indices = [];
  steps.forEach((step, i) => {
    if (step >= 1 && (step & (step - 1)) === 0) indices.push(i);
  });
  return indices;
}
