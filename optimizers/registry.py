"""The one list of optimizers Optiscope offers, with everything the API and the page need.

Each :class:`OptimizerEntry` carries its class, a pydantic model of its hyperparameters (the single
source of truth for defaults, bounds, log-scale hints and descriptions: the API validates with it,
the page renders its controls from its JSON Schema, and it builds the constructor's keyword
arguments), its update rule in LaTeX, a one-line summary, the paper, and capability flags. Callers
read flags from the entry, never from lists of names.

    >>> entry = get_optimizer("anon")
    >>> opt = entry.build([points], {"lr": 0.01}, gamma=torch.tensor([[0.0], [1.0]]))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pytorch_optimizer
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizers.andi import ANDI
from optimizers.ano import Ano
from optimizers.anolog import Anolog
from optimizers.anon import Anon
from optimizers.yogi import Yogi

__all__ = [
    "HParams",
    "OptimizerEntry",
    "UnknownOptimizerError",
    "get_optimizer",
    "list_optimizers",
]

Source = Literal["optiscope", "torch.optim", "pytorch-optimizer"]


class UnknownOptimizerError(KeyError):
    """Raised for an optimizer id that is not in the registry."""

    def __init__(self, optimizer_id: str) -> None:
        self.optimizer_id = optimizer_id
        known = ", ".join(sorted(_REGISTRY))
        super().__init__(f"unknown optimizer {optimizer_id!r}; known: {known}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


class HParams(BaseModel):
    """Base of every hyperparameter model: strict, finite, and mappable to constructor kwargs.

    Subclasses declare one field per exposed constructor argument, with the constructor's
    default. Pairs like ``betas`` are shown as two fields (``beta1``, ``beta2``) and joined by
    :meth:`to_kwargs` as listed in ``_pairs``.
    """

    # Numbers are numbers (strict: no true for 1.0, no "0.1"), finite and bounded on both sides
    # (tests/optimizers/test_hparam_bounds.py builds and steps every optimizer at the extremes).
    # Flags (_flag) stay lax: 0 and 1 are accepted for them, as the CLI's --hparam sends floats.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)
    _pairs: ClassVar[dict[str, tuple[str, str]]] = {}

    def to_kwargs(self) -> dict[str, Any]:
        """The constructor's keyword arguments for these values."""
        kwargs = self.model_dump()
        for joined, (first, second) in self._pairs.items():
            kwargs[joined] = (kwargs.pop(first), kwargs.pop(second))
        return kwargs


# Field builders keep bounds and wording identical across optimizers.
def _lr(default: float) -> Any:
    return Field(
        default,
        gt=0.0,
        le=100.0,
        description="Learning rate: the step size.",
        json_schema_extra={"log_scale": True},
    )


def _beta(default: float, what: str) -> Any:
    return Field(default, ge=0.0, lt=1.0, description=f"Decay rate of {what}.")


def _eps(
    default: float, where: str = "added to the denominator for stability", minimum: float = 0.0
) -> Any:
    return Field(
        default,
        ge=minimum,
        le=1.0,
        description=f"Epsilon, {where}.",
        json_schema_extra={"log_scale": True},
    )


def _flag(default: bool, description: str) -> Any:
    return Field(default, strict=False, description=description)


def _weight_decay(default: float = 0.0, kind: str = "decoupled") -> Any:
    return Field(default, ge=0.0, le=10.0, description=f"Weight decay ({kind}).")


class _Betas(HParams):
    _pairs: ClassVar[dict[str, tuple[str, str]]] = {"betas": ("beta1", "beta2")}


# ---------------------------------------------------------------------------- ours
class AnoHParams(_Betas):
    lr: float = _lr(1e-4)
    beta1: float = _beta(0.92, "the momentum (only its sign is used)")
    beta2: float = _beta(0.99, "the signed second moment")
    eps: float = _eps(1e-8, "added inside the square root")
    weight_decay: float = _weight_decay()


class AnologHParams(HParams):
    lr: float = _lr(1e-4)
    beta2: float = _beta(0.99, "the signed second moment")
    eps: float = _eps(1e-8, "added inside the square root")
    weight_decay: float = _weight_decay()


