"""Plan and run: rows in one batched tensor per optimizer instance, all stepped in lockstep.

A run expands into rows (series x sweep values x seeds x starts). Rows that can share one
optimizer instance form a group: a whole series when its swept hyperparameter accepts a tensor
(one ``(n, 1)`` tensor of values, one ``step()``), one group per sweep value otherwise. Every step:

1. the clean loss of every row at its current point (``noise.loss``) and one backward pass over
   the sum, which gives each row its own exact gradient;
2. the noise model's gradient (per-row seeds), optional per-row clipping, zeroed for rows that
   have stopped;
3. one ``step()`` per group; the new points are checked without a host sync: a row whose point
   or loss is not finite, or whose point leaves a generous bound around the view box, stops
   there and reports the step as ``diverged_at``.

Positions, clean losses and clean gradient norms of every step are kept on the device and sent
as chunks; the last valid point of every row (also a diverged one) is always sent.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

import torch

from engine.spec import RunSpec
from landscapes import Landscape, parse_noise
from landscapes.noise import DriftNoise, NoiseModel, NoNoise, random_bits
from optimizers.registry import OptimizerEntry

__all__ = [
    "Row",
    "RunEvent",
    "RunPlan",
    "collect_result",
    "plan_run",
    "run_events",
    "run_to_result",
]

# A point further than this many view-box sizes from the box has diverged.
DIVERGENCE_MARGIN = 10.0
# 'auto' moves a run to CUDA (when present) from this many rows on: below it, launch latency
# dominates and the CPU is faster.
CUDA_MIN_ROWS = 4096
# Streaming cadence: the first chunk right after the first step, then at most this often.
CHUNK_SECONDS = 0.05
_HUTCHINSON_STREAM = 101  # counter-based random stream of AdaHessian's probes


@dataclass(frozen=True)
class Row:
    """One trajectory."""

    index: int
    series: int
    label: str
    optimizer: str
    hparams: dict[str, Any]
    seed: int
    start: tuple[float, float]

    def describe(self) -> dict[str, Any]:
        return {
            "row": self.index,
            "series": self.series,
            "label": self.label,
            "optimizer": self.optimizer,
            "hparams": self.hparams,
            "seed": self.seed,
            "start": list(self.start),
        }


@dataclass(frozen=True)
class Group:
    """Rows ``[lo, hi)`` stepped by one optimizer instance."""

    entry: OptimizerEntry
    lo: int
    hi: int
    hparams: dict[str, Any]
    tensor_param: str | None = None  # the swept hyperparameter passed as an (n, 1) tensor
    tensor_values: tuple[float, ...] = ()


@dataclass(frozen=True)
class RunPlan:
    spec: RunSpec
    landscape: Landscape
    params: Any  # the landscape's validated parameter model
    fn: Callable[[torch.Tensor], torch.Tensor]
    noise: NoiseModel
    rows: tuple[Row, ...]
    groups: tuple[Group, ...]
    dtype: torch.dtype
    device: torch.device
    minima: tuple[tuple[tuple[float, float], float], ...]  # ((x, y), f)

    def describe(self) -> dict[str, Any]:
        """The ``meta`` event: every row, and what the numbers were computed with."""
        return {
            "rows": [row.describe() for row in self.rows],
            "steps": self.spec.steps,
            "landscape": {
                "id": self.landscape.id,
                "label": self.landscape.label,
                "params": self.params.model_dump(),
                "global_minima": [{"point": list(p), "value": v} for p, v in self.minima],
            },
            "noise": self.noise.model_dump(),
            "clip_grad_norm": self.spec.clip_grad_norm,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "versions": versions(),
        }


@dataclass(frozen=True)
class RunEvent:
    """``kind`` is 'meta', 'chunk' or 'done'; ``data`` is JSON-ready (finite numbers only)."""

    kind: Literal["meta", "chunk", "done"]
    data: dict[str, Any]


def versions() -> dict[str, str]:
    """Versions that decide the numbers, for a reproducibility record."""
    found = {"torch": torch.__version__}
    for name in ("optiscope", "pytorch-optimizer", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def choose_device(preference: str, rows: int) -> torch.device:
    """'cpu', 'cuda' (an error without CUDA) or 'auto' (CUDA for large batches when present)."""
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device: 'cuda' was asked for but CUDA is not available")
        return torch.device("cuda")
    if preference == "auto" and torch.cuda.is_available() and rows >= CUDA_MIN_ROWS:
        return torch.device("cuda")
    return torch.device("cpu")


def plan_run(spec: RunSpec, device: str | None = None) -> RunPlan:
    """Expand ``spec`` into rows and groups (``device`` overrides ``spec.device``)."""
    landscape, params = spec.landscape.resolve()
    starts = spec.start_points(landscape.default_start)
    rows: list[Row] = []
    groups: list[Group] = []
    for series_index, series in enumerate(spec.series):
        entry = series.entry
        swept = series.sweep.param if series.sweep is not None else None
        per_value = []
        for value in series.sweep_values():
            values = dict(series.hparams)
            if swept is not None:
                values[swept] = value
            filled = entry.parse_hparams(values).model_dump()
            label = series.label or entry.label
            if swept is not None:
                label = f"{label} {swept}={value:g}"
            lo = len(rows)
            for seed in spec.seeds:
                for start in starts:
                    rows.append(Row(len(rows), series_index, label, entry.id, filled, seed, start))
            per_value.append((lo, len(rows), filled, value))
        if swept is not None and swept in entry.tensor_hparams:
            lo, hi = per_value[0][0], per_value[-1][1]
            base = dict(per_value[0][2])
            rows_per_value = per_value[0][1] - per_value[0][0]
            values = tuple(v for *_, v in per_value for _ in range(rows_per_value))
            groups.append(Group(entry, lo, hi, base, swept, values))
        else:
            groups.extend(Group(entry, lo, hi, filled) for lo, hi, filled, _ in per_value)
    dtype = torch.float64 if spec.dtype == "float64" else torch.float32
    chosen = choose_device(device or spec.device, len(rows))
    minima = tuple((tuple(p.point), p.value) for p in landscape.global_minima(params))
    return RunPlan(
        spec=spec,
        landscape=landscape,
        params=params,
        fn=landscape.bind(params),
        noise=parse_noise(spec.noise),
        rows=tuple(rows),
        groups=tuple(groups),
        dtype=dtype,
        device=chosen,
        minima=minima,
    )


@dataclass
class _Recording:
    """Everything recorded, on the run's device: index k is the point after k steps."""

    positions: torch.Tensor  # (steps + 1, R, 2)
    losses: torch.Tensor  # (steps + 1, R)
    grad_norms: torch.Tensor  # (steps + 1, R)
    diverged_at: torch.Tensor  # (R,) int64; steps + 1 while running
    done_steps: int = 0  # positions [0, done_steps) have their loss and gradient norm
    emitted: int = 0


