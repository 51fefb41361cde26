// static/js/export.js: the CSV and JSON exports of a finished run (`download` needs a DOM and is
// left to the browser tests).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  reproducibilityRecord, runToCsv, runToJson, summariesToCsv, summariesToJson, variedParams,
} from "../../static/js/export.js";
import {
  addChunk, COLUMNS, finishRun, newRun, rowsFromResult,
} from "../../static/js/run-data.js";

// A column in the wire's typed form: base64 of the little-endian bytes.
function typed(values, Type) {
  const array = Type.from(values);
  const dtype = { Float64Array: "f8", Float32Array: "f4", Int32Array: "i4" }[Type.name];
  return { dtype, bdata: Buffer.from(array.buffer).toString("base64") };
}

const HEADER = "row,series,label,optimizer,seed,swept_param,swept_value,step,x,y,loss,grad_norm";

// Numbers whose shortest round-trip text has all 17 digits, exponents, a negative zero, ...
const AWKWARD = [0.1 + 0.2, 1e-300, -1.2345678901234567e300, 5e-324, 2 ** 53 + 2, -0, 1 / 3];

const META = {
  rows: [
    { row: 0, series: 0, label: "Adam", optimizer: "adam", hparams: { lr: 0.1 }, seed: 0,
      start: [-2, 2] },
    { row: 1, series: 1, label: "Anon gamma=-0.5", optimizer: "anon",
      hparams: { lr: 0.01, gamma: -0.5 }, seed: 1, start: [-2, 2] },
    { row: 2, series: 2, label: "mine, \"tuned\"\nv2", optimizer: "sgd",
      hparams: { lr: 1e-3, momentum: 0.9 }, seed: 0, start: [-2, 2] },
  ],
  steps: 2,
  landscape: { id: "rosenbrock", label: "Rosenbrock", params: { a: 1, b: 100 },
    global_minima: [{ point: [1, 1], value: 0 }] },
  noise: { kind: "none" },
  clip_grad_norm: 1,
  dtype: "float64",
  device: "cpu",
  versions: { torch: "2.13.0", optiscope: "0.3.1", "pytorch-optimizer": "3.5.0", numpy: "2.2" },
};

// The points of rows 0 and 1 (3 points: steps 0, 1, 2) and row 2 (diverged after step 0).
const POINTS = [
  { row: 0, steps: [0, 1, 2], x: [-2, AWKWARD[0], 1], y: [2, AWKWARD[1], 1],
    loss: [409, AWKWARD[2], 0], grad_norm: [1601.0000000000002, AWKWARD[3], 0] },
  { row: 1, steps: [0, 1, 2], x: [-2, AWKWARD[4], AWKWARD[6]], y: [2, AWKWARD[5], 0.5],
    loss: [409, 7.25, 3], grad_norm: [1, 2, 3] },
  { row: 2, steps: [0], x: [-2], y: [2], loss: [409], grad_norm: [1601] },
];

// The chunk rows with their columns typed (f8, steps i4), as the page receives them.
function typedPoints() {
  return POINTS.map((part) => ({
    ...part,
    ...Object.fromEntries(COLUMNS.map((name) => [
      name, typed(part[name], name === "steps" ? Int32Array : Float64Array)])),
  }));
}

function finishedRun(points = typedPoints()) {
  const run = newRun(structuredClone(META));
  addChunk(run, { from_step: 0, to_step: 3, rows: points });
  finishRun(run, {
    rows: [0, 1, 2].map((row) => ({
      row, final_point: row === 2 ? [-2, 2] : [1, 1], final_loss: row === 2 ? 409 : 0,
      distance_to_minimum: row === 2 ? Math.hypot(3, 1) : 0, steps_to_tolerance: null,
      diverged_at: row === 2 ? 1 : null,
    })),
  });
  return run;
}

// A minimal RFC 4180 parser: quoted fields may hold commas, quotes ("") and line breaks.
function parseCsv(text) {
  const records = [];
  let record = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      record.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else {
      field += c;
    }
  }
  assert.equal(field, "", "the text ends with a line break");
  assert.equal(record.length, 0, "the text ends with a line break");
  return records;
}

