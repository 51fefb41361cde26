"""Optiscope's landscapes: 2-D test functions in torch, gradient noise, user-typed functions and
surfaces for plots.

- `landscapes.registry`: the catalogue (`get_landscape`, `list_landscapes`).
- `landscapes.landscape`: the `Landscape` record and its `CriticalPoint`s.
- `landscapes.noise`: noise models applied to the gradient, never to the plotted loss.
- `landscapes.expression`: the safe parser for functions typed by users.
- `landscapes.surface`: values on a grid of the view box, JSON-safe.

Nothing here imports a web framework.
"""

from landscapes.expression import (
    Expression,
    ExpressionError,
    expression_landscape,
    parse_expression,
)
from landscapes.landscape import CriticalPoint, Landscape, NoParams, Params, ViewBox
from landscapes.noise import (
    DriftNoise,
    GaussianNoise,
    MinibatchNoise,
    MultiplicativeNoise,
    NoiseModel,
    NoiseSpec,
    NoNoise,
    StudentTNoise,
    noise_json_schema,
    parse_noise,
)
from landscapes.registry import (
    REGISTRY,
    UnknownLandscapeError,
    get_landscape,
    list_landscapes,
)
from landscapes.surface import Surface, sample_surface

__all__ = [
    "REGISTRY",
    "CriticalPoint",
    "DriftNoise",
    "Expression",
    "ExpressionError",
    "GaussianNoise",
    "Landscape",
    "MinibatchNoise",
    "MultiplicativeNoise",
    "NoNoise",
    "NoParams",
    "NoiseModel",
    "NoiseSpec",
    "Params",
    "StudentTNoise",
    "Surface",
    "UnknownLandscapeError",
    "ViewBox",
    "expression_landscape",
    "get_landscape",
    "list_landscapes",
    "noise_json_schema",
    "parse_expression",
    "parse_noise",
    "sample_surface",
]
