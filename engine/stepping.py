"""The step loop: every row of a plan stepped in lockstep, streamed as record events.

Every step:

1. the clean loss of every row at its current point (``noise.loss``) and one backward pass over
   the sum, which gives each row its own exact gradient;
2. the noise model's gradient (per-row seeds), optional per-row clipping, zeroed for rows that
   have stopped;
3. one ``step()`` per group; the new points are checked without a host sync: a row whose point
   or loss is not finite, or whose point leaves a generous bound around the view box, stops
   there and reports the step as ``diverged_at``.

Events follow engine/record.py: ``meta``, ``chunk``s of columns (when streaming), ``done``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from engine.history import History
from engine.plan import RunPlan, plan_run
from engine.record import COLUMNS
from engine.spec import RunSpec
from landscapes import Landscape
from landscapes.noise import NoNoise, random_bits

__all__ = ["CHUNK_SECONDS", "RunEvent", "collect_result", "run_events", "run_to_result"]

# A point further than this many view-box sizes from the box has diverged.
DIVERGENCE_MARGIN = 10.0
# Streaming cadence: the first chunk right after the first step, then at most this often.
CHUNK_SECONDS = 0.05
_HUTCHINSON_STREAM = 101  # counter-based random stream of AdaHessian's probes


@dataclass(frozen=True)
class RunEvent:
    """``kind`` is 'meta', 'chunk' or 'done'; ``data`` follows engine/record.py's ``RunMeta``,
    ``Chunk`` and ``Done``, with numpy arrays for columns (finite numbers only)."""

    kind: Literal["meta", "chunk", "done"]
    data: dict[str, Any]


def _bounds(landscape: Landscape, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    (xmin, xmax), (ymin, ymax) = landscape.view_box
    width, height = xmax - xmin, ymax - ymin
    lo = [xmin - DIVERGENCE_MARGIN * width, ymin - DIVERGENCE_MARGIN * height]
    hi = [xmax + DIVERGENCE_MARGIN * width, ymax + DIVERGENCE_MARGIN * height]
    return (
        torch.tensor(lo, dtype=dtype, device=device),
        torch.tensor(hi, dtype=dtype, device=device),
    )


def _hutchinson_diagonal(
    grad: torch.Tensor, param: torch.Tensor, seeds: torch.Tensor, step: int
) -> torch.Tensor:
    """z * (H z) with Rademacher z from each row's own counter-based stream: AdaHessian's
    estimate, reproducible and independent per row (its built-in probes use the global RNG)."""
    bits = random_bits(seeds, step, _HUTCHINSON_STREAM, 2)
    z = ((bits & 1) * 2 - 1).to(grad.dtype)
    (hz,) = torch.autograd.grad(grad, param, grad_outputs=z, retain_graph=True)
    return z * hz


def _chunk(history: History) -> dict[str, Any]:
    """A ``chunk`` event's data: the columns of the points recorded since the last one."""
    a, b = history.emitted, history.done_steps
    return {"from_step": a, "to_step": b, "rows": history.take_columns()}


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
    steps = spec.steps
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
    history = History.start(plan, starts)
    stops = history.stops
    last_emit = time.perf_counter()

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
        stops.stop(~torch.isfinite(loss), t)
        stopped = stops.mask(t)
        if stopped is not None:
            loss = torch.where(stopped, 0.0, loss)
        history.record_loss(t, loss, points)
        if t == steps:
            if history.full:
                history.record_grad_norm(t, _clean_grad_norm(plan, points.detach(), t, stopped))
            else:
                history.done_steps = t + 1
            break
        grad = torch.cat(grads).detach() if len(grads) > 1 else grads[0].detach()
        if history.full:
            grad_norm = torch.linalg.vector_norm(grad, dim=1)
            history.record_grad_norm(
                t, grad_norm if stopped is None else torch.where(stopped, 0.0, grad_norm)
            )
        else:
            history.done_steps = t + 1
        if stream and (t == 0 or time.perf_counter() - last_emit >= chunk_seconds):
            yield RunEvent("chunk", _chunk(history))
            last_emit = time.perf_counter()

        noisy = grad
        if not isinstance(plan.noise, NoNoise):
            noisy = plan.noise.perturb(
                grad, points=points.detach(), fn=plan.fn, step=t, seeds=seeds
            )
        if spec.clip_grad_norm is not None:
            norms = torch.linalg.vector_norm(noisy, dim=1, keepdim=True)
            noisy = noisy * torch.clamp(spec.clip_grad_norm / norms, max=1.0).nan_to_num(1.0)
        if stopped is not None:
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
            stops.stop(~((new >= lo_bound) & (new <= hi_bound)).all(dim=1), t + 1)
            frozen = stops.mask(t + 1)
            if frozen is not None:  # stopped rows stay at their last point
                new = torch.where(frozen[:, None], history.point(t), new)
                for group, p in zip(plan.groups, params, strict=True):
                    p.copy_(new[group.lo : group.hi])
            history.record_point(t + 1, new)

    if stream and history.emitted < history.done_steps:
        yield RunEvent("chunk", _chunk(history))
    yield RunEvent("done", {"rows": history.summaries()})


