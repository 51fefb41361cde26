// static/js/view.js: the loss floor, the shading's title, click rounding and legend groups.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DISTANCE_AXIS_TITLE, DISTANCE_FLOOR, displayLoss, floorDistances, isolateGroup, LOSS_FLOOR,
  lossAxisTitle, roundToResolution, seriesSignature, shadingTitle, shortLossAxisTitle,
  toggleGroup,
} from "../../static/js/view.js";

describe("the loss axis's floor", () => {
  test("gaps above the floor are drawn as they are", () => {
    assert.equal(displayLoss(1.5, 1), 0.5);
    assert.equal(displayLoss(3e-9, 0), 3e-9);
  });

  test("an exact hit, a gap below the floor or a loss below f* sit on the floor", () => {
    assert.equal(LOSS_FLOOR, 1e-16);
    assert.equal(displayLoss(1e-27, 0), 1e-16);
    assert.equal(displayLoss(0, 0), 1e-16);
    assert.equal(displayLoss(-2, -2), 1e-16);
    assert.equal(displayLoss(-1e-12, 0), 1e-16);
  });

  test("no known minimum: the raw loss, unfloored (a linear axis)", () => {
    assert.equal(displayLoss(-3, null), -3);
    assert.equal(displayLoss(0, null), 0);
  });

  test("the axis title says where the floor is", () => {
    assert.match(lossAxisTitle(0), /^loss \(log scale, floor 10⁻¹⁶\)$/);
    assert.match(lossAxisTitle(-1.5), /^loss − f\* \(log scale, floor 10⁻¹⁶\)$/);
    assert.equal(lossAxisTitle(null), "loss");
  });

  test("a short plot's axis title says log, in at most 15 characters", () => {
    assert.equal(shortLossAxisTitle(0), "loss (log)");
    assert.equal(shortLossAxisTitle(-1.5), "loss − f* (log)");
    assert.equal(shortLossAxisTitle(null), "loss");
  });
});

test("distances are floored at 1e-8 in place, and the axis says so", () => {
  assert.equal(DISTANCE_FLOOR, 1e-8);
  const distances = new Float64Array([2, 1e-7, 1e-9, 0, Number.NaN]);
  assert.equal(floorDistances(distances), distances);
  assert.deepEqual(Array.from(distances), [2, 1e-7, 1e-8, 1e-8, 1e-8]);
  assert.equal(floorDistances(null), null);
  assert.match(DISTANCE_AXIS_TITLE, /floor 10⁻⁸/);
});

test("the colour bar names the landscape's shading", () => {
  assert.equal(shadingTitle(true), "log₁₀(f − f_min + δ)");
  assert.equal(shadingTitle(false), "f");
});

describe("roundToResolution", () => {
  test("keeps the decimals one pixel needs, and no more", () => {
    assert.equal(roundToResolution(-1.234567, 0.008), -1.235);
    assert.equal(roundToResolution(0.987654, 0.01), 0.99);
    assert.equal(roundToResolution(123.456, 0.5), 123.5);
    assert.equal(roundToResolution(123.456, 2), 123);
    assert.equal(roundToResolution(2.5e-5 + 1e-9, 1e-6), 0.000025);
  });

  test("the rounding error stays below one pixel", () => {
    for (const resolution of [0.3, 0.008, 0.01, 1e-4, 7e-7]) {
      for (const value of [-3.14159265, 0.1 + 0.2, 1234.56789]) {
        const rounded = roundToResolution(value, resolution);
        assert.ok(Math.abs(rounded - value) <= resolution, `${value} at ${resolution}`);
      }
    }
  });

  test("a resolution that is no number leaves the value alone", () => {
    assert.equal(roundToResolution(1.23456, 0), 1.23456);
    assert.equal(roundToResolution(1.23456, Number.NaN), 1.23456);
  });
});

describe("legend groups", () => {
  test("a click toggles a group; the set given is left alone", () => {
    const none = new Set();
    const one = toggleGroup(none, "1|");
    assert.deepEqual([...one], ["1|"]);
    assert.deepEqual([...none], []);
    assert.deepEqual([...toggleGroup(one, "1|")], []);
    assert.deepEqual([...toggleGroup(one, "2|")].sort(), ["1|", "2|"]);
  });

  test("a double click shows one group alone, and a second one shows them all", () => {
    const keys = ["0|", "1|", "2|"];
    const alone = isolateGroup(new Set(), "1|", keys);
    assert.deepEqual([...alone].sort(), ["0|", "2|"]);
    assert.deepEqual([...isolateGroup(alone, "1|", keys)], []);
    // On a hidden group: that group alone.
    assert.deepEqual([...isolateGroup(new Set(["1|"]), "1|", keys)].sort(), ["0|", "2|"]);
  });

  test("the series signature changes with the series, not with seeds or swept values", () => {
    const rows = (list) => list.map(([series, optimizer]) => ({ series, optimizer }));
    const a = seriesSignature(rows([[0, "adam"], [0, "adam"], [1, "sgd"]]));
    assert.equal(a, seriesSignature(rows([[0, "adam"], [1, "sgd"], [1, "sgd"]])));
    assert.notEqual(a, seriesSignature(rows([[0, "adam"], [1, "lion"]])));
    assert.notEqual(a, seriesSignature(rows([[0, "sgd"], [1, "adam"]])));
    assert.notEqual(a, seriesSignature(rows([[0, "adam"]])));
  });
});
