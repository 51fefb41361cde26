// A fan: one series swept over one hyperparameter that its optimizer takes as a tensor (the
// registry's `capabilities.tensor_hparams`: Anon's adaptivity gamma, the lr of most), all of
// its values in one request and one optimizer instance. This module is DOM-free: the fan's
// values from a range, the range back from the values (the URL keeps only the values), and the
// path the slider highlights between two computed members.
//
// Between two neighbouring members the highlighted path is interpolated: at every recorded
// step, each coordinate (x, y, and the loss and distance as plotted) is the linear blend
// (1 - w) * lower + w * upper, where w is where the slider sits between the two members in the
// parameter's own scale (linear for gamma, log10 for lr). It is not a computed trajectory,
// and the page says so; "snap" shows the nearest computed member instead.

// Default ranges: an adaptivity exponent from -1 to 2 by 0.05 (61 values); a log-scale
// hyperparameter (lr) over four decades, 25 values; anything else 21 values around its value.
export const ADAPTIVITY_FAN = { from: -1, to: 2, count: 61, scale: "linear" };
export const LOG_FAN = { from: 1e-4, to: 1, count: 25, scale: "log" };
// The server's limit on rows is far above this; more values are only slower.
export const MAX_FAN_COUNT = 401;
// Slider positions between two members (keyboard arrows stop at each of them).
export const SLIDER_STEPS_PER_GAP = 10;
// A slider this close to a member (a fraction of the gap to the next) is on it.
const ON_MEMBER = 1e-6;

// The hyperparameters of optimizer `entry` (a GET /api/optimizers entry) that a fan can sweep:
// its adaptivity exponent first, then lr, then the others it takes as a tensor.
export function fanParams(entry) {
  const capabilities = entry?.capabilities ?? {};
  const tensor = capabilities.tensor_hparams ?? [];
  const properties = entry?.hparams_schema?.properties ?? {};
  const order = [capabilities.adaptivity_exponent, "lr", ...tensor];
  return [...new Set(order)].filter((name) => name && tensor.includes(name) && name in properties);
}

// The scale a fan of `param` spreads its values in: log where the schema says so (lr).
export function fanScale(schema) {
  return schema?.log_scale ? "log" : "linear";
}

// The default fan of hyperparameter `param` of optimizer `entry`.
export function defaultFan(entry, param) {
  const schema = entry?.hparams_schema?.properties?.[param] ?? {};
  if (entry?.capabilities?.adaptivity_exponent === param) return { ...ADAPTIVITY_FAN };
  if (fanScale(schema) === "log") return { ...LOG_FAN };
  const value = entry?.defaults?.[param] ?? schema.default ?? 1;
  return { from: value - Math.abs(value || 1), to: value + Math.abs(value || 1), count: 21,
    scale: "linear" };
}

// Twelve significant digits: 0.35 stays 0.35 (not 0.35000000000000003) in the URL and labels.
const tidy = (value) => Number(value.toPrecision(12));

// The `count` values of a fan from `from` to `to`, evenly spaced in its scale.
export function fanValues({ from, to, count, scale }) {
  const n = Math.max(1, Math.round(count));
  if (n === 1) return [tidy(from)];
  if (scale === "log") {
    const [a, b] = [Math.log10(from), Math.log10(to)];
    return Array.from({ length: n }, (_, i) => tidy(10 ** (a + ((b - a) * i) / (n - 1))));
  }
  return Array.from({ length: n }, (_, i) => tidy(from + ((to - from) * i) / (n - 1)));
}

// The count of a fan from `from` to `to` by `step` (a factor for a log fan): 0.05 over -1..2 is
// 61 values; a step that does not divide the range stops short of `to` (the ends then spread
// the count evenly again).
export function countForStep(from, to, step, scale = "linear") {
  const span = scale === "log" ? Math.log10(to / from) : to - from;
  const size = scale === "log" ? Math.log10(step) : step;
  if (!(size > 0) || !Number.isFinite(span)) return null;
  return Math.floor(Math.abs(span) / size + 1e-9) + 1;
}

