// static/js/landscape-render.js: the landscape's picture (shading, iso-levels, iso-lines), which
// a worker paints off the page's main thread.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  colourTable, contourLevels, isoSegments, shadePixels,
} from "../../static/js/landscape-render.js";

describe("the colour table", () => {
  test("runs from the scale's first colour to its last, through its stops", () => {
    const table = colourTable([[0, "#000000"], [0.5, "rgb(100,200,0)"], [1, "#ffffff"]]);
    assert.equal(table.length, 256 * 3);
    assert.deepEqual([...table.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...table.subarray(765, 768)], [255, 255, 255]);
    // Halfway (k = 127.5 of 255): the middle stop's colour, to within one step.
    const middle = [...table.subarray(3 * 128, 3 * 129)];
    assert.ok(Math.abs(middle[0] - 100) <= 2 && Math.abs(middle[1] - 200) <= 2, middle);
  });
});

describe("iso-levels", () => {
  test("round steps strictly inside the range, about as many as asked", () => {
    assert.deepEqual(contourLevels(0, 1, 4), [0.25, 0.5, 0.75]);
    const levels = contourLevels(-2.3, 3.4, 28);
    assert.ok(levels.length >= 20 && levels.length <= 30, String(levels.length));
    assert.ok(levels[0] > -2.3 && levels.at(-1) < 3.4);
    const step = levels[1] - levels[0];
    for (let i = 1; i < levels.length; i++) {
      assert.ok(Math.abs(levels[i] - levels[i - 1] - step) < 1e-9);
    }
    assert.deepEqual(contourLevels(1, 1, 28), []);
  });
});

describe("iso-lines", () => {
  // z = x on a 3 x 2 grid: the level 0.5 crosses the bottom and the top rows halfway between
  // columns 0 and 1, one straight segment.
  const z = Float64Array.from([0, 1, 2, 0, 1, 2]);

  test("a level is crossed where the grid's values pass it, linearly", () => {
    const segments = isoSegments(z, 3, 2, 0.5);
    assert.equal(segments.length, 4);
    const ends = [[segments[0], segments[1]], [segments[2], segments[3]]]
      .sort((a, b) => a[1] - b[1]);
    assert.deepEqual(ends, [[0.5, 0], [0.5, 1]]);
  });

  test("levels outside the values, and cells with a hole, have no line", () => {
    assert.deepEqual(isoSegments(z, 3, 2, 5), []);
    const holed = Float64Array.from([0, Number.NaN, 2, 0, 1, 2]);
    const segments = isoSegments(holed, 3, 2, 0.5);
    assert.deepEqual(segments, []);
    assert.equal(isoSegments(holed, 3, 2, 1.5).length, 0);
  });
});

describe("shading", () => {
  test("each pixel is the grid's bilinear value on the scale; holes are transparent", () => {
    const table = colourTable([[0, "#000000"], [1, "#ffffff"]]);
    const x = Float64Array.from([0, 1]);
    const y = Float64Array.from([0, 1]);
    // Rows by y: z = x everywhere (0 at the left, 1 at the right).
    const pixels = shadePixels({ x, y, z: Float64Array.from([0, 1, 0, 1]), zmin: 0, zmax: 1,
      table, width: 4, height: 2 });
    const grey = (px, py) => pixels[4 * (py * 4 + px)];
    // Pixel centres at x = 1/8, 3/8, 5/8, 7/8.
    assert.deepEqual([0, 1, 2, 3].map((px) => grey(px, 0)), [32, 96, 159, 223]);
    assert.equal(pixels[3], 255);
    const holed = shadePixels({ x, y, z: Float64Array.from([0, 1, Number.NaN, 1]), zmin: 0,
      zmax: 1, table, width: 2, height: 2 });
    assert.equal(holed[3], 0, "a pixel that a hole reaches is transparent");
  });

  test("the picture's top row is the grid's last row (the largest y)", () => {
    const table = colourTable([[0, "#000000"], [1, "#ffffff"]]);
    const pixels = shadePixels({ x: Float64Array.from([0, 1]), y: Float64Array.from([0, 1]),
      z: Float64Array.from([0, 0, 1, 1]), zmin: 0, zmax: 1, table, width: 1, height: 4 });
    assert.ok(pixels[0] > pixels[4 * 3], "brighter at the top, where y (and z) are larger");
  });
});
