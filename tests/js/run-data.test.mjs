// static/js/run-data.js: a streamed run built up from its events, and the numbers drawn from it.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  addChunk, COLUMNS, distancesToNearest, finishRun, mapColumn, newRun, quantile,
  refreshIndices, rowsFromResult, seedBand,
} from "../../static/js/run-data.js";

// A column in the wire's typed form (engine/record.py typed_array): base64 of the bytes.
function typed(values, Type) {
  const array = Type.from(values);
  const dtype = { Float64Array: "f8", Float32Array: "f4", Int32Array: "i4" }[Type.name];
  return { dtype, bdata: Buffer.from(array.buffer, array.byteOffset, array.byteLength)
    .toString("base64") };
}

// A chunk row (or whole result row) with its columns in the typed form, as ?encoding=typed
// sends them for a float64 (or, with `floatType` Float32Array, a float32) run.
function typedColumns(part, floatType = Float64Array) {
  const copy = { ...part };
  for (const name of COLUMNS) {
    if (part[name]) copy[name] = typed(part[name], name === "steps" ? Int32Array : floatType);
  }
  return copy;
}

function typedChunk(chunk, floatType) {
  return { ...chunk, rows: chunk.rows.map((row) => typedColumns(row, floatType)) };
}

// Within a few ulps: the quantiles interpolate, so 0.1 and 0.9 are not exact in binary.
function assertClose(actual, expected, message) {
  assert.equal(actual.length, expected.length, message);
  actual.forEach((value, i) => {
    assert.ok(Math.abs(value - expected[i]) <= 1e-12 * Math.max(1, Math.abs(expected[i])),
      `${message}[${i}]: ${value} != ${expected[i]}`);
  });
}

// A run of 6 steps and 3 rows as the server streams it (app/schemas.py STREAM_DESCRIPTION):
// row 2 diverges at step 4, so its last point is step 3 and it sends nothing after that.
const META = {
  rows: [
    { row: 0, series: 0, label: "Adam", optimizer: "adam", hparams: { lr: 0.1 }, seed: 0,
      start: [-2, 2] },
    { row: 1, series: 1, label: "Anon gamma=0", optimizer: "anon",
      hparams: { lr: 0.1, gamma: 0 }, seed: 0, start: [-2, 2] },
    { row: 2, series: 1, label: "Anon gamma=1.5", optimizer: "anon",
      hparams: { lr: 0.1, gamma: 1.5 }, seed: 0, start: [-2, 2] },
  ],
  steps: 6,
  landscape: { id: "rosenbrock", label: "Rosenbrock", params: { a: 1, b: 100 },
    global_minima: [{ point: [1, 1], value: 0 }] },
  noise: { kind: "none" },
  clip_grad_norm: null,
  dtype: "float64",
  device: "cpu",
  versions: { torch: "2.13.0", optiscope: "0.1.0", "pytorch-optimizer": "3.0", numpy: "2.0" },
};

// Row r at step k: distinct, exactly representable numbers (also in float32), so any mix-up
// shows.
const point = (r, k) => [r + k / 8, -r - k / 16];
const lossAt = (r, k) => 100 * r + k + 0.5;
const normAt = (r, k) => 1000 * r + k + 0.25;

// A chunk's row as ?encoding=plain sends it: one plain array per column.
function part(row, steps) {
  return {
    row, steps, x: steps.map((k) => point(row, k)[0]), y: steps.map((k) => point(row, k)[1]),
    loss: steps.map((k) => lossAt(row, k)), grad_norm: steps.map((k) => normAt(row, k)),
  };
}

const CHUNKS = [
  { from_step: 0, to_step: 2, rows: [part(0, [0, 1]), part(1, [0, 1]), part(2, [0, 1])] },
  { from_step: 2, to_step: 5, rows: [part(0, [2, 3, 4]), part(1, [2, 3, 4]), part(2, [2, 3])] },
  { from_step: 5, to_step: 7, rows: [part(0, [5, 6]), part(1, [5, 6])] },
];

