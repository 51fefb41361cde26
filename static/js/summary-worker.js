// Streams `record: final` runs (maps and phase diagrams) off the page's main thread (a module
// worker): reads the server-sent events, parses them, aggregates the rows' summaries into
// cells (cells.js) and paints each map as an image, one pixel per cell, for every metric it can
// be coloured by. A 256 x 256 map of three series is some 40 MB of JSON in its first event and
// as much in its last: parsed on the page, each froze it for half a second. The page gets the
// pictures as flat typed columns (transferred, not copied) and PNG blobs.
//
// Messages in:
// - {type: "run", id, spec, kind ("map" | "phase"), phases: [{series, sweeps, label}]}: stream
//   the run (any earlier run is cancelled first);
// - {type: "cancel", id};
// - {type: "laid-out", id}: the page has laid out the map's figure, which the worker waits for
//   after posting a map's meta (see `stream`);
// - {type: "row", id, row, ask}: the identity of row `row` of run `id` (meta.rows[row]), for a
//   clicked cell;
// - {type: "export", id, format ("csv" | "json"), permalink, ask}: the finished run `id`'s rows,
//   each its identity and summary, as a file (export.js).
// Messages out, each with the run's `id`: {type: "meta", meta} (its `rows` replaced by
// `rowCount`, and `labels`: the map's pictures, [{label, series}] in order), {type: "progress",
// toStep}, {type: "pictures", stage ("preview" | "done"), pictures (flat: cells.js
// flatPicture), paints (for a map, per metric: {scale, range, values: a Float64Array per
// picture, images: a PNG Blob per picture, one pixel per start of the whole grid)}},
// {type: "done", rowCount}, {type: "error", error: {name, message, status, problems}},
// {type: "row", ask, info}, {type: "export", ask, blob (null: no such finished run), error}.

import { ApiError, streamRun } from "./api.js";
import {
  availableMetrics, bestValue, blockValues, cellPixels, flatBuffers, flatPicture, flatValues,
  gridIndices, metricScale, phaseDiagram, sharedRange, startMaps,
} from "./cells.js";
import { summariesToCsv, summariesToJson, variedParams } from "./export.js";
import { colourTable } from "./landscape-render.js";

let current = null;

self.onmessage = ({ data }) => {
  if (data.type === "run") {
    current?.controller.abort();
    current = { id: data.id, controller: new AbortController(), spec: data.spec, meta: null,
      summaries: null, laidOut: null };
    stream(current, data);
  } else if (data.type === "cancel") {
    if (current?.id === data.id) current.controller.abort();
  } else if (data.type === "laid-out") {
    if (current?.id === data.id) current.laidOut?.();
  } else if (data.type === "row") {
    const info = current?.id === data.id ? current.meta?.rows[data.row] ?? null : null;
    self.postMessage({ id: data.id, type: "row", ask: data.ask, info });
  } else if (data.type === "export") {
    let [blob, error] = [null, null];
    try {
      if (current?.id === data.id && current.summaries) blob = exported(current, data);
    } catch (failure) {
      error = String(failure?.message ?? failure);
    }
    self.postMessage({ id: data.id, type: "export", ask: data.ask, blob, error });
  }
};

// The finished run's rows as a CSV or JSON file.
function exported({ spec, meta, summaries }, { format, permalink }) {
  if (format === "csv") {
    return new Blob([summariesToCsv(meta.rows, summaries, variedParams(spec))],
      { type: "text/csv" });
  }
  return new Blob([summariesToJson(meta, meta.rows, summaries, spec, permalink)],
    { type: "application/json" });
}

