"""Ano and Anolog against the official ``ano-optimizer`` 1.0.0 package (the reference oracle)."""

from __future__ import annotations

import itertools

import pytest
import torch
from ano_optimizer import Ano as OfficialAno
from optim_testing import FUNCTIONS, free_run, max_relative_difference, point, replay

from optimizers import Ano, Anolog
from optimizers.ano import anolog_beta1

STEPS = 1500
STARTS = [(-2.0, 2.0), (1.3, -0.7)]
LRS = [1e-3, 3e-2]
WEIGHT_DECAYS = [0.0, 0.1]

CASES = list(itertools.product(FUNCTIONS, STARTS, LRS, WEIGHT_DECAYS))


def _ids(case: tuple) -> str:
    name, start, lr, wd = case
    return f"{name}-start{start}-lr{lr}-wd{wd}"


@pytest.mark.parametrize("log_schedule", [False, True], ids=["ano", "anolog"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_official_package_on_replayed_gradients(case, log_schedule):
    """Feed both the gradients the official optimizer saw: positions agree to <= 1e-12."""
    name, start, lr, wd = case
    x0 = point(start)
    kwargs = dict(lr=lr, weight_decay=wd, logarithmic_schedule=log_schedule)
    expected, grads = free_run(lambda ps: OfficialAno(ps, **kwargs), FUNCTIONS[name], x0, STEPS)
    ours = replay(lambda ps: Ano(ps, **kwargs), x0, grads)
    assert max_relative_difference(ours, expected) <= 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_free_run_agrees_bitwise_over_a_short_horizon(name):
    x0 = point((-1.5, 1.7))
    expected, _ = free_run(lambda ps: OfficialAno(ps, lr=1e-2), FUNCTIONS[name], x0, 100)
    ours, _ = free_run(lambda ps: Ano(ps, lr=1e-2), FUNCTIONS[name], x0, 100)
    assert torch.equal(ours, expected)


def test_batch_of_matrices_matches_official():
    """A real-model shaped parameter (a 32 x 16 matrix) in float64, replayed."""
    torch.manual_seed(0)
    w0 = torch.randn(32, 16, dtype=torch.float64)
    grads = torch.randn(200, 32, 16, dtype=torch.float64)
    expected = replay(lambda ps: OfficialAno(ps, lr=1e-3, weight_decay=0.01), w0, grads)
    ours = replay(lambda ps: Ano(ps, lr=1e-3, weight_decay=0.01), w0, grads)
    assert max_relative_difference(ours, expected) <= 1e-12


def test_anolog_class_equals_ano_with_log_schedule():
    x0 = point((-2.0, 2.0))
    f = FUNCTIONS["rosenbrock"]
    a, _ = free_run(lambda ps: Anolog(ps, lr=1e-2, beta2=0.95), f, x0, 300)
    b, _ = free_run(
        lambda ps: Ano(ps, lr=1e-2, betas=(0.5, 0.95), logarithmic_schedule=True), f, x0, 300
    )
    assert torch.equal(a, b)


def test_anolog_schedule_values():
    assert anolog_beta1(1) == anolog_beta1(2) == pytest.approx(1 - 1 / 0.6931471805599453)
    assert anolog_beta1(1) < 0
    assert anolog_beta1(100) == pytest.approx(1 - 1 / 4.605170185988092)


def test_first_step_follows_the_equations():
    """At t=1: v = (1-b2) g^2, v_hat = g^2, so p -= lr |g| / sqrt(g^2 + eps) sign(g).

    A zero gradient coordinate does not move (sign(0) = 0, |g| = 0).
    """
    p = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64, requires_grad=True)
    g = torch.tensor([3.0, -0.5, 0.0], dtype=torch.float64)
    opt = Ano([p], lr=0.1, eps=1e-8)
    p.grad = g.clone()
    opt.step()
    expected = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64) - 0.1 * g.abs() / torch.sqrt(
        g**2 + 1e-8
    ) * torch.sign(g)
    torch.testing.assert_close(p.detach(), expected, rtol=1e-15, atol=0)
