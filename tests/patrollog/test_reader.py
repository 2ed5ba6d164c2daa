"""PatrolLog: round trip of every record kind, time windows, columns, streaming, bad files."""

from __future__ import annotations

import math
import sqlite3
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from riverpatrol.patrollog import PatrolLog, PatrolLogError, PatrolLogWriter
from riverpatrol.records import (
    Frame,
    MissionEvent,
    Position,
    RangeScan,
    SonarPing,
    SondeSample,
)
from riverpatrol.scenario import PARAMETERS

KINDS = ("position", "sonde", "ranging", "sonar", "frame", "event")

times = st.one_of(st.integers(0, 4).map(float), st.floats(-1e6, 1e6))  # small ints force ties
anything = st.floats(allow_nan=True, allow_infinity=True)


def float_column(n: int, elements: st.SearchStrategy[float] = anything) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, n, elements=elements)


@st.composite
def batch(draw: st.DrawFn, kind: str, width: int) -> tuple[dict[str, Any], list[Any]]:
    """One writer call's arguments and the records it should read back as, in write order.

    Array rows are ``width`` long in every batch, so ``columns()`` can stack them.
    """
    n = draw(st.integers(0, 6))
    t = draw(float_column(n, times))
    if kind == "position":
        cols = [draw(float_column(n)) for _ in range(5)]
        nan = [[math.nan if math.isnan(v) else v for v in c] for c in cols]
        return dict(t=t, lon=cols[0], lat=cols[1], sog=cols[2], cog=cols[3], heading=cols[4]), [
            Position(float(t[i]), *(c[i] for c in nan)) for i in range(n)]
    if kind == "sonde":
        names = draw(st.lists(st.sampled_from(PARAMETERS), unique=True))
        values = {p: draw(float_column(n, st.floats(allow_nan=True, allow_infinity=False))) for p in names}
        return dict(t=t, values=values), [
            SondeSample(float(t[i]), {p: float(values[p][i]) for p in PARAMETERS
                                      if p in values and not math.isnan(values[p][i])})
            for i in range(n)]
    if kind == "ranging":
        d = draw(arrays(np.uint16, (n, width)))
        heading = draw(float_column(n, st.floats(0, 360)))
        inc, lo, hi = draw(st.floats(0.5, 45)), draw(st.integers(0, 100)), draw(st.integers(100, 65534))
        return dict(t=t, heading=heading, distances_cm=d, increment_deg=inc, min_cm=lo, max_cm=hi), [
            RangeScan(float(t[i]), float(heading[i]), inc, lo, hi, d[i]) for i in range(n)]
    if kind == "sonar":
        port, stbd = draw(arrays(np.uint8, (n, width))), draw(arrays(np.uint8, (n, width)))
        range_m = draw(st.floats(1, 200))
        return dict(t=t, range_m=range_m, port=port, starboard=stbd), [
            SonarPing(float(t[i]), range_m, port[i], stbd[i]) for i in range(n)]
    if kind == "frame":
        jpegs = draw(st.lists(st.binary(max_size=40), min_size=n, max_size=n))
        w, h = draw(st.integers(1, 4000)), draw(st.integers(1, 3000))
        return dict(t=t.tolist(), width=w, height=h, jpegs=jpegs), [
            Frame(float(t[i]), w, h, jpegs[i]) for i in range(n)]
    json_value = st.one_of(st.none(), st.booleans(), st.integers(), st.text(),
                           st.floats(allow_nan=False, allow_infinity=False))
    rows = [(float(t[i]), draw(st.text(min_size=1)), draw(st.dictionaries(st.text(), json_value)))
            for i in range(n)]
    return dict(rows=rows), [MissionEvent(*row) for row in rows]


def write(writer: PatrolLogWriter, kind: str, args: dict[str, Any]) -> None:
    method = {"position": writer.positions, "sonde": writer.sonde, "ranging": writer.scans,
              "sonar": writer.pings, "frame": writer.frames, "event": writer.events}[kind]
    method(**args)