async function stream(run, { id, spec, kind, phases }) {
  const post = (message, transfer = []) => {
    if (current === run) self.postMessage({ id, ...message }, transfer);
  };
  let done = null;
  let previewDrawn = null;
  try {
    await streamRun(spec, {
      meta: (meta) => {
        run.meta = meta;
        const { rows, ...rest } = meta;
        post({ type: "meta", meta: { ...rest, rowCount: rows.length, labels: labelsOf(rows) } });
        // The page lays out a map's figure now. Its first cells are parsed and painted only
        // once it has: beside them, on two cores, the page's 20 ms of layout took 120-150 ms.
        return kind === "map" ? untilLaidOut(run) : undefined;
      },
      // Drawn while the rest computes; skipped when the run finished meanwhile.
      preview: (data) => {
        previewDrawn = picturesOf(run.meta, spec, kind, phases, data.rows).then((drawn) => {
          if (!done) post({ type: "pictures", stage: "preview", ...drawn }, transfers(drawn));
        });
      },
      chunk: (chunk) => post({ type: "progress", toStep: chunk.to_step }),
      done: (data) => {
        done = data;
      },
    }, run.controller.signal);
    if (!done) throw new Error("the run's stream ended before the run did");
    await previewDrawn;
    const drawn = await picturesOf(run.meta, spec, kind, phases, done.rows);
    post({ type: "pictures", stage: "done", ...drawn }, transfers(drawn));
    run.summaries = done.rows;
    post({ type: "done", rowCount: done.rows.length });
  } catch (error) {
    post({ type: "error", error: { name: error.name, message: error.message,
      status: error instanceof ApiError ? error.status : null,
      problems: error instanceof ApiError ? error.problems : null } });
  }
}

// A page in a hidden tab draws no frame, so lays nothing out: the stream waits no longer.
const LAYOUT_WAIT_MS = 1000;

// Resolves when the page says it has laid out `run`'s figure, when `run` is cancelled, or after
// LAYOUT_WAIT_MS.
function untilLaidOut(run) {
  return new Promise((resolve) => {
    run.laidOut = resolve;
    run.controller.signal.addEventListener("abort", resolve, { once: true });
    setTimeout(resolve, LAYOUT_WAIT_MS);
  });
}

// A map's pictures: one per label, in the order of the run's rows.
function labelsOf(rows) {
  const labels = new Map();
  for (const { label, series } of rows) if (!labels.has(label)) labels.set(label, series);
  return [...labels].map(([label, series]) => ({ label, series }));
}

function transfers({ pictures, paints }) {
  return [...pictures.flatMap(flatBuffers),
    ...Object.values(paints).flatMap((paint) => paint.values.map((values) => values.buffer))];
}

// The run's pictures from `summaries` (all of its rows', or the preview's), flat, and for a map
// its colour values and images for every metric on that metric's shared colour scale (a
// preview's images cover the whole grid, each coarse cell painted over its block).
async function picturesOf(meta, spec, kind, phases, summaries) {
  const best = bestValue(meta.landscape);
  const pictures = kind === "map"
    ? startMaps(meta.rows, summaries, spec.starts.grid, best)
    : phases.map(({ series, sweeps, label }) => (
      { ...phaseDiagram(meta.rows, summaries, series, sweeps, best), label }));
  const flat = pictures.map(flatPicture);
  const paints = {};
  if (kind === "map") {
    const { grid } = spec.starts;
    const [nx, ny] = [grid.x[2], grid.y[2]];
    const minimaCount = meta.landscape.global_minima.length;
    for (const metric of availableMetrics(kind, minimaCount)) {
      const values = flat.map((picture) => flatValues(picture, metric, best));
      const range = sharedRange(values);
      const scale = metricScale(metric, { range, steps: meta.steps, minimaCount });
      const table = colourTable(scale.colorscale);
      const images = await Promise.all(flat.map((picture, k) => {
        const whole = picture.nx === nx && picture.ny === ny ? values[k]
          : blockValues(values[k], gridIndices(picture.x, grid.x), gridIndices(picture.y, grid.y),
            nx, ny);
        return paint(cellPixels(whole, nx, ny, table, scale.cmin, scale.cmax), nx, ny);
      }));
      paints[metric] = { scale, range, values, images };
    }
  }
  return { pictures: flat, paints };
}

async function paint(pixels, width, height) {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").putImageData(new ImageData(pixels, width, height), 0, 0);
  return canvas.convertToBlob({ type: "image/png" });
}
