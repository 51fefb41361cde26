// A network run as it arrives (meta, chunks, snapshots, plane, done), the numbers drawn from
// it, and its exports. DOM-free.

import { columnType, decodeColumn, GrowableColumn } from "./columns.js";

// A row's columns, in the API's names and order (engine/training.py NETWORK_COLUMNS);
// `accuracy` comes for a classification only.
export const NETWORK_COLUMNS = ["steps", "loss", "held_out_loss", "accuracy", "grad_norm"];

// The growable buffers behind each streamed row's columns (kept off the row, which holds only
// the filled views).
const buffers = new WeakMap();

// A new run from the stream's `meta` event: one row per network, its columns typed arrays (views
// of the points received so far), no snapshots, no plane.
export function newNetworkRun(meta) {
  const classification = meta.task.data.kind === "classification";
  const names = NETWORK_COLUMNS.filter((name) => classification || name !== "accuracy");
  return {
    meta,
    classification,
    columns: names,
    rows: meta.rows.map((info) => {
      const row = { ...info, result: null, plane: null };
      const columns = {};
      for (const name of names) {
        columns[name] = new GrowableColumn(columnType(name, meta.dtype));
        row[name] = columns[name].view();
      }
      buffers.set(row, columns);
      return row;
    }),
    // Snapshots in the order they came (their steps increase): {step, byRow: Map(row -> values)}.
    snapshots: [],
    lastStep: 0,
    done: false,
  };
}

// Append a `chunk` event's points (plain or typed columns, each decoded once) to its rows.
export function addNetworkChunk(run, chunk) {
  for (const part of chunk.rows) {
    const row = run.rows[part.row];
    const columns = buffers.get(row);
    for (const name of run.columns) {
      const values = decodeColumn(part[name]);
      if (values === null || values === undefined) continue;
      columns[name].append(values);
      row[name] = columns[name].view();
    }
  }
  run.lastStep = Math.max(run.lastStep, chunk.to_step - 1);
}

// The shape of a snapshot's values: [classes, ny, nx] over the meta's grid for a classification,
// [points] for a regression's curve.
export function snapshotShape(meta) {
  const grid = meta.snapshots.grid;
  if (meta.task.data.kind !== "classification") return [grid.x.length];
  return [meta.task.data.classes, grid.y.length, grid.x.length];
}

// Nested lists (the plain encoding) flattened in order into `Type`.
function flattenNested(values, Type) {
  const flat = [];
  const walk = (value) => {
    if (Array.isArray(value)) value.forEach(walk);
    else flat.push(value);
  };
  walk(values);
  return Type.from(flat);
}

// One snapshot's values as one flat Float32Array: a typed array ({dtype, bdata}, maybe with a
// `shape` such as "2,48,48") or nested lists. Its length must be what `shape` says.
export function decodeSnapshotValues(values, shape) {
  const flat = Array.isArray(values) ? flattenNested(values, Float32Array)
    : Float32Array.from(decodeColumn(values));
  const expected = shape.reduce((product, side) => product * side, 1);
  if (flat.length !== expected) {
    throw new RangeError(`a snapshot of ${flat.length} values where ${shape.join(" x ")} `
      + `= ${expected} were expected`);
  }
  return flat;
}

// Keep a `snapshot` event: each row's class probabilities or fitted curve, decoded once.
export function addSnapshot(run, snapshot) {
  const shape = snapshotShape(run.meta);
  const byRow = new Map();
  for (const part of snapshot.rows) {
    const values = part.probabilities ?? part.prediction;
    if (values === undefined || values === null) continue;
    byRow.set(part.row, decodeSnapshotValues(values, shape));
  }
  const entry = { step: snapshot.step, byRow };
  // A snapshot of a step already kept (the server sends each step once) replaces it.
  const index = run.snapshots.findIndex((s) => s.step === snapshot.step);
  if (index >= 0) run.snapshots[index] = entry;
  else run.snapshots.push(entry);
  return entry;
}

// The snapshots that hold row `row`, in step order.
export function snapshotsOf(run, row) {
  return run.snapshots.filter((snapshot) => snapshot.byRow.has(row));
}

// Keep a `plane` event on its rows.
export function addPlane(run, plane) {
  for (const part of plane.rows) run.rows[part.row].plane = part;
}

export function finishNetworkRun(run, done) {
  for (const result of done.rows) run.rows[result.row].result = result;
  run.done = true;
}

// ---- drawing helpers ----

// Every `stride`-th point a row gets on screen: the run's points per plot stay under `budget`
// however many rows and steps it has (`pointsPerRow`: the most a row can get).
export function displayStride(rows, pointsPerRow, budget) {
  return Math.max(1, Math.ceil((rows * pointsPerRow) / budget));
}

// The indices from `from` (inclusive) to `to` (exclusive) that a stride of `stride` shows:
// every multiple of `stride`, and the last point of a finished row.
export function strideIndices(from, to, stride, includeLast = false) {
  const indices = [];
  for (let i = Math.ceil(from / stride) * stride; i < to; i += stride) indices.push(i);
  if (includeLast && to > 0 && indices.at(-1) !== to - 1 && (to - 1) >= from) indices.push(to - 1);
  return indices;
}

// Values floored at `floor` for a log axis (a loss or gradient norm of exactly 0 would vanish).
export function floored(values, indices, floor) {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = Math.max(values[indices[k]], floor);
  return out;
}

export function picked(values, indices) {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}