class AnonHParams(_Betas):
    lr: float = _lr(1e-3)
    beta1: float = _beta(0.9, "the momentum")
    beta2: float = _beta(0.999, "the squared-gradient accumulator")
    eps: float = _eps(1e-16, "added to sigma before the power")
    gamma: float = Field(
        0.0,
        ge=-4.0,
        le=4.0,
        description=(
            "Adaptivity exponent: 0 is SGD with momentum, 1 is Adam-like, >1 beyond Adam, "
            "<0 beyond SGD."
        ),
    )
    weight_decay: float = _weight_decay(kind="coupled L2 unless decoupled")
    decoupled_weight_decay: bool = _flag(False, "Decouple the weight decay.")


class ANDIHParams(HParams):
    lr: float = _lr(0.02)
    momentum: float = Field(0.9, ge=0.0, lt=1.0, description="Nesterov momentum coefficient.")
    nesterov: bool = _flag(True, "Use the Nesterov form of momentum.")
    weight_decay: float = _weight_decay()


class YogiHParams(_Betas):
    lr: float = _lr(1e-2)
    beta1: float = _beta(0.9, "the momentum")
    beta2: float = _beta(0.999, "the additive second moment")
    # The constructor refuses eps = 0 (it divides by sqrt(v) + eps with v possibly 0); a tiny
    # positive eps would pass it and still be 0 in a float32 run. 1e-16 is a normal float32.
    eps: float = _eps(1e-3, minimum=1e-16)
    initial_accumulator: float = Field(
        1e-6, ge=0.0, le=1.0, description="Initial value of both moments."
    )
    weight_decay: float = _weight_decay()


# ---------------------------------------------------------------------------- torch.optim
class SGDHParams(HParams):
    lr: float = _lr(1e-3)
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="Momentum coefficient.")
    dampening: float = Field(0.0, ge=0.0, lt=1.0, description="Dampening of the momentum.")
    nesterov: bool = _flag(False, "Nesterov momentum (needs momentum > 0).")
    weight_decay: float = _weight_decay(kind="coupled L2")

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> SGDHParams:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0")
        return self


class AdamHParams(_Betas):
    lr: float = _lr(1e-3)
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the second moment")
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay(kind="coupled L2")
    amsgrad: bool = _flag(False, "Use the running maximum of the second moment.")


class AdamWHParams(AdamHParams):
    weight_decay: float = _weight_decay(1e-2)


class RMSpropHParams(HParams):
    lr: float = _lr(1e-2)
    alpha: float = Field(0.99, ge=0.0, lt=1.0, description="Decay rate of the squared gradient.")
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay(kind="coupled L2")
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="Momentum coefficient.")
    centered: bool = _flag(False, "Normalise by the estimated variance.")


class AdagradHParams(HParams):
    lr: float = _lr(1e-2)
    lr_decay: float = Field(0.0, ge=0.0, le=1.0, description="Learning-rate decay per step.")
    weight_decay: float = _weight_decay(kind="coupled L2")
    initial_accumulator_value: float = Field(
        0.0, ge=0.0, le=10.0, description="Initial value of the squared-gradient sum."
    )
    eps: float = _eps(1e-10)


class RAdamHParams(_Betas):
    lr: float = _lr(1e-3)
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the second moment")
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay(kind="coupled L2 unless decoupled")
    decoupled_weight_decay: bool = _flag(False, "Decouple the weight decay.")


class NAdamHParams(_Betas):
    lr: float = _lr(2e-3)
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the second moment")
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay(kind="coupled L2 unless decoupled")
    momentum_decay: float = Field(4e-3, ge=0.0, le=1.0, description="Momentum decay (psi).")
    decoupled_weight_decay: bool = _flag(False, "Decouple the weight decay.")


# ---------------------------------------------------------------------------- pytorch-optimizer
class AdaBeliefHParams(_Betas):
    lr: float = _lr(1e-3)
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the belief (variance of the gradient around its mean)")
    eps: float = _eps(1e-16)
    weight_decay: float = _weight_decay()
    rectify: bool = _flag(False, "RAdam-style rectification.")


