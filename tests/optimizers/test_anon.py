"""Anon against an independent transcription of the reference update rules."""

from __future__ import annotations

import pytest
import torch
from optim_testing import FUNCTIONS, free_run, max_relative_difference, point, replay

from optimizers import Anon

GAMMAS = [-0.5, 0.0, 0.5, 1.0, 1.5]


def transcription(p0, grads, lr, betas=(0.9, 0.999), eps=1e-16, gamma=0.0, wd=0.0):
    """The reference lines of shared/reference/optimizers.md, written out once more."""
    b1, b2 = betas
    p = p0.detach().clone()
    m = torch.zeros_like(p)
    s = torch.zeros_like(p)
    V = None
    k = 0
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + wd * p if wd else g
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * g * g
        if t == 2**k:
            if k == 0:
                sigma = s / (1 - b2) + eps
                V = sigma ** (-gamma / 2)
            else:
                sigma = s / (1 - b2 ** (t / 2)) + eps
                V = ((V**-2 + sigma**gamma) / 2) ** (-1 / 2)
            s = torch.zeros_like(s)
            k += 1
        p = p - lr / (1 - b1**t) * m * V
        out.append(p.clone())
    return torch.stack(out)


@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("name", ["rosenbrock", "rastrigin", "himmelblau"])
def test_matches_transcription(name, gamma):
    x0 = point((0.8, 0.7))
    kwargs = dict(lr=1e-3, gamma=gamma, eps=1e-12)
    ours, grads = free_run(lambda ps: Anon(ps, **kwargs), FUNCTIONS[name], x0, 1000)
    expected = transcription(x0, grads, **kwargs)
    assert max_relative_difference(ours, expected) <= 1e-12


def test_coupled_weight_decay_matches_transcription():
    x0 = point((1.5, -0.5))
    ours, grads = free_run(
        lambda ps: Anon(ps, lr=1e-2, gamma=1.0, weight_decay=0.05), FUNCTIONS["himmelblau"], x0, 500
    )
    expected = transcription(x0, grads, lr=1e-2, gamma=1.0, wd=0.05)
    assert max_relative_difference(ours, expected) <= 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_gamma_zero_is_sgd_with_bias_corrected_momentum_exactly(name):
    lr, b1 = 3e-4, 0.9
    x0 = point((-1.2, 1.4))
    ours, grads = free_run(lambda ps: Anon(ps, lr=lr, gamma=0.0), FUNCTIONS[name], x0, 400)
    p, m = x0.detach().clone(), torch.zeros(2, dtype=torch.float64)
    for t, g in enumerate(grads, start=1):
        m.mul_(b1).add_(g, alpha=1 - b1)
        p = p - m * (lr / (1 - b1**t))
        assert torch.equal(ours[t - 1], p), f"differs at step {t}"


@pytest.mark.parametrize("gamma", [-0.5, 0.5, 1.0, 1.5])
def test_preconditioner_changes_only_at_powers_of_two(gamma):
    torch.manual_seed(0)
    p = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = Anon([p], lr=1e-3, gamma=gamma)
    changed_at = []
    previous = None
    for t in range(1, 70):
        p.grad = torch.randn(5, dtype=torch.float64)
        opt.step()
        V = opt.state[p]["precond"].clone()
        if previous is None or not torch.equal(V, previous):
            changed_at.append(t)
        previous = V
    assert changed_at == [1, 2, 4, 8, 16, 32, 64]
    assert opt.state[p]["refreshes"] == 7


def test_box_projection_keeps_points_inside():
    lo, hi = torch.tensor([-1.0, 0.5], dtype=torch.float64), 1.5
    p = torch.tensor([[-0.9, 0.6], [1.4, 1.4]], dtype=torch.float64, requires_grad=True)
    opt = Anon([p], lr=0.5, gamma=1.0, box=(lo, hi))
    for _ in range(200):
        opt.zero_grad()
        FUNCTIONS["rosenbrock"](p - torch.tensor([3.0, -3.0], dtype=torch.float64)).sum().backward()
        opt.step()
        assert bool((p >= lo).all())
        assert bool((p <= hi).all())
    # The unconstrained minimum (4, -2) lies outside: the points end on the boundary y = 0.5.
    torch.testing.assert_close(p.detach()[:, 1], torch.full((2,), 0.5, dtype=torch.float64))


def test_zero_gradient_at_refresh_hazard_is_kept():
    """sigma = eps at a refresh gives V = eps^(-gamma/2): documented, kept for fidelity."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = Anon([p], lr=1e-3, gamma=1.0, eps=1e-16)
    p.grad = torch.tensor([0.0, 1.0], dtype=torch.float64)
    opt.step()
    assert opt.state[p]["precond"][0].item() == pytest.approx(1e8)


def test_gamma_tensor_sweep_equals_separate_runs_bitwise():
    gammas = torch.tensor([*GAMMAS, 0.25, 2.0], dtype=torch.float64)[:, None]
    start = torch.tensor([0.8, 0.7], dtype=torch.float64)
    P = start.repeat(len(gammas), 1).requires_grad_()
    opt = Anon([P], lr=1e-3, gamma=gammas)
    for _ in range(300):
        opt.zero_grad()
        FUNCTIONS["rosenbrock"](P).sum().backward()
        opt.step()
    for i, gamma in enumerate(gammas[:, 0].tolist()):
        alone, _ = free_run(
            lambda ps, g=gamma: Anon(ps, lr=1e-3, gamma=g), FUNCTIONS["rosenbrock"], start, 300
        )
        assert bool(torch.isfinite(alone).all())
        assert torch.equal(P[i].detach(), alone[-1]), f"gamma={gamma}"


def test_replay_is_deterministic():
    x0 = point((0.3, 0.2))
    _, grads = free_run(lambda ps: Anon(ps, lr=1e-2, gamma=1.0), FUNCTIONS["rastrigin"], x0, 50)
    a = replay(lambda ps: Anon(ps, lr=1e-2, gamma=1.0), x0, grads)
    b = replay(lambda ps: Anon(ps, lr=1e-2, gamma=1.0), x0, grads)
    assert torch.equal(a, b)
