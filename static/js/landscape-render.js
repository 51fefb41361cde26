// The landscape's picture as pixels: the surface grid's values shaded on a colour scale
// (bilinear between grid points) and iso-lines at "nice" levels, as Plotly's contour trace with
// heat-map colouring draws it. DOM-free: the landscape worker (landscape-worker.js) runs it off
// the page's main thread, where the contour trace cost a whole plot redraw's worth of time for
// every change of any path (tests/js/landscape-render.test.mjs).

// `[[t, colour], ...]` (colours "#rrggbb" or "rgb(r,g,b)") as 256 RGB entries.
export function colourTable(scale) {
  const stops = scale.map(([t, colour]) => [t, parseColour(colour)]);
  const table = new Uint8ClampedArray(256 * 3);
  for (let k = 0; k < 256; k++) {
    const t = k / 255;
    let i = 0;
    while (i < stops.length - 2 && t > stops[i + 1][0]) i++;
    const [t0, c0] = stops[i];
    const [t1, c1] = stops[Math.min(i + 1, stops.length - 1)];
    const f = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
    for (let c = 0; c < 3; c++) table[3 * k + c] = Math.round(c0[c] + f * (c1[c] - c0[c]));
  }
  return table;
}

function parseColour(colour) {
  if (colour.startsWith("#")) {
    const n = Number.parseInt(colour.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  return colour.replace(/[^\d.,]/g, "").split(",").slice(0, 3).map(Number);
}

// Up to about `count` iso-levels strictly inside (low, high), a round step apart (1, 2, 2.5 or 5
// times a power of ten), as Plotly's autocontour picks them.
export function contourLevels(low, high, count) {
  if (!(high > low) || !(count > 0)) return [];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const levels = [];
  for (let level = Math.floor(low / step + 1) * step; level < high; level += step) {
    // Whole multiples of the step, without the drift of repeated additions.
    levels.push(Number((Math.round(level / step) * step).toPrecision(12)));
  }
  return levels.filter((level) => level > low && level < high);
}

// For each of `pixels` pixel centres spread evenly from coords[0] to coords.at(-1), the grid
// cell it falls in (index i: between coords[i] and coords[i + 1]) and how far along (0..1).
function cellPositions(coords, pixels) {
  const index = new Int32Array(pixels);
  const along = new Float64Array(pixels);
  const first = coords[0];
  const span = coords[coords.length - 1] - first;
  let i = 0;
  for (let p = 0; p < pixels; p++) {
    const value = first + ((p + 0.5) / pixels) * span;
    while (i < coords.length - 2 && value > coords[i + 1]) i++;
    const width = coords[i + 1] - coords[i];
    index[p] = i;
    along[p] = width > 0 ? Math.min(1, Math.max(0, (value - coords[i]) / width)) : 0;
  }
  return { index, along };
}

// RGBA pixels (`width` x `height`, row 0 at the top: the largest y) of the grid `z` (rows by y,
// `z[j * x.length + i]` at (x[i], y[j]); NaN where the function is not finite: transparent)
// shaded between `zmin` and `zmax` by `table` (colourTable).
export function shadePixels({ x, y, z, zmin, zmax, table, width, height }) {
  const nx = x.length;
  const pixels = new Uint8ClampedArray(width * height * 4);
  const columns = cellPositions(x, width);
  const rows = cellPositions(y, height);
  const scale = zmax > zmin ? 255 / (zmax - zmin) : 0;
  for (let py = 0; py < height; py++) {
    // Row 0 of the picture is the top of the plot: the last grid row.
    const r = height - 1 - py;
    const j = rows.index[r];
    const fy = rows.along[r];
    const below = j * nx;
    const above = below + nx;
    let at = py * width * 4;
    for (let px = 0; px < width; px++, at += 4) {
      const i = columns.index[px];
      const fx = columns.along[px];
      const value = (1 - fy) * ((1 - fx) * z[below + i] + fx * z[below + i + 1])
        + fy * ((1 - fx) * z[above + i] + fx * z[above + i + 1]);
      if (!Number.isFinite(value)) continue; // NaN: a hole in the landscape, left transparent
      const k = 3 * Math.min(255, Math.max(0, Math.round((value - zmin) * scale)));
      pixels[at] = table[k];
      pixels[at + 1] = table[k + 1];
      pixels[at + 2] = table[k + 2];
      pixels[at + 3] = 255;
    }
  }
  return pixels;
}

// The iso-line segments of the grid at `level` (marching squares), as grid coordinates
// [i0, j0, i1, j1, ...] (fractional indices: i along x, j along y). A cell with a NaN corner
// has none.
export function isoSegments(z, nx, ny, level) {
  const out = [];
  const crossing = (a, b) => (level - a) / (b - a);
  for (let j = 0; j < ny - 1; j++) {
    for (let i = 0; i < nx - 1; i++) {
      const v00 = z[j * nx + i];
      const v10 = z[j * nx + i + 1];
      const v01 = z[(j + 1) * nx + i];
      const v11 = z[(j + 1) * nx + i + 1];
      if (!(Number.isFinite(v00) && Number.isFinite(v10) && Number.isFinite(v01)
        && Number.isFinite(v11))) continue;
      const code = (v00 > level ? 1 : 0) | (v10 > level ? 2 : 0) | (v11 > level ? 4 : 0)
        | (v01 > level ? 8 : 0);
      if (code === 0 || code === 15) continue;
      // Where the level crosses each edge of the cell (bottom, right, top, left).
      const bottom = () => [i + crossing(v00, v10), j];
      const right = () => [i + 1, j + crossing(v10, v11)];
      const top = () => [i + crossing(v01, v11), j + 1];
      const left = () => [i, j + crossing(v00, v01)];
      const put = (a, b) => out.push(a[0], a[1], b[0], b[1]);
      switch (code) {
        case 1: case 14: put(left(), bottom()); break;
        case 2: case 13: put(bottom(), right()); break;
        case 3: case 12: put(left(), right()); break;
        case 4: case 11: put(right(), top()); break;
        case 6: case 9: put(bottom(), top()); break;
        case 7: case 8: put(left(), top()); break;
        case 5: put(left(), top()); put(bottom(), right()); break;
        case 10: put(left(), bottom()); put(right(), top()); break;
        default: break;
      }
    }
  }
  return out;
}
