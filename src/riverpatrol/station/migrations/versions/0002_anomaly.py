"""Live anomaly signals, stored so that a patrol replayed after a reload shows them too. On
PostgreSQL a PostGIS point generated from lon/lat, as for positions and samples.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomaly",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrol.id", ondelete="CASCADE"), nullable=False),
        sa.Column("t", sa.Float, nullable=False), sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False), sa.Column("chainage_m", sa.Float, nullable=False),
        sa.Column("bank", sa.String(10), nullable=False), sa.Column("score", sa.Float, nullable=False),
        sa.Column("z", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )
    op.create_index("anomaly_patrol_t", "anomaly", ["patrol_id", "t"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE anomaly ADD COLUMN geom geometry(Point, 4326) "
                   "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED")
        op.execute("CREATE INDEX anomaly_geom ON anomaly USING GIST (geom)")


def downgrade() -> None:
    op.drop_table("anomaly")
