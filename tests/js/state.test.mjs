// static/js/state.js: the page state, its URL fragment round trip and the RunSpec it sends.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { SERIES_PALETTE } from "../../static/js/colors.js";
import {
  adaptivitySweepParam, capabilitiesOf, decodeFragment, encodeFragment, gammaSeriesIndex,
  isModified, parseNumberList, pointsPerRow, refreshesAtPowersOfTwo, stateFromPreset, toRunSpec,
} from "../../static/js/state.js";

// Registry entries as GET /api/optimizers sends them (optimizers/registry.py describe), cut to
// what the page reads here. AdaBound has a hyperparameter called gamma that is not an
// adaptivity exponent.
const capabilities = (adaptivity, refreshes) => ({
  elementwise: true, tensor_hparams: ["lr"], needs_create_graph: false, random_step: false,
  accepts_hessian_diagonal: false, adaptivity_exponent: adaptivity,
  preconditioner_refreshes: refreshes,
});
const OPTIMIZERS = [
  { id: "adam", defaults: { lr: 0.001 }, capabilities: capabilities(null, null) },
  { id: "anon", defaults: { lr: 0.001, gamma: 0 },
    capabilities: capabilities("gamma", "powers_of_two") },
  { id: "adabound", defaults: { lr: 0.001, final_lr: 0.1, gamma: 0.001 },
    capabilities: capabilities(null, null) },
  { id: "sgd", defaults: { lr: 0.01 }, capabilities: capabilities(null, null) },
];

// Presets as GET /api/presets sends them (app/presets.py).
const TOUR = {
  id: "tour",
  title: "Seven optimizers on Rosenbrock",
  narration: "…",
  spec: {
    landscape: { id: "rosenbrock" },
    start: [-2.0, 2.0],
    steps: 500,
    series: [
      { optimizer: "ano", hparams: { lr: 0.1 } },
      { optimizer: "anon", hparams: { lr: 0.3, gamma: 1.0 } },
      { optimizer: "andi", hparams: { lr: 3e-4 } },
      { optimizer: "yogi", hparams: { lr: 0.3 } },
      { optimizer: "adam", hparams: { lr: 0.3 } },
      { optimizer: "sgd", hparams: { lr: 1e-3, momentum: 0.9 } },
      { optimizer: "lion", hparams: { lr: 0.01 } },
      { optimizer: "adam", hparams: { lr: 0.1 }, label: "Adam, slower" },
    ],
  },
  view: { gamma_slider: false },
};

const GAMMA = {
  id: "anon-gamma-rosenbrock",
  title: "Anon's gamma on Rosenbrock",
  narration: "…",
  spec: {
    landscape: { id: "rosenbrock", params: { a: 1, b: 100 } },
    noise: { kind: "gaussian", sigma: 2.0 },
    seeds: [0, 1, 2],
    start: [-2.0, 2.0],
    steps: 500,
    clip_grad_norm: 1.0,
    series: [
      { optimizer: "adam", hparams: { lr: 0.01 } },
      { optimizer: "anon", hparams: { lr: 0.01 },
        sweep: { param: "gamma", values: [-0.5, 0.0, 0.5, 1.0, 1.5] } },
    ],
  },
  view: { gamma_slider: true },
};

// A state with every kind of value the page stores: nulls, nested objects, an expression,
// floats that need all their digits, and text that needs escaping in a URL.
function richState() {
  return {
    preset: null,
    landscape: { expression: "x**2 + 3*y**2 - sin(x)/2 # & ? % é" },
    noise: { kind: "gaussian", sigma: 0.1 + 0.2 },
    seeds: 4,
    start: [-1.2345678901234567, 1e-300],
    steps: 1234,
    clip: null,
    series: [
      { optimizer: "anon", hparams: { lr: 3e-4, gamma: -0.5, amsgrad: true }, label: "a \"b\", c",
        color: "#0072B2", sweep: { param: "gamma", values: [-0.5, 0, 1.5] } },
      { optimizer: "sgd", hparams: {}, label: "", color: "#D55E00", sweep: null },
    ],
    gamma: 0.25,
    narration: false,
  };
}