// A fan's step: between two neighbouring values (a factor for a log fan).
export function fanStep({ from, to, count, scale }) {
  if (count < 2) return null;
  return scale === "log" ? tidy((to / from) ** (1 / (count - 1))) : tidy((to - from) / (count - 1));
}

// What is wrong with a fan, or null: said next to its fields on the card.
export function fanProblem({ from, to, count, scale }) {
  if (![from, to, count].every(Number.isFinite)) return "Enter numbers.";
  if (!Number.isInteger(count) || count < 2) return "A fan needs at least 2 values.";
  if (count > MAX_FAN_COUNT) return `At most ${MAX_FAN_COUNT} values.`;
  if (from === to) return "From and to must differ.";
  if (scale === "log" && !(from > 0 && to > 0)) return "A log range needs positive ends.";
  return null;
}

// The range a list of values was made from: ends, count and scale (log when they are positive
// and evenly spaced in log but not in linear scale). The URL keeps only the values.
export function fanFromValues(values) {
  const n = values.length;
  const from = values[0];
  const to = values[n - 1];
  const even = (map) => {
    const [a, b] = [map(from), map(to)];
    return values.every((v, i) => Math.abs(map(v) - (a + ((b - a) * i) / (n - 1)))
      <= 1e-6 * Math.max(Math.abs(b - a), 1e-12));
  };
  const positive = values.every((v) => v > 0);
  const linear = n < 3 || even((v) => v);
  const scale = !linear && positive && even(Math.log10) ? "log" : "linear";
  return { from, to, count: n, scale, even: linear || scale === "log" };
}

// A value's position on the slider (its scale's coordinate) and back.
export function toSlider(value, scale) {
  return scale === "log" ? Math.log10(value) : value;
}

export function fromSlider(position, scale) {
  return tidy(scale === "log" ? 10 ** position : position);
}

// Where the slider of a fan of `values` goes: min, max, step (in slider coordinates).
export function sliderRange(values, scale) {
  const positions = values.map((v) => toSlider(v, scale)).sort((a, b) => a - b);
  const min = positions[0];
  const max = positions.at(-1);
  const gap = (max - min) / Math.max(1, positions.length - 1);
  return { min, max, step: tidy(gap / SLIDER_STEPS_PER_GAP) || "any" };
}

// The computed members of a fan: its rows (one seed) by value, ascending, one per value.
export function fanMembers(rows, param) {
  const byValue = new Map();
  for (const row of rows) {
    const value = row.hparams[param];
    if (!byValue.has(value)) byValue.set(value, row);
  }
  return [...byValue.entries()].sort((a, b) => a[0] - b[0]).map(([value, row]) => ({ value, row }));
}

// The two members around `value` and the weight of the upper one, in `scale`: {lower, upper,
// weight}; outside the fan both are its end. `members`: ascending (fanMembers).
export function bracket(members, value, scale) {
  if (!members.length) return null;
  const at = toSlider(value, scale);
  const pos = (member) => toSlider(member.value, scale);
  if (at <= pos(members[0])) return { lower: members[0], upper: members[0], weight: 0 };
  const last = members.at(-1);
  if (at >= pos(last)) return { lower: last, upper: last, weight: 0 };
  const hi = members.findIndex((member) => pos(member) >= at);
  const upper = members[hi];
  const lower = members[hi - 1];
  const weight = (at - pos(lower)) / (pos(upper) - pos(lower));
  // On a member, up to the rounding of a slider's steps.
  if (weight < ON_MEMBER) return { lower, upper: lower, weight: 0 };
  if (weight > 1 - ON_MEMBER) return { lower: upper, upper, weight: 0 };
  return { lower, upper, weight };
}

