"""The one list of training tasks: generated data sets a small network learns.

Each :class:`TaskEntry` carries its generator, the pydantic model of its parameters (bounds,
defaults and descriptions: the API validates with it and the page renders its controls from its
JSON Schema), whether it is a classification or a regression, and its input size. Callers read
these from the entry, never from lists of names.

    >>> entry = get_task("spirals")
    >>> data = entry.make({"n": 200, "noise": 0.1})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tasks.datasets import (
    BlobsParams,
    CirclesParams,
    Dataset,
    Kind,
    SineParams,
    SpiralsParams,
    TaskParams,
    XorParams,
    blobs,
    circles,
    sine,
    spirals,
    xor,
)

__all__ = ["TaskEntry", "UnknownTaskError", "get_task", "list_tasks"]


class UnknownTaskError(KeyError):
    """Raised for a task id that is not in the registry."""

    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        known = ", ".join(sorted(_REGISTRY))
        super().__init__(f"unknown task {task_id!r}; known: {known}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


@dataclass(frozen=True)
class TaskEntry:
    """One task as Optiscope offers it.

    Attributes:
        id: lower-case registry id (``"spirals"``), used in URLs and the API.
        label: display name.
        description: one line for a tooltip.
        kind: 'classification' (cross-entropy, accuracy, a decision boundary) or 'regression'
            (mean squared error, a fitted curve).
        params: pydantic model of the parameters.
        generate: makes the data set from validated parameters.
        input_dim: size of each input point (2 for the planar sets, 1 for the sine).
    """

    id: str
    label: str
    description: str
    kind: Kind
    params: type[TaskParams]
    generate: Callable[[Any], Dataset]
    input_dim: int

    def parse_params(self, values: TaskParams | Mapping[str, Any] | None = None) -> TaskParams:
        """Validate user values (missing ones take the defaults).

        Raises:
            pydantic.ValidationError: naming the offending field.
        """
        if isinstance(values, self.params):
            return values
        return self.params.model_validate(dict(values or {}))

    def make(self, values: TaskParams | Mapping[str, Any] | None = None) -> Dataset:
        """The data set for these parameters (validated first)."""
        return self.generate(self.parse_params(values))

    def outputs(self, values: TaskParams | Mapping[str, Any] | None = None) -> int:
        """The network's output size: one logit per class, or 1 for a regression. A
        classification is binary unless its parameters choose ``classes``."""
        params = self.parse_params(values)
        if self.kind == "regression":
            return 1
        return getattr(params, "classes", 2)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description: the API serves this, the page renders from it."""
        return {
            "id": self.id,
            "label": self.label,
            "description": self.description,
            "kind": self.kind,
            "input_dim": self.input_dim,
            "outputs": self.outputs(),
            "params_schema": self.params.model_json_schema(),
            "defaults": self.params().model_dump(),
        }


_ENTRIES: tuple[TaskEntry, ...] = (
    TaskEntry(
        id="spirals",
        label="Two spirals",
        description="Two interleaved spirals: hard for a small network, easy to see it fail.",
        kind="classification",
        params=SpiralsParams,
        generate=spirals,
        input_dim=2,
    ),
    TaskEntry(
        id="circles",
        label="Circles",
        description="A disc inside a ring: one closed boundary.",
        kind="classification",
        params=CirclesParams,
        generate=circles,
        input_dim=2,
    ),
    TaskEntry(
        id="xor",
        label="XOR",
        description="Opposite quadrants share a class: no linear boundary separates them.",
        kind="classification",
        params=XorParams,
        generate=xor,
        input_dim=2,
    ),
    TaskEntry(
        id="blobs",
        label="Gaussian blobs",
        description="Several Gaussian clusters, one class each: a multi-class softmax.",
        kind="classification",
        params=BlobsParams,
        generate=blobs,
        input_dim=2,
    ),
    TaskEntry(
        id="sine",
        label="Sine regression",
        description="Fit y = sin(f x) from noisy samples: mean squared error, a fitted curve.",
        kind="regression",
        params=SineParams,
        generate=sine,
        input_dim=1,
    ),
)

_REGISTRY: Mapping[str, TaskEntry] = MappingProxyType({entry.id: entry for entry in _ENTRIES})


def get_task(task_id: str) -> TaskEntry:
    """The entry for ``task_id``.

    Raises:
        UnknownTaskError: the id is not registered.
    """
    try:
        return _REGISTRY[task_id]
    except KeyError:
        raise UnknownTaskError(task_id) from None


def list_tasks() -> tuple[TaskEntry, ...]:
    """All entries, classification first."""
    return _ENTRIES
