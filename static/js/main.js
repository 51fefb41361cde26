// Wiring: catalogue -> state (from the URL or the first preset) -> controls and plots; runs are
// streamed and drawn as they arrive, and every change lands in the URL fragment.

import * as api from "./api.js";
import { seriesColor } from "./colors.js";
import { clearProblems, h, renderControls, showProblems } from "./controls.js";
import { download, runToCsv, runToJson } from "./export.js";
import * as plot from "./plot.js";
import { formatReached, resultGroups, toleranceText } from "./results.js";
import { addChunk, finishRun, newRun, rowsFromResult } from "./run-data.js";
import {
  decodeFragment, encodeFragment, EXPRESSION_VIEW_BOX, gammaSeriesIndex, isModified,
  pointsPerRow, refreshesAtPowersOfTwo, stateFromPreset, toRunSpec,
} from "./state.js";

// Changes settle for this long before a run starts, so typing does not start one per key.
const RUN_DEBOUNCE_MS = 350;
// Progress shows only for runs longer than a blink.
const PROGRESS_DELAY_MS = 150;
const GAMMA_COMPUTE_DEBOUNCE_MS = 250;

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const controlsRoot = document.getElementById("controls");

let catalogue = null;
let state = null;
// The run on screen, its request, and gamma values computed one by one after it.
let run = null;
let runSpec = null;
let extraGammaRows = [];
let runController = null;
let gammaController = null;
let runTimer = 0;
let gammaTimer = 0;
let surfaceController = null;
// Replay: the step the scrubber shows, whether it is playing, and from where and when.
let replayStep = null;
let replayPlaying = false;
let replayFrameQueued = false;
let replayOrigin = null;
// A replay crosses a whole run in this long, whatever its length and however slowly the browser
// draws (steps follow the clock, frames are skipped).
const REPLAY_SECONDS = 4;

// ---- status, errors, progress ----

function setStatus(text) {
  $("status").textContent = text;
}

function setError(text) {
  const banner = $("error");
  banner.textContent = text;
  banner.hidden = !text;
}

// After a failed run the plots still show the previous one: dimmed and labelled stale (in
// place, over the plots, so nothing moves) until a run draws again.
function setStale(reason) {
  $("plots").classList.toggle("stale", Boolean(reason));
  $("results").classList.toggle("stale", Boolean(reason));
  $("stale").textContent = reason ? `stale: ${reason}` : "";
  $("stale").hidden = !reason;
}

let progressTimer = 0;
function setBusy(busy) {
  clearTimeout(progressTimer);
  $("cancel").hidden = !busy;
  if (busy) progressTimer = setTimeout(() => { $("progress").hidden = false; }, PROGRESS_DELAY_MS);
  else $("progress").hidden = true;
  for (const id of ["export-csv", "export-json"]) $(id).disabled = busy || !run?.done;
}

function setProgress(done, total) {
  $("progress").value = done / total;
  setStatus(`Step ${done} of ${total}…`);
}

// ---- state and URL ----

function writeUrl() {
  history.replaceState(null, "", encodeFragment(state));
}

function landscapeInfo() {
  if (state.landscape.expression !== undefined) {
    return { id: null, label: `f(x, y) = ${state.landscape.expression}`,
      view_box: EXPRESSION_VIEW_BOX, global_minima: [], colour_scale: "linear" };
  }
  return catalogue.landscapes.find((l) => l.id === state.landscape.id);
}

// The series the gamma slider drives (its sweep runs over its optimizer's adaptivity exponent,
// as the registry says), -1 when none; and that exponent's name.
function fanSeries() {
  return gammaSeriesIndex(state, catalogue.optimizers);
}

function fanParam() {
  return state.series[fanSeries()]?.sweep?.param ?? null;
}