describe("URL fragment", () => {
  test("encode then decode gives the same state", () => {
    for (const state of [richState(), stateFromPreset(TOUR), stateFromPreset(GAMMA)]) {
      const hash = encodeFragment(state);
      assert.ok(hash.startsWith("#state="), hash);
      assert.deepEqual(decodeFragment(hash), state);
    }
  });

  test("the fragment is URL-safe: only unreserved characters and %-escapes after the key", () => {
    const hash = encodeFragment(richState());
    assert.match(hash, /^#state=[A-Za-z0-9\-_.!~*'()%]+$/);
  });

  test("decodes with or without the leading '#'", () => {
    const state = richState();
    assert.deepEqual(decodeFragment(encodeFragment(state).slice(1)), state);
  });

  test("no fragment, another fragment or a broken one decodes to null", () => {
    const good = encodeFragment(richState());
    const broken = [
      "",
      "#",
      "#other=1",
      "#state=",
      "#state=%E0%A4%A", // not valid percent-encoding
      "#state=%7B%22landscape", // JSON cut off
      `${good.slice(0, -5)}`, // a truncated permalink
      "#state=null",
      "#state=42",
      "#state=%22text%22",
      "#state=%5B%5D", // []
      "#STATE=%7B%7D",
    ];
    for (const hash of broken) assert.equal(decodeFragment(hash), null, hash);
  });

  test("JSON that is not a whole state decodes to null", () => {
    const encode = (value) => `#state=${encodeURIComponent(JSON.stringify(value))}`;
    const state = richState();
    const without = (key) => {
      const copy = structuredClone(state);
      delete copy[key];
      return copy;
    };
    for (const key of ["landscape", "noise", "series", "steps", "seeds"]) {
      assert.equal(decodeFragment(encode(without(key))), null, `without ${key}`);
    }
    assert.equal(decodeFragment(encode({ ...state, series: [] })), null, "no series");
    assert.equal(decodeFragment(encode({ ...state, series: {} })), null, "series not a list");
    assert.equal(decodeFragment(encode({ ...state, steps: 1.5 })), null, "fractional steps");
    assert.equal(decodeFragment(encode({ ...state, steps: "500" })), null, "steps as text");
    assert.equal(decodeFragment(encode({ ...state, seeds: null })), null, "seeds null");
    assert.deepEqual(decodeFragment(encode(state)), state, "the whole state still decodes");
  });
});

describe("stateFromPreset", () => {
  test("takes the preset's run, with defaults for what it leaves out", () => {
    const state = stateFromPreset(TOUR);
    assert.equal(state.preset, "tour");
    assert.deepEqual(state.landscape, { id: "rosenbrock" });
    assert.deepEqual(state.noise, { kind: "none" });
    assert.equal(state.seeds, 1);
    assert.deepEqual(state.start, [-2, 2]);
    assert.equal(state.steps, 500);
    assert.equal(state.clip, null);
    assert.equal(state.gamma, null);
    assert.equal(state.series.length, 8);
    assert.deepEqual(state.series[5],
      { optimizer: "sgd", hparams: { lr: 1e-3, momentum: 0.9 }, label: "", color: SERIES_PALETTE[5],
        sweep: null });
    assert.equal(state.series[7].label, "Adam, slower");
    // Colours follow the palette, eight different ones for eight series.
    assert.deepEqual(state.series.map((s) => s.color), SERIES_PALETTE.slice(0, 8));
  });

  test("a gamma preset: seeds counted, clip kept, the gamma slider on", () => {
    const state = stateFromPreset(GAMMA);
    assert.equal(state.seeds, 3);
    assert.equal(state.clip, 1.0);
    assert.equal(state.gamma, 1);
    assert.deepEqual(state.noise, { kind: "gaussian", sigma: 2.0 });
    assert.equal(gammaSeriesIndex(state, OPTIMIZERS), 1);
    assert.equal(gammaSeriesIndex(stateFromPreset(TOUR), OPTIMIZERS), -1);
  });

  test("editing the state leaves the preset untouched", () => {
    const before = structuredClone(GAMMA);
    const state = stateFromPreset(GAMMA);
    state.landscape.params.a = 5;
    state.noise.sigma = 9;
    state.series[0].hparams.lr = 1;
    state.series[1].sweep.values.push(3);
    assert.deepEqual(GAMMA, before);
  });
});

describe("toRunSpec", () => {
  test("a registry landscape: the API's RunSpec shape", () => {
    const spec = toRunSpec(stateFromPreset(GAMMA), 501);
    assert.deepEqual(spec, {
      landscape: { id: "rosenbrock", params: { a: 1, b: 100 } },
      noise: { kind: "gaussian", sigma: 2.0 },
      seeds: [0, 1, 2],
      start: [-2, 2],
      steps: 500,
      clip_grad_norm: 1.0,
      series: [
        { optimizer: "adam", hparams: { lr: 0.01 } },
        { optimizer: "anon", hparams: { lr: 0.01 },
          sweep: { param: "gamma", values: [-0.5, 0.0, 0.5, 1.0, 1.5] } },
      ],
      max_points: 501,
    });
  });

  test("a preset's state asks for the preset's run again", () => {
    for (const preset of [TOUR, GAMMA]) {
      const spec = toRunSpec(stateFromPreset(preset));
      const expected = {
        noise: null, seeds: [0], clip_grad_norm: null, ...structuredClone(preset.spec),
      };
      expected.landscape.params ??= {};
      assert.deepEqual(spec, expected, preset.id);
    }
  });

  test("an expression sends only the expression; no noise is null; page-only fields stay out",
    () => {
      const spec = toRunSpec(richState());
      assert.deepEqual(spec.landscape, { expression: "x**2 + 3*y**2 - sin(x)/2 # & ? % é" });
      assert.deepEqual(spec.seeds, [0, 1, 2, 3]);
      assert.equal(spec.clip_grad_norm, null);
      assert.equal("max_points" in spec, false, "max_points only when asked for");
      assert.deepEqual(spec.series, [
        { optimizer: "anon", hparams: { lr: 3e-4, gamma: -0.5, amsgrad: true }, label: "a \"b\", c",
          sweep: { param: "gamma", values: [-0.5, 0, 1.5] } },
        { optimizer: "sgd", hparams: {} },
      ]);
      const state = richState();
      state.noise = { kind: "none" };
      assert.equal(toRunSpec(state).noise, null);
      // Nothing the API would refuse (extra="forbid") or that JSON would drop.
      const keys = ["landscape", "noise", "seeds", "start", "steps", "clip_grad_norm", "series"];
      assert.deepEqual(Object.keys(spec).sort(), keys.sort());
      assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
    });

  test("clip_grad_norm is the clip when on and null (off) otherwise", () => {
    const state = stateFromPreset(TOUR);
    assert.equal(toRunSpec(state).clip_grad_norm, null);
    state.clip = 0.5;
    assert.equal(toRunSpec(state).clip_grad_norm, 0.5);
  });
});

describe("pointsPerRow", () => {
  const state = (steps, seeds, sweeps) => ({
    steps,
    seeds,
    series: sweeps.map((n) => (n === null
      ? { sweep: null }
      : { sweep: { param: "gamma", values: Array.from({ length: n }, (_, i) => i) } })),
  });

  test("every step (steps + 1 points) while the run stays under ~400k points", () => {
    assert.equal(pointsPerRow(state(500, 1, [null])), 501);
    assert.equal(pointsPerRow(state(20000, 1, [null])), 20001);
    assert.equal(pointsPerRow(state(1999, 8, [5, null, null])), 2000); // 56 rows x 2000
    assert.equal(pointsPerRow(state(3999, 100, [null])), 4000); // exactly 400k points
  });

  test("decimated to 400k / rows points per row, never fewer than the API's 2001", () => {
    assert.equal(pointsPerRow(state(4000, 100, [null])), 4000); // 100 rows: 400000 / 100
    assert.equal(pointsPerRow(state(50000, 3, [5, null])), 22222); // 18 rows
    assert.equal(pointsPerRow(state(20000, 256, [256, 10, null])), 2001); // 68352 rows
  });
});

describe("the registry's facts, never an optimizer's id", () => {
  const sweepOf = (optimizer, param) => ({
    optimizer, hparams: {}, label: "", color: "#000000",
    sweep: param ? { param, values: [0, 0.5, 1] } : null,
  });
  const withSeries = (...series) => ({ ...stateFromPreset(TOUR), series });

  test("the gamma series is a sweep of its optimizer's adaptivity exponent", () => {
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("adam", null), sweepOf("anon", "gamma")),
      OPTIMIZERS), 1);
    assert.equal(adaptivitySweepParam(sweepOf("anon", "gamma"), OPTIMIZERS), "gamma");
  });

  test("AdaBound's gamma is not an adaptivity exponent: its sweep opens no gamma panel", () => {
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("adabound", "gamma")), OPTIMIZERS), -1);
    assert.equal(adaptivitySweepParam(sweepOf("adabound", "gamma"), OPTIMIZERS), null);
    // With both, Anon's is the one, whichever comes first.
    assert.equal(gammaSeriesIndex(
      withSeries(sweepOf("adabound", "gamma"), sweepOf("sgd", "lr"), sweepOf("anon", "gamma")),
      OPTIMIZERS), 2);
  });

  test("other sweeps, no sweep or an unknown optimizer give no gamma series", () => {
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("anon", "lr")), OPTIMIZERS), -1);
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("anon", null)), OPTIMIZERS), -1);
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("gone", "gamma")), OPTIMIZERS), -1);
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("anon", "gamma")), []), -1);
  });

  test("an optimizer named otherwise with an adaptivity exponent counts too", () => {
    const registry = [...OPTIMIZERS,
      { id: "anon-v2", capabilities: capabilities("kappa", "powers_of_two") }];
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("anon-v2", "kappa")), registry), 0);
    assert.equal(gammaSeriesIndex(withSeries(sweepOf("anon-v2", "gamma")), registry), -1);
    assert.equal(refreshesAtPowersOfTwo(registry, "anon-v2"), true);
  });

  test("refresh markers only where preconditioner_refreshes is 'powers_of_two'", () => {
    assert.equal(refreshesAtPowersOfTwo(OPTIMIZERS, "anon"), true);
    for (const id of ["adam", "adabound", "sgd", "unknown"]) {
      assert.equal(refreshesAtPowersOfTwo(OPTIMIZERS, id), false, id);
    }
  });

  test("capabilitiesOf: an entry's flags, or {} for an id the registry does not list", () => {
    assert.equal(capabilitiesOf(OPTIMIZERS, "anon").adaptivity_exponent, "gamma");
    assert.deepEqual(capabilitiesOf(OPTIMIZERS, "nope"), {});
    assert.deepEqual(capabilitiesOf([{ id: "bare" }], "bare"), {});
  });
});

