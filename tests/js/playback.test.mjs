// static/js/playback.js: the reveal's pace, the replay's clock and steps, and the points each
// view draws.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  DEFAULT_REPLAY_SPEED, displayStride, joinRows, neighbourStep, nextRevealStep, paddedRange,
  pointsUpTo, rangeHolds, REPLAY_SECONDS, REPLAY_SPEEDS, replaySpeed, replayStepAt,
  REVEAL_SECONDS, stridedCount,
} from "../../static/js/playback.js";

describe("the reveal of a streaming run", () => {
  test("a run that arrived at once is drawn over REVEAL_SECONDS, never faster", () => {
    const steps = 500;
    let shown = 0;
    const frames = [];
    // 60 frames a second for a second and a half, the whole run received from the start.
    for (let frame = 1; frame <= 90; frame++) {
      shown = nextRevealStep(shown, steps, steps, 1000 / 60);
      frames.push(shown);
    }
    const perFrame = steps / (REVEAL_SECONDS * 60);
    assert.ok(Math.abs(frames[0] - perFrame) < 1e-9, "one frame's worth of the pace");
    assert.ok(frames[29] < steps, "half-way through the reveal time, not at the end");
    assert.equal(frames[59], steps, "all of it after REVEAL_SECONDS");
    assert.equal(frames.at(-1), steps);
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i] >= frames[i - 1]);
  });

  test("never past the last step received; a slow run is drawn as it arrives", () => {
    assert.equal(nextRevealStep(10, 12, 20_000, 1000 / 60), 12);
    assert.equal(nextRevealStep(12, 12, 20_000, 1000), 12, "waits for data");
    assert.equal(nextRevealStep(12, 12, 20_000, -5), 12);
  });

  test("what arrived is on screen at most REVEAL_SECONDS later", () => {
    // The whole run arrives in the first frame; after REVEAL_SECONDS of frames it is drawn.
    let shown = 0;
    for (let t = 0; t < REVEAL_SECONDS * 1000; t += 1000 / 60) {
      shown = nextRevealStep(shown, 1000, 1000, 1000 / 60);
    }
    assert.equal(shown, 1000);
  });
});

describe("the replay's clock", () => {
  test("speeds from x0.25 to x8; anything else is x1", () => {
    assert.deepEqual(REPLAY_SPEEDS, [0.25, 0.5, 1, 2, 4, 8]);
    assert.equal(DEFAULT_REPLAY_SPEED, 1);
    for (const speed of REPLAY_SPEEDS) assert.equal(replaySpeed(String(speed)), speed);
    for (const wrong of [undefined, null, "", "3", 16, "fast", -1]) {
      assert.equal(replaySpeed(wrong), 1, String(wrong));
    }
  });

  test("x1 crosses a whole run in REPLAY_SECONDS, x2 in half, x0.25 in four times", () => {
    const origin = { time: 1000, step: 0 };
    const end = 1000 + REPLAY_SECONDS * 1000;
    assert.equal(replayStepAt(origin, end, 1, 500), 500);
    assert.equal(replayStepAt(origin, 1000 + (REPLAY_SECONDS * 1000) / 2, 2, 500), 500);
    assert.equal(replayStepAt(origin, end, 0.25, 500), 125);
    assert.equal(replayStepAt(origin, end, 8, 500), 500, "never past the last step");
    assert.equal(replayStepAt({ time: 0, step: 100 }, 0, 4, 500), 100, "starts where it was");
  });
});

describe("a row's points and steps", () => {
  const steps = Int32Array.from([0, 10, 20, 30, 40]);

  test("points drawn up to a step", () => {
    assert.equal(pointsUpTo(steps, -1), 0);
    assert.equal(pointsUpTo(steps, 0), 1);
    assert.equal(pointsUpTo(steps, 19), 2);
    assert.equal(pointsUpTo(steps, 20), 3);
    assert.equal(pointsUpTo(steps, 1000), 5);
    assert.equal(pointsUpTo([], 3), 0);
  });

  test("a replay steps by recorded points: exactly one step when every step is kept", () => {
    assert.equal(neighbourStep(steps, 20, 1, 40), 30);
    assert.equal(neighbourStep(steps, 25, 1, 40), 30);
    assert.equal(neighbourStep(steps, 20, -1, 40), 10);
    assert.equal(neighbourStep(steps, 25, -1, 40), 20);
    assert.equal(neighbourStep(steps, 40, 1, 40), 40, "the end stays the end");
    assert.equal(neighbourStep(steps, 0, -1, 40), 0, "the start stays the start");
    const every = Int32Array.from({ length: 501 }, (_, i) => i);
    assert.equal(neighbourStep(every, 100, 1, 500), 101);
    assert.equal(neighbourStep(every, 100, -1, 500), 99);
    assert.equal(neighbourStep(every, 500, -1, 500), 499);
  });
});

describe("points each view draws", () => {
  test("a stride keeps rows x points within the budget", () => {
    assert.equal(displayStride(7, 501, 10_000), 1);
    assert.equal(displayStride(192, 2083, 100_000), 4);
    assert.equal(displayStride(192, 2083, 10_000), 40);
    assert.ok((192 * 2083) / displayStride(192, 2083, 10_000) <= 10_000);
    assert.equal(displayStride(0, 0, 10_000), 1);
  });

  test("thinned rows keep every stride-th point and their last", () => {
    assert.equal(stridedCount(0, 3), 0);
    assert.equal(stridedCount(1, 3), 1);
    assert.equal(stridedCount(7, 3), 3); // 0, 3, 6
    assert.equal(stridedCount(8, 3), 4); // 0, 3, 6, 7
    assert.equal(stridedCount(5, 1), 5);
  });

  test("rows joined into one trace: cut, thinned, a gap between rows", () => {
    const xs = [Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7]), Float64Array.from([10, 11, 12])];
    const ys = [Float64Array.from([0, -1, -2, -3, -4, -5, -6, -7]), Float64Array.from([9, 8, 7])];
    const [x, y] = joinRows([xs, ys], [8, 3], 3);
    assert.deepEqual(Array.from(x), [0, 3, 6, 7, Number.NaN, 10, 12, Number.NaN]);
    assert.deepEqual(Array.from(y), [0, -3, -6, -7, Number.NaN, 9, 7, Number.NaN]);
    assert.ok(x instanceof Float64Array);
    // Cut rows (a streaming run, a replay) and rows with nothing to show.
    const [cut] = joinRows([xs], [2, 0], 1);
    assert.deepEqual(Array.from(cut), [0, 1, Number.NaN]);
    const [none] = joinRows([xs], [0, 0], 1);
    assert.equal(none.length, 0);
  });
});

describe("a live plot's y range", () => {
  test("log axis: room below the values (a loss keeps falling) and a little above", () => {
    const range = paddedRange(3e-4, 20, true);
    assert.deepEqual(range, [-6, 2]);
    assert.ok(rangeHolds(range, 3e-4, 20, true));
    assert.ok(rangeHolds(range, 2e-6, 20, true), "a loss that fell further still fits");
    assert.ok(!rangeHolds(range, 1e-7, 20, true));
    assert.ok(!rangeHolds(range, 3e-4, 500, true));
  });

  test("linear axis: the values with a margin", () => {
    const range = paddedRange(-2, 6, false);
    assert.ok(range[0] < -2 && range[1] > 6);
    assert.ok(rangeHolds(range, -2, 6, false));
    assert.ok(!rangeHolds(range, -10, 6, false));
    assert.ok(rangeHolds(paddedRange(5, 5, false), 5, 5, false), "one value");
  });
});
