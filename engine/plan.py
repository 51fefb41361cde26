"""A run's plan: its rows, the optimizer instances that step them, and what they run on.

A run expands into rows (series x sweep values x seeds x starts). Rows that can share one
optimizer instance form a group: a whole series when its swept hyperparameters accept tensors
(one ``(n, 1)`` tensor of values each, one ``step()``), one group per value of a swept
hyperparameter that does not (per run of equal values, when two are swept).

The plan holds everything validation produced (the resolved landscape and its parameters, the
parsed expression, the noise model, the filled hyperparameter models), so nothing is validated or
parsed again while the run steps.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import torch

from engine.rows import Row, RowTable, Variant
from engine.spec import RunSpec, SeriesSpec, StartsGrid
from landscapes import Landscape
from landscapes.noise import NoiseModel
from optimizers.registry import HParams, OptimizerEntry

__all__ = [
    "CUDA_MIN_ROWS",
    "PREVIEW_STRIDE",
    "Group",
    "Row",
    "RunPlan",
    "choose_device",
    "plan_run",
    "versions",
]

# 'auto' moves a run to CUDA (when present) from this many rows on: below it, launch latency
# dominates and the CPU is faster.
CUDA_MIN_ROWS = 4096
# A 'record: final' run over a grid of at least PREVIEW_MIN_SIDE starts a side streams a coarse
# map first: every PREVIEW_STRIDE-th start along each axis (1/16 of the rows).
PREVIEW_MIN_SIDE = 16
PREVIEW_STRIDE = 4


@dataclass(frozen=True)
class Group:
    """Rows ``[lo, hi)`` stepped by one optimizer instance."""

    entry: OptimizerEntry
    lo: int
    hi: int
    hparams: HParams
    # Swept hyperparameters passed as tensors: (name, one value per row of the group).
    tensor_values: tuple[tuple[str, tuple[float, ...]], ...] = ()


@dataclass(frozen=True)
class RunPlan:
    spec: RunSpec
    landscape: Landscape
    params: Any  # the landscape's validated parameter model
    fn: Callable[[torch.Tensor], torch.Tensor]
    # The landscape's analytic value and gradient (None: autograd, e.g. for typed functions).
    value_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None
    noise: NoiseModel
    rows: RowTable
    groups: tuple[Group, ...]
    dtype: torch.dtype
    device: torch.device
    minima: tuple[tuple[tuple[float, float], float], ...]  # ((x, y), f)
    tuning: dict[str, Any] | None = None  # a tuned run's choices (engine/tune.py), once made

    @property
    def steps(self) -> int:
        return self.spec.steps

    @functools.cached_property
    def best_value(self) -> float | None:
        """The global minimum value f*, the target of 'steps to tolerance' (None: unknown)."""
        return min((v for _, v in self.minima), default=None)

    def preview_rows(self) -> list[int]:
        """The rows of the coarse map a big ``record: final`` grid run streams first (every
        ``PREVIEW_STRIDE``-th start along both axes, for every series, value and seed), or none
        for other runs."""
        starts = self.spec.starts
        if self.spec.record != "final" or not isinstance(starts, StartsGrid):
            return []
        nx, ny = starts.grid.x[2], starts.grid.y[2]
        if min(nx, ny) < PREVIEW_MIN_SIDE:
            return []
        coarse = {
            j * nx + i for j in range(0, ny, PREVIEW_STRIDE) for i in range(0, nx, PREVIEW_STRIDE)
        }
        per_start = nx * ny  # rows run through the starts fastest
        coarse_starts = np.zeros(per_start, dtype=bool)
        coarse_starts[sorted(coarse)] = True
        return self.rows.row[coarse_starts[self.rows.row % per_start]].tolist()

    def subset(self, indices: list[int]) -> RunPlan:
        """The same run restricted to the rows ``indices`` (ascending), each group keeping its
        rows and their tensor values: the rows' numbers equal their numbers in the whole run
        (rows are independent), and rows keep their indices."""
        wanted = set(indices)
        groups = []
        for group in self.groups:
            kept = [i for i in range(group.lo, group.hi) if i in wanted]
            if not kept:
                continue
            lo = sum(1 for i in indices if i < group.lo)
            tensors = tuple(
                (name, tuple(values[i - group.lo] for i in kept))
                for name, values in group.tensor_values
            )
            groups.append(
                dataclasses.replace(group, lo=lo, hi=lo + len(kept), tensor_values=tensors)
            )
        return dataclasses.replace(self, rows=self.rows.take(indices), groups=tuple(groups))

    def describe(self) -> dict[str, Any]:
        """The ``meta`` event (``RunMeta`` in engine/record.py): every row, and what the numbers
        were computed with."""
        return {"rows": self.rows.describe(), **self.describe_run()}

    def describe_run(self) -> dict[str, Any]:
        """What the numbers were computed with (the whole result carries it beside its rows)."""
        return {
            "steps": self.spec.steps,
            "record": self.spec.record,
            "landscape": {
                "id": self.landscape.id,
                "label": self.landscape.label,
                "params": self.params.model_dump(),
                "global_minima": [{"point": list(p), "value": v} for p, v in self.minima],
            },
            "noise": self.noise.model_dump(),
            "clip_grad_norm": self.spec.clip_grad_norm,
            "tolerance": self.spec.tolerance,
            "dtype": str(self.dtype).removeprefix("torch."),
            "device": str(self.device),
            "versions": versions(),
            "tuning": self.tuning,
        }


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    found = {"torch": torch.__version__}
    for name in ("optiscope", "pytorch-optimizer", "numpy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return tuple(found.items())


def versions() -> dict[str, str]:
    """Versions that decide the numbers, for a reproducibility record (looked up once: reading
    package metadata takes milliseconds)."""
    return dict(_versions())


def choose_device(requested: str, rows: int, configured: str = "auto") -> torch.device:
    """Where a run executes: the spec's ``requested`` device, unless it says 'auto'; then the
    operator's ``configured`` one; 'auto' there means CUDA for large batches when present.

    Raises:
        ValueError: 'cuda' was asked for and CUDA is not available (names ``device``).
    """
    preference = configured if requested == "auto" else requested
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device: 'cuda' was asked for but CUDA is not available")
        return torch.device("cuda")
    if preference == "auto" and torch.cuda.is_available() and rows >= CUDA_MIN_ROWS:
        return torch.device("cuda")
    return torch.device("cpu")


def plan_run(spec: RunSpec, configured_device: str = "auto") -> RunPlan:
    """Expand ``spec`` into rows and groups; ``configured_device`` applies when the spec's own
    device is 'auto' (see :func:`choose_device`).

    Raises:
        ValueError: the device cannot be had.
    """
    landscape, params = spec.landscape.resolve()
    starts = spec.start_array(landscape.default_start)
    variants, groups = expand_series(spec.series, len(spec.seeds) * len(starts))
    rows = RowTable.product(variants, spec.seeds, starts)
    minima = tuple((tuple(p.point), p.value) for p in landscape.global_minima(params))
    return RunPlan(
        spec=spec,
        landscape=landscape,
        params=params,
        fn=landscape.bind(params),
        value_and_grad=landscape.bind_value_and_grad(params),
        noise=spec.noise_model,
        rows=rows,
        groups=tuple(groups),
        dtype=torch.float64 if spec.dtype == "float64" else torch.float32,
        device=choose_device(spec.device, len(rows), configured_device),
        minima=minima,
    )


def expand_series(
    series: Sequence[SeriesSpec], rows_per_variant: int
) -> tuple[list[Variant], list[Group]]:
    """The sweep values of every series (:class:`Variant`, series x values, in order), each
    with ``rows_per_variant`` rows (its seeds and starts here, its seeds for a network run):
    variant ``k``'s rows are ``[k * rows_per_variant, (k + 1) * rows_per_variant)``. And the
    groups stepping them: one optimizer instance per series, or per run of values a swept
    hyperparameter cannot share (see :meth:`SeriesSpec.instance_runs`), with the tensor
    hyperparameters' values per row.
    """
    variants: list[Variant] = []
    groups: list[Group] = []
    for series_index, one in enumerate(series):
        entry = one.entry
        per_variant = []
        for swept, filled in one.variants():
            label = one.label or entry.label
            if swept:
                label = f"{label} " + " ".join(f"{k}={v:g}" for k, v in swept.items())
            lo = len(variants) * rows_per_variant
            variants.append(Variant(series_index, label, entry.id, filled.model_dump()))
            per_variant.append((lo, lo + rows_per_variant, filled, swept))
        tensors = [s.param for s in one.sweeps if s.param in entry.tensor_hparams]
        for first, last in one.instance_runs():
            run = per_variant[first:last]
            lo, hi, filled = run[0][0], run[-1][1], run[0][2]
            tensor_values = tuple(
                (name, tuple(swept[name] for a, b, _, swept in run for _ in range(a, b)))
                for name in tensors
            )
            groups.append(Group(entry, lo, hi, filled, tensor_values))
    return variants, groups