def _clean_grad_norm(
    plan: RunPlan, points: torch.Tensor, t: int, stopped: torch.Tensor | None
) -> torch.Tensor:
    """Gradient norms at the final points (no step follows, so no backward pass was made)."""
    with torch.enable_grad():
        p = points.clone().requires_grad_()
        (grad,) = torch.autograd.grad(plan.noise.loss(plan.fn, p, step=t).sum(), p)
    norms = torch.linalg.vector_norm(grad, dim=1)
    if stopped is not None:
        norms = torch.where(stopped, 0.0, norms)
    return norms.nan_to_num(0.0)


def collect_result(plan: RunPlan, events: Iterable[RunEvent]) -> dict[str, Any]:
    """Assemble the whole result (engine/record.py's ``RunResult``) from a run's events: one
    entry per row (series x sweep value x seed x start) with its identity, its columns (numpy
    arrays; ``record: full`` only) and its summary.

    Raises:
        RuntimeError: the events end without ``done`` (the run was cancelled).
    """
    done: dict[str, Any] = {}
    pieces: dict[int, list[dict[str, Any]]] = {row.index: [] for row in plan.rows}
    for event in events:
        if event.kind == "done":
            done = event.data
        elif event.kind == "chunk":
            for part in event.data["rows"]:
                pieces[part["row"]].append(part)
    if not done:
        raise RuntimeError("the run was cancelled")
    rows = []
    for row, summary in zip(plan.rows, done["rows"], strict=True):
        entry = row.describe()
        if plan.spec.record == "full":
            entry.update(_joined(pieces[row.index], plan))
        entry.update(summary)
        rows.append(entry)
    return {**plan.describe_run(), "series": rows}


def _joined(parts: list[dict[str, Any]], plan: RunPlan) -> dict[str, np.ndarray]:
    """A row's columns from its chunk pieces (usually one: then no copy)."""
    if len(parts) == 1:
        return {name: parts[0][name] for name in COLUMNS}
    if not parts:  # a row whose start was not valid has no points
        float_dtype = np.float64 if plan.dtype == torch.float64 else np.float32
        empty = {name: np.zeros(0, dtype=float_dtype) for name in COLUMNS}
        return {**empty, "steps": np.zeros(0, dtype=np.int64)}
    return {name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}


def run_to_result(
    spec: RunSpec, cancel: threading.Event | None = None, configured_device: str = "auto"
) -> dict[str, Any]:
    """Plan and run ``spec`` and return the whole result (see :func:`collect_result`)."""
    plan = plan_run(spec, configured_device)
    return collect_result(plan, run_events(plan, cancel, chunk_seconds=math.inf))
