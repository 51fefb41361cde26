// A canvas over a Plotly plot's axes for what moves every frame, drawn without Plotly: any
// Plotly change redraws a whole plot (the contour's landscape included, tens of milliseconds),
// while a canvas appends a stroke in microseconds. It carries trajectories as they stream in
// when a run has too many points for Plotly to redraw each frame, each row's current point, the
// ends of rows that have ended and the replay's step line. Data go through the plot's own axes
// (Plotly's c2p), so the layer follows zoom, pan and resizing: the page redraws it when the
// axes change (`sync` says so). Where the browser can, a worker draws the canvases
// (layer-worker.js): this module records what to draw (canvas-ops.js) and sends it on at the end
// of the task, so that the strokes' rasterising and the canvases' commits to the compositor,
// most of a streaming frame's cost, are not the page's main thread's.

import { OperationList, RecordingContext } from "./canvas-ops.js";

// Head markers (each row's current point) and end markers, in CSS pixels.
const HEAD_RADIUS = 4.5;
const END_SIZE = 8;
// The start (a circle) and the global minima (stars) as Plotly's contour marks them (marker
// sizes 11 and 16), and the vertices of Plotly's star for its half-size 8, in CSS pixels.
const START_RADIUS = 5.5;
const STAR = [[0.225, -0.309], [0.951, -0.309], [0.363, 0.118], [0.588, 0.809], [0, 0.382],
  [-0.588, 0.809], [-0.363, 0.118], [-0.951, -0.309], [-0.225, -0.309], [0, -1]]
  .map(([x, y]) => [x * 8 * 1.4, y * 8 * 1.4]);
const MARK_EDGE = "#1f2933";
// A row that diverged: a thin red cross (Plotly's "x-thin-open", size 16) labelled above, and a
// preconditioner refresh: a small circle (size 6).
const DIVERGED_COLOUR = "#b00020";
const DIVERGED_HALF = 8;
const REFRESH_RADIUS = 3;
// Line canvases at most: translucent paths are drawn opaque, each group of rows on a canvas of
// its own (a tier) whose CSS opacity makes them translucent, so that strokes laid frame after
// frame over the same place do not build up to opaque, and groups stack in order as Plotly's
// traces do; groups beyond the last tier share it.
const MAX_TIERS = 12;
// Canvas coordinates stay within this many pixels of the axes (a diverging row's 1e30 would
// make a canvas path misbehave).
const PIXEL_LIMIT = 1e5;

function clampPixel(p) {
  return p > PIXEL_LIMIT ? PIXEL_LIMIT : p < -PIXEL_LIMIT ? -PIXEL_LIMIT : p;
}

// `points` ({color, ...}) grouped by colour, in the order the colours first appear.
function byColour(points) {
  const groups = new Map();
  for (const point of points) {
    if (!groups.has(point.color)) groups.set(point.color, []);
    groups.get(point.color).push(point);
  }
  return groups;
}

// Whether a worker draws the canvases: it needs a canvas handed over to it
// (transferControlToOffscreen). Elsewhere the page draws them itself, the same operations.
const IN_WORKER = typeof Worker === "function" && typeof HTMLCanvasElement === "function"
  && typeof HTMLCanvasElement.prototype.transferControlToOffscreen === "function";

let worker = null;
let nextCanvasId = 1;
// What the page recorded for the worker since the last message, sent at the end of the task.
const recorded = new OperationList();
let sendQueued = false;

function layerWorker() {
  if (!worker) {
    worker = new Worker(new URL("./layer-worker.js", import.meta.url), { type: "module" });
  }
  return worker;
}

function send() {
  sendQueued = false;
  if (recorded.empty) return;
  const { message, transfer } = recorded.take();
  layerWorker().postMessage(message, transfer);
}

function recordedSomething() {
  if (sendQueued) return;
  sendQueued = true;
  queueMicrotask(send);
}

function makeCanvas(name) {
  const canvas = document.createElement("canvas");
  canvas.className = `live-${name}`;
  canvas.setAttribute("aria-hidden", "true");
  Object.assign(canvas.style, { position: "absolute", pointerEvents: "none" });
  canvas.pixelSize = { width: canvas.width, height: canvas.height };
  if (IN_WORKER) {
    // Handed to the worker before anything is recorded for it (messages keep their order).
    const id = nextCanvasId++;
    const offscreen = canvas.transferControlToOffscreen();
    layerWorker().postMessage({ type: "canvas", id, canvas: offscreen }, [offscreen]);
    canvas.layerContext = new RecordingContext(recorded, id, recordedSomething);
    canvas.layerId = id;
  } else {
    canvas.layerContext = canvas.getContext("2d");
  }
  return canvas;
}

