"""The network run specification: optimizers training a small MLP on a generated task.

The second kind of run beside engine/spec.py's ``RunSpec``: the parameters are a network's
weights instead of a point on a landscape. The series, seeds, steps, dtype, device and record
mean what they mean there (``SeriesSpec`` is reused as it is); rows expand as series x sweep
values x seeds, each row a whole network. A minimal run::

    {"task": {"id": "spirals"}, "steps": 300,
     "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}]}

A row's seed decides its initial weights (``torch.nn.Linear``'s default initialisation, drawn
as ``torch.manual_seed(seed)`` then building the network would, in float32 and then cast: the
same network in either dtype) and, with ``batch_size``, its
minibatch order (a fresh permutation of the training points every epoch, drawn from the same
generator right after the weights). The data set has its own seed (``task.params.seed``), so
every row of a run learns the same points.

Errors name the field as engine/spec.py's do: a ``ValueError`` whose message starts with the
field's path ("task.params.n: ...", "series.0.optimizer: ..."), which the API turns into a
422's ``loc``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from engine.spec import (
    MAX_SEEDS,
    MAX_SERIES,
    BudgetError,
    RowCounts,
    SeriesSpec,
    StrictModel,
    first_error,
)
from tasks.datasets import Dataset, TaskParams, held_out_count
from tasks.mlp import Activation, layer_shapes, parameter_count
from tasks.registry import TaskEntry, UnknownTaskError, get_task, list_tasks

__all__ = [
    "ModelSpec",
    "NetworkLimits",
    "NetworkRunSpec",
    "PlaneSpec",
    "TaskRef",
    "check_network_budget",
]

TaskId = Annotated[str, Field(json_schema_extra={"enum": [e.id for e in list_tasks()]})]
StrictCount = Annotated[int, Field(strict=True)]

# Hard ceilings of the schema itself; NetworkLimits is usually tighter.
MAX_NETWORK_STEPS = 20_000
MAX_DEPTH = 4  # hidden layers
MAX_WIDTH = 256
MAX_PLANE_RESOLUTION = 81
# Most numbers of weight trajectories a run keeps (kept steps x rows x parameters): 256 MB.
MAX_KEPT_WEIGHTS = 1 << 25
# Weights kept per row for a loss plane: the path's points (both ends included).
PLANE_KEPT_STEPS = 101
# The snapshot grid (decision boundary) and curve (regression) resolutions.
BOUNDARY_SIDE = 48
CURVE_POINTS = 200


class ModelSpec(StrictModel):
    """The MLP: hidden layer widths and their activation (the output layer is linear)."""

    hidden: list[Annotated[int, Field(strict=True, ge=1, le=MAX_WIDTH)]] = Field(
        default_factory=lambda: [32, 32],
        max_length=MAX_DEPTH,
        description="Width of each hidden layer, input side first ([] is a linear model). Two "
        "layers of 32 by default: ANDI's matrix branch needs a weight larger than 16 x 16.",
    )
    activation: Activation = Field("tanh", description="Activation after each hidden layer.")


class TaskRef(StrictModel):
    """A registry task with its parameters, the network that learns it, and the batch size.

    Validation resolves it once: :meth:`resolve` returns the entry and its validated
    parameters, :meth:`dataset` the generated points (made once, on first use).
    """

    id: TaskId = Field(description="Registry id, e.g. 'spirals'.")
    params: dict[str, Any] = Field(default_factory=dict, description="The task's parameters.")
    model: ModelSpec = Field(default_factory=ModelSpec)
    batch_size: StrictCount | None = Field(
        None,
        ge=1,
        description="Training points per step, drawn without replacement in a per-row seeded "
        "order, a new permutation each epoch; null trains on the full batch.",
    )
    _entry: TaskEntry = PrivateAttr()
    _params: TaskParams = PrivateAttr()
    _dataset: Dataset | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _known_id(cls, data: Any) -> Any:
        # Checked before the other fields so an unknown id is the error reported.
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            try:
                get_task(data["id"])
            except UnknownTaskError as error:
                raise ValueError(f"id: {error}") from None
        return data

    @model_validator(mode="after")
    def _resolve(self) -> TaskRef:
        entry = get_task(self.id)
        try:
            params = entry.parse_params(self.params)
        except ValidationError as error:
            raise ValueError(f"params.{first_error(error)}") from None
        self._entry, self._params = entry, params
        train = self.train_size
        if self.batch_size is not None and self.batch_size > train:
            raise ValueError(
                f"batch_size: {self.batch_size} exceeds the {train} training points "
                "(null trains on the full batch)"
            )
        return self

    def resolve(self) -> tuple[TaskEntry, TaskParams]:
        """The task and its validated parameters (resolved once, by validation)."""
        return self._entry, self._params

    def dataset(self) -> Dataset:
        """The task's points, float64 on the CPU (generated on first use, then kept)."""
        if self._dataset is None:
            self._dataset = self._entry.make(self._params)
        return self._dataset

    @property
    def held_out_size(self) -> int:
        """Held-out points: ``round(n * held_out)``, as tasks/datasets.py splits them."""
        return held_out_count(self._params)

    @property
    def train_size(self) -> int:
        return self._params.n - self.held_out_size

    @property
    def outputs(self) -> int:
        return self._entry.outputs(self._params)

    def layer_shapes(self) -> list[tuple[int, int]]:
        """``(out, in)`` of every layer's weight."""
        return layer_shapes(self._entry.input_dim, self.model.hidden, self.outputs)

    def parameter_count(self) -> int:
        """Weights and biases of one network (one row)."""
        return parameter_count(self.layer_shapes())

    def points_per_step(self) -> int:
        """Points one row runs through the network per step: the batch's forward and backward
        (counted twice), the held-out set's evaluation, and with minibatches the training
        set's (the recorded loss is always the whole training set's)."""
        if self.batch_size is None:
            return 2 * self.train_size + self.held_out_size
        return 2 * self.batch_size + self.train_size + self.held_out_size


