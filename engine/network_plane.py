"""The loss landscape around each network row's training path, once the run has trained.

engine/loss_plane.py on a row's kept weights (``training_events(..., keep_weights=K)``): the
plane through its final weights (the path's two principal directions, or two filter-normalised
random ones), the row's *training* loss on a grid in that plane, and its path projected onto
it. The loss is the one the run records as ``loss``: the whole training set's mean, through the
same batched network (tasks/mlp.py), so the path's last point sits on the grid's value there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.loss_plane import loss_plane
from engine.network_spec import PlaneSpec
from tasks import mlp

__all__ = ["parameter_shapes", "row_planes"]


def parameter_shapes(layer_shapes: tuple[tuple[int, int], ...]) -> list[tuple[int, ...]]:
    """The shapes a row's flat weights split into, in the engine's order ``W_1, b_1, ...``."""
    shapes: list[tuple[int, ...]] = []
    for out, inp in layer_shapes:
        shapes += [(out, inp), (out,)]
    return shapes


def row_planes(plan: Any, weights: dict[str, np.ndarray], spec: PlaneSpec) -> dict[str, Any]:
    """The ``plane`` event: one entry per row (:meth:`engine.loss_plane.LossPlane.to_dict`
    with its ``row``), or, for a row whose path gives no plane (its network was not valid from
    the start, so its weights never moved), ``{"row", "kind", "reason"}``.

    Args:
        plan: the run's ``NetworkPlan``.
        weights: ``done``'s ``weights``: ``{"steps": (K,), "rows": (R, K, P)}``.
        spec: the run's ``plane``.
    """
    shapes = parameter_shapes(plan.shapes)
    data, kind = plan.data, plan.data.kind
    activation = plan.spec.task.model.activation
    x_train = data.x_train.to(plan.dtype)
    y_train = data.y_train if kind == "classification" else data.y_train.to(plan.dtype)
    sizes = [int(np.prod(shape)) for shape in shapes]

    def training_loss(flat: torch.Tensor) -> torch.Tensor:
        """Each of ``B`` flat weight vectors' mean training loss ``(B,)``."""
        batch = flat.shape[0]
        params = [
            part.reshape(batch, *shape)
            for part, shape in zip(flat.split(sizes, dim=1), shapes, strict=True)
        ]
        with torch.no_grad():
            return mlp.losses(mlp.forward(params, x_train, activation), y_train, kind)

    rows = []
    for row, path in zip(plan.rows, weights["rows"], strict=True):
        trajectory = torch.from_numpy(np.ascontiguousarray(path)).to(plan.dtype)
        try:
            plane = loss_plane(
                trajectory,
                shapes,
                training_loss,
                kind=spec.kind,
                resolution=spec.resolution,
                seed=spec.seed,
            )
        except ValueError as error:  # a path that never moved has no principal plane
            rows.append({"row": row.index, "kind": spec.kind, "reason": str(error)})
            continue
        rows.append({"row": row.index, **plane.to_dict()})
    return {"steps": weights["steps"], "rows": rows}