describe("a preset's state, edited", () => {
  test("a preset's own state is not modified; the gamma slider and narration are no edits", () => {
    for (const preset of [TOUR, GAMMA]) {
      const state = stateFromPreset(preset);
      assert.equal(isModified(state, preset), false, preset.id);
      state.gamma = 0.25;
      state.narration = false;
      assert.equal(isModified(state, preset), false, preset.id);
    }
  });

  test("any edit of what runs or how it is drawn is", () => {
    const edits = [
      (s) => { s.series[0].hparams.lr = 0.05; },
      (s) => { s.series[0].color = "#123456"; },
      (s) => { s.series[0].label = "mine"; },
      (s) => { s.series.pop(); },
      (s) => { s.series[1].sweep.values = [0, 1]; },
      (s) => { s.start = [0.5, 0.5]; },
      (s) => { s.steps = 100; },
      (s) => { s.seeds = 4; },
      (s) => { s.clip = null; },
      (s) => { s.noise = { kind: "gaussian", sigma: 0.5 }; },
      (s) => { s.landscape = { expression: "x**2" }; },
    ];
    for (const edit of edits) {
      const state = stateFromPreset(GAMMA);
      edit(state);
      assert.equal(isModified(state, GAMMA), true, String(edit));
    }
  });

  test("an edit undone, even with its keys in another order, is no edit", () => {
    const state = stateFromPreset(GAMMA);
    state.series[0].hparams = { lr: 0.5 };
    assert.equal(isModified(state, GAMMA), true);
    state.series[0].hparams = { lr: 0.01 };
    state.landscape = { params: { b: 100, a: 1 }, id: "rosenbrock" };
    assert.equal(isModified(state, GAMMA), false);
  });

  test("the URL keeps which preset an edited state came from, and so whether it is modified",
    () => {
      const state = stateFromPreset(GAMMA);
      state.series[0].hparams.lr = 0.05;
      const decoded = decodeFragment(encodeFragment(state));
      assert.deepEqual(decoded, state);
      assert.equal(decoded.preset, "anon-gamma-rosenbrock");
      assert.equal(isModified(decoded, GAMMA), true);
      const pristine = decodeFragment(encodeFragment(stateFromPreset(GAMMA)));
      assert.equal(isModified(pristine, GAMMA), false);
    });
});

