"""Station fixtures: stores on SQLite and on the real PostgreSQL of this machine (a throwaway
database per test session, PostGIS enabled); `riverpatrol serve` and a Chromium page on it for the
browser tests."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from riverpatrol.station.store import Store

PG_ADMIN = os.environ.get("RIVERPATROL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL, dropped after the session."""
    yield from _database()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An empty database of its own, for a test that migrates step by step."""
    yield from _database()


def _database() -> Iterator[str]:
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


sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from station_server import Station  # noqa: E402  (serve as the benchmarks run it)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    """`riverpatrol serve` on a free port with its own data directory and SQLite store."""
    station = Station(tmp_path_factory.mktemp("station"))
    station.start()
    yield station
    station.stop()


@pytest.fixture(scope="module")
def page(server: Station) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.goto(server.base)
        yield page
        browser.close()