// The 2-D context to draw on `canvas` with: the recording one where the worker draws.
function context2d(canvas) {
  return canvas.layerContext;
}

// Set `canvas`'s size in device pixels (which clears it and resets its context).
function resize(canvas, width, height) {
  canvas.pixelSize = { width, height };
  if (IN_WORKER) {
    canvas.layerContext.resize(width, height);
  } else {
    canvas.width = width;
    canvas.height = height;
  }
}

function clearCanvas(canvas) {
  context2d(canvas).clearRect(0, 0, canvas.pixelSize.width, canvas.pixelSize.height);
}

// Canvases the worker no longer needs to keep (their elements left the page).
function dropCanvases(canvases) {
  const ids = canvases.map((canvas) => canvas.layerId).filter((id) => id !== undefined);
  if (ids.length) layerWorker().postMessage({ type: "drop", ids });
}

export class LiveLayer {
  // `outline`: draw a white line under every path (the contour's paths keep their contrast on
  // the landscape, as Plotly's outline traces do).
  constructor(div, { outline = false } = {}) {
    this.div = div;
    this.outline = outline;
    this.canvases = null;
    this.geometry = null;
    this.geometryKey = "";
    // Points of each path (by key) already on the lines canvas.
    this.drawn = new Map();
    this.linePoints = 0;
  }

  // Canvases in place over the plot's axes (inside Plotly's container, under its hover layer),
  // sized to them. Returns false when the plot has no axes yet. `changed`: the axes moved or
  // resized since the last call, and what was drawn is gone (redraw it).
  sync() {
    const layout = this.div._fullLayout;
    const xa = layout?.xaxis;
    const ya = layout?.yaxis;
    const container = this.div.querySelector(".svg-container");
    if (!xa?._length || !ya?._length || !container || !xa.c2p || !ya.c2p) {
      this.geometry = null;
      return { ready: false, changed: false };
    }
    this.ensureCanvases(container);
    const ratio = window.devicePixelRatio || 1;
    const key = [xa._offset, ya._offset, xa._length, ya._length, ratio, xa.type, ya.type,
      ...xa.range, ...ya.range].join();
    this.geometry = { xa, ya };
    if (key === this.geometryKey) return { ready: true, changed: false };
    this.geometryKey = key;
    this.ratio = ratio;
    for (const canvas of Object.values(this.canvases)) {
      Object.assign(canvas.style, { left: `${xa._offset}px`, top: `${ya._offset}px`,
        width: `${xa._length}px`, height: `${ya._length}px` });
      resize(canvas, Math.max(1, Math.round(xa._length * ratio)),
        Math.max(1, Math.round(ya._length * ratio)));
      context2d(canvas).setTransform(ratio, 0, 0, ratio, 0, 0);
    }
    this.drawn.clear();
    this.linePoints = 0;
    this.canvases.lines.drawnPoints = 0;
    return { ready: true, changed: true };
  }

  ensureCanvases(container) {
    if (this.canvases && this.canvases.marks.isConnected) return;
    if (this.canvases) dropCanvases(Object.values(this.canvases));
    this.canvases = { ...(this.outline ? { outline: makeCanvas("outline") } : {}),
      lines: makeCanvas("lines"), marks: makeCanvas("marks") };
    this.tiers = [this.canvases.lines];
    // Above the plot's own drawing, below Plotly's top layer (hover labels, zoom box).
    const topLayer = container.querySelectorAll(":scope > .main-svg")[1] ?? null;
    for (const canvas of Object.values(this.canvases)) container.insertBefore(canvas, topLayer);
    this.geometryKey = "";
  }

  // The line canvas of tier `index` (made on first use, above the tiers before it, sized as
  // they are), at CSS `opacity`.
  tier(index, opacity) {
    const at = Math.min(index, MAX_TIERS - 1);
    while (this.tiers.length <= at) {
      const first = this.tiers[0];
      const canvas = makeCanvas("lines");
      canvas.classList.add("live-tier");
      canvas.style.cssText = first.style.cssText;
      resize(canvas, first.pixelSize.width, first.pixelSize.height);
      const ratio = this.ratio ?? 1;
      context2d(canvas).setTransform(ratio, 0, 0, ratio, 0, 0);
      this.tiers.at(-1).after(canvas);
      this.canvases[`lines${this.tiers.length}`] = canvas;
      this.tiers.push(canvas);
    }
    const canvas = this.tiers[at];
    const shown = String(opacity);
    if (canvas.style.opacity !== shown) canvas.style.opacity = shown;
    return canvas;
  }

  x(value) {
    return clampPixel(this.geometry.xa.c2p(value));
  }

