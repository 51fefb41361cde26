// The results table's numbers: one line per group of rows (a series, or one swept value of it,
// across seeds), with true medians and how many seeds reached the tolerance. DOM-free.

// The median of the finite numbers among `values` (nulls are left out): the middle value, or
// the mean of the two middle values for an even count; null when there are none.
export function median(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (!sorted.length) return null;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// How many of the rows' `steps_to_tolerance` values (null: never reached) are reached, out of
// how many, and the median step of those that were.
export function reachedSummary(steps) {
  const reached = steps.filter((step) => step !== null && step !== undefined);
  return { reached: reached.length, total: steps.length, median: median(reached) };
}

function formatStep(step) {
  return Number.isInteger(step) ? String(step) : String(Number(step.toFixed(1)));
}

// The table's text for a reachedSummary: "6/8 reached, median 119", "8/8, median 119",
// "0/8 reached"; one seed: "119" or "not reached".
export function formatReached({ reached, total, median: middle }) {
  if (total === 1) return reached ? formatStep(middle) : "not reached";
  if (reached === 0) return `0/${total} reached`;
  if (reached === total) return `${total}/${total}, median ${formatStep(middle)}`;
  return `${reached}/${total} reached, median ${formatStep(middle)}`;
}

// What the tolerance means, for the column's header: "loss − f* ≤ 0.001".
export function toleranceText(tolerance) {
  if (tolerance === null || tolerance === undefined) return "";
  return `loss − f* ≤ ${Number(tolerance.toPrecision(4))}`;
}

// The table's lines: `rows` (each with a `result` summary) grouped by `groupKey(row)` in order
// of first appearance, each with its rows, the medians of final loss and distance, the
// tolerance summary and how many diverged.
export function resultGroups(rows, groupKey) {
  const groups = new Map();
  for (const row of rows) {
    const key = groupKey(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return [...groups.entries()].map(([key, members]) => ({
    key,
    rows: members,
    finalLoss: median(members.map((row) => row.result.final_loss)),
    distance: median(members.map((row) => row.result.distance_to_minimum)),
    reached: reachedSummary(members.map((row) => row.result.steps_to_tolerance)),
    diverged: members.filter((row) => row.result.diverged_at !== null
      && row.result.diverged_at !== undefined).length,
  }));
}
