// static/js/results.js: the results table's true medians and "k/n reached".

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  formatReached, median, reachedSummary, resultGroups, toleranceText,
} from "../../static/js/results.js";

describe("median", () => {
  test("odd counts: the middle value, whatever the order", () => {
    assert.equal(median([5]), 5);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([10, -1, 7, 7, 0]), 7);
  });

  test("even counts: the mean of the two middle values, not the lower one", () => {
    assert.equal(median([1, 2]), 1.5);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([100, 120, 118, 300]), 119);
    assert.equal(median([1e-3, 1e-5]), (1e-3 + 1e-5) / 2);
  });

  test("numbers are sorted as numbers, not as text", () => {
    assert.equal(median([9, 10, 100]), 10);
    assert.equal(median([2, 10, 9, 100]), 9.5);
  });

  test("nulls (and non-finite values) are left out; none left gives null", () => {
    assert.equal(median([null, 3, null, 1]), 2);
    assert.equal(median([null, undefined, Number.NaN]), null);
    assert.equal(median([]), null);
  });

  test("does not reorder its argument", () => {
    const values = [3, 1, 2];
    median(values);
    assert.deepEqual(values, [3, 1, 2]);
  });
});

describe("reachedSummary and formatReached", () => {
  test("some seeds reached: how many of how many, and the median of those that did", () => {
    const summary = reachedSummary([118, null, 120, 100, null, 119, 300, 119]);
    assert.deepEqual(summary, { reached: 6, total: 8, median: 119 });
    assert.equal(formatReached(summary), "6/8 reached, median 119");
  });

  test("all reached: 'n/n, median m'; a half step when the two middle ones differ by one", () => {
    assert.equal(formatReached(reachedSummary([119, 119, 118, 120, 117, 121, 119, 130])),
      "8/8, median 119");
    assert.equal(formatReached(reachedSummary([118, 119])), "2/2, median 118.5");
  });

  test("none reached: '0/n reached', no median", () => {
    const summary = reachedSummary([null, null, null]);
    assert.deepEqual(summary, { reached: 0, total: 3, median: null });
    assert.equal(formatReached(summary), "0/3 reached");
  });

  test("one seed: its step, or 'not reached'", () => {
    assert.equal(formatReached(reachedSummary([42])), "42");
    assert.equal(formatReached(reachedSummary([null])), "not reached");
  });

  test("step 0 (a start already within tolerance) counts as reached", () => {
    assert.equal(formatReached(reachedSummary([0, null])), "1/2 reached, median 0");
  });
});

test("toleranceText says what the tolerance means", () => {
  assert.equal(toleranceText(0.001), "loss − f* ≤ 0.001");
  assert.equal(toleranceText(1e-8), "loss − f* ≤ 1e-8");
  assert.equal(toleranceText(null), "");
});

describe("resultGroups", () => {
  const row = (series, seed, result) => ({ series, seed, label: `s${series}`, result: {
    final_loss: null, distance_to_minimum: null, steps_to_tolerance: null, diverged_at: null,
    ...result } });

  test("groups rows in order of first appearance, with true medians per group", () => {
    const rows = [
      row(0, 0, { final_loss: 1, distance_to_minimum: 4, steps_to_tolerance: 10 }),
      row(1, 0, { final_loss: 5, diverged_at: 3 }),
      row(0, 1, { final_loss: 2, distance_to_minimum: 6, steps_to_tolerance: null }),
      row(0, 2, { final_loss: 4, distance_to_minimum: 8, steps_to_tolerance: 20 }),
      row(0, 3, { final_loss: 3, distance_to_minimum: 2, steps_to_tolerance: 13 }),
    ];
    const groups = resultGroups(rows, (r) => String(r.series));
    assert.deepEqual(groups.map((g) => g.key), ["0", "1"]);
    const [first, second] = groups;
    assert.equal(first.rows.length, 4);
    assert.equal(first.finalLoss, 2.5);
    assert.equal(first.distance, 5);
    assert.deepEqual(first.reached, { reached: 3, total: 4, median: 13 });
    assert.equal(first.diverged, 0);
    assert.equal(second.diverged, 1);
    assert.equal(second.finalLoss, 5);
    assert.equal(second.distance, null);
    assert.equal(formatReached(second.reached), "not reached");
  });
});