const DONE = {
  rows: [
    { row: 0, final_point: point(0, 6), final_loss: lossAt(0, 6), distance_to_minimum: 0.5,
      steps_to_tolerance: null, diverged_at: null },
    { row: 1, final_point: point(1, 6), final_loss: lossAt(1, 6), distance_to_minimum: 1.5,
      steps_to_tolerance: 5, diverged_at: null },
    { row: 2, final_point: point(2, 3), final_loss: lossAt(2, 3), distance_to_minimum: 4.0,
      steps_to_tolerance: null, diverged_at: 4 },
  ],
};

// The same run as POST /api/runs answers with Accept: application/json (engine collect_result),
// its columns plain or (`floatType` given) typed.
function wholeResult(floatType = null) {
  const { rows, ...rest } = structuredClone(META);
  if (floatType === Float32Array) rest.dtype = "float32";
  return {
    series: rows.map((row) => {
      const parts = CHUNKS.flatMap((chunk) => chunk.rows.filter((p) => p.row === row.row));
      const entry = { ...row, ...DONE.rows[row.row] };
      for (const name of COLUMNS) entry[name] = parts.flatMap((p) => p[name]);
      return floatType ? typedColumns(entry, floatType) : entry;
    }),
    ...rest,
  };
}

function streamed(chunks = CHUNKS, meta = META) {
  const run = newRun(structuredClone(meta));
  for (const chunk of chunks) addChunk(run, structuredClone(chunk));
  return run;
}

const ALL_STEPS = [0, 1, 2, 3, 4, 5, 6];

