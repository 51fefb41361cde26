// The Networks view: optimizers training small MLPs on generated 2-D tasks (GET /api/tasks),
// streamed and drawn as they train. It owns the page while the view switch says "Networks"
// (its own sidebar, presets, actions and plots; the 2-D view's are hidden and idle), and its
// whole state lives in the URL fragment as `#network=...` (networks-state.js), so a permalink
// opens the same network run. main.js starts it with `initNetworks` and is told when to stop
// and restart the 2-D view.

import * as api from "./api.js";
import { viridis } from "./colors.js";
import { clearProblems, h, showProblems } from "./controls.js";
import { download, reproducibilityRecord } from "./export.js";
import {
  fanFraction, fanFromValues, fanSeriesIndex, formatFanValue, paramSymbol,
} from "./fan.js";
import { renderNetworkControls } from "./networks-controls.js";
import {
  addNetworkChunk, addPlane, addSnapshot, finishNetworkRun, networkRunToCsv, networkRunToJson,
  newNetworkRun,
} from "./networks-data.js";
import {
  appendNetworkPoints, drawPlane, finishNetworkPlots, highlightNetworkRow, initNetworkPlots,
  initSnapshotSlider, networkPlotsSettled, restyleNetworkRun, setPlaneView, showNetworkRow,
  snapshotArrived, startNetworkRun,
} from "./networks-plots.js";
import {
  decodeNetworkFragment, defaultNetworkState, encodeNetworkFragment, isNetworkFragment,
  isNetworkModified, isNetworkPreset, PLANE_VIEWS, stateFromNetworkPreset, toNetworkRunSpec,
} from "./networks-state.js";
import { decodeFragment } from "./state.js";

// As the 2-D view: changes settle this long before a run starts; progress shows after a blink.
const RUN_DEBOUNCE_MS = 350;
const PROGRESS_DELAY_MS = 150;
// Points per row the server sends when a spec does not say (engine/network_spec.py max_points).
const SERVER_MAX_POINTS = 2001;

const VIEWS = { landscapes: "landscapes", networks: "networks" };

let view = VIEWS.landscapes;
let hooks = null;
// {tasks: GET /api/tasks, optimizers: GET /api/optimizers}, and the network presets.
let catalogue = null;
let presets = [];
let tasksPromise = null;
let state = null;
let run = null;
let runSpec = null;
let runController = null;
let runTimer = 0;
let progressTimer = 0;
let ui = null;

const byTestId = (root, testid) => root.querySelector(`[data-testid="${testid}"]`);

// ---- the view's DOM: actions in the top bar, a sidebar and plots beside the 2-D layout ----

function buildTopbar() {
  const menu = h("select", { id: "net-preset", "data-testid": "net-preset" });
  const picker = h("div", { class: "preset-picker net-only" },
    h("label", { for: "net-preset" }, "Preset"), menu);
  const actions = h("div", { class: "actions net-only" },
    h("button", { type: "button", class: "primary", "data-testid": "net-run",
      title: "Run again (runs also start by themselves after every change)" }, "Run"),
    h("button", { type: "button", "data-testid": "net-cancel", hidden: true }, "Cancel"),
    h("button", { type: "button", "data-testid": "net-permalink",
      title: "Copy a link that opens this exact network run" }, "Copy link"),
    h("button", { type: "button", "data-testid": "net-export-csv", disabled: true,
      title: "Every recorded step of every network as CSV" }, "CSV"),
    h("button", { type: "button", "data-testid": "net-export-json", disabled: true,
      title: "Every recorded step, the summaries and loss planes, with a reproducibility record" },
    "JSON"));
  return [picker, actions];
}

