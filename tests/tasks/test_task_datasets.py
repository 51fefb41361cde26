"""Generated data sets: seeded and reproducible, shaped as declared, validated by name."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError

from tasks import Dataset, get_task, list_tasks
from tasks.registry import UnknownTaskError

TASKS = [entry.id for entry in list_tasks()]


@pytest.mark.parametrize("task_id", TASKS)
def test_same_seed_same_points_other_seed_other_points(task_id):
    entry = get_task(task_id)
    first, again = entry.make({"seed": 3}), entry.make({"seed": 3})
    other = entry.make({"seed": 4})
    for name in ("x_train", "y_train", "x_held_out", "y_held_out"):
        assert torch.equal(getattr(first, name), getattr(again, name)), name
    assert not torch.equal(first.x_train, other.x_train)


@pytest.mark.parametrize("task_id", TASKS)
def test_generation_does_not_touch_the_global_generator(task_id):
    torch.manual_seed(0)
    expected = torch.rand(4)
    torch.manual_seed(0)
    get_task(task_id).make()
    assert torch.equal(torch.rand(4), expected)


@pytest.mark.parametrize("task_id", TASKS)
def test_shapes_split_and_kind(task_id):
    entry = get_task(task_id)
    params = entry.parse_params({"n": 203, "held_out": 0.2})
    data: Dataset = entry.make(params)
    held = round(203 * 0.2)
    assert data.x_held_out.shape == (held, entry.input_dim)
    assert data.x_train.shape == (203 - held, entry.input_dim)
    assert data.kind == entry.kind
    assert data.outputs == entry.outputs(params)
    assert data.x_train.dtype == torch.float64
    assert torch.isfinite(data.x_train).all()
    if entry.kind == "classification":
        assert data.y_train.dtype == torch.int64
        labels = torch.cat((data.y_train, data.y_held_out))
        # Every class is present and labels are in range (classes are balanced before the split).
        assert set(labels.tolist()) == set(range(data.classes))
        assert len(data.view_box) == 2
    else:
        assert data.y_train.shape == (203 - held, 1)
        assert len(data.view_box) == 1
    # The split is a permutation of one draw: no point is both training and held out.
    everything = torch.cat((data.x_train, data.x_held_out))
    assert torch.unique(everything, dim=0).shape[0] == 203


def test_noise_free_sets_follow_their_definitions():
    circles = get_task("circles").make({"noise": 0.0, "factor": 0.3})
    radius = torch.linalg.vector_norm(circles.x_train, dim=1)
    expected = torch.where(circles.y_train == 1, 0.3, 1.0).to(torch.float64)
    torch.testing.assert_close(radius, expected, rtol=1e-12, atol=1e-12)
    xor = get_task("xor").make({"noise": 0.0})
    same_sign = (xor.x_train[:, 0] * xor.x_train[:, 1] > 0).to(torch.int64)
    assert torch.equal(same_sign, xor.y_train)
    sine = get_task("sine").make({"noise": 0.0, "frequency": 2.0})
    torch.testing.assert_close(sine.y_train, torch.sin(2.0 * sine.x_train))


def test_blobs_have_the_classes_asked_for():
    data = get_task("blobs").make({"classes": 5, "n": 100})
    assert data.classes == 5 == get_task("blobs").outputs({"classes": 5})
    assert set(torch.cat((data.y_train, data.y_held_out)).tolist()) == set(range(5))


@pytest.mark.parametrize(
    ("task_id", "values", "field"),
    [
        ("spirals", {"n": 8}, "n"),
        ("spirals", {"n": 10_000}, "n"),
        ("spirals", {"n": 100.5}, "n"),
        ("circles", {"noise": -0.1}, "noise"),
        ("circles", {"noise": float("nan")}, "noise"),
        ("circles", {"factor": 1.5}, "factor"),
        ("xor", {"held_out": 0.9}, "held_out"),
        ("blobs", {"classes": 1}, "classes"),
        ("blobs", {"classes": True}, "classes"),
        ("sine", {"frequency": "2"}, "frequency"),
        ("sine", {"seed": -1}, "seed"),
        ("sine", {"amplitude": 1.0}, "amplitude"),
    ],
)
def test_bad_parameters_are_refused_by_name(task_id, values, field):
    with pytest.raises(ValidationError) as caught:
        get_task(task_id).make(values)
    assert caught.value.errors()[0]["loc"] == (field,)


def test_unknown_task_names_the_known_ones():
    with pytest.raises(UnknownTaskError, match="known: blobs, circles, sine, spirals, xor"):
        get_task("mnist")


@pytest.mark.parametrize("task_id", TASKS)
def test_description_serves_the_schema_and_defaults(task_id):
    entry = get_task(task_id)
    described = entry.describe()
    schema = described["params_schema"]
    assert described["kind"] == entry.kind
    for name, field in entry.params.model_fields.items():
        assert schema["properties"][name]["default"] == field.default
        # Every number is bounded on both sides, as the landscapes' parameters are.
        bounds = schema["properties"][name]
        assert "minimum" in bounds or "exclusiveMinimum" in bounds
        assert "maximum" in bounds
    assert described["defaults"] == entry.params().model_dump()
    json.dumps(described)  # served as it is


def test_registry_ids_are_unique_lower_case_and_found():
    ids = [entry.id for entry in list_tasks()]
    assert len(set(ids)) == len(ids)
    for task_id in ids:
        assert task_id == task_id.lower()
        assert get_task(task_id).id == task_id
