// The sidebar's controls that change the kind of run: a map over a grid of starts, a series
// swept over one or two hyperparameters (two: a phase diagram), a tuned comparison. Like the
// rest of the sidebar they write into the shared state and report "structure" (re-render the
// inputs, run) or "value" (run); run-kinds.js turns the state into the spec.

import { errorSlot, h, schemaField, section } from "./controls.js";
import {
  DEFAULT_MAP_SIDE, defaultSweepValues, defaultTune, mapOverBox, numericHparams, parseValues,
  sweepFromList, sweepList, TUNE_OBJECTIVES, tuneCandidates, tuningSeeds,
} from "./run-kinds.js";

const MAX_GRID_SIDE = 256;

function checkbox(id, label, checked, onchange, help) {
  return h("div", { class: "field field-check" },
    h("input", { type: "checkbox", id, "data-testid": id, checked, onchange }),
    h("label", { for: id, title: help }, label));
}

function integerField(name, title, value, loc, testid, onValue, description = "") {
  return schemaField({ name, schema: { type: "integer", title, description }, value, loc,
    testid, onValue });
}

function numberField(name, title, value, loc, testid, onValue) {
  return schemaField({ name, schema: { type: "number", title }, value, loc, testid, onValue });
}

// ---- a map over a grid of starts ----

// `viewBox`: the landscape's, the grid's default box.
export function mapSection(state, viewBox, changed) {
  const on = Boolean(state.map);
  const toggle = checkbox("map-toggle", "Map a grid of starts", on, (event) => {
    state.map = event.target.checked ? mapOverBox(viewBox) : null;
    changed("structure");
  }, "Run every series from every start of a grid and draw where each one ends");
  if (!on) {
    return section("Map of starts", toggle, h("p", { class: "help" },
      "One run from each start of a grid, summaries only: heat maps of the final loss, the "
      + "steps to tolerance and the basin each start ends in."));
  }
  const map = state.map;
  const set = (axis, index) => (value) => {
    const next = [...map[axis]];
    next[index] = index === 2 ? Math.min(MAX_GRID_SIDE, Math.max(1, value)) : value;
    state.map = { ...state.map, [axis]: next };
    changed(index === 2 ? "structure" : "value");
  };
  return section("Map of starts", toggle,
    h("div", { class: "pair" },
      integerField("nx", "Starts along x", map.x[2], "starts.grid.x", "map-nx", set("x", 2)),
      integerField("ny", "Starts along y", map.y[2], "starts.grid.y", "map-ny", set("y", 2))),
    h("div", { class: "pair" },
      numberField("x0", "x from", map.x[0], "starts.grid.x.0", "map-x0", set("x", 0)),
      numberField("x1", "x to", map.x[1], "starts.grid.x.1", "map-x1", set("x", 1))),
    h("div", { class: "pair" },
      numberField("y0", "y from", map.y[0], "starts.grid.y.0", "map-y0", set("y", 0)),
      numberField("y1", "y to", map.y[1], "starts.grid.y.1", "map-y1", set("y", 1))),
    h("button", { type: "button", class: "link", "data-testid": "map-reset-box",
      onclick: () => {
        state.map = mapOverBox(viewBox, state.map.x[2]);
        state.map.y[2] = map.y[2];
        changed("structure");
      } }, "Back to the landscape's view box"),
    h("p", { class: "help" }, `Up to ${MAX_GRID_SIDE} × ${MAX_GRID_SIDE} starts; `
      + `${DEFAULT_MAP_SIDE} × ${DEFAULT_MAP_SIDE} draws in about a second. Each cell is the `
      + "median over the seeds."),
    errorSlot("starts"));
}

// ---- a tuned comparison ----

// The hyperparameters every series has (a tuning tunes one of them in every series).
function sharedHparams(state, catalogue) {
  const lists = state.series.map((series) => numericHparams(
    catalogue.optimizers.find((o) => o.id === series.optimizer)?.hparams_schema ?? {}));
  return lists.reduce((shared, names) => shared.filter((name) => names.includes(name)));
}