// How rows look: colour of their series (or of their gamma in a gamma fan), grouped by series
// and swept value across seeds; refresh markers where the registry says the optimizer has them.
function rowStyle() {
  const fan = fanSeries();
  const param = fanParam();
  const sweptParam = (row) => state.series[row.series]?.sweep?.param;
  return {
    seeds: state.seeds,
    color: (row) => (row.series === fan
      ? plot.gammaColor(row.hparams[param])
      : state.series[row.series]?.color ?? seriesColor(row.series)),
    name: (row) => row.label,
    groupKey: (row) => `${row.series}|${sweptParam(row) ? row.hparams[sweptParam(row)] : ""}`,
    firstOfGroup: (row) => row.seed === 0,
    refreshes: (row) => refreshesAtPowersOfTwo(catalogue.optimizers, row.optimizer),
  };
}

function shownRun() {
  return run && { ...run, rows: [...run.rows, ...extraGammaRows] };
}

function redraw() {
  plot.drawRun(shownRun(), rowStyle());
  if (replayStep !== null) plot.showStep(replayStep);
  updateGammaPanel();
  renderResults();
}

// ---- replay of a finished run ----

function resetReplay() {
  replayPlaying = false;
  replayStep = null;
  const steps = run?.done ? run.meta.steps : 0;
  $("replay").hidden = !run?.done;
  $("scrubber").max = String(steps);
  $("scrubber").value = String(steps);
  showReplayState();
}

function showReplayState() {
  const steps = Number($("scrubber").max);
  const shown = replayStep ?? steps;
  $("scrubber-step").textContent = `step ${shown} of ${steps}`;
  $("play").textContent = replayPlaying ? "❚❚ Pause" : "▶ Play";
  $("play").setAttribute("aria-pressed", String(replayPlaying));
}

// Show `step` at the next animation frame (the last step shows the whole run).
function seekReplay(step) {
  const steps = Number($("scrubber").max);
  replayStep = step >= steps ? null : step;
  $("scrubber").value = String(step);
  showReplayState();
  if (replayFrameQueued) return;
  replayFrameQueued = true;
  requestAnimationFrame(() => {
    replayFrameQueued = false;
    plot.showStep(replayStep, !replayPlaying || replayStep === null);
  });
}

function replayTick(now) {
  if (!replayPlaying) return;
  const steps = Number($("scrubber").max);
  replayOrigin ??= { time: now, step: replayStep ?? 0 };
  const elapsed = (now - replayOrigin.time) / 1000;
  const next = Math.min(steps, Math.round(replayOrigin.step + (elapsed / REPLAY_SECONDS) * steps));
  if (next >= steps) replayPlaying = false;
  seekReplay(next);
  if (replayPlaying) requestAnimationFrame(replayTick);
}

function togglePlay() {
  replayPlaying = !replayPlaying;
  replayOrigin = null;
  if (replayPlaying && replayStep === null) seekReplay(0); // from the start after an end
  showReplayState();
  if (replayPlaying) requestAnimationFrame(replayTick);
  else seekReplay(Number($("scrubber").value)); // paused: bring the 3-D view up to date
}

// An edit: the state stays tied to its preset (marked modified), lands in the URL and runs.
function changed(...kinds) {
  syncPresetMenu();
  writeUrl();
  if (kinds.includes("structure")) renderControls(controlsRoot, state, catalogue, changed);
  if (kinds.includes("restyle")) redraw();
  if (kinds.includes("start")) plot.setStart(state.start);
  if (kinds.includes("surface")) {
    // A run still waiting for the previous landscape would clear this one's errors: it is
    // scheduled again once the new surface has loaded.
    clearTimeout(runTimer);
    loadSurface().then((ok) => ok && scheduleRun());
    return;
  }
  if (!kinds.includes("restyle")) scheduleRun();
}

// ---- the landscape ----