function buildLayout() {
  const plot = (testid, extra = {}) => h("div", { class: "plot", "data-testid": testid, ...extra });
  const table = h("table", { class: "results", "data-testid": "net-results" },
    h("caption", {}, "Results ", h("span", { class: "unit", "data-testid": "net-results-unit" })),
    h("thead"), h("tbody"));
  return h("div", { class: "layout net-layout", "data-testid": "networks" },
    h("aside", { class: "sidebar", "data-testid": "net-controls",
      "aria-label": "Network run settings" }),
    h("main", { class: "main" },
      h("section", { class: "narration", "data-testid": "net-narration", hidden: true,
        "aria-label": "About this preset" },
      h("div", { class: "narration-head" },
        h("strong", { class: "narration-title", "data-testid": "net-narration-title" }),
        h("span", { class: "badge", "data-testid": "net-narration-modified" }, "modified"),
        h("button", { type: "button", class: "link", "data-testid": "net-narration-restore",
          title: "Load the preset again as it was, dropping the edits" }, "Back to the preset"),
        h("button", { type: "button", class: "link", "data-testid": "net-narration-toggle",
          "aria-controls": "net-narration-text" }, "Hide narration")),
      h("p", { id: "net-narration-text", "data-testid": "net-narration-text" })),
      h("div", { class: "status-line" },
        h("progress", { "data-testid": "net-progress", max: "1", value: "0", hidden: true }),
        h("span", { "data-testid": "net-status", role: "status", "aria-live": "polite" })),
      h("div", { class: "error-banner", "data-testid": "net-error", role: "alert", hidden: true }),
      h("div", { class: "net-plots", "data-testid": "net-plots" },
        h("div", { class: "stale-label", "data-testid": "net-stale", role: "status",
          hidden: true }),
        // Which network the decision boundary and the loss landscape show, and when.
        h("div", { class: "net-toolbar" },
          h("label", { for: "net-shown-row" }, "Network shown"),
          h("select", { id: "net-shown-row", "data-testid": "net-shown-row" }),
          // A fan's networks, one by one along its values: the one shown stands out.
          h("span", { class: "net-fan", "data-testid": "net-fan", hidden: true },
            h("label", { for: "net-fan-slider", "data-testid": "net-fan-label" }),
            h("input", { id: "net-fan-slider", "data-testid": "net-fan-slider", type: "range",
              min: "0", max: "0", step: "1", value: "0" }),
            h("output", { "data-testid": "net-fan-value", for: "net-fan-slider" })),
          h("label", { for: "net-snapshot-slider" }, "Snapshot"),
          h("input", { id: "net-snapshot-slider", "data-testid": "net-snapshot-slider",
            type: "range", min: "0", max: "0", step: "1", value: "0" }),
          h("output", { "data-testid": "net-snapshot-step", for: "net-snapshot-slider" })),
        plot("net-plot-loss"),
        plot("net-plot-boundary"),
        plot("net-plot-accuracy"),
        plot("net-plot-grad-norm"),
        h("div", { class: "net-plane-box", "data-plane-box": "", hidden: true },
          h("div", { class: "net-plane-view", role: "radiogroup",
            "aria-label": "Draw the loss landscape as" },
          ...PLANE_VIEWS.map((name) => h("label", {},
            h("input", { type: "radio", name: "net-plane-view", value: name,
              "data-testid": `net-plane-view-${name}` }),
            name === "surface" ? "3-D surface" : "Contour"))),
          plot("net-plot-plane")),
        h("div", { class: "net-results-box" }, table)),
      h("footer", { class: "caveat" },
        h("span", {}, "Small networks on generated 2-D data train in seconds, which makes them "
          + "good for seeing how optimizers differ; they are not a benchmark of large-scale "
          + "training."))));
}

// ---- status, errors, progress ----

function setStatus(text) {
  byTestId(ui.layout, "net-status").textContent = text;
}

function setError(text) {
  const banner = byTestId(ui.layout, "net-error");
  banner.textContent = text;
  banner.hidden = !text;
}

function setStale(reason) {
  byTestId(ui.layout, "net-plots").classList.toggle("stale", Boolean(reason));
  const label = byTestId(ui.layout, "net-stale");
  label.textContent = reason ? `stale: ${reason}` : "";
  label.hidden = !reason;
}

function setBusy(busy) {
  clearTimeout(progressTimer);
  const progress = byTestId(ui.layout, "net-progress");
  byTestId(document, "net-cancel").hidden = !busy;
  if (busy) progressTimer = setTimeout(() => { progress.hidden = false; }, PROGRESS_DELAY_MS);
  else progress.hidden = true;
  for (const id of ["net-export-csv", "net-export-json"]) {
    byTestId(document, id).disabled = busy || !run?.done;
  }
}

function setProgress(done, total) {
  byTestId(ui.layout, "net-progress").value = total ? done / total : 0;
  setStatus(`Step ${done} of ${total}…`);
}

// ---- the switch ----

