"""The station's store: where it is, bringing its schema up to date, and sessions on it.

A SQLite file under the station's data directory by default; PostgreSQL + PostGIS when
``RIVERPATROL_DATABASE_URL`` names one (``postgresql+psycopg://user@host/db``). The schema is
migrated by the Alembic scripts shipped in this package every time a store opens, so a station
upgraded in place keeps its data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "RIVERPATROL_DATABASE_URL"
DATA_DIR_ENV = "RIVERPATROL_DATA_DIR"
_MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The store could not be opened or migrated; the message names the database."""


def data_dir() -> Path:
    """Where the station keeps patrol logs, analysis products and (by default) its database."""
    return Path(os.environ.get(DATA_DIR_ENV, "riverpatrol-station"))


def database_url() -> str:
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir() / 'station.sqlite'}"


class Store:
    """An open, migrated store; ``session()`` gives a transaction that commits on success."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            upgrade(self.engine)
        except (SQLAlchemyError, OSError) as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the station database {self.engine.url!r}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def postgis(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration shipped with this package (or to ``revision``)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL so the dashboard reads while a patrol writes (synchronous=NORMAL: a killed station keeps
    every commit; only a power cut may lose the last ones); foreign keys so deletes cascade."""
    cursor = connection.cursor()
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
                   "PRAGMA busy_timeout=10000"):
        cursor.execute(pragma)
    cursor.close()
