"""The run record: the declared shape of everything a run sends, and its two wire encodings.

One set of names for a row's columns everywhere (the stream's ``chunk`` events, the whole
result, ``optiscope run``, the page's exports): ``steps``, ``x``, ``y``, ``loss``,
``grad_norm``, one entry per recorded point. The models below declare the shapes once; the web
API's response models are these models, so OpenAPI documents exactly what is sent.

The engine builds the record as plain dicts whose columns are numpy arrays (cheap to cut from
the device's tensors), its rows kept as columns until read (engine/rows.py: a list per key, a
matrix per column of points, which the writer takes as they are); :func:`dumps` writes them in
one of two encodings:

- ``plain``: JSON numbers (the default: for curl, notebooks, pandas);
- ``typed``: each column as Plotly's typed-array form ``{"dtype": "f8"|"f4"|"i4", "bdata":
  base64 of the little-endian bytes}``, which plotly.js takes directly; about a third of the
  bytes and a small fraction of the time.

Both decode to identical numbers (a float32 run's plain numbers are the float32 values written
exactly). Neither ever contains NaN or Infinity: :func:`dumps` refuses them, since divergence is
reported as data (``diverged_at``) and never as a number.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from functools import partial
from itertools import repeat
from typing import Any, Literal

import numpy as np
import orjson
import pybase64
from pydantic import BaseModel, ConfigDict, Field

from engine.bulk import collector_paused
from engine.rows import NumberLists, Records, dict_columns

__all__ = [
    "COLUMNS",
    "Chunk",
    "ChunkRow",
    "Done",
    "Encoding",
    "NonFiniteError",
    "Preview",
    "RowInfo",
    "RowResult",
    "RowSummary",
    "RunMeta",
    "RunResult",
    "Tuning",
    "TypedArray",
    "dump_result_pieces",
    "dumps",
]

Encoding = Literal["plain", "typed"]
# A row's columns, in the order they are documented and exported.
COLUMNS = ("steps", "x", "y", "loss", "grad_norm")

_TYPED_DTYPES = {
    np.dtype(np.float64): ("f8", "<f8"),
    np.dtype(np.float32): ("f4", "<f4"),
    np.dtype(np.int32): ("i4", "<i4"),
    np.dtype(np.int64): ("i4", "<i4"),  # step indices fit in int32 (MAX_STEPS = 100,000)
}


class NonFiniteError(ValueError):
    """A NaN or an infinity reached a response: a bug, since divergence is data."""


class TypedArray(BaseModel):
    """A column as Plotly's typed-array form (``?encoding=typed``)."""

    dtype: Literal["f8", "f4", "i4"] = Field(
        description="Element type: f8 float64, f4 float32, i4 int32 (little-endian)."
    )
    bdata: str = Field(description="Base64 of the column's little-endian bytes.")
    shape: str | None = Field(
        None,
        description="Dimensions of an array of more than one, e.g. '2,48,48' (C order); "
        "absent for a column.",
    )


FloatColumn = list[float] | TypedArray
IntColumn = list[int] | TypedArray


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RowColumns(_Record):
    """A row's recorded points, one entry per point in every column."""

    steps: IntColumn = Field(description="Step index of each point (decimated for long runs).")
    x: FloatColumn = Field(description="x after each listed step.")
    y: FloatColumn = Field(description="y after each listed step.")
    loss: FloatColumn = Field(description="Clean loss at each point (noise never touches it).")
    grad_norm: FloatColumn = Field(description="Norm of the clean gradient at each point.")


class RowIdentity(_Record):
    """Which series, sweep value and seed a row is (a network run's rows are just that)."""

    row: int
    series: int = Field(description="Index of the series in the request.")
    label: str
    optimizer: str
    hparams: dict[str, Any] = Field(description="All hyperparameters, the swept value filled in.")
    seed: int


class RowInfo(RowIdentity):
    """Which trajectory a row is: one of series x sweep value x seed x start."""

    start: list[float]


