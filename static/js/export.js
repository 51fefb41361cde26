// Exports of a finished run: CSV of every point of every row, JSON with a reproducibility
// record; for a `record: final` run (a map, a phase diagram), every row's summary instead of
// its points. DOM-free except `download` (the summary worker builds a big map's exports).

import { COLUMNS } from "./run-data.js";

const CSV_COLUMNS = [
  "row", "series", "label", "optimizer", "seed", "swept_param", "swept_value",
  "step", "x", "y", "loss", "grad_norm",
];

function csvField(value) {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// One line per point: `sweeps[series]` names the swept hyperparameter of each series, if any.
export function runToCsv(run, sweeps) {
  const lines = [CSV_COLUMNS.join(",")];
  for (const row of run.rows) {
    const param = sweeps[row.series] ?? null;
    const swept = param ? row.hparams[param] : null;
    row.steps.forEach((step, i) => {
      lines.push([
        row.row, row.series, row.label, row.optimizer, row.seed, param, swept,
        step, row.x[i], row.y[i], row.loss[i], row.grad_norm[i],
      ].map(csvField).join(","));
    });
  }
  return `${lines.join("\n")}\n`;
}

// Everything needed to run it again: the exact request, versions, seeds, device and dtype.
export function reproducibilityRecord(run, spec, permalink) {
  return {
    optiscope: run.meta.versions.optiscope,
    versions: run.meta.versions,
    seeds: spec.seeds,
    device: run.meta.device,
    dtype: run.meta.dtype,
    request: spec,
    permalink,
    exported_at: new Date().toISOString(),
  };
}

// The run as JSON: the reproducibility record, and every row under the API's names (its
// identity, the columns steps, x, y, loss and grad_norm as plain numbers, and its summary).
export function runToJson(run, spec, permalink) {
  return JSON.stringify({
    reproducibility: reproducibilityRecord(run, spec, permalink),
    landscape: run.meta.landscape,
    noise: run.meta.noise,
    clip_grad_norm: run.meta.clip_grad_norm,
    steps: run.meta.steps,
    rows: run.rows.map((row) => ({
      row: row.row, series: row.series, label: row.label, optimizer: row.optimizer,
      hparams: row.hparams, seed: row.seed, start: row.start,
      ...Object.fromEntries(COLUMNS.map((name) => [name, Array.from(row[name])])),
      ...row.result,
    })),
  }, null, 1);
}

const SUMMARY_CSV_COLUMNS = [
  "row", "series", "label", "optimizer", "seed", "start_x", "start_y",
  "final_x", "final_y", "final_loss", "mean_loss", "distance_to_minimum", "nearest_minimum",
  "steps_to_tolerance", "diverged_at",
];

// The hyperparameters a `record: final` spec varies between rows (its series' sweeps, one or
// two each, and the tuned one), each a column of the summaries' CSV.
export function variedParams(spec) {
  const params = new Set();
  for (const series of spec.series) {
    const sweeps = Array.isArray(series.sweep) ? series.sweep : [series.sweep];
    for (const sweep of sweeps) if (sweep) params.add(sweep.param);
  }
  if (spec.tune) params.add(spec.tune.param);
  return [...params];
}

// One line per row of a `record: final` run: its identity (`infos`: meta.rows), the values of
// the hyperparameters `params` it ran with, and its summary (`summaries`: done.rows).
export function summariesToCsv(infos, summaries, params) {
  const columns = [...SUMMARY_CSV_COLUMNS.slice(0, 7), ...params, ...SUMMARY_CSV_COLUMNS.slice(7)];
  const lines = [columns.map(csvField).join(",")];
  for (const summary of summaries) {
    const info = infos[summary.row];
    const [finalX, finalY] = summary.final_point ?? [null, null];
    lines.push([
      info.row, info.series, info.label, info.optimizer, info.seed, info.start[0], info.start[1],
      ...params.map((param) => info.hparams[param]),
      finalX, finalY, summary.final_loss, summary.mean_loss, summary.distance_to_minimum,
      summary.nearest_minimum, summary.steps_to_tolerance, summary.diverged_at,
    ].map(csvField).join(","));
  }
  return `${lines.join("\n")}\n`;
}

// A `record: final` run as JSON: the reproducibility record, what it ran on and every row's
// identity and summary under the API's names (its whole result, as POST /api/runs answers).
export function summariesToJson(meta, infos, summaries, spec, permalink) {
  return JSON.stringify({
    reproducibility: reproducibilityRecord({ meta }, spec, permalink),
    landscape: meta.landscape,
    noise: meta.noise,
    clip_grad_norm: meta.clip_grad_norm,
    steps: meta.steps,
    record: meta.record,
    tolerance: meta.tolerance,
    tuning: meta.tuning ?? null,
    rows: summaries.map((summary) => ({ ...infos[summary.row], ...summary })),
  });
}

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
