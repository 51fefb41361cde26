"""The step loop: batched rows equal one-by-one runs; divergence, decimation, streaming, cancel."""

from __future__ import annotations

import dataclasses
import itertools
import threading

import numpy as np
import pytest
import torch

from engine import (
    BudgetError,
    Limits,
    RunSpec,
    check_budget,
    collect_result,
    dumps,
    plan_run,
    run_events,
    run_to_result,
)
from engine.rows import Records
from landscapes import get_landscape, list_landscapes, parse_noise
from optimizers.registry import get_optimizer


def spec(**overrides) -> RunSpec:
    data = {
        "landscape": {"id": "rosenbrock"},
        "steps": 120,
        "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}],
    }
    data.update(overrides)
    return RunSpec.model_validate(data)


def points(row) -> list[tuple[float, float]]:
    """A row's path as (x, y) pairs, from its columns."""
    return list(zip(row["x"].tolist(), row["y"].tolist(), strict=True))


def one_by_one(optimizer, hparams, landscape, noise, seed, start, steps, clip=None, losses=None):
    """The trajectory of one row with the plainest possible loop (no engine code); the clean
    loss at each point is appended to ``losses`` when given. The gradient is the landscape's
    analytic one, as the engine's (tests/landscapes/test_landscape_gradients.py holds it to
    autograd's; test_analytic_and_autograd_runs_agree_to_rounding below, the runs)."""
    entry = get_optimizer(optimizer)
    f = get_landscape(landscape["id"]).bind(landscape.get("params"))
    value_and_grad = get_landscape(landscape["id"]).bind_value_and_grad(landscape.get("params"))
    noise_model = parse_noise(noise)
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    opt = entry.build([p], hparams, independent_rows=True)
    path = [tuple(start)]
    for t in range(steps):
        loss, g = noise_model.loss_and_grad(value_and_grad, p.detach(), step=t)
        if losses is not None:
            losses.append(float(loss[0]))
        g = noise_model.perturb(g, points=p.detach(), fn=f, step=t, seeds=[seed])
        if clip is not None:
            g = g * min(1.0, clip / float(torch.linalg.vector_norm(g)))
        p.grad = g
        opt.step()
        path.append(tuple(p.detach()[0].tolist()))
    if losses is not None:
        losses.append(float(noise_model.loss(f, p, step=steps).detach()[0]))
    return path


SERIES = [
    {"optimizer": "anon", "hparams": {"lr": 1e-3}, "sweep": {"param": "gamma", "values": [0, 1]}},
    {"optimizer": "ano", "hparams": {"lr": 0.01}},
    {"optimizer": "andi", "hparams": {"lr": 1e-4}},
    {"optimizer": "yogi", "hparams": {"lr": 0.05}, "sweep": {"param": "lr", "values": [0.01, 0.1]}},
    {
        "optimizer": "adam",
        "hparams": {"lr": 0.01},
        "sweep": {"param": "beta1", "values": [0.5, 0.9]},
    },
    {"optimizer": "sgd", "hparams": {"lr": 1e-4, "momentum": 0.9}},
]


@pytest.mark.parametrize(
    "noise", [None, {"kind": "gaussian", "sigma": 2.0}, {"kind": "student_t", "sigma": 1.0}]
)
def test_batched_rows_equal_one_by_one_runs_bitwise(noise):
    run = spec(series=SERIES, noise=noise, seeds=[3, 11], starts=[[-1.5, 2.0], [0.5, -0.5]])
    result = run_to_result(run)
    assert len(result["series"]) == (2 + 1 + 1 + 2 + 2 + 1) * 2 * 2
    for row in result["series"]:
        losses = []
        expected = one_by_one(
            row["optimizer"], row["hparams"], {"id": "rosenbrock"}, noise, row["seed"],
            row["start"], run.steps, losses=losses,
        )  # fmt: skip
        assert row["diverged_at"] is None
        assert row["steps"].tolist() == list(range(run.steps + 1))
        assert points(row) == expected, row["label"]
        assert row["loss"].tolist() == losses, row["label"]


def test_clipping_is_per_row_and_visible_in_meta():
    run = spec(clip_grad_norm=1.0, starts=[[-2.0, 2.0], [0.9, 0.8]], steps=60)
    result = run_to_result(run)
    assert result["clip_grad_norm"] == 1.0
    for row in result["series"]:
        expected = one_by_one("adam", {"lr": 0.01}, {"id": "rosenbrock"}, None, 0, row["start"],
                              60, clip=1.0)  # fmt: skip
        assert points(row) == expected


def test_hparams_are_filled_with_registry_defaults_and_the_swept_value():
    result = run_to_result(spec(series=[SERIES[0]], steps=3))
    gammas = [row["hparams"]["gamma"] for row in result["series"]]
    assert gammas == [0.0, 1.0]
    assert result["series"][0]["hparams"]["beta2"] == 0.999
    assert result["series"][1]["label"] == "Anon gamma=1"


