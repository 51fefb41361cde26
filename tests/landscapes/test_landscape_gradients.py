"""Analytic gradients: every registry entry's `value_and_grad` against its `fn` and autograd.

Parametrized over `list_landscapes()`, so a new entry without an analytic gradient fails here by
name. For each entry, with its default parameters and (where it has any) parameters moved
halfway towards either bound, in float64 and float32:

- the values are bitwise those of `fn` on the same tensor (the same arithmetic, shape for shape);
- the gradient is autograd's (`torch.autograd.grad` of the summed values) up to rounding: per
  element, |analytic - autograd| <= rtol |autograd| + 64 (eps σ + tiny), where σ is the row's
  |H|·|xy| + |∇f| (max norms, H the Hessian, from autograd in float64). Rounding `xy` by eps
  moves the gradient by about eps |H|·|xy|, and that is also the size of the terms that cancel
  where the gradient is nearly 0 (near critical points), so σ scales the absolute slack to the
  rounding both computations make, not to the batch's largest gradient (tiny, the smallest
  normal number, covers subnormal results). Measured: at most about 4.3 eps σ (Goldstein-Price),
  and bitwise autograd's for Rosenbrock, Himmelblau, Booth, the saddle and the plateau-cliff;
- where autograd's gradient is not finite and the value is, the analytic gradient is not finite
  in the same way (NaN where NaN, inf of the same sign): those are the rows the engine stops
  for their gradient alone. Where the value itself is not finite the engine stops the row
  whatever the gradient is, and there the analytic gradient may overflow at a different
  step than autograd's (e.g. inf against NaN): it reassociates products and sums.

Points: a grid over three times the view box, 2¹⁶ random points in it (more than one thread's
share of a CPU kernel, so the parallel path and scalar tails are exercised), the listed critical
points, and the points where autograd makes a choice: the origin (Ackley's cone tip, where the
norm's gradient is set to 0), radii whose square underflows, the plateau-cliff's clip ends.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from torch import Tensor

from landscapes import Landscape, Params, expression_landscape, get_landscape, list_landscapes

F64, F32 = torch.float64, torch.float32
DTYPES = [pytest.param(F64, id="float64"), pytest.param(F32, id="float32")]
ENTRIES = list_landscapes()
RTOL = {F64: 1e-12, F32: 1e-5}
SLACK_EPS = 64
"""The absolute slack, in units of eps σ (see the module docstring)."""

INT_VIEW = {F64: torch.int64, F32: torch.int32}


def param_sets(entry: Landscape) -> list[dict[str, float]]:
    """The defaults, and (for entries with parameters) every parameter moved halfway from its
    default towards its upper bound, then towards its lower bound: inside the bounds, away
    from the defaults."""
    properties = entry.params_model.model_json_schema().get("properties", {})
    if not properties:
        return [{}]
    upper, lower = {}, {}
    for name, spec in properties.items():
        high = spec.get("maximum", spec.get("exclusiveMaximum"))
        low = spec.get("minimum", spec.get("exclusiveMinimum"))
        upper[name] = spec["default"] + 0.5 * (high - spec["default"])
        lower[name] = spec["default"] + 0.5 * (low - spec["default"])
    return [{}, upper, lower]


CASES = [
    pytest.param(entry, params, id=f"{entry.id}-{label}")
    for entry in ENTRIES
    for params, label in zip(param_sets(entry), ("defaults", "upper", "lower"), strict=False)
]


def special_points(entry: Landscape, params: Params) -> list[tuple[float, float]]:
    """Points where autograd's rules decide the gradient, or where it is exactly 0, for every
    entry; and the plateau-cliff's clip ends, where clamp's gradient is kept (ends included)."""
    points = [
        (0.0, 0.0),
        (-0.0, 0.0),
        (0.0, -0.0),
        (1e-200, 0.0),  # x² underflows: the norm is 0, Ackley's cone term is 0
        (1e-160, -1e-160),  # x² is subnormal
        (5e-324, 0.0),
        (1.0, 0.0),
        (0.0, 1.0),
        entry.default_start,
    ]
    if entry.id == "plateau_cliff":
        w = params.cliff_width
        points += [
            (0.0, 0.5),
            (w, 0.0),
            (w, -1.0),
            (math.nextafter(w, -math.inf), 0.0),
            (math.nextafter(w, math.inf), 0.0),
            (math.nextafter(0.0, 1.0), 0.0),
            (math.nextafter(0.0, -1.0), 0.0),
            (w / 2, 0.25),
        ]
    return points


def sample_points(entry: Landscape, params: Params, dtype: torch.dtype) -> Tensor:
    """The grid over three times the view box, 2¹⁶ seeded random points in it, the critical
    points and the special points, as one `(N, 2)` batch in `dtype`."""
    (xmin, xmax), (ymin, ymax) = entry.view_box
    width, height = xmax - xmin, ymax - ymin
    xs = torch.linspace(xmin - width, xmax + width, 61, dtype=F64)
    ys = torch.linspace(ymin - height, ymax + height, 61, dtype=F64)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2)
    u = torch.rand(1 << 16, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    random = torch.stack(
        (xmin - width + 3 * width * u[:, 0], ymin - height + 3 * height * u[:, 1]), dim=-1
    )
    listed = [point.point for point in entry.critical_points(params)]
    named = torch.tensor(listed + special_points(entry, params), dtype=F64)
    return torch.cat((grid, random, named)).to(dtype)


def autograd_value_and_grad(
    entry: Landscape, params: Params, points: Tensor
) -> tuple[Tensor, Tensor]:
    """`fn`'s values and autograd's gradient of their sum, as the engine computes them."""
    xy = points.clone().requires_grad_(True)
    values = entry.fn(xy, params)
    (gradient,) = torch.autograd.grad(values.sum(), xy)
    return values.detach(), gradient


def gradient_scale(entry: Landscape, params: Params, points: Tensor) -> Tensor:
    """σ per row: |H|·|xy| + |∇f| (max norms), by autograd in float64; 0 where not finite (no
    absolute slack there)."""
    xy = points.detach().to(F64).requires_grad_(True)
    values = entry.fn(xy, params)
    (gradient,) = torch.autograd.grad(values.sum(), xy, create_graph=True)
    hessian_rows = [
        torch.autograd.grad(
            gradient[..., k].sum(),
            xy,
            retain_graph=True,
            allow_unused=True,
            materialize_grads=True,
        )[0]
        for k in range(2)
    ]
    hessian = torch.stack(hessian_rows, dim=-2).detach().abs().amax(dim=(-2, -1))
    size = xy.detach().abs().amax(dim=-1)
    scale = hessian * size + gradient.detach().abs().amax(dim=-1)
    return torch.where(torch.isfinite(scale), scale, 0.0)


def assert_bitwise_equal(analytic: Tensor, reference: Tensor, points: Tensor) -> None:
    """Equal bit for bit (NaN payloads and signed zeros included)."""
    assert analytic.dtype == reference.dtype
    assert analytic.shape == reference.shape
    integers = INT_VIEW[reference.dtype]
    differ = analytic.view(integers) != reference.view(integers)
    assert not differ.any(), describe_rows(differ, points, analytic=analytic, fn=reference)


def assert_same_kind(analytic: Tensor, reference: Tensor, rows: Tensor, points: Tensor) -> None:
    """In `rows`, NaN exactly where `reference` has NaN, and ±inf exactly where it has ±inf."""
    for test in (torch.isnan, torch.isposinf, torch.isneginf):
        differ = (test(analytic) != test(reference)).any(dim=-1) & rows
        assert not differ.any(), describe_rows(
            differ, points, kind=test.__name__, analytic=analytic, autograd=reference
        )


def assert_gradient_close(
    analytic: Tensor, reference: Tensor, scale: Tensor, rows: Tensor, points: Tensor
) -> None:
    """In `rows`, where autograd's gradient is finite: within rtol and 64 eps σ of it, or 64
    times the smallest normal number."""
    dtype = reference.dtype
    assert analytic.dtype == dtype
    assert analytic.shape == reference.shape
    info = torch.finfo(dtype)
    # Below the smallest normal number precision is absolute: a subnormal operand carries only
    # a few bits, and any factor after it scales that error.
    slack = SLACK_EPS * (info.eps * scale.unsqueeze(-1) + info.smallest_normal)
    allowed = RTOL[dtype] * reference.double().abs() + slack
    error = (analytic.double() - reference.double()).abs()
    finite = torch.isfinite(reference)
    beyond = (finite & ~(error <= allowed)).any(dim=-1) & rows
    assert not beyond.any(), describe_rows(
        beyond, points, analytic=analytic, autograd=reference, allowed=allowed
    )


def describe_rows(rows: Tensor, points: Tensor, **columns) -> str:
    """The first few offending rows, with their points and the given columns."""
    indices = rows.nonzero().flatten()[:5].tolist()
    lines = [f"{rows.sum().item()} rows differ, e.g.:"]
    for i in indices:
        fields = ", ".join(
            f"{name}={value[i].tolist() if isinstance(value, Tensor) else value}"
            for name, value in columns.items()
        )
        lines.append(f"  xy={points[i].tolist()}: {fields}")
    return "\n".join(lines)


def assert_matches_autograd(
    entry: Landscape,
    params: Params,
    points: Tensor,
    *,
    every_kind: bool = False,
) -> None:
    """Values bitwise `fn`'s; where the value is finite (everywhere when `every_kind`), the
    gradient autograd's to rounding and its non-finite entries autograd's in kind."""
    reference_values, reference_gradient = autograd_value_and_grad(entry, params, points)
    with torch.no_grad():
        values, gradient = entry.value_and_grad(points, params)
    assert gradient.dtype == points.dtype
    assert gradient.device == points.device
    assert_bitwise_equal(values, reference_values, points)
    rows = torch.ones_like(values, dtype=torch.bool) if every_kind else values.isfinite()
    assert_same_kind(gradient, reference_gradient, rows, points)
    scale = gradient_scale(entry, params, points).to(points.device)
    assert_gradient_close(gradient, reference_gradient, scale, rows, points)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_every_entry_has_an_analytic_gradient(entry):
    assert entry.value_and_grad is not None, (
        f"landscape {entry.id!r} has no value_and_grad: write {entry.fn.__name__}_value_and_grad "
        "beside its function in landscapes/registry.py and register it"
    )
    assert callable(entry.bind_value_and_grad())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params"), CASES)
def test_values_are_fns_and_gradients_are_autograds(entry, params, dtype):
    bound = entry.make_params(params)
    assert_matches_autograd(entry, bound, sample_points(entry, bound, dtype))


def extreme_points(dtype: torch.dtype) -> Tensor:
    """Every pair of signed magnitudes from the smallest subnormal to the largest float, the
    infinities and NaN: where the values and gradients overflow, underflow or are undefined."""
    info = torch.finfo(dtype)
    magnitudes = [
        0.0,
        info.smallest_normal * info.eps,
        info.smallest_normal,
        math.sqrt(info.smallest_normal),
        1.0,
        info.max**0.25,
        math.sqrt(info.max) / 4,
        math.sqrt(info.max) * 4,
        info.max / 2,
        info.max,
        math.inf,
    ]
    values = [*magnitudes, *(-m for m in magnitudes), math.nan]
    return torch.tensor(list(itertools.product(values, values)), dtype=dtype)


def log_scale_points(dtype: torch.dtype, count: int = 20_000) -> Tensor:
    """Seeded random points whose coordinates are ordinary (|t| < 5) or of any magnitude the
    dtype holds, with random signs."""
    generator = torch.Generator().manual_seed(11)
    info = torch.finfo(dtype)
    low, high = math.log10(info.smallest_normal * info.eps), math.log10(info.max)
    exponent = low + (high - low) * torch.rand(count, 2, generator=generator, dtype=F64)
    sign = torch.randint(0, 2, (count, 2), generator=generator) * 2 - 1
    ordinary = 10 * torch.rand(count, 2, generator=generator, dtype=F64) - 5
    pick = torch.rand(count, 2, generator=generator) < 0.3
    return torch.where(pick, ordinary, sign * 10**exponent).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_extreme_points_match_autograd_in_kind(entry, dtype):
    """Bitwise values, and where the value is finite a gradient autograd's in kind and to
    rounding, at the dtype's extremes and over all magnitudes."""
    bound = entry.make_params()
    points = torch.cat((extreme_points(dtype), log_scale_points(dtype)))
    assert_matches_autograd(entry, bound, points)


