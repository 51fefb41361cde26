// static/js/colors.js: enough series colours that tell apart, and colour difference in Lab.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  deltaE76, hexToLab, nextSeriesColor, SERIES_PALETTE, seriesColor,
} from "../../static/js/colors.js";

// The first repeated colour's 1-based series number among the first `count` series, or null.
function firstRepeat(count) {
  const seen = new Set();
  for (let i = 0; i < count; i++) {
    const color = seriesColor(i).toUpperCase();
    if (seen.has(color)) return i + 1;
    seen.add(color);
  }
  return null;
}

describe("CIE Lab and CIE76", () => {
  test("white, black and a primary in Lab (D65)", () => {
    const close = (actual, expected, tolerance = 0.05) => actual.forEach((v, i) => assert.ok(
      Math.abs(v - expected[i]) < tolerance, `${actual} vs ${expected}`));
    close(hexToLab("#FFFFFF"), [100, 0, 0]);
    close(hexToLab("#000000"), [0, 0, 0]);
    // sRGB red: L* 53.24, a* 80.09, b* 67.20 (the usual published values).
    close(hexToLab("#FF0000"), [53.24, 80.09, 67.2], 0.1);
  });

  test("ΔE76 is a distance: zero to itself, symmetric, 100 from black to white", () => {
    assert.equal(deltaE76("#0072B2", "#0072B2"), 0);
    assert.equal(deltaE76("#0072B2", "#D55E00"), deltaE76("#D55E00", "#0072B2"));
    assert.ok(Math.abs(deltaE76("#000000", "#ffffff") - 100) < 1e-6);
  });
});

describe("the series palette", () => {
  test("starts with Okabe-Ito without its yellow, then more hues", () => {
    assert.deepEqual(SERIES_PALETTE.slice(0, 7),
      ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]);
    assert.ok(!SERIES_PALETTE.map((c) => c.toUpperCase()).includes("#F0E442"));
    assert.ok(SERIES_PALETTE.length >= 13);
    for (const color of SERIES_PALETTE) assert.match(color, /^#[0-9A-F]{6}$/);
  });

  test("the first 12 series colours are pairwise more than ΔE 15 apart (CIE76)", () => {
    const colors = Array.from({ length: 12 }, (_, i) => seriesColor(i));
    for (let i = 0; i < colors.length; i++) {
      for (let j = 0; j < i; j++) {
        const difference = deltaE76(colors[i], colors[j]);
        assert.ok(difference > 15, `series ${j + 1} ${colors[j]} and ${i + 1} ${colors[i]}: ΔE ${
          difference.toFixed(1)}`);
      }
    }
  });

  test("so is every pair of the whole palette", () => {
    for (let i = 0; i < SERIES_PALETTE.length; i++) {
      for (let j = 0; j < i; j++) {
        assert.ok(deltaE76(SERIES_PALETTE[i], SERIES_PALETTE[j]) > 15, `${i} and ${j}`);
      }
    }
  });

  test("no colour repeats below 13 series; series 13 is the first that may", () => {
    assert.equal(firstRepeat(12), null);
    const repeat = firstRepeat(SERIES_PALETTE.length + 1);
    assert.ok(repeat === null || repeat >= 13, `first repeat at series ${repeat}`);
    // 13 series on the page get 13 different colours; after the palette it wraps around.
    assert.equal(firstRepeat(13), null);
    assert.equal(firstRepeat(SERIES_PALETTE.length + 1), SERIES_PALETTE.length + 1);
    assert.equal(seriesColor(SERIES_PALETTE.length), SERIES_PALETTE[0]);
  });

  test("no series colour is lighter than Okabe-Ito's orange (L* 70.6): all read on white", () => {
    for (const color of SERIES_PALETTE) assert.ok(hexToLab(color)[0] < 71, color);
  });
});

describe("nextSeriesColor", () => {
  test("the first palette colour no series has", () => {
    assert.equal(nextSeriesColor([]), SERIES_PALETTE[0]);
    assert.equal(nextSeriesColor(SERIES_PALETTE.slice(0, 3)), SERIES_PALETTE[3]);
    // Series 2 of 3 removed: the new one takes its colour instead of doubling series 3's.
    assert.equal(nextSeriesColor([SERIES_PALETTE[0], SERIES_PALETTE[2]]), SERIES_PALETTE[1]);
  });

  test("compares case-insensitively (a colour input writes lower case)", () => {
    assert.equal(nextSeriesColor([SERIES_PALETTE[0].toLowerCase()]), SERIES_PALETTE[1]);
  });

  test("custom colours take nothing; a full palette wraps by position", () => {
    assert.equal(nextSeriesColor(["#123456", "#abcdef"]), SERIES_PALETTE[0]);
    assert.equal(nextSeriesColor(SERIES_PALETTE), seriesColor(SERIES_PALETTE.length));
  });
});
