// The tuning panel of a tuned run: each series' chosen value, its score at every candidate (a
// small plot), a flag where the choice sits at the grid's edge, and the plain statement that
// every optimizer had the same budget. The held-out run itself draws as any run does.

import { axisType, formatValue } from "./cells.js";
import { seriesColor } from "./colors.js";
import { h } from "./controls.js";
import { TUNE_OBJECTIVES, tuningBudget } from "./run-kinds.js";

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

// Show `tuning` (a result's or meta's `tuning`, null: hide the panel) for a run on
// `heldOutSeeds`; `colors[i]` is series i's colour.
export function showTuning(tuning, heldOutSeeds, colors) {
  const section = $("tuning");
  if (!tuning) {
    section.hidden = true;
    section.replaceChildren();
    return;
  }
  const budget = tuningBudget(tuning, heldOutSeeds);
  const objective = TUNE_OBJECTIVES[tuning.objective] ?? tuning.objective;
  const colorOf = (entry) => colors[entry.series] ?? seriesColor(entry.series);
  const rows = tuning.series.map((entry) => {
    const chosenAt = tuning.candidates.indexOf(entry.value);
    return h("tr", { "data-testid": "tuning-row" },
      h("th", { scope: "row" }, h("span", { class: "swatch", style: `background:${colorOf(entry)}` }),
        entry.label),
      h("td", { "data-testid": "tuning-value" }, formatValue(entry.value)),
      h("td", {}, formatValue(entry.scores[chosenAt] ?? Number.POSITIVE_INFINITY)),
      h("td", { class: entry.at_edge ? "edge-flag" : "", "data-testid": "tuning-edge" },
        entry.at_edge ? `⚠ at the ${chosenAt === 0 ? "lowest" : "highest"} candidate: `
          + "widen the grid" : ""));
  });
  const plot = h("div", { class: "plot plot-tuning", "data-testid": "plot-tuning" });
  section.replaceChildren(
    h("div", { class: "tuning-text" },
      h("h2", {}, `Tuned ${tuning.param}: chosen on tuning seeds, shown on held-out seeds`),
      h("p", { "data-testid": "tuning-budget" }, budget.text),
      h("table", { class: "results tuning-table", "data-testid": "tuning-table" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Series"),
          h("th", { scope: "col" }, `chosen ${tuning.param}`),
          h("th", { scope: "col" }, `median ${objective} (tuning)`),
          h("th", { scope: "col" }, ""))),
        h("tbody", {}, rows))),
    plot);
  section.hidden = false;
  drawScores(plot, tuning, objective, colorOf);
}

// Each series' median objective at every candidate (gaps where it diverged), its choice ringed.
function drawScores(plot, tuning, objective, colorOf) {
  const scores = tuning.series.flatMap((entry) => entry.scores.filter((s) => s !== null));
  const logY = scores.length > 0 && scores.every((s) => s > 0)
    && Math.max(...scores) / Math.min(...scores) > 20;
  const traces = tuning.series.flatMap((entry) => [
    { type: "scatter", mode: "lines+markers", x: tuning.candidates, y: entry.scores,
      name: entry.label, line: { color: colorOf(entry), width: 1.5 },
      marker: { size: 5, color: colorOf(entry) }, meta: { role: "scores", series: entry.series },
      hovertemplate: `${entry.label}<br>${tuning.param} %{x:.3g}: %{y:.4g}<extra></extra>` },
    { type: "scatter", mode: "markers", x: [entry.value],
      y: [entry.scores[tuning.candidates.indexOf(entry.value)]], showlegend: false,
      name: `${entry.label} chosen`, meta: { role: "chosen", series: entry.series },
      marker: { size: 13, symbol: "circle-open", color: colorOf(entry), line: { width: 2.5 } },
      hovertemplate: `${entry.label} chose ${tuning.param} %{x:.3g}<extra></extra>` },
  ]);
  Plotly.react(plot, traces, {
    margin: { l: 56, r: 10, t: 30, b: 44 }, paper_bgcolor: "rgba(0,0,0,0)",
    font: { size: 12 }, showlegend: false,
    title: { text: `Median ${objective} on the tuning seeds (gaps: diverged)`, x: 0.02,
      font: { size: 13 } },
    xaxis: { title: { text: tuning.param }, type: axisType(tuning.candidates),
      exponentformat: "power" },
    yaxis: { type: logY ? "log" : "linear", exponentformat: "power" },
  }, { responsive: true, displaylogo: false, showSendToCloud: false });
}
