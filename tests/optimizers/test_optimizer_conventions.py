"""torch.optim conventions for Optiscope's own optimizers: state, resume, dtypes, devices, groups,
closures and argument validation."""

from __future__ import annotations

import copy

import pytest
import torch
from optim_testing import rosenbrock

from optimizers import ANDI, Ano, Anolog, Anon, Yogi
from optimizers.registry import list_optimizers

OURS = [e for e in list_optimizers() if e.source == "optiscope"]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def model_and_data(seed: int = 0, dtype=torch.float64, device="cpu"):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(20, 24), torch.nn.ReLU(), torch.nn.Linear(24, 3))
    model.to(dtype=dtype, device=device)
    X = torch.randn(64, 20, dtype=dtype, device=device)
    y = torch.randn(64, 3, dtype=dtype, device=device)
    return model, X, y


def train(model, opt, X, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(X), y).backward()
        opt.step()


def make(entry, params):
    # Non-default values so that a lost hyperparameter would show after a resume.
    return entry.build(params, {"lr": 3e-3, "weight_decay": 0.01})


@pytest.mark.parametrize("entry", OURS, ids=lambda e: e.id)
def test_resume_from_state_dict_equals_uninterrupted_run(entry):
    model_a, X, y = model_and_data()
    opt_a = make(entry, model_a.parameters())
    train(model_a, opt_a, X, y, 40)

    model_b, _, _ = model_and_data()
    opt_b = make(entry, model_b.parameters())
    train(model_b, opt_b, X, y, 17)
    saved_model = copy.deepcopy(model_b.state_dict())
    saved_opt = copy.deepcopy(opt_b.state_dict())

    model_c, _, _ = model_and_data(seed=99)
    model_c.load_state_dict(saved_model)
    opt_c = make(entry, model_c.parameters())
    opt_c.load_state_dict(saved_opt)
    train(model_c, opt_c, X, y, 23)
    for a, c in zip(model_a.parameters(), model_c.parameters(), strict=True):
        assert torch.equal(a, c)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("entry", OURS, ids=lambda e: e.id)
def test_dtypes_and_devices(entry, dtype, device):
    model, X, y = model_and_data(dtype=dtype, device=device)
    opt = make(entry, model.parameters())
    with torch.no_grad():
        before = float(torch.nn.functional.mse_loss(model(X), y))
    train(model, opt, X, y, 30)
    with torch.no_grad():
        after = float(torch.nn.functional.mse_loss(model(X), y))
    assert after < before
    for p in model.parameters():
        assert p.dtype == dtype
        assert p.device.type == device
        for value in opt.state[p].values():
            if isinstance(value, torch.Tensor):
                assert value.dtype == dtype
                assert value.device.type == device


@pytest.mark.parametrize("entry", OURS, ids=lambda e: e.id)
def test_param_groups_use_their_own_learning_rate(entry):
    a = torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)
    lone = torch.tensor([0.5, -0.5], dtype=torch.float64, requires_grad=True)
    opt = entry.cls([{"params": [a]}, {"params": [b], "lr": 1e-3}], lr=1e-2)
    lone_opt = entry.cls([lone], lr=1e-3)
    for _ in range(20):
        for o, ps in ((opt, (a, b)), (lone_opt, (lone,))):
            o.zero_grad()
            sum(rosenbrock(p) for p in ps).backward()
            o.step()
    assert torch.equal(b, lone)
    assert not torch.equal(a, b)


@pytest.mark.parametrize("entry", OURS, ids=lambda e: e.id)
def test_step_with_closure_returns_the_loss_and_skips_params_without_grad(entry):
    p = torch.tensor([-1.0, 1.0], dtype=torch.float64, requires_grad=True)
    frozen = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    opt = entry.cls([p, frozen], lr=1e-3)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.detach()) == pytest.approx(float(rosenbrock(torch.tensor([-1.0, 1.0]))))
    assert frozen.item() == 3.0
    assert frozen not in opt.state
    assert not torch.equal(p.detach(), torch.tensor([-1.0, 1.0], dtype=torch.float64))


P = [torch.zeros(2, requires_grad=True)]


@pytest.mark.parametrize(
    ("construct", "argument"),
    [
        (lambda: Ano(P, lr=-1.0), "lr"),
        (lambda: Ano(P, lr=float("nan")), "lr"),
        (lambda: Ano(P, betas=(1.0, 0.99)), "betas[0]"),
        (lambda: Ano(P, betas=(0.9, -0.1)), "betas[1]"),
        (lambda: Ano(P, betas=0.9), "betas"),
        (lambda: Ano(P, eps=-1e-8), "eps"),
        (lambda: Ano(P, weight_decay=-0.1), "weight_decay"),
        (lambda: Ano(P, logarithmic_schedule="yes"), "logarithmic_schedule"),
        (lambda: Anolog(P, beta2=1.5), "beta2"),
        (lambda: Anon(P, gamma=float("inf")), "gamma"),
        (lambda: Anon(P, gamma=torch.tensor([[0.0], [float("nan")]])), "gamma"),
        (lambda: Anon(P, lr=torch.tensor([[1e-3], [-1e-3]])), "lr"),
        (lambda: Anon(P, lr=torch.tensor([1, 2])), "lr"),
        (lambda: Anon(P, box=(1.0, -1.0)), "box"),
        (lambda: Anon(P, box=(1.0,)), "box"),
        (lambda: Anon(P, decoupled_weight_decay=1), "decoupled_weight_decay"),
        (lambda: ANDI(P, momentum=1.0), "momentum"),
        (lambda: ANDI(P, nesterov=None), "nesterov"),
        (lambda: ANDI(P, independent_rows="rows"), "independent_rows"),
        (lambda: Yogi(P, eps=0.0), "eps"),
        (lambda: Yogi(P, initial_accumulator=-1.0), "initial_accumulator"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(construct, argument):
    with pytest.raises(ValueError, match=argument.replace("[", r"\[").replace("]", r"\]")):
        construct()


def test_tensor_hyperparameter_that_does_not_broadcast_is_refused():
    P2 = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
    opt = Anon([P2], gamma=torch.zeros(3, 1, dtype=torch.float64))
    P2.grad = torch.ones_like(P2)
    with pytest.raises(ValueError, match=r"gamma of shape \(3, 1\)"):
        opt.step()


def test_sparse_gradients_are_refused():
    emb = torch.nn.Embedding(10, 3, sparse=True)
    opt = Ano(emb.parameters())
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()
