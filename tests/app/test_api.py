"""Every endpoint through FastAPI's TestClient: catalogue, surfaces, runs (JSON and stream) and
the validation errors, each naming its field."""

from __future__ import annotations

import json
import math

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from landscapes import get_landscape, list_landscapes
from optimizers.registry import list_optimizers

RUN = {
    "landscape": {"id": "rosenbrock", "params": {}},
    "noise": {"kind": "gaussian", "sigma": 0.5},
    "seeds": [0, 1, 2],
    "start": [-2.0, 2.0],
    "steps": 200,
    "clip_grad_norm": None,
    "series": [
        {
            "optimizer": "anon",
            "hparams": {"lr": 0.001},
            "sweep": {"param": "gamma", "values": [-0.5, 0, 0.5, 1, 1.5]},
        },
        {"optimizer": "adam", "hparams": {"lr": 0.01}, "label": "Adam"},
    ],
}


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_health(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["runs_in_progress"] == 0


def test_optimizers_come_from_the_registry(client):
    body = client.get("/api/optimizers").json()
    assert [o["id"] for o in body] == [e.id for e in list_optimizers()]
    anon = next(o for o in body if o["id"] == "anon")
    assert anon["hparams_schema"]["properties"]["gamma"]["maximum"] == 4.0
    assert anon["capabilities"]["tensor_hparams"] == ["gamma", "lr"]


def test_landscapes_come_from_the_registry(client):
    body = client.get("/api/landscapes").json()
    assert [entry["id"] for entry in body] == [e.id for e in list_landscapes()]
    rosenbrock = body[0]
    assert rosenbrock["default_start"] == [-2.0, 2.0]
    assert rosenbrock["global_minima"] == [{"point": [1.0, 1.0], "value": 0.0}]
    assert rosenbrock["colour_scale"] == "log"


def test_noise_models_schema(client):
    schema = json.dumps(client.get("/api/noise-models").json())
    for kind in ("gaussian", "student_t", "multiplicative", "minibatch", "drift"):
        assert kind in schema


def test_surface_is_plotly_shaped_with_z_indexed_by_row_y(client):
    body = client.get("/api/landscapes/himmelblau/surface?resolution=7").json()
    assert len(body["x"]) == 7
    assert len(body["z"]) == 7
    f = get_landscape("himmelblau").bind()
    import torch

    for j in (0, 3, 6):
        for i in (1, 5):
            expected = float(f(torch.tensor([body["x"][i], body["y"][j]], dtype=torch.float64)))
            assert body["z"][j][i] == pytest.approx(expected, rel=1e-12)


def test_surface_with_params_and_log(client):
    plain = client.get("/api/landscapes/rastrigin/surface", params={"resolution": 9}).json()
    moved = client.get(
        "/api/landscapes/rastrigin/surface", params={"resolution": 9, "params": '{"A": 20}'}
    ).json()
    assert plain["z"] != moved["z"]
    logged = client.get("/api/landscapes/rosenbrock/surface?resolution=9&log=true").json()
    assert logged["log"] is True
    assert max(max(row) for row in logged["z"]) < 10


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/landscapes/nowhere/surface", 404, None),
        ("/api/landscapes/rosenbrock/surface?resolution=401", 422, "resolution"),
        ("/api/landscapes/rosenbrock/surface?resolution=1", 422, "resolution"),
        ("/api/landscapes/rastrigin/surface?params=%7B%22A%22%3A-1%7D", 422, "A"),
        ("/api/landscapes/rastrigin/surface?params=nope", 422, "params"),
        ("/api/expression/surface?expression=__import__('os')", 422, "expression"),
    ],
)
def test_surface_errors(client, url, status, field):
    response = client.get(url)
    assert response.status_code == status
    if field:
        assert response.json()["detail"][0]["loc"][-1] == field


def test_typed_function_surface_and_its_error_position(client):
    ok = client.get("/api/expression/surface", params={"expression": "x**2 + 3*y**2"})
    assert ok.status_code == 200
    assert ok.json()["z_min"] >= 0
    bad = client.get("/api/expression/surface", params={"expression": "x + * y"})
    assert bad.status_code == 422
    detail = bad.json()["detail"][0]
    assert detail["position"] == 4
    assert detail["loc"] == ["query", "expression"]


def test_run_json_has_one_entry_per_row(client):
    response = client.post("/api/runs", json=RUN)
    assert response.status_code == 200
    body = response.json()
    assert len(body["series"]) == (5 + 1) * 3
    first = body["series"][0]
    assert first["hparams"]["gamma"] == -0.5
    assert first["seed"] == 0
    assert first["start"] == [-2.0, 2.0]
    columns = {"steps", "x", "y", "loss", "grad_norm"}
    assert columns | {"diverged_at", "final_loss", "distance_to_minimum"} <= set(first)
    assert "trajectory" not in first
    assert body["series"][-1]["label"] == "Adam"
    assert body["dtype"] == "float64"
    assert body["device"] == "cpu"


