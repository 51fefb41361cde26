// static/js/columns.js: columns off the wire (plain or Plotly's typed form) and the growable
// buffers that streamed points are appended to.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import {
  base64ToBytes, columnType, decodeColumn, GrowableColumn, isTypedForm, toTypedColumn,
} from "../../static/js/columns.js";

const DTYPES = { Float64Array: "f8", Float32Array: "f4", Int32Array: "i4" };

// A column as the server writes it with ?encoding=typed (engine/record.py typed_array): the
// little-endian bytes of `array` in base64 (Node's Buffer encodes, independently of the page).
function typedForm(array) {
  return {
    dtype: DTYPES[array.constructor.name],
    bdata: Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64"),
  };
}

// Numbers that any slip in bytes, order or width would change.
const AWKWARD_F8 = [
  0, -0, 1, -1, 0.1 + 0.2, 1 / 3, 1e-300, -1.2345678901234567e300, 5e-324, 2 ** 53 + 2,
  Number.MAX_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, Math.PI, -409.5,
];
// float32 values written as the exact doubles the plain encoding sends for a float32 run.
const AWKWARD_F4 = Array.from(Float32Array.from([
  0, -0, 1, -1, 0.1, 1 / 3, 1e-38, 1e-45, 3.4028234663852886e38, -3.4e38, 16777217, Math.PI,
  -409.5, 1e-7,
]));
const AWKWARD_I4 = [0, 1, -1, 2, 100_000, 2 ** 31 - 1, -(2 ** 31), 65536, 255, 256];

// Decoding with and without the built-in Uint8Array.fromBase64 (new browsers have it, Node 20
// does not): the stand-in returns a view at an odd offset of a larger buffer, which the decoder
// must not take as aligned.
const builtIn = Object.getOwnPropertyDescriptor(Uint8Array, "fromBase64");
afterEach(() => {
  if (builtIn) Object.defineProperty(Uint8Array, "fromBase64", builtIn);
  else delete Uint8Array.fromBase64;
});

function withoutFromBase64() {
  delete Uint8Array.fromBase64;
}

function withMisalignedFromBase64() {
  Uint8Array.fromBase64 = (text) => {
    const bytes = Buffer.from(text, "base64");
    const larger = new Uint8Array(bytes.length + 3);
    larger.set(bytes, 1);
    return larger.subarray(1, 1 + bytes.length);
  };
}

const DECODERS = [
  ["atob and a byte loop", withoutFromBase64],
  ["Uint8Array.fromBase64 (a misaligned view)", withMisalignedFromBase64],
];

describe("decodeColumn: a typed column decodes to the same numbers as its plain form", () => {
  for (const [how, setUp] of DECODERS) {
    test(`f8 -> Float64Array, bit for bit, with ${how}`, () => {
      setUp();
      const decoded = decodeColumn(typedForm(Float64Array.from(AWKWARD_F8)));
      assert.ok(decoded instanceof Float64Array);
      assert.equal(decoded.length, AWKWARD_F8.length);
      AWKWARD_F8.forEach((value, i) => assert.ok(Object.is(decoded[i], value),
        `[${i}]: ${decoded[i]} != ${value}`));
      assert.deepEqual(Array.from(decoded), decodeColumn(AWKWARD_F8));
    });

    test(`f4 -> Float32Array, the float32 values the plain form writes as doubles, with ${how}`,
      () => {
        setUp();
        const decoded = decodeColumn(typedForm(Float32Array.from(AWKWARD_F4)));
        assert.ok(decoded instanceof Float32Array);
        AWKWARD_F4.forEach((value, i) => assert.ok(Object.is(decoded[i], value),
          `[${i}]: ${decoded[i]} != ${value}`));
      });

    test(`i4 -> Int32Array, negative and extreme steps too, with ${how}`, () => {
      setUp();
      const decoded = decodeColumn(typedForm(Int32Array.from(AWKWARD_I4)));
      assert.ok(decoded instanceof Int32Array);
      assert.deepEqual(Array.from(decoded), AWKWARD_I4);
    });

    test(`a long column and an empty one, with ${how}`, () => {
      setUp();
      const long = Float64Array.from({ length: 100_001 }, (_, i) => Math.sin(i) * 10 ** (i % 40));
      assert.deepEqual(decodeColumn(typedForm(long)), long);
      assert.deepEqual(decodeColumn({ dtype: "f8", bdata: "" }), new Float64Array(0));
      assert.deepEqual(decodeColumn({ dtype: "i4", bdata: "" }), new Int32Array(0));
    });
  }

  test("a decoded column owns a whole buffer of its own, at offset 0", () => {
    withMisalignedFromBase64();
    const decoded = decodeColumn(typedForm(Float64Array.from([1, 2, 3])));
    assert.equal(decoded.byteOffset, 0);
    assert.equal(decoded.buffer.byteLength, 24);
  });

  test("the bytes are read little-endian, whatever the numbers", () => {
    // 1.0 as a little-endian double: 00 00 00 00 00 00 f0 3f; 258 as int32: 02 01 00 00.
    const one = Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]).toString("base64");
    assert.deepEqual(Array.from(decodeColumn({ dtype: "f8", bdata: one })), [1]);
    const steps = Buffer.from([2, 1, 0, 0, 0xff, 0xff, 0xff, 0xff]).toString("base64");
    assert.deepEqual(Array.from(decodeColumn({ dtype: "i4", bdata: steps })), [258, -1]);
  });

  test("plain arrays, typed arrays, null and undefined pass through untouched", () => {
    const plain = [1, 2.5, -3];
    assert.equal(decodeColumn(plain), plain);
    const typed = Float64Array.from(plain);
    assert.equal(decodeColumn(typed), typed);
    assert.equal(decodeColumn(null), null);
    assert.equal(decodeColumn(undefined), undefined);
  });

  test("an unknown dtype, a broken length or something else is refused", () => {
    assert.throws(() => decodeColumn({ dtype: "f2", bdata: "AAAA" }), TypeError);
    assert.throws(() => decodeColumn({ dtype: "f8", bdata: "AAAA" }), RangeError); // 3 bytes
    assert.throws(() => decodeColumn({ dtype: "i4", bdata: "AAA=" }), RangeError); // 2 bytes
    assert.throws(() => decodeColumn({ x: 1 }), TypeError);
    assert.throws(() => decodeColumn(42), TypeError);
  });

  test("isTypedForm tells the typed form from plain columns", () => {
    assert.equal(isTypedForm({ dtype: "f8", bdata: "" }), true);
    assert.equal(isTypedForm([1, 2]), false);
    assert.equal(isTypedForm(null), false);
    assert.equal(isTypedForm(new Float64Array(2)), false);
  });
});

