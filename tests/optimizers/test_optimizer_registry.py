"""Every registry entry, generated from the registry: a new optimizer is covered automatically."""

from __future__ import annotations

import inspect
import json
import statistics

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


# The MLP test runs in float64, on data and weights drawn from its own generator, each optimizer
# at a learning rate from the middle of the range where it passes: its verdict must not depend on
# the CPU, the BLAS or the thread count. Measured with torch 2.13 (1, 2 and 4 threads gave the
# same numbers to the bit; torch's and MKL's other code paths, forced by ATEN_CPU_CAPABILITY and
# MKL_CBWR, the same to four digits): at these rates every optimizer ends at or below 0.05 of the
# initial loss, at half or double them at or below 0.10 (the worst: sgd and anon at half), and
# each one passes at every rate from 0.21x to 5.7x its own, in quarter octaves (sgd, the
# narrowest, diverges from 6.7x). The bar, MLP_LOSS_RATIO, leaves 4x room at these rates and 2x
# at half or double them.
MLP_STEPS = 300
MLP_RECENT = 25
MLP_LOSS_RATIO = 0.2
MLP_LEARNING_RATES = {
    "ano": 2e-3,
    "anolog": 2e-3,
    "anon": 0.1,  # gamma = 0: SGD with momentum, so an SGD-sized rate
    "andi": 3e-3,
    "yogi": 1e-2,
    "sgd": 0.1,
    "adam": 1e-2,
    "adamw": 1e-2,
    "rmsprop": 2e-3,
    "adagrad": 3e-2,
    "radam": 3e-2,
    "nadam": 5e-3,
    "adabelief": 1e-2,
    "adabound": 1e-2,
    "adahessian": 0.1,
    "lion": 3e-3,
}


def mlp_task() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A 4-32-32-1 tanh MLP (its 32x32 matrix exercises ANDI's matrix branch) and a regression
    data set, all float64 and drawn from one seeded generator: the same numbers on every
    machine."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(256, 4, generator=g, dtype=torch.float64)
    w = torch.tensor([0.5, -1.0, 0.25, 0.75], dtype=torch.float64)
    y = torch.sin(X @ w) + 0.1 * X[:, 0] ** 2
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
        torch.nn.Linear(32, 1),
    ).double()  # fmt: skip
    with torch.no_grad():
        for layer in model[::2]:
            bound = layer.in_features**-0.5  # torch's default initialisation range
            layer.weight.uniform_(-bound, bound, generator=g)
            layer.bias.uniform_(-bound, bound, generator=g)
    return model, X, y


def mse(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.mse_loss(model(X).squeeze(1), y)


def train_mlp(entry: OptimizerEntry, lr: float, steps: int = MLP_STEPS) -> tuple[float, float]:
    """Full-batch training on :func:`mlp_task`; returns (initial loss, loss at the end).

    The loss at the end is the median over the last MLP_RECENT steps, not the last step's loss:
    sign-driven updates (Ano, Anolog, Lion) now and then make a one-step loss spike, and where one
    lands depends on rounding. Ano at 2e-3 has one at step 300 here: 0.010 of the initial loss the
    step before, 0.185, then 0.023.
    """
    # AdaHessian draws its Hutchinson probes from the global generator (and torch.nn.Linear its
    # discarded default weights): seed it, in a fork so that no other test's random state changes.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model, X, y = mlp_task()
        opt = entry.build(model.parameters(), {"lr": lr})
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = mse(model, X, y)
            loss.backward(create_graph=entry.needs_create_graph)
            opt.step()
            losses.append(float(loss.detach()))
    losses.append(float(mse(model, X, y).detach()))
    return losses[0], statistics.median(losses[-MLP_RECENT:])


def test_the_mlp_task_is_not_linear():
    """The best affine fit of the data only gets to 0.33 of the initial loss, well above the MLP
    test's bar: passing it takes a non-linear fit, not just the linear trend."""
    model, X, y = mlp_task()
    initial = float(mse(model, X, y).detach())
    A = torch.cat((X, torch.ones(len(X), 1, dtype=X.dtype)), dim=1)
    affine = torch.linalg.lstsq(A, y[:, None]).solution
    affine_loss = float(torch.nn.functional.mse_loss((A @ affine).squeeze(1), y))
    assert affine_loss > 1.5 * MLP_LOSS_RATIO * initial


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_lowers_the_loss_of_a_small_mlp(entry):
    """This core also trains real models: 300 full-batch steps cut the loss to a fifth."""
    if entry.id not in MLP_LEARNING_RATES:
        pytest.fail(
            f"{entry.id}: add it to MLP_LEARNING_RATES, with a rate from the middle of the range "
            "where it passes (check that half and double that rate pass too)"
        )
    initial, final = train_mlp(entry, MLP_LEARNING_RATES[entry.id])
    assert final < MLP_LOSS_RATIO * initial, f"{entry.id}: {initial:.4f} -> {final:.4f}"


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
