"""Station fixtures: a short patrol log from the twin, and stores on SQLite and on the real
PostgreSQL of this machine (a throwaway database per test session, PostGIS enabled)."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.station.store import Store

PG_ADMIN = os.environ.get("RIVERPATROL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def short_scenario() -> dict[str, Any]:
    """A 400 m straight reach with one outfall on the left bank: a patrol of a minute or two."""
    east = lambda metres: [121.38 + metres / (111_320.0 * math.cos(math.radians(28.37))), 28.37]
    return {
        "schema": "riverpatrol.scenario/1",
        "name": "short-reach",
        "river": {"centerline": [east(0.0), east(400.0)], "width_m": 20.0, "depth_m": 2.0, "velocity_mps": 0.25,
                  "transverse_dispersion_m2ps": 0.05},
        "outfalls": [{"id": "p1", "chainage_m": 150.0, "bank": "left", "flow_m3ps": 0.02,
                      "excess": {"conductivity": 800.0, "nh3n": 8.0, "cod": 60.0}}],
        "boat": {"home": east(10.0)},
        "mission": {"pattern": "outfall-survey"},
    }


@pytest.fixture(scope="session")
def patrol_log(tmp_path_factory: pytest.TempPathFactory, short_scenario: dict[str, Any]) -> Path:
    out = tmp_path_factory.mktemp("patrol")
    return simulate(parse_scenario(short_scenario), out, keyframe_s=2.0).log_path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped after the session."""
    name = f"riverpatrol_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}: {exc}")
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An empty migrated store of each kind; the station's data directory in tmp_path."""
    monkeypatch.setenv("RIVERPATROL_DATA_DIR", str(tmp_path / "station"))
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'station.sqlite'}")
    else:
        opened = Store(request.getfixturevalue("postgres_url"))
        _empty(opened)
    yield opened
    opened.close()


def _empty(store: Store) -> None:
    """Tests share the session's PostgreSQL database: each starts with no patrols."""
    with store.engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE patrol RESTART IDENTITY CASCADE")

