"""The run record over real HTTP: responses match the OpenAPI document's schemas, both
encodings carry the same numbers, and `record: final` sends summaries only."""

from __future__ import annotations

import base64
import gzip
import json

import httpx
import jsonschema
import numpy as np
import pytest
import zstandard

from tests.app.test_server import sse_events

SSE = {"Accept": "text/event-stream"}
RUN = {
    "landscape": {"id": "himmelblau"},
    "noise": {"kind": "student_t", "sigma": 0.5, "df": 3},
    "seeds": [0, 1],
    "starts": [[-1.0, 0.5], [4.5, 4.5]],
    "steps": 120,
    "dtype": "float32",
    "series": [
        {"optimizer": "anon", "hparams": {"lr": 0.05}, "sweep": {"param": "gamma",
         "values": [0, 1]}},
        {"optimizer": "sgd", "hparams": {"lr": 0.4}},  # diverges: fewer points
    ],
}  # fmt: skip
TYPED = {"f8": "<f8", "f4": "<f4", "i4": "<i4"}
EVENT_SCHEMAS = {
    "meta": "RunMeta",
    "preview": "Preview",
    "chunk": "Chunk",
    "done": "Done",
    "error": "RunError",
}


def decoded(value):
    if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
        return np.frombuffer(base64.b64decode(value["bdata"]), TYPED[value["dtype"]]).tolist()
    if isinstance(value, dict):
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


@pytest.fixture(scope="module")
def server():
    from app.local_server import local_server

    with local_server() as url:
        yield url, httpx.get(f"{url}/openapi.json").json()


