// static/js/cells.js: maps and phase diagrams from row summaries, with engine/maps.py's
// semantics, checked against values computed by hand.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  availableMetrics, axisType, bestValue, blockValues, cellMetrics, cellPixels, cellValue,
  describeCell, flatBuffers, flatCell, flatPicture, flatValues, GAP_FLOOR, gridAxis, gridIndices,
  medianOf, metricScale, phaseDiagram, rowFinalLoss, scaleTicks, sharedRange, startMaps,
  valueGrid,
} from "../../static/js/cells.js";
import { PLOTLY_CIVIDIS, PLOTLY_VIRIDIS, SERIES_PALETTE } from "../../static/js/colors.js";
import { colourTable } from "../../static/js/landscape-render.js";

// A picture's colour values as the page draws them: through its flat columns (what the summary
// worker hands over), lines by y, null where greyed.
function metricGrid(picture, metric, best) {
  const flat = flatPicture(picture);
  return valueGrid(flatValues(flat, metric, best), flat.nx, flat.ny);
}

const summary = (row, finalLoss, more = {}) => ({
  row, final_loss: finalLoss, diverged_at: null, steps_to_tolerance: null, nearest_minimum: null,
  ...more,
});

describe("medianOf", () => {
  test("odd and even counts, as numpy's median", () => {
    assert.equal(medianOf([3, 1, 2]), 2);
    assert.equal(medianOf([4, 1, 3, 2]), 2.5);
    assert.equal(medianOf([100, 9, 10]), 10, "numbers sort as numbers");
  });

  test("an infinite (diverged) value counts: the median of [1, inf] is inf", () => {
    assert.equal(medianOf([1, Infinity]), Infinity);
    assert.equal(medianOf([1, 2, Infinity]), 2);
    assert.equal(medianOf([Infinity, 5, Infinity]), Infinity);
  });

  test("no values: NaN", () => {
    assert.ok(Number.isNaN(medianOf([])));
  });
});

describe("cellMetrics", () => {
  const rows = [
    summary(0, 1e-4, { steps_to_tolerance: 10, nearest_minimum: 2 }),
    summary(1, 3e-4, { steps_to_tolerance: 30, nearest_minimum: 1 }),
    // Diverged: its loss counts as +inf and its nearest minimum does not count.
    summary(2, 5.0, { diverged_at: 17, nearest_minimum: 0 }),
    summary(3, 2e-3, { nearest_minimum: 1 }),
  ];

  test("median final loss with the diverged row as +inf, and the spread", () => {
    const m = cellMetrics(rows, 0);
    // sorted: 1e-4, 3e-4, 2e-3, inf -> (3e-4 + 2e-3) / 2
    assert.equal(m.finalLoss, (3e-4 + 2e-3) / 2);
    assert.equal(m.gap, (3e-4 + 2e-3) / 2);
    assert.equal(m.lossMin, 1e-4);
    assert.equal(m.lossMax, Infinity);
    assert.equal(m.diverged, 1);
    assert.equal(m.rows, 4);
  });

  test("steps to tolerance: the median of the rows that reached it, and how many did", () => {
    const m = cellMetrics(rows, 0);
    assert.equal(m.stepsToTolerance, 20);
    assert.equal(m.reached, 2);
    const none = cellMetrics([summary(0, 1), summary(1, 2)], 0);
    assert.ok(Number.isNaN(none.stepsToTolerance));
    assert.equal(none.reached, 0);
  });

  test("nearest minimum: the most common among rows that did not diverge", () => {
    assert.equal(cellMetrics(rows, 0).nearestMinimum, 1);
  });

  test("a tie goes to the lower index, whatever the order", () => {
    const tie = [summary(0, 1, { nearest_minimum: 3 }), summary(1, 1, { nearest_minimum: 0 })];
    assert.equal(cellMetrics(tie, 0).nearestMinimum, 0);
    assert.equal(cellMetrics([...tie].reverse(), 0).nearestMinimum, 0);
  });

  test("no minima known, or every row diverged: no nearest minimum", () => {
    assert.ok(Number.isNaN(cellMetrics([summary(0, 1)], null).nearestMinimum));
    const diverged = [summary(0, 9, { diverged_at: 3, nearest_minimum: 2 })];
    assert.ok(Number.isNaN(cellMetrics(diverged, 0).nearestMinimum));
  });

  test("the gap is to the landscape's minimum value; without one it is NaN", () => {
    assert.equal(cellMetrics([summary(0, -1.0)], -1.0316).gap, -1.0 + 1.0316);
    assert.ok(Number.isNaN(cellMetrics([summary(0, 1)], null).gap));
  });

  test("a row with no final loss counts as diverged", () => {
    assert.equal(rowFinalLoss(summary(0, null)), Infinity);
  });
});