describe("runToCsv", () => {
  test("the header, then one line per point of every row, in order", () => {
    const csv = runToCsv(finishedRun(), [null, "gamma", null]);
    assert.ok(csv.startsWith(`${HEADER}\n`));
    assert.ok(csv.endsWith("\n"));
    const [header, ...records] = parseCsv(csv);
    assert.equal(header.join(","), HEADER);
    assert.equal(records.length, 3 + 3 + 1);
    assert.ok(records.every((record) => record.length === header.length));
    assert.deepEqual(records.map((r) => `${r[0]}:${r[7]}`),
      ["0:0", "0:1", "0:2", "1:0", "1:1", "1:2", "2:0"]);
  });

  test("plain lines are written as they are", () => {
    const lines = runToCsv(finishedRun(), [null, "gamma", null]).split("\n");
    assert.equal(lines[1], "0,0,Adam,adam,0,,,0,-2,2,409,1601.0000000000002");
    assert.equal(lines[4], "1,1,Anon gamma=-0.5,anon,1,gamma,-0.5,0,-2,2,409,1");
  });

  test("numbers are exact: every field reads back as the very same number", () => {
    const run = finishedRun();
    const records = parseCsv(runToCsv(run, [null, "gamma", null])).slice(1);
    let i = 0;
    for (const row of run.rows) {
      row.steps.forEach((step, k) => {
        const r = records[i++];
        const numbers = [step, row.x[k], row.y[k], row.loss[k], row.grad_norm[k]];
        // -0 is written as "0", which is the same point.
        numbers.forEach((value, j) => assert.ok(
          Object.is(Number(r[7 + j]), value) || (value === 0 && Number(r[7 + j]) === 0),
          `row ${row.row} step ${step} column ${7 + j}: ${r[7 + j]} != ${value}`));
      });
    }
    const text = runToCsv(run, [null, "gamma", null]);
    for (const value of AWKWARD.filter((v) => !Object.is(v, -0))) {
      assert.ok(text.includes(String(value)), `${value} is written in full`);
    }
  });

  test("the swept hyperparameter and its value fill only the swept series' lines", () => {
    const records = parseCsv(runToCsv(finishedRun(), [null, "gamma", null])).slice(1);
    assert.deepEqual(records.map((r) => [r[5], r[6]]), [
      ["", ""], ["", ""], ["", ""], ["gamma", "-0.5"], ["gamma", "-0.5"], ["gamma", "-0.5"],
      ["", ""],
    ]);
    // No sweeps at all: both columns empty everywhere.
    const none = parseCsv(runToCsv(finishedRun(), [])).slice(1);
    assert.ok(none.every((r) => r[5] === "" && r[6] === ""));
  });

  test("a label with commas, quotes or line breaks is quoted and reads back intact", () => {
    const records = parseCsv(runToCsv(finishedRun(), [null, "gamma", null])).slice(1);
    assert.equal(records[6][2], "mine, \"tuned\"\nv2");
    const run = finishedRun();
    for (const label of ["a\rb", "a\r\nb", "\"", ",", "plain"]) {
      run.rows[2].label = label;
      const last = parseCsv(runToCsv(run, [])).at(-1);
      assert.equal(last[2], label, JSON.stringify(label));
      assert.equal(last.length, HEADER.split(",").length);
    }
  });

  test("typed and plain chunks give the same CSV", () => {
    assert.equal(runToCsv(finishedRun(), [null, "gamma", null]),
      runToCsv(finishedRun(structuredClone(POINTS)), [null, "gamma", null]));
  });

  test("a float32 run's values are written as the exact doubles of its float32 numbers", () => {
    const run = newRun({ ...structuredClone(META), dtype: "float32" });
    addChunk(run, { from_step: 0, to_step: 1, rows: [{ row: 0, steps: typed([0], Int32Array),
      x: typed([0.1], Float32Array), y: typed([-2], Float32Array),
      loss: typed([1 / 3], Float32Array), grad_norm: typed([7], Float32Array) }] });
    const lines = runToCsv(run, []).split("\n");
    assert.equal(lines[1], `0,0,Adam,adam,0,,,0,${Math.fround(0.1)},-2,${Math.fround(1 / 3)},7`);
    assert.equal(lines[1], "0,0,Adam,adam,0,,,0,0.10000000149011612,-2,0.3333333432674408,7");
  });

  test("a run with no points is the header alone", () => {
    const run = newRun(structuredClone(META));
    assert.equal(runToCsv(run, []), `${HEADER}\n`);
  });
});

