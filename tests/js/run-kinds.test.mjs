// static/js/run-kinds.js and its place in state.js: maps, two-hyperparameter sweeps and tuned
// runs round-trip between a preset's spec, the page's state (its URL) and the run spec.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  addRunKind, defaultSweepValues, defaultTune, isSummaryRun, mapOverBox, numericHparams,
  parseValues, runKindFromSpec, seedList, sweepCombinations, sweepFromList, sweepList,
  tuneCandidates, tuningBudget, tuningProgressText, tuningSeeds,
} from "../../static/js/run-kinds.js";
import {
  decodeFragment, encodeFragment, isModified, pointsPerRow, stateFromPreset, toRunSpec,
} from "../../static/js/state.js";

const MAP_PRESET = {
  id: "basin-map",
  title: "A map",
  narration: "…",
  spec: {
    landscape: { id: "himmelblau" },
    starts: { grid: { x: [-5, 5, 64], y: [-5, 5, 64] } },
    steps: 300,
    record: "final",
    series: [{ optimizer: "sgd", hparams: { lr: 0.01 } }, { optimizer: "adam", hparams: { lr: 0.1 } }],
  },
};
const PHASE_SWEEP = [{ param: "gamma", values: [-1, 0, 1, 2] }, { param: "lr", values: [1e-3, 0.1] }];
const PHASE_PRESET = {
  id: "phase",
  title: "A phase diagram",
  narration: "…",
  spec: {
    landscape: { id: "rosenbrock" },
    start: [-2, 2],
    seeds: [0, 1, 2, 3],
    steps: 300,
    record: "final",
    series: [{ optimizer: "anon", hparams: {}, sweep: PHASE_SWEEP }],
  },
};
const TUNED_PRESET = {
  id: "tuned",
  title: "Tuned",
  narration: "…",
  spec: {
    landscape: { id: "rosenbrock" },
    start: [-2, 2],
    seeds: [0, 1],
    steps: 500,
    tune: { param: "lr", grid: [0.001, 100, 11], objective: "final_loss", seeds: [1000001, 1000002] },
    series: [{ optimizer: "adam", hparams: {} }, { optimizer: "sgd", hparams: {} }],
  },
};

describe("sweeps of one or two hyperparameters", () => {
  test("a sweep as a list, and back in the state's form", () => {
    assert.deepEqual(sweepList(null), []);
    assert.deepEqual(sweepList(PHASE_SWEEP[0]), [PHASE_SWEEP[0]]);
    assert.deepEqual(sweepList(PHASE_SWEEP), PHASE_SWEEP);
    assert.equal(sweepFromList([]), null);
    assert.equal(sweepFromList([PHASE_SWEEP[1]]), PHASE_SWEEP[1]);
    assert.deepEqual(sweepFromList(PHASE_SWEEP), PHASE_SWEEP);
  });

  test("rows per seed and start: the product of the value counts", () => {
    assert.equal(sweepCombinations(null), 1);
    assert.equal(sweepCombinations(PHASE_SWEEP[0]), 4);
    assert.equal(sweepCombinations(PHASE_SWEEP), 8);
  });

  test("values typed as a list or a range", () => {
    assert.deepEqual(parseValues("0, 0.5, 1"), { values: [0, 0.5, 1] });
    assert.deepEqual(parseValues("1e-4:1:5:log"), { values: [1e-4, 1e-3, 0.01, 0.1, 1] });
    assert.deepEqual(parseValues("1e-3 : 1 : 4 : LOG"), { values: [1e-3, 0.01, 0.1, 1] });
    const gammas = parseValues("-1:2:25").values;
    assert.equal(gammas.length, 25);
    assert.deepEqual([gammas[0], gammas[1], gammas[12], gammas[24]], [-1, -0.875, 0.5, 2]);
    // Log ranges keep three significant digits: 1e-4 to 1 in 13 steps of 10^(1/3).
    assert.deepEqual(parseValues("1e-4:1:13:log").values.slice(0, 4), [1e-4, 2.15e-4, 4.64e-4, 1e-3]);
  });

  test("what a bad entry gets told", () => {
    assert.match(parseValues("1:2:1").error, /count ≥ 2/);
    assert.match(parseValues("0:1:3:log").error, /above 0/);
    assert.match(parseValues("1:2:x").error, /lo:hi:count/);
    assert.match(parseValues("1, x").error, /Entry 2 \("x"\)/);
    assert.match(parseValues("  ").error, /Enter numbers/);
  });
});

