r"""Network runs: every row's MLP trained in lockstep, streamed as events.

A :class:`NetworkRunSpec` expands into rows (series x sweep values x seeds), each a whole
network, and groups of rows stepped by one optimizer instance (engine/plan.py's idea: a series
whose swept hyperparameters accept tensors is one group; a swept hyperparameter that does not
needs one group per value). A group's networks are stacked per layer, weights ``(n, out, in)``
and biases ``(n, out)`` (tasks/mlp.py), and its optimizer is the registry's, unchanged, built
with ``independent_rows=True``: the leading dimension indexes independent networks, so ANDI
equilibrates each row's own matrices, and elementwise optimizers are elementwise anyway.

Every step :math:`t = 0, \dots, \text{steps}`, for the weights after :math:`t` updates:

1. the batch's mean loss per row (cross-entropy or mean squared error) and one backward pass
   over the rows' sum, which gives each row exactly its own gradient (the rows share no
   weights); with minibatches, the whole training set's loss as well (the recorded ``loss``
   is always the training set's, so full-batch and minibatch runs plot the same quantity);
2. the held-out loss and, for a classification, the held-out accuracy (no gradient);
3. a row whose weights, loss, held-out loss or gradient are not finite stops at ``t`` and
   goes back to its weights of step :math:`t - 1`, its last valid ones, where it stays (its
   gradient is zero from then on and whatever its optimizer's state still moves is put back
   every step); then one ``step()`` per group (AdaHessian's with the Hessian diagonal
   :math:`z \odot Hz` from per-row probes, :func:`hutchinson_diagonal`, for which the
   gradient keeps its graph).

Events, in the shape of engine/stepping.py's ``RunEvent``: ``meta`` (rows, task and its
points, model, snapshot grid); ``chunk``\ s of per-row columns as numpy arrays, ``steps``,
``loss``, ``held_out_loss``, ``accuracy`` (the held-out set's; classification only) and
``grad_norm`` (the norm, over all the row's weights, of the gradient its optimizer was given:
the whole training set's or the minibatch's), a stopped row's columns ending at its last valid
step; ``snapshot``\ s of every running row's predictions every ``snapshot_stride`` steps and at
the end (float32, for drawing: class probabilities ``(classes, 48, 48)``, y by x, over the grid
``meta`` gives, or the fitted curve ``(200,)``); when the spec asks for a ``plane``, the
``plane`` event once trained (engine/network_plane.py: the loss around each row's path); and
``done`` with per-row summaries.
Nothing sent is ever NaN or infinite: divergence is the ``diverged_at`` step.

Weight trajectories (for a loss-landscape plane, PCA of the weights a row visits) are kept only
when asked, ``keep_weights=K``: the weights at ``K`` steps spread evenly over ``0..steps``
(both ends included, :func:`engine.history.kept_steps`), flattened per row in the order
``W_1, b_1, W_2, b_2, ...`` (each row-major; ``meta``'s ``model.shapes`` unflattens them), in
``done``'s ``weights``. A stopped row's later entries repeat its last valid weights. They are
not part of the stream's JSON: a caller that asks for them takes them out of ``done`` before
writing it. ``K x rows x parameters`` is bounded by :data:`MAX_KEPT_WEIGHTS`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import torch

from engine.bulk import collector_paused
from engine.history import Stops, kept_steps
from engine.network_plane import row_planes
from engine.network_spec import (
    BOUNDARY_SIDE,
    CURVE_POINTS,
    MAX_KEPT_WEIGHTS,
    PLANE_KEPT_STEPS,
    NetworkRunSpec,
)
from engine.plan import Group, choose_device, expand_series, versions
from engine.stepping import CHUNK_SECONDS, RunFailedError
from landscapes.noise import random_bits
from tasks import mlp
from tasks.datasets import Dataset
from tasks.registry import TaskEntry

__all__ = [
    "MAX_KEPT_WEIGHTS",
    "NETWORK_COLUMNS",
    "NetworkPlan",
    "NetworkRow",
    "TrainingEvent",
    "collect_training_result",
    "hutchinson_diagonal",
    "plan_training",
    "train_to_result",
    "training_events",
]

# A network row's columns, in the order they are documented and exported (``accuracy`` only
# for a classification).
NETWORK_COLUMNS = ("steps", "loss", "held_out_loss", "accuracy", "grad_norm")
# Snapshot outputs are clipped to this magnitude (see _snapshot): finite in float32.
SNAPSHOT_LIMIT = 1e30
# The counter-based random stream of AdaHessian's probes (engine/stepping.py uses the same).
HUTCHINSON_STREAM = 101
# Weights a run keeps for its trajectories (steps x rows x parameters): 256 MiB in float64, e.g.
# 101 steps of 64 default networks take 7.9 million.


class NetworkRow(NamedTuple):
    """One network trained by one optimizer from one seed."""

    index: int
    series: int
    label: str
    optimizer: str
    hparams: dict[str, Any]
    seed: int

    def describe(self) -> dict[str, Any]:
        return {
            "row": self.index,
            "series": self.series,
            "label": self.label,
            "optimizer": self.optimizer,
            "hparams": self.hparams,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class NetworkPlan:
    """A network run's rows and groups, its data on the run's device, and what it runs on."""

    spec: NetworkRunSpec
    task: TaskEntry
    data: Dataset  # float64 on the CPU, as generated
    shapes: tuple[tuple[int, int], ...]
    rows: tuple[NetworkRow, ...]
    groups: tuple[Group, ...]
    dtype: torch.dtype
    device: torch.device

    @property
    def steps(self) -> int:
        return self.spec.steps

    @property
    def classification(self) -> bool:
        return self.data.kind == "classification"

    @property
    def parameter_count(self) -> int:
        return mlp.parameter_count(self.shapes)

    def snapshot_inputs(self) -> torch.Tensor:
        """The points every snapshot predicts at, float64 on the CPU: a ``48 x 48`` grid over
        the task's view box (x fastest) for 2-D inputs, 200 evenly spaced ``x`` for 1-D."""
        if self.data.input_dim == 1:
            (lo, hi), *_ = self.data.view_box
            return torch.linspace(lo, hi, CURVE_POINTS, dtype=torch.float64)[:, None]
        (xmin, xmax), (ymin, ymax) = self.data.view_box
        xs = torch.linspace(xmin, xmax, BOUNDARY_SIDE, dtype=torch.float64)
        ys = torch.linspace(ymin, ymax, BOUNDARY_SIDE, dtype=torch.float64)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack((grid_x.flatten(), grid_y.flatten()), dim=1)

    def describe(self) -> dict[str, Any]:
        """The ``meta`` event: every row, the task with its points, the model, the snapshot
        grid, and what the numbers were computed with."""
        with collector_paused():
            rows = [row.describe() for row in self.rows]
        spec, task = self.spec, self.spec.task
        _, params = task.resolve()
        inputs = self.snapshot_inputs()
        if self.data.input_dim == 1:
            grid = {"x": inputs[:, 0].tolist()}
        else:
            side = BOUNDARY_SIDE
            grid = {"x": inputs[:side, 0].tolist(), "y": inputs[::side, 1].tolist()}
        return {
            "rows": rows,
            "steps": spec.steps,
            "record": spec.record,
            "task": {
                "id": self.task.id,
                "label": self.task.label,
                "params": params.model_dump(),
                "data": self.data.describe(),
            },
            "model": {
                "hidden": list(task.model.hidden),
                "activation": task.model.activation,
                "shapes": [list(shape) for shape in self.shapes],
                "parameters": self.parameter_count,
            },
            "batch_size": task.batch_size,
            "snapshots": {"every": spec.snapshot_stride, "grid": grid},
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "versions": versions(),
        }


