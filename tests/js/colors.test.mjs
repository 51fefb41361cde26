// static/js/colors.js: the series palette and the viridis scale.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  LANDSCAPE_COLORSCALE, SERIES_PALETTE, seriesColor, viridis,
} from "../../static/js/colors.js";

const rgb = (text) => text.match(/^rgb\((\d+),(\d+),(\d+)\)$/).slice(1).map(Number);
// Relative luminance (sRGB), enough to check that the scale only gets lighter.
const luminance = ([r, g, b]) => {
  const linear = (c) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
};

describe("seriesColor", () => {
  test("Okabe-Ito without its yellow, distinct, wrapping around", () => {
    assert.equal(new Set(SERIES_PALETTE).size, SERIES_PALETTE.length);
    assert.ok(!SERIES_PALETTE.map((c) => c.toUpperCase()).includes("#F0E442"));
    SERIES_PALETTE.forEach((color, i) => {
      assert.equal(seriesColor(i), color);
      assert.equal(seriesColor(i + SERIES_PALETTE.length), color);
    });
  });
});

describe("viridis", () => {
  test("the ends of the truncated scale", () => {
    assert.equal(viridis(0), "rgb(68,1,84)");
    // t = 1 maps to 0.9 of the way: 20% from the last-but-one stop to the brightest yellow.
    assert.equal(viridis(1), "rgb(187,222,47)");
    assert.equal(viridis(0.5), "rgb(37,132,141)"); // 60% from the 4th stop to the 5th
  });

  test("out-of-range and non-finite values are clamped", () => {
    assert.equal(viridis(-3), viridis(0));
    assert.equal(viridis(7), viridis(1));
    assert.equal(viridis(Number.NaN), viridis(0));
    assert.equal(viridis(Infinity), viridis(0));
  });

  test("monotone in lightness", () => {
    const values = Array.from({ length: 101 }, (_, i) => luminance(rgb(viridis(i / 100))));
    values.slice(1).forEach((value, i) => assert.ok(value >= values[i], `at ${(i + 1) / 100}`));
  });

  test("the landscape's Plotly colourscale runs from 0 to 1", () => {
    const scale = LANDSCAPE_COLORSCALE;
    assert.equal(scale[0][0], 0);
    assert.equal(scale.at(-1)[0], 1);
    scale.slice(1).forEach(([at], i) => assert.ok(at > scale[i][0]));
  });
});
