"""Import of a 10 km patrol log into PostgreSQL + PostGIS, next to a bare COPY of the same rows.

Patrols the 10 km reach of analyze_speed.py in the twin, then times, against a throwaway database
on the local PostgreSQL (RIVERPATROL_TEST_PG, default postgresql://postgres@127.0.0.1:5432/postgres):
reading the log into rows, storing them the way `riverpatrol import` does (one transaction, PostGIS
points generated), the whole `import` (rows and the analysis), and a bare COPY of the same
position and sample rows into unindexed tables.

    .venv/bin/python bench/station_import.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from riverpatrol.patrollog import PatrolLog
from riverpatrol.scenario import parse_scenario
from riverpatrol.simulate import simulate
from riverpatrol.station import models
from riverpatrol.station.ingest import LogTail, Window, import_log, write_window
from riverpatrol.station.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from analyze_speed import ten_km_scenario  # noqa: E402

ADMIN = os.environ.get("RIVERPATROL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    name = f"riverpatrol_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin, tempfile.TemporaryDirectory() as tmp:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            os.environ["RIVERPATROL_DATA_DIR"] = tmp
            result = simulate(parse_scenario(ten_km_scenario()), Path(tmp))
            url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
            store = Store(url.replace("postgresql://", "postgresql+psycopg://"))
            started = time.perf_counter()
            with PatrolLog(result.log_path) as log:
                window = LogTail(log).read(None)
            read_s = time.perf_counter() - started
            rows_only = Window(None, positions=window.positions, samples=window.samples)
            started = time.perf_counter()
            with store.session() as session:
                patrol = models.Patrol(name="bench", source="import", status="finished", meta={})
                session.add(patrol)
                session.flush()
                write_window(session, patrol.id, rows_only)
            rows_s = time.perf_counter() - started
            started = time.perf_counter()
            import_log(store, result.log_path, maps=())
            whole_s = time.perf_counter() - started
            store.close()
            copy_s = _bare_copy(url, window)
            rows = len(window.positions) + len(window.samples)
            print(f"10 km patrol, {len(window.positions)} fixes + {len(window.samples)} samples + "
                  f"{len(window.events)} events + {len(window.frames)} keyframes: read the log {read_s:.2f} s, "
                  f"store the fixes and samples {rows_s:.2f} s ({rows / rows_s:,.0f} rows/s), whole import with the "
                  f"analysis (no maps) {whole_s:.1f} s; bare COPY of the fixes and samples {copy_s:.2f} s "
                  f"({rows / copy_s:,.0f} rows/s)")
        finally:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _bare_copy(url: str, window: Window) -> float:
    """The same fixes and samples, COPYed into plain tables with no index, key or geometry."""
    with psycopg.connect(url) as db:
        db.execute("CREATE TABLE bare_position (patrol_id int, t float8, lon float8, lat float8, sog float8, "
                   "cog float8, heading float8)")
        db.execute("CREATE TABLE bare_sample (patrol_id int, t float8, lon float8, lat float8, chainage_m float8, "
                   "water_class smallint, \"values\" jsonb, classes jsonb)")
        started = time.perf_counter()
        with db.cursor() as cur:
            with cur.copy("COPY bare_position FROM STDIN") as copy:
                for p in window.positions:
                    copy.write_row((1, p["t"], p["lon"], p["lat"], p["sog"], p["cog"], p["heading"]))
            with cur.copy("COPY bare_sample FROM STDIN") as copy:
                for s in window.samples:
                    copy.write_row((1, s["t"], s["lon"], s["lat"], s["chainage_m"], s["water_class"],
                                    json.dumps(s["values"]), json.dumps(s["classes"])))
        db.commit()
        return time.perf_counter() - started


if __name__ == "__main__":
    main()
