"""ANDI against an independent transcription of the reference update rules."""

from __future__ import annotations

import math

import pytest
import torch
from optim_testing import FUNCTIONS, free_run, max_relative_difference, point

from optimizers import ANDI
from optimizers.andi import andi_direction


def direction_transcription(g: torch.Tensor) -> torch.Tensor:
    nu = torch.sqrt((g * g).sum())
    rows = g.shape[0] if g.ndim else 1
    cols = g.numel() // rows
    if g.ndim > 1 and rows > 16 and cols > 16:
        G = g.reshape(rows, -1)
        r = torch.sqrt((G * G).sum(1, keepdim=True)) + 1e-8
        c = torch.sqrt((G * G).sum(0, keepdim=True)) + 1e-8
        Gh = G / (r + c)
        Gh_norm = torch.sqrt((Gh * Gh).sum())
        H = Gh * math.hypot(float(nu) + 1e-8, 1.0) / (Gh_norm + 1e-8)
        return H.reshape(g.shape)
    return g * math.hypot(float(nu), 1.0) / (nu + 1e-8)


def transcription(p0, grads, lr, mu=0.9, nesterov=True, wd=0.0):
    p, buf, out = p0.detach().clone(), None, []
    for g in grads:
        H = direction_transcription(g)
        if buf is None:
            buf = H.clone()
        buf = mu * buf + H
        u = H + mu * buf if nesterov else buf
        if wd:
            p = p * (1 - lr * wd)
        p = p - lr * u
        out.append(p.clone())
    return torch.stack(out)


@pytest.mark.parametrize("nesterov", [True, False])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_point_matches_transcription(name, nesterov):
    x0 = point((0.7, -0.4))
    ours, grads = free_run(
        lambda ps: ANDI(ps, lr=2e-4, nesterov=nesterov), FUNCTIONS[name], x0, 500
    )
    expected = transcription(x0, grads, lr=2e-4, nesterov=nesterov)
    assert max_relative_difference(ours, expected) <= 1e-12


@pytest.mark.parametrize("shape", [(40, 30), (17, 17), (16, 64), (64, 16), (20, 5, 4), (8,), ()])
def test_direction_matches_transcription_for_every_shape(shape):
    torch.manual_seed(0)
    g = torch.randn(shape, dtype=torch.float64)
    torch.testing.assert_close(andi_direction(g), direction_transcription(g), rtol=1e-13, atol=0)


def test_matrix_with_weight_decay_matches_transcription():
    torch.manual_seed(2)
    w0 = torch.randn(24, 20, dtype=torch.float64)
    grads = torch.randn(100, 24, 20, dtype=torch.float64)
    p = w0.clone().requires_grad_()
    opt = ANDI([p], lr=1e-2, weight_decay=0.1)
    ours = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        ours.append(p.detach().clone())
    expected = transcription(w0, grads, lr=1e-2, wd=0.1)
    assert max_relative_difference(torch.stack(ours), expected) <= 1e-12


def test_first_step_is_one_plus_mu_plus_mu_squared_times_h():
    mu, lr = 0.9, 0.1
    p = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    g = torch.tensor([3.0, -4.0], dtype=torch.float64)
    p.grad = g.clone()
    ANDI([p], lr=lr, momentum=mu).step()
    H = g / 5.0 * math.sqrt(26.0) * (5.0 / (5.0 + 1e-8))
    expected = torch.tensor([1.0, 2.0], dtype=torch.float64) - lr * (1 + mu + mu**2) * H
    torch.testing.assert_close(p.detach(), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    ("shape", "matrix_branch"),
    [((17, 17), True), ((16, 17), False), ((17, 16), False), ((16, 16), False), ((32,), False)],
)
def test_matrix_branch_fires_only_above_16x16(shape, matrix_branch):
    """The vector branch is g * hypot(nu, 1) / (nu + 1e-8); the matrix branch is far from it."""
    torch.manual_seed(3)
    g = torch.randn(shape, dtype=torch.float64)
    g[0] *= 50  # unequal rows: equilibration visibly changes the direction
    nu = torch.linalg.vector_norm(g)
    vector_branch = g * torch.hypot(nu, torch.ones_like(nu)) / (nu + 1e-8)
    relative_gap = float((andi_direction(g) - vector_branch).norm() / vector_branch.norm())
    if matrix_branch:
        assert relative_gap > 1e-2
    else:
        assert relative_gap < 1e-14


def test_batched_rows_equal_separate_runs_bitwise():
    starts = torch.tensor([[-2.0, 2.0], [0.5, 0.5], [1.5, -1.0], [3.0, 3.0]], dtype=torch.float64)
    P = starts.clone().requires_grad_()
    opt = ANDI([P], lr=1e-3, independent_rows=True)
    f = FUNCTIONS["himmelblau"]
    for _ in range(200):
        opt.zero_grad()
        f(P).sum().backward()
        opt.step()
    for i in range(len(starts)):
        alone, _ = free_run(lambda ps: ANDI(ps, lr=1e-3), f, starts[i], 200)
        assert torch.equal(P[i].detach(), alone[-1])


def test_without_the_switch_rows_interfere():
    """One global norm over a (B, 2) tensor couples the points: the switch is needed."""
    starts = torch.tensor([[-2.0, 2.0], [0.5, 0.5]], dtype=torch.float64)
    P = starts.clone().requires_grad_()
    opt = ANDI([P], lr=1e-3)
    FUNCTIONS["himmelblau"](P).sum().backward()
    opt.step()
    alone, _ = free_run(lambda ps: ANDI(ps, lr=1e-3), FUNCTIONS["himmelblau"], starts[1], 1)
    assert not torch.equal(P[1].detach(), alone[0])
