// Canvas drawing as a list of operations: recorded on the page's main thread by a context that
// looks like a CanvasRenderingContext2D (the subset live-layer.js uses), replayed on the real
// canvases in a worker (layer-worker.js), which owns them as OffscreenCanvases. The main thread
// then spends a frame only on working out the points; rasterising the strokes and handing the
// pixels to the compositor (most of a streaming frame's cost, and the part that grows with
// the canvases' size) happen off it.
//
// The list is numbers in one Float64Array (an operation's code, then its arguments), with the
// strings it needs (colours, fonts, text) beside it by index: handed to the worker as one
// transferred buffer, whatever the number of points.

// Operation codes, each followed by its arguments (numbers, or the index of a string).
const SELECT = 1; // canvas id: the canvas the next operations draw on
const SIZE = 2; // width, height (in device pixels; resets the context, as on a canvas)
const CLEAR_RECT = 3; // x, y, width, height
const SET_TRANSFORM = 4; // a, b, c, d, e, f
const BEGIN_PATH = 5;
const MOVE_TO = 6; // x, y
const LINE_TO = 7; // x, y
const STROKE = 8;
const FILL = 9;
const RECT = 10; // x, y, width, height
const ARC = 11; // x, y, radius, start angle, end angle
const CLOSE_PATH = 12;
const SAVE = 13;
const RESTORE = 14;
const SET_LINE_DASH = 15; // n, then n lengths
const FILL_TEXT = 16; // text (string), x, y
const SET = 17; // property (index in PROPERTIES), value (a number, or a string's index)

// The context's properties that the layer sets; only lineWidth is a number.
const PROPERTIES = ["lineJoin", "lineCap", "strokeStyle", "lineWidth", "fillStyle", "font",
  "textAlign", "textBaseline"];
const NUMERIC = new Set(["lineWidth"]);

// The operations recorded since the last `take()`, for any number of canvases.
export class OperationList {
  constructor() {
    this.numbers = new Float64Array(4096);
    this.length = 0;
    this.strings = [];
    this.stringIndex = new Map();
    this.canvas = null; // the canvas the last operation drew on
  }

  get empty() {
    return this.length === 0;
  }

  reserve(count) {
    if (this.length + count <= this.numbers.length) return;
    const grown = new Float64Array(Math.max(this.numbers.length * 2, this.length + count));
    grown.set(this.numbers.subarray(0, this.length));
    this.numbers = grown;
  }

  // Start an operation of `count` numbers (code included) on `canvas`.
  begin(canvas, count) {
    this.reserve(count + 2);
    if (canvas !== this.canvas) {
      this.numbers[this.length++] = SELECT;
      this.numbers[this.length++] = canvas;
      this.canvas = canvas;
    }
  }

  push1(canvas, code) {
    this.begin(canvas, 1);
    this.numbers[this.length++] = code;
  }

  push3(canvas, code, a, b) {
    this.begin(canvas, 3);
    const n = this.numbers;
    n[this.length++] = code;
    n[this.length++] = a;
    n[this.length++] = b;
  }

  pushAll(canvas, code, values) {
    this.begin(canvas, 1 + values.length);
    this.numbers[this.length++] = code;
    for (const value of values) this.numbers[this.length++] = value;
  }

  string(text) {
    const key = String(text);
    let index = this.stringIndex.get(key);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(key);
      this.stringIndex.set(key, index);
    }
    return index;
  }

  // What was recorded, as a message for the worker (its buffer in `transfer`), and a new list.
  take() {
    const numbers = new Float64Array(this.numbers.subarray(0, this.length));
    const message = { type: "draw", numbers, strings: this.strings };
    this.length = 0;
    this.strings = [];
    this.stringIndex = new Map();
    this.canvas = null;
    return { message, transfer: [numbers.buffer] };
  }
}

// A stand-in for a canvas's 2-D context that records into `list` what is drawn on canvas `id`
// (`changed` is called at each operation: the owner sends the list on).
export class RecordingContext {
  constructor(list, id, changed = () => {}) {
    this.list = list;
    this.id = id;
    this.changed = changed;
    this.values = {};
  }

  // Not a context's method: the canvas's size in device pixels (on a canvas, its `width` and
  // `height`), which resets the context's state as they do.
  resize(width, height) {
    this.list.pushAll(this.id, SIZE, [width, height]);
    this.values = {};
    this.changed();
  }

  clearRect(x, y, width, height) {
    this.list.pushAll(this.id, CLEAR_RECT, [x, y, width, height]);
    this.changed();
  }

