"""Surfaces for plots: a landscape's values on an N x N grid of its view box, in one call."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from landscapes.landscape import ViewBox, validate_view_box

MAX_RESOLUTION = 400
LOG_DYNAMIC_RANGE = 1e-6
"""The safe log view spans six decades: see `Surface.log_z`."""


@dataclass(frozen=True)
class Surface:
    """Grid values with z[j, i] = f(x[i], y[j]), Plotly's convention.

    `z` keeps non-finite values (NaN, ±inf) as they are; `z_min` and `z_max` are taken over the
    finite values only (None when there are none), and `to_plotly` turns non-finite values into
    None, so they never reach JSON (Plotly draws a gap there).
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    z_min: float | None
    z_max: float | None

    def log_z(self) -> np.ndarray:
        """log10(z - z_min + δ), with δ = LOG_DYNAMIC_RANGE · (z_max - z_min), or 1 when the
        surface is flat.

        Shifting by the minimum makes the argument non-negative whatever the sign of f, and δ
        keeps it positive: the result runs from log10(δ) at the lowest grid value to about
        log10(z_max - z_min), six decades, so a minimum of value 0 shows as a floor instead of
        -inf. Non-finite values stay non-finite.
        """
        if self.z_min is None or self.z_max is None:
            return np.full_like(self.z, np.nan)
        offset = LOG_DYNAMIC_RANGE * (self.z_max - self.z_min) or 1.0
        with np.errstate(invalid="ignore"):
            return np.log10(self.z - self.z_min + offset)

    def to_plotly(self, log: bool = False) -> dict[str, Any]:
        """`{"x": [...], "y": [...], "z": [[...]], "z_min": ..., "z_max": ...}`, JSON-safe:
        non-finite z values become None. With `log`, z is `log_z()`; z_min and z_max always
        describe the raw values."""
        z = self.log_z() if log else self.z
        return {
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "z": [[v if math.isfinite(v) else None for v in row] for row in z.tolist()],
            "z_min": self.z_min,
            "z_max": self.z_max,
        }


def sample_surface(
    fn: Callable[[Tensor], Tensor],
    view_box: ViewBox,
    resolution: int,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> Surface:
    """Evaluate `fn` (`(..., 2) -> (...)`, e.g. `Landscape.bind(params)`) on `resolution` x
    `resolution` evenly spaced points covering `view_box` edges included, in one vectorised call
    on a `(ny, nx, 2)` grid, without autograd."""
    if isinstance(resolution, bool) or not isinstance(resolution, int):
        raise ValueError(f"resolution must be an int, got {resolution!r}")
    if not 2 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be in [2, {MAX_RESOLUTION}], got {resolution}")
    (xmin, xmax), (ymin, ymax) = validate_view_box(view_box)
    xs = torch.linspace(xmin, xmax, resolution, dtype=dtype, device=device)
    ys = torch.linspace(ymin, ymax, resolution, dtype=dtype, device=device)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)
    with torch.no_grad():
        values = fn(grid)
    if values.shape != grid.shape[:-1]:
        raise ValueError(
            f"fn must map a {tuple(grid.shape)} grid to {tuple(grid.shape[:-1])} values, "
            f"got {tuple(values.shape)}"
        )
    z = values.to("cpu", torch.float64).numpy()
    finite = z[np.isfinite(z)]
    return Surface(
        x=xs.to("cpu", torch.float64).numpy(),
        y=ys.to("cpu", torch.float64).numpy(),
        z=z,
        z_min=float(finite.min()) if finite.size else None,
        z_max=float(finite.max()) if finite.size else None,
    )
