"""The hyperparameter schemas never admit what the optimizers refuse, generated from the registry.

The API validates a run's hyperparameters with each entry's pydantic model and then hands them to
the constructor: a value the model accepts and the constructor (or a step) refuses is a 500. So
for every optimizer and every numeric hyperparameter, the optimizer is built at the schema's
lowest and highest admitted values (the next float inside an exclusive bound) and at the awkward
values between them (AWKWARD), the others at their defaults, the way the engine builds it (as a
float, and as a swept (B, 1) tensor where the entry takes one), on a (4, 2) batch of points in
float64 and float32, and stepped on a quadratic. Nothing may raise: the points may run away (the
engine stops such rows), but a step may not raise.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from optimizers.registry import OptimizerEntry, list_optimizers

ENTRIES = list_optimizers()
DTYPES = {"float64": torch.float64, "float32": torch.float32}
STEPS = 3
# A (4, 2) batch of points, as the engine holds a run's rows: some far out, one at the minimum.
POINTS = [[-2.0, 2.0], [0.5, -0.5], [30.0, -40.0], [0.0, 0.0]]


def numeric_hparams(entry: OptimizerEntry) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each numeric (not boolean) hyperparameter, by name."""
    properties = entry.hparams.model_json_schema()["properties"]
    return {
        name: prop for name, prop in properties.items() if prop.get("type") in ("number", "integer")
    }


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
    return float(low), float(high)


def quadratic(points: torch.Tensor) -> torch.Tensor:
    """An ill-conditioned bowl, one value per row."""
    return points[:, 0] ** 2 + 10 * points[:, 1] ** 2


def take_steps(optimizer: torch.optim.Optimizer, entry: OptimizerEntry, points: torch.Tensor):
    """Steps as the engine takes them: gradients from autograd.grad (with the graph kept for
    optimizers that take a Hessian diagonal, which the engine estimates with a Rademacher probe
    and passes to step())."""
    generator = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        create_graph = entry.accepts_hessian_diagonal or entry.needs_create_graph
        (grad,) = torch.autograd.grad(quadratic(points).sum(), points, create_graph=create_graph)
        points.grad = grad.detach()
        if entry.accepts_hessian_diagonal:
            z = torch.randint(0, 2, points.shape, generator=generator).to(points.dtype) * 2 - 1
            (hz,) = torch.autograd.grad(grad, points, grad_outputs=z)
            optimizer.step(hessian=[(z * hz).detach()])
        else:
            optimizer.step()
        points.grad = None


# Values that break code rather than math: float32's smallest normal and subnormal numbers, ones
# whose reciprocal overflows float32 (or float64), and betas a hair below 1. Each hyperparameter
# is tried at those of them its schema admits, besides its lowest and highest admitted values.
AWKWARD = sorted(
    {10.0**k for k in (-320, -300, -100, -45, -40, -38, -30, -16, -12, -8, -4)}
    | {1.2e-38, 1.4e-45, 1e-2, 0.5, 1.0, 10.0, 1e3, 3.5e38, 1e100}
    | {1 - 10.0**-k for k in (2, 4, 8, 12, 16)}
)


def values_to_try(prop: dict[str, Any]) -> list[float]:
    """The admitted extremes and every awkward value (and its negative) the schema admits."""
    low, high = admitted_range(prop)
    inside = {v for a in AWKWARD for v in (a, -a) if low <= v <= high}
    return sorted({low, high, *inside})


def failures(entry: OptimizerEntry, name: str, dtype: torch.dtype, *, as_tensor: bool) -> list:
    """Each value of ``name`` (the others at their defaults) whose build or steps raise."""
    found = []
    for value in values_to_try(numeric_hparams(entry)[name]):
        values = entry.parse_hparams({name: value})  # the schema admits it ...
        points = torch.tensor(POINTS, dtype=dtype, requires_grad=True)
        # ... so must the class: as a float, or as a sweep's (B, 1) tensor in the run's dtype
        # (where e.g. a tiny float64 value rounds to 0 in float32).
        tensors = {name: torch.full((len(POINTS), 1), value, dtype=dtype)} if as_tensor else {}
        try:
            optimizer = entry.build([points], values, independent_rows=True, **tensors)
            take_steps(optimizer, entry, points)
        except Exception as error:  # any exception here is a 500 in the app
            found.append(f"{name}={value!r}: {type(error).__name__}: {error}")
    return found


SCALAR_CASES = [
    pytest.param(entry, name, id=f"{entry.id}-{name}")
    for entry in ENTRIES
    for name in numeric_hparams(entry)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "name"), SCALAR_CASES)
def test_every_admitted_value_builds_and_steps(entry, name, dtype):
    assert failures(entry, name, DTYPES[dtype], as_tensor=False) == []


TENSOR_CASES = [
    pytest.param(entry, name, id=f"{entry.id}-{name}")
    for entry in ENTRIES
    for name in sorted(entry.tensor_hparams)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "name"), TENSOR_CASES)
def test_every_admitted_value_builds_and_steps_as_a_swept_tensor(entry, name, dtype):
    assert failures(entry, name, DTYPES[dtype], as_tensor=True) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_every_numeric_hyperparameter_has_finite_bounds(entry):
    """Both ends bounded: the page draws sliders from them and the tests above step at them."""
    for name, prop in numeric_hparams(entry).items():
        low, high = admitted_range(prop)
        assert math.isfinite(low), name
        assert math.isfinite(high), name
        assert low < high, name


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_non_finite_hyperparameters_are_refused(entry, bad):
    for name in numeric_hparams(entry):
        with pytest.raises(ValidationError, match=name):
            entry.parse_hparams({name: bad})


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_the_defaults_lie_inside_the_bounds(entry):
    for name, prop in numeric_hparams(entry).items():
        low, high = admitted_range(prop)
        assert low <= prop["default"] <= high, (entry.id, name)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_numbers_must_be_numbers(entry):
    """No true for 1.0, no "0.1" for 0.1: the API's JSON means what it says."""
    for name, prop in numeric_hparams(entry).items():
        for wrong in (True, str(prop["default"])):
            with pytest.raises(ValidationError, match=name):
                entry.parse_hparams({name: wrong})
        assert entry.parse_hparams({name: prop["default"]})


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_flags_take_booleans_and_zero_or_one(entry):
    """The CLI's --hparam NAME=VALUE sends floats: 1.0 still turns a flag on."""
    properties = entry.hparams.model_json_schema()["properties"]
    for name in (name for name, prop in properties.items() if prop.get("type") == "boolean"):
        values = {name: True}
        if entry.id == "sgd" and name == "nesterov":
            values["momentum"] = 0.9
        assert getattr(entry.parse_hparams(values), name) is True
        assert getattr(entry.parse_hparams({**values, name: 1.0}), name) is True
