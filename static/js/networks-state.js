// The Networks view's whole state as plain data, its run spec, and its round trip through the
// URL fragment. DOM-free. A network permalink is `#network=` + this state as JSON; the 2-D
// view's is `#state=` (state.js), so each view recognises its own and ignores the other's.

import { seriesColor } from "./colors.js";
import { parseCommaNumbers } from "./number-list.js";

const FRAGMENT_KEY = "network=";
// What a network run starts with when neither a preset nor the URL says otherwise: the
// engine's own defaults (engine/network_spec.py ModelSpec: two layers of 32, tanh).
export const DEFAULT_MODEL = { hidden: [32, 32], activation: "tanh" };
export const DEFAULT_STEPS = 300;
// The loss landscape's grid side when a plane is asked for (the API's default).
export const DEFAULT_PLANE_RESOLUTION = 31;
// Plane kinds the API offers: the two leading principal directions of the weights a row
// visited, or two random filter-normalised directions (Li et al. 2018).
export const PLANE_KINDS = ["pca", "filter"];
// How the page draws a plane: a contour map with the path, or a 3-D surface with the path on it.
export const PLANE_VIEWS = ["contour", "surface"];

// Whether `preset` (an entry of GET /api/presets) is a network run: its spec trains a task.
export function isNetworkPreset(preset) {
  return Boolean(preset?.spec?.task);
}

// Whether optimizer `entry` (GET /api/optimizers) can train a network: one that computes its
// own Hessian-vector products from the gradient's graph cannot (engine/network_spec.py).
export function trainsNetworks(entry) {
  const capabilities = entry?.capabilities ?? {};
  return !(capabilities.needs_create_graph && !capabilities.accepts_hessian_diagonal);
}

function seriesFromSpec(series, index) {
  return {
    optimizer: series.optimizer,
    hparams: { ...series.hparams },
    label: series.label ?? "",
    color: seriesColor(index),
    sweep: series.sweep ? structuredClone(series.sweep) : null,
  };
}

function planeFromSpec(plane) {
  if (!plane) return null;
  return { kind: plane.kind, resolution: plane.resolution ?? DEFAULT_PLANE_RESOLUTION };
}

// A state from a network preset of GET /api/presets.
export function stateFromNetworkPreset(preset) {
  const spec = preset.spec;
  const task = spec.task;
  return {
    preset: preset.id,
    task: { id: task.id, params: { ...(task.params ?? {}) } },
    model: {
      hidden: [...(task.model?.hidden ?? DEFAULT_MODEL.hidden)],
      activation: task.model?.activation ?? DEFAULT_MODEL.activation,
    },
    batchSize: task.batch_size ?? spec.batch_size ?? null,
    seeds: (spec.seeds ?? [0]).length,
    steps: spec.steps,
    plane: planeFromSpec(spec.plane),
    series: spec.series.map(seriesFromSpec),
    shownRow: 0,
    planeView: "contour",
    narration: true,
  };
}

// A state of no preset: the first task (GET /api/tasks) with its defaults, Adam if the registry
// has it (else its first optimizer that trains networks) at its default hyperparameters.
export function defaultNetworkState(tasks, optimizers) {
  const task = tasks[0];
  const usable = optimizers.filter(trainsNetworks);
  const optimizer = usable.find((o) => o.id === "adam") ?? usable[0];
  return {
    preset: null,
    task: { id: task.id, params: { ...task.defaults } },
    model: structuredClone(DEFAULT_MODEL),
    batchSize: null,
    seeds: 1,
    steps: DEFAULT_STEPS,
    plane: null,
    series: [seriesFromSpec({ optimizer: optimizer.id, hparams: optimizer.defaults }, 0)],
    shownRow: 0,
    planeView: "contour",
    narration: true,
  };
}

// The body of POST /api/runs for `state`. The task carries its model and batch size; a plane
// is asked for only when the state wants one (the field is left out otherwise).
export function toNetworkRunSpec(state) {
  const spec = {
    task: {
      id: state.task.id,
      params: state.task.params ?? {},
      model: { hidden: state.model.hidden, activation: state.model.activation },
      batch_size: state.batchSize,
    },
    series: state.series.map((series) => {
      const entry = { optimizer: series.optimizer, hparams: series.hparams };
      if (series.label) entry.label = series.label;
      if (series.sweep) entry.sweep = series.sweep;
      return entry;
    }),
    seeds: Array.from({ length: state.seeds }, (_, seed) => seed),
    steps: state.steps,
  };
  if (state.plane) spec.plane = { kind: state.plane.kind, resolution: state.plane.resolution };
  return spec;
}

// Hidden layer widths as typed ("32, 32"): {values} of whole numbers, or {error}. An empty
// field is a network without hidden layers (a linear model), which the API accepts.
export function parseHiddenLayers(text) {
  if (text.trim() === "") return { values: [] };
  const parsed = parseCommaNumbers(text, { empty: "", example: "e.g. 32, 32" });
  if (parsed.error) return parsed;
  const bad = parsed.values.findIndex((value) => !Number.isInteger(value) || value < 1);
  if (bad >= 0) {
    return { error: `Layer ${bad + 1} (${parsed.values[bad]}) is not a width: enter whole `
      + "numbers of at least 1, e.g. 32, 32." };
  }
  return { values: parsed.values };
}

export function formatHiddenLayers(hidden) {
  return hidden.join(", ");
}

// JSON with every object's keys in order: equal for equal data whatever the insertion order.
function canonicalJson(value) {
  return JSON.stringify(value, (_, v) => (v && typeof v === "object" && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]]))
    : v));
}

// What a state runs and shows: its run spec and its series' colours (the row shown, how the
// plane is drawn and the narration's open state are views of a run, not edits of it). A task parameter left at its
// default is the same run whether or not the state names it: `tasks` fills them in.
function runFingerprint(state, tasks) {
  const spec = toNetworkRunSpec(state);
  const defaults = tasks?.find((task) => task.id === state.task.id)?.defaults ?? {};
  spec.task.params = { ...defaults, ...spec.task.params };
  return canonicalJson({ spec, colors: state.series.map((s) => s.color) });
}

// Whether `state` differs from what network `preset` runs (the page then marks it modified).
export function isNetworkModified(state, preset, tasks) {
  return runFingerprint(state, tasks) !== runFingerprint(stateFromNetworkPreset(preset), tasks);
}

export function encodeNetworkFragment(state) {
  return `#${FRAGMENT_KEY}${encodeURIComponent(JSON.stringify(state))}`;
}

// Whether `hash` is a network permalink (valid or not): the Networks view owns it.
export function isNetworkFragment(hash) {
  return (hash.startsWith("#") ? hash.slice(1) : hash).startsWith(FRAGMENT_KEY);
}

// The state in a network URL fragment, or null when there is none or it is not one.
export function decodeNetworkFragment(hash) {
  if (!isNetworkFragment(hash)) return null;
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  let state;
  try {
    state = JSON.parse(decodeURIComponent(text.slice(FRAGMENT_KEY.length)));
  } catch {
    return null;
  }
  const valid = state && typeof state === "object"
    && state.task && typeof state.task.id === "string"
    && state.model && Array.isArray(state.model.hidden)
    && Array.isArray(state.series) && state.series.length > 0
    && Number.isInteger(state.steps) && Number.isInteger(state.seeds);
  if (!valid) return null;
  const planeView = PLANE_VIEWS.includes(state.planeView) ? state.planeView : "contour";
  return { preset: null, batchSize: null, plane: null, shownRow: 0, narration: true, ...state,
    planeView };
}