class RowSummary(_Record):
    """A row's outcome: one number per question, sent by ``record: final`` runs too."""

    row: int
    final_point: list[float]
    final_loss: float | None = Field(description="Clean loss at the last valid point.")
    mean_loss: float | None = Field(
        description="Mean clean loss over the row's valid points: the area under its loss "
        "curve per step (a tuning objective)."
    )
    distance_to_minimum: float | None = Field(description="To the nearest global minimum.")
    nearest_minimum: int | None = Field(
        description="Index of that minimum in the run's landscape.global_minima (which basin "
        "the row ended in); null when the landscape lists none."
    )
    steps_to_tolerance: int | None = Field(
        description="First step whose loss is within 'tolerance' of the minimum value."
    )
    diverged_at: int | None = Field(
        description="Step whose point or loss was not finite or left the bound; points stop before."
    )


class GlobalMinimum(_Record):
    point: list[float]
    value: float


class LandscapeRecord(_Record):
    id: str = Field(description="Registry id, or 'custom' for a typed function.")
    label: str
    params: dict[str, Any]
    global_minima: list[GlobalMinimum]


class TunedSeries(_Record):
    series: int = Field(description="Index of the series in the request.")
    label: str
    value: float = Field(description="The candidate chosen: the best median objective.")
    scores: list[float | None] = Field(
        description="Median objective of each candidate on the tuning seeds (null: diverged)."
    )
    at_edge: bool = Field(
        description="The choice is the first or last candidate: the grid may be too narrow."
    )


class Tuning(_Record):
    """How a tuned run chose each series' value (``tune`` in the spec); the rows of the run are
    the held-out ones, run with these values."""

    param: str
    candidates: list[float]
    objective: Literal["final_loss", "loss_area", "steps_to_tolerance"]
    seeds: list[int] = Field(description="The tuning seeds (never among the run's seeds).")
    rows_per_candidate: int = Field(description="Tuning rows behind each score: seeds x starts.")
    series: list[TunedSeries]


class RunContext(_Record):
    """What the numbers were computed with (a reproducibility record)."""

    steps: int
    record: Literal["full", "final"]
    landscape: LandscapeRecord
    noise: dict[str, Any]
    clip_grad_norm: float | None
    tolerance: float
    dtype: Literal["float64", "float32"]
    device: str
    versions: dict[str, str]
    tuning: Tuning | None = Field(None, description="What a tuned run chose, and why.")


class RunMeta(RunContext):
    """The stream's first event, ``meta``."""

    rows: list[RowInfo]


class ChunkRow(RowColumns):
    row: int


class Chunk(_Record):
    """A ``chunk`` event: the points of steps ``[from_step, to_step)``, per row still running
    there (a stopped row sends nothing further; a ``record: final`` run sends no rows, so its
    chunks are progress only)."""

    from_step: int
    to_step: int
    rows: list[ChunkRow]


class Preview(_Record):
    """A ``preview`` event (streamed ``record: final`` runs over a grid of starts 16 x 16 or
    larger, before the chunks): the summaries of every 4th start along each axis, a coarse map
    whose cells are exact (``done`` repeats them among all the rows)."""

    rows: list[RowSummary]


class Done(_Record):
    """The stream's last event, ``done``: every row's summary."""

    rows: list[RowSummary]


class RowResult(RowInfo, RowSummary):
    """One row of the whole result: identity, columns (``record: full`` only) and summary."""

    steps: IntColumn | None = Field(None, description="Step of each point; absent for 'final'.")
    x: FloatColumn | None = None
    y: FloatColumn | None = None
    loss: FloatColumn | None = None
    grad_norm: FloatColumn | None = None


class RunResult(RunContext):
    """The whole run (``Accept: application/json``): one entry per row."""

    series: list[RowResult] = Field(description="Every row: series x sweep value x seed x start.")


def typed_array(column: np.ndarray) -> orjson.Fragment:
    """``column`` as the JSON of ``{"dtype", "bdata"}`` (little-endian, whatever the machine's
    order). Written as a ready fragment: base64 is plain ASCII that needs no escaping, so the
    bytes go into the output as they are, without a detour through a str."""
    return orjson.Fragment(b"".join(_typed_parts(column)))


