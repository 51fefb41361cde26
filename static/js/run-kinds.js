// The kinds of run a page state asks for beyond trajectories from one start: a map over a grid
// of starts, a sweep over one or two hyperparameters (two make a phase diagram), a tuned
// comparison; and their round trip between the state (so the URL) and the run spec. DOM-free.
//
// In the state: `map` is the grid {x: [lo, hi, nx], y: [lo, hi, ny]} or null, `tune` the spec's
// tune object or null, and a series' `sweep` is one {param, values} or a list of two. A state
// without these fields (an older URL) is a plain trajectory run.

import { parseCommaNumbers } from "./number-list.js";

// A map's default side: 64 x 64 starts draw in about a second on two cores.
export const DEFAULT_MAP_SIDE = 64;
// The server's default tuning seeds start here (engine/spec.py TuneSpec), far from the run's
// own seeds 0, 1, 2, ...
export const FIRST_TUNING_SEED = 1_000_001;
export const TUNE_OBJECTIVES = {
  final_loss: "final loss",
  loss_area: "area under the loss curve",
  steps_to_tolerance: "steps to tolerance",
};

// A series' sweeps as a list (none, one, or two: the first varies slowest).
export function sweepList(sweep) {
  if (!sweep) return [];
  return Array.isArray(sweep) ? sweep : [sweep];
}

// How many rows a series' sweep gives per seed and start: the product of its value counts.
export function sweepCombinations(sweep) {
  return sweepList(sweep).reduce((product, s) => product * s.values.length, 1);
}

// A list of sweeps in the form the state keeps: one as the object, two as the list, none null.
export function sweepFromList(sweeps) {
  if (!sweeps.length) return null;
  return sweeps.length === 1 ? sweeps[0] : sweeps;
}

// Whether a run of `state` sends only summaries (`record: final`): a map, or a phase diagram.
export function isSummaryRun(state) {
  return Boolean(state.map) || state.series.some((series) => sweepList(series.sweep).length === 2);
}

// The map, tuning and record fields of a state from a run spec (a preset's).
export function runKindFromSpec(spec) {
  return {
    map: spec.starts?.grid ? structuredClone(spec.starts.grid) : null,
    tune: spec.tune ? structuredClone(spec.tune) : null,
  };
}

// `spec` (toRunSpec's) with the state's map, tuning and record added.
export function addRunKind(state, spec) {
  if (state.map) spec.starts = { grid: structuredClone(state.map) };
  if (state.tune) spec.tune = structuredClone(state.tune);
  if (isSummaryRun(state)) spec.record = "final";
  return spec;
}

// A map over the view box [[x0, x1], [y0, y1]] with `side` x `side` starts.
export function mapOverBox(viewBox, side = DEFAULT_MAP_SIDE) {
  const [[x0, x1], [y0, y1]] = viewBox;
  return { x: [x0, x1, side], y: [y0, y1, side] };
}

export function tuningSeeds(count) {
  return Array.from({ length: count }, (_, i) => FIRST_TUNING_SEED + i);
}

// A first tuning: the learning rate on a log grid of half decades, by the final loss, on four
// tuning seeds.
export function defaultTune() {
  return { param: "lr", grid: [1e-4, 1, 9], objective: "final_loss", seeds: tuningSeeds(4) };
}

// The candidate values of a tune object, as the server computes them (engine/spec.py).
export function tuneCandidates(tune) {
  if (tune.values) return [...tune.values];
  const [lo, hi, count] = tune.grid;
  return Array.from({ length: count }, (_, i) => lo * (hi / lo) ** (i / (count - 1)));
}

function roundTo(value, digits) {
  return Number(value.toPrecision(digits));
}

