"""The record of a network run, declared once: the stream's events and the whole result.

The counterpart of engine/record.py's models for runs whose ``task`` replaces the landscape
(engine/training.py makes them; engine/record.py's writer writes them, in either encoding). A
row is one network trained by one optimizer from one seed; its columns are ``steps``, ``loss``
(the whole training set's mean), ``held_out_loss``, ``accuracy`` (held out; classification
only) and ``grad_norm``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from engine.record import FloatColumn, IntColumn, RowIdentity, TypedArray, _Record

__all__ = [
    "LossPlaneRow",
    "NetworkChunk",
    "NetworkDone",
    "NetworkMeta",
    "NetworkRowResult",
    "NetworkRunResult",
    "PlaneEvent",
    "SnapshotEvent",
]

# Class probabilities (classes, 48, 48): nested lists, or a typed array with its shape.
Probabilities = list[list[list[float]]] | TypedArray


class NetworkRowInfo(RowIdentity):
    """Which network a row is: one of series x sweep value x seed (the seed draws its initial
    weights and its minibatch order)."""


class NetworkRowColumns(_Record):
    """A row's recorded steps, one entry per step in every column."""

    steps: IntColumn = Field(description="Step index of each entry (decimated for long runs).")
    loss: FloatColumn = Field(description="Mean loss over the whole training set.")
    held_out_loss: FloatColumn = Field(description="Mean loss over the held-out points.")
    accuracy: FloatColumn | None = Field(
        None, description="Held-out accuracy (classification only)."
    )
    grad_norm: FloatColumn = Field(description="Norm of the gradient the optimizer was given.")


class NetworkRowSummary(_Record):
    """A row's outcome, sent by ``record: final`` runs too."""

    row: int
    final_loss: float | None = Field(description="Training loss at the last valid step.")
    best_loss: float | None
    best_step: int | None
    final_held_out_loss: float | None
    final_accuracy: float | None = Field(description="Held-out; null for a regression.")
    final_grad_norm: float | None
    diverged_at: int | None = Field(
        description="Step whose weights, loss or gradient were not finite; the row stops there."
    )


class TaskData(_Record):
    kind: Literal["classification", "regression"]
    classes: int
    view_box: list[list[float]] = Field(description="Where the boundary (or curve) is drawn.")
    x_train: list[list[float]]
    y_train: list[float]
    x_held_out: list[list[float]]
    y_held_out: list[float]


class TaskRecord(_Record):
    id: str
    label: str
    params: dict[str, Any]
    data: TaskData = Field(description="The generated points, as the run used them.")


class ModelRecord(_Record):
    hidden: list[int]
    activation: str
    shapes: list[list[int]] = Field(description="(out, in) of each layer's weight.")
    parameters: int = Field(description="Weights and biases of one network.")


class SnapshotGrid(_Record):
    x: list[float]
    y: list[float] | None = Field(None, description="Absent for a 1-D input (a fitted curve).")


class Snapshots(_Record):
    every: int = Field(description="Steps between snapshots (and the last step).")
    grid: SnapshotGrid


class NetworkContext(_Record):
    """What the numbers were computed with (a reproducibility record)."""

    steps: int
    record: Literal["full", "final"]
    task: TaskRecord
    model: ModelRecord
    batch_size: int | None
    snapshots: Snapshots
    dtype: Literal["float64", "float32"]
    device: str
    versions: dict[str, str]


class NetworkMeta(NetworkContext):
    """A network stream's first event, ``meta``."""

    rows: list[NetworkRowInfo]


class NetworkChunkRow(NetworkRowColumns):
    row: int


class NetworkChunk(_Record):
    """A network run's ``chunk``: the entries of steps ``[from_step, to_step)`` per row."""

    from_step: int
    to_step: int
    rows: list[NetworkChunkRow]


class SnapshotRow(_Record):
    row: int
    probabilities: Probabilities | None = Field(
        None,
        description="Class probabilities (classes, 48, 48), y by x over meta's grid "
        "(classification).",
    )
    prediction: FloatColumn | None = Field(
        None, description="The fitted curve on meta's 200 x (regression)."
    )


class SnapshotEvent(_Record):
    """A ``snapshot``: every running row's predictions after ``step`` steps (float32)."""

    step: int
    rows: list[SnapshotRow]


class LossPlaneRow(_Record):
    """The loss around one row's path (engine/loss_plane.py): a plane through its final
    weights, the training loss on a grid in it, and the path projected onto it."""

    row: int
    kind: Literal["pca", "filter"]
    explained_variance: list[float] | None = Field(
        None, description="Share of the path's variance along each PCA direction."
    )
    alpha: list[float] | None = None
    beta: list[float] | None = None
    loss: list[list[float | None]] | None = Field(
        None, description="loss[i][j] at (alpha[i], beta[j]); null where not finite."
    )
    path: list[list[float]] | None = Field(None, description="(alpha, beta) of each kept step.")
    path_residual: list[float] | None = Field(
        None, description="How far each kept step lies off the plane."
    )
    path_loss: list[float | None] | None = Field(
        None,
        description="The loss on the plane under each kept step (the path drawn on the "
        "surface); null where not finite.",
    )
    center_loss: float | None = None
    reason: str | None = Field(None, description="Why a row has no plane (it never moved).")


class PlaneEvent(_Record):
    """The ``plane`` event (when the spec asks for one), after training."""

    steps: IntColumn = Field(description="The kept steps the paths go through.")
    rows: list[LossPlaneRow]


class NetworkDone(_Record):
    """A network stream's last event, ``done``: every row's summary."""

    rows: list[NetworkRowSummary]


class NetworkRowResult(NetworkRowInfo, NetworkRowSummary):
    """One row of a network run's whole result: identity, columns (``record: full`` only),
    last snapshot, loss plane (when asked for) and summary."""

    steps: IntColumn | None = None
    loss: FloatColumn | None = None
    held_out_loss: FloatColumn | None = None
    accuracy: FloatColumn | None = None
    grad_norm: FloatColumn | None = None
    last_snapshot: dict[str, Any] | None = Field(
        None, description="The row's last snapshot: its step and predictions."
    )
    plane: LossPlaneRow | None = None


class NetworkRunResult(NetworkContext):
    """A network run's whole result: one entry per row."""

    series: list[NetworkRowResult] = Field(description="Every row: series x sweep value x seed.")