class AdaBoundHParams(_Betas):
    lr: float = _lr(1e-3)
    final_lr: float = Field(
        0.1,
        gt=0.0,
        le=100.0,
        description="SGD learning rate the bounds converge to.",
        json_schema_extra={"log_scale": True},
    )
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the second moment")
    # The upper bound is final_lr (1 + 1/(gamma t)): with final_lr = 100 it overflows float32
    # below gamma ~ 3e-37 and the step raises (gamma = 1e-300 in float32: "value cannot be
    # converted to type float without overflow"). From 1e-8 it stays below 1e11, and the bounds
    # take ~1/gamma = 1e8 steps to close, longer than any run: smaller values change nothing.
    gamma: float = Field(
        1e-3,
        ge=1e-8,
        le=1.0,
        description="Convergence speed of the bounds.",
        json_schema_extra={"log_scale": True},
    )
    eps: float = _eps(1e-8)
    weight_decay: float = _weight_decay()


class AdaHessianHParams(_Betas):
    lr: float = _lr(1e-1)
    beta1: float = _beta(0.9, "the first moment")
    beta2: float = _beta(0.999, "the squared Hessian diagonal")
    eps: float = _eps(1e-16)
    weight_decay: float = _weight_decay()
    hessian_power: float = Field(
        1.0, gt=0.0, le=1.0, description="Exponent k of the Hessian diagonal RMS."
    )


class LionHParams(_Betas):
    lr: float = _lr(1e-4)
    beta1: float = _beta(0.9, "the interpolation that sets the update's sign")
    beta2: float = _beta(0.99, "the momentum")
    weight_decay: float = _weight_decay()


