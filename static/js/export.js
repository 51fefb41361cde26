// Exports of a finished run: CSV of every point of every row, JSON with a reproducibility
// record. DOM-free except `download`.

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

export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
