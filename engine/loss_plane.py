r"""The loss landscape around a network's training path, on a 2-D plane through its weights.

Li, Xu, Taylor, Studer and Goldstein (2018) draw a network's loss on a plane through weights
:math:`\theta^*` (the trained weights by default),

.. math::

    f(\alpha, \beta) = L(\theta^* + \alpha\,\delta + \beta\,\eta),

for two directions :math:`\delta, \eta` of the same size as :math:`\theta`, and this module offers
their two choices:

- ``"pca"`` (their section 7): the two principal directions of the training path's weights
  relative to :math:`\theta^*`, the plane that best holds the path, with the share of the path's
  variance each explains. The path then draws honestly on the contour.
- ``"filter"`` (their section 4): Gaussian directions rescaled filter by filter to the norms of
  :math:`\theta^*`'s filters, so that pictures of networks with different weight scales compare.
  The path is mostly *not* in such a plane; its least-squares projection is reported with the
  distance it leaves out.

Everything works on plain tensors: a trajectory of flat parameter vectors, the shapes the flat
vector splits into, and a batched loss ``loss_of_weights(W: (B, P)) -> (B,)``. Nothing here
knows the network; the grid is evaluated ``chunk_size`` weight vectors at a time. Example with
``W`` the stacked weights of the kept steps::

    plane = loss_plane(W, [(32, 2), (32,), (3, 32), (3,)], batched_loss, kind="pca")
    plane.alpha, plane.beta, plane.loss      # axes and the (A, B) grid, masked where non-finite
    plane.path                               # (T, 2) coordinates of every kept step
    plane.path_loss                          # (T,) the loss there: the path on the surface

References:
    Li, Xu, Taylor, Studer, Goldstein. "Visualizing the Loss Landscape of Neural Nets".
    NeurIPS 2018, arXiv:1712.09913. Code: https://github.com/tomgoldstein/loss-landscape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

__all__ = [
    "MAX_RESOLUTION",
    "MIN_ASPECT",
    "MIN_RESOLUTION",
    "LossPlane",
    "evaluate_grid",
    "evaluate_points",
    "filter_normalized_directions",
    "grid_axes",
    "loss_plane",
    "pca_directions",
    "project_path",
]

Kind = Literal["pca", "filter"]
LossOfWeights = Callable[[torch.Tensor], torch.Tensor]

MIN_RESOLUTION = 2
MAX_RESOLUTION = 1025
MIN_ASPECT = 0.2


@dataclass(frozen=True)
class LossPlane:
    r"""The loss on a plane :math:`\theta^* + \alpha\,\delta + \beta\,\eta` and the path in it.

    Attributes:
        kind: ``"pca"`` or ``"filter"``: how ``directions`` were chosen.
        center: :math:`\theta^*`, shape ``(P,)``, the trajectory's dtype and device.
        directions: :math:`(\delta, \eta)` stacked, shape ``(2, P)``, float64. Orthonormal for
            ``"pca"``; filter-normalised (neither unit nor orthogonal) for ``"filter"``.
        explained_variance: for ``"pca"``, the share of the path's variance along each
            direction, :math:`(\sigma_1^2, \sigma_2^2) / \sum_k \sigma_k^2`; ``None`` otherwise.
        alpha: the grid's coordinates along ``directions[0]``, shape ``(A,)``, increasing.
        beta: along ``directions[1]``, shape ``(B,)``, increasing.
        loss: ``loss[i, j]`` :math:`= L(\theta^* + \alpha_i \delta + \beta_j \eta)`, shape
            ``(A, B)``, float64, masked where the loss was not finite (the data under the mask
            is 0, never NaN). Note the axis order: ``alpha`` indexes rows, so a plot library
            taking ``z[y][x]`` with ``x = alpha`` wants ``loss.T``.
        path: coordinates :math:`(\alpha_t, \beta_t)` of every kept step, shape ``(T, 2)``.
        path_residual: :math:`\lVert \theta_t - \theta^* - \alpha_t\delta - \beta_t\eta \rVert`,
            shape ``(T,)``: how far each kept step lies off the plane (0 where the path is in it).
        path_loss: :math:`L(\theta^* + \alpha_t\delta + \beta_t\eta)`, shape ``(T,)``,
            float64, masked where not finite: the loss *on the plane* under each kept step, so
            the path lies on the surface of ``loss``. It equals the step's own loss where the
            step is in the plane (``path_residual`` 0), e.g. at the centre.
        center_loss: :math:`L(\theta^*)`, or ``None`` when not finite.
    """

    kind: Kind
    center: torch.Tensor
    directions: torch.Tensor
    explained_variance: tuple[float, float] | None
    alpha: np.ndarray
    beta: np.ndarray
    loss: np.ma.MaskedArray
    path: np.ndarray
    path_residual: np.ndarray
    path_loss: np.ma.MaskedArray
    center_loss: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain lists; a non-finite loss is ``None``. Directions are left out (they
        are as large as the network)."""
        return {
            "kind": self.kind,
            "explained_variance": (
                list(self.explained_variance) if self.explained_variance is not None else None
            ),
            "alpha": self.alpha.tolist(),
            "beta": self.beta.tolist(),
            "loss": _nullable(self.loss).tolist(),
            "path": self.path.tolist(),
            "path_residual": self.path_residual.tolist(),
            "path_loss": _nullable(self.path_loss).tolist(),
            "center_loss": self.center_loss,
        }


