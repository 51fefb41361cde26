"""The registry: the one place that lists Optiscope's landscapes.

Every function takes `xy` of shape `(..., 2)` (`x = xy[..., 0]`, `y = xy[..., 1]`) and its
parameter model, and returns the values, shape `(...)`, with only torch operations on `xy` and
Python-float constants, so the dtype and device of `xy` carry through and autograd works.
Listed critical points are exact or accurate to float64 (computed to 40 digits with mpmath, or by
Newton's method on a 1-D factor where they move with the parameters).

Each function has a `<name>_value_and_grad(xy, params) -> (values, gradient (..., 2))` beside it,
with the same rules for dtype and device, for callers that want first derivatives without
autograd's graph. The values come from the function's own arithmetic: the same tensor ops, in
the same order, on tensors of the same shapes, so they are bitwise the function's (a CPU
kernel's vectorised body and its scalar tail may round a transcendental differently, so even
cos of a stacked `(..., 2)` tensor would not do). The gradient reuses the value's intermediates
and is autograd's up to rounding, with autograd's choices where the function has a kink (Ackley's
tip, the plateau-cliff's clip), and, wherever the value is finite, autograd's kind of non-finite
entry (NaN or ±inf). tests/landscapes/test_landscape_gradients.py holds every entry to this.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import torch
from pydantic import Field
from torch import Tensor

from landscapes.landscape import CriticalPoint, Landscape, NoParams, Params


class UnknownLandscapeError(KeyError):
    """Raised by `get_landscape` for an id that is not in the registry."""

    def __str__(self) -> str:
        # KeyError's own __str__ quotes its message like a dict key; this one is a sentence.
        return str(self.args[0])


def _newton_root(
    fprime: Callable[[float], float], fsecond: Callable[[float], float], x: float
) -> float:
    """A root of `fprime` near `x` by Newton's method: a 1-D critical point, to float precision."""
    for _ in range(40):
        x -= fprime(x) / fsecond(x)
    return x


def _parameter(default: float, description: str, **bounds: float) -> Any:
    """A numeric parameter: bounded on both sides (``bounds``: ge/gt and le/lt), a number and
    not a boolean or a string (strict), and finite, so NaN and infinities are refused by name
    (without allow_inf_nan=False a NaN is reported as "less than or equal to ...").
    tests/landscapes/test_param_bounds.py checks every admitted extreme."""
    return Field(default, strict=True, allow_inf_nan=False, description=description, **bounds)


def _pair(dx: Tensor, dy: Tensor) -> Tensor:
    """The gradient ``(..., 2)`` from its two components: each copied into its column of a new
    tensor, which on the CPU takes half the time of ``torch.stack(..., dim=-1)`` (65,536 rows:
    about 90 µs against 190 µs), every step of every run."""
    gradient = dx.new_empty((*dx.shape, 2))
    gradient[..., 0] = dx
    gradient[..., 1] = dy
    return gradient


# --- Rosenbrock -------------------------------------------------------------------------------


class RosenbrockParams(Params):
    """Rosenbrock's a and b."""

    a: float = _parameter(1.0, "Position of the minimum (a, a²).", ge=-1.5, le=1.5)
    b: float = _parameter(100.0, "Steepness of the curved valley's walls.", gt=0, le=1000)


def rosenbrock(xy: Tensor, p: RosenbrockParams) -> Tensor:
    """f(x, y) = (a - x)² + b (y - x²)²; minimum 0 at (a, a²)."""
    x, y = xy[..., 0], xy[..., 1]
    return (p.a - x) ** 2 + p.b * (y - x**2) ** 2