class PlaneSpec(StrictModel):
    """The loss landscape around each row's path, computed once the run has trained
    (engine/loss_plane.py, Li et al. 2018): a plane through the row's final weights, the loss on
    a ``resolution`` x ``resolution`` grid in it, and the path projected onto it."""

    kind: Literal["pca", "filter"] = Field(
        "pca",
        description="'pca': the plane of the path's two principal directions (with their share "
        "of its variance); 'filter': two filter-normalised random directions.",
    )
    resolution: StrictCount = Field(31, ge=5, le=MAX_PLANE_RESOLUTION)
    seed: Annotated[int, Field(strict=True, ge=0, le=2**62)] = Field(
        0, description="Seed of the random directions ('filter')."
    )


class NetworkRunSpec(RowCounts, StrictModel):
    """Everything one network run needs. Optional fields default to: seed 0, float64, every
    step recorded up to ``max_points``, a snapshot of every row's predictions every
    ``ceil(steps / 20)`` steps."""

    task: TaskRef
    series: list[SeriesSpec] = Field(min_length=1, max_length=MAX_SERIES)
    seeds: list[Annotated[int, Field(strict=True, ge=0, le=2**62)]] = Field(
        default_factory=lambda: [0],
        min_length=1,
        max_length=MAX_SEEDS,
        description="One row per seed: the initial weights and the minibatch order.",
    )
    steps: StrictCount = Field(ge=1, le=MAX_NETWORK_STEPS)
    dtype: Literal["float64", "float32"] = "float64"
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto' uses CUDA for large batches when it is available."
    )
    max_points: StrictCount = Field(
        2001,
        ge=2,
        le=MAX_NETWORK_STEPS + 1,
        description="Points per row sent; longer runs are decimated.",
    )
    record: Literal["full", "final"] = Field(
        "full",
        description="'full' streams every row's columns (steps, loss, held_out_loss, accuracy, "
        "grad_norm) and its snapshots; 'final' sends only each row's summary.",
    )
    snapshot_every: StrictCount | None = Field(
        None,
        ge=1,
        le=MAX_NETWORK_STEPS,
        description="Steps between snapshots of each row's predictions (the decision boundary "
        "on a 48 x 48 grid, or the fitted curve on 200 points); null: ceil(steps / 20).",
    )
    plane: PlaneSpec | None = Field(
        None,
        description="The loss landscape around every row's path, sent once trained (a 'plane' "
        "event, and each row's 'plane' in the whole result); none by default.",
    )

    @model_validator(mode="after")
    def _supported_optimizers(self) -> NetworkRunSpec:
        # AdaHessian takes its Hessian diagonal from the engine (per-row probes); an optimizer
        # that would draw its own from the gradient's graph is not offered.
        for index, series in enumerate(self.series):
            entry = series.entry
            if entry.needs_create_graph and not entry.accepts_hessian_diagonal:
                raise ValueError(
                    f"series.{index}.optimizer: {entry.id} computes Hessian-vector products "
                    "itself, which network runs do not support"
                )
        return self

    @property
    def snapshot_stride(self) -> int:
        return self.snapshot_every or max(1, math.ceil(self.steps / 20))

    def row_count(self) -> int:
        return len(self.seeds) * sum(len(s.variants()) for s in self.series)


