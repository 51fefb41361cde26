// What the plots show, as plain numbers and text: the loss axis's floor, the colour bar's title,
// click coordinates rounded to a pixel, and which series the legend hides. DOM-free (plot.js
// draws with these).

// Losses are drawn no lower than this on the log axis: one exact hit (a gap of 1e-27, or 0)
// would otherwise stretch the axis over 20 decades and squash every other curve.
export const LOSS_FLOOR = 1e-16;

// The loss plot's y for a loss: the gap to the global minimum value `fStar`, floored at
// LOSS_FLOOR (an exact hit sits on the floor), or the raw loss when no minimum is known.
export function displayLoss(loss, fStar) {
  if (fStar === null) return loss;
  const gap = loss - fStar;
  return gap > LOSS_FLOOR ? gap : LOSS_FLOOR;
}

// What the loss axis shows: the loss, or its gap to the minimum value f*.
function lossName(fStar) {
  return fStar === null || fStar === 0 ? "loss" : "loss − f*";
}

// The loss axis's title, which says where the floor is.
export function lossAxisTitle(fStar) {
  return fStar === null ? lossName(fStar) : `${lossName(fStar)} (log scale, floor 10⁻¹⁶)`;
}

// The same, short enough for a plot a few lines tall (the fan's final-loss curve, about 100
// px of axis at 1280 x 800, where the long title ran past both ends); its plot's title says
// where the floor is.
export function shortLossAxisTitle(fStar) {
  return fStar === null ? lossName(fStar) : `${lossName(fStar)} (log)`;
}

// Defaults for every 2-D axis of the page's figures (a Plotly layout template). Tick labels are
// drawn as they are: Plotly's default, "hide past div", measures each label's box on every
// redraw to hide those past the div's edge, a forced page layout per label that cost 5-15 ms of
// a contour redraw beside a computing server. The margins keep the labels inside already.
export const AXIS_TEMPLATE = {
  layout: { xaxis: { ticklabeloverflow: "allow" }, yaxis: { ticklabeloverflow: "allow" } },
};

// Distances to the nearest minimum are drawn no lower than this (near a minimum the loss gap
// goes like the squared distance: the loss floor's square root).
export const DISTANCE_FLOOR = 1e-8;

// `distances` (a Float64Array, changed in place) floored at DISTANCE_FLOOR; null stays null.
export function floorDistances(distances) {
  if (distances === null) return null;
  for (let i = 0; i < distances.length; i++) {
    if (!(distances[i] > DISTANCE_FLOOR)) distances[i] = DISTANCE_FLOOR;
  }
  return distances;
}

export const DISTANCE_AXIS_TITLE = "distance (log scale, floor 10⁻⁸)";

// The contour colour bar's title: what the landscape's shading encodes.
export function shadingTitle(log) {
  return log ? "log₁₀(f − f_min + δ)" : "f";
}

// `value` rounded to the decimals that still resolve `resolution` (the data size of one pixel):
// a click's coordinates with no more digits than the click means.
export function roundToResolution(value, resolution) {
  if (!(resolution > 0) || !Number.isFinite(resolution)) return value;
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution)));
  return Number(value.toFixed(Math.min(decimals, 15)));
}

// ---- series the legend hides ----

// The legend hides groups of rows (a series, or one swept value of it, with all its seeds) by
// key. Hidden groups stay hidden while runs keep the same series, in order: this says which.
export function seriesSignature(rows) {
  const seen = new Map();
  for (const row of rows) seen.set(row.series, row.optimizer);
  return [...seen.entries()].map(([series, optimizer]) => `${series}:${optimizer}`).join(",");
}

// A legend click on group `key`: hidden becomes shown and shown hidden. A new Set.
export function toggleGroup(hidden, key) {
  const next = new Set(hidden);
  if (next.has(key)) next.delete(key);
  else next.add(key);
  return next;
}

// A legend double click on group `key` among `keys`: show only it, or everything when it
// already was the only one shown. A new Set.
export function isolateGroup(hidden, key, keys) {
  const others = keys.filter((k) => k !== key);
  const alone = !hidden.has(key) && others.every((k) => hidden.has(k));
  return alone ? new Set() : new Set(others);
}

// ---- the 3-D view's box ----