def _nullable(values: np.ma.MaskedArray) -> np.ndarray:
    """``values`` as an object array of floats, ``None`` where masked (JSON's ``null``)."""
    plain = values.data.astype(object)
    plain[np.ma.getmaskarray(values)] = None
    return plain


def _as_trajectory(trajectory: Any) -> torch.Tensor:
    if isinstance(trajectory, np.ndarray):
        trajectory = torch.from_numpy(trajectory)
    if not isinstance(trajectory, torch.Tensor):
        raise ValueError(
            f"trajectory must be a tensor or numpy array of shape (T, P), "
            f"got {type(trajectory).__name__}"
        )
    if trajectory.ndim != 2 or trajectory.shape[0] < 1 or trajectory.shape[1] < 1:
        raise ValueError(
            f"trajectory must have shape (T, P) with T, P >= 1, got {tuple(trajectory.shape)}"
        )
    if not trajectory.is_floating_point():
        raise ValueError(f"trajectory must hold floating-point weights, got {trajectory.dtype}")
    if not bool(torch.isfinite(trajectory).all()):
        # A diverged run: cut the trajectory at the last finite step before drawing its plane.
        raise ValueError("trajectory contains non-finite weights; keep only the finite steps")
    # Weights kept during training may still carry autograd history; none is needed here.
    return trajectory.detach()


def _as_center(center: Any, trajectory: torch.Tensor) -> torch.Tensor:
    if center is None:
        return trajectory[-1]
    if isinstance(center, np.ndarray):
        center = torch.from_numpy(center)
    if not isinstance(center, torch.Tensor) or tuple(center.shape) != (trajectory.shape[1],):
        shape = tuple(center.shape) if hasattr(center, "shape") else type(center).__name__
        raise ValueError(
            f"center must be a tensor of shape ({trajectory.shape[1]},) like one step of "
            f"trajectory, got {shape}"
        )
    if not bool(torch.isfinite(center).all()):
        raise ValueError("center contains non-finite weights")
    return center.to(device=trajectory.device, dtype=trajectory.dtype)


def _check_shapes(param_shapes: Sequence[Sequence[int]], size: int) -> list[tuple[int, ...]]:
    try:
        shapes = [tuple(int(n) for n in shape) for shape in param_shapes]
    except TypeError as error:
        raise ValueError(
            f"param_shapes must be a list of shapes such as [(32, 2), (32,)]: {error}"
        ) from None
    if not shapes or any(len(s) == 0 or min(s) < 1 for s in shapes):
        raise ValueError(
            f"param_shapes must be a non-empty list of non-empty positive shapes, got {shapes}"
        )
    total = sum(math.prod(s) for s in shapes)
    if total != size:
        raise ValueError(
            f"param_shapes hold {total} numbers but a weight vector has {size} (trajectory's P)"
        )
    return shapes


