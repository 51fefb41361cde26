// Colours readable by colour-blind viewers: Okabe and Ito's qualitative palette for series (then
// more hues from Paul Tol's palettes), and viridis (perceptually uniform, monotone in lightness)
// for values such as gamma.

// Okabe-Ito without its yellow, which vanishes on a light background, then Paul Tol's: 14
// colours, every two at least 18 apart in CIE76 ΔE (Lab), so 14 series never share one.
export const SERIES_PALETTE = [
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
  "#332288", // indigo (Tol muted)
  "#999933", // olive (Tol muted)
  "#882255", // wine (Tol muted)
  "#117733", // green (Tol muted)
  "#EE6677", // red (Tol bright)
  "#AA4499", // purple (Tol muted)
  "#44AA99", // teal (Tol muted)
];

export function seriesColor(index) {
  return SERIES_PALETTE[index % SERIES_PALETTE.length];
}

// Line dashes of series in the loss and distance plots, by position: two optimizers that
// behave alike (Adam and Yogi under noise) draw the same curve, and a dashed curve on top lets
// the one under it show through its gaps. Colour alone cannot.
export const SERIES_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];

export function seriesDash(index) {
  return SERIES_DASHES[index % SERIES_DASHES.length];
}

// The colour for a new series beside series coloured `used`: the first palette colour none of
// them has (so removing a series and adding one never doubles a colour), else by position.
export function nextSeriesColor(used) {
  const taken = new Set(used.map((color) => String(color).toUpperCase()));
  return SERIES_PALETTE.find((color) => !taken.has(color)) ?? seriesColor(used.length);
}

// CIE L*a*b* (D65) of a "#rrggbb" colour.
export function hexToLab(hex) {
  const linear = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, b] = linear;
  const xyz = [
    (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
    0.2126 * r + 0.7152 * g + 0.0722 * b,
    (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
  ];
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = xyz.map(f);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

// The CIE76 colour difference of two "#rrggbb" colours (about 2.3 is just noticeable).
export function deltaE76(a, b) {
  const [l1, a1, b1] = hexToLab(a);
  const [l2, a2, b2] = hexToLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
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

// The landscape in quiet blue-greys so that coloured paths stand out on it.
export const LANDSCAPE_COLORSCALE = [
  [0, "#f7fbff"], [0.25, "#dbe6f1"], [0.5, "#b5c8dc"], [0.75, "#8aa3bf"], [1, "#5b7796"],
];

// Plotly's own Viridis and Cividis, stop for stop: the map pictures are painted off the main
// thread with these (landscape-render.js colourTable), and their colour bars must say the same.
export const PLOTLY_VIRIDIS = [
  [0, "#440154"], [0.06274509803921569, "#48186a"], [0.12549019607843137, "#472d7b"],
  [0.18823529411764706, "#424086"], [0.25098039215686274, "#3b528b"],
  [0.3137254901960784, "#33638d"], [0.3764705882352941, "#2c728e"],
  [0.4392156862745098, "#26828e"], [0.5019607843137255, "#21918c"],
  [0.5647058823529412, "#1fa088"], [0.6274509803921569, "#28ae80"],
  [0.6901960784313725, "#3fbc73"], [0.7529411764705882, "#5ec962"],
  [0.8156862745098039, "#84d44b"], [0.8784313725490196, "#addc30"],
  [0.9411764705882353, "#d8e219"], [1, "#fde725"],
];
export const PLOTLY_CIVIDIS = [
  [0, "rgb(0,32,76)"], [0.058824, "rgb(0,42,102)"], [0.117647, "rgb(0,52,110)"],
  [0.176471, "rgb(39,63,108)"], [0.235294, "rgb(60,74,107)"], [0.294118, "rgb(76,85,107)"],
  [0.352941, "rgb(91,95,109)"], [0.411765, "rgb(104,106,112)"], [0.470588, "rgb(117,117,117)"],
  [0.529412, "rgb(131,129,120)"], [0.588235, "rgb(146,140,120)"],
  [0.647059, "rgb(161,152,118)"], [0.705882, "rgb(176,165,114)"],
  [0.764706, "rgb(192,177,109)"], [0.823529, "rgb(209,191,102)"],
  [0.882353, "rgb(225,204,92)"], [0.941176, "rgb(243,219,79)"], [1, "rgb(255,233,69)"],
];