  y(value) {
    return clampPixel(this.geometry.ya.c2p(value));
  }

  // Erase the paths (and forget what was drawn of them).
  clearLines() {
    if (!this.canvases) return;
    for (const canvas of [this.canvases.outline, ...this.tiers]) {
      if (canvas) clearCanvas(canvas);
    }
    this.drawn.clear();
    this.linePoints = 0;
    this.canvases.lines.drawnPoints = 0;
  }

  clearMarks() {
    if (!this.canvases) return;
    const canvas = this.canvases.marks;
    clearCanvas(canvas);
    canvas.liveMarks = null;
  }

  clear() {
    this.clearLines();
    this.clearMarks();
  }

  // Draw each path's points up to `path.count` that are not on the canvas yet, going on from
  // its last drawn point: per frame this costs the new points only. `stride` thins a path drawn
  // from its start (a redraw of many points); a path's last point is always drawn.
  // `paths`: [{key, x, y (arrays), count, color, width, opacity, tier}]; a path's tier is
  // its group's (see MAX_TIERS), and paths of one tier share its opacity.
  extendLines(paths, { stride = 1, outlineWidth = 0, outlineOpacity = 0 } = {}) {
    if (!this.geometry) return;
    let lines = null;
    const outline = this.canvases.outline ? context2d(this.canvases.outline) : null;
    if (outline) {
      outline.lineJoin = "round";
      outline.lineCap = "round";
      outline.strokeStyle = "#ffffff";
      outline.lineWidth = outlineWidth;
      const shown = String(outlineOpacity);
      if (this.canvases.outline.style.opacity !== shown) {
        this.canvases.outline.style.opacity = shown;
      }
    }
    // Consecutive paths of one style (a series' rows) are one canvas path, stroked once, and
    // the outlines one path for all: a stroke per row costs more than its points when a run
    // has thousands of rows (and one path per group is how Plotly's "many" traces look too).
    let style = null;
    outline?.beginPath();
    for (const path of paths) {
      const done = this.drawn.get(path.key) ?? 0;
      if (path.count <= done) continue;
      const pathStyle = `${path.tier ?? 0}|${path.color}|${path.width ?? 1}`;
      if (pathStyle !== style) {
        if (style !== null) lines.stroke();
        lines = context2d(this.tier(path.tier ?? 0, path.opacity ?? 1));
        lines.lineJoin = "round";
        lines.lineCap = "round";
        lines.beginPath();
        lines.strokeStyle = path.color;
        lines.lineWidth = path.width ?? 1;
        style = pathStyle;
      }
      const from = Math.max(done - 1, 0);
      const step = done === 0 ? stride : 1;
      let open = false;
      const visit = (i) => {
        const vx = path.x[i];
        const vy = path.y[i];
        if (!Number.isFinite(vx) || !Number.isFinite(vy)) {
          open = false;
          return;
        }
        const px = this.x(vx);
        const py = this.y(vy);
        if (open) {
          lines.lineTo(px, py);
          outline?.lineTo(px, py);
        } else {
          lines.moveTo(px, py);
          outline?.moveTo(px, py);
          open = true;
        }
      };
      let i = from;
      for (; i < path.count - 1; i += step) visit(i);
      visit(path.count - 1);
      this.linePoints += path.count - done;
      this.drawn.set(path.key, path.count);
    }
    if (style !== null) {
      // The outlines under every line: the outline canvas lies below the lines canvas.
      outline?.stroke();
      lines.stroke();
    }
    // Read by tests and the benchmark: points the layer has drawn since it was cleared.
    this.canvases.lines.drawnPoints = this.linePoints;
  }

