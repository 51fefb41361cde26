"""The registry: every entry's listed minima, gradients, vectorisation and JSON description.

Parametrized over `list_landscapes()`, so a new entry is covered as soon as it is registered.
Exactness checks run in float64.
"""

import json
import math

import pytest
import torch
from pydantic import ValidationError

from landscapes import (
    Landscape,
    UnknownLandscapeError,
    get_landscape,
    list_landscapes,
    sample_surface,
)

F64 = torch.float64
ENTRIES = list_landscapes()


def param_sets(entry: Landscape) -> list[dict]:
    """The defaults, and (for entries with parameters) each parameter moved halfway from its
    default towards its upper bound, so parameter-dependent minima are checked away from the
    defaults too."""
    properties = entry.params_model.model_json_schema().get("properties", {})
    if not properties:
        return [{}]
    moved = {}
    for name, spec in properties.items():
        upper = spec.get("maximum", spec.get("exclusiveMaximum"))
        moved[name] = spec["default"] + 0.5 * (upper - spec["default"])
    return [{}, moved]


CASES = [
    pytest.param(entry, params, id=f"{entry.id}-{'defaults' if not params else 'moved'}")
    for entry in ENTRIES
    for params in param_sets(entry)
]


def value_and_gradient(fn, point) -> tuple[float, torch.Tensor]:
    xy = torch.tensor(point, dtype=F64, requires_grad=True)
    value = fn(xy)
    (gradient,) = torch.autograd.grad(value, xy)
    return value.item(), gradient


def random_points(entry: Landscape, count: int, seed: int = 0) -> torch.Tensor:
    (xmin, xmax), (ymin, ymax) = entry.view_box
    u = torch.rand(count, 2, generator=torch.Generator().manual_seed(seed), dtype=F64)
    return torch.stack((xmin + (xmax - xmin) * u[:, 0], ymin + (ymax - ymin) * u[:, 1]), dim=-1)


def test_catalogue_lists_the_issue_landscapes():
    ids = {entry.id for entry in ENTRIES}
    assert ids >= {
        "rosenbrock",
        "rastrigin",
        "beale",
        "himmelblau",
        "ackley",
        "booth",
        "goldstein_price",
        "six_hump_camel",
        "styblinski_tang",
        "ill_conditioned",
        "saddle",
        "monkey_saddle",
        "plateau_cliff",
    }
    assert len(ids) == len(ENTRIES)


def test_gallery_conventions():
    rosenbrock, rastrigin = get_landscape("rosenbrock"), get_landscape("rastrigin")
    assert rosenbrock.default_start == (-2.0, 2.0)
    assert rosenbrock.view_box == ((-2.0, 2.0), (-1.0, 3.0))
    assert rosenbrock.colour_scale == "log"
    assert rastrigin.default_start == (-2.0, 3.5)
    assert rastrigin.view_box == ((-4.5, 4.5), (-4.5, 4.5))
    # (1 - x)^2 + 100 (y - x^2)^2 and Rastrigin with A = 10, at hand-worked points.
    assert rosenbrock.bind()(torch.tensor([-2.0, 2.0], dtype=F64)).item() == 409.0
    assert rastrigin.bind()(torch.tensor([0.5, 1.0], dtype=F64)).item() == pytest.approx(
        20 + 0.25 + 10 + 1 - 10
    )


def test_get_landscape_and_unknown_ids():
    for entry in ENTRIES:
        assert get_landscape(entry.id) is entry
    with pytest.raises(UnknownLandscapeError, match=r"unknown landscape 'nope'.*rosenbrock"):
        get_landscape("nope")
    with pytest.raises(KeyError):
        get_landscape("nope")


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_listed_values_are_the_function_values(entry, params):
    fn = entry.bind(params)
    for point in entry.critical_points(entry.make_params(params)):
        value = fn(torch.tensor(point.point, dtype=F64)).item()
        assert value == pytest.approx(point.value, rel=1e-12, abs=1e-12), point


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_gradient_vanishes_at_listed_points(entry, params):
    fn = entry.bind(params)
    for point in entry.critical_points(entry.make_params(params)):
        _, gradient = value_and_gradient(fn, point.point)
        assert gradient.abs().max().item() <= 1e-9 * max(1.0, abs(point.value)), point


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_listed_kinds_match_the_neighbourhood(entry, params):
    """A minimum is below every point of a small circle around it, a maximum above, and a
    saddle (degenerate ones included) has points on both sides."""
    fn = entry.bind(params)
    (xmin, xmax), _ = entry.view_box
    radius = 1e-3 * (xmax - xmin)
    angles = torch.linspace(0, 2 * math.pi, 17, dtype=F64)[:-1]
    for point in entry.critical_points(entry.make_params(params)):
        centre = torch.tensor(point.point, dtype=F64)
        circle = centre + radius * torch.stack((torch.cos(angles), torch.sin(angles)), dim=-1)
        difference = fn(circle) - fn(centre)
        if point.kind in ("global_min", "local_min"):
            assert (difference > 0).all(), point
        elif point.kind == "local_max":
            assert (difference < 0).all(), point
        else:
            assert (difference > 0).any(), point
            assert (difference < 0).any(), point


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_global_minima_are_lowest_in_the_view_box(entry, params):
    minima = entry.global_minima(params)
    surface = sample_surface(entry.bind(params), entry.view_box, 201)
    if not minima:
        # Unbounded below (the saddles): the lowest grid value lies on the view box's edge.
        j, i = divmod(int(surface.z.argmin()), surface.z.shape[1])
        assert i in (0, 200) or j in (0, 200)
        return
    lowest = min(point.value for point in minima)
    assert all(point.value == pytest.approx(lowest, abs=1e-12) for point in minima)
    assert surface.z_min >= lowest - 1e-9 * max(1.0, abs(lowest))


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_listed_points_and_start_lie_in_the_view_box(entry, params):
    (xmin, xmax), (ymin, ymax) = entry.view_box
    points = [p.point for p in entry.critical_points(entry.make_params(params))]
    for x, y in [*points, entry.default_start]:
        assert xmin <= x <= xmax
        assert ymin <= y <= ymax