describe("a streamed run", () => {
  test("newRun: one empty row per meta row, nothing received yet", () => {
    const run = newRun(structuredClone(META));
    assert.equal(run.rows.length, 3);
    assert.deepEqual(run.rows[1], {
      ...META.rows[1], steps: new Int32Array(0), x: new Float64Array(0), y: new Float64Array(0),
      loss: new Float64Array(0), grad_norm: new Float64Array(0), result: null,
    });
    assert.equal(run.lastStep, 0);
    assert.equal(run.done, false);
  });

  test("a float32 run keeps its float columns as Float32Array", () => {
    const run = newRun({ ...structuredClone(META), dtype: "float32" });
    assert.ok(run.rows[0].steps instanceof Int32Array);
    for (const name of ["x", "y", "loss", "grad_norm"]) {
      assert.ok(run.rows[0][name] instanceof Float32Array, name);
    }
  });

  test("chunks append each row's points in order, column by column", () => {
    const run = streamed();
    assert.deepEqual(run.rows[0].steps, Int32Array.from(ALL_STEPS));
    assert.deepEqual(run.rows[1].x, Float64Array.from(ALL_STEPS, (k) => point(1, k)[0]));
    assert.deepEqual(run.rows[1].y, Float64Array.from(ALL_STEPS, (k) => point(1, k)[1]));
    assert.deepEqual(run.rows[1].loss, Float64Array.from(ALL_STEPS, (k) => lossAt(1, k)));
    assert.deepEqual(run.rows[1].grad_norm, Float64Array.from(ALL_STEPS, (k) => normAt(1, k)));
    for (const row of run.rows) {
      for (const name of COLUMNS) assert.equal(row[name].length, row.steps.length, name);
    }
  });

  test("typed chunks build the very same rows as plain ones", () => {
    const plain = streamed();
    const fromTyped = streamed(CHUNKS.map((chunk) => typedChunk(chunk)));
    assert.deepEqual(fromTyped.rows, plain.rows);
    // Plain and typed chunks may even be mixed.
    const mixed = streamed(CHUNKS.map((chunk, i) => (i % 2 ? typedChunk(chunk) : chunk)));
    assert.deepEqual(mixed.rows, plain.rows);
  });

  test("a float32 run's f4 chunks give the same numbers as its plain chunks", () => {
    const meta = { ...META, dtype: "float32" };
    const plain = streamed(CHUNKS, meta);
    const fromTyped = streamed(CHUNKS.map((chunk) => typedChunk(chunk, Float32Array)), meta);
    assert.deepEqual(fromTyped.rows, plain.rows);
    assert.deepEqual(Array.from(fromTyped.rows[1].x), ALL_STEPS.map((k) => point(1, k)[0]));
  });

  test("a row's columns are views of the points so far: earlier views stay as they were", () => {
    const run = newRun(structuredClone(META));
    addChunk(run, structuredClone(CHUNKS[0]));
    const before = run.rows[0].x;
    assert.deepEqual(Array.from(before), [point(0, 0)[0], point(0, 1)[0]]);
    addChunk(run, structuredClone(CHUNKS[1]));
    addChunk(run, structuredClone(CHUNKS[2]));
    assert.deepEqual(Array.from(before), [point(0, 0)[0], point(0, 1)[0]]);
    assert.notEqual(run.rows[0].x, before);
    assert.equal(run.rows[0].x.length, 7);
  });

  test("a diverged row stops at its last valid point while the others go on", () => {
    const run = streamed();
    assert.deepEqual(run.rows[2].steps, Int32Array.from([0, 1, 2, 3]));
    assert.deepEqual([run.rows[2].x.at(-1), run.rows[2].y.at(-1)], point(2, 3));
    finishRun(run, structuredClone(DONE));
    assert.equal(run.rows[2].result.diverged_at, 4);
    assert.deepEqual(run.rows[2].result.final_point, [run.rows[2].x.at(-1), run.rows[2].y.at(-1)]);
    assert.equal(run.rows[0].result.diverged_at, null);
  });

  test("lastStep is the last step covered by the chunks so far", () => {
    const run = newRun(structuredClone(META));
    const seen = CHUNKS.map((chunk) => {
      addChunk(run, structuredClone(chunk));
      return run.lastStep;
    });
    assert.deepEqual(seen, [1, 4, 6]);
    // A chunk in which every row has stopped still moves it on.
    addChunk(run, { from_step: 7, to_step: 9, rows: [] });
    assert.equal(run.lastStep, 8);
  });

  test("finishRun attaches each row's summary by its row index and marks the run done", () => {
    const run = streamed();
    const done = structuredClone(DONE);
    done.rows.reverse(); // matched by `row`, not by position
    finishRun(run, done);
    assert.equal(run.done, true);
    run.rows.forEach((row, r) => assert.deepEqual(row.result, DONE.rows[r]));
  });

  test("chunks in order build exactly the rows of the whole result, in either encoding", () => {
    const run = streamed();
    finishRun(run, structuredClone(DONE));
    assert.deepEqual(run.rows, rowsFromResult(wholeResult()));
    assert.deepEqual(run.rows, rowsFromResult(wholeResult(Float64Array)));
  });

  test("many small chunks grow the buffers across several capacity doublings", () => {
    const meta = { ...structuredClone(META), rows: [META.rows[0]], steps: 5000 };
    const run = newRun(meta);
    const views = [];
    let step = 0;
    for (let size = 1; step < 5000; size = (size % 13) + 1) {
      const steps = Array.from({ length: Math.min(size, 5001 - step) }, (_, i) => step + i);
      const chunk = { from_step: step, to_step: step + steps.length, rows: [part(0, steps)] };
      addChunk(run, size % 2 ? chunk : typedChunk(chunk));
      step += steps.length;
      views.push(run.rows[0].loss);
    }
    const row = run.rows[0];
    const all = Array.from({ length: 5001 }, (_, k) => k);
    assert.deepEqual(row.steps, Int32Array.from(all));
    assert.deepEqual(row.x, Float64Array.from(all, (k) => point(0, k)[0]));
    assert.deepEqual(row.y, Float64Array.from(all, (k) => point(0, k)[1]));
    assert.deepEqual(row.loss, Float64Array.from(all, (k) => lossAt(0, k)));
    assert.deepEqual(row.grad_norm, Float64Array.from(all, (k) => normAt(0, k)));
    assert.equal(run.lastStep, 5000);
    // Amortised doubling: few distinct buffers (one per doubling), at most twice what is filled.
    const buffers = new Set(views.map((view) => view.buffer));
    assert.ok(buffers.size >= 6 && buffers.size <= 9, `${buffers.size} buffers for 5001 points`);
    assert.ok(row.loss.buffer.byteLength <= 2 * 5001 * 8);
    // Every earlier view still holds exactly the points it held.
    let seen = 0;
    for (const view of views) {
      assert.ok(view.length > seen);
      assert.deepEqual(Array.from(view.subarray(seen)),
        all.slice(seen, view.length).map((k) => lossAt(0, k)));
      seen = view.length;
    }
  });

  test("how the points are split into chunks does not matter", () => {
    // The same points one step per chunk (row 2 absent after its last point).
    const single = [];
    for (let k = 0; k <= 6; k++) {
      const rows = [0, 1, 2].filter((r) => r !== 2 || k <= 3).map((r) => part(r, [k]));
      single.push({ from_step: k, to_step: k + 1, rows });
    }
    const a = streamed();
    const b = streamed(single);
    assert.deepEqual(b.rows, a.rows);
    assert.equal(b.lastStep, a.lastStep);
  });
});

