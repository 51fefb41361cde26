// The DOM-free parts of static/js/api.js: the server-sent event parser, 422 details as field
// locations, ApiError's message and the surface URLs.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  ApiError, landscapeSurfaceUrl, parseEvents, problemsFromDetail, RUN_ENCODING, runUrl, runWhole,
  streamRun,
} from "../../static/js/api.js";

// Events exactly as the server writes them (fastapi.sse.format_sse_event: LF line ends).
const sse = (event, data) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const META = { rows: [{ row: 0, label: "Adam, lr=0.1" }], steps: 2 };
const CHUNK = { from_step: 0, to_step: 3, rows: [{ row: 0, steps: [0, 1, 2], loss: [3, 2.5, 1e-9] }] };
const DONE = { rows: [{ row: 0, diverged_at: null, note: "a\n\nb: c" }] };
const STREAM = sse("meta", META) + sse("chunk", CHUNK) + sse("done", DONE);
const EXPECTED = [
  { event: "meta", data: META }, { event: "chunk", data: CHUNK }, { event: "done", data: DONE },
];

// Feed `text` to parseEvents in pieces cut at `cuts`, as a stream reader delivers it.
function feed(text, cuts) {
  const events = [];
  let buffer = "";
  let from = 0;
  for (const to of [...cuts, text.length]) {
    const parsed = parseEvents(buffer + text.slice(from, to));
    events.push(...parsed.events);
    buffer = parsed.rest;
    from = to;
  }
  return { events, rest: buffer };
}

describe("parseEvents", () => {
  test("splits complete events off the front, in order", () => {
    assert.deepEqual(parseEvents(STREAM), { events: EXPECTED, rest: "" });
  });

  test("returns the unfinished rest, to be completed by the next read", () => {
    const partial = sse("meta", META) + sse("chunk", CHUNK).slice(0, 25);
    const first = parseEvents(partial);
    assert.deepEqual(first.events, [{ event: "meta", data: META }]);
    assert.equal(first.rest, sse("chunk", CHUNK).slice(0, 25));
    const second = parseEvents(first.rest + sse("chunk", CHUNK).slice(25));
    assert.deepEqual(second, { events: [{ event: "chunk", data: CHUNK }], rest: "" });
  });

  test("an event without its blank line is not complete yet", () => {
    const text = sse("meta", META);
    for (const cut of [text.length - 1, text.length - 2, 1, 0]) {
      const parsed = parseEvents(text.slice(0, cut));
      assert.deepEqual(parsed.events, [], `cut at ${cut}`);
      assert.equal(parsed.rest, text.slice(0, cut));
    }
  });

  test("CRLF line ends work as LF", () => {
    const crlf = STREAM.replaceAll("\n", "\r\n");
    assert.deepEqual(parseEvents(crlf).events, EXPECTED);
    assert.equal(parseEvents(crlf).rest, "");
  });

  test("cut anywhere (also between CR and LF), the stream gives the same events", () => {
    for (const text of [STREAM, STREAM.replaceAll("\n", "\r\n")]) {
      for (let cut = 0; cut <= text.length; cut++) {
        assert.deepEqual(feed(text, [cut]), { events: EXPECTED, rest: "" }, `cut at ${cut}`);
      }
      const everyCharacter = Array.from({ length: text.length }, (_, i) => i);
      assert.deepEqual(feed(text, everyCharacter), { events: EXPECTED, rest: "" });
    }
  });

  test("no event name means 'message'; 'event:' and 'data:' without a space", () => {
    const text = 'data: {"a":1}\n\nevent:chunk\ndata:{"b":2}\n\n';
    assert.deepEqual(parseEvents(text).events,
      [{ event: "message", data: { a: 1 } }, { event: "chunk", data: { b: 2 } }]);
  });

  test("several data lines are joined with newlines", () => {
    const text = 'event: meta\ndata: {"a":\ndata:  [1,\ndata: 2]}\n\n';
    assert.deepEqual(parseEvents(text).events, [{ event: "meta", data: { a: [1, 2] } }]);
  });

  test("comments and blocks without data (keep-alives) give no event", () => {
    const text = `: ping\n\nevent: meta\n\n${sse("done", DONE)}: ping\r\n\r\n`;
    assert.deepEqual(parseEvents(text), { events: [{ event: "done", data: DONE }], rest: "" });
  });

  test("the error event is passed on like any other", () => {
    const parsed = parseEvents(sse("error", { detail: "the run passed the time limit" }));
    assert.deepEqual(parsed.events,
      [{ event: "error", data: { detail: "the run passed the time limit" } }]);
  });
});

