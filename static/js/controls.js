// The sidebar's inputs, generated from the API's registries and JSON Schemas: no optimizer or
// landscape is named here. Inputs write into the shared state and report what changed:
// "surface" (the landscape: redraw it, then run), "structure" (re-render the inputs, run) or
// "value" (run).

import { nextSeriesColor } from "./colors.js";
import { fanEditor } from "./fan-controls.js";
import { keptSweep } from "./fan.js";
import { mapSection, sweepEditor, tuneSection } from "./kind-controls.js";
import { sweepList } from "./run-kinds.js";
import { EXPRESSION_VIEW_BOX } from "./state.js";

const EXPRESSION_OPTION = "__expression__";

// A DOM element: h("label", {class: "x", "data-testid": "y"}, child, ...).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "value") element.value = value;
    else if (name === "checked") element.checked = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

// Shortest text that keeps a value's meaning: 0.001 -> "1e-3", 0.9 -> "0.9".
export function formatNumber(value) {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e5) return value.toExponential();
  return String(Number(value.toPrecision(6)));
}

function parseNumber(text) {
  const trimmed = text.trim();
  return trimmed === "" ? Number.NaN : Number(trimmed);
}

export function errorSlot(loc) {
  return h("div", { class: "field-error", role: "alert", "data-error-for": loc });
}

function describe(schema) {
  return schema.description ?? "";
}

function titleOf(name, schema) {
  return schema.title ?? name;
}

// The log10 range of a log-scale slider from the schema's bounds.
function logBounds(schema) {
  const lowerBound = schema.minimum > 0 ? schema.minimum : 1e-8;
  const upperBound = schema.maximum ?? 10;
  return [Math.max(-12, Math.floor(Math.log10(lowerBound))),
    Math.min(3, Math.ceil(Math.log10(upperBound)))];
}

