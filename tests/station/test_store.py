"""The store opens and migrates itself on SQLite and on PostgreSQL + PostGIS."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, inspect, text

from riverpatrol.station import models
from riverpatrol.station.ingest import Window, write_window
from riverpatrol.station.store import Store, StoreError, upgrade


def test_a_new_store_is_migrated_to_the_newest_schema(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"patrol", "position", "sample", "event", "frame", "segment", "finding", "finding_review", "anomaly",
            "alembic_version"} <= tables
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
    indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("position")}
    assert "position_patrol_t" in indexes


def test_opening_again_keeps_the_data(store: Store) -> None:
    with store.session() as session:
        session.add(models.Patrol(name="kept", source="import", status="finished", meta={}))
    again = Store(store.url)
    with again.session() as session:
        assert [p.name for p in session.query(models.Patrol)] == ["kept"]
    again.close()


@pytest.mark.postgres
def test_postgis_points_follow_lon_lat_and_are_indexed(postgres_url: str) -> None:
    store = Store(postgres_url)
    with store.session() as session:
        patrol = models.Patrol(name="p", source="import", status="finished", meta={})
        session.add(patrol)
        session.flush()
        session.add_all([models.Position(patrol_id=patrol.id, t=0.0, lon=121.38, lat=28.37),
                         models.Position(patrol_id=patrol.id, t=1.0, lon=121.40, lat=28.37)])
    with store.engine.connect() as connection:
        near = connection.execute(text(
            "SELECT t FROM position WHERE ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(121.3801, 28.37), 4326)::geography, 50)")).scalars().all()
        index = connection.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'position_geom'")).scalar_one()
    store.close()
    assert near == [0.0]
    assert "gist" in index.lower()


@pytest.mark.postgres
def test_position_is_partitioned_by_patrol_on_postgresql_keeping_the_rows_it_had(empty_postgres_url: str) -> None:
    engine = create_engine(empty_postgres_url)
    upgrade(engine, "0002")  # a station of the previous version, with a patrol stored
    with engine.begin() as connection:
        old = connection.execute(text("INSERT INTO patrol (name, source, status, created_at, meta) "
                                      "VALUES ('old', 'import', 'finished', now(), '{}') RETURNING id")).scalar_one()
        connection.execute(text(f"INSERT INTO position (patrol_id, t, lon, lat) VALUES ({old}, 0, 121.38, 28.37), "
                                f"({old}, 1, 121.39, 28.37)"))
    engine.dispose()
    store = Store(empty_postgres_url)  # upgraded in place
    with store.session() as session:
        patrol = models.Patrol(name="new", source="import", status="finished", meta={})
        session.add(patrol)
        session.flush()
        write_window(session, patrol.id, Window(None, positions=[  # COPY into the partitioned table
            {"t": float(t), "lon": 121.38, "lat": 28.37, "sog": 1.0, "cog": 0.0, "heading": 0.0} for t in range(5)]))
    with store.engine.connect() as connection:
        def sql(query: str) -> list[object]:
            return list(connection.execute(text(query)).scalars())

        assert sql("SELECT relkind FROM pg_class WHERE relname = 'position'") == ["p"]
        assert len(sql("SELECT inhrelid FROM pg_inherits WHERE inhparent = 'position'::regclass")) == 16
        assert sql(f"SELECT t FROM position WHERE patrol_id = {old} ORDER BY t") == [0.0, 1.0]  # moved over
        assert sql("SELECT max(id) FROM position") == [7]  # one sequence, carried on
        assert sql(f"SELECT count(DISTINCT tableoid) FROM position WHERE patrol_id = {patrol.id}") == [1]
        plan = "\n".join(map(str, sql(f"EXPLAIN SELECT t FROM position WHERE patrol_id = {patrol.id}")))
        assert len(set(re.findall(r"position_p\d+", plan))) == 1  # the other partitions are pruned
        assert sql("SELECT count(*) FROM position WHERE geom IS NOT NULL") == [7]
    with store.session() as session:
        session.delete(session.get_one(models.Patrol, old))
    with store.engine.connect() as connection:
        assert connection.execute(text(f"SELECT count(*) FROM position WHERE patrol_id = {old}")).scalar_one() == 0
    store.close()


def test_a_database_that_cannot_be_opened_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the station database"):
        Store("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
