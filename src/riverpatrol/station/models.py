"""The station's tables as SQLAlchemy 2 models: patrols and what they sensed, found and decided.

Positions are WGS84 lon/lat columns everywhere; on PostgreSQL the migrations add PostGIS point
columns generated from them (with spatial indexes), so the ORM never handles geometry and the same
models serve SQLite. Times ``t`` are seconds since the patrol started, as in the patrol log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

_Json = JSON().with_variant(JSONB(), "postgresql")
_RowId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Patrol(Base):
    """One patrol: live from the twin or a boat, or imported from a finished log."""

    __tablename__ = "patrol"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # twin | import | mavlink
    status: Mapped[str] = mapped_column(String(20))  # running | paused | returning | finished | aborted | detached | failed | interrupted
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_utc: Mapped[str | None] = mapped_column(String(40))
    log_path: Mapped[str | None] = mapped_column(String(1000))
    products_dir: Mapped[str | None] = mapped_column(String(1000))  # the analysis products' directory
    meta: Mapped[dict[str, Any]] = mapped_column(_Json, default=dict)
    route: Mapped[list[list[float]] | None] = mapped_column(_Json)  # planned route, [[lon, lat], ...]
    summary: Mapped[dict[str, Any] | None] = mapped_column(_Json)  # analysis summary.json
    error: Mapped[str | None] = mapped_column(String(2000))


class Position(Base):
    """A GNSS fix. On PostgreSQL the table is partitioned by hash of the patrol (migration 0003),
    its primary key (patrol_id, id); ``id`` alone is unique all the same (one sequence)."""

    __tablename__ = "position"
    id: Mapped[int] = mapped_column(_RowId, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    sog: Mapped[float | None] = mapped_column(Float)
    cog: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (Index("position_patrol_t", "patrol_id", "t"),)


class Sample(Base):
    """A sonde sample placed on the track, with its GB 3838 class (0 not classifiable .. 6)."""

    __tablename__ = "sample"
    id: Mapped[int] = mapped_column(_RowId, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    chainage_m: Mapped[float | None] = mapped_column(Float)  # along the river map the boat carried
    water_class: Mapped[int] = mapped_column(SmallInteger)
    values: Mapped[dict[str, float]] = mapped_column(_Json)
    classes: Mapped[dict[str, int]] = mapped_column(_Json)  # GB 3838 class of each item with limits
    __table_args__ = (Index("sample_patrol_t", "patrol_id", "t"),)


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(_RowId, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(_Json, default=dict)
    __table_args__ = (Index("event_patrol_t", "patrol_id", "t"),)


class Frame(Base):
    """Camera keyframes kept for review (thinned; the live video does not go through the store)."""

    __tablename__ = "frame"
    id: Mapped[int] = mapped_column(_RowId, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (Index("frame_patrol_t", "patrol_id", "t"),)


class Anomaly(Base):
    """A live anomaly signal: where the water began to look polluted, how strongly, and which
    parameters say so (``z``: sigmas beyond the recent background)."""

    __tablename__ = "anomaly"
    id: Mapped[int] = mapped_column(_RowId, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    t: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    chainage_m: Mapped[float] = mapped_column(Float)
    bank: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    z: Mapped[dict[str, float]] = mapped_column(_Json)
    __table_args__ = (Index("anomaly_patrol_t", "patrol_id", "t"),)


class Segment(Base):
    """A river segment's GB 3838 class from the analysis, with its water polygon for the map."""

    __tablename__ = "segment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    start_m: Mapped[float] = mapped_column(Float)
    end_m: Mapped[float] = mapped_column(Float)
    water_class: Mapped[int] = mapped_column(SmallInteger)
    limiting: Mapped[str] = mapped_column(String(200))
    mean: Mapped[dict[str, float]] = mapped_column(_Json)
    samples: Mapped[int] = mapped_column(Integer)
    ring: Mapped[list[list[float]]] = mapped_column(_Json)


class Finding(Base):
    """A suspected outfall from the analysis; ``status`` is the operator's verdict."""

    __tablename__ = "finding"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    chainage_m: Mapped[float] = mapped_column(Float)
    bank: Mapped[str] = mapped_column(String(10))
    confidence: Mapped[float] = mapped_column(Float)
    uncertainty_m: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(_Json)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | confirmed | dismissed


class FindingReview(Base):
    """The audit trail: every confirm or dismiss, by whom and when, never updated or deleted."""

    __tablename__ = "finding_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(20))
    operator: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(2000), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