async function loadSurface() {
  surfaceController?.abort();
  const controller = new AbortController();
  surfaceController = controller;
  const info = landscapeInfo();
  const log = info.colour_scale === "log";
  const landscape = { ...state.landscape, viewBox: EXPRESSION_VIEW_BOX };
  try {
    const surface = await api.getJSON(api.landscapeSurfaceUrl(landscape, 120, log),
      controller.signal);
    clearProblems(controlsRoot);
    run = null;
    extraGammaRows = [];
    setStale("");
    plot.setScene(info, surface, state.start ?? info.default_start);
    redraw();
    return true;
  } catch (error) {
    if (error.name === "AbortError") return false;
    showApiError(error, { expression: "landscape.expression", params: "landscape.params" });
    setStale("the landscape could not be drawn");
    return false;
  }
}

// ---- runs ----

function scheduleRun() {
  clearTimeout(runTimer);
  runTimer = setTimeout(startRun, RUN_DEBOUNCE_MS);
}

function showApiError(error, renames = {}) {
  if (!(error instanceof api.ApiError)) {
    setError(`Could not reach the server: ${error.message}`);
    return;
  }
  const problems = error.problems.map(({ loc, message }) => {
    const [head, ...rest] = loc.split(".");
    return { loc: head in renames ? [renames[head], ...rest].join(".") : loc, message };
  });
  showProblems(controlsRoot, problems, setError);
  setStatus(error.status === 422 ? "Fix the highlighted field to run." : "The run failed.");
}

