"""The run record: declared shapes, the two encodings, `record: final`, one parse per input."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

import landscapes.expression
from engine import RunSpec, collect_result, dumps, plan_run, run_events, run_to_result
from engine.record import COLUMNS, Chunk, Done, NonFiniteError, RunMeta, RunResult
from optimizers.registry import HParams

NUMPY_DTYPES = {"f8": "<f8", "f4": "<f4", "i4": "<i4"}


def spec(**overrides) -> RunSpec:
    data = {
        "landscape": {"id": "himmelblau"},
        "steps": 150,
        "seeds": [0, 1],
        "starts": [[-1.0, 0.5], [4.0, 4.0]],
        "noise": {"kind": "gaussian", "sigma": 0.3},
        "series": [
            {"optimizer": "sgd", "hparams": {"lr": 0.01}},
            {"optimizer": "anon", "hparams": {"lr": 0.05},
             "sweep": {"param": "gamma", "values": [0, 1]}},
            {"optimizer": "sgd", "hparams": {"lr": 0.5}},  # diverges
        ],
    }  # fmt: skip
    data.update(overrides)
    return RunSpec.model_validate(data)


def decoded(value):
    """Typed arrays back to numbers; everything else unchanged."""
    if isinstance(value, dict) and set(value) == {"dtype", "bdata"}:
        raw = base64.b64decode(value["bdata"])
        return np.frombuffer(raw, dtype=NUMPY_DTYPES[value["dtype"]]).tolist()
    if isinstance(value, dict):
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_typed_and_plain_encodings_decode_to_identical_numbers(dtype):
    result = run_to_result(spec(dtype=dtype))
    plain = json.loads(dumps(result, "plain"))
    typed = json.loads(dumps(result, "typed"))
    wire = "f8" if dtype == "float64" else "f4"
    row = typed["series"][0]
    assert row["x"]["dtype"] == wire
    assert row["steps"]["dtype"] == "i4"
    assert decoded(typed) == plain
    # ... and both are the engine's numbers, a float32 run's values written exactly.
    for sent, kept in zip(plain["series"], result["series"], strict=True):
        for name in COLUMNS:
            assert sent[name] == kept[name].tolist()


def test_the_whole_result_has_one_set_of_column_names():
    result = json.loads(dumps(run_to_result(spec())))
    for row in result["series"]:
        assert "trajectory" not in row
        lengths = {len(row[name]) for name in COLUMNS}
        assert len(lengths) == 1
        assert row["final_point"] == [row["x"][-1], row["y"][-1]]


def test_responses_follow_the_declared_models_in_both_encodings():
    run = spec()
    plan = plan_run(run)
    events = list(run_events(plan, chunk_seconds=0.0))
    for encoding in ("plain", "typed"):
        meta, *chunks, done = (json.loads(dumps(e.data, encoding)) for e in events)
        RunMeta.model_validate(meta)
        for chunk in chunks:
            Chunk.model_validate(chunk)
        Done.model_validate(done)
        RunResult.model_validate(json.loads(dumps(collect_result(plan, events), encoding)))


def test_record_final_sends_summaries_only_and_they_equal_the_full_runs():
    full = run_to_result(spec())
    final = run_to_result(spec(record="final"))
    assert final["record"] == "final"
    summary_fields = (
        "final_point", "final_loss", "mean_loss", "distance_to_minimum", "nearest_minimum",
        "steps_to_tolerance", "diverged_at",
    )  # fmt: skip
    assert any(row["diverged_at"] is not None for row in full["series"])
    assert any(row["steps_to_tolerance"] is not None for row in full["series"])
    for whole, one in zip(full["series"], final["series"], strict=True):
        assert not set(COLUMNS) & set(one)
        assert {k: one[k] for k in summary_fields} == {k: whole[k] for k in summary_fields}
    RunResult.model_validate(json.loads(dumps(final)))
    # The mean loss is over each row's valid points: those its loss column holds.
    for row in full["series"]:
        if len(row["loss"]):
            assert row["mean_loss"] == pytest.approx(float(np.mean(row["loss"])), rel=1e-12)


def test_record_final_streams_progress_without_columns():
    events = list(run_events(plan_run(spec(record="final")), chunk_seconds=0.0))
    chunks = [e.data for e in events if e.kind == "chunk"]
    assert chunks
    assert all(chunk["rows"] == [] for chunk in chunks)
    assert chunks[-1]["to_step"] == 151


def test_a_start_with_a_non_finite_loss_is_summarised_the_same_in_both_records():
    landscape = {"expression": "log(x)"}  # log of a negative x is NaN: the start is not valid
    runs = [run_to_result(spec(landscape=landscape, noise=None, record=record, starts=[[-1.0, 0],
            [1.0, 0]])) for record in ("full", "final")]  # fmt: skip
    for whole, one in zip(*(r["series"] for r in runs), strict=True):
        assert whole["final_loss"] == one["final_loss"]
        assert whole["final_point"] == one["final_point"]
        assert whole["diverged_at"] == one["diverged_at"]
    assert runs[0]["series"][0]["diverged_at"] == 0
    assert len(runs[0]["series"][0]["x"]) == 0


def test_a_gradient_whose_norm_overflows_stops_its_row_alike_in_both_records():
    """Components near 1e159 are finite but their squared norm is not: the row stops at once in
    a full record (its gradient norm is infinite) and in a final one (which keeps no norms and
    checks the squares); the other row, whose gradient is tiny, runs on."""
    landscape = {"expression": "exp(400 * x) + exp(400 * y)"}
    runs = [
        run_to_result(
            spec(landscape=landscape, noise=None, record=record, starts=[[0.9, 0.9], [-1.0, -1.0]])
        )
        for record in ("full", "final")
    ]
    for whole, one in zip(*(r["series"] for r in runs), strict=True):
        assert whole["diverged_at"] == one["diverged_at"]
        assert whole["final_point"] == one["final_point"]
    assert runs[0]["series"][0]["diverged_at"] == 0
    assert runs[0]["series"][1]["diverged_at"] is None


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_the_writer_refuses_non_finite_numbers_naming_where(bad):
    with pytest.raises(NonFiniteError, match=r"\$\.rows\.0\.final_loss"):
        dumps({"rows": [{"final_loss": bad}]})
    with pytest.raises(NonFiniteError, match=r"\$\.x"):
        dumps({"x": np.array([0.0, bad])}, "typed")


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_rows_cut_from_one_matrix_are_each_checked(encoding):
    """The writer checks a matrix once for all the rows cut from it: a non-finite number in
    one row is still found and named, and one outside the rows written is no error."""
    bad = float("nan")
    matrix = np.arange(12.0).reshape(4, 3)
    rows = [{"x": matrix[i], "steps": np.arange(3)} for i in range(3)]
    assert json.loads(dumps({"rows": rows}, "plain"))["rows"][2]["x"] == [6.0, 7.0, 8.0]
    matrix[3, 1] = bad  # not in any row written
    decoded(json.loads(dumps({"rows": rows}, encoding)))
    matrix[2, 0] = bad
    with pytest.raises(NonFiniteError, match=r"\$\.rows\.2\.x"):
        dumps({"rows": rows}, encoding)
    # A sum that overflows is no false alarm.
    huge = np.full(4, np.finfo(np.float64).max)
    assert json.loads(dumps({"x": huge}))["x"] == huge.tolist()


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_the_result_written_in_pieces_is_the_result_written_at_once(encoding):
    """The API writes whole results row by row (engine.record.dump_result_pieces), sharing
    the rows' steps column and matrix checks across rows: the bytes are the same."""
    from engine.record import dump_result_pieces

    result = run_to_result(spec())
    assert result["series"][0]["steps"] is result["series"][1]["steps"]  # shared, as it is cut
    whole = dumps(result, encoding)
    assert b"".join(dump_result_pieces(result, encoding)) == whole
    # Each row written alone says the same as in the whole: nothing leaks between rows.
    rows = json.loads(whole)["series"]
    for sent, row in zip(rows, result["series"], strict=True):
        assert json.loads(dumps(row, encoding)) == sent


