// static/js/networks-data.js: a network run as it streams in (columns, snapshots, planes), the
// numbers drawn from it and its exports.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  addNetworkChunk, addPlane, addSnapshot, blendedClassColors, classProbabilityRows,
  decodeSnapshotValues, displayStride, finishNetworkRun, floored, networkRunToCsv,
  networkRunToJson, newNetworkRun, planeAxisTitle, planeContour, planeSurfacePath, snapshotShape,
  snapshotsOf,
  strideIndices,
} from "../../static/js/networks-data.js";

// A typed array as the server writes it with ?encoding=typed (engine/record.py typed_array),
// with Plotly's shape for more than one dimension.
function typed(array, shape) {
  const dtypes = { Float64Array: "f8", Float32Array: "f4", Int32Array: "i4" };
  const dtype = dtypes[array.constructor.name];
  const form = { dtype, bdata: Buffer.from(array.buffer, array.byteOffset, array.byteLength)
    .toString("base64") };
  return shape ? { ...form, shape: shape.join(",") } : form;
}

const GRID = { x: [-1, 0, 1], y: [-1, 1] };

// A `meta` event (engine/network_record.py NetworkMeta), small: a 2 x 3 snapshot grid.
function meta({ kind = "classification", classes = 2, rows = 2 } = {}) {
  return {
    rows: Array.from({ length: rows }, (_, row) => ({ row, series: row, label: `opt${row}`,
      optimizer: `opt${row}`, hparams: { lr: 0.1 * (row + 1) }, seed: 0 })),
    steps: 4,
    record: "full",
    task: { id: "spirals", label: "Two spirals", params: { n: 20 }, data: { kind, classes,
      view_box: [[-1, 1], [-1, 1]], x_train: [[0, 0]], y_train: [1], x_held_out: [[1, 1]],
      y_held_out: [0] } },
    model: { hidden: [4], activation: "tanh", shapes: [[4, 2], [2, 4]], parameters: 22 },
    batch_size: null,
    snapshots: { every: 2, grid: kind === "classification" ? GRID : { x: [0, 0.5, 1] } },
    dtype: "float64",
    device: "cpu",
    versions: { optiscope: "0.1.0", torch: "2.13.0" },
  };
}

function chunk(from, to, rows, typedForm = true) {
  return {
    from_step: from, to_step: to,
    rows: rows.map((row) => {
      const steps = Int32Array.from({ length: to - from }, (_, i) => from + i);
      const values = (scale) => Float64Array.from(steps, (s) => scale / (s + 1) + row);
      const columns = { steps, loss: values(1), held_out_loss: values(2), accuracy: values(0.1),
        grad_norm: values(3) };
      return { row, ...Object.fromEntries(Object.entries(columns).map(([name, column]) =>
        [name, typedForm ? typed(column) : Array.from(column)])) };
    }),
  };
}

