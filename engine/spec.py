"""The run specification: what to run, validated against the registries.

This shape is the contract the page, the command line and outside scripts rely on: extend it,
never rename it. A minimal run::

    {"landscape": {"id": "rosenbrock"}, "steps": 500,
     "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}]}

Rows are expanded as series x sweep values x seeds x starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from landscapes import (
    ExpressionError,
    Landscape,
    NoiseSpec,
    UnknownLandscapeError,
    expression_landscape,
    get_landscape,
)
from landscapes.landscape import validate_view_box
from optimizers.registry import OptimizerEntry, UnknownOptimizerError, get_optimizer

__all__ = ["BudgetError", "LandscapeRef", "Limits", "RunSpec", "SeriesSpec", "SweepSpec"]

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Point = tuple[FiniteFloat, FiniteFloat]
HParamValue = float | bool

# Hard ceilings of the schema itself; the configurable budget (Limits) is usually tighter.
MAX_SERIES = 32
MAX_SWEEP_VALUES = 256
MAX_SEEDS = 256
MAX_STARTS = 65_536  # a grid of starts maps basins of attraction
MAX_STEPS = 100_000


def _first_error(error: ValidationError) -> str:
    """One line naming the field: 'lr: Input should be greater than 0'."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class LandscapeRef(_Strict):
    """A registry landscape (``id`` and ``params``) or a typed function (``expression``)."""

    id: str | None = Field(None, description="Registry id, e.g. 'rosenbrock'.")
    params: dict[str, Any] = Field(default_factory=dict, description="The landscape's parameters.")
    expression: str | None = Field(
        None, description="A function of x and y, e.g. 'x**2 + 3*y**2' (instead of id)."
    )
    view_box: tuple[Point, Point] | None = Field(
        None,
        description="[[xmin, xmax], [ymin, ymax]] for an expression (default [-3, 3]^2); it sets "
        "the default start and the divergence bound.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> LandscapeRef:
        if (self.id is None) == (self.expression is None):
            raise ValueError("give exactly one of 'id' and 'expression'")
        if self.expression is not None and self.params:
            raise ValueError("params apply to registry landscapes only, not to an expression")
        if self.expression is None and self.view_box is not None:
            raise ValueError("view_box applies to an expression; registry landscapes have theirs")
        return self

    @field_validator("id")
    @classmethod
    def _known_id(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                get_landscape(value)
            except UnknownLandscapeError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("expression")
    @classmethod
    def _parsable(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                expression_landscape(value)
            except ExpressionError as error:
                raise ValueError(f"{error} (at character {error.position})") from None
        return value

    @field_validator("view_box")
    @classmethod
    def _valid_box(cls, value):
        if value is not None:
            validate_view_box(value)
        return value

    @model_validator(mode="after")
    def _valid_params(self) -> LandscapeRef:
        if self.id is not None:
            try:
                get_landscape(self.id).make_params(self.params)
            except ValidationError as error:
                raise ValueError(f"params.{_first_error(error)}") from None
        return self

    def resolve(self) -> tuple[Landscape, Any]:
        """The landscape and its validated parameters."""
        if self.id is not None:
            landscape = get_landscape(self.id)
        elif self.view_box is not None:
            landscape = expression_landscape(self.expression, view_box=self.view_box)
        else:
            landscape = expression_landscape(self.expression)
        return landscape, landscape.make_params(self.params)


class SweepSpec(_Strict):
    """One hyperparameter over a list of values: one row per value."""

    param: str = Field(description="A hyperparameter of the series' optimizer, e.g. 'gamma'.")
    values: list[FiniteFloat] = Field(min_length=1, max_length=MAX_SWEEP_VALUES)


class SeriesSpec(_Strict):
    """One optimizer with its hyperparameters, optionally swept over one of them."""

    optimizer: str = Field(description="Registry id, e.g. 'anon'.")
    hparams: dict[str, HParamValue] = Field(
        default_factory=dict, description="Unspecified ones take the registry defaults."
    )
    label: str | None = Field(None, max_length=80)
    sweep: SweepSpec | None = None

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        try:
            get_optimizer(value)
        except UnknownOptimizerError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("hparams")
    @classmethod
    def _valid_hparams(cls, value: dict[str, HParamValue], info) -> dict[str, HParamValue]:
        if "optimizer" in info.data:  # else the optimizer id itself was already refused
            try:
                get_optimizer(info.data["optimizer"]).parse_hparams(value)
            except ValidationError as error:
                raise ValueError(_first_error(error)) from None
        return value

    @field_validator("sweep")
    @classmethod
    def _valid_sweep(cls, sweep: SweepSpec | None, info) -> SweepSpec | None:
        if sweep is None or "optimizer" not in info.data or "hparams" not in info.data:
            return sweep
        entry = get_optimizer(info.data["optimizer"])
        if sweep.param not in entry.hparams.model_fields:
            fields = ", ".join(entry.hparams.model_fields)
            raise ValueError(
                f"param: {sweep.param!r} is not a hyperparameter of {entry.id} ({fields})"
            )
        for index, value in enumerate(sweep.values):
            try:
                entry.parse_hparams({**info.data["hparams"], sweep.param: value})
            except ValidationError as error:
                raise ValueError(f"values.{index}: {_first_error(error)}") from None
        return sweep

    @property
    def entry(self) -> OptimizerEntry:
        return get_optimizer(self.optimizer)

    def sweep_values(self) -> list[float | None]:
        return list(self.sweep.values) if self.sweep is not None else [None]


class RunSpec(_Strict):
    """Everything one run needs. Optional fields default to: no noise, seed 0, the landscape's
    default start, no gradient clipping, float64."""

    landscape: LandscapeRef
    noise: NoiseSpec | None = Field(None, description="Gradient noise; none by default.")
    seeds: list[Annotated[int, Field(ge=0, le=2**62)]] = Field(
        default_factory=lambda: [0], min_length=1, max_length=MAX_SEEDS
    )
    start: Point | None = Field(None, description="Start point; the landscape's default if null.")
    starts: list[Point] | None = Field(
        None,
        min_length=1,
        max_length=MAX_STARTS,
        description="Several start points (one row each); overrides 'start'.",
    )
    steps: int = Field(ge=1, le=MAX_STEPS)
    clip_grad_norm: float | None = Field(
        None, gt=0, description="Clip each row's gradient to this norm; off when null."
    )
    series: list[SeriesSpec] = Field(min_length=1, max_length=MAX_SERIES)
    dtype: Literal["float64", "float32"] = "float64"
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto' uses CUDA for large batches when it is available."
    )
    tolerance: float = Field(
        1e-3, gt=0, description="Loss gap to the global minimum counted as 'reached'."
    )
    max_points: int = Field(
        2001, ge=2, le=MAX_STEPS + 1, description="Points per row sent; longer runs are decimated."
    )

    def start_points(self, default: tuple[float, float]) -> list[tuple[float, float]]:
        """The rows' start points; ``default`` (the landscape's) when none is given."""
        if self.starts is not None:
            return [tuple(p) for p in self.starts]
        if self.start is not None:
            return [tuple(self.start)]
        return [tuple(default)]

    def row_count(self) -> int:
        per_series = len(self.seeds) * len(self.starts or [None])
        return sum(len(s.sweep_values()) * per_series for s in self.series)


@dataclass(frozen=True)
class Limits:
    """The compute budget of one run (configurable in the web app's settings)."""

    max_rows: int = 65_536
    max_steps: int = 20_000
    max_row_steps: int = 20_000_000  # rows x steps


class BudgetError(ValueError):
    """A run over its budget; ``loc`` names the field to change."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def check_budget(spec: RunSpec, limits: Limits) -> None:
    """Raise BudgetError when the run would exceed ``limits``."""
    rows = spec.row_count()
    if spec.steps > limits.max_steps:
        raise BudgetError(("steps",), f"steps must be at most {limits.max_steps}")
    if rows > limits.max_rows:
        raise BudgetError(
            ("series",),
            f"{rows} rows (series x sweep values x seeds x starts) exceed the limit of "
            f"{limits.max_rows}",
        )
    if rows * spec.steps > limits.max_row_steps:
        raise BudgetError(
            ("steps",),
            f"{rows} rows x {spec.steps} steps = {rows * spec.steps} exceed the budget of "
            f"{limits.max_row_steps} row-steps",
        )
