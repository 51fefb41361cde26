r"""Ano: the direction from the sign of momentum, the magnitude from the current gradient."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.optim import Optimizer

from optimizers._stepping import evaluate_closure, params_with_grad
from optimizers._validation import (
    Scalar,
    check_betas,
    check_broadcast,
    check_number,
    check_sweepable,
    on_param,
)

__all__ = ["Ano", "anolog_beta1"]


def anolog_beta1(step: int) -> float:
    r"""Anolog's momentum coefficient :math:`\beta_{1,t} = 1 - 1/\ln(\max(2, t))`.

    It is negative (about -0.443) at ``t = 1, 2`` and rises towards 1 as ``t`` grows.
    """
    return 1.0 - 1.0 / math.log(max(2, step))


class Ano(Optimizer):
    r"""Ano (Kegreisz, 2025): sign-of-momentum direction, instantaneous-gradient magnitude.

    Adam divides the *momentum* by a running RMS. Ano keeps the momentum only for its sign and
    takes the step length from the *current* gradient over a Yogi-like running second moment, so
    in noisy landscapes the direction is smoothed while the magnitude reacts at once.

    Symbols: ``lr`` is :math:`\eta`, ``betas`` are :math:`(\beta_1, \beta_2)`, ``eps`` is
    :math:`\epsilon`, ``weight_decay`` is :math:`\lambda`, :math:`g_t` the gradient,
    :math:`t` the step count of the parameter (1 on the first ``step()``), ``sign(0) = 0``.

    State per parameter: ``step`` (int), ``exp_avg`` :math:`m`, ``exp_avg_sq`` :math:`v`, both
    zero-initialised.

    Update, elementwise:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\,\mathrm{sign}(g_t^2 - v_{t-1})\,g_t^2 \\
        \hat v_t &= v_t / (1 - \beta_2^t) \\
        p &\leftarrow p\,(1 - \eta\lambda) \quad \text{(only if } \lambda \neq 0\text{)} \\
        p &\leftarrow p - \eta\,\frac{|g_t|}{\sqrt{\hat v_t + \epsilon}}\,\mathrm{sign}(m_t)

    With ``logarithmic_schedule=True`` (Anolog) :math:`\beta_1` is replaced at every step by
    :math:`\beta_{1,t} = 1 - 1/\ln(\max(2, t))` (see :class:`optimizers.Anolog`).

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr: learning rate :math:`\eta` (default 1e-4). A float, or a tensor that broadcasts
            against each parameter (e.g. shape ``(B, 1)`` for ``B`` points of shape ``(B, 2)``).
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1) (default (0.92, 0.99)).
        weight_decay: decoupled weight decay :math:`\lambda \ge 0` (default 0).
        eps: :math:`\epsilon \ge 0`, added *inside* the square root (default 1e-8).
        logarithmic_schedule: use Anolog's schedule for :math:`\beta_1` (default False).

    References:
        A. Kegreisz, "Ano: Faster is Better in Noisy Landscapes", 2025.
        doi:10.5281/zenodo.16422081, arXiv:2508.18258. Official code: PyPI ``ano-optimizer`` 1.0.0.

    Deviations:
        This class follows the PyTorch file of ``ano-optimizer`` 1.0.0 operation for operation (it
        is the test oracle), including :math:`\epsilon` inside the square root. The package's
        TensorFlow file and ``pytorch-optimizer``'s ``Ano`` use :math:`\sqrt{\hat v_t} + \epsilon`;
        the two agree at small ``lr`` and drift apart at ``lr >= 1e-2``. The official class also
        sets ``__name__`` the wrong way round ('Ano' when the log schedule is on); here the names
        are ``Ano`` and ``Anolog``, and ``logarithmic_schedule`` is a per-group option.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: Scalar = 1e-4,
        betas: tuple[float, float] = (0.92, 0.99),
        weight_decay: float = 0.0,
        eps: float = 1e-8,
        logarithmic_schedule: bool = False,
    ) -> None:
        lr = check_sweepable("lr", lr, low=0.0)
        betas = check_betas(betas)
        weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        eps = check_number("eps", eps, low=0.0)
        if not isinstance(logarithmic_schedule, bool):
            raise ValueError(f"logarithmic_schedule must be a bool, got {logarithmic_schedule!r}")
        defaults = dict(
            lr=lr,
            betas=betas,
            weight_decay=weight_decay,
            eps=eps,
            logarithmic_schedule=logarithmic_schedule,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Perform one optimisation step; ``closure`` re-evaluates the loss if given."""
        loss = evaluate_closure(closure)

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            weight_decay, eps = group["weight_decay"], group["eps"]
            for p, grad, state in params_with_grad(self, group):
                lr = on_param(group["lr"], p)
                if not state:
                    check_broadcast("lr", lr, p)
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                t = state["step"]
                b1 = anolog_beta1(t) if group["logarithmic_schedule"] else beta1

                # The operation order mirrors the official file, so results agree to the bit;
                # two scratch buffers are reused to save allocations and memory passes.
                exp_avg.mul_(b1).add_(grad, alpha=1 - b1)
                grad_sq = torch.square(grad)
                signed_sq = torch.sub(grad_sq, exp_avg_sq).sign_().mul_(grad_sq)
                exp_avg_sq.mul_(beta2).add_(signed_sq, alpha=1 - beta2)
                # lr / sqrt(v_hat + eps), written as torch evaluates `float / tensor`.
                update = torch.div(exp_avg_sq, 1 - beta2**t, out=signed_sq)
                update.add_(eps).sqrt_().reciprocal_().mul_(lr)
                update.mul_(torch.abs(grad, out=grad_sq)).mul_(torch.sign(exp_avg))
                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)
                p.sub_(update)
        return loss
