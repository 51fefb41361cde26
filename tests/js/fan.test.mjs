// static/js/fan.js: a fan's values from a range and back, and the path between two members.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ADAPTIVITY_FAN, blend, bracket, countForStep, defaultFan, describePath, fanFraction,
  fanFromValues, fanMembers, fanParams, fanPath, fanProblem, fanSeriesIndex, fanStep, fanValues,
  fromSlider, keptSweep, LOG_FAN, nearestMember, sliderRange, toSlider,
} from "../../static/js/fan.js";

const anon = {
  id: "anon", defaults: { lr: 0.001, gamma: 1 },
  capabilities: { tensor_hparams: ["gamma", "lr"], adaptivity_exponent: "gamma" },
  hparams_schema: { properties: { lr: { log_scale: true }, gamma: {}, beta1: {} } },
};
const yogi = { id: "yogi", defaults: { lr: 0.01 }, capabilities: { tensor_hparams: ["lr"] },
  hparams_schema: { properties: { lr: { log_scale: true } } } };
const adam = { id: "adam", defaults: { lr: 0.01 }, capabilities: { tensor_hparams: [] },
  hparams_schema: { properties: { lr: { log_scale: true } } } };
const adabound = { id: "adabound", capabilities: { tensor_hparams: ["lr"] },
  hparams_schema: { properties: { lr: { log_scale: true }, gamma: {} } } };

describe("ranges", () => {
  test("the default gamma fan: -1 to 2 by 0.05, 61 tidy values", () => {
    const values = fanValues(ADAPTIVITY_FAN);
    assert.equal(values.length, 61);
    assert.equal(values[0], -1);
    assert.equal(values[60], 2);
    assert.equal(values[27], 0.35);
    assert.ok(values.includes(0) && values.includes(1));
    assert.equal(fanStep(ADAPTIVITY_FAN), 0.05);
    assert.equal(countForStep(-1, 2, 0.05), 61);
  });

  test("the default lr fan: 1e-4 to 1, 25 log-spaced values", () => {
    const values = fanValues(LOG_FAN);
    assert.equal(values.length, 25);
    assert.equal(values[0], 1e-4);
    assert.equal(values[24], 1);
    assert.equal(values[6], 0.001);
    for (let i = 1; i < 25; i += 1) {
      assert.ok(Math.abs(values[i] / values[i - 1] - 10 ** (1 / 6)) < 1e-9);
    }
    assert.equal(countForStep(1e-4, 1, 10, "log"), 5);
  });

  test("the range comes back from the values (the URL keeps only the values)", () => {
    assert.deepEqual(fanFromValues(fanValues(ADAPTIVITY_FAN)),
      { ...ADAPTIVITY_FAN, even: true });
    assert.deepEqual(fanFromValues(fanValues(LOG_FAN)), { ...LOG_FAN, even: true });
    assert.equal(fanFromValues([0, 0.1, 5]).even, false);
    assert.equal(fanFromValues([0.5, 1]).scale, "linear");
  });

  test("bad ranges are named", () => {
    assert.equal(fanProblem({ from: 0, to: 1, count: 1, scale: "linear" }),
      "A fan needs at least 2 values.");
    assert.match(fanProblem({ from: 0, to: 1, count: 5, scale: "log" }), /positive/);
    assert.match(fanProblem({ from: 1, to: 1, count: 5, scale: "linear" }), /differ/);
    assert.match(fanProblem({ from: Number.NaN, to: 1, count: 5, scale: "linear" }), /numbers/);
    assert.equal(fanProblem(ADAPTIVITY_FAN), null);
  });

  test("defaults and what each optimizer can fan, from the registry's capabilities", () => {
    assert.deepEqual(fanParams(anon), ["gamma", "lr"]);
    assert.deepEqual(fanParams(yogi), ["lr"]);
    assert.deepEqual(fanParams(adam), []);
    assert.deepEqual(fanParams(adabound), ["lr"]); // its gamma is no tensor hyperparameter
    assert.deepEqual(defaultFan(anon, "gamma"), ADAPTIVITY_FAN);
    assert.deepEqual(defaultFan(anon, "lr"), LOG_FAN);
  });

  test("the fan's series, and a sweep kept across a change of optimizer", () => {
    const lrFan = { param: "lr", values: [0.01, 0.1] };
    const series = [{ optimizer: "adam", sweep: lrFan }, { optimizer: "yogi", sweep: lrFan }];
    assert.equal(fanSeriesIndex(series, [anon, yogi, adam]), 1);
    assert.equal(fanSeriesIndex([{ optimizer: "anon", sweep: { param: "gamma", values: [1] } }],
      [anon]), -1);
    assert.equal(fanSeriesIndex([{ optimizer: "anon",
      sweep: [{ param: "gamma", values: [0, 1] }, lrFan] }], [anon]), -1);
    assert.equal(keptSweep(lrFan, yogi), lrFan);
    assert.equal(keptSweep({ param: "gamma", values: [0, 1] }, yogi), null);
    assert.equal(keptSweep(lrFan, adam), null);
  });

  test("the slider: log10 for a log fan, ten positions per gap", () => {
    assert.equal(toSlider(0.01, "log"), -2);
    assert.equal(fromSlider(-2, "log"), 0.01);
    assert.equal(fromSlider(0.35000000000000003, "linear"), 0.35);
    assert.deepEqual(sliderRange(fanValues(ADAPTIVITY_FAN), "linear"),
      { min: -1, max: 2, step: 0.005 });
    const range = sliderRange(fanValues(LOG_FAN), "log");
    assert.equal(range.min, -4);
    assert.equal(range.max, 0);
  });

  test("colours by the position in the fan's scale", () => {
    assert.equal(fanFraction(0.01, [1e-4, 1], "log"), 0.5);
    assert.equal(fanFraction(0.5, [-1, 2], "linear"), 0.5);
    assert.equal(fanFraction(5, [-1, 2], "linear"), 1);
  });
});