def test_run_stream_is_meta_chunks_done(client):
    with client.stream("POST", "/api/runs", json=RUN, headers={"Accept": "text/event-stream"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(r.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "meta"
    assert kinds[-1] == "done"
    assert len(events[0][1]["rows"]) == 18
    points = sum(
        len(part["x"]) for kind, data in events if kind == "chunk" for part in data["rows"]
    )
    assert points == 18 * 201 - sum(
        201 - (row["diverged_at"] or 201) for row in events[-1][1]["rows"]
    )


def test_divergence_is_reported_as_data_in_valid_json(client):
    run = {**RUN, "noise": None, "series": [{"optimizer": "sgd", "hparams": {"lr": 10.0}}]}
    response = client.post("/api/runs", json=run)
    assert response.status_code == 200
    text = response.text
    assert "NaN" not in text
    assert "Infinity" not in text
    body = json.loads(text)
    assert all(row["diverged_at"] is not None for row in body["series"])
    assert all(math.isfinite(v) for row in body["series"] for v in row["loss"])


def with_(path: tuple, value) -> dict:
    run = json.loads(json.dumps(RUN))
    target = run
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return run


@pytest.mark.parametrize(
    ("run", "loc"),
    [
        (with_(("landscape", "id"), "rosenbrok"), ["body", "landscape", "id"]),
        (with_(("series", 0, "optimizer"), "adamx"), ["body", "series", 0, "optimizer"]),
        (with_(("series", 1, "hparams", "lr"), -1), ["body", "series", 1, "hparams", "lr"]),
        (
            with_(("series", 0, "sweep", "values"), [0, 99]),
            ["body", "series", 0, "sweep", "values", 1],
        ),
        (with_(("series", 0, "sweep", "param"), "nope"), ["body", "series", 0, "sweep", "param"]),
        (
            with_(
                ("series", 0, "sweep"),
                [{"param": "gamma", "values": [0, 1]}, {"param": "lr", "values": [0.1, -1]}],
            ),
            ["body", "series", 0, "sweep", 1, "values", 1],
        ),
        (with_(("start",), [float("nan"), 1.0]), ["body", "start", 0]),
        (with_(("steps",), 0), ["body", "steps"]),
        (with_(("steps",), 20_001), ["body", "steps"]),  # over the configured max_steps
        (with_(("seeds",), list(range(300))), ["body", "seeds"]),
        (
            with_(("noise",), {"kind": "gaussian", "sigma": -1}),
            ["body", "noise", "gaussian", "sigma"],
        ),
        (with_(("noise",), {"kind": "fog"}), ["body", "noise"]),
        (with_(("clip_grad_norm",), 0), ["body", "clip_grad_norm"]),
        (with_(("landscape",), {"expression": "x +"}), ["body", "landscape", "expression"]),
        (with_(("landscape", "params"), {"b": -5}), ["body", "landscape", "params", "b"]),
        (with_(("device",), "cuda"), ["body", "device"]),
        (with_(("extra",), 1), ["body", "extra"]),
    ],
)
def test_invalid_runs_get_422_naming_the_field(client, run, loc):
    if run.get("device") == "cuda":
        import torch

        if torch.cuda.is_available():
            return  # then CUDA is a valid choice
    # json.dumps writes NaN as the bare token NaN, as a careless client would.
    response = client.post(
        "/api/runs", content=json.dumps(run), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    locations = [d["loc"] for d in response.json()["detail"]]
    assert loc in locations, locations


def test_non_finite_numbers_in_json_are_refused(client):
    body = json.dumps(RUN).replace('"lr": 0.01', '"lr": Infinity')
    response = client.post("/api/runs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_oversized_payload_is_refused(client):
    body = {**RUN, "series": [{"optimizer": "adam", "label": "x" * 300_000}]}
    response = client.post("/api/runs", json=body)
    assert response.status_code == 413


def test_openapi_documents_both_response_modes(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/runs"]["post"]
    content = post["responses"]["200"]["content"]
    assert "application/json" in content
    assert "text/event-stream" in content
    assert "event: <kind>" in post["responses"]["200"]["description"]


def test_the_page_folder_can_be_set(tmp_path):
    (tmp_path / "index.html").write_text("<p>elsewhere</p>")
    app = create_app(Settings(static_dir=tmp_path))
    with TestClient(app, base_url="http://127.0.0.1") as elsewhere:
        assert elsewhere.get("/").text == "<p>elsewhere</p>"


def test_the_page_and_plotly_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200
    assert '<script src="/vendor/plotly.min.js">' in page.text
    plotly = client.get("/vendor/plotly.min.js")
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert plotly.text.startswith("/**\n* plotly.js")
