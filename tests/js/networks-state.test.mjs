// static/js/networks-state.js: the Networks view's state, its URL fragment round trip and the
// network run spec it sends.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SERIES_PALETTE } from "../../static/js/colors.js";
import {
  decodeNetworkFragment, defaultNetworkState, encodeNetworkFragment, isNetworkFragment,
  isNetworkModified, isNetworkPreset, parseHiddenLayers, stateFromNetworkPreset,
  toNetworkRunSpec, trainsNetworks,
} from "../../static/js/networks-state.js";
import { decodeFragment } from "../../static/js/state.js";

const capabilities = (extra = {}) => ({
  elementwise: true, tensor_hparams: ["lr"], needs_create_graph: false, random_step: false,
  accepts_hessian_diagonal: false, adaptivity_exponent: null, preconditioner_refreshes: null,
  ...extra,
});
// GET /api/optimizers, cut to what the view reads. A made-up optimizer that computes its own
// Hessian-vector products cannot train networks (engine/network_spec.py).
const OPTIMIZERS = [
  { id: "hvp", defaults: { lr: 0.1 }, capabilities: capabilities({ needs_create_graph: true }) },
  { id: "sgd", defaults: { lr: 0.01 }, capabilities: capabilities() },
  { id: "adam", defaults: { lr: 0.001, beta1: 0.9 }, capabilities: capabilities() },
  { id: "adahessian", defaults: { lr: 0.15 },
    capabilities: capabilities({ needs_create_graph: true, accepts_hessian_diagonal: true }) },
];
// GET /api/tasks (tasks/registry.py describe), cut to what the view reads.
const TASKS = [
  { id: "spirals", kind: "classification", defaults: { n: 400, noise: 0.1, held_out: 0.25,
    seed: 0, turns: 1.5 } },
  { id: "sine", kind: "regression", defaults: { n: 400, noise: 0.1, held_out: 0.25, seed: 0,
    frequency: 1 } },
];
// A network preset as GET /api/presets sends it (app/presets.py).
const SPIRALS_PRESET = {
  id: "andi-spirals",
  title: "ANDI vs Adam vs SGD on two spirals",
  narration: "…",
  spec: {
    task: { id: "spirals", params: { n: 300 }, model: { hidden: [32, 32], activation: "tanh" },
      batch_size: null },
    series: [
      { optimizer: "andi", hparams: { lr: 0.01 } },
      { optimizer: "adam", hparams: { lr: 0.01 }, label: "Adam" },
      { optimizer: "sgd", hparams: { lr: 0.1 } },
    ],
    seeds: [0, 1],
    steps: 400,
  },
};

describe("network presets and states", () => {
  test("a preset with a task is a network preset; a 2-D one is not", () => {
    assert.equal(isNetworkPreset(SPIRALS_PRESET), true);
    assert.equal(isNetworkPreset({ spec: { landscape: { id: "rosenbrock" } } }), false);
    assert.equal(isNetworkPreset(undefined), false);
  });

  test("optimizers that draw their own Hessian-vector products do not train networks", () => {
    assert.deepEqual(OPTIMIZERS.filter(trainsNetworks).map((o) => o.id),
      ["sgd", "adam", "adahessian"]);
  });

  test("a preset's state runs exactly the preset's spec", () => {
    const state = stateFromNetworkPreset(SPIRALS_PRESET);
    assert.equal(state.preset, "andi-spirals");
    assert.equal(state.seeds, 2);
    assert.deepEqual(state.series.map((s) => s.color), SERIES_PALETTE.slice(0, 3));
    assert.equal(state.series[1].label, "Adam");
    const spec = toNetworkRunSpec(state);
    assert.deepEqual(spec, {
      task: { id: "spirals", params: { n: 300 }, model: { hidden: [32, 32], activation: "tanh" },
        batch_size: null },
      series: [
        { optimizer: "andi", hparams: { lr: 0.01 } },
        { optimizer: "adam", hparams: { lr: 0.01 }, label: "Adam" },
        { optimizer: "sgd", hparams: { lr: 0.1 } },
      ],
      seeds: [0, 1],
      steps: 400,
    });
    assert.equal("plane" in spec, false, "no plane unless asked for");
  });

  test("a preset's plane and minibatches come through; a sweep is kept", () => {
    const preset = structuredClone(SPIRALS_PRESET);
    preset.spec.task.batch_size = 32;
    preset.spec.plane = { kind: "filter" };
    preset.spec.series[0] = { optimizer: "anon", hparams: { lr: 0.01 },
      sweep: { param: "gamma", values: [0, 0.5, 1] } };
    const state = stateFromNetworkPreset(preset);
    const spec = toNetworkRunSpec(state);
    assert.equal(spec.task.batch_size, 32);
    assert.deepEqual(spec.plane, { kind: "filter", resolution: 31 });
    assert.deepEqual(spec.series[0].sweep, { param: "gamma", values: [0, 0.5, 1] });
  });

  test("without a preset: the first task's defaults and Adam", () => {
    const state = defaultNetworkState(TASKS, OPTIMIZERS);
    assert.equal(state.preset, null);
    assert.deepEqual(state.task, { id: "spirals", params: TASKS[0].defaults });
    assert.deepEqual(state.model, { hidden: [32, 32], activation: "tanh" });
    assert.equal(state.series[0].optimizer, "adam");
    assert.deepEqual(state.series[0].hparams, { lr: 0.001, beta1: 0.9 });
    assert.equal(state.batchSize, null);
  });

  test("an edit makes a state modified; a default written out does not", () => {
    const state = stateFromNetworkPreset(SPIRALS_PRESET);
    assert.equal(isNetworkModified(state, SPIRALS_PRESET, TASKS), false);
    state.task.params = { ...state.task.params, turns: 1.5 }; // the default, named
    assert.equal(isNetworkModified(state, SPIRALS_PRESET, TASKS), false);
    state.shownRow = 3; // a view of the run, not an edit
    state.narration = false;
    assert.equal(isNetworkModified(state, SPIRALS_PRESET, TASKS), false);
    state.model = { ...state.model, activation: "relu" };
    assert.equal(isNetworkModified(state, SPIRALS_PRESET, TASKS), true);
  });
});

