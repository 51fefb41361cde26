"""The trajectory engine: every trajectory of a run in one batched tensor, stepped in lockstep.

Pure Python and torch (no web framework), importable from a notebook::

    from engine import RunSpec, run_to_result
    result = run_to_result(RunSpec.model_validate({
        "landscape": {"id": "rosenbrock"}, "steps": 500,
        "series": [{"optimizer": "anon", "hparams": {"lr": 1e-3},
                    "sweep": {"param": "gamma", "values": [-0.5, 0, 0.5, 1, 1.5]}}],
    }))

- ``engine.spec``: the run specification (the JSON contract of ``POST /api/runs``) and limits.
- ``engine.runner``: planning rows and groups, stepping, recording, streaming events.
"""

from engine.runner import RunEvent, RunPlan, collect_result, plan_run, run_events, run_to_result
from engine.spec import BudgetError, Limits, RunSpec, check_budget

__all__ = [
    "BudgetError",
    "Limits",
    "RunEvent",
    "RunPlan",
    "RunSpec",
    "check_budget",
    "collect_result",
    "plan_run",
    "run_events",
    "run_to_result",
]