@pytest.mark.parametrize(("entry", "params"), CASES)
def test_autograd_matches_central_differences(entry, params):
    fn = entry.bind(params)
    points = random_points(entry, 32).requires_grad_(True)
    values = fn(points)
    (gradient,) = torch.autograd.grad(values.sum(), points)
    step = 1e-6 * (entry.view_box[0][1] - entry.view_box[0][0])
    with torch.no_grad():
        columns = []
        for axis in range(2):
            offset = torch.zeros(2, dtype=F64)
            offset[axis] = step
            columns.append((fn(points + offset) - fn(points - offset)) / (2 * step))
        finite_differences = torch.stack(columns, dim=-1)
    # Rounding in the differences grows like eps·|f|/step: allow for it beside a relative error.
    rounding = 1e-14 * values.detach().abs().max().item() / step
    torch.testing.assert_close(gradient, finite_differences, rtol=1e-6, atol=1e-6 + rounding)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_vectorised_values_equal_pointwise_values(entry):
    fn = entry.bind()
    points = random_points(entry, 12, seed=1)
    batch = fn(points)
    grid = fn(points.view(3, 4, 2))
    assert batch.shape == (12,)
    assert grid.shape == (3, 4)
    pointwise = torch.stack([fn(point) for point in points])
    assert all(fn(point).shape == () for point in points[:2])
    torch.testing.assert_close(batch, pointwise, rtol=1e-14, atol=0)
    torch.testing.assert_close(grid.reshape(12), pointwise, rtol=1e-14, atol=0)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_float32_keeps_dtype_and_agrees_with_float64(entry):
    fn = entry.bind()
    points = random_points(entry, 64, seed=2)
    single = fn(points.float())
    double = fn(points)
    assert single.dtype == torch.float32
    scale = double.abs().max().item()
    torch.testing.assert_close(single.double(), double, rtol=1e-5, atol=1e-5 * scale)


# CUDA joins the parametrisation where a GPU is present (checked on a GPU machine, not in CI).
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_device_matches_cpu(entry, device):
    fn = entry.bind()
    points = random_points(entry, 64, seed=3)
    on_device = points.to(device).requires_grad_(True)
    values = fn(on_device)
    values.sum().backward()
    assert values.device.type == device
    assert on_device.grad.device.type == device
    torch.testing.assert_close(values.cpu(), fn(points), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.id)
def test_describe_is_plain_json(entry):
    description = json.loads(json.dumps(entry.describe(), allow_nan=False))
    assert description["id"] == entry.id
    assert description["colour_scale"] in ("log", "linear")
    assert len(description["view_box"]) == 2
    assert len(description["default_start"]) == 2
    assert description["latex"].startswith("f(x,y) = ")
    assert description["note"]
    for minimum in description["global_minima"]:
        assert set(minimum) == {"point", "value"}
        assert len(minimum["point"]) == 2
    for point in description["notable_points"]:
        assert point["kind"] in ("local_min", "local_max", "saddle")
    schema = description["params_schema"]
    assert set(schema.get("properties", {})) == set(description["params"])
    for spec in schema.get("properties", {}).values():
        assert "default" in spec
        assert "description" in spec


def test_params_are_validated():
    rosenbrock = get_landscape("rosenbrock")
    assert rosenbrock.make_params({"b": 10}).b == 10
    assert rosenbrock.describe({"a": 0.5})["global_minima"] == [
        {"point": [0.5, 0.25], "value": 0.0}
    ]
    with pytest.raises(ValidationError, match="b"):
        rosenbrock.make_params({"b": -1})
    with pytest.raises(ValueError, match="extra"):
        rosenbrock.make_params({"c": 1})
    with pytest.raises(ValueError, match="condition_number"):
        get_landscape("ill_conditioned").bind({"condition_number": 0.5})


def test_ill_conditioned_quadratic_has_the_requested_curvatures():
    entry = get_landscape("ill_conditioned")
    fn = entry.bind({"condition_number": 50.0, "angle": 45.0})
    hessian = torch.autograd.functional.hessian(fn, torch.tensor([0.3, -0.2], dtype=F64))
    eigenvalues, eigenvectors = torch.linalg.eigh(hessian)
    torch.testing.assert_close(eigenvalues, torch.tensor([1 / 50, 1.0], dtype=F64))
    steep = eigenvectors[:, 1].abs()
    torch.testing.assert_close(steep, torch.full((2,), math.sqrt(0.5), dtype=F64))


def test_plateau_cliff_gradients_differ_by_orders_of_magnitude():
    """The teaching point: a tiny constant slope on the plateau, a steep one at the cliff."""
    entry = get_landscape("plateau_cliff")
    params = entry.make_params()
    fn = entry.bind(params)
    _, on_plateau = value_and_gradient(fn, (-2.0, 0.0))
    assert on_plateau.tolist() == pytest.approx([-params.plateau_slope, 0.0])
    _, on_cliff = value_and_gradient(fn, (params.cliff_width / 2, 0.0))
    assert abs(on_cliff[0].item()) > 1000 * params.plateau_slope