def test_divergence_is_data_and_the_json_stays_finite():
    run = spec(series=[{"optimizer": "sgd", "hparams": {"lr": 50.0}}, SERIES[1]], steps=200)
    result = run_to_result(run)
    text = dumps(result).decode()  # raises on NaN or Infinity
    sgd, ano = result["series"]
    assert sgd["diverged_at"] is not None
    assert sgd["diverged_at"] <= 3
    assert len(sgd["x"]) == sgd["diverged_at"]  # the points before it, all finite
    assert sgd["final_point"] == list(points(sgd)[-1])
    assert ano["diverged_at"] is None
    assert len(ano["x"]) == 201
    assert "NaN" not in text
    assert "Infinity" not in text


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "landscape",
    [{"id": "rosenbrock"}, {"expression": "log(x) + y**2", "view_box": [[-1, 2], [-1, 1]]}],
)
def test_every_number_recorded_is_finite_as_the_columns_say(landscape, dtype):
    """Rows that diverge (to NaN, an infinity, out of the box) put no non-finite number in any
    chunk's columns: the engine records finite numbers only (engine/history.py), and chunks
    whose columns are its matrices say so (``Records.finite``), which the JSON writer trusts
    without reading them. Chunks after rows have stopped still come as such matrices."""
    run = spec(
        landscape=landscape,
        dtype=dtype,
        steps=60,
        noise={"kind": "gaussian", "sigma": 1.0},
        starts=[[0.5, 0.5], [1.5, 0.2], [-0.5, 0.5]],
        series=[{"optimizer": "sgd", "hparams": {"lr": 50.0}},
                {"optimizer": "sgd", "hparams": {"lr": 0.6}},
                {"optimizer": "adam", "hparams": {"lr": 0.01}}],
    )  # fmt: skip
    for chunk_seconds in (0.0, float("inf")):
        stops, vouched_after_a_stop = [], 0
        for event in run_events(plan_run(run, "cpu"), chunk_seconds=chunk_seconds):
            if event.kind == "done":
                stops = [row["diverged_at"] for row in event.data["rows"]]
            if event.kind != "chunk":
                continue
            rows = event.data["rows"]
            if isinstance(rows, Records) and rows.finite:
                vouched_after_a_stop += event.data["from_step"] > 3
                matrices = rows.columns()
                assert all(np.isfinite(matrices[name]).all() for name in ("x", "y", "loss"))
                assert np.isfinite(matrices["grad_norm"]).all()
            for row in rows:
                assert all(np.isfinite(row[name]).all() for name in ("x", "y", "loss", "grad_norm"))
        assert 0 < sum(stop is not None for stop in stops) < len(stops)
        assert min(stop for stop in stops if stop is not None) <= 3
        assert vouched_after_a_stop > 0 or chunk_seconds == float("inf")


def test_decimation_keeps_both_ends_and_each_rows_last_point():
    run = spec(
        series=[{"optimizer": "adam", "hparams": {"lr": 0.01}},
                {"optimizer": "sgd", "hparams": {"lr": 0.0021}}],
        steps=1000, max_points=11,
    )  # fmt: skip
    adam, sgd = run_to_result(run)["series"]
    assert adam["steps"].tolist() == list(range(0, 1001, 100))
    assert len(adam["x"]) == 11
    assert sgd["diverged_at"] is not None
    assert sgd["steps"][-1] == sgd["diverged_at"] - 1
    assert sgd["final_point"] == list(points(sgd)[-1])


def test_summary_reports_distance_and_steps_to_tolerance():
    run = spec(
        landscape={"id": "booth"},
        series=[{"optimizer": "sgd", "hparams": {"lr": 0.05}}],
        steps=300,
        tolerance=1e-6,
    )
    (row,) = run_to_result(run)["series"]
    assert row["distance_to_minimum"] < 1e-3
    k = row["steps_to_tolerance"]
    assert row["loss"][k] <= 1e-6 < row["loss"][k - 1]


def test_stream_is_meta_chunks_done_in_order_and_complete():
    run = spec(series=SERIES, steps=300, noise={"kind": "gaussian", "sigma": 1.0})
    events = list(run_events(plan_run(run), chunk_seconds=0.0))
    kinds = [e.kind for e in events]
    assert kinds[0] == "meta"
    assert kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"chunk"}
    assert len(kinds) > 10
    chunks = [e.data for e in events[1:-1]]
    assert chunks[0]["from_step"] == 0
    for a, b in itertools.pairwise(chunks):
        assert a["to_step"] == b["from_step"]
    assert chunks[-1]["to_step"] == 301
    streamed = {}
    for chunk in chunks:
        for part in chunk["rows"]:
            streamed.setdefault(part["row"], []).extend(points(part))
    whole = run_to_result(run)["series"]
    assert [streamed[r] for r in range(len(whole))] == [points(row) for row in whole]