def validator(openapi: dict, component: str) -> jsonschema.Draft202012Validator:
    """A validator of ``component`` that resolves the document's ``#/components`` refs."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": openapi["components"]}
    return jsonschema.Draft202012Validator(schema)


def post(url: str, run: dict, encoding: str | None = None, stream: bool = False):
    params = {"encoding": encoding} if encoding else {}
    headers = SSE if stream else {}
    return httpx.post(f"{url}/api/runs", json=run, params=params, headers=headers, timeout=60)


def test_the_route_answers_with_the_engines_declared_models(server):
    _, openapi = server
    operation = openapi["paths"]["/api/runs"]["post"]
    json_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    # A landscape run's result, or a network run's (a task in place of the landscape).
    assert json_schema["anyOf"] == [
        {"$ref": "#/components/schemas/RunResult"},
        {"$ref": "#/components/schemas/NetworkRunResult"},
    ]
    assert {p["name"] for p in operation["parameters"]} >= {"encoding"}
    assert set(EVENT_SCHEMAS.values()) <= set(openapi["components"]["schemas"])


@pytest.mark.parametrize("encoding", ["plain", "typed"])
@pytest.mark.parametrize("record", ["full", "final"])
def test_whole_results_are_valid_against_the_openapi_schema(server, encoding, record):
    url, openapi = server
    response = post(url, {**RUN, "record": record}, encoding)
    assert response.status_code == 200, response.text
    body = response.json()
    validator(openapi, "RunResult").validate(body)
    columns = {"steps", "x", "y", "loss", "grad_norm"}
    for row in body["series"]:
        assert (columns <= set(row)) == (record == "full")


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_every_streamed_event_is_valid_against_the_openapi_schema(server, encoding):
    url, openapi = server
    with httpx.stream(
        "POST", f"{url}/api/runs", json=RUN, params={"encoding": encoding}, headers=SSE,
        timeout=60,
    ) as response:  # fmt: skip
        events = list(sse_events(response.iter_lines()))
    assert [kind for kind, _ in events][:: len(events) - 1] == ["meta", "done"]
    for kind, data in events:
        validator(openapi, EVENT_SCHEMAS[kind]).validate(data)


def test_a_big_map_streams_a_coarse_preview_first_valid_against_the_schema(server):
    url, openapi = server
    run = {
        "landscape": {"id": "himmelblau"},
        "steps": 30,
        "record": "final",
        "starts": {"grid": {"x": [-4, 4, 17], "y": [-4, 4, 16]}},
        "series": [{"optimizer": "adam", "hparams": {"lr": 0.1}}],
    }
    with httpx.stream("POST", f"{url}/api/runs", json=run, headers=SSE, timeout=60) as response:
        events = list(sse_events(response.iter_lines()))
    kinds = [kind for kind, _ in events]
    assert kinds[:2] == ["meta", "preview"]
    assert kinds[-1] == "done"
    for kind, data in events:
        validator(openapi, EVENT_SCHEMAS[kind]).validate(data)
    preview, done = events[1][1]["rows"], events[-1][1]["rows"]
    # Every 4th start along both axes (x fastest): 5 x 4 of the 17 x 16 starts, exact.
    assert [row["row"] for row in preview] == [
        j * 17 + i for j in range(0, 16, 4) for i in range(0, 17, 4)
    ]
    assert all(row == done[row["row"]] for row in preview)


@pytest.mark.parametrize("stream", [False, True])
def test_a_tuned_run_says_what_it_chose_valid_against_the_schema(server, stream):
    url, openapi = server
    run = {
        "landscape": {"id": "rosenbrock"},
        "steps": 50,
        "series": [{"optimizer": "adam"}, {"optimizer": "sgd"}],
        "tune": {"grid": [1e-4, 1e-1, 4], "objective": "loss_area"},
    }
    if stream:
        with httpx.stream("POST", f"{url}/api/runs", json=run, headers=SSE, timeout=60) as r:
            events = list(sse_events(r.iter_lines()))
        for kind, data in events:
            validator(openapi, EVENT_SCHEMAS[kind]).validate(data)
        meta, rows = events[0][1], events[0][1]["rows"]
    else:
        response = post(url, run)
        assert response.status_code == 200, response.text
        meta = response.json()
        validator(openapi, "RunResult").validate(meta)
        rows = meta["series"]
    tuning = meta["tuning"]
    assert tuning["param"] == "lr"
    assert len(tuning["candidates"]) == 4
    assert [s["label"] for s in tuning["series"]] == ["Adam", "SGD"]
    for row in rows:
        assert row["hparams"]["lr"] == tuning["series"][row["series"]]["value"]


def test_typed_and_plain_answers_decode_to_identical_numbers(server):
    url, _ = server
    plain = post(url, RUN, "plain").json()
    typed = post(url, RUN, "typed").json()
    assert typed["series"][0]["x"]["dtype"] == "f4"
    assert decoded(typed) == plain
    assert plain == post(url, RUN).json()  # plain is the default


def test_typed_and_plain_streams_decode_to_identical_numbers(server):
    url, _ = server
    streams = {}
    for encoding in ("plain", "typed"):
        with httpx.stream(
            "POST", f"{url}/api/runs", json=RUN, params={"encoding": encoding}, headers=SSE,
            timeout=60,
        ) as response:  # fmt: skip
            streams[encoding] = [data for kind, data in sse_events(response.iter_lines())
                                 if kind == "chunk"]  # fmt: skip

    def columns(chunks, decode):
        rows: dict[int, dict[str, list]] = {}
        for chunk in chunks:
            for part in chunk["rows"]:
                row = rows.setdefault(part["row"], {})
                for name in ("steps", "x", "y", "loss", "grad_norm"):
                    row.setdefault(name, []).extend(decode(part[name]))
        return rows

    streamed = columns(streams["typed"], decoded)
    assert streamed == columns(streams["plain"], lambda column: column)
    whole = post(url, RUN).json()["series"]
    for row in whole:
        assert streamed[row["row"]]["x"] == row["x"]
        assert streamed[row["row"]]["loss"] == row["loss"]


def test_an_unknown_encoding_is_a_422_naming_it(server):
    url, _ = server
    response = post(url, RUN, "msgpack")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "encoding"]


def test_typed_bytes_are_far_fewer_than_plain_numbers(server):
    url, _ = server
    run = {**RUN, "dtype": "float64", "noise": None, "steps": 400}
    plain = post(url, run, "plain").content
    typed = post(url, run, "typed").content
    assert len(typed) < 0.8 * len(plain)
    assert json.loads(typed)["series"][0]["x"]["dtype"] == "f8"


def decompressed(wire: bytes, coding: str) -> bytes:
    """A whole compressed answer's bytes, checked complete (every event arrived whole)."""
    if coding == "gzip":
        return gzip.decompress(wire)
    reader = zstandard.ZstdDecompressor().decompressobj()
    text = reader.decompress(wire)
    assert reader.eof, "the zstd frame is complete"
    return text


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("accepted", "coding"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("zstd;q=1, gzip", "zstd"),
        ("zstd;q=0, gzip", "gzip"),
        ("ZSTD", "zstd"),
    ],
)
def test_runs_are_compressed_for_clients_that_accept_it_and_plain_for_others(
    server, stream, accepted, coding
):
    """zstd where the client takes it (browsers do), else gzip, else nothing."""
    url, _ = server
    headers = {**(SSE if stream else {}), "Accept-Encoding": accepted}
    params = {"encoding": "typed"}
    with httpx.stream("POST", f"{url}/api/runs", json=RUN, params=params, headers=headers,
                      timeout=60) as response:  # fmt: skip
        assert response.headers["content-encoding"] == coding
        assert response.headers["vary"] == "Accept-Encoding"
        wire = b"".join(response.iter_raw())
    identity = {**headers, "Accept-Encoding": "identity"}
    plain = httpx.post(f"{url}/api/runs", json=RUN, params=params, headers=identity, timeout=60)
    assert "content-encoding" not in plain.headers
    text = decompressed(wire, coding)
    if stream:
        events = list(sse_events(text.decode().splitlines()))
        assert [kind for kind, _ in events][:: len(events) - 1] == ["meta", "done"]
        assert len(wire) < len(text)
    else:
        assert text == plain.content
        assert len(wire) < len(plain.content)


def test_streamed_events_arrive_whole_as_they_are_compressed(server):
    """Each event is flushed: what has arrived decompresses to whole events, the first before
    the run is done (a zstd block, as a gzip sync flush, ends where the event ends)."""
    url, _ = server
    run = {**RUN, "steps": 3000}
    headers = {**SSE, "Accept-Encoding": "zstd"}
    reader = zstandard.ZstdDecompressor().decompressobj()
    with httpx.stream("POST", f"{url}/api/runs", json=run, headers=headers,
                      timeout=60) as response:  # fmt: skip
        assert response.headers["content-encoding"] == "zstd"
        text = b""
        for raw in response.iter_raw():
            text += reader.decompress(raw)
            if text:
                break
    assert text.startswith(b"event: meta\ndata: ")
    assert text.endswith(b"\n\n")


@pytest.mark.parametrize(
    ("levels", "coding"),
    [({"gzip_level": 0}, "zstd"), ({"zstd_level": 0}, "gzip"),
     ({"gzip_level": 0, "zstd_level": 0}, None)],
)  # fmt: skip
def test_a_level_of_zero_turns_that_compression_off(serve, levels, coding):
    url = serve(**levels)
    for accepted in ("gzip, zstd", "gzip"):
        response = httpx.post(f"{url}/api/runs", json=RUN, headers={"Accept-Encoding": accepted})
        assert response.status_code == 200
        expected = coding if coding in accepted.split(", ") else None
        assert response.headers.get("content-encoding") == expected, accepted
