"""Network runs: a row equals a plain PyTorch training loop; batched rows equal separate runs.

Exactness, and why it is not bitwise everywhere: initial weights, minibatch order and every
optimizer's arithmetic are the same calls on the same numbers as in the plain loop, but the
engine's layers are one batched GEMM (``torch.baddbmm``) where ``nn.Linear`` calls one GEMM
(``addmm``). BLAS may block the sum over the inner dimension (the 300 training points in a
weight's gradient) differently in the two, so gradients can differ by an ulp, and 30 steps of
an optimizer carry that along. Measured here (float64, 72 points, 30 steps, one thread): every
optimizer's weights within 2e-15 of the plain loop's (Lion's equal: its steps are signs); at two
threads and 100 steps, up to 2e-11 (Ano, whose sign of momentum and |g| / sqrt(v) amplify an
ulp most). The comparisons with the plain loop therefore use a tight tolerance, 1e-10.

Rows of one run against the same rows run one by one agree to 1e-12: a single row's products
are single GEMMs (torch computes a batch of one with ``mm``), several rows' one batched GEMM,
which may round apart (here: one-column products, the regression's output layer). A row in two
runs of several rows, with different batch mates, is the same to the bit: the same batched
kernels on the same numbers. The tests run on one torch thread (the ``one_thread`` fixture), so
no kernel can split a sum differently for different batch sizes.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from torch.nn import functional

import engine.training as training_module
import optimizers.andi as andi_module
from engine.network_spec import (
    NetworkLimits,
    NetworkRunSpec,
    check_network_budget,
)
from engine.spec import BudgetError
from engine.training import (
    HUTCHINSON_STREAM,
    collect_training_result,
    plan_training,
    train_to_result,
    training_events,
)
from landscapes.noise import random_bits
from optimizers.registry import get_optimizer, list_optimizers
from tasks import get_task, mlp

# Optimizers a network run offers: all but any that would draw its own Hessian-vector products.
NETWORK_OPTIMIZERS = [
    e.id for e in list_optimizers() if e.accepts_hessian_diagonal or not e.needs_create_graph
]
SMALL = {"n": 96}  # 72 training points, 24 held out: fast, and enough to learn something


@pytest.fixture(autouse=True)
def one_thread():
    """Every test here on one torch thread: the batch-mates comparison is bitwise, and no
    kernel may then split a sum differently for different batch sizes; and on a shared 2-core
    machine these small kernels run many times faster than on two threads waiting for each
    other. (tests/tasks/test_task_mlp.py compares the network at the default count.)"""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_spec(**overrides) -> NetworkRunSpec:
    data = {
        "task": {"id": "spirals", "params": SMALL},
        "steps": 30,
        "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}],
    }
    data.update(overrides)
    return NetworkRunSpec.model_validate(data)


def final_weights(result, row: int) -> torch.Tensor:
    """A row's flattened weights after the last step (the run kept the two ends)."""
    return torch.from_numpy(result["weights"]["rows"][row, -1])