def test_each_input_is_parsed_and_validated_once_per_run(monkeypatch):
    parses, validations = [], []
    parse = landscapes.expression.parse_expression
    monkeypatch.setattr(
        landscapes.expression, "parse_expression", lambda text: parses.append(text) or parse(text)
    )
    validate = HParams.model_validate.__func__

    def counting_validate(cls, *args, **kwargs):
        validations.append(cls.__name__)
        return validate(cls, *args, **kwargs)

    monkeypatch.setattr(HParams, "model_validate", classmethod(counting_validate))
    run = spec(landscape={"expression": "x**2 + 3*y**2"}, noise=None, steps=20)
    assert parses == ["x**2 + 3*y**2"]
    assert validations == ["SGDHParams", "AnonHParams", "AnonHParams", "SGDHParams"]
    run_to_result(run)
    assert parses == ["x**2 + 3*y**2"]
    assert len(validations) == 4


def test_whole_results_not_like_the_engines_are_written_as_each_row_alone(monkeypatch):
    """``dump_result_pieces`` writes a typed result's rows from one pattern when they are
    alike (the engine's always are). Rows that are not (other keys, other kinds of values,
    columns that are not rows of one matrix in the wire's dtype, a non-finite number) come
    out as the general writer makes them, or the error names the row."""
    from engine.record import _Writer, dump_result_pieces

    alone = []  # the rows written one at a time
    one_row = _Writer.typed_row
    monkeypatch.setattr(
        _Writer,
        "typed_row",
        lambda self, row, where: alone.append(where[-1]) or one_row(self, row, where),
    )

    def written(rows):
        alone.clear()
        result = {"run": "r%s", "series": rows}
        pieces = b"".join(dump_result_pieces(result, "typed"))
        assert pieces == dumps(result, "typed")
        return json.loads(pieces)["series"]

    matrix = np.arange(24.0).reshape(4, 6) / 7
    steps = np.arange(6)
    hparams = {"lr": 0.1, "betas": [0.9, 0.999]}

    def row(i, **changes):
        entry = {"row": i, "label": "lr 50%", "hparams": hparams, "start": [0.5, -i / 3],
                 "steps": steps, "x": matrix[i], "final_loss": i / 9, "hit": None,
                 "50% done": True}  # fmt: skip
        entry.update(changes)
        return entry

    alike = written([row(i) for i in range(3)])
    assert alone == []  # all from the pattern
    assert [decoded(r["x"]) for r in alike] == matrix[:3].tolist()
    assert alike[2]["50% done"] is True
    assert alike[1]["start"] == [0.5, -1 / 3]
    strided = matrix[:, ::2]  # rows of a matrix, but not contiguous
    assert [decoded(r["x"]) for r in written([row(i, x=strided[i]) for i in range(3)])] == (
        strided[:3].tolist()
    )
    assert alone == [0, 1, 2]
    floats32 = matrix.astype(np.float32)
    assert written([row(i, x=floats32[i]) for i in range(3)])[0]["x"]["dtype"] == "f4"
    assert alone == []
    assert written([row(i, steps=np.arange(6)) for i in range(3)])[2]["steps"]["dtype"] == "i4"
    assert "label" not in written([row(0), {k: v for k, v in row(1).items() if k != "label"}])[1]
    assert written([row(0), row(1, hit=3), row(2, hit=2.5)])[2]["hit"] == 2.5
    assert alone == []
    matrix[3, 0] = float("nan")  # in no row written
    written([row(i) for i in range(3)])
    with pytest.raises(NonFiniteError, match=r"\$\.series\.2\.final_loss"):
        b"".join(
            dump_result_pieces({"series": [row(0), row(1), row(2, final_loss=np.inf)]}, "typed")
        )
    matrix[1, 2] = float("nan")
    with pytest.raises(NonFiniteError, match=r"\$\.series\.1\.x"):
        b"".join(dump_result_pieces({"series": [row(i) for i in range(3)]}, "typed"))


