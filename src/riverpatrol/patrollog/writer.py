"""Appending to a patrol log: columns in, one SQLite transaction per call.

The simulator writes ~100k rows per patrol and must run at >= 1000x real time, so every method takes
numpy columns and hands them to one ``executemany``; no record objects are built on this path. Each
call is atomic: after a crash or power loss the log holds whole batches only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from itertools import repeat
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from riverpatrol.patrollog import schema
from riverpatrol.patrollog.schema import PatrolLogError
from riverpatrol.scenario import PARAMETERS


class PatrolLogWriter:
    """Creates a new patrol log at ``path`` and appends sensed records and mission events to it.

    ``meta`` values must be JSON-serialisable. ``max_bytes`` caps the database file (SQLite
    ``max_page_count``; the write-ahead log comes on top until it is checkpointed) so a small SD
    card fills up with a clean ``PatrolLogError`` instead of a broken file. Invalid arguments raise
    ``ValueError``/``TypeError`` before anything is written; SQLite failures raise
    ``PatrolLogError``, with the failing batch rolled back and earlier batches intact.
    """

    def __init__(self, path: str | os.PathLike[str], meta: Mapping[str, Any], *,
                 max_bytes: int | None = None) -> None:
        self.path = Path(path)
        if schema.FORMAT_KEY in meta:
            raise ValueError(f"meta key {schema.FORMAT_KEY!r} is reserved for the log format")
        header = [(schema.FORMAT_KEY, _json(schema.FORMAT)), *((k, _json(v)) for k, v in meta.items())]
        sidecars = [self.path.with_name(self.path.name + suffix) for suffix in ("-wal", "-shm")]
        if sidecars[0].exists():  # SQLite would replay a stale WAL into the new, empty file
            raise FileExistsError(f"{sidecars[0]} exists (left over from an earlier log); remove it first")
        try:
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise FileExistsError(f"patrol log {self.path} already exists; "
                                  "a new patrol never overwrites or extends a log") from None
        self._closed = False
        self._in_batch = False
        self._db = sqlite3.connect(self.path, isolation_level=None)  # transactions are explicit
        try:
            with self._guard("setting up"):
                for pragma in schema.PRAGMAS:
                    self._db.execute(pragma)
                if max_bytes is not None:
                    page = self._db.execute("PRAGMA page_size").fetchone()[0]
                    self._db.execute(f"PRAGMA max_page_count={max(1, max_bytes // page)}")
            with self._transaction("the header"):
                for ddl in schema.DDL:
                    self._db.execute(ddl)
                self._db.executemany(_META_SQL, header)
            # The header goes into the main file at once: a log cut off later still opens.
            self._checkpoint("the header")
        except BaseException:
            self._db.close()
            for created in (self.path, *sidecars):
                created.unlink(missing_ok=True)
            raise

    @classmethod
    def attach(cls, path: str | os.PathLike[str]) -> PatrolLogWriter:
        """A second writer on a log another process created and is still writing.

        On a boat the payload logger and the autopilot link are separate processes adding to one
        patrol; SQLite's locking keeps each batch whole. Only ``close`` of the creator seals it.
        """
        self = cls.__new__(cls)
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"patrol log {self.path} does not exist")
        self._closed = False
        self._in_batch = False
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        with self._guard("attaching"):
            for pragma in schema.PRAGMAS:
                self._db.execute(pragma)
        return self

    def positions(self, t: ArrayLike, lon: ArrayLike, lat: ArrayLike, sog: ArrayLike,
                  cog: ArrayLike, heading: ArrayLike) -> None:
        """Append GNSS fixes; a NaN (e.g. no fix) is stored as NULL and read back as NaN."""
        times = _times(t)
        cols = [_floats(name, x, len(times))
                for name, x in (("lon", lon), ("lat", lat), ("sog", sog), ("cog", cog), ("heading", heading))]
        self._insert("positions", schema.insert_sql(schema.POSITION), zip(times, *cols))

    def sonde(self, t: ArrayLike, values: Mapping[str, ArrayLike]) -> None:
        """Append sonde samples; parameters absent from ``values`` (or NaN) are stored as NULL."""
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown sonde parameter(s) {unknown}; known: {', '.join(PARAMETERS)}")
        names = tuple(p for p in PARAMETERS if p in values)
        times = _times(t)
        cols = [_floats(p, values[p], len(times)) for p in names]
        self._insert("sonde samples", schema.insert_sql(schema.SONDE, ("t", *names)), zip(times, *cols))

    def scans(self, t: ArrayLike, heading: ArrayLike, distances_cm: ArrayLike, increment_deg: float,
              min_cm: int, max_cm: int) -> None:
        """Append obstacle-ranging rings: ``distances_cm`` is N x S (sectors clockwise from the bow)."""
        times = _times(t)
        n = len(times)
        rows = zip(times, _floats("heading", heading, n), repeat(float(increment_deg)),
                   repeat(int(min_cm)), repeat(int(max_cm)),
                   _packed("distances_cm", distances_cm, n, schema.ARRAY_DTYPES[schema.RANGING, "distances"]))
        self._insert("ranging scans", schema.insert_sql(schema.RANGING), rows)

    def pings(self, t: ArrayLike, range_m: float, port: ArrayLike, starboard: ArrayLike) -> None:
        """Append side-scan pings: ``port`` and ``starboard`` are N x B intensity bins."""
        times = _times(t)
        n = len(times)
        rows = zip(times, repeat(float(range_m)),
                   _packed("port", port, n, schema.ARRAY_DTYPES[schema.SONAR, "port"]),
                   _packed("starboard", starboard, n, schema.ARRAY_DTYPES[schema.SONAR, "starboard"]))
        self._insert("sonar pings", schema.insert_sql(schema.SONAR), rows)

    def frames(self, t: Sequence[float], width: int, height: int, jpegs: Sequence[bytes]) -> None:
        """Append camera keyframes, already JPEG encoded."""
        times = _times(t)
        if len(jpegs) != len(times):
            raise ValueError(f"jpegs: expected {len(times)} images, got {len(jpegs)}")
        rows = zip(times, repeat(int(width)), repeat(int(height)), jpegs)
        self._insert("frames", schema.insert_sql(schema.FRAME), rows)

    def event(self, t: float, kind: str, /, **detail: Any) -> None:
        """Append one mission event; ``detail`` must be strict JSON (no NaN), numpy values allowed."""
        self.events([(t, kind, detail)])

    def events(self, rows: Iterable[tuple[float, str, Mapping[str, Any]]]) -> None:
        """Append several ``(t, kind, detail)`` mission events in one transaction."""
        encoded = [(t, kind, _json(dict(detail))) for t, kind, detail in rows]
        if not all(isinstance(kind, str) and kind for _, kind, _ in encoded):
            raise ValueError("event kind must be a non-empty string")
        times = _times([t for t, _, _ in encoded])
        rows_out = zip(times, (kind for _, kind, _ in encoded), (d for _, _, d in encoded))
        self._insert("events", schema.insert_sql(schema.EVENT), rows_out)

    def set_meta(self, key: str, value: Any) -> None:
        """Add or replace one metadata entry (e.g. the patrol's end state, known only at the end)."""
        if key == schema.FORMAT_KEY:
            raise ValueError(f"meta key {schema.FORMAT_KEY!r} is reserved for the log format")
        self._insert(f"meta {key!r}", _META_SQL, [(key, _json(value))])

    def close(self) -> None:
        """Finalise: index ``t`` in every table, fold the WAL into the file, close. Idempotent.

        If finalising fails (disk full) the connection is closed anyway and the log stays readable;
        the ``PatrolLogError`` says what could not be done.
        """
        if self._closed:
            return
        try:
            with self._transaction("the time indexes (the log stays readable without them)"):
                for ddl in schema.INDEXES:
                    self._db.execute(ddl)
            self._checkpoint("the log")
        finally:
            self._closed = True
            self._db.close()

    def __enter__(self) -> PatrolLogWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _insert(self, what: str, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._transaction(what):
            self._db.executemany(sql, rows)

    def _checkpoint(self, what: str) -> None:
        with self._guard(f"checkpointing {what}"):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        with schema.reported(self.path, what):
            yield

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make every write inside one transaction: a block of patrol time is kept or lost whole,
        and one commit instead of one per kind keeps the writer fast."""
        with self._transaction("a batch"):
            self._in_batch = True
            try:
                yield
            finally:
                self._in_batch = False

    @contextmanager
    def _transaction(self, what: str) -> Iterator[None]:
        """One atomic batch: committed whole or rolled back whole."""
        if self._closed:
            raise PatrolLogError(f"patrol log {self.path} is closed; cannot write {what}")
        if self._in_batch:  # the enclosing batch commits or rolls back
            with self._guard(f"writing {what}"):
                yield
            return
        with self._guard(f"writing {what}"):
            self._db.execute("BEGIN")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                    with suppress(sqlite3.Error):  # the original failure is the one to report
                        self._db.execute("ROLLBACK")
                raise


_META_SQL = f"INSERT OR REPLACE INTO {schema.META} (key, value) VALUES (?, ?)"


def _json(value: Any) -> str:
    """Strict JSON so any tool can read the log; numpy scalars and arrays become plain values."""
    return json.dumps(value, allow_nan=False, default=_plain, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _times(t: ArrayLike) -> list[float]:
    times = np.asarray(t, dtype=np.float64)
    if times.ndim != 1:
        raise ValueError(f"t: expected a 1-D array of times, got shape {times.shape}")
    if not np.isfinite(times).all():
        raise ValueError("t: times must be finite")
    return times.tolist()


def _floats(name: str, x: ArrayLike, n: int) -> list[float]:
    col = np.asarray(x, dtype=np.float64)
    if col.shape != (n,):
        raise ValueError(f"{name}: expected {n} values (one per t), got shape {col.shape}")
    return col.tolist()


def _packed(name: str, x: ArrayLike, n: int, dtype: str) -> list[bytes]:
    """Rows of an N x S integer array as ``dtype`` bytes, one blob per row."""
    if n == 0:
        return []
    arr = np.asarray(x)
    want = np.dtype(dtype)
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected an {n} x S array (S >= 1), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer values ({want.name}), got {arr.dtype}")
    if arr.dtype != want and (arr.min() < 0 or arr.max() > np.iinfo(want).max):
        raise ValueError(f"{name}: values must fit {want.name} (0..{np.iinfo(want).max})")
    buf = np.ascontiguousarray(arr, dtype=want).tobytes()
    width = arr.shape[1] * want.itemsize
    return [buf[i:i + width] for i in range(0, len(buf), width)]