def _bounds(landscape: Landscape, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    (xmin, xmax), (ymin, ymax) = landscape.view_box
    width, height = xmax - xmin, ymax - ymin
    lo = torch.tensor(
        [xmin - DIVERGENCE_MARGIN * width, ymin - DIVERGENCE_MARGIN * height],
        dtype=dtype,
        device=device,
    )
    hi = torch.tensor(
        [xmax + DIVERGENCE_MARGIN * width, ymax + DIVERGENCE_MARGIN * height],
        dtype=dtype,
        device=device,
    )
    return lo, hi


def _hutchinson_diagonal(
    grad: torch.Tensor, param: torch.Tensor, seeds: torch.Tensor, step: int
) -> torch.Tensor:
    """z * (H z) with Rademacher z from each row's own counter-based stream: AdaHessian's
    estimate, reproducible and independent per row (its built-in probes use the global RNG)."""
    bits = random_bits(seeds, step, _HUTCHINSON_STREAM, 2)
    z = ((bits & 1) * 2 - 1).to(grad.dtype)
    (hz,) = torch.autograd.grad(grad, param, grad_outputs=z, retain_graph=True)
    return z * hz


def run_events(
    plan: RunPlan,
    cancel: threading.Event | None = None,
    *,
    stream: bool = True,
    chunk_seconds: float = CHUNK_SECONDS,
) -> Iterator[RunEvent]:
    """Run ``plan``, yielding ``meta``, then ``chunk``s (when ``stream``), then ``done``.

    Setting ``cancel`` (or closing the generator) stops the run before its next step.
    """
    spec, dtype, device = plan.spec, plan.dtype, plan.device
    R, steps = len(plan.rows), spec.steps
    yield RunEvent("meta", plan.describe())

    starts = torch.tensor([row.start for row in plan.rows], dtype=dtype, device=device)
    seeds = torch.tensor([row.seed for row in plan.rows], dtype=torch.int64, device=device)
    params, optimizers = [], []
    for group in plan.groups:
        p = starts[group.lo : group.hi].clone().requires_grad_()
        tensors = {}
        if group.tensor_param is not None:
            tensors[group.tensor_param] = torch.tensor(
                group.tensor_values, dtype=dtype, device=device
            )[:, None]
        optimizers.append(group.entry.build([p], group.hparams, independent_rows=True, **tensors))
        params.append(p)
    # AdaHessian-like optimizers get their Hessian diagonal from the engine (reproducible per
    # row); the graph of the gradient is kept for that.
    create_graph = any(group.entry.accepts_hessian_diagonal for group in plan.groups)
    lo_bound, hi_bound = _bounds(plan.landscape, dtype, device)
    rec = _Recording(
        positions=torch.empty(steps + 1, R, 2, dtype=dtype, device=device),
        losses=torch.empty(steps + 1, R, dtype=dtype, device=device),
        grad_norms=torch.empty(steps + 1, R, dtype=dtype, device=device),
        diverged_at=torch.full((R,), steps + 1, dtype=torch.int64, device=device),
    )
    rec.positions[0] = starts
    # Per-step views: writing through them is cheaper than indexed assignment on every step.
    position_at, loss_at, grad_norm_at = (
        rec.positions.unbind(0),
        rec.losses.unbind(0),
        rec.grad_norms.unbind(0),
    )
    kept = _kept_steps(steps, spec.max_points)
    last_emit = time.perf_counter()

    # On the CPU reading a flag is free, so rows are masked only once one has stopped; on a GPU
    # every step masks unconditionally, since reading a flag would wait for the device.
    always_mask = device.type != "cpu"
    any_stopped = False
    for t in range(steps + 1):
        if cancel is not None and cancel.is_set():
            return
        points = torch.cat(params) if len(params) > 1 else params[0]
        with torch.enable_grad():
            loss = plan.noise.loss(plan.fn, points, step=t)
            if t < steps:
                # autograd.grad rather than backward(): no grad-to-param reference cycle when
                # the graph is kept for Hessian-vector products.
                grads = torch.autograd.grad(loss.sum(), params, create_graph=create_graph)
        loss = loss.detach()
        masking = always_mask or any_stopped or not bool(torch.isfinite(loss).all())
        if masking:
            stopped = rec.diverged_at <= t
            bad_loss = ~torch.isfinite(loss) & ~stopped
            rec.diverged_at = torch.where(bad_loss, t, rec.diverged_at)
            stopped = stopped | bad_loss
            any_stopped = True
            loss = torch.where(stopped, 0.0, loss)
        loss_at[t].copy_(loss)
        if t == steps:
            stopped = rec.diverged_at <= t
            grad_norm_at[t].copy_(_clean_grad_norm(plan, points.detach(), t, stopped))
            rec.done_steps = t + 1
            break
        grad = torch.cat(grads).detach() if len(grads) > 1 else grads[0].detach()
        grad_norm = torch.linalg.vector_norm(grad, dim=1)
        grad_norm_at[t].copy_(torch.where(stopped, 0.0, grad_norm) if masking else grad_norm)
        rec.done_steps = t + 1
        if stream and (t == 0 or time.perf_counter() - last_emit >= chunk_seconds):
            yield RunEvent("chunk", _chunk(plan, rec, kept))
            last_emit = time.perf_counter()

        noisy = grad
        if not isinstance(plan.noise, NoNoise):
            noisy = plan.noise.perturb(
                grad, points=points.detach(), fn=plan.fn, step=t, seeds=seeds
            )
        if spec.clip_grad_norm is not None:
            norms = torch.linalg.vector_norm(noisy, dim=1, keepdim=True)
            noisy = noisy * torch.clamp(spec.clip_grad_norm / norms, max=1.0).nan_to_num(1.0)
        if masking:
            noisy = torch.where(stopped[:, None], 0.0, noisy)
        for group, p, g, optimizer in zip(plan.groups, params, grads, optimizers, strict=True):
            p.grad = noisy[group.lo : group.hi]
            if group.entry.accepts_hessian_diagonal:
                hessian = _hutchinson_diagonal(g, p, seeds[group.lo : group.hi], t)
                optimizer.step(hessian=[hessian.detach()])
            else:
                optimizer.step()
            p.grad = None
        with torch.no_grad():
            new = torch.cat([p.detach() for p in params]) if len(params) > 1 else params[0]
            # NaN fails both comparisons, so this also catches non-finite points.
            bad = ~((new >= lo_bound) & (new <= hi_bound)).all(dim=1)
            if masking or always_mask or bool(bad.any()):
                if not masking:
                    stopped = rec.diverged_at <= t
                newly = bad & ~stopped
                rec.diverged_at = torch.where(newly, t + 1, rec.diverged_at)
                new = torch.where((stopped | newly)[:, None], position_at[t], new)
                for group, p in zip(plan.groups, params, strict=True):
                    p.copy_(new[group.lo : group.hi])
                any_stopped = True
            position_at[t + 1].copy_(new)

    if stream and rec.emitted < rec.done_steps:
        yield RunEvent("chunk", _chunk(plan, rec, kept))
    yield RunEvent("done", {"rows": _summaries(plan, rec)})


def _clean_grad_norm(plan: RunPlan, points: torch.Tensor, t: int, stopped: torch.Tensor):
    """Gradient norms at the final points (no step follows, so no backward pass was made)."""
    with torch.enable_grad():
        p = points.clone().requires_grad_()
        (grad,) = torch.autograd.grad(plan.noise.loss(plan.fn, p, step=t).sum(), p)
    return torch.where(stopped, 0.0, torch.linalg.vector_norm(grad, dim=1)).nan_to_num(0.0)


def _kept_steps(steps: int, max_points: int) -> set[int]:
    """Step indices sent when a run has more than ``max_points`` points: evenly spread, with
    both ends (each row's own last point is added where it stops)."""
    if steps + 1 <= max_points:
        return set(range(steps + 1))
    return {round(i * steps / (max_points - 1)) for i in range(max_points)}


def _chunk(plan: RunPlan, rec: _Recording, kept: set[int]) -> dict[str, Any]:
    """Positions and losses of steps ``[emitted, done_steps)`` for every row still running there.

    A row's last valid point (the step before it diverged, or the final step) is always sent.
    """
    a, b = rec.emitted, rec.done_steps
    rec.emitted = b
    last = (rec.diverged_at.clamp(max=plan.spec.steps + 1) - 1).cpu()  # each row's last point
    positions = rec.positions[a:b].cpu()  # (b - a, R, 2)
    losses, grad_norms = rec.losses[a:b].cpu(), rec.grad_norms[a:b].cpu()

    def lists(steps: list[int], rows: list[int]) -> tuple[list, list, list]:
        # tolist() builds the nested lists in C; per-point Python loops cost several times more.
        at = torch.tensor([k - a for k in steps], dtype=torch.long)
        picked = torch.tensor(rows, dtype=torch.long)
        return (
            positions[at][:, picked].transpose(0, 1).tolist(),
            losses[at][:, picked].T.tolist(),
            grad_norms[at][:, picked].T.tolist(),
        )

    parts: dict[int, tuple[list[int], list, list, list]] = {}
    common = [k for k in range(a, b) if k in kept]
    running = (last >= b - 1).nonzero().flatten().tolist()  # rows valid over the whole chunk
    if running and b - 1 not in common and bool((last[running] == b - 1).any()):
        common = [*common, b - 1]  # the final step of a run is always sent
    if running and common:
        # One gather for all rows that are still running: the common case.
        xy, loss, grad_norm = lists(common, running)
        for i, r in enumerate(running):
            parts[r] = (common, xy[i], loss[i], grad_norm[i])
    for r in (last < b - 1).nonzero().flatten().tolist():
        end = int(last[r])
        wanted = [k for k in range(a, end + 1) if k in kept or k == end]
        if wanted:
            xy, loss, grad_norm = lists(wanted, [r])
            parts[r] = (wanted, xy[0], loss[0], grad_norm[0])
    rows = [
        {"row": r, "steps": steps, "xy": xy, "loss": loss, "grad_norm": grad_norm}
        for r, (steps, xy, loss, grad_norm) in sorted(parts.items())
    ]
    return {"from_step": a, "to_step": b, "rows": rows}


def _summaries(plan: RunPlan, rec: _Recording) -> list[dict[str, Any]]:
    """Per row: final point and clean loss, distance to the nearest global minimum, the first
    step within ``tolerance`` of the minimum value, and the step it diverged at."""
    steps, R = plan.spec.steps, len(plan.rows)
    positions, losses = rec.positions.cpu(), rec.losses.cpu()
    last = rec.diverged_at.cpu().clamp(max=steps + 1) - 1  # each row's last valid step
    valid = last >= 0  # false only when the start itself has a non-finite loss
    at_last = last.clamp(min=0)
    final = positions[at_last, torch.arange(R)]
    final_loss = losses[at_last, torch.arange(R)]
    distance = reached = None
    if plan.minima:
        minima = torch.tensor([p for p, _ in plan.minima], dtype=final.dtype)
        if isinstance(plan.noise, DriftNoise):  # the minima have moved with the landscape
            shifts = {k: plan.noise.offset(k) for k in set(at_last.tolist())}
            moved = minima[None] + torch.tensor([shifts[k] for k in at_last.tolist()])[:, None]
        else:
            moved = minima[None].expand(R, -1, -1)
        distance = torch.linalg.vector_norm(final[:, None] - moved, dim=2).min(dim=1).values
        best = min(v for _, v in plan.minima)
        close = (losses - best).abs() <= plan.spec.tolerance
        close &= torch.arange(steps + 1)[:, None] <= last[None, :]
        reached = torch.where(close.any(dim=0), close.to(torch.int8).argmax(dim=0), -1)
    final_list, loss_list, last_list = final.tolist(), final_loss.tolist(), last.tolist()
    distance_list = distance.tolist() if distance is not None else [None] * R
    reached_list = reached.tolist() if reached is not None else [-1] * R
    summaries = []
    for r, row in enumerate(plan.rows):
        ok = bool(valid[r])
        summaries.append(
            {
                "row": r,
                "final_point": final_list[r] if ok else list(row.start),
                "final_loss": loss_list[r] if ok else None,
                "distance_to_minimum": distance_list[r] if ok else None,
                "steps_to_tolerance": reached_list[r] if reached_list[r] >= 0 else None,
                "diverged_at": last_list[r] + 1 if last_list[r] < steps else None,
            }
        )
    return summaries


def collect_result(plan: RunPlan, events: Iterable[RunEvent]) -> dict[str, Any]:
    """Assemble the whole result from a run's events: one entry per row (series x sweep value x
    seed x start) with its trajectory, clean losses, gradient norms and summary.

    Raises:
        RuntimeError: the events end without ``done`` (the run was cancelled).
    """
    meta: dict[str, Any] = {}
    done: dict[str, Any] = {}
    per_row: dict[int, dict[str, list]] = {
        row.index: {"steps": [], "trajectory": [], "loss": [], "grad_norm": []} for row in plan.rows
    }
    for event in events:
        if event.kind == "meta":
            meta = event.data
        elif event.kind == "done":
            done = event.data
        else:
            for part in event.data["rows"]:
                collected = per_row[part["row"]]
                collected["steps"] += part["steps"]
                collected["trajectory"] += part["xy"]
                collected["loss"] += part["loss"]
                collected["grad_norm"] += part["grad_norm"]
    if not done:
        raise RuntimeError("the run was cancelled")
    series = [
        {**row.describe(), **per_row[row.index], **summary}
        for row, summary in zip(plan.rows, done["rows"], strict=True)
    ]
    return {"series": series, **{k: v for k, v in meta.items() if k != "rows"}}


def run_to_result(
    spec: RunSpec, cancel: threading.Event | None = None, device: str | None = None
) -> dict[str, Any]:
    """Plan and run ``spec`` and return the whole result (see :func:`collect_result`)."""
    plan = plan_run(spec, device=device)
    return collect_result(plan, run_events(plan, cancel, chunk_seconds=math.inf))
