"""Shared tools for the optimizer tests: test functions, gradient replay, trajectory comparison."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Objective = Callable[[torch.Tensor], torch.Tensor]
MakeOptimizer = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def rosenbrock(p: torch.Tensor) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rastrigin(p: torch.Tensor) -> torch.Tensor:
    return 20 + (p**2 - 10 * torch.cos(2 * math.pi * p)).sum(-1)


def himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def rotated_quadratic(p: torch.Tensor) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    u, v = (x + y) / math.sqrt(2), (x - y) / math.sqrt(2)
    return 0.5 * (50 * u**2 + v**2)


def separable(p: torch.Tensor) -> torch.Tensor:
    """A sum of 1-D functions: its Hessian is diagonal, so Hutchinson's estimate is exact."""
    return (p**4 / 4 - p**2 + 0.3 * p).sum(-1)


FUNCTIONS: dict[str, Objective] = {
    "rosenbrock": rosenbrock,
    "rastrigin": rastrigin,
    "himmelblau": himmelblau,
    "rotated_quadratic": rotated_quadratic,
}


def point(xy: tuple[float, float], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor(xy, dtype=dtype).requires_grad_()


def free_run(
    make: MakeOptimizer,
    f: Objective,
    start: torch.Tensor,
    steps: int,
    create_graph: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``steps`` steps on ``f(start).sum()``; return (positions after each step, gradients).

    The gradients are the ones the optimizer saw, so they can be replayed through another one.
    """
    p = start.detach().clone().requires_grad_()
    opt = make([p])
    positions, grads = [], []
    for _ in range(steps):
        opt.zero_grad()
        f(p).sum().backward(create_graph=create_graph)
        grads.append(p.grad.detach().clone())
        opt.step()
        positions.append(p.detach().clone())
    return torch.stack(positions), torch.stack(grads)


def replay(make: MakeOptimizer, start: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """Feed a recorded gradient sequence to a fresh optimizer; return its positions."""
    p = start.detach().clone().requires_grad_()
    opt = make([p])
    positions = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        positions.append(p.detach().clone())
    return torch.stack(positions)


def max_relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| over a whole trajectory, relative to the trajectory's scale max |b|.

    Per-element ratios are meaningless where a coordinate converges to 0: both runs then carry
    absolute rounding residues of ~1e-17 (the sum of the updates), whose ratio to 1e-35 is huge.
    """
    assert bool(torch.isfinite(b).all()), "the reference run diverged: pick a smaller lr"
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))