def rosenbrock_value_and_grad(xy: Tensor, p: RosenbrockParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = (-2(a - x) - 4b x r, 2b r) with r = y - x².

    Bitwise autograd's outside the subnormal range: its ∂x is -(2(a - x)) - (2b r)(2x), which
    differs from -2((a - x) + (2b r) x) only by factors of 2, exact for normal numbers.
    """
    x, y = xy[..., 0], xy[..., 1]
    run = p.a - x
    rise = y - x**2
    value = run**2 + p.b * rise**2
    dy = (2 * p.b) * rise
    dx = -2 * (run + dy * x)
    return value, _pair(dx, dy)


# --- Rastrigin --------------------------------------------------------------------------------


class RastriginParams(Params):
    """Rastrigin's amplitude A."""

    A: float = _parameter(10.0, "Amplitude of the cosine ripples.", ge=1, le=50)


def rastrigin(xy: Tensor, p: RastriginParams) -> Tensor:
    """f(x, y) = 2A + x² - A cos(2πx) + y² - A cos(2πy); minimum 0 at the origin."""
    x, y = xy[..., 0], xy[..., 1]
    tau = 2 * math.pi
    return 2 * p.A + x**2 - p.A * torch.cos(tau * x) + y**2 - p.A * torch.cos(tau * y)


def rastrigin_value_and_grad(xy: Tensor, p: RastriginParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = 2 (x, y) + 2πA (sin 2πx, sin 2πy).

    Autograd multiplies A sin(2πt) by 2π; here sin(2πt) is multiplied by the constant 2πA, one
    rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    tau = 2 * math.pi
    # cos of the contiguous tau * x, as `rastrigin` takes it: bitwise the same values.
    value = 2 * p.A + x**2 - p.A * torch.cos(tau * x) + y**2 - p.A * torch.cos(tau * y)
    gradient = torch.add(2 * xy, torch.sin(tau * xy), alpha=tau * p.A)
    return value, gradient


def _rastrigin_points(p: RastriginParams) -> list[CriticalPoint]:
    # f is g(x) + g(y) with g(t) = t² - A cos(2πt) + A, so its critical points are pairs of
    # g's: the first ripple's minimum near t = 1 and the crest before it near t = 1/2.
    tau = 2 * math.pi

    def g(t: float) -> float:
        return t**2 - p.A * math.cos(tau * t) + p.A

    def g1(t: float) -> float:
        return 2 * t + tau * p.A * math.sin(tau * t)

    def g2(t: float) -> float:
        return 2 + tau**2 * p.A * math.cos(tau * t)

    ripple, crest = _newton_root(g1, g2, 1.0), _newton_root(g1, g2, 0.5)
    return [
        CriticalPoint((0.0, 0.0), 0.0),
        CriticalPoint((ripple, 0.0), g(ripple), "local_min"),
        CriticalPoint((crest, 0.0), g(crest), "saddle"),
    ]


# --- Beale, Himmelblau, Ackley, Booth, Goldstein-Price, six-hump camel, Styblinski-Tang ---------


def beale(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = (1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²; minimum 0 at (3, 0.5)."""
    x, y = xy[..., 0], xy[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def beale_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f = t₁² + t₂² + t₃² with tₖ = cₖ - x + x yᵏ, and
    ∇f = (Σₖ 2tₖ (yᵏ - 1), 2t₁ x + (2t₂ x) 2y + (2t₃ x) 3y²).

    Autograd sums 2tₖ yᵏ and -2tₖ separately, where this takes 2tₖ (yᵏ - 1): rounding apart.
    ∂y is autograd's association: x goes into each 2tₖ before the powers of y, so a tiny x
    cannot come too late to stop a product from overflowing (an infinite ∂y where f is finite),
    and 2tₖ is formed first because doubling is not exact for a subnormal product.
    """
    x, y = xy[..., 0], xy[..., 1]
    y2, y3 = y**2, y**3
    first = 1.5 - x + x * y
    second = 2.25 - x + x * y2
    third = 2.625 - x + x * y3
    value = first**2 + second**2 + third**2
    twice = (2 * first, 2 * second, 2 * third)
    dx = twice[0] * (y - 1) + twice[1] * (y2 - 1) + twice[2] * (y3 - 1)
    dy = twice[0] * x + (twice[1] * x) * (2 * y) + (twice[2] * x) * (3 * y2)
    return value, _pair(dx, dy)


def himmelblau(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = (x² + y - 11)² + (x + y² - 7)²; four minima of value 0."""
    x, y = xy[..., 0], xy[..., 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def himmelblau_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f = u² + v² with u = x² + y - 11, v = x + y² - 7, and ∇f = 2 (2x u + v, u + 2y v).

    Bitwise autograd's outside the subnormal range: it computes (2u)(2x) + 2v and
    2u + (2v)(2y), the same up to factors of 2, exact for normal numbers.
    """
    x, y = xy[..., 0], xy[..., 1]
    u = x**2 + y - 11
    v = x + y**2 - 7
    value = u**2 + v**2
    dx = 2 * (u * (2 * x) + v)
    dy = 2 * (u + v * (2 * y))
    return value, _pair(dx, dy)


def ackley(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = -20 exp(-0.2 √(½(x² + y²))) - exp(½(cos 2πx + cos 2πy)) + e + 20; minimum 0 at 0.

    The radius is `torch.linalg.vector_norm`, whose gradient at the origin is 0 (a subgradient
    of the cone there) rather than the NaN that `sqrt(x² + y²)` would give.
    """
    x, y = xy[..., 0], xy[..., 1]
    radius = torch.linalg.vector_norm(xy, dim=-1)
    tau = 2 * math.pi
    ripples = torch.exp(0.5 * (torch.cos(tau * x) + torch.cos(tau * y)))
    return -20 * torch.exp(-0.2 * math.sqrt(0.5) * radius) - ripples + math.e + 20


def ackley_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = 2√2 exp(-0.2 √(½) r) (x, y)/r + π exp(½(cos 2πx + cos 2πy)) (sin 2πx, sin 2πy)
    with r = √(x² + y²).

    The cone's term is autograd's rule for the norm, (x, y) · (∂f/∂r / r), set to 0 where r is
    0: at the origin, and wherever x² + y² underflows (|x|, |y| below about 1e-162 in float64,
    1e-23 in float32), since torch computes the norm without rescaling. Autograd multiplies in
    the constants one at a time (-20, then -0.2 √(½); ½, then 2π); here they are folded,
    rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    radius = torch.linalg.vector_norm(xy, dim=-1)
    tau = 2 * math.pi
    cone = torch.exp(-0.2 * math.sqrt(0.5) * radius)
    ripples = torch.exp(0.5 * (torch.cos(tau * x) + torch.cos(tau * y)))
    value = -20 * cone - ripples + math.e + 20
    slope_over_radius = (cone * (4 * math.sqrt(0.5))) / radius
    slope_over_radius.masked_fill_(radius == 0, 0.0)
    gradient = torch.addcmul(
        xy * slope_over_radius.unsqueeze(-1),
        torch.sin(tau * xy),
        (math.pi * ripples).unsqueeze(-1),
    )
    return value, gradient


def booth(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = (x + 2y - 7)² + (2x + y - 5)²; minimum 0 at (1, 3)."""
    x, y = xy[..., 0], xy[..., 1]
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def booth_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f = u² + v² with u = x + 2y - 7, v = 2x + y - 5, and ∇f = 2 (u + 2v, 2u + v).

    Bitwise autograd's outside the subnormal range: it computes 2u + (2v)2 and (2u)2 + 2v,
    the same up to factors of 2, exact for normal numbers.
    """
    x, y = xy[..., 0], xy[..., 1]
    u = x + 2 * y - 7
    v = 2 * x + y - 5
    value = u**2 + v**2
    dx = 2 * (u + 2 * v)
    dy = 2 * (2 * u + v)
    return value, _pair(dx, dy)


def goldstein_price(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = [1 + (x + y + 1)² (19 - 14x + 3x² - 14y + 6xy + 3y²)]
    · [30 + (2x - 3y)² (18 - 32x + 12x² + 48y - 36xy + 27y²)]; minimum 3 at (0, -1)."""
    x, y = xy[..., 0], xy[..., 1]
    first = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    second = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return first * second


def goldstein_price_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f = F G with F = 1 + s² P, s = x + y + 1, G = 30 + t² Q, t = 2x - 3y (P, Q the
    quadratics of `goldstein_price`), and ∇f = (∂F) G + F (∂G) where

        ∂F/∂x = ∂F/∂y = s (2P + s (6(x + y) - 14)),
        ∂G/∂x = t (4Q + t (12t - 32)),   ∂G/∂y = t (-6Q + t (48 - 18t)),

    using ∂Q/∂x = 24x - 36y - 32 = 12t - 32 and ∂Q/∂y = 54y - 36x + 48 = 48 - 18t. Autograd
    expands the products term by term instead: rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    x2, y2 = x**2, y**2
    x_plus_y = x + y
    s = x_plus_y + 1
    p = 19 - 14 * x + 3 * x2 - 14 * y + 6 * x * y + 3 * y2
    first = 1 + s**2 * p
    t = 2 * x - 3 * y
    q = 18 - 32 * x + 12 * x2 + 48 * y - 36 * x * y + 27 * y2
    second = 30 + t**2 * q
    value = first * second
    first_slope = s * (2 * p + s * (6 * x_plus_y - 14))
    shared = first_slope * second
    dx = shared + first * (t * (4 * q + t * (12 * t - 32)))
    dy = shared + first * (t * (-6 * q + t * (48 - 18 * t)))
    return value, _pair(dx, dy)


def six_hump_camel(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = (4 - 2.1x² + x⁴/3) x² + xy + (4y² - 4) y²; two minima ≈ -1.0316."""
    x, y = xy[..., 0], xy[..., 1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (4 * y**2 - 4) * y**2


def six_hump_camel_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f = a x² + xy + (4y² - 4) y² with a = 4 - 2.1x² + x⁴/3, and
    ∇f = (x (2a + x² (4x²/3 - 4.2)) + y, x + y (16y² - 8)).

    Autograd differentiates each power separately and sums: rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    x2, y2 = x**2, y**2
    a = 4 - 2.1 * x2 + x**4 / 3
    value = a * x2 + x * y + (4 * y2 - 4) * y2
    dx = x * (2 * a + x2 * ((4 / 3) * x2 - 4.2)) + y
    dy = x + y * (16 * y2 - 8)
    return value, _pair(dx, dy)


def styblinski_tang(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = ½ (x⁴ - 16x² + 5x + y⁴ - 16y² + 5y); minimum ≈ -78.332 at ≈ (-2.9035, -2.9035)."""
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)


def styblinski_tang_value_and_grad(xy: Tensor, p: NoParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = (x (2x² - 16) + 2.5, y (2y² - 16) + 2.5), both coordinates at once.

    Autograd sums ½·4x³, ½·(-16)·2x and ½·5 separately: rounding apart.
    """
    gradient = xy * (2 * xy**2 - 16) + 2.5
    return styblinski_tang(xy, p), gradient


def _styblinski_tang_points(_p: NoParams) -> list[CriticalPoint]:
    # f is g(x) + g(y) with g(t) = ½(t⁴ - 16t² + 5t), whose critical points are two minima (deep
    # near -2.90, shallow near 2.75) around a maximum near 0.16.
    def g(t: float) -> float:
        return 0.5 * (t**4 - 16 * t**2 + 5 * t)

    def g1(t: float) -> float:
        return 2 * t**3 - 16 * t + 2.5

    def g2(t: float) -> float:
        return 6 * t**2 - 16

    deep, shallow, top = (_newton_root(g1, g2, t) for t in (-2.9, 2.75, 0.16))
    return [
        CriticalPoint((deep, deep), 2 * g(deep)),
        CriticalPoint((shallow, deep), g(shallow) + g(deep), "local_min"),
        CriticalPoint((deep, shallow), g(shallow) + g(deep), "local_min"),
        CriticalPoint((shallow, shallow), 2 * g(shallow), "local_min"),
        CriticalPoint((top, top), 2 * g(top), "local_max"),
        CriticalPoint((top, deep), g(top) + g(deep), "saddle"),
    ]


# --- Quadratics and saddles ---------------------------------------------------------------------


class IllConditionedParams(Params):
    """The quadratic's condition number κ and rotation θ."""

    condition_number: float = _parameter(
        25.0, "κ: ratio of the largest to the smallest curvature.", ge=1, le=1e4
    )
    angle: float = _parameter(30.0, "θ in degrees: direction of the steep axis.", ge=-90, le=90)


def ill_conditioned_quadratic(xy: Tensor, p: IllConditionedParams) -> Tensor:
    """f(x, y) = ½ (u² + v²/κ) with u = x cos θ + y sin θ and v = -x sin θ + y cos θ.

    The curvatures are 1 (along the direction at angle θ) and 1/κ (across it), so the largest is
    1 whatever κ is and a learning rate below 2 is stable for gradient descent.
    """
    x, y = xy[..., 0], xy[..., 1]
    cos, sin = math.cos(math.radians(p.angle)), math.sin(math.radians(p.angle))
    u, v = x * cos + y * sin, -x * sin + y * cos
    return 0.5 * (u**2 + v**2 / p.condition_number)


def ill_conditioned_quadratic_value_and_grad(
    xy: Tensor, p: IllConditionedParams
) -> tuple[Tensor, Tensor]:
    """f and ∇f = (u cos θ - (v/κ) sin θ, u sin θ + (v/κ) cos θ).

    Autograd scales v by (½/κ)·2 where this divides by κ: rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    cos, sin = math.cos(math.radians(p.angle)), math.sin(math.radians(p.angle))
    u, v = x * cos + y * sin, -x * sin + y * cos
    value = 0.5 * (u**2 + v**2 / p.condition_number)
    v_over_kappa = v / p.condition_number
    dx = u * cos - v_over_kappa * sin
    dy = u * sin + v_over_kappa * cos
    return value, _pair(dx, dy)


def saddle(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = x² - y²; a saddle at the origin, unbounded below."""
    return xy[..., 0] ** 2 - xy[..., 1] ** 2


def saddle_value_and_grad(xy: Tensor, p: NoParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = (2x, -2y), bitwise autograd's."""
    gradient = 2 * xy
    gradient[..., 1].neg_()
    return saddle(xy, p), gradient


def monkey_saddle(xy: Tensor, _p: NoParams) -> Tensor:
    """f(x, y) = x³ - 3xy²; a degenerate saddle (zero Hessian) at the origin, three valleys."""
    x, y = xy[..., 0], xy[..., 1]
    return x**3 - 3 * x * y**2


def monkey_saddle_value_and_grad(xy: Tensor, _p: NoParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = (3 (x² - y²), -6xy).

    Autograd computes 3x² - 3y² and -(3x)(2y): rounding apart.
    """
    x, y = xy[..., 0], xy[..., 1]
    x2, y2 = x**2, y**2
    value = x**3 - 3 * x * y2
    dx = 3 * (x2 - y2)
    dy = (-6 * x) * y
    return value, _pair(dx, dy)


# --- Plateau and cliff --------------------------------------------------------------------------


class PlateauCliffParams(Params):
    """The plateau's slope ε, the cliff's height H and width w."""

    plateau_slope: float = _parameter(
        0.01, "ε: the plateau's slope towards the cliff.", gt=0, le=0.1
    )
    cliff_height: float = _parameter(2.0, "H: height of the plateau.", ge=1.5, le=20)
    cliff_width: float = _parameter(
        0.25, "w: width of the drop from the plateau to the valley.", ge=0.05, le=0.5
    )


def plateau_cliff(xy: Tensor, p: PlateauCliffParams) -> Tensor:
    """f(x, y) = (1 - s)(H - εx) + s ½(x - w - 1)² + ½y², s = S(clip(x/w, 0, 1)),
    S(t) = 6t⁵ - 15t⁴ + 10t³ (smootherstep).

    For x <= 0 a plateau of height ≈ H with the constant gradient (-ε, y); over 0 < x < w a
    smooth (C²) drop; for x >= w the bowl ½(x - w - 1)² + ½y² with minimum 0 at (w + 1, 0). The
    bounds on the parameters keep the bowl below the plateau, so the drop is monotone and the
    minimum unique.
    """
    x, y = xy[..., 0], xy[..., 1]
    t = torch.clamp(x / p.cliff_width, 0.0, 1.0)
    s = t**3 * (10 - 15 * t + 6 * t**2)
    plateau = p.cliff_height - p.plateau_slope * x
    bowl = 0.5 * (x - p.cliff_width - 1) ** 2
    return (1 - s) * plateau + s * bowl + 0.5 * y**2


def plateau_cliff_value_and_grad(xy: Tensor, p: PlateauCliffParams) -> tuple[Tensor, Tensor]:
    """f and ∇f = (-(1 - s) ε + s (x - w - 1) + (bowl - plateau) S'(t) / w, y), with
    S'(t) = 3t² (10 - 15t + 6t²) + t³ (12t - 15).

    Bitwise autograd's, operation for operation, and on purpose: S' is expanded as autograd
    expands it, products and sums in its order. That form cancels near t = 1 (S'(1) = 0 comes
    out as a rounding error, which (bowl - plateau)/w scales to up to ~1e4 eps of the gradient
    at the parameters' extremes), where 30t²(1 - t)² would not; matching autograd keeps the
    engine's trajectories what they were. The drop's term is clip's rule in autograd: kept where
    0 <= x/w <= 1 (ends included), 0 elsewhere. Outside, S' is 0 already, but the mask also
    keeps 0 · inf (bowl - plateau overflowing) from turning a finite gradient into NaN.
    """
    x, y = xy[..., 0], xy[..., 1]
    scaled = x / p.cliff_width
    t = torch.clamp(scaled, 0.0, 1.0)
    t2, t3 = t**2, t**3
    smooth = 10 - 15 * t + 6 * t2
    s = t3 * smooth
    plateau = p.cliff_height - p.plateau_slope * x
    offset = x - p.cliff_width - 1
    bowl = 0.5 * offset**2
    outside_bowl = 1 - s
    value = outside_bowl * plateau + s * bowl + 0.5 * y**2
    # Autograd's chain through s = t³ · smooth: ∂/∂smooth, then ∂/∂t³, summed in its order.
    towards_s = bowl - plateau
    towards_smooth = towards_s * t3
    towards_t = (
        (towards_smooth * 6) * (2 * t) + towards_smooth * -15 + (towards_s * smooth) * (3 * t2)
    )
    drop = torch.where(t == scaled, towards_t, 0.0) / p.cliff_width
    dx = outside_bowl * -p.plateau_slope + s * offset + drop
    return value, _pair(dx, y)


# --- The catalogue ------------------------------------------------------------------------------


def _fixed(*points: CriticalPoint) -> Callable[[Params], tuple[CriticalPoint, ...]]:
    """Critical points that do not depend on the parameters."""
    return lambda _params: points


_CATALOGUE = (
    Landscape(
        id="rosenbrock",
        label="Rosenbrock",
        fn=rosenbrock,
        value_and_grad=rosenbrock_value_and_grad,
        latex=r"f(x,y) = (a - x)^2 + b\,(y - x^2)^2",
        view_box=((-2.0, 2.0), (-1.0, 3.0)),
        default_start=(-2.0, 2.0),
        colour_scale="log",
        note=(
            "A curved, flat-bottomed valley. Finding the valley is easy; following it to the "
            "minimum at (a, a²) is slow for plain gradient descent, which zig-zags across the "
            "steep walls. Momentum and adaptive steps help."
        ),
        params_model=RosenbrockParams,
        critical_points=lambda p: (CriticalPoint((p.a, p.a**2), 0.0),),
    ),
    Landscape(
        id="rastrigin",
        label="Rastrigin",
        fn=rastrigin,
        value_and_grad=rastrigin_value_and_grad,
        latex=r"f(x,y) = 2A + x^2 - A\cos(2\pi x) + y^2 - A\cos(2\pi y)",
        view_box=((-4.5, 4.5), (-4.5, 4.5)),
        default_start=(-2.0, 3.5),
        colour_scale="linear",
        note=(
            "A bowl covered in ripples: a local minimum near every integer point. Gradient "
            "descent stops in the nearest one; momentum or gradient noise can carry a trajectory "
            "over the crests towards the global minimum at the origin."
        ),
        params_model=RastriginParams,
        critical_points=_rastrigin_points,
    ),
    Landscape(
        id="beale",
        label="Beale",
        fn=beale,
        value_and_grad=beale_value_and_grad,
        latex=(r"f(x,y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2"),
        view_box=((-4.5, 4.5), (-4.5, 4.5)),
        default_start=(1.0, 1.5),
        colour_scale="log",
        note=(
            "Flat regions next to very steep ridges (values span five orders of magnitude), and "
            "a saddle at (0, 1). Gradient scales differ so much that one learning rate rarely "
            "suits the whole path."
        ),
        critical_points=_fixed(
            CriticalPoint((3.0, 0.5), 0.0),
            CriticalPoint((0.0, 1.0), 14.203125, "saddle"),
        ),
    ),
    Landscape(
        id="himmelblau",
        label="Himmelblau",
        fn=himmelblau,
        value_and_grad=himmelblau_value_and_grad,
        latex=r"f(x,y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        view_box=((-5.0, 5.0), (-5.0, 5.0)),
        default_start=(-1.0, 0.0),
        colour_scale="log",
        note=(
            "Four equally good minima around a central maximum: which one a trajectory reaches "
            "depends on where it starts and on the optimizer's path, not on the values."
        ),
        critical_points=_fixed(
            CriticalPoint((3.0, 2.0), 0.0),
            CriticalPoint((-2.8051180869527449, 3.131312518250573), 0.0),
            CriticalPoint((-3.7793102533777469, -3.2831859912861694), 0.0),
            CriticalPoint((3.5844283403304917, -1.8481265269644036), 0.0),
            CriticalPoint(
                (-0.27084459066734761, -0.92303855647998146), 181.6165215225827, "local_max"
            ),
            CriticalPoint((0.086677504555396352, 2.8842547011747761), 67.71915008752614, "saddle"),
            CriticalPoint(
                (-3.0730257507643896, -0.081353044287967512), 104.01516291755811, "saddle"
            ),
            CriticalPoint((3.3851541836070209, 0.073851879837749288), 13.31192627040559, "saddle"),
            CriticalPoint(
                (-0.12796134673068007, -1.9537149802445764), 178.33723920192746, "saddle"
            ),
        ),
    ),
    Landscape(
        id="ackley",
        label="Ackley",
        fn=ackley,
        value_and_grad=ackley_value_and_grad,
        latex=(
            r"f(x,y) = -20\exp\!\left(-0.2\sqrt{\tfrac{1}{2}(x^2 + y^2)}\right)"
            r" - \exp\!\left(\tfrac{1}{2}(\cos 2\pi x + \cos 2\pi y)\right) + e + 20"
        ),
        view_box=((-5.0, 5.0), (-5.0, 5.0)),
        default_start=(3.2, 2.4),
        colour_scale="linear",
        note=(
            "A nearly flat outer region full of small pits around one sharp funnel. The pits trap "
            "gradient descent; the funnel's tip at the origin is a cone, not differentiable."
        ),
        critical_points=_fixed(CriticalPoint((0.0, 0.0), 0.0)),
    ),
    Landscape(
        id="booth",
        label="Booth",
        fn=booth,
        value_and_grad=booth_value_and_grad,
        latex=r"f(x,y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        view_box=((-10.0, 10.0), (-10.0, 10.0)),
        default_start=(-8.0, 7.0),
        colour_scale="log",
        note=(
            "A plain quadratic bowl, mildly ill-conditioned (curvatures 2 and 18): the baseline "
            "where every sensible optimizer should succeed."
        ),
        critical_points=_fixed(CriticalPoint((1.0, 3.0), 0.0)),
    ),
    Landscape(
        id="goldstein_price",
        label="Goldstein-Price",
        fn=goldstein_price,
        value_and_grad=goldstein_price_value_and_grad,
        latex=(
            r"f(x,y) = \left[1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
            r"\left[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]"
        ),
        view_box=((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(-1.5, 1.5),
        colour_scale="log",
        note=(
            "Values from 3 to about a million, and three local minima (30, 84, 840) beside the "
            "global one (3): a test of step-size robustness and of which basin a method picks."
        ),
        critical_points=_fixed(
            CriticalPoint((0.0, -1.0), 3.0),
            CriticalPoint((-0.6, -0.4), 30.0, "local_min"),
            CriticalPoint((1.8, 0.2), 84.0, "local_min"),
            CriticalPoint((1.2, 0.8), 840.0, "local_min"),
        ),
    ),
    Landscape(
        id="six_hump_camel",
        label="Six-hump camel",
        fn=six_hump_camel,
        value_and_grad=six_hump_camel_value_and_grad,
        latex=r"f(x,y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (4y^2 - 4)\,y^2",
        view_box=((-2.0, 2.0), (-1.2, 1.2)),
        default_start=(-1.5, -0.8),
        colour_scale="linear",
        note=(
            "Six local minima, two of them global, and a saddle at the origin between the two "
            "global ones."
        ),
        critical_points=_fixed(
            CriticalPoint((0.089842013100318062, -0.71265640302073963), -1.0316284534898774),
            CriticalPoint((-0.089842013100318062, 0.71265640302073963), -1.0316284534898774),
            CriticalPoint(
                (-1.7036067149699808, 0.79608356867262512), -0.21546382438371764, "local_min"
            ),
            CriticalPoint(
                (1.7036067149699808, -0.79608356867262512), -0.21546382438371764, "local_min"
            ),
            CriticalPoint(
                (-1.6071047529201972, -0.56865145488413137), 2.1042503103112583, "local_min"
            ),
            CriticalPoint(
                (1.6071047529201972, 0.56865145488413137), 2.1042503103112583, "local_min"
            ),
            CriticalPoint((0.0, 0.0), 0.0, "saddle"),
        ),
    ),
    Landscape(
        id="styblinski_tang",
        label="Styblinski-Tang",
        fn=styblinski_tang,
        value_and_grad=styblinski_tang_value_and_grad,
        latex=r"f(x,y) = \tfrac{1}{2}\left(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y\right)",
        view_box=((-5.0, 5.0), (-5.0, 5.0)),
        default_start=(4.5, 4.0),
        colour_scale="linear",
        note=(
            "Four basins of different depths. From the default start the nearest basin is the "
            "shallowest: greedy methods settle there while the global minimum lies diagonally "
            "opposite."
        ),
        critical_points=_styblinski_tang_points,
    ),
    Landscape(
        id="ill_conditioned",
        label="Ill-conditioned quadratic",
        fn=ill_conditioned_quadratic,
        value_and_grad=ill_conditioned_quadratic_value_and_grad,
        latex=(
            r"f(x,y) = \tfrac{1}{2}\left(u^2 + \frac{v^2}{\kappa}\right),\quad"
            r"u = x\cos\theta + y\sin\theta,\quad v = -x\sin\theta + y\cos\theta"
        ),
        view_box=((-3.0, 3.0), (-3.0, 3.0)),
        default_start=(-2.5, 1.5),
        colour_scale="log",
        note=(
            "A long narrow valley: curvature 1 across it, 1/κ along it. Gradient descent needs "
            "about κ steps. Per-coordinate adaptive methods (Adam and relatives) rescale the "
            "axes, which helps when the valley is aligned with them (θ = 0) and much less when "
            "it is rotated (θ = 45°)."
        ),
        params_model=IllConditionedParams,
        critical_points=_fixed(CriticalPoint((0.0, 0.0), 0.0)),
    ),
    Landscape(
        id="saddle",
        label="Saddle",
        fn=saddle,
        value_and_grad=saddle_value_and_grad,
        latex=r"f(x,y) = x^2 - y^2",
        view_box=((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(-1.8, 0.02),
        colour_scale="linear",
        note=(
            "Started almost on the ridge y = 0, gradient descent slides into the saddle and "
            "lingers there, leaving only as fast as the tiny y grows. Noise and momentum escape "
            "sooner. Unbounded below: there is no minimum."
        ),
        critical_points=_fixed(CriticalPoint((0.0, 0.0), 0.0, "saddle")),
    ),
    Landscape(
        id="monkey_saddle",
        label="Monkey saddle",
        fn=monkey_saddle,
        value_and_grad=monkey_saddle_value_and_grad,
        latex=r"f(x,y) = x^3 - 3xy^2",
        view_box=((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(1.5, 0.1),
        colour_scale="linear",
        note=(
            "Three valleys meet at a flat point: the Hessian vanishes at the origin, so "
            "curvature-based methods see nothing there, and the gradient shrinks quadratically "
            "near it. Unbounded below: there is no minimum."
        ),
        critical_points=_fixed(CriticalPoint((0.0, 0.0), 0.0, "saddle")),
    ),
    Landscape(
        id="plateau_cliff",
        label="Plateau and cliff",
        fn=plateau_cliff,
        value_and_grad=plateau_cliff_value_and_grad,
        latex=(
            r"f(x,y) = (1 - s)(H - \varepsilon x) + \tfrac{s}{2}(x - w - 1)^2 + \tfrac{1}{2}y^2,"
            r"\quad s = S\!\left(\operatorname{clip}(x/w, 0, 1)\right),\quad"
            r"S(t) = 6t^5 - 15t^4 + 10t^3"
        ),
        view_box=((-3.5, 2.5), (-2.0, 2.0)),
        default_start=(-3.0, 1.5),
        colour_scale="linear",
        note=(
            "Where adaptive methods differ. On the plateau the gradient along x is the tiny "
            "constant -ε: SGD advances lr·ε per step and barely moves, while Adam's normalised "
            "step is about lr whatever ε is. At the cliff the gradient jumps to about 15H/(8w): "
            "SGD's step jumps with it and overshoots the valley, Adam's stays about lr."
        ),
        params_model=PlateauCliffParams,
        critical_points=lambda p: (CriticalPoint((p.cliff_width + 1, 0.0), 0.0),),
    ),
)


def _index(entries: tuple[Landscape, ...]) -> MappingProxyType[str, Landscape]:
    by_id: dict[str, Landscape] = {}
    for entry in entries:
        if entry.id in by_id:
            raise ValueError(f"duplicate landscape id {entry.id!r}")
        by_id[entry.id] = entry
    return MappingProxyType(by_id)


REGISTRY = _index(_CATALOGUE)
"""Read-only mapping from id to `Landscape`, in catalogue order."""


def list_landscapes() -> list[Landscape]:
    """Every registered landscape, in catalogue order."""
    return list(REGISTRY.values())


def get_landscape(landscape_id: str) -> Landscape:
    """The landscape registered as `landscape_id`; `UnknownLandscapeError` if there is none."""
    try:
        return REGISTRY[landscape_id]
    except (KeyError, TypeError):
        known = ", ".join(REGISTRY)
        raise UnknownLandscapeError(
            f"unknown landscape {landscape_id!r}; known landscapes: {known}"
        ) from None