def pca_directions(
    trajectory: torch.Tensor, center: torch.Tensor | None = None
) -> tuple[torch.Tensor, tuple[float, float]]:
    r"""The two principal directions of a training path around ``center`` (Li et al., section 7).

    With kept steps :math:`\theta_0, \dots, \theta_{T-1}` and centre :math:`\theta^*`
    (default :math:`\theta_{T-1}`, the final weights), the rows of

    .. math::

        M = [\theta_0 - \theta^*; \dots; \theta_{T-1} - \theta^*] \in \mathbb{R}^{T \times P}

    are centred on their mean, :math:`\bar M = M - \mathbf{1}\mu^\top`, and factored,
    :math:`\bar M = U \Sigma V^\top` (thin SVD, :math:`\sigma_1 \ge \sigma_2 \ge \dots`). The
    directions are :math:`\delta = v_1, \eta = v_2` and their explained variance ratios
    :math:`\sigma_k^2 / \sum_j \sigma_j^2`.

    Signs (an SVD leaves them free) are fixed so that the path's first step has a
    non-negative coordinate on each direction (ties broken by the largest-magnitude component
    being positive): the same path always gives the same picture.

    Args:
        trajectory: ``(T, P)`` weights, ``T >= 2``, finite.
        center: ``(P,)``; default the last row of ``trajectory``.

    Returns:
        ``(directions, explained_variance)``: ``(2, P)`` float64 orthonormal rows on
        ``trajectory``'s device, and the two ratios.

    Raises:
        ValueError: ``T < 2``, or a path that never moves (no direction is principal).

    Deviations:
        The paper says "apply PCA to M"; PCA centres the rows on their mean first, which is
        what the authors' code does (``sklearn.decomposition.PCA`` on :math:`M`), and so does
        this function. Centring cancels :math:`\theta^*`, so the directions are those of the
        path itself whatever the centre; the plane still passes through :math:`\theta^*`.
    """
    trajectory = _as_trajectory(trajectory)
    if trajectory.shape[0] < 2:
        raise ValueError(
            f"trajectory needs at least 2 kept steps for a PCA plane, got {trajectory.shape[0]}"
        )
    center = _as_center(center, trajectory)
    M = trajectory.to(torch.float64) - center.to(torch.float64)
    M_bar = M - M.mean(dim=0, keepdim=True)
    _, S, Vh = torch.linalg.svd(M_bar, full_matrices=False)
    total = float((S * S).sum())
    if not total > 0.0:
        raise ValueError("trajectory never moves: every kept step has the same weights")
    if Vh.shape[0] < 2:
        # P == 1: a path on a line has no second direction.
        raise ValueError(f"trajectory needs P >= 2 weights for a plane, got {trajectory.shape[1]}")
    directions = Vh[:2].clone()
    first = M[0] @ directions.T
    for k in range(2):
        sign = torch.sign(first[k])
        if sign == 0:
            sign = torch.sign(directions[k][directions[k].abs().argmax()])
        directions[k] *= sign
    ratios = (S[:2] * S[:2] / total).tolist()
    return directions, (ratios[0], ratios[1])


