"""A run's rows as columns, and per-row records made only when somebody reads them.

A map has 65,536 rows; as Python objects (a tuple per row, a dict per description and per
summary) they cost about as much time as stepping them 150 times. The step loop needs two
columns of them (each row's start and seed) and the summaries are a handful of numbers per row,
so the engine keeps both as columns:

- :class:`RowTable` is the plan's rows: what each row's sweep value shares (:class:`Variant`)
  and one array per column. Indexing it gives a :class:`Row`, as a tuple of rows would.
- :class:`Records` is a list of per-row dicts (the record's ``RowInfo``, ``RowSummary``, a
  chunk's ``ChunkRow`` or a whole result's row) that is made from its columns the first time
  it is read: a consumer that wants dicts gets them; the JSON writer takes the columns as
  they are (a list per key, a matrix per column of points), and one that wants neither (a
  benchmark, a map's preview thrown away on cancel) never pays for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, overload

import numpy as np

from engine.bulk import collector_paused

__all__ = ["NumberLists", "Records", "Row", "RowTable", "Variant", "column_dicts", "dict_columns"]


class Row(NamedTuple):
    """One trajectory."""

    index: int
    series: int
    label: str
    optimizer: str
    hparams: dict[str, Any]
    seed: int
    start: tuple[float, float]


class Variant(NamedTuple):
    """What the rows of one sweep value of one series share (the hparams dict is shared too)."""

    series: int
    label: str
    optimizer: str
    hparams: dict[str, Any]


class Records(Sequence[dict[str, Any]]):
    """``count`` per-row dicts, made on first use (once, with the collector paused: see
    engine/bulk.py), by ``make`` or from ``columns``. Reads like the list it stands for, and
    equals it.

    ``columns`` gives each key's values across the rows, in the dicts' key order: a list, a
    2-D numpy array whose row ``i`` is row ``i``'s value (a view of it in the dicts), or
    :class:`NumberLists` (row ``i``'s value is a list of numbers). A writer that takes the
    columns as they are (:meth:`columns`) never makes the dicts at all.

    ``finite`` says that every number in those matrices is finite, known from how they were
    made (the engine's recorded points: see engine/history.py), so a writer need not read them
    to check.
    """

    def __init__(
        self,
        count: int,
        make: Callable[[], list[dict[str, Any]]] | None = None,
        *,
        columns: Callable[[], dict[str, Any]] | None = None,
        finite: bool = False,
    ) -> None:
        if (make is None) == (columns is None):
            raise TypeError("Records takes either make or columns")
        self.finite = finite
        self._count = count
        self._make = make
        self._columns_of: Callable[[], dict[str, Any]] | None = columns
        self._columns: dict[str, Any] | None = None
        self._made: list[dict[str, Any]] | None = None

    def columns(self) -> dict[str, Any] | None:
        """Each key's values across the rows (see the class), computed once; None for records
        made by ``make``, or once the dicts are made."""
        if self._made is not None or self._columns_of is None:
            return None
        if self._columns is None:
            with collector_paused():
                self._columns = self._columns_of()
        return self._columns

    def tolist(self) -> list[dict[str, Any]]:
        """The dicts (made now if not yet)."""
        if self._made is None:
            with collector_paused():
                if self._make is not None:
                    self._made = self._make()
                else:
                    self._made = column_dicts(self.columns())
            # The columns they were made from are not needed any more.
            self._make = self._columns_of = self._columns = None
            if len(self._made) != self._count:
                raise AssertionError(f"made {len(self._made)} records of {self._count}")
        return self._made

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index):
        return self.tolist()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list | tuple):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        made = "made" if self._made is not None else "not made yet"
        return f"Records({self._count} rows, {made})"


class NumberLists:
    """A column of :class:`Records` whose row ``i`` is ``array[i]`` as a list of numbers (each
    row's start, its final point), kept as one ``(rows, n)`` array until a dict needs the
    lists: a 65,536-row map's would be 131,072 lists that the cyclic collector then walks."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim != 2:
            raise ValueError(f"array: expected (rows, n), got shape {array.shape}")
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def tolist(self) -> list[list[Any]]:
        return self.array.tolist()


def column_dicts(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-row dicts of ``columns`` (see :class:`Records`): one comprehension over the
    zipped columns, a 2-D array's rows as views."""
    keys = tuple(columns)
    values = [
        list(column)
        if type(column) is np.ndarray
        else column.tolist()
        if type(column) is NumberLists
        else column
        for column in columns.values()
    ]
    return [dict(zip(keys, row, strict=True)) for row in zip(*values, strict=True)]


def dict_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]] | None:
    """``rows``' values a list per key (the inverse of :func:`column_dicts`), when every row
    has the same keys in the same order; None otherwise, or for no rows."""
    if not rows:
        return None
    keys = tuple(rows[0])
    if any(tuple(row) != keys for row in rows):
        return None
    return {key: [row[key] for row in rows] for key in keys}


@dataclass(frozen=True, eq=False)
class RowTable(Sequence[Row]):
    """Rows as columns: row ``k`` is number ``row[k]`` of its run, of sweep value
    ``variants[variant[k]]``, from ``seed[k]`` and ``start[k]``.

    The arrays are read-only: rows are shared by a plan and its subsets.
    """

    variants: tuple[Variant, ...]
    row: np.ndarray  # (R,) int64, each row's number in its run
    variant: np.ndarray  # (R,) int64, into ``variants``
    seed: np.ndarray  # (R,) int64
    start: np.ndarray  # (R, 2) float64

    @classmethod
    def product(
        cls, variants: Sequence[Variant], seeds: Sequence[int], starts: np.ndarray
    ) -> RowTable:
        """Every variant x seed x start, starts fastest: the rows of a landscape run.

        Args:
            starts: ``(S, 2)`` float64, the exact coordinates (float64 holds any JSON number
                a spec accepts as it was read).
        """
        per_variant = len(seeds) * len(starts)
        rows = len(variants) * per_variant
        seed = np.repeat(np.asarray(seeds, dtype=np.int64), len(starts))
        table = cls(
            variants=tuple(variants),
            row=np.arange(rows, dtype=np.int64),
            variant=np.repeat(np.arange(len(variants), dtype=np.int64), per_variant),
            seed=np.tile(seed, len(variants)),
            start=np.tile(
                np.asarray(starts, dtype=np.float64).reshape(-1, 2), (len(variants) * len(seeds), 1)
            ),
        )
        for column in (table.row, table.variant, table.seed, table.start):
            column.flags.writeable = False
        return table

    def take(self, positions: Sequence[int] | np.ndarray) -> RowTable:
        """The rows at ``positions`` (ascending), keeping their numbers."""
        at = np.asarray(positions, dtype=np.int64)
        table = RowTable(
            self.variants, self.row[at], self.variant[at], self.seed[at], self.start[at]
        )
        for column in (table.row, table.variant, table.seed, table.start):
            column.flags.writeable = False
        return table

    def __len__(self) -> int:
        return len(self.row)

    @overload
    def __getitem__(self, position: int) -> Row: ...
    @overload
    def __getitem__(self, position: slice) -> RowTable: ...
    def __getitem__(self, position):
        if isinstance(position, slice):
            return self.take(np.arange(len(self))[position])
        series, label, optimizer, hparams = self.variants[int(self.variant[position])]
        x, y = self.start[position].tolist()
        return Row(
            int(self.row[position]),
            series,
            label,
            optimizer,
            hparams,
            int(self.seed[position]),
            (x, y),
        )

    def __iter__(self) -> Iterator[Row]:
        variants = self.variants
        for index, variant, seed, (x, y) in zip(
            self.row.tolist(),
            self.variant.tolist(),
            self.seed.tolist(),
            self.start.tolist(),
            strict=True,
        ):
            series, label, optimizer, hparams = variants[variant]
            yield Row(index, series, label, optimizer, hparams, seed, (x, y))

    def describe(self) -> Records:
        """Each row's identity as the record's ``RowInfo`` declares it (made when read)."""
        return Records(len(self), columns=self._description_columns)

    def _description_columns(self) -> dict[str, list[Any]]:
        variants = self.variants
        variant = self.variant.tolist()

        def per_variant(values: list[Any]) -> list[Any]:
            return (
                [values[0]] * len(variant)
                if len(values) == 1
                else list(map(values.__getitem__, variant))
            )

        return {
            "row": self.row.tolist(),
            "series": per_variant([v.series for v in variants]),
            "label": per_variant([v.label for v in variants]),
            "optimizer": per_variant([v.optimizer for v in variants]),
            "hparams": per_variant([v.hparams for v in variants]),
            "seed": self.seed.tolist(),
            "start": NumberLists(self.start),
        }