describe("cellValue: what a cell is coloured by, null when greyed", () => {
  const cell = (rows) => ({ metrics: cellMetrics(rows, 0) });

  test("final loss: log10 of the gap, floored at 1e-16", () => {
    assert.equal(cellValue(cell([summary(0, 0.01)]), "final_loss", 0), -2);
    assert.equal(cellValue(cell([summary(0, 1e-20)]), "final_loss", 0), Math.log10(GAP_FLOOR));
    assert.equal(cellValue(cell([summary(0, 0)]), "final_loss", 0), -16);
  });

  test("final loss without a known minimum: log10 of the loss itself", () => {
    const rows = [summary(0, 1000)];
    assert.equal(cellValue({ metrics: cellMetrics(rows, null) }, "final_loss", null), 3);
  });

  test("a cell whose median diverged is greyed for the loss and the basin", () => {
    const diverged = cell([
      summary(0, 1, { diverged_at: 4 }), summary(1, 1, { diverged_at: 9 }),
      summary(2, 0.5, { nearest_minimum: 1 }),
    ]);
    assert.equal(cellValue(diverged, "final_loss", 0), null);
    // One row did not diverge: it names the basin.
    assert.equal(cellValue(diverged, "nearest", 0), 1);
    assert.equal(cellValue(cell([summary(0, 1, { diverged_at: 2 })]), "nearest", 0), null);
  });

  test("steps: greyed where no row reached the tolerance", () => {
    assert.equal(cellValue(cell([summary(0, 1)]), "steps", 0), null);
    assert.equal(cellValue(cell([summary(0, 1, { steps_to_tolerance: 7 })]), "steps", 0), 7);
  });

  test("no cell (a start not computed yet): null", () => {
    assert.equal(cellValue(null, "final_loss", 0), null);
  });
});

// A 4 x 3 grid of starts, x in [0, 3], y in [10, 12]; series A and B, seeds 0 and 1. Rows run
// through the starts fastest, then seeds, then series: row = (series * 2 + seed) * 12 + start.
const GRID = { x: [0, 3, 4], y: [10, 12, 3] };
function mapRun() {
  const infos = [];
  const summaries = [];
  for (const [series, label] of ["A", "B"].entries()) {
    for (const seed of [0, 1]) {
      for (let start = 0; start < 12; start++) {
        const row = (series * 2 + seed) * 12 + start;
        infos.push({ row, series, label, optimizer: label.toLowerCase(), hparams: {}, seed,
          start: [start % 4, 10 + Math.floor(start / 4)] });
        // A's loss: 10^-(start + 1) on seed 0 and ten times that on seed 1; B diverges at start
        // 5 on both seeds and ends in minimum (start % 2) elsewhere.
        summaries.push(series === 0
          ? summary(row, 10 ** -(start + 1) * (seed ? 10 : 1), { steps_to_tolerance: start + seed })
          : summary(row, 1, { diverged_at: start === 5 ? 3 : null, nearest_minimum: start % 2 }));
      }
    }
  }
  return { infos, summaries };
}

