// The Networks view's sidebar, generated from GET /api/tasks (a task's parameters from its JSON
// Schema) and GET /api/optimizers, with the 2-D view's field and series pieces (controls.js,
// fan-controls.js, kind-controls.js). Inputs write into the view's state and report what changed:
// "structure" (re-render the inputs, run), "value" (run) or "restyle" (redraw, no run).

import { nextSeriesColor } from "./colors.js";
import { errorSlot, h, schemaField, section } from "./controls.js";
import { fanEditor } from "./fan-controls.js";
import { keptSweep } from "./fan.js";
import { sweepEditor } from "./kind-controls.js";
import { sweepList } from "./run-kinds.js";
import {
  DEFAULT_PLANE_RESOLUTION, formatHiddenLayers, parseHiddenLayers, PLANE_KINDS, trainsNetworks,
} from "./networks-state.js";

// The activations the engine offers (tasks/mlp.py Activation); the API takes no others.
const ACTIVATIONS = [
  { id: "tanh", label: "tanh" },
  { id: "relu", label: "ReLU" },
];
const PLANE_LABELS = {
  pca: "PCA of the path (the two directions it moved most along)",
  filter: "Random filter-normalised directions (Li et al. 2018)",
};
// A batch size typed when "Full batch" is unticked, if the task has that many training points.
const DEFAULT_MINIBATCH = 32;

function selectField({ id, label, options, value, loc, onValue, help }) {
  const select = h("select", { id, "data-testid": id, "data-loc": loc,
    onchange: (event) => onValue(event.target.value) },
  options.map((option) => h("option", { value: option.id, selected: option.id === value,
    title: option.title ?? "" }, option.label)));
  return h("div", { class: "field" }, h("label", { for: id }, label), select,
    help ? h("div", { class: "help" }, help) : null, errorSlot(loc));
}

// ---- task ----

function taskSection(state, catalogue, changed) {
  const entry = catalogue.tasks.find((task) => task.id === state.task.id) ?? catalogue.tasks[0];
  const picker = selectField({ id: "net-task", label: "Task", loc: "task.id", value: entry.id,
    options: catalogue.tasks.map((task) => ({ id: task.id, label: task.label,
      title: task.description })),
    onValue: (id) => {
      const next = catalogue.tasks.find((task) => task.id === id);
      state.task = { id: next.id, params: { ...next.defaults } };
      // A batch larger than the new task's training set would be refused: full batch instead.
      state.batchSize = null;
      state.shownRow = 0;
      changed("structure");
    },
    help: `${entry.description} (${entry.kind}, ${entry.input_dim}-D input)` });
  const properties = entry.params_schema?.properties ?? {};
  const fields = Object.entries(properties).map(([name, schema]) => schemaField({
    name, schema, value: state.task.params?.[name] ?? entry.defaults?.[name] ?? schema.default,
    loc: `task.params.${name}`, testid: `net-task-${name}`,
    onValue: (value) => {
      state.task.params = { ...state.task.params, [name]: value };
      changed("value");
    } }));
  return section("Task", picker, ...fields, errorSlot("task.params"), errorSlot("task"));
}

// ---- the network and its training ----

function networkSection(state, changed) {
  const hiddenError = h("div", { class: "field-error", role: "alert",
    "data-testid": "net-hidden-error" });
  const hidden = h("input", { type: "text", id: "net-hidden", "data-testid": "net-hidden",
    "data-loc": "task.model.hidden", value: formatHiddenLayers(state.model.hidden),
    spellcheck: "false", autocomplete: "off", "aria-describedby": "net-hidden-help",
    onchange: (event) => {
      // A bad entry is said next to the box and starts no run.
      const parsed = parseHiddenLayers(event.target.value);
      hiddenError.textContent = parsed.error ?? "";
      event.target.classList.toggle("invalid-entry", Boolean(parsed.error));
      event.target.setAttribute("aria-invalid", String(Boolean(parsed.error)));
      if (parsed.error) return;
      state.model = { ...state.model, hidden: parsed.values };
      event.target.value = formatHiddenLayers(parsed.values);
      changed("value");
    } });
  const activation = selectField({ id: "net-activation", label: "Activation",
    loc: "task.model.activation", value: state.model.activation, options: ACTIVATIONS,
    onValue: (value) => {
      state.model = { ...state.model, activation: value };
      changed("value");
    } });
  return section("Network",
    h("div", { class: "field" },
      h("label", { for: "net-hidden" }, "Hidden layers"), hidden,
      h("div", { class: "help", id: "net-hidden-help" },
        "Widths, input side first, e.g. 32, 32; empty for a linear model. The output layer is "
        + "linear."),
      hiddenError, errorSlot("task.model.hidden"), errorSlot("task.model")),
    activation);
}