describe("hidden layers as typed", () => {
  test("widths separated by commas", () => {
    assert.deepEqual(parseHiddenLayers("32, 32"), { values: [32, 32] });
    assert.deepEqual(parseHiddenLayers(" 64 "), { values: [64] });
  });

  test("an empty field is a linear model", () => {
    assert.deepEqual(parseHiddenLayers("  "), { values: [] });
  });

  test("a bad entry is named", () => {
    assert.match(parseHiddenLayers("32, x").error, /Entry 2 \("x"\)/);
    assert.match(parseHiddenLayers("32, 2.5").error, /Layer 2 \(2\.5\) is not a width/);
    assert.match(parseHiddenLayers("0").error, /Layer 1 \(0\)/);
  });
});

describe("the network permalink", () => {
  test("round-trips the whole state", () => {
    const state = { ...stateFromNetworkPreset(SPIRALS_PRESET), shownRow: 2, narration: false,
      plane: { kind: "pca", resolution: 21 } };
    const hash = encodeNetworkFragment(state);
    assert.ok(hash.startsWith("#network="));
    assert.equal(isNetworkFragment(hash), true);
    assert.deepEqual(decodeNetworkFragment(hash), state);
  });

  test("each view ignores the other's fragment", () => {
    const hash = encodeNetworkFragment(stateFromNetworkPreset(SPIRALS_PRESET));
    assert.equal(decodeFragment(hash), null, "the 2-D view does not take a network state");
    assert.equal(isNetworkFragment("#state=%7B%7D"), false);
    assert.equal(decodeNetworkFragment("#state=%7B%7D"), null);
  });

  test("a broken or incomplete network fragment is no state", () => {
    assert.equal(decodeNetworkFragment("#network=%7Bnot json"), null);
    assert.equal(decodeNetworkFragment(`#network=${encodeURIComponent(
      JSON.stringify({ task: { id: "spirals" }, steps: 10, seeds: 1, series: [] }))}`), null);
  });

  test("fields a hand-written link leaves out take their defaults", () => {
    const minimal = { task: { id: "xor", params: {} }, model: { hidden: [8], activation: "relu" },
      series: [{ optimizer: "sgd", hparams: { lr: 0.1 }, label: "", color: "#0072B2",
        sweep: null }], steps: 50, seeds: 1 };
    const state = decodeNetworkFragment(`#network=${encodeURIComponent(JSON.stringify(minimal))}`);
    assert.equal(state.batchSize, null);
    assert.equal(state.plane, null);
    assert.equal(state.shownRow, 0);
    assert.equal(state.planeView, "contour");
    assert.deepEqual(toNetworkRunSpec(state).task,
      { id: "xor", params: {}, model: { hidden: [8], activation: "relu" }, batch_size: null });
  });
});