describe("startMaps", () => {
  test("the grid's axes, as the server spaces them", () => {
    assert.deepEqual(gridAxis([0, 3, 4]), [0, 1, 2, 3]);
    assert.deepEqual(gridAxis([-5, 5, 3]), [-5, 0, 5]);
    assert.deepEqual(gridAxis([2, 7, 1]), [2]);
  });

  test("one map per label, cells[j][i] the median over seeds at start j * nx + i", () => {
    const { infos, summaries } = mapRun();
    const maps = startMaps(infos, summaries, GRID, 0);
    assert.deepEqual(maps.map((m) => m.label), ["A", "B"]);
    const [a, b] = maps;
    assert.deepEqual(a.x, [0, 1, 2, 3]);
    assert.deepEqual(a.y, [10, 11, 12]);
    // Start 6 (i = 2, j = 1): losses 1e-7 and ten times that, median 5.5e-7; steps 6 and 7,
    // median 6.5.
    const cell = a.cells[1][2];
    assert.deepEqual([cell.x, cell.y], [2, 11]);
    assert.equal(cell.metrics.finalLoss, (10 ** -7 + 10 ** -7 * 10) / 2);
    assert.equal(cell.metrics.stepsToTolerance, 6.5);
    assert.equal(cell.members.length, 2);
    assert.deepEqual(cell.members.map((m) => m.info.seed), [0, 1]);
    // B: start 5 diverged on both seeds (greyed); start 4 ends in minimum 0, start 7 in 1.
    const z = metricGrid(b, "final_loss", 0);
    assert.equal(z[1][1], null);
    assert.equal(z[1][0], 0);
    assert.deepEqual(metricGrid(b, "nearest", 0)[1], [0, null, 0, 1]);
    assert.deepEqual(metricGrid(a, "final_loss", 0)[0].map((v) => Number(v.toFixed(6))),
      [1, 2, 3, 4].map((k) => Number(Math.log10((10 ** -k + 10 ** -(k - 1)) / 2).toFixed(6))));
  });

  test("a subset of starts (the preview) gives a coarser map over the columns present", () => {
    const { infos, summaries } = mapRun();
    const coarse = summaries.filter((s) => {
      const start = s.row % 12;
      return (start % 4) % 2 === 0 && Math.floor(start / 4) % 2 === 0;
    });
    const [a] = startMaps(infos, coarse, GRID, 0);
    assert.deepEqual(a.x, [0, 2]);
    assert.deepEqual(a.y, [10, 12]);
    // Start 10 (i = 2, j = 2) is the coarse cell [1][1]: losses 1e-11 and ten times that.
    assert.equal(a.cells[1][1].metrics.finalLoss, (10 ** -11 + 10 ** -11 * 10) / 2);
    assert.deepEqual([a.cells[1][1].x, a.cells[1][1].y], [2, 12]);
  });

  test("the shared colour range spans every map's numbers, greyed cells left out", () => {
    const { infos, summaries } = mapRun();
    const values = startMaps(infos, summaries, GRID, 0)
      .map((m) => flatValues(flatPicture(m), "steps", 0));
    // A reached in 0.5 (start 0) to 11.5 (start 11) median steps; B never: all NaN.
    assert.deepEqual(sharedRange(values), [0.5, 11.5]);
    assert.equal(sharedRange([Float64Array.of(Number.NaN, Number.NaN)]), null);
  });

  test("a flat cell holds the same numbers as the cell it was made from", () => {
    const { infos, summaries } = mapRun();
    for (const picture of startMaps(infos, summaries, GRID, 0)) {
      const flat = flatPicture(picture);
      assert.equal(flat.x.length, 4);
      assert.equal(flat.y.length, 3);
      picture.cells.forEach((line, j) => line.forEach((cell, i) => {
        const copy = flatCell(flat, j, i);
        assert.deepEqual([copy.x, copy.y], [cell.x, cell.y]);
        assert.equal(copy.row, cell.members[0].summary.row);
        for (const [name, value] of Object.entries(cell.metrics)) {
          assert.ok(Object.is(copy.metrics[name], value), `${name} at [${j}][${i}]`);
        }
      }));
      assert.equal(flatCell(flat, 3, 0), null, "outside the grid");
      // Every column's buffer is listed for transfer, each once.
      assert.equal(new Set(flatBuffers(flat)).size, 12);
    }
  });

  test("a start the subset lacks has no flat cell", () => {
    const { infos, summaries } = mapRun();
    const [a] = startMaps(infos, summaries.filter((s) => s.row % 12 !== 5), GRID, 0);
    const flat = flatPicture(a);
    assert.equal(flatCell(flat, 1, 1), null);
    assert.ok(Number.isNaN(flatValues(flat, "final_loss", 0)[5]));
    assert.notEqual(flatCell(flat, 1, 2), null);
  });
});

