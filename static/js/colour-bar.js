// Colour bars painted as pictures, placed beside a plot as a layout image. Plotly draws colour
// bars only for traces on a colour scale, and a figure that carries one pays for it at every
// redraw: on the contour, an invisible heat map that held the landscape's bar cost a quarter of
// each update of the paths (extendTraces 29 ms against 22 without, measured here); on a map,
// any change of its colour axis laid the whole figure out again (30-60 ms, against 2 ms to swap
// an image). The maps (maps.js) and the contour (plot.js) paint theirs here.

import { contourLevels } from "./landscape-render.js";

// About `count` round values from `low` to `high` (1, 2, 2.5 or 5 times a power of ten apart),
// its ends included when round.
export function roundTicks(low, high, count = 6) {
  const pad = (high - low) * 1e-9;
  return contourLevels(low - pad, high + pad, count);
}

// The bar as a PNG data: URL, `width` x `height` CSS pixels (sharp at the device's pixel
// ratio): the strip (`strip` wide) of `colorscale` from `cmin` at the bottom to `cmax` at the
// top, a tick and label per entry of `ticks` ([{value, label}]) at `textPx`, and the title
// along the right edge at `titlePx`: titles[0] if it fits the height, else titles[1], smaller
// if need be.
export function paintColourBar({ colorscale, cmin, cmax, ticks, titles, width, height, strip,
  textPx, titlePx, family, color = "#444" }) {
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.scale(ratio, ratio);
  const gradient = context.createLinearGradient(0, height, 0, 0);
  for (const [t, colour] of colorscale) gradient.addColorStop(t, colour);
  context.fillStyle = gradient;
  context.fillRect(0, 0, strip, height);
  context.fillStyle = color;
  context.font = `${textPx}px ${family}`;
  context.textBaseline = "middle";
  const tick = Math.round(textPx / 3);
  for (const { value, label } of ticks) {
    const y = height * (1 - (value - cmin) / (cmax - cmin));
    context.fillRect(strip, Math.round(y) - 0.5, tick, 1);
    context.fillText(label, strip + tick + 2, Math.min(height - textPx / 2, Math.max(textPx / 2, y)));
  }
  context.translate(width - 2, height / 2);
  context.rotate(-Math.PI / 2);
  context.font = `${titlePx}px ${family}`;
  const room = height - 8;
  let title = titles[0];
  if (context.measureText(title).width > room && titles.length > 1) {
    title = titles[1];
    const fitted = Math.floor((titlePx * room) / context.measureText(title).width);
    context.font = `${Math.max(8, Math.min(titlePx, fitted))}px ${family}`;
  }
  context.textAlign = "center";
  context.textBaseline = "bottom";
  context.fillText(title, 0, 0, room);
  return canvas.toDataURL("image/png");
}
