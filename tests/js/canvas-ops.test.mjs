// static/js/canvas-ops.js: drawing recorded on the page's main thread and replayed in the
// layer worker must draw exactly what the same calls on the canvas would have drawn.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { OperationList, RecordingContext, replay } from "../../static/js/canvas-ops.js";

// A canvas whose 2-D context writes down every call and property set, in order.
function loggingCanvas(log, name) {
  const context = new Proxy({}, {
    get: (_, key) => (...args) => log.push([name, key, ...args]),
    set: (_, key, value) => {
      log.push([name, `set ${String(key)}`, value]);
      return true;
    },
  });
  return {
    getContext: (kind) => {
      assert.equal(kind, "2d");
      return context;
    },
    set width(value) {
      log.push([name, "width", value]);
    },
    set height(value) {
      log.push([name, "height", value]);
    },
  };
}

// What live-layer.js does to a canvas, on any context (a real one, or a recording one), with
// `size` standing in for setting the canvas's width and height.
function drawSomething(context, size) {
  size(640, 480);
  context.setTransform(2, 0, 0, 2, 0, 0);
  context.clearRect(0, 0, 640, 480);
  context.lineJoin = "round";
  context.lineCap = "round";
  context.strokeStyle = "#0072B2";
  context.lineWidth = 2.2;
  context.beginPath();
  context.moveTo(0.1 + 0.2, -1e-300);
  for (let i = 0; i < 50; i++) context.lineTo(i / 3, Math.sqrt(i));
  context.stroke();
  context.save();
  context.setLineDash([3, 3]);
  context.rect(1, 2, 8, 8);
  context.arc(10, 20, 4.5, 0, 2 * Math.PI);
  context.closePath();
  context.fillStyle = "rgba(0, 0, 0, 0.5)";
  context.fill();
  context.restore();
  context.setLineDash([]);
  context.font = "12px sans-serif";
  context.textAlign = "center";
  context.textBaseline = "bottom";
  context.fillText("diverged at step 12", 5.5, -7.25);
  context.strokeStyle = "#0072B2"; // a string again: sent once
}

describe("recorded canvas operations", () => {
  test("replay on the worker's canvas makes the same calls, with the same numbers", () => {
    const direct = [];
    const canvas = loggingCanvas(direct, "a");
    drawSomething(canvas.getContext("2d"), (w, h) => {
      canvas.width = w;
      canvas.height = h;
    });

    const list = new OperationList();
    let changes = 0;
    const recording = new RecordingContext(list, 7, () => { changes += 1; });
    drawSomething(recording, (w, h) => recording.resize(w, h));
    assert.ok(changes > 50, "every operation says it recorded something");
    assert.equal(recording.strokeStyle, "#0072B2", "a property reads back as last set");

    const { message, transfer } = list.take();
    assert.deepEqual(transfer, [message.numbers.buffer]);
    assert.equal(message.strings.filter((s) => s === "#0072B2").length, 1);
    const replayed = [];
    replay(message, (id) => (id === 7 ? loggingCanvas(replayed, "a") : undefined));
    assert.deepEqual(replayed, direct);
    assert.ok(list.empty, "take() starts a new list");
  });

  test("operations of several canvases keep their canvas and order", () => {
    const list = new OperationList();
    const first = new RecordingContext(list, 1);
    const second = new RecordingContext(list, 2);
    first.beginPath();
    second.clearRect(0, 0, 10, 10);
    first.moveTo(1, 2);
    second.lineWidth = 3;
    first.stroke();
    const log = [];
    const canvases = { 1: loggingCanvas(log, "one"), 2: loggingCanvas(log, "two") };
    replay(list.take().message, (id) => canvases[id]);
    assert.deepEqual(log, [
      ["one", "beginPath"], ["two", "clearRect", 0, 0, 10, 10], ["one", "moveTo", 1, 2],
      ["two", "set lineWidth", 3], ["one", "stroke"],
    ]);
  });

  test("a canvas no longer there is skipped, argument by argument", () => {
    const list = new OperationList();
    const gone = new RecordingContext(list, 1);
    const kept = new RecordingContext(list, 2);
    gone.resize(4, 4);
    gone.setLineDash([1, 2, 3]);
    gone.fillText("x", 1, 2);
    gone.arc(0, 0, 1, 0, 1);
    kept.lineTo(5, 6);
    const log = [];
    replay(list.take().message, (id) => (id === 2 ? loggingCanvas(log, "kept") : undefined));
    assert.deepEqual(log, [["kept", "lineTo", 5, 6]]);
  });

  test("the list grows past its first buffer without losing a point", () => {
    const list = new OperationList();
    const recording = new RecordingContext(list, 3);
    const points = 20_000; // 60,000 numbers: several times the first buffer
    recording.beginPath();
    for (let i = 0; i < points; i++) recording.lineTo(i, -i / 7);
    const log = [];
    replay(list.take().message, () => loggingCanvas(log, "c"));
    assert.equal(log.length, points + 1);
    assert.deepEqual(log.at(-1), ["c", "lineTo", points - 1, -(points - 1) / 7]);
  });
});
