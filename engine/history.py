"""What a run records on its device, and the record's columns and summaries cut from it.

A ``record: full`` run keeps every step's position, clean loss and clean gradient norm (index
``k`` is the point after ``k`` steps) and sends them as columns; a ``record: final`` run keeps
only what its summaries need (the last valid point and loss, the first step within tolerance),
so a 65,536-row map holds a few vectors instead of a ``(steps + 1, rows, 2)`` tensor.

Rows stop where they diverge (:class:`Stops`); a stopped row's points freeze and its values
are masked, and its last valid point is always part of its columns.

Every number recorded is finite: a row's loss and gradient norm are checked before they are
recorded, and its point after each step; a row that fails stops there, and what it records from
then on is masked (a loss and gradient norm of 0, its last valid point). The columns say so
(``Records.finite``), and the JSON writer does not read 131 MB again to check them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.plan import RunPlan
from engine.rows import NumberLists, Records, column_dicts
from landscapes.noise import DriftNoise

__all__ = ["History", "Stops", "kept_steps"]


class Stops:
    """Which rows have stopped, and at which step: ``at[r]`` is the first step whose point or
    loss was not valid (``steps + 1`` while the row runs).

    Masking is one idea: :meth:`mask` is None while no row can have stopped, else the rows to
    mask. On the CPU, reading a flag is free, so masks start once a row has stopped; on a GPU
    every step masks, since reading the flag would wait for the device.
    """

    def __init__(self, rows: int, steps: int, device: torch.device) -> None:
        self.at = torch.full((rows,), steps + 1, dtype=torch.int64, device=device)
        self.on_cpu = device.type == "cpu"
        self.masking = not self.on_cpu
        # The mask of every row stopped so far, made once per stop rather than once per step
        # (a pair mask costs as much as a step of Adam): it is the mask of any step from the
        # latest stop's on. Earlier steps get their own.
        self._latest_stop = -1
        self.stops_made = 0  # how many times rows have stopped (a step's check stops several)
        self._mask: torch.Tensor | None = None
        self._pair_mask: torch.Tensor | None = None
        self._box: tuple[torch.Tensor, torch.Tensor, list[float], list[float]] | None = None

    def keep(self, rows: torch.Tensor) -> None:
        """Keep only ``rows`` (a mask over the rows, none of them stopped): the rows that have
        stopped leave the batch (:meth:`History.drop_stopped`)."""
        self.at = self.at[rows]
        self.masking = not self.on_cpu
        self._latest_stop = -1
        self._mask = self._pair_mask = None

    def stop(self, bad: torch.Tensor, step: int) -> bool:
        """Rows flagged ``bad`` that are still running stop at ``step``. Returns whether any
        row may have stopped (on a GPU, always: reading the flag would wait for the device)."""
        if self.on_cpu and not bool(bad.any()):
            return False
        self.at = torch.where(bad & (self.at > step), step, self.at)
        self.masking = True
        self._latest_stop = max(self._latest_stop, step)
        self._mask = self._pair_mask = None
        self.stops_made += 1
        return True

    def stop_not_finite(
        self,
        loss: torch.Tensor,
        grad: torch.Tensor,
        grad_norm: torch.Tensor | None,
        step: int,
    ) -> bool:
        """Rows whose ``loss`` or gradient norm (``grad_norm``, or the norm of ``grad`` when
        the caller keeps none) is not finite stop at ``step``; returns :meth:`stop`'s answer."""
        if self.on_cpu:
            # The common case in two passes, not a norm per row: a finite loss sum means every
            # loss is finite, and a total of squares below half the largest float means no
            # row's squared norm, in any summation order, overflows (nor is NaN).
            if grad_norm is not None:
                squares = torch.dot(grad_norm, grad_norm)
            else:
                flat = grad.reshape(-1)
                squares = torch.dot(flat, flat)
            limit = torch.finfo(grad.dtype).max / 2
            if bool(torch.isfinite(loss.sum())) and float(squares) <= limit:
                return False
        if grad_norm is None:
            grad_norm = torch.linalg.vector_norm(grad, dim=1)
        return self.stop(~(torch.isfinite(loss) & torch.isfinite(grad_norm)), step)

    def stop_outside(
        self, points: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor, step: int
    ) -> bool:
        """Rows whose point ``(R, 2)`` lies outside ``[lo, hi]`` (or is not finite: NaN fails
        both comparisons) stop at ``step``; returns :meth:`stop`'s answer."""
        if self.on_cpu:
            # The common case without comparing pairs (slow on the CPU): one pass over the
            # flat points against the tightest of the two bounds, or, when that fails (a row
            # frozen near one bound, say), each column against its own. NaN makes the extremes
            # NaN, which fails both.
            if self._box is None or self._box[0] is not lo or self._box[1] is not hi:
                # The bounds as numbers, read once per run rather than once per step.
                self._box = (lo, hi, lo.tolist(), hi.tolist())
            lows, highs = self._box[2], self._box[3]
            least, most = torch.aminmax(points.reshape(-1))
            if float(least) >= max(lows) and float(most) <= min(highs):
                return False
            for column in range(points.shape[1]):
                least, most = torch.aminmax(points[:, column])
                if not (float(least) >= lows[column] and float(most) <= highs[column]):
                    break
            else:
                return False
        inside = (points >= lo) & (points <= hi)
        return self.stop(~(inside[:, 0] & inside[:, 1]), step)

    def mask(self, step: int) -> torch.Tensor | None:
        """The rows stopped at or before ``step``; None when there is nothing to mask."""
        if not self.masking:
            return None
        if step < self._latest_stop:
            return self.at <= step
        if self._mask is None:
            self._mask = self.at <= step
        return self._mask

    def pair_mask(self, step: int) -> torch.Tensor | None:
        """:meth:`mask` for ``(R, 2)`` tensors, contiguous: ``where`` over pairs with a
        broadcast ``(R, 1)`` mask is about three times slower on the CPU."""
        mask = self.mask(step)
        if mask is None:
            return None
        if step < self._latest_stop:
            return mask[:, None].expand(-1, 2).contiguous()
        if self._pair_mask is None:
            self._pair_mask = mask[:, None].expand(-1, 2).contiguous()
        return self._pair_mask