@dataclass(frozen=True)
class TrainingEvent:
    """``kind`` is 'meta', 'chunk', 'snapshot', 'plane' or 'done'; ``data`` holds numpy arrays
    for columns and predictions (finite numbers only). See the module docstring."""

    kind: Literal["meta", "chunk", "snapshot", "plane", "done"]
    data: dict[str, Any]


def plan_training(spec: NetworkRunSpec, configured_device: str = "auto") -> NetworkPlan:
    """Expand ``spec`` into rows (series x sweep values x seeds) and groups.

    Raises:
        ValueError: the device cannot be had.
    """
    variants, groups = expand_series(spec.series, len(spec.seeds))
    rows = [
        NetworkRow(k * len(spec.seeds) + i, *variant, seed)
        for k, variant in enumerate(variants)
        for i, seed in enumerate(spec.seeds)
    ]
    task, _ = spec.task.resolve()
    return NetworkPlan(
        spec=spec,
        task=task,
        data=spec.task.dataset(),
        shapes=tuple(spec.task.layer_shapes()),
        rows=tuple(rows),
        groups=tuple(groups),
        dtype=torch.float64 if spec.dtype == "float64" else torch.float32,
        device=choose_device(spec.device, len(rows), configured_device),
    )


def _build_optimizer(
    group: Group, leaves: list[torch.Tensor], dtype: torch.dtype, device: torch.device
) -> torch.optim.Optimizer:
    """The group's optimizer over its stacked leaves. A swept tensor hyperparameter (one value
    per row) is given per parameter, shaped ``(n, 1, ...)`` to broadcast against it."""
    if not group.tensor_values:
        return group.entry.build(leaves, group.hparams, independent_rows=True)
    values = {name: torch.tensor(v, dtype=dtype, device=device) for name, v in group.tensor_values}
    param_groups = [
        {"params": [p], **{k: v.view(-1, *([1] * (p.ndim - 1))) for k, v in values.items()}}
        for p in leaves
    ]
    rows = {name: v[:, None] for name, v in values.items()}
    return group.entry.build(param_groups, group.hparams, independent_rows=True, **rows)


