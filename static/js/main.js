// Wiring: catalogue -> state (from the URL or the first preset) -> controls and plots; runs are
// streamed and drawn as they arrive, and every change lands in the URL fragment.

import * as api from "./api.js";
import { seriesColor, seriesDash, viridis } from "./colors.js";
import { clearProblems, h, renderControls, showProblems } from "./controls.js";
import { download, runToCsv, runToJson } from "./export.js";
import {
  describePath, fanFraction, fanFromValues, fanMembers, fanPath, fanSeriesIndex, formatFanValue,
  fromSlider, sliderRange, toSlider,
} from "./fan.js";
import {
  exportSummaries, hideCells, initCells, runSummaries, summariesShown,
} from "./maps.js";
import { initNetworks } from "./networks.js";
import {
  neighbourStep, nextRevealStep, REPLAY_SECONDS, REPLAY_SPEEDS, replaySpeed, replayStepAt,
} from "./playback.js";
import * as plot from "./plot.js";
import { formatReached, resultGroups, toleranceText } from "./results.js";
import { addChunk, finishRun, newRun, rowsFromResult } from "./run-data.js";
import { isSummaryRun, tuningProgressText } from "./run-kinds.js";
import {
  decodeFragment, encodeFragment, EXPRESSION_VIEW_BOX, isModified,
  pointsPerRow, refreshesAtPowersOfTwo, stateFromPreset, toRunSpec,
} from "./state.js";
import { showTuning } from "./tune.js";

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
// Replay: the step the scrubber shows (null: the whole run), whether it is playing, and from
// where and when (steps follow the clock at the chosen speed: a slow frame skips steps, it
// does not slow the replay down).
let replayStep = null;
let replayPlaying = false;
let replayOrigin = null;
// The streaming run's reveal: the step drawn (fractional: it moves at a pace), when, for which
// request, and who waits for it to reach the last step received.
let live = null;
let clockQueued = false;

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
  const summaries = !run && summariesShown();
  for (const id of ["export-csv", "export-json"]) $(id).disabled = busy || !(run?.done || summaries);
  $("export-csv").title = summaries ? "Every row's start and summary as CSV"
    : "Every point of every trajectory as CSV";
  $("export-json").title = summaries ? "Every row's summary, with a reproducibility record"
    : "Every point, with a reproducibility record";
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

// The series the fan slider drives (one sweep over a hyperparameter its optimizer takes as a
// tensor, as the registry says: fan.js), -1 when none; and that hyperparameter's name.
function fanSeries() {
  return isSummaryRun(state) ? -1 : fanSeriesIndex(state.series, catalogue.optimizers);
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
      ? fanColor(row.hparams[param])
      : state.series[row.series]?.color ?? seriesColor(row.series)),
    // In the loss and distance plots: a comparison's series each their own dash (a fan's
    // members, told apart by colour along their value, stay solid).
    dash: (row) => (state.series.length > 1 && row.series !== fan ? seriesDash(row.series)
      : "solid"),
    // The loss and distance plots get a trace for the fan's highlighted path; its members stay
    // out of the legend (the final-loss curve names them by colour).
    highlight: fan >= 0,
    inLegend: (row) => row.series !== fan,
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
  updateGammaPanel();
  renderResults();
}

// ---- motion: a streaming run revealed at its pace, a finished run replayed ----

function tickClock() {
  if (clockQueued) return;
  clockQueued = true;
  requestAnimationFrame(clock);
}

// One clock for both: each frame moves the reveal (towards the last step received) or the
// replay (at its speed), and the plots follow (plot.js draws what changed).
function clock(now) {
  clockQueued = false;
  if (live && run && !run.done) {
    live.shown = nextRevealStep(live.shown, run.lastStep, run.meta.steps, now - live.time);
    live.time = now;
    plot.setLiveStep(Math.floor(live.shown));
    if (live.shown >= run.lastStep && live.caughtUp) live.caughtUp();
    else if (live.shown < run.lastStep) tickClock();
  }
  if (replayPlaying) {
    replayTick(now);
    if (replayPlaying) tickClock();
  }
}

// The run of `controller` starts streaming: its points appear from step 0 on.
function startLive(controller) {
  live = { controller, shown: 0, time: performance.now(), caughtUp: null };
  plot.setLiveStep(0);
  tickClock();
}

