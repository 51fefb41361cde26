"""Yogi against ``pytorch_optimizer.Yogi`` (weight_decay=0), the reference oracle."""

from __future__ import annotations

import itertools

import pytest
import torch
from optim_testing import FUNCTIONS, free_run, max_relative_difference, point, replay
from pytorch_optimizer import Yogi as ReferenceYogi

from optimizers import Yogi

STEPS = 1500
CASES = list(itertools.product(FUNCTIONS, [(-2.0, 2.0), (1.3, -0.7)], [1e-3, 5e-2]))


@pytest.mark.parametrize(("name", "start", "lr"), CASES)
def test_matches_pytorch_optimizer_on_replayed_gradients(name, start, lr):
    x0 = point(start)
    expected, grads = free_run(lambda ps: ReferenceYogi(ps, lr=lr), FUNCTIONS[name], x0, STEPS)
    ours = replay(lambda ps: Yogi(ps, lr=lr), x0, grads)
    assert max_relative_difference(ours, expected) <= 1e-12


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_free_run_agrees_over_a_short_horizon(name):
    x0 = point((-1.5, 1.7))
    expected, _ = free_run(lambda ps: ReferenceYogi(ps, lr=1e-2), FUNCTIONS[name], x0, 100)
    ours, _ = free_run(lambda ps: Yogi(ps, lr=1e-2), FUNCTIONS[name], x0, 100)
    assert max_relative_difference(ours, expected) <= 1e-12


def test_matrix_parameter_matches_reference():
    torch.manual_seed(1)
    w0 = torch.randn(64, 8, dtype=torch.float64)
    grads = torch.randn(300, 64, 8, dtype=torch.float64)
    expected = replay(lambda ps: ReferenceYogi(ps, lr=1e-2, foreach=False), w0, grads)
    ours = replay(lambda ps: Yogi(ps, lr=1e-2), w0, grads)
    assert max_relative_difference(ours, expected) <= 1e-12


def test_decoupled_weight_decay_matches_reference():
    x0 = point((0.5, -1.5))
    expected, grads = free_run(
        lambda ps: ReferenceYogi(ps, lr=1e-2, weight_decay=0.1), FUNCTIONS["himmelblau"], x0, 500
    )
    ours = replay(lambda ps: Yogi(ps, lr=1e-2, weight_decay=0.1), x0, grads)
    assert max_relative_difference(ours, expected) <= 1e-12
