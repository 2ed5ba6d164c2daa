"""The patrol log: one append-only SQLite file per patrol holding every sensed record and event.

Write with ``PatrolLogWriter`` (columns in, one transaction per batch); read with ``PatrolLog``
(typed records or columns). The on-disk format is described in ``schema``.
"""

from __future__ import annotations

from riverpatrol.patrollog.reader import PatrolLog
from riverpatrol.patrollog.schema import PatrolLogError
from riverpatrol.patrollog.writer import PatrolLogWriter

__all__ = ["PatrolLog", "PatrolLogError", "PatrolLogWriter"]