// One input for one schema property. `onValue(value)` is called with valid numbers/booleans.
export function schemaField({ name, schema, value, loc, onValue, testid }) {
  const id = nextId("field");
  const label = h("label", { for: id, title: describe(schema) }, titleOf(name, schema));
  if (schema.type === "boolean") {
    const box = h("input", { type: "checkbox", id, checked: Boolean(value), "data-loc": loc,
      "data-testid": testid, onchange: (e) => onValue(e.target.checked) });
    return h("div", { class: "field field-check" }, box, label, errorSlot(loc));
  }
  const integer = schema.type === "integer";
  const text = h("input", {
    type: "text", inputmode: "decimal", id, value: formatNumber(value), "data-loc": loc,
    "data-testid": testid, spellcheck: "false", autocomplete: "off",
    "aria-describedby": `${id}-help`,
  });
  const field = h("div", { class: "field" }, label);
  let slider = null;
  if (schema.log_scale) {
    const [low, high] = logBounds(schema);
    slider = h("input", { type: "range", min: low, max: high, step: 0.05,
      value: Math.log10(Math.max(value, 10 ** low)), "aria-label": `${titleOf(name, schema)} (log scale)`,
      tabindex: "-1" });
    slider.addEventListener("input", () => {
      const next = Number((10 ** Number(slider.value)).toPrecision(2));
      text.value = formatNumber(next);
      commit(next);
    });
  }
  const error = errorSlot(loc);
  function commit(number) {
    error.textContent = "";
    text.classList.remove("invalid");
    onValue(number);
  }
  text.addEventListener("change", () => {
    const number = parseNumber(text.value);
    if (!Number.isFinite(number) || (integer && !Number.isInteger(number))) {
      error.textContent = integer ? "Enter a whole number." : "Enter a number, e.g. 0.01 or 1e-3.";
      text.classList.add("invalid");
      return;
    }
    if (slider) slider.value = Math.log10(Math.max(number, 10 ** Number(slider.min)));
    commit(number);
  });
  field.append(slider ? h("div", { class: "log-input" }, slider, text) : text);
  field.append(h("div", { class: "help", id: `${id}-help` }, describe(schema)), error);
  return field;
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

// ---- landscape ----

function landscapeSection(state, catalogue, changed) {
  const isExpression = state.landscape.expression !== undefined;
  const select = h("select", { id: "landscape", "data-testid": "landscape",
    "data-loc": "landscape",
    onchange: (e) => {
      if (e.target.value === EXPRESSION_OPTION) {
        state.landscape = { expression: "x**2 + 3*y**2" };
        state.start = [-2, 2];
      } else {
        const entry = catalogue.landscapes.find((l) => l.id === e.target.value);
        state.landscape = { id: entry.id, params: { ...entry.params } };
        state.start = [...entry.default_start];
      }
      // A map covers the new landscape's view box, at the same number of starts.
      if (state.map) {
        const box = e.target.value === EXPRESSION_OPTION ? EXPRESSION_VIEW_BOX
          : catalogue.landscapes.find((l) => l.id === e.target.value).view_box;
        state.map = { x: [...box[0], state.map.x[2]], y: [...box[1], state.map.y[2]] };
      }
      changed("surface", "structure");
    } },
  catalogue.landscapes.map((l) => h("option", { value: l.id, selected: l.id === state.landscape.id },
    l.label)),
  h("option", { value: EXPRESSION_OPTION, selected: isExpression }, "Typed function f(x, y)…"));
  const body = [h("div", { class: "field" }, h("label", { for: "landscape" }, "Function"), select,
    errorSlot("landscape"))];
  if (isExpression) {
    const input = h("input", { type: "text", id: "expression", "data-testid": "expression",
      "data-loc": "landscape.expression", value: state.landscape.expression, spellcheck: "false",
      autocomplete: "off", "aria-describedby": "expression-help" });
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        state.landscape = { expression: input.value };
        changed("surface");
      }, 350);
    });
    const [[x0, x1], [y0, y1]] = EXPRESSION_VIEW_BOX;
    body.push(h("div", { class: "field" },
      h("label", { for: "expression" }, "f(x, y) ="), input,
      h("div", { class: "help", id: "expression-help" },
        `Python-like syntax: + - * / ** and sin, cos, exp, log, sqrt, abs… on x in [${x0}, ${x1}], `
        + `y in [${y0}, ${y1}].`),
      h("div", { class: "field-error", role: "alert", "data-testid": "expression-error",
        "data-error-for": "landscape.expression" })));
  } else {
    const entry = catalogue.landscapes.find((l) => l.id === state.landscape.id);
    const properties = entry.params_schema.properties ?? {};
    for (const [name, schema] of Object.entries(properties)) {
      body.push(schemaField({ name, schema, value: state.landscape.params?.[name] ?? schema.default,
        loc: `landscape.params.${name}`,
        onValue: (value) => {
          state.landscape.params = { ...state.landscape.params, [name]: value };
          changed("surface");
        } }));
    }
    body.push(h("p", { class: "note" }, entry.note));
  }
  return section("Landscape", ...body);
}

// ---- start, steps, clipping ----

function runSection(state, changed) {
  const start = state.start ?? [0, 0];
  const coordinate = (axis, index) => schemaField({
    name: axis, schema: { type: "number", title: `start ${axis}` }, value: start[index],
    loc: "start", testid: `start-${axis}`,
    onValue: (value) => {
      const next = [...(state.start ?? start)];
      next[index] = value;
      state.start = next;
      changed("start");
    },
  });
  const steps = schemaField({ name: "steps", schema: { type: "integer", title: "Steps",
    description: "Optimizer steps per trajectory." }, value: state.steps, loc: "steps",
  testid: "steps", onValue: (value) => { state.steps = value; changed("value"); } });
  const clipOn = state.clip !== null;
  const clipToggle = h("div", { class: "field field-check" },
    h("input", { type: "checkbox", id: "clip-toggle", "data-testid": "clip-toggle",
      checked: clipOn,
      onchange: (e) => { state.clip = e.target.checked ? 1.0 : null; changed("structure"); } }),
    h("label", { for: "clip-toggle" }, "Clip the gradient norm"));
  const clipValue = clipOn ? schemaField({ name: "clip", schema: { type: "number",
    title: "Largest gradient norm", exclusiveMinimum: 0, log_scale: true, minimum: 1e-3,
    maximum: 1e4 }, value: state.clip, loc: "clip_grad_norm", testid: "clip-value",
  onValue: (value) => { state.clip = value; changed("value"); } }) : null;
  return section("Run",
    h("div", { class: "pair" }, coordinate("x", 0), coordinate("y", 1)),
    h("p", { class: "help" }, "Or click the contour to start there."),
    steps, clipToggle, clipValue);
}