function showView(next) {
  view = next;
  const networks = next === VIEWS.networks;
  document.body.classList.toggle("view-networks", networks);
  byTestId(document, "view-landscapes")?.setAttribute("aria-pressed", String(!networks));
  byTestId(document, "view-networks")?.setAttribute("aria-pressed", String(networks));
  document.title = networks ? "Optiscope: optimizers training small networks"
    : "Optiscope: optimizers on 2-D landscapes";
  const tagline = document.querySelector(".topbar .tagline");
  if (tagline) {
    tagline.dataset.landscapes ??= tagline.textContent;
    tagline.textContent = networks ? "Real PyTorch optimizers training small networks"
      : tagline.dataset.landscapes;
  }
}

// The tasks, fetched once (the first time the view is shown).
function loadTasks() {
  tasksPromise ??= api.getJSON("/api/tasks").then((tasks) => {
    if (!Array.isArray(tasks) || !tasks.length) throw new Error("the server lists no tasks");
    catalogue.tasks = tasks;
    return tasks;
  });
  return tasksPromise;
}

// A state the server's tasks can run: its task must exist (an old permalink may name one
// that is gone: the first task's defaults then).
function usableState(candidate) {
  if (candidate && catalogue.tasks.some((task) => task.id === candidate.task.id)) return candidate;
  const preset = presets[0];
  return preset ? stateFromNetworkPreset(preset) : defaultNetworkState(catalogue.tasks,
    catalogue.optimizers);
}

// Show the Networks view with `next` (a state) or, without one, the state it had last (else
// its first preset); the 2-D view stops.
async function enterNetworks(next = null) {
  build();
  if (view !== VIEWS.networks) {
    hooks.hideLandscapes();
    showView(VIEWS.networks);
  }
  try {
    await loadTasks();
  } catch (error) {
    tasksPromise = null; // a later visit asks again
    setError(`Could not load the network tasks from the server: ${error.message}`);
    setStatus("");
    return;
  }
  if (view !== VIEWS.networks) return;
  loadNetworkState(usableState(next ?? state));
}

function leaveNetworks({ load = true } = {}) {
  if (view !== VIEWS.networks) return;
  clearTimeout(runTimer);
  runController?.abort();
  showView(VIEWS.landscapes);
  if (load) hooks.showLandscapes();
}

// ---- state and URL ----

function writeUrl() {
  history.replaceState(null, "", encodeNetworkFragment(state));
}

function loadNetworkState(next) {
  state = next;
  runController?.abort();
  syncPresetMenu();
  syncPlaneView();
  renderNetworkControls(byTestId(ui.layout, "net-controls"), state, catalogue, changed);
  writeUrl();
  startRun();
}

// An edit: the state stays tied to its preset (marked modified), lands in the URL and runs.
function changed(...kinds) {
  syncPresetMenu();
  writeUrl();
  if (kinds.includes("structure")) {
    renderNetworkControls(byTestId(ui.layout, "net-controls"), state, catalogue, changed);
  }
  if (kinds.includes("restyle")) {
    restyleNetworkRun(rowStyle());
    renderResults();
    return;
  }
  clearTimeout(runTimer);
  runTimer = setTimeout(startRun, RUN_DEBOUNCE_MS);
}

// ---- how rows look: their series' colour, or their value's in a fan (viridis) ----

function rowStyle() {
  const fan = fanSeriesIndex(state.series, catalogue.optimizers);
  const sweep = state.series[fan]?.sweep;
  const entry = catalogue.optimizers.find((o) => o.id === state.series[fan]?.optimizer);
  const scale = sweep && (entry?.hparams_schema?.properties?.[sweep.param]?.log_scale ? "log"
    : fanFromValues(sweep.values).scale);
  const sweptValue = (row) => {
    const param = state.series[row.series]?.sweep?.param;
    return param ? row.hparams[param] : "";
  };
  return {
    color: (row) => (row.series === fan && sweep
      ? viridis(fanFraction(row.hparams[sweep.param], sweep.values, scale))
      : state.series[row.series]?.color ?? "#52606d"),
    name: (row) => (state.seeds > 1 ? `${row.label} · seed ${row.seed}` : row.label),
    legendName: (row) => row.label,
    inLegend: (row) => row.seed === run?.meta.rows[0]?.seed,
    group: (row) => `${row.series}|${sweptValue(row)}`,
  };
}

// ---- runs ----

function showApiError(error) {
  if (!(error instanceof api.ApiError)) {
    setError(`Could not reach the server: ${error.message}`);
    setStatus("The run failed.");
    return;
  }
  showProblems(byTestId(ui.layout, "net-controls"), error.problems, setError);
  setStatus(error.status === 422 ? "Fix the highlighted field to run." : "The run failed.");
}

