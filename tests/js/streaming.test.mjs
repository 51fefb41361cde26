// What keeps the page moving while a run streams, outside playback.js: rows that ended before
// the run did (run-data.js), seed bands computed at the steps a plot shows (run-data.js), and
// events found in only the new text of a stream (api.js).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { EventText, hasEventEnd, parseEvents } from "../../static/js/api.js";
import { addChunk, hasEnded, newRun, seedBand } from "../../static/js/run-data.js";

const ROW = { series: 0, label: "Adam", optimizer: "adam", hparams: { lr: 0.1 }, seed: 0,
  start: [0, 0] };
const META = { rows: [0, 1, 2].map((row) => ({ ...ROW, row })), steps: 6, dtype: "float64" };

function part(row, steps) {
  return { row, steps, x: steps.map((k) => k + row), y: steps, loss: steps, grad_norm: steps };
}

describe("rows that end while the run goes on", () => {
  test("a row left out of a chunk with points has ended; the others go on", () => {
    const run = newRun(structuredClone(META));
    addChunk(run, { from_step: 0, to_step: 2, rows: [part(0, [0, 1]), part(1, [0, 1]),
      part(2, [0, 1])] });
    assert.deepEqual(run.rows.map(hasEnded), [false, false, false]);
    // Row 2 stopped at step 3 (it diverged at 4): its last point comes, then nothing.
    addChunk(run, { from_step: 2, to_step: 5, rows: [part(0, [2, 3, 4]), part(1, [2, 3, 4]),
      part(2, [2, 3])] });
    assert.deepEqual(run.rows.map(hasEnded), [false, false, false]);
    addChunk(run, { from_step: 5, to_step: 6, rows: [part(0, [5]), part(1, [5])] });
    assert.deepEqual(run.rows.map(hasEnded), [false, false, true]);
    assert.ok(!("ended" in run.rows[2]), "the row keeps only the API's fields");
  });

  test("a chunk without points (a decimated run between kept steps) ends nothing", () => {
    const run = newRun(structuredClone(META));
    addChunk(run, { from_step: 0, to_step: 1, rows: [0, 1, 2].map((r) => part(r, [0])) });
    addChunk(run, { from_step: 1, to_step: 3, rows: [] });
    assert.deepEqual(run.rows.map(hasEnded), [false, false, false]);
  });
});

describe("seed bands at the steps a plot shows", () => {
  const seeds = Array.from({ length: 5 }, (_, seed) => ({
    steps: Int32Array.from({ length: 11 }, (_, k) => k),
    loss: Float64Array.from({ length: 11 }, (_, k) => 10 * seed + k),
  }));
  const byLoss = (row) => row.loss;

  test("every k-th step and the last, each the same as in the whole band", () => {
    const whole = seedBand(seeds, byLoss);
    const thin = seedBand(seeds, byLoss, 4);
    assert.deepEqual(thin.steps, [0, 4, 8, 10]);
    for (const [i, step] of thin.steps.entries()) {
      const k = whole.steps.indexOf(step);
      assert.equal(thin.median[i], whole.median[k]);
      assert.equal(thin.low[i], whole.low[k]);
      assert.equal(thin.high[i], whole.high[k]);
    }
    assert.deepEqual(whole.median, Array.from({ length: 11 }, (_, k) => 20 + k));
  });

  test("seeds whose steps differ (the union of steps) are thinned the same way", () => {
    const rows = [{ steps: [0, 2, 4, 6], loss: [1, 2, 3, 4] },
      { steps: [1, 3, 5], loss: [5, 6, 7] }];
    assert.deepEqual(seedBand(rows, byLoss, 3).steps, [0, 3, 6]);
    assert.deepEqual(seedBand(rows, byLoss).steps, [0, 1, 2, 3, 4, 5, 6]);
  });
});

describe("events found in the new text only", () => {
  test("an event's end anywhere after the old text, even split across reads", () => {
    assert.equal(hasEventEnd("event: chunk\ndata: {}", 0), false);
    assert.equal(hasEventEnd("event: chunk\ndata: {}\n\n", 0), true);
    const old = "event: chunk\ndata: {}\n";
    assert.equal(hasEventEnd(`${old}\n`, old.length), true, "the blank line in the new text");
    assert.equal(hasEventEnd("data: {}\r\n\r\n", 5), true);
    assert.equal(hasEventEnd("x\n\nevent: chunk\ndata: {", 20), false, "an end seen before");
  });

  test("a large event arriving in many reads is parsed once, whole", () => {
    const data = JSON.stringify({ rows: Array.from({ length: 2000 }, (_, i) => i) });
    const text = `event: chunk\ndata: ${data}\n\n`;
    let buffer = "";
    let parses = 0;
    const events = [];
    for (let at = 0; at < text.length; at += 97) {
      const next = buffer + text.slice(at, at + 97);
      if (!hasEventEnd(next, buffer.length)) {
        buffer = next;
        continue;
      }
      parses += 1;
      const parsed = parseEvents(next);
      buffer = parsed.rest;
      events.push(...parsed.events);
    }
    assert.equal(parses, 1);
    assert.equal(events.length, 1);
    assert.equal(events[0].data.rows.length, 2000);
  });
});

describe("EventText: reads kept apart until an event ends", () => {
  const sse = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  const STREAM = sse("meta", { rows: [1, 2] }) + sse("chunk", { a: "x\ny" })
    + sse("done", { rows: [] });
  const EXPECTED = [["meta", { rows: [1, 2] }], ["chunk", { a: "x\ny" }], ["done", { rows: [] }]];

  // The events of `text` read in pieces cut at `cuts`, as streamRun reads them.
  function read(text, cuts) {
    const received = new EventText();
    const events = [];
    let from = 0;
    for (const to of [...cuts, text.length]) {
      const whole = received.add(text.slice(from, to));
      from = to;
      if (whole === null) continue;
      const parsed = parseEvents(whole);
      received.keep(parsed.rest);
      events.push(...parsed.events.map(({ event, data }) => [event, data]));
    }
    return events;
  }

  test("cut anywhere, LF or CRLF (between CR and LF too), the same events", () => {
    for (const text of [STREAM, STREAM.replaceAll("\n", "\r\n")]) {
      for (let cut = 0; cut <= text.length; cut++) {
        assert.deepEqual(read(text, [cut]), EXPECTED, `cut at ${cut}`);
        assert.deepEqual(read(text, [cut, cut + 1, cut + 2]), EXPECTED, `cuts at ${cut}`);
      }
      assert.deepEqual(read(text, Array.from({ length: text.length }, (_, i) => i)), EXPECTED);
    }
  });

  test("a large event arriving in many reads is handed over once, whole", () => {
    const data = JSON.stringify({ rows: Array.from({ length: 5000 }, (_, i) => i) });
    const text = `event: done\ndata: ${data}\n\n`;
    const received = new EventText();
    const handed = [];
    for (let at = 0; at < text.length; at += 101) {
      const whole = received.add(text.slice(at, at + 101));
      if (whole !== null) handed.push(whole);
    }
    assert.deepEqual(handed, [text]);
    assert.equal(received.pieces.length, 0);
  });
});