describe("parseNumberList (a sweep's values)", () => {
  test("numbers separated by commas, spaces and exponents allowed", () => {
    assert.deepEqual(parseNumberList("-0.5, 0, 0.5,1 , 1.5"), { values: [-0.5, 0, 0.5, 1, 1.5] });
    assert.deepEqual(parseNumberList("1e-3,3e-3"), { values: [0.001, 0.003] });
    assert.deepEqual(parseNumberList("2"), { values: [2] });
  });

  test("an entry that is no number is named, by position and text", () => {
    const { values, error } = parseNumberList("0, 0.5, abc");
    assert.equal(values, undefined);
    assert.match(error, /^Entry 3 \("abc"\) is not a number/);
    assert.match(parseNumberList("0, , 1").error, /^Entry 2 \(an empty entry\)/);
    assert.match(parseNumberList("1, 2,").error, /^Entry 3 \(an empty entry\)/);
    assert.match(parseNumberList("Infinity").error, /^Entry 1 \("Infinity"\)/);
    assert.match(parseNumberList("1; 2").error, /^Entry 1 \("1; 2"\)/);
  });

  test("nothing at all asks for a number", () => {
    assert.match(parseNumberList("").error, /at least one number/);
    assert.match(parseNumberList(" , ").error, /at least one number/);
  });
});