describe("runToJson", () => {
  const SPEC = {
    landscape: { id: "rosenbrock", params: { a: 1, b: 100 } }, noise: null, seeds: [0, 1],
    start: [-2, 2], steps: 2, clip_grad_norm: 1,
    series: [{ optimizer: "adam", hparams: { lr: 0.1 } }], max_points: 3,
  };
  const PERMALINK = "http://127.0.0.1:8000/#state=%7B%7D";

  test("a reproducibility record: the exact request, versions, seeds, device and dtype", () => {
    const before = Date.now();
    const record = reproducibilityRecord(finishedRun(), SPEC, PERMALINK);
    const { exported_at: exportedAt, ...rest } = record;
    assert.deepEqual(rest, {
      optiscope: "0.3.1", versions: META.versions, seeds: [0, 1], device: "cpu",
      dtype: "float64", request: SPEC, permalink: PERMALINK,
    });
    const when = Date.parse(exportedAt);
    assert.ok(when >= before - 1000 && when <= Date.now() + 1000, exportedAt);
    assert.equal(new Date(when).toISOString(), exportedAt);
  });

  test("every row with its points under the API's names, its summary and exact numbers", () => {
    const run = finishedRun();
    const parsed = JSON.parse(runToJson(run, SPEC, PERMALINK));
    assert.deepEqual(parsed.reproducibility.request, SPEC);
    assert.deepEqual(parsed.landscape, META.landscape);
    assert.deepEqual(parsed.noise, META.noise);
    assert.equal(parsed.clip_grad_norm, 1);
    assert.equal(parsed.steps, 2);
    assert.equal(parsed.rows.length, 3);
    run.rows.forEach((row, r) => {
      const { result, ...described } = row;
      const expected = { ...described, ...POINTS[r], ...result };
      // Through JSON as the file is: -0 is written as 0.
      assert.deepEqual(parsed.rows[r], JSON.parse(JSON.stringify(expected)), `row ${r}`);
      // The fields of the API's RowResult (engine/record.py), nothing more.
      assert.deepEqual(Object.keys(parsed.rows[r]).sort(), [
        "row", "series", "label", "optimizer", "hparams", "seed", "start", "steps", "x", "y",
        "loss", "grad_norm", "final_point", "final_loss", "distance_to_minimum",
        "steps_to_tolerance", "diverged_at",
      ].sort(), `row ${r} fields`);
    });
    // The columns are plain number arrays, not typed arrays written as objects.
    for (const name of COLUMNS) assert.ok(Array.isArray(parsed.rows[0][name]), name);
    assert.deepEqual(parsed.rows[1].steps, [0, 1, 2]);
    // The awkward numbers come back bit for bit (JSON has no -0: it reads back as 0).
    assert.equal(parsed.rows[0].x[1], 0.1 + 0.2);
    assert.equal(parsed.rows[0].y[1], 1e-300);
    assert.equal(parsed.rows[0].loss[1], -1.2345678901234567e300);
    assert.equal(parsed.rows[0].grad_norm[1], 5e-324);
    assert.equal(parsed.rows[1].x[1], 2 ** 53 + 2);
    assert.equal(parsed.rows[2].diverged_at, 1);
  });

  test("the rows of a whole result (the gamma fan's extra rows) export the same way", () => {
    const run = finishedRun();
    const whole = {
      dtype: "float64",
      series: run.rows.map((row, r) => ({ ...META.rows[r], ...typedPoints()[r], ...row.result })),
    };
    const fromWhole = { ...run, rows: rowsFromResult(whole) };
    assert.equal(runToJson(fromWhole, SPEC, PERMALINK).replace(/"exported_at": "[^"]*"/, ""),
      runToJson(run, SPEC, PERMALINK).replace(/"exported_at": "[^"]*"/, ""));
    assert.equal(runToCsv(fromWhole, []), runToCsv(run, []));
  });
});

describe("a map's or phase diagram's rows: identity and summary, no points", () => {
  // Anon swept over gamma x lr, and an Adam series tuned over lr.
  const spec = {
    series: [
      { optimizer: "anon", hparams: {}, sweep: [{ param: "gamma", values: [0, 1] },
        { param: "lr", values: [0.1] }] },
      { optimizer: "adam", hparams: { lr: 0.1 } },
    ],
    tune: { param: "lr", candidates: [0.01, 0.1] }, seeds: [0], steps: 20, record: "final",
  };
  const infos = [
    { row: 0, series: 0, label: "Anon gamma=0, lr=0.1", optimizer: "anon",
      hparams: { gamma: 0, lr: 0.1, beta1: 0.9 }, seed: 0, start: [-2, 2] },
    { row: 1, series: 0, label: "Anon gamma=1, lr=0.1", optimizer: "anon",
      hparams: { gamma: 1, lr: 0.1, beta1: 0.9 }, seed: 0, start: [-2, 2] },
    { row: 2, series: 1, label: "Adam, \"tuned\"", optimizer: "adam",
      hparams: { lr: 0.01, beta1: 0.9 }, seed: 0, start: [0.5, AWKWARD[0]] },
  ];
  const summaries = [
    { row: 0, final_point: [1, AWKWARD[1]], final_loss: AWKWARD[2], mean_loss: 3,
      distance_to_minimum: 0.5, nearest_minimum: 0, steps_to_tolerance: 7, diverged_at: null },
    { row: 1, final_point: [-2, 2], final_loss: null, mean_loss: null,
      distance_to_minimum: null, nearest_minimum: null, steps_to_tolerance: null,
      diverged_at: 0 },
    { row: 2, final_point: [1, 1], final_loss: 0, mean_loss: 0.25, distance_to_minimum: 0,
      nearest_minimum: 0, steps_to_tolerance: 12, diverged_at: null },
  ];

  test("the varied hyperparameters: every sweep's and the tuned one, once each", () => {
    assert.deepEqual(variedParams(spec), ["gamma", "lr"]);
    assert.deepEqual(variedParams({ series: [{ sweep: null }, { sweep: { param: "eps" } }] }),
      ["eps"]);
  });

  test("CSV: one line per row, numbers that read back exactly, nulls empty", () => {
    const text = summariesToCsv(infos, summaries, ["gamma", "lr"]);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines[0], "row,series,label,optimizer,seed,start_x,start_y,gamma,lr,final_x,"
      + "final_y,final_loss,mean_loss,distance_to_minimum,nearest_minimum,steps_to_tolerance,"
      + "diverged_at");
    assert.equal(lines.length, 4);
    assert.equal(lines[1], `0,0,"Anon gamma=0, lr=0.1",anon,0,-2,2,0,0.1,1,${AWKWARD[1]},`
      + `${AWKWARD[2]},3,0.5,0,7,`);
    assert.equal(lines[2], `1,0,"Anon gamma=1, lr=0.1",anon,0,-2,2,1,0.1,-2,2,,,,,,0`);
    assert.equal(lines[3], `2,1,"Adam, ""tuned""",adam,0,0.5,${AWKWARD[0]},,0.01,1,1,0,0.25,0,0,`
      + "12,");
    assert.equal(Number(lines[1].split(",")[11]), AWKWARD[1], "the shortest text reads back");
  });

  test("JSON: the reproducibility record and each row as the API's whole result has it", () => {
    const meta = { versions: { optiscope: "0.1.0", torch: "2.13.0" }, device: "cpu",
      dtype: "float64", landscape: { id: "rosenbrock" }, noise: { kind: "none" },
      clip_grad_norm: null, steps: 20, record: "final", tolerance: 0.001, tuning: null };
    const exported = JSON.parse(summariesToJson(meta, infos, summaries, spec, "http://x/#s"));
    assert.deepEqual(exported.reproducibility.request, spec);
    assert.equal(exported.reproducibility.permalink, "http://x/#s");
    assert.deepEqual(exported.reproducibility.versions, meta.versions);
    assert.equal(exported.record, "final");
    assert.equal(exported.tolerance, 0.001);
    assert.deepEqual(exported.rows, infos.map((info, k) => ({ ...info, ...summaries[k] })));
    assert.equal(exported.rows[0].final_point[1], AWKWARD[1]);
  });
});
