"""The step loop: every row of a plan stepped in lockstep, streamed as record events.

Every step:

1. the clean loss of every row at its current point (``noise.loss``) and one backward pass over
   the sum, which gives each row its own exact gradient;
2. the noise model's gradient (per-row seeds), optional per-row clipping, zeroed for rows that
   have stopped;
3. one ``step()`` per group; the new points are checked without a host sync: a row whose point
   or loss is not finite, or whose point leaves a generous bound around the view box, stops
   there and reports the step as ``diverged_at``.

A stopped row's values are masked from then on. In a ``record: final`` run on the CPU (maps and
sweeps, where a third of the rows may diverge) the stopped rows leave the batch instead, every
few steps: their summaries are settled, and the optimizers go on over the running rows only
(:func:`_drop_stopped_rows`), so no step is spent on them.

Events follow engine/record.py: ``meta``, ``chunk``s of columns (when streaming), ``done``.
"""

from __future__ import annotations

import dataclasses
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
from engine.rows import Records, dict_columns
from engine.spec import RunSpec
from engine.tune import choose, tuned_rows
from landscapes import Landscape
from landscapes.noise import NoNoise, random_bits

__all__ = [
    "CHUNK_SECONDS",
    "RunEvent",
    "RunFailedError",
    "collect_result",
    "run_events",
    "run_to_result",
]

# A point further than this many view-box sizes from the box has diverged.
DIVERGENCE_MARGIN = 10.0
# Streaming cadence: the first chunk right after the first step, then at most this often.
CHUNK_SECONDS = 0.05
# Stopped rows leave a final record's batch at most this often (in steps): leaving costs about
# as much as a few masked steps (a copy of every per-row tensor, against a few masking passes
# a step), so they leave soon, but rows stopping one by one do not make every step copy.
DROP_INTERVAL = 8
_HUTCHINSON_STREAM = 101  # counter-based random stream of AdaHessian's probes


@dataclass(frozen=True)
class RunEvent:
    """``kind`` is 'meta', 'preview', 'chunk' or 'done'; ``data`` follows engine/record.py's
    ``RunMeta``, ``Preview``, ``Chunk`` and ``Done``, with numpy arrays for columns (finite
    numbers only)."""

    kind: Literal["meta", "preview", "chunk", "done"]
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
    if not grad.requires_grad:  # a gradient that does not change: the Hessian is zero
        return torch.zeros_like(param)
    (hz,) = torch.autograd.grad(
        grad, param, grad_outputs=z, retain_graph=True, allow_unused=True, materialize_grads=True
    )
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
    """Run ``plan``, yielding ``meta``, then ``chunk``s (when ``stream``), then ``done``; a
    streamed ``record: final`` run over a big grid of starts sends a ``preview`` (the coarse
    map's summaries, see :meth:`RunPlan.preview_rows`) before its chunks.

    A tuned run (``tune`` in the spec) first runs its tuning run (engine/tune.py) without
    events, then runs the held-out rows with the values chosen: its ``meta`` describes those
    rows and the choice (``tuning``).

    Setting ``cancel`` (or closing the generator) stops the run before its next step.
    """
    if plan.spec.tune is not None:
        tuning_plan = plan_run(plan.spec.tuning_spec(), plan.device.type)
        rows = tuned_rows(_all_events(tuning_plan, cancel))
        if rows is None:  # cancelled
            return
        tuning = choose(plan.spec, rows)
        held_out = plan.spec.held_out_spec([chosen["value"] for chosen in tuning["series"]])
        plan = dataclasses.replace(plan_run(held_out, plan.device.type), tuning=tuning)
    yield RunEvent("meta", plan.describe())
    coarse = plan.preview_rows() if stream and math.isfinite(chunk_seconds) else []
    if coarse:
        preview = None
        for event in _step_rows(plan.subset(coarse), cancel, stream=False, chunk_seconds=math.inf):
            preview = event.data if event.kind == "done" else preview
        if preview is None:  # cancelled
            return
        yield RunEvent("preview", preview)
    yield from _step_rows(plan, cancel, stream=stream, chunk_seconds=chunk_seconds)


