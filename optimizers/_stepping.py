"""The bookkeeping every ``step()`` here shares, so each file keeps only its equations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch


def evaluate_closure(closure: Callable[[], torch.Tensor] | None) -> torch.Tensor | None:
    """Re-evaluate the loss with gradients enabled (``step`` itself runs under no_grad)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def params_with_grad(
    optimizer: torch.optim.Optimizer, group: dict[str, Any]
) -> Iterator[tuple[torch.Tensor, torch.Tensor, dict[str, Any]]]:
    """``(param, grad, state)`` for each parameter of ``group`` that has a gradient.

    Raises:
        RuntimeError: a sparse gradient (these optimizers keep dense state).
    """
    for p in group["params"]:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            raise RuntimeError(f"{type(optimizer).__name__} does not support sparse gradients")
        yield p, p.grad, optimizer.state[p]
