// Motion on the page, as numbers: how far a streaming run is drawn, where a replay stands, which
// of a row's points that is, and how many points each view draws. DOM-free
// (tests/js/playback.test.mjs).

// A streamed run is drawn no faster than its whole length in REVEAL_SECONDS. A run the server
// computes in a blink (the default one takes a fraction of a second) still visibly moves; a
// slower one is drawn as its points arrive. Since the pace covers every step of the run in
// REVEAL_SECONDS, a point is on screen at most REVEAL_SECONDS after it arrived.
export const REVEAL_SECONDS = 1;

// x1 replays a whole run in this long, whatever its number of steps.
export const REPLAY_SECONDS = 4;
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
export const DEFAULT_REPLAY_SPEED = 1;

// The step drawn `elapsedMs` after step `shown` was: the reveal moves on at its pace and never
// past the last step received. Steps are fractional here (the pace is smooth); callers draw
// up to Math.floor of it.
export function nextRevealStep(shown, received, totalSteps, elapsedMs) {
  if (received <= shown) return shown;
  const perMs = Math.max(totalSteps, 1) / (REVEAL_SECONDS * 1000);
  const next = shown + perMs * Math.max(elapsedMs, 0);
  // Frames' times summed in floating point fall short of the total by a hair: that is the end.
  return next >= received - 1e-6 ? received : next;
}

// A replay speed from the URL or a control: one of REPLAY_SPEEDS, else the default.
export function replaySpeed(value) {
  const speed = Number(value);
  return REPLAY_SPEEDS.includes(speed) ? speed : DEFAULT_REPLAY_SPEED;
}

// The step a replay shows at time `now` (ms) that showed `origin.step` at `origin.time` and
// plays at `speed`; at most `totalSteps`.
export function replayStepAt(origin, now, speed, totalSteps) {
  const seconds = Math.max(now - origin.time, 0) / 1000;
  const step = origin.step + (seconds * speed * totalSteps) / REPLAY_SECONDS;
  return Math.min(totalSteps, Math.floor(step));
}

// How many of ascending `steps` are at or before `step`: the points drawn of a row at `step`.
export function pointsUpTo(steps, step) {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The recorded step after (`direction` 1) or before (-1) `step` among ascending `steps` (a
// decimated run records every k-th step: one step of the replay is one recorded point). Past
// the last recorded step comes `totalSteps`; before the first, the first.
export function neighbourStep(steps, step, direction, totalSteps) {
  if (direction > 0) {
    const next = pointsUpTo(steps, step);
    return next < steps.length ? steps[next] : totalSteps;
  }
  const before = pointsUpTo(steps, step - 1);
  return before > 0 ? steps[before - 1] : (steps[0] ?? 0);
}

// Every how many points a view draws so that `rows` rows of `pointsPerRow` points stay within
// `budget` points (1: all of them).
export function displayStride(rows, pointsPerRow, budget) {
  return Math.max(1, Math.ceil((rows * pointsPerRow) / Math.max(budget, 1)));
}

// How many of a row's first `count` points are drawn at `stride`: every stride-th and the last.
export function stridedCount(count, stride) {
  if (count <= 0) return 0;
  return Math.floor((count - 1) / stride) + 1 + ((count - 1) % stride ? 1 : 0);
}

// The index of the j-th point drawn of a row cut at `count` points at `stride`.
function stridedIndex(j, count, stride) {
  return Math.min(j * stride, count - 1);
}

// Several rows as one trace: each of `columns` (one array per row, e.g. [xs, ys] of every row)
// joined over the rows, each row cut at `counts[r]` points and thinned to `stride`, with a NaN
// between rows (Plotly breaks a line there). Returns one Float64Array per column.
export function joinRows(columns, counts, stride = 1) {
  const rows = counts.length;
  let length = 0;
  for (let r = 0; r < rows; r++) {
    const n = stridedCount(counts[r], stride);
    if (n) length += n + 1;
  }
  return columns.map((perRow) => {
    const joined = new Float64Array(length);
    let at = 0;
    for (let r = 0; r < rows; r++) {
      const count = counts[r];
      const n = stridedCount(count, stride);
      if (!n) continue;
      const values = perRow[r];
      for (let j = 0; j < n; j++) joined[at++] = values[stridedIndex(j, count, stride)];
      joined[at++] = Number.NaN;
    }
    return joined;
  });
}

// A plot's y range (log10 units on a log axis) that holds values from `min` to `max`, with
// room to spare below (a loss keeps falling) so that the axis moves a few times per run, not
// every frame.
export function paddedRange(min, max, log) {
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    return [Math.floor(lo - 1.5), Math.ceil(hi + 0.25)];
  }
  const span = max - min || Math.abs(max) || 1;
  return [min - 0.25 * span, max + 0.1 * span];
}

// Whether `range` (as paddedRange gives it) holds values from `min` to `max`.
export function rangeHolds(range, min, max, log) {
  const lo = log ? Math.log10(min) : min;
  const hi = log ? Math.log10(max) : max;
  return range[0] <= lo && hi <= range[1];
}