def kept_steps(steps: int, max_points: int) -> np.ndarray:
    """Whether each step ``0..steps`` is sent when rows are decimated to ``max_points``: evenly
    spread, both ends included (each row's own last point is added where it stops)."""
    kept = np.zeros(steps + 1, dtype=bool)
    if steps + 1 <= max_points:
        kept[:] = True
    else:
        kept[np.round(np.arange(max_points) * steps / (max_points - 1)).astype(np.int64)] = True
    return kept


@dataclass
class History:
    """Everything recorded so far, on the run's device."""

    plan: RunPlan
    stops: Stops
    full: bool
    # record 'full': (steps + 1, R, 2), (steps + 1, R), (steps + 1, R)
    positions: torch.Tensor | None = None
    losses: torch.Tensor | None = None
    grad_norms: torch.Tensor | None = None
    # record 'final': the last valid point and loss; whether each row has yet to come within
    # tolerance of the minimum, and for how many steps it has not (the first step within it,
    # once it has: see :meth:`_first_within_tolerance`)
    last_point: torch.Tensor | None = None
    last_loss: torch.Tensor | None = None
    unreached: torch.Tensor | None = None  # uint8, 1 while unreached
    steps_unreached: torch.Tensor | None = None  # int32 (steps are at most 100,000)
    _gap: torch.Tensor | None = None  # record_loss's buffers, kept from step to step
    _far: torch.Tensor | None = None
    # record 'final' once stopped rows have left the batch (drop_stopped): the plan's row of
    # each row in the batch, and every plan row's values as of their last settling
    batch_rows: torch.Tensor | None = None
    settled: dict[str, torch.Tensor] | None = None
    loss_sum: torch.Tensor | None = None  # the clean losses so far (0 once a row stopped)
    done_steps: int = 0  # points [0, done_steps) have their loss (and gradient norm)
    emitted: int = 0  # points [0, emitted) were handed out as columns
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @classmethod
    def start(cls, plan: RunPlan, starts: torch.Tensor) -> History:
        steps, rows = plan.steps, len(plan.rows)
        history = cls(plan, Stops(rows, steps, plan.device), full=plan.spec.record == "full")
        dtype, device = plan.dtype, plan.device
        history.loss_sum = torch.zeros(rows, dtype=dtype, device=device)
        if history.full:
            history.positions = torch.empty(steps + 1, rows, 2, dtype=dtype, device=device)
            history.losses = torch.empty(steps + 1, rows, dtype=dtype, device=device)
            history.grad_norms = torch.empty(steps + 1, rows, dtype=dtype, device=device)
            history.positions[0] = starts
            history.kept = kept_steps(steps, plan.spec.max_points)
        else:
            history.last_point = starts.clone()
            history.last_loss = torch.zeros(rows, dtype=dtype, device=device)
            history.unreached = torch.ones(rows, dtype=torch.uint8, device=device)
            history.steps_unreached = torch.zeros(rows, dtype=torch.int32, device=device)
        return history

    # ---- recording, step by step

    def point(self, step: int) -> torch.Tensor:
        """Every row's point after ``step`` steps, once its loss is recorded; a row that has
        stopped by then: a full record's point at that step, a final record's last valid one
        (the only point it keeps)."""
        return self.positions[step] if self.full else self.last_point

    def record_loss(self, step: int, loss: torch.Tensor, points: torch.Tensor) -> None:
        """The clean loss at ``points`` (after ``step`` steps), already masked."""
        # Summed step by step in both records, so both give the same mean to the last bit.
        self.loss_sum += loss
        if self.full:
            self.losses[step].copy_(loss)
            return
        stopped = self.stops.mask(step)
        if stopped is None:
            # A copy: ``points`` may be the parameter itself, which the next step changes.
            self.last_loss = loss
            self.last_point.copy_(points.detach())
        else:
            self.last_loss = torch.where(stopped, self.last_loss, loss)
            pairs = self.stops.pair_mask(step)
            self.last_point = torch.where(pairs, self.last_point, points.detach())
        if self.plan.best_value is not None:
            # No mask: a row stays unreached until its loss is within tolerance, and counts
            # the steps it was (see _first_within_tolerance). Four passes into kept buffers;
            # 0/1 bytes added to int32 counts cast as they go (a bool to int64 is a copy).
            if self._far is None or self._far.shape != loss.shape:
                self._gap, self._far = torch.empty_like(loss), torch.empty_like(self.unreached)
            gap = torch.sub(loss, self.plan.best_value, out=self._gap).abs_()
            torch.gt(gap, self.plan.spec.tolerance, out=self._far)
            self.unreached.bitwise_and_(self._far)
            self.steps_unreached.add_(self.unreached)

    def record_grad_norm(self, step: int, grad_norm: torch.Tensor | None) -> None:
        """The clean gradient norm after ``step`` steps (a full record's; None for a final
        record, which keeps none)."""
        if self.full:
            self.grad_norms[step].copy_(grad_norm)
        self.done_steps = step + 1

    def record_point(self, step: int, points: torch.Tensor) -> None:
        """The points after ``step`` steps (a full record's; a final record keeps its last
        valid points when their losses are recorded)."""
        if self.full:
            self.positions[step].copy_(points)

    def _first_within_tolerance(self) -> torch.Tensor:
        """A final record's first step within tolerance of the minimum value, -1 where none.

        ``steps_unreached`` counts the steps before a row's first within tolerance (it stops
        counting there), so it is that step, unless the row stopped first: from its stop on,
        its loss is masked (0, which may or may not be within tolerance), so the count then
        reaches at least the step it stopped at, ``at``; those rows never reached it, as do
        running rows, which count every step (``steps + 1 = at``).
        """
        hit = self.steps_unreached
        return torch.where(hit < self.stops.at, hit, -1)

    # ---- columns

    def last_valid(self) -> torch.Tensor:
        """Each row's last valid point index, on the CPU (-1 when its start was not valid)."""
        return (self.stops.at.clamp(max=self.plan.steps + 1) - 1).cpu()

    # ---- a final record's batch without its stopped rows

    # What a final record keeps per row in the batch (with the stops' ``at``).
    _PER_ROW = ("last_point", "last_loss", "loss_sum", "unreached", "steps_unreached")

    def drop_stopped(self, running: torch.Tensor) -> None:
        """Keep only the ``running`` rows in the batch (a mask over it; a final record's): the
        others' values are settled (:meth:`_settle`) and no longer change, so the step loop no
        longer steps nor masks them."""
        if self.full:
            raise ValueError("a full record keeps every row's columns: its batch stays whole")
        self._settle()
        self.batch_rows = self.batch_rows[running]
        for name in self._PER_ROW:
            setattr(self, name, getattr(self, name)[running])
        self.stops.keep(running)

    def _rejoin(self) -> None:
        """Every plan row in the batch again, in order (for the summaries, once stepped)."""
        if self.settled is None:
            return
        settled = self._settle()
        for name in self._PER_ROW:
            setattr(self, name, settled[name])
        self.stops.at = settled["at"]
        self.settled = self.batch_rows = None

    def _settle(self) -> dict[str, torch.Tensor]:
        """Every plan row's values, the batch's written over the rows they are."""
        if self.settled is None:
            self.batch_rows = torch.arange(len(self.plan.rows), device=self.plan.device)
            self.settled = {name: getattr(self, name).clone() for name in self._PER_ROW}
            self.settled["at"] = self.stops.at.clone()
        else:
            for name in self._PER_ROW:
                self.settled[name][self.batch_rows] = getattr(self, name)
            self.settled["at"][self.batch_rows] = self.stops.at
        return self.settled

    def take_columns(self) -> Records | list[dict[str, Any]]:
        """The columns of points ``[emitted, done_steps)`` of every row with points there (see
        :class:`engine.record.ChunkRow`), as numpy arrays; they count as handed out.

        When every such row runs on to the chunk's last point (the common case), they are the
        rows of one gather: records whose columns are one ``(rows, points)`` matrix per name
        (engine/rows.py), which a writer takes whole. Otherwise a list of the rows' dicts."""
        a, b = self.emitted, self.done_steps
        self.emitted = b
        if not self.full or a >= b:
            return []
        last = self.last_valid().numpy()
        in_range = np.flatnonzero(self.kept[a:b]) + a
        running = np.flatnonzero(last >= b - 1)
        common = in_range
        ends_here = len(running) and bool((last[running] == b - 1).any())
        if ends_here and (not len(in_range) or in_range[-1] != b - 1):
            common = np.append(in_range, b - 1)  # a run's final step is always sent
        # Rows with points here that stop before the chunk's last (those that stopped before
        # it have none): each is cut on its own, up to its last valid point.
        stopped = np.flatnonzero((last >= a) & (last < b - 1)).tolist()
        gathered = self._gather(common, running) if len(running) and len(common) else None
        if gathered is not None and not stopped:
            # Finite, as everything recorded (see the module's docstring).
            return Records(len(running), columns=lambda: gathered, finite=True)
        parts: dict[int, dict[str, Any]] = {}
        if gathered is not None:
            parts.update(zip(running.tolist(), column_dicts(gathered), strict=True))
        for r in stopped:
            end = int(last[r])
            wanted = np.flatnonzero(self.kept[a : end + 1]) + a
            if end >= a and (not len(wanted) or wanted[-1] != end):
                wanted = np.append(wanted, end)
            if len(wanted):
                parts[r] = column_dicts(self._gather(wanted, np.array([r])))[0]
        return [parts[r] for r in sorted(parts)]

    def _gather(self, steps: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
        """Columns of ``rows`` at ``steps`` (:class:`engine.rows.Records`' columns: ``row``,
        the ``steps`` they share, and one ``(rows, steps)`` matrix per value): one gather and
        one transfer per matrix."""
        at, picked = _index(steps, self.plan.device), _index(rows, self.plan.device)
        positions = self.positions[at][:, picked]  # (K, n, 2)
        return {
            "row": rows.tolist(),
            "steps": [steps] * len(rows),
            "x": positions[..., 0].T.contiguous().cpu().numpy(),
            "y": positions[..., 1].T.contiguous().cpu().numpy(),
            "loss": self.losses[at][:, picked].T.contiguous().cpu().numpy(),
            "grad_norm": self.grad_norms[at][:, picked].T.contiguous().cpu().numpy(),
        }

    # ---- summaries

    def summaries(self) -> Records:
        """Per row (:class:`engine.record.RowSummary`), see :meth:`_summary_columns`: computed
        now, as columns; the dicts are made when read (engine/rows.py)."""
        columns = self._summary_columns()
        return Records(len(self.plan.rows), columns=lambda: _summary_lists(self.plan, columns))

    def _summary_columns(self) -> dict[str, np.ndarray | None]:
        """Per row: final point and clean loss, distance to the nearest global minimum and
        which one it is, the first step within ``tolerance`` of the minimum value (-1: none),
        and the last valid step (-1: not even the start), as numpy columns."""
        plan = self.plan
        steps, R = plan.steps, len(plan.rows)
        self._rejoin()
        last = self.last_valid()
        at_last = last.clamp(min=0)
        if self.full:
            losses = self.losses.cpu()
            final = self.positions.cpu()[at_last, torch.arange(R)]
            final_loss = losses[at_last, torch.arange(R)]
            reached = None
            if plan.best_value is not None:
                close = (losses - plan.best_value).abs() <= plan.spec.tolerance
                close &= torch.arange(steps + 1)[:, None] <= last[None, :]
                reached = torch.where(close.any(dim=0), close.to(torch.int8).argmax(dim=0), -1)
        else:
            final, final_loss = self.last_point.detach().cpu(), self.last_loss.detach().cpu()
            reached = self._first_within_tolerance().cpu() if plan.minima else None
        distance = nearest = None
        if plan.minima:
            minima = torch.tensor([p for p, _ in plan.minima], dtype=final.dtype)
            if isinstance(plan.noise, DriftNoise):  # the minima have moved with the landscape
                at = at_last.numpy().tolist()
                shifts = {k: plan.noise.offset(k) for k in set(at)}
                moved = minima[None] + torch.tensor([shifts[k] for k in at])[:, None]
            else:
                moved = minima[None].expand(R, -1, -1)
            distance, nearest = torch.linalg.vector_norm(final[:, None] - moved, dim=2).min(dim=1)
        # A stopped row's losses are 0 from its stop on: the sum is over its valid points.
        mean = self.loss_sum.cpu() / (last + 1).clamp(min=1)
        return {
            "final": final.numpy(),
            "final_loss": final_loss.numpy(),
            "mean_loss": mean.numpy(),
            "distance": distance.numpy() if distance is not None else None,
            "nearest": nearest.numpy() if nearest is not None else None,
            "reached": reached.numpy() if reached is not None else None,
            "last": last.numpy(),
        }


def _index(positions: np.ndarray, device: torch.device) -> slice | torch.Tensor:
    """``positions`` (ascending) as an index into a recorded tensor's dimension: a slice when
    they are a run of consecutive positions (every step of a chunk, every row of a batch), so
    that indexing gives a view rather than a copy (at 4096 rows x 1000 steps, the columns'
    gathers went from 70-110 ms to 37 ms: only the transposes copy)."""
    if len(positions) and int(positions[-1]) - int(positions[0]) + 1 == len(positions):
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return torch.from_numpy(positions).to(device)


def _summary_lists(plan: RunPlan, columns: dict[str, np.ndarray | None]) -> dict[str, list[Any]]:
    """The rows' ``RowSummary`` values, a list per key, from :meth:`_summary_columns`; a row
    whose start was not valid has no final values (its start is its final point)."""
    R, steps = len(plan.rows), plan.steps
    # Through numpy: its tolist is many times faster than torch's at a map's 65,536 rows.
    last = columns["last"].tolist()
    absent = [None] * R
    every_start_valid = not R or min(last) >= 0

    def listed(name: str) -> list[Any]:
        column = columns[name]
        if column is None:
            return absent
        values = column.tolist()
        if every_start_valid:
            return values
        return [value if end >= 0 else None for value, end in zip(values, last, strict=True)]

    final_point = columns["final"]
    if not every_start_valid:
        # A start is a float64 as it was sent, whatever the run's dtype.
        valid = columns["last"] >= 0
        final_point = np.where(valid[:, None], final_point.astype(np.float64), plan.rows.start)
    reached = columns["reached"]
    # None for a row that ran every step (most rows, often all).
    all_ran = min(last, default=steps) == steps
    diverged_at = absent if all_ran else [end + 1 if end < steps else None for end in last]
    return {
        "row": plan.rows.row.tolist(),
        "final_point": NumberLists(final_point),
        "final_loss": listed("final_loss"),
        "mean_loss": listed("mean_loss"),
        "distance_to_minimum": listed("distance"),
        "nearest_minimum": listed("nearest"),
        "steps_to_tolerance": _or_none(reached.tolist(), 0) if reached is not None else absent,
        "diverged_at": diverged_at,
    }


def _or_none(values: list[int], least: int) -> list[int | None]:
    """``values`` with each one below ``least`` as None."""
    if min(values, default=least) >= least:
        return values
    return [value if value >= least else None for value in values]