describe("rowsFromResult", () => {
  test("the API's names: identity, the five columns as typed arrays, the summary as result", () => {
    const [row] = rowsFromResult(wholeResult());
    assert.deepEqual(Object.keys(row).sort(), [
      "grad_norm", "hparams", "label", "loss", "optimizer", "result", "row", "seed", "series",
      "start", "steps", "x", "y",
    ]);
    assert.ok(row.steps instanceof Int32Array);
    assert.ok(row.x instanceof Float64Array);
    assert.deepEqual(Array.from(row.x), wholeResult().series[0].x);
    assert.deepEqual(Array.from(row.grad_norm), wholeResult().series[0].grad_norm);
    assert.deepEqual(row.result, DONE.rows[0]);
  });

  test("typed and plain results give the same rows (float64 and float32)", () => {
    assert.deepEqual(rowsFromResult(wholeResult(Float64Array)), rowsFromResult(wholeResult()));
    const plain32 = { ...wholeResult(), dtype: "float32" };
    const rows32 = rowsFromResult(wholeResult(Float32Array));
    assert.deepEqual(rows32, rowsFromResult(plain32));
    assert.ok(rows32[0].loss instanceof Float32Array);
  });

  test("a typed column of the row's own type is used as decoded, not copied again", () => {
    const [row] = rowsFromResult(wholeResult(Float64Array));
    assert.equal(row.x.byteOffset, 0);
    assert.equal(row.x.buffer.byteLength, row.x.byteLength);
  });

  test("a 'record: final' result (no columns) gives empty columns and the summary", () => {
    const result = wholeResult();
    for (const entry of result.series) for (const name of COLUMNS) delete entry[name];
    const rows = rowsFromResult(result);
    assert.deepEqual(rows[2].steps, new Int32Array(0));
    assert.deepEqual(rows[2].x, new Float64Array(0));
    assert.equal(rows[2].result.diverged_at, 4);
  });
});

