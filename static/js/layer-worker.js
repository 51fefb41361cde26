// The worker that draws the canvases over the plots (live-layer.js): it owns them as
// OffscreenCanvases and replays what the page recorded for them (canvas-ops.js). Its drawing
// reaches the screen without the page's main thread: a streaming frame's strokes and the
// handing of their pixels to the compositor no longer hold the page.

import { replay } from "./canvas-ops.js";

const canvases = new Map();

self.onmessage = ({ data }) => {
  if (data.type === "canvas") canvases.set(data.id, data.canvas);
  else if (data.type === "drop") for (const id of data.ids) canvases.delete(id);
  else if (data.type === "draw") replay(data, (id) => canvases.get(id));
};
