r"""Anolog: Ano with a logarithmic momentum schedule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from optimizers._validation import Scalar, check_number
from optimizers.ano import Ano

__all__ = ["Anolog"]


class Anolog(Ano):
    r"""Anolog (Kegreisz, 2025): Ano whose momentum coefficient grows with the step count.

    Early steps follow the gradient almost directly; later steps average over a window that
    widens like :math:`\ln t`, so no :math:`\beta_1` needs tuning.

    Symbols and state as :class:`optimizers.Ano`. The only change is

    .. math::

        \beta_{1,t} = 1 - \frac{1}{\ln(\max(2, t))}

    (natural logarithm), used in :math:`m_t = \beta_{1,t} m_{t-1} + (1 - \beta_{1,t}) g_t`.
    It is negative (:math:`\approx -0.443`) at :math:`t = 1, 2`, so the first momenta are
    :math:`\approx 1.44\,g`; their sign, all that Ano uses, is the gradient's.
    :math:`\beta_2` and the bias correction of :math:`v` are Ano's.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr: learning rate (default 1e-4); a float or a tensor broadcasting against the parameter.
        beta2: decay of the second moment, in [0, 1) (default 0.99).
        weight_decay: decoupled weight decay, >= 0 (default 0).
        eps: added inside the square root, >= 0 (default 1e-8).

    References:
        A. Kegreisz, "Ano: Faster is Better in Noisy Landscapes", 2025. arXiv:2508.18258.
        Official code: ``ano_optimizer.Ano(..., logarithmic_schedule=True)``.

    Deviations:
        Same semantics as the official ``logarithmic_schedule=True``; ``Anolog(p, ...)`` and
        ``Ano(p, ..., logarithmic_schedule=True)`` give identical trajectories. ``betas[0]`` is
        kept in the param group only for ``Ano``'s layout (it is unused).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: Scalar = 1e-4,
        beta2: float = 0.99,
        weight_decay: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        beta2 = check_number("beta2", beta2, low=0.0, high=1.0, high_open=True)
        super().__init__(
            params,
            lr=lr,
            betas=(0.92, beta2),
            weight_decay=weight_decay,
            eps=eps,
            logarithmic_schedule=True,
        )
