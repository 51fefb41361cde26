// Paints the landscape's picture off the page's main thread (a module worker): shading and
// iso-lines (landscape-render.js) on an OffscreenCanvas, answered as a PNG data: URL that the
// contour plot shows as a layout image (a picture Plotly places, never recomputes).

import { colourTable, contourLevels, isoSegments, shadePixels } from "./landscape-render.js";

// Message: {id, x, y, z (Float64Array, rows by y, NaN for holes), zmin, zmax, colourscale,
// levels (how many, about), line: {color, width}, width, height (pixels)}.
self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, url: await paint(data) });
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error?.message ?? error) });
  }
};

async function paint({ x, y, z, zmin, zmax, colourscale, levels, line, width, height }) {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d");
  const pixels = shadePixels({ x, y, z, zmin, zmax, table: colourTable(colourscale), width,
    height });
  context.putImageData(new ImageData(pixels, width, height), 0, 0);
  // Grid coordinates (fractional indices) to the picture's pixels.
  const toPixel = (coords, pixels, index) => {
    const i = Math.min(Math.floor(index), coords.length - 2);
    const value = coords[i] + (index - i) * (coords[i + 1] - coords[i]);
    return ((value - coords[0]) / (coords[coords.length - 1] - coords[0])) * pixels;
  };
  context.strokeStyle = line.color;
  context.lineWidth = line.width;
  context.lineCap = "round";
  for (const level of contourLevels(zmin, zmax, levels)) {
    const segments = isoSegments(z, x.length, y.length, level);
    context.beginPath();
    for (let k = 0; k < segments.length; k += 4) {
      context.moveTo(toPixel(x, width, segments[k]), height - toPixel(y, height, segments[k + 1]));
      context.lineTo(toPixel(x, width, segments[k + 2]),
        height - toPixel(y, height, segments[k + 3]));
    }
    context.stroke();
  }
  const blob = await canvas.convertToBlob({ type: "image/png" });
  return new FileReaderSync().readAsDataURL(blob);
}