@dataclass(frozen=True)
class NetworkLimits:
    """The compute budget of one network run (the API's defaults; a caller may pass tighter).

    Measured on a busy 2-core machine at one torch thread (bench/networks.py --threads 1): the
    default network (1,218 parameters, 300 training and 100 held-out points, full batch) takes
    ~0.08 s per 100 steps for one row and ~3.2 s for 64 rows, mostly float64 tanh and GEMMs.
    """

    max_rows: int = 256
    max_steps: int = 20_000
    max_row_steps: int = 2_000_000  # rows x steps: the columns kept on the device
    # rows x steps x parameters: optimizer state and weight updates touched per run.
    max_row_step_parameters: int = 2_000_000_000
    # rows x steps x parameters x points per step (TaskRef.points_per_step): the matmul work,
    # ~20 s at the rate above (64 rows x 100 steps x 1,218 parameters x 700 points in ~3.2 s).
    max_work: int = 35_000_000_000
    max_instance_steps: int = 320_000
    max_output_points: int = 4_000_000


def check_network_budget(spec: NetworkRunSpec, limits: NetworkLimits) -> None:
    """Raise BudgetError when the run would exceed ``limits``; ``loc`` names the field to
    change."""
    rows, steps = spec.row_count(), spec.steps
    parameters = spec.task.parameter_count()
    if steps > limits.max_steps:
        raise BudgetError(("steps",), f"steps must be at most {limits.max_steps}")
    if rows > limits.max_rows:
        raise BudgetError(
            ("series",),
            f"{rows} rows (series x sweep values x seeds) exceed the limit of {limits.max_rows}",
        )
    if rows * steps > limits.max_row_steps:
        raise BudgetError(
            ("steps",),
            f"{rows} rows x {steps} steps = {rows * steps} exceed the budget of "
            f"{limits.max_row_steps} row-steps",
        )
    if rows * steps * parameters > limits.max_row_step_parameters:
        raise BudgetError(
            ("task", "model", "hidden"),
            f"{rows} rows x {steps} steps x {parameters} parameters = "
            f"{rows * steps * parameters} exceed the budget of "
            f"{limits.max_row_step_parameters}; use a smaller network, fewer rows or steps",
        )
    work = rows * steps * parameters * spec.task.points_per_step()
    if work > limits.max_work:
        where = ("task", "batch_size") if spec.task.batch_size is not None else ("task", "params")
        raise BudgetError(
            where,
            f"{rows} rows x {steps} steps x {parameters} parameters x "
            f"{spec.task.points_per_step()} points per step = {work} exceed the budget of "
            f"{limits.max_work}; use fewer points, a smaller batch, network, or fewer rows",
        )
    if spec.plane is not None:
        kept = min(PLANE_KEPT_STEPS, steps + 1) * rows * parameters
        if kept > MAX_KEPT_WEIGHTS:
            raise BudgetError(
                ("plane",),
                f"a plane keeps {min(PLANE_KEPT_STEPS, steps + 1)} steps x {rows} rows x "
                f"{parameters} parameters = {kept} weights, over the {MAX_KEPT_WEIGHTS} kept at "
                "most; use a smaller network or fewer rows",
            )
        # Every grid point of every row's plane is one evaluation on the training set.
        cells = spec.plane.resolution**2
        plane_work = rows * cells * parameters * spec.task.train_size
        if plane_work > limits.max_work:
            raise BudgetError(
                ("plane", "resolution"),
                f"{rows} rows x {cells} grid points x {parameters} parameters x "
                f"{spec.task.train_size} training points = {plane_work} exceed the budget of "
                f"{limits.max_work}; use a coarser plane or fewer rows",
            )
    instances = spec.instance_count()
    if instances * steps > limits.max_instance_steps:
        raise BudgetError(
            ("series",),
            f"{instances} optimizer instances x {steps} steps exceed the budget of "
            f"{limits.max_instance_steps} instance-steps",
        )
    points = spec.output_points()
    if points > limits.max_output_points:
        raise BudgetError(
            ("max_points",),
            f"{rows} rows x {min(steps + 1, spec.max_points)} points = {points} exceed the "
            f"limit of {limits.max_output_points} points sent; lower max_points, or use "
            "record 'final'",
        )
