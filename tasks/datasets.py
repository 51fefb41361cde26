"""Small training sets made in code: two spirals, circles, XOR, Gaussian blobs, a sine curve.

Nothing is downloaded. Every generator takes its validated parameter model and draws from a
``torch.Generator`` seeded with the model's ``seed``, so the same parameters give the same
points on every machine (the draws are made on the CPU in float64 and cast afterwards). The
held-out split is part of the draw: a seeded permutation sends ``round(n * held_out)`` points to
the held-out set and the rest to training.

Each parameter model is bounded on both sides like the landscapes' (strict numbers, finite), so
the API validates requests with it and serves its JSON Schema for the page's controls.

Inputs are 2-D points in roughly ``[-1, 1]^2`` for the classification sets (``view_box`` gives
the box a decision boundary is drawn over) and 1-D ``x`` in ``[-pi, pi]`` for the sine
regression, where the fitted curve is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BlobsParams",
    "CirclesParams",
    "Dataset",
    "SineParams",
    "SpiralsParams",
    "TaskParams",
    "XorParams",
    "blobs",
    "circles",
    "held_out_count",
    "sine",
    "spirals",
    "xor",
]

Kind = Literal["classification", "regression"]
# Bounds shared by every task: a few points to learn from, and few enough that a full batch of
# 64 rows stays a small matmul on two CPU cores.
MIN_POINTS = 16
MAX_POINTS = 4096


def _parameter(default: float | int, description: str, **bounds: float) -> Any:
    """A bounded numeric parameter: strict (no booleans or strings), finite (NaN is refused by
    name rather than as "not less than ..."), as landscapes/registry.py declares them."""
    return Field(default, strict=True, allow_inf_nan=False, description=description, **bounds)


class TaskParams(BaseModel):
    """What every task takes: how many points, how noisy, how many held out, and the seed.

    ``n`` counts training and held-out points together; ``held_out`` is the held-out fraction,
    bounded so both sets keep at least a few points.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = _parameter(400, "Points in all (training and held out).", ge=MIN_POINTS, le=MAX_POINTS)
    noise: float = _parameter(0.1, "Standard deviation of the Gaussian noise.", ge=0.0, le=1.0)
    held_out: float = _parameter(
        0.25, "Fraction of the points held out for evaluation.", ge=0.05, le=0.5
    )
    seed: int = _parameter(0, "Seed of the points and of the split.", ge=0, le=2**62)


class SpiralsParams(TaskParams):
    """Two interleaved spirals, one per class."""

    turns: float = _parameter(1.5, "Turns of each spiral.", ge=0.25, le=4.0)


class CirclesParams(TaskParams):
    """A disc of one class inside a ring of the other."""

    noise: float = _parameter(0.05, "Standard deviation of the Gaussian noise.", ge=0.0, le=1.0)
    factor: float = _parameter(0.5, "Radius of the inner circle over the outer's.", ge=0.1, le=0.9)


class XorParams(TaskParams):
    """Four quadrants, opposite ones sharing a class."""

    noise: float = _parameter(0.05, "Standard deviation of the Gaussian noise.", ge=0.0, le=1.0)


class BlobsParams(TaskParams):
    """Gaussian blobs, one per class, centred evenly on a circle of radius 0.7."""

    noise: float = _parameter(0.2, "Standard deviation of each blob.", ge=0.01, le=1.0)
    classes: int = _parameter(3, "Number of blobs (classes).", ge=2, le=8)


class SineParams(TaskParams):
    """y = sin(frequency x) + noise, x uniform on [-pi, pi]."""

    frequency: float = _parameter(1.0, "Frequency of the sine.", ge=0.25, le=4.0)


@dataclass(frozen=True)
class Dataset:
    """One task's points, float64 on the CPU (the engine casts them to the run's dtype).

    Attributes:
        kind: 'classification' (``y`` holds int64 class indices) or 'regression' (``y`` holds
            float64 targets of shape ``(n, 1)``).
        x_train, y_train: the training points ``(n_train, input_dim)`` and their targets.
        x_held_out, y_held_out: the held-out points and targets.
        classes: number of classes (1 for a regression: one output).
        view_box: ``((xmin, xmax), (ymin, ymax))`` a decision boundary is drawn over, or
            ``((xmin, xmax),)`` for a 1-D input, where a fitted curve is drawn.
    """

    kind: Kind
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_held_out: torch.Tensor
    y_held_out: torch.Tensor
    classes: int
    view_box: tuple[tuple[float, float], ...]

    @property
    def input_dim(self) -> int:
        return self.x_train.shape[1]

    @property
    def outputs(self) -> int:
        """The network's output size: one logit per class, or one value for a regression."""
        return self.classes if self.kind == "classification" else 1

    def describe(self) -> dict[str, Any]:
        """The points as plain lists, for a run's ``meta`` (a few thousand numbers at most)."""
        return {
            "kind": self.kind,
            "classes": self.classes,
            "view_box": [list(side) for side in self.view_box],
            "x_train": self.x_train.tolist(),
            "y_train": self.y_train.flatten().tolist(),
            "x_held_out": self.x_held_out.tolist(),
            "y_held_out": self.y_held_out.flatten().tolist(),
        }