describe("quantile", () => {
  test("linear interpolation between order statistics", () => {
    assert.equal(quantile([], 0.5), null);
    assert.equal(quantile([7], 0.1), 7);
    assert.equal(quantile([7], 0.9), 7);
    assert.equal(quantile([1, 2, 3], 0.5), 2);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0), 1);
    assert.equal(quantile([1, 2, 3, 4], 1), 4);
    assertClose([quantile([1, 2, 3, 4], 0.1)], [1.3], "q=0.1");
    assertClose([quantile([1, 2, 3, 4], 0.9)], [3.7], "q=0.9");
    assertClose([quantile([0, 10, 20], 0.1)], [2], "q=0.1 of 3");
    assertClose([quantile([0, 10, 20], 0.9)], [18], "q=0.9 of 3");
  });
});

describe("seedBand", () => {
  const seedRow = (steps, loss) => ({ steps, loss });
  const byLoss = (row) => row.loss;

  test("median and 10-90% band over seeds, step by step (hand-computed)", () => {
    // Four seeds, values given out of order at each step.
    const rows = [
      seedRow([0, 1, 2], [4, 40, 10]),
      seedRow([0, 1, 2], [1, 10, 30]),
      seedRow([0, 1, 2], [3, 30, 20]),
      seedRow([0, 1, 2], [2, 20, 40]),
    ];
    const band = seedBand(rows, byLoss);
    assert.deepEqual(band.steps, [0, 1, 2]);
    // Sorted at each step: [1, 2, 3, 4], [10, 20, 30, 40], [10, 20, 30, 40].
    // Positions (n - 1) q: 1.5 for the median, 0.3 and 2.7 for the band.
    assertClose(band.median, [2.5, 25, 25], "median");
    assertClose(band.low, [1.3, 13, 13], "low");
    assertClose(band.high, [3.7, 37, 37], "high");
  });

  test("a diverged seed drops out after its last point", () => {
    const rows = [
      seedRow([0, 1, 2, 3], [0, 10, 20, 30]),
      seedRow([0, 1, 2, 3], [2, 12, 22, 32]),
      seedRow([0, 1], [100, 200]), // diverged at step 2
    ];
    const band = seedBand(rows, byLoss);
    assert.deepEqual(band.steps, [0, 1, 2, 3]);
    // Three seeds at steps 0 and 1: sorted [0, 2, 100] and [10, 12, 200].
    // Two at steps 2 and 3: [20, 22] and [30, 32], positions 0.5, 0.1 and 0.9.
    assertClose(band.median, [2, 12, 21, 31], "median");
    assertClose(band.low, [0.4, 10.4, 20.2, 30.2], "low");
    assertClose(band.high, [80.4, 162.4, 21.8, 31.8], "high");
  });

  test("steps are the union of every seed's steps, ascending; null and non-finite skipped", () => {
    const rows = [
      seedRow([0, 2, 4], [1, 3, 5]),
      seedRow([0, 1, 4], [2, null, Number.NaN]),
      seedRow([4, 8], [Infinity, 9]),
    ];
    const band = seedBand(rows, byLoss);
    assert.deepEqual(band.steps, [0, 2, 4, 8]); // step 1 had no usable value
    assertClose(band.median, [1.5, 3, 5, 9], "median");
    assertClose(band.low, [1.1, 3, 5, 9], "low");
    assertClose(band.high, [1.9, 3, 5, 9], "high");
  });

  test("the values function chooses the quantity", () => {
    const rows = [{ steps: [0], x: [3], y: [4] }, { steps: [0], x: [6], y: [8] }];
    const band = seedBand(rows, (row) => row.x.map((x, i) => Math.hypot(x, row.y[i])));
    assert.deepEqual(band.median, [7.5]);
  });

  test("typed columns, with NaN for gaps, work as plain ones", () => {
    const rows = [
      { steps: Int32Array.from([0, 1, 2]), loss: Float64Array.from([1, Number.NaN, 3]) },
      { steps: Int32Array.from([0, 1, 2]), loss: Float64Array.from([3, 5, 5]) },
    ];
    const band = seedBand(rows, byLoss);
    assert.deepEqual(band.steps, [0, 1, 2]);
    assert.deepEqual(band.median, [2, 5, 4]);
  });
});