describe("phaseDiagram", () => {
  // Anon swept over gamma (slowest) x lr, 3 seeds, one start; a second series is not swept.
  const sweeps = [{ param: "gamma", values: [0, 1] }, { param: "lr", values: [0.01, 0.1, 1] }];
  const infos = [];
  const summaries = [];
  const losses = {
    "0|0.01": [3, 1, 2], "0|0.1": [0.5, 0.25, 0.75], "0|1": [Infinity, Infinity, 0.1],
    "1|0.01": [9, 8, 7], "1|0.1": [0.5, 0.2, Infinity], "1|1": [1e-3, 2e-3, 4e-3],
  };
  for (const gamma of sweeps[0].values) {
    for (const lr of sweeps[1].values) {
      for (const seed of [0, 1, 2]) {
        const row = infos.length;
        const loss = losses[`${gamma}|${lr}`][seed];
        infos.push({ row, series: 0, label: "Anon", optimizer: "anon",
          hparams: { gamma, lr, beta1: 0.9 }, seed, start: [0, 0] });
        summaries.push(summary(row, loss === Infinity ? 1e9 : loss,
          { diverged_at: loss === Infinity ? 5 : null,
            steps_to_tolerance: loss < 0.01 ? 40 + seed : null }));
      }
    }
  }
  infos.push({ row: infos.length, series: 1, label: "Adam", optimizer: "adam",
    hparams: { lr: 0.1, gamma: 0 }, seed: 0, start: [0, 0] });
  summaries.push(summary(infos.length - 1, 123));

  test("the second sweep on x, the first on y, medians over seeds, spread min-max", () => {
    const phase = phaseDiagram(infos, summaries, 0, sweeps, 0);
    assert.equal(phase.label, "Anon");
    assert.equal(phase.xName, "lr");
    assert.equal(phase.yName, "gamma");
    assert.deepEqual(phase.x, [0.01, 0.1, 1]);
    assert.deepEqual(phase.y, [0, 1]);
    const finals = phase.cells.map((line) => line.map((cell) => cell.metrics.finalLoss));
    assert.deepEqual(finals, [[2, 0.5, Infinity], [8, 0.5, 2e-3]]);
    const spread = phase.cells[1][1].metrics;
    assert.deepEqual([spread.lossMin, spread.lossMax], [0.2, Infinity]);
    assert.equal(phase.cells[1][2].metrics.stepsToTolerance, 41);
    assert.equal(phase.cells[1][2].metrics.reached, 3);
    // gamma 0, lr 1: two of three seeds diverged: the median is +inf, greyed.
    assert.equal(metricGrid(phase, "final_loss", 0)[0][2], null);
    assert.equal(metricGrid(phase, "final_loss", 0)[1][0], Math.log10(8));
  });

  test("rows of other series are left out", () => {
    const phase = phaseDiagram(infos, summaries, 0, sweeps, 0);
    const members = phase.cells.flat().reduce((n, cell) => n + cell.members.length, 0);
    assert.equal(members, 18);
  });

  test("axes: log when the values are positive and span more than 20x", () => {
    assert.equal(axisType([1e-4, 1e-3, 1e-2]), "log");
    assert.equal(axisType([0.001, 0.03]), "log");
    assert.equal(axisType([0.1, 1]), "linear");
    assert.equal(axisType([0.05, 1]), "linear", "20x exactly is not more than 20x");
    assert.equal(axisType([-1, 0, 2]), "linear");
    assert.equal(axisType([0, 1, 100]), "linear", "zero cannot sit on a log axis");
    assert.equal(axisType([5]), "linear");
  });
});

