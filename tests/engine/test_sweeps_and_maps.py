"""Two-hyperparameter sweeps, maps over a grid of starts, and the 'record: final' budget."""

from __future__ import annotations

import itertools
import re

import pytest
from pydantic import ValidationError
from test_stepping import one_by_one, points

from engine import BudgetError, Limits, RunSpec, check_budget, plan_run, run_to_result

GAMMAS = [0.0, 0.5, 1.0]
LRS = [3e-4, 1e-3]


def spec(**overrides) -> RunSpec:
    data = {
        "landscape": {"id": "rosenbrock"},
        "steps": 60,
        "series": [
            {
                "optimizer": "anon",
                "sweep": [{"param": "gamma", "values": GAMMAS}, {"param": "lr", "values": LRS}],
            }
        ],
    }
    data.update(overrides)
    return RunSpec.model_validate(data)


def test_a_gamma_by_lr_sweep_is_one_instance_and_each_row_equals_its_own_run():
    run = spec(seeds=[0, 5], starts=[[-1.5, 2.0], [0.5, -0.5]])
    plan = plan_run(run)
    assert len(plan.groups) == 1
    assert run.instance_count() == 1
    result = run_to_result(run)
    rows = result["series"]
    assert len(rows) == len(GAMMAS) * len(LRS) * 2 * 2
    # The first listed hyperparameter varies slowest, then seeds, then starts.
    expected_order = [
        (g, lr, seed, tuple(start))
        for g, lr in itertools.product(GAMMAS, LRS)
        for seed in (0, 5)
        for start in ([-1.5, 2.0], [0.5, -0.5])
    ]
    got = [(r["hparams"]["gamma"], r["hparams"]["lr"], r["seed"], tuple(r["start"])) for r in rows]
    assert got == expected_order
    for row in rows:
        assert row["label"] == f"Anon gamma={row['hparams']['gamma']:g} lr={row['hparams']['lr']:g}"
        expected = one_by_one(
            "anon", row["hparams"], {"id": "rosenbrock"}, None, row["seed"], row["start"], run.steps
        )
        assert row["diverged_at"] is None
        assert points(row) == expected, row["label"]


@pytest.mark.parametrize(
    ("sweeps", "instances"),
    [
        # beta1 cannot be a tensor: one instance per beta1 value, lr as a tensor within each.
        ([{"param": "beta1", "values": [0.5, 0.9]}, {"param": "lr", "values": LRS}], 2),
        # beta1 varying fastest: its equal values are not contiguous, one instance per pair.
        ([{"param": "lr", "values": LRS}, {"param": "beta1", "values": [0.5, 0.9]}], 4),
    ],
)
def test_a_sweep_of_a_non_tensor_hyperparameter_takes_one_instance_per_value(sweeps, instances):
    run = spec(series=[{"optimizer": "anon", "sweep": sweeps}])
    assert len(plan_run(run).groups) == instances == run.instance_count()
    for row in run_to_result(run)["series"]:
        expected = one_by_one(
            "anon", row["hparams"], {"id": "rosenbrock"}, None, 0, row["start"], run.steps
        )
        assert points(row) == expected, row["label"]


def test_the_single_sweep_object_and_a_list_of_one_are_the_same_run():
    one = spec(series=[{"optimizer": "anon", "sweep": {"param": "gamma", "values": GAMMAS}}])
    listed = spec(series=[{"optimizer": "anon", "sweep": [{"param": "gamma", "values": GAMMAS}]}])
    a, b = run_to_result(one)["series"], run_to_result(listed)["series"]
    assert [r["label"] for r in a] == [r["label"] for r in b]
    assert all(
        (r["x"] == s["x"]).all() and (r["y"] == s["y"]).all() for r, s in zip(a, b, strict=True)
    )


@pytest.mark.parametrize(
    ("sweep", "where"),
    [
        ([{"param": "gamma", "values": [0]}, {"param": "lr", "values": [0.1, -1]}],
         "sweep.1.values.1"),
        ([{"param": "gamma", "values": [0]}, {"param": "nope", "values": [1]}], "sweep.1.param"),
        ([{"param": "lr", "values": [0.1]}, {"param": "lr", "values": [0.2]}], "sweep.1.param"),
        ({"param": "lr", "values": [0.1, -1]}, "sweep.values.1"),
        ([{"param": "gamma", "values": [0.0] * 256}, {"param": "lr", "values": [0.1] * 17}],
         "sweep"),
    ],
)  # fmt: skip
def test_a_bad_sweep_is_named(sweep, where):
    with pytest.raises(ValidationError, match=re.escape(f"{where}: ")):
        spec(series=[{"optimizer": "anon", "sweep": sweep}])


def test_record_final_runs_have_their_own_budget():
    limits = Limits(max_row_steps=1000, max_rows=10, max_final_rows=400, max_final_row_steps=40_000)
    grid = {"grid": {"x": [-2, 2, 20], "y": [-1, 3, 20]}}
    one = [{"optimizer": "sgd"}]
    check_budget(spec(series=one, starts=grid, steps=100, record="final"), limits)
    with pytest.raises(BudgetError) as full:
        check_budget(spec(series=one, starts=grid, steps=100), limits)
    assert full.value.loc == ("series",)
    with pytest.raises(BudgetError, match="'record: final'") as final:
        check_budget(spec(series=one, starts=grid, steps=101, record="final"), limits)
    assert final.value.loc == ("steps",)