function renderRowPicker() {
  const select = byTestId(ui.layout, "net-shown-row");
  const rows = run?.rows ?? [];
  const shown = Math.min(state.shownRow ?? 0, Math.max(0, rows.length - 1));
  select.replaceChildren(...rows.map((row) => h("option", { value: String(row.row),
    selected: row.row === shown }, `${row.label} · seed ${row.seed}`)));
  select.disabled = rows.length < 2;
  return shown;
}

// ---- a fan's slider: which of its networks is shown ----

// The run's fan (the series sweeping a hyperparameter the page fans, that hyperparameter and
// its values), or null.
function runFan() {
  if (!run || !runSpec) return null;
  const series = fanSeriesIndex(runSpec.series, catalogue.optimizers);
  if (series < 0) return null;
  const { param, values } = runSpec.series[series].sweep;
  return { series, param, values };
}

// The fan's network at value `index`, of seed `seed` where it has one.
function fanRow(fan, index, seed) {
  const members = run.rows.filter((row) => row.series === fan.series
    && row.hparams[fan.param] === fan.values[index]);
  return members.find((row) => row.seed === seed) ?? members[0] ?? null;
}

// The slider over the fan's values at the shown network (hidden when the run has no fan), and
// that network's curves standing out.
function renderFanSlider(shownRow) {
  const box = byTestId(ui.layout, "net-fan");
  const fan = runFan();
  box.hidden = !fan;
  highlightNetworkRow(fan ? shownRow : null);
  if (!fan) return;
  const row = run.rows[shownRow];
  const at = row?.series === fan.series ? fan.values.indexOf(row.hparams[fan.param]) : -1;
  const slider = byTestId(box, "net-fan-slider");
  slider.max = String(fan.values.length - 1);
  slider.value = String(Math.max(at, 0));
  byTestId(box, "net-fan-label").textContent = paramSymbol(fan.param);
  byTestId(box, "net-fan-value").textContent = at >= 0 ? formatFanValue(fan.values[at]) : "—";
}

// Show network `row`: its boundary, its plane, its curves standing out in a fan.
function showRow(row) {
  state.shownRow = row;
  byTestId(ui.layout, "net-shown-row").value = String(row);
  writeUrl();
  showNetworkRow(row);
  renderFanSlider(row);
}

async function startRun() {
  clearTimeout(runTimer);
  runController?.abort();
  if (view !== VIEWS.networks) return;
  const controller = new AbortController();
  runController = controller;
  const controls = byTestId(ui.layout, "net-controls");
  clearProblems(controls);
  setError("");
  runSpec = toNetworkRunSpec(state);
  const spec = runSpec;
  const began = performance.now();
  setBusy(true);
  setStatus("Starting…");
  let done = null;
  try {
    await api.streamRun(spec, {
      meta: (meta) => {
        run = newNetworkRun(meta);
        run.pointsPerRow = Math.min(meta.steps + 1, spec.max_points ?? SERVER_MAX_POINTS);
        run.planeAsked = Boolean(spec.plane);
        setStale("");
        const shown = renderRowPicker();
        renderFanSlider(shown);
        startNetworkRun(run, rowStyle(), shown);
        renderResults();
      },
      chunk: (chunk) => {
        addNetworkChunk(run, chunk);
        setProgress(run.lastStep, run.meta.steps);
        if (run.planeAsked && run.lastStep >= run.meta.steps) {
          setStatus(`Trained ${run.meta.steps} steps; computing the loss landscape…`);
        }
        appendNetworkPoints();
      },
      snapshot: (snapshot) => snapshotArrived(addSnapshot(run, snapshot)),
      plane: (plane) => {
        addPlane(run, plane);
        drawPlane();
      },
      done: (data) => {
        done = data;
      },
    }, controller.signal);
    if (!done) throw new Error("the run's stream ended before the run did");
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    finishNetworkRun(run, done);
    await finishNetworkPlots();
    if (runController !== controller) return;
    renderResults();
    drawPlane();
    await networkPlotsSettled();
    // A counter of finished network runs: lets scripts and tests wait for the next one.
    document.body.dataset.networkRunsDone = Number(document.body.dataset.networkRunsDone ?? 0) + 1;
    const model = run.meta.model;
    setStatus(`${run.rows.length} network${run.rows.length === 1 ? "" : "s"} × `
      + `${run.meta.steps} steps in ${seconds} s (${model.parameters} parameters each, `
      + `${run.meta.batch_size === null ? "full batch" : `batches of ${run.meta.batch_size}`}; `
      + `${run.meta.device}, ${run.meta.dtype}).`);
  } catch (error) {
    if (error.name === "AbortError") {
      if (runController === controller) setStatus(`Cancelled at step ${run?.lastStep ?? 0}.`);
      return;
    }
    showApiError(error);
    setStale("the last run failed");
  } finally {
    if (runController === controller) {
      runController = null;
      setBusy(false);
    }
  }
}