def _all_events(plan: RunPlan, cancel: threading.Event | None) -> Iterator[RunEvent]:
    yield RunEvent("meta", plan.describe())
    yield from _step_rows(plan, cancel, stream=False, chunk_seconds=math.inf)


def _step_rows(
    plan: RunPlan, cancel: threading.Event | None, *, stream: bool, chunk_seconds: float
) -> Iterator[RunEvent]:
    """The step loop of :func:`run_events`: ``chunk``s (when ``stream``), then ``done``."""
    spec, dtype, device = plan.spec, plan.dtype, plan.device
    steps = spec.steps
    starts = torch.tensor(plan.rows.start, dtype=dtype, device=device)
    seeds = torch.tensor(plan.rows.seed, dtype=torch.int64, device=device)
    params, optimizers = [], []
    # Each group's rows in the batch: the plan's until stopped rows leave it.
    spans = [(group.lo, group.hi) for group in plan.groups]
    dropping = _can_drop_stopped_rows(plan)
    stops_seen, last_drop = 0, 0
    for group in plan.groups:
        p = starts[group.lo : group.hi].clone().requires_grad_()
        tensors = {
            name: torch.tensor(values, dtype=dtype, device=device)[:, None]
            for name, values in group.tensor_values
        }
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
        if dropping and stops.stops_made != stops_seen and t >= last_drop + DROP_INTERVAL:
            stops_seen, last_drop = stops.stops_made, t
            running = stops.at > steps
            if not bool(running.all()):
                dropped = _drop_stopped_rows(plan, optimizers, params, spans, running)
                if dropped is None:
                    dropping = False
                else:
                    params, spans = dropped
                    history.drop_stopped(running)
                    seeds = seeds[running]
                    if not len(seeds):  # every row has stopped: nothing changes any more
                        history.done_steps = steps + 1
                        break
        points = torch.cat(params) if len(params) > 1 else params[0]
        loss, grad, grads = _loss_and_gradients(plan, points, params, t, create_graph and t < steps)
        # A row whose loss or gradient is not a finite number cannot go on: it stops here.
        grad_norm = torch.linalg.vector_norm(grad, dim=1) if history.full else None
        stops.stop_not_finite(loss, grad, grad_norm, t)
        stopped = stops.mask(t)
        if stopped is not None:
            loss = torch.where(stopped, 0.0, loss)
            if grad_norm is not None:
                grad_norm = torch.where(stopped, 0.0, grad_norm)
        history.record_loss(t, loss, points)
        history.record_grad_norm(t, grad_norm)
        if t == steps:
            break
        # The first chunk right after the first step (something to draw at once), unless the
        # caller wants everything in one piece (chunk_seconds=inf: the whole result).
        first = t == 0 and math.isfinite(chunk_seconds)
        if stream and (first or time.perf_counter() - last_emit >= chunk_seconds):
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
            noisy = torch.where(stops.pair_mask(t), 0.0, noisy)
        graphs = grads if grads is not None else (None,) * len(params)
        for group, (lo, hi), p, g, optimizer in zip(
            plan.groups, spans, params, graphs, optimizers, strict=True
        ):
            if lo == hi:  # a group whose rows have all stopped
                continue
            p.grad = noisy[lo:hi]
            try:
                if group.entry.accepts_hessian_diagonal:
                    hessian = _hutchinson_diagonal(g, p, seeds[lo:hi], t)
                    optimizer.step(hessian=[hessian.detach()])
                else:
                    optimizer.step()
            except (RuntimeError, ValueError, ArithmeticError) as error:
                raise RunFailedError.of_group(plan, group, t, error) from error
            p.grad = None
        with torch.no_grad():
            new = torch.cat([p.detach() for p in params]) if len(params) > 1 else params[0]
            # Stopped rows stay at their last point: those stopped before this step are put
            # back first, so whatever their optimizer's state holds (NaN, say) is not checked
            # again; then the rest are, and those that stop here are put back too.
            frozen = stops.pair_mask(t)
            if frozen is not None:
                new = torch.where(frozen, history.point(t), new)
            if stops.stop_outside(new, lo_bound, hi_bound, t + 1):
                frozen = stops.pair_mask(t + 1)
                new = torch.where(frozen, history.point(t), new)
            if frozen is not None:
                for (lo, hi), p in zip(spans, params, strict=True):
                    p.copy_(new[lo:hi])
            history.record_point(t + 1, new)

    if stream and history.emitted < history.done_steps:
        yield RunEvent("chunk", _chunk(history))
    yield RunEvent("done", {"rows": history.summaries()})