describe("problemsFromDetail", () => {
  test("maps 422 detail entries to dotted field locations", () => {
    // Entries as the API answers them (tests/app and a live server), "input"/"ctx" left out.
    const detail = [
      { type: "value_error", loc: ["body", "series", 0, "hparams"],
        msg: "Value error, lr: Input should be greater than 0" },
      { type: "value_error", loc: ["body", "landscape"],
        msg: "Value error, params.a: Input should be a valid number, unable to parse string as a number" },
      { type: "value_error", loc: ["body", "landscape", "expression"],
        msg: "Value error, unexpected end of expression: expected a number, a name or '(' (at character 3)" },
      { type: "greater_than_equal", loc: ["body", "steps"],
        msg: "Input should be greater than or equal to 1" },
      { type: "float_parsing", loc: ["body", "series", 1, "sweep", "values", 1],
        msg: "Input should be a valid number, unable to parse string as a number" },
      { type: "value_error", loc: ["body", "series", 0, "sweep"],
        msg: "Value error, values.1: lr: Input should be greater than 0" },
      { type: "budget_exceeded", loc: ["body", "steps"], msg: "steps must be at most 20000" },
      { type: "missing", loc: ["body", "series"], msg: "Field required" },
      { type: "float_parsing", loc: ["query", "x_min"], msg: "Input should be a valid number" },
    ];
    assert.deepEqual(problemsFromDetail(detail), [
      { loc: "series.0.hparams.lr", message: "Input should be greater than 0" },
      { loc: "landscape.params.a",
        message: "Input should be a valid number, unable to parse string as a number" },
      { loc: "landscape.expression",
        message: "unexpected end of expression: expected a number, a name or '(' (at character 3)" },
      { loc: "steps", message: "Input should be greater than or equal to 1" },
      { loc: "series.1.sweep.values.1",
        message: "Input should be a valid number, unable to parse string as a number" },
      { loc: "series.0.sweep.values.1", message: "lr: Input should be greater than 0" },
      { loc: "steps", message: "steps must be at most 20000" },
      { loc: "series", message: "Field required" },
      { loc: "x_min", message: "Input should be a valid number" },
    ]);
  });

  test("a field named at the start of a message without 'Value error, ' still counts", () => {
    assert.deepEqual(
      problemsFromDetail([{ loc: ["body", "noise"], msg: "sigma: Input should be greater than 0" }]),
      [{ loc: "noise.sigma", message: "Input should be greater than 0" }]);
  });

  test("a loc of the body alone gives an empty location", () => {
    assert.deepEqual(problemsFromDetail([{ loc: ["body"], msg: "Field required" }]),
      [{ loc: "", message: "Field required" }]);
  });

  test("a detail that is not a list (503, 404, plain text) is one problem at loc ''", () => {
    assert.deepEqual(problemsFromDetail("all run slots are busy; retry shortly"),
      [{ loc: "", message: "all run slots are busy; retry shortly" }]);
    assert.deepEqual(problemsFromDetail(undefined), [{ loc: "", message: "undefined" }]);
  });
});

describe("ApiError", () => {
  test("keeps the status and problems; its message names each field", () => {
    const problems = [
      { loc: "series.0.hparams.lr", message: "Input should be greater than 0" },
      { loc: "", message: "something else" },
    ];
    const error = new ApiError(422, problems);
    assert.ok(error instanceof Error);
    assert.equal(error.status, 422);
    assert.deepEqual(error.problems, problems);
    assert.equal(error.message,
      "series.0.hparams.lr: Input should be greater than 0; something else");
  });
});

describe("landscapeSurfaceUrl", () => {
  test("a registry landscape: its id in the path, params as JSON in the query", () => {
    const url = landscapeSurfaceUrl({ id: "rosenbrock", params: { a: 1, b: 100 } }, 120, true);
    const parsed = new URL(url, "http://localhost");
    assert.equal(parsed.pathname, "/api/landscapes/rosenbrock/surface");
    assert.equal(parsed.searchParams.get("resolution"), "120");
    assert.equal(parsed.searchParams.get("log"), "true");
    assert.deepEqual(JSON.parse(parsed.searchParams.get("params")), { a: 1, b: 100 });
    const noParams = new URL(landscapeSurfaceUrl({ id: "himmelblau" }, 60, false), "http://x");
    assert.equal(noParams.searchParams.get("params"), "{}");
  });

  test("an expression: the expression and its view box in the query, safely escaped", () => {
    const expression = "x**2 + 3*y**2 & z=#1";
    const url = landscapeSurfaceUrl(
      { expression, viewBox: [[-3, 3], [-2.5, 4]] }, 80, false);
    const parsed = new URL(url, "http://localhost");
    assert.equal(parsed.pathname, "/api/expression/surface");
    assert.deepEqual(Object.fromEntries(parsed.searchParams), {
      resolution: "80", log: "false", expression, x_min: "-3", x_max: "3", y_min: "-2.5",
      y_max: "4",
    });
  });
});

