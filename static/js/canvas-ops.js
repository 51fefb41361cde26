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
const SET_LINE_DASH = 3; // n, then n lengths
const FILL_TEXT = 4; // text (string), x, y
const SET = 5; // property (index in PROPERTIES), value (a number, or a string's index)
const MOVE_TO = 6; // x, y
const LINE_TO = 7; // x, y
// The context's methods that take a fixed number of numbers: [name, how many], by code from 8.
const CALLS = [["clearRect", 4], ["setTransform", 6], ["beginPath", 0], ["stroke", 0],
  ["fill", 0], ["rect", 4], ["arc", 5], ["closePath", 0], ["save", 0], ["restore", 0]];
const FIRST_CALL = 8;

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

  // Start an operation of `count` numbers (code included) on `canvas`: room for it (and for
  // selecting the canvas) made.
  begin(canvas, count) {
    if (this.length + count + 2 > this.numbers.length) {
      const grown = new Float64Array(Math.max(this.numbers.length * 2, this.length + count + 2));
      grown.set(this.numbers.subarray(0, this.length));
      this.numbers = grown;
    }
    if (canvas !== this.canvas) {
      this.numbers[this.length++] = SELECT;
      this.numbers[this.length++] = canvas;
      this.canvas = canvas;
    }
  }

  // A point (moveTo, lineTo): the one operation recorded per point, so without an array.
  pushPoint(canvas, code, x, y) {
    this.begin(canvas, 3);
    const n = this.numbers;
    n[this.length++] = code;
    n[this.length++] = x;
    n[this.length++] = y;
  }

  push(canvas, code, values) {
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
// (`changed` is called at each operation: the owner sends the list on). Its methods and
// properties are made from CALLS and PROPERTIES below.
export class RecordingContext {
  constructor(list, id, changed = () => {}) {
    this.list = list;
    this.id = id;
    this.changed = changed;
    this.values = {};
  }

  record(code, values) {
    this.list.push(this.id, code, values);
    this.changed();
  }

  // Not a context's method: the canvas's size in device pixels (on a canvas, its `width` and
  // `height`), which resets the context's state as they do.
  resize(width, height) {
    this.record(SIZE, [width, height]);
    this.values = {};
  }

  moveTo(x, y) {
    this.list.pushPoint(this.id, MOVE_TO, x, y);
    this.changed();
  }

  lineTo(x, y) {
    this.list.pushPoint(this.id, LINE_TO, x, y);
    this.changed();
  }

  setLineDash(lengths) {
    this.record(SET_LINE_DASH, [lengths.length, ...lengths]);
  }

  fillText(text, x, y) {
    this.record(FILL_TEXT, [this.list.string(text), x, y]);
  }
}

CALLS.forEach(([name], k) => {
  RecordingContext.prototype[name] = function (...args) {
    this.record(FIRST_CALL + k, args);
  };
});

// The properties, recorded when set (and read back as last set).
PROPERTIES.forEach((name, property) => {
  Object.defineProperty(RecordingContext.prototype, name, {
    get() {
      return this.values[name];
    },
    set(value) {
      this.values[name] = value;
      this.record(SET, [property, NUMERIC.has(name) ? Number(value) : this.list.string(value)]);
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
  const take = (count) => Array.from({ length: count }, next);
  while (i < numbers.length) {
    const code = next();
    if (code === MOVE_TO || code === LINE_TO) {
      const x = next();
      const y = next();
      if (code === MOVE_TO) context?.moveTo(x, y);
      else context?.lineTo(x, y);
    } else if (code === SELECT) {
      canvas = canvasOf(next()) ?? null;
      context = canvas ? canvas.getContext("2d") : null;
    } else if (code === SIZE) {
      const [width, height] = take(2);
      if (canvas) {
        canvas.width = width;
        canvas.height = height;
      }
    } else if (code === SET_LINE_DASH) {
      const lengths = take(next());
      context?.setLineDash(lengths);
    } else if (code === FILL_TEXT) {
      const [text, x, y] = take(3);
      context?.fillText(strings[text], x, y);
    } else if (code === SET) {
      const name = PROPERTIES[next()];
      const value = next();
      if (context) context[name] = NUMERIC.has(name) ? value : strings[value];
    } else if (CALLS[code - FIRST_CALL]) {
      const [name, count] = CALLS[code - FIRST_CALL];
      const args = take(count);
      context?.[name](...args);
    } else {
      throw new Error(`canvas-ops: unknown operation ${code} at ${i - 1}`);
    }
  }
}