export function tuneSection(state, catalogue, changed) {
  const on = Boolean(state.tune);
  const toggle = checkbox("tune-toggle", "Tune every series first", on, (event) => {
    state.tune = event.target.checked ? defaultTune() : null;
    changed("structure");
  }, "Pick each series' value from the same candidates on tuning seeds, then show held-out seeds");
  if (!on) {
    return section("Fair comparison", toggle, h("p", { class: "help" },
      "Each series gets the same candidates of one hyperparameter on the same tuning seeds, "
      + "keeps its best, and is shown on the run's own seeds, which the choice never saw."));
  }
  const tune = state.tune;
  const update = (patch, kind = "value") => {
    state.tune = { ...state.tune, ...patch };
    changed(kind);
  };
  const params = sharedHparams(state, catalogue);
  const param = h("select", { id: "tune-param", "data-testid": "tune-param", "data-loc": "tune.param",
    onchange: (event) => update({ param: event.target.value }) },
  (params.includes(tune.param) ? params : [tune.param, ...params])
    .map((name) => h("option", { value: name, selected: name === tune.param }, name)));
  const objective = h("select", { id: "tune-objective", "data-testid": "tune-objective",
    onchange: (event) => update({ objective: event.target.value }) },
  Object.entries(TUNE_OBJECTIVES).map(([value, label]) => h("option",
    { value, selected: value === tune.objective }, label)));
  let candidates;
  if (tune.grid) {
    const setGrid = (index) => (value) => {
      const grid = [...state.tune.grid];
      grid[index] = value;
      update({ grid });
    };
    candidates = [
      h("div", { class: "pair" },
        numberField("lo", "Lowest candidate", tune.grid[0], "tune.grid", "tune-lo", setGrid(0)),
        numberField("hi", "Highest candidate", tune.grid[1], "tune.grid", "tune-hi", setGrid(1))),
      integerField("count", "Candidates (log-spaced)", tune.grid[2], "tune.grid", "tune-count",
        setGrid(2)),
    ];
  } else {
    const error = h("div", { class: "field-error", role: "alert" });
    candidates = [h("div", { class: "field" },
      h("label", { for: "tune-values" }, "Candidates"),
      h("input", { type: "text", id: "tune-values", "data-testid": "tune-values",
        "data-loc": "tune.values", value: tune.values.join(", "), spellcheck: "false",
        onchange: (event) => {
          const parsed = parseValues(event.target.value);
          error.textContent = parsed.error ?? "";
          if (!parsed.error) update({ values: parsed.values });
        } }), error, errorSlot("tune.values"))];
  }
  const seeds = integerField("tuning-seeds", "Tuning seeds", (tune.seeds ?? tuningSeeds(4)).length,
    "tune.seeds", "tune-seeds", (value) => update({ seeds: tuningSeeds(Math.max(1, value)) }),
    `Seeds ${tuningSeeds(1)[0]}, ${tuningSeeds(2)[1]}, …: never the run's own.`);
  const count = tuneCandidates(tune).length;
  return section("Fair comparison", toggle,
    h("div", { class: "field" }, h("label", { for: "tune-param" }, "Tune"), param,
      errorSlot("tune.param")),
    h("div", { class: "field" }, h("label", { for: "tune-objective" }, "by the median"),
      objective),
    ...candidates, errorSlot("tune.grid"), seeds,
    h("p", { class: "help", "data-testid": "tune-budget" },
      `Every series: ${count} candidates × ${(tune.seeds ?? tuningSeeds(4)).length} tuning `
      + `seeds × the starts, then the run's ${state.seeds} held-out seed`
      + `${state.seeds === 1 ? "" : "s"}. A tuned series sweeps nothing.`),
    errorSlot("tune"));
}

// ---- sweeps of one or two hyperparameters, in a series card ----

let uid = 0;

