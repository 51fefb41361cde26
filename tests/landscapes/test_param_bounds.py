"""Landscape and noise parameters are bounded to what makes sense, generated from the schemas.

The API validates a run's landscape and noise parameters with these pydantic models and then
computes with them: whatever a model admits must work. For every numeric parameter, at the
lowest and highest admitted value (the next float inside an exclusive bound), the others at their
defaults: the landscape's description is finite JSON, its listed points are critical points in
its view box, its values are finite over the view box in float64 and float32, and a noise model's
gradient is finite in both dtypes. NaN and infinities are refused by name, never reported as an
out-of-range number, and numbers must be numbers (no booleans, no strings).
"""

from __future__ import annotations

import json
import math
import typing
from typing import Any

import pytest
import torch
from pydantic import BaseModel, ValidationError

from landscapes import NoiseSpec, list_landscapes, parse_noise, sample_surface
from landscapes.noise import StudentTNoise

LANDSCAPES = list_landscapes()
NOISE_MODELS: tuple[type[BaseModel], ...] = typing.get_args(typing.get_args(NoiseSpec)[0])
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def numeric_fields(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each numeric field of ``model``, by name."""
    properties = model.model_json_schema().get("properties", {})
    return {
        name: prop for name, prop in properties.items() if prop.get("type") in ("number", "integer")
    }


def assert_bounded(prop: dict[str, Any], name: str) -> None:
    """Finite bounds on both sides, the default between them."""
    low, high = admitted_range(prop)
    assert math.isfinite(low), name
    assert math.isfinite(high), name
    assert low <= prop["default"] <= high, name


def admitted_range(prop: dict[str, Any]) -> tuple[float, float]:
    """The lowest and highest value the schema admits: an exclusive bound's next float inside."""
    if "minimum" in prop:
        low = prop["minimum"]
    else:
        low = math.nextafter(prop["exclusiveMinimum"], math.inf)
    if "maximum" in prop:
        high = prop["maximum"]
    else:
        high = math.nextafter(prop["exclusiveMaximum"], -math.inf)
    return low, high


def extremes(model: type[BaseModel]) -> list[tuple[str, float]]:
    """(name, value) for each numeric field at its lowest and highest admitted value."""
    return [
        (name, value)
        for name, prop in numeric_fields(model).items()
        for value in admitted_range(prop)
    ]


LANDSCAPE_CASES = [
    pytest.param(entry, {name: value}, id=f"{entry.id}-{name}={value:g}")
    for entry in LANDSCAPES
    for name, value in extremes(entry.params_model)
]


@pytest.mark.parametrize(("entry", "params"), LANDSCAPE_CASES)
def test_a_landscape_at_an_admitted_extreme_is_finite_and_described(entry, params):
    described = entry.describe(params)
    json.dumps(described, allow_nan=False)  # finite numbers only
    (xmin, xmax), (ymin, ymax) = entry.view_box
    fn = entry.bind(params)
    for point in entry.critical_points(entry.make_params(params)):
        x, y = point.point
        assert xmin <= x <= xmax, point
        assert ymin <= y <= ymax, point
        xy = torch.tensor(point.point, dtype=torch.float64, requires_grad=True)
        (gradient,) = torch.autograd.grad(fn(xy), xy)
        assert gradient.abs().max().item() <= 1e-8 * max(1.0, abs(point.value)), point
    for dtype in DTYPES.values():
        surface = sample_surface(fn, entry.view_box, 41, dtype=dtype)
        assert torch.isfinite(torch.as_tensor(surface.z)).all()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("entry", LANDSCAPES, ids=[entry.id for entry in LANDSCAPES])
def test_non_finite_landscape_parameters_are_refused_as_such(entry, bad):
    for name in numeric_fields(entry.params_model):
        with pytest.raises(ValidationError, match="finite number") as caught:
            entry.make_params({name: bad})
        assert caught.value.errors()[0]["loc"] == (name,)


@pytest.mark.parametrize("entry", LANDSCAPES, ids=[entry.id for entry in LANDSCAPES])
def test_every_landscape_parameter_has_finite_bounds(entry):
    for name, prop in numeric_fields(entry.params_model).items():
        assert_bounded(prop, name)


def consistent(values: dict[str, float]) -> dict[str, float]:
    """The minibatch model's batch may not exceed its components: move the other one along."""
    if "n_components" in values:
        return {**values, "batch_size": min(values["n_components"], 4)}
    if "batch_size" in values:
        return {**values, "n_components": max(values["batch_size"], 32)}
    return values


def kind_of(model: type[BaseModel]) -> str:
    return model.model_fields["kind"].default


NOISE_CASES = [
    pytest.param(model, consistent({name: value}), id=f"{kind_of(model)}-{name}={value:g}")
    for model in NOISE_MODELS
    for name, value in extremes(model)
]


def rosenbrock(xy: torch.Tensor) -> torch.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("model", "values"), NOISE_CASES)
def test_a_noise_model_at_an_admitted_extreme_gives_finite_gradients(model, values, dtype):
    kind = kind_of(model)
    noise = parse_noise({"kind": kind, **values})
    json.dumps(noise.model_dump(), allow_nan=False)
    points = torch.tensor([[-2.0, 2.0], [0.5, -0.5], [1.0, 1.0], [0.0, 0.0]], dtype=DTYPES[dtype])
    for step in (0, 1, 7, 12345):
        p = points.clone().requires_grad_()
        loss = noise.loss(rosenbrock, p, step=step)
        (grad,) = torch.autograd.grad(loss.sum(), p)
        noisy = noise.perturb(grad, points=p.detach(), fn=rosenbrock, step=step, seeds=range(4))
        assert noisy.dtype == DTYPES[dtype]
        assert torch.isfinite(loss).all()
        assert torch.isfinite(noisy).all()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("model", NOISE_MODELS, ids=kind_of)