def _can_drop_stopped_rows(plan: RunPlan) -> bool:
    """Whether stopped rows may leave the batch: a final record (nothing is kept per step) on
    the CPU (counting the stopped rows reads the device), and optimizers whose rows are
    independent and whose steps draw nothing at random (a smaller batch would draw other
    numbers) nor need the gradient's graph."""
    return (
        plan.spec.record == "final"
        and plan.device.type == "cpu"
        and not any(
            group.entry.random_step
            or group.entry.needs_create_graph
            or group.entry.accepts_hessian_diagonal
            for group in plan.groups
        )
    )


def _drop_stopped_rows(
    plan: RunPlan,
    optimizers: list[torch.optim.Optimizer],
    params: list[torch.Tensor],
    spans: list[tuple[int, int]],
    running: torch.Tensor,
) -> tuple[list[torch.Tensor], list[tuple[int, int]]] | None:
    """Each group's optimizer over its running rows only: a new parameter of those rows, and
    its state and per-row hyperparameters cut to them. Every value a running row has is the
    same as before (it is copied, not recomputed), and rows are independent, so the run's
    numbers do not change.

    Args:
        running: a mask over the batch, the rows to keep.

    Returns:
        The new parameters and each group's rows in the new batch, or None (nothing changed)
        when an optimizer keeps state this cannot cut: a tensor shaped neither like the
        parameter nor as a scalar.
    """
    for p, optimizer in zip(params, optimizers, strict=True):
        state = optimizer.state.get(p, {})
        if len(optimizer.param_groups) != 1 or any(
            isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape != p.shape
            for value in state.values()
        ):
            return None
    kept_params, kept_spans, lo = [], [], 0
    for group, (a, b), p, optimizer in zip(plan.groups, spans, params, optimizers, strict=True):
        rows = running[a:b]
        kept = p.detach()[rows].requires_grad_()
        (param_group,) = optimizer.param_groups
        state = optimizer.state.pop(p, {})
        optimizer.state[kept] = {
            key: value[rows] if isinstance(value, torch.Tensor) and value.ndim > 0 else value
            for key, value in state.items()
        }
        param_group["params"] = [kept]
        for name, _ in group.tensor_values:  # (rows, 1) per-row hyperparameters
            param_group[name] = param_group[name][rows]
        kept_params.append(kept)
        kept_spans.append((lo, lo + kept.shape[0]))
        lo += kept.shape[0]
    return kept_params, kept_spans


def _loss_and_gradients(
    plan: RunPlan, points: torch.Tensor, params: list[torch.Tensor], t: int, create_graph: bool
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, ...] | None]:
    """The clean loss of every row after ``t`` steps, its gradient ``(R, 2)``, and, when
    ``create_graph`` (AdaHessian's Hessian-vector products), the gradient per group with its
    graph.

    A registry landscape's gradient is its analytic one (``Landscape.value_and_grad``: the same
    values, the gradient equal to autograd's to rounding), computed without building a graph;
    typed functions, and runs that need the graph, go through autograd. A function that does
    not depend on the point somewhere (a typed ``x + 0*y`` has no y in its graph, a constant
    piece none at all) has a zero gradient there, not an error.
    """
    try:
        if plan.value_and_grad is not None and not create_graph:
            with torch.no_grad():
                loss, grad = plan.noise.loss_and_grad(plan.value_and_grad, points.detach(), step=t)
            return loss, grad, None
        with torch.enable_grad():
            loss = plan.noise.loss(plan.fn, points, step=t)
    except (RuntimeError, ValueError, ArithmeticError) as error:
        message = f"evaluating the landscape at step {t} failed: {error}"
        raise RunFailedError(message, t) from error
    if not loss.requires_grad:
        grads = tuple(torch.zeros_like(p) for p in params)
    else:
        with torch.enable_grad():
            # autograd.grad rather than backward(): no grad-to-param reference cycle when the
            # graph is kept for Hessian-vector products.
            grads = torch.autograd.grad(
                loss.sum(),
                params,
                create_graph=create_graph,
                allow_unused=True,
                materialize_grads=True,
            )
    grad = torch.cat(grads).detach() if len(grads) > 1 else grads[0].detach()
    return loss.detach(), grad, grads


