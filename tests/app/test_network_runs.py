"""Network runs over real HTTP: the task list, one endpoint for both kinds of run, the declared
record (checked against the OpenAPI document), both encodings, the loss plane, and 422s that
name the field."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from engine.network_spec import PLANE_KEPT_STEPS, NetworkRunSpec
from engine.training import train_to_result
from tasks.registry import list_tasks
from tests.app.test_run_record import decoded, validator
from tests.app.test_server import sse_events

SSE = {"Accept": "text/event-stream"}
RUN = {
    "task": {"id": "spirals", "params": {"n": 120}, "model": {"hidden": [20, 20]}},
    "steps": 40,
    "seeds": [0, 3],
    "series": [
        {"optimizer": "andi", "hparams": {"lr": 0.01}},
        {"optimizer": "anon", "hparams": {"lr": 0.01}, "sweep": {"param": "gamma",
         "values": [0, 1]}},
    ],
    "plane": {"kind": "pca", "resolution": 9},
}  # fmt: skip
EVENT_SCHEMAS = {
    "meta": "NetworkMeta",
    "chunk": "NetworkChunk",
    "snapshot": "SnapshotEvent",
    "plane": "PlaneEvent",
    "done": "NetworkDone",
}


@pytest.fixture(scope="module")
def server():
    from app.local_server import local_server

    with local_server() as url:
        yield url, httpx.get(f"{url}/openapi.json").json()


def post(url: str, run: dict, encoding: str = "plain", stream: bool = False) -> httpx.Response:
    headers = SSE if stream else {}
    return httpx.post(
        f"{url}/api/runs", json=run, params={"encoding": encoding}, headers=headers, timeout=120
    )


def shaped(value):
    """``decoded`` that also gives a typed array with a ``shape`` its nested lists."""
    if isinstance(value, dict) and "shape" in value and set(value) == {"dtype", "bdata", "shape"}:
        flat = np.array(decoded({"dtype": value["dtype"], "bdata": value["bdata"]}))
        return flat.reshape([int(n) for n in value["shape"].split(",")]).tolist()
    if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
        return decoded(value)
    if isinstance(value, dict):
        return {k: shaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shaped(v) for v in value]
    return value


def test_the_task_list_is_the_registry_with_parameter_schemas(server):
    url, _ = server
    tasks = httpx.get(f"{url}/api/tasks").json()
    assert [t["id"] for t in tasks] == [entry.id for entry in list_tasks()]
    spirals = tasks[0]
    assert spirals["kind"] == "classification"
    assert {"n", "noise", "held_out", "seed"} <= set(spirals["params_schema"]["properties"])
    assert spirals["defaults"]["n"] == spirals["params_schema"]["properties"]["n"]["default"]
    assert {t["kind"] for t in tasks} == {"classification", "regression"}


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_a_streamed_network_run_follows_the_declared_events(server, encoding):
    url, openapi = server
    with httpx.stream(
        "POST", f"{url}/api/runs", json=RUN, params={"encoding": encoding}, headers=SSE,
        timeout=120,
    ) as response:  # fmt: skip
        assert response.status_code == 200
        events = list(sse_events(response.iter_lines()))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "meta"
    assert kinds[-2:] == ["plane", "done"]
    assert set(kinds[1:-2]) == {"chunk", "snapshot"}
    for kind, data in events:
        validator(openapi, EVENT_SCHEMAS[kind]).validate(data)
    meta = events[0][1]
    assert meta["model"]["shapes"] == [[20, 2], [20, 20], [2, 20]]
    assert len(meta["rows"]) == (1 + 2) * 2
    snapshot = next(data for kind, data in events if kind == "snapshot")
    probabilities = np.array(shaped(snapshot["rows"][0]["probabilities"]))
    assert probabilities.shape == (2, 48, 48)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, rtol=1e-5)


def test_both_encodings_and_the_engine_give_the_same_numbers(server):
    url, openapi = server
    plain = post(url, RUN).json()
    typed = post(url, RUN, "typed").json()
    validator(openapi, "NetworkRunResult").validate(plain)
    validator(openapi, "NetworkRunResult").validate(typed)
    assert shaped(typed) == plain
    engine = train_to_result(NetworkRunSpec.model_validate(RUN), configured_device="cpu")
    for over_http, local in zip(plain["series"], engine["series"], strict=True):
        assert over_http["label"] == local["label"]
        for column in ("steps", "loss", "held_out_loss", "accuracy", "grad_norm"):
            assert over_http[column] == local[column].tolist(), column
        assert over_http["final_loss"] == local["final_loss"]


def test_the_loss_plane_goes_through_each_rows_final_weights(server):
    url, _ = server
    result = post(url, RUN).json()
    for row in result["series"]:
        plane = row["plane"]
        assert plane["kind"] == "pca"
        # The plane is centred on the final weights, where the loss is the row's final loss.
        assert plane["center_loss"] == pytest.approx(row["final_loss"], rel=1e-12)
        assert len(plane["path"]) == min(PLANE_KEPT_STEPS, RUN["steps"] + 1)
        assert plane["path"][-1] == pytest.approx([0.0, 0.0], abs=1e-9)
        # The path is drawn on the surface: its last point's height is the centre's loss.
        assert len(plane["path_loss"]) == len(plane["path"])
        assert plane["path_loss"][-1] == plane["center_loss"]
        first, second = plane["explained_variance"]
        assert 0 < second <= first <= 1
        assert len(plane["loss"]) == len(plane["alpha"]) == 9
        assert all(len(line) == len(plane["beta"]) for line in plane["loss"])


def test_record_final_sends_summaries_only(server):
    url, _ = server
    run = {**RUN, "record": "final", "plane": None}
    result = post(url, run).json()
    whole = post(url, {**RUN, "plane": None}).json()
    for one, full in zip(result["series"], whole["series"], strict=True):
        assert not {"steps", "loss", "grad_norm"} & set(one)
        assert one["final_loss"] == full["final_loss"]
        assert one["final_accuracy"] == full["final_accuracy"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"task": {"id": "mnist"}}, ["body", "task", "id"]),
        ({"task": {"id": "spirals", "params": {"n": 3}}}, ["body", "task", "params", "n"]),
        ({"task": {"id": "spirals", "model": {"hidden": [0]}}},
         ["body", "task", "model", "hidden", 0]),
        ({"steps": 0}, ["body", "steps"]),
        ({"plane": {"resolution": 500}}, ["body", "plane", "resolution"]),
        ({"landscape": {"id": "rosenbrock"}}, ["body", "landscape"]),
        ({"series": [{"optimizer": "adam", "hparams": {"lr": -1}}]},
         ["body", "series", 0, "hparams", "lr"]),
    ],
)  # fmt: skip
def test_bad_network_runs_are_422s_naming_the_field(server, change, loc):
    url, _ = server
    response = post(url, {**RUN, **change})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_a_network_run_over_the_budget_names_the_field(server):
    url, _ = server
    run = {**RUN, "task": {"id": "spirals", "params": {"n": 4000}, "model": {"hidden": [256] * 4}},
           "steps": 20000, "seeds": list(range(8))}  # fmt: skip
    response = post(url, run)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["type"] == "budget_exceeded"
    assert detail["loc"][:2] in (["body", "steps"], ["body", "task"], ["body", "series"])
    json.dumps(detail)  # the answer itself is plain JSON