function trainingSection(state, changed) {
  const full = state.batchSize === null;
  const fullToggle = h("div", { class: "field field-check" },
    h("input", { type: "checkbox", id: "net-full-batch", "data-testid": "net-full-batch",
      checked: full,
      onchange: (event) => {
        state.batchSize = event.target.checked ? null : DEFAULT_MINIBATCH;
        changed("structure");
      } }),
    h("label", { for: "net-full-batch",
      title: "Every step on the whole training set, or on a minibatch drawn without "
        + "replacement in a seeded order, a new permutation each epoch" }, "Full batch"));
  const batch = full ? null : schemaField({ name: "batch_size", schema: { type: "integer",
    title: "Batch size", description: "Training points per step (the recorded loss is always "
      + "the whole training set's)." }, value: state.batchSize, loc: "task.batch_size",
  testid: "net-batch-size",
  onValue: (value) => { state.batchSize = Math.max(1, value); changed("value"); } });
  const steps = schemaField({ name: "steps", schema: { type: "integer", title: "Steps",
    description: "Optimizer steps per network." }, value: state.steps, loc: "steps",
  testid: "net-steps", onValue: (value) => { state.steps = value; changed("value"); } });
  const seeds = schemaField({ name: "seeds", schema: { type: "integer", title: "Seeds",
    description: "Networks per series, each from its own initial weights (and minibatch "
      + "order): seeds 0, 1, …" }, value: state.seeds, loc: "seeds", testid: "net-seeds",
  onValue: (value) => { state.seeds = Math.max(1, value); changed("structure"); } });
  return section("Training", fullToggle, batch, errorSlot("task.batch_size"), steps, seeds);
}

// ---- the loss landscape ----

function planeSection(state, changed) {
  const kind = state.plane?.kind ?? "none";
  const picker = selectField({ id: "net-plane", label: "Loss landscape", loc: "plane",
    value: kind,
    options: [{ id: "none", label: "None" },
      ...PLANE_KINDS.map((id) => ({ id, label: PLANE_LABELS[id] }))],
    onValue: (value) => {
      state.plane = value === "none" ? null
        : { kind: value, resolution: state.plane?.resolution ?? DEFAULT_PLANE_RESOLUTION };
      changed("structure");
    },
    help: "After training, the loss on a plane through each row's final weights, with its "
      + "path projected on it." });
  const resolution = state.plane ? schemaField({ name: "resolution", schema: {
    type: "integer", title: "Grid side", description: "Loss evaluations along each direction "
      + "(side × side networks per row)." }, value: state.plane.resolution,
  loc: "plane.resolution", testid: "net-plane-resolution",
  onValue: (value) => {
    state.plane = { ...state.plane, resolution: value };
    changed("value");
  } }) : null;
  return section("Loss landscape", picker, resolution);
}

// ---- series ----