class _Columns:
    """Every step's values on the run's device, ``(steps + 1, R)`` each; index ``t`` is after
    ``t`` steps. A stopped row's entries from its stop on are 0 and never sent."""

    def __init__(self, plan: NetworkPlan) -> None:
        steps, rows = plan.steps, len(plan.rows)
        self.names = [n for n in NETWORK_COLUMNS[1:] if n != "accuracy" or plan.classification]
        self.values = {
            name: torch.zeros(steps + 1, rows, dtype=plan.dtype, device=plan.device)
            for name in self.names
        }
        self.kept = kept_steps(steps, plan.spec.max_points)
        self.stops = Stops(rows, steps, plan.device)
        self.steps = steps
        self.done_steps = 0
        self.emitted = 0

    def last_valid(self) -> np.ndarray:
        """Each row's last valid step (-1 when even its initial network was not valid)."""
        return (self.stops.at.clamp(max=self.steps + 1) - 1).cpu().numpy()

    def take(self) -> list[dict[str, Any]]:
        """The columns of steps ``[emitted, done_steps)`` of every row with steps there (kept
        steps, and a row's last valid step); they count as handed out."""
        a, b = self.emitted, self.done_steps
        self.emitted = b
        if a >= b:
            return []
        last = self.last_valid()
        block = {name: self.values[name][a:b].T.cpu().numpy() for name in self.names}
        kept = np.flatnonzero(self.kept[a:b]) + a
        parts = []
        for r in range(len(last)):
            end = min(int(last[r]), b - 1)
            if end < a:
                continue
            wanted = kept[kept <= end]
            if end == int(last[r]) and (not len(wanted) or wanted[-1] != end):
                wanted = np.append(wanted, end)  # a row's final step is always sent
            if not len(wanted):
                continue
            part = {"row": r, "steps": wanted.astype(np.int64)}
            for name in self.names:
                part[name] = np.ascontiguousarray(block[name][r, wanted - a])
            parts.append(part)
        return parts


def training_events(
    plan: NetworkPlan,
    cancel: threading.Event | None = None,
    *,
    stream: bool = True,
    chunk_seconds: float = CHUNK_SECONDS,
    keep_weights: int = 0,
) -> Iterator[TrainingEvent]:
    """Train ``plan``'s rows, yielding ``meta``, then ``chunk``\\ s and ``snapshot``\\ s (when
    ``stream`` and the record is 'full'), then, when the spec asks for a ``plane``, the
    ``plane`` event (engine/network_plane.py: the loss around each row's path, from weights
    kept at ``PLANE_KEPT_STEPS`` steps at least), then ``done``.

    Args:
        plan: from :func:`plan_training`.
        cancel: setting it (or closing the generator) stops the run before its next step.
        stream: send chunks and snapshots as the run goes (``chunk_seconds`` apart at most,
            the first right after step 0); otherwise only ``meta`` and ``done``.
        keep_weights: keep every row's weights at this many steps, at least 2 (both ends), or
            0 for none, and put them in ``done`` as ``weights``: ``{"steps": (K,) int64,
            "rows": (R, K, P)}`` in the run's dtype.

    Raises:
        ValueError: ``keep_weights`` is 1 or negative, or would keep more than
            :data:`MAX_KEPT_WEIGHTS` numbers (checked before anything runs).
        RunFailedError: an optimizer's ``step()`` raised (naming the rows and the step).
    """
    if keep_weights < 0 or keep_weights == 1:
        raise ValueError(f"keep_weights must be 0 or at least 2, got {keep_weights}")
    keep = max(keep_weights, PLANE_KEPT_STEPS) if plan.spec.plane is not None else keep_weights
    kept = min(keep, plan.steps + 1) * len(plan.rows) * plan.parameter_count
    if kept > MAX_KEPT_WEIGHTS:
        raise ValueError(
            f"keep_weights: {keep} steps x {len(plan.rows)} rows x "
            f"{plan.parameter_count} parameters exceed {MAX_KEPT_WEIGHTS} numbers kept"
        )
    return _events(plan, cancel, stream, chunk_seconds, keep_weights)