describe("what a picture can show", () => {
  test("the nearest minimum only on maps of landscapes with several global minima", () => {
    assert.deepEqual(availableMetrics("map", 4), ["final_loss", "steps", "nearest"]);
    assert.deepEqual(availableMetrics("map", 1), ["final_loss", "steps"]);
    assert.deepEqual(availableMetrics("phase", 4), ["final_loss", "steps"]);
  });

  test("the best value is the lowest global minimum, null when none is known", () => {
    assert.equal(bestValue({ global_minima: [{ value: 0 }, { value: 0 }] }), 0);
    assert.equal(bestValue({ global_minima: [{ value: -1.03 }, { value: -1.0316 }] }), -1.0316);
    assert.equal(bestValue({ global_minima: [] }), null);
  });
});

describe("a coarse picture over the whole grid", () => {
  test("the grid indices of a picture's coordinates", () => {
    assert.deepEqual(Array.from(gridIndices([-5, -1, 3], [-5, 5, 11])), [0, 4, 8]);
    assert.deepEqual(Array.from(gridIndices([2], [2, 7, 1])), [0]);
  });

  test("each coarse cell fills its block, the last block what is left", () => {
    // Columns 0 and 2 of 3, lines 0 and 2 of 4 (blocks of 2, then 1 column and 2 lines).
    const coarse = Float64Array.of(1, 2, 3, Number.NaN);
    const spread = blockValues(coarse, [0, 2], [0, 2], 3, 4);
    assert.deepEqual(Array.from(spread), [1, 1, 2, 1, 1, 2, 3, 3, NaN, 3, 3, NaN]);
  });
});

