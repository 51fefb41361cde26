"""Every registry entry, generated from the registry: a new optimizer is covered automatically."""

from __future__ import annotations

import inspect
import json

import pytest
import torch
from optim_testing import himmelblau, separable
from pydantic import ValidationError

from optimizers.registry import (
    OptimizerEntry,
    UnknownOptimizerError,
    get_optimizer,
    list_optimizers,
)

ENTRIES = list_optimizers()
IDS = [e.id for e in ENTRIES]
STARTS = torch.tensor(
    [[-2.0, 2.0], [0.5, -0.5], [3.5, 1.0], [-1.0, -3.0], [0.0, 0.0]], dtype=torch.float64
)


def run(entry: OptimizerEntry, start: torch.Tensor, steps: int, *, f=himmelblau, **build_kwargs):
    """Minimise f(P).sum() from ``start`` (one point or a batch); return the final positions."""
    P = start.detach().clone().requires_grad_()
    values = build_kwargs.pop("values", {"lr": 1e-3})
    opt = entry.build([P], values, **build_kwargs)
    for _ in range(steps):
        opt.zero_grad()
        f(P).sum().backward(create_graph=entry.needs_create_graph)
        opt.step()
    return P.detach()


def objective_for(entry: OptimizerEntry):
    # Hutchinson's estimate z * (H z) is exact when H is diagonal, so AdaHessian's random probes
    # cannot make a batch differ from separate runs there.
    return separable if entry.random_step else himmelblau


def test_ids_are_unique_lower_case_and_include_the_required_set():
    assert len(set(IDS)) == len(IDS)
    assert all(i == i.lower() for i in IDS)
    required = {"ano", "anolog", "anon", "andi", "yogi", "sgd", "adam", "adamw", "rmsprop"}
    required |= {"adagrad", "radam", "nadam", "adabelief", "adabound", "adahessian", "lion"}
    assert required <= set(IDS)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_schema_defaults_equal_constructor_defaults(entry):
    signature = inspect.signature(entry.cls.__init__).parameters
    for name, value in entry.hparams().to_kwargs().items():
        assert name in signature, f"{entry.id}: {name} is not a constructor argument"
        default = signature[name].default
        assert tuple(value) == tuple(default) if isinstance(value, tuple) else value == default, (
            f"{entry.id}.{name}: schema default {value!r} != constructor default {default!r}"
        )


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_description_is_complete_json(entry):
    described = json.loads(json.dumps(entry.describe(), allow_nan=False))
    for key in ("id", "label", "summary", "update_latex", "paper", "hparams_schema", "defaults"):
        assert described[key], key
    assert described["paper"].startswith("https://")
    properties = described["hparams_schema"]["properties"]
    assert "lr" in properties
    assert properties["lr"]["log_scale"] is True
    assert properties["lr"]["exclusiveMinimum"] == 0.0
    assert all(p.get("description") for p in properties.values())


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_batch_equals_separate_runs(entry):
    f = objective_for(entry)
    batched = run(entry, STARTS, 150, f=f, independent_rows=True)
    for i, start in enumerate(STARTS):
        alone = run(entry, start, 150, f=f)
        assert bool(torch.isfinite(alone).all())
        if entry.elementwise or entry.independent_rows_kwargs or entry.random_step:
            assert torch.equal(batched[i], alone), f"{entry.id}: row {i}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.tensor_hparams], ids=lambda e: e.id)
def test_tensor_hyperparameters_equal_separate_scalar_runs(entry):
    sweeps = {"lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], "gamma": [-0.5, 0.0, 0.5, 1.0, 1.5]}
    start = torch.tensor([0.5, -0.5], dtype=torch.float64)
    batch = start.repeat(5, 1)
    for name in entry.tensor_hparams:
        values = sweeps[name]
        tensor = torch.tensor(values, dtype=torch.float64)[:, None]
        batched = run(entry, batch, 200, independent_rows=True, **{name: tensor})
        for i, value in enumerate(values):
            alone = run(entry, start, 200, values={"lr": 1e-3, name: value})
            assert torch.equal(batched[i], alone), f"{entry.id}: {name}={value}"


@pytest.mark.parametrize("entry", [e for e in ENTRIES if not e.tensor_hparams], ids=lambda e: e.id)
def test_tensor_for_a_scalar_only_hyperparameter_is_refused(entry):
    with pytest.raises(ValueError, match="lr cannot be a tensor"):
        entry.build([torch.zeros(2, 2, requires_grad=True)], lr=torch.ones(2, 1))


def train_mlp(entry: OptimizerEntry, lr: float, steps: int = 150) -> tuple[float, float]:
    """A 4-32-32-1 MLP (its 32x32 matrix exercises ANDI's matrix branch) on generated regression
    data, full batch; returns (initial loss, final loss)."""
    torch.manual_seed(0)
    X = torch.randn(256, 4)
    y = torch.sin(X @ torch.tensor([1.0, -2.0, 0.5, 1.5])) + 0.1 * X[:, :1].squeeze(1) ** 2
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
        torch.nn.Linear(32, 1),
    )  # fmt: skip
    opt = entry.build(model.parameters(), {"lr": lr})

    def loss_fn():
        return torch.nn.functional.mse_loss(model(X).squeeze(1), y)

    initial = float(loss_fn().detach())
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward(create_graph=entry.needs_create_graph)
        opt.step()
    return initial, float(loss_fn().detach())


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_lowers_the_loss_of_a_small_mlp(entry):
    """This core also trains real models: with the best of three learning rates a decade apart,
    150 steps at least halve the loss."""
    results = {lr: train_mlp(entry, lr) for lr in (3e-3, 3e-2, 3e-1)}
    initial = results[3e-3][0]
    best = min(final for _, final in results.values() if final == final)
    assert best < 0.5 * initial, f"{entry.id}: {initial:.4f} -> {results}"


def test_unknown_id_raises_a_dedicated_error_naming_it():
    with pytest.raises(UnknownOptimizerError, match="'adamx'") as info:
        get_optimizer("adamx")
    assert "adam" in str(info.value)
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize(
    ("optimizer_id", "values", "field"),
    [
        ("adam", {"lr": -1.0}, "lr"),
        ("adam", {"lr": float("nan")}, "lr"),
        ("adam", {"lr": float("inf")}, "lr"),
        ("adam", {"beta1": 1.0}, "beta1"),
        ("anon", {"gamma": 9.0}, "gamma"),
        ("anon", {"gamma": "high"}, "gamma"),
        ("ano", {"lr": 1e-3, "momentum": 0.9}, "momentum"),
        ("yogi", {"eps": -1e-3}, "eps"),
    ],
)
def test_out_of_range_values_name_the_field(optimizer_id, values, field):
    with pytest.raises(ValidationError) as info:
        get_optimizer(optimizer_id).parse_hparams(values)
    assert field in {str(part) for error in info.value.errors() for part in error["loc"]}


def test_sgd_nesterov_without_momentum_is_refused():
    with pytest.raises(ValidationError, match="nesterov"):
        get_optimizer("sgd").parse_hparams({"nesterov": True})
    assert get_optimizer("sgd").parse_hparams({"nesterov": True, "momentum": 0.9}).nesterov