function seriesCard(state, catalogue, optimizers, index, changed) {
  const series = state.series[index];
  const entry = catalogue.optimizers.find((o) => o.id === series.optimizer) ?? optimizers[0];
  const loc = `series.${index}`;
  const optimizerSelect = h("select", { "data-testid": `net-series-optimizer-${index}`,
    "aria-label": `Optimizer of series ${index + 1}`, "data-loc": `${loc}.optimizer`,
    onchange: (event) => {
      const next = catalogue.optimizers.find((o) => o.id === event.target.value);
      // A fan of a hyperparameter the new optimizer also takes as a tensor (lr) stays.
      state.series[index] = { ...series, optimizer: next.id, hparams: { ...next.defaults },
        sweep: keptSweep(series.sweep, next) };
      changed("structure");
    } },
  optimizers.map((o) => h("option", { value: o.id, selected: o.id === series.optimizer,
    title: o.summary }, o.label)));
  const color = h("input", { type: "color", value: series.color, "aria-label": "Colour",
    "data-testid": `net-series-color-${index}`,
    onchange: (event) => { series.color = event.target.value; changed("restyle"); } });
  const label = h("input", { type: "text", value: series.label, placeholder: entry.label,
    "aria-label": "Label", "data-loc": `${loc}.label`,
    onchange: (event) => { series.label = event.target.value; changed("value"); } });
  const remove = h("button", { type: "button", class: "icon",
    "data-testid": `net-series-remove-${index}`, "aria-label": `Remove series ${index + 1}`,
    title: "Remove this series", disabled: state.series.length === 1,
    onclick: () => {
      state.series.splice(index, 1);
      state.shownRow = 0;
      changed("structure");
    } }, "✕");
  const fields = Object.entries(entry.hparams_schema.properties)
    .filter(([name]) => !sweepList(series.sweep).some((sweep) => sweep.param === name))
    .map(([name, schema]) => schemaField({ name, schema,
      value: series.hparams[name] ?? schema.default, loc: `${loc}.hparams.${name}`,
      testid: `net-series-${index}-${name}`,
      onValue: (value) => {
        series.hparams = { ...series.hparams, [name]: value };
        changed("value");
      } }));
  // One swept hyperparameter at most: every row of a network run streams its curves; two
  // sweeps make the 2-D view's phase diagrams of summaries, which this view does not draw.
  const sweeps = sweepEditor(state, catalogue, index, changed);
  if (sweepList(series.sweep).length >= 1) {
    sweeps.querySelector(`[data-testid="series-${index}-sweep-add"]`)?.remove();
  }
  return h("div", { class: "series", "data-testid": "net-series",
    style: `--series-color: ${series.color}` },
  h("div", { class: "series-head" }, color, optimizerSelect, remove),
  h("div", { class: "field" }, label),
  h("p", { class: "summary" }, entry.summary),
  errorSlot(loc), errorSlot(`${loc}.optimizer`), errorSlot(`${loc}.hparams`),
  fanEditor(state, catalogue, index, changed),
  sweeps,
  h("details", { class: "hparams", open: index === 0 && state.series.length === 1 },
    h("summary", {}, "Hyperparameters"), fields));
}

function seriesSection(state, catalogue, changed) {
  const optimizers = catalogue.optimizers.filter(trainsNetworks);
  const add = h("button", { type: "button", "data-testid": "net-add-series",
    onclick: () => {
      const used = new Set(state.series.map((s) => s.optimizer));
      const next = optimizers.find((o) => !used.has(o.id)) ?? optimizers[0];
      state.series.push({ optimizer: next.id, hparams: { ...next.defaults }, label: "",
        color: nextSeriesColor(state.series.map((s) => s.color)), sweep: null });
      changed("structure");
    } }, "+ Add series");
  return section("Series",
    state.series.map((_, index) => seriesCard(state, catalogue, optimizers, index, changed)),
    errorSlot("series"), add);
}

// Replace the sidebar's inputs with ones for `state`. `catalogue`: {tasks, optimizers}.
export function renderNetworkControls(root, state, catalogue, changed) {
  root.replaceChildren(
    taskSection(state, catalogue, changed),
    seriesSection(state, catalogue, changed),
    networkSection(state, changed),
    trainingSection(state, changed),
    planeSection(state, changed),
  );
}
