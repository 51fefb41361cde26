// A run's columns (steps, x, y, loss, grad_norm) as they come off the wire and as the page keeps
// them: decoded once into typed arrays, and streamed points appended to growable buffers.
// DOM-free.

// Plotly's typed-array dtypes, as the server writes them with ?encoding=typed (engine/record.py).
const TYPED_ARRAYS = { f8: Float64Array, f4: Float32Array, i4: Int32Array };

// The bytes of base64 `text`: the built-in decoder where there is one, else atob and a loop.
export function base64ToBytes(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Whether `column` is in the typed-array form {dtype, bdata}.
export function isTypedForm(column) {
  return column !== null && typeof column === "object" && typeof column.bdata === "string";
}

// One column as a typed array or a plain array of numbers, whichever the server sent:
// {dtype: "f8"|"f4"|"i4", bdata} becomes a Float64Array, Float32Array or Int32Array over its own
// fresh buffer (the bytes are little-endian, every browser's order); a plain array (or an
// already decoded typed array) is returned as it is. null and undefined (a column a
// `record: final` run does not send) stay what they are.
export function decodeColumn(column) {
  if (column === null || column === undefined) return column;
  if (Array.isArray(column) || ArrayBuffer.isView(column)) return column;
  if (!isTypedForm(column)) throw new TypeError(`not a column: ${JSON.stringify(column)}`);
  const Type = TYPED_ARRAYS[column.dtype];
  if (!Type) throw new TypeError(`unknown column dtype ${JSON.stringify(column.dtype)}`);
  let bytes = base64ToBytes(column.bdata);
  if (bytes.byteLength % Type.BYTES_PER_ELEMENT !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes are not whole ${column.dtype} elements`);
  }
  // A view into a larger or offset buffer may be misaligned for the element size: copy it.
  if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== bytes.byteLength) bytes = bytes.slice();
  return new Type(bytes.buffer, 0, bytes.byteLength / Type.BYTES_PER_ELEMENT);
}

// The array type the page keeps a column in: steps as Int32Array, the rest as the run's dtype.
export function columnType(name, dtype) {
  if (name === "steps") return Int32Array;
  return dtype === "float32" ? Float32Array : Float64Array;
}

// `column` (decoded or not) as a `Type` array: a decoded typed array of that type as it is, any
// other numbers copied once.
export function toTypedColumn(column, Type) {
  const decoded = decodeColumn(column);
  if (decoded === null || decoded === undefined) return new Type(0);
  return decoded instanceof Type ? decoded : Type.from(decoded);
}

const MIN_CAPACITY = 64;

// A typed array that grows by appending: capacity doubles when it runs out, so n appended
// points cost O(n) copies in all. `view()` is the filled part, a subarray (no copy) that stays
// valid (and unchanged) after later appends.
export class GrowableColumn {
  constructor(Type, capacity = 0) {
    this.Type = Type;
    this.buffer = new Type(capacity);
    this.length = 0;
  }

  get capacity() {
    return this.buffer.length;
  }

  // Append `values` (a typed array or a plain array of numbers).
  append(values) {
    const needed = this.length + values.length;
    if (needed > this.buffer.length) {
      const grown = new this.Type(Math.max(needed, 2 * this.buffer.length, MIN_CAPACITY));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(values, this.length);
    this.length = needed;
  }

  view() {
    return this.buffer.subarray(0, this.length);
  }
}