// ---- noise and seeds ----

function noiseSection(state, catalogue, changed) {
  const { oneOf, $defs } = catalogue.noiseModels;
  const models = oneOf.map((ref) => $defs[ref.$ref.split("/").pop()]);
  const kindOf = (model) => model.properties.kind.const;
  const select = h("select", { id: "noise-kind", "data-testid": "noise-kind", "data-loc": "noise",
    onchange: (e) => {
      const model = models.find((m) => kindOf(m) === e.target.value);
      const defaults = Object.fromEntries(Object.entries(model.properties)
        .map(([name, schema]) => [name, schema.default]));
      state.noise = { ...defaults, kind: e.target.value };
      if (e.target.value !== "none" && state.seeds === 1) state.seeds = 8;
      changed("structure");
    } },
  models.map((model) => h("option", { value: kindOf(model), selected: kindOf(model) === state.noise.kind,
    title: model.description }, model.title.replace(/Noise$/, "") || kindOf(model))));
  const model = models.find((m) => kindOf(m) === state.noise.kind);
  const fields = Object.entries(model.properties).filter(([name]) => name !== "kind")
    .map(([name, schema]) => schemaField({ name, schema, value: state.noise[name] ?? schema.default,
      loc: `noise.${state.noise.kind}.${name}`,
      onValue: (value) => { state.noise = { ...state.noise, [name]: value }; changed("value"); } }));
  const seeds = schemaField({ name: "seeds", schema: { type: "integer", title: "Seeds",
    description: "Trajectories per series, each with its own noise (seeds 0, 1, …)." },
  value: state.seeds, loc: "seeds", testid: "seeds",
  onValue: (value) => { state.seeds = Math.max(1, value); changed("structure"); } });
  return section("Gradient noise",
    h("div", { class: "field" }, h("label", { for: "noise-kind" }, "Model"), select,
      h("div", { class: "help" }, model.description), errorSlot("noise")),
    ...fields, seeds);
}

// ---- series ----