  // Replace the markers: `heads` (each row's current point: circles), `ends` (rows that have
  // ended: squares), `step` (a dotted line at that x, or null) and, where the canvas draws the
  // paths, what lies above them: the `start`, the global `minima` and a `highlight`ed path
  // ({x, y arrays, color, casing}). Points are {x, y, color} in data coordinates; what is drawn
  // stays readable on the canvas as `liveMarks` (tests).
  drawMarks({ heads = [], ends = [], step = null, start = null, minima = [], highlight = null,
    diverged = [], refreshes = [], font = "12px sans-serif" }) {
    if (!this.geometry) return;
    const canvas = this.canvases.marks;
    const context = context2d(canvas);
    clearCanvas(canvas);
    if (step !== null) {
      const px = this.x(step);
      context.save();
      context.setLineDash([3, 3]);
      context.strokeStyle = "#1f2933";
      context.lineWidth = 1.5;
      context.beginPath();
      context.moveTo(px, 0);
      context.lineTo(px, this.geometry.ya._length);
      context.stroke();
      context.restore();
    }
    context.strokeStyle = "#ffffff";
    // One path per colour: a run of thousands of rows marks thousands of points every frame, and
    // a fill and a stroke per mark cost milliseconds per hundred.
    context.lineWidth = 1.5;
    for (const [color, points] of byColour(ends)) {
      context.beginPath();
      for (const end of points) {
        context.rect(this.x(end.x) - END_SIZE / 2, this.y(end.y) - END_SIZE / 2, END_SIZE,
          END_SIZE);
      }
      context.fillStyle = color;
      context.fill();
      context.stroke();
    }
    this.drawSceneMarks(context, { start, minima, highlight, diverged, refreshes, font });
    this.fillCircles(context, heads, HEAD_RADIUS, 2);
    canvas.liveMarks = {
      step,
      heads: heads.map((head) => [head.x, head.y]),
      ends: ends.map((end) => [end.x, end.y]),
      start: start ? [start.x, start.y] : null,
      diverged: diverged.map((mark) => [mark.x, mark.y, mark.text]),
      refreshes: refreshes.length,
      minima: minima.map((minimum) => [minimum.x, minimum.y]),
      highlight: highlight ? { x: Array.from(highlight.x), y: Array.from(highlight.y),
        color: highlight.color } : null,
    };
  }

  // Circles of `radius` at `points` ({x, y, color}), each in its colour with a white edge of
  // `edge` pixels: one canvas path per colour (a run of thousands of rows marks thousands of
  // points every frame, and a fill and a stroke per mark cost milliseconds per hundred).
  fillCircles(context, points, radius, edge) {
    context.strokeStyle = "#ffffff";
    context.lineWidth = edge;
    for (const [color, group] of byColour(points)) {
      context.beginPath();
      for (const point of group) {
        const px = this.x(point.x);
        const py = this.y(point.y);
        context.moveTo(px + radius, py);
        context.arc(px, py, radius, 0, 2 * Math.PI);
      }
      context.fillStyle = color;
      context.fill();
      context.stroke();
    }
  }

  // Divergences, refreshes, the global minima, the start, then the highlighted path on its
  // dark casing: the contour figure's order.
  drawSceneMarks(context, { start, minima, highlight, diverged, refreshes, font }) {
    if (diverged.length) {
      context.strokeStyle = DIVERGED_COLOUR;
      context.fillStyle = DIVERGED_COLOUR;
      context.lineWidth = 3;
      context.font = font;
      context.textAlign = "center";
      context.textBaseline = "bottom";
      context.beginPath();
      for (const mark of diverged) {
        const px = this.x(mark.x);
        const py = this.y(mark.y);
        context.moveTo(px - DIVERGED_HALF, py - DIVERGED_HALF);
        context.lineTo(px + DIVERGED_HALF, py + DIVERGED_HALF);
        context.moveTo(px + DIVERGED_HALF, py - DIVERGED_HALF);
        context.lineTo(px - DIVERGED_HALF, py + DIVERGED_HALF);
      }
      context.stroke();
      for (const mark of diverged) {
        context.fillText(mark.text, this.x(mark.x), this.y(mark.y) - DIVERGED_HALF - 2);
      }
    }
    this.fillCircles(context, refreshes, REFRESH_RADIUS, 1);
    context.strokeStyle = MARK_EDGE;
    context.fillStyle = "#ffffff";
    for (const minimum of minima) {
      const px = this.x(minimum.x);
      const py = this.y(minimum.y);
      context.beginPath();
      for (const [dx, dy] of STAR) context.lineTo(px + dx, py + dy);
      context.closePath();
      context.lineWidth = 1.5;
      context.fill();
      context.stroke();
    }
    if (start) {
      context.beginPath();
      context.arc(this.x(start.x), this.y(start.y), START_RADIUS, 0, 2 * Math.PI);
      context.lineWidth = 2;
      context.fill();
      context.stroke();
    }
    if (highlight) {
      context.save();
      context.lineJoin = "round";
      context.lineCap = "round";
      context.beginPath();
      let open = false;
      for (let i = 0; i < highlight.x.length; i++) {
        const vx = highlight.x[i];
        const vy = highlight.y[i];
        if (!Number.isFinite(vx) || !Number.isFinite(vy)) {
          open = false;
          continue;
        }
        if (open) context.lineTo(this.x(vx), this.y(vy));
        else context.moveTo(this.x(vx), this.y(vy));
        open = true;
      }
      for (const [color, width] of [[highlight.casing, 8], [highlight.color, 4]]) {
        context.strokeStyle = color;
        context.lineWidth = width;
        context.stroke();
      }
      context.restore();
    }
  }
}