def _typed_parts(column: np.ndarray) -> tuple[bytes, bytes, bytes]:
    """:func:`typed_array`'s JSON in three pieces: head, base64, tail (with Plotly's
    ``"shape": "2,48,48"`` for an array of more than one dimension, C order)."""
    name, wire = _TYPED_DTYPES[column.dtype]
    data = np.ascontiguousarray(column, dtype=wire)
    tail = b'"}'
    if column.ndim > 1:
        tail = b'","shape":"' + ",".join(map(str, column.shape)).encode() + b'"}'
    return _TYPED_HEADS[name], pybase64.b64encode(data.data), tail


# The constant start of each typed array's JSON, per dtype.
_TYPED_HEADS = {
    name: b'{"dtype":"' + name.encode() + b'","bdata":"' for name, _ in _TYPED_DTYPES.values()
}
# A float64 array in the machine's own byte order, written as it is when that is little-endian
# (typed_array converts anything else).
_NATIVE_F8 = np.dtype(np.float64) if sys.byteorder == "little" else None
_F8_HEAD = _TYPED_HEADS["f8"]
# Values that need neither a check nor an encoding (bool is an int).
_PLAIN_TYPES = frozenset((str, int, bool, type(None)))


# What JSON text of lists of numbers holds (bytes.translate deletes these; anything left over
# is something else).
_NUMBER_TEXT = b"0123456789.-+eE,[]"
# Kinds whose equal values have the same JSON text (not floats: 0.0 == -0.0; not bool beside
# int, nor dicts: {"lr": 1} == {"lr": 1.0}).
_EQUAL_MEANS_SAME_TEXT = ({type(None)}, {int}, {str})
# Values a whole column of can be written as one list and split at its commas.
_NUMBER_TYPES = frozenset((int, float, bool, type(None)))


def _floats_finite(values: list[Any]) -> bool:
    """Whether every float among ``values`` is finite (a finite sum means so: NaN and the
    infinities propagate; only an overflowing sum needs the check one by one)."""
    floats = [value for value in values if type(value) is float]
    return math.isfinite(sum(floats)) or all(map(math.isfinite, floats))


def _literal(text: bytes) -> bytes:
    """``text`` as it must stand in a pattern for ``%``."""
    return text.replace(b"%", b"%%")


def _path(where: tuple) -> str:
    """``("$", "series", 3, "x")`` as ``$.series.3.x`` (built only for an error message)."""
    return ".".join(str(part) for part in where)


def _all_finite(array: np.ndarray) -> bool:
    # One pass and no temporary: a finite sum means every element is finite (NaN and
    # infinities propagate); only an overflowing sum needs the element-wise check.
    return math.isfinite(np.add.reduce(array, axis=None)) or bool(np.isfinite(array).all())


# Rows a matrix is checked finite for at once, just before they are written: 32 rows of four
# 1001-point float64 columns (1 MB) stay in the core's cache from the check to the base64.
_BLOCK_ROWS = 32


def _number_lists_texts(array: np.ndarray) -> list[bytes] | None:
    """Each row of ``array`` (a :class:`engine.rows.NumberLists`' numbers) as a JSON list, or
    None when one is not finite (the general way names it)."""
    if array.dtype.kind not in "iuf":
        return None
    if array.dtype.kind == "f":
        if not _all_finite(array):
            return None
        # JSON numbers are read as doubles: a float32's exact double, as tolist() gives it.
        array = array.astype(np.float64, copy=False)
    text = orjson.dumps(np.ascontiguousarray(array), option=orjson.OPT_SERIALIZE_NUMPY)
    return _split_lists(text)


def _split_lists(text: bytes) -> list[bytes]:
    """The items of ``text``, a JSON list of lists of numbers, each as its own text. A NUL,
    which JSON text holds only escaped, marks where one list ends."""
    return text[1:-1].replace(b"],[", b"]\0[").split(b"\0")


