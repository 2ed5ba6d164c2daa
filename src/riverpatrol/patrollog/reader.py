"""Reading a patrol log: typed records one at a time, or whole columns for analysis.

The log is opened read-only, so reading never alters the evidence, and a log whose writer was
killed (no indexes, WAL not checkpointed) opens too: SQLite replays the WAL up to its last complete
transaction, which is the last complete batch.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from operator import itemgetter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from riverpatrol.patrollog import schema
from riverpatrol.patrollog.schema import PatrolLogError
from riverpatrol.records import (
    Frame,
    MissionEvent,
    Position,
    RangeScan,
    Record,
    SonarPing,
    SondeSample,
)
from riverpatrol.scenario import PARAMETERS

Row = Sequence[Any]
Columns = dict[str, NDArray[Any] | list[Any]]


class PatrolLog:
    """A patrol log opened for reading; ``meta`` holds its metadata (JSON values decoded)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            why = "not a file" if self.path.exists() else "no such file"
            raise PatrolLogError(f"no patrol log at {self.path}: {why}")
        try:
            self._db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise PatrolLogError(f"cannot open patrol log {self.path}: {exc}") from exc
        try:
            self.meta = self._read_meta()
        except BaseException:
            self._db.close()
            raise

    def kinds(self) -> list[str]:
        """The record kinds this log holds at least one record of, in schema order."""
        with self._guard("listing kinds"):
            return [kind for kind in schema.KINDS
                    if self._db.execute(f"SELECT EXISTS (SELECT 1 FROM {kind})").fetchone()[0]]

    def count(self, kind: str) -> int:
        """How many records of ``kind`` the log holds."""
        with self._guard(f"counting {kind}"):
            return int(self._db.execute(f"SELECT count(*) FROM {_known(kind)}").fetchone()[0])

    def records(self, kind: str, t0: float | None = None, t1: float | None = None) -> Iterator[Record]:
        """Records of ``kind`` with ``t0 <= t < t1``, in time order (ties in write order), streamed.

        Arrays in the records are read-only views of the stored bytes.
        """
        make = _MAKERS[_known(kind)]
        with self._guard(f"reading {kind}"):
            cursor = self._select(kind, t0, t1)
        return self._stream(kind, map(make, cursor))

    def columns(self, kind: str, t0: float | None = None, t1: float | None = None) -> Columns:
        """All of ``kind`` with ``t0 <= t < t1`` as columns, in time order, keyed by column name.

        REAL columns come back as float64 (NULL as NaN), INTEGER as int64, packed arrays as N x S
        arrays of their dtype, ``jpeg`` as a list of bytes, event ``kind`` as a str array and
        event ``detail`` as a list of dicts.
        """
        with self._guard(f"reading {kind}"):
            rows = self._select(_known(kind), t0, t1).fetchall()
        reals = [i for i, (name, sqltype) in enumerate(schema.TABLES[kind])
                 if sqltype.startswith("REAL") and (kind, name) not in _STORED]
        # all REAL columns in one conversion (None -> NaN): numpy reads the row tuples in C
        table = np.array(list(map(itemgetter(*reals), rows)) if len(reals) > 1 else
                         [(row[reals[0]],) for row in rows], dtype=np.float64).reshape(len(rows), len(reals))
        out: Columns = {}
        for i, (name, sqltype) in enumerate(schema.TABLES[kind]):
            out[name] = (table[:, reals.index(i)].copy() if i in reals
                         else _column(kind, name, sqltype, list(map(itemgetter(i), rows))))
        return out

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PatrolLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _read_meta(self) -> dict[str, Any]:
        try:
            rows = self._db.execute(f"SELECT key, value FROM {schema.META}").fetchall()
            meta = {key: json.loads(value) for key, value in rows}
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise PatrolLogError(f"{self.path} is not a patrol log ({exc})") from exc
        found = meta.get(schema.FORMAT_KEY)
        if found != schema.FORMAT:
            raise PatrolLogError(f"{self.path} is not a patrol log: format is {found!r}, "
                                 f"this reader reads {schema.FORMAT!r}")
        return meta

    def _select(self, kind: str, t0: float | None, t1: float | None) -> sqlite3.Cursor:
        bounds = [(f"t {op} ?", float(t)) for op, t in ((">=", t0), ("<", t1)) if t is not None]
        where = f" WHERE {' AND '.join(cond for cond, _ in bounds)}" if bounds else ""
        sql = f"SELECT {', '.join(schema.COLUMNS[kind])} FROM {kind}{where} ORDER BY t, rowid"
        return self._db.execute(sql, [t for _, t in bounds])

    def _stream(self, kind: str, records: Iterator[Record]) -> Iterator[Record]:
        with self._guard(f"reading {kind}"):
            yield from records

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        with schema.reported(self.path, what):
            yield


def _known(kind: str) -> str:
    if kind not in schema.TABLES:
        raise ValueError(f"unknown record kind {kind!r}; known: {', '.join(schema.KINDS)}")
    return kind


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _array(kind: str, column: str, blob: bytes) -> NDArray[Any]:
    return np.frombuffer(blob, dtype=_STORED[kind, column]).astype(_NATIVE[kind, column], copy=False)


_STORED = {key: np.dtype(dtype) for key, dtype in schema.ARRAY_DTYPES.items()}
_NATIVE = {key: dtype.newbyteorder("=") for key, dtype in _STORED.items()}

_MAKERS: dict[str, Callable[[Row], Record]] = {
    schema.POSITION: lambda r: Position(r[0], *map(_nan, r[1:])),
    schema.SONDE: lambda r: SondeSample(r[0], {p: v for p, v in zip(PARAMETERS, r[1:]) if v is not None}),
    schema.RANGING: lambda r: RangeScan(r[0], _nan(r[1]), r[2], r[3], r[4],
                                        _array(schema.RANGING, "distances", r[5])),
    schema.SONAR: lambda r: SonarPing(r[0], r[1], _array(schema.SONAR, "port", r[2]),
                                      _array(schema.SONAR, "starboard", r[3])),
    schema.FRAME: lambda r: Frame(*r),
    schema.EVENT: lambda r: MissionEvent(r[0], r[1], json.loads(r[2])),
}


def _column(kind: str, name: str, sqltype: str, values: Sequence[Any]) -> NDArray[Any] | list[Any]:
    if (kind, name) in _STORED:
        return _stacked(kind, name, values)
    if (kind, name) == (schema.EVENT, "kind"):
        return np.array(values, dtype=str)
    if (kind, name) == (schema.EVENT, "detail"):
        return [json.loads(v) for v in values]
    if sqltype.startswith("REAL"):
        return np.array(values, dtype=np.float64)  # None -> NaN
    if sqltype.startswith("INTEGER"):
        return np.array(values, dtype=np.int64)
    return list(values)  # jpeg


def _stacked(kind: str, name: str, blobs: Sequence[bytes]) -> NDArray[Any]:
    """Equal-length packed rows as one writable N x S array."""
    widths = sorted(set(map(len, blobs)))
    if len(widths) > 1:
        raise ValueError(f"{kind}.{name}: rows differ in length ({widths} bytes); read them with records()")
    stored = _STORED[kind, name]
    flat = np.frombuffer(bytearray().join(blobs), dtype=stored).astype(_NATIVE[kind, name], copy=False)
    return flat.reshape(len(blobs), (widths[0] if widths else 0) // stored.itemsize)