def himmelblau_descent(start: tuple[float, float], lr: float, steps: int) -> tuple[float, float]:
    """Plain gradient descent on Himmelblau's function, written out (no torch, no engine)."""
    x, y = start
    for _ in range(steps):
        a, b = x * x + y - 11, x + y * y - 7
        x, y = x - lr * (4 * a * x + 2 * b), y - lr * (2 * a + 4 * b * y)
    return x, y


def test_a_map_says_which_minimum_each_start_reaches():
    """Himmelblau's four minima: the basin of each grid start, by the engine's nearest_minimum,
    equals the one that a separate loop of gradient descent ends nearest to."""
    lr, steps, n = 0.01, 300, 9
    run = RunSpec.model_validate(
        {
            "landscape": {"id": "himmelblau"},
            "steps": steps,
            "record": "final",
            "starts": {"grid": {"x": [-4.5, 4.5, n], "y": [-4.5, 4.5, n]}},
            "series": [{"optimizer": "sgd", "hparams": {"lr": lr}}],
        }
    )
    result = run_to_result(run)
    minima = [m["point"] for m in result["landscape"]["global_minima"]]
    assert len(minima) == 4
    basins = set()
    for row in result["series"]:
        end = himmelblau_descent(tuple(row["start"]), lr, steps)
        nearest = min(
            range(4), key=lambda i: (end[0] - minima[i][0]) ** 2 + (end[1] - minima[i][1]) ** 2
        )
        assert row["nearest_minimum"] == nearest, row["start"]
        assert row["final_point"] == pytest.approx(end, abs=1e-9)
        basins.add(nearest)
    assert basins == {0, 1, 2, 3}  # the grid covers every basin


def test_nearest_minimum_is_null_without_known_minima():
    run = spec(landscape={"expression": "x**2 + y**2"}, series=[{"optimizer": "sgd"}])
    assert run_to_result(run)["series"][0]["nearest_minimum"] is None


# Stopped rows leave a final record's batch (engine/stepping.py, _drop_stopped_rows)

DIVERGING_MAP = {
    "landscape": {"id": "himmelblau"},
    "steps": 120,
    "record": "final",
    "seeds": [0, 1],
    "noise": {"kind": "gaussian", "sigma": 0.5},
    "starts": {"grid": {"x": [-6, 6, 7], "y": [-6, 6, 7]}},
    "series": [
        # Rows diverge at many different steps, in several optimizer instances: a tensor
        # sweep (one instance), a non-tensor one (one instance per value), a plain series.
        {"optimizer": "anon", "sweep": [{"param": "gamma", "values": [-1.0, 0.0, 1.0]},
                                        {"param": "lr", "values": [0.01, 0.3]}]},
        {"optimizer": "adam", "sweep": {"param": "beta1", "values": [0.0, 0.9]},
         "hparams": {"lr": 0.5}},
        {"optimizer": "sgd", "hparams": {"lr": 0.03}},
    ],
}  # fmt: skip


def kept_batches(
    monkeypatch, interval: float, landscape: dict | None = None
) -> tuple[dict, list[int]]:
    """The result of DIVERGING_MAP (on ``landscape`` if given) with stopped rows leaving the
    batch at most every ``interval`` steps, and the batch's size after each time they did."""
    from engine import stepping

    sizes: list[int] = []
    monkeypatch.undo()  # the engine's own functions, not an earlier call's wrapper
    drop = stepping._drop_stopped_rows

    def recorded(*args):
        dropped = drop(*args)
        sizes.append(sum(p.shape[0] for p in dropped[0]))
        return dropped

    monkeypatch.setattr(stepping, "DROP_INTERVAL", interval)
    monkeypatch.setattr(stepping, "_drop_stopped_rows", recorded)
    spec = {**DIVERGING_MAP, **({"landscape": landscape} if landscape else {})}
    return run_to_result(RunSpec.model_validate(spec)), sizes


# Himmelblau as a typed expression: its gradient comes from autograd through the parameters,
# which are new tensors each time rows leave.
TYPED_HIMMELBLAU = {"expression": "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
                    "view_box": [[-6, 6], [-6, 6]]}  # fmt: skip


@pytest.mark.parametrize("landscape", [None, TYPED_HIMMELBLAU], ids=["registry", "typed"])
def test_stopped_rows_leaving_the_batch_change_no_number(monkeypatch, landscape):
    kept, never = kept_batches(monkeypatch, 10**9, landscape)
    dropped, sizes = kept_batches(monkeypatch, 1, landscape)
    assert never == []
    # Rows left more than once, the batch shrinking each time, never below the rows that run
    # to the end.
    rows = kept["series"]
    running = sum(row["diverged_at"] is None for row in rows)
    assert len(sizes) >= 2
    assert len(rows) > sizes[0] > sizes[-1] >= running
    if landscape is None:  # a typed function has no known minimum to come within tolerance of
        assert any(row["steps_to_tolerance"] is not None for row in rows)
    assert dropped == kept  # every summary to the last bit


def test_a_run_whose_rows_all_stop_ends_alike(monkeypatch):
    from engine import stepping

    everything = {**DIVERGING_MAP, "series": [{"optimizer": "sgd", "hparams": {"lr": 5.0}}]}
    monkeypatch.setattr(stepping, "DROP_INTERVAL", 10**9)
    kept = run_to_result(RunSpec.model_validate(everything))
    monkeypatch.setattr(stepping, "DROP_INTERVAL", 1)
    dropped = run_to_result(RunSpec.model_validate(everything))
    assert all(row["diverged_at"] is not None for row in kept["series"])
    assert dropped == kept