describe("the state of a map, a phase diagram, a tuned run", () => {
  test("a map preset: its grid in the state, and back in the spec with record final", () => {
    const state = stateFromPreset(MAP_PRESET);
    assert.deepEqual(state.map, { x: [-5, 5, 64], y: [-5, 5, 64] });
    assert.equal(state.tune, null);
    assert.ok(isSummaryRun(state));
    const spec = toRunSpec(state);
    assert.deepEqual(spec.starts, { grid: { x: [-5, 5, 64], y: [-5, 5, 64] } });
    assert.equal(spec.record, "final");
    assert.equal(isModified(state, MAP_PRESET), false);
    state.map.x[2] = 32;
    assert.equal(isModified(state, MAP_PRESET), true, "a new grid is an edit");
  });

  test("a two-hyperparameter sweep makes a summary run: record final, no grid", () => {
    const state = stateFromPreset(PHASE_PRESET);
    assert.deepEqual(state.series[0].sweep, PHASE_SWEEP);
    const spec = toRunSpec(state, pointsPerRow(state));
    assert.equal(spec.record, "final");
    assert.equal(spec.starts, undefined);
    assert.deepEqual(spec.series[0].sweep, PHASE_SWEEP);
    // 8 pairs x 4 seeds: 32 rows, each given every step.
    assert.equal(pointsPerRow(state), 301);
  });

  test("a tuned preset keeps its tune object; its held-out run records trajectories", () => {
    const state = stateFromPreset(TUNED_PRESET);
    assert.deepEqual(state.tune, TUNED_PRESET.spec.tune);
    assert.equal(isSummaryRun(state), false);
    const spec = toRunSpec(state);
    assert.deepEqual(spec.tune, TUNED_PRESET.spec.tune);
    assert.equal(spec.record, undefined);
    assert.equal(isModified(state, TUNED_PRESET), false);
  });

  test("the whole state survives the URL", () => {
    for (const preset of [MAP_PRESET, PHASE_PRESET, TUNED_PRESET]) {
      const state = stateFromPreset(preset);
      assert.deepEqual(decodeFragment(encodeFragment(state)), state, preset.id);
    }
  });

  test("an older URL (no map, no tune) is a plain trajectory run", () => {
    const old = { preset: null, landscape: { id: "rosenbrock", params: {} },
      noise: { kind: "none" }, seeds: 1, start: [-2, 2], steps: 100, clip: null,
      series: [{ optimizer: "adam", hparams: { lr: 0.1 }, label: "", color: "#0072B2",
        sweep: { param: "lr", values: [0.1, 0.2] } }], gamma: null, narration: true };
    const state = decodeFragment(encodeFragment(old));
    assert.equal(isSummaryRun(state), false);
    const spec = toRunSpec(state, 101);
    assert.equal(spec.record, undefined);
    assert.equal(spec.starts, undefined);
    assert.equal(spec.tune, undefined);
    assert.deepEqual(runKindFromSpec({}), { map: null, tune: null });
    assert.deepEqual(addRunKind(state, { seeds: [0] }), { seeds: [0] });
  });

  test("a map over a landscape's view box", () => {
    assert.deepEqual(mapOverBox([[-2, 2], [-1, 3]]), { x: [-2, 2, 64], y: [-1, 3, 64] });
    assert.deepEqual(mapOverBox([[-5, 5], [-5, 5]], 16), { x: [-5, 5, 16], y: [-5, 5, 16] });
  });
});

