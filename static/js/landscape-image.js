// The landscape's picture, painted by a worker (landscape-worker.js) so that the page's main
// thread never spends a frame on it: one request per landscape and size, answered as a PNG
// data: URL.

let worker = null;
let nextId = 1;
const waiting = new Map();

function landscapeWorker() {
  if (!worker) {
    worker = new Worker(new URL("./landscape-worker.js", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }) => {
      const entry = waiting.get(data.id);
      waiting.delete(data.id);
      if (!entry) return;
      if (data.error) entry.reject(new Error(data.error));
      else entry.resolve(data.url);
    };
  }
  return worker;
}

// The picture of `surface` ({x, y, z: rows of numbers or null}) between `zmin` and `zmax` on
// `colourscale`, with about `levels` iso-lines drawn in `line` ({color, width} in the picture's
// pixels), `width` x `height` pixels: a promise of its data: URL.
export function paintLandscape({ surface, zmin, zmax, colourscale, levels, line, width,
  height }) {
  const nx = surface.x.length;
  const z = new Float64Array(nx * surface.y.length);
  surface.z.forEach((row, j) => {
    for (let i = 0; i < nx; i++) z[j * nx + i] = row[i] ?? Number.NaN;
  });
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    landscapeWorker().postMessage({ id, x: Float64Array.from(surface.x),
      y: Float64Array.from(surface.y), z, zmin, zmax, colourscale, levels, line, width, height },
    [z.buffer]);
  });
}