// The member nearest `value` in `scale`.
export function nearestMember(members, value, scale) {
  const b = bracket(members, value, scale);
  if (!b) return null;
  return b.weight > 0.5 ? b.upper : b.lower;
}

// (1 - w) * a + w * b, point by point over the points both have.
export function blend(a, b, weight) {
  const n = Math.min(a.length, b.length);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 1) out[i] = a[i] + weight * (b[i] - a[i]);
  return out;
}

// The path highlighted at `value`: {x, y, loss, distance, steps, lower, upper, weight,
// interpolated, final}. `columns(row)`: the row's {x, y, steps, loss, distance} as plotted
// (distance may be null). `snap`: the nearest member instead of a blend.
export function fanPath(members, value, scale, columns, { snap = false } = {}) {
  const b = bracket(members, value, scale);
  if (!b) return null;
  if (snap || b.weight === 0 || b.lower === b.upper) {
    const member = snap ? (b.weight > 0.5 ? b.upper : b.lower) : b.lower;
    const c = columns(member.row);
    return { ...c, lower: member, upper: member, weight: 0, interpolated: false,
      final: c.loss.length ? c.loss[c.loss.length - 1] : null };
  }
  const [p, q] = [columns(b.lower.row), columns(b.upper.row)];
  const w = b.weight;
  const loss = blend(p.loss, q.loss, w);
  const n = loss.length;
  return {
    x: blend(p.x, q.x, w), y: blend(p.y, q.y, w), loss,
    distance: p.distance && q.distance ? blend(p.distance, q.distance, w) : null,
    steps: (p.steps.length <= q.steps.length ? p.steps : q.steps).slice(0, n),
    lower: b.lower, upper: b.upper, weight: w, interpolated: true,
    final: n ? loss[n - 1] : null,
  };
}

// Where `value` sits in the fan [0, 1] (its scale): what viridis colours it by.
export function fanFraction(value, values, scale) {
  const positions = values.map((v) => toSlider(v, scale));
  const [lo, hi] = [Math.min(...positions), Math.max(...positions)];
  return hi > lo ? Math.min(1, Math.max(0, (toSlider(value, scale) - lo) / (hi - lo))) : 0.5;
}

// Short text for a value: 0.45, 1e-3, 3.16e-2.
export function formatFanValue(value) {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude < 1e-2 || magnitude >= 1e4) return value.toExponential(2).replace(/\.?0+e/, "e");
  return String(Number(value.toPrecision(3)));
}

// A swept hyperparameter as the page writes it: Anon's gamma as γ, others by their names.
export function paramSymbol(param) {
  return param === "gamma" ? "γ" : param;
}

// What the highlight shows, in words: a computed member, or a blend of two (and how much).
export function describePath(path, param) {
  if (!path) return "";
  const name = paramSymbol(param);
  if (!path.interpolated) return `computed path, ${name} = ${formatFanValue(path.lower.value)}`;
  const w = Math.round(path.weight * 100);
  return `interpolated: ${100 - w}% of ${name} = ${formatFanValue(path.lower.value)} + ${w}% of `
    + `${name} = ${formatFanValue(path.upper.value)} (a blend, not a computed path)`;
}

// The series a fan belongs to: the first with one sweep over a hyperparameter its optimizer
// takes as a tensor, with at least two values; -1 when there is none.
export function fanSeriesIndex(series, optimizers) {
  return series.findIndex((s) => {
    const sweep = s.sweep;
    if (!sweep || Array.isArray(sweep) || !(sweep.values?.length >= 2)) return false;
    const entry = optimizers.find((o) => o.id === s.optimizer);
    return fanParams(entry).includes(sweep.param);
  });
}

// A sweep kept across a change of optimizer: if the new one (`entry`) can fan it, else null.
export function keptSweep(sweep, entry) {
  if (!sweep || Array.isArray(sweep)) return null;
  return fanParams(entry).includes(sweep.param) ? sweep : null;
}