// The sweep part of series `index`'s card: each swept hyperparameter with its values, and the
// buttons that add a first or a second one (two make a phase diagram).
export function sweepEditor(state, catalogue, index, changed) {
  const series = state.series[index];
  const schema = catalogue.optimizers.find((o) => o.id === series.optimizer).hparams_schema;
  const properties = schema.properties ?? {};
  const names = numericHparams(schema);
  const sweeps = sweepList(series.sweep);
  const loc = `series.${index}.sweep`;
  const setSweeps = (next, kind) => {
    series.sweep = sweepFromList(next);
    changed(kind);
  };
  const newSweep = (taken) => {
    const order = ["lr", "gamma", ...names];
    const param = order.find((name) => names.includes(name) && !taken.includes(name));
    return param ? { param, values: defaultSweepValues(properties[param],
      series.hparams[param] ?? properties[param].default) } : null;
  };
  const blocks = sweeps.map((sweep, k) => {
    const id = `sweep-${++uid}`;
    const place = sweeps.length === 1 ? loc : `${loc}.${k}`;
    const suffix = k === 0 ? "" : `-${k}`;
    const error = h("div", { class: "field-error", role: "alert", id: `${id}-error`,
      "data-testid": `series-${index}-sweep${suffix}-error` });
    const paramSelect = h("select", { "aria-label": `Swept hyperparameter ${k + 1}`,
      "data-testid": `series-${index}-sweep-param${suffix}`,
      onchange: (event) => {
        const param = event.target.value;
        const next = [...sweeps];
        next[k] = { param, values: defaultSweepValues(properties[param],
          series.hparams[param] ?? properties[param].default) };
        setSweeps(next, "structure");
      } },
    names.filter((name) => name === sweep.param || !sweeps.some((s) => s.param === name))
      .map((name) => h("option", { value: name, selected: name === sweep.param }, name)));
    const values = h("input", { type: "text", id, value: sweep.values.join(", "),
      "data-loc": `${place}.values`, "data-testid": `series-${index}-sweep${suffix}`,
      spellcheck: "false", autocomplete: "off", "aria-describedby": `${id}-help ${id}-error`,
      onchange: (event) => {
        // A bad entry is said next to the box (in a slot of its own, which the server's
        // answers to later runs do not clear) and starts no run.
        const parsed = parseValues(event.target.value);
        error.textContent = parsed.error ?? "";
        event.target.classList.toggle("invalid-entry", Boolean(parsed.error));
        event.target.setAttribute("aria-invalid", String(Boolean(parsed.error)));
        if (parsed.error) return;
        const next = [...sweeps];
        next[k] = { ...sweep, values: parsed.values };
        // A range typed as lo:hi:count is shown as the values it made.
        event.target.value = parsed.values.join(", ");
        setSweeps(next, "value");
      } });
    const remove = h("button", { type: "button", class: "icon",
      "data-testid": `series-${index}-sweep-remove${suffix}`,
      "aria-label": `Stop sweeping ${sweep.param}`, title: `Stop sweeping ${sweep.param}`,
      onclick: () => setSweeps(sweeps.filter((_, j) => j !== k), "structure") }, "✕");
    // In a phase diagram the first sweep runs up the y axis, the second across.
    const role = sweeps.length === 2 ? (k === 0 ? "y axis" : "x axis")
      : "swept over";
    return h("div", { class: "field sweep-field" },
      h("div", { class: "sweep-head" }, h("label", { for: id }, paramSelect, role), remove),
      values,
      h("div", { class: "help", id: `${id}-help` }, k === 0 && sweeps.length === 1
        ? "Comma-separated (one trajectory per value), or lo:hi:count[:log]."
        : "Comma-separated, or lo:hi:count[:log]."),
      error, errorSlot(`${place}.values`), errorSlot(place));
  });
  const next = sweeps.length < 2 ? newSweep(sweeps.map((s) => s.param)) : null;
  const add = next ? h("button", { type: "button", class: "link",
    "data-testid": `series-${index}-sweep-add`,
    title: sweeps.length ? "Sweep a second hyperparameter: every pair of values, drawn as a "
      + "phase diagram" : "Run this series once per value of a hyperparameter",
    onclick: () => setSweeps([...sweeps, next], "structure") },
  sweeps.length ? "+ Second hyperparameter (phase diagram)" : "+ Sweep a hyperparameter") : null;
  const note = sweeps.length === 2 ? h("p", { class: "help" },
    "Two swept hyperparameters: the run sends summaries only and draws a phase diagram.") : null;
  return h("div", { class: "sweeps" }, ...blocks, note, add, errorSlot(loc));
}
