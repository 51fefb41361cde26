r"""Anon: momentum with a tunable adaptivity exponent, from SGD (gamma=0) past Adam (gamma=1)."""

from __future__ import annotations

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

__all__ = ["Anon"]

Bound = float | torch.Tensor


class Anon(Optimizer):
    r"""Anon (Zhang et al.): bias-corrected momentum scaled by a preconditioner
    :math:`V = \sigma^{-\gamma/2}`, with the adaptivity exponent :math:`\gamma` as a knob.

    :math:`\gamma = 0` is SGD with bias-corrected momentum (exactly: :math:`V \equiv 1`),
    :math:`\gamma = 1` is Adam-like, :math:`\gamma > 1` extrapolates beyond Adam (faster escape from
    saddles) and :math:`\gamma < 0` beyond SGD (a preference for flat minima). The preconditioner
    is refreshed only at steps :math:`t = 1, 2, 4, 8, \dots` (Incremental Delay Update): each
    refresh folds the mean squared gradient of the steps since the last one into :math:`V` by a
    harmonic-type mean, and :math:`V` is reused unchanged in between. The kinks in a trajectory
    at :math:`t = 2, 4, 8, \dots` are these refreshes.

    Symbols: ``lr`` is :math:`\eta`, ``betas`` are :math:`(\beta_1, \beta_2)`, ``eps`` is
    :math:`\epsilon`, ``gamma`` is :math:`\gamma`, ``weight_decay`` is :math:`\lambda`,
    ``box`` is the feasible set :math:`F = [lo, hi]`; :math:`t` counts the parameter's steps
    from 1 and :math:`k` the refreshes done.

    State per parameter: ``step`` :math:`t`, ``exp_avg`` :math:`m = 0`, ``sq_accum``
    :math:`s = 0`, ``refreshes`` :math:`k = 0`, ``precond`` :math:`V` (set at :math:`t = 1`).

    Update, elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda p \quad \text{(coupled L2, if } \lambda \ne 0\text{)} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        s &\leftarrow \beta_2 s + (1-\beta_2) g_t^2 \\
        \text{if } t = 2^k:&\quad
            \begin{cases}
            \sigma = s/(1-\beta_2) + \epsilon,\;
                V = \sigma^{-\gamma/2} & k = 0 \\
            \sigma = s/(1-\beta_2^{t/2}) + \epsilon,\;
                V = \left(\tfrac{1}{2}(V^{-2} + \sigma^{\gamma})\right)^{-1/2} & k \ge 1
            \end{cases}
            ;\quad s \leftarrow 0;\; k \leftarrow k + 1 \\
        p &\leftarrow \Pi_F\!\left(p - \frac{\eta}{1-\beta_1^t}\, m_t V\right)

    :math:`\Pi_F` is the identity unless ``box`` is given; for a diagonal :math:`V` the projection
    onto a box in the :math:`V^{-1}` metric is a coordinate clamp.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr: learning rate (default 1e-3); a float or a tensor broadcasting against the parameter.
        betas: :math:`(\beta_1, \beta_2)`, each in [0, 1) (default (0.9, 0.999)).
        eps: :math:`\epsilon \ge 0` added to :math:`\sigma` (default 1e-16).
        gamma: adaptivity exponent :math:`\gamma` (default 0.0, the reference code's); a float
            or a tensor broadcasting against the parameter, so one step sweeps many values.
        weight_decay: :math:`\lambda \ge 0` (default 0).
        decoupled_weight_decay: apply :math:`p \leftarrow p(1 - \eta\lambda)` instead of adding
            :math:`\lambda p` to the gradient (default False).
        box: optional ``(lo, hi)`` bounds of the feasible box; each a float or a tensor
            broadcasting against the parameter (e.g. ``torch.tensor([xmin, ymin])``).

    References:
        Zhang et al., "Anon: Extrapolating Adaptivity Beyond SGD and Adam", arXiv:2605.02317.

    Deviations:
        The paper writes the refresh condition as :math:`k + 1 = \log_2 t` and corrects the
        momentum with :math:`\beta_2`; the reference code refreshes at :math:`t = 2^k` (so
        :math:`V` exists from step 1) and corrects the momentum with :math:`\beta_1`. This class
        follows the code. Hazard kept for fidelity: with :math:`\gamma > 0`, a gradient coordinate
        that is exactly 0 at a refresh gives :math:`\sigma = \epsilon` and
        :math:`V = \epsilon^{-\gamma/2}` (1e8 for :math:`\gamma = 1`), and the next non-zero
        gradient jumps; raise ``eps`` to tame it.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: Scalar = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        gamma: Scalar = 0.0,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        box: tuple[Bound, Bound] | None = None,
    ) -> None:
        lr = check_sweepable("lr", lr, low=0.0)
        betas = check_betas(betas)
        eps = check_number("eps", eps, low=0.0)
        gamma = check_sweepable("gamma", gamma)
        weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        if not isinstance(decoupled_weight_decay, bool):
            raise ValueError(
                f"decoupled_weight_decay must be a bool, got {decoupled_weight_decay!r}"
            )
        if box is not None:
            box = self._check_box(box)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            gamma=gamma,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            box=box,
        )
        super().__init__(params, defaults)

    @staticmethod
    def _check_box(box: tuple[Bound, Bound]) -> tuple[Bound, Bound]:
        if not isinstance(box, tuple | list) or len(box) != 2:
            raise ValueError(f"box must be a pair (lo, hi), got {box!r}")
        lo = check_sweepable("box[0]", box[0])
        hi = check_sweepable("box[1]", box[1])
        if not bool(torch.all(torch.as_tensor(lo) <= torch.as_tensor(hi))):
            raise ValueError("box must satisfy lo <= hi in every coordinate")
        return lo, hi

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Perform one optimisation step; ``closure`` re-evaluates the loss if given."""
        loss = evaluate_closure(closure)

        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p, grad, state in params_with_grad(self, group):
                lr = on_param(group["lr"], p)
                # A tensor exponent even for a float gamma: torch.pow special-cases some float
                # exponents (-0.5 is rsqrt), which would make a gamma sweep differ in the last bit
                # from separate runs.
                gamma = torch.as_tensor(on_param(group["gamma"], p), dtype=p.dtype, device=p.device)
                if not state:
                    check_broadcast("lr", lr, p)
                    check_broadcast("gamma", gamma, p)
                    state["step"] = 0
                    state["refreshes"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["sq_accum"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                exp_avg, sq_accum = state["exp_avg"], state["sq_accum"]
                state["step"] += 1
                t, k = state["step"], state["refreshes"]

                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        p.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(p, alpha=weight_decay)
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                sq_accum.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                if t == 2**k:
                    if k == 0:
                        sigma = sq_accum.div(1 - beta2).add_(eps)
                        state["precond"] = sigma.pow(gamma.neg().div(2))
                    else:
                        sigma = sq_accum.div(1 - beta2 ** (t // 2)).add_(eps)
                        mean = state["precond"].pow(-2).add_(sigma.pow(gamma)).div_(2)
                        state["precond"] = mean.pow(-0.5)
                    sq_accum.zero_()
                    state["refreshes"] = k + 1
                step_size = lr / (1 - beta1**t)
                p.sub_(exp_avg.mul(state["precond"]).mul_(step_size))
                if group["box"] is not None:
                    lo, hi = (
                        torch.as_tensor(on_param(b, p), device=p.device) for b in group["box"]
                    )
                    torch.clamp(p, lo, hi, out=p)
        return loss
