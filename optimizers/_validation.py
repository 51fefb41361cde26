"""Argument checks shared by the optimizers in this package.

Hyperparameters a user sweeps (``lr`` everywhere, ``gamma`` for Anon) may be a float or a tensor
that broadcasts against the parameter, e.g. shape ``(B, 1)`` for a ``(B, 2)`` batch of points, so a
sweep of 64 values is one tensor and one ``step()``. The other hyperparameters are plain floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

Scalar = float | torch.Tensor


def _describe_bound(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    return f"{left}{lo}, {hi}{right}"


def check_number(
    name: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is finite and inside the interval.

    Raises:
        ValueError: naming ``name`` when the value is not a finite real number or out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        interval = _describe_bound(low, high, low_open, high_open)
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_sweepable(
    name: str,
    value: Scalar,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> Scalar:
    """Check a hyperparameter that may be a float or a floating-point tensor of values.

    Every element of a tensor must satisfy the same bounds as a float would. The tensor is kept as
    given (its broadcast against each parameter is checked when the parameter's state is created).
    """
    if not isinstance(value, torch.Tensor):
        return check_number(name, value, low=low, high=high, low_open=low_open)
    if not value.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.numel() == 0:
        raise ValueError(f"{name} must not be an empty tensor")
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must be finite in every element")
    lowest, highest = float(value.min()), float(value.max())
    for element in (lowest, highest):
        check_number(f"every element of {name}", element, low=low, high=high, low_open=low_open)
    return value.detach()


def check_betas(betas: Sequence[float], *, name: str = "betas") -> tuple[float, float]:
    """Check a pair of decay rates, each in [0, 1)."""
    if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {betas!r}")
    beta1 = check_number(f"{name}[0]", betas[0], low=0.0, high=1.0, high_open=True)
    beta2 = check_number(f"{name}[1]", betas[1], low=0.0, high=1.0, high_open=True)
    return beta1, beta2


def check_broadcast(name: str, value: Scalar, param: torch.Tensor) -> None:
    """Check that a tensor hyperparameter broadcasts to ``param``'s shape without enlarging it."""
    if not isinstance(value, torch.Tensor):
        return
    try:
        shape = torch.broadcast_shapes(value.shape, param.shape)
    except RuntimeError:
        shape = None
    if shape != param.shape:
        raise ValueError(
            f"{name} of shape {tuple(value.shape)} does not broadcast against a parameter of "
            f"shape {tuple(param.shape)}; use shape (B, 1) for a (B, 2) batch of points"
        )


def on_param(value: Scalar, param: torch.Tensor) -> Scalar:
    """A float as it is; a tensor moved to the parameter's device and dtype."""
    if isinstance(value, torch.Tensor):
        return value.to(device=param.device, dtype=param.dtype)
    return value
