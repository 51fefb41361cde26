// A run as it arrives (meta, chunks, done) and the numbers drawn from it. DOM-free.

// A new run from the stream's `meta` event: one row per trajectory, filled by `addChunk`.
export function newRun(meta) {
  return {
    meta,
    rows: meta.rows.map((row) => ({
      ...row, steps: [], xy: [], loss: [], gradNorm: [], result: null,
    })),
    lastStep: 0,
    done: false,
  };
}

export function addChunk(run, chunk) {
  for (const part of chunk.rows) {
    const row = run.rows[part.row];
    row.steps.push(...part.steps);
    row.xy.push(...part.xy);
    row.loss.push(...part.loss);
    row.gradNorm.push(...part.grad_norm);
  }
  run.lastStep = Math.max(run.lastStep, chunk.to_step - 1);
}

export function finishRun(run, done) {
  for (const result of done.rows) run.rows[result.row].result = result;
  run.done = true;
}

// The rows of a whole JSON result (POST /api/runs with Accept: application/json), in the shape
// of a streamed run's rows.
export function rowsFromResult(result) {
  return result.series.map((row) => ({
    row: row.row, series: row.series, label: row.label, optimizer: row.optimizer,
    hparams: row.hparams, seed: row.seed, start: row.start,
    steps: row.steps, xy: row.trajectory, loss: row.loss, gradNorm: row.grad_norm,
    result: {
      row: row.row, final_point: row.final_point, final_loss: row.final_loss,
      distance_to_minimum: row.distance_to_minimum,
      steps_to_tolerance: row.steps_to_tolerance, diverged_at: row.diverged_at,
    },
  }));
}

// Distance from `point` to the nearest global minimum, or null when none is known.
export function distanceToNearest(point, minima) {
  if (!minima.length) return null;
  return Math.min(...minima.map((m) => Math.hypot(point[0] - m.point[0], point[1] - m.point[1])));
}

// The q-quantile of ascending `sorted` values, linearly interpolated.
export function quantile(sorted, q) {
  if (!sorted.length) return null;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}

// Median and the 10-90% band of `values(row)` across `rows` (the seeds of one series), at
// every step any of them reached. Rows that diverged drop out after their last point.
export function seedBand(rows, values) {
  const byStep = new Map();
  for (const row of rows) {
    const series = values(row);
    row.steps.forEach((step, i) => {
      if (series[i] === null || !Number.isFinite(series[i])) return;
      if (!byStep.has(step)) byStep.set(step, []);
      byStep.get(step).push(series[i]);
    });
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const band = { steps, median: [], low: [], high: [] };
  for (const step of steps) {
    const sorted = byStep.get(step).sort((a, b) => a - b);
    band.median.push(quantile(sorted, 0.5));
    band.low.push(quantile(sorted, 0.1));
    band.high.push(quantile(sorted, 0.9));
  }
  return band;
}

// Indices of the points right after Anon's preconditioner refreshes (steps 1, 2, 4, 8, ...).
export function refreshIndices(steps) {
  const indices = [];
  steps.forEach((step, i) => {
    if (step >= 1 && (step & (step - 1)) === 0) indices.push(i);
  });
  return indices;
}