def _generator(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def held_out_count(params: TaskParams) -> int:
    """Points held out: ``round(n * held_out)``, at least one and leaving one for training."""
    return min(max(round(params.n * params.held_out), 1), params.n - 1)


def _split(
    x: torch.Tensor, y: torch.Tensor, params: TaskParams, g: torch.Generator, **info: Any
) -> Dataset:
    """Shuffle with ``g`` and hold out :func:`held_out_count` points."""
    n = x.shape[0]
    held = held_out_count(params)
    order = torch.randperm(n, generator=g)
    test, train = order[:held], order[held:]
    return Dataset(
        x_train=x[train], y_train=y[train], x_held_out=x[test], y_held_out=y[test], **info
    )


def _gaussian(shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    return torch.randn(shape, generator=g, dtype=torch.float64)


def _uniform(shape: tuple[int, ...], g: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=torch.float64)


def _balanced_labels(n: int, classes: int) -> torch.Tensor:
    """``0, 1, ..., classes-1, 0, 1, ...``: classes as even as ``n`` allows."""
    return torch.arange(n, dtype=torch.int64) % classes


_BOX = ((-1.5, 1.5), (-1.5, 1.5))


def spirals(params: SpiralsParams) -> Dataset:
    r"""Two spirals, 180 degrees apart: point :math:`i` of class :math:`c` sits at radius
    :math:`r = 0.05 + 0.95 s`, angle :math:`2\pi \cdot \text{turns} \cdot s + \pi c` with
    :math:`s` uniform on [0, 1], plus Gaussian noise of standard deviation ``noise`` (scaled by
    0.2, so noise 1 blurs neighbouring arms together)."""
    g = _generator(params.seed)
    y = _balanced_labels(params.n, 2)
    s = _uniform((params.n,), g)
    radius = 0.05 + 0.95 * s
    angle = 2 * math.pi * params.turns * s + math.pi * y.to(torch.float64)
    x = torch.stack((radius * torch.cos(angle), radius * torch.sin(angle)), dim=1)
    x = x + 0.2 * params.noise * _gaussian((params.n, 2), g)
    return _split(x, y, params, g, kind="classification", classes=2, view_box=_BOX)


def circles(params: CirclesParams) -> Dataset:
    """A circle of radius ``factor`` (class 1) inside one of radius 1 (class 0), angles
    uniform, plus Gaussian noise (scikit-learn's ``make_circles``, seeded here)."""
    g = _generator(params.seed)
    y = _balanced_labels(params.n, 2)
    angle = 2 * math.pi * _uniform((params.n,), g)
    radius = torch.where(y == 1, params.factor, 1.0)
    x = torch.stack((radius * torch.cos(angle), radius * torch.sin(angle)), dim=1)
    x = x + params.noise * _gaussian((params.n, 2), g)
    return _split(x, y, params, g, kind="classification", classes=2, view_box=_BOX)


def xor(params: XorParams) -> Dataset:
    """Points uniform on ``[-1, 1]^2``; class 1 where x and y have the same sign (the first
    and third quadrants), labelled before the Gaussian noise moves them."""
    g = _generator(params.seed)
    x = 2 * _uniform((params.n, 2), g) - 1
    y = (x[:, 0] * x[:, 1] > 0).to(torch.int64)
    x = x + params.noise * _gaussian((params.n, 2), g)
    return _split(x, y, params, g, kind="classification", classes=2, view_box=_BOX)


def blobs(params: BlobsParams) -> Dataset:
    r"""``classes`` isotropic Gaussian blobs of standard deviation ``noise`` around centres at
    angles :math:`2\pi k / \text{classes}` on a circle of radius 0.7."""
    g = _generator(params.seed)
    y = _balanced_labels(params.n, params.classes)
    angle = 2 * math.pi * y.to(torch.float64) / params.classes
    centres = 0.7 * torch.stack((torch.cos(angle), torch.sin(angle)), dim=1)
    x = centres + params.noise * _gaussian((params.n, 2), g)
    return _split(x, y, params, g, kind="classification", classes=params.classes, view_box=_BOX)


def sine(params: SineParams) -> Dataset:
    """A 1-D regression: x uniform on [-pi, pi], ``y = sin(frequency x) + noise * N(0, 1)``."""
    g = _generator(params.seed)
    x = math.pi * (2 * _uniform((params.n, 1), g) - 1)
    y = torch.sin(params.frequency * x) + params.noise * _gaussian((params.n, 1), g)
    return _split(x, y, params, g, kind="regression", classes=1, view_box=((-math.pi, math.pi),))
