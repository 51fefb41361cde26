// The HTTP API: catalogue fetches, runs (streamed or whole) and the errors they answer with.

export class ApiError extends Error {
  // `problems`: [{loc: "series.0.hparams.lr", message}] for 422s, else one problem at loc "".
  constructor(status, problems) {
    super(problems.map((p) => (p.loc ? `${p.loc}: ${p.message}` : p.message)).join("; "));
    this.status = status;
    this.problems = problems;
  }
}

// A 422's detail as field locations and messages. Pydantic names the field in `loc` and often a
// sub-field at the start of `msg` ("Value error, lr: Input should be greater than 0").
export function problemsFromDetail(detail) {
  if (!Array.isArray(detail)) return [{ loc: "", message: String(detail) }];
  return detail.map((item) => {
    const loc = item.loc.slice(1).map(String); // drop "body" or "query"
    let message = item.msg.replace(/^Value error, /, "");
    const named = /^([\w.]+): (.*)$/s.exec(message);
    if (named) {
      loc.push(...named[1].split("."));
      message = named[2];
    }
    return { loc: loc.join("."), message };
  });
}

async function errorFrom(response) {
  let detail = response.statusText;
  try {
    detail = (await response.json()).detail;
  } catch {
    // not JSON: keep the status text
  }
  if (response.status === 503 && response.headers.get("Retry-After")) {
    detail = `${detail} (retry in ${response.headers.get("Retry-After")} s)`;
  }
  return new ApiError(response.status, problemsFromDetail(detail));
}

export async function getJSON(path, signal) {
  const response = await fetch(path, { signal });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

export function catalogue() {
  return Promise.all(
    ["/api/health", "/api/optimizers", "/api/landscapes", "/api/noise-models", "/api/presets"]
      .map((path) => getJSON(path)),
  ).then(([health, optimizers, landscapes, noiseModels, presets]) => (
    { health, optimizers, landscapes, noiseModels, presets }));
}

// Split server-sent events off the front of `buffer`: complete events and the unfinished rest.
// An event's data is sliced out of the text, not copied line by line: a 256 x 256 map's
// summaries are one line of some 40 MB.
export function parseEvents(buffer) {
  const events = [];
  const text = buffer.includes("\r") ? buffer.replaceAll("\r\n", "\n") : buffer;
  const blocks = text.split("\n\n");
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    }
    if (data.length) {
      events.push({ event, data: JSON.parse(data.length === 1 ? data[0] : data.join("\n")) });
    }
  }
  return { events, rest };
}

// Whether `text` holds the end of an event (a blank line: two line ends, each LF or CRLF) at
// or after index `from` (an event's data can arrive in many reads: only the new text is
// searched, never the whole buffer again). "\n\r\n" is in CRLF CRLF, and in LF CRLF, which
// a CRLF stream becomes where parseEvents has kept its rest (with LF line ends).
export function hasEventEnd(text, from = 0) {
  const start = Math.max(0, from - 3);
  return text.indexOf("\n\n", start) >= 0 || text.indexOf("\n\r\n", start) >= 0;
}

// A stream's text read by read, kept as the pieces it came in until one holds an event's end.
// Appending each read to one string would copy that string whole at every search for the end
// (a concatenation is flattened to be searched): quadratic in an event's size, seconds of a
// frozen page for a big map's summaries. Here each read is searched with the few characters
// before it (an end split across reads), and the pieces are joined once.
export class EventText {
  constructor() {
    this.pieces = [];
    this.tail = "";
  }

  // Add a read: the text so far when it holds the end of an event (to parseEvents), else null.
  add(read) {
    const edge = this.tail + read;
    if (!hasEventEnd(edge)) {
      this.pieces.push(read);
      this.tail = edge.slice(-3);
      return null;
    }
    const text = this.pieces.length ? this.pieces.join("") + read : read;
    this.pieces = [];
    this.tail = "";
    return text;
  }

  // Keep what parseEvents left unfinished: the start of the next event.
  keep(rest) {
    if (!rest) return;
    this.pieces.push(rest);
    this.tail = rest.slice(-3);
  }
}

// Reads that piled up (a busy page) resolve one after another without a task in between: past
// this long the reader lets the page breathe (input, a frame, a Cancel click) before going on.
const STREAM_SLICE_MS = 8;

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// POST a run and stream it: `handlers.meta`, `.chunk` and `.done` get each event's data.
// A handler that returns a promise holds the stream: nothing more is read or parsed until it
// settles (work of the caller's that should not share the machine with the parsing).
// `signal` (an AbortController's) cancels the run on the server too.
export async function streamRun(spec, handlers, signal) {
  const response = await postRun(spec, "text/event-stream", signal);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const received = new EventText();
  let sliceStart = performance.now();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = received.add(value);
    if (text === null) continue;
    const parsed = parseEvents(text);
    received.keep(parsed.rest);
    for (const { event, data } of parsed.events) {
      if (event === "error") throw new ApiError(503, [{ loc: "", message: data.detail }]);
      const holding = handlers[event]?.(data);
      if (holding instanceof Promise) await holding;
      else if (performance.now() - sliceStart > STREAM_SLICE_MS) await nextTask();
      else continue;
      signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
}

// POST a run and wait for the whole result (its columns still encoded: see rowsFromResult).
export async function runWhole(spec, signal) {
  return (await postRun(spec, "application/json", signal)).json();
}

// Every run asks for typed columns: base64 of the little-endian numbers, which the page decodes
// once into typed arrays (run-data.js) and Plotly draws as they are.
export const RUN_ENCODING = "typed";

export function runUrl(encoding = RUN_ENCODING) {
  return `/api/runs?${new URLSearchParams({ encoding })}`;
}

// The run's response in the `accept`ed form; an ApiError when the server refuses it.
async function postRun(spec, accept, signal) {
  const response = await fetch(runUrl(), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: accept },
    body: JSON.stringify(spec),
    signal,
  });
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export function landscapeSurfaceUrl(landscape, resolution, log) {
  const query = new URLSearchParams({ resolution, log });
  if (landscape.expression !== undefined) {
    const [[xMin, xMax], [yMin, yMax]] = landscape.viewBox;
    Object.entries({ expression: landscape.expression, x_min: xMin, x_max: xMax,
      y_min: yMin, y_max: yMax }).forEach(([key, value]) => query.set(key, value));
    return `/api/expression/surface?${query}`;
  }
  query.set("params", JSON.stringify(landscape.params ?? {}));
  return `/api/landscapes/${encodeURIComponent(landscape.id)}/surface?${query}`;
}
