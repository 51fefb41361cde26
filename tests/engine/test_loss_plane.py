"""The loss plane around a training path (Li et al. 2018): PCA and filter-normalised directions
against their definitions, path projections, and the grid against point-by-point evaluation."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
import torch

from engine.loss_plane import (
    MAX_RESOLUTION,
    evaluate_grid,
    filter_normalized_directions,
    grid_axes,
    loss_plane,
    pca_directions,
    project_path,
)

SHAPES = [(8, 2), (8,), (8, 8), (8,), (3, 8), (3,)]
P = sum(math.prod(s) for s in SHAPES)


def blobs(n: int = 60, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three Gaussian blobs in the plane, ``n`` points, float64 inputs and class labels."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    means = torch.tensor([[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]], dtype=torch.float64)
    x = means[y] + 0.4 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return x, y


def mlp_loss(x: torch.Tensor, y: torch.Tensor):
    """Cross-entropy of a tanh MLP with ``SHAPES``, batched over rows of flat weights, written
    with plain torch (no engine code): ``(B, P) -> (B,)``."""

    def loss(W: torch.Tensor) -> torch.Tensor:
        params, offset = [], 0
        for shape in SHAPES:
            size = math.prod(shape)
            params.append(W[:, offset : offset + size].reshape(W.shape[0], *shape))
            offset += size
        h = x.to(W.dtype)
        for i in range(0, len(params), 2):
            weight, bias = params[i], params[i + 1]
            h = torch.matmul(h, weight.transpose(1, 2)) + bias[:, None, :]
            if i + 2 < len(params):
                h = torch.tanh(h)
        log_p = torch.log_softmax(h, dim=-1)
        return -log_p.gather(-1, y.expand(W.shape[0], -1)[..., None]).squeeze(-1).mean(dim=1)

    return loss


def trained_path(steps: int = 60, keep_every: int = 3, dtype=torch.float64) -> torch.Tensor:
    """Kept weights of plain gradient descent on ``blobs`` from a seeded start: ``(T, P)``."""
    return _trained_path(steps, keep_every).to(dtype, copy=True)


@lru_cache
def _trained_path(steps: int, keep_every: int) -> torch.Tensor:
    x, y = blobs()
    loss = mlp_loss(x, y)
    g = torch.Generator().manual_seed(1)
    w = (0.5 * torch.randn(1, P, generator=g, dtype=torch.float64)).requires_grad_()
    kept = [w.detach().clone()]
    for step in range(1, steps + 1):
        (grad,) = torch.autograd.grad(loss(w).sum(), w)
        with torch.no_grad():
            w -= 0.5 * grad
        if step % keep_every == 0:
            kept.append(w.detach().clone())
    return torch.cat(kept)


def in_plane_path(T: int = 12, seed: int = 2):
    """A path exactly in a 2-D affine plane through its last point: ``theta* + a u + b v`` with
    non-orthogonal ``u, v`` and ``(a, b) = 0`` at the last step."""
    g = torch.Generator().manual_seed(seed)
    center = torch.randn(P, generator=g, dtype=torch.float64)
    u = torch.randn(P, generator=g, dtype=torch.float64)
    v = 0.6 * u + torch.randn(P, generator=g, dtype=torch.float64)
    coords = torch.randn(T, 2, generator=g, dtype=torch.float64)
    coords[-1] = 0
    trajectory = center + coords[:, :1] * u + coords[:, 1:] * v
    return trajectory, center, torch.stack((u, v)), coords


def filters(direction: torch.Tensor, shapes):
    offset = 0
    for shape in shapes:
        size = math.prod(shape)
        yield shape, direction[offset : offset + size].reshape(shape)
        offset += size


# PCA directions (section 7)


def test_pca_matches_numpy_svd_of_the_centred_path():
    trajectory = trained_path()
    directions, explained = pca_directions(trajectory)

    M = trajectory.numpy() - trajectory.numpy()[-1]
    _, S, Vt = np.linalg.svd(M - M.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(explained, (S[:2] ** 2) / (S**2).sum(), rtol=1e-12, atol=0)
    for k in range(2):
        sign = np.sign(directions[k].numpy() @ Vt[k])
        np.testing.assert_allclose(directions[k].numpy(), sign * Vt[k], rtol=0, atol=1e-12)
    np.testing.assert_allclose(directions @ directions.T, np.eye(2), atol=1e-14)
    assert explained[0] >= explained[1] > 0
    assert sum(explained) <= 1


def test_pca_signs_put_the_start_at_non_negative_coordinates():
    trajectory = trained_path()
    directions, _ = pca_directions(trajectory)
    start = (trajectory[0] - trajectory[-1]) @ directions.T
    assert bool((start >= 0).all())
    again, _ = pca_directions(trajectory.clone())
    assert torch.equal(directions, again)


def test_pca_directions_do_not_depend_on_the_centre():
    trajectory = trained_path()
    at_final, explained = pca_directions(trajectory)
    elsewhere, explained_elsewhere = pca_directions(trajectory, trajectory.mean(dim=0))
    assert explained == pytest.approx(explained_elsewhere, rel=1e-12)
    np.testing.assert_allclose(
        (at_final * elsewhere).sum(dim=1).abs(), np.ones(2), rtol=0, atol=1e-12
    )


def test_a_path_in_a_plane_is_recovered_exactly():
    trajectory, center, _, _ = in_plane_path()
    plane = loss_plane(trajectory, SHAPES, lambda W: W.square().sum(dim=1), kind="pca")

    assert sum(plane.explained_variance) == pytest.approx(1.0, abs=1e-14)
    assert plane.explained_variance[1] > 1e-3
    scale = float(trajectory.abs().max())
    np.testing.assert_allclose(plane.path_residual, 0.0, atol=1e-13 * scale)
    rebuilt = center + torch.from_numpy(plane.path) @ plane.directions
    np.testing.assert_allclose(rebuilt, trajectory, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(plane.path[-1], 0.0, atol=1e-13 * scale)


def test_least_squares_coordinates_for_non_orthogonal_directions():
    # Directions that are neither unit nor orthogonal (as filter-normalised ones are): the
    # in-plane path's own coordinates come back, where dot products would not give them.
    trajectory, center, directions, coords = in_plane_path()
    path, residual = project_path(trajectory, center, directions)
    np.testing.assert_allclose(path, coords.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(residual, 0.0, atol=1e-12)

    # Off the plane: the coordinates are numpy's least-squares solution, the residual its norm.
    off = trained_path()
    center = off[-1]
    path, residual = project_path(off, center, directions)
    X = (off - center).numpy().T
    expected, *_ = np.linalg.lstsq(directions.numpy().T, X, rcond=None)
    np.testing.assert_allclose(path, expected.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        residual, np.linalg.norm(X - directions.numpy().T @ expected, axis=0), rtol=1e-10
    )


# Filter-normalised directions (section 4)


def test_every_filter_has_the_centre_filters_norm_and_biases_are_zero():
    center = trained_path()[-1]
    directions = filter_normalized_directions(center, SHAPES, seed=3)
    assert directions.shape == (2, P)
    assert directions.dtype == torch.float64
    for d in directions:
        for (shape, block), (_, weights) in zip(
            filters(d, SHAPES), filters(center, SHAPES), strict=True
        ):
            if len(shape) == 1:
                assert bool((block == 0).all())
            else:
                np.testing.assert_allclose(
                    block.norm(dim=1), weights.norm(dim=1), rtol=1e-13, atol=0
                )
    # The two directions are independent draws, not one direction twice.
    assert not torch.allclose(directions[0], directions[1])


def test_filters_of_convolutions_are_output_channels():
    shapes = [(4, 2, 3, 3), (4,), (5, 36)]
    size = sum(math.prod(s) for s in shapes)
    center = torch.randn(size, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    directions = filter_normalized_directions(center, shapes, seed=0)
    conv = directions[:, :72].reshape(2, 4, -1)
    np.testing.assert_allclose(
        conv.norm(dim=2), center[:72].reshape(1, 4, -1).norm(dim=2).expand(2, 4), rtol=1e-13
    )


def test_including_biases_changes_only_the_biases():
    center = trained_path()[-1]
    without = filter_normalized_directions(center, SHAPES, seed=5)
    with_biases = filter_normalized_directions(center, SHAPES, seed=5, include_biases=True)
    for d0, d1 in zip(without, with_biases, strict=True):
        for (shape, a), (_, b), (_, w) in zip(
            filters(d0, SHAPES), filters(d1, SHAPES), filters(center, SHAPES), strict=True
        ):
            if len(shape) == 1:
                assert torch.equal(b.abs(), w.abs())
            else:
                assert torch.equal(a, b)
    assert not torch.equal(with_biases[0, 16:24], with_biases[1, 16:24])


def test_filter_directions_are_seeded():
    center = trained_path()[-1]
    first = filter_normalized_directions(center, SHAPES, seed=7)
    assert torch.equal(first, filter_normalized_directions(center, SHAPES, seed=7))
    assert not torch.equal(first, filter_normalized_directions(center, SHAPES, seed=8))
    # The global RNG is neither read nor advanced.
    state = torch.get_rng_state()
    filter_normalized_directions(center, SHAPES, seed=7)
    assert torch.equal(state, torch.get_rng_state())


def test_a_zero_filter_gets_a_zero_direction():
    center = trained_path()[-1].clone()
    center[:2] = 0  # the first hidden neuron's input weights
    directions = filter_normalized_directions(center, SHAPES, seed=0)
    assert bool((directions[:, :2] == 0).all())
    assert bool(torch.isfinite(directions).all())


# The grid


@pytest.mark.parametrize("kind", ["pca", "filter"])
def test_grid_equals_point_by_point_evaluation(kind):
    trajectory = trained_path()
    loss = mlp_loss(*blobs())
    plane = loss_plane(trajectory, SHAPES, loss, kind=kind, resolution=(7, 5), chunk_size=8)

    assert plane.loss.shape == (7, 5)
    assert not np.ma.getmaskarray(plane.loss).any()
    d1, d2 = plane.directions
    for i, a in enumerate(plane.alpha):
        for j, b in enumerate(plane.beta):
            weights = plane.center + float(a) * d1 + float(b) * d2
            assert plane.loss[i, j] == float(loss(weights[None])[0])
    assert plane.center_loss == float(loss(trajectory[-1:])[0])


@pytest.mark.parametrize("kind", ["pca", "filter"])
def test_path_loss_is_the_loss_on_the_plane_under_each_step(kind):
    trajectory = trained_path()
    loss = mlp_loss(*blobs())
    plane = loss_plane(trajectory, SHAPES, loss, kind=kind, resolution=5, chunk_size=7)

    assert plane.path_loss.shape == (len(trajectory),)
    d1, d2 = plane.directions
    for (a, b), value in zip(plane.path, plane.path_loss, strict=True):
        weights = plane.center + float(a) * d1 + float(b) * d2
        assert value == float(loss(weights[None])[0])
    # The centre is in the plane: there the surface's value is the step's own loss.
    assert plane.path_loss[-1] == plane.center_loss
    assert plane.to_dict()["path_loss"] == plane.path_loss.data.tolist()


def test_a_path_in_the_plane_lies_on_its_surface():
    trajectory, _, _, _ = in_plane_path()
    loss = mlp_loss(*blobs())
    plane = loss_plane(trajectory, SHAPES, loss, kind="pca", resolution=3)
    np.testing.assert_allclose(plane.path_loss, loss(trajectory).numpy(), rtol=1e-12)


def test_chunk_size_changes_no_bit():
    trajectory = trained_path()
    loss = mlp_loss(*blobs())
    directions, _ = pca_directions(trajectory)
    alpha, beta = grid_axes(project_path(trajectory, trajectory[-1], directions)[0], 11)
    grids = [
        evaluate_grid(trajectory[-1], directions, alpha, beta, loss, chunk_size=n)
        for n in (1, 7, 64, 121, 10_000)
    ]
    for grid in grids[1:]:
        assert np.array_equal(grid.data, grids[0].data)
        assert np.array_equal(np.ma.getmaskarray(grid), np.ma.getmaskarray(grids[0]))


def test_chunks_bound_the_batch():
    trajectory = trained_path()
    sizes = []

    def loss(W):
        sizes.append(W.shape[0])
        return W.square().sum(dim=1)

    loss_plane(trajectory, SHAPES, loss, resolution=10, chunk_size=32)
    assert max(sizes) == 32
    assert sum(sizes) == 10 * 10 + len(trajectory) + 1  # the grid, the path and the centre


def test_the_grid_covers_the_path_and_the_centre():
    trajectory = trained_path()
    plane = loss_plane(trajectory, SHAPES, mlp_loss(*blobs()), margin=0.25)
    assert plane.loss.shape == (41, 41)
    for k, axis in enumerate((plane.alpha, plane.beta)):
        lo, hi = min(plane.path[:, k].min(), 0), max(plane.path[:, k].max(), 0)
        assert axis[0] < lo
        assert axis[-1] > hi
        assert np.all(np.diff(axis) > 0)


def test_a_straight_path_still_gets_a_two_dimensional_grid():
    alpha, beta = grid_axes(np.array([[3.0, 0.0], [1.0, 1e-9], [0.0, 0.0]]), 5, margin=0)
    assert (alpha[0], alpha[-1]) == (0.0, 3.0)
    assert beta[-1] - beta[0] == pytest.approx(0.6)  # MIN_ASPECT of the path's extent
    alpha, beta = grid_axes(np.zeros((3, 2)), 3, alpha_range=(-1, 1))
    assert alpha.tolist() == [-1.0, 0.0, 1.0]
    assert beta[-1] - beta[0] > 0


def test_float32_numpy_trajectories_are_evaluated_in_float32():
    trajectory = trained_path(dtype=torch.float32).numpy()
    seen = set()
    inner = mlp_loss(*blobs())

    def loss(W):
        seen.add(W.dtype)
        return inner(W)

    plane = loss_plane(trajectory, SHAPES, loss, kind="filter", resolution=5)
    assert seen == {torch.float32}
    assert plane.center.dtype == torch.float32
    assert plane.path.dtype == np.float64
    assert not np.ma.getmaskarray(plane.loss).any()


def test_non_finite_losses_are_masked_never_nan():
    trajectory = trained_path()

    def loss(W):
        value = W.square().sum(dim=1)
        far = W[:, 0] - trajectory[-1, 0]
        return torch.where(far > 0, torch.nan, torch.where(far < -0.5, torch.inf, value))

    plane = loss_plane(trajectory, SHAPES, loss, resolution=9)
    mask = np.ma.getmaskarray(plane.loss)
    assert mask.any()
    assert not mask.all()
    assert np.isfinite(plane.loss.data).all()
    record = plane.to_dict()
    cells = [cell for row in record["loss"] for cell in row]
    assert cells.count(None) == mask.sum()
    assert all(cell is None or math.isfinite(cell) for cell in cells)
    assert record["center_loss"] == plane.center_loss
    path_mask = np.ma.getmaskarray(plane.path_loss)
    assert record["path_loss"].count(None) == path_mask.sum()
    assert all(value is None or math.isfinite(value) for value in record["path_loss"])


def test_a_non_finite_centre_loss_is_none():
    trajectory = trained_path()
    plane = loss_plane(
        trajectory, SHAPES, lambda W: torch.full((W.shape[0],), torch.inf), resolution=3
    )
    assert plane.center_loss is None
    assert np.ma.getmaskarray(plane.loss).all()


# Errors name the argument


def good_loss(W):
    return W.square().sum(dim=1)


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"trajectory": torch.zeros(P)}, "trajectory"),
        ({"trajectory": torch.zeros(1, P)}, "trajectory"),
        ({"trajectory": torch.zeros(4, P, dtype=torch.int64)}, "trajectory"),
        ({"trajectory": [[0.0] * P] * 3}, "trajectory"),
        ({"trajectory": torch.full((3, P), torch.inf)}, "trajectory"),
        ({"trajectory": torch.ones(3, P)}, "trajectory"),  # never moves
        ({"param_shapes": [(8, 2), (8,)]}, "param_shapes"),
        ({"param_shapes": [(P + 1,)]}, "param_shapes"),
        ({"param_shapes": [(0, P)]}, "param_shapes"),
        ({"param_shapes": [5]}, "param_shapes"),
        ({"param_shapes": []}, "param_shapes"),
        ({"loss_of_weights": "mse"}, "loss_of_weights"),
        ({"loss_of_weights": lambda W: W.sum()}, "loss_of_weights"),
        ({"loss_of_weights": lambda W: W[:, :2]}, "loss_of_weights"),
        ({"kind": "random"}, "kind"),
        ({"center": torch.zeros(P - 1)}, "center"),
        ({"center": torch.full((P,), torch.nan)}, "center"),
        ({"resolution": 1}, "resolution"),
        ({"resolution": MAX_RESOLUTION + 1}, "resolution"),
        ({"resolution": 4.0}, "resolution"),
        ({"resolution": (4,)}, "resolution"),
        ({"resolution": True}, "resolution"),
        ({"margin": -0.1}, "margin"),
        ({"alpha_range": (1.0, -1.0)}, "alpha_range"),
        ({"beta_range": (0.0, math.inf)}, "beta_range"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"seed": 1.5, "kind": "filter"}, "seed"),
        ({"kind": "filter", "center": torch.zeros(P)}, "center"),
    ],
)
def test_errors_name_the_argument(change, argument):
    args = {
        "trajectory": trained_path(steps=6, keep_every=2),
        "param_shapes": SHAPES,
        "loss_of_weights": good_loss,
        "resolution": 3,
        **change,
    }
    trajectory = args.pop("trajectory")
    shapes = args.pop("param_shapes")
    loss = args.pop("loss_of_weights")
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        loss_plane(trajectory, shapes, loss, **args)


def test_project_path_rejects_parallel_directions():
    trajectory, center, directions, _ = in_plane_path()
    with pytest.raises(ValueError, match=r"^directions"):
        project_path(trajectory, center, torch.stack((directions[0], 2 * directions[0])))


@pytest.mark.parametrize(
    ("change", "argument"),
    [
        ({"center": torch.zeros(2, P)}, "center"),
        ({"directions": torch.zeros(3, P)}, "directions"),
        ({"alpha": np.zeros((2, 2))}, "alpha"),
        ({"beta": np.array([0.0, np.nan])}, "beta"),
        ({"chunk_size": 2.0}, "chunk_size"),
    ],
)
def test_evaluate_grid_errors_name_the_argument(change, argument):
    args = {
        "center": torch.zeros(P, dtype=torch.float64),
        "directions": torch.eye(2, P, dtype=torch.float64),
        "alpha": np.linspace(-1, 1, 3),
        "beta": np.linspace(-1, 1, 3),
        "loss_of_weights": good_loss,
        **change,
    }
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        evaluate_grid(**args)
