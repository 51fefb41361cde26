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

// The loss axis's title, which says where the floor is.
export function lossAxisTitle(fStar) {
  if (fStar === null) return "loss";
  return `${fStar === 0 ? "loss" : "loss − f*"} (log scale, floor 10⁻¹⁶)`;
}

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
