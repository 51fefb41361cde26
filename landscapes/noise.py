"""Gradient noise: what a stochastic optimizer really sees on a 2-D landscape.

Adding noise to the loss *value* changes nothing an optimizer does, since it only reads the
gradient. Here noise is applied to the gradient, and the clean loss reported for plotting is never
touched. A trajectory engine holding B independent points `P` (a `(B, 2)` leaf tensor) uses a
model like this, for step t and per-row seeds:

    loss = noise.loss(fn, P, step=t)            # (B,) clean loss at step t, for plotting
    loss.sum().backward()                       # P.grad: the exact gradient of each row's loss
    P.grad = noise.perturb(P.grad, points=P.detach(), fn=fn, step=t, seeds=seeds)

Models (`kind`), with g = ∇f(p) the exact gradient and ξ drawn afresh for every row and step:
  none            g̃ = g.
  gaussian        g̃ = g + σ ξ, ξ ~ N(0, I₂). Unbiased; covariance σ² I.
  student_t       g̃ = g + σ √((ν - 2)/ν) T, with T the isotropic bivariate Student-t with ν > 2
                  degrees of freedom (a N(0, I₂) vector divided by one shared √(χ²_ν / ν)). Each
                  coordinate of T is t_ν; the scaling makes the covariance exactly σ² I, as for
                  `gaussian`, so the two differ only in their tails. Unbiased.
  multiplicative  g̃ = g ⊙ (1 + ρ ξ), ξ ~ N(0, I₂), one factor per coordinate. Unbiased; the
                  standard deviation of each coordinate is ρ |gₖ|, so the noise vanishes at the
                  minima and also turns the gradient's direction.
  minibatch       A finite sum. With N shifts δᵢ ~ N(0, s² I₂) (fixed by `landscape_seed`, shared by
                  all rows, since every row explores the same data), the components are
                      fᵢ(p) = f(p) + f(p + δᵢ) - (1/N) Σⱼ f(p + δⱼ),
                  whose mean is exactly f: the clean loss, the plotted surface and the listed minima
                  stay those of f. Each step samples a minibatch Bₜ of b distinct indices uniformly
                  without replacement and returns the minibatch gradient
                      g̃ = g + (1/b) Σ_{i∈Bₜ} ∇f(p + δᵢ) - (1/N) Σⱼ ∇f(p + δⱼ).
                  Unbiased, and its covariance is the finite-population one,
                  (N - b) / (b (N - 1)) · (1/N) Σⱼ (∇f(p + δⱼ) - mean)(…)ᵀ: state-dependent like
                  real minibatch noise, shaped by the landscape, and zero when b = N.
  drift           Not random: the landscape moves. f_t(p) = f(p - c(t)) with
                  c(t) = r (cos(2πt/T) - 1, sin(2πt/T)), so every minimum travels round a circle
                  of radius r through its static position, once every T steps. The clean loss
                  at step t is f_t, and its exact gradient is left unchanged.

Randomness is counter-based, never the global RNG: each draw is a hash of (row seed, step, stream,
draw index), so row i's noise depends only on its own seed, the step and its own point. A row in a
batch gets exactly the noise it gets when run alone, any step can be replayed on its own, and the
draws are the same on every device. The hash is two 32-bit lanes of splitmix32's finaliser, in
int64 arithmetic that never overflows; uniforms have 32-bit resolution (Gaussian tails are cut
at about 6.7σ). It is statistically sound for simulation, not cryptographic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from torch import Tensor

LandscapeFn = Callable[[Tensor], Tensor]
LandscapeValueAndGrad = Callable[[Tensor], tuple[Tensor, Tensor]]
Seeds = Tensor | Sequence[int]

_MASK32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9  # 2³² / golden ratio: the Weyl increment of splitmix32.
_LANES = (0x243F6A88, 0x85A308D3)  # digits of π: two independent 32-bit lanes.
_MAX_STEP = 2**32 - 1
_NORMAL_STREAM, _BATCH_STREAM, _SHIFT_STREAM = 1, 2, 3


# --- Counter-based random numbers ----------------------------------------------------------------


def _mix32(h: Tensor | int) -> Tensor | int:
    """A bijection of 32-bit values with full avalanche (hash-prospector's [16 21f0aaad 15
    735a2d97 15], the finaliser of splitmix32). Both multipliers are below 2³¹, so every product
    of a 32-bit value fits in int64 and the arithmetic is exact on any device, for tensors and
    Python ints alike."""
    h = (h ^ (h >> 16)) * 0x21F0AAAD & _MASK32
    h = (h ^ (h >> 15)) * 0x735A2D97 & _MASK32
    return h ^ (h >> 15)


def _absorb(state: Tensor | int, word: Tensor | int) -> Tensor | int:
    """Fold one 32-bit word into a hash state."""
    return _mix32(((state ^ word) + _GOLDEN) & _MASK32)


def random_bits(seeds: Tensor, step: int, stream: int, count: int) -> Tensor:
    """`(B, count)` int64 tensor of 32-bit hashes of (seeds[i], step, stream, draw index).

    Two lanes hash (stream, step, seed) independently; draw k of a row is splitmix32's output
    for the state `lane_a + k·golden`, whitened by `lane_b`. Two rows therefore share a stream
    only if 64 bits collide, while any single 32-bit draw coincides no more often than a true
    random 32-bit number would.
    """
    # (stream, step) are the same for every row: hash them once, in Python.
    prefix = [_absorb(_absorb(lane, stream), step) for lane in _LANES]
    state = torch.tensor(prefix, dtype=torch.int64, device=seeds.device)[:, None]
    state = _absorb(_absorb(state, seeds & _MASK32), seeds >> 32)
    index = torch.arange(count, dtype=torch.int64, device=seeds.device)
    weyl = (state[0][:, None] + index * _GOLDEN) & _MASK32
    return _mix32(weyl ^ state[1][:, None])


def random_uniforms(seeds: Tensor, step: int, stream: int, count: int) -> Tensor:
    """`(B, count)` float64 uniforms on (0, 1): (bits + ½) / 2³², never 0 or 1."""
    return (random_bits(seeds, step, stream, count).to(torch.float64) + 0.5) * 2.0**-32


def _polar_pairs(
    seeds: Tensor, step: int, stream: int, pairs: int, radius: Callable[[Tensor], Tensor]
) -> Tensor:
    """`(B, pairs, 2)` float64 isotropic vectors: length `radius(u)` for a uniform u, and a
    uniform direction, each from its own uniform draw."""
    u = random_uniforms(seeds, step, stream, 2 * pairs).view(-1, pairs, 2)
    length, angle = radius(u[..., 0]), 2 * math.pi * u[..., 1]
    return torch.stack((length * torch.cos(angle), length * torch.sin(angle)), dim=-1)


def standard_normal_pairs(seeds: Tensor, step: int, stream: int, pairs: int = 1) -> Tensor:
    """`(B, pairs, 2)` float64 N(0, I₂) vectors by Box-Muller: radius √(-2 ln u)."""
    return _polar_pairs(seeds, step, stream, pairs, lambda u: torch.sqrt(-2 * torch.log(u)))


def student_t_pairs(seeds: Tensor, step: int, stream: int, df: float) -> Tensor:
    """`(B, 1, 2)` float64 isotropic bivariate Student-t vectors with `df` degrees of freedom.

    The radius √(ν (u^(-2/ν) - 1)) with u uniform has P(R² > r) = (1 + r/ν)^(-ν/2), exactly the
    bivariate t's radial law (R²/2 ~ F(2, ν)); with a uniform angle this is Bailey's polar method
    without the rejection step. `expm1` keeps large ν accurate (the limit is Box-Muller's radius).
    """

    def radius(u: Tensor) -> Tensor:
        return torch.sqrt(df * torch.expm1(-(2 / df) * torch.log(u)))

    return _polar_pairs(seeds, step, stream, 1, radius)


# --- Validation ----------------------------------------------------------------------------------


def _check_step(step: int) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= _MAX_STEP:
        raise ValueError(f"step must be an int in [0, {_MAX_STEP}], got {step!r}")
    return step


def _check_rows(grad: Tensor, points: Tensor) -> None:
    if grad.ndim != 2 or grad.shape[1] != 2:
        raise ValueError(f"grad must have shape (B, 2), got {tuple(grad.shape)}")
    if points.shape != grad.shape:
        raise ValueError(
            f"points must have the shape of grad {tuple(grad.shape)}, got {tuple(points.shape)}"
        )


def _seed_tensor(seeds: Seeds, rows: int, device: torch.device) -> Tensor:
    try:
        seeds = torch.as_tensor(seeds, device=device)
    except (TypeError, ValueError, RuntimeError) as error:  # e.g. an int beyond int64
        raise ValueError(f"seeds must be {rows} integers in [0, 2**63): {error}") from error
    if seeds.shape != (rows,) or seeds.dtype not in (torch.int32, torch.int64):
        raise ValueError(
            f"seeds must be {rows} integers (one per row), got {seeds.dtype} {tuple(seeds.shape)}"
        )
    if rows and bool((seeds < 0).any()):
        raise ValueError("seeds must be non-negative")
    return seeds.to(torch.int64)


# --- Noise models ------------------------------------------------------------------------------


class NoiseModel(BaseModel):
    """Base of the noise models: how the loss and the gradient an optimizer sees are produced."""

    # Parameters are numbers, never booleans or strings (strict), and finite: NaN and infinities
    # are refused by name, not reported as out of range (tests/landscapes/test_param_bounds.py).
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    @property
    def extra_evaluations(self) -> int:
        """Gradient evaluations per row and step beyond the clean one (a compute budget counts
        them: the minibatch model evaluates every component, every step)."""
        return 0

    def loss(self, fn: LandscapeFn, points: Tensor, *, step: int) -> Tensor:
        """The clean loss at `step` for plotting and for autograd: f(points), shape (B,)."""
        _check_step(step)
        return fn(points)

    def loss_and_grad(
        self, value_and_grad: LandscapeValueAndGrad, points: Tensor, *, step: int
    ) -> tuple[Tensor, Tensor]:
        """:meth:`loss` and its exact gradient at `points`, from the landscape's analytic value
        and gradient (no autograd)."""
        _check_step(step)
        return value_and_grad(points)

    def perturb(
        self, grad: Tensor, *, points: Tensor, fn: LandscapeFn, step: int, seeds: Seeds
    ) -> Tensor:
        """The gradient the optimizer sees at `step`, from `grad`, the exact `(B, 2)` gradient
        of `loss` at `points`, and one non-negative integer seed per row (int64 `(B,)` or a
        sequence). Returns a new tensor (or `grad` itself when the model adds no noise)."""
        _check_step(step)
        _check_rows(grad, points)
        return self._perturb(
            grad, points, fn, step, _seed_tensor(seeds, grad.shape[0], grad.device)
        )

    def _perturb(
        self, grad: Tensor, points: Tensor, fn: LandscapeFn, step: int, seeds: Tensor
    ) -> Tensor:
        return grad


class NoNoise(NoiseModel):
    """The exact gradient."""

    kind: Literal["none"] = "none"


class GaussianNoise(NoiseModel):
    """g̃ = g + σ ξ with ξ ~ N(0, I₂)."""

    kind: Literal["gaussian"] = "gaussian"
    sigma: float = Field(1.0, ge=0, le=1e3, description="σ: standard deviation per coordinate.")

    def _perturb(
        self, grad: Tensor, points: Tensor, fn: LandscapeFn, step: int, seeds: Tensor
    ) -> Tensor:
        xi = standard_normal_pairs(seeds, step, _NORMAL_STREAM)[:, 0]
        return grad + self.sigma * xi.to(grad.dtype)


class StudentTNoise(NoiseModel):
    """g̃ = g + σ √((ν - 2)/ν) T with T isotropic bivariate t_ν: covariance σ² I, heavy tails."""

    kind: Literal["student_t"] = "student_t"
    sigma: float = Field(1.0, ge=0, le=1e3, description="σ: standard deviation per coordinate.")
    # ν > 2 is all the matched covariance needs, but just above 2 its scale √((ν - 2)/ν) is nearly
    # 0 while the tails nearly lose their variance: almost every draw is tiny and a rare one huge,
    # so a run sees tiny noise with rare jumps, not σ's covariance (ν = 2 + 4e-16 scales σ by
    # 1.5e-8). From 2.1 the scale is at least 0.22: heavy tails around a visible spread.
    df: float = Field(
        3.0, ge=2.1, le=1e6, description="ν: degrees of freedom (≥ 2.1); smaller is heavier."
    )

    def _perturb(
        self, grad: Tensor, points: Tensor, fn: LandscapeFn, step: int, seeds: Tensor
    ) -> Tensor:
        t = student_t_pairs(seeds, step, _NORMAL_STREAM, self.df)[:, 0]
        scale = self.sigma * math.sqrt((self.df - 2) / self.df)
        return grad + scale * t.to(grad.dtype)


class MultiplicativeNoise(NoiseModel):
    """g̃ = g ⊙ (1 + ρ ξ) with ξ ~ N(0, I₂): noise proportional to each gradient coordinate."""

    kind: Literal["multiplicative"] = "multiplicative"
    relative_sigma: float = Field(
        0.5, ge=0, le=10, description="ρ: standard deviation relative to |gradient coordinate|."
    )

    def _perturb(
        self, grad: Tensor, points: Tensor, fn: LandscapeFn, step: int, seeds: Tensor
    ) -> Tensor:
        xi = standard_normal_pairs(seeds, step, _NORMAL_STREAM)[:, 0]
        return grad * (1 + self.relative_sigma * xi.to(grad.dtype))


class MinibatchNoise(NoiseModel):
    """A finite sum of N perturbed copies of f whose mean is exactly f; each step samples b of
    them without replacement (see the module docstring for the components and the covariance)."""

    kind: Literal["minibatch"] = "minibatch"
    n_components: int = Field(32, ge=2, le=1024, description="N: number of components.")
    batch_size: int = Field(4, ge=1, le=1024, description="b: components per step (<= N).")
    shift_scale: float = Field(
        0.25, ge=0, le=10, description="s: standard deviation of the components' shifts."
    )
    landscape_seed: int = Field(
        0, ge=0, le=2**63 - 1, description="Seed of the shifts, shared by all rows."
    )

    @model_validator(mode="after")
    def _batch_fits(self) -> MinibatchNoise:
        if self.batch_size > self.n_components:
            raise ValueError(
                f"batch_size ({self.batch_size}) must not exceed n_components ({self.n_components})"
            )
        return self

    def shifts(self, dtype: torch.dtype = torch.float64, device: Any = None) -> Tensor:
        """The `(N, 2)` shifts δᵢ ~ N(0, s² I₂), reproducible from `landscape_seed`."""
        seed = torch.tensor([self.landscape_seed], dtype=torch.int64, device=device)
        z = standard_normal_pairs(seed, 0, _SHIFT_STREAM, self.n_components)[0]
        return (self.shift_scale * z).to(dtype)

    @property
    def extra_evaluations(self) -> int:
        return self.n_components

    def component_gradients(self, fn: LandscapeFn, points: Tensor) -> Tensor:
        """`(B, N, 2)`: ∇f(p + δᵢ) for every row p of `points` and every shift δᵢ."""
        shifted = points.detach()[:, None, :] + self.shifts(points.dtype, points.device)
        shifted.requires_grad_(True)
        with torch.enable_grad():
            (gradients,) = torch.autograd.grad(fn(shifted).sum(), shifted)
        return gradients

    def _perturb(
        self, grad: Tensor, points: Tensor, fn: LandscapeFn, step: int, seeds: Tensor
    ) -> Tensor:
        # Sorting N random keys per row gives a uniform random permutation; its first b entries
        # are a uniform sample without replacement.
        keys = random_bits(seeds, step, _BATCH_STREAM, self.n_components)
        batch = torch.argsort(keys, dim=1, stable=True)[:, : self.batch_size]
        gradients = self.component_gradients(fn, points)
        picked = torch.gather(gradients, 1, batch[..., None].expand(-1, -1, 2))
        return grad + picked.mean(dim=1) - gradients.mean(dim=1)


class DriftNoise(NoiseModel):
    """A moving landscape: f_t(p) = f(p - c(t)), c(t) = r (cos(2πt/T) - 1, sin(2πt/T))."""

    kind: Literal["drift"] = "drift"
    radius: float = Field(1.0, ge=0, le=100, description="r: radius of the optimum's circle.")
    period: int = Field(200, ge=1, le=10**6, description="T: steps per revolution.")

    def offset(self, step: int) -> tuple[float, float]:
        """c(t): how far every point of the landscape has moved at `step`."""
        angle = 2 * math.pi * (_check_step(step) % self.period) / self.period
        return (self.radius * (math.cos(angle) - 1), self.radius * math.sin(angle))

    def loss(self, fn: LandscapeFn, points: Tensor, *, step: int) -> Tensor:
        """The clean loss of the moved landscape, f_t(points) = f(points - c(t))."""
        return fn(points - points.new_tensor(self.offset(step)))

    def loss_and_grad(
        self, value_and_grad: LandscapeValueAndGrad, points: Tensor, *, step: int
    ) -> tuple[Tensor, Tensor]:
        """f_t and its gradient: a shift moves the gradient with the landscape, unchanged."""
        return value_and_grad(points - points.new_tensor(self.offset(step)))


NoiseSpec = Annotated[
    NoNoise | GaussianNoise | StudentTNoise | MultiplicativeNoise | MinibatchNoise | DriftNoise,
    Field(discriminator="kind"),
]
"""Any noise model, told apart by its `kind`."""

_NOISE_ADAPTER: TypeAdapter[NoiseModel] = TypeAdapter(NoiseSpec)


def parse_noise(spec: NoiseModel | Mapping[str, Any] | None) -> NoiseModel:
    """A noise model from JSON-like data such as `{"kind": "gaussian", "sigma": 0.5}` (None means
    no noise); a pydantic ValidationError (a ValueError) names the offending field."""
    if isinstance(spec, NoiseModel):
        return spec
    return _NOISE_ADAPTER.validate_python(spec if spec is not None else {"kind": "none"})


def noise_json_schema() -> dict[str, Any]:
    """The JSON Schema of `NoiseSpec`, for a web API to publish."""
    return _NOISE_ADAPTER.json_schema()
