// Plotly sizes text and margins in pixels. The plots give theirs at the page's base text size
// (BASE_TEXT_PX: the root font size up to 1280 px wide) and grow them with the page's root font
// size, which app.css raises with the viewport width, so plot text keeps up with the page's.

const BASE_TEXT_PX = 14;

// How many times the base text size the page's text is now.
export function measureTextScale() {
  const rootPx = Number.parseFloat(getComputedStyle(document.documentElement).fontSize);
  return rootPx > 0 ? rootPx / BASE_TEXT_PX : 1;
}