def _wire_base64(column: np.ndarray, dtype: np.dtype) -> bytes:
    """Base64 of ``column`` in the wire's ``dtype`` (int64 steps as int32)."""
    return pybase64.b64encode(np.ascontiguousarray(column, dtype=dtype))


def _numbers_json(column: np.ndarray) -> bytes:
    """A float64 column as JSON numbers (the shortest text that reads back to each double)."""
    return orjson.dumps(column, option=orjson.OPT_SERIALIZE_NUMPY)


class _Writer:
    """Prepares values for orjson: every float checked finite and every numpy column, when
    ``typed``, encoded. Written for speed: a whole result has tens of thousands of values.

    A column is checked and encoded once when consecutive rows hold the same array object
    under the same name: the rows of a run share one ``steps`` array, so a 4096-row result
    encodes it once, not 4096 times. Only the latest column per name is kept, so writing a
    result row by row holds one row's encoding, not the whole result's.
    """

    def __init__(self, typed: bool) -> None:
        self.typed = typed
        self.latest: dict[Any, tuple[np.ndarray, Any]] = {}
        self.checked_bases: dict[int, tuple[np.ndarray, bool]] = {}
        self.checked: dict[int, dict] = {}
        self.keys: dict[str, bytes] = {}

    def prepare(self, value: Any, where: tuple) -> Any:
        kind = type(value)
        if kind in _PLAIN_TYPES:
            return value
        if kind is float:
            if value - value != 0.0:  # NaN or an infinity: only they give a non-zero (NaN)
                raise NonFiniteError(f"{_path(where)}: {value} is not a finite number")
            return value
        if kind is dict:
            if id(value) in self.checked:  # a dict shared by many rows (their hparams)
                return value
            prepared = None  # a copy only once an item changes (a column encoded)
            for key, item in value.items():
                # Inline for the common scalars: a call per value is most of the walk's cost.
                if type(item) in _PLAIN_TYPES or (type(item) is float and item - item == 0.0):
                    continue
                if type(item) is np.ndarray:
                    new = self.array(item, where, key)
                else:
                    new = self.prepare(item, (*where, key))
                if new is not item:
                    if prepared is None:
                        prepared = dict(value)
                    prepared[key] = new
            if prepared is None:
                # Checked and unchanged: the entry keeps it alive, so its id is not reused.
                self.checked[id(value)] = value
                return value
            return prepared
        if kind is np.ndarray:
            return self.array(value, where[:-1], where[-1])
        if kind is Records:  # per-row dicts kept as columns until now (engine/rows.py)
            value = value.tolist()
            kind = list
        if kind is list or kind is tuple:
            for item in value:
                if not (type(item) in _PLAIN_TYPES or (type(item) is float and item - item == 0.0)):
                    break
            else:
                return value  # scalars only, all fine: orjson writes it as it is
            return [self.prepare(item, (*where, index)) for index, item in enumerate(value)]
        if isinstance(value, float) and not math.isfinite(value):  # a numpy scalar, say
            raise NonFiniteError(f"{_path(where)}: {value} is not a finite number")
        return value

    def array(self, value: np.ndarray, where: tuple, key: Any) -> Any:
        """The column ``value`` at ``where`` + ``key``, checked and encoded (once per object):
        what orjson is given for it."""
        encoded = self.encoded(value, where, key)
        if type(encoded) is not tuple:
            return encoded
        latest = self.latest[key]
        if latest[2] is None:  # typed: the fragment made once, when a whole dict needs it
            self.latest[key] = latest = (value, encoded, orjson.Fragment(b"".join(encoded)))
        return latest[2]

    def encoded(self, value: np.ndarray, where: tuple, key: Any) -> Any:
        """The column ``value`` at ``where`` + ``key``, checked and encoded (once per object):
        typed, its JSON as the pieces ``(head, base64, tail)``, which a row written by
        :meth:`typed_row` copies into its bytes once; plain, what orjson is given."""
        latest = self.latest.get(key)
        if latest is not None and latest[0] is value:
            return latest[1]
        base = value.base
        checked = self.checked_bases.get(id(base)) if base is not None else None
        if (
            checked is not None
            and checked[1]
            and value.dtype is _NATIVE_F8
            and base.dtype is _NATIVE_F8
            and value.ndim == 1
            and value.flags.c_contiguous
        ):
            # The common case, without the general path's calls: a float64 row of a matrix
            # already found finite (the engine cuts every row of a chunk from one).
            encoded = (_F8_HEAD, pybase64.b64encode(value), b'"}') if self.typed else value
        else:
            encoded = self.column(value, (*where, key))
        self.latest[key] = (value, encoded, None)
        return encoded

    def typed_row(self, row: dict[str, Any], where: tuple) -> bytes:
        """``row`` (a dict of scalars and numpy columns) as typed JSON: the bytes ``orjson``
        writes for it prepared, assembled here so that each column's base64 is copied once
        (as a fragment, it would be copied into a joined fragment and again into orjson's
        output: at a 4096-row result, 175 MB each time). Keys are written as orjson writes
        them, runs of scalars by orjson itself."""
        parts: list[bytes] = [b"{"]
        scalars: dict[str, Any] = {}
        for key, value in row.items():
            if type(value) is not np.ndarray:
                scalars[key] = value
                continue
            if scalars:
                parts += (self._members(scalars, where), b",")
                scalars = {}
            parts.append(self._key(key))
            parts += self.encoded(value, where, key)
            parts.append(b",")
        if scalars:
            parts.append(self._members(scalars, where))
        elif len(parts) > 1:
            parts.pop()  # the last column's comma
        parts.append(b"}")
        return b"".join(parts)

    def rows(self, rows: Records | list[dict[str, Any]], where: tuple) -> Iterator[bytes]:
        """Each of ``rows`` as JSON, one piece per row (each after the first starting with the
        comma before it): the bytes the general writer makes for it (:meth:`prepare`, or
        :meth:`typed_row`), written from one pattern for all rows. One row at a time, a whole
        result's 4096 rows cost 13 µs of Python each, most of it walking and checking each
        row's scalars and columns.

        The pattern holds the keys, what every row shares (the steps, a label, hparams) and a
        ``%b`` per value a row fills in: its scalars' JSON (checked and written a key at a
        time for all rows) and its columns' numbers (base64, or JSON numbers). ``rows`` kept
        as columns (engine/rows.py) hand over their matrices: those are checked finite a block
        of rows at a time, just before they are written, so each block is read from memory
        once for both; those known finite (``Records.finite``) are not checked again.

        Rows that are not alike (other keys or kinds of values, a non-finite number, columns
        that are not such rows) are written one at a time, which names what is wrong."""
        columns = rows.columns() if isinstance(rows, Records) else None
        if columns is None:
            if isinstance(rows, Records):
                rows = rows.tolist()
            columns = dict_columns(rows)
        # An overflowing sum only means "check each element"; the preparation makes a list per
        # key (engine/bulk.py).
        with np.errstate(over="ignore"), collector_paused():
            template = None if columns is None else self._template(columns, len(rows), where)
        if template is None:
            for index, row in enumerate(rows):
                yield self._row_alone(row, (*where, index), separated=index > 0)
            return
        pattern, sources, matrices = template
        separated = b"," + pattern
        # Matrices known finite from how they were made (the engine's points) are not read
        # again to check them: that read is a fifth of writing a whole result.
        if isinstance(rows, Records) and rows.finite:
            matrices = []
        count = len(rows)
        for a in range(0, count, _BLOCK_ROWS):
            b = min(a + _BLOCK_ROWS, count)
            block, finite = None, True
            if matrices:
                with np.errstate(over="ignore"):
                    finite = all(_all_finite(matrix[a:b]) for matrix in matrices)
            if finite:
                try:
                    block = [values[a:b] if encode is None else list(map(encode, values[a:b]))
                             for values, encode in sources]  # fmt: skip
                except (ValueError, TypeError, BufferError):  # a column not contiguous
                    block = None
            if block is None:  # these rows the general way, which names what is wrong
                for index in range(a, b):
                    yield self._row_alone(rows[index], (*where, index), separated=index > 0)
                continue
            # A piece per row: a block's rows as one piece would be fresh memory each time (a
            # megabyte is mapped, not reused), a row's is the heap's, still in the cache.
            each_row = zip(*block, strict=True) if block else repeat((), b - a)
            if a == 0:
                yield pattern % next(each_row)
            for values in each_row:
                yield separated % values

    def _row_alone(self, row: dict[str, Any], where: tuple, separated: bool) -> bytes:
        with np.errstate(over="ignore"), collector_paused():
            if self.typed:
                written = self.typed_row(row, where)
            else:
                written = orjson.dumps(self.prepare(row, where), option=orjson.OPT_SERIALIZE_NUMPY)
        return b"," + written if separated else written

    def _template(
        self, columns: dict[str, Any], count: int, where: tuple
    ) -> tuple[bytes, list[tuple[Any, Any]], list[np.ndarray]] | None:
        """The pattern of :meth:`rows` (bytes for ``%``, a ``%b`` per value a row fills in),
        where each such value comes from, and the matrices to check a block at a time. A
        source is per-row JSON texts (no encoder), or a row's column and what writes it: the
        rows' columns in a list (checked finite here), or a matrix whose row ``i`` is row
        ``i``'s column. None when the rows are not written so."""
        if not count or not columns:
            return None
        pattern = []
        sources: list[tuple[Any, Any]] = []
        matrices: list[np.ndarray] = []
        numbers = pybase64.b64encode if self.typed else _numbers_json
        for position, (key, values) in enumerate(columns.items()):
            pattern.append(_literal((b"," if position else b"{") + self._key(key)))
            if type(values) is np.ndarray:  # a matrix, a row per row
                ends = self._matrix_ends(values, count)
                if ends is None:
                    return None
                pattern += (ends[0], b"%b", ends[1])
                sources.append((values, numbers))
                matrices.append(values)
                continue
            if len(values) != count:
                return None
            if type(values) is NumberLists:
                texts = _number_lists_texts(values.array)
                if texts is None:
                    return None
                if texts.count(texts[0]) == count:
                    pattern.append(_literal(texts[0]))
                else:
                    pattern.append(b"%b")
                    sources.append((texts, None))
                continue
            kinds = set(map(type, values))
            if kinds == {np.ndarray}:
                first = values[0]
                if all(value is first for value in values):  # the steps that every row shares
                    pattern.append(_literal(self._column_text(first, (*where, 0), key)))
                    continue
                written = self._rows_written(values)
                if written is None:
                    return None
                head, encode, tail = written
                pattern += (head, b"%b", tail)
                sources.append((values, encode))
                continue
            if kinds in _EQUAL_MEANS_SAME_TEXT and values.count(values[0]) == count:
                pattern.append(_literal(orjson.dumps(values[0])))  # one value for every row
                continue
            texts = self._bulk_texts(values, kinds)
            if texts is None:
                return None
            first = texts[0]
            if texts.count(first) == count:  # the same in every row: in the pattern
                pattern.append(_literal(first))
            else:
                pattern.append(b"%b")
                sources.append((texts, None))
        pattern.append(b"}")
        return b"".join(pattern), sources, matrices

    def _column_text(self, column: np.ndarray, where: tuple, key: Any) -> bytes:
        """``column``'s JSON, checked, in this writer's encoding."""
        encoded = self.encoded(column, where, key)
        if self.typed:
            return b"".join(encoded)
        return orjson.dumps(encoded, option=orjson.OPT_SERIALIZE_NUMPY)

    def _matrix_ends(self, matrix: np.ndarray, count: int) -> tuple[bytes, bytes] | None:
        """What comes before and after each row's numbers when ``matrix``'s rows are written
        as they are: a float matrix, C-contiguous, one row per row, in the wire's dtype
        (plain: float64, the doubles JSON numbers are read as). None otherwise."""
        dtype = matrix.dtype
        if matrix.ndim != 2 or len(matrix) != count or not matrix.flags.c_contiguous:
            return None
        return self._float_ends(dtype)

    def _rows_written(self, values: list[Any]) -> tuple[bytes, Any, bytes] | None:
        """How each of ``values``, the rows' columns (vectors of one dtype), is written: the
        head before its numbers, what writes them, the tail after; None when they are not
        all finite floats, or integers. Rows cut from one matrix (a chunk's) are checked
        once for it; the others (a row that stopped early, cut on its own) each alone."""
        first = values[0]
        dtype = first.dtype
        if not all(
            type(value) is np.ndarray and value.dtype is dtype and value.ndim == 1
            for value in values
        ):
            return None
        if dtype.kind == "i" and dtype in _TYPED_DTYPES:  # steps, cut per row
            if not self.typed:
                return b"", _numbers_json, b""
            name, wire = _TYPED_DTYPES[dtype]
            return _TYPED_HEADS[name], partial(_wire_base64, dtype=np.dtype(wire)), b'"}'
        ends = self._float_ends(dtype)
        if ends is None:
            return None
        written = (ends[0], pybase64.b64encode if self.typed else _numbers_json, ends[1])
        base = first.base
        if (
            type(base) is np.ndarray
            and base.dtype is dtype
            and all(value.base is base for value in values)
            and self.base_finite(base)
        ):
            return written
        return written if all(map(self.finite, values)) else None

    def _float_ends(self, dtype: np.dtype) -> tuple[bytes, bytes] | None:
        if dtype.kind != "f":
            return None
        if not self.typed:
            return (b"", b"") if dtype is _NATIVE_F8 else None
        entry = _TYPED_DTYPES.get(dtype)
        if entry is None or dtype.str != entry[1]:
            return None
        return _TYPED_HEADS[entry[0]], b'"}'

    def _bulk_texts(self, values: list[Any], kinds: set[type]) -> list[bytes] | None:
        """``values`` (one key's, across rows) each as JSON, or None when they are not all
        of one kind written in bulk, or not all finite."""
        if kinds <= _NUMBER_TYPES:
            text = orjson.dumps(values)
            # orjson writes NaN and the infinities as null: no null, every float is finite.
            if float in kinds and b"null" in text and not _floats_finite(values):
                return None
            # Numbers and nulls hold no comma: orjson's list of them splits into its items.
            return text[1:-1].split(b",")
        if kinds <= {list, tuple}:
            # Lists of numbers (start and final points), finite: then the text holds nothing
            # but numbers, commas and brackets (no null, which is NaN, an infinity or None; no
            # string, object or literal), and a bracket per list (none nested); it splits into
            # them where one closes and the next opens.
            try:
                text = orjson.dumps(values)
            except TypeError:  # something orjson does not write: the general way says what
                return None
            if text.translate(None, _NUMBER_TEXT) or text.count(b"[") != len(values) + 1:
                return None
            return _split_lists(text)
        if kinds == {str}:
            texts = {value: orjson.dumps(value) for value in dict.fromkeys(values)}
            return list(map(texts.__getitem__, values))
        if kinds == {dict}:
            # The rows of a sweep value share their hparams: each dict is written once.
            ids = list(map(id, values))
            by_id: dict[int, bytes] = {}
            for key, value in dict(zip(ids, values, strict=True)).items():
                try:
                    prepared = self.prepare(value, ("$",))
                except NonFiniteError:
                    return None  # written row by row, which names the row
                by_id[key] = orjson.dumps(prepared, option=orjson.OPT_SERIALIZE_NUMPY)
            return list(map(by_id.__getitem__, ids))
        return None

    def _key(self, key: str) -> bytes:
        """``"key":`` as orjson writes it, made once per name."""
        written = self.keys.get(key)
        if written is None:
            written = self.keys[key] = orjson.dumps(key) + b":"
        return written

    def _members(self, scalars: dict[str, Any], where: tuple) -> bytes:
        """The members of ``scalars`` as JSON, without the braces."""
        return orjson.dumps(self.prepare(scalars, where), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]

    def column(self, value: np.ndarray, where: tuple) -> Any:
        if value.dtype.kind == "f":
            if not self.finite(value):
                raise NonFiniteError(f"{_path(where)}: a column holds a non-finite number")
            if not self.typed and value.dtype != np.float64:
                # JSON numbers are read as doubles: write a float32's exact double, so that
                # both encodings decode to the same numbers.
                value = value.astype(np.float64)
        if self.typed:
            return _typed_parts(value)
        if value.dtype.kind == "i":
            # Written out now: an integer column is the steps that every row shares, so its
            # text is made once and copied into each row.
            return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY))
        return value if value.flags.c_contiguous else np.ascontiguousarray(value)

    def finite(self, column: np.ndarray) -> bool:
        """Whether every element of ``column`` is finite. The engine cuts a chunk's columns as
        rows of one matrix per column name: that matrix is checked once, for all its rows."""
        base = column.base
        if type(base) is np.ndarray and base.dtype == column.dtype and self.base_finite(base):
            return True
        return _all_finite(column)

    def base_finite(self, base: np.ndarray) -> bool:
        """Whether every element of the matrix ``base`` is finite, checked once per writer."""
        checked = self.checked_bases.get(id(base))
        if checked is None:  # the entry holds the base: its id is not reused meanwhile
            checked = self.checked_bases[id(base)] = (base, _all_finite(base))
        return checked[1]