describe("tuning", () => {
  test("candidates of a log grid, as the server computes them", () => {
    const candidates = tuneCandidates({ grid: [1e-4, 1, 5] });
    assert.deepEqual(candidates.map((v) => Number(v.toPrecision(12))), [1e-4, 1e-3, 0.01, 0.1, 1]);
    assert.deepEqual(tuneCandidates({ values: [0.3, 0.1] }), [0.3, 0.1]);
  });

  test("the default tuning: lr by final loss on four seeds far from the run's", () => {
    assert.deepEqual(defaultTune(), { param: "lr", grid: [1e-4, 1, 9], objective: "final_loss",
      seeds: [1000001, 1000002, 1000003, 1000004] });
    assert.deepEqual(tuningSeeds(2), [1000001, 1000002]);
  });

  test("the same-budget statement names candidates, seeds, starts and the held-out seeds", () => {
    const tuning = { param: "lr", candidates: new Array(11).fill(0.1), objective: "final_loss",
      seeds: [1000001, 1000002, 1000003, 1000004], rows_per_candidate: 4, series: [] };
    const budget = tuningBudget(tuning, [0, 1, 2, 3]);
    assert.deepEqual([budget.candidates, budget.seeds, budget.starts, budget.runs], [11, 4, 1, 44]);
    assert.equal(budget.text, "Every optimizer had the same budget: 11 candidates of lr × 4 "
      + "tuning seeds × 1 start = 44 tuning runs each, chosen by the median final loss. The "
      + "trajectories shown are held-out seeds (0, 1, 2, 3), which the choice never saw.");
    const map = tuningBudget({ ...tuning, objective: "loss_area", seeds: [7],
      rows_per_candidate: 256 }, [0]);
    assert.deepEqual([map.starts, map.runs], [256, 11 * 256]);
    assert.match(map.text, /1 tuning seed × 256 starts = 2816 tuning runs each, chosen by the median area under the loss curve/);
  });

  test("seed lists stay short", () => {
    assert.equal(seedList([0, 1, 2]), "0, 1, 2");
    assert.equal(seedList([0, 1, 2, 3, 4, 5, 6, 7]), "0 to 7");
    assert.equal(seedList([3, 9, 27, 81, 243]), "3, 9, 27, 81, 243");
  });
});

describe("new sweeps and tunings from the page", () => {
  test("a learning rate sweeps a decade either side in half decades", () => {
    const lr = { type: "number", log_scale: true, exclusiveMinimum: 0, maximum: 100 };
    assert.deepEqual(defaultSweepValues(lr, 0.01), [0.001, 0.00316, 0.01, 0.0316, 0.1]);
    assert.deepEqual(defaultSweepValues(lr, 30), [3, 9.49, 30, 94.9], "at most the maximum");
  });

  test("a linear one sweeps current ± 1 within its bounds", () => {
    const gamma = { type: "number", minimum: -4, maximum: 4 };
    assert.deepEqual(defaultSweepValues(gamma, 0), [-1, -0.5, 0, 0.5, 1]);
    // 0.99 * k / 4, to 3 digits (0.2475 is 0.24749... in binary).
    const beta1 = { type: "number", minimum: 0, exclusiveMaximum: 1 };
    assert.deepEqual(defaultSweepValues(beta1, 0.9), [0, 0.247, 0.495, 0.742, 0.99]);
  });

  test("only numeric hyperparameters can be swept or tuned", () => {
    const schema = { properties: { lr: { type: "number" }, nesterov: { type: "boolean" },
      steps: { type: "integer" } } };
    assert.deepEqual(numericHparams(schema), ["lr", "steps"]);
  });

  test("while tuning, the page says what is being tried", () => {
    assert.equal(tuningProgressText({ param: "lr", grid: [1e-3, 100, 11], seeds: [5, 6] }, 8),
      "Tuning lr: 11 candidates × 2 tuning seeds for each of 8 series…");
  });
});
