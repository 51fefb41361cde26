// Colours readable by colour-blind viewers: Okabe and Ito's qualitative palette for series, and
// viridis (perceptually uniform, monotone in lightness) for values such as gamma.

// Okabe-Ito without its yellow, which vanishes on a light background.
export const SERIES_PALETTE = [
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
];

export function seriesColor(index) {
  return SERIES_PALETTE[index % SERIES_PALETTE.length];
}

// Viridis sampled at nine stops; the brightest yellow is left out (t is mapped onto 0..0.9).
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

// The colour of value `t` in [0, 1] on the (truncated) viridis scale, as "rgb(r,g,b)".
export function viridis(t) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 0.9;
  const position = clamped * (VIRIDIS.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, VIRIDIS.length - 1);
  const f = position - low;
  const channel = (i) => Math.round(VIRIDIS[low][i] + f * (VIRIDIS[high][i] - VIRIDIS[low][i]));
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

// The same scale as a Plotly colourscale, for colour bars.
export const VIRIDIS_COLORSCALE = Array.from({ length: 10 }, (_, i) => [i / 9, viridis(i / 9)]);

// The landscape in quiet blue-greys so that coloured paths stand out on it.
export const LANDSCAPE_COLORSCALE = [
  [0, "#f7fbff"], [0.25, "#dbe6f1"], [0.5, "#b5c8dc"], [0.75, "#8aa3bf"], [1, "#5b7796"],
];
