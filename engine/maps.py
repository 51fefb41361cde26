"""Pictures of many rows at once: maps over a grid of starts, phase diagrams over two
hyperparameters. Both are views of a whole result's row summaries (``record: final`` is enough).

- A **map** answers "from where does this optimizer succeed?": one cell per start of a
  ``{"grid": ...}`` of starts, per label (a series, or one sweep value of it), each cell the
  median over the run's seeds.
- A **phase diagram** answers "how do these two hyperparameters interact?" (Anon's gamma x lr):
  one cell per pair of values of a series swept over two hyperparameters, each cell the median
  over seeds and starts, with the spread (min, max) beside it.

Cell metrics, each an array of floats with NaN where a cell has no value:

- ``final_loss``: the clean loss at the last valid point (a diverged row counts as +inf: the
  median of a cell where most rows diverged is +inf, drawn as "diverged");
- ``gap``: ``final_loss`` minus the landscape's global minimum value (when known);
- ``steps_to_tolerance``: among rows that reached the tolerance, the median first step (NaN
  when none did); ``reached`` says what fraction did;
- ``nearest_minimum``: the minimum most rows of the cell ended nearest (NaN without minima).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.spec import RunSpec, StartsGrid

__all__ = ["CellGrid", "phase_diagram", "start_maps"]


@dataclass
class CellGrid:
    """Metrics over a 2-D grid of cells: ``values[name]`` has shape ``(len(y), len(x))``."""

    label: str
    x_name: str
    y_name: str
    x: list[float]
    y: list[float]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    spread: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _final_loss(row: dict[str, Any]) -> float:
    loss = row["final_loss"]
    return np.inf if row["diverged_at"] is not None or loss is None else float(loss)


def _cell_metrics(members: list[dict[str, Any]], best: float | None) -> dict[str, float]:
    losses = np.array([_final_loss(row) for row in members])
    reached = [
        row["steps_to_tolerance"] for row in members if row["steps_to_tolerance"] is not None
    ]
    nearest = Counter(
        row["nearest_minimum"]
        for row in members
        if row["nearest_minimum"] is not None and row["diverged_at"] is None
    )
    median = float(np.median(losses))
    return {
        "final_loss": median,
        "gap": median - best if best is not None else np.nan,
        "steps_to_tolerance": float(np.median(reached)) if reached else np.nan,
        "reached": len(reached) / len(members),
        # The most common basin; ties go to the lower index (Counter keeps first-seen order,
        # so sort explicitly).
        "nearest_minimum": float(min(nearest, key=lambda k: (-nearest[k], k)))
        if nearest
        else np.nan,
        "final_loss_min": float(losses.min()),
        "final_loss_max": float(losses.max()),
    }


def _fill(grid: CellGrid, cells: dict[tuple[int, int], dict[str, float]]) -> CellGrid:
    shape = (len(grid.y), len(grid.x))
    names = next(iter(cells.values())).keys() if cells else ()
    for name in names:
        values = np.full(shape, np.nan)
        for (j, i), metrics in cells.items():
            values[j, i] = metrics[name]
        grid.values[name] = values
    if "final_loss_min" in grid.values:
        grid.spread["final_loss"] = (
            grid.values.pop("final_loss_min"),
            grid.values.pop("final_loss_max"),
        )
    return grid


def _best_value(result: dict[str, Any]) -> float | None:
    return min((m["value"] for m in result["landscape"]["global_minima"]), default=None)


def start_maps(spec: RunSpec, result: dict[str, Any]) -> list[CellGrid]:
    """One map per label over the run's grid of starts (x fastest, as the spec orders rows).

    Raises:
        ValueError: the run's starts are not a grid (names ``starts``).
    """
    if not isinstance(spec.starts, StartsGrid):
        raise ValueError("starts: a map needs a grid of starts ({'grid': {'x': ..., 'y': ...}})")
    grid = spec.starts.grid
    nx = grid.x[2]
    points = grid.points()
    xs, ys = [p[0] for p in points[:nx]], [p[1] for p in points[::nx]]
    best = _best_value(result)
    by_label: dict[str, dict[int, list[dict[str, Any]]]] = {}
    per_start = len(points)
    for row in result["series"]:
        by_label.setdefault(row["label"], {}).setdefault(row["row"] % per_start, []).append(row)
    maps = []
    for label, starts in by_label.items():
        cells = {
            divmod(index, nx): _cell_metrics(members, best) for index, members in starts.items()
        }
        maps.append(_fill(CellGrid(label, "x", "y", xs, ys), cells))
    return maps


def phase_diagram(spec: RunSpec, result: dict[str, Any], series: int) -> CellGrid:
    """The phase diagram of series ``series``, swept over two hyperparameters: the second
    listed on the x axis, the first on y; cells are medians over seeds and starts.

    Raises:
        ValueError: the series does not sweep two hyperparameters (names the series).
    """
    sweeps = spec.series[series].sweeps
    if len(sweeps) != 2:
        raise ValueError(f"series.{series}.sweep: a phase diagram needs two swept hyperparameters")
    y_sweep, x_sweep = sweeps
    label = spec.series[series].label or spec.series[series].entry.label
    best = _best_value(result)
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    y_index = {v: j for j, v in enumerate(y_sweep.values)}
    x_index = {v: i for i, v in enumerate(x_sweep.values)}
    for row in result["series"]:
        if row["series"] == series:
            key = (y_index[row["hparams"][y_sweep.param]], x_index[row["hparams"][x_sweep.param]])
            groups.setdefault(key, []).append(row)
    cells = {key: _cell_metrics(members, best) for key, members in groups.items()}
    grid = CellGrid(label, x_sweep.param, y_sweep.param, list(x_sweep.values), list(y_sweep.values))
    return _fill(grid, cells)
