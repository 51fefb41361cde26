"""The catalogue: the registries (optimizers, landscapes, network tasks) and the presets as
JSON, and surfaces for contour and 3-D plots."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.deps import SettingsDep
from app.presets import list_presets
from app.schemas import Surface
from app.settings import Settings
from engine.spec import MAX_COORDINATE, MIN_VIEW_SIZE
from landscapes import (
    ExpressionError,
    UnknownLandscapeError,
    expression_landscape,
    get_landscape,
    list_landscapes,
    noise_json_schema,
    sample_surface,
)
from optimizers.registry import list_optimizers
from tasks.registry import list_tasks

router = APIRouter(tags=["catalogue"])

# A typed function's view box is bounded as a run's is (engine/spec.py).
ViewBoxBound = Annotated[float, Query(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]


def _query_error(field: str, message: str, **extra: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", field), "msg": message, "type": "value_error", **extra}]
    )


def _surface(fn, view_box, resolution: int, log: bool, settings: Settings) -> dict:
    if resolution > settings.max_surface_resolution:
        raise _query_error("resolution", f"must be at most {settings.max_surface_resolution}")
    return {**sample_surface(fn, view_box, resolution).to_plotly(log=log), "log": log}


@router.get("/optimizers")
def optimizers() -> list[dict[str, Any]]:
    """Every optimizer: hyperparameter JSON Schema (defaults, bounds, ``log_scale`` hints),
    update rule in LaTeX, summary, paper, capability flags."""
    return [entry.describe() for entry in list_optimizers()]


@router.get("/landscapes")
def landscapes() -> list[dict[str, Any]]:
    """Every landscape: LaTeX, view box, global minima, notable points, default start, colour
    scale hint, teaching note, parameter JSON Schema."""
    return [entry.describe() for entry in list_landscapes()]


@router.get("/tasks")
def tasks() -> list[dict[str, Any]]:
    """Every network task (the data a network run learns): kind, inputs, outputs, parameter
    JSON Schema and defaults."""
    return [entry.describe() for entry in list_tasks()]


@router.get("/presets")
def presets() -> list[dict[str, Any]]:
    """Every preset (id, title, narration, run spec, view hints); the first is the default run."""
    return [preset.model_dump() for preset in list_presets()]


@router.get("/noise-models")
def noise_models() -> dict[str, Any]:
    """JSON Schema of the noise models (a union told apart by ``kind``)."""
    return noise_json_schema()


@router.get("/landscapes/{landscape_id}/surface", response_model=Surface)
def landscape_surface(
    landscape_id: str,
    settings: SettingsDep,
    resolution: Annotated[int, Query(ge=2, le=400)] = 120,
    params: Annotated[str | None, Query(description="The landscape's parameters as JSON.")] = None,
    log: Annotated[bool, Query(description="log10 transform for a log colour scale.")] = False,
) -> dict:
    """The landscape on a ``resolution`` x ``resolution`` grid of its view box."""
    try:
        landscape = get_landscape(landscape_id)
    except UnknownLandscapeError as error:
        raise HTTPException(404, str(error)) from None
    try:
        values = json.loads(params) if params else {}
        bound = landscape.make_params(values)
    except json.JSONDecodeError as error:
        raise _query_error("params", f"not valid JSON: {error.msg}") from None
    except RecursionError:
        raise _query_error("params", "nested too deeply") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _query_error("params", f"{where}: {first['msg']}") from None
    return _surface(landscape.bind(bound), landscape.view_box, resolution, log, settings)


@router.get("/expression/surface", response_model=Surface)
def expression_surface(
    expression: Annotated[str, Query(max_length=500, description="A function of x and y.")],
    settings: SettingsDep,
    resolution: Annotated[int, Query(ge=2, le=400)] = 120,
    x_min: ViewBoxBound = -3.0,
    x_max: ViewBoxBound = 3.0,
    y_min: ViewBoxBound = -3.0,
    y_max: ViewBoxBound = 3.0,
    log: bool = False,
) -> dict:
    """A typed function on a grid; a parse error is a 422 with the message and its position."""
    try:
        landscape = expression_landscape(expression, view_box=((x_min, x_max), (y_min, y_max)))
    except ExpressionError as error:
        raise _query_error("expression", str(error), position=error.position) from None
    except ValueError as error:  # the view box
        raise _query_error("x_min", str(error)) from None
    if min(x_max - x_min, y_max - y_min) < MIN_VIEW_SIZE:
        raise _query_error(
            "x_max", f"the view box must be at least {MIN_VIEW_SIZE:g} wide and high"
        )
    return _surface(landscape.bind(), landscape.view_box, resolution, log, settings)