// Resolves when the reveal has reached the last step received (the stream has ended); a
// cancel stops the wait.
function revealFinished(signal) {
  return new Promise((resolve, reject) => {
    if (!live || live.shown >= run.lastStep) {
      resolve();
      return;
    }
    live.caughtUp = resolve;
    signal.addEventListener("abort",
      () => reject(new DOMException("The run was cancelled.", "AbortError")), { once: true });
    tickClock();
  });
}

function resetReplay() {
  replayPlaying = false;
  replayStep = null;
  replayOrigin = null;
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
  $("step-back").disabled = shown <= 0;
  $("step-forward").disabled = shown >= steps;
  $("replay-speed").value = String(replaySpeed(state?.replaySpeed));
}

// Show `step` (the last step shows the whole run); the plots catch up at the next frame.
function seekReplay(step) {
  const steps = Number($("scrubber").max);
  replayStep = step >= steps ? null : Math.max(0, step);
  $("scrubber").value = String(replayStep ?? steps);
  showReplayState();
  plot.showStep(replayStep, { playing: replayPlaying });
}

function replayTick(now) {
  const steps = Number($("scrubber").max);
  replayOrigin ??= { time: now, step: replayStep ?? 0 };
  const next = replayStepAt(replayOrigin, now, replaySpeed(state.replaySpeed), steps);
  if (next >= steps) replayPlaying = false;
  seekReplay(next);
}

function togglePlay() {
  replayPlaying = !replayPlaying;
  replayOrigin = null;
  if (replayPlaying && replayStep === null) seekReplay(0); // from the start after an end
  showReplayState();
  if (replayPlaying) tickClock();
  else seekReplay(Number($("scrubber").value)); // paused: every view shows this step
}

// One recorded step back (-1) or forward (1): of a run decimated for the wire, the next point
// there is; of any other, exactly one step. It pauses a playing replay.
function stepReplay(direction) {
  if (!run?.done) return;
  replayPlaying = false;
  replayOrigin = null;
  const steps = run.meta.steps;
  const longest = run.rows.reduce((best, row) => (row.steps.length > best.steps.length
    ? row : best));
  seekReplay(neighbourStep(longest.steps, replayStep ?? steps, direction, steps));
}

// A new speed applies from the step shown now, without a jump.
function setReplaySpeed(value) {
  state.replaySpeed = replaySpeed(value);
  writeUrl();
  replayOrigin = null;
  showReplayState();
}