def fresh_result(**overrides) -> dict:
    """A whole result whose rows nobody has read yet: still columns (engine/rows.py)."""
    return run_to_result(spec(**overrides))


def as_dicts(result: dict) -> dict:
    return {**result, "series": result["series"].tolist()}


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_rows_kept_as_columns_are_written_as_their_dicts_are(encoding, monkeypatch):
    """A result whose points came in one chunk keeps its rows as columns, its matrices as
    they are; written from them, its bytes are those of its rows written as dicts, none of
    its rows written alone. A result with rows that diverged is written row by row, alike."""
    from engine.record import _Writer, dump_result_pieces

    alone = []
    one_row = _Writer._row_alone
    monkeypatch.setattr(
        _Writer,
        "_row_alone",
        lambda self, row, where, separated: (
            alone.append(where) or one_row(self, row, where, separated)
        ),
    )
    steady = [{"optimizer": "adam", "hparams": {"lr": 0.05}},
              {"optimizer": "anon", "hparams": {"lr": 0.01},
               "sweep": {"param": "gamma", "values": [0, 1]}}]  # fmt: skip
    result = fresh_result(series=steady, noise={"kind": "none"})
    columns = result["series"].columns()
    assert all(type(columns[name]) is np.ndarray for name in COLUMNS if name != "steps")
    pieces = b"".join(dump_result_pieces(result, encoding))
    assert alone == []
    assert pieces == dumps(as_dicts(result), encoding)

    # Rows that stopped early have columns of their own: checked each, still one pattern.
    diverging = fresh_result()
    pieces = b"".join(dump_result_pieces(diverging, encoding))
    assert alone == []
    assert pieces == dumps(as_dicts(diverging), encoding)
    assert json.loads(pieces)["series"][-1]["diverged_at"] is not None


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_matrices_are_checked_a_block_of_rows_at_a_time(encoding):
    """A non-finite number in a matrix column is named by its row, whichever block it is in;
    matrices not written as they are (float32 as plain numbers, not contiguous) come out as
    their rows' dicts do."""
    from engine.record import dump_result_pieces
    from engine.rows import Records

    def written(columns: dict) -> bytes:
        count = len(columns["row"])
        rows = Records(count, columns=lambda: columns)
        pieces = b"".join(dump_result_pieces({"run": 1, "series": rows}, encoding))
        again = Records(count, columns=lambda: columns).tolist()
        assert pieces == dumps({"run": 1, "series": again}, encoding)
        return pieces

    count = 70  # three blocks of rows
    matrix = np.arange(count * 5.0).reshape(count, 5) / 3
    base = {"row": list(range(count)), "label": ["a"] * count, "steps": [np.arange(5)] * count}
    sent = json.loads(written({**base, "x": matrix}))["series"]
    assert [decoded(row["x"]) for row in sent] == matrix.tolist()
    assert sent[69]["label"] == "a"
    assert sent[69]["row"] == 69
    floats32 = matrix.astype(np.float32)
    sent = json.loads(written({**base, "x": floats32}))["series"]
    assert [decoded(row["x"]) for row in sent] == floats32.tolist()
    strided = matrix[:, ::2]
    sent = json.loads(written({**base, "x": strided}))["series"]
    assert [decoded(row["x"]) for row in sent] == strided.tolist()
    for row in (0, 40, 69):
        bad = matrix.copy()
        bad[row, 3] = float("inf")
        with pytest.raises(NonFiniteError, match=rf"\$\.series\.{row}\.x"):
            b"".join(
                dump_result_pieces(
                    {"series": Records(count, columns=lambda b=bad: {**base, "x": b})}, encoding
                )
            )