// The 3-D scene's box: the landscape's view box in x and y, and in z the surface grid's range
// (`zGrid`: rows of numbers, null where the function is not finite) with a little room above
// and below, so paths that follow the surface between grid points stay inside.
export function surfaceBox(viewBox, zGrid) {
  let low = Infinity;
  let high = -Infinity;
  for (const row of zGrid) {
    for (const value of row) {
      if (value === null || !Number.isFinite(value)) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  if (!(low <= high)) [low, high] = [0, 1];
  const room = 0.02 * (high - low || 1);
  return { x: [...viewBox[0]], y: [...viewBox[1]], z: [low - room, high + room] };
}

// The 3-D scene's aspect: x and y in the proportions of the box (a 4 x 2 landscape looks twice
// as wide as deep), the longer side 1, and the height a fixed share of it whatever the z range.
export const SURFACE_HEIGHT_SHARE = 0.55;
export function surfaceAspect(box) {
  const dx = box.x[1] - box.x[0];
  const dy = box.y[1] - box.y[0];
  const longer = Math.max(dx, dy);
  return { x: dx / longer, y: dy / longer, z: SURFACE_HEIGHT_SHARE };
}

// The share [t0, t1] of the segment from point i to point j of `path` that lies inside `box`
// (Liang-Barsky), or null when none does or an end is not finite.
function segmentInBox(path, i, j, box) {
  let t0 = 0;
  let t1 = 1;
  for (const axis of ["x", "y", "z"]) {
    const from = path[axis][i];
    const to = path[axis][j];
    if (!Number.isFinite(from) || !Number.isFinite(to)) return null;
    const [low, high] = box[axis];
    const delta = to - from;
    if (delta === 0) {
      if (from < low || from > high) return null;
      continue;
    }
    let enter = (low - from) / delta;
    let leave = (high - from) / delta;
    if (enter > leave) [enter, leave] = [leave, enter];
    if (enter > t0) t0 = enter;
    if (leave < t1) t1 = leave;
    if (t0 > t1) return null;
  }
  return [t0, t1];
}

function insideBox(path, i, box) {
  const { x, y, z } = path;
  return x[i] >= box.x[0] && x[i] <= box.x[1] && y[i] >= box.y[0] && y[i] <= box.y[1]
    && z[i] >= box.z[0] && z[i] <= box.z[1];
}

// `path` ({x, y, z}: arrays of equal length) cut to `box` ({x, y, z}: [low, high] each): a
// segment that crosses a face ends (or starts) where it crosses it, and a NaN follows each exit,
// so Plotly draws nothing outside (scatter3d breaks its lines at NaN). Points that are not
// finite (a diverged row) count as outside. A path wholly inside comes back as it is (no copy).
// With `continuing`, the first point is one already drawn: a line goes on from it, and it is
// not repeated (for appending a path's new points to what is on screen).
export function clipPathToBox(path, box, continuing = false) {
  const n = path.x.length;
  let inside = true;
  for (let i = 0; i < n && inside; i++) inside = insideBox(path, i, box);
  if (inside) {
    if (!continuing || n === 0) return path;
    return { x: path.x.slice(1), y: path.y.slice(1), z: path.z.slice(1) };
  }
  // At most three points per segment: where it enters, where it leaves, and a gap.
  const out = { x: new Float64Array(3 * n), y: new Float64Array(3 * n), z: new Float64Array(3 * n) };
  let length = 0;
  const put = (i, j, t) => {
    for (const axis of ["x", "y", "z"]) {
      const from = path[axis][i];
      const to = path[axis][j];
      // The ends exactly, so a point inside is drawn where it is.
      out[axis][length] = t === 0 ? from : t === 1 ? to : from + t * (to - from);
    }
    length += 1;
  };
  const gap = () => {
    out.x[length] = Number.NaN;
    out.y[length] = Number.NaN;
    out.z[length] = Number.NaN;
    length += 1;
  };
  // Whether the last point put down is a line's end that the next segment extends.
  let open = n > 0 && insideBox(path, 0, box);
  if (open && !continuing) put(0, 0, 0);
  for (let j = 1; j < n; j++) {
    const share = segmentInBox(path, j - 1, j, box);
    if (share === null) {
      if (open) gap();
      open = false;
      continue;
    }
    const [enter, leave] = share;
    if (enter > 0 || !open) put(j - 1, j, enter);
    put(j - 1, j, leave);
    open = leave === 1;
    if (!open) gap();
  }
  return { x: out.x.subarray(0, length), y: out.y.subarray(0, length),
    z: out.z.subarray(0, length) };
}