def dumps(data: Any, encoding: Encoding = "plain", where: str = "$") -> bytes:
    """The one JSON writer of runs: compact UTF-8 JSON, numpy columns in ``encoding``.

    orjson writes numpy arrays natively (the shortest text that reads back to the same double)
    at several times the speed of ``json`` on lists, which matters at millions of points.

    Raises:
        NonFiniteError: a NaN or an infinity anywhere in ``data`` (named by its path, from
            ``where``).
    """
    return _dumps(data, _Writer(encoding == "typed"), where)


def _dumps(data: Any, writer: _Writer, where: str) -> bytes:
    if type(data) is dict:
        # Rows kept as columns (a chunk's, a meta's, a done's): written from one pattern.
        for key, value in data.items():
            if isinstance(value, Records) and value.columns() is not None:
                return b"".join(_pieces(data, key, writer, where))
    # An overflowing sum only means "check each element"; the copies of a big result's rows
    # are a burst of small objects (engine/bulk.py).
    with np.errstate(over="ignore"), collector_paused():
        prepared = writer.prepare(data, (where,))
    return orjson.dumps(prepared, option=orjson.OPT_SERIALIZE_NUMPY)


def _pieces(data: dict[str, Any], key: str, writer: _Writer, where: str) -> Iterator[bytes]:
    """``data``'s JSON in pieces: the members before ``key``, then its rows (a list of dicts,
    or records) a piece each (_Writer.rows), then the members after it."""
    keys = list(data)
    at = keys.index(key)
    head = _dumps({k: data[k] for k in keys[:at]}, writer, where)
    yield head[:-1] + (b"," if len(head) > 2 else b"") + writer._key(key) + b"["
    yield from writer.rows(data[key], (where, key))
    if at + 1 == len(keys):
        yield b"]}"
    else:
        yield b"]," + _dumps({k: data[k] for k in keys[at + 1 :]}, writer, where)[1:]


def dump_result_pieces(result: dict[str, Any], encoding: Encoding = "plain") -> Iterator[bytes]:
    """``dumps(result)``'s bytes in pieces, one row at a time: a big result never holds the
    interpreter for one long call, so other threads (the server's event loop) get their turn
    between rows. The rows must come last in ``result`` (as ``RunResult`` orders them)."""
    if next(reversed(result), None) != "series":
        raise ValueError("result: its series must come last")
    # One writer: the rows' shared steps column is written once.
    return _pieces(result, "series", _Writer(encoding == "typed"), "$")