describe("run requests ask for typed columns", () => {
  // fetch stood in for: records each request and answers with `body`.
  function stubFetch(t, body, contentType) {
    const calls = [];
    t.mock.method(globalThis, "fetch", async (url, init) => {
      calls.push({ url, init });
      return new Response(body, { status: 200, headers: { "Content-Type": contentType } });
    });
    return calls;
  }

  const SPEC = { landscape: { id: "rosenbrock" }, steps: 2, series: [{ optimizer: "adam" }] };
  const STEPS = Buffer.from(Int32Array.from([0, 1, 2]).buffer).toString("base64");
  const TYPED_CHUNK = { from_step: 0, to_step: 3,
    rows: [{ row: 0, steps: { dtype: "i4", bdata: STEPS } }] };

  test("runUrl: POST /api/runs with encoding=typed", () => {
    assert.equal(RUN_ENCODING, "typed");
    assert.equal(runUrl(), "/api/runs?encoding=typed");
    assert.equal(runUrl("plain"), "/api/runs?encoding=plain");
    const parsed = new URL(runUrl(), "http://localhost");
    assert.equal(parsed.pathname, "/api/runs");
    assert.equal(parsed.searchParams.get("encoding"), "typed");
  });

  test("streamRun asks for the typed stream and hands each event's data on", async (t) => {
    const text = sse("meta", META) + sse("chunk", TYPED_CHUNK) + sse("done", DONE);
    const calls = stubFetch(t, text, "text/event-stream");
    const seen = [];
    await streamRun(SPEC, {
      meta: (data) => seen.push(["meta", data]),
      chunk: (data) => seen.push(["chunk", data]),
      done: (data) => seen.push(["done", data]),
    });
    assert.deepEqual(seen, [["meta", META], ["chunk", TYPED_CHUNK], ["done", DONE]]);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].url, "/api/runs?encoding=typed");
    assert.equal(calls[0].init.method, "POST");
    assert.equal(calls[0].init.headers.Accept, "text/event-stream");
    assert.deepEqual(JSON.parse(calls[0].init.body), SPEC);
  });

  // A stream whose events the server sends one per read, recording how many were read.
  function pulledStream(t, events) {
    const pulled = { count: 0 };
    const encoder = new TextEncoder();
    t.mock.method(globalThis, "fetch", async () => new Response(new ReadableStream({
      pull(controller) {
        if (pulled.count === events.length) controller.close();
        else controller.enqueue(encoder.encode(events[pulled.count++]));
      },
    }, { highWaterMark: 0 }), { status: 200, headers: { "Content-Type": "text/event-stream" } }));
    return pulled;
  }

  test("a handler's promise holds the stream: nothing more is parsed or handed on until then",
    async (t) => {
      const pulled = pulledStream(t, [sse("meta", META), sse("chunk", TYPED_CHUNK),
        sse("done", DONE)]);
      const seen = [];
      let release;
      const streamed = streamRun(SPEC, {
        meta: () => {
          seen.push("meta");
          return new Promise((resolve) => { release = resolve; });
        },
        chunk: () => seen.push("chunk"),
        done: () => seen.push("done"),
      });
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 1));
      assert.deepEqual(seen, ["meta"]);
      // The text decoder's pipe reads one piece ahead of the reader, and no further.
      assert.ok(pulled.count <= 2, `read ${pulled.count} of 3 pieces`);
      release();
      await streamed;
      assert.deepEqual(seen, ["meta", "chunk", "done"]);
      assert.equal(pulled.count, 3);
    });

  test("a run cancelled while a handler holds its stream stops there", async (t) => {
    pulledStream(t, [sse("meta", META), sse("chunk", TYPED_CHUNK), sse("done", DONE)]);
    const controller = new AbortController();
    const seen = [];
    const streamed = streamRun(SPEC, {
      meta: () => {
        seen.push("meta");
        return new Promise((resolve) => {
          controller.signal.addEventListener("abort", resolve);
          setTimeout(() => controller.abort(), 5);
        });
      },
      chunk: () => seen.push("chunk"),
    }, controller.signal);
    await assert.rejects(streamed, (error) => error.name === "AbortError");
    assert.deepEqual(seen, ["meta"]);
  });

  test("runWhole asks for the typed whole result", async (t) => {
    const result = { steps: 2, series: [{ row: 0, steps: TYPED_CHUNK.rows[0].steps }] };
    const calls = stubFetch(t, JSON.stringify(result), "application/json");
    assert.deepEqual(await runWhole(SPEC), result);
    assert.equal(calls[0].url, "/api/runs?encoding=typed");
    assert.equal(calls[0].init.headers.Accept, "application/json");
  });

  test("a stream's error event is thrown as an ApiError", async (t) => {
    stubFetch(t, sse("meta", META) + sse("error", { detail: "time limit" }), "text/event-stream");
    await assert.rejects(streamRun(SPEC, {}), (error) => error instanceof ApiError
      && error.status === 503 && error.message === "time limit");
  });
});
