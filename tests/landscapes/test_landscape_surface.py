"""Surface sampling: orientation, limits, non-finite values and the safe log transform."""

import json
import math

import numpy as np
import pytest
import torch

from landscapes import expression_landscape, list_landscapes, sample_surface
from landscapes.surface import LOG_DYNAMIC_RANGE, MAX_RESOLUTION


def plane(xy: torch.Tensor) -> torch.Tensor:
    return xy[..., 0] + 10 * xy[..., 1]


def test_grid_follows_plotly_orientation():
    surface = sample_surface(plane, ((-1, 2), (0, 4)), 5)
    assert surface.x.tolist() == [-1.0, -0.25, 0.5, 1.25, 2.0]
    assert surface.y.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert surface.z.shape == (5, 5)
    for j in range(5):
        for i in range(5):
            assert surface.z[j, i] == surface.x[i] + 10 * surface.y[j]
    assert (surface.z_min, surface.z_max) == (-1.0, 42.0)


def test_full_resolution_is_one_vectorised_call():
    calls = []

    def counted(xy):
        calls.append((xy.shape, torch.is_grad_enabled()))
        return plane(xy)

    surface = sample_surface(counted, ((-1, 1), (-1, 1)), MAX_RESOLUTION)
    assert calls == [((MAX_RESOLUTION, MAX_RESOLUTION, 2), False)]
    assert surface.z.shape == (MAX_RESOLUTION, MAX_RESOLUTION)
    assert surface.z.dtype == np.float64


@pytest.mark.parametrize("resolution", [1, 0, -5, MAX_RESOLUTION + 1, 2.5, "10", True, None])
def test_bad_resolution_is_named(resolution):
    with pytest.raises(ValueError, match="resolution"):
        sample_surface(plane, ((0, 1), (0, 1)), resolution)


@pytest.mark.parametrize(
    "view_box", [((1, 0), (0, 1)), ((0, 1), (2, 2)), ((0, math.inf), (0, 1)), ((0, 1),), "box"]
)
def test_bad_view_box_is_named(view_box):
    with pytest.raises(ValueError, match="view_box"):
        sample_surface(plane, view_box, 10)


def test_wrong_output_shape_is_named():
    with pytest.raises(ValueError, match="fn"):
        sample_surface(lambda xy: xy.sum(), ((0, 1), (0, 1)), 10)


def test_non_finite_values_never_reach_json():
    # log(x) over x in [-1, 1]: NaN left of 0, -inf at 0 (x = 0 is on the 5-point grid).
    surface = sample_surface(lambda xy: torch.log(xy[..., 0]) + xy[..., 1], ((-1, 1), (0, 1)), 5)
    assert np.isnan(surface.z[:, :2]).all()
    assert np.isneginf(surface.z[:, 2]).all()
    assert (surface.z_min, surface.z_max) == (math.log(0.5), 1.0)
    for log in (False, True):
        plotly = surface.to_plotly(log=log)
        text = json.dumps(plotly, allow_nan=False)
        assert json.loads(text)["z"][0][:3] == [None, None, None]
        assert all(v is not None for row in plotly["z"] for v in row[3:])


def test_all_non_finite_surface():
    surface = sample_surface(lambda xy: torch.full(xy.shape[:-1], math.nan), ((0, 1), (0, 1)), 3)
    assert surface.z_min is None
    assert surface.z_max is None
    plotly = surface.to_plotly(log=True)
    assert plotly["z"] == [[None] * 3] * 3
    assert plotly["z_min"] is None


def test_log_transform_is_safe_and_monotone():
    # The six-hump camel takes negative values: the shift by z_min handles them.
    camel = next(entry for entry in list_landscapes() if entry.id == "six_hump_camel")
    surface = sample_surface(camel.bind(), camel.view_box, 60)
    log_z = surface.log_z()
    assert np.isfinite(log_z).all()
    span = surface.z_max - surface.z_min
    assert log_z.min() == pytest.approx(math.log10(LOG_DYNAMIC_RANGE * span))
    assert log_z.max() == pytest.approx(math.log10(span), abs=1e-5)
    order = np.argsort(surface.z, axis=None)
    assert (np.diff(log_z.flatten()[order]) >= 0).all()
    flat = sample_surface(lambda xy: xy[..., 0] * 0 + 3, ((0, 1), (0, 1)), 4)
    assert (flat.log_z() == 0).all()


@pytest.mark.parametrize("entry", list_landscapes(), ids=lambda entry: entry.id)
def test_every_registry_surface_is_finite_and_json_safe(entry):
    surface = sample_surface(entry.bind(), entry.view_box, 64)
    assert np.isfinite(surface.z).all()
    plotly = surface.to_plotly(log=entry.colour_scale == "log")
    assert len(plotly["x"]) == len(plotly["y"]) == 64
    assert len(plotly["z"]) == 64
    assert all(len(row) == 64 for row in plotly["z"])
    json.dumps(plotly, allow_nan=False)


def test_float32_surface_and_typed_function():
    typed = expression_landscape("sin(x)*y**2 + 0.1*(x**2+y**2)")
    single = sample_surface(typed.bind(), typed.view_box, 50, dtype=torch.float32)
    double = sample_surface(typed.bind(), typed.view_box, 50)
    np.testing.assert_allclose(single.z, double.z, rtol=1e-5, atol=1e-5)