def filter_normalized_directions(
    center: torch.Tensor,
    param_shapes: Sequence[Sequence[int]],
    *,
    seed: int = 0,
    include_biases: bool = False,
) -> torch.Tensor:
    r"""Two Gaussian directions, filter-normalised to ``center`` (Li et al., section 4).

    Each direction :math:`d \sim \mathcal{N}(0, I_P)` is drawn from a ``torch.Generator``
    seeded with ``seed`` (on the CPU in float64, so a seed gives the same directions on every
    device), split like the weights, and every filter is rescaled to the norm of the same
    filter of :math:`\theta^*`:

    .. math::

        d_{i,j} \leftarrow \frac{d_{i,j}}{\lVert d_{i,j} \rVert}\,\lVert \theta^*_{i,j} \rVert,

    where :math:`i` is a parameter of at least two dimensions and :math:`j` its first axis:
    for a fully connected layer's ``(out, in)`` weight, each output neuron's row; for a
    convolution's ``(out, in, kh, kw)``, each output filter. A filter of :math:`\theta^*` with
    norm 0 gets a zero direction.

    One-dimensional parameters (biases, normalisation scales) are set to 0, as in the paper:
    the plane then moves only the weight matrices. With ``include_biases=True`` each entry of a
    1-D parameter counts as its neuron's filter of size one, so the direction there is
    :math:`\pm|\theta^*_k|` with a random sign. The Gaussian draw is the same either way, so the
    option changes only the 1-D blocks.

    Args:
        center: ``(P,)`` weights :math:`\theta^*`.
        param_shapes: the shapes ``center`` splits into, in order.
        seed: seeds the generator; the two directions are the two rows of one ``(2, P)`` draw.
        include_biases: give 1-D parameters a direction instead of 0.

    Returns:
        ``(2, P)`` float64 on ``center``'s device.

    Deviations:
        With biases included, the authors' code copies :math:`\theta^*` itself into both
        directions' 1-D blocks, so the two directions coincide there; this function keeps them
        independent (random signs) at the same per-entry norm.
    """
    if not isinstance(center, torch.Tensor) or center.ndim != 1:
        shape = tuple(center.shape) if hasattr(center, "shape") else type(center).__name__
        raise ValueError(f"center must be a tensor of shape (P,), got {shape}")
    shapes = _check_shapes(param_shapes, center.shape[0])
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    generator = torch.Generator(device="cpu").manual_seed(seed)
    draw = torch.randn((2, center.shape[0]), generator=generator, dtype=torch.float64)
    theta = center.detach().to(device="cpu", dtype=torch.float64)
    out = torch.zeros_like(draw)
    offset = 0
    for shape in shapes:
        size = math.prod(shape)
        block = slice(offset, offset + size)
        offset += size
        if len(shape) == 1:
            if include_biases:
                out[:, block] = torch.sign(draw[:, block]) * theta[block].abs()
            continue
        filters = shape[0]
        d = draw[:, block].reshape(2, filters, -1)
        w_norm = theta[block].reshape(1, filters, -1).norm(dim=2, keepdim=True)
        d_norm = d.norm(dim=2, keepdim=True)
        # d_norm is 0 with probability 0 (a filter of one entry drawn exactly 0); keep 0 then.
        scale = torch.where(d_norm > 0, w_norm / d_norm.clamp_min(torch.finfo(d.dtype).tiny), 0)
        out[:, block] = (d * scale).reshape(2, size)
    return out.to(center.device)