// Rows of a fan: x = value + step, y = 2 * that, loss = value * 10 per step.
const row = (value, n = 4) => ({
  hparams: { gamma: value }, label: `g=${value}`,
  x: Float64Array.from({ length: n }, (_, k) => value + k),
  y: Float64Array.from({ length: n }, (_, k) => 2 * (value + k)),
  steps: Int32Array.from({ length: n }, (_, k) => k),
  loss: Float64Array.from({ length: n }, (_, k) => value * 10 + k),
});
const columns = (r) => ({ x: r.x, y: r.y, steps: r.steps, loss: r.loss, distance: null });

describe("interpolation", () => {
  const members = fanMembers([row(1), row(0), row(0.5), row(0)], "gamma");

  test("members: one per value, ascending", () => {
    assert.deepEqual(members.map((m) => m.value), [0, 0.5, 1]);
  });

  test("bracket: the two neighbours and the weight of the upper one", () => {
    const b = bracket(members, 0.2, "linear");
    assert.equal(b.lower.value, 0);
    assert.equal(b.upper.value, 0.5);
    assert.ok(Math.abs(b.weight - 0.4) < 1e-12);
    assert.equal(bracket(members, 0.5, "linear").weight, 0);
    assert.equal(bracket(members, 0.5 + 1e-12, "linear").lower.value, 0.5);
    assert.equal(bracket(members, -3, "linear").lower.value, 0);
    assert.equal(bracket(members, 7, "linear").upper.value, 1);
    assert.equal(nearestMember(members, 0.3, "linear").value, 0.5);
    assert.equal(bracket([], 1, "linear"), null);
  });

  test("a log bracket weighs in log10", () => {
    const lr = fanMembers([{ hparams: { lr: 0.01 } }, { hparams: { lr: 1 } }], "lr");
    assert.ok(Math.abs(bracket(lr, 0.1, "log").weight - 0.5) < 1e-12);
  });

  test("the path between two members is their blend, step by step, between them", () => {
    const path = fanPath(members, 0.2, "linear", columns);
    assert.equal(path.interpolated, true);
    for (let k = 0; k < 4; k += 1) {
      assert.ok(Math.abs(path.x[k] - (0.2 + k)) < 1e-12);
      assert.ok(path.x[k] >= k && path.x[k] <= 0.5 + k);
      assert.ok(Math.abs(path.loss[k] - (2 + k)) < 1e-12);
    }
    assert.ok(Math.abs(path.final - 5) < 1e-12);
    assert.match(describePath(path, "gamma"), /60% of γ = 0 \+ 40% of γ = 0.5/);
  });

  test("on a member, or snapped: the member's own columns", () => {
    const on = fanPath(members, 0.5, "linear", columns);
    assert.equal(on.interpolated, false);
    assert.equal(on.x, members[1].row.x);
    const snapped = fanPath(members, 0.2, "linear", columns, { snap: true });
    assert.equal(snapped.x, members[0].row.x);
    const up = fanPath(members, 0.3, "linear", columns, { snap: true });
    assert.equal(up.x, members[1].row.x);
    assert.match(describePath(up, "lr"), /computed path, lr = 0.5/);
  });

  test("a member that stopped early (diverged) cuts the blend where it stopped", () => {
    const short = fanMembers([row(0, 4), row(1, 2)], "gamma");
    const path = fanPath(short, 0.5, "linear", columns);
    assert.equal(path.x.length, 2);
    assert.deepEqual(Array.from(path.steps), [0, 1]);
    assert.deepEqual(Array.from(blend([0, 10], [10, 20, 30], 0.5)), [5, 15]);
  });
});