def test_cancel_stops_before_the_next_step():
    cancel = threading.Event()
    events = run_events(plan_run(spec(steps=10_000)), cancel, chunk_seconds=0.0)
    seen = []
    for event in events:
        seen.append(event)
        if len(seen) == 3:
            cancel.set()
    assert len(seen) == 3  # the generator checks the flag before each step
    assert all(e.kind != "done" for e in seen)


def test_adahessian_is_reproducible_and_rows_are_independent():
    series = [{"optimizer": "adahessian", "hparams": {"lr": 0.05}}]
    run = spec(series=series, seeds=[1, 2], starts=[[-1.0, 1.5]], steps=50)
    first, again = run_to_result(run), run_to_result(run)
    assert [points(r) for r in first["series"]] == [points(r) for r in again["series"]]
    alone = run_to_result(spec(series=series, seeds=[2], starts=[[-1.0, 1.5]], steps=50))
    assert points(alone["series"][0]) == points(first["series"][1])


def test_float32_and_the_device_are_reported():
    result = run_to_result(spec(dtype="float32", steps=5))
    assert result["dtype"] == "float32"
    assert result["device"] == "cpu"
    assert set(result["versions"]) >= {"torch", "optiscope"}


def test_typed_expression_runs_without_known_minima():
    result = run_to_result(spec(landscape={"expression": "x**2 + 3*y**2"}, steps=50))
    (row,) = result["series"]
    assert row["distance_to_minimum"] is None
    assert row["loss"][-1] < row["loss"][0]


def test_drift_distance_is_to_the_moved_minimum():
    noise = {"kind": "drift", "radius": 0.5, "period": 40}
    run = spec(landscape={"id": "booth"}, noise=noise, steps=40,
               series=[{"optimizer": "sgd", "hparams": {"lr": 1e-9}}])  # fmt: skip
    (row,) = run_to_result(run)["series"]
    # After a whole period the landscape is back in place, and the point has barely moved.
    assert row["distance_to_minimum"] == pytest.approx(abs(complex(*row["start"]) - (1 + 3j)))


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        (Limits(max_steps=100), "steps"),
        (Limits(max_rows=3), "series"),
        (Limits(max_row_steps=1000), "steps"),
    ],
)
def test_budget_names_the_field(limits, field):
    run = spec(series=SERIES, steps=120)
    with pytest.raises(BudgetError) as info:
        check_budget(run, limits)
    assert info.value.loc == (field,)


def test_expression_view_box_sets_the_default_start_and_bound():
    landscape = {"expression": "(x - 8)**2 + (y - 8)**2", "view_box": [[5.0, 11.0], [5.0, 11.0]]}
    result = run_to_result(spec(landscape=landscape, steps=50))
    (row,) = result["series"]
    assert row["start"] == [6.0, 10.0]  # 2/3 of the way from the centre to the top-left corner
    assert row["diverged_at"] is None
    assert row["loss"][-1] < row["loss"][0]


@pytest.mark.parametrize(
    "landscape",
    [
        {"id": "rosenbrock", "view_box": [[0, 1], [0, 1]]},
        {"expression": "x*y", "view_box": [[1, 0], [0, 1]]},
    ],
)
def test_view_box_is_checked(landscape):
    with pytest.raises(ValueError, match="view_box"):
        spec(landscape=landscape)


@pytest.mark.parametrize("landscape", [entry.id for entry in list_landscapes()])
def test_analytic_and_autograd_runs_agree_to_rounding(landscape):
    """The engine takes a registry landscape's analytic gradient; the same run through autograd
    (the typed-function path) gives the same trajectories to rounding, and the same losses
    bitwise at the start (the values are the function's own arithmetic)."""
    run = spec(
        landscape={"id": landscape},
        steps=40,
        seeds=[0, 1],
        noise={"kind": "gaussian", "sigma": 0.1},
        series=[{"optimizer": "adam", "hparams": {"lr": 1e-3}}, {"optimizer": "sgd"}],
    )
    plan = plan_run(run)
    assert plan.value_and_grad is not None
    analytic = collect_result(plan, run_events(plan))
    autograd_plan = dataclasses.replace(plan, value_and_grad=None)
    reference = collect_result(autograd_plan, run_events(autograd_plan))
    for row, expected in zip(analytic["series"], reference["series"], strict=True):
        assert row["loss"][0] == expected["loss"][0]
        assert row["diverged_at"] == expected["diverged_at"]
        for name in ("x", "y", "loss", "grad_norm"):
            np.testing.assert_allclose(row[name], expected[name], rtol=1e-9, atol=1e-12)