  setTransform(a, b, c, d, e, f) {
    this.list.pushAll(this.id, SET_TRANSFORM, [a, b, c, d, e, f]);
    this.changed();
  }

  beginPath() {
    this.list.push1(this.id, BEGIN_PATH);
    this.changed();
  }

  moveTo(x, y) {
    this.list.push3(this.id, MOVE_TO, x, y);
    this.changed();
  }

  lineTo(x, y) {
    this.list.push3(this.id, LINE_TO, x, y);
    this.changed();
  }

  stroke() {
    this.list.push1(this.id, STROKE);
    this.changed();
  }

  fill() {
    this.list.push1(this.id, FILL);
    this.changed();
  }

  rect(x, y, width, height) {
    this.list.pushAll(this.id, RECT, [x, y, width, height]);
    this.changed();
  }

  arc(x, y, radius, start, end) {
    this.list.pushAll(this.id, ARC, [x, y, radius, start, end]);
    this.changed();
  }

  closePath() {
    this.list.push1(this.id, CLOSE_PATH);
    this.changed();
  }

  save() {
    this.list.push1(this.id, SAVE);
    this.changed();
  }

  restore() {
    this.list.push1(this.id, RESTORE);
    this.changed();
  }

  setLineDash(lengths) {
    this.list.pushAll(this.id, SET_LINE_DASH, [lengths.length, ...lengths]);
    this.changed();
  }

  fillText(text, x, y) {
    this.list.pushAll(this.id, FILL_TEXT, [this.list.string(text), x, y]);
    this.changed();
  }
}

// The properties, recorded when set (and read back as last set).
PROPERTIES.forEach((name, property) => {
  Object.defineProperty(RecordingContext.prototype, name, {
    get() {
      return this.values[name];
    },
    set(value) {
      this.values[name] = value;
      const recorded = NUMERIC.has(name) ? Number(value) : this.list.string(value);
      this.list.pushAll(this.id, SET, [property, recorded]);
      this.changed();
    },
  });
});

// Draw a recorded list (`take().message`): `canvasOf(id)` gives the canvas of an id (an
// OffscreenCanvas in the worker), or nothing for one no longer there, whose operations are
// skipped. Each operation reads all its arguments before its call: `context?.f(next())` would
// not read them for a missing canvas.
export function replay({ numbers, strings }, canvasOf) {
  let canvas = null;
  let context = null;
  let i = 0;
  const next = () => numbers[i++];
  while (i < numbers.length) {
    const code = next();
    switch (code) {
      case SELECT:
        canvas = canvasOf(next()) ?? null;
        context = canvas ? canvas.getContext("2d") : null;
        break;
      case SIZE: {
        const width = next();
        const height = next();
        if (canvas) {
          canvas.width = width;
          canvas.height = height;
        }
        break;
      }
      case CLEAR_RECT: {
        const args = [next(), next(), next(), next()];
        context?.clearRect(...args);
        break;
      }
      case SET_TRANSFORM: {
        const args = [next(), next(), next(), next(), next(), next()];
        context?.setTransform(...args);
        break;
      }
      case BEGIN_PATH:
        context?.beginPath();
        break;
      case MOVE_TO: {
        const x = next();
        const y = next();
        context?.moveTo(x, y);
        break;
      }
      case LINE_TO: {
        const x = next();
        const y = next();
        context?.lineTo(x, y);
        break;
      }
      case STROKE:
        context?.stroke();
        break;
      case FILL:
        context?.fill();
        break;
      case RECT: {
        const args = [next(), next(), next(), next()];
        context?.rect(...args);
        break;
      }
      case ARC: {
        const args = [next(), next(), next(), next(), next()];
        context?.arc(...args);
        break;
      }
      case CLOSE_PATH:
        context?.closePath();
        break;
      case SAVE:
        context?.save();
        break;
      case RESTORE:
        context?.restore();
        break;
      case SET_LINE_DASH: {
        const lengths = Array.from({ length: next() }, next);
        context?.setLineDash(lengths);
        break;
      }
      case FILL_TEXT: {
        const text = strings[next()];
        const x = next();
        const y = next();
        context?.fillText(text, x, y);
        break;
      }
      case SET: {
        const name = PROPERTIES[next()];
        const value = next();
        if (context) context[name] = NUMERIC.has(name) ? value : strings[value];
        break;
      }
      default:
        throw new Error(`canvas-ops: unknown operation ${code} at ${i - 1}`);
    }
  }
}