async function startRun() {
  clearTimeout(runTimer);
  runController?.abort();
  gammaController?.abort();
  const controller = new AbortController();
  runController = controller;
  clearProblems(controlsRoot);
  setError("");
  runSpec = toRunSpec(state, pointsPerRow(state));
  const began = performance.now();
  setBusy(true);
  setStatus("Starting…");
  try {
    await api.streamRun(runSpec, {
      meta: (meta) => {
        run = newRun(meta);
        extraGammaRows = [];
        setStale("");
        resetReplay();
        redraw();
      },
      chunk: (chunk) => {
        addChunk(run, chunk);
        setProgress(run.lastStep, run.meta.steps);
        plot.queueStreamedPoints();
      },
      done: (done) => {
        finishRun(run, done);
        resetReplay();
        redraw();
        // A counter of finished runs: lets scripts and tests wait for the next one.
        document.body.dataset.runsDone = Number(document.body.dataset.runsDone ?? 0) + 1;
        const seconds = ((performance.now() - began) / 1000).toFixed(1);
        setStatus(`${run.rows.length} trajectories × ${run.meta.steps} steps in ${seconds} s `
          + `(${run.meta.device}, ${run.meta.dtype})`
          + (run.meta.clip_grad_norm ? `, gradient norm clipped to ${run.meta.clip_grad_norm}.` : "."));
        computeMissingGamma();
      },
    }, controller.signal);
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

function cancelRun() {
  runController?.abort();
}

// ---- the gamma fan ----

function fanRows() {
  const index = fanSeries();
  if (!run?.done || index < 0) return [];
  return [...run.rows, ...extraGammaRows].filter((row) => row.series === index && row.seed === 0);
}

function nearestFanRow(gamma) {
  const param = fanParam();
  let best = null;
  for (const row of fanRows()) {
    if (!best || Math.abs(row.hparams[param] - gamma) < Math.abs(best.hparams[param] - gamma)) {
      best = row;
    }
  }
  return best;
}

function updateGammaPanel() {
  const panel = $("gamma-panel");
  const rows = fanRows();
  panel.hidden = fanSeries() < 0;
  if (panel.hidden || !rows.length) {
    plot.clearGammaPlot();
    return;
  }
  const gamma = state.gamma ?? 1;
  $("gamma-slider").value = gamma;
  plot.drawGammaPlot(rows, gamma, fanParam());
  highlightGamma(gamma);
}

function highlightGamma(gamma) {
  const row = nearestFanRow(gamma);
  $("gamma-value").textContent = gamma.toFixed(2);
  $("gamma-path").textContent = row
    ? `${row.label}: final loss ${row.result.final_loss.toPrecision(4)}`
      + (row.result.diverged_at != null ? `, diverged at step ${row.result.diverged_at}` : "")
    : "";
  plot.highlightRow(row, gamma);
}

// While dragging: the highlight follows at most once per animation frame, from the paths
// already computed (no request).
let pendingGamma = null;
function onGammaInput(event) {
  const first = pendingGamma === null;
  pendingGamma = Number(event.target.value);
  if (!first) return;
  requestAnimationFrame(() => {
    highlightGamma(pendingGamma);
    pendingGamma = null;
  });
}

// On release: remember the value, and compute its path if the sweep does not have it.
function onGammaChange(event) {
  state.gamma = Number(event.target.value);
  writeUrl();
  clearTimeout(gammaTimer);
  gammaTimer = setTimeout(computeMissingGamma, GAMMA_COMPUTE_DEBOUNCE_MS);
}

async function computeMissingGamma() {
  const index = fanSeries();
  const param = fanParam();
  const gamma = state.gamma;
  if (index < 0 || gamma === null || !run?.done) return;
  if (fanRows().some((row) => Math.abs(row.hparams[param] - gamma) < 1e-9)) return;
  gammaController?.abort();
  const controller = new AbortController();
  gammaController = controller;
  const series = { ...runSpec.series[index], sweep: { param, values: [gamma] } };
  setStatus(`Computing gamma = ${gamma}…`);
  try {
    const result = await api.runWhole({ ...runSpec, seeds: [0], series: [series] },
      controller.signal);
    const offset = run.rows.length + extraGammaRows.length;
    extraGammaRows.push(...rowsFromResult(result).map((row, i) => (
      { ...row, row: offset + i, series: index })));
    redraw();
    setStatus(`Added gamma = ${gamma} to the fan.`);
    document.body.dataset.gammaAdded = gamma;
  } catch (error) {
    if (error.name !== "AbortError") showApiError(error);
  }
}

// ---- results table ----

function renderResults() {
  const body = $("results").querySelector("tbody");
  const tolerance = run?.meta?.tolerance ?? null;
  $("tolerance-header").textContent = tolerance === null ? "" : `(${toleranceText(tolerance)})`;
  if (!run?.done) {
    body.replaceChildren();
    return;
  }
  const style = rowStyle();
  const fmt = (value) => (value === null ? "—" : Number(value).toPrecision(4));
  body.replaceChildren(...resultGroups([...run.rows, ...extraGammaRows], style.groupKey)
    .map((group) => h("tr", {},
      h("th", { scope: "row" }, h("span", { class: "swatch",
        style: `background:${style.color(group.rows[0])}` }), group.rows[0].label),
      h("td", {}, fmt(group.finalLoss)),
      h("td", {}, fmt(group.distance)),
      h("td", { "data-testid": "steps-to-tolerance" }, formatReached(group.reached)),
      h("td", {}, group.diverged ? `${group.diverged} of ${group.rows.length}` : "—"))));
}

// ---- presets and narration ----

function currentPreset() {
  return catalogue.presets.find((p) => p.id === state.preset) ?? null;
}

// The menu names the preset the state came from ("… (modified)" once edited); the narration
// stays, marked modified, with a way back. Edits never change the box's size: the badge and
// the way back keep their place when hidden.
function syncPresetMenu() {
  const menu = $("preset");
  const preset = currentPreset();
  const modified = preset !== null && isModified(state, preset);
  for (const option of menu.options) {
    const entry = catalogue.presets.find((p) => p.id === option.value);
    if (entry) {
      option.textContent = entry === preset && modified ? `${entry.title} (modified)` : entry.title;
    }
  }
  menu.value = preset?.id ?? "";
  const box = $("narration");
  box.hidden = !preset;
  box.classList.toggle("modified", modified);
  $("narration-title").textContent = preset?.title ?? "";
  $("narration-text").textContent = preset?.narration ?? "";
  $("narration-text").hidden = !state.narration;
  $("narration-restore").disabled = !modified;
  $("narration-toggle").textContent = state.narration ? "Hide narration" : "Show narration";
  $("narration-toggle").setAttribute("aria-expanded", String(state.narration));
}

async function loadState(next) {
  state = next;
  runController?.abort();
  syncPresetMenu();
  renderControls(controlsRoot, state, catalogue, changed);
  writeUrl();
  if (await loadSurface()) startRun();
}

// A preset's own state, keeping whether the narration is open (the user's choice).
function presetState(preset) {
  return { ...stateFromPreset(preset), narration: state?.narration ?? true };
}

function renderPresetMenu() {
  $("preset").replaceChildren(
    h("option", { value: "" }, "Custom run"),
    ...catalogue.presets.map((preset) => h("option", { value: preset.id }, preset.title)),
  );
}

// ---- exports and permalink ----

function exportName(extension) {
  const landscape = state.landscape.id ?? "expression";
  return `optiscope-${landscape}-${run.meta.steps}-steps.${extension}`;
}

function sweptParams() {
  return state.series.map((series) => series.sweep?.param ?? null);
}

function exportCsv() {
  download(exportName("csv"), runToCsv(shownRun(), sweptParams()), "text/csv");
}

function exportJson() {
  download(exportName("json"), runToJson(shownRun(), runSpec, location.href), "application/json");
}

async function copyPermalink() {
  writeUrl();
  try {
    await navigator.clipboard.writeText(location.href);
    setStatus("Link copied: it opens this exact run.");
  } catch {
    setStatus("Copy the address bar: it holds this exact run.");
  }
}

// ---- start ----

async function main() {
  plot.initPlots({
    contour: $("plot-contour"), surface: $("plot-surface"), loss: $("plot-loss"),
    distance: $("plot-distance"), gamma: $("plot-gamma"),
  });
  try {
    catalogue = await api.catalogue();
  } catch (error) {
    setError(`Could not load the catalogue from the server: ${error.message}`);
    return;
  }
  $("version").textContent = `v${catalogue.health.version} · torch ${catalogue.health.torch}`;
  renderPresetMenu();
  $("preset").addEventListener("change", (event) => {
    const preset = catalogue.presets.find((p) => p.id === event.target.value);
    if (preset) {
      loadState(presetState(preset));
    } else { // "Custom run": the same run, no longer tied to a preset or its narration
      state.preset = null;
      syncPresetMenu();
      writeUrl();
    }
  });
  $("narration-restore").addEventListener("click", () => {
    const preset = currentPreset();
    if (preset) loadState(presetState(preset));
  });
  $("narration-toggle").addEventListener("click", () => {
    state.narration = !state.narration;
    syncPresetMenu();
    writeUrl();
  });
  $("run").addEventListener("click", startRun);
  $("cancel").addEventListener("click", cancelRun);
  $("permalink").addEventListener("click", copyPermalink);
  $("export-csv").addEventListener("click", exportCsv);
  $("export-json").addEventListener("click", exportJson);
  $("play").addEventListener("click", togglePlay);
  $("scrubber").addEventListener("input", (event) => {
    replayPlaying = false;
    seekReplay(Number(event.target.value));
  });
  $("gamma-slider").addEventListener("input", onGammaInput);
  $("gamma-slider").addEventListener("change", onGammaChange);
  window.addEventListener("hashchange", () => {
    const next = decodeFragment(location.hash);
    if (next) loadState(next);
  });
  const fromUrl = decodeFragment(location.hash);
  await loadState(fromUrl ?? stateFromPreset(catalogue.presets[0]));
  plot.onVisibilityChange(redraw);
  plot.onContourClick((point) => {
    state.start = point; // the clicked pixel's coordinates, rounded to what a pixel resolves
    renderControls(controlsRoot, state, catalogue, changed);
    changed("start");
  });
}

main();