def _events(
    plan: NetworkPlan,
    cancel: threading.Event | None,
    stream: bool,
    chunk_seconds: float,
    keep_weights: int,
) -> Iterator[TrainingEvent]:
    yield TrainingEvent("meta", plan.describe())
    plane = plan.spec.plane
    if plane is None:
        yield from _train(plan, cancel, stream, chunk_seconds, keep_weights)
        return
    # The plane needs the path's weights: kept for it, and handed on only when asked for.
    keep = max(keep_weights, PLANE_KEPT_STEPS)
    for event in _train(plan, cancel, stream, chunk_seconds, keep):
        if event.kind == "done":
            yield TrainingEvent("plane", row_planes(plan, event.data["weights"], plane))
            if not keep_weights:
                data = {key: value for key, value in event.data.items() if key != "weights"}
                event = TrainingEvent("done", data)
        yield event


def _train(
    plan: NetworkPlan,
    cancel: threading.Event | None,
    stream: bool,
    chunk_seconds: float,
    keep_weights: int,
) -> Iterator[TrainingEvent]:
    spec, dtype, device, data = plan.spec, plan.dtype, plan.device, plan.data
    steps, R = plan.steps, len(plan.rows)
    activation = spec.task.model.activation
    kind = data.kind
    stream = stream and spec.record == "full"

    def on_device(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.to(device=device, dtype=dtype if tensor.is_floating_point() else None)

    x_train, y_train = on_device(data.x_train), on_device(data.y_train)
    x_held, y_held = on_device(data.x_held_out), on_device(data.y_held_out)
    grid = on_device(plan.snapshot_inputs())

    # One generator per row: its initial weights, then (minibatches) its epochs' permutations,
    # the order in which torch.manual_seed(seed) + building the network + randperm draws them.
    generators = [torch.Generator(device="cpu").manual_seed(row.seed) for row in plan.rows]
    initial = mlp.init_rows(plan.shapes, generators, dtype, device)
    leaves: list[list[torch.Tensor]] = []  # per group, per layer tensor
    optimizers = []
    for group in plan.groups:
        own = [w[group.lo : group.hi].clone().requires_grad_() for w in initial]
        leaves.append(own)
        optimizers.append(_build_optimizer(group, own, dtype, device))
    layers = len(initial)
    del initial

    def weights() -> list[torch.Tensor]:
        """Every row's stacked weights, per layer (a concatenation when there are groups)."""
        if len(leaves) == 1:
            return leaves[0]
        return [torch.cat([own[k] for own in leaves]) for k in range(layers)]

    batch = spec.task.batch_size
    n_train = x_train.shape[0]
    per_epoch = 0 if batch is None else math.ceil(n_train / batch)
    order = None  # (R, n_train) this epoch's permutation per row

    columns = _Columns(plan)
    stops = columns.stops
    kept_weights = kept_steps(steps, keep_weights) if keep_weights > 0 else None
    weight_steps = np.flatnonzero(kept_weights) if kept_weights is not None else np.zeros(0)
    trajectory = (
        torch.empty(len(weight_steps), R, plan.parameter_count, dtype=dtype, device=device)
        if kept_weights is not None
        else None
    )
    kept_index = 0
    previous: list[torch.Tensor] | None = None  # every row's weights one step back
    hessians = any(group.entry.accepts_hessian_diagonal for group in plan.groups)
    seeds = torch.tensor([row.seed for row in plan.rows], dtype=torch.int64, device=device)
    stride = spec.snapshot_stride
    last_emit = time.perf_counter()

    for t in range(steps + 1):
        if cancel is not None and cancel.is_set():
            return
        w = weights()
        with torch.enable_grad():
            if batch is None:
                outputs = mlp.forward(w, x_train, activation)
                train_loss = mlp.losses(outputs, y_train, kind)
                objective = train_loss
            else:
                k = t % per_epoch
                if k == 0:
                    order = torch.stack(
                        [torch.randperm(n_train, generator=g) for g in generators]
                    ).to(device)
                picked = order[:, k * batch : (k + 1) * batch]
                objective = mlp.losses(
                    mlp.forward(w, x_train[picked], activation), y_train[picked], kind
                )
            # With AdaHessian in the run, the gradient keeps its graph for the Hessian-vector
            # products (not at the last step: nothing is stepped there).
            graphs = torch.autograd.grad(
                objective.sum(),
                [p for own in leaves for p in own],
                create_graph=hessians and t < steps,
            )
            grads = [g.detach() for g in graphs]
        with torch.no_grad():
            if batch is not None:
                train_loss = mlp.losses(mlp.forward(w, x_train, activation), y_train, kind)
            train_loss = train_loss.detach()
            by_layer = [
                torch.cat(grads[k::layers]) if len(leaves) > 1 else grads[k] for k in range(layers)
            ]
            # Layer by layer in a fixed order (a sum over a stacked (layers, R) tensor would
            # reduce in an order that depends on R, and a row's norm on its batch-mates).
            grad_norm = by_layer[0].square().flatten(1).sum(1)
            for g in by_layer[1:]:
                grad_norm = grad_norm + g.square().flatten(1).sum(1)
            grad_norm = grad_norm.sqrt()
            held_outputs = mlp.forward(w, x_held, activation)
            held_loss = mlp.losses(held_outputs, y_held, kind)
            values = {"loss": train_loss, "held_out_loss": held_loss, "grad_norm": grad_norm}
            if plan.classification:
                values["accuracy"] = mlp.accuracy(held_outputs, y_held)
            finite = torch.isfinite(train_loss) & torch.isfinite(held_loss)
            finite &= torch.isfinite(grad_norm)
            # Weights can be infinite under a finite loss (tanh of inf is 1): checked too, by
            # their sum, which any inf or NaN makes non-finite (and one past 1e308 does too: a
            # row that has diverged all the same), at a fraction of isfinite's cost per entry.
            total = w[0].flatten(1).sum(1)
            for p in w[1:]:
                total = total + p.flatten(1).sum(1)
            finite &= torch.isfinite(total)
            stops.stop(~finite, t)
            stopped = stops.mask(t)
            if stopped is not None and previous is not None:
                # Stopped rows go back to their last valid weights (the previous step's; a row
                # stopped earlier was put back then, and its zero gradient's step is undone).
                _put_back(plan, leaves, previous, stopped)
                w = weights()
            for name, value in values.items():
                if stopped is not None:
                    value = torch.where(stopped, 0.0, value)
                columns.values[name][t].copy_(value)
            columns.done_steps = t + 1
            if trajectory is not None and kept_weights[t]:
                trajectory[kept_index] = torch.cat([p.flatten(1) for p in w], dim=1)
                kept_index += 1
            snapshot = None
            if stream and (t % stride == 0 or t == steps):
                snapshot = _snapshot(plan, w, grid, t, stops.at, activation)
        # Events are yielded outside no_grad: the consumer runs while this generator waits, and
        # grad mode is the thread's.
        if snapshot is not None and snapshot["rows"]:
            yield TrainingEvent("snapshot", snapshot)
        if t == steps:
            break
        first = t == 0 and math.isfinite(chunk_seconds)
        if stream and (first or time.perf_counter() - last_emit >= chunk_seconds):
            yield TrainingEvent("chunk", _chunk(columns))
            last_emit = time.perf_counter()

        with torch.no_grad():
            previous = [p.detach().clone() for p in w]
            position = 0
            for group, own, optimizer in zip(plan.groups, leaves, optimizers, strict=True):
                mask = stopped[group.lo : group.hi] if stopped is not None else None

                def masked(tensor: torch.Tensor, mask: torch.Tensor | None = mask) -> torch.Tensor:
                    if mask is None:
                        return tensor
                    return torch.where(mask.view(-1, *([1] * (tensor.ndim - 1))), 0.0, tensor)

                for p, g in zip(own, grads[position : position + layers], strict=True):
                    p.grad = masked(g)
                try:
                    if group.entry.accepts_hessian_diagonal:
                        diagonal = hutchinson_diagonal(
                            graphs[position : position + layers], own, seeds[group.lo : group.hi], t
                        )
                        optimizer.step(hessian=[masked(h) for h in diagonal])
                    else:
                        optimizer.step()
                except (RuntimeError, ValueError, ArithmeticError) as error:
                    raise RunFailedError.of_group(plan, group, t, error) from error
                position += layers
                for p in own:
                    p.grad = None
            del graphs

    if stream and columns.emitted < columns.done_steps:
        yield TrainingEvent("chunk", _chunk(columns))
    done: dict[str, Any] = {"rows": _summaries(plan, columns)}
    if trajectory is not None:
        done["weights"] = {
            "steps": weight_steps.astype(np.int64),
            "rows": trajectory.transpose(0, 1).contiguous().cpu().numpy(),
        }
    yield TrainingEvent("done", done)


def hutchinson_diagonal(
    grads: Sequence[torch.Tensor], params: Sequence[torch.Tensor], seeds: torch.Tensor, step: int
) -> list[torch.Tensor]:
    r"""AdaHessian's estimate of the Hessian diagonal, :math:`z \odot (H z)`, for stacked rows.

    ``grads`` are the gradients of ``params`` with their graph (``create_graph=True``);
    :math:`z` is Rademacher, drawn per row from the row's own counter-based stream (the row's
    seed, the step, stream 101 as engine/stepping.py draws its probes): ``P`` draws per row,
    in the flattened order ``W_1, b_1, ...`` (each row-major), so a single network trained with
    the same draws gets the same estimate. The rows' Hessian is block diagonal (they share no
    weights), so one Hessian-vector product of the stack is every row's own.
    """
    sizes = [p[0].numel() for p in params]
    bits = random_bits(seeds, step, HUTCHINSON_STREAM, sum(sizes))
    signs = ((bits & 1) * 2 - 1).to(params[0].dtype)
    zs = [z.reshape(p.shape) for z, p in zip(signs.split(sizes, dim=1), params, strict=True)]
    hzs = torch.autograd.grad(
        list(grads), list(params), grad_outputs=zs, retain_graph=True, materialize_grads=True
    )
    return [(z * hz).detach() for z, hz in zip(zs, hzs, strict=True)]


def _put_back(
    plan: NetworkPlan,
    leaves: list[list[torch.Tensor]],
    previous: list[torch.Tensor],
    rows: torch.Tensor,
) -> None:
    """Copy ``previous`` (all rows' weights, per layer) into the leaves where ``rows``."""
    for group, own in zip(plan.groups, leaves, strict=True):
        keep = rows[group.lo : group.hi]
        for p, old in zip(own, previous, strict=True):
            where = keep.view(-1, *([1] * (p.ndim - 1)))
            p.copy_(torch.where(where, old[group.lo : group.hi], p))


def _chunk(columns: _Columns) -> dict[str, Any]:
    a, b = columns.emitted, columns.done_steps
    return {"from_step": a, "to_step": b, "rows": columns.take()}


def _snapshot(
    plan: NetworkPlan,
    w: list[torch.Tensor],
    grid: torch.Tensor,
    step: int,
    stopped_at: torch.Tensor,
    activation: mlp.Activation,
) -> dict[str, Any]:
    r"""Every running row's predictions at ``step``, float32 (for drawing): class
    probabilities ``(classes, 48, 48)`` over the grid (y by x), or the fitted curve ``(200,)``.

    A running row has finite weights and a finite loss on the data, yet its outputs can
    overflow away from the data (a ReLU network's grow linearly with the input): outputs are
    clipped to :math:`\pm 10^{30}` first (the probabilities then take their limits; a curve
    leaves any chart there), and a NaN, inf - inf inside an overflowing product, is drawn as 0.
    """
    running = np.flatnonzero((stopped_at > step).cpu().numpy())
    outputs = mlp.forward(w, grid, activation)
    outputs = outputs.nan_to_num(nan=0.0).clamp(-SNAPSHOT_LIMIT, SNAPSHOT_LIMIT)
    if plan.classification:
        side = BOUNDARY_SIDE
        values = torch.softmax(outputs, dim=2).transpose(1, 2)  # (R, classes, side * side)
        values = values.reshape(len(plan.rows), -1, side, side)
        name = "probabilities"
    else:
        values, name = outputs[..., 0], "prediction"
    values = values.to(torch.float32).cpu().numpy()
    return {"step": step, "rows": [{"row": int(r), name: values[r]} for r in running]}


def _summaries(plan: NetworkPlan, columns: _Columns) -> list[dict[str, Any]]:
    """Per row: the final and best training loss (and its step), the final held-out loss and
    accuracy, and the step it diverged at (None while it ran to the end)."""
    steps = plan.steps
    last = columns.last_valid()
    host = {name: columns.values[name].cpu().numpy() for name in columns.names}
    summaries = []
    for r, row in enumerate(plan.rows):
        end = int(last[r])
        ok = end >= 0
        losses = host["loss"][: end + 1, r]
        best = int(np.argmin(losses)) if ok else None
        summaries.append(
            {
                "row": row.index,
                "final_loss": float(losses[-1]) if ok else None,
                "best_loss": float(losses[best]) if ok else None,
                "best_step": best,
                "final_held_out_loss": float(host["held_out_loss"][end, r]) if ok else None,
                "final_accuracy": (
                    float(host["accuracy"][end, r]) if ok and plan.classification else None
                ),
                "final_grad_norm": float(host["grad_norm"][end, r]) if ok else None,
                "diverged_at": end + 1 if end < steps else None,
            }
        )
    return summaries


def collect_training_result(plan: NetworkPlan, events: Iterable[TrainingEvent]) -> dict[str, Any]:
    """The whole result from a run's events: the ``meta`` context, and one entry per row with
    its identity, its columns (numpy arrays; ``record: full`` only), its last snapshot, its
    loss plane (when the spec asks for one) and its summary; ``weights`` when the run kept
    them.

    Raises:
        RuntimeError: the events end without ``done`` (the run was cancelled).
    """
    meta: dict[str, Any] = {}
    done: dict[str, Any] = {}
    pieces: dict[int, list[dict[str, Any]]] = {}
    last_snapshot: dict[int, dict[str, Any]] = {}
    planes: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.kind == "meta":
            meta = event.data
        elif event.kind == "done":
            done = event.data
        elif event.kind == "chunk":
            for part in event.data["rows"]:
                pieces.setdefault(part["row"], []).append(part)
        elif event.kind == "plane":
            planes = {part["row"]: part for part in event.data["rows"]}
        elif event.kind == "snapshot":
            for part in event.data["rows"]:
                last_snapshot[part["row"]] = {"step": event.data["step"], **part}
    if not done:
        raise RuntimeError("the run was cancelled")
    context = {key: value for key, value in meta.items() if key != "rows"}
    names = [n for n in NETWORK_COLUMNS if n != "accuracy" or plan.classification]
    rows = []
    for info, summary in zip(meta["rows"], done["rows"], strict=True):
        entry = dict(info)
        if context["record"] == "full":
            parts = pieces.get(info["row"], [])
            for name in names:
                joined = [part[name] for part in parts]
                empty = np.zeros(0, dtype=np.int64 if name == "steps" else np.float64)
                entry[name] = np.concatenate(joined) if joined else empty
            snapshot = last_snapshot.get(info["row"])
            entry["last_snapshot"] = {k: v for k, v in (snapshot or {}).items() if k != "row"}
        if info["row"] in planes:
            entry["plane"] = planes[info["row"]]
        entry.update(summary)
        rows.append(entry)
    result = {**context, "series": rows}
    if "weights" in done:
        result["weights"] = done["weights"]
    return result


def train_to_result(
    spec: NetworkRunSpec,
    cancel: threading.Event | None = None,
    configured_device: str = "auto",
    *,
    keep_weights: int = 0,
) -> dict[str, Any]:
    """Plan and train ``spec`` and return the whole result (see
    :func:`collect_training_result`); ``keep_weights`` as in :func:`training_events`."""
    plan = plan_training(spec, configured_device)
    events = training_events(plan, cancel, chunk_seconds=math.inf, keep_weights=keep_weights)
    return collect_training_result(plan, events)