describe("base64ToBytes", () => {
  for (const [how, setUp] of DECODERS) {
    test(`every byte value and every padding length, with ${how}`, () => {
      setUp();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      for (let n = 0; n <= 6; n++) {
        const bytes = all.subarray(250 - n, 250);
        assert.deepEqual(Array.from(base64ToBytes(Buffer.from(bytes).toString("base64"))),
          Array.from(bytes), `${n} bytes`);
      }
      assert.deepEqual(Array.from(base64ToBytes(Buffer.from(all).toString("base64"))),
        Array.from(all));
    });
  }
});

describe("columnType and toTypedColumn", () => {
  test("steps are Int32Array; the other columns follow the run's dtype", () => {
    assert.equal(columnType("steps", "float64"), Int32Array);
    assert.equal(columnType("steps", "float32"), Int32Array);
    assert.equal(columnType("x", "float64"), Float64Array);
    assert.equal(columnType("grad_norm", "float32"), Float32Array);
    assert.equal(columnType("loss", undefined), Float64Array);
  });

  test("a typed form or plain array becomes the asked type; a matching one is not copied", () => {
    const form = typedForm(Float64Array.from([0.5, 1.5]));
    const fromForm = toTypedColumn(form, Float64Array);
    assert.deepEqual(fromForm, Float64Array.from([0.5, 1.5]));
    const decoded = Float64Array.from([1, 2]);
    assert.equal(toTypedColumn(decoded, Float64Array), decoded);
    assert.deepEqual(toTypedColumn([1, 2, 3], Int32Array), Int32Array.from([1, 2, 3]));
    assert.deepEqual(toTypedColumn(null, Float32Array), new Float32Array(0));
    assert.deepEqual(toTypedColumn(undefined, Int32Array), new Int32Array(0));
  });
});

describe("GrowableColumn", () => {
  test("appending one point at a time doubles the capacity, never copying per point", () => {
    const column = new GrowableColumn(Float64Array);
    assert.equal(column.length, 0);
    assert.deepEqual(column.view(), new Float64Array(0));
    const capacities = [];
    for (let i = 0; i < 1000; i++) {
      column.append([i / 4]);
      if (capacities.at(-1) !== column.capacity) capacities.push(column.capacity);
    }
    assert.deepEqual(capacities, [64, 128, 256, 512, 1024]);
    assert.equal(column.length, 1000);
    assert.deepEqual(column.view(), Float64Array.from({ length: 1000 }, (_, i) => i / 4));
  });

  test("a large append grows straight to what it needs; typed and plain values mix", () => {
    const column = new GrowableColumn(Int32Array);
    column.append(Int32Array.from([1, 2, 3]));
    assert.equal(column.capacity, 64);
    column.append(Int32Array.from({ length: 200 }, (_, i) => i + 4));
    assert.equal(column.capacity, 203);
    column.append([204]);
    assert.equal(column.capacity, 406);
    column.append(new Int32Array(0));
    assert.deepEqual(column.view(), Int32Array.from({ length: 204 }, (_, i) => i + 1));
  });

  test("views are subarrays of the filled part and stay unchanged by later appends", () => {
    const column = new GrowableColumn(Float32Array);
    column.append([1, 2]);
    const first = column.view();
    column.append([3]); // same buffer, past the first view's end
    const second = column.view();
    assert.equal(first.buffer, second.buffer);
    column.append(new Float32Array(100)); // a new, larger buffer
    assert.notEqual(column.view().buffer, first.buffer);
    assert.deepEqual(Array.from(first), [1, 2]);
    assert.deepEqual(Array.from(second), [1, 2, 3]);
    assert.deepEqual(Array.from(column.view().subarray(0, 4)), [1, 2, 3, 0]);
    assert.ok(column.view() instanceof Float32Array);
  });
});
