"""Response models of the web layer: they document the API in OpenAPI (``/docs``). A run's
record is declared once, in engine/record.py, and the runs route answers with those models."""

from __future__ import annotations

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


class RunError(BaseModel):
    """The stream's ``error`` event (instead of ``done``)."""

    detail: str = Field(description="What happened.")
    step: int | None = Field(None, description="The step a failure inside the run happened at.")
    series: int | None = Field(None, description="The series whose optimizer failed.")


STREAM_DESCRIPTION = """\
With `Accept: text/event-stream` the run is streamed as server-sent events, each
`event: <kind>` + `data: <JSON>`:

- `meta` (once, first; schema `RunMeta`): `rows` (row, series, label, optimizer, hparams, seed,
  start) and what the numbers are computed with (`steps`, `record`, `landscape`, `noise`,
  `clip_grad_norm`, `tolerance`, `dtype`, `device`, `versions`).
- `preview` (once, only for a `record: final` run over a grid of starts of 16 x 16 or more;
  `Preview`): `rows`, the summaries of every 4th start along each axis, a coarse map sent first.
- `chunk` (many; `Chunk`): `from_step`, `to_step` (half-open range of steps covered) and `rows`,
  each `{row, steps, x, y, loss, grad_norm}`: the columns of that row's points in the range
  (decimated for long runs; a row's last valid point is always sent; a stopped row sends nothing
  further). A `record: final` run's chunks carry no rows: they report progress.
- `done` (once, last; `Done`): `rows`, each `{row, final_point, final_loss,
  distance_to_minimum, nearest_minimum, steps_to_tolerance, diverged_at}`.
- `error` (instead of `done`; `RunError`): `{detail}`, e.g. when the run passes the time limit.

A network run (a `task` in place of the landscape) streams `meta` (`NetworkMeta`: rows, the
task with its generated points, the model, the snapshot grid), `chunk`s (`NetworkChunk`: per
row `{row, steps, loss, held_out_loss, accuracy, grad_norm}`), `snapshot`s (`SnapshotEvent`:
every running row's class probabilities on the grid, or its fitted curve), a `plane` when asked
for (`PlaneEvent`: the loss around each row's path) and `done` (`NetworkDone`).

Columns are JSON numbers, or with `?encoding=typed` `{"dtype", "bdata"}` typed arrays (as
plotly.js takes them). Read the stream with `fetch` and a stream reader (EventSource is
GET-only). Closing the connection cancels the run.
"""


# The run endpoint's two kinds of body, told apart by a ``task`` (app/api/runs.py); pydantic
# puts the kind's tag in a 422's loc, which app/errors.py leaves out.
LANDSCAPE_RUN, NETWORK_RUN = "landscape run", "network run"
