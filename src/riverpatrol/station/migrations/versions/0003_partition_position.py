"""On PostgreSQL, ``position`` becomes a table partitioned by hash of the patrol: the biggest table
of a city's store (five fixes a second per boat) split in 16, so a patrol's track is read from one
partition and vacuum and index upkeep work on sixteenths. Hash needs no upkeep as patrols come
(no new partitions to create, as ranges of time or patrol would). A partitioned table's primary key
must hold the partition key: (patrol_id, id) here; ids still come from the one sequence. Rows
already stored are moved over. SQLite keeps its plain table.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PARTITIONS = 16
_COLUMNS = "id, patrol_id, t, lon, lat, sog, cog, heading"
_TABLE = """CREATE TABLE position (
    id BIGINT NOT NULL DEFAULT nextval('position_id_seq'),
    patrol_id INTEGER NOT NULL REFERENCES patrol (id) ON DELETE CASCADE,
    t DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION, lat DOUBLE PRECISION, sog DOUBLE PRECISION, cog DOUBLE PRECISION,
    heading DOUBLE PRECISION,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    PRIMARY KEY ({key})
){partitioned}"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace(_TABLE.format(key="patrol_id, id", partitioned=" PARTITION BY HASH (patrol_id)"),
             [f"CREATE TABLE position_p{k} PARTITION OF position FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {k})"
              for k in range(PARTITIONS)])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _replace(_TABLE.format(key="id", partitioned=""), [])


def _replace(create: str, partitions: list[str]) -> None:
    """The position table built anew by ``create``, with the rows, the sequence and the indexes."""
    op.execute("ALTER TABLE position RENAME TO position_old")
    op.execute("ALTER TABLE position_old RENAME CONSTRAINT position_pkey TO position_old_pkey")
    op.execute("DROP INDEX position_patrol_t")
    op.execute("DROP INDEX position_geom")
    op.execute(create)
    for ddl in partitions:
        op.execute(ddl)
    op.execute(f"INSERT INTO position ({_COLUMNS}) SELECT {_COLUMNS} FROM position_old")
    op.execute("ALTER SEQUENCE position_id_seq OWNED BY position.id")
    op.execute("DROP TABLE position_old")
    op.execute("CREATE INDEX position_patrol_t ON position (patrol_id, t)")
    op.execute("CREATE INDEX position_geom ON position USING GIST (geom)")
