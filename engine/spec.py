"""The run specification: what to run, validated against the registries.

This shape is the contract the page, the command line and outside scripts rely on: extend it,
never rename it. A minimal run::

    {"landscape": {"id": "rosenbrock"}, "steps": 500,
     "series": [{"optimizer": "adam", "hparams": {"lr": 0.01}}]}

Rows are expanded as series x sweep values x seeds x starts.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from landscapes import (
    ExpressionError,
    Landscape,
    NoiseModel,
    NoiseSpec,
    UnknownLandscapeError,
    expression_landscape,
    get_landscape,
    list_landscapes,
    parse_noise,
)
from landscapes.expression import DEFAULT_VIEW_BOX
from landscapes.landscape import validate_view_box
from optimizers.registry import (
    HParams,
    OptimizerEntry,
    UnknownOptimizerError,
    get_optimizer,
    list_optimizers,
)

__all__ = [
    "BudgetError",
    "LandscapeRef",
    "Limits",
    "RunSpec",
    "SeriesSpec",
    "SweepSpec",
    "TuneSpec",
]

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
# Coordinates of starts and view boxes: far beyond any landscape's interesting region, and well
# inside float32's range, so a float32 run can always hold them.
MAX_COORDINATE = 1e6
Coordinate = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
Point = tuple[Coordinate, Coordinate]
# Numbers stay numbers: no true for 1, no "0.1" strings (the registry's model then bounds them).
HParamValue = StrictBool | StrictFloat
StrictCount = Annotated[int, Field(strict=True)]
MIN_VIEW_SIZE = 1e-6
# Registry ids, listed in the JSON Schema (so OpenAPI clients and fuzzers know them); the
# validators below still answer an unknown id with the list of known ones.
OptimizerId = Annotated[str, Field(json_schema_extra={"enum": [e.id for e in list_optimizers()]})]
LandscapeId = Annotated[str, Field(json_schema_extra={"enum": [e.id for e in list_landscapes()]})]

# Hard ceilings of the schema itself; the configurable budget (Limits) is usually tighter.
MAX_SERIES = 32
MAX_SWEEP_VALUES = 256
MAX_SWEEP_COMBINATIONS = 4096  # two swept hyperparameters: a 61 x 25 phase diagram fits
MAX_SEEDS = 256
MAX_STARTS = 65_536  # a grid of starts maps basins of attraction
MAX_GRID_SIDE = 256
MAX_STEPS = 100_000

StartList = Annotated[list[Point], Field(min_length=1, max_length=MAX_STARTS)]


def first_error(error: ValidationError) -> str:
    """One line naming the field: 'lr: Input should be greater than 0'."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class LandscapeRef(StrictModel):
    """A registry landscape (``id`` and ``params``) or a typed function (``expression``).

    Validation resolves it once: :meth:`resolve` returns the landscape (a typed function parsed
    there) and its validated parameters without parsing or validating again.
    """

    id: LandscapeId | None = Field(None, description="Registry id, e.g. 'rosenbrock'.")
    params: dict[str, Any] = Field(default_factory=dict, description="The landscape's parameters.")
    expression: str | None = Field(
        None, description="A function of x and y, e.g. 'x**2 + 3*y**2' (instead of id)."
    )
    view_box: tuple[Point, Point] | None = Field(
        None,
        description="[[xmin, xmax], [ymin, ymax]] for an expression (default [-3, 3]^2); it sets "
        "the default start and the divergence bound.",
    )
    _landscape: Landscape = PrivateAttr()
    _params: Any = PrivateAttr()

    @field_validator("id")
    @classmethod
    def _known_id(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                get_landscape(value)
            except UnknownLandscapeError as error:
                raise ValueError(str(error)) from None
        return value

    @field_validator("view_box")
    @classmethod
    def _valid_box(cls, value):
        if value is not None:
            (xmin, xmax), (ymin, ymax) = validate_view_box(value)
            if min(xmax - xmin, ymax - ymin) < MIN_VIEW_SIZE:
                raise ValueError(f"view_box must be at least {MIN_VIEW_SIZE:g} wide and high")
        return value

    @model_validator(mode="after")
    def _resolve(self) -> LandscapeRef:
        if (self.id is None) == (self.expression is None):
            raise ValueError("give exactly one of 'id' and 'expression'")
        if self.expression is not None and self.params:
            raise ValueError("params apply to registry landscapes only, not to an expression")
        if self.expression is None and self.view_box is not None:
            raise ValueError("view_box applies to an expression; registry landscapes have theirs")
        if self.id is not None:
            landscape = get_landscape(self.id)
        else:
            try:
                landscape = expression_landscape(
                    self.expression, view_box=self.view_box or DEFAULT_VIEW_BOX
                )
            except ExpressionError as error:
                # "field: message" names the field in the 422's loc (see app/errors.py).
                raise ValueError(f"expression: {error} (at character {error.position})") from None
        try:
            params = landscape.make_params(self.params)
        except ValidationError as error:
            raise ValueError(f"params.{first_error(error)}") from None
        self._landscape, self._params = landscape, params
        return self

    def resolve(self) -> tuple[Landscape, Any]:
        """The landscape and its validated parameters (resolved once, by validation)."""
        return self._landscape, self._params


class StartGrid(StrictModel):
    """A grid of starts, ``{"x": [lo, hi, nx], "y": [lo, hi, ny]}``: nx x ny rows, x fastest."""

    x: tuple[Coordinate, Coordinate, Annotated[int, Field(strict=True, ge=1, le=MAX_GRID_SIDE)]]
    y: tuple[Coordinate, Coordinate, Annotated[int, Field(strict=True, ge=1, le=MAX_GRID_SIDE)]]

    def points(self) -> list[tuple[float, float]]:
        return [(x, y) for x, y in self.point_array().tolist()]

    def point_array(self) -> np.ndarray:
        """The points, ``(nx * ny, 2)`` float64, x fastest. Each coordinate is
        ``lo + (hi - lo) * i / (n - 1)``, evaluated in that order (float64 arithmetic is
        Python's: the same numbers as the formula written out per point)."""

        def axis(lo: float, hi: float, n: int) -> np.ndarray:
            if n == 1:
                return np.array([lo], dtype=np.float64)
            return lo + (hi - lo) * np.arange(n, dtype=np.float64) / (n - 1)

        xs, ys = axis(*self.x), axis(*self.y)
        grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
        return np.stack((grid_x.reshape(-1), grid_y.reshape(-1)), axis=1)

    @property
    def size(self) -> int:
        return self.x[2] * self.y[2]


class StartsGrid(StrictModel):
    grid: StartGrid


class SweepSpec(StrictModel):
    """One hyperparameter over a list of values: one row per value."""

    param: str = Field(description="A hyperparameter of the series' optimizer, e.g. 'gamma'.")
    values: list[FiniteFloat] = Field(min_length=1, max_length=MAX_SWEEP_VALUES)


def contiguous_runs(keys: list[Any]) -> list[tuple[int, int]]:
    """``[lo, hi)`` of each run of equal consecutive ``keys``: the sweep values that one
    optimizer instance can step together (their rows are contiguous)."""
    runs: list[tuple[int, int]] = []
    for index, key in enumerate(keys):
        if runs and keys[runs[-1][0]] == key:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs


class SeriesSpec(StrictModel):
    """One optimizer with its hyperparameters, optionally swept over one of them or over the
    product of two (``sweep`` as a list: the first varies slowest).

    Validation fills in the registry defaults once per sweep value: :meth:`variants` returns
    them without validating again.
    """

    optimizer: OptimizerId = Field(description="Registry id, e.g. 'anon'.")
    hparams: dict[str, HParamValue] = Field(
        default_factory=dict, description="Unspecified ones take the registry defaults."
    )
    label: str | None = Field(None, max_length=80)
    sweep: SweepSpec | Annotated[list[SweepSpec], Field(min_length=1, max_length=2)] | None = Field(
        None,
        description="One hyperparameter over values, or a list of two for their product "
        "(one row per pair, the first listed varying slowest), e.g. "
        '[{"param": "gamma", "values": [...]}, {"param": "lr", "values": [...]}]. A '
        "hyperparameter that accepts a tensor (the registry's tensor_hparams) is swept "
        "within one optimizer instance.",
    )
    _variants: tuple[tuple[dict[str, float], HParams], ...] = PrivateAttr()

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        try:
            get_optimizer(value)
        except UnknownOptimizerError as error:
            raise ValueError(str(error)) from None
        return value

    @model_validator(mode="after")
    def _validate_hparams(self) -> SeriesSpec:
        # Error messages start with "field.path: " so the 422's loc names the field.
        entry = self.entry
        if self.sweep is None:
            try:
                self._variants = (({}, entry.parse_hparams(self.hparams)),)
            except ValidationError as error:
                raise ValueError(f"hparams.{first_error(error)}") from None
            return self
        # Where each sweep is, in the request: "sweep" alone, or "sweep.<index>" in the list.
        where = ["sweep"] if isinstance(self.sweep, SweepSpec) else [f"sweep.{i}" for i in (0, 1)]
        seen: set[str] = set()
        for place, sweep in zip(where, self.sweeps, strict=False):
            if sweep.param not in entry.hparams.model_fields:
                fields = ", ".join(entry.hparams.model_fields)
                raise ValueError(
                    f"{place}.param: {sweep.param!r} is not a hyperparameter of {entry.id} "
                    f"({fields})"
                )
            if sweep.param in seen:
                raise ValueError(f"{place}.param: {sweep.param!r} is swept twice")
            seen.add(sweep.param)
        combinations = math.prod(len(sweep.values) for sweep in self.sweeps)
        if combinations > MAX_SWEEP_COMBINATIONS:
            raise ValueError(
                f"sweep: {combinations} combinations of values exceed {MAX_SWEEP_COMBINATIONS}"
            )
        variants = []
        for indices in itertools.product(*(range(len(s.values)) for s in self.sweeps)):
            swept = {s.param: s.values[i] for s, i in zip(self.sweeps, indices, strict=True)}
            try:
                filled = entry.parse_hparams({**self.hparams, **swept})
            except ValidationError as error:
                first = error.errors()[0]
                for place, sweep, index in zip(where, self.sweeps, indices, strict=False):
                    if first["loc"][:1] == (sweep.param,):
                        raise ValueError(f"{place}.values.{index}: {first['msg']}") from None
                raise ValueError(f"hparams.{first_error(error)}") from None
            variants.append((swept, filled))
        self._variants = tuple(variants)
        return self

    @property
    def entry(self) -> OptimizerEntry:
        return get_optimizer(self.optimizer)

    @property
    def sweeps(self) -> tuple[SweepSpec, ...]:
        """The swept hyperparameters, first varying slowest (none without a sweep)."""
        if self.sweep is None:
            return ()
        return (self.sweep,) if isinstance(self.sweep, SweepSpec) else tuple(self.sweep)

    def variants(self) -> tuple[tuple[dict[str, float], HParams], ...]:
        """``(swept values by name, filled hyperparameters)`` per combination of sweep values,
        the first sweep varying slowest; ``({}, ...)`` once without a sweep."""
        return self._variants

    def instance_runs(self) -> list[tuple[int, int]]:
        """``[lo, hi)`` ranges of :meth:`variants` that one optimizer instance steps: values of
        hyperparameters that accept a tensor share an instance; the others need one each."""
        fixed = [s.param for s in self.sweeps if s.param not in self.entry.tensor_hparams]
        return contiguous_runs([tuple(swept[p] for p in fixed) for swept, _ in self._variants])


TuneObjective = Literal["final_loss", "loss_area", "steps_to_tolerance"]


class TuneSpec(StrictModel):
    """Tune one hyperparameter of every series on tuning seeds, then report every series on the
    run's own seeds (held out) with the value it chose: one budget for all."""

    param: str = Field("lr", description="The hyperparameter to tune, in every series.")
    values: list[FiniteFloat] | None = Field(
        None, min_length=2, max_length=64, description="Candidate values (or give 'grid')."
    )
    grid: (
        tuple[
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
            Annotated[float, Field(gt=0, allow_inf_nan=False)],
            Annotated[int, Field(strict=True, ge=2, le=64)],
        ]
        | None
    ) = Field(None, description="[lo, hi, count]: count values spaced evenly in log scale.")
    objective: TuneObjective = Field(
        "final_loss",
        description="Median over tuning rows of: the final loss, the area under the loss curve "
        "(its mean over steps), or the steps to tolerance (never reached counts as more than "
        "any; a diverged row is the worst).",
    )
    seeds: list[Annotated[int, Field(strict=True, ge=0, le=2**62)]] = Field(
        default_factory=lambda: [1_000_001, 1_000_002, 1_000_003, 1_000_004],
        min_length=1,
        max_length=64,
        description="Seeds the choice is made on; none may be among the run's (held-out) seeds.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> TuneSpec:
        if (self.values is None) == (self.grid is None):
            raise ValueError("values: give either 'values' or 'grid', not both or neither")
        if self.grid is not None and self.grid[0] >= self.grid[1]:
            raise ValueError("grid: lo must be below hi")
        return self

    def candidates(self) -> list[float]:
        if self.values is not None:
            return list(self.values)
        lo, hi, count = self.grid
        return [lo * (hi / lo) ** (i / (count - 1)) for i in range(count)]


class RowCounts:
    """What a run's budget counts, for a spec with ``series``, ``steps``, ``record``,
    ``max_points`` and a ``row_count()`` (RunSpec, and a network run's NetworkRunSpec)."""

    def instance_count(self) -> int:
        """Optimizer instances: one per series, or one per sweep value when the swept
        hyperparameter cannot be a tensor (each costs a Python step() call per step)."""
        return sum(len(s.instance_runs()) for s in self.series)

    def output_points(self) -> int:
        """Points a full record sends: every row's decimated steps (none for 'final')."""
        if self.record == "final":
            return 0
        return self.row_count() * min(self.steps + 1, self.max_points)


class RunSpec(RowCounts, StrictModel):
    """Everything one run needs. Optional fields default to: no noise, seed 0, the landscape's
    default start, no gradient clipping, float64."""

    landscape: LandscapeRef
    noise: NoiseSpec | None = Field(None, description="Gradient noise; none by default.")
    seeds: list[Annotated[int, Field(strict=True, ge=0, le=2**62)]] = Field(
        default_factory=lambda: [0], min_length=1, max_length=MAX_SEEDS
    )
    start: Point | None = Field(None, description="Start point; the landscape's default if null.")
    starts: (
        Annotated[list[Point], Field(min_length=1, max_length=MAX_STARTS)] | StartsGrid | None
    ) = Field(
        None,
        description="Several start points (one row each), as a list of points or as a grid "
        '{"grid": {"x": [lo, hi, nx], "y": [lo, hi, ny]}} (up to 256 x 256); overrides '
        "'start'.",
    )
    steps: StrictCount = Field(ge=1, le=MAX_STEPS)
    clip_grad_norm: float | None = Field(
        None,
        gt=0,
        le=1e6,
        description="Clip each row's gradient to this norm; off when null.",
    )
    series: list[SeriesSpec] = Field(min_length=1, max_length=MAX_SERIES)
    dtype: Literal["float64", "float32"] = "float64"
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="'auto' uses CUDA for large batches when it is available."
    )
    tolerance: float = Field(
        1e-3,
        gt=0,
        le=1e6,
        description="Loss gap to the global minimum counted as 'reached'.",
    )
    max_points: StrictCount = Field(
        2001, ge=2, le=MAX_STEPS + 1, description="Points per row sent; longer runs are decimated."
    )
    record: Literal["full", "final"] = Field(
        "full",
        description="'full' sends every row's columns (steps, x, y, loss, grad_norm); 'final' "
        "sends only each row's summary, for runs that want one number per row (maps, sweeps).",
    )
    tune: TuneSpec | None = Field(
        None,
        description="Pick each series' value of one hyperparameter on tuning seeds first, then "
        "run every series on 'seeds' with its choice (the result's 'tuning' says what was "
        "chosen and why).",
    )
    _noise: NoiseModel = PrivateAttr()

    @model_validator(mode="after")
    def _parse_noise(self) -> RunSpec:
        # The field was validated as a NoiseSpec already; this only picks the no-noise default.
        self._noise = parse_noise(self.noise)
        return self

    @model_validator(mode="after")
    def _check_tune(self) -> RunSpec:
        if self.tune is None:
            return self
        if set(self.tune.seeds) & set(self.seeds):
            raise ValueError("tune.seeds: tuning seeds must not be among the run's seeds")
        where = "tune.values" if self.tune.values is not None else "tune.grid"
        for index, series in enumerate(self.series):
            if series.sweep is not None:
                raise ValueError(f"series.{index}.sweep: a tuned run's series sweep nothing")
            entry = series.entry
            if self.tune.param not in entry.hparams.model_fields:
                raise ValueError(
                    f"tune.param: {self.tune.param!r} is not a hyperparameter of {entry.id} "
                    f"(series {index})"
                )
            for value in self.tune.candidates():
                try:
                    entry.parse_hparams({**series.hparams, self.tune.param: value})
                except ValidationError as error:
                    raise ValueError(
                        f"{where}: {value:g} is not a valid {self.tune.param} for {entry.id}: "
                        f"{error.errors()[0]['msg']}"
                    ) from None
        return self

    def tuning_spec(self) -> RunSpec:
        """The tuning run of a tuned spec: every series swept over the candidates on the tuning
        seeds, summaries only."""
        assert self.tune is not None
        series = [
            {
                **s.model_dump(exclude_unset=True, exclude={"sweep"}),
                "sweep": {"param": self.tune.param, "values": self.tune.candidates()},
            }
            for s in self.series
        ]
        data = self.model_dump(exclude_unset=True, exclude={"tune", "series", "seeds", "record"})
        return RunSpec.model_validate(
            {**data, "series": series, "seeds": self.tune.seeds, "record": "final"}
        )

    def held_out_spec(self, chosen: list[float]) -> RunSpec:
        """The run of a tuned spec once tuned: series ``i`` with ``chosen[i]`` for the tuned
        hyperparameter, on the spec's own seeds."""
        assert self.tune is not None
        series = []
        for s, value in zip(self.series, chosen, strict=True):
            described = s.model_dump(exclude_unset=True)
            label = f"{s.label or s.entry.label} ({self.tune.param}={value:.3g}, tuned)"
            series.append(
                {**described, "hparams": {**s.hparams, self.tune.param: value}, "label": label[:80]}
            )
        data = self.model_dump(exclude_unset=True, exclude={"tune", "series"})
        return RunSpec.model_validate({**data, "series": series})

    @property
    def noise_model(self) -> NoiseModel:
        """The gradient noise (the no-noise model when ``noise`` is null)."""
        return self._noise

    def start_array(self, default: tuple[float, float]) -> np.ndarray:
        """The rows' start points, ``(S, 2)`` float64 (each coordinate as it was read);
        ``default`` (the landscape's) when none is given."""
        if isinstance(self.starts, StartsGrid):
            return self.starts.grid.point_array()
        if self.starts is not None:
            points = self.starts
        elif self.start is not None:
            points = [self.start]
        else:
            points = [default]
        return np.array(points, dtype=np.float64).reshape(-1, 2)

    def start_count(self) -> int:
        if isinstance(self.starts, StartsGrid):
            return self.starts.grid.size
        return len(self.starts) if self.starts is not None else 1

    def row_count(self) -> int:
        per_value = len(self.seeds) * self.start_count()
        return sum(len(s.variants()) * per_value for s in self.series)


@dataclass(frozen=True)
class Limits:
    """The compute budget of one run. These defaults are the web app's and the CLI's too
    (``app/settings.py`` reads them; ``OPTISCOPE_MAX_*`` override them)."""

    max_rows: int = 65_536
    max_steps: int = 20_000
    max_row_steps: int = 4_000_000  # rows x steps
    # A 'record: final' run (a map, a sweep) keeps a few vectors and sends one summary per row,
    # so only computing time bounds it: four 256 x 256 maps of 500 steps (~10 s on 2 cores).
    max_final_rows: int = 262_144
    max_final_row_steps: int = 134_217_728
    # Python work: each instance's step() costs ~75 us whatever its rows (64 instances x 5000
    # steps is ~25 s on a 2-core machine).
    max_instance_steps: int = 320_000
    # What a full record sends (~40 bytes a point typed, ~80 plain): bounds a response's size.
    max_output_points: int = 4_000_000


class BudgetError(ValueError):
    """A run over its budget; ``loc`` names the field to change."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def check_budget(spec: RunSpec, limits: Limits) -> None:
    """Raise BudgetError when the run would exceed ``limits`` (a tuned run: its tuning run too,
    named as ``tune``)."""
    if spec.tune is not None:
        try:
            check_budget(spec.tuning_spec(), limits)
        except BudgetError as error:
            raise BudgetError(("tune",), f"the tuning run: {error}") from None
    rows = spec.row_count()
    final = spec.record == "final"
    max_rows = limits.max_final_rows if final else limits.max_rows
    max_row_steps = limits.max_final_row_steps if final else limits.max_row_steps
    budget = "the budget of 'record: final' runs" if final else "the budget"
    if spec.steps > limits.max_steps:
        raise BudgetError(("steps",), f"steps must be at most {limits.max_steps}")
    if rows > max_rows:
        raise BudgetError(
            ("series",),
            f"{rows} rows (series x sweep values x seeds x starts) exceed the limit of "
            f"{max_rows}" + (" for 'record: final' runs" if final else ""),
        )
    if rows * spec.steps > max_row_steps:
        raise BudgetError(
            ("steps",),
            f"{rows} rows x {spec.steps} steps = {rows * spec.steps} exceed {budget} of "
            f"{max_row_steps} row-steps",
        )
    evaluations = 1 + spec.noise_model.extra_evaluations
    if evaluations > 1 and rows * spec.steps * evaluations > max_row_steps:
        raise BudgetError(
            ("noise",),
            f"{rows} rows x {spec.steps} steps x {evaluations} gradient evaluations per step "
            f"(the noise model's) exceed {budget} of {max_row_steps} row-steps",
        )
    instances = spec.instance_count()
    if instances * spec.steps > limits.max_instance_steps:
        raise BudgetError(
            ("series",),
            f"{instances} optimizer instances x {spec.steps} steps exceed the budget of "
            f"{limits.max_instance_steps} instance-steps (a sweep of a hyperparameter that "
            "cannot be a tensor needs one instance per value)",
        )
    points = spec.output_points()
    if points > limits.max_output_points:
        raise BudgetError(
            ("max_points",),
            f"{rows} rows x {min(spec.steps + 1, spec.max_points)} points = {points} exceed the "
            f"limit of {limits.max_output_points} points sent; lower max_points, or use "
            "record 'final'",
        )
