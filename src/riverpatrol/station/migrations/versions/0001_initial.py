"""The station's first schema: patrols, positions, samples, events, frames, segments, findings
and the findings' review trail. On PostgreSQL: PostGIS point columns generated from lon/lat with
GiST indexes, so spatial queries need no change to the code that writes rows.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_POINT_TABLES = ("position", "sample", "finding")


def _patrol_ref() -> sa.Column:
    return sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrol.id", ondelete="CASCADE"), nullable=False)


def _lonlat() -> tuple[sa.Column, sa.Column]:
    return sa.Column("lon", sa.Float), sa.Column("lat", sa.Float)


def upgrade() -> None:
    op.create_table(
        "patrol",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_utc", sa.String(40)),
        sa.Column("log_path", sa.String(1000)),
        sa.Column("products_dir", sa.String(1000)),
        sa.Column("meta", _JSON, nullable=False),
        sa.Column("route", _JSON),
        sa.Column("summary", _JSON),
        sa.Column("error", sa.String(2000)),
    )
    op.create_table(
        "position",
        sa.Column("id", _ROW_ID, primary_key=True), _patrol_ref(), sa.Column("t", sa.Float, nullable=False),
        *_lonlat(), sa.Column("sog", sa.Float), sa.Column("cog", sa.Float), sa.Column("heading", sa.Float),
    )
    op.create_table(
        "sample",
        sa.Column("id", _ROW_ID, primary_key=True), _patrol_ref(), sa.Column("t", sa.Float, nullable=False),
        *_lonlat(), sa.Column("chainage_m", sa.Float), sa.Column("water_class", sa.SmallInteger, nullable=False),
        sa.Column("values", _JSON, nullable=False), sa.Column("classes", _JSON, nullable=False),
    )
    op.create_table(
        "event",
        sa.Column("id", _ROW_ID, primary_key=True), _patrol_ref(), sa.Column("t", sa.Float, nullable=False),
        sa.Column("kind", sa.String(60), nullable=False), sa.Column("detail", _JSON, nullable=False),
    )
    op.create_table(
        "frame",
        sa.Column("id", _ROW_ID, primary_key=True), _patrol_ref(), sa.Column("t", sa.Float, nullable=False),
        sa.Column("width", sa.Integer, nullable=False), sa.Column("height", sa.Integer, nullable=False),
        sa.Column("jpeg", sa.LargeBinary, nullable=False),
    )
    for table in ("position", "sample", "event", "frame"):  # the time index: a patrol's rows by t
        op.create_index(f"{table}_patrol_t", table, ["patrol_id", "t"])
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer, primary_key=True), _patrol_ref(),
        sa.Column("start_m", sa.Float, nullable=False), sa.Column("end_m", sa.Float, nullable=False),
        sa.Column("water_class", sa.SmallInteger, nullable=False),
        sa.Column("limiting", sa.String(200), nullable=False), sa.Column("mean", _JSON, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False), sa.Column("ring", _JSON, nullable=False),
    )
    op.create_table(
        "finding",
        sa.Column("id", sa.Integer, primary_key=True), _patrol_ref(),
        sa.Column("rank", sa.Integer, nullable=False), sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("chainage_m", sa.Float, nullable=False), sa.Column("bank", sa.String(10), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False), sa.Column("uncertainty_m", sa.Float, nullable=False),
        *_lonlat(), sa.Column("evidence", _JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_table(
        "finding_review",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("finding.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False), sa.Column("operator", sa.String(100), nullable=False),
        sa.Column("note", sa.String(2000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in ("segment", "finding"):
        op.create_index(f"{table}_patrol", table, ["patrol_id"])
    op.create_index("finding_review_finding", "finding_review", ["finding_id"])
    if op.get_bind().dialect.name == "postgresql":
        _add_postgis_points()


def _add_postgis_points() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table in _POINT_TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry(Point, 4326) "
                   "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED")
        op.execute(f"CREATE INDEX {table}_geom ON {table} USING GIST (geom)")


def downgrade() -> None:
    for table in ("finding_review", "finding", "segment", "frame", "event", "sample", "position", "patrol"):
        op.drop_table(table)