class RunFailedError(RuntimeError):
    """Something went wrong inside a run; the message names the step and, where it is one
    optimizer's doing, its rows and series (``series`` is the index in the request)."""

    def __init__(
        self,
        message: str,
        step: int,
        rows: tuple[int, int] | None = None,
        series: int | None = None,
    ) -> None:
        super().__init__(message)
        self.step, self.rows, self.series = step, rows, series

    @classmethod
    def of_group(cls, plan: RunPlan, group, step: int, error: Exception) -> RunFailedError:
        first, last = plan.rows[group.lo], plan.rows[group.hi - 1]
        return cls(
            f"{first.label} (rows {first.index}-{last.index}) failed at step {step}: "
            f"{type(error).__name__}: {error}",
            step,
            (first.index, last.index + 1),
            first.series,
        )


def collect_result(plan: RunPlan, events: Iterable[RunEvent]) -> dict[str, Any]:
    """Assemble the whole result (engine/record.py's ``RunResult``) from a run's events: one
    entry per row (series x sweep value x seed x start) with its identity, its columns (numpy
    arrays; ``record: full`` only) and its summary. The rows and the context are the ``meta``
    event's (a tuned run's rows are known only once it is tuned).

    The rows are records kept as columns (engine/rows.py): a run whose points came in one
    chunk hands its matrices on as they are, so a writer that takes columns never makes the
    4096 dicts of a big run, nor the views of their columns.

    Raises:
        RuntimeError: the events end without ``done`` (the run was cancelled).
    """
    meta: dict[str, Any] = {}
    done: dict[str, Any] = {}
    chunks: list[Records | list[dict[str, Any]]] = []
    for event in events:
        if event.kind == "meta":
            meta = event.data
        elif event.kind == "done":
            done = event.data
        elif event.kind == "chunk":
            chunks.append(event.data["rows"])
    if not done:
        raise RuntimeError("the run was cancelled")
    context = {key: value for key, value in meta.items() if key != "rows"}
    info, summary = meta["rows"], done["rows"]
    full = context["record"] == "full"

    def columns() -> dict[str, Any]:
        identity = _columns_of(info)
        points = _point_columns(chunks, identity["row"], plan) if full else {}
        summaries = _columns_of(summary)
        if summaries["row"] != identity["row"]:
            raise AssertionError("the summaries are not the rows' own")
        del summaries["row"]
        return {**identity, **points, **summaries}

    # Finite matrices (engine/history.py) when the points are a chunk's matrices (else they are
    # lists of each row's columns, which the writer checks).
    finite = len(chunks) == 1 and isinstance(chunks[0], Records) and chunks[0].finite
    return {**context, "series": Records(len(info), columns=columns, finite=finite)}


def _columns_of(records: Records | list[dict[str, Any]]) -> dict[str, Any]:
    """``records``' values a list per key (as :meth:`Records.columns` gives them)."""
    columns = records.columns() if isinstance(records, Records) else None
    if columns is None:
        rows = list(records)
        columns = dict_columns(rows) if rows else {"row": []}
        if columns is None:
            raise AssertionError("the engine's records differ in their keys")
    return dict(columns)


def _point_columns(
    chunks: list[Records | list[dict[str, Any]]], rows: list[int], plan: RunPlan
) -> dict[str, Any]:
    """Each row's columns across the chunks, a list per name; the matrices as they are when
    one chunk holds every row (the common case: a whole result comes in one chunk)."""
    if len(chunks) == 1 and isinstance(chunks[0], Records):
        columns = chunks[0].columns()
        if columns is not None and columns["row"] == rows:
            return {name: columns[name] for name in COLUMNS}
    pieces: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks:
        for part in chunk:
            pieces.setdefault(part["row"], []).append(part)
    joined = [_joined(pieces.get(row, []), plan) for row in rows]
    return {name: [columns[name] for columns in joined] for name in COLUMNS}


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
