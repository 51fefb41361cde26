"""Fair comparisons: every series tuned with the same budget, then reported on held-out seeds.

A gallery's comparison depends on who picked each optimizer's learning rate. A tuned run
(``"tune": {...}`` in the spec) removes that: every series gets the same candidates of one
hyperparameter (a log grid of learning rates, say), each candidate is run on the *tuning*
seeds, each series keeps the candidate with the best objective, and only then is every series
run on the spec's own seeds (held out: the choice never saw them) with its choice.

Objective of a candidate, the median over its tuning rows (seeds x starts) of:

- ``final_loss``: the clean loss at the last step; a diverged row counts as +inf;
- ``loss_area``: the mean clean loss over the steps (area under the loss curve per step), +inf
  for a diverged row: it rewards getting low early, not only ending low;
- ``steps_to_tolerance``: the first step within tolerance; a row that never gets there counts
  as ``steps + 1`` and a diverged row as +inf.

Ties go to the candidate listed first.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from typing import Any

from engine.spec import RunSpec

__all__ = ["choose", "row_objective", "tuned_rows"]


def row_objective(row: dict[str, Any], objective: str, steps: int) -> float:
    """One tuning row's score (lower is better)."""
    if row["diverged_at"] is not None or row["final_loss"] is None:
        return math.inf
    if objective == "final_loss":
        return row["final_loss"]
    if objective == "loss_area":
        return row["mean_loss"]
    reached = row["steps_to_tolerance"]
    return float(steps + 1 if reached is None else reached)


def choose(spec: RunSpec, tuning_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The tuning record (engine/record.py's ``Tuning``) from the tuning run's rows (each
    with its identity and summary, as a whole result lists them)."""
    tune = spec.tune
    assert tune is not None
    candidates = tune.candidates()
    chosen = []
    for index, series in enumerate(spec.series):
        scores = []
        for value in candidates:
            rows = [
                row
                for row in tuning_rows
                # The swept value is the row's hyperparameter as given (models keep floats).
                if row["series"] == index and row["hparams"][tune.param] == value
            ]
            scores.append(
                statistics.median(row_objective(r, tune.objective, spec.steps) for r in rows)
            )
        best = min(range(len(candidates)), key=lambda i: (scores[i], i))
        chosen.append(
            {
                "series": index,
                "label": series.label or series.entry.label,
                "value": candidates[best],
                # JSON has no infinity: a candidate whose median row diverged scores null.
                "scores": [score if math.isfinite(score) else None for score in scores],
                "at_edge": best in (0, len(candidates) - 1),
            }
        )
    return {
        "param": tune.param,
        "candidates": candidates,
        "objective": tune.objective,
        "seeds": list(tune.seeds),
        # The tuning run has the spec's starts, on the tuning seeds.
        "rows_per_candidate": len(tune.seeds) * spec.start_count(),
        "series": chosen,
    }


def tuned_rows(tuning_events: Iterator[Any]) -> list[dict[str, Any]] | None:
    """Identity and summary of every row of a tuning run from its events (None: cancelled)."""
    meta = done = None
    for event in tuning_events:
        if event.kind == "meta":
            meta = event.data
        elif event.kind == "done":
            done = event.data
    if meta is None or done is None:
        return None
    return [{**info, **summary} for info, summary in zip(meta["rows"], done["rows"], strict=True)]