@pytest.mark.parametrize("record", ["full", "final"])
@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_events_kept_as_columns_are_written_as_their_dicts_are(encoding, record):
    """The rows of ``meta``, ``chunk`` and ``done`` events are columns (engine/rows.py),
    written from one pattern wherever they stand among the event's members: the bytes are
    those of the same rows as dicts, and follow the declared models."""
    run = spec(noise={"kind": "none"}, record=record,
               series=[{"optimizer": "adam", "hparams": {"lr": 0.05}}])  # fmt: skip
    models = {"meta": RunMeta, "chunk": Chunk, "done": Done}
    kinds = []
    for event in run_events(plan_run(run, "cpu"), chunk_seconds=0.0):
        rows = event.data["rows"]
        if record == "full" or event.kind != "chunk":  # a final record's chunks hold no rows
            assert rows.columns() is not None
        written = dumps(event.data, encoding)
        as_dicts = {**event.data, "rows": list(rows)}
        assert written == dumps(as_dicts, encoding)
        models[event.kind].model_validate(decoded(json.loads(written)))
        kinds.append(event.kind)
    assert kinds[0] == "meta"
    assert kinds[-1] == "done"
    assert "chunk" in kinds


@pytest.mark.parametrize("encoding", ["plain", "typed"])
def test_number_lists_are_written_as_the_lists_they_stand_for(encoding):
    """A start or final point kept as one (rows, 2) array (engine/rows.py's NumberLists) is
    written as its rows' lists are: a float32's exact doubles, integers as integers, and a
    non-finite number named by its row."""
    from engine.record import dump_result_pieces
    from engine.rows import NumberLists, Records

    def written(array: np.ndarray) -> list:
        columns = {"row": [0, 1, 2], "point": NumberLists(array)}
        text = b"".join(
            dump_result_pieces({"series": Records(3, columns=lambda: columns)}, encoding)
        )
        as_lists = Records(3, columns=lambda: columns).tolist()
        assert as_lists[1]["point"] == array[1].tolist()
        assert text == dumps({"series": as_lists}, encoding)
        return [row["point"] for row in json.loads(text)["series"]]

    points = np.array([[0.1, -2.0], [1e-5, 3.0], [0.5, 1e300]])
    assert written(points) == points.tolist()
    floats32 = points[:, :1].astype(np.float32)
    assert written(floats32) == floats32.tolist()  # 0.10000000149011612, not 0.1
    assert written(np.arange(6).reshape(3, 2)) == [[0, 1], [2, 3], [4, 5]]
    bad = points.copy()
    bad[1, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"\$\.series\.1\.point"):
        written(bad)
