"""The `Landscape` record: one 2-D test function with everything a picture of it needs.

A landscape's function is written once in torch over a trailing dimension of 2
(`x = xy[..., 0]`, `y = xy[..., 1]`), so the same callable serves autograd on a `(B, 2)` batch of
trajectory points and a `(ny, nx, 2)` plotting grid, in any floating dtype and on any device.
A landscape may also carry its gradient written out (`value_and_grad`), so a caller that only
needs first derivatives can skip autograd's graph.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from torch import Tensor

ViewBox = tuple[tuple[float, float], tuple[float, float]]
"""`((xmin, xmax), (ymin, ymax))`: the rectangle a plot shows."""

ValueAndGrad = Callable[[Tensor], tuple[Tensor, Tensor]]
"""`xy (..., 2) -> (values (...), gradient (..., 2))`: a landscape's value and gradient, bound."""

PointKind = Literal["global_min", "local_min", "local_max", "saddle"]
ColourScale = Literal["log", "linear"]

_ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class Params(BaseModel):
    """Base of every landscape's parameter model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoParams(Params):
    """The parameter model of a landscape that has no parameters."""


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, with its function value and what kind of point it is."""

    point: tuple[float, float]
    value: float
    kind: PointKind = "global_min"

    def to_json(self) -> dict[str, Any]:
        """`{"point": [x, y], "value": f, "kind": kind}`."""
        return {"point": list(self.point), "value": self.value, "kind": self.kind}


def validate_view_box(view_box: ViewBox, name: str = "view_box") -> ViewBox:
    """Return `view_box` as floats, or raise ValueError naming `name` if it is not a finite,
    non-empty rectangle `((xmin, xmax), (ymin, ymax))`."""
    try:
        (xmin, xmax), (ymin, ymax) = view_box
        box = ((float(xmin), float(xmax)), (float(ymin), float(ymax)))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be ((xmin, xmax), (ymin, ymax)), got {view_box!r}"
        ) from error
    if not all(math.isfinite(v) for pair in box for v in pair) or not (
        box[0][0] < box[0][1] and box[1][0] < box[1][1]
    ):
        raise ValueError(f"{name} must be finite with xmin < xmax and ymin < ymax, got {box}")
    return box


def _no_points(_params: Params) -> Sequence[CriticalPoint]:
    return ()


@dataclass(frozen=True)
class Landscape:
    """One entry of the registry.

    `fn(xy, params)` maps a `(..., 2)` tensor to the `(...)` tensor of function values; it is
    differentiable and keeps the dtype and device of `xy`. `critical_points(params)` lists the
    known global minima and the notable local minima, maxima and saddles for those parameters
    (minima can move with the parameters, e.g. Rosenbrock's `(a, a^2)`).

    `value_and_grad(xy, params)`, when given, returns `(fn(xy, params), ∇fn)` in one pass, the
    gradient of shape `(..., 2)`, with the same dtype and device rules as `fn`. The values are
    bitwise those of `fn` (the same arithmetic) and the gradient is autograd's up to rounding,
    with autograd's choices where `fn` is not differentiable (a norm at 0, a clamp's ends).
    Wherever the value is finite, a non-finite gradient entry is of autograd's kind (NaN, +inf
    or -inf), so a caller that stops a row on a non-finite loss or gradient stops the same rows
    with either; where the value is not finite the gradient may overflow differently. None
    means: differentiate `fn` with autograd.
    """

    id: str
    label: str
    fn: Callable[[Tensor, Any], Tensor]
    latex: str
    view_box: ViewBox
    default_start: tuple[float, float]
    colour_scale: ColourScale
    note: str
    params_model: type[Params] = NoParams
    critical_points: Callable[[Any], Sequence[CriticalPoint]] = field(default=_no_points)
    value_and_grad: Callable[[Tensor, Any], tuple[Tensor, Tensor]] | None = None

    def __post_init__(self) -> None:
        if not _ID_PATTERN.fullmatch(self.id):
            raise ValueError(f"id must match {_ID_PATTERN.pattern}, got {self.id!r}")
        if self.colour_scale not in ("log", "linear"):
            raise ValueError(f"colour_scale must be 'log' or 'linear', got {self.colour_scale!r}")
        object.__setattr__(self, "view_box", validate_view_box(self.view_box))

    def make_params(self, values: Params | Mapping[str, Any] | None = None) -> Params:
        """Validate `values` (a mapping, an instance of `params_model`, or None for the defaults)
        into an instance of `params_model`; a pydantic ValidationError (a ValueError) otherwise."""
        if isinstance(values, self.params_model):
            return values
        if isinstance(values, BaseModel):
            values = values.model_dump()
        return self.params_model.model_validate(values or {})

    def bind(self, params: Params | Mapping[str, Any] | None = None) -> Callable[[Tensor], Tensor]:
        """The function with its parameters fixed: `xy (..., 2) -> values (...)`."""
        bound = self.make_params(params)

        def landscape_fn(xy: Tensor) -> Tensor:
            return self.fn(xy, bound)

        return landscape_fn

    def bind_value_and_grad(
        self, params: Params | Mapping[str, Any] | None = None
    ) -> ValueAndGrad | None:
        """The analytic value and gradient with the parameters fixed:
        `xy (..., 2) -> (values (...), gradient (..., 2))`, or None when this landscape has no
        analytic gradient. The parameters are validated either way, as by `bind`."""
        bound = self.make_params(params)
        value_and_grad = self.value_and_grad
        if value_and_grad is None:
            return None

        def landscape_value_and_grad(xy: Tensor) -> tuple[Tensor, Tensor]:
            return value_and_grad(xy, bound)

        return landscape_value_and_grad

    def global_minima(
        self, params: Params | Mapping[str, Any] | None = None
    ) -> list[CriticalPoint]:
        """The global minima for `params` (empty when the function is unbounded below)."""
        points = self.critical_points(self.make_params(params))
        return [p for p in points if p.kind == "global_min"]

    def notable_points(
        self, params: Params | Mapping[str, Any] | None = None
    ) -> list[CriticalPoint]:
        """Notable local minima, local maxima and saddles for `params`."""
        points = self.critical_points(self.make_params(params))
        return [p for p in points if p.kind != "global_min"]

    def describe(self, params: Params | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """This entry as JSON-ready data, with minima for `params` (the defaults when None) and
        the parameters' JSON Schema, so a web API can serve it as it is."""
        bound = self.make_params(params)
        (xmin, xmax), (ymin, ymax) = self.view_box
        return {
            "id": self.id,
            "label": self.label,
            "latex": self.latex,
            "view_box": [[xmin, xmax], [ymin, ymax]],
            "global_minima": [
                {"point": list(p.point), "value": p.value} for p in self.global_minima(bound)
            ],
            "notable_points": [p.to_json() for p in self.notable_points(bound)],
            "default_start": list(self.default_start),
            "colour_scale": self.colour_scale,
            "note": self.note,
            "params": bound.model_dump(),
            "params_schema": self.params_model.model_json_schema(),
        }