# (landscape id, params, point, what autograd gives there): asserted in kind everywhere, the
# value's finiteness included, and to rounding where finite.
AUTOGRAD_CHOICES = [
    ("ackley", {}, (0.0, 0.0), "0: the norm's gradient is 0 at 0, not 0/0"),
    ("ackley", {}, (-0.0, 0.0), "0, as at +0"),
    ("ackley", {}, (1e-200, 0.0), "the ripples' gradient only: x² underflows, the norm is 0"),
    ("ackley", {}, (1e-160, 0.0), "the cone's full slope: x² is subnormal, not 0"),
    ("ackley", {}, (math.inf, 0.0), "NaN (and a NaN value)"),
    ("plateau_cliff", {}, (0.0, 0.3), "(-ε, y): the clip's lower end is kept, S'(0) = 0"),
    ("plateau_cliff", {}, (0.25, 0.0), "(-1 + about 1e-14, 0): the upper end, S'(1) ≈ 0"),
    ("plateau_cliff", {}, (1e200, 0.0), "(1e200, 0) though f = inf: clip drops 0 · inf"),
    ("plateau_cliff", {}, (-1e200, 0.0), "(-ε, 0) though f is NaN: clip drops 0 · NaN"),
    ("plateau_cliff", {}, (-math.inf, 0.0), "(NaN, 0)"),
    ("plateau_cliff", {}, (math.inf, 0.0), "(inf, 0)"),
    ("plateau_cliff", {}, (math.nan, 1.0), "(NaN, 1)"),
    ("rosenbrock", {}, (1e200, 1.0), "(inf, -inf)"),
    ("rastrigin", {}, (math.inf, 0.0), "(NaN, 0): sin(inf)"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("landscape_id", "params", "point"),
    [pytest.param(*case[:3], id=f"{case[0]}-{case[2]}") for case in AUTOGRAD_CHOICES],
)
def test_autograds_choices_at_special_points(landscape_id, params, point, dtype):
    entry = get_landscape(landscape_id)
    points = torch.tensor([point], dtype=dtype)
    assert_matches_autograd(entry, entry.make_params(params), points, every_kind=True)


def test_the_special_points_give_what_autograd_gives():
    """The gradients the comments above name, spelled out in float64."""
    ackley = get_landscape("ackley").bind_value_and_grad()
    plateau_cliff = get_landscape("plateau_cliff").bind_value_and_grad()

    def gradient(value_and_grad: Callable, point: Sequence[float]) -> list[float]:
        return value_and_grad(torch.tensor(point, dtype=F64))[1].tolist()

    assert gradient(ackley, (0.0, 0.0)) == [0.0, 0.0]
    assert gradient(ackley, (1e-200, 0.0))[0] == pytest.approx(
        0.5 * math.e * (2 * math.pi) ** 2 * 1e-200
    )
    assert gradient(ackley, (1e-160, 0.0))[0] == pytest.approx(4 * math.sqrt(0.5), rel=1e-4)
    assert gradient(plateau_cliff, (0.0, 0.3)) == [-0.01, 0.3]
    assert gradient(plateau_cliff, (1e200, 0.0)) == [1e200, 0.0]
    assert gradient(plateau_cliff, (-1e200, 0.0)) == [-0.01, 0.0]
    nan_x, zero_y = gradient(plateau_cliff, (-math.inf, 0.0))
    assert math.isnan(nan_x)
    assert zero_y == 0.0


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_shapes_dtype_and_device_carry_through(entry, device):
    value_and_grad = entry.bind_value_and_grad()
    fn = entry.bind()
    for shape in [(2,), (12, 2), (3, 4, 2)]:
        for dtype in (F64, F32):
            xy = torch.linspace(-1.3, 1.7, math.prod(shape), dtype=dtype, device=device)
            xy = xy.reshape(shape)
            values, gradient = value_and_grad(xy)
            assert values.shape == shape[:-1]
            assert gradient.shape == shape
            assert values.dtype == gradient.dtype == dtype
            assert values.device.type == gradient.device.type == device
            assert torch.equal(values, fn(xy))
    points = sample_points(entry, entry.make_params(), F64).to(device)
    assert_matches_autograd(entry, entry.make_params(), points)


def test_bind_value_and_grad_fixes_and_validates_the_parameters():
    rosenbrock = get_landscape("rosenbrock")
    params = {"a": 0.5, "b": 10.0}
    xy = torch.tensor([[0.3, -0.2], [1.5, 2.0]], dtype=F64)
    bound = rosenbrock.bind_value_and_grad(params)
    direct = rosenbrock.value_and_grad(xy, rosenbrock.make_params(params))
    for got, expected in zip(bound(xy), direct, strict=True):
        assert torch.equal(got, expected)
    # (a - x)² + b (y - x²)² at (0.3, -0.2): ∇f = (-2(0.2) - 4·10·0.3·(-0.29), 2·10·(-0.29)).
    assert bound(xy)[1][0].tolist() == pytest.approx([-0.4 + 3.48, -5.8], rel=1e-14)
    with pytest.raises(ValidationError, match="b"):
        rosenbrock.bind_value_and_grad({"b": -1.0})


def test_a_landscape_without_an_analytic_gradient_binds_to_none():
    custom = expression_landscape("x^2 + y^2")
    assert custom.value_and_grad is None
    assert custom.bind_value_and_grad() is None
    with pytest.raises(ValueError, match="extra"):
        custom.bind_value_and_grad({"c": 1.0})


def generous_coordinates(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats in [low, high] widened to ten times the interval about its centre."""
    centre, half = (low + high) / 2, 5 * (high - low)
    return st.floats(centre - half, centre + half, allow_nan=False, allow_infinity=False)


def params_strategy(entry: Landscape) -> st.SearchStrategy[dict[str, float]]:
    """Any parameters strictly inside the model's bounds."""
    fields = {}
    for name, spec in entry.params_model.model_json_schema().get("properties", {}).items():
        low = spec.get("minimum", spec.get("exclusiveMinimum"))
        high = spec.get("maximum", spec.get("exclusiveMaximum"))
        fields[name] = st.floats(low, high, exclude_min=True, exclude_max=True)
    return st.fixed_dictionaries(fields)


@pytest.mark.parametrize(
    "landscape_id", ["rosenbrock", "rastrigin", "ackley", "goldstein_price", "plateau_cliff"]
)
def test_random_points_and_parameters_match_autograd(landscape_id):
    entry = get_landscape(landscape_id)
    (xmin, xmax), (ymin, ymax) = entry.view_box

    @settings(max_examples=150, derandomize=True, database=None, deadline=None)
    @given(
        x=generous_coordinates(xmin, xmax),
        y=generous_coordinates(ymin, ymax),
        params=params_strategy(entry),
        dtype=st.sampled_from([F64, F32]),
    )
    def check(x, y, params, dtype):
        points = torch.tensor([[x, y]], dtype=dtype)
        assert_matches_autograd(entry, entry.make_params(params), points, every_kind=True)

    check()