# ---------------------------------------------------------------------------- entries
@dataclass(frozen=True)
class OptimizerEntry:
    """One optimizer as Optiscope offers it.

    Attributes:
        id: lower-case registry id (``"anon"``), used in URLs and the API.
        label: display name.
        cls: the ``torch.optim.Optimizer`` subclass.
        hparams: pydantic model of the exposed hyperparameters.
        update_latex: the update rule in LaTeX (KaTeX/MathJax compatible).
        summary: one line for a tooltip.
        paper: link to the paper.
        source: where the implementation comes from.
        elementwise: each coordinate's update depends only on its own gradient history, so a
            ``(B, 2)`` batch equals ``B`` separate runs to the bit.
        tensor_hparams: hyperparameters that also accept a tensor broadcasting against the
            parameter (one ``step()`` for a whole sweep).
        independent_rows_kwargs: keyword arguments that make the rows of a ``(B, ...)``
            parameter independent problems, for optimizers that are not elementwise.
        needs_create_graph: ``loss.backward(create_graph=True)`` before ``step()``.
        random_step: ``step()`` draws random numbers from torch's global generator.
        accepts_hessian_diagonal: ``step(hessian=[...])`` takes Hessian-diagonal estimates
            computed by the caller instead (the engine does, with per-row seeds).
        adaptivity_exponent: the hyperparameter that moves the optimizer between SGD-like (0)
            and Adam-like (1) steps, if it has one (Anon's ``gamma``); the page's gamma slider
            drives a sweep of it. Not every ``gamma`` is one (AdaBound's is a bound's speed).
        preconditioner_refreshes: when the preconditioner is recomputed, for the page to mark:
            ``"powers_of_two"`` after steps 1, 2, 4, 8, ...; None when it changes every step.
    """

    id: str
    label: str
    cls: type[torch.optim.Optimizer]
    hparams: type[HParams]
    update_latex: str
    summary: str
    paper: str
    source: Source
    elementwise: bool = True
    tensor_hparams: frozenset[str] = frozenset()
    independent_rows_kwargs: Mapping[str, Any] = field(default_factory=dict)
    needs_create_graph: bool = False
    random_step: bool = False
    accepts_hessian_diagonal: bool = False
    adaptivity_exponent: str | None = None
    preconditioner_refreshes: Literal["powers_of_two"] | None = None

    def __post_init__(self) -> None:
        if (
            self.adaptivity_exponent is not None
            and self.adaptivity_exponent not in self.hparams.model_fields
        ):
            raise ValueError(
                f"adaptivity_exponent {self.adaptivity_exponent!r} is not a hyperparameter of "
                f"{self.id}"
            )

    def parse_hparams(self, values: HParams | Mapping[str, Any] | None = None) -> HParams:
        """Validate user values (missing ones take the defaults).

        Raises:
            pydantic.ValidationError: naming the offending field.
        """
        if isinstance(values, self.hparams):
            return values
        return self.hparams.model_validate(dict(values or {}))

    def build(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        values: HParams | Mapping[str, Any] | None = None,
        *,
        independent_rows: bool = False,
        **tensor_values: torch.Tensor,
    ) -> torch.optim.Optimizer:
        """Construct the optimizer.

        Args:
            params: parameters or param groups.
            values: hyperparameters (a model instance or a mapping validated by it).
            independent_rows: the leading dimension of each parameter indexes independent
                problems (a batch of trajectories); adds ``independent_rows_kwargs``.
            **tensor_values: per-row tensors for hyperparameters in ``tensor_hparams``; they
                replace the scalar values.

        Raises:
            ValueError: a tensor given for a hyperparameter that does not accept one.
        """
        kwargs = self.parse_hparams(values).to_kwargs()
        for name, tensor in tensor_values.items():
            if name not in self.tensor_hparams:
                accepted = ", ".join(sorted(self.tensor_hparams)) or "none"
                raise ValueError(
                    f"{name} cannot be a tensor for {self.id} (tensor hyperparameters: {accepted})"
                )
            kwargs[name] = tensor
        if independent_rows:
            kwargs.update(self.independent_rows_kwargs)
        return self.cls(params, **kwargs)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: the API serves this, the page renders from it."""
        return {
            "id": self.id,
            "label": self.label,
            "summary": self.summary,
            "update_latex": self.update_latex,
            "paper": self.paper,
            "source": self.source,
            "class": f"{self.cls.__module__}.{self.cls.__qualname__}",
            "hparams_schema": self.hparams.model_json_schema(),
            "defaults": self.hparams().model_dump(),
            "capabilities": {
                "elementwise": self.elementwise,
                "tensor_hparams": sorted(self.tensor_hparams),
                "needs_create_graph": self.needs_create_graph,
                "random_step": self.random_step,
                "accepts_hessian_diagonal": self.accepts_hessian_diagonal,
                "adaptivity_exponent": self.adaptivity_exponent,
                "preconditioner_refreshes": self.preconditioner_refreshes,
            },
        }


_ADAM_MOMENTS = (
    r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad "
    r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad "
)

_ENTRIES: tuple[OptimizerEntry, ...] = (
    OptimizerEntry(
        id="ano",
        label="Ano",
        cls=Ano,
        hparams=AnoHParams,
        update_latex=(
            r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad "
            r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\,\mathrm{sign}(g_t^2 - v_{t-1})\,g_t^2,\quad "
            r"p \leftarrow p - \eta\,\frac{|g_t|}{\sqrt{v_t/(1-\beta_2^t) + \epsilon}}"
            r"\,\mathrm{sign}(m_t)"
        ),
        summary="Direction from the sign of momentum, magnitude from the current gradient.",
        paper="https://arxiv.org/abs/2508.18258",
        source="optiscope",
        tensor_hparams=frozenset({"lr"}),
    ),
    OptimizerEntry(
        id="anolog",
        label="Anolog",
        cls=Anolog,
        hparams=AnologHParams,
        update_latex=(
            r"\beta_{1,t} = 1 - \frac{1}{\ln\max(2,t)},\quad "
            r"m_t = \beta_{1,t} m_{t-1} + (1-\beta_{1,t}) g_t,\quad "
            r"p \leftarrow p - \eta\,\frac{|g_t|}{\sqrt{\hat v_t + \epsilon}}\,\mathrm{sign}(m_t)"
        ),
        summary="Ano with a momentum window that widens like ln t: no beta1 to tune.",
        paper="https://arxiv.org/abs/2508.18258",
        source="optiscope",
        tensor_hparams=frozenset({"lr"}),
    ),
    OptimizerEntry(
        id="anon",
        label="Anon",
        cls=Anon,
        hparams=AnonHParams,
        update_latex=(
            r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad "
            r"V = \sigma^{-\gamma/2}\ \text{refreshed at } t = 1, 2, 4, 8, \dots,\quad "
            r"p \leftarrow p - \frac{\eta}{1-\beta_1^t}\, m_t V"
        ),
        summary="Adaptivity exponent gamma: 0 is SGD with momentum, 1 is Adam-like, beyond both.",
        paper="https://arxiv.org/abs/2605.02317",
        source="optiscope",
        tensor_hparams=frozenset({"lr", "gamma"}),
        adaptivity_exponent="gamma",
        preconditioner_refreshes="powers_of_two",
    ),
    OptimizerEntry(
        id="andi",
        label="ANDI",
        cls=ANDI,
        hparams=ANDIHParams,
        update_latex=(
            r"H = g\,\frac{\sqrt{\lVert g\rVert^2 + 1}}{\lVert g\rVert + 10^{-8}}\ "
            r"\text{(row/column-equilibrated for matrices} > 16{\times}16),\quad "
            r"b \leftarrow \mu b + H,\quad p \leftarrow p - \eta (H + \mu b)"
        ),
        summary="Norm-equilibrated gradient with Nesterov momentum; normalised steps on a point.",
        paper="https://doi.org/10.5281/zenodo.17923146",
        source="optiscope",
        elementwise=False,
        tensor_hparams=frozenset({"lr"}),
        independent_rows_kwargs={"independent_rows": True},
    ),
    OptimizerEntry(
        id="yogi",
        label="Yogi",
        cls=Yogi,
        hparams=YogiHParams,
        update_latex=(
            r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad "
            r"v_t = v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\,g_t^2,\quad "
            r"p \leftarrow p - \frac{\eta}{1-\beta_1^t}\,"
            r"\frac{m_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}"
        ),
        summary="Adam whose second moment moves additively, so the step size changes gently.",
        paper="https://papers.nips.cc/paper/8186-adaptive-methods-for-nonconvex-optimization",
        source="optiscope",
        tensor_hparams=frozenset({"lr"}),
    ),
    OptimizerEntry(
        id="sgd",
        label="SGD",
        cls=torch.optim.SGD,
        hparams=SGDHParams,
        update_latex=(
            r"b_t = \mu b_{t-1} + (1-\tau) g_t,\quad "
            r"p \leftarrow p - \eta\,(g_t + \mu b_t \text{ if Nesterov else } b_t)"
        ),
        summary="Gradient descent, with optional heavy-ball or Nesterov momentum.",
        paper="https://proceedings.mlr.press/v28/sutskever13.html",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="adam",
        label="Adam",
        cls=torch.optim.Adam,
        hparams=AdamHParams,
        update_latex=_ADAM_MOMENTS
        + r"p \leftarrow p - \eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}",
        summary="Momentum divided by a running RMS of the gradient, both bias-corrected.",
        paper="https://arxiv.org/abs/1412.6980",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="adamw",
        label="AdamW",
        cls=torch.optim.AdamW,
        hparams=AdamWHParams,
        update_latex=_ADAM_MOMENTS
        + r"p \leftarrow p(1-\eta\lambda) - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
        summary="Adam with decoupled weight decay.",
        paper="https://arxiv.org/abs/1711.05101",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="rmsprop",
        label="RMSprop",
        cls=torch.optim.RMSprop,
        hparams=RMSpropHParams,
        update_latex=(
            r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad "
            r"p \leftarrow p - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon}"
        ),
        summary="Gradient divided by a running RMS of recent gradients.",
        paper="https://www.cs.toronto.edu/~tijmen/csc321/slides/lecture_slides_lec6.pdf",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="adagrad",
        label="Adagrad",
        cls=torch.optim.Adagrad,
        hparams=AdagradHParams,
        update_latex=(
            r"s_t = s_{t-1} + g_t^2,\quad p \leftarrow p - \eta\,\frac{g_t}{\sqrt{s_t} + \epsilon}"
        ),
        summary="Per-coordinate step sizes that shrink with the sum of squared gradients.",
        paper="https://jmlr.org/papers/v12/duchi11a.html",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="radam",
        label="RAdam",
        cls=torch.optim.RAdam,
        hparams=RAdamHParams,
        update_latex=_ADAM_MOMENTS
        + r"p \leftarrow p - \eta\,\hat m_t\,(r_t / \sqrt{\hat v_t} \text{ if } \rho_t > 5"
        r" \text{ else } 1)",
        summary="Adam with the variance of the adaptive step rectified in the first steps.",
        paper="https://arxiv.org/abs/1908.03265",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="nadam",
        label="NAdam",
        cls=torch.optim.NAdam,
        hparams=NAdamHParams,
        update_latex=_ADAM_MOMENTS
        + r"p \leftarrow p - \eta\,\frac{\mu_{t+1}\hat m_t + (1-\mu_t) g_t/(1-\prod\mu)}"
        r"{\sqrt{\hat v_t} + \epsilon}",
        summary="Adam with Nesterov momentum.",
        paper="https://openreview.net/forum?id=OM0jvwB8jIp57ZJjtNEZ",
        source="torch.optim",
    ),
    OptimizerEntry(
        id="adabelief",
        label="AdaBelief",
        cls=pytorch_optimizer.AdaBelief,
        hparams=AdaBeliefHParams,
        update_latex=(
            r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad "
            r"s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon,\quad "
            r"p \leftarrow p - \eta\,\frac{\hat m_t}{\sqrt{\hat s_t} + \epsilon}"
        ),
        summary="Adam that scales by its belief in the gradient: the variance around the momentum.",
        paper="https://arxiv.org/abs/2010.07468",
        source="pytorch-optimizer",
    ),
    OptimizerEntry(
        id="adabound",
        label="AdaBound",
        cls=pytorch_optimizer.AdaBound,
        hparams=AdaBoundHParams,
        update_latex=_ADAM_MOMENTS
        + r"p \leftarrow p - \mathrm{clip}\!\left(\frac{\eta}{\sqrt{\hat v_t}+\epsilon},"
        r" \eta_l(t), \eta_u(t)\right) \hat m_t",
        summary="Adam whose step sizes are clipped into bounds that close in on SGD.",
        paper="https://arxiv.org/abs/1902.09843",
        source="pytorch-optimizer",
    ),
    OptimizerEntry(
        id="adahessian",
        label="AdaHessian",
        cls=pytorch_optimizer.AdaHessian,
        hparams=AdaHessianHParams,
        update_latex=(
            r"D_t = z \odot (H z),\ z \sim \mathrm{Rademacher},\quad "
            r"v_t = \beta_2 v_{t-1} + (1-\beta_2) D_t^2,\quad "
            r"p \leftarrow p - \eta\,\frac{\hat m_t}{\hat v_t^{k/2} + \epsilon}"
        ),
        summary="Adam with the second moment of a Hutchinson estimate of the Hessian diagonal.",
        paper="https://arxiv.org/abs/2006.00719",
        source="pytorch-optimizer",
        # Hutchinson's z (H z) mixes the coordinates of a point; points stay independent.
        elementwise=False,
        needs_create_graph=True,
        random_step=True,
        accepts_hessian_diagonal=True,
    ),
    OptimizerEntry(
        id="lion",
        label="Lion",
        cls=pytorch_optimizer.Lion,
        hparams=LionHParams,
        update_latex=(
            r"u = \mathrm{sign}(\beta_1 m_{t-1} + (1-\beta_1) g_t),\quad "
            r"p \leftarrow p - \eta u,\quad m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t"
        ),
        summary="Sign of an interpolated momentum: every coordinate moves by exactly lr.",
        paper="https://arxiv.org/abs/2302.06675",
        source="pytorch-optimizer",
    ),
)

_REGISTRY: dict[str, OptimizerEntry] = {entry.id: entry for entry in _ENTRIES}


def get_optimizer(optimizer_id: str) -> OptimizerEntry:
    """The entry for ``optimizer_id``.

    Raises:
        UnknownOptimizerError: the id is not registered.
    """
    try:
        return _REGISTRY[optimizer_id]
    except KeyError:
        raise UnknownOptimizerError(optimizer_id) from None


def list_optimizers() -> tuple[OptimizerEntry, ...]:
    """All entries, ours first, then torch.optim's, then pytorch-optimizer's."""
    return _ENTRIES
