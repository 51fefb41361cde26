// The "Fan" control of a series card: one series run over a range of one hyperparameter that
// its optimizer takes as a tensor (fan.js), in one request and one optimizer instance. It
// writes the series' `sweep` ({param, values}: what the URL and the run spec carry) and
// reports "structure" (re-render the inputs, run).

import { h } from "./controls.js";
import {
  countForStep, defaultFan, fanFromValues, fanParams, fanProblem, fanStep, fanValues,
  formatFanValue, paramSymbol,
} from "./fan.js";

function numberInput(testid, label, value, onValue) {
  const input = h("input", { type: "text", inputmode: "decimal", value: String(value),
    "data-testid": testid, "aria-label": label, spellcheck: "false", autocomplete: "off",
    onchange: (event) => onValue(Number(event.target.value.trim() || Number.NaN)) });
  return h("label", { class: "fan-field" }, h("span", {}, label), input);
}

// The fan part of series `index`'s card, or null when its optimizer can fan nothing.
export function fanEditor(state, catalogue, index, changed) {
  const series = state.series[index];
  const entry = catalogue.optimizers.find((o) => o.id === series.optimizer);
  const params = fanParams(entry);
  if (!params.length) return null;
  const sweep = series.sweep;
  const prefix = `series-${index}-fan`;
  const set = (param, fan) => {
    series.sweep = { param, values: fanValues(fan) };
    // The slider starts where the new fan is (main.js picks its middle).
    if (state.fanAt !== undefined) state.fanAt = null;
    changed("structure");
  };
  if (!sweep) {
    return h("div", { class: "fan-editor", "data-testid": prefix },
      h("span", { class: "fan-title" }, "Fan:"),
      params.map((param) => {
        const fan = defaultFan(entry, param);
        return h("button", { type: "button", class: "link", "data-testid": `${prefix}-${param}`,
          title: `Run this series at ${fan.count} values of ${param} from `
            + `${formatFanValue(fan.from)} to ${formatFanValue(fan.to)} in one request, and `
            + "drag a slider through them",
          onclick: () => set(param, fan) }, `${paramSymbol(param)} (${fan.count} paths)`);
      }));
  }
  if (Array.isArray(sweep) || !params.includes(sweep.param)) return null;
  const fan = fanFromValues(sweep.values);
  const scale = entry.hparams_schema.properties[sweep.param]?.log_scale ? "log" : fan.scale;
  const current = { from: fan.from, to: fan.to, count: fan.count, scale };
  const error = h("div", { class: "field-error", role: "alert", "data-testid": `${prefix}-error` });
  const update = (patch) => {
    const next = { ...current, ...patch };
    const problem = fanProblem(next);
    error.textContent = problem ?? "";
    if (!problem) set(sweep.param, next);
  };
  const step = fanStep(current);
  const stepLabel = scale === "log" ? "× step" : "step";
  return h("div", { class: "fan-editor", "data-testid": prefix },
    h("div", { class: "fan-title" }, `Fan over ${paramSymbol(sweep.param)}: ${fan.count} `
      + `paths, one request${scale === "log" ? ", log-spaced" : ""}`),
    h("div", { class: "fan-fields" },
      numberInput(`${prefix}-from`, "from", formatFanValue(fan.from), (from) => update({ from })),
      numberInput(`${prefix}-to`, "to", formatFanValue(fan.to), (to) => update({ to })),
      numberInput(`${prefix}-count`, "count", fan.count, (count) => update({ count })),
      numberInput(`${prefix}-step`, stepLabel, step === null ? "" : formatFanValue(step),
        (value) => {
          const count = countForStep(current.from, current.to, value, scale);
          if (count === null) error.textContent = "Enter a step that fits the range.";
          else update({ count });
        })),
    fan.even ? null : h("p", { class: "help" }, "The values typed below are not an even range: "
      + "editing a field here makes them one."),
    error);
}