// Class `c`'s probabilities of a snapshot (flat [classes, ny, nx]) as ny rows of nx: a heat
// map's z (y by x).
export function classProbabilityRows(values, shape, c) {
  const [, ny, nx] = shape;
  return Array.from({ length: ny }, (_, j) => Array.from(
    values.subarray((c * ny + j) * nx, (c * ny + j + 1) * nx)));
}

// "#rrggbb" as [r, g, b].
export function hexToRgb(hex) {
  return [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
}

// A snapshot of more than two classes as a picture: each cell the classes' colours mixed by
// their probabilities over white (a sure cell has its class's colour, an undecided one is
// pale): ny rows of nx [r, g, b], for Plotly's image trace.
export function blendedClassColors(values, shape, colors) {
  const [classes, ny, nx] = shape;
  const rgb = colors.map(hexToRgb);
  const rows = [];
  for (let j = 0; j < ny; j++) {
    const row = [];
    for (let i = 0; i < nx; i++) {
      let best = 0;
      const mixed = [0, 0, 0];
      for (let c = 0; c < classes; c++) {
        const p = values[(c * ny + j) * nx + i];
        best = Math.max(best, p);
        for (let k = 0; k < 3; k++) mixed[k] += p * rgb[c][k];
      }
      // Confidence 1/classes (a uniform guess) is white, 1 the class colour.
      const guess = 1 / classes;
      const sure = classes > 1 ? Math.min(1, Math.max(0, (best - guess) / (1 - guess))) : 1;
      row.push(mixed.map((v) => Math.round(255 + sure * (v - 255))));
    }
    rows.push(row);
  }
  return rows;
}

// A plane's loss (alpha by beta, null where not finite) as a contour's z (beta by alpha), in
// log10 where every finite value is positive (losses span decades around a minimum).
export function planeContour(plane) {
  const { alpha, beta, loss } = plane;
  const finite = loss.flat().filter((v) => v !== null && Number.isFinite(v));
  const log = finite.length > 0 && finite.every((v) => v > 0);
  const z = beta.map((_, j) => alpha.map((__, i) => {
    const v = loss[i]?.[j];
    if (v === null || v === undefined || !Number.isFinite(v)) return null;
    return log ? Math.log10(v) : v;
  }));
  return { x: alpha, y: beta, z, log };
}

// A plane's path on its surface: (alpha, beta) of each kept step and, as its height, the loss on
// the plane there (`path_loss`), in log10 when the contour is (`log`); a height that is not
// finite (or not positive on a log scale) is null, a gap in the line.
export function planeSurfacePath(plane, log) {
  const path = plane.path ?? [];
  const heights = plane.path_loss ?? [];
  const z = path.map((_, t) => {
    const v = heights[t];
    if (v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0)) return null;
    return log ? Math.log10(v) : v;
  });
  return { x: path.map((p) => p[0]), y: path.map((p) => p[1]), z };
}

// An axis title for a plane's direction `index` (0: alpha, 1: beta); `short` for a 3-D axis,
// where a long title runs off the box.
export function planeAxisTitle(plane, index, { short = false } = {}) {
  const name = index === 0 ? "α" : "β";
  if (plane.kind === "pca") {
    const share = plane.explained_variance?.[index];
    const pc = `PC${index + 1}`;
    if (share === null || share === undefined) return `${name} (${pc})`;
    const percent = `${(100 * share).toFixed(1)} %`;
    return short ? `${name} (${pc}, ${percent})` : `${name} (${pc}, ${percent} of the variance)`;
  }
  return short ? `${name} (random ${index + 1})`
    : `${name} (random filter-normalised direction ${index + 1})`;
}

// ---- exports ----

const CSV_COLUMNS = ["row", "series", "label", "optimizer", "seed", "swept_param", "swept_value",
  "step", "loss", "held_out_loss", "accuracy", "grad_norm"];

function csvField(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// One line per recorded step of every row: `sweeps[series]` names the swept hyperparameter of
// each series, if any; a regression's accuracy is empty.
export function networkRunToCsv(run, sweeps) {
  const lines = [CSV_COLUMNS.join(",")];
  for (const row of run.rows) {
    const param = sweeps[row.series] ?? null;
    const swept = param ? row.hparams[param] : null;
    for (let i = 0; i < row.steps.length; i++) {
      lines.push([
        row.row, row.series, row.label, row.optimizer, row.seed, param, swept,
        row.steps[i], row.loss[i], row.held_out_loss[i], row.accuracy ? row.accuracy[i] : null,
        row.grad_norm[i],
      ].map(csvField).join(","));
    }
  }
  return `${lines.join("\n")}\n`;
}

// The run as JSON: the reproducibility record (`record`: export.js's), the task, model and batch
// size as the server ran them, and every row under the API's names (identity, columns as plain
// numbers, summary, and its loss plane when one was computed).
export function networkRunToJson(run, record) {
  return JSON.stringify({
    reproducibility: record,
    task: { id: run.meta.task.id, label: run.meta.task.label, params: run.meta.task.params },
    model: run.meta.model,
    batch_size: run.meta.batch_size,
    steps: run.meta.steps,
    rows: run.rows.map((row) => ({
      row: row.row, series: row.series, label: row.label, optimizer: row.optimizer,
      hparams: row.hparams, seed: row.seed,
      ...Object.fromEntries(run.columns.map((name) => [name, Array.from(row[name])])),
      ...row.result,
      ...(row.plane ? { plane: row.plane } : {}),
    })),
  }, null, 1);
}
