// static/js/run-data.js: a streamed run built up from its events, and the numbers drawn from it.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  addChunk, distanceToNearest, finishRun, newRun, quantile, refreshIndices, rowsFromResult,
  seedBand,
} from "../../static/js/run-data.js";

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

// Row r at step k: distinct, exactly representable numbers, so any mix-up shows.
const point = (r, k) => [r + k / 8, -r - k / 16];
const lossAt = (r, k) => 100 * r + k + 0.5;
const normAt = (r, k) => 1000 * r + k + 0.25;

function part(row, steps) {
  return {
    row, steps, xy: steps.map((k) => point(row, k)), loss: steps.map((k) => lossAt(row, k)),
    grad_norm: steps.map((k) => normAt(row, k)),
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

// The same run as POST /api/runs answers with Accept: application/json (engine collect_result).
function wholeResult() {
  const { rows, ...rest } = structuredClone(META);
  return {
    series: rows.map((row) => {
      const parts = CHUNKS.flatMap((chunk) => chunk.rows.filter((p) => p.row === row.row));
      return {
        ...row,
        steps: parts.flatMap((p) => p.steps),
        trajectory: parts.flatMap((p) => p.xy),
        loss: parts.flatMap((p) => p.loss),
        grad_norm: parts.flatMap((p) => p.grad_norm),
        ...DONE.rows[row.row],
      };
    }),
    ...rest,
  };
}

function streamed(chunks = CHUNKS) {
  const run = newRun(structuredClone(META));
  for (const chunk of chunks) addChunk(run, structuredClone(chunk));
  return run;
}

describe("a streamed run", () => {
  test("newRun: one empty row per meta row, nothing received yet", () => {
    const run = newRun(structuredClone(META));
    assert.equal(run.rows.length, 3);
    assert.deepEqual(run.rows[1], {
      ...META.rows[1], steps: [], xy: [], loss: [], gradNorm: [], result: null,
    });
    assert.equal(run.lastStep, 0);
    assert.equal(run.done, false);
  });

  test("chunks append each row's points in order", () => {
    const run = streamed();
    assert.deepEqual(run.rows[0].steps, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(run.rows[1].xy, [0, 1, 2, 3, 4, 5, 6].map((k) => point(1, k)));
    assert.deepEqual(run.rows[1].loss, [0, 1, 2, 3, 4, 5, 6].map((k) => lossAt(1, k)));
    assert.deepEqual(run.rows[1].gradNorm, [0, 1, 2, 3, 4, 5, 6].map((k) => normAt(1, k)));
    for (const row of run.rows) {
      assert.equal(row.xy.length, row.steps.length);
      assert.equal(row.loss.length, row.steps.length);
      assert.equal(row.gradNorm.length, row.steps.length);
    }
  });

  test("a diverged row stops at its last valid point while the others go on", () => {
    const run = streamed();
    assert.deepEqual(run.rows[2].steps, [0, 1, 2, 3]);
    assert.deepEqual(run.rows[2].xy.at(-1), point(2, 3));
    finishRun(run, structuredClone(DONE));
    assert.equal(run.rows[2].result.diverged_at, 4);
    assert.deepEqual(run.rows[2].result.final_point, run.rows[2].xy.at(-1));
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

  test("chunks in order build exactly the rows of the whole JSON result", () => {
    const run = streamed();
    finishRun(run, structuredClone(DONE));
    assert.deepEqual(run.rows, rowsFromResult(wholeResult()));
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
  test("maps the API's field names onto the streamed row's", () => {
    const [row] = rowsFromResult(wholeResult());
    assert.deepEqual(Object.keys(row).sort(), [
      "gradNorm", "hparams", "label", "loss", "optimizer", "result", "row", "seed", "series",
      "start", "steps", "xy",
    ]);
    assert.deepEqual(row.xy, wholeResult().series[0].trajectory);
    assert.deepEqual(row.gradNorm, wholeResult().series[0].grad_norm);
    assert.deepEqual(row.result, DONE.rows[0]);
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
    const rows = [{ steps: [0], xy: [[3, 4]] }, { steps: [0], xy: [[6, 8]] }];
    const band = seedBand(rows, (row) => row.xy.map(([x, y]) => Math.hypot(x, y)));
    assert.deepEqual(band.median, [7.5]);
  });
});

describe("refreshIndices", () => {
  test("exactly the indices of steps 1, 2, 4, 8, ... present in steps", () => {
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 64, 100, 128];
    assert.deepEqual(refreshIndices(steps), [1, 2, 4, 8, 12, 15, 17, 19]);
    assert.deepEqual(refreshIndices([]), []);
    assert.deepEqual(refreshIndices([0]), []);
    assert.deepEqual(refreshIndices([0, 3, 5, 6, 7, 9, 10]), []); // decimated past them all
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

describe("distanceToNearest", () => {
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
});