def plain_loop(task: dict, optimizer: str, hparams: dict, seed: int, steps: int):
    """The oracle: nn.Sequential + the registry optimizer, the way a PyTorch script trains.

    Returns the training-set loss after each of ``0..steps`` updates and the final weights,
    flattened as the engine keeps them.
    """
    entry = get_task(task["id"])
    params = entry.parse_params(task.get("params", {}))
    data = entry.make(params)
    model = task.get("model", {})
    hidden, activation = model.get("hidden", [32, 32]), model.get("activation", "tanh")
    batch = task.get("batch_size")

    def loss_of(outputs, targets):
        if entry.kind == "classification":
            return functional.cross_entropy(outputs, targets)
        return functional.mse_loss(outputs, targets)

    torch.manual_seed(seed)
    net = mlp.reference_module(entry.input_dim, hidden, entry.outputs(params), activation)
    registered = get_optimizer(optimizer)
    opt = registered.build(net.parameters(), hparams)
    weights = list(net.parameters())
    x, y = data.x_train, data.y_train
    losses = []
    for t in range(steps + 1):
        with torch.no_grad():
            losses.append(loss_of(net(x), y).item())
        if t == steps:
            break
        if batch is None:
            xb, yb = x, y
        else:
            per_epoch = -(-len(x) // batch)
            if t % per_epoch == 0:
                order = torch.randperm(len(x))
            picked = order[(t % per_epoch) * batch : (t % per_epoch + 1) * batch]
            xb, yb = x[picked], y[picked]
        opt.zero_grad()
        loss = loss_of(net(xb), yb)
        if not registered.accepts_hessian_diagonal:
            loss.backward()
            opt.step()
            continue
        # AdaHessian with the engine's probes: Rademacher z from the row's counter-based stream
        # (its seed, the step), P draws split over the parameters in order.
        grads = torch.autograd.grad(loss, weights, create_graph=True)
        sizes = [p.numel() for p in weights]
        bits = random_bits(torch.tensor([seed]), t, HUTCHINSON_STREAM, sum(sizes))[0]
        zs = [
            ((b & 1) * 2 - 1).to(p.dtype).reshape(p.shape)
            for b, p in zip(bits.split(sizes), weights, strict=True)
        ]
        hzs = torch.autograd.grad(grads, weights, grad_outputs=zs)
        for p, g in zip(weights, grads, strict=True):
            p.grad = g.detach()
        opt.step(hessian=[z * hz for z, hz in zip(zs, hzs, strict=True)])
    flat = torch.cat([p.detach().flatten() for p in weights])
    return np.array(losses), flat


# ---------------------------------------------------------------- against a plain PyTorch loop


@pytest.mark.parametrize("optimizer", NETWORK_OPTIMIZERS)
def test_a_row_equals_a_plain_pytorch_loop(optimizer):
    task = {"id": "spirals", "params": SMALL}
    hparams = {"lr": 0.01}
    spec = make_spec(task=task, series=[{"optimizer": optimizer, "hparams": hparams}], seeds=[7])
    result = train_to_result(spec, keep_weights=2)
    losses, weights = plain_loop(task, optimizer, hparams, seed=7, steps=30)
    row = result["series"][0]
    assert row["diverged_at"] is None
    np.testing.assert_allclose(row["loss"], losses, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(final_weights(result, 0), weights, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "task",
    [
        {"id": "blobs", "params": {"n": 120, "classes": 4}, "batch_size": 16},
        {"id": "sine", "params": {"n": 80}, "batch_size": 25, "model": {"activation": "relu"}},
        {"id": "xor", "params": SMALL, "model": {"hidden": [20, 8, 4]}},
        {"id": "circles", "params": SMALL, "model": {"hidden": []}},
    ],
    ids=["blobs-minibatch", "sine-minibatch-relu", "xor-three-layers", "circles-linear"],
)
@pytest.mark.parametrize("optimizer", ["adam", "andi", "anon", "adahessian"])
def test_minibatches_and_other_tasks_equal_the_plain_loop(task, optimizer):
    """The minibatch order is the plain loop's: torch.manual_seed(seed), build the network,
    then a torch.randperm of the training points each epoch (a partial last batch kept)."""
    hparams = {"lr": 0.01}
    spec = make_spec(task=task, series=[{"optimizer": optimizer, "hparams": hparams}], seeds=[3])
    result = train_to_result(spec, keep_weights=2)
    losses, weights = plain_loop(task, optimizer, hparams, seed=3, steps=30)
    np.testing.assert_allclose(result["series"][0]["loss"], losses, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(final_weights(result, 0), weights, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- batched rows vs separate runs


def _single_runs(series: list[dict], seeds: list[int], **overrides) -> list[dict]:
    """Each row of ``series`` x values x ``seeds`` run alone, in the run's row order."""
    rows = []
    for s in series:
        values = s.get("sweep", {}).get("values", [None])
        for value in values:
            hparams = dict(s.get("hparams", {}))
            if value is not None:
                hparams[s["sweep"]["param"]] = value
            for seed in seeds:
                alone = make_spec(
                    series=[{"optimizer": s["optimizer"], "hparams": hparams}],
                    seeds=[seed],
                    **overrides,
                )
                result = train_to_result(alone, keep_weights=5)
                rows.append({**result["series"][0], "weights": result["weights"]["rows"][0]})
    return rows


SERIES = [
    {"optimizer": "adam", "hparams": {"lr": 0.01}},
    # A tensor sweep of ANDI's lr: one optimizer instance for three values.
    {"optimizer": "andi", "sweep": {"param": "lr", "values": [0.001, 0.01, 0.05]}},
    # Adam cannot take a tensor lr: one instance per value.
    {"optimizer": "adam", "sweep": {"param": "lr", "values": [0.003, 0.03]}},
    {"optimizer": "anon", "hparams": {"lr": 0.01}, "sweep": {"param": "gamma", "values": [0, 1]}},
    # Its Hessian diagonal from per-row probes: a row's estimate is its own.
    {"optimizer": "adahessian", "hparams": {"lr": 0.01}},
]
TASKS = [
    {"id": "spirals", "params": SMALL},
    {"id": "spirals", "params": SMALL, "batch_size": 20},
    {"id": "sine", "params": {"n": 64}, "batch_size": 16},
]
TASK_IDS = ["spirals", "spirals-minibatch", "sine-minibatch"]


def _key(row: dict) -> tuple:
    return row["optimizer"], tuple(sorted(row["hparams"].items())), row["seed"]


@pytest.mark.parametrize("task", TASKS, ids=TASK_IDS)
def test_batched_rows_equal_separate_runs(task):
    """Every row of a run with sweeps, several groups and seeds against the row run alone.

    Exact where no product is involved (the steps sent, where rows stop). The numbers agree to
    1e-12: a run of one row multiplies single matrices (torch computes a batch of one with
    ``mm``), a run of several one batched GEMM, and the two may round apart; measured here,
    they do for one-column products (the regression's output layer: a matrix-vector product
    for a single matrix), and are bitwise equal for the classifier.
    """
    spec = make_spec(series=SERIES, seeds=[0, 11], task=task)
    plan = plan_training(spec)
    assert len(plan.rows) == 2 * (1 + 3 + 2 + 2 + 1)
    assert len(plan.groups) == 1 + 1 + 2 + 1 + 1
    batched = train_to_result(spec, keep_weights=5)
    singles = _single_runs(SERIES, [0, 11], task=task)
    assert [_key(row) for row in batched["series"]] == [_key(row) for row in singles]
    for r, single in enumerate(singles):
        row = batched["series"][r]
        assert np.array_equal(row["steps"], single["steps"])
        assert row["diverged_at"] == single["diverged_at"]
        for name in ("loss", "held_out_loss", "grad_norm", "accuracy"):
            if name in single:
                np.testing.assert_allclose(row[name], single[name], rtol=1e-12, atol=1e-14)
        weights = batched["weights"]["rows"][r]
        np.testing.assert_allclose(weights, single["weights"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("task", TASKS, ids=TASK_IDS)
def test_a_rows_numbers_do_not_depend_on_its_batch_mates(task):
    """Bitwise: rows shared by two runs of several rows each, with other batch mates, other
    groups (a one-value tensor sweep, a plain series) and another order, are the same to the
    last bit: the same batched kernels on the same numbers."""
    first = train_to_result(make_spec(series=SERIES, seeds=[0, 11], task=task), keep_weights=5)
    other_series = [
        {"optimizer": "anon", "hparams": {"lr": 0.01}, "sweep": {"param": "gamma", "values": [1]}},
        {"optimizer": "andi", "sweep": {"param": "lr", "values": [0.05]}},
        {"optimizer": "adam", "hparams": {"lr": 0.03}},
        {"optimizer": "adahessian", "hparams": {"lr": 0.01}},
    ]
    second = train_to_result(
        make_spec(series=other_series, seeds=[11, 4], task=task), keep_weights=5
    )
    rows = {_key(row): (r, row) for r, row in enumerate(first["series"])}
    shared = 0
    for s, row in enumerate(second["series"]):
        if _key(row) not in rows:
            continue
        shared += 1
        r, same = rows[_key(row)]
        for name in ("steps", "loss", "held_out_loss", "accuracy", "grad_norm"):
            if name in row:
                assert np.array_equal(row[name], same[name]), (_key(row), name)
        assert np.array_equal(second["weights"]["rows"][s], first["weights"]["rows"][r])
    assert shared == 4  # seed 11 of each series


# ---------------------------------------------------------------- ANDI's matrix branch


def test_andi_takes_its_matrix_branch_on_each_rows_hidden_matrix(monkeypatch):
    """The default network's 32 x 32 hidden weight is above ANDI's 16 x 16 threshold: with
    ``independent_rows`` the direction of the stacked ``(R, 32, 32)`` gradient is each row's
    own matrix-branch direction, which is not the plain normalised step of the vector branch."""
    seen = []
    original = andi_module.andi_direction

    def spy(grad, independent_rows=False):
        direction = original(grad, independent_rows)
        seen.append((tuple(grad.shape), independent_rows, grad.clone(), direction.clone()))
        return direction

    monkeypatch.setattr(andi_module, "andi_direction", spy)
    spec = make_spec(series=[{"optimizer": "andi"}], seeds=[0, 1, 2], steps=3)
    assert spec.task.layer_shapes()[1] == (32, 32)
    result = train_to_result(spec)
    assert all(row["diverged_at"] is None for row in result["series"])
    matrices = [entry for entry in seen if entry[0] == (3, 32, 32)]
    assert len(matrices) == 3  # one per step
    for shape, independent, grad, direction in matrices:
        assert independent
        for r in range(shape[0]):
            G = grad[r]
            rows = torch.linalg.vector_norm(G, dim=1, keepdim=True) + 1e-8
            cols = torch.linalg.vector_norm(G, dim=0, keepdim=True) + 1e-8
            hat = G / (rows + cols)
            nu = torch.linalg.vector_norm(G)
            scale = torch.hypot(nu + 1e-8, torch.ones(())) / (torch.linalg.vector_norm(hat) + 1e-8)
            torch.testing.assert_close(direction[r], hat * scale, rtol=1e-12, atol=0)
            vector_branch = G * torch.hypot(nu, torch.ones(())) / (nu + 1e-8)
            assert not torch.allclose(direction[r], vector_branch, rtol=1e-3)
    # The small input and output layers take the vector branch, per row.
    assert {entry[0] for entry in seen} == {(3, 32, 2), (3, 32), (3, 32, 32), (3, 2, 32), (3, 2)}


# ---------------------------------------------------------------- divergence


def test_a_diverging_row_stops_as_data_and_leaves_the_others_alone():
    # Plain gradient descent at lr 100 on a ReLU network: the loss passes 1e300 within steps.
    task = {"id": "sine", "params": {"n": 64}, "model": {"activation": "relu"}}
    series = [{"optimizer": "sgd", "sweep": {"param": "lr", "values": [0.01, 1e2]}}]
    result = train_to_result(make_spec(task=task, series=series), keep_weights=31)
    calm, wild = result["series"]
    assert calm["diverged_at"] is None
    at = wild["diverged_at"]
    assert at is not None
    assert 0 < at <= 30
    # Its columns end at its last valid step, every number finite.
    assert wild["steps"][-1] == at - 1
    for name in ("loss", "held_out_loss", "grad_norm"):
        assert np.isfinite(wild[name]).all()
        assert wild[name].shape == wild["steps"].shape
    assert wild["final_loss"] == wild["loss"][-1]
    # Its weights stay at their last valid values from the stop on.
    kept = result["weights"]["rows"][1]
    assert np.isfinite(kept).all()
    assert (kept[at:] == kept[at - 1]).all()
    alone = train_to_result(
        make_spec(task=task, series=[{"optimizer": "sgd", "hparams": {"lr": 0.01}}])
    )
    # To 1e-12 rather than bitwise: see test_batched_rows_equal_separate_runs.
    np.testing.assert_allclose(calm["loss"], alone["series"][0]["loss"], rtol=1e-12)


# ---------------------------------------------------------------- events


def test_events_meta_chunks_snapshots_done():
    spec = make_spec(steps=20, seeds=[0, 1], snapshot_every=8)
    plan = plan_training(spec)
    events = list(training_events(plan, chunk_seconds=0.0))
    kinds = [event.kind for event in events]
    assert kinds[0] == "meta"
    assert kinds[-1] == "done"
    assert "chunk" in kinds
    meta = events[0].data
    assert [row["seed"] for row in meta["rows"]] == [0, 1]
    assert meta["model"]["shapes"] == [[32, 2], [32, 32], [2, 32]]
    assert meta["model"]["parameters"] == plan.parameter_count == 1218
    assert len(meta["task"]["data"]["x_train"]) == 72
    assert len(meta["snapshots"]["grid"]["x"]) == 48
    snapshots = [event.data for event in events if event.kind == "snapshot"]
    assert [s["step"] for s in snapshots] == [0, 8, 16, 20]
    probabilities = snapshots[-1]["rows"][0]["probabilities"]
    assert probabilities.shape == (2, 48, 48)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, rtol=1e-5)
    steps = np.concatenate(
        [
            part["steps"]
            for e in events
            if e.kind == "chunk"
            for part in e.data["rows"]
            if not part["row"]
        ]
    )
    assert steps.tolist() == list(range(21))
    done = events[-1].data["rows"]
    assert [summary["row"] for summary in done] == [0, 1]
    for summary in done:
        assert summary["best_loss"] <= summary["final_loss"]
        assert 0.0 <= summary["final_accuracy"] <= 1.0
    assert "weights" not in events[-1].data  # only when asked


def test_regression_snapshots_a_curve_and_has_no_accuracy():
    spec = make_spec(task={"id": "sine", "params": {"n": 64}}, steps=4)
    result = train_to_result(spec)
    row = result["series"][0]
    assert "accuracy" not in row
    assert row["final_accuracy"] is None
    assert row["last_snapshot"]["step"] == 4
    assert row["last_snapshot"]["prediction"].shape == (200,)
    assert len(result["snapshots"]["grid"]["x"]) == 200


def test_record_final_sends_summaries_only_and_decimation_keeps_the_ends():
    final = list(training_events(plan_training(make_spec(record="final"))))
    assert [event.kind for event in final] == ["meta", "done"]
    result = train_to_result(make_spec(steps=30, max_points=4))
    assert result["series"][0]["steps"].tolist() == [0, 10, 20, 30]


def test_the_weight_trajectory_starts_at_the_initial_network():
    spec = make_spec(seeds=[4], steps=12)
    result = train_to_result(spec, keep_weights=5)
    trajectory = result["weights"]
    assert trajectory["steps"].tolist() == [0, 3, 6, 9, 12]
    assert trajectory["rows"].shape == (1, 5, spec.task.parameter_count())
    shapes = spec.task.layer_shapes()
    initial = mlp.init_rows(shapes, [torch.Generator().manual_seed(4)], torch.float64)
    flat = torch.cat([p[0].flatten() for p in initial])
    assert torch.equal(torch.from_numpy(trajectory["rows"][0, 0]), flat)


def test_cancel_stops_before_the_next_step():
    cancel = threading.Event()
    plan = plan_training(make_spec(steps=1000))
    events = training_events(plan, cancel, chunk_seconds=0.0)
    seen = []
    for event in events:
        seen.append(event.kind)
        if event.kind == "chunk":
            cancel.set()
    assert "done" not in seen
    with pytest.raises(RuntimeError, match="cancelled"):
        collect_training_result(plan, iter([]))


# ---------------------------------------------------------------- validation and budget


@pytest.mark.parametrize(
    ("task", "overrides", "where"),
    [
        ({"id": "mnist"}, {}, "id:"),
        ({"id": "spirals", "params": {"n": 4}}, {}, "params.n:"),
        ({"id": "spirals", "params": {"noise": "a"}}, {}, "params.noise:"),
        ({"id": "spirals", "params": SMALL, "batch_size": 500}, {}, "batch_size:"),
        ({"id": "spirals", "batch_size": 0}, {}, "batch_size"),
        ({"id": "spirals", "model": {"hidden": [32, 0]}}, {}, "hidden"),
        ({"id": "spirals", "model": {"hidden": [8] * 5}}, {}, "hidden"),
        ({"id": "spirals", "model": {"activation": "gelu"}}, {}, "activation"),
        ({"id": "spirals"}, {"series": [{"optimizer": "adam", "hparams": {"lr": -1.0}}]}, "lr"),
        ({"id": "spirals"}, {"steps": 0}, "steps"),
    ],
)
def test_bad_specs_name_the_field(task, overrides, where):
    with pytest.raises(ValidationError) as caught:
        make_spec(task=task, **overrides)
    error = caught.value.errors()[0]
    text = ".".join(str(part) for part in error["loc"]) + " " + error["msg"]
    assert where in text, text


def test_budget_errors_name_the_field_to_change():
    limits = NetworkLimits()
    check_network_budget(make_spec(), limits)  # the default network fits
    default = NetworkRunSpec.model_validate(
        {"task": {"id": "spirals"}, "steps": 500, "series": [{"optimizer": "adam"}]}
    )
    check_network_budget(default, limits)
    cases = [
        (make_spec(steps=20_000), NetworkLimits(max_steps=10_000), ("steps",)),
        (make_spec(seeds=list(range(10))), NetworkLimits(max_rows=8), ("series",)),
        (make_spec(), NetworkLimits(max_row_step_parameters=1000), ("task", "model", "hidden")),
        (make_spec(), NetworkLimits(max_work=1000), ("task", "params")),
        (
            make_spec(task={"id": "spirals", "params": SMALL, "batch_size": 8}),
            NetworkLimits(max_work=1000),
            ("task", "batch_size"),
        ),
        (make_spec(max_points=31), NetworkLimits(max_output_points=30), ("max_points",)),
    ]
    for spec, tight, loc in cases:
        with pytest.raises(BudgetError) as caught:
            check_network_budget(spec, tight)
        assert caught.value.loc == loc


def test_kept_weights_are_bounded_before_anything_runs():
    plan = plan_training(make_spec())
    with pytest.raises(ValueError, match="keep_weights must be 0 or at least 2"):
        training_events(plan, keep_weights=1)
    many = plan_training(make_spec(seeds=list(range(256)), steps=200))
    with pytest.raises(ValueError, match="keep_weights: 200 steps x 256 rows x 1218 parameters"):
        training_events(many, keep_weights=200)


def test_float32_runs_train_close_to_float64():
    runs = {
        dtype: train_to_result(make_spec(dtype=dtype, steps=20), keep_weights=2)
        for dtype in ("float32", "float64")
    }
    single, double = runs["float32"]["series"][0], runs["float64"]["series"][0]
    assert single["loss"].dtype == np.float32
    assert runs["float32"]["weights"]["rows"].dtype == np.float32
    np.testing.assert_allclose(single["loss"], double["loss"], rtol=1e-4)
    assert single["final_loss"] < single["loss"][0]


def test_the_consumer_keeps_its_grad_mode_between_events():
    """Events are handed out outside the engine's no_grad blocks."""
    modes = {
        event.kind: torch.is_grad_enabled()
        for event in training_events(plan_training(make_spec(steps=3)), chunk_seconds=0.0)
    }
    assert set(modes) == {"meta", "chunk", "snapshot", "done"}
    assert all(modes.values())


@pytest.mark.parametrize("task_id", ["blobs", "sine"])
def test_snapshots_stay_finite_where_a_network_overflows_off_the_data(task_id):
    """Huge but finite ReLU weights: the grid's outputs overflow to inf and NaN, which the
    snapshot clips (probabilities take their limits) instead of sending."""
    task = {"id": task_id, "params": {"n": 64}, "model": {"activation": "relu"}}
    plan = plan_training(make_spec(task=task))
    generators = [torch.Generator().manual_seed(0)]
    weights = [p * 1e120 for p in mlp.init_rows(plan.shapes, generators, torch.float64)]
    grid = plan.snapshot_inputs()
    raw = mlp.forward(weights, grid, "relu")
    assert not torch.isfinite(raw).all()
    snapshot = training_module._snapshot(plan, weights, grid, 0, torch.tensor([1]), "relu")
    (row,) = snapshot["rows"]
    values = row["probabilities" if task_id == "blobs" else "prediction"]
    assert np.isfinite(values).all()
    if task_id == "blobs":
        np.testing.assert_allclose(values.sum(axis=0), 1.0, rtol=1e-6)
