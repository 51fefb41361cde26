"""Response models: they document the API in OpenAPI (``/docs``); routes return plain dicts
built by the registries and the engine, which these models describe."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str = Field(description="'ok' when the server answers.")
    version: str
    torch: str
    cuda_available: bool
    device: str = Field(description="The configured device setting: auto, cpu or cuda.")
    runs_in_progress: int
    max_concurrent_runs: int


class Surface(BaseModel):
    """Values on a grid, as Plotly's contour and surface traces take them."""

    x: list[float]
    y: list[float]
    z: list[list[float | None]] = Field(description="z[j][i] = f(x[i], y[j]); null if not finite.")
    z_min: float | None
    z_max: float | None
    log: bool = Field(description="Whether z is log10(f - min + delta) for a log colour scale.")


class RowResult(BaseModel):
    """One trajectory: a row of series x sweep value x seed x start."""

    row: int
    series: int = Field(description="Index of the series in the request.")
    label: str
    optimizer: str
    hparams: dict[str, Any] = Field(description="All hyperparameters, the swept value filled in.")
    seed: int
    start: list[float]
    steps: list[int] = Field(description="Step index of each point (decimated for long runs).")
    trajectory: list[list[float]] = Field(description="[x, y] after each listed step.")
    loss: list[float] = Field(description="Clean loss at each point (noise never touches it).")
    grad_norm: list[float] = Field(description="Norm of the clean gradient at each point.")
    final_point: list[float]
    final_loss: float | None
    distance_to_minimum: float | None = Field(description="To the nearest global minimum.")
    steps_to_tolerance: int | None = Field(
        description="First step whose loss is within 'tolerance' of the minimum value."
    )
    diverged_at: int | None = Field(
        description="Step whose point or loss was not finite or left the bound; points stop before."
    )


class RunResult(BaseModel):
    """The whole run (``Accept: application/json``)."""

    series: list[RowResult]
    steps: int
    landscape: dict[str, Any]
    noise: dict[str, Any]
    clip_grad_norm: float | None
    dtype: str
    device: str
    versions: dict[str, str]


STREAM_DESCRIPTION = """\
With `Accept: text/event-stream` the run is streamed as server-sent events, each
`event: <kind>` + `data: <JSON>`:

- `meta` (once, first): `rows` (row, series, label, optimizer, hparams, seed, start), `steps`,
  `landscape`, `noise`, `clip_grad_norm`, `dtype`, `device`, `versions`.
- `chunk` (many): `from_step`, `to_step` (half-open range of steps covered) and `rows`, each
  `{row, steps, xy, loss, grad_norm}` with the points of that row in the range (decimated for
  long runs; a row's last valid point is always sent; a stopped row sends nothing further).
- `done` (once, last): `rows`, each `{row, final_point, final_loss, distance_to_minimum,
  steps_to_tolerance, diverged_at}`.
- `error` (instead of `done`): `{detail}`, e.g. when the run passes the time limit.

Read it with `fetch` and a stream reader (EventSource is GET-only). Closing the connection
cancels the run.
"""