// ---- results table ----

function renderResults() {
  const table = byTestId(ui.layout, "net-results");
  const classification = run?.classification ?? true;
  byTestId(table, "net-results-unit").textContent = classification
    ? "(per network at its last step: training-set cross-entropy, held-out cross-entropy and "
      + "accuracy)"
    : "(per network at its last step: training-set and held-out mean squared error)";
  table.querySelector("thead").replaceChildren(h("tr", {},
    ...["Network", "Seed", "Training loss", "Best (step)", "Held-out loss",
      classification ? "Held-out accuracy" : null, "Gradient norm", "Diverged"]
      .filter(Boolean).map((text) => h("th", { scope: "col" }, text))));
  const body = table.querySelector("tbody");
  if (!run?.done) {
    body.replaceChildren();
    return;
  }
  const style = rowStyle();
  const fmt = (value) => (value === null || value === undefined ? "—"
    : Number(value).toPrecision(4));
  body.replaceChildren(...run.rows.map((row) => {
    const result = row.result ?? {};
    return h("tr", { "data-row": String(row.row) },
      h("th", { scope: "row" }, h("span", { class: "swatch",
        style: `background:${style.color(row)}` }), row.label),
      h("td", {}, String(row.seed)),
      h("td", {}, fmt(result.final_loss)),
      h("td", {}, result.best_loss === null || result.best_loss === undefined ? "—"
        : `${fmt(result.best_loss)} (${result.best_step})`),
      h("td", {}, fmt(result.final_held_out_loss)),
      classification ? h("td", {}, result.final_accuracy === null
        || result.final_accuracy === undefined ? "—"
        : `${(100 * result.final_accuracy).toFixed(1)} %`) : null,
      h("td", {}, fmt(result.final_grad_norm)),
      h("td", {}, result.diverged_at === null || result.diverged_at === undefined ? "—"
        : `at step ${result.diverged_at}`));
  }));
}

// ---- presets and narration ----

function currentPreset() {
  return presets.find((preset) => preset.id === state?.preset) ?? null;
}

function syncPresetMenu() {
  const menu = byTestId(document, "net-preset");
  const preset = currentPreset();
  const modified = preset !== null && isNetworkModified(state, preset, catalogue.tasks);
  for (const option of menu.options) {
    const entry = presets.find((p) => p.id === option.value);
    if (entry) {
      option.textContent = entry === preset && modified ? `${entry.title} (modified)` : entry.title;
    }
  }
  menu.value = preset?.id ?? "";
  const box = byTestId(ui.layout, "net-narration");
  box.hidden = !preset;
  box.classList.toggle("modified", modified);
  byTestId(box, "net-narration-title").textContent = preset?.title ?? "";
  byTestId(box, "net-narration-text").textContent = preset?.narration ?? "";
  byTestId(box, "net-narration-text").hidden = !state.narration;
  byTestId(box, "net-narration-restore").disabled = !modified;
  const toggle = byTestId(box, "net-narration-toggle");
  toggle.textContent = state.narration ? "Hide narration" : "Show narration";
  toggle.setAttribute("aria-expanded", String(state.narration));
}

// A preset's state, keeping how this page shows things (the narration open, the plane's view).
function presetState(preset) {
  return { ...stateFromNetworkPreset(preset), narration: state?.narration ?? true,
    planeView: state?.planeView ?? "contour" };
}

function syncPlaneView() {
  for (const input of ui.layout.querySelectorAll("input[name=net-plane-view]")) {
    input.checked = input.value === state.planeView;
  }
  setPlaneView(state.planeView);
}

// ---- exports and permalink ----

function exportName(extension) {
  return `optiscope-network-${run.meta.task.id}-${run.meta.steps}-steps.${extension}`;
}

function exportCsv() {
  const sweeps = state.series.map((series) => (series.sweep && !Array.isArray(series.sweep)
    ? series.sweep.param : null));
  download(exportName("csv"), networkRunToCsv(run, sweeps), "text/csv");
}

