// The page's whole state as plain data, and its round trip through the URL fragment. DOM-free:
// the permalink of a run is exactly `#state=` + this state as JSON.

import { seriesColor } from "./colors.js";
import { parseCommaNumbers } from "./number-list.js";
import { DEFAULT_REPLAY_SPEED } from "./playback.js";
import { addRunKind, runKindFromSpec, sweepCombinations } from "./run-kinds.js";

const FRAGMENT_KEY = "state=";
// The view box of typed functions: the API's default for expressions.
export const EXPRESSION_VIEW_BOX = [[-3, 3], [-3, 3]];

// A state from a preset of GET /api/presets.
export function stateFromPreset(preset) {
  const spec = preset.spec;
  const seeds = spec.seeds ?? [0];
  return {
    preset: preset.id,
    landscape: structuredClone(spec.landscape),
    noise: structuredClone(spec.noise ?? { kind: "none" }),
    seeds: seeds.length,
    start: spec.start ?? null,
    steps: spec.steps,
    clip: spec.clip_grad_norm ?? null,
    // A map over a grid of starts, a tuned comparison (run-kinds.js).
    ...runKindFromSpec(spec),
    series: spec.series.map((series, index) => ({
      optimizer: series.optimizer,
      hparams: { ...series.hparams },
      label: series.label ?? "",
      color: seriesColor(index),
      sweep: series.sweep ? structuredClone(series.sweep) : null,
    })),
    gamma: preset.view?.gamma_slider ? 1 : null,
    narration: true,
    // How fast Play replays a finished run (a view of the run, like the narration's state).
    replaySpeed: DEFAULT_REPLAY_SPEED,
  };
}

// The body of POST /api/runs for `state`; `maxPoints` bounds the points sent per row.
export function toRunSpec(state, maxPoints) {
  const spec = {
    landscape: state.landscape.expression !== undefined
      ? { expression: state.landscape.expression }
      : { id: state.landscape.id, params: state.landscape.params ?? {} },
    noise: state.noise.kind === "none" ? null : state.noise,
    seeds: Array.from({ length: state.seeds }, (_, seed) => seed),
    start: state.start,
    steps: state.steps,
    clip_grad_norm: state.clip,
    series: state.series.map((series) => {
      const entry = { optimizer: series.optimizer, hparams: series.hparams };
      if (series.label) entry.label = series.label;
      if (series.sweep) entry.sweep = series.sweep;
      return entry;
    }),
  };
  if (maxPoints !== undefined) spec.max_points = maxPoints;
  return addRunKind(state, spec);
}

// A comma-separated list of numbers: {values} or {error} naming the first entry that is not one.
export function parseNumberList(text) {
  return parseCommaNumbers(text, {
    empty: "Enter at least one number, e.g. 0, 0.5, 1.",
    example: "e.g. 0, 0.5, 1",
  });
}

// Points per row to ask for: every step, unless that would send more than ~400k points.
export function pointsPerRow(state) {
  const rows = state.series.reduce(
    (sum, series) => sum + sweepCombinations(series.sweep) * state.seeds, 0);
  return Math.min(state.steps + 1, Math.max(2001, Math.floor(400_000 / Math.max(rows, 1))));
}

// JSON with every object's keys in order: equal for equal data whatever the insertion order.
function canonicalJson(value) {
  return JSON.stringify(value, (_, v) => (v && typeof v === "object" && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]]))
    : v));
}

// What a state runs and shows: its run spec and its series' colours (the gamma slider and the
// narration's open state are views of a run, not edits of it).
function runFingerprint(state) {
  return canonicalJson({ spec: toRunSpec(state), colors: state.series.map((s) => s.color) });
}

// Whether `state` differs from what `preset` (GET /api/presets) runs: the page then names the
// preset "modified" and offers the way back to it.
export function isModified(state, preset) {
  return runFingerprint(state) !== runFingerprint(stateFromPreset(preset));
}

export function encodeFragment(state) {
  return `#${FRAGMENT_KEY}${encodeURIComponent(JSON.stringify(state))}`;
}

// The state in a URL fragment, or null when there is none or it is not a state.
export function decodeFragment(hash) {
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!text.startsWith(FRAGMENT_KEY)) return null;
  let state;
  try {
    state = JSON.parse(decodeURIComponent(text.slice(FRAGMENT_KEY.length)));
  } catch {
    return null;
  }
  const valid = state && typeof state === "object" && state.landscape && state.noise
    && Array.isArray(state.series) && state.series.length > 0
    && Number.isInteger(state.steps) && Number.isInteger(state.seeds);
  return valid ? state : null;
}

// An optimizer's capability flags from the registry (`optimizers`: GET /api/optimizers), or {}
// for an id the registry does not list.
export function capabilitiesOf(optimizers, id) {
  return optimizers.find((entry) => entry.id === id)?.capabilities ?? {};
}

// The swept hyperparameter of `series` if it is its optimizer's adaptivity exponent (Anon's
// gamma, as the registry says: AdaBound's gamma is not one), else null.
export function adaptivitySweepParam(series, optimizers) {
  const param = series.sweep?.param;
  if (!param) return null;
  return capabilitiesOf(optimizers, series.optimizer).adaptivity_exponent === param ? param : null;
}

// The series whose sweep runs over its optimizer's adaptivity exponent: the one the gamma slider
// drives; -1 when there is none.
export function gammaSeriesIndex(state, optimizers) {
  return state.series.findIndex((series) => adaptivitySweepParam(series, optimizers) !== null);
}

// Whether rows of optimizer `id` get preconditioner-refresh markers at steps 1, 2, 4, 8, ...
export function refreshesAtPowersOfTwo(optimizers, id) {
  return capabilitiesOf(optimizers, id).preconditioner_refreshes === "powers_of_two";
}
