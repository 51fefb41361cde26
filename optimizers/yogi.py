r"""Yogi: Adam with an additive, sign-controlled second moment."""

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

__all__ = ["Yogi"]


class Yogi(Optimizer):
    r"""Yogi (Zaheer et al., 2018): Adam whose second moment moves additively.

    Adam's :math:`v` forgets multiplicatively and can shrink fast, inflating the step when a rare
    large gradient has passed. Yogi moves :math:`v` towards :math:`g^2` by at most
    :math:`(1-\beta_2) g^2` per step, so the effective learning rate changes gently.

    Symbols: ``lr`` is :math:`\eta`, ``betas`` are :math:`(\beta_1, \beta_2)`, ``eps`` is
    :math:`\epsilon`, ``initial_accumulator`` is :math:`v_0`; :math:`t` counts the parameter's
    steps from 1.

    State per parameter: ``step``, ``exp_avg`` :math:`m` and ``exp_avg_sq`` :math:`v`, both
    starting at :math:`v_0`.

    Update, elementwise:

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        v_t &= v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\,g_t^2 \\
        p &\leftarrow p - \frac{\eta}{1-\beta_1^t}\,
             \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr: learning rate (default 1e-2); a float or a tensor broadcasting against the parameter.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1) (default (0.9, 0.999)).
        eps: added to the bias-corrected root, > 0 (default 1e-3).
        initial_accumulator: :math:`v_0 \ge 0`, also the initial :math:`m` (default 1e-6).
        weight_decay: decoupled weight decay :math:`\lambda \ge 0`:
            :math:`p \leftarrow p(1-\eta\lambda)` before the update (default 0).

    References:
        M. Zaheer, S. Reddi, D. Sachan, S. Kale, S. Kumar, "Adaptive Methods for Nonconvex
        Optimization", NeurIPS 2018.

    Deviations:
        Matches ``pytorch_optimizer.Yogi`` (weight_decay=0), the test oracle, including
        :math:`m_0 = v_0` and :math:`\epsilon` added after dividing by
        :math:`\sqrt{1-\beta_2^t}`. The authors' TF-Addons version starts :math:`m` at 0 and puts
        :math:`\epsilon` outside the bias correction; it differs only in the first steps.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: Scalar = 1e-2,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-3,
        initial_accumulator: float = 1e-6,
        weight_decay: float = 0.0,
    ) -> None:
        lr = check_sweepable("lr", lr, low=0.0)
        betas = check_betas(betas)
        eps = check_number("eps", eps, low=0.0, low_open=True)
        initial_accumulator = check_number("initial_accumulator", initial_accumulator, low=0.0)
        weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            initial_accumulator=initial_accumulator,
            weight_decay=weight_decay,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Perform one optimisation step; ``closure`` re-evaluates the loss if given."""
        loss = evaluate_closure(closure)

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p, grad, state in params_with_grad(self, group):
                lr = on_param(group["lr"], p)
                if not state:
                    check_broadcast("lr", lr, p)
                    state["step"] = 0
                    v0 = group["initial_accumulator"]
                    state["exp_avg"] = torch.full_like(p, v0, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.full_like(
                        p, v0, memory_format=torch.preserve_format
                    )
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                t = state["step"]

                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)
                exp_avg.lerp_(grad, 1 - beta1)
                grad_sq = grad * grad
                exp_avg_sq.addcmul_((exp_avg_sq - grad_sq).sign_(), grad_sq, value=-(1 - beta2))
                denom = exp_avg_sq.sqrt().div_(math.sqrt(1 - beta2**t)).add_(eps)
                step_size = lr / (1 - beta1**t)
                p.sub_(exp_avg.div(denom).mul_(step_size))
        return loss
