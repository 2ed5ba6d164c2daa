"""The store opens and migrates itself on SQLite and on PostgreSQL + PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from riverpatrol.station import models
from riverpatrol.station.store import Store, StoreError


def test_a_new_store_is_migrated_to_the_newest_schema(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"patrol", "position", "sample", "event", "frame", "segment", "finding", "finding_review", "anomaly",
            "alembic_version"} <= tables
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
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


def test_a_database_that_cannot_be_opened_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open the station database"):
        Store("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