// An edit: the state stays tied to its preset (marked modified), lands in the URL and runs.
function changed(...kinds) {
  syncPresetMenu();
  writeUrl();
  if (kinds.includes("structure")) {
    showViewsFor(state);
    renderControls(controlsRoot, state, catalogue, changed);
  }
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
  const spec = runSpec;
  const began = performance.now();
  setBusy(true);
  setStatus("Starting…");
  let done = null;
  try {
    if (spec.record === "final") {
      // Maps and phase diagrams: summaries only, drawn in their own panel (maps.js); no
      // trajectories to export or replay meanwhile.
      run = null;
      extraGammaRows = [];
      const drawn = await runSummaries(spec, controller.signal,
        { setStatus, setProgress, isCurrent: () => runController === controller });
      if (drawn && runController === controller) {
        document.body.dataset.runsDone = Number(document.body.dataset.runsDone ?? 0) + 1;
      }
      return;
    }
    // A tuned run streams nothing until it has tuned.
    if (spec.tune) setStatus(tuningProgressText(spec.tune, spec.series.length));
    await api.streamRun(spec, {
      meta: (meta) => {
        hideCells();
        showTuning(meta.tuning ?? null, spec.seeds, state.series.map((s) => s.color));
        run = newRun(meta);
        // The points each row will have: how the plots draw this run (plot.js).
        run.pointsPerRow = Math.min(meta.steps + 1, spec.max_points ?? Infinity);
        extraGammaRows = [];
        setStale("");
        resetReplay();
        redraw();
        startLive(controller);
      },
      chunk: (chunk) => {
        addChunk(run, chunk);
        setProgress(run.lastStep, run.meta.steps);
        tickClock();
      },
      done: (data) => {
        done = data;
      },
    }, controller.signal);
    if (!done) throw new Error("the run's stream ended before the run did");
    const seconds = ((performance.now() - began) / 1000).toFixed(1);
    // The server is done; the page draws what it has not revealed yet (at most a second's
    // worth), then the finished run.
    await revealFinished(controller.signal);
    live = null;
    finishRun(run, done);
    resetReplay();
    redraw();
    await plot.settled();
    if (runController !== controller) return;
    // A counter of finished runs: lets scripts and tests wait for the next one.
    document.body.dataset.runsDone = Number(document.body.dataset.runsDone ?? 0) + 1;
    setStatus(`${run.rows.length} trajectories × ${run.meta.steps} steps in ${seconds} s `
      + `(${run.meta.device}, ${run.meta.dtype})`
      + (run.meta.clip_grad_norm ? `, gradient norm clipped to ${run.meta.clip_grad_norm}.` : "."));
  } catch (error) {
    let reached = run?.lastStep ?? 0;
    if (live?.controller === controller) {
      reached = Math.floor(live.shown);
      live = null;
      plot.stopLive();
    }
    if (error.name === "AbortError") {
      if (runController === controller) {
        setStatus(`Cancelled at step ${reached}.`);
        // Read by tests and bench/page_stream.py: when the cancellation took effect.
        document.body.dataset.cancelledAt = String(performance.now());
      }
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

// ---- the fan: one series over a range of one hyperparameter (fan.js) ----

function fanRows() {
  const index = fanSeries();
  if (!run?.done || index < 0) return [];
  return [...run.rows, ...extraGammaRows].filter((row) => row.series === index && row.seed === 0);
}

// The fan's hyperparameter, its scale (linear for gamma, log for lr) and its values.
function fanInfo() {
  const index = fanSeries();
  const sweep = state.series[index]?.sweep;
  if (!sweep) return null;
  const entry = catalogue.optimizers.find((o) => o.id === state.series[index].optimizer);
  const logScale = entry?.hparams_schema?.properties?.[sweep.param]?.log_scale;
  const scale = logScale ? "log" : fanFromValues(sweep.values).scale;
  return { index, entry, param: sweep.param, scale, values: sweep.values,
    adaptivity: entry?.capabilities?.adaptivity_exponent === sweep.param };
}

function fanColor(value) {
  const info = fanInfo();
  return info ? viridis(fanFraction(value, info.values, info.scale)) : "#000000";
}

// The slider's value (the parameter's units): the state's if inside the fan, else gamma 1
// (Adam-like) for an adaptivity exponent, else the fan's middle.
function fanValue(info) {
  const positions = info.values.map((v) => toSlider(v, info.scale));
  const [lo, hi] = [Math.min(...positions), Math.max(...positions)];
  const inside = (v) => typeof v === "number" && Number.isFinite(v)
    && (info.scale !== "log" || v > 0) && toSlider(v, info.scale) >= lo - 1e-12 && toSlider(v, info.scale) <= hi + 1e-12;
  const saved = state.fanAt ?? (info.adaptivity ? state.gamma : null);
  if (inside(saved)) return saved;
  if (info.adaptivity && inside(1)) return 1;
  return fromSlider((lo + hi) / 2, info.scale);
}

function updateGammaPanel() {
  const panel = $("gamma-panel");
  const info = fanInfo();
  const rows = fanRows();
  panel.hidden = !info;
  document.body.classList.toggle("fan-shown", Boolean(info));
  if (!info || !rows.length) {
    plot.clearGammaPlot();
    plot.highlightPath(null);
    return;
  }
  const slider = $("gamma-slider");
  const range = sliderRange(info.values, info.scale);
  slider.min = String(range.min);
  slider.max = String(range.max);
  slider.step = String(range.step);
  const value = fanValue(info);
  slider.value = String(toSlider(value, info.scale));
  const label = state.series[info.index].label || info.entry?.label || "";
  const name = info.param === "gamma" ? "γ" : info.param;
  $("fan-name").textContent = info.adaptivity ? `${label}'s adaptivity ${name}` : `${label} ${name}`;
  const ends = [info.values[0], info.values.at(-1)].map(formatFanValue);
  const defaultGamma = info.adaptivity && range.min === -1 && range.max === 2;
  $("fan-scale").replaceChildren(...(defaultGamma
    ? ["−1", "0 · SGD + momentum", "1 · Adam-like", "2"]
    : [ends[0], `${info.values.length} paths${info.scale === "log" ? ", log scale" : ""}`, ends[1]])
    .map((text) => h("span", {}, text)));
  $("fan-snap").checked = Boolean(state.fanSnap);
  plot.drawFanCurve(rows, { param: info.param, scale: info.scale, colorOf: fanColor });
  highlightGamma(value);
}

// Move the highlighted path to `value` on every plot (restyles only: no request, no redraw).
function highlightGamma(value) {
  const info = fanInfo();
  if (!info) return;
  const path = fanPath(fanMembers(fanRows(), info.param), value, info.scale, plot.rowColumns,
    { snap: Boolean(state.fanSnap) });
  $("gamma-value").textContent = formatFanValue(value);
  const row = path?.lower.row;
  let text = "";
  if (path && !path.interpolated) {
    text = `${row.label}: ${describePath(path, info.param)}, final loss `
      + `${row.result.final_loss.toPrecision(4)}`
      + (row.result.diverged_at != null ? `, diverged at step ${row.result.diverged_at}` : "");
  } else if (path) {
    text = describePath(path, info.param);
  }
  $("gamma-path").textContent = text;
  $("gamma-path").dataset.mode = path?.interpolated ? "interpolated" : "computed";
  $("fan-compute").hidden = !path?.interpolated && !(state.fanSnap && path
    && Math.abs(path.lower.value - value) > 1e-12);
  plot.highlightPath(path, fanColor(value), value);
  // A counter of highlights drawn: lets tests wait for the next one.
  document.body.dataset.fanHighlights = Number(document.body.dataset.fanHighlights ?? 0) + 1;
}

// While dragging: the highlight follows at most once per animation frame, from the paths
// already computed (no request).
let pendingGamma = null;
function onGammaInput(event) {
  const first = pendingGamma === null;
  const info = fanInfo();
  if (!info) return;
  pendingGamma = fromSlider(Number(event.target.value), info.scale);
  if (!first) return;
  requestAnimationFrame(() => {
    highlightGamma(pendingGamma);
    pendingGamma = null;
  });
}

// On release: remember the value (the URL keeps it); nothing is computed.
function onGammaChange(event) {
  const info = fanInfo();
  if (!info) return;
  state.fanAt = fromSlider(Number(event.target.value), info.scale);
  if (info.adaptivity) state.gamma = state.fanAt;
  writeUrl();
}

// "Compute this value exactly": the slider's value as one more computed member of the fan.
async function computeMissingGamma() {
  const info = fanInfo();
  const value = fromSlider(Number($("gamma-slider").value), info?.scale ?? "linear");
  if (!info || !run?.done) return;
  const { index, param } = info;
  if (fanRows().some((row) => Math.abs(row.hparams[param] - value) < 1e-9)) return;
  gammaController?.abort();
  const controller = new AbortController();
  gammaController = controller;
  const series = { ...runSpec.series[index], sweep: { param, values: [value] } };
  setStatus(`Computing ${param} = ${value}…`);
  try {
    const result = await api.runWhole({ ...runSpec, seeds: [0], series: [series] },
      controller.signal);
    const offset = run.rows.length + extraGammaRows.length;
    extraGammaRows.push(...rowsFromResult(result).map((row, i) => (
      { ...row, row: offset + i, series: index })));
    state.fanAt = value;
    redraw();
    setStatus(`Added ${param} = ${value} to the fan.`);
    // Read by tests: the added path is drawn (the plots redraw over the next frames).
    await plot.settled();
    document.body.dataset.gammaAdded = value;
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

// The views `state`'s runs draw in: a map's or phase diagram's panel takes the trajectories'
// place from the start (its run's first event would otherwise find them drawn, to hide them).
function showViewsFor(next) {
  if (isSummaryRun(next)) document.body.classList.add("summary-view");
  else hideCells();
}

async function loadState(next) {
  state = next;
  runController?.abort();
  showViewsFor(state);
  syncPresetMenu();
  renderControls(controlsRoot, state, catalogue, changed);
  writeUrl();
  if (await loadSurface()) startRun();
}

// A preset's own state, keeping whether the narration is open (the user's choice).
function presetState(preset) {
  return { ...stateFromPreset(preset), narration: state?.narration ?? true,
    replaySpeed: replaySpeed(state?.replaySpeed) };
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
  // A map's or phase diagram's file holds each row's summary, not its points.
  const what = run ? "" : "-summaries";
  return `optiscope-${landscape}-${run?.meta.steps ?? runSpec.steps}-steps${what}.${extension}`;
}

function sweptParams() {
  return state.series.map((series) => series.sweep?.param ?? null);
}

// A map's or phase diagram's rows are in the summary worker, which writes their file.
async function exportSummaryFile(format, type) {
  try {
    const file = await exportSummaries(format, location.href);
    if (file) download(exportName(format), file, type);
  } catch (error) {
    setError(error.message);
  }
}

function exportCsv() {
  if (!run) return exportSummaryFile("csv", "text/csv");
  return download(exportName("csv"), runToCsv(shownRun(), sweptParams()), "text/csv");
}

function exportJson() {
  if (!run) return exportSummaryFile("json", "application/json");
  return download(exportName("json"), runToJson(shownRun(), runSpec, location.href),
    "application/json");
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

// ---- the Networks view (networks.js): the 2-D view stops while it is shown ----

function hideLandscapes() {
  clearTimeout(runTimer);
  surfaceController?.abort();
  runController?.abort();
  replayPlaying = false;
}

function showLandscapes() {
  loadState(decodeFragment(location.hash) ?? state ?? stateFromPreset(catalogue.presets[0]));
}

// ---- start ----

async function main() {
  plot.initPlots({
    contour: $("plot-contour"), surface: $("plot-surface"), loss: $("plot-loss"),
    distance: $("plot-distance"), gamma: $("plot-gamma"),
  });
  // The maps' panel; a clicked cell can become a trajectory run (`edit` sets the state).
  initCells({ state: () => state, writeUrl, landscapeInfo,
    optimizerLabel: (id) => catalogue.optimizers.find((o) => o.id === id)?.label ?? id,
    openTrajectories: (edit) => { edit(state); changed("structure", "start"); } });
  try {
    catalogue = await api.catalogue();
  } catch (error) {
    setError(`Could not load the catalogue from the server: ${error.message}`);
    return;
  }
  $("version").textContent = `v${catalogue.health.version} · torch ${catalogue.health.torch}`;
  // The network presets (spec.task) are the Networks view's; a network permalink opens that
  // view, and this one starts when switched to.
  const networksShown = initNetworks(catalogue, { hideLandscapes, showLandscapes });
  catalogue.presets = catalogue.presets.filter((preset) => !preset.spec.task);
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
  $("step-back").addEventListener("click", () => stepReplay(-1));
  $("step-forward").addEventListener("click", () => stepReplay(1));
  $("replay-speed").replaceChildren(...REPLAY_SPEEDS.map((speed) => h("option",
    { value: String(speed) }, `×${speed}`)));
  $("replay-speed").title = `×1 replays the whole run in ${REPLAY_SECONDS} s`;
  $("replay-speed").addEventListener("change", (event) => setReplaySpeed(event.target.value));
  $("scrubber").addEventListener("input", (event) => {
    replayPlaying = false;
    replayOrigin = null;
    seekReplay(Number(event.target.value));
  });
  $("gamma-slider").addEventListener("input", onGammaInput);
  $("gamma-slider").addEventListener("change", onGammaChange);
  $("fan-compute").addEventListener("click", computeMissingGamma);
  $("fan-snap").addEventListener("change", (event) => {
    state.fanSnap = event.target.checked;
    writeUrl();
    const info = fanInfo();
    if (info) highlightGamma(fromSlider(Number($("gamma-slider").value), info.scale));
  });
  window.addEventListener("hashchange", () => {
    const next = decodeFragment(location.hash);
    if (next) loadState(next);
  });
  const fromUrl = decodeFragment(location.hash);
  if (!networksShown) await loadState(fromUrl ?? stateFromPreset(catalogue.presets[0]));
  plot.onVisibilityChange(redraw);
  plot.onPlotError(setError);
  plot.onContourClick((point) => {
    state.start = point; // the clicked pixel's coordinates, rounded to what a pixel resolves
    renderControls(controlsRoot, state, catalogue, changed);
    changed("start");
  });
}

main();
