"""`riverpatrol import LOG`: a finished log into the store named by the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from riverpatrol.station import models
from riverpatrol.station.store import Store


def _run(args: list[str], data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RIVERPATROL_DATA_DIR": str(data), "COLUMNS": "200"}
    env.pop("RIVERPATROL_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "riverpatrol", "import", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_import_then_the_patrol_is_in_the_default_store(patrol_log: Path, tmp_path: Path) -> None:
    proc = _run([str(patrol_log.parent), "--name", "morning patrol"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    store = Store(f"sqlite:///{tmp_path / 'station.sqlite'}")
    with store.session() as session:
        assert [p.name for p in session.scalars(select(models.Patrol))] == ["morning patrol"]
    store.close()


def test_import_of_a_missing_log_names_it(tmp_path: Path) -> None:
    proc = _run([str(tmp_path / "nowhere.sqlite")], tmp_path)
    assert proc.returncode == 2 and "nowhere.sqlite" in proc.stderr and "Traceback" not in proc.stderr