function exportJson() {
  const record = reproducibilityRecord(run, runSpec, location.href);
  download(exportName("json"), networkRunToJson(run, record), "application/json");
}

async function copyPermalink() {
  writeUrl();
  try {
    await navigator.clipboard.writeText(location.href);
    setStatus("Link copied: it opens this exact network run.");
  } catch {
    setStatus("Copy the address bar: it holds this exact network run.");
  }
}

// ---- start ----

// The view's DOM, made the first time it is shown (a page that stays on 2-D never has it).
function build() {
  if (ui) return;
  const [picker, actions] = buildTopbar();
  document.querySelector(".topbar > .actions").after(picker, actions);
  picker.querySelector("select").replaceChildren(h("option", { value: "" }, "Custom run"),
    ...presets.map((preset) => h("option", { value: preset.id }, preset.title)));
  const layout = buildLayout();
  document.querySelector(".layout").after(layout);
  ui = { layout };
  initNetworkPlots({
    loss: byTestId(layout, "net-plot-loss"), accuracy: byTestId(layout, "net-plot-accuracy"),
    gradNorm: byTestId(layout, "net-plot-grad-norm"),
    boundary: byTestId(layout, "net-plot-boundary"), plane: byTestId(layout, "net-plot-plane"),
  });
  initSnapshotSlider({ input: byTestId(layout, "net-snapshot-slider"),
    output: byTestId(layout, "net-snapshot-step") });
  const on = (testid, type, listener) => byTestId(document, testid)
    .addEventListener(type, listener);
  on("net-run", "click", startRun);
  on("net-cancel", "click", () => runController?.abort());
  on("net-permalink", "click", copyPermalink);
  on("net-export-csv", "click", exportCsv);
  on("net-export-json", "click", exportJson);
  on("net-preset", "change", (event) => {
    const preset = presets.find((p) => p.id === event.target.value);
    if (preset) {
      loadNetworkState(presetState(preset));
    } else { // "Custom run": the same run, no longer tied to a preset or its narration
      state.preset = null;
      syncPresetMenu();
      writeUrl();
    }
  });
  on("net-narration-restore", "click", () => {
    const preset = currentPreset();
    if (preset) loadNetworkState(presetState(preset));
  });
  on("net-narration-toggle", "click", () => {
    state.narration = !state.narration;
    syncPresetMenu();
    writeUrl();
  });
  for (const input of layout.querySelectorAll("input[name=net-plane-view]")) {
    input.addEventListener("change", () => {
      if (!input.checked) return;
      state.planeView = input.value;
      writeUrl();
      setPlaneView(state.planeView);
    });
  }
  on("net-shown-row", "change", (event) => showRow(Number(event.target.value)));
  on("net-fan-slider", "input", (event) => {
    const fan = runFan();
    const row = fan && fanRow(fan, Number(event.target.value),
      run.rows[state.shownRow]?.seed ?? run.rows[0]?.seed);
    if (row) showRow(row.row);
  });
}

function wire() {
  const on = (testid, type, listener) => byTestId(document, testid)
    .addEventListener(type, listener);
  on("view-networks", "click", () => enterNetworks());
  on("view-landscapes", "click", () => leaveNetworks());
  // Back and forward between permalinks: a network one opens this view; a 2-D one leaves it
  // (main.js loads a valid 2-D state itself; anything else gets the 2-D view's own start).
  window.addEventListener("hashchange", () => {
    if (isNetworkFragment(location.hash)) {
      const next = decodeNetworkFragment(location.hash);
      if (next) enterNetworks(next);
    } else if (view === VIEWS.networks) {
      leaveNetworks({ load: decodeFragment(location.hash) === null });
    }
  });
}

// Start the view. `landscapeCatalogue`: main.js's (health, optimizers, presets, ...): its
// network presets (spec.task) belong to this view. `landscapeHooks`: {hideLandscapes(),
// showLandscapes()} stop the 2-D view and start it again. Returns whether this view holds the
// page now (a network permalink opened it): the 2-D view then waits to be switched to.
export function initNetworks(landscapeCatalogue, landscapeHooks) {
  hooks = landscapeHooks;
  presets = landscapeCatalogue.presets.filter(isNetworkPreset);
  catalogue = { tasks: [], optimizers: landscapeCatalogue.optimizers };
  wire();
  if (isNetworkFragment(location.hash)) {
    enterNetworks(decodeNetworkFragment(location.hash));
    return true;
  }
  return false;
}