def project_path(
    trajectory: torch.Tensor, center: torch.Tensor, directions: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    r"""Coordinates of each kept step in the plane, and how far it lies off the plane.

    With :math:`D = [\delta; \eta] \in \mathbb{R}^{2 \times P}` and
    :math:`x_t = \theta_t - \theta^*`, the coordinates are the least-squares solution

    .. math::

        (\alpha_t, \beta_t) = \arg\min_{c \in \mathbb{R}^2} \lVert D^\top c - x_t \rVert_2,

    the orthogonal projection onto the plane. For orthonormal directions (PCA) this is just
    :math:`D x_t`; filter-normalised directions are neither unit nor orthogonal, and the dot
    products would then be wrong coordinates (the authors' code divides by norms, which is
    exact only for orthogonal directions). The residual is
    :math:`\lVert x_t - D^\top (\alpha_t, \beta_t) \rVert`.

    Returns:
        ``(path, residual)``: float64 arrays of shapes ``(T, 2)`` and ``(T,)``.
    """
    X = (trajectory.to(torch.float64) - center.to(torch.float64)).T  # (P, T)
    A = directions.to(device=X.device, dtype=torch.float64).T  # (P, 2)
    # Least squares through a QR of A: the normal equations would square A's condition number.
    Q, R = torch.linalg.qr(A)
    # LAPACK's rank tolerance: a diagonal entry below max(P, 2) eps |R|_max is rounding noise.
    tol = max(A.shape) * torch.finfo(R.dtype).eps * R.abs().max()
    if not bool((R.diagonal().abs() > tol).all()):
        raise ValueError("directions must be linearly independent to span a plane")
    coords = torch.linalg.solve_triangular(R, Q.T @ X, upper=True)  # (2, T)
    residual = (X - A @ coords).norm(dim=0)
    return coords.T.cpu().numpy(), residual.cpu().numpy()


def _check_resolution(resolution: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(resolution, int | np.integer):
        pair = (resolution, resolution)
    elif isinstance(resolution, tuple | list):
        pair = tuple(resolution)
    else:
        pair = ()
    if len(pair) != 2 or not all(
        isinstance(n, int | np.integer)
        and not isinstance(n, bool)
        and MIN_RESOLUTION <= n <= MAX_RESOLUTION
        for n in pair
    ):
        raise ValueError(
            f"resolution must be an int or a pair of ints in [{MIN_RESOLUTION}, "
            f"{MAX_RESOLUTION}], got {resolution!r}"
        )
    return int(pair[0]), int(pair[1])


def _check_range(name: str, value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (lo, hi) of numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with lo < hi, got {value!r}")
    return lo, hi


def grid_axes(
    path: np.ndarray,
    resolution: int | tuple[int, int] = 41,
    *,
    margin: float = 0.25,
    alpha_range: tuple[float, float] | None = None,
    beta_range: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Evenly spaced axes that cover the projected path and the centre, with a margin.

    Along each axis the covered interval is :math:`[\min(0, c_{\min}), \max(0, c_{\max})]` of the
    path's coordinates :math:`c` (so the centre, at 0, is inside), widened by ``margin`` times
    its width on each side. An interval narrower than ``MIN_ASPECT`` times the other one is
    widened about its middle to that width (to 1 when the path never leaves the centre): a
    nearly straight path would otherwise get a sliver of a grid that shows nothing beside it.
    Both kinds of directions have comparable norms, so comparable widths are comparable
    distances in weight space. ``alpha_range``/``beta_range`` replace the automatic interval of
    their axis.

    Returns:
        ``(alpha, beta)``: float64 arrays of ``resolution`` points (or the pair's two counts).
    """
    n_alpha, n_beta = _check_resolution(resolution)
    if not (isinstance(margin, int | float) and math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    alpha_range = _check_range("alpha_range", alpha_range)
    beta_range = _check_range("beta_range", beta_range)
    path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
    lo, hi = path.min(axis=0, initial=0.0), path.max(axis=0, initial=0.0)
    width = hi - lo
    floor = MIN_ASPECT * width.max() if width.max() > 0 else 1.0
    for k in range(2):
        if width[k] < floor:
            mid = (lo[k] + hi[k]) / 2
            width[k] = floor
            lo[k], hi[k] = mid - floor / 2, mid + floor / 2
    lo, hi = lo - margin * width, hi + margin * width
    a_lo, a_hi = alpha_range if alpha_range is not None else (lo[0], hi[0])
    b_lo, b_hi = beta_range if beta_range is not None else (lo[1], hi[1])
    return np.linspace(a_lo, a_hi, n_alpha), np.linspace(b_lo, b_hi, n_beta)


def _evaluate(loss_of_weights: LossOfWeights, weights: torch.Tensor, expected: int) -> torch.Tensor:
    values = loss_of_weights(weights)
    if not isinstance(values, torch.Tensor) or tuple(values.shape) != (expected,):
        shape = tuple(values.shape) if hasattr(values, "shape") else type(values).__name__
        raise ValueError(
            f"loss_of_weights must return a tensor of shape (B,) = ({expected},) for weights of "
            f"shape {tuple(weights.shape)}, got {shape}"
        )
    return values.detach().to(device="cpu", dtype=torch.float64)


def evaluate_grid(
    center: torch.Tensor,
    directions: torch.Tensor,
    alpha: np.ndarray,
    beta: np.ndarray,
    loss_of_weights: LossOfWeights,
    *,
    chunk_size: int = 64,
) -> np.ma.MaskedArray:
    r"""The loss at every grid point :math:`\theta^* + \alpha_i\delta + \beta_j\eta`, in chunks.

    The :math:`A \cdot B` points are taken in row-major order (``alpha`` slow, ``beta`` fast)
    and evaluated by :func:`evaluate_points`, so memory is bounded by one chunk whatever the
    resolution, and the chunk size changes no bit of the result.

    The best chunk is a property of the machine and the network, not of this function: on a
    CPU, chunks whose activations stay in cache are fastest (``bench/loss_plane.py`` measures
    8 to 64 at 1.7x to 2.2x one-at-a-time for a 2-32-32-3 MLP on 1,000 points, and 256 or more
    slower than one at a time); on a GPU, the whole grid at once if it fits.

    Args:
        center: ``(P,)`` :math:`\theta^*`; sets the dtype and device of the weights evaluated.
        directions: ``(2, P)`` :math:`(\delta, \eta)`.
        alpha, beta: 1-D finite grid coordinates.
        loss_of_weights: ``(B, P)`` weights to ``(B,)`` losses.
        chunk_size: weight vectors per call, ``>= 1``.

    Returns:
        ``(A, B)`` float64, masked where the loss is not finite (data 0 there).
    """
    for name, axis in (("alpha", alpha), ("beta", beta)):
        axis = np.asarray(axis)
        if axis.ndim != 1 or axis.size == 0 or not np.isfinite(axis).all():
            raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers")
    grid_a, grid_b = np.meshgrid(np.asarray(alpha), np.asarray(beta), indexing="ij")
    coords = np.stack((grid_a.ravel(), grid_b.ravel()), axis=1)
    values = evaluate_points(center, directions, coords, loss_of_weights, chunk_size=chunk_size)
    return values.reshape(grid_a.shape)


def evaluate_points(
    center: torch.Tensor,
    directions: torch.Tensor,
    coords: np.ndarray,
    loss_of_weights: LossOfWeights,
    *,
    chunk_size: int = 64,
) -> np.ma.MaskedArray:
    r"""The loss at points :math:`\theta^* + a_k\delta + b_k\eta` of the plane, in chunks.

    ``chunk_size`` points at a time, each chunk's weights are built as a ``(chunk, P)`` tensor
    in ``center``'s dtype and device and passed to ``loss_of_weights`` under
    ``torch.no_grad()``. Every point's weights are computed by the same elementwise operations
    whichever chunk it falls in, so the chunk size changes no bit of the result when
    ``loss_of_weights`` treats its rows independently; and a grid point and a path point with
    the same coordinates get the same bits.

    Args:
        center: ``(P,)`` :math:`\theta^*`; sets the dtype and device of the weights evaluated.
        directions: ``(2, P)`` :math:`(\delta, \eta)`.
        coords: ``(N, 2)`` finite coordinates :math:`(a_k, b_k)`.
        loss_of_weights: ``(B, P)`` weights to ``(B,)`` losses.
        chunk_size: weight vectors per call, ``>= 1``.

    Returns:
        ``(N,)`` float64, masked where the loss is not finite (data 0 there).
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    if not callable(loss_of_weights):
        raise ValueError("loss_of_weights must be callable: (B, P) weights -> (B,) losses")
    if not isinstance(center, torch.Tensor) or center.ndim != 1:
        shape = tuple(center.shape) if hasattr(center, "shape") else type(center).__name__
        raise ValueError(f"center must be a tensor of shape (P,), got {shape}")
    if not isinstance(directions, torch.Tensor) or tuple(directions.shape) != (2, len(center)):
        shape = tuple(directions.shape) if hasattr(directions, "shape") else type(directions)
        raise ValueError(f"directions must have shape (2, {len(center)}), got {shape}")
    coords = np.asarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or not np.isfinite(coords).all():
        raise ValueError(f"coords must be an (N, 2) array of finite numbers, got {coords.shape}")
    dtype, device = center.dtype, center.device
    d1, d2 = directions.to(device=device, dtype=dtype)
    base = center.detach()
    points = torch.from_numpy(coords).to(device=device, dtype=dtype)
    values = torch.empty(points.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, points.shape[0], chunk_size):
            a = points[start : start + chunk_size, 0:1]
            b = points[start : start + chunk_size, 1:2]
            # Separate multiplies and adds (no addmm/addcmul): fused forms round differently in
            # vectorised and scalar tails, which would make a point's bits depend on its chunk.
            weights = base + a * d1 + b * d2
            values[start : start + a.shape[0]] = _evaluate(loss_of_weights, weights, a.shape[0])
    result = values.numpy()
    finite = np.isfinite(result)
    return np.ma.MaskedArray(np.where(finite, result, 0.0), mask=~finite)


def loss_plane(
    trajectory: torch.Tensor | np.ndarray,
    param_shapes: Sequence[Sequence[int]],
    loss_of_weights: LossOfWeights,
    *,
    kind: Kind = "pca",
    center: torch.Tensor | np.ndarray | None = None,
    resolution: int | tuple[int, int] = 41,
    margin: float = 0.25,
    alpha_range: tuple[float, float] | None = None,
    beta_range: tuple[float, float] | None = None,
    seed: int = 0,
    include_biases: bool = False,
    chunk_size: int = 64,
) -> LossPlane:
    r"""The loss on a plane through ``center`` and the training path projected onto it.

    Chooses directions :math:`\delta, \eta` (``kind="pca"``: :func:`pca_directions`;
    ``kind="filter"``: :func:`filter_normalized_directions`), projects every kept step onto the
    plane (:func:`project_path`), lays a grid over the projected path (:func:`grid_axes`) and
    evaluates :math:`L(\theta^* + \alpha\delta + \beta\eta)` on it and under the path in chunks
    (:func:`evaluate_grid`, :func:`evaluate_points`).

    Args:
        trajectory: ``(T, P)`` flat weights at the kept steps (torch tensor or numpy array,
            float32 or float64); the grid is evaluated in this dtype and on this device.
        param_shapes: the shapes the flat vector splits into, in order, e.g.
            ``[(32, 2), (32,), (32, 32), (32,), (3, 32), (3,)]`` (weights ``(out, in)``, then
            bias). Their sizes must add up to ``P``.
        loss_of_weights: ``(B, P)`` weights to ``(B,)`` losses, one per row.
        kind: ``"pca"`` (needs ``T >= 2``) or ``"filter"``.
        center: :math:`\theta^*`, ``(P,)``; default the final weights ``trajectory[-1]``.
        resolution: grid points per axis, or ``(A, B)``; each in
            ``[MIN_RESOLUTION, MAX_RESOLUTION]``.
        margin: how far the grid extends past the path, as a fraction of its extent.
        alpha_range, beta_range: fixed ``(lo, hi)`` for an axis instead of the automatic one
            (e.g. ``(-1, 1)``, the paper's range for filter-normalised directions).
        seed: the generator seed of ``kind="filter"``.
        include_biases: ``kind="filter"`` only: move 1-D parameters too.
        chunk_size: weight vectors per call of ``loss_of_weights``.

    Returns:
        A :class:`LossPlane`.

    Raises:
        ValueError: naming the argument that is wrong.
    """
    trajectory = _as_trajectory(trajectory)
    shapes = _check_shapes(param_shapes, trajectory.shape[1])
    if kind not in ("pca", "filter"):
        raise ValueError(f"kind must be 'pca' or 'filter', got {kind!r}")
    if not callable(loss_of_weights):
        raise ValueError("loss_of_weights must be callable: (B, P) weights -> (B,) losses")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    _check_resolution(resolution)
    theta = _as_center(center, trajectory)
    if kind == "pca":
        directions, explained = pca_directions(trajectory, theta)
    else:
        directions = filter_normalized_directions(
            theta, shapes, seed=seed, include_biases=include_biases
        )
        explained = None
        if not bool((directions.norm(dim=1) > 0).all()):
            raise ValueError(
                "center has no nonzero filter to normalise to (every weight of a "
                "multi-dimensional parameter is 0), so the filter-normalised directions are 0"
            )
    path, residual = project_path(trajectory, theta, directions)
    alpha, beta = grid_axes(
        path, resolution, margin=margin, alpha_range=alpha_range, beta_range=beta_range
    )
    loss = evaluate_grid(theta, directions, alpha, beta, loss_of_weights, chunk_size=chunk_size)
    path_loss = evaluate_points(theta, directions, path, loss_of_weights, chunk_size=chunk_size)
    with torch.no_grad():
        center_value = float(_evaluate(loss_of_weights, theta.detach().unsqueeze(0), 1)[0])
    return LossPlane(
        kind=kind,
        center=theta,
        directions=directions,
        explained_variance=explained,
        alpha=alpha,
        beta=beta,
        loss=loss,
        path=path,
        path_residual=residual,
        path_loss=path_loss,
        center_loss=center_value if math.isfinite(center_value) else None,
    )