// Values typed for a sweep: a comma-separated list ("0, 0.5, 1"), or a range "lo:hi:count"
// (evenly spaced) or "lo:hi:count:log" (evenly spaced in log scale, 3 significant digits, for
// learning rates). {values} or {error} saying what is wrong.
export function parseValues(text) {
  const trimmed = text.trim();
  if (trimmed.includes(":")) {
    const parts = trimmed.split(":").map((part) => part.trim());
    const log = parts.length === 4 && parts[3].toLowerCase() === "log";
    const [lo, hi, count] = parts.slice(0, 3).map(Number);
    const shapeOk = parts.length === 3 || log;
    if (!shapeOk || ![lo, hi].every(Number.isFinite) || !Number.isInteger(count) || count < 2) {
      return { error: "A range is lo:hi:count (count ≥ 2), or lo:hi:count:log, e.g. 1e-4:1:13:log." };
    }
    if (log && !(lo > 0 && hi > 0)) return { error: "A log range needs lo and hi above 0." };
    const values = Array.from({ length: count }, (_, i) => (log
      ? roundTo(lo * (hi / lo) ** (i / (count - 1)), 3)
      : roundTo(lo + ((hi - lo) * i) / (count - 1), 12)));
    return { values };
  }
  return parseCommaNumbers(text, {
    empty: "Enter numbers separated by commas (e.g. 0, 0.5, 1) or a range lo:hi:count.",
    example: "e.g. 0, 0.5, 1, or a range lo:hi:count",
  });
}

// Seeds as a short list: "0, 1, 2, 3", or "0 to 15" for a longer consecutive run.
export function seedList(seeds) {
  const consecutive = seeds.every((seed, i) => i === 0 || seed === seeds[i - 1] + 1);
  if (consecutive && seeds.length > 4) return `${seeds[0]} to ${seeds[seeds.length - 1]}`;
  return seeds.join(", ");
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

// What every series of a tuned run spent on tuning (`tuning`: the result's record), and on
// which seeds it is reported (`heldOutSeeds`): the page's plain statement that the budget was
// the same for every optimizer.
export function tuningBudget(tuning, heldOutSeeds) {
  const candidates = tuning.candidates.length;
  const seeds = tuning.seeds.length;
  const starts = Math.max(1, Math.round(tuning.rows_per_candidate / seeds));
  const runs = candidates * tuning.rows_per_candidate;
  return {
    candidates, seeds, starts, runs,
    text: `Every optimizer had the same budget: ${plural(candidates, "candidate")} of `
      + `${tuning.param} × ${plural(seeds, "tuning seed")} × ${plural(starts, "start")} = `
      + `${plural(runs, "tuning run")} each, chosen by the median `
      + `${TUNE_OBJECTIVES[tuning.objective] ?? tuning.objective}. The trajectories shown are `
      + `held-out seeds (${seedList(heldOutSeeds)}), which the choice never saw.`,
  };
}

// Values a new sweep of a hyperparameter starts with, around its `current` value: a decade
// either side in half decades for a log-scale one (a learning rate), else five values over
// current ± 1 within the schema's bounds (Anon's gamma from 0: -1, -0.5, 0, 0.5, 1).
export function defaultSweepValues(schema, current) {
  const value = Number.isFinite(current) ? current : (schema.default ?? 0);
  const low = schema.minimum ?? (schema.exclusiveMinimum !== undefined
    ? schema.exclusiveMinimum + 1e-12 : -Infinity);
  const high = schema.maximum ?? (schema.exclusiveMaximum !== undefined
    ? schema.exclusiveMaximum - 0.01 : Infinity);
  if (schema.log_scale && value > 0) {
    const values = [-1, -0.5, 0, 0.5, 1].map((k) => roundTo(value * 10 ** k, 3))
      .filter((v) => v > 0 && v >= low && v <= high);
    return [...new Set(values)];
  }
  const lo = Math.max(low, value - 1);
  const hi = Math.min(high, value + 1);
  if (!(hi > lo)) return [value];
  return Array.from({ length: 5 }, (_, i) => roundTo(lo + ((hi - lo) * i) / 4, 3));
}

// The hyperparameters of an optimizer (its JSON Schema's properties) that a sweep or a tuning
// can take: the numeric ones.
export function numericHparams(schema) {
  return Object.entries(schema.properties ?? {})
    .filter(([, property]) => property.type === "number" || property.type === "integer")
    .map(([name]) => name);
}

// What the page says while a tuned run is still tuning (nothing streams until it is done).
export function tuningProgressText(tune, seriesCount) {
  const candidates = tuneCandidates(tune).length;
  const seeds = (tune.seeds ?? tuningSeeds(4)).length;
  return `Tuning ${tune.param}: ${candidates} candidates × ${seeds} tuning seeds for each of `
    + `${seriesCount} series…`;
}
