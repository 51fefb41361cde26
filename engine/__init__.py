"""The trajectory engine: every trajectory of a run in one batched tensor, stepped in lockstep.

Pure Python and torch (no web framework), importable from a notebook::

    from engine import RunSpec, run_to_result
    result = run_to_result(RunSpec.model_validate({
        "landscape": {"id": "rosenbrock"}, "steps": 500,
        "series": [{"optimizer": "anon", "hparams": {"lr": 1e-3},
                    "sweep": {"param": "gamma", "values": [-0.5, 0, 0.5, 1, 1.5]}}],
    }))
    result["series"][0]["x"]  # a numpy column; engine.record.dumps writes the JSON

- ``engine.spec``: the run specification (the JSON contract of ``POST /api/runs``) and limits.
- ``engine.plan``: rows, the groups of rows one optimizer instance steps, the device.
- ``engine.rows``: the rows as columns, and per-row records made when they are read.
- ``engine.stepping``: the step loop and its events (``meta``, ``preview``, ``chunk``, ``done``).
- ``engine.history``: what a run records on its device; columns and summaries cut from it.
- ``engine.record``: the declared shape of what a run sends, and its two wire encodings.
- ``engine.tune``: tuned runs (every series' value chosen on tuning seeds, reported held out).
- ``engine.maps``: maps over a grid of starts and phase diagrams over two hyperparameters, as
  cell grids built from a whole result's summaries.
"""

from engine.plan import RunPlan, choose_device, plan_run
from engine.record import Encoding, dumps
from engine.spec import BudgetError, Limits, RunSpec, check_budget
from engine.stepping import RunEvent, collect_result, run_events, run_to_result

__all__ = [
    "BudgetError",
    "Encoding",
    "Limits",
    "RunEvent",
    "RunPlan",
    "RunSpec",
    "check_budget",
    "choose_device",
    "collect_result",
    "dumps",
    "plan_run",
    "run_events",
    "run_to_result",
]