describe("colouring a map's cells", () => {
  test("each metric's scale: Plotly's Viridis over the range, Cividis over the steps, "
    + "the minima as categories", () => {
    assert.deepEqual(metricScale("final_loss", { range: [-8, -2], steps: 50, minimaCount: 4 }),
      { colorscale: PLOTLY_VIRIDIS, cmin: -8, cmax: -2 });
    // A range of one value, or none: a scale one unit wide.
    assert.deepEqual(metricScale("final_loss", { range: [3, 3], steps: 50 }).cmax, 4);
    assert.deepEqual(metricScale("final_loss", { range: null, steps: 50 }).cmin, 0);
    assert.deepEqual(metricScale("steps", { range: [1, 9], steps: 50 }),
      { colorscale: PLOTLY_CIVIDIS, cmin: 0, cmax: 50 });
    const nearest = metricScale("nearest", { range: [0, 3], steps: 50, minimaCount: 2 });
    assert.deepEqual(nearest, { cmin: -0.5, cmax: 1.5, colorscale: [
      [0, SERIES_PALETTE[0]], [0.5, SERIES_PALETTE[0]],
      [0.5, SERIES_PALETTE[1]], [1, SERIES_PALETTE[1]]] });
  });

  test("one pixel per cell, the highest y on top, greyed cells transparent", () => {
    const table = colourTable(PLOTLY_VIRIDIS);
    // 2 x 2 cells: (0, 0) at the low end, (1, 0) at the high end, (0, 1) greyed, (1, 1) midway.
    const pixels = cellPixels(Float64Array.of(0, 10, Number.NaN, 5), 2, 2, table, 0, 10);
    const pixel = (column, line) => Array.from(pixels.subarray(4 * (line * 2 + column),
      4 * (line * 2 + column) + 4));
    // The image's top line is the cells' y line 1.
    assert.deepEqual(pixel(0, 0), [0, 0, 0, 0]);
    assert.deepEqual(pixel(1, 0), [...table.subarray(3 * 128, 3 * 128 + 3), 255]);
    assert.deepEqual(pixel(0, 1), [0x44, 0x01, 0x54, 255], "Viridis' first stop");
    assert.deepEqual(pixel(1, 1), [0xfd, 0xe7, 0x25, 255], "Viridis' last stop");
    // Values outside the scale take its ends.
    const clamped = cellPixels(Float64Array.of(-3, 99), 2, 1, table, 0, 10);
    assert.deepEqual(Array.from(clamped), [0x44, 0x01, 0x54, 255, 0xfd, 0xe7, 0x25, 255]);
  });

  test("a colour bar's ticks: round values within the scale, or the minima by their points", () => {
    const ticks = scaleTicks("final_loss", { cmin: -15.3, cmax: 0.4 }, []);
    assert.deepEqual(ticks, [-15, -10, -5, 0].map((value) => ({ value, label: String(value) })));
    assert.deepEqual(scaleTicks("steps", { cmin: 0, cmax: 300 }, []).map((t) => t.value),
      [0, 100, 200, 300], "round ends are marked");
    const minima = [{ point: [3, 2], value: 0 }, { point: [-2.805118, 3.131312], value: 0 }];
    assert.deepEqual(scaleTicks("nearest", { cmin: -0.5, cmax: 1.5 }, minima),
      [{ value: 0, label: "(3, 2)" }, { value: 1, label: "(-2.81, 3.13)" }]);
  });

  test("a categorical scale paints minimum k in the k-th colour", () => {
    const scale = metricScale("nearest", { minimaCount: 4 });
    const table = colourTable(scale.colorscale);
    const pixels = cellPixels(Float64Array.of(0, 1, 2, 3), 4, 1, table, scale.cmin, scale.cmax);
    const hex = (k) => `#${Array.from(pixels.subarray(4 * k, 4 * k + 3),
      (c) => c.toString(16).padStart(2, "0")).join("")}`.toUpperCase();
    assert.deepEqual([0, 1, 2, 3].map(hex), SERIES_PALETTE.slice(0, 4));
  });
});

describe("describeCell: what hovering a cell says", () => {
  const minima = [{ point: [3, 2], value: 0 }, { point: [-2.805118, 3.131312], value: 0 }];

  test("a map cell of one seed", () => {
    const picture = { label: "Adam", xName: "x", yName: "y" };
    const cell = { x: 2.5, y: -1.25, metrics: cellMetrics(
      [summary(0, 2.5e-9, { steps_to_tolerance: 84, nearest_minimum: 1 })], 0) };
    assert.equal(describeCell(picture, cell, minima), "Adam, start (2.5, -1.25): final loss "
      + "2.50e-9; within tolerance at step 84; ends nearest the minimum (-2.81, 3.13).");
  });

  test("a phase diagram cell: the median, its spread, and how many diverged", () => {
    const picture = { label: "Anon", xName: "lr", yName: "gamma" };
    const cell = { x: 0.01, y: 0.5, metrics: cellMetrics([
      summary(0, 0.5, { steps_to_tolerance: 40 }), summary(1, 0.25),
      summary(2, 3, { diverged_at: 12 })], 0) };
    assert.equal(describeCell(picture, cell, minima.slice(0, 1)), "Anon, gamma 0.5, lr 0.01: "
      + "final loss 0.5 (median of 3 rows; min 0.25, max diverged); within tolerance for 1/3, "
      + "median step 40; diverged: 1 of 3.");
  });
});