def same(a: Any, b: Any) -> bool:
    """Field-wise record equality: arrays by value and dtype, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    for name in a.__slots__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            if not (isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)):
                return False
        elif isinstance(x, float) and math.isnan(x):
            if not (isinstance(y, float) and math.isnan(y)):
                return False
        elif x != y:
            return False
    return True


def by_time(records: list[Any]) -> list[Any]:
    return sorted(records, key=lambda r: r.t)  # stable: ties keep write order


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_round_trip_every_kind(data: st.DataObject) -> None:
    calls = data.draw(st.lists(st.sampled_from(KINDS), max_size=10))
    width = data.draw(st.integers(1, 9))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.db"
        expected: dict[str, list[Any]] = {kind: [] for kind in KINDS}
        with PatrolLogWriter(path, {"seed": 1}) as writer:
            for kind in calls:
                args, records = data.draw(batch(kind, width))
                write(writer, kind, args)
                expected[kind] += records
        with PatrolLog(path) as log:
            assert log.kinds() == [kind for kind in KINDS if expected[kind]]
            for kind in KINDS:
                want = by_time(expected[kind])
                got = list(log.records(kind))
                assert log.count(kind) == len(want)
                assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want)), (got, want)
                np.testing.assert_array_equal(log.columns(kind)["t"], [r.t for r in want])


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """A small log with ties and out-of-order times in every kind."""
    path = tmp_path / "p.db"
    t = np.array([3.0, 1.0, 2.0, 1.0, 0.0])
    with PatrolLogWriter(path, {"river": "test"}) as w:
        w.positions(t, np.arange(5.0), np.arange(5.0) + 10, t, t, [90, np.nan, 90, 90, 90])
        w.sonde(t, {"ph": np.arange(5.0), "turbidity": [1, np.nan, 3, 4, 5]})
        w.scans(t, t, np.arange(15, dtype=np.uint16).reshape(5, 3) + 65520, 120.0, 20, 5000)
        w.pings(t, 50.0, np.arange(10, dtype=np.uint8).reshape(5, 2), np.full((5, 2), 255, np.uint8))
        w.frames(t, 640, 480, [bytes([i]) * 3 for i in range(5)])
        w.events((float(ti), f"e{i}", {"i": i}) for i, ti in enumerate(t))
    return path


def test_time_window_is_half_open_and_keeps_write_order_on_ties(log_path: Path) -> None:
    with PatrolLog(log_path) as log:
        assert [(p.t, p.lon) for p in log.records("position", 1.0, 3.0)] == [(1.0, 1.0), (1.0, 3.0), (2.0, 2.0)]
        assert [e.kind for e in log.records("event", t0=2.0)] == ["e2", "e0"]
        assert [f.jpeg for f in log.records("frame", t1=1.0)] == [b"\x04" * 3]
        assert list(log.records("sonar", 5.0)) == []
        np.testing.assert_array_equal(log.columns("ranging", 1.0, 2.5)["heading"], [1.0, 1.0, 2.0])


def test_columns_have_analysis_dtypes(log_path: Path) -> None:
    with PatrolLog(log_path) as log:
        pos = log.columns("position")
        assert list(pos) == ["t", "lon", "lat", "sog", "cog", "heading"]
        np.testing.assert_array_equal(pos["lon"], [4.0, 1.0, 3.0, 2.0, 0.0])
        np.testing.assert_array_equal(pos["heading"], [90, np.nan, 90, 90, 90])
        sonde = log.columns("sonde")
        assert list(sonde) == ["t", *PARAMETERS]
        np.testing.assert_array_equal(sonde["turbidity"], [5, np.nan, 4, 3, 1])
        assert np.isnan(sonde["cod"]).all()
        scans = log.columns("ranging")
        assert scans["distances"].dtype == np.uint16 and scans["distances"].shape == (5, 3)
        np.testing.assert_array_equal(scans["distances"][0], [65532, 65533, 65534])  # row 4: t = 0
        assert scans["min_cm"].dtype == np.int64 and scans["max_cm"].tolist() == [5000] * 5
        pings = log.columns("sonar")
        assert pings["port"].dtype == np.uint8 and pings["port"].tolist()[0] == [8, 9]
        pings["port"][0, 0] = 1  # analysis may work in place
        assert log.columns("frame")["jpeg"] == [b"\x04" * 3, b"\x01" * 3, b"\x03" * 3, b"\x02" * 3, b"\x00" * 3]
        events = log.columns("event")
        assert events["kind"].tolist() == ["e4", "e1", "e3", "e2", "e0"]
        assert events["detail"] == [{"i": 4}, {"i": 1}, {"i": 3}, {"i": 2}, {"i": 0}]


def test_columns_of_an_empty_kind(tmp_path: Path) -> None:
    with PatrolLogWriter(tmp_path / "p.db", {}):
        pass
    with PatrolLog(tmp_path / "p.db") as log:
        pings = log.columns("sonar")
        assert pings["t"].shape == (0,) and pings["port"].shape == (0, 0) and pings["port"].dtype == np.uint8
        assert log.columns("frame")["jpeg"] == [] and log.count("frame") == 0


def test_columns_refuse_ragged_arrays(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with PatrolLogWriter(path, {}) as w:
        w.pings([0.0], 30.0, np.zeros((1, 4), np.uint8), np.zeros((1, 4), np.uint8))
        w.pings([1.0], 60.0, np.zeros((1, 8), np.uint8), np.zeros((1, 8), np.uint8))
    with PatrolLog(path) as log:
        with pytest.raises(ValueError, match="records"):
            log.columns("sonar")
        assert [p.port.size for p in log.records("sonar")] == [4, 8]


def test_reads_a_log_while_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    with PatrolLogWriter(path, {}) as w:
        w.positions([5.0, 4.0], [1, 2], [0, 0], [0, 0], [0, 0], [0, 0])
        with PatrolLog(path) as log:
            assert [p.lon for p in log.records("position")] == [2.0, 1.0]
            w.event(6.0, "stop")
            assert log.kinds() == ["position", "event"]


def test_records_stream_instead_of_loading_the_table(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    n, bins = 10_000, 1000  # 20 MB of sonar
    with PatrolLogWriter(path, {}) as w:
        for k in range(10):
            pings = np.full((n // 10, bins), k, np.uint8)
            w.pings(np.arange(n // 10) + k * n / 10, 30.0, pings, pings)
    with PatrolLog(path) as log:
        tracemalloc.start()
        try:
            seen = sum(int(p.port[0]) for p in log.records("sonar"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == sum(range(10)) * n // 10
    assert peak < 2_000_000, f"peak {peak} bytes: records() should not hold the table in memory"


def test_meta(log_path: Path) -> None:
    with PatrolLog(log_path) as log:
        assert log.meta == {"format": "riverpatrol.patrollog/1", "river": "test"}


def test_unknown_kind(log_path: Path) -> None:
    with PatrolLog(log_path) as log:
        for call in (log.count, log.records, log.columns):
            with pytest.raises(ValueError, match="unknown record kind 'gps'"):
                call("gps")


def text_file(path: Path) -> Path:
    path.write_text("hello " * 200)
    return path


def sqlite_file(path: Path, *statements: str) -> Path:
    db = sqlite3.connect(path)
    try:
        for sql in statements:
            db.execute(sql)
        db.commit()
    finally:
        db.close()
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.db", "no patrol log at .*missing.db: no such file"),
    (lambda d: d, "not a file"),
    (lambda d: text_file(d / "notes.txt"), "notes.txt is not a patrol log \\(file is not a database\\)"),
    (lambda d: sqlite_file(d / "other.db", "CREATE TABLE x (a)"), "other.db is not a patrol log .*meta"),
    (lambda d: sqlite_file(d / "future.db", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                           """INSERT INTO meta VALUES ('format', '"riverpatrol.patrollog/2"')"""),
     "future.db is not a patrol log: format is 'riverpatrol.patrollog/2'"),
    (lambda d: sqlite_file(d / "badjson.db", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
                           "INSERT INTO meta VALUES ('format', 'riverpatrol')"), "badjson.db is not a patrol log"),
])
def test_not_a_patrol_log(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(PatrolLogError, match=message):
        PatrolLog(make(tmp_path))


def test_patrol_log_error_is_an_os_error() -> None:
    assert issubclass(PatrolLogError, OSError)