describe("a streamed network run", () => {
  test("chunks append to each row's typed columns, plain or typed", () => {
    const run = newNetworkRun(meta());
    assert.deepEqual(run.columns, ["steps", "loss", "held_out_loss", "accuracy", "grad_norm"]);
    addNetworkChunk(run, chunk(0, 2, [0, 1]));
    addNetworkChunk(run, chunk(2, 5, [0], false)); // row 1 stopped at step 1
    assert.ok(run.rows[0].steps instanceof Int32Array);
    assert.ok(run.rows[0].loss instanceof Float64Array);
    assert.deepEqual(Array.from(run.rows[0].steps), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(run.rows[0].loss), [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
    assert.deepEqual(Array.from(run.rows[1].held_out_loss), [3, 2]);
    assert.equal(run.lastStep, 4);
    finishNetworkRun(run, { rows: [{ row: 0, final_loss: 0.2 }, { row: 1, final_loss: null,
      diverged_at: 2 }] });
    assert.equal(run.done, true);
    assert.equal(run.rows[1].result.diverged_at, 2);
  });

  test("a regression has no accuracy column", () => {
    const run = newNetworkRun(meta({ kind: "regression", classes: 1 }));
    assert.deepEqual(run.columns, ["steps", "loss", "held_out_loss", "grad_norm"]);
    addNetworkChunk(run, chunk(0, 2, [0]));
    assert.equal(run.rows[0].accuracy, undefined);
  });

  test("snapshots decode once, typed with their shape or nested lists", () => {
    const run = newNetworkRun(meta());
    assert.deepEqual(snapshotShape(run.meta), [2, 2, 3]);
    const probabilities = Float32Array.from({ length: 12 }, (_, i) => (i < 6 ? 0.25 : 0.75));
    addSnapshot(run, { step: 0, rows: [{ row: 0, probabilities: typed(probabilities, [2, 2, 3]) },
      { row: 1, probabilities: [[[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
        [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]] }] });
    addSnapshot(run, { step: 2,
      rows: [{ row: 0, probabilities: typed(probabilities, [2, 2, 3]) }] });
    assert.deepEqual(snapshotsOf(run, 0).map((s) => s.step), [0, 2]);
    assert.deepEqual(snapshotsOf(run, 1).map((s) => s.step), [0]);
    const values = run.snapshots[0].byRow.get(0);
    assert.ok(values instanceof Float32Array);
    assert.deepEqual(classProbabilityRows(values, [2, 2, 3], 1), [[0.75, 0.75, 0.75],
      [0.75, 0.75, 0.75]]);
  });

  test("a snapshot of the wrong size is refused by name", () => {
    assert.throws(() => decodeSnapshotValues([1, 2, 3], [2, 2, 3]),
      /a snapshot of 3 values where 2 x 2 x 3 = 12 were expected/);
  });

  test("a regression's snapshot is its curve", () => {
    const run = newNetworkRun(meta({ kind: "regression", classes: 1 }));
    assert.deepEqual(snapshotShape(run.meta), [3]);
    addSnapshot(run, { step: 4,
      rows: [{ row: 0, prediction: typed(Float32Array.of(0, 0.5, 1)) }] });
    assert.deepEqual(Array.from(run.snapshots[0].byRow.get(0)), [0, 0.5, 1]);
  });

  test("planes land on their rows", () => {
    const run = newNetworkRun(meta());
    addPlane(run, { steps: [0, 4], rows: [{ row: 1, kind: "pca", explained_variance: [0.8, 0.15],
      alpha: [-1, 0, 1], beta: [-1, 1], loss: [[1, 2], [0.5, null], [3, 4]],
      path: [[0.5, 0.5], [0, 0]], center_loss: 0.5 }] });
    assert.equal(run.rows[0].plane, null);
    assert.equal(run.rows[1].plane.kind, "pca");
  });
});

describe("drawing", () => {
  test("a display stride keeps the points under budget", () => {
    assert.equal(displayStride(4, 301, 16_000), 1);
    assert.equal(displayStride(2 * 64, 2001, 16_000), 17);
    assert.ok((2 * 64 * 2001) / displayStride(2 * 64, 2001, 16_000) <= 16_000);
  });

  test("stride indices continue across appends and can end on the last point", () => {
    assert.deepEqual(strideIndices(0, 7, 3), [0, 3, 6]);
    assert.deepEqual(strideIndices(7, 10, 3), [9]);
    assert.deepEqual(strideIndices(0, 8, 3, true), [0, 3, 6, 7]);
    assert.deepEqual(strideIndices(0, 7, 3, true), [0, 3, 6]);
    assert.deepEqual(strideIndices(5, 5, 3, true), []);
  });

  test("values on a log axis are floored", () => {
    assert.deepEqual(Array.from(floored(Float64Array.of(0, 1e-20, 2), [0, 1, 2], 1e-16)),
      [1e-16, 1e-16, 2]);
  });

  test("more than two classes mix their colours by probability over white", () => {
    const shape = [3, 1, 2];
    // Cell 0 sure of class 0; cell 1 a uniform guess.
    const values = Float32Array.of(1, 1 / 3, 0, 1 / 3, 0, 1 / 3);
    const picture = blendedClassColors(values, shape, ["#ff0000", "#00ff00", "#0000ff"]);
    assert.deepEqual(picture, [[[255, 0, 0], [255, 255, 255]]]);
  });

  test("a plane's loss becomes a contour in log10, beta by alpha, gaps kept", () => {
    const plane = { kind: "pca", explained_variance: [0.8, 0.15], alpha: [-1, 0, 1],
      beta: [-1, 1], loss: [[1, 10], [0.1, null], [100, 1000]] };
    const contour = planeContour(plane);
    assert.equal(contour.log, true);
    assert.deepEqual(contour.x, [-1, 0, 1]);
    assert.deepEqual(contour.y, [-1, 1]);
    assert.deepEqual(contour.z, [[0, -1, 2], [1, null, 3]]);
    assert.equal(planeAxisTitle(plane, 0), "α (PC1, 80.0 % of the variance)");
    assert.equal(planeAxisTitle({ kind: "filter" }, 1),
      "β (random filter-normalised direction 2)");
    assert.equal(planeAxisTitle(plane, 1, { short: true }), "β (PC2, 15.0 %)");
    assert.equal(planeAxisTitle({ kind: "filter" }, 0, { short: true }), "α (random 1)");
  });

  test("the path lies on the surface: its heights are the loss on the plane, as the grid's", () => {
    const plane = { path: [[1, 2], [0.5, 1], [0, 0]], path_loss: [100, null, 0.1] };
    assert.deepEqual(planeSurfacePath(plane, true),
      { x: [1, 0.5, 0], y: [2, 1, 0], z: [2, null, -1] });
    assert.deepEqual(planeSurfacePath(plane, false).z, [100, null, 0.1]);
    // A zero on a log scale has no height: a gap, never -Infinity.
    assert.deepEqual(planeSurfacePath({ path: [[0, 0]], path_loss: [0] }, true).z, [null]);
    // A result without heights (an older record) draws no path height rather than failing.
    assert.deepEqual(planeSurfacePath({ path: [[0, 0]] }, true).z, [null]);
  });

  test("a plane with a zero loss stays linear", () => {
    const contour = planeContour({ alpha: [0, 1], beta: [0], loss: [[0], [2]] });
    assert.equal(contour.log, false);
    assert.deepEqual(contour.z, [[0, 2]]);
  });
});

describe("exports", () => {
  function finishedRun() {
    const run = newNetworkRun(meta());
    addNetworkChunk(run, chunk(0, 2, [0, 1]));
    finishNetworkRun(run, { rows: [{ row: 0, final_loss: 0.5 }, { row: 1, final_loss: 1.5 }] });
    return run;
  }

  test("CSV: one line per recorded step of every row, the swept value named", () => {
    const csv = networkRunToCsv(finishedRun(), [null, "lr"]);
    const lines = csv.trimEnd().split("\n");
    assert.equal(lines[0], "row,series,label,optimizer,seed,swept_param,swept_value,step,loss,"
      + "held_out_loss,accuracy,grad_norm");
    assert.equal(lines.length, 1 + 4);
    assert.equal(lines[1], "0,0,opt0,opt0,0,,,0,1,2,0.1,3");
    assert.equal(lines[4], "1,1,opt1,opt1,0,lr,0.2,1,1.5,2,1.05,2.5");
  });

  test("JSON: the record, the task and model, every row's columns and summary", () => {
    const run = finishedRun();
    addPlane(run, { steps: [0], rows: [{ row: 0, kind: "filter", alpha: [0], beta: [0],
      loss: [[1]], path: [[0, 0]], center_loss: 1 }] });
    const data = JSON.parse(networkRunToJson(run, { seeds: [0] }));
    assert.deepEqual(data.reproducibility, { seeds: [0] });
    assert.equal(data.task.id, "spirals");
    assert.equal(data.model.parameters, 22);
    assert.deepEqual(data.rows[0].loss, [1, 0.5]);
    assert.equal(data.rows[0].final_loss, 0.5);
    assert.equal(data.rows[0].plane.kind, "filter");
    assert.equal("plane" in data.rows[1], false);
  });
});
