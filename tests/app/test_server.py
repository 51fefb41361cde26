"""A real uvicorn server on a loopback port: streaming over HTTP, cancellation on disconnect,
bounded concurrency with 503 + Retry-After, and the per-run time limit."""

from __future__ import annotations

import itertools
import json
import time

import httpx

SSE = {"Accept": "text/event-stream"}
# Long enough (tens of seconds: 16 optimizer instances x 20,000 Python step() calls) that only
# cancellation can end it within the tests' waits.
LONG_RUN = {
    "landscape": {"id": "rastrigin"},
    "noise": {"kind": "gaussian", "sigma": 1.0},
    "seeds": list(range(12)),
    "steps": 20_000,
    "series": [
        {
            "optimizer": "adam",
            "hparams": {"lr": 0.01},
            "sweep": {"param": "beta1", "values": [0.5 + 0.025 * i for i in range(16)]},
        }
    ],
}
SHORT_RUN = {
    "landscape": {"id": "rosenbrock"},
    "steps": 300,
    "series": [
        {"optimizer": o, "hparams": {"lr": 1e-3}}
        for o in ("ano", "anolog", "anon", "andi", "yogi", "adam", "sgd")
    ],
}


def sse_events(lines):
    """Parse server-sent events from an iterator of text lines, as they arrive."""
    kind = None
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield kind, json.loads(line.removeprefix("data: "))


def wait_for_idle(url: str, seconds: float) -> float:
    """Seconds until no run is in progress (the worker thread has returned)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if httpx.get(f"{url}/api/health").json()["runs_in_progress"] == 0:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"a run was still in progress after {seconds} s")


def test_stream_over_http_arrives_in_order_and_complete(serve):
    url = serve()
    with httpx.stream("POST", f"{url}/api/runs", json=SHORT_RUN, headers=SSE, timeout=60) as r:
        assert r.status_code == 200
        events = list(sse_events(r.iter_lines()))
    assert events[0][0] == "meta"
    assert events[-1][0] == "done"
    chunks = [data for kind, data in events if kind == "chunk"]
    assert chunks[0]["from_step"] == 0
    assert all(a["to_step"] == b["from_step"] for a, b in itertools.pairwise(chunks))
    assert chunks[-1]["to_step"] == 301
    whole = httpx.post(f"{url}/api/runs", json=SHORT_RUN, timeout=60).json()["series"]
    streamed: dict[int, list] = {}
    for chunk in chunks:
        for part in chunk["rows"]:
            streamed.setdefault(part["row"], []).extend(zip(part["x"], part["y"], strict=True))
    assert [streamed[i] for i in range(len(whole))] == [
        list(zip(row["x"], row["y"], strict=True)) for row in whole
    ]


def test_disconnecting_cancels_the_computation(serve):
    url = serve()
    with httpx.stream("POST", f"{url}/api/runs", json=LONG_RUN, headers=SSE, timeout=60) as r:
        events = sse_events(r.iter_lines())
        assert next(events)[0] == "meta"
        assert next(events)[0] == "chunk"
        assert httpx.get(f"{url}/api/health").json()["runs_in_progress"] == 1
    # The whole run would take tens of seconds; the worker stops at its next step.
    assert wait_for_idle(url, 5.0) < 5.0


def test_a_run_beyond_capacity_gets_503_with_retry_after(serve):
    url = serve(max_concurrent_runs=1, queue_timeout_s=0.3)
    with httpx.stream("POST", f"{url}/api/runs", json=LONG_RUN, headers=SSE, timeout=60) as r:
        events = sse_events(r.iter_lines())
        next(events)  # the slot is now held
        busy = httpx.post(f"{url}/api/runs", json=SHORT_RUN, timeout=10)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert httpx.get(f"{url}/api/health", timeout=5).status_code == 200  # not starved
    wait_for_idle(url, 5.0)
    assert httpx.post(f"{url}/api/runs", json=SHORT_RUN, timeout=60).status_code == 200


def test_time_limit_stops_a_run(serve):
    url = serve(run_timeout_s=0.5)
    started = time.monotonic()
    response = httpx.post(f"{url}/api/runs", json=LONG_RUN, timeout=60)
    assert response.status_code == 503
    assert "time limit" in response.json()["detail"]
    assert time.monotonic() - started < 10
    with httpx.stream("POST", f"{url}/api/runs", json=LONG_RUN, headers=SSE, timeout=60) as r:
        kinds = [kind for kind, _ in sse_events(r.iter_lines())]
    assert kinds[0] == "meta"
    assert kinds[-1] == "error"
    assert "done" not in kinds
