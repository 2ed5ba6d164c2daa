"""The patrol log's on-disk format: one SQLite file, one table per record kind.

Writer, reader and the benchmark share these constants so the format is stated once. Every table
has ``t`` (seconds since patrol start); blob columns hold little-endian packed numpy rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from riverpatrol.scenario import PARAMETERS

FORMAT = "riverpatrol.patrollog/1"
FORMAT_KEY = "format"

META = "meta"
POSITION = "position"
SONDE = "sonde"
RANGING = "ranging"
SONAR = "sonar"
FRAME = "frame"
EVENT = "event"

# kind -> ((column, SQL type), ...); the kind names are the table names.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    POSITION: (("t", "REAL NOT NULL"), ("lon", "REAL"), ("lat", "REAL"), ("sog", "REAL"),
               ("cog", "REAL"), ("heading", "REAL")),
    SONDE: (("t", "REAL NOT NULL"), *((name, "REAL") for name in PARAMETERS)),
    RANGING: (("t", "REAL NOT NULL"), ("heading", "REAL"), ("increment", "REAL"),
              ("min_cm", "INTEGER"), ("max_cm", "INTEGER"), ("distances", "BLOB")),
    SONAR: (("t", "REAL NOT NULL"), ("range_m", "REAL"), ("port", "BLOB"), ("starboard", "BLOB")),
    FRAME: (("t", "REAL NOT NULL"), ("width", "INTEGER"), ("height", "INTEGER"), ("jpeg", "BLOB")),
    EVENT: (("t", "REAL NOT NULL"), ("kind", "TEXT NOT NULL"), ("detail", "TEXT")),
}
KINDS: tuple[str, ...] = tuple(TABLES)
COLUMNS: dict[str, tuple[str, ...]] = {kind: tuple(c for c, _ in cols) for kind, cols in TABLES.items()}

# Packed array columns: (kind, column) -> numpy dtype of one element, byte order explicit.
ARRAY_DTYPES: dict[tuple[str, str], str] = {
    (RANGING, "distances"): "<u2",
    (SONAR, "port"): "u1",
    (SONAR, "starboard"): "u1",
}

PRAGMAS: tuple[str, ...] = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")

DDL: tuple[str, ...] = (
    f"CREATE TABLE {META} (key TEXT PRIMARY KEY, value TEXT)",
    *(f"CREATE TABLE {kind} ({', '.join(f'{c} {typ}' for c, typ in cols)})"
      for kind, cols in TABLES.items()),
)
# Built by the writer's close(), not up front: appends stay cheap and a killed log still reads.
INDEXES: tuple[str, ...] = tuple(f"CREATE INDEX IF NOT EXISTS {kind}_t ON {kind} (t)" for kind in KINDS)


@cache  # built once per column set: the writer asks on every batch
def insert_sql(kind: str, columns: tuple[str, ...] | None = None) -> str:
    """The parameterised INSERT for ``kind`` (all its columns unless ``columns`` is given)."""
    cols = COLUMNS[kind] if columns is None else columns
    return f"INSERT INTO {kind} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


class PatrolLogError(OSError):
    """A patrol log could not be written or read; the message names the file and what failed.

    An OSError because every cause is about the file on storage (disk full, missing, not a log),
    so the station's existing ``except OSError`` handling for I/O covers it.
    """


@contextmanager
def reported(path: Path, what: str) -> Iterator[None]:
    """Report an SQLite failure (full disk, damaged file) as PatrolLogError naming the file and step."""
    try:
        yield
    except sqlite3.Error as exc:
        raise PatrolLogError(f"patrol log {path}: {what} failed: {exc}") from exc