describe("refreshIndices", () => {
  test("exactly the indices of steps 1, 2, 4, 8, ... present in steps", () => {
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 64, 100, 128];
    assert.deepEqual(refreshIndices(steps), [1, 2, 4, 8, 12, 15, 17, 19]);
    assert.deepEqual(refreshIndices([]), []);
    assert.deepEqual(refreshIndices([0]), []);
    assert.deepEqual(refreshIndices([0, 3, 5, 6, 7, 9, 10]), []); // decimated past them all
    assert.deepEqual(refreshIndices(Int32Array.from(steps)), refreshIndices(steps));
  });

  test("agrees with the powers of two on every step of a long run, and on a decimated one", () => {
    const powers = new Set(Array.from({ length: 17 }, (_, i) => 2 ** i)); // up to 65536
    const full = Array.from({ length: 100_001 }, (_, k) => k); // MAX_STEPS
    const expected = full.flatMap((step, i) => (powers.has(step) ? [i] : []));
    assert.equal(expected.length, 17);
    assert.deepEqual(refreshIndices(full), expected);
    // 5000 steps decimated to 2001 evenly spread points: some powers of two are among them,
    // others fall between two points and have no index.
    const decimated = Array.from({ length: 2001 }, (_, i) => Math.round(i * 2.5));
    const kept = decimated.flatMap((step, i) => (powers.has(step) ? [i] : []));
    assert.ok(kept.length > 0 && kept.length < 13, `${kept.length} powers of two kept`);
    assert.deepEqual(refreshIndices(decimated), kept);
  });
});

describe("distancesToNearest", () => {
  // The distance of one point, through the column function.
  const distanceToNearest = ([x, y], minima) => {
    const distances = distancesToNearest([x], [y], minima);
    return distances === null ? null : distances[0];
  };

  test("to the nearest of the global minima, or null when none is known", () => {
    assert.equal(distanceToNearest([0, 0], []), null);
    assert.equal(distanceToNearest([4, 5], [{ point: [1, 1], value: 0 }]), 5);
    const minima = [
      { point: [3, 2], value: 0 }, { point: [-2.805118, 3.131312], value: 0 },
      { point: [0, -3], value: 0 },
    ];
    assert.equal(distanceToNearest([0, 0], minima), 3);
    assert.equal(distanceToNearest([3, 2], minima), 0);
  });

  test("every point of x and y columns, typed or plain, as a Float64Array", () => {
    const minima = [{ point: [3, 2], value: 0 }, { point: [0, -3], value: 0 }];
    const x = Float64Array.from([0, 3, 3, -1.5]);
    const y = Float64Array.from([0, 2, 6, -1]);
    const expected = [3, 0, 4, Math.hypot(1.5, 2)];
    const distances = distancesToNearest(x, y, minima);
    assert.ok(distances instanceof Float64Array);
    assert.deepEqual(Array.from(distances), expected);
    assert.deepEqual(Array.from(distancesToNearest(Array.from(x), Array.from(y), minima)),
      expected);
    assert.deepEqual(Array.from(distancesToNearest(x.subarray(1), y.subarray(1), minima)),
      expected.slice(1));
    assert.equal(distancesToNearest(x, y, []), null);
    assert.deepEqual(distancesToNearest(new Float32Array(0), new Float32Array(0), minima),
      new Float64Array(0));
  });
});

describe("mapColumn", () => {
  test("a function of every value as a Float64Array; null results become NaN", () => {
    const mapped = mapColumn(Float32Array.from([1, 2, 0.5]), (v) => (v > 0.75 ? v * 2 : null));
    assert.ok(mapped instanceof Float64Array);
    assert.deepEqual(Array.from(mapped), [2, 4, Number.NaN]);
    assert.deepEqual(mapColumn([], (v) => v), new Float64Array(0));
  });
});