def test_non_finite_noise_parameters_are_refused_as_such(model, bad):
    kind = kind_of(model)
    for name, prop in numeric_fields(model).items():
        message = "finite number" if prop["type"] == "number" else "integer"
        with pytest.raises(ValidationError, match=message):
            parse_noise({"kind": kind, name: bad})


@pytest.mark.parametrize("model", NOISE_MODELS, ids=kind_of)
def test_every_noise_parameter_has_finite_bounds(model):
    for name, prop in numeric_fields(model).items():
        assert_bounded(prop, name)


def test_student_t_degrees_of_freedom_keep_a_usable_covariance():
    """ν > 2 is what the matched covariance needs, but just above 2 the scale √((ν-2)/ν) is
    nearly 0 and the tails nearly without a variance: almost every draw is tiny and a rare one
    is huge, and no run of a few thousand steps sees the covariance it was promised. From 2.1 the
    scale is at least 0.22 σ."""
    low, _ = admitted_range(numeric_fields(StudentTNoise)["df"])
    assert low == 2.1
    with pytest.raises(ValidationError, match="df"):
        StudentTNoise(df=2.0000000000000004)
    assert math.sqrt((low - 2) / low) > 0.2


@pytest.mark.parametrize("entry", LANDSCAPES, ids=[entry.id for entry in LANDSCAPES])
def test_landscape_parameters_must_be_numbers(entry):
    """No true for 1.0 and no "2" for 2: the API's JSON means what it says."""
    for name, prop in numeric_fields(entry.params_model).items():
        for wrong in (True, str(prop["default"])):
            with pytest.raises(ValidationError, match=name):
                entry.make_params({name: wrong})


@pytest.mark.parametrize("model", NOISE_MODELS, ids=kind_of)
def test_noise_parameters_must_be_numbers(model):
    for name, prop in numeric_fields(model).items():
        for wrong in (True, str(prop["default"])):
            with pytest.raises(ValidationError, match=name):
                parse_noise({"kind": kind_of(model), name: wrong})
        if prop["type"] == "integer":
            with pytest.raises(ValidationError, match=name):  # 32.0 is not a count
                parse_noise({"kind": kind_of(model), name: float(prop["default"])})
