"""Maps over starts and phase diagrams: cells equal an independent aggregation of the rows."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from engine import RunSpec, run_to_result
from engine.maps import phase_diagram, start_maps


def test_a_map_cell_is_the_median_over_seeds_of_its_start():
    spec = RunSpec.model_validate(
        {
            "landscape": {"id": "himmelblau"},
            "steps": 80,
            "record": "final",
            "seeds": [0, 1, 2],
            "noise": {"kind": "gaussian", "sigma": 5.0},
            "starts": {"grid": {"x": [-4, 4, 5], "y": [-3, 3, 4]}},
            "series": [{"optimizer": "sgd", "hparams": {"lr": 0.01}}],
        }
    )
    result = run_to_result(spec)
    (grid,) = start_maps(spec, result)
    assert grid.x == [-4, -2, 0, 2, 4]
    assert grid.y == [-3, -1, 1, 3]
    assert grid.values["final_loss"].shape == (4, 5)
    for j, y in enumerate(grid.y):
        for i, x in enumerate(grid.x):
            rows = [r for r in result["series"] if r["start"] == pytest.approx([x, y])]
            assert len(rows) == 3
            losses = [r["final_loss"] for r in rows]
            assert grid.values["final_loss"][j, i] == statistics.median(losses)
            assert grid.spread["final_loss"][0][j, i] == min(losses)
            reached = [r["steps_to_tolerance"] for r in rows if r["steps_to_tolerance"] is not None]
            assert grid.values["reached"][j, i] == len(reached) / 3
            expected = statistics.median(reached) if reached else None
            got = grid.values["steps_to_tolerance"][j, i]
            assert (np.isnan(got) and expected is None) or got == expected
            basins = [r["nearest_minimum"] for r in rows]
            assert grid.values["nearest_minimum"][j, i] == max(
                sorted(set(basins)), key=basins.count
            )


def test_a_phase_diagram_puts_the_second_sweep_on_x_and_counts_divergence_as_infinite():
    gammas, lrs = [0.0, 1.0], [1e-3, 0.5, 50.0]  # lr 50 diverges
    spec = RunSpec.model_validate(
        {
            "landscape": {"id": "rosenbrock"},
            "steps": 40,
            "record": "final",
            "seeds": [0, 1],
            "series": [
                {"optimizer": "sgd"},
                {
                    "optimizer": "anon",
                    "sweep": [{"param": "gamma", "values": gammas}, {"param": "lr", "values": lrs}],
                },
            ],
        }
    )
    result = run_to_result(spec)
    grid = phase_diagram(spec, result, 1)
    assert (grid.x_name, grid.y_name, grid.x, grid.y) == ("lr", "gamma", lrs, gammas)
    for j, gamma in enumerate(gammas):
        for i, lr in enumerate(lrs):
            rows = [
                r
                for r in result["series"]
                if r["series"] == 1 and r["hparams"]["gamma"] == gamma and r["hparams"]["lr"] == lr
            ]
            losses = [np.inf if r["diverged_at"] is not None else r["final_loss"] for r in rows]
            assert grid.values["final_loss"][j, i] == statistics.median(losses)
    assert np.isinf(grid.values["final_loss"][:, 2]).all()
    with pytest.raises(ValueError, match=r"series\.0\.sweep"):
        phase_diagram(spec, result, 0)
    with pytest.raises(ValueError, match="starts"):
        start_maps(spec, result)