function seriesCard(state, catalogue, index, changed) {
  const series = state.series[index];
  const entry = catalogue.optimizers.find((o) => o.id === series.optimizer);
  const loc = `series.${index}`;
  const optimizerSelect = h("select", { "data-testid": `series-optimizer-${index}`,
    "aria-label": `Optimizer of series ${index + 1}`, "data-loc": `${loc}.optimizer`,
    onchange: (e) => {
      const next = catalogue.optimizers.find((o) => o.id === e.target.value);
      // A fan of a hyperparameter the new optimizer also takes as a tensor (lr) stays.
      state.series[index] = { ...series, optimizer: next.id, hparams: { ...next.defaults },
        sweep: keptSweep(series.sweep, next) };
      changed("structure");
    } },
  catalogue.optimizers.map((o) => h("option", { value: o.id, selected: o.id === series.optimizer,
    title: o.summary }, o.label)));
  const color = h("input", { type: "color", value: series.color, "aria-label": "Colour",
    "data-testid": `series-color-${index}`,
    onchange: (e) => { series.color = e.target.value; changed("restyle"); } });
  const label = h("input", { type: "text", value: series.label, placeholder: entry.label,
    "aria-label": "Label", "data-loc": `${loc}.label`,
    onchange: (e) => { series.label = e.target.value; changed("value"); } });
  const remove = h("button", { type: "button", class: "icon", "data-testid": `series-remove-${index}`,
    "aria-label": `Remove series ${index + 1}`, title: "Remove this series",
    disabled: state.series.length === 1,
    onclick: () => { state.series.splice(index, 1); changed("structure"); } }, "✕");
  const fields = Object.entries(entry.hparams_schema.properties)
    .filter(([name]) => !sweepList(series.sweep).some((sweep) => sweep.param === name))
    .map(([name, schema]) => schemaField({ name, schema,
      value: series.hparams[name] ?? schema.default, loc: `${loc}.hparams.${name}`,
      testid: `series-${index}-${name}`,
      onValue: (value) => { series.hparams = { ...series.hparams, [name]: value }; changed("value"); } }));
  // One or two swept hyperparameters, and the buttons that add them (kind-controls.js).
  const sweep = sweepEditor(state, catalogue, index, changed);
  return h("div", { class: "series", "data-testid": "series", style: `--series-color: ${series.color}` },
    h("div", { class: "series-head" }, color, optimizerSelect, remove),
    h("div", { class: "field" }, label),
    h("p", { class: "summary" }, entry.summary),
    errorSlot(loc), errorSlot(`${loc}.optimizer`), errorSlot(`${loc}.hparams`),
    fanEditor(state, catalogue, index, changed),
    sweep,
    h("details", { class: "hparams", open: index === 0 && state.series.length === 1 },
      h("summary", {}, "Hyperparameters"), fields));
}

function seriesSection(state, catalogue, changed) {
  const add = h("button", { type: "button", "data-testid": "add-series",
    onclick: () => {
      const used = new Set(state.series.map((s) => s.optimizer));
      const next = catalogue.optimizers.find((o) => !used.has(o.id)) ?? catalogue.optimizers[0];
      state.series.push({ optimizer: next.id, hparams: { ...next.defaults }, label: "",
        color: nextSeriesColor(state.series.map((s) => s.color)), sweep: null });
      changed("structure");
    } }, "+ Add series");
  return section("Series",
    state.series.map((_, index) => seriesCard(state, catalogue, index, changed)),
    errorSlot("series"), add);
}

// Replace the sidebar's inputs with ones for `state`.
export function renderControls(root, state, catalogue, changed) {
  root.replaceChildren(
    landscapeSection(state, catalogue, changed),
    seriesSection(state, catalogue, changed),
    runSection(state, changed),
    mapSection(state, state.landscape.expression !== undefined ? EXPRESSION_VIEW_BOX
      : catalogue.landscapes.find((l) => l.id === state.landscape.id).view_box, changed),
    tuneSection(state, catalogue, changed),
    noiseSection(state, catalogue, changed),
  );
}

// Show each API problem next to the field it names (the longest `data-error-for` prefix of its
// location); what matches no field goes to `fallback`.
export function showProblems(root, problems, fallback) {
  clearProblems(root);
  const unplaced = [];
  for (const { loc, message } of problems) {
    const parts = loc.split(".");
    let slot = null;
    for (let n = parts.length; n > 0 && !slot; n--) {
      slot = root.querySelector(`[data-error-for="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    }
    if (slot) {
      slot.textContent = message;
      slot.closest("details")?.setAttribute("open", "");
      const input = slot.parentElement.querySelector("[data-loc]");
      input?.classList.add("invalid");
    } else {
      unplaced.push(loc ? `${loc}: ${message}` : message);
    }
  }
  fallback(unplaced.join("\n"));
}

export function clearProblems(root) {
  for (const slot of root.querySelectorAll("[data-error-for]")) slot.textContent = "";
  for (const input of root.querySelectorAll(".invalid")) input.classList.remove("invalid");
}
