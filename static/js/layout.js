// The page's own layout controls, apart from any run: the 3-D view's full-width toggle. The
// plots follow their divs' new sizes by themselves (plot.js watches them), so this only flips
// a class that app.css lays out. The button keeps its label; aria-pressed says whether it is on
// (a label that changed with the state would be read out as its opposite).

const toggle = document.querySelector('[data-testid="surface-wide"]');
const plots = document.querySelector('[data-testid="plots"]');

toggle.addEventListener("click", () => {
  const wide = toggle.getAttribute("aria-pressed") !== "true";
  plots.classList.toggle("surface-wide", wide);
  toggle.setAttribute("aria-pressed", String(wide));
});
