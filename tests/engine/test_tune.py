"""Tuned runs: each series' value is the one an independent search picks on the tuning seeds,
and the reported rows are plain runs with that value on the held-out seeds."""

from __future__ import annotations

import re
import statistics

import numpy as np
import pytest
from pydantic import ValidationError

from engine import BudgetError, Limits, RunSpec, check_budget, run_to_result

CANDIDATES = [1e-4, 1e-3, 1e-2, 1e-1]
BASE = {
    "landscape": {"id": "rosenbrock"},
    "steps": 80,
    "seeds": [0, 1],
    "starts": [[-1.5, 2.0], [0.5, -0.5]],
    "noise": {"kind": "gaussian", "sigma": 2.0},
    "series": [
        {"optimizer": "adam"},
        {"optimizer": "sgd", "hparams": {"momentum": 0.9}},
        {"optimizer": "anon", "hparams": {"gamma": 0.5}},
    ],
}


def tuned(objective: str) -> RunSpec:
    return RunSpec.model_validate(
        {
            **BASE,
            "tune": {
                "param": "lr",
                "values": CANDIDATES,
                "objective": objective,
                "seeds": [7, 8, 9],
            },
        }
    )


def score(row: dict, objective: str, steps: int) -> float:
    """The objective written out again, from a plain run's summary."""
    if row["diverged_at"] is not None:
        return float("inf")
    if objective == "final_loss":
        return row["final_loss"]
    if objective == "loss_area":
        return float(np.mean(row["loss"]))  # the loss column: every step, unrounded mean
    return steps + 1 if row["steps_to_tolerance"] is None else row["steps_to_tolerance"]


@pytest.mark.parametrize("objective", ["final_loss", "loss_area", "steps_to_tolerance"])
def test_each_series_gets_the_value_an_independent_search_picks(objective):
    spec = tuned(objective)
    result = run_to_result(spec)
    tuning = result["tuning"]
    assert tuning["candidates"] == CANDIDATES
    assert tuning["seeds"] == [7, 8, 9]
    assert tuning["rows_per_candidate"] == 3 * 2
    for index, series in enumerate(BASE["series"]):
        medians = []
        for lr in CANDIDATES:
            alone = run_to_result(
                RunSpec.model_validate(
                    {**BASE, "seeds": [7, 8, 9], "series": [
                        {**series, "hparams": {**series.get("hparams", {}), "lr": lr}}]}
                )
            )  # fmt: skip
            medians.append(statistics.median(score(r, objective, 80) for r in alone["series"]))
        best = min(range(len(CANDIDATES)), key=lambda i: (medians[i], i))
        chosen = tuning["series"][index]
        assert chosen["value"] == CANDIDATES[best], (series, medians)
        for got, median in zip(chosen["scores"], medians, strict=True):
            assert got is None if np.isinf(median) else got == pytest.approx(median, rel=1e-12)
        # The reported rows: that value, the held-out seeds, as a plain run of it gives them.
        plain = run_to_result(
            RunSpec.model_validate(
                {**BASE, "series": [
                    {**series, "hparams": {**series.get("hparams", {}), "lr": CANDIDATES[best]}}]}
            )
        )["series"]  # fmt: skip
        rows = [row for row in result["series"] if row["series"] == index]
        assert [row["seed"] for row in rows] == [0, 0, 1, 1]
        for row, reference in zip(rows, plain, strict=True):
            assert row["hparams"]["lr"] == CANDIDATES[best]
            assert row["label"].endswith(f"(lr={CANDIDATES[best]:.3g}, tuned)")
            np.testing.assert_array_equal(row["x"], reference["x"])
            np.testing.assert_array_equal(row["y"], reference["y"])


def test_a_log_grid_gives_evenly_spaced_candidates_in_log_scale():
    spec = RunSpec.model_validate({**BASE, "tune": {"grid": [1e-4, 1.0, 5]}})
    assert spec.tune.candidates() == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0], rel=1e-12)


@pytest.mark.parametrize(
    ("tune", "where"),
    [
        ({"values": CANDIDATES, "seeds": [1, 7]}, "tune.seeds"),
        ({"param": "momentum", "values": [0.1, 0.5]}, "tune.param"),
        ({"values": [1e-3, -1.0]}, "tune.values"),
        ({"values": CANDIDATES, "grid": [1e-3, 1, 4]}, "values"),
        ({"grid": [1.0, 1e-3, 4]}, "grid"),
    ],
)
def test_a_bad_tune_is_named(tune, where):
    with pytest.raises(ValidationError, match=re.escape(f"{where}: ")):
        RunSpec.model_validate({**BASE, "tune": tune})


def test_a_tuned_series_cannot_sweep():
    series = [{"optimizer": "anon", "sweep": {"param": "gamma", "values": [0, 1]}}]
    with pytest.raises(ValidationError, match=re.escape("series.0.sweep: ")):
        RunSpec.model_validate({**BASE, "series": series, "tune": {"values": CANDIDATES}})


def test_the_tuning_run_counts_against_the_budget_by_name():
    limits = Limits(max_final_row_steps=3 * 4 * 3 * 2 * 80 - 1)
    with pytest.raises(BudgetError, match="the tuning run") as error:
        check_budget(tuned("final_loss"), limits)
    assert error.value.loc == ("tune",)
    check_budget(tuned("final_loss"), Limits())
